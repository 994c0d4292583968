use std::fmt;

/// Where in the input a problem is. Parsers fill what their format knows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Location {
    /// 1-based line.
    pub line: Option<u64>,
    /// 1-based column.
    pub column: Option<u64>,
    /// 0-based byte offset.
    pub byte: Option<u64>,
    /// 1-based CSV record (the header is record 1).
    pub record: Option<u64>,
    /// The path inside the document, e.g. `runs[0].results[12].level`.
    pub path: Option<String>,
}

impl Location {
    pub fn line_column(line: u64, column: u64) -> Self {
        Location {
            line: Some(line),
            column: Some(column),
            ..Default::default()
        }
    }
    pub fn byte(byte: u64) -> Self {
        Location {
            byte: Some(byte),
            ..Default::default()
        }
    }
    pub fn record(record: u64) -> Self {
        Location {
            record: Some(record),
            ..Default::default()
        }
    }
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(r) = self.record {
            parts.push(format!("record {r}"));
        }
        if let Some(l) = self.line {
            parts.push(format!("line {l}"));
        }
        if let Some(c) = self.column {
            parts.push(format!("column {c}"));
        }
        if let Some(b) = self.byte {
            parts.push(format!("byte {b}"));
        }
        if let Some(p) = &self.path {
            parts.push(format!("at {p}"));
        }
        f.write_str(&parts.join(", "))
    }
}

/// A report that could not be read, naming the format, the position and what was expected.
#[derive(Debug, thiserror::Error)]
pub struct ParseError {
    /// The scan type being parsed (`Semgrep JSON Report`).
    pub scan_type: &'static str,
    /// Boxed so that `Result<_, ParseError>` stays small on the success path every parser and
    /// sink call returns through; errors are rare, a location is read once.
    pub location: Option<Box<Location>>,
    /// What was wrong, phrased as what was expected: "expected a `results` array".
    pub message: String,
    /// Set when the sink, not the input, stopped the parse.
    #[source]
    pub aborted_by: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.scan_type)?;
        if let Some(loc) = &self.location {
            let shown = loc.to_string();
            if !shown.is_empty() {
                write!(f, "{shown}: ")?;
            }
        }
        f.write_str(&self.message)
    }
}

impl ParseError {
    pub fn new(
        scan_type: &'static str,
        location: Option<Location>,
        message: impl Into<String>,
    ) -> Self {
        ParseError {
            scan_type,
            location: location.map(Box::new),
            message: message.into(),
            aborted_by: None,
        }
    }

    /// The sink stopped the parse (e.g. a database write failed).
    pub fn aborted(
        scan_type: &'static str,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        ParseError {
            scan_type,
            location: None,
            message: format!("stopped: {cause}"),
            aborted_by: Some(Box::new(cause)),
        }
    }

    /// From a serde_json error: keeps its line and column, and the path when given.
    pub(crate) fn json(scan_type: &'static str, e: &serde_json::Error, path: Option<&str>) -> Self {
        let mut loc = Location::line_column(e.line() as u64, e.column() as u64);
        if let Some(p) = path {
            loc = loc.with_path(p);
        }
        // serde_json appends " at line L column C"; the location says it already.
        let msg = e.to_string();
        let msg = msg
            .rsplit_once(" at line ")
            .map(|(m, _)| m.to_owned())
            .unwrap_or(msg);
        ParseError::new(scan_type, Some(loc), msg)
    }
}
