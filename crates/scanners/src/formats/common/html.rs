//! A small, forgiving HTML reader for generated reports and the HTML scanners put in their
//! texts (sonar-report's HTML and rule descriptions, Burp's issue texts and DAST report):
//! tags, attributes, text with character references, comments, and raw-text
//! `script`/`style`/`textarea`/`title`. It builds a plain tree and repairs only what generated
//! HTML gets wrong in practice (unclosed `p`/`li`/`td`/`tr`, stray end tags, void elements, a
//! bare `&` or `<` in text). It is not a browser's parser and does not try to be one.
//!
//! Never panics and never recurses on input depth: nesting deeper than `MAX_DEPTH` is
//! flattened into the element at that depth, and every walk over the tree (text, Markdown)
//! keeps its own stack. Entities come from a fixed table; nothing is fetched or expanded.

use std::borrow::Cow;

/// Deeper elements are flattened: no real report nests this deep, and a flat bound keeps
/// every walk (and the tree's drop) shallow.
const MAX_DEPTH: usize = 256;

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// Elements whose content is text up to their end tag, whatever it looks like.
const RAW_TEXT: &[&str] = &["script", "style", "textarea", "title"];

/// Elements that end an open `p`, as in HTML.
const ENDS_P: &[&str] = &[
    "p",
    "div",
    "table",
    "ul",
    "ol",
    "pre",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "details",
    "dl",
    "hr",
    "section",
];

#[derive(Debug, Default)]
pub(crate) struct Element {
    /// Lower-case tag name; `#document` for the root.
    pub(crate) name: String,
    attrs: Vec<(String, String)>,
    /// Adjacent text is one node.
    children: Vec<Node>,
    /// Byte offset of the start tag in the input, for error locations.
    pub(crate) offset: usize,
}

#[derive(Debug)]
enum Node {
    Element(Element),
    Text(String),
}

/// One step of [`Element::walk`].
#[derive(Clone, Copy)]
pub(crate) enum Walk<'a> {
    Start(&'a Element),
    Text(&'a str),
    End(&'a Element),
}

/// What [`Element::walk`] does after a visit.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    /// After a `Start`: leaves out the element's children and its `End`.
    Skip,
    Stop,
}

impl Element {
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `class` is one of the element's classes.
    pub(crate) fn has_class(&self, class: &str) -> bool {
        self.attr("class")
            .is_some_and(|c| c.split_ascii_whitespace().any(|x| x == class))
    }

    /// Whether the `class` attribute contains `fragment` anywhere (`detail` in `x details`).
    pub(crate) fn has_class_containing(&self, fragment: &str) -> bool {
        self.attr("class").is_some_and(|c| c.contains(fragment))
    }

    /// Child elements, in order (text left out).
    pub(crate) fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|c| match c {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// Child elements named `name`, in order.
    pub(crate) fn children_named<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.elements().filter(move |e| e.name == name)
    }

    /// Every descendant element in document order (not `self`).
    pub(crate) fn descendants(&self) -> Vec<&Element> {
        let mut out = Vec::new();
        self.walk(&mut |step| {
            if let Walk::Start(e) = step {
                out.push(e);
            }
            Flow::Continue
        });
        out
    }

    /// Descendant elements named `name`, in document order.
    pub(crate) fn descendants_named<'a>(&'a self, name: &str) -> Vec<&'a Element> {
        self.descendants()
            .into_iter()
            .filter(|e| e.name == name)
            .collect()
    }

    /// All text inside, in document order, as written (entities decoded).
    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        self.walk(&mut |step| {
            if let Walk::Text(t) = step {
                out.push_str(t);
            }
            Flow::Continue
        });
        out
    }

    /// The text inside as a reader sees it on one line: script and style left out, element
    /// boundaries and runs of whitespace one space, trimmed.
    pub(crate) fn collapsed_text(&self) -> String {
        let mut out = String::new();
        self.walk(&mut |step| match step {
            Walk::Start(e) if matches!(e.name.as_str(), "script" | "style") => Flow::Skip,
            Walk::Text(t) => {
                out.push_str(t);
                out.push(' ');
                Flow::Continue
            }
            _ => Flow::Continue,
        });
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The text inside with its line breaks, for HTTP messages shown as HTML: `<br>` and the
    /// blocks `div`, `p`, `tr`, `li` start a new line, each line is trimmed, script and style
    /// are left out, and Burp's "snip" marker (`div.snip`) is spelled out.
    pub(crate) fn raw_text(&self) -> String {
        let mut out = String::new();
        let line_block = |e: &Element| matches!(e.name.as_str(), "div" | "p" | "tr" | "li");
        self.walk(&mut |step| {
            match step {
                Walk::Text(t) => out.push_str(t),
                Walk::Start(e) => match e.name.as_str() {
                    "br" => out.push('\n'),
                    "script" | "style" => return Flow::Skip,
                    "div" if e.has_class("snip") => {
                        out.push_str("\n<…snipped…>\n");
                        return Flow::Skip;
                    }
                    _ if line_block(e) => out.push('\n'),
                    _ => {}
                },
                Walk::End(e) if line_block(e) => out.push('\n'),
                Walk::End(_) => {}
            }
            Flow::Continue
        });
        let lines: Vec<&str> = out.lines().map(str::trim).collect();
        lines.join("\n").trim().to_owned()
    }

    /// The content as text with light Markdown: paragraphs, `- ` lists, `#` headings,
    /// `**bold**`, `_italic_`, `` `code` ``, `[links](…)`, fenced `<pre>`, ` | ` between cells.
    pub(crate) fn markdown(&self) -> String {
        // One buffer per open inline wrapper (`a`, `b`…): its text is wrapped when it closes.
        let mut mds: Vec<Md> = vec![Md::default()];
        // Children seen so far at each open level, for "first cell of the row".
        let mut seen: Vec<usize> = vec![0];
        self.walk(&mut |step| {
            if let Walk::End(e) = step {
                seen.pop();
                md_end(e, &mut mds);
                return Flow::Continue;
            }
            let index = seen.last().copied().unwrap_or(0);
            if let Some(n) = seen.last_mut() {
                *n += 1;
            }
            let flow = match step {
                Walk::Start(e) if is_inline_wrapper(e) => {
                    mds.push(Md::default());
                    Flow::Continue
                }
                Walk::Start(e) => mds
                    .last_mut()
                    .map_or(Flow::Stop, |md| md_start(e, index, md)),
                Walk::Text(t) => {
                    if let Some(md) = mds.last_mut() {
                        md.text(t);
                    }
                    return Flow::Continue;
                }
                Walk::End(_) => Flow::Continue,
            };
            if flow == Flow::Continue {
                seen.push(0);
            }
            flow
        });
        mds.pop().map(Md::finish).unwrap_or_default()
    }

    /// Visits start tags, text and end tags in document order, without recursion.
    pub(crate) fn walk<'a>(&'a self, visit: &mut dyn FnMut(Walk<'a>) -> Flow) {
        let mut stack: Vec<(&Element, std::slice::Iter<'_, Node>)> =
            vec![(self, self.children.iter())];
        while let Some((el, iter)) = stack.last_mut() {
            match iter.next() {
                Some(Node::Element(e)) => match visit(Walk::Start(e)) {
                    Flow::Continue => stack.push((e, e.children.iter())),
                    Flow::Skip => {}
                    Flow::Stop => return,
                },
                Some(Node::Text(t)) => {
                    if visit(Walk::Text(t)) == Flow::Stop {
                        return;
                    }
                }
                None => {
                    let done = *el;
                    stack.pop();
                    if !stack.is_empty() && visit(Walk::End(done)) == Flow::Stop {
                        return;
                    }
                }
            }
        }
    }
}

/// Elements whose Markdown wraps their text (`**bold**`, `[link](…)`), built in a buffer of
/// their own.
fn is_inline_wrapper(e: &Element) -> bool {
    matches!(
        e.name.as_str(),
        "b" | "strong" | "i" | "em" | "code" | "kbd" | "tt" | "a"
    )
}

/// The Markdown of element `e` opening, `index` its place among its parent's children.
fn md_start(e: &Element, index: usize, md: &mut Md) -> Flow {
    let name = e.name.as_str();
    match name {
        "script" | "style" | "head" | "title" | "noscript" | "template" => return Flow::Skip,
        "br" => md.line_break(),
        "hr" => {
            md.block(2);
            md.literal("---");
            md.block(2);
        }
        "p" | "table" | "blockquote" => md.block(2),
        "ul" | "ol" => {
            md.block(if md.list_depth > 0 { 1 } else { 2 });
            md.list_depth += 1;
        }
        "li" => {
            md.block(1);
            md.literal(&"  ".repeat(md.list_depth.saturating_sub(1)));
            md.literal("- ");
            md.at_item_start = true;
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
        }
        "pre" => {
            let body = e.raw_text();
            md.block(2);
            md.literal("```\n");
            md.literal(&body);
            md.literal("\n```");
            md.block(2);
            return Flow::Skip;
        }
        "div" | "tr" | "section" | "article" | "header" | "footer" | "dl" | "dt" | "dd"
        | "thead" | "tbody" | "form" | "center" => md.block(1),
        // Cells after the first of a row are separated as in a Markdown table.
        "td" | "th" if index > 0 && !md.at_line_start() => md.literal(" | "),
        "img" => {
            if let Some(alt) = e.attr("alt") {
                md.text(alt);
            }
        }
        _ => {}
    }
    Flow::Continue
}

/// The Markdown of element `e` closing.
fn md_end(e: &Element, mds: &mut Vec<Md>) {
    let name = e.name.as_str();
    let wrap = match name {
        "b" | "strong" => Some("**"),
        "i" | "em" => Some("_"),
        "code" | "kbd" | "tt" => Some("`"),
        _ => None,
    };
    if wrap.is_some() || name == "a" {
        let Some(inner) = mds.pop() else { return };
        let Some(md) = mds.last_mut() else { return };
        match wrap {
            Some(mark) => md.wrapped(inner, mark),
            None => md.link(inner, e.attr("href")),
        }
        return;
    }
    let Some(md) = mds.last_mut() else { return };
    match name {
        "p" | "table" | "blockquote" => md.block(2),
        "ul" | "ol" => {
            md.list_depth = md.list_depth.saturating_sub(1);
            md.block(if md.list_depth > 0 { 1 } else { 2 });
        }
        "li" => {
            md.at_item_start = false;
            md.block(1);
        }
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
            md.at_item_start = false;
            md.block(2);
        }
        "div" | "tr" | "section" | "article" | "header" | "footer" | "dl" | "dt" | "dd"
        | "thead" | "tbody" | "form" | "center" => md.block(1),
        _ => {}
    }
}

/// An HTML fragment as text with light Markdown (see [`Element::markdown`]).
pub(crate) fn html_to_markdown(src: &str) -> String {
    parse(src).markdown()
}

/// Parses a document or fragment into a tree under a `#document` root.
pub(crate) fn parse(input: &str) -> Element {
    let mut b = Builder {
        stack: vec![Element {
            name: "#document".to_owned(),
            ..Default::default()
        }],
        flattened: 0,
    };
    let bytes = input.as_bytes();
    let mut i = 0;
    let mut text_start = 0;
    while i < bytes.len() {
        if bytes.get(i) != Some(&b'<') {
            i += 1;
            continue;
        }
        let rest = input.get(i..).unwrap_or("");
        let next = bytes.get(i + 1).copied();
        let tag_end: Option<usize>;
        if rest.starts_with("<!--") {
            b.text(input.get(text_start..i).unwrap_or(""));
            tag_end = Some(rest.find("-->").map_or(rest.len(), |e| e + 3));
        } else if matches!(next, Some(b'!' | b'?')) {
            b.text(input.get(text_start..i).unwrap_or(""));
            tag_end = Some(rest.find('>').map_or(rest.len(), |e| e + 1));
        } else if next == Some(b'/') && bytes.get(i + 2).is_some_and(u8::is_ascii_alphabetic) {
            b.text(input.get(text_start..i).unwrap_or(""));
            let end = rest.find('>').map_or(rest.len(), |e| e + 1);
            let name = rest.get(2..).unwrap_or("");
            let name = name.get(..name_len(name.as_bytes(), 0)).unwrap_or("");
            b.close(&name.to_ascii_lowercase());
            tag_end = Some(end);
        } else if next.is_some_and(|c| c.is_ascii_alphabetic()) {
            b.text(input.get(text_start..i).unwrap_or(""));
            let (tag, len) = start_tag(rest);
            let raw = RAW_TEXT.contains(&tag.name.as_str());
            let name = tag.name.clone();
            let self_closing = tag.self_closing;
            b.open(tag.name, tag.attrs, i, self_closing);
            let mut end = len;
            if raw && !self_closing {
                // Raw text up to the matching end tag, not parsed as markup.
                let body = rest.get(len..).unwrap_or("");
                let close = format!("</{name}");
                let found = find_ascii_case_insensitive(body, &close);
                let body_len = found.unwrap_or(body.len());
                b.text(body.get(..body_len).unwrap_or(""));
                b.close(&name);
                end = len + body_len;
                if found.is_some() {
                    let after = rest.get(end..).unwrap_or("");
                    end += after.find('>').map_or(after.len(), |e| e + 1);
                }
            }
            tag_end = Some(end);
        } else {
            // A `<` that opens no tag is text.
            tag_end = None;
        }
        match tag_end {
            Some(len) => {
                i += len.max(1);
                text_start = i;
            }
            None => i += 1,
        }
    }
    b.text(input.get(text_start..).unwrap_or(""));
    b.finish()
}

/// The length of the tag name starting at `from`.
fn name_len(b: &[u8], from: usize) -> usize {
    b.get(from..)
        .unwrap_or_default()
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b':' | b'_'))
        .count()
}

fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    let h = haystack.as_bytes();
    let n = needle.as_bytes();
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    h.windows(n.len()).position(|w| w.eq_ignore_ascii_case(n))
}

struct StartTag {
    name: String,
    attrs: Vec<(String, String)>,
    self_closing: bool,
}

/// Reads `<name attr="v" …>` at the start of `s`; returns the tag and its length.
fn start_tag(s: &str) -> (StartTag, usize) {
    let b = s.as_bytes();
    let mut i = 1 + name_len(b, 1);
    let name = s.get(1..i).unwrap_or("").to_ascii_lowercase();
    let mut attrs = Vec::new();
    let mut self_closing = false;
    loop {
        while b.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        match b.get(i) {
            None => break,
            Some(b'>') => {
                i += 1;
                break;
            }
            Some(b'/') => {
                i += 1;
                if b.get(i) == Some(&b'>') {
                    self_closing = true;
                    i += 1;
                    break;
                }
                continue;
            }
            Some(_) => {}
        }
        let name_start = i;
        while b
            .get(i)
            .is_some_and(|c| !c.is_ascii_whitespace() && !matches!(c, b'=' | b'>' | b'/'))
        {
            i += 1;
        }
        let attr_name = s.get(name_start..i).unwrap_or("").to_ascii_lowercase();
        if i == name_start {
            // A lone '=' or similar: skip it.
            i += 1;
            continue;
        }
        while b.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let mut value = String::new();
        if b.get(i) == Some(&b'=') {
            i += 1;
            while b.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            match b.get(i) {
                Some(q @ (b'"' | b'\'')) => {
                    let q = *q;
                    let start = i + 1;
                    let mut j = start;
                    while b.get(j).is_some_and(|c| *c != q) {
                        j += 1;
                    }
                    value = decode_entities(s.get(start..j).unwrap_or("")).into_owned();
                    i = (j + 1).min(b.len());
                }
                _ => {
                    let start = i;
                    while b
                        .get(i)
                        .is_some_and(|c| !c.is_ascii_whitespace() && *c != b'>')
                    {
                        i += 1;
                    }
                    value = decode_entities(s.get(start..i).unwrap_or("")).into_owned();
                }
            }
        }
        attrs.push((attr_name, value));
    }
    (
        StartTag {
            name,
            attrs,
            self_closing,
        },
        i,
    )
}

struct Builder {
    stack: Vec<Element>,
    /// Start tags ignored past `MAX_DEPTH` whose end tags are still to come.
    flattened: usize,
}

impl Builder {
    fn text(&mut self, raw: &str) {
        if raw.is_empty() {
            return;
        }
        let decoded = decode_entities(raw);
        if let Some(top) = self.stack.last_mut() {
            match top.children.last_mut() {
                Some(Node::Text(last)) => last.push_str(&decoded),
                _ => top.children.push(Node::Text(decoded.into_owned())),
            }
        }
    }

    fn name_at(&self, at: usize) -> &str {
        self.stack.get(at).map_or("", |e| e.name.as_str())
    }

    /// Closes what a new `name` element implicitly ends: the innermost open element it cannot
    /// be inside (an `li` in an `li`), unless a container opened after that one (the `ul` of
    /// a nested list); a current `option`; and an open `p` when a block starts.
    fn close_implied(&mut self, name: &str) {
        let (ends, unless_inside): (&[&str], &[&str]) = match name {
            "li" => (&["li"], &["ul", "ol", "table"]),
            "tr" => (&["tr"], &["table"]),
            "td" | "th" => (&["td", "th"], &["tr", "table"]),
            "dt" | "dd" => (&["dt", "dd"], &["dl"]),
            _ => (&[], &[]),
        };
        // An `option` ends only an `option` that is the current element, as in HTML.
        if name == "option" && self.name_at(self.stack.len().saturating_sub(1)) == "option" {
            self.pop();
        }
        for at in (1..self.stack.len()).rev() {
            let open = self.name_at(at);
            if unless_inside.contains(&open) {
                break;
            }
            if ends.contains(&open) {
                self.close_to(at);
                break;
            }
        }
        if ENDS_P.contains(&name) && self.name_at(self.stack.len().saturating_sub(1)) == "p" {
            self.pop();
        }
    }

    fn open(
        &mut self,
        name: String,
        attrs: Vec<(String, String)>,
        offset: usize,
        self_closing: bool,
    ) {
        self.close_implied(&name);
        let el = Element {
            name,
            attrs,
            children: Vec::new(),
            offset,
        };
        if self_closing || VOID.contains(&el.name.as_str()) {
            if let Some(top) = self.stack.last_mut() {
                top.children.push(Node::Element(el));
            }
        } else if self.stack.len() >= MAX_DEPTH {
            self.flattened += 1;
        } else {
            self.stack.push(el);
        }
    }

    fn close(&mut self, name: &str) {
        if self.flattened > 0 && self.stack.len() >= MAX_DEPTH {
            self.flattened -= 1;
            return;
        }
        // A stray end tag (no such element open) is ignored, as browsers do.
        if let Some(pos) = self.stack.iter().rposition(|e| e.name == name)
            && pos > 0
        {
            self.close_to(pos);
        }
    }

    /// Closes the open elements from the innermost down to (and with) the one at `at`.
    fn close_to(&mut self, at: usize) {
        while self.stack.len() > at.max(1) {
            self.pop();
        }
    }

    fn pop(&mut self) {
        if self.stack.len() <= 1 {
            return;
        }
        if let Some(el) = self.stack.pop()
            && let Some(parent) = self.stack.last_mut()
        {
            parent.children.push(Node::Element(el));
        }
    }

    fn finish(mut self) -> Element {
        self.close_to(1);
        self.stack.pop().unwrap_or_default()
    }
}

/// Decodes character references: `&amp;`, `&#8217;`, `&#x27;` and the named ones generated
/// reports use; a numeric reference to no character (`&#0;`) is U+FFFD, as in HTML. Unknown
/// names and a bare `&` stay as written.
fn decode_entities(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or(""));
        let after = rest.get(amp + 1..).unwrap_or("");
        // References are short: look for the ';' in the next few bytes only, so that text
        // full of '&' stays linear to decode.
        let semi = after.bytes().take(33).position(|b| b == b';');
        let decoded = semi.and_then(|p| Some((entity_char(after.get(..p)?)?, p)));
        match decoded {
            Some((c, p)) => {
                out.push(c);
                rest = after.get(p + 1..).unwrap_or("");
            }
            None => {
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
            None => num.parse::<u32>().ok()?,
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
        "nbsp" => '\u{a0}',
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
        "times" => '×',
        "middot" => '·',
        "bull" => '•',
        "rarr" => '→',
        "larr" => '←',
        "le" => '≤',
        "ge" => '≥',
        "ne" => '≠',
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

    /// Adds the text of an inline element between `mark`s, keeping the spaces around it.
    fn wrapped(&mut self, inner: Md, mark: &str) {
        let lead = inner.out.starts_with(' ') || inner.pending_space && inner.out.is_empty();
        let trail = inner.pending_space;
        let text = inner.finish();
        if lead {
            self.pending_space = true;
        }
        if !text.is_empty() {
            self.inline(&format!("{mark}{text}{mark}"));
        }
        if trail {
            self.pending_space = true;
        }
    }

    /// Adds a link's text as `[text](href)`; a link to nowhere useful (`#x`, `javascript:`)
    /// keeps its text alone, and a link without text shows its target.
    fn link(&mut self, inner: Md, href: Option<&str>) {
        let text = inner.finish();
        let href = href.map(str::trim).unwrap_or("");
        let usable = !href.is_empty() && !href.starts_with('#') && !href.starts_with("javascript:");
        let shown = match (text.is_empty(), usable) {
            (true, true) => href.to_owned(),
            (false, true) if text == href => text,
            (false, true) => format!("[{}]({href})", text.replace('\n', " ")),
            (_, false) => text,
        };
        self.inline(&shown);
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
    fn builds_a_tree_and_decodes_text() {
        let doc = parse(
            "<!DOCTYPE html><html><body><div class=\"x detail\"><p>a &amp; b<br>c</p><!-- no --><table><tr><td>1<td>2</table></div><script>if (a<b) {}</script></body></html>",
        );
        let div = doc.descendants_named("div");
        assert_eq!(div.len(), 1);
        assert!(div[0].has_class_containing("detail"));
        assert_eq!(div[0].descendants_named("p")[0].text(), "a & bc");
        let tds = div[0].descendants_named("td");
        assert_eq!(tds.len(), 2, "an unclosed td ends at the next");
        assert_eq!(tds[1].text(), "2");
        assert_eq!(doc.descendants_named("script")[0].text(), "if (a<b) {}");
    }

    #[test]
    fn entities() {
        assert_eq!(
            decode_entities("didn&#8217;t &lt;&lt; &#x41; &bogus; &"),
            "didn’t << A &bogus; &"
        );
    }

    #[test]
    fn entities_in_burp_texts() {
        assert_eq!(
            decode_entities("&lt;x&gt; &#39;&#x41; &bogus; &"),
            "<x> 'A &bogus; &"
        );
    }

    #[test]
    fn deep_nesting_is_flattened_not_recursed() {
        let deep = "<div>".repeat(100_000) + "x" + &"</div>".repeat(100_000);
        let doc = parse(&deep);
        assert_eq!(doc.text(), "x");
        assert!(doc.descendants().len() <= MAX_DEPTH);
    }

    #[test]
    fn garbage_does_not_panic() {
        for s in [
            "<",
            "</",
            "<a",
            "<a b='",
            "<a b=\"x",
            "</a",
            "<!--",
            "<script>",
            "&#xFFFFFFFF;",
            "<é>",
        ] {
            let _ = parse(s).text();
        }
    }

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
    fn structure_queries() {
        let h = parse("<table class='issue-table'><tr class=row><td>a<td>b</table>");
        let table = h.elements().next().unwrap();
        assert!(table.has_class("issue-table"));
        let tr = table
            .descendants()
            .into_iter()
            .find(|n| n.name == "tr")
            .unwrap();
        let cells: Vec<String> = tr.elements().map(|c| c.collapsed_text()).collect();
        assert_eq!(cells, ["a", "b"]);
    }
}
