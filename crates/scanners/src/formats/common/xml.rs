//! Reading XML reports as a stream of quick-xml events, the same way for every format: one
//! reader configuration, one set of errors, one way to collect an element's text.

use super::text::push_capped;
use crate::{Location, ParseError};
use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};
use std::io::BufRead;

/// Deeper nesting than any real report is refused instead of growing the element stack.
const MAX_DEPTH: usize = 1024;

/// Reads `input` as an XML document whose root element is `root`, handing each event to
/// `on_event` with the number of elements open around it (0 for the root's start and end)
/// and the reader (for error positions). The root, and nesting up to [`MAX_DEPTH`], are
/// checked before a start tag is handed on; the input must end with every element closed.
pub(crate) fn read_document<R: BufRead>(
    scan_type: &'static str,
    input: R,
    root: &Root,
    mut on_event: impl FnMut(&Event<'_>, usize, &Reader<R>) -> Result<(), ParseError>,
) -> Result<(), ParseError> {
    let mut reader = xml_reader(input);
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let mut saw_root = false;
    loop {
        let event = next_event(scan_type, &mut reader, &mut buf)?;
        let around = match &event {
            Event::Start(start) => {
                if depth == 0 {
                    root.check(scan_type, &reader, start.name().as_ref())?;
                    saw_root = true;
                }
                check_depth(scan_type, &reader, depth)?;
                let around = depth;
                depth += 1;
                around
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                depth
            }
            Event::Eof => return check_end(scan_type, &reader, root, saw_root, depth > 0),
            _ => depth,
        };
        on_event(&event, around, &reader)?;
    }
}

/// A reader configured the same way for every XML format: empty elements expanded into a
/// start and an end (one code path), and a lone `&` in text tolerated (scanners write them).
fn xml_reader<R: BufRead>(input: R) -> Reader<R> {
    let mut reader = Reader::from_reader(input);
    let config = reader.config_mut();
    config.expand_empty_elements = true;
    config.allow_dangling_amp = true;
    reader
}

/// The next event, read into `buf` (cleared first); malformed XML is a `ParseError` at the
/// byte where quick-xml saw it.
fn next_event<'b, R: BufRead>(
    scan_type: &'static str,
    reader: &mut Reader<R>,
    buf: &'b mut Vec<u8>,
) -> Result<Event<'b>, ParseError> {
    buf.clear();
    reader.read_event_into(buf).map_err(|e| {
        ParseError::new(
            scan_type,
            Some(Location::byte(reader.error_position())),
            format!("expected well-formed XML: {e}"),
        )
    })
}

/// A `ParseError` at the reader's current byte.
pub(crate) fn error_at<R>(
    scan_type: &'static str,
    reader: &Reader<R>,
    message: impl Into<String>,
) -> ParseError {
    ParseError::new(
        scan_type,
        Some(Location::byte(reader.buffer_position())),
        message,
    )
}

/// Refuses an element opening at `depth` (the number of elements already open) past
/// [`MAX_DEPTH`].
fn check_depth<R>(
    scan_type: &'static str,
    reader: &Reader<R>,
    depth: usize,
) -> Result<(), ParseError> {
    if depth >= MAX_DEPTH {
        return Err(error_at(
            scan_type,
            reader,
            format!("expected at most {MAX_DEPTH} nested elements"),
        ));
    }
    Ok(())
}

/// The root element a format's documents have.
pub(crate) struct Root {
    /// The names it may have.
    pub(crate) names: &'static [&'static str],
    /// How errors name it, article included: "an <issues>".
    pub(crate) shown: &'static str,
    /// What a document with it is: "a Burp Scanner XML export".
    pub(crate) document: &'static str,
}

impl Root {
    /// Fails unless `name`, the document's first element, is this root.
    pub(crate) fn check<R>(
        &self,
        scan_type: &'static str,
        reader: &Reader<R>,
        name: &str,
    ) -> Result<(), ParseError> {
        if self.names.contains(&name) {
            return Ok(());
        }
        Err(error_at(
            scan_type,
            reader,
            format!(
                "expected {} root element ({}), found <{name}>",
                self.shown, self.document
            ),
        ))
    }
}

/// At the end of the input: fails unless the `root` element was seen and no element is left
/// `open` (a truncated report).
fn check_end<R>(
    scan_type: &'static str,
    reader: &Reader<R>,
    root: &Root,
    saw_root: bool,
    open: bool,
) -> Result<(), ParseError> {
    if !saw_root {
        return Err(error_at(
            scan_type,
            reader,
            format!(
                "expected {} root element, found the end of the file",
                root.shown
            ),
        ));
    }
    if open {
        return Err(error_at(
            scan_type,
            reader,
            "expected the closing tags of the open elements, found the end of the file (truncated report?)",
        ));
    }
    Ok(())
}

/// Adds what a text, CDATA or entity-reference event says to `text`, while `text` stays under
/// `cap` bytes; other events add nothing. Returns false once text had to be dropped.
pub(crate) fn push_text(text: &mut String, event: &Event<'_>, cap: usize) -> bool {
    match event {
        Event::Text(t) => push_capped(text, &t.xml10_content(), cap),
        Event::CData(t) => push_capped(text, &t.xml10_content(), cap),
        Event::GeneralRef(r) => {
            if text.len() < cap {
                entity_text(r, text);
            }
            true
        }
        _ => true,
    }
}

/// The text an XML entity reference stands for: the five predefined entities and character
/// references. Anything else (a DTD-declared entity) is kept literally: DTD entities are never
/// expanded, which is what keeps XXE and "billion laughs" out.
fn entity_text(entity: &BytesRef<'_>, out: &mut String) {
    if let Ok(Some(c)) = entity.resolve_char_ref() {
        out.push(c);
        return;
    }
    match &**entity {
        "lt" => out.push('<'),
        "gt" => out.push('>'),
        "amp" => out.push('&'),
        "apos" => out.push('\''),
        "quot" => out.push('"'),
        other => {
            out.push('&');
            out.push_str(other);
            out.push(';');
        }
    }
}

/// The value of attribute `name` (entities resolved), if present.
pub(crate) fn xml_attr(start: &BytesStart<'_>, name: &str) -> Option<String> {
    start
        .attributes()
        .with_checks(false)
        .flatten()
        .find_map(|a| {
            (a.key.as_ref() == name).then(|| {
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map(|v| v.into_owned())
                    .unwrap_or_else(|_| a.value.clone().into_owned())
            })
        })
}
