//! The Markdown vulnbridge renders ticket bodies in, read into a small tree that `adf` and
//! `wiki` write out for Jira. It covers what the templates and scanners produce: paragraphs
//! (a single newline is a line break, as trackers show issue text), ATX headings, fenced code,
//! block quotes, bullet and numbered lists (nested by indentation), pipe tables, rules, and
//! inline strong, emphasis, code, links and autolinks. An HTML comment is hidden text; one
//! holding vulnbridge's marker is kept as a [`Block::Marker`] so that it stays findable.

/// A block of text.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    Paragraph(Vec<Inline>),
    Heading(u8, Vec<Inline>),
    Code {
        language: Option<String>,
        text: String,
    },
    Quote(Vec<Block>),
    List {
        ordered: bool,
        items: Vec<Vec<Block>>,
    },
    Table {
        header: Vec<Vec<Inline>>,
        rows: Vec<Vec<Vec<Inline>>>,
    },
    Rule,
    /// vulnbridge's marker (the text of the HTML comment that held it).
    Marker(String),
}

/// Text within a block.
#[derive(Clone, Debug, PartialEq)]
pub enum Inline {
    Text(String),
    Strong(Vec<Inline>),
    Emphasis(Vec<Inline>),
    Code(String),
    Link { text: Vec<Inline>, url: String },
    Break,
}

/// Parses a Markdown document.
pub fn parse(markdown: &str) -> Vec<Block> {
    let text = markdown.replace("\r\n", "\n").replace('\t', "    ");
    let lines: Vec<&str> = text.split('\n').collect();
    blocks(&lines)
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

fn fence(line: &str) -> Option<(&str, &str)> {
    let t = line.trim_start();
    if indent(line) > 3 {
        return None;
    }
    for marker in ["```", "~~~"] {
        if let Some(rest) = t.strip_prefix(marker) {
            return Some((
                marker,
                rest.trim_start_matches(marker.chars().next().unwrap_or('`'))
                    .trim(),
            ));
        }
    }
    None
}

fn heading(line: &str) -> Option<(u8, &str)> {
    if indent(line) > 3 {
        return None;
    }
    let t = line.trim_start();
    let hashes = t.bytes().take_while(|b| *b == b'#').count();
    if !(1..=6).contains(&hashes) {
        return None;
    }
    let rest = &t[hashes..];
    if !rest.is_empty() && !rest.starts_with(' ') {
        return None;
    }
    let title = rest.trim().trim_end_matches('#').trim_end();
    Some((u8::try_from(hashes).unwrap_or(6), title))
}

fn is_rule(line: &str) -> bool {
    let t: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    indent(line) <= 3
        && t.len() >= 3
        && ["-", "*", "_"]
            .iter()
            .any(|c| t.chars().all(|x| x.to_string() == *c))
}

/// A list item's marker: (ordered, content column).
fn list_item(line: &str) -> Option<(bool, usize)> {
    let ind = indent(line);
    let t = &line[ind..];
    let bytes = t.as_bytes();
    if matches!(bytes.first(), Some(b'-' | b'*' | b'+')) && (bytes.len() == 1 || bytes[1] == b' ') {
        return Some((false, ind + 2.min(t.len())));
    }
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if (1..=9).contains(&digits)
        && matches!(bytes.get(digits), Some(b'.' | b')'))
        && matches!(bytes.get(digits + 1), None | Some(b' '))
    {
        return Some((true, ind + (digits + 2).min(t.len())));
    }
    None
}

fn is_table_separator(line: &str) -> bool {
    let t = line.trim();
    t.contains('-') && t.contains('|') && t.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '))
}

fn table_cells(line: &str) -> Vec<String> {
    let t = line.trim();
    let t = t.strip_prefix('|').unwrap_or(t);
    let t = t
        .strip_suffix('|')
        .filter(|_| !t.ends_with("\\|"))
        .unwrap_or(t);
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cur.push('|');
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut cur).trim().to_owned()),
            other => cur.push(other),
        }
    }
    cells.push(cur.trim().to_owned());
    cells
}

/// A whole-line HTML comment: its inner text.
fn comment(line: &str) -> Option<&str> {
    let t = line.trim();
    t.strip_prefix("<!--")?.strip_suffix("-->").map(str::trim)
}

fn starts_block(line: &str) -> bool {
    fence(line).is_some()
        || heading(line).is_some()
        || is_rule(line)
        || line.trim_start().starts_with('>')
        || list_item(line).is_some()
        || comment(line).is_some()
}

fn blocks(lines: &[&str]) -> Vec<Block> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if is_blank(line) {
            i += 1;
            continue;
        }
        if let Some((marker, language)) = fence(line) {
            let mut body = Vec::new();
            i += 1;
            while i < lines.len() && !lines[i].trim_start().starts_with(marker) {
                body.push(lines[i]);
                i += 1;
            }
            i += 1;
            out.push(Block::Code {
                language: (!language.is_empty()).then(|| language.to_owned()),
                text: body.join("\n"),
            });
            continue;
        }
        if let Some(inner) = comment(line) {
            if inner.contains("vulnbridge:") {
                out.push(Block::Marker(inner.to_owned()));
            }
            i += 1;
            continue;
        }
        if let Some((level, title)) = heading(line) {
            out.push(Block::Heading(level, inlines(title)));
            i += 1;
            continue;
        }
        if is_rule(line) {
            out.push(Block::Rule);
            i += 1;
            continue;
        }
        if line.trim_start().starts_with('>') {
            let mut inner = Vec::new();
            while i < lines.len() && lines[i].trim_start().starts_with('>') {
                let t = lines[i].trim_start().trim_start_matches('>');
                inner.push(t.strip_prefix(' ').unwrap_or(t));
                i += 1;
            }
            out.push(Block::Quote(blocks(&inner)));
            continue;
        }
        if let Some((ordered, _)) = list_item(line) {
            let (list, next) = list(lines, i, ordered);
            out.push(list);
            i = next;
            continue;
        }
        if line.contains('|') && lines.get(i + 1).is_some_and(|l| is_table_separator(l)) {
            let header: Vec<Vec<Inline>> = table_cells(line).iter().map(|c| inlines(c)).collect();
            i += 2;
            let mut rows = Vec::new();
            while i < lines.len() && lines[i].contains('|') && !is_blank(lines[i]) {
                rows.push(table_cells(lines[i]).iter().map(|c| inlines(c)).collect());
                i += 1;
            }
            out.push(Block::Table { header, rows });
            continue;
        }
        let mut para: Vec<&str> = vec![line.trim()];
        i += 1;
        while i < lines.len() && !is_blank(lines[i]) && !starts_block(lines[i]) {
            // A pipe line followed by a separator starts a table.
            if lines[i].contains('|') && lines.get(i + 1).is_some_and(|l| is_table_separator(l)) {
                break;
            }
            para.push(lines[i].trim());
            i += 1;
        }
        let mut content = Vec::new();
        for (n, l) in para.iter().enumerate() {
            if n > 0 {
                content.push(Inline::Break);
            }
            content.extend(inlines(l));
        }
        out.push(Block::Paragraph(content));
    }
    out
}

/// A list starting at `start`: its items (each parsed from its de-indented lines) and where it ends.
fn list(lines: &[&str], start: usize, ordered: bool) -> (Block, usize) {
    let base = indent(lines[start]);
    let mut items: Vec<Vec<String>> = Vec::new();
    let mut i = start;
    let mut content_col = 0;
    while i < lines.len() {
        let line = lines[i];
        if is_blank(line) {
            // A blank line ends the list unless the next line continues it.
            let continues = lines.get(i + 1).is_some_and(|n| {
                !is_blank(n)
                    && (indent(n) > base
                        || list_item(n).is_some_and(|(o, _)| o == ordered && indent(n) == base))
            });
            if !continues {
                break;
            }
            if let Some(item) = items.last_mut() {
                item.push(String::new());
            }
            i += 1;
            continue;
        }
        match list_item(line) {
            Some((o, col)) if indent(line) == base && o == ordered => {
                content_col = col;
                items.push(vec![line[col.min(line.len())..].to_owned()]);
            }
            Some(_) if indent(line) <= base => break,
            _ if indent(line) > base && !items.is_empty() => {
                let cut = content_col.min(indent(line));
                if let Some(item) = items.last_mut() {
                    item.push(line[cut..].to_owned());
                }
            }
            _ if !items.is_empty() && !starts_block(line) => {
                // A lazy continuation line of the item's paragraph.
                if let Some(item) = items.last_mut() {
                    item.push(line.trim().to_owned());
                }
            }
            _ => break,
        }
        i += 1;
    }
    let items = items
        .iter()
        .map(|item| {
            let refs: Vec<&str> = item.iter().map(String::as_str).collect();
            blocks(&refs)
        })
        .collect();
    (Block::List { ordered, items }, i)
}

/// Parses inline Markdown.
pub fn inlines(text: &str) -> Vec<Inline> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut buf = String::new();
    let mut i = 0;
    let flush = |buf: &mut String, out: &mut Vec<Inline>| {
        if !buf.is_empty() {
            out.push(Inline::Text(std::mem::take(buf)));
        }
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if chars.get(i + 1).is_some_and(|n| n.is_ascii_punctuation()) => {
                buf.push(chars[i + 1]);
                i += 2;
            }
            '`' => {
                let ticks = chars[i..].iter().take_while(|c| **c == '`').count();
                let close = find_run(&chars, i + ticks, '`', ticks);
                match close {
                    Some(end) => {
                        flush(&mut buf, &mut out);
                        let code: String = chars[i + ticks..end].iter().collect();
                        out.push(Inline::Code(code.trim().to_owned()));
                        i = end + ticks;
                    }
                    None => {
                        buf.extend(&chars[i..i + ticks]);
                        i += ticks;
                    }
                }
            }
            '*' | '_' => {
                let double = chars.get(i + 1) == Some(&c);
                let width = if double { 2 } else { 1 };
                let left_ok = c == '*' || i == 0 || !chars[i - 1].is_alphanumeric();
                let opens = left_ok && chars.get(i + width).is_some_and(|n| !n.is_whitespace());
                let close = if opens {
                    find_closing(&chars, i + width, c, width)
                } else {
                    None
                };
                match close {
                    Some(end) => {
                        flush(&mut buf, &mut out);
                        let inner: String = chars[i + width..end].iter().collect();
                        let content = inlines(&inner);
                        out.push(if double {
                            Inline::Strong(content)
                        } else {
                            Inline::Emphasis(content)
                        });
                        i = end + width;
                    }
                    None => {
                        buf.extend(&chars[i..i + width]);
                        i += width;
                    }
                }
            }
            '[' => match link(&chars, i) {
                Some((label, url, end)) => {
                    flush(&mut buf, &mut out);
                    out.push(Inline::Link {
                        text: inlines(&label),
                        url,
                    });
                    i = end;
                }
                None => {
                    buf.push('[');
                    i += 1;
                }
            },
            '<' => {
                let rest: String = chars[i + 1..]
                    .iter()
                    .take_while(|c| **c != '>' && !c.is_whitespace())
                    .collect();
                let closed = chars.get(i + 1 + rest.chars().count()) == Some(&'>');
                if closed && (rest.starts_with("http://") || rest.starts_with("https://")) {
                    flush(&mut buf, &mut out);
                    out.push(Inline::Link {
                        text: vec![Inline::Text(rest.clone())],
                        url: rest.clone(),
                    });
                    i += rest.chars().count() + 2;
                } else {
                    buf.push('<');
                    i += 1;
                }
            }
            'h' if starts_url(&chars, i) && (i == 0 || !chars[i - 1].is_alphanumeric()) => {
                let end = url_end(&chars, i);
                let url: String = chars[i..end].iter().collect();
                flush(&mut buf, &mut out);
                out.push(Inline::Link {
                    text: vec![Inline::Text(url.clone())],
                    url,
                });
                i = end;
            }
            other => {
                buf.push(other);
                i += 1;
            }
        }
    }
    flush(&mut buf, &mut out);
    out
}

fn find_run(chars: &[char], from: usize, c: char, n: usize) -> Option<usize> {
    let mut i = from;
    while i + n <= chars.len() {
        if chars[i..i + n].iter().all(|x| *x == c)
            && chars.get(i + n) != Some(&c)
            && (i == 0 || chars[i - 1] != c)
        {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The closing delimiter of emphasis opened at `from`: the same run, not after whitespace.
fn find_closing(chars: &[char], from: usize, c: char, n: usize) -> Option<usize> {
    let mut i = from + 1;
    while i + n <= chars.len() {
        if chars[i] == '\\' {
            i += 2;
            continue;
        }
        if chars[i] == '`' {
            let ticks = chars[i..].iter().take_while(|x| **x == '`').count();
            match find_run(chars, i + ticks, '`', ticks) {
                Some(end) => {
                    i = end + ticks;
                    continue;
                }
                None => {
                    i += ticks;
                    continue;
                }
            }
        }
        let run = chars[i..i + n].iter().all(|x| *x == c);
        let exact = chars.get(i + n) != Some(&c) || n == 2;
        let right_ok = c == '*' || chars.get(i + n).is_none_or(|x| !x.is_alphanumeric());
        if run && exact && !chars[i - 1].is_whitespace() && right_ok {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// `[label](url)` at `at`: the label, the URL and where the link ends.
fn link(chars: &[char], at: usize) -> Option<(String, String, usize)> {
    let mut depth = 0;
    let mut i = at;
    let close = loop {
        match chars.get(i)? {
            '\\' => i += 1,
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    break i;
                }
            }
            _ => {}
        }
        i += 1;
    };
    if chars.get(close + 1) != Some(&'(') {
        return None;
    }
    let start = close + 2;
    let end = start + chars[start..].iter().position(|c| *c == ')')?;
    let target: String = chars[start..end].iter().collect();
    let url = target
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_matches(['<', '>'])
        .to_owned();
    if url.is_empty() {
        return None;
    }
    Some((chars[at + 1..close].iter().collect(), url, end + 1))
}

fn starts_url(chars: &[char], i: usize) -> bool {
    let rest: String = chars[i..chars.len().min(i + 8)].iter().collect();
    rest.starts_with("http://") || rest.starts_with("https://")
}

fn url_end(chars: &[char], start: usize) -> usize {
    let mut end = start;
    while end < chars.len()
        && !chars[end].is_whitespace()
        && !matches!(chars[end], '<' | '>' | '"' | '|')
    {
        end += 1;
    }
    // Trailing punctuation belongs to the sentence, not the URL.
    while end > start
        && matches!(
            chars[end - 1],
            '.' | ',' | ';' | ':' | '!' | '?' | ')' | '\''
        )
    {
        end -= 1;
    }
    end
}

/// The plain text of inlines (for cells of headings inside lists, and tests).
pub fn plain(inlines: &[Inline]) -> String {
    let mut s = String::new();
    for i in inlines {
        match i {
            Inline::Text(t) | Inline::Code(t) => s.push_str(t),
            Inline::Strong(x) | Inline::Emphasis(x) => s.push_str(&plain(x)),
            Inline::Link { text, .. } => s.push_str(&plain(text)),
            Inline::Break => s.push('\n'),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Inline {
        Inline::Text(s.into())
    }

    #[test]
    fn inline_markup() {
        assert_eq!(
            inlines("**Severity:** High · `a|b` and [CWE-79](https://cwe.mitre.org/79) _now_"),
            vec![
                Inline::Strong(vec![t("Severity:")]),
                t(" High · "),
                Inline::Code("a|b".into()),
                t(" and "),
                Inline::Link {
                    text: vec![t("CWE-79")],
                    url: "https://cwe.mitre.org/79".into()
                },
                t(" "),
                Inline::Emphasis(vec![t("now")]),
            ]
        );
        assert_eq!(
            inlines("snake_case_name and 2 * 3"),
            vec![t("snake_case_name and 2 * 3")]
        );
        assert_eq!(
            inlines("see https://example.com/a?b=1."),
            vec![
                t("see "),
                Inline::Link {
                    text: vec![t("https://example.com/a?b=1")],
                    url: "https://example.com/a?b=1".into()
                },
                t(".")
            ]
        );
        assert_eq!(inlines(r"a \*literal\* star"), vec![t("a *literal* star")]);
    }

    #[test]
    fn blocks_of_the_body_template() {
        let md = "**Severity:** High · **Status:** Active\n\n**Product:** Shop\n**Test:** ZAP\n\n### Description\n\nLine one\nline two\n\n- first\n- second\n  1. nested\n\n| Severity | Finding |\n|---|---|\n| High | [x](http://h/1) |\n\n```json\n{\"a\": 1}\n```\n\n> quoted\n\n---\n\n<!-- vulnbridge:k3x9q2:m3:f17 -->\n";
        let b = parse(md);
        assert_eq!(b.len(), 10, "{b:#?}");
        assert_eq!(b[9], Block::Marker("vulnbridge:k3x9q2:m3:f17".into()));
        assert_eq!(
            b[1],
            Block::Paragraph(vec![
                Inline::Strong(vec![t("Product:")]),
                t(" Shop"),
                Inline::Break,
                Inline::Strong(vec![t("Test:")]),
                t(" ZAP")
            ])
        );
        assert_eq!(b[2], Block::Heading(3, vec![t("Description")]));
        let Block::List {
            ordered: false,
            items,
        } = &b[4]
        else {
            panic!("{:?}", b[4])
        };
        assert_eq!(items.len(), 2);
        assert!(matches!(&items[1][1], Block::List { ordered: true, .. }));
        let Block::Table { header, rows } = &b[5] else {
            panic!("{:?}", b[5])
        };
        assert_eq!((header.len(), rows.len()), (2, 1));
        assert_eq!(
            b[6],
            Block::Code {
                language: Some("json".into()),
                text: "{\"a\": 1}".into()
            }
        );
        assert_eq!(
            b[7],
            Block::Quote(vec![Block::Paragraph(vec![t("quoted")])])
        );
        assert_eq!(b[8], Block::Rule);
        assert!(
            matches!(parse("<!-- vulnbridge:k3x9q2:m3:f17 -->").as_slice(), [Block::Marker(m)] if m == "vulnbridge:k3x9q2:m3:f17")
        );
        assert!(parse("<!-- an ordinary comment -->").is_empty());
    }

    #[test]
    fn odd_input_never_panics() {
        for s in [
            "",
            "*",
            "**",
            "[",
            "[a](",
            "`",
            "```",
            "|",
            "|-|",
            "1.",
            "- ",
            "#",
            "####### x",
            "<http://x",
            "\\",
            "_a_b_",
            "**a *b** c*",
        ] {
            let _ = parse(s);
        }
    }
}
