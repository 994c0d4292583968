//! Finding titles from scanner text.
//!
//! A title is one line of at most `Title::MAX_CHARS` characters; scanners write multi-line and
//! very long messages, and refusing a finding over its title would lose it. So control
//! characters (newlines included) become spaces, runs of whitespace collapse to one, and
//! overlong text is cut.

use domain::Title;

/// How a title longer than `Title::MAX_CHARS` characters is cut.
///
/// Titles take part in de-duplication (DefectDojo's hash, our folding keys), so each format
/// keeps the cut it has always made: changing it would split a re-imported finding from the
/// one already stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Overflow {
    /// One character early, ending in "…", so that the cut shows.
    Ellipsis,
    /// At the limit, nothing added (the XML and HTML scanners' parsers).
    Cut,
}

/// `raw` as a one-line title cut as `overflow` says; `None` when nothing but whitespace and
/// control characters is left.
pub(crate) fn one_line_title(raw: &str, overflow: Overflow) -> Option<Title> {
    let max = Title::MAX_CHARS;
    let mut line = String::with_capacity(raw.len().min(max * 4));
    for word in raw.split(|c: char| c.is_whitespace() || c.is_control()) {
        if word.is_empty() {
            continue;
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        // Past 4 bytes a character of the limit it is surely too long: the rest of a
        // megabyte message is never collapsed only to be cut.
        if line.len() > max * 4 {
            break;
        }
    }
    if line.chars().count() > max {
        line = match overflow {
            Overflow::Ellipsis => line.chars().take(max - 1).chain(['…']).collect(),
            Overflow::Cut => line.chars().take(max).collect(),
        };
    }
    Title::parse("title", &line).ok()
}

/// The title of the first candidate that has text (cut with an ellipsis), else of
/// `fallback`, else "Untitled finding"; `fallback` should be a rule id or a fixed word.
pub(crate) fn title_from_candidates<'a>(
    candidates: impl IntoIterator<Item = Option<&'a str>>,
    fallback: &'a str,
) -> Title {
    candidates
        .into_iter()
        .flatten()
        .chain([fallback])
        .find_map(|c| one_line_title(c, Overflow::Ellipsis))
        .unwrap_or_else(untitled)
}

fn untitled() -> Title {
    // Not input-derived: a fixed 16-character ASCII title always passes `Title::parse`.
    #[allow(clippy::expect_used)]
    Title::parse("title", "Untitled finding").expect("a fixed title is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_one_bounded_line() {
        let t = title_from_candidates([None, Some("  \n "), Some("a\nb\t c")], "rule");
        assert_eq!(t.as_str(), "a b c");
        assert_eq!(title_from_candidates([None], "rule.id").as_str(), "rule.id");
        assert_eq!(
            title_from_candidates([None], " ").as_str(),
            "Untitled finding"
        );
        let long = "x".repeat(Title::MAX_CHARS + 5);
        let t = title_from_candidates([Some(long.as_str())], "r");
        assert_eq!(t.as_str().chars().count(), Title::MAX_CHARS);
        assert!(t.as_str().ends_with('…'));
    }

    #[test]
    fn titles_are_one_line_and_bounded() {
        // Shaped like the helper these assertions were written for.
        let finding_title = |raw: &str| one_line_title(raw, Overflow::Cut);
        assert_eq!(
            finding_title(" a\n\tb ").map(Title::into_inner).as_deref(),
            Some("a b")
        );
        assert!(finding_title(" \n ").is_none());
        let long = "x".repeat(5000);
        assert_eq!(
            finding_title(&long).map(|t| t.as_str().len()),
            Some(Title::MAX_CHARS)
        );
    }

    #[test]
    fn titles_fall_back_and_stay_bounded() {
        // Shaped like the helper these assertions were written for (which could not fail).
        let finding_title =
            |raw: &str, fallback: &str| Ok::<_, ()>(title_from_candidates([Some(raw)], fallback));
        let t = finding_title("  SQL\ninjection\t in  login ", "fb").unwrap();
        assert_eq!(t.as_str(), "SQL injection in login");
        assert_eq!(
            finding_title(" \n", "fallback").unwrap().as_str(),
            "fallback"
        );
        assert_eq!(finding_title("", "").unwrap().as_str(), "Untitled finding");
        let long = "é".repeat(3000);
        assert_eq!(
            finding_title(&long, "").unwrap().as_str().chars().count(),
            Title::MAX_CHARS
        );
    }
}
