//! Markdown to the plain text a ServiceNow `description` shows (a multi-line string field: no
//! markup is rendered). Structure stays readable: headings and list items keep their lines,
//! links keep their address in parentheses, tables become `a | b` rows, emphasis and code
//! marks go, HTML comments (the hidden marker: the ticket's correlation id carries it) go.

/// Removes `<!-- … -->` comments, also across lines.
fn strip_comments(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    let mut rest = md;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        match rest[start..].find("-->") {
            Some(end) => rest = &rest[start + end + 3..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Inline markup of one line: links, images, emphasis, code, escapes, line breaks.
fn inline(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if i + 1 < chars.len() && chars[i + 1].is_ascii_punctuation() => {
                out.push(chars[i + 1]);
                i += 2;
            }
            '!' if chars.get(i + 1) == Some(&'[') => match link(&chars, i + 1) {
                Some((text, url, next)) => {
                    out.push_str(&describe_link(&text, &url));
                    i = next;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            },
            '[' => match link(&chars, i) {
                Some((text, url, next)) => {
                    out.push_str(&describe_link(&text, &url));
                    i = next;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            },
            '`' => i += 1,
            '*' | '_' if chars.get(i + 1) == Some(&c) => i += 2,
            '<' => {
                let rest: String = chars[i..]
                    .iter()
                    .take(6)
                    .collect::<String>()
                    .to_ascii_lowercase();
                if rest.starts_with("<br>") {
                    out.push('\n');
                    i += 4;
                } else if rest.starts_with("<br/>") {
                    out.push('\n');
                    i += 5;
                } else if rest.starts_with("<br />") {
                    out.push('\n');
                    i += 6;
                } else {
                    out.push(c);
                    i += 1;
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// `[text](url)` starting at `open`: the text, the address and where the link ends.
fn link(chars: &[char], open: usize) -> Option<(String, String, usize)> {
    let mut depth = 0usize;
    let mut close = None;
    for (j, c) in chars.iter().enumerate().skip(open) {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(j);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close?;
    if chars.get(close + 1) != Some(&'(') {
        return None;
    }
    let end = chars[close + 2..].iter().position(|c| *c == ')')? + close + 2;
    let text: String = chars[open + 1..close].iter().collect();
    let url: String = chars[close + 2..end].iter().collect();
    Some((inline(&text), url.trim().to_owned(), end + 1))
}

fn describe_link(text: &str, url: &str) -> String {
    if text.trim().is_empty() || text.trim() == url {
        url.to_owned()
    } else {
        format!("{text} ({url})")
    }
}

/// A table row `| a | b |` as `a | b`; the separator row `|---|---|` as nothing.
fn table_row(line: &str) -> Option<Option<String>> {
    let t = line.trim();
    if !(t.starts_with('|') && t.ends_with('|') && t.len() >= 2) {
        return None;
    }
    let inner = &t[1..t.len() - 1];
    if inner.chars().all(|c| matches!(c, '-' | ':' | '|' | ' ')) {
        return Some(None);
    }
    // Cells split on pipes that are not escaped.
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&'|') {
            cell.push_str("\\|");
            chars.next();
        } else if c == '|' {
            cells.push(inline(cell.trim()));
            cell.clear();
        } else {
            cell.push(c);
        }
    }
    cells.push(inline(cell.trim()));
    Some(Some(cells.join(" | ")))
}

/// The plain text of a Markdown document.
pub fn plain(md: &str) -> String {
    let md = strip_comments(md);
    let mut lines: Vec<String> = Vec::new();
    let mut in_code = false;
    for line in md.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            lines.push(line.to_owned());
            continue;
        }
        if let Some(row) = table_row(line) {
            if let Some(r) = row {
                lines.push(r);
            }
            continue;
        }
        let heading = trimmed.trim_start_matches('#');
        let text = if trimmed.starts_with('#') && (heading.starts_with(' ') || heading.is_empty()) {
            inline(heading.trim())
        } else {
            inline(line.trim_end())
        };
        lines.push(text);
    }
    // At most one blank line in a row, none at either end.
    let mut out: Vec<String> = Vec::new();
    for l in lines {
        let blank = l.trim().is_empty();
        if blank && out.last().is_none_or(|p: &String| p.trim().is_empty()) {
            continue;
        }
        out.push(if blank { String::new() } else { l });
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rendered_body_reads_as_plain_text() {
        let md = "**Severity:** High · **Status:** Active\n\n**Component:** `log4j-core` (fixed in 2.17.1)\n\n[Open this finding in vulnbridge](https://vb.example/findings/17)\n\n### Description\n\nA *very* bad bug in snake_case_name.\n\n| Severity | Finding |\n|---|---|\n| High | [SQLi \\| login](https://x/f/1) |\n\n```\ncode **stays**\n```\n\n<!-- vulnbridge:k3x9q2:m3:f17 -->\n";
        let text = plain(md);
        assert_eq!(
            text,
            "Severity: High · Status: Active\n\nComponent: log4j-core (fixed in 2.17.1)\n\nOpen this finding in vulnbridge (https://vb.example/findings/17)\n\nDescription\n\nA *very* bad bug in snake_case_name.\n\nSeverity | Finding\nHigh | SQLi | login (https://x/f/1)\n\ncode **stays**"
        );
    }

    #[test]
    fn odd_input_does_not_break() {
        assert_eq!(plain(""), "");
        assert_eq!(plain("[not a link"), "[not a link");
        assert_eq!(plain("<!-- unterminated"), "");
        assert_eq!(plain("a<br>b"), "a\nb");
        assert_eq!(plain("[https://x](https://x)"), "https://x");
        assert_eq!(plain("\\*literal\\*"), "*literal*");
    }
}
