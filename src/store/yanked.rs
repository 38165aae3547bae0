//! The yanked-versions cache: one row per crate in `crate_index`, filled from the crates.io
//! sparse index by [`crate::sync::refresh_crate_index`]. Crate names are case-insensitive
//! on crates.io, so rows are keyed by the lowercased name.

use super::{Store, StoreError, now_rfc3339, sqlite_err};
use rusqlite::{OptionalExtension, params};

/// Every cached crate with at least one yanked version: lowercased name -> versions.
pub type Yanked = std::collections::HashMap<String, Vec<String>>;

/// Read [`Yanked`] in one query, so a scan of a large lockfile does not ask per crate.
pub(super) fn read_yanked(conn: &rusqlite::Connection) -> rusqlite::Result<Yanked> {
    let mut stmt = conn.prepare("SELECT name, yanked FROM crate_index WHERE yanked != '[]'")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Yanked::new();
    for r in rows {
        let (name, yanked) = r?;
        out.insert(name, decode(&yanked));
    }
    Ok(out)
}

/// A cached index entry: the ETag to revalidate with, and the yanked versions.
pub type Cached = (Option<String>, Vec<String>);

fn decode(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

impl Store {
    /// The cached entry of a crate: its ETag (for a conditional request) and yanked versions.
    pub(super) fn read_crate_index(&self, name: &str) -> Result<Option<Cached>, StoreError> {
        self.conn
            .query_row(
                "SELECT etag, yanked FROM crate_index WHERE name = ?1",
                params![name.to_ascii_lowercase()],
                |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()
            .map(|row| row.map(|(etag, yanked)| (etag, decode(&yanked))))
            .map_err(self.sq())
    }

    /// Store several crates' entries (name, ETag, yanked versions) in one transaction, stamped
    /// now.
    pub(super) fn write_crate_indexes(
        &mut self,
        entries: &[(String, Option<String>, Vec<String>)],
    ) -> Result<(), StoreError> {
        let sq = sqlite_err(&self.path);
        let now = now_rfc3339();
        let tx = self.conn.transaction().map_err(sq)?;
        {
            let mut put = tx
                .prepare(
                    "INSERT INTO crate_index (name, etag, fetched_at, yanked) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(name) DO UPDATE SET etag = ?2, fetched_at = ?3, yanked = ?4",
                )
                .map_err(sq)?;
            let mut before = tx
                .prepare("SELECT yanked FROM crate_index WHERE name = ?1")
                .map_err(sq)?;
            // Crates whose yanked versions changed: their projects are rescanned.
            let mut touched = std::collections::BTreeSet::new();
            for (name, etag, yanked) in entries {
                let json = serde_json::to_string(yanked).unwrap_or_else(|_| "[]".into());
                let old: Option<String> = before
                    .query_row(params![name.to_ascii_lowercase()], |r| r.get(0))
                    .optional()
                    .map_err(sq)?;
                if old.as_deref() != Some(json.as_str()) {
                    let eco = crate::ecosystem::Ecosystem::CratesIo;
                    touched.insert((eco.as_osv().to_string(), eco.normalize_name(name)));
                }
                put.execute(params![name.to_ascii_lowercase(), etag, now, json])
                    .map_err(sq)?;
            }
            super::mark_changed(&tx, &touched, false).map_err(sq)?;
        }
        tx.commit().map_err(sq)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::AdvisoryStore;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.sqlite3")).unwrap();
        assert_eq!(s.yanked_versions("serde").unwrap(), None);
        s.put_crate_index("Serde", Some("\"e1\""), &["1.0.0".into()])
            .unwrap();
        assert_eq!(
            s.yanked_versions("serde").unwrap(),
            Some(vec!["1.0.0".to_string()])
        );
        assert_eq!(
            s.crate_index_cached("SERDE").unwrap(),
            Some((Some("\"e1\"".into()), vec!["1.0.0".into()]))
        );
        s.put_crate_indexes(&[
            ("serde".into(), None, vec![]),
            ("gone".into(), None, vec![]),
        ])
        .unwrap();
        assert_eq!(s.yanked_versions("serde").unwrap(), Some(vec![]));
        assert_eq!(s.crate_index_cached("serde").unwrap(), Some((None, vec![])));
    }
}
