//! Small text helpers shared by the parsers.

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

/// `": detail"`, or nothing when `detail` is empty (for error messages with an optional tail).
pub fn colon_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
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
