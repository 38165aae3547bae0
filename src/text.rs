//! Small text helpers shared by the parsers, the feeds and the channels.

/// Shorten user input before it goes into a message: a 10 MB line must never be echoed back.
/// Cuts at a character boundary at most `max` bytes in and marks the cut with `…`.
pub fn shorten(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", s.get(..end).unwrap_or(""))
}

/// Text a server sent (an error body, an SMTP reply) made fit to print and store: control
/// characters and line breaks become spaces, runs of whitespace one space, at most `max` bytes.
/// Scrub secrets first: a cut must not leave a secret's prefix behind.
pub fn server_text(s: &str, max: usize) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    shorten(
        &cleaned.split_whitespace().collect::<Vec<_>>().join(" "),
        max,
    )
}

/// `": detail"`, or nothing when `detail` is empty (for error messages with an optional tail).
pub fn colon_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

/// An HTTP client error as text without its URL, which may carry a token, a webhook secret
/// or a query string: its kind and innermost cause (reqwest's own text names the URL).
pub fn http_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "body interrupted"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cuts_on_char_boundaries() {
        assert_eq!(super::shorten("abc", 5), "abc");
        assert_eq!(super::shorten("ééé", 3), "é…");
    }
}
