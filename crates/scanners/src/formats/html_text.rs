//! A small, forgiving HTML reader: enough to turn the HTML that Burp puts in its issue texts
//! into Markdown-like plain text, and to walk the Burp Suite DAST HTML report.
//!
//! Scanner HTML is not XML (`<br>`, unclosed `<li>`, a bare `&` in text, request bodies with
//! a stray `<`), so this does not use quick-xml: a tokenizer that never fails feeds a tree
//! builder that closes what HTML implies and ignores end tags it cannot match. Entities are
//! decoded from a fixed table; nothing is ever fetched or expanded beyond that.

use std::borrow::Cow;

/// Deeper elements are attached flat, so that rendering (recursive) has bounded depth.
const MAX_DEPTH: usize = 128;

pub(crate) type NodeId = usize;

#[derive(Debug)]
struct Node {
    /// Lower-case tag name; empty for a text node.
    name: String,
    attrs: Vec<(String, String)>,
    /// Decoded text of a text node.
    text: String,
    children: Vec<NodeId>,
}

/// A parsed HTML document or fragment. Node 0 is the root.
#[derive(Debug)]
pub(crate) struct Html {
    nodes: Vec<Node>,
}

/// Converts an HTML fragment to text with light Markdown: paragraphs, `- ` lists,
/// `**bold**`, `[links](…)`, fenced `<pre>`.
pub(crate) fn html_to_markdown(src: &str) -> String {
    let html = Html::parse(src);
    html.markdown(0)
}

impl Html {
    pub(crate) fn parse(src: &str) -> Html {
        let mut b = Builder {
            nodes: vec![Node {
                name: "#root".to_owned(),
                attrs: Vec::new(),
                text: String::new(),
                children: Vec::new(),
            }],
            stack: vec![0],
        };
        let bytes = src.as_bytes();
        let mut text_start = 0;
        let mut pos = 0;
        while let Some(off) = src.get(pos..).and_then(|s| s.find('<')) {
            let lt = pos + off;
            let rest = src.get(lt..).unwrap_or("");
            let next = bytes.get(lt + 1).copied();
            if rest.starts_with("<!--") {
                b.text(src.get(text_start..lt).unwrap_or(""));
                pos = find_from(src, lt + 4, "-->").map_or(src.len(), |e| e + 3);
                text_start = pos;
            } else if matches!(next, Some(b'!' | b'?')) {
                b.text(src.get(text_start..lt).unwrap_or(""));
                pos = find_from(src, lt, ">").map_or(src.len(), |e| e + 1);
                text_start = pos;
            } else if next == Some(b'/') && bytes.get(lt + 2).is_some_and(u8::is_ascii_alphabetic) {
                b.text(src.get(text_start..lt).unwrap_or(""));
                let (name, _) = tag_name(src, lt + 2);
                b.end(&name);
                pos = find_from(src, lt, ">").map_or(src.len(), |e| e + 1);
                text_start = pos;
            } else if next.is_some_and(|c| c.is_ascii_alphabetic()) {
                b.text(src.get(text_start..lt).unwrap_or(""));
                let (name, after_name) = tag_name(src, lt + 1);
                let (attrs, self_closing, end) = attributes(src, after_name);
                pos = end;
                text_start = end;
                let raw_text = matches!(name.as_str(), "script" | "style" | "textarea" | "title");
                b.start(name.clone(), attrs, self_closing);
                if raw_text && !self_closing {
                    // Contents up to the matching end tag are text, whatever they look like.
                    let close = format!("</{name}");
                    let stop = find_ci_from(src, pos, &close).unwrap_or(src.len());
                    if name == "textarea" || name == "title" {
                        b.text(src.get(pos..stop).unwrap_or(""));
                    }
                    pos = stop;
                    text_start = stop;
                }
            } else {
                // A `<` that opens no tag is text.
                pos = lt + 1;
            }
        }
        b.text(src.get(text_start..).unwrap_or(""));
        Html { nodes: b.nodes }
    }

    pub(crate) fn root(&self) -> NodeId {
        0
    }

    pub(crate) fn name(&self, id: NodeId) -> &str {
        self.nodes.get(id).map_or("", |n| n.name.as_str())
    }

    pub(crate) fn attr(&self, id: NodeId, name: &str) -> Option<&str> {
        self.nodes
            .get(id)?
            .attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn has_class(&self, id: NodeId, class: &str) -> bool {
        self.attr(id, "class")
            .is_some_and(|c| c.split_ascii_whitespace().any(|x| x == class))
    }

    /// Element children (text nodes left out), in order.
    pub(crate) fn elements(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.nodes
            .get(id)
            .map(|n| n.children.as_slice())
            .unwrap_or(&[])
            .iter()
            .copied()
            .filter(|c| self.nodes.get(*c).is_some_and(|n| !n.name.is_empty()))
    }

    /// All descendants in document order (iterative: no recursion on input depth).
    pub(crate) fn descendants(&self, id: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut todo: Vec<NodeId> = self
            .nodes
            .get(id)
            .map(|n| n.children.iter().rev().copied().collect())
            .unwrap_or_default();
        while let Some(n) = todo.pop() {
            out.push(n);
            if let Some(node) = self.nodes.get(n) {
                todo.extend(node.children.iter().rev().copied());
            }
        }
        out
    }

    /// The text content, whitespace collapsed to single spaces and trimmed.
    pub(crate) fn text(&self, id: NodeId) -> String {
        let mut out = String::new();
        for n in self.descendants(id) {
            if let Some(node) = self.nodes.get(n)
                && node.name.is_empty()
            {
                out.push_str(&node.text);
                out.push(' ');
            }
        }
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The text content with its line breaks (for request/response dumps): `<br>` and block
    /// elements start a new line, each line is trimmed, and Burp's "snip" marker is spelled out.
    pub(crate) fn raw_text(&self, id: NodeId) -> String {
        let mut out = String::new();
        self.raw_into(id, &mut out, 0);
        let lines: Vec<&str> = out.lines().map(str::trim).collect();
        lines.join("\n").trim().to_owned()
    }

    fn raw_into(&self, id: NodeId, out: &mut String, depth: usize) {
        let Some(node) = self.nodes.get(id) else {
            return;
        };
        if depth > MAX_DEPTH + 2 {
            return;
        }
        for &c in &node.children {
            let Some(child) = self.nodes.get(c) else {
                continue;
            };
            match child.name.as_str() {
                "" => out.push_str(&child.text),
                "br" => out.push('\n'),
                "script" | "style" => {}
                "div" if self.has_class(c, "snip") => out.push_str("\n<…snipped…>\n"),
                "div" | "p" | "tr" | "li" => {
                    out.push('\n');
                    self.raw_into(c, out, depth + 1);
                    out.push('\n');
                }
                _ => self.raw_into(c, out, depth + 1),
            }
        }
    }

    /// Markdown-like text of a node's contents.
    pub(crate) fn markdown(&self, id: NodeId) -> String {
        let mut md = Md::default();
        self.render_children(id, &mut md, 0);
        md.finish()
    }

    fn render_children(&self, id: NodeId, md: &mut Md, depth: usize) {
        let Some(node) = self.nodes.get(id) else {
            return;
        };
        for (i, &c) in node.children.iter().enumerate() {
            self.render(c, i, md, depth + 1);
        }
    }

    fn render(&self, id: NodeId, index_in_parent: usize, md: &mut Md, depth: usize) {
        let Some(node) = self.nodes.get(id) else {
            return;
        };
        if depth > MAX_DEPTH + 2 {
            return;
        }
        let name = node.name.as_str();
        match name {
            "" => md.text(&node.text),
            "script" | "style" | "head" | "title" | "noscript" | "template" => {}
            "br" => md.line_break(),
            "hr" => {
                md.block(2);
                md.literal("---");
                md.block(2);
            }
            "p" | "table" | "blockquote" => {
                md.block(2);
                self.render_children(id, md, depth);
                md.block(2);
            }
            "ul" | "ol" => {
                md.block(if md.list_depth > 0 { 1 } else { 2 });
                md.list_depth += 1;
                self.render_children(id, md, depth);
                md.list_depth -= 1;
                md.block(if md.list_depth > 0 { 1 } else { 2 });
            }
            "li" => {
                md.block(1);
                md.literal(&"  ".repeat(md.list_depth.saturating_sub(1)));
                md.literal("- ");
                md.at_item_start = true;
                self.render_children(id, md, depth);
                md.at_item_start = false;
                md.block(1);
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                let level = name
                    .get(1..)
                    .and_then(|l| l.parse::<usize>().ok())
                    .unwrap_or(1);
                md.block(2);
                md.literal(&"#".repeat(level));
                md.literal(" ");
                md.at_item_start = true;
                self.render_children(id, md, depth);
                md.at_item_start = false;
                md.block(2);
            }
            "pre" => {
                let body = self.raw_text(id);
                md.block(2);
                md.literal("```\n");
                md.literal(&body);
                md.literal("\n```");
                md.block(2);
            }
            "div" | "tr" | "section" | "article" | "header" | "footer" | "dl" | "dt" | "dd"
            | "thead" | "tbody" | "form" | "center" => {
                md.block(1);
                self.render_children(id, md, depth);
                md.block(1);
            }
            "td" | "th" => {
                if index_in_parent > 0 && !md.at_line_start() {
                    md.literal(" | ");
                }
                self.render_children(id, md, depth);
            }
            "b" | "strong" => self.render_wrapped(id, md, depth, "**", "**"),
            "i" | "em" => self.render_wrapped(id, md, depth, "_", "_"),
            "code" | "kbd" | "tt" => self.render_wrapped(id, md, depth, "`", "`"),
            "a" => {
                let mut inner = Md::default();
                self.render_children(id, &mut inner, depth);
                let text = inner.finish();
                let href = self.attr(id, "href").map(str::trim).unwrap_or("");
                let usable =
                    !href.is_empty() && !href.starts_with('#') && !href.starts_with("javascript:");
                let shown = match (text.is_empty(), usable) {
                    (true, true) => href.to_owned(),
                    (false, true) if text == href => text,
                    (false, true) => format!("[{}]({href})", text.replace('\n', " ")),
                    (_, false) => text,
                };
                md.inline(&shown);
            }
            "img" => {
                if let Some(alt) = self.attr(id, "alt") {
                    md.text(alt);
                }
            }
            _ => self.render_children(id, md, depth),
        }
    }

    fn render_wrapped(&self, id: NodeId, md: &mut Md, depth: usize, open: &str, close: &str) {
        let mut inner = Md::default();
        self.render_children(id, &mut inner, depth);
        let lead = inner.out.starts_with(' ') || inner.pending_space && inner.out.is_empty();
        let trail = inner.pending_space;
        let text = inner.finish();
        if lead {
            md.pending_space = true;
        }
        if !text.is_empty() {
            md.inline(&format!("{open}{text}{close}"));
        }
        if trail {
            md.pending_space = true;
        }
    }
}

/// Builds the tree, closing what HTML closes implicitly.
struct Builder {
    nodes: Vec<Node>,
    /// Open elements; `stack[0]` is the root and never closed.
    stack: Vec<NodeId>,
}

impl Builder {
    fn current(&self) -> NodeId {
        self.stack.last().copied().unwrap_or(0)
    }

    fn open_name(&self, at: usize) -> &str {
        self.stack
            .get(at)
            .and_then(|n| self.nodes.get(*n))
            .map_or("", |n| n.name.as_str())
    }

    /// Closes the innermost open `names` element unless one of `boundaries` is opened after it.
    fn close_implied(&mut self, names: &[&str], boundaries: &[&str]) {
        for at in (1..self.stack.len()).rev() {
            let open = self.open_name(at);
            if boundaries.contains(&open) {
                return;
            }
            if names.contains(&open) {
                self.stack.truncate(at);
                return;
            }
        }
    }

    fn start(&mut self, name: String, attrs: Vec<(String, String)>, self_closing: bool) {
        match name.as_str() {
            "li" => self.close_implied(&["li"], &["ul", "ol", "table"]),
            "tr" => self.close_implied(&["tr"], &["table"]),
            "td" | "th" => self.close_implied(&["td", "th"], &["tr", "table"]),
            "dt" | "dd" => self.close_implied(&["dt", "dd"], &["dl"]),
            _ => {}
        }
        let is_block = matches!(
            name.as_str(),
            "p" | "div"
                | "ul"
                | "ol"
                | "table"
                | "pre"
                | "blockquote"
                | "h1"
                | "h2"
                | "h3"
                | "h4"
                | "h5"
                | "h6"
                | "hr"
                | "section"
        );
        if is_block && self.open_name(self.stack.len().saturating_sub(1)) == "p" {
            self.stack.pop();
        }
        let void = matches!(
            name.as_str(),
            "br" | "img"
                | "meta"
                | "link"
                | "hr"
                | "input"
                | "col"
                | "area"
                | "base"
                | "wbr"
                | "source"
                | "embed"
                | "param"
                | "track"
        );
        let id = self.nodes.len();
        let parent = self.current();
        self.nodes.push(Node {
            name,
            attrs,
            text: String::new(),
            children: Vec::new(),
        });
        if let Some(p) = self.nodes.get_mut(parent) {
            p.children.push(id);
        }
        if !void && !self_closing && self.stack.len() < MAX_DEPTH {
            self.stack.push(id);
        }
    }

    fn end(&mut self, name: &str) {
        if let Some(at) = (1..self.stack.len())
            .rev()
            .find(|&at| self.open_name(at) == name)
        {
            self.stack.truncate(at);
        }
    }

    fn text(&mut self, raw: &str) {
        if raw.is_empty() {
            return;
        }
        let decoded = decode_entities(raw);
        let parent = self.current();
        let last_child = self
            .nodes
            .get(parent)
            .and_then(|p| p.children.last().copied())
            .filter(|c| self.nodes.get(*c).is_some_and(|n| n.name.is_empty()));
        if let Some(last) = last_child
            && let Some(node) = self.nodes.get_mut(last)
        {
            node.text.push_str(&decoded);
            return;
        }
        let id = self.nodes.len();
        self.nodes.push(Node {
            name: String::new(),
            attrs: Vec::new(),
            text: decoded.into_owned(),
            children: Vec::new(),
        });
        if let Some(p) = self.nodes.get_mut(parent) {
            p.children.push(id);
        }
    }
}

fn find_from(src: &str, from: usize, needle: &str) -> Option<usize> {
    src.get(from..)?.find(needle).map(|p| p + from)
}

fn find_ci_from(src: &str, from: usize, needle: &str) -> Option<usize> {
    let hay = src.as_bytes().get(from..)?;
    let needle = needle.as_bytes();
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| p + from)
}

/// The lower-cased tag name starting at `at`, and where it ends.
fn tag_name(src: &str, at: usize) -> (String, usize) {
    let bytes = src.as_bytes();
    let mut end = at;
    while bytes
        .get(end)
        .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b':' | b'_'))
    {
        end += 1;
    }
    (src.get(at..end).unwrap_or("").to_ascii_lowercase(), end)
}

/// Attributes from `at` to the closing `>`: (attributes, self-closing, position after `>`).
fn attributes(src: &str, at: usize) -> (Vec<(String, String)>, bool, usize) {
    let bytes = src.as_bytes();
    let mut attrs = Vec::new();
    let mut i = at;
    let mut self_closing = false;
    loop {
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        match bytes.get(i) {
            None => return (attrs, self_closing, src.len()),
            Some(b'>') => return (attrs, self_closing, i + 1),
            Some(b'/') => {
                self_closing = bytes.get(i + 1) == Some(&b'>');
                i += 1;
                continue;
            }
            Some(_) => {}
        }
        self_closing = false;
        let name_start = i;
        while bytes
            .get(i)
            .is_some_and(|c| !c.is_ascii_whitespace() && !matches!(c, b'=' | b'>' | b'/'))
        {
            i += 1;
        }
        if i == name_start {
            // A stray `=`: skip it.
            i += 1;
            continue;
        }
        let name = src.get(name_start..i).unwrap_or("").to_ascii_lowercase();
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let mut value = String::new();
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            match bytes.get(i) {
                Some(&q @ (b'"' | b'\'')) => {
                    let start = i + 1;
                    let end = src
                        .get(start..)
                        .and_then(|s| s.find(q as char))
                        .map_or(src.len(), |p| p + start);
                    value = decode_entities(src.get(start..end).unwrap_or("")).into_owned();
                    i = end + 1;
                }
                _ => {
                    let start = i;
                    while bytes
                        .get(i)
                        .is_some_and(|c| !c.is_ascii_whitespace() && *c != b'>')
                    {
                        i += 1;
                    }
                    value = decode_entities(src.get(start..i).unwrap_or("")).into_owned();
                }
            }
        }
        attrs.push((name, value));
    }
}

/// Decodes character references and the named entities scanner reports use; anything else
/// (including a bare `&`) stays as written.
pub(crate) fn decode_entities(raw: &str) -> Cow<'_, str> {
    if !raw.contains('&') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or(""));
        let after = rest.get(amp + 1..).unwrap_or("");
        let semi = after
            .char_indices()
            .take(33)
            .find(|(_, c)| *c == ';')
            .map(|(i, _)| i);
        let decoded = semi.and_then(|s| after.get(..s)).and_then(entity_char);
        match (decoded, semi) {
            (Some(c), Some(s)) => {
                out.push(c);
                rest = after.get(s + 1..).unwrap_or("");
            }
            _ => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn entity_char(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return Some(
            char::from_u32(code)
                .filter(|c| *c != '\0')
                .unwrap_or('\u{FFFD}'),
        );
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "laquo" => '«',
        "raquo" => '»',
        "bull" => '•',
        "middot" => '·',
        "times" => '×',
        "deg" => '°',
        "euro" => '€',
        "pound" => '£',
        "sect" => '§',
        "para" => '¶',
        _ => return None,
    })
}

/// Accumulates Markdown-like output with HTML's whitespace rules: runs of whitespace in text
/// become one space, blocks are separated by line breaks, trailing spaces never survive.
#[derive(Default)]
struct Md {
    out: String,
    pending_space: bool,
    list_depth: usize,
    /// Right after a list marker or heading prefix: the next text must not start with a space.
    at_item_start: bool,
}

impl Md {
    fn at_line_start(&self) -> bool {
        self.out.is_empty() || self.out.ends_with('\n')
    }

    fn flush_space(&mut self) {
        if self.pending_space
            && !self.at_line_start()
            && !self.at_item_start
            && !self.out.ends_with(' ')
        {
            self.out.push(' ');
        }
        self.pending_space = false;
        self.at_item_start = false;
    }

    fn text(&mut self, text: &str) {
        for ch in text.chars() {
            if ch.is_whitespace() {
                self.pending_space = true;
            } else {
                self.flush_space();
                self.out.push(ch);
            }
        }
    }

    fn inline(&mut self, text: &str) {
        self.flush_space();
        self.out.push_str(text);
    }

    fn literal(&mut self, text: &str) {
        self.pending_space = false;
        self.out.push_str(text);
    }

    fn line_break(&mut self) {
        self.trim_trailing_spaces();
        self.out.push('\n');
        self.pending_space = false;
    }

    fn trim_trailing_spaces(&mut self) {
        let kept = self.out.trim_end_matches([' ', '\t']).len();
        self.out.truncate(kept);
    }

    /// Ends the current block: at least `newlines` line breaks unless at the very start.
    fn block(&mut self, newlines: usize) {
        self.pending_space = false;
        self.trim_trailing_spaces();
        if self.out.is_empty() {
            return;
        }
        let have = self.out.len() - self.out.trim_end_matches('\n').len();
        for _ in have..newlines {
            self.out.push('\n');
        }
    }

    fn finish(self) -> String {
        let mut out = String::with_capacity(self.out.len());
        let mut blank_run = 0;
        for line in self.out.lines() {
            let line = line.trim_end();
            if line.is_empty() {
                blank_run += 1;
                if blank_run > 1 {
                    continue;
                }
            } else {
                blank_run = 0;
            }
            out.push_str(line);
            out.push('\n');
        }
        out.trim().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_lists_links_and_breaks() {
        let md = html_to_markdown(
            "<p>An HTML5   cross-origin\n policy.</p><p>Second <b>bold</b> &amp; more</p>\
             <ul><li><a href=\"https://x.test/a\">Guide</a><li>plain</ul>Line<br>\n  next",
        );
        assert_eq!(
            md,
            "An HTML5 cross-origin policy.\n\nSecond **bold** & more\n\n- [Guide](https://x.test/a)\n- plain\n\nLine\nnext"
        );
    }

    #[test]
    fn forgiving_with_broken_markup() {
        let md = html_to_markdown("a < b & c <div>x</span></div><p>unclosed <i>it");
        assert_eq!(md, "a < b & c\nx\n\nunclosed _it_");
        assert_eq!(html_to_markdown("<<<>>><!-- x"), "<<<>>>");
        assert_eq!(html_to_markdown("<a href='#x'></a>"), "");
        let deep = "<div>".repeat(10_000) + "bottom";
        assert_eq!(html_to_markdown(&deep), "bottom");
    }

    #[test]
    fn entities() {
        assert_eq!(
            decode_entities("&lt;x&gt; &#39;&#x41; &bogus; &"),
            "<x> 'A &bogus; &"
        );
    }

    #[test]
    fn structure_queries() {
        let h = Html::parse("<table class='issue-table'><tr class=row><td>a<td>b</table>");
        let table = h.elements(h.root()).next().unwrap_or(0);
        assert!(h.has_class(table, "issue-table"));
        let tr = h
            .descendants(table)
            .into_iter()
            .find(|n| h.name(*n) == "tr")
            .unwrap_or(0);
        let cells: Vec<String> = h.elements(tr).map(|c| h.text(c)).collect();
        assert_eq!(cells, ["a", "b"]);
    }
}
