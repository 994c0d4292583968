//! A small, forgiving HTML reader for generated reports (sonar-report's HTML, rule
//! descriptions in HTML): tags, attributes, text with character references, comments and
//! raw-text `script`/`style`. It builds a plain tree and repairs only what generated reports
//! get wrong in practice (unclosed `p`/`li`/`td`/`tr`, stray end tags, void elements). It
//! is not a browser's parser and does not try to be one.
//!
//! Never panics and never recurses on input depth: nesting deeper than `MAX_DEPTH` is
//! flattened into the element at that depth.

/// Deeper elements are flattened: no real report nests this deep, and a flat bound keeps
/// every walk (and the tree's drop) shallow.
const MAX_DEPTH: usize = 256;

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

#[derive(Debug, Default)]
pub struct Element {
    /// Lower-case tag name; `#document` for the root.
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    /// Byte offset of the start tag in the input, for error locations.
    pub offset: usize,
}

#[derive(Debug)]
pub enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn has_class_containing(&self, fragment: &str) -> bool {
        self.attr("class").is_some_and(|c| c.contains(fragment))
    }

    /// Child elements named `name`, in order.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter_map(move |c| match c {
            Node::Element(e) if e.name == name => Some(e),
            _ => None,
        })
    }

    /// Every descendant element in document order (not `self`).
    pub fn descendants(&self) -> Vec<&Element> {
        let mut out = Vec::new();
        let mut stack: Vec<std::slice::Iter<'_, Node>> = vec![self.children.iter()];
        while let Some(top) = stack.last_mut() {
            match top.next() {
                Some(Node::Element(e)) => {
                    out.push(e);
                    stack.push(e.children.iter());
                }
                Some(Node::Text(_)) => {}
                None => {
                    stack.pop();
                }
            }
        }
        out
    }

    /// Descendant elements named `name`, in document order.
    pub fn descendants_named<'a>(&'a self, name: &str) -> Vec<&'a Element> {
        self.descendants()
            .into_iter()
            .filter(|e| e.name == name)
            .collect()
    }

    /// All text inside, in document order, as written (entities decoded).
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.walk(&mut |event| {
            if let Walk::Text(t) = event {
                out.push_str(t);
            }
            true
        });
        out
    }

    /// Visits start tags, text and end tags in document order; `visit` returns `false` to stop.
    pub fn walk(&self, visit: &mut dyn FnMut(Walk<'_>) -> bool) {
        let mut stack: Vec<(&Element, std::slice::Iter<'_, Node>)> =
            vec![(self, self.children.iter())];
        while let Some((el, iter)) = stack.last_mut() {
            match iter.next() {
                Some(Node::Element(e)) => {
                    if !visit(Walk::Start(e)) {
                        return;
                    }
                    stack.push((e, e.children.iter()));
                }
                Some(Node::Text(t)) => {
                    if !visit(Walk::Text(t)) {
                        return;
                    }
                }
                None => {
                    let done = *el;
                    stack.pop();
                    if !stack.is_empty() && !visit(Walk::End(done)) {
                        return;
                    }
                }
            }
        }
    }
}

/// One step of `Element::walk`.
pub enum Walk<'a> {
    Start(&'a Element),
    Text(&'a str),
    End(&'a Element),
}

/// Parses a document or fragment into a tree under a `#document` root.
pub fn parse(input: &str) -> Element {
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
            let name: String = rest
                .get(2..)
                .unwrap_or("")
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == ':')
                .collect::<String>()
                .to_ascii_lowercase();
            b.close(&name);
            tag_end = Some(end);
        } else if next.is_some_and(|c| c.is_ascii_alphabetic()) {
            b.text(input.get(text_start..i).unwrap_or(""));
            let (tag, len) = start_tag(rest);
            let raw = tag.name == "script" || tag.name == "style";
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

fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    let h = haystack.as_bytes();
    let n = needle.as_bytes();
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    (0..=h.len() - n.len()).find(|&i| {
        h.get(i..i + n.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(n))
    })
}

struct StartTag {
    name: String,
    attrs: Vec<(String, String)>,
    self_closing: bool,
}

/// Reads `<name attr="v" …>` at the start of `s`; returns the tag and its length.
fn start_tag(s: &str) -> (StartTag, usize) {
    let b = s.as_bytes();
    let mut i = 1;
    while b
        .get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b':')
    {
        i += 1;
    }
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
                    value = decode_entities(s.get(start..j).unwrap_or(""));
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
                    value = decode_entities(s.get(start..i).unwrap_or(""));
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
        if let Some(top) = self.stack.last_mut() {
            top.children.push(Node::Text(decode_entities(raw)));
        }
    }

    fn current(&self) -> &str {
        self.stack.last().map_or("", |e| e.name.as_str())
    }

    /// Closes what a new `name` element implicitly ends in generated reports.
    fn close_implied(&mut self, name: &str) {
        let ends: &[&str] = match name {
            "td" | "th" => &["td", "th"],
            "tr" => &["td", "th", "tr"],
            "li" => &["li"],
            "dt" | "dd" => &["dt", "dd"],
            "option" => &["option"],
            "p" | "div" | "table" | "ul" | "ol" | "pre" | "blockquote" | "h1" | "h2" | "h3"
            | "h4" | "h5" | "h6" | "details" | "dl" => &["p"],
            _ => &[],
        };
        while ends.contains(&self.current()) && self.stack.len() > 1 {
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
            while self.stack.len() > pos {
                self.pop();
            }
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
        while self.stack.len() > 1 {
            self.pop();
        }
        self.stack.pop().unwrap_or_default()
    }
}

/// Decodes character references: `&amp;`, `&#8217;`, `&#x27;` and the named ones generated
/// reports use. Unknown names stay as written.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or(""));
        let after = rest.get(amp + 1..).unwrap_or("");
        // References are short: look for the ';' in the next few bytes only, so that text
        // full of '&' stays linear to decode.
        let semi = after.bytes().take(33).position(|b| b == b';');
        let decoded = semi.and_then(|p| {
            let name = after.get(..p)?;
            let c = if let Some(num) = name.strip_prefix('#') {
                let code = match num.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => num.parse::<u32>().ok(),
                }?;
                char::from_u32(code).filter(|c| *c != '\0')?
            } else {
                named_entity(name)?
            };
            Some((c, p))
        });
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
    out
}

fn named_entity(name: &str) -> Option<char> {
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
        "sect" => '§',
        "para" => '¶',
        _ => return None,
    })
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
}
