//! The server's open stores, reused across requests.
//!
//! Opening a store per request cost more than the request's own work: on SQLite the schema
//! check and every statement prepared again (the statement cache lives with the connection),
//! on PostgreSQL a connection and its authentication. So the server keeps the stores it opened
//! on a free list and hands each blocking call one of them.
//!
//! Written here, not taken from a pool crate: a store is a plain value used by one blocking
//! call at a time, opened on a blocking thread inside the runtime (PostgreSQL runs on it);
//! deadpool's pools are async-first and r2d2 runs maintenance threads of its own. A free list
//! behind a mutex is all that is needed.

use crate::store::{Backend, Location, StoreError};
use std::sync::Mutex;

/// Open stores for one location.
pub(crate) struct Stores {
    location: Location,
    free: Mutex<Vec<Box<dyn Backend>>>,
    /// Most stores kept open while idle (more may be open at once under load).
    keep: usize,
}

impl Stores {
    pub(crate) fn new(location: Location, keep: usize) -> Self {
        Self {
            location,
            free: Mutex::new(Vec::new()),
            keep,
        }
    }

    /// Run `work` on an open store (one from the free list, or newly opened). Blocks: call it
    /// on a blocking thread. The store goes back to the list only when `kept` says the outcome
    /// was sound: after a failure (a lost PostgreSQL connection, say) the next call opens a
    /// fresh one.
    pub(crate) fn with<T>(
        &self,
        work: impl FnOnce(&mut Box<dyn Backend>) -> T,
        kept: impl FnOnce(&T) -> bool,
    ) -> Result<T, StoreError> {
        let taken = self.free.lock().ok().and_then(|mut f| f.pop());
        let mut store = match taken {
            Some(s) => s,
            None => crate::store::open(&self.location)?,
        };
        let out = work(&mut store);
        if kept(&out)
            && let Ok(mut free) = self.free.lock()
            && free.len() < self.keep
        {
            free.push(store);
        }
        Ok(out)
    }

    /// [`Stores::with`] for work that returns a `Result`: kept when it is `Ok`.
    pub(crate) fn with_ok<T, E>(
        &self,
        work: impl FnOnce(&mut Box<dyn Backend>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        self.with(work, Result::is_ok)?
    }

    /// Stores now idle on the free list.
    #[cfg(test)]
    fn idle(&self) -> usize {
        self.free.lock().map(|f| f.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MonitorState;

    #[test]
    fn a_store_is_reused_and_dropped_after_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let loc = Location::Sqlite(dir.path().join("s.sqlite3"));
        let stores = Stores::new(loc, 2);
        let key: Vec<u8> = stores.with_ok(|s| s.draft_marker_key()).unwrap();
        assert_eq!(stores.idle(), 1);
        // The same store (and its key) again, not a second one.
        let again: Result<_, StoreError> = stores.with_ok(|s| s.draft_marker_key());
        assert_eq!(again.unwrap(), key);
        assert_eq!(stores.idle(), 1);
        let failed: Result<(), StoreError> = stores.with_ok(|_| {
            Err(StoreError::Postgres {
                at: "test".into(),
                message: "connection lost".into(),
            })
        });
        assert!(failed.is_err());
        assert_eq!(stores.idle(), 0, "a store whose work failed is not kept");
    }
}
