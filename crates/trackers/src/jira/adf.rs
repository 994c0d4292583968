//! Markdown to Atlassian Document Format (Jira Cloud's rich text), and ADF back to text.
//!
//! ADF is strict: text nodes must not be empty, list items and table cells hold blocks whose
//! first is a paragraph, block quotes hold no headings, code marks combine only with links.
//! The marker becomes a last, discreet (grey) paragraph: ADF has no hidden text, and the
//! marker must stay in the description to be found.

use super::markdown::{self, Block, Inline};
use serde_json::{Value, json};

/// The colour of the marker's paragraph: Atlassian's subtle text grey.
const MARKER_COLOUR: &str = "#97a0af";

/// The ADF document for a Markdown text.
pub fn from_markdown(md: &str) -> Value {
    let content: Vec<Value> = markdown::parse(md).iter().filter_map(block).collect();
    json!({ "type": "doc", "version": 1, "content": content })
}

fn block(b: &Block) -> Option<Value> {
    Some(match b {
        Block::Paragraph(inlines) => paragraph(inlines),
        Block::Heading(level, inlines) => {
            json!({ "type": "heading", "attrs": { "level": level }, "content": nodes(inlines, &[]) })
        }
        Block::Code { language, text } => {
            let mut v = json!({ "type": "codeBlock" });
            if let Some(l) = language {
                v["attrs"] = json!({ "language": l });
            }
            if !text.is_empty() {
                v["content"] = json!([{ "type": "text", "text": text }]);
            }
            v
        }
        Block::Quote(inner) => {
            let content: Vec<Value> = inner.iter().filter_map(flat_block).collect();
            if content.is_empty() {
                return None;
            }
            json!({ "type": "blockquote", "content": content })
        }
        Block::List { ordered, items } => list(*ordered, items)?,
        Block::Table { header, rows } => {
            let cell = |kind: &str, inlines: &Vec<Inline>| json!({ "type": kind, "attrs": {}, "content": [paragraph(inlines)] });
            let mut table_rows = vec![
                json!({ "type": "tableRow", "content": header.iter().map(|c| cell("tableHeader", c)).collect::<Vec<_>>() }),
            ];
            for r in rows {
                // Every row has the header's number of cells, as ADF tables must be rectangular.
                let cells: Vec<Value> = (0..header.len())
                    .map(|i| cell("tableCell", r.get(i).unwrap_or(&Vec::new())))
                    .collect();
                table_rows.push(json!({ "type": "tableRow", "content": cells }));
            }
            json!({ "type": "table", "attrs": { "isNumberColumnEnabled": false, "layout": "default" }, "content": table_rows })
        }
        Block::Rule => json!({ "type": "rule" }),
        Block::Marker(text) => json!({
            "type": "paragraph",
            "content": [{ "type": "text", "text": text, "marks": [{ "type": "textColor", "attrs": { "color": MARKER_COLOUR } }] }],
        }),
    })
}

/// A block where only paragraphs, lists and code may stand (list items, quotes): headings
/// become strong paragraphs, tables their rows as paragraphs.
fn flat_block(b: &Block) -> Option<Value> {
    match b {
        Block::Heading(_, inlines) => Some(paragraph(&[Inline::Strong(inlines.clone())])),
        Block::Table { header, rows } => {
            let mut lines: Vec<Inline> = Vec::new();
            for (n, row) in std::iter::once(header).chain(rows.iter()).enumerate() {
                if n > 0 {
                    lines.push(Inline::Break);
                }
                let text: Vec<String> = row.iter().map(|c| markdown::plain(c)).collect();
                lines.push(Inline::Text(text.join(" | ")));
            }
            Some(paragraph(&lines))
        }
        Block::Quote(inner) => {
            let texts: Vec<Value> = inner.iter().filter_map(flat_block).collect();
            texts.into_iter().next()
        }
        Block::Rule => None,
        other => block(other),
    }
}

fn list(ordered: bool, items: &[Vec<Block>]) -> Option<Value> {
    if items.is_empty() {
        return None;
    }
    let items: Vec<Value> = items
        .iter()
        .map(|item| {
            let mut content: Vec<Value> = item.iter().filter_map(flat_block).collect();
            if content
                .first()
                .and_then(|c| c.get("type"))
                .and_then(Value::as_str)
                != Some("paragraph")
            {
                content.insert(0, json!({ "type": "paragraph", "content": [] }));
            }
            json!({ "type": "listItem", "content": content })
        })
        .collect();
    Some(json!({ "type": if ordered { "orderedList" } else { "bulletList" }, "content": items }))
}

fn paragraph(inlines: &[Inline]) -> Value {
    json!({ "type": "paragraph", "content": nodes(inlines, &[]) })
}

/// Inline nodes, each text carrying the marks of what encloses it.
fn nodes(inlines: &[Inline], marks: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for i in inlines {
        match i {
            Inline::Text(t) => push_text(&mut out, t, marks),
            Inline::Strong(inner) => {
                out.extend(nodes(inner, &with(marks, json!({ "type": "strong" }))))
            }
            Inline::Emphasis(inner) => {
                out.extend(nodes(inner, &with(marks, json!({ "type": "em" }))))
            }
            Inline::Code(code) => {
                // A code mark combines with a link only.
                let kept: Vec<Value> = marks
                    .iter()
                    .filter(|m| m["type"] == "link")
                    .cloned()
                    .collect();
                push_text(&mut out, code, &with(&kept, json!({ "type": "code" })));
            }
            Inline::Link { text, url } => {
                let link = json!({ "type": "link", "attrs": { "href": url } });
                let inner = nodes(text, &with(marks, link.clone()));
                if inner.is_empty() {
                    push_text(&mut out, url, &with(marks, link));
                } else {
                    out.extend(inner);
                }
            }
            Inline::Break => out.push(json!({ "type": "hardBreak" })),
        }
    }
    out
}

fn with(marks: &[Value], mark: Value) -> Vec<Value> {
    let mut m = marks.to_vec();
    if !m.iter().any(|x| x["type"] == mark["type"]) {
        m.push(mark);
    }
    m
}

fn push_text(out: &mut Vec<Value>, text: &str, marks: &[Value]) {
    // ADF refuses empty text nodes.
    if text.is_empty() {
        return;
    }
    let mut node = json!({ "type": "text", "text": text });
    if !marks.is_empty() {
        node["marks"] = Value::Array(marks.to_vec());
    }
    out.push(node);
}

/// The text of an ADF document (comments and descriptions coming back): paragraphs separated
/// by blank lines, hard breaks as newlines.
pub fn to_text(doc: &Value) -> String {
    let mut out = String::new();
    walk(doc, &mut out);
    out.trim().to_owned()
}

fn walk(node: &Value, out: &mut String) {
    match node.get("type").and_then(Value::as_str).unwrap_or("") {
        "text" => out.push_str(node.get("text").and_then(Value::as_str).unwrap_or("")),
        "hardBreak" => out.push('\n'),
        "mention" | "status" => out.push_str(
            node.pointer("/attrs/text")
                .and_then(Value::as_str)
                .unwrap_or(""),
        ),
        "emoji" => out.push_str(
            node.pointer("/attrs/shortName")
                .and_then(Value::as_str)
                .unwrap_or(""),
        ),
        "inlineCard" | "blockCard" => out.push_str(
            node.pointer("/attrs/url")
                .and_then(Value::as_str)
                .unwrap_or(""),
        ),
        kind => {
            if let Some(Value::Array(children)) = node.get("content") {
                for c in children {
                    walk(c, out);
                }
            }
            if matches!(
                kind,
                "paragraph" | "heading" | "codeBlock" | "listItem" | "tableRow" | "rule"
            ) {
                out.push_str("\n\n");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every text node non-empty, every list item starting with a paragraph.
    fn valid(v: &Value) -> bool {
        let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
        if kind == "text" && v["text"].as_str().is_none_or(str::is_empty) {
            return false;
        }
        if kind == "listItem" && v["content"][0]["type"] != "paragraph" {
            return false;
        }
        v.get("content")
            .and_then(Value::as_array)
            .is_none_or(|c| c.iter().all(valid))
    }

    #[test]
    fn markdown_becomes_valid_adf() {
        let doc = from_markdown(
            "**Severity:** High\n\n### Description\n\n- a `b`\n- [link](http://x)\n\n| A | B |\n|---|---|\n| 1 |\n\n<!-- vulnbridge:k3x9q2:m3:f17 -->\n",
        );
        assert!(valid(&doc), "{doc:#}");
        assert_eq!(
            doc["content"][0]["content"][0],
            json!({"type": "text", "text": "Severity:", "marks": [{"type": "strong"}]})
        );
        assert_eq!(doc["content"][1]["type"], "heading");
        assert_eq!(
            doc["content"][2]["content"][0]["content"][0]["content"][1]["marks"][0]["type"],
            "code"
        );
        assert_eq!(
            doc["content"][3]["content"][1]["content"]
                .as_array()
                .map(Vec::len),
            Some(2),
            "rows padded"
        );
        assert_eq!(
            doc["content"][4]["content"][0]["text"],
            "vulnbridge:k3x9q2:m3:f17"
        );
        assert!(to_text(&doc).contains("vulnbridge:k3x9q2:m3:f17"));
        assert!(to_text(&doc).starts_with("Severity: High\n\nDescription"));
    }

    #[test]
    fn empty_and_odd_input_stays_valid() {
        assert_eq!(
            from_markdown(""),
            json!({"type": "doc", "version": 1, "content": []})
        );
        for md in ["-", "> # h\n> - x", "```\n```", "- \n- x", "**", "[](x)"] {
            assert!(valid(&from_markdown(md)), "{md}");
        }
    }
}
