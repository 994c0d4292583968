#![doc = include_str!("../README.md")]

pub mod connectors;
mod error;
pub mod formats;
mod registry;
#[doc(hidden)]
pub mod testing;

pub use error::{Location, ParseError};
pub use registry::{ScanType, find as find_scan_type, scan_types};

use domain::{NewFinding, TestId};
use std::io::BufRead;

/// What a parser needs besides the bytes.
#[derive(Clone, Debug)]
pub struct Context {
    /// Stamped on every `NewFinding` the parser produces.
    pub test: TestId,
    /// The input's size in bytes, when the caller knows it (a file, an upload). JSON reports
    /// of a known size up to [`IN_MEMORY_LIMIT`] are read into memory and parsed from the
    /// slice, two to three times faster than from a stream; unknown or larger inputs stream,
    /// so memory stays flat however large a report is.
    pub size_hint: Option<u64>,
}

impl Context {
    /// A context for streaming input of unknown size.
    pub fn new(test: TestId) -> Self {
        Context { test, size_hint: None }
    }
}

/// See [`Context::size_hint`].
pub const IN_MEMORY_LIMIT: u64 = 64 * 1024 * 1024;

/// Receives findings as the parser produces them. Returning `Err` stops the parse (the
/// importer does so when its database write fails); the error comes back out of `parse`.
pub type Sink<'a> = dyn FnMut(NewFinding) -> Result<(), ParseError> + 'a;

/// One report format.
pub trait Parser: Send + Sync {
    /// Reads the whole report from `input`, calling `sink` once per finding, in report order.
    fn parse(&self, input: &mut dyn BufRead, ctx: &Context, sink: &mut Sink<'_>)
    -> Result<(), ParseError>;
}

/// Parses a whole report into a vector: for tests and small inputs. The importer streams.
pub fn parse_to_vec(
    parser: &dyn Parser,
    input: &mut dyn BufRead,
    ctx: &Context,
) -> Result<Vec<NewFinding>, ParseError> {
    let mut out = Vec::new();
    parser.parse(input, ctx, &mut |f| {
        out.push(f);
        Ok(())
    })?;
    Ok(out)
}
