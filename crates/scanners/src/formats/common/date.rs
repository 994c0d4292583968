//! Days from the timestamps scanners write.

use chrono::NaiveDate;

/// The calendar day an ISO-8601 timestamp starts with (`2024-12-13T12:29:59.035Z`,
/// `2025-07-11 03:16:03.563`, `2024-03-27`), surrounding whitespace ignored: a finding keeps
/// the day, and the day as written, not converted to another time zone.
pub(crate) fn day_of(text: &str) -> Option<NaiveDate> {
    let day = text.trim().get(..10)?;
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}
