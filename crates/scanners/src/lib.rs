#![doc = include_str!("../README.md")]

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
}

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
