//! Walking a JSON document one array element at a time, so that huge reports (SARIF, Semgrep)
//! never sit in memory whole, with errors that name the path (`runs[0].results[12]`).

use crate::{Location, ParseError};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use std::cell::RefCell;
use std::fmt;
use std::io::{BufRead, Read};

/// Shared state of one streaming walk over a JSON document: where in the document the
/// walker is (for error messages) and why it stopped, when a finding could not be built or
/// the sink refused one. Seeds and visitors borrow it; serde errors cannot carry a
/// `ParseError`, so the real error waits here while a placeholder unwinds serde.
pub(crate) struct JsonWalk {
    scan_type: &'static str,
    path: RefCell<Vec<String>>,
    stopped: RefCell<Option<ParseError>>,
}

impl JsonWalk {
    pub(crate) fn new(scan_type: &'static str) -> Self {
        JsonWalk {
            scan_type,
            path: RefCell::new(Vec::new()),
            stopped: RefCell::new(None),
        }
    }

    /// Entering `segment` (`results[3]`); on success call `leave`. An error leaves the path
    /// as it was, so the error names where it happened.
    pub(crate) fn enter(&self, segment: String) {
        self.path.borrow_mut().push(segment);
    }

    pub(crate) fn leave(&self) {
        self.path.borrow_mut().pop();
    }

    /// The current path, `runs[0].results[12]`; `None` at the top level.
    pub(crate) fn path(&self) -> Option<String> {
        let p = self.path.borrow();
        (!p.is_empty()).then(|| p.join("."))
    }

    /// Keeps `err` and returns a serde error that unwinds the walk.
    pub(crate) fn stop<E: de::Error>(&self, err: ParseError) -> E {
        let mut slot = self.stopped.borrow_mut();
        if slot.is_none() {
            *slot = Some(err);
        }
        E::custom("stopped")
    }

    /// A `ParseError` at the current path without a line (for values the walker judged).
    pub(crate) fn error_here(&self, message: impl Into<String>) -> ParseError {
        ParseError::new(
            self.scan_type,
            self.path().map(|p| Location::default().with_path(p)),
            message,
        )
    }

    /// Runs `seed` over the whole of `input` as one JSON document and turns the outcome
    /// into a `ParseError` that names the position and the path. With a known size up to
    /// `IN_MEMORY_LIMIT` the document is read first and parsed from memory (serde_json reads
    /// a slice two to three times faster than a stream, byte by byte); otherwise it streams.
    pub(crate) fn run<S>(&self, input: &mut dyn BufRead, size_hint: Option<u64>, seed: S) -> Result<(), ParseError>
    where
        S: for<'de> DeserializeSeed<'de, Value = ()>,
    {
        let outcome = match size_hint {
            Some(size) if size <= crate::IN_MEMORY_LIMIT => {
                let mut bytes = Vec::with_capacity(size as usize);
                // Never more than the limit, whatever the hint said.
                (&mut *input)
                    .take(crate::IN_MEMORY_LIMIT + 1)
                    .read_to_end(&mut bytes)
                    .map_err(|e| super::io_error(self.scan_type, &e))?;
                if bytes.len() as u64 > crate::IN_MEMORY_LIMIT {
                    let mut rest = std::io::Cursor::new(bytes).chain(input);
                    let mut de = serde_json::Deserializer::from_reader(&mut rest);
                    seed.deserialize(&mut de).and_then(|()| de.end())
                } else {
                    let mut de = serde_json::Deserializer::from_slice(&bytes);
                    seed.deserialize(&mut de).and_then(|()| de.end())
                }
            }
            _ => {
                let mut de = serde_json::Deserializer::from_reader(input);
                seed.deserialize(&mut de).and_then(|()| de.end())
            }
        };
        match outcome {
            Ok(()) => Ok(()),
            Err(e) => {
                if let Some(stopped) = self.stopped.borrow_mut().take() {
                    return Err(stopped);
                }
                if e.is_io() {
                    return Err(ParseError::new(
                        self.scan_type,
                        Some(Location::line_column(e.line() as u64, e.column() as u64)),
                        format!("could not read the report: {e}"),
                    ));
                }
                Err(ParseError::json(self.scan_type, &e, self.path().as_deref()))
            }
        }
    }
}

/// Visits a JSON array element by element: each element is read as a `T` and handed to
/// `each` with its index before the next is read, so only one element is in memory.
/// `name` is the array's key for error paths (`results` → `results[3]`).
pub(crate) struct EachElement<'w, T, F> {
    walk: &'w JsonWalk,
    name: &'static str,
    each: F,
    marker: std::marker::PhantomData<fn() -> T>,
}

impl<'w, T, F> EachElement<'w, T, F> {
    pub(crate) fn new(walk: &'w JsonWalk, name: &'static str, each: F) -> Self {
        EachElement {
            walk,
            name,
            each,
            marker: std::marker::PhantomData,
        }
    }
}

impl<'de, T, F> DeserializeSeed<'de> for EachElement<'_, T, F>
where
    T: DeserializeOwned,
    F: FnMut(T, usize) -> Result<(), ParseError>,
{
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T, F> Visitor<'de> for EachElement<'_, T, F>
where
    T: DeserializeOwned,
    F: FnMut(T, usize) -> Result<(), ParseError>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an array for `{}`", self.name)
    }

    // `null` where a list was expected means an empty list (Semgrep Pro, SonarQube do this).
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        loop {
            self.walk.enter(format!("{}[{index}]", self.name));
            let Some(item) = seq.next_element::<T>()? else {
                self.walk.leave();
                return Ok(());
            };
            if let Err(e) = (self.each)(item, index) {
                return Err(self.walk.stop(e));
            }
            self.walk.leave();
            index += 1;
        }
    }
}

/// A report whose top level is an object holding the findings in named arrays
/// (`{"results": [...]}`), read by [`walk_top_level`]. Other keys are skipped unread.
pub(crate) trait TopLevelArrays {
    /// What the top level must be, for serde's "invalid type: …, expected …" error.
    const EXPECTING: &'static str;
    /// The error when the object has none of the arrays.
    const MISSING: &'static str;
    /// The keys of the arrays; the values of other keys are skipped unread.
    const KEYS: &'static [&'static str];
    /// Whether a bare array is accepted at the top level, read by [`Self::read_array`].
    const ARRAY_TOO: bool = false;

    /// Reads the value of `key`, one of [`Self::KEYS`].
    fn read_value<'de, A: MapAccess<'de>>(
        &mut self,
        walk: &JsonWalk,
        key: &str,
        map: &mut A,
    ) -> Result<(), A::Error>;

    /// Reads a top-level array, when [`Self::ARRAY_TOO`] allows one.
    fn read_array<'de, A: SeqAccess<'de>>(
        &mut self,
        walk: &JsonWalk,
        seq: A,
    ) -> Result<(), A::Error> {
        let _ = (walk, seq);
        Err(de::Error::invalid_type(
            de::Unexpected::Seq,
            &Self::EXPECTING,
        ))
    }
}

/// Walks the whole of `input` as a `report` (see [`TopLevelArrays`]).
pub(crate) fn walk_top_level<R: TopLevelArrays>(
    scan_type: &'static str,
    input: &mut dyn BufRead,
    size_hint: Option<u64>,
    report: &mut R,
) -> Result<(), ParseError> {
    let walk = JsonWalk::new(scan_type);
    walk.run(
        input,
        size_hint,
        TopLevel {
            walk: &walk,
            report,
        },
    )
}

struct TopLevel<'a, R> {
    walk: &'a JsonWalk,
    report: &'a mut R,
}

impl<'de, R: TopLevelArrays> DeserializeSeed<'de> for TopLevel<'_, R> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if R::ARRAY_TOO {
            d.deserialize_any(self)
        } else {
            d.deserialize_map(self)
        }
    }
}

impl<'de, R: TopLevelArrays> Visitor<'de> for TopLevel<'_, R> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(R::EXPECTING)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut saw_array = false;
        while let Some(key) = map.next_key::<String>()? {
            if R::KEYS.contains(&key.as_str()) {
                saw_array = true;
                self.report.read_value(self.walk, &key, &mut map)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if !saw_array {
            return Err(self.walk.stop(self.walk.error_here(R::MISSING)));
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.report.read_array(self.walk, seq)
    }
}
