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

/// The one cut for text shown to people (titles, messages, drafts): at most `max` characters
/// in all, cut at a character boundary and marked with `…`. (Echoes of bad input in errors are
/// bounded in bytes by [`shorten`].)
pub fn cap_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The one cleaning rule for text depwatch did not write (feeds, mirrors, servers, scanned
/// checkouts) on its way to people: a terminal, markdown, email, Slack. Every control
/// character (C0 with NUL and ESC, DEL, C1 with the 8-bit CSI and OSC) and every bidi
/// override/isolate becomes a space, so no escape sequence (hidden OSC 8 link, window title,
/// cursor move) survives and NUL never reaches SMTP DATA. With `keep_lines`, `\n` and `\t`
/// stay (and `\r\n` becomes `\n`) for outputs whose regime allows them; without, they are
/// spaces too (table cells, one-line fields).
pub fn clean(s: &str, keep_lines: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let unsafe_char = c.is_control()
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}');
        match c {
            '\r' if keep_lines && chars.peek() == Some(&'\n') => {}
            '\n' | '\t' if keep_lines => out.push(c),
            _ if unsafe_char => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text a server sent (an error body, an SMTP reply) made fit to print and store: [`clean`]ed
/// on one line, runs of whitespace one space, at most `max` bytes. Scrub secrets first: a cut
/// must not leave a secret's prefix behind.
pub fn server_text(s: &str, max: usize) -> String {
    let cleaned = clean(s, false);
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

/// The one markdown escape (scan reports, SARIF help, release notes), for a table cell or a
/// paragraph: markdown punctuation gets a backslash,
/// `<`, `>` and `&` become entities, newlines become `<br>` and other control characters
/// spaces.
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // The shared cleaning rule first; newlines become `<br>` below.
    let s = clean(s, true);
    for c in s.chars() {
        match c {
            '\\' | '|' | '`' | '*' | '_' | '[' | ']' | '~' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' => out.push_str("<br>"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The one HTML escape (email bodies, the dashboard): the shared cleaning rule, then every
/// character that is markup in text or in a quoted attribute becomes an entity.
pub fn escape_html(s: &str) -> String {
    handlebars::html_escape(&clean(s, true))
}

#[cfg(test)]
mod tests {
    #[test]
    fn clean_removes_every_escape_sequence_and_nul() {
        let hostile = "a\x1b]8;;https://evil.example/\x07link\x1b]8;;\x07 \x1b]0;title\x07\
                       \x1b[2J\u{9b}31m\u{9d}x\x00b\x7f\u{202E}c\r\nd\te";
        for keep in [true, false] {
            let out = super::clean(hostile, keep);
            assert!(
                !out.chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\t'),
                "{out:?}"
            );
            assert!(!out.contains('\u{202E}'), "{out:?}");
            assert_eq!(out.contains('\n'), keep, "{out:?}");
            assert_eq!(out.contains('\t'), keep, "{out:?}");
        }
        assert_eq!(super::clean("x\r\ny\rz\u{0}", true), "x\ny z ");
        assert_eq!(super::clean("x\r\ny", false), "x  y");
        assert_eq!(super::clean("Grüße → ok", false), "Grüße → ok");
    }

    #[test]
    fn cuts_on_char_boundaries() {
        assert_eq!(super::shorten("abc", 5), "abc");
        assert_eq!(super::shorten("ééé", 3), "é…");
    }
}
