//! Helpers the Burp parsers share: HTTP evidence decoding, confidence, parameter names.

/// Base64 as an HTTP message: text when it is UTF-8; otherwise the headers and a note
/// instead of a binary body (what DefectDojo does, so that evidence stays printable).
pub(crate) fn http_message_from_base64(encoded: &str) -> Option<String> {
    use base64::Engine;
    let compact: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let bytes = engine.decode(compact.as_bytes()).ok()?;
    Some(http_message_from_bytes(bytes))
}

/// See [`http_message_from_base64`].
pub(crate) fn http_message_from_bytes(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let bytes = e.into_bytes();
            let split = bytes.windows(4).position(|w| w == b"\r\n\r\n");
            let (head, body_len) = match split {
                Some(at) => (
                    bytes.get(..at).unwrap_or(&[]),
                    bytes.len().saturating_sub(at + 4),
                ),
                None => (&[][..], bytes.len()),
            };
            format!(
                "{}\r\n\r\n<binary body of {body_len} bytes not shown>",
                String::from_utf8_lossy(head)
            )
        }
    }
}

/// The text inside the first `[` … last `]` of a Burp location, e.g. the parameter name in
/// `/search [q parameter]`.
pub(crate) fn bracketed(text: &str) -> Option<String> {
    let start = text.find('[')?;
    let end = text.rfind(']')?;
    let inner = text.get(start + 1..end)?.trim();
    (!inner.is_empty()).then(|| inner.to_owned())
}

/// `Certain`, `Firm`, `Tentative`: Burp's confidence, spelled the same in every export.
pub(crate) fn burp_confidence(raw: &str) -> Option<String> {
    let c = raw.trim().to_ascii_lowercase();
    match c.as_str() {
        "certain" => Some("Certain".to_owned()),
        "firm" => Some("Firm".to_owned()),
        "tentative" => Some("Tentative".to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_bodies_are_not_kept() {
        let msg = http_message_from_bytes(b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n\xff\xfe".to_vec());
        assert_eq!(
            msg,
            "HTTP/1.1 200 OK\r\nA: b\r\n\r\n<binary body of 2 bytes not shown>"
        );
        assert_eq!(
            http_message_from_base64("R0VU\nIC8=").as_deref(),
            Some("GET /")
        );
    }
}
