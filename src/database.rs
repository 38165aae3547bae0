//! The in-memory advisory database: compiled records from every source, indexed by
//! (ecosystem, normalised package name) so a scan is lookups, not a sweep.

use crate::advisory::{CompiledAdvisory, CompiledAffected};
use crate::ecosystem::Ecosystem;
use crate::feeds::Loaded;
use crate::feeds::{LoadError, SourceSummary};
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

    /// Build the database from records read elsewhere (the store), with their counts and
    /// load errors.
    pub fn from_parts(
        advisories: Vec<CompiledAdvisory>,
        sources: Vec<SourceSummary>,
        mut load_errors: Vec<LoadError>,
    ) -> Self {
        let mut db = Self {
            sources,
            ..Self::default()
        };
        load_errors.sort();
        db.load_errors = load_errors;
        for adv in advisories {
            db.insert(adv);
        }
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
