//! Redaction of secrets from text that is shown or stored (error tables, logs, API answers).
//!
//! Errors are built without secrets in the first place; this is the second line of defence
//! for text that came from elsewhere (a tracker's error body echoing a header, a URL with a
//! token in its query). It removes the values it is told about and anything shaped like a
//! token the trackers issue.

/// Token prefixes of the trackers and of vulnbridge itself.
const TOKEN_PREFIXES: &[&str] = &[
    "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "gldt-", "glptt-", "glrt-", "vbt_", "whsec_", "ATATT", "xoxb-",
];

/// Authorization schemes: the word after one is a credential.
const SCHEMES: &[&str] = &["bearer", "basic"];
/// Header names and keys whose value is a credential (a scheme may come first).
const KEYS: &[&str] = &[
    "authorization:", "private-token:", "x-gitlab-token:", "token:", "token=", "password:", "password=", "secret:", "secret=",
];

const MASK: &str = "[redacted]";

/// Returns `text` with every `known` secret (of 4 characters or more) and every token-shaped
/// word replaced by `[redacted]`.
pub fn redact(text: &str, known: &[&str]) -> String {
    let mut out = text.to_owned();
    for k in known {
        if k.len() >= 4 {
            out = out.replace(k, MASK);
        }
    }
    let mut result = String::with_capacity(out.len());
    let mut redact_next = false;
    for piece in split_keep(&out) {
        if piece.chars().all(is_separator) {
            result.push_str(piece);
            continue;
        }
        let word = piece.trim_matches(|c: char| matches!(c, '"' | '\'' | '(' | ')' | ',' | ';' | '.' | '[' | ']' | '{' | '}'));
        let lower = word.to_ascii_lowercase();
        let token_shaped = TOKEN_PREFIXES.iter().any(|p| word.starts_with(p) && word.len() > p.len() + 3)
            || (word.contains("token=") || word.contains("access_token=") || word.contains("private_token="));
        let is_scheme = SCHEMES.contains(&lower.as_str()) || (redact_next && lower == "token");
        let is_key = KEYS.contains(&lower.as_str());
        if redact_next && is_scheme {
            // `Authorization: Bearer <token>`: the scheme stays, the word after it goes.
            result.push_str(piece);
            continue;
        }
        if (redact_next && word != MASK && !word.is_empty()) || token_shaped {
            result.push_str(&piece.replace(word, MASK));
            redact_next = false;
            continue;
        }
        redact_next = is_scheme || is_key;
        result.push_str(piece);
    }
    result
}

fn is_separator(c: char) -> bool {
    c.is_whitespace()
}

/// Splits into alternating runs of separators and non-separators, keeping both.
fn split_keep(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_sep = None;
    for (i, c) in s.char_indices() {
        let sep = is_separator(c);
        if in_sep.is_some_and(|prev| prev != sep) {
            parts.push(&s[start..i]);
            start = i;
        }
        in_sep = Some(sep);
    }
    if start < s.len() {
        parts.push(&s[start..]);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_and_token_shapes_go() {
        assert_eq!(redact("refused s3cr3tvalue here", &["s3cr3tvalue"]), "refused [redacted] here");
        assert_eq!(redact("token ghp_abcdefghijklmnop was bad", &[]), "token [redacted] was bad");
        assert_eq!(redact("header Authorization: Bearer abc.def.ghi sent", &[]), "header Authorization: Bearer [redacted] sent");
        assert_eq!(redact("GET http://x/api?private_token=glpat-123456 failed", &[]), "GET [redacted] failed");
        assert_eq!(redact("(glpat-abcdefgh)", &[]), "([redacted])");
        assert_eq!(redact("not found: project g/p (404 Project Not Found)", &[]), "not found: project g/p (404 Project Not Found)");
        assert_eq!(redact("", &["abcd"]), "");
        assert_eq!(redact("GitHub refused the token (401 Bad credentials)", &[]), "GitHub refused the token (401 Bad credentials)");
        assert_eq!(redact("sent Authorization: Token abc123 and password: hunter2", &[]), "sent Authorization: Token [redacted] and password: [redacted]");
        assert_eq!(redact("short key ab stays", &["ab"]), "short key ab stays");
    }

    #[test]
    fn line_breaks_and_spacing_survive() {
        assert_eq!(redact("a\n  b\tc", &[]), "a\n  b\tc");
    }
}
