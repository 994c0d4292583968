//! Azure DevOps shows rich text fields (`System.Description`, `Microsoft.VSTS.TCM.ReproSteps`,
//! comments) as HTML, so the Markdown the engine renders is converted: paragraphs, headings,
//! lists, tables, fenced code, `code`, **bold**, *emphasis* and [links](https://…). Everything
//! else is text, escaped: nothing in a finding can inject markup. An HTML comment on a line of
//! its own (the marker) is kept as it is.
//!
//! And back: comments arrive as HTML in service hook payloads; [`to_text`] reads them as text.

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            other => out.push(other),
        }
    }
    out
}

/// Whether a link target is safe to make a link of.
fn safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:")
}

/// Inline Markdown of one line: code spans, links, bold, emphasis, backslash escapes.
fn inline(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut bold = false;
    let mut em = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if chars.get(i + 1).is_some_and(|n| n.is_ascii_punctuation()) => {
                out.push_str(&escape(&chars[i + 1].to_string()));
                i += 2;
            }
            '`' => match chars[i + 1..].iter().position(|c| *c == '`') {
                Some(end) => {
                    let code: String = chars[i + 1..i + 1 + end].iter().collect();
                    out.push_str(&format!("<code>{}</code>", escape(&code)));
                    i += end + 2;
                }
                None => {
                    out.push('`');
                    i += 1;
                }
            },
            '[' => {
                let rest: String = chars[i..].iter().collect();
                match link(&rest) {
                    Some((label, url, used)) => {
                        if safe_url(&url) {
                            out.push_str(&format!(
                                "<a href=\"{}\">{}</a>",
                                escape(url.trim()),
                                inline(&label)
                            ));
                        } else {
                            out.push_str(&inline(&label));
                        }
                        i += used;
                    }
                    None => {
                        out.push('[');
                        i += 1;
                    }
                }
            }
            '*' if chars.get(i + 1) == Some(&'*') => {
                out.push_str(if bold { "</strong>" } else { "<strong>" });
                bold = !bold;
                i += 2;
            }
            '*' | '_'
                if em
                    || chars.get(i + 1).is_some_and(|n| !n.is_whitespace())
                        && (i == 0 || !chars[i - 1].is_alphanumeric()) =>
            {
                out.push_str(if em { "</em>" } else { "<em>" });
                em = !em;
                i += 1;
            }
            other => {
                out.push_str(&escape(&other.to_string()));
                i += 1;
            }
        }
    }
    if em {
        out.push_str("</em>");
    }
    if bold {
        out.push_str("</strong>");
    }
    out
}

/// `[label](url)` at the start of `text`: label, url, characters used.
fn link(text: &str) -> Option<(String, String, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let close = chars.iter().position(|c| *c == ']')?;
    if chars.get(close + 1) != Some(&'(') {
        return None;
    }
    // The target may hold balanced parentheses (`…/Foo_(bar)`).
    let mut depth = 0usize;
    let mut end = None;
    for (j, c) in chars.iter().enumerate().skip(close + 2) {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => {
                end = Some(j);
                break;
            }
            ')' => depth -= 1,
            _ => {}
        }
    }
    let end = end?;
    let label: String = chars[1..close].iter().collect();
    let url: String = chars[close + 2..end].iter().collect();
    Some((label, url, end + 1))
}

fn cells(line: &str) -> Vec<String> {
    let t = line.trim().trim_start_matches('|');
    let t = t.strip_suffix('|').unwrap_or(t);
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_backslash = false;
    for c in t.chars() {
        if c == '|' && !prev_backslash {
            out.push(cur.trim().to_owned());
            cur.clear();
        } else {
            cur.push(c);
        }
        prev_backslash = c == '\\';
    }
    out.push(cur.trim().to_owned());
    out
}

fn is_separator(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('|') && t.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '))
}

fn list_item(line: &str) -> Option<(bool, &str)> {
    let t = line.trim_start();
    for marker in ["- ", "* ", "+ "] {
        if let Some(rest) = t.strip_prefix(marker) {
            return Some((false, rest));
        }
    }
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && t[digits..].starts_with(". ") {
        return Some((true, &t[digits + 2..]));
    }
    None
}

/// Markdown to the HTML Azure DevOps shows.
pub fn from_markdown(md: &str) -> String {
    let lines: Vec<&str> = md.lines().collect();
    let mut out: Vec<String> = Vec::new();
    let mut para: Vec<String> = Vec::new();
    let flush = |para: &mut Vec<String>, out: &mut Vec<String>| {
        if !para.is_empty() {
            out.push(format!("<p>{}</p>", para.join("<br/>")));
            para.clear();
        }
    };
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim();
        if t.is_empty() {
            flush(&mut para, &mut out);
            i += 1;
        } else if t.starts_with("```") {
            flush(&mut para, &mut out);
            let mut code = Vec::new();
            i += 1;
            while i < lines.len() && !lines[i].trim_start().starts_with("```") {
                code.push(escape(lines[i]));
                i += 1;
            }
            out.push(format!("<pre><code>{}</code></pre>", code.join("\n")));
            i += 1;
        } else if t.starts_with("<!--") && t.ends_with("-->") {
            flush(&mut para, &mut out);
            out.push(t.to_owned());
            i += 1;
        } else if let Some(level) = (1..=6).find(|n| t.starts_with(&format!("{} ", "#".repeat(*n))))
        {
            flush(&mut para, &mut out);
            out.push(format!(
                "<h{level}>{}</h{level}>",
                inline(t[level + 1..].trim())
            ));
            i += 1;
        } else if t.starts_with('|') && lines.get(i + 1).is_some_and(|n| is_separator(n)) {
            flush(&mut para, &mut out);
            let head: Vec<String> = cells(t)
                .iter()
                .map(|c| format!("<th>{}</th>", inline(c)))
                .collect();
            let mut rows = vec![format!("<tr>{}</tr>", head.concat())];
            i += 2;
            while i < lines.len() && lines[i].trim().starts_with('|') {
                let row: Vec<String> = cells(lines[i])
                    .iter()
                    .map(|c| format!("<td>{}</td>", inline(c)))
                    .collect();
                rows.push(format!("<tr>{}</tr>", row.concat()));
                i += 1;
            }
            out.push(format!("<table>{}</table>", rows.concat()));
        } else if let Some((ordered, _)) = list_item(line) {
            flush(&mut para, &mut out);
            let mut items = Vec::new();
            while let Some((o, text)) = lines.get(i).and_then(|l| list_item(l)) {
                if o != ordered {
                    break;
                }
                items.push(format!("<li>{}</li>", inline(text.trim())));
                i += 1;
            }
            let tag = if ordered { "ol" } else { "ul" };
            out.push(format!("<{tag}>{}</{tag}>", items.concat()));
        } else {
            para.push(inline(t));
            i += 1;
        }
    }
    flush(&mut para, &mut out);
    out.concat()
}

/// HTML (a comment from a service hook) as plain text: block ends become line breaks, tags go,
/// entities are decoded.
pub fn to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + end].trim().to_ascii_lowercase();
        let name = tag
            .trim_start_matches('/')
            .split([' ', '/'])
            .next()
            .unwrap_or("");
        if matches!(name, "br") {
            out.push('\n');
        } else if tag.starts_with('/')
            && matches!(
                name,
                "p" | "div"
                    | "li"
                    | "tr"
                    | "h1"
                    | "h2"
                    | "h3"
                    | "h4"
                    | "h5"
                    | "h6"
                    | "pre"
                    | "table"
                    | "ul"
                    | "ol"
            )
        {
            out.push_str("\n\n");
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    // Collapse the blank lines block ends leave behind.
    let mut lines: Vec<&str> = Vec::new();
    for l in decoded.lines().map(str::trim_end) {
        if l.is_empty() && lines.last().is_none_or(|p| p.is_empty()) {
            continue;
        }
        lines.push(l);
    }
    lines.join("\n").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_safe_html() {
        let md = "**Severity:** High · **Status:** Active\n\n### Description\n\nUse of `eval()` in <script>.\nSee [docs](https://x.example/a?b=1&c=2) and [bad](javascript:alert(1)).\n\n- one\n- two\n\n| A | B |\n|---|---|\n| 1 \\| 2 | `x` |\n\n```\nlet a = 1 < 2;\n```\n\n<!-- vulnbridge:k1:m3:f17 -->\n";
        let html = from_markdown(md);
        assert!(html.starts_with("<p><strong>Severity:</strong> High · <strong>Status:</strong> Active</p><h3>Description</h3>"), "{html}");
        assert!(html.contains("Use of <code>eval()</code> in &lt;script&gt;.<br/>See <a href=\"https://x.example/a?b=1&amp;c=2\">docs</a> and bad."), "{html}");
        assert!(html.contains("<ul><li>one</li><li>two</li></ul>"));
        assert!(html.contains("<table><tr><th>A</th><th>B</th></tr><tr><td>1 | 2</td><td><code>x</code></td></tr></table>"), "{html}");
        assert!(html.contains("<pre><code>let a = 1 &lt; 2;</code></pre>"));
        assert!(html.ends_with("<!-- vulnbridge:k1:m3:f17 -->"));
    }

    #[test]
    fn html_reads_back_as_text() {
        let html =
            from_markdown("Closed by vulnbridge: the finding is now Closed.\n\n— vulnbridge");
        assert_eq!(
            to_text(&html),
            "Closed by vulnbridge: the finding is now Closed.\n\n— vulnbridge"
        );
        assert_eq!(to_text("<div>a &amp; b<br>c</div>"), "a & b\nc");
    }
}
