//! Rich text fields (description, comment bodies) as Jira keeps them: an Atlassian Document
//! Format document when written through REST v3, a wiki-markup string when written through v2.
//! Each version reads them in its own form: v3 gets ADF (a string becomes paragraphs), v2 gets
//! text (a document becomes its text).

use serde::Serialize;
use serde_json::{Value, json};

/// Jira's limit for text areas (description, comments): 32,767 characters.
pub const TEXT_MAX: usize = 32_767;

/// What Jira answers when a v3 rich-text field is given anything but an ADF document.
pub const NOT_ADF: &str =
    "Operation value must be an Atlassian Document (see the Atlassian Document Format)";

/// A rich text value as written.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Rich {
    Adf(Value),
    Plain(String),
}

/// ADF block and inline node types Jira accepts (the ADF schema's `doc` content).
const NODES: &[&str] = &[
    "paragraph",
    "text",
    "hardBreak",
    "heading",
    "bulletList",
    "orderedList",
    "listItem",
    "codeBlock",
    "blockquote",
    "rule",
    "panel",
    "table",
    "tableRow",
    "tableHeader",
    "tableCell",
    "mention",
    "emoji",
    "inlineCard",
    "blockCard",
    "date",
    "status",
    "mediaSingle",
    "mediaGroup",
    "media",
    "expand",
    "nestedExpand",
    "taskList",
    "taskItem",
    "decisionList",
    "decisionItem",
    "placeholder",
];

/// ADF marks.
const MARKS: &[&str] = &[
    "strong",
    "em",
    "code",
    "link",
    "strike",
    "underline",
    "subsup",
    "textColor",
    "backgroundColor",
];

impl Rich {
    /// The text: the string as written, or the document's text (blocks separated by a blank
    /// line, hard breaks as newlines, list items on their own lines).
    pub fn to_text(&self) -> String {
        match self {
            Rich::Plain(s) => s.clone(),
            Rich::Adf(doc) => {
                let mut out = String::new();
                blocks_text(doc.get("content"), &mut out, "");
                out.trim_end().to_owned()
            }
        }
    }

    /// The document: as written, or the string as paragraphs (blank lines separate them, other
    /// line breaks become hard breaks).
    pub fn to_adf(&self) -> Value {
        match self {
            Rich::Adf(doc) => doc.clone(),
            Rich::Plain(s) => plain_to_adf(s),
        }
    }

    /// How many characters Jira counts against its limit.
    pub fn len(&self) -> usize {
        match self {
            Rich::Plain(s) => s.chars().count(),
            Rich::Adf(doc) => doc.to_string().chars().count(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.to_text().trim().is_empty()
    }
}

fn plain_to_adf(s: &str) -> Value {
    let normalized = s.replace("\r\n", "\n");
    let paragraphs: Vec<Value> = normalized
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let mut content = Vec::new();
            for (i, line) in p.split('\n').enumerate() {
                if i > 0 {
                    content.push(json!({ "type": "hardBreak" }));
                }
                if !line.is_empty() {
                    content.push(json!({ "type": "text", "text": line }));
                }
            }
            json!({ "type": "paragraph", "content": content })
        })
        .collect();
    json!({ "type": "doc", "version": 1, "content": paragraphs })
}

fn blocks_text(content: Option<&Value>, out: &mut String, indent: &str) {
    let Some(Value::Array(nodes)) = content else {
        return;
    };
    for node in nodes {
        let kind = node.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "bulletList" | "orderedList" | "taskList" | "decisionList" => {
                if let Some(Value::Array(items)) = node.get("content") {
                    for (n, item) in items.iter().enumerate() {
                        let bullet = if kind == "orderedList" {
                            format!("{}. ", n + 1)
                        } else {
                            "* ".to_owned()
                        };
                        let mut inner = String::new();
                        blocks_text(item.get("content"), &mut inner, &format!("{indent}  "));
                        if inner.trim().is_empty() {
                            inline_text(item.get("content"), &mut inner);
                        }
                        out.push_str(indent);
                        out.push_str(&bullet);
                        out.push_str(inner.trim());
                        out.push('\n');
                    }
                    out.push('\n');
                }
            }
            "table" => {
                if let Some(Value::Array(rows)) = node.get("content") {
                    for row in rows {
                        let cells: Vec<String> = match row.get("content") {
                            Some(Value::Array(cells)) => cells
                                .iter()
                                .map(|c| {
                                    let mut t = String::new();
                                    blocks_text(c.get("content"), &mut t, "");
                                    t.trim().replace('\n', " ")
                                })
                                .collect(),
                            _ => Vec::new(),
                        };
                        out.push_str(&format!("| {} |\n", cells.join(" | ")));
                    }
                    out.push('\n');
                }
            }
            "rule" => out.push_str("----\n\n"),
            "paragraph" | "heading" | "codeBlock" | "taskItem" | "decisionItem" => {
                let mut line = String::new();
                inline_text(node.get("content"), &mut line);
                out.push_str(&line);
                out.push_str("\n\n");
            }
            "text" | "hardBreak" | "mention" | "emoji" | "inlineCard" | "date" | "status" => {
                inline_text(Some(&Value::Array(vec![node.clone()])), out);
            }
            _ => blocks_text(node.get("content"), out, indent),
        }
    }
}

fn inline_text(content: Option<&Value>, out: &mut String) {
    let Some(Value::Array(nodes)) = content else {
        return;
    };
    for node in nodes {
        let attr = |k: &str| {
            node.pointer(&format!("/attrs/{k}"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        match node.get("type").and_then(Value::as_str).unwrap_or("") {
            "text" => out.push_str(node.get("text").and_then(Value::as_str).unwrap_or("")),
            "hardBreak" => out.push('\n'),
            "mention" => out.push_str(&attr("text")),
            "emoji" => out.push_str(&attr("shortName")),
            "inlineCard" | "blockCard" => out.push_str(&attr("url")),
            "status" => out.push_str(&attr("text")),
            "date" => out.push_str(&attr("timestamp")),
            _ => inline_text(node.get("content"), out),
        }
    }
}

/// Whether a value is an ADF document Jira would store: `{"type":"doc","version":1,"content":[…]}`
/// whose nodes are known ADF nodes, text nodes carrying non-empty text, marks known marks.
pub fn is_adf(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("doc")
        && v.get("version").and_then(Value::as_u64) == Some(1)
        && match v.get("content") {
            Some(Value::Array(nodes)) => nodes.iter().all(|n| valid_node(n, 1)),
            _ => false,
        }
}

fn valid_node(n: &Value, depth: usize) -> bool {
    // Deeper nesting than any real document has is refused rather than recursed into.
    if depth > 64 {
        return false;
    }
    let Some(kind) = n.get("type").and_then(Value::as_str) else {
        return false;
    };
    if !NODES.contains(&kind) {
        return false;
    }
    if kind == "text"
        && n.get("text")
            .and_then(Value::as_str)
            .is_none_or(|t| t.is_empty())
    {
        return false;
    }
    let marks_ok = match n.get("marks") {
        None => true,
        Some(Value::Array(marks)) => marks.iter().all(|m| {
            m.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| MARKS.contains(&t))
        }),
        Some(_) => false,
    };
    let content_ok = match n.get("content") {
        None => true,
        Some(Value::Array(children)) => children.iter().all(|c| valid_node(c, depth + 1)),
        Some(_) => false,
    };
    marks_ok && content_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_documents_convert_both_ways() {
        let doc = Rich::Plain("First line\nsecond line\n\nNext paragraph".into()).to_adf();
        assert!(is_adf(&doc));
        assert_eq!(doc["content"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            Rich::Adf(doc).to_text(),
            "First line\nsecond line\n\nNext paragraph"
        );
        let list = json!({"type":"doc","version":1,"content":[
            {"type":"heading","attrs":{"level":3},"content":[{"type":"text","text":"Title"}]},
            {"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"one","marks":[{"type":"strong"}]}]}]}]}
        ]});
        assert!(is_adf(&list));
        assert_eq!(Rich::Adf(list).to_text(), "Title\n\n* one");
    }

    #[test]
    fn malformed_documents_are_not_adf() {
        assert!(!is_adf(&json!("plain text")));
        assert!(!is_adf(&json!({"type":"doc","version":2,"content":[]})));
        assert!(!is_adf(
            &json!({"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":""}]}]})
        ));
        assert!(!is_adf(
            &json!({"type":"doc","version":1,"content":[{"type":"marquee"}]})
        ));
        assert!(!is_adf(
            &json!({"type":"doc","version":1,"content":[{"type":"text","text":"x","marks":[{"type":"blink"}]}]})
        ));
    }
}
