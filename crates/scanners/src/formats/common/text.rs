//! Small text helpers for building finding fields.

/// Non-empty trimmed text, or `None`.
pub(crate) fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Text in a Markdown code block whose fence cannot be closed by the text itself.
pub(crate) fn markdown_code_block(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}\n{text}\n{fence}")
}

/// Appends `text` to `buf` while `buf` stays under `cap` bytes; returns false once text had to
/// be dropped, so that the caller can say so. Cuts on a character boundary.
pub(crate) fn push_capped(buf: &mut String, text: &str, cap: usize) -> bool {
    let room = cap.saturating_sub(buf.len());
    if text.len() <= room {
        buf.push_str(text);
        return true;
    }
    let mut end = room;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    buf.push_str(text.get(..end).unwrap_or(""));
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_blocks_outlast_backticks_inside() {
        assert_eq!(markdown_code_block("a"), "```\na\n```");
        assert_eq!(markdown_code_block("x ```` y"), "`````\nx ```` y\n`````");
    }
}
