//! The byte budget of one pull: what a feed downloads and decompresses, counted together, so
//! an archive of many entries each under the per-record cap (or a stream of such records)
//! fails that feed cleanly instead of growing memory until the process is killed.

use super::FeedError;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes one pull may still download or decompress; clones share the count (concurrent
/// record requests of one pull charge the same budget).
#[derive(Debug, Clone)]
pub struct Budget {
    limit: u64,
    used: Arc<AtomicU64>,
}

impl Budget {
    /// A budget of `limit` bytes.
    pub fn new(limit: u64) -> Self {
        Self {
            limit,
            used: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The budget set by `$DEPWATCH_FEED_MAX_BYTES`, else the default.
    pub fn from_env() -> Self {
        Self::new(crate::net::HttpSettings::default().max_feed_bytes)
    }

    /// Bytes left.
    pub fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used.load(Ordering::Relaxed))
    }

    /// Count `n` more bytes read for `what` (a URL or archive, named in the error).
    pub fn charge(&self, n: u64, what: &str) -> Result<(), FeedError> {
        let used = self.used.fetch_add(n, Ordering::Relaxed).saturating_add(n);
        if used > self.limit {
            return Err(FeedError::Invalid {
                path: PathBuf::from(what),
                message: format!(
                    "the pull exceeded its budget of {} bytes downloaded and decompressed \
                     (DEPWATCH_FEED_MAX_BYTES); nothing from it was kept",
                    self.limit
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_count_and_the_limit_is_inclusive() {
        let b = Budget::new(10);
        let c = b.clone();
        assert!(b.charge(6, "a").is_ok());
        assert!(c.charge(4, "a").is_ok());
        assert_eq!(b.remaining(), 0);
        let e = c.charge(1, "x.zip").unwrap_err().to_string();
        assert!(
            e.starts_with("x.zip: ") && e.contains("budget of 10 bytes"),
            "{e}"
        );
    }
}
