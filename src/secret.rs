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
    /// that echoed a URL, say) with `[redacted]`.
    pub fn scrub(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.0, "[redacted]")
        }
    }
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
}
