//! One module per report format. To add one: write a unit struct implementing `Parser`,
//! add its `ScanType` to `ALL`, and test it on its fixtures in `tests/`.

use crate::registry::ScanType;

mod common;
mod html_text;
pub mod tenable;
mod tenable_csv;
mod tenable_xml;

/// Every supported format, in the order the UI lists them.
pub static ALL: &[ScanType] = &[ScanType {
    name: tenable::SCAN_TYPE,
    description: "Tenable / Nessus: .nessus XML (NessusClientData_v2) or a Nessus, Tenable.sc or \
                  Tenable.io CSV export, Nessus WAS included; XML or CSV is detected from the content.",
    extensions: &["nessus", "xml", "csv"],
    parser: &tenable::TenableParser,
}];
