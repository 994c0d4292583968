//! Markdown to Jira wiki markup (Data Center's rich text): `*strong*`, `_emphasis_`,
//! `{{code}}`, `[label|url]`, `h3.` headings, `{code:lang}` blocks, `{quote}`, `*`/`#` lists,
//! `||header||` tables, `----` rules. Characters wiki markup would read as formatting are
//! escaped. The marker stays in the text, in discreet grey.

use super::markdown::{self, Block, Inline};

/// The wiki markup for a Markdown text.
pub fn from_markdown(md: &str) -> String {
    let mut out = String::new();
    for b in markdown::parse(md) {
        block(&b, &mut out, "");
    }
    out.trim_end().to_owned()
}

fn block(b: &Block, out: &mut String, list_prefix: &str) {
    match b {
        Block::Paragraph(inlines) => {
            out.push_str(&inline(inlines));
            out.push_str("\n\n");
        }
        Block::Heading(level, inlines) => {
            out.push_str(&format!("h{level}. {}\n\n", inline(inlines)));
        }
        Block::Code { language, text } => {
            let language = language.as_deref().filter(|l| {
                l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '+')
            });
            match language {
                Some(l) => out.push_str(&format!("{{code:{l}}}\n{text}\n{{code}}\n\n")),
                None => out.push_str(&format!("{{noformat}}\n{text}\n{{noformat}}\n\n")),
            }
        }
        Block::Quote(inner) => {
            out.push_str("{quote}\n");
            let mut inner_text = String::new();
            for b in inner {
                block(b, &mut inner_text, "");
            }
            out.push_str(inner_text.trim_end());
            out.push_str("\n{quote}\n\n");
        }
        Block::List { ordered, items } => {
            let prefix = format!("{list_prefix}{}", if *ordered { "#" } else { "*" });
            for item in items {
                let mut first = true;
                for b in item {
                    match b {
                        Block::List { .. } => block(b, out, &prefix),
                        other => {
                            let mut text = String::new();
                            block(other, &mut text, "");
                            let text = text.trim().replace("\n\n", "\n");
                            if first {
                                out.push_str(&format!("{prefix} {text}\n"));
                                first = false;
                            } else {
                                out.push_str(&format!("{text}\n"));
                            }
                        }
                    }
                }
                if first {
                    out.push_str(&format!("{prefix} \n"));
                }
            }
            if list_prefix.is_empty() {
                out.push('\n');
            }
        }
        Block::Table { header, rows } => {
            out.push_str("||");
            for c in header {
                out.push_str(&cell(c));
                out.push_str("||");
            }
            out.push('\n');
            for r in rows {
                out.push('|');
                for i in 0..header.len() {
                    out.push_str(&cell(r.get(i).map(Vec::as_slice).unwrap_or(&[])));
                    out.push('|');
                }
                out.push('\n');
            }
            out.push('\n');
        }
        Block::Rule => out.push_str("----\n\n"),
        Block::Marker(text) => {
            out.push_str(&format!("{{color:#97a0af}}{}{{color}}\n\n", escape(text)))
        }
    }
}

/// A table cell: wiki cells are one line, and an empty one needs a space.
fn cell(inlines: &[Inline]) -> String {
    let t = inline(inlines).replace('\n', " ");
    if t.trim().is_empty() {
        " ".to_owned()
    } else {
        t
    }
}

fn inline(inlines: &[Inline]) -> String {
    let mut out = String::new();
    for i in inlines {
        match i {
            Inline::Text(t) => out.push_str(&escape(t)),
            Inline::Strong(inner) => out.push_str(&format!("*{}*", inline(inner))),
            Inline::Emphasis(inner) => out.push_str(&format!("_{}_", inline(inner))),
            // `{{…}}` cannot hold braces; such code is written as escaped text.
            Inline::Code(code) if code.contains('{') || code.contains('}') => {
                out.push_str(&escape(code))
            }
            Inline::Code(code) => out.push_str(&format!("{{{{{code}}}}}")),
            Inline::Link { text, url } => {
                let label = inline(text);
                if label.is_empty() || label == escape(url) {
                    out.push_str(&format!("[{url}]"));
                } else {
                    out.push_str(&format!("[{label}|{url}]"));
                }
            }
            Inline::Break => out.push('\n'),
        }
    }
    out
}

/// Escapes what wiki markup would read as formatting: brackets, braces and pipes always; the
/// formatting characters (`*_-+^~?`) where they could open or close a format (next to a space
/// or the text's edge), so that `CVE-2024-1234` and `snake_case` stay as they are.
pub fn escape(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, c) in chars.iter().enumerate() {
        let before_word = i > 0 && chars[i - 1].is_alphanumeric();
        let after_word = chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        let needs = match c {
            '\\' | '{' | '}' | '[' | ']' | '|' | '!' => true,
            '*' | '_' | '-' | '+' | '^' | '~' | '?' | '#' => !(before_word && after_word),
            _ => false,
        };
        if needs {
            out.push('\\');
        }
        out.push(*c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_wiki_markup() {
        let md = "**Severity:** High · `a|b`\n\n### Description\n\nSee [CWE-79](https://cwe.mitre.org/79) and CVE-2024-1234.\n\n- one\n  - two\n1. first\n\n| A | B |\n|---|---|\n| 1 | |\n\n```rust\nfn x() {}\n```\n\n<!-- vulnbridge:k3x9q2:m3:f17 -->";
        let w = from_markdown(md);
        assert!(w.starts_with("*Severity:* High · {{a|b}}\n\nh3. Description\n\nSee [CWE-79|https://cwe.mitre.org/79] and CVE-2024-1234."), "{w}");
        assert!(w.contains("\n* one\n** two\n"), "{w}");
        assert!(w.contains("# first\n"), "{w}");
        assert!(w.contains("||A||B||\n|1| |\n"), "{w}");
        assert!(w.contains("{code:rust}\nfn x() {}\n{code}"), "{w}");
        assert!(
            w.ends_with("{color:#97a0af}vulnbridge:k3x9q2:m3:f17{color}"),
            "{w}"
        );
    }

    #[test]
    fn formatting_characters_are_escaped_only_where_they_format() {
        assert_eq!(
            escape("snake_case and 2*3 [x] {y} - z"),
            "snake_case and 2*3 \\[x\\] \\{y\\} \\- z"
        );
        assert_eq!(escape("*bold*"), "\\*bold\\*");
    }
}
