//! Secrets (tokens, webhook URLs, SMTP passwords): held in a type that never prints itself.

/// A secret value. `Debug` and `Display` print `[redacted]`; the value is reachable only
/// through [`Secret::expose`], at the one place it is put on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the request or the SMTP login that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Replace every occurrence of the secret in `text` (an error message from a library
    /// that echoed a URL, say) with `[redacted]`, in every form it may travel in: as is,
    /// percent-encoded, and base64-encoded at any offset of a longer encoded string (an SMTP
    /// server echoing `AUTH PLAIN base64("\0user\0password")`).
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for form in forms(&self.0) {
            if out.contains(&form) {
                out = out.replace(&form, "[redacted]");
            }
        }
        out
    }
}

/// Shortest base64 run worth redacting: shorter runs (from secrets of a few bytes) would match
/// ordinary words.
const MIN_BASE64_CORE: usize = 6;

/// The forms of `value` to redact, longest first (so a longer form is not cut by a shorter).
fn forms(value: &str) -> Vec<String> {
    use base64::Engine as _;
    use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};
    if value.is_empty() {
        return Vec::new();
    }
    // What URL and form encoders escape: everything (strict), or only what a path, query or
    // userinfo must (as browsers and most libraries do).
    const MINIMAL: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'`')
        .add(b'{')
        .add(b'}')
        .add(b'/')
        .add(b':')
        .add(b'@')
        .add(b'&')
        .add(b'=')
        .add(b'+');
    let strict = utf8_percent_encode(value, NON_ALPHANUMERIC).to_string();
    let mut out = vec![
        value.to_string(),
        strict.to_ascii_lowercase(),
        utf8_percent_encode(value, MINIMAL).to_string(),
        strict,
    ];
    // Within a longer base64 string the value starts at a byte offset of 0, 1 or 2 modulo 3;
    // at each, the characters made only of the value's bits are fixed whatever surrounds it.
    for engine in [
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        for k in 0..3usize {
            let mut bytes = vec![0u8; k];
            bytes.extend_from_slice(value.as_bytes());
            let enc = engine.encode(&bytes);
            let start = (8 * k).div_ceil(6);
            let end = 8 * bytes.len() / 6;
            if let Some(core) = enc.get(start..end).filter(|c| c.len() >= MIN_BASE64_CORE) {
                out.push(core.to_string());
            }
        }
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.len()));
    out.dedup();
    out
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_itself() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "[redacted] Secret([redacted])");
        assert_eq!(
            s.scrub("POST https://x/hunter2 failed"),
            "POST https://x/[redacted] failed"
        );
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn scrubs_percent_and_base64_forms() {
        use base64::Engine as _;
        let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
        let s = Secret::new("p@ss w/rd+ok");
        for user in ["", "u", "us", "depwatch"] {
            let plain = b64(format!("\0{user}\0p@ss w/rd+ok").as_bytes());
            let out = s.scrub(&format!("535 {plain} rejected"));
            // Of the secret's bits, at most the 2 characters shared with its neighbours (and
            // the padding) remain.
            let (before, after) = out.split_once("[redacted]").expect("redacted");
            let user_chars = (4 * (user.len() + 2)).div_ceil(3);
            assert!(
                before.len() <= "535 ".len() + user_chars + 1,
                "{user:?}: {out}"
            );
            assert!(after.len() <= "w== rejected".len(), "{user:?}: {out}");
        }
        let out = s.scrub("x p%40ss%20w%2Frd%2Bok y p%40ss%20w%2frd%2bok z p%40ss%20w%2Frd%2Bok");
        assert_eq!(out, "x [redacted] y [redacted] z [redacted]");
        let out = s.scrub(&b64(b"p@ss w/rd+ok"));
        assert!(!out.contains(&b64(b"p@ss w/rd+ok")[..8]), "{out}");
        // Short secrets: no base64 core, so ordinary words survive.
        assert_eq!(Secret::new("ab").scrub("YWI= stays"), "YWI= stays");
    }
}
