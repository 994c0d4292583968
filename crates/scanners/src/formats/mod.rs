//! One module per report format. To add one: write a unit struct implementing `Parser`,
//! add its `ScanType` to `ALL`, and test it on its fixtures in `tests/`.

use crate::registry::ScanType;

mod common;
mod html_text;

/// Every supported format, in the order the UI lists them.
pub static ALL: &[ScanType] = &[];
