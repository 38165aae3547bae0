//! API tokens and who may do what: tokens are 32 random bytes shown once, kept as SHA-256,
//! compared in constant time; each token has a small in-memory rate limit.

use crate::store::{TokenRow, TokenScope};
use base64::Engine;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// What a new token's text starts with, so a leaked one is recognisable in a secret scan.
pub const TOKEN_PREFIX: &str = "dwt_";

/// A new token: its text (to show once) and the SHA-256 to store.
pub fn new_token() -> Result<(String, Vec<u8>), String> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| "no random bytes for the token".to_string())?;
    let text = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let hash = hash(&text);
    Ok((text, hash))
}

/// SHA-256 of a token's text.
pub fn hash(token: &str) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes())
        .as_ref()
        .to_vec()
}

/// The active token whose hash is the presented token's. Every active row is compared, each
/// in constant time, so the time taken says nothing about which bytes matched.
pub fn find<'a>(rows: &'a [TokenRow], presented: &str) -> Option<&'a TokenRow> {
    let h = hash(presented);
    let mut found = None;
    for r in rows.iter().filter(|r| r.revoked_at.is_none()) {
        if aws_lc_rs::constant_time::verify_slices_are_equal(&r.hash, &h).is_ok() {
            found = Some(r);
        }
    }
    found
}

/// Whether `row` may submit for `project`.
pub fn may_submit(row: &TokenRow, project: &str) -> bool {
    row.scope == TokenScope::Submit && row.project == project
}

/// Whether `row` may read: a read token reads everything; a submit token its own project.
pub fn may_read(row: &TokenRow, project: Option<&str>) -> bool {
    match row.scope {
        TokenScope::Read => true,
        TokenScope::Submit => project == Some(row.project.as_str()),
    }
}

/// A project name the API accepts: 1 to 64 of ASCII letters, digits, `.`, `_`, `-`, not
/// starting with `.` or `-` (it becomes a directory name under the output directory).
pub fn valid_project_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && !name.starts_with(['.', '-'])
}

/// Per-token token buckets, in memory: a limit for one server process (hand-written: a
/// few lines, and the crates that do it bring a whole middleware stack for one map).
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<i64, (f64, Instant)>>,
}

impl RateLimiter {
    /// `per_second` requests per second per token on average, `burst` at once.
    pub fn new(per_second: f64, burst: u32) -> Self {
        Self {
            per_second: per_second.max(0.0),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take one request from `token`'s bucket: `Err(seconds to wait)` when it is empty.
    pub fn take(&self, token: i64) -> Result<(), u64> {
        self.take_at(token, Instant::now())
    }

    fn take_at(&self, token: i64, now: Instant) -> Result<(), u64> {
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (level, at) = map.entry(token).or_insert((self.burst, now));
        let refill = now.saturating_duration_since(*at).as_secs_f64() * self.per_second;
        *level = (*level + refill).min(self.burst);
        *at = now;
        if *level >= 1.0 {
            *level -= 1.0;
            Ok(())
        } else if self.per_second > 0.0 {
            Err(((1.0 - *level) / self.per_second).ceil().max(1.0) as u64)
        } else {
            Err(60)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn row(id: i64, token: &str, scope: TokenScope, revoked: bool) -> TokenRow {
        TokenRow {
            id,
            project: "p".into(),
            scope,
            hash: hash(token),
            created_at: jiff::Timestamp::UNIX_EPOCH,
            revoked_at: revoked.then_some(jiff::Timestamp::UNIX_EPOCH),
        }
    }

    #[test]
    fn tokens_are_found_by_hash_and_revoked_ones_are_not() {
        let (a, ha) = new_token().unwrap();
        let (b, _) = new_token().unwrap();
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 43);
        assert_ne!(a, b);
        assert_eq!(ha, hash(&a));
        let rows = [
            row(1, &a, TokenScope::Submit, false),
            row(2, &b, TokenScope::Read, true),
        ];
        assert_eq!(find(&rows, &a).map(|r| r.id), Some(1));
        assert!(find(&rows, &b).is_none(), "revoked");
        assert!(find(&rows, "dwt_guess").is_none());
        assert!(may_submit(&rows[0], "p") && !may_submit(&rows[0], "q"));
        assert!(may_read(&rows[0], Some("p")) && !may_read(&rows[0], None));
        assert!(may_read(&rows[1], None));
    }

    #[test]
    fn project_names() {
        for ok in ["web", "my-app_2", "a.b"] {
            assert!(valid_project_name(ok), "{ok}");
        }
        for bad in ["", "..", ".x", "-x", "a/b", "a b", "é", &"x".repeat(65)] {
            assert!(!valid_project_name(bad), "{bad}");
        }
    }

    #[test]
    fn the_bucket_refills_at_its_rate() {
        let l = RateLimiter::new(2.0, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.take_at(1, t0).is_ok());
        }
        assert_eq!(l.take_at(1, t0), Err(1));
        assert!(l.take_at(2, t0).is_ok(), "per token");
        assert!(l.take_at(1, t0 + Duration::from_millis(500)).is_ok());
        assert!(l.take_at(1, t0 + Duration::from_millis(500)).is_err());
    }
}
