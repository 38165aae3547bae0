//! The in-memory advisory database: compiled records from every source, indexed by
//! (ecosystem, normalised package name) so a scan is lookups, not a sweep.

use crate::advisory::{CompiledAdvisory, CompiledAffected};
use crate::ecosystem::Ecosystem;
use crate::feeds::Loaded;
use crate::feeds::{LoadError, SourceSummary};
use crate::store::StoredRecords;
use std::collections::HashMap;

/// Compiled advisories with a package index.
#[derive(Debug, Default)]
pub struct Database {
    advisories: Vec<CompiledAdvisory>,
    /// (ecosystem, normalised name) -> (advisory index, affected-entry index).
    index: HashMap<(Ecosystem, String), Vec<(usize, usize)>>,
    /// Per-source counts.
    pub sources: Vec<SourceSummary>,
    /// Records that failed to load.
    pub load_errors: Vec<LoadError>,
}

/// One affected entry of one advisory, as found by a lookup.
#[derive(Debug, Clone, Copy)]
pub struct Hit<'a> {
    /// The advisory.
    pub advisory: &'a CompiledAdvisory,
    /// Its entry for the looked-up package.
    pub affected: &'a CompiledAffected,
}

impl Database {
    /// Build the database from loaded sources. Withdrawn records are kept out of the index:
    /// they never match.
    pub fn from_sources(sources: Vec<Loaded>) -> Self {
        let mut db = Self::default();
        for s in sources {
            db.sources.push(SourceSummary {
                source: s.source.clone(),
                advisories: s.advisories.len(),
                skipped: s.errors.len(),
            });
            db.load_errors.extend(s.errors);
            for adv in s.advisories {
                db.insert(adv);
            }
        }
        db.load_errors.sort();
        db
    }

    /// Build the database from what the store returned for a scan: each record is compiled
    /// here, on the matcher's side; one that does not compile is a load error of its source,
    /// as when loading a feed.
    pub fn from_stored(stored: StoredRecords) -> Self {
        let mut db = Self {
            sources: stored.sources,
            load_errors: stored.load_errors,
            ..Self::default()
        };
        for r in stored.records {
            let id = r.advisory.id.clone();
            match CompiledAdvisory::compile(r.advisory, &r.source) {
                Ok(c) => db.insert(c),
                Err(e) => db.load_errors.push(LoadError {
                    source: r.source,
                    file: "(store)".into(),
                    id: Some(id),
                    message: e.message,
                }),
            }
        }
        db.load_errors.sort();
        db
    }

    /// Add one record.
    pub fn insert(&mut self, adv: CompiledAdvisory) {
        let slot = self.advisories.len();
        if !adv.is_withdrawn() {
            for (i, a) in adv.affected.iter().enumerate() {
                self.index
                    .entry((a.ecosystem, a.name.clone()))
                    .or_default()
                    .push((slot, i));
            }
        }
        self.advisories.push(adv);
    }

    /// Every (advisory, affected entry) for a package; `name` must be normalised.
    pub fn lookup(&self, ecosystem: Ecosystem, name: &str) -> Vec<Hit<'_>> {
        self.index
            .get(&(ecosystem, name.to_string()))
            .map(|slots| {
                slots
                    .iter()
                    .filter_map(|&(a, i)| {
                        let advisory = self.advisories.get(a)?;
                        let affected = advisory.affected.get(i)?;
                        Some(Hit { advisory, affected })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Number of records loaded (withdrawn included).
    pub fn len(&self) -> usize {
        self.advisories.len()
    }

    /// True when no record is loaded.
    pub fn is_empty(&self) -> bool {
        self.advisories.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::{Advisory, Affected, Event, Package, Range};
    use crate::store::StoredRecord;

    fn record(id: &str, events: Vec<Event>) -> StoredRecord {
        StoredRecord {
            source: "s".into(),
            advisory: Advisory {
                id: id.into(),
                modified: "t1".into(),
                affected: vec![Affected {
                    package: Package {
                        ecosystem: "PyPI".into(),
                        name: "Foo_Bar".into(),
                        ..Default::default()
                    },
                    ranges: vec![Range {
                        kind: "ECOSYSTEM".into(),
                        events,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            },
        }
    }

    /// The matcher indexes what the store returns by normalised name; a record that does not
    /// compile becomes its source's load error, named by id, among the stored ones.
    #[test]
    fn from_stored_indexes_records_and_keeps_compile_errors() {
        let good = record(
            "GOOD-1",
            vec![Event {
                introduced: Some("0".into()),
                ..Default::default()
            }],
        );
        let bad = record(
            "BAD-1",
            vec![Event {
                introduced: Some("0".into()),
                fixed: Some("1.0".into()),
                ..Default::default()
            }],
        );
        let synced = LoadError {
            source: "a".into(),
            file: "x.json".into(),
            id: None,
            message: "not OSV".into(),
        };
        let db = Database::from_stored(StoredRecords {
            records: vec![bad, good],
            sources: vec![SourceSummary {
                source: "s".into(),
                advisories: 2,
                skipped: 0,
            }],
            load_errors: vec![synced.clone()],
            yanked: Default::default(),
        });
        assert_eq!(db.len(), 1);
        let hits = db.lookup(Ecosystem::PyPI, "foo-bar");
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].advisory.advisory.id, "GOOD-1");
        assert_eq!(db.sources.len(), 1);
        assert_eq!(db.load_errors.len(), 2);
        assert_eq!(db.load_errors[0], synced, "sorted: source a first");
        let e = &db.load_errors[1];
        assert_eq!(
            (e.source.as_str(), e.file.as_str(), e.id.as_deref()),
            ("s", "(store)", Some("BAD-1"))
        );
        assert!(e.message.contains("exactly one field"), "{}", e.message);
    }
}
