//! Numbers written as text, the way scanners write them.

/// A finite number from text, surrounding whitespace ignored (`" 0.00046"`, `"7.5"`); `None`
/// for anything else, infinities and NaN included.
pub(crate) fn number_in(raw: &str) -> Option<f64> {
    raw.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A probability (an EPSS score or percentile) from text, if it is a number from 0 to 1.
pub(crate) fn probability(raw: &str) -> Option<f64> {
    number_in(raw).filter(|v| (0.0..=1.0).contains(v))
}
