//! [`AdvisoryStore`] on PostgreSQL: records, their index rows, sources, load errors and the
//! crates.io index cache. A sync is one transaction; its rows go in as arrays (`unnest`), a
//! few statements per sync rather than one round trip per record.

use super::{PgStore, other_err};
use crate::advisory::Advisory;
use crate::ecosystem::Ecosystem;
use crate::feeds::signal::{EpssMark, ExploitSignals, KevMark, SignalData};
use crate::feeds::{LoadError, SourceState, SourceSummary};
use crate::store::yanked::{Cached, Yanked};
use crate::store::{
    AdvisoryStore, ChangeGenerations, StoreError, StoredRecord, StoredRecords, SyncOutcome,
    index_rows,
};
use jiff::Timestamp;
use std::collections::{BTreeSet, HashMap, HashSet};
use tokio_postgres::IsolationLevel;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

const STATE_COLUMNS: &str =
    "source, cursor, etag, last_modified, last_attempt, last_success, last_error, records";

fn row_to_state(r: &tokio_postgres::Row) -> SourceState {
    SourceState {
        source: r.get(0),
        cursor: r.get(1),
        etag: r.get(2),
        last_modified: r.get(3),
        last_attempt: r.get(4),
        last_success: r.get(5),
        last_error: r.get(6),
        records: r.get(7),
    }
}

/// A cached yanked list (JSON text) decoded; a damaged one reads as empty, as on SQLite.
fn decode_yanked(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

impl PgStore {
    fn write_source(
        &mut self,
        state: &SourceState,
        advisories: &[Advisory],
        errors: &[LoadError],
        replace: bool,
    ) -> Result<SyncOutcome, StoreError> {
        let at = self.at.clone();
        let err = super::pg_err(&at);
        let source = state.source.as_str();
        let now = Timestamp::now();
        let rt = self.rt.clone();
        rt.block_on(async {
            let tx = self.client.transaction().await.map_err(&err)?;
            // Records an older depwatch converted are rewritten even when their `modified` is
            // the same (the SQLite store's migration 4; a copied store keeps the flag).
            let resync: bool = super::query_opt(
                &self.stmts,
                &tx,
                "SELECT resync FROM sources WHERE source = $1",
                &[&source],
            )
            .await
            .map_err(&err)?
            .is_some_and(|r| r.get(0));
            let mut existing: HashMap<String, String> = super::query(
                &self.stmts,
                &tx,
                "SELECT id, modified FROM advisories WHERE source = $1",
                &[&source],
            )
            .await
            .map_err(&err)?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
            let in_store: HashSet<String> = existing.keys().cloned().collect();
            let mut converted_before: HashSet<String> = if resync {
                in_store.clone()
            } else {
                HashSet::new()
            };
            let mut outcome = SyncOutcome::default();
            // The same decisions as the SQLite store, record by record; the last write of an
            // id in the batch is the one kept.
            let mut pending: HashMap<&str, &Advisory> = HashMap::new();
            let mut seen = HashSet::new();
            for adv in advisories {
                seen.insert(adv.id.as_str());
                if let Some(old) = existing.get(&adv.id)
                    && !converted_before.remove(adv.id.as_str())
                    && (old == &adv.modified || (old.as_str() > adv.modified.as_str() && !replace))
                {
                    continue;
                }
                existing.insert(adv.id.clone(), adv.modified.clone());
                pending.insert(adv.id.as_str(), adv);
                outcome.written += 1;
            }
            let mut delete: Vec<&str> = pending
                .keys()
                .copied()
                .filter(|id| in_store.contains(*id))
                .collect();
            if replace {
                for id in &in_store {
                    if !seen.contains(id.as_str()) {
                        delete.push(id);
                        outcome.removed += 1;
                    }
                }
            }
            // The packages whose records this sync writes or removes, old and new versions.
            let mut touched: BTreeSet<(String, String)> = BTreeSet::new();
            if !delete.is_empty() {
                for r in super::query(
                    &self.stmts,
                    &tx,
                    "SELECT DISTINCT ecosystem,
                                                             name FROM affected
                         WHERE source = $1 AND id = ANY($2)",
                    &[&source, &delete],
                )
                .await
                .map_err(&err)?
                {
                    touched.insert((r.get(0), r.get(1)));
                }
                super::execute(
                    &self.stmts,
                    &tx,
                    "DELETE FROM advisories WHERE source = $1 AND id = ANY($2)",
                    &[&source, &delete],
                )
                .await
                .map_err(&err)?;
            }
            let (mut ids, mut modified, mut withdrawn, mut records) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let (mut a_eco, mut a_name, mut a_id) = (Vec::new(), Vec::new(), Vec::new());
            let (mut l_alias, mut l_id) = (Vec::new(), Vec::new());
            for adv in pending.values() {
                ids.push(adv.id.as_str());
                modified.push(adv.modified.as_str());
                withdrawn.push(adv.withdrawn.is_some());
                records.push(
                    serde_json::to_string(adv)
                        .map_err(|e| other_err(&at, format!("record {source}/{}: {e}", adv.id)))?,
                );
                let (affected, aliases) = index_rows(adv);
                for (eco, name) in affected {
                    touched.insert((eco.to_string(), name.clone()));
                    a_eco.push(eco);
                    a_name.push(name);
                    a_id.push(adv.id.as_str());
                }
                for alias in aliases {
                    l_alias.push(alias);
                    l_id.push(adv.id.as_str());
                }
            }
            if !ids.is_empty() {
                super::execute(
                    &self.stmts,
                    &tx,
                    "INSERT INTO advisories (source, id,
                                                      modified, withdrawn, record)
                     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bool[],
                         $5::text[])",
                    &[&source, &ids, &modified, &withdrawn, &records],
                )
                .await
                .map_err(&err)?;
                super::execute(
                    &self.stmts,
                    &tx,
                    "INSERT INTO affected (ecosystem,
                                                      name, source, id)
                     SELECT e, n, $1, i FROM unnest($2::text[], $3::text[],
                         $4::text[]) AS u(e, n, i)
                     ON CONFLICT DO NOTHING",
                    &[&source, &a_eco, &a_name, &a_id],
                )
                .await
                .map_err(&err)?;
                super::execute(
                    &self.stmts,
                    &tx,
                    "INSERT INTO aliases (alias, source, id)
                     SELECT a, $1, i FROM unnest($2::text[], $3::text[]) AS u(a, i)
                     ON CONFLICT DO NOTHING",
                    &[&source, &l_alias, &l_id],
                )
                .await
                .map_err(&err)?;
            }
            mark_changed(&tx, &touched, false).await.map_err(&err)?;
            super::execute(
                &self.stmts,
                &tx,
                "DELETE FROM load_errors WHERE source = $1",
                &[&source],
            )
            .await
            .map_err(&err)?;
            if !errors.is_empty() {
                let files: Vec<&str> = errors.iter().map(|e| e.file.as_str()).collect();
                let eids: Vec<Option<&str>> = errors.iter().map(|e| e.id.as_deref()).collect();
                let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
                super::execute(
                    &self.stmts,
                    &tx,
                    "INSERT INTO load_errors (source,
                                                      file, id, message)
                     SELECT $1, f, i, m FROM unnest($2::text[], $3::text[],
                         $4::text[]) WITH ORDINALITY AS u(f, i, m, o)
                     ORDER BY o",
                    &[&source, &files, &eids, &messages],
                )
                .await
                .map_err(&err)?;
            }
            super::execute(
                &self.stmts,
                &tx,
                "INSERT INTO sources (source, cursor,
                     etag, last_modified, last_attempt, last_success, last_error)
                 VALUES ($1, $2, $3, $4, $5, $5, NULL)
                 ON CONFLICT (source) DO UPDATE SET cursor = $2, etag = $3,
                     last_modified = $4,
                     last_attempt = $5, last_success = $5, last_error = NULL, resync = false",
                &[
                    &source,
                    &state.cursor,
                    &state.etag,
                    &state.last_modified,
                    &now,
                ],
            )
            .await
            .map_err(&err)?;
            super::execute(
                &self.stmts,
                &tx,
                "UPDATE sources SET records = (SELECT COUNT(*) FROM advisories WHERE
                     source = $1)
                 WHERE source = $1",
                &[&source],
            )
            .await
            .map_err(&err)?;
            tx.commit().await.map_err(&err)?;
            outcome.unchanged = outcome.written == 0 && outcome.removed == 0;
            Ok(outcome)
        })
    }
}

/// The SQLite store's `mark_changed`: bump the change generation and stamp `packages` (and
/// `everything`) with it, in the caller's transaction. Nothing touched, nothing bumped.
pub(super) async fn mark_changed(
    tx: &tokio_postgres::Transaction<'_>,
    packages: &BTreeSet<(String, String)>,
    everything: bool,
) -> Result<(), tokio_postgres::Error> {
    if packages.is_empty() && !everything {
        return Ok(());
    }
    // The row lock of the upsert orders concurrent syncs' generations.
    let generation: i64 = tx
        .query_one(
            "INSERT INTO change_generation (kind, generation) VALUES ('current', 1)
             ON CONFLICT (kind) DO UPDATE SET generation = change_generation.generation + 1
             RETURNING generation",
            &[],
        )
        .await?
        .get(0);
    if everything {
        tx.execute(
            "INSERT INTO change_generation (kind, generation) VALUES ('everything', $1)
             ON CONFLICT (kind) DO UPDATE SET generation = $1",
            &[&generation],
        )
        .await?;
    }
    if !packages.is_empty() {
        let (ecos, names): (Vec<&str>, Vec<&str>) = packages
            .iter()
            .map(|(e, n)| (e.as_str(), n.as_str()))
            .unzip();
        tx.execute(
            "INSERT INTO package_changes (ecosystem, name, generation)
             SELECT e, n, $3 FROM unnest($1::text[], $2::text[]) AS u(e, n)
             ON CONFLICT (ecosystem, name) DO UPDATE SET generation = $3",
            &[&ecos, &names, &generation],
        )
        .await?;
    }
    Ok(())
}

/// The positions of `keys` to write: the last of each key, in the order given (a key given
/// twice keeps its last values, as SQLite's `INSERT OR REPLACE` does).
fn last_of_each<'a>(keys: impl Iterator<Item = &'a str>) -> Vec<usize> {
    let keys: Vec<&str> = keys.collect();
    let mut last: HashMap<&str, usize> = HashMap::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        last.insert(k, i);
    }
    (0..keys.len()).filter(|&i| last[keys[i]] == i).collect()
}

impl PgStore {
    /// Replace the KEV or EPSS set in one transaction. The rows go in with `COPY ... FROM
    /// STDIN` (binary): the 313k-row EPSS file is one stream, not 313k statements.
    fn write_signal(
        &mut self,
        state: &SourceState,
        data: &SignalData,
    ) -> Result<SyncOutcome, StoreError> {
        let at = self.at.clone();
        let err = super::pg_err(&at);
        let source = state.source.as_str();
        let table = data.kind().as_str();
        let now = Timestamp::now();
        let rt = self.rt.clone();
        rt.block_on(async {
            let tx = self.client.transaction().await.map_err(&err)?;
            // Two syncs of a kind at once: the second waits for the first to commit (each
            // empties the set and writes it whole). Readers are not blocked.
            tx.batch_execute(&format!("LOCK TABLE signal_sets, {table} IN EXCLUSIVE MODE"))
                .await
                .map_err(&err)?;
            let old: HashSet<String> = tx
                .query(&format!("SELECT cve FROM {table}"), &[])
                .await
                .map_err(&err)?
                .iter()
                .map(|r| r.get(0))
                .collect();
            // The set another source wrote goes with that source's row: nothing of it is left.
            super::execute(
                &self.stmts,
                &tx,
                "DELETE FROM sources WHERE source IN
                   (SELECT source FROM signal_sets WHERE kind = $1 AND source != $2)",
                &[&table, &source],
            )
            .await
            .map_err(&err)?;
            tx.execute(&format!("DELETE FROM {table}"), &[])
                .await
                .map_err(&err)?;
            let (new, version, dated): (Vec<&str>, Option<String>, Option<String>) = match data {
                SignalData::Kev(k) => {
                    let keep = last_of_each(k.entries.iter().map(|e| e.cve.as_str()));
                    let sink = tx
                        .copy_in(
                            "COPY kev (cve, date_added, due_date, ransomware, vendor_project, product)
                             FROM STDIN (FORMAT binary)",
                        )
                        .await
                        .map_err(&err)?;
                    let types = [
                        Type::TEXT,
                        Type::DATE,
                        Type::DATE,
                        Type::TEXT,
                        Type::TEXT,
                        Type::TEXT,
                    ];
                    let mut w = std::pin::pin!(BinaryCopyInWriter::new(sink, &types));
                    for &i in &keep {
                        let e = &k.entries[i];
                        let row: [&(dyn ToSql + Sync); 6] = [
                            &e.cve,
                            &e.date_added,
                            &e.due_date,
                            &e.known_ransomware_campaign_use,
                            &e.vendor_project,
                            &e.product,
                        ];
                        w.as_mut().write(&row).await.map_err(&err)?;
                    }
                    w.finish().await.map_err(&err)?;
                    (
                        keep.iter().map(|&i| k.entries[i].cve.as_str()).collect(),
                        Some(k.catalog_version.clone()),
                        k.date_released.clone(),
                    )
                }
                SignalData::Epss(f) => {
                    let keep = last_of_each(f.rows.iter().map(|r| r.cve.as_str()));
                    let sink = tx
                        .copy_in("COPY epss (cve, score, percentile) FROM STDIN (FORMAT binary)")
                        .await
                        .map_err(&err)?;
                    let types = [Type::TEXT, Type::FLOAT8, Type::FLOAT8];
                    let mut w = std::pin::pin!(BinaryCopyInWriter::new(sink, &types));
                    for &i in &keep {
                        let r = &f.rows[i];
                        let row: [&(dyn ToSql + Sync); 3] = [&r.cve, &r.score, &r.percentile];
                        w.as_mut().write(&row).await.map_err(&err)?;
                    }
                    w.finish().await.map_err(&err)?;
                    (
                        keep.iter().map(|&i| f.rows[i].cve.as_str()).collect(),
                        f.model_version.clone(),
                        f.score_date.map(|d| d.to_string()),
                    )
                }
            };
            let rows = new.len() as i64;
            let new: HashSet<&str> = new.into_iter().collect();
            let outcome = SyncOutcome {
                written: new.len(),
                removed: old.iter().filter(|c| !new.contains(c.as_str())).count(),
                unchanged: false,
            };
            // As in the SQLite store: a KEV/EPSS replacement may change any project's findings.
            mark_changed(&tx, &BTreeSet::new(), true)
                .await
                .map_err(&err)?;
            super::execute(
                &self.stmts,
                &tx,
                "INSERT INTO signal_sets (kind, source,
                                                  version, dated, rows)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (kind) DO UPDATE SET source = $2, version = $3,
                     dated = $4, rows = $5",
                &[&table, &source, &version, &dated, &rows],
            )
            .await
            .map_err(&err)?;
            super::execute(
                &self.stmts,
                &tx,
                "INSERT INTO sources (source, cursor,
                                                  etag, last_modified, last_attempt,
                     last_success, last_error, records)
                 VALUES ($1, $2, $3, $4, $5, $5, NULL, $6)
                 ON CONFLICT (source) DO UPDATE SET cursor = $2, etag = $3,
                     last_modified = $4,
                     last_attempt = $5, last_success = $5, last_error = NULL, resync = false,
                     records = $6",
                &[
                    &source,
                    &state.cursor,
                    &state.etag,
                    &state.last_modified,
                    &now,
                    &rows,
                ],
            )
            .await
            .map_err(&err)?;
            tx.commit().await.map_err(&err)?;
            Ok(outcome)
        })
    }

    fn read_signals(&self, cves: &[String]) -> Result<ExploitSignals, StoreError> {
        let at = self.at.clone();
        let err = super::pg_err(&at);
        let mut out = ExploitSignals::default();
        if cves.is_empty() {
            return Ok(out);
        }
        // One statement, one snapshot: a set replaced meanwhile is read whole, old or new.
        let rows = self.run(async {
            super::query(
                &self.stmts,
                &self.client,
                "SELECT s.kind, s.source,
                                                         s.version, s.dated, k.cve, k.date_added,
                            k.due_date, k.ransomware, NULL::float8, NULL::float8
                     FROM signal_sets s JOIN kev k ON s.kind = 'kev'
                     WHERE k.cve = ANY($1)
                     UNION ALL
                     SELECT s.kind, s.source, s.version, s.dated, e.cve, NULL::date,
                            NULL::date, NULL::text, e.score, e.percentile
                     FROM signal_sets s JOIN epss e ON s.kind = 'epss'
                     WHERE e.cve = ANY($1)",
                &[&cves],
            )
            .await
            .map_err(&err)
        })?;
        for r in rows {
            let (kind, source, version, dated): (&str, String, Option<String>, Option<String>) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            let cve: String = r.get(4);
            if kind == "kev" {
                out.kev.insert(
                    cve.clone(),
                    KevMark {
                        cve,
                        date_added: r.get(5),
                        due_date: r.get(6),
                        known_ransomware_campaign_use: r.get(7),
                        catalog_version: version.unwrap_or_default(),
                        source,
                    },
                );
            } else {
                let score_date = match &dated {
                    Some(d) => Some(d.parse().map_err(|_| StoreError::BadRecord {
                        path: at.clone().into(),
                        source_name: "epss".into(),
                        id: d.clone(),
                        message: "stored date is not YYYY-MM-DD".into(),
                    })?),
                    None => None,
                };
                out.epss.insert(
                    cve.clone(),
                    EpssMark {
                        cve,
                        score: r.get(8),
                        percentile: r.get(9),
                        score_date,
                        model_version: version,
                        source,
                    },
                );
            }
        }
        Ok(out)
    }
}

impl AdvisoryStore for PgStore {
    fn source_state(&self, source: &str) -> Result<Option<SourceState>, StoreError> {
        let err = self.err();
        self.run(async {
            let sql = format!("SELECT {STATE_COLUMNS} FROM sources WHERE source = $1");
            let row = self
                .client
                .query_opt(&sql, &[&source])
                .await
                .map_err(&err)?;
            Ok(row.as_ref().map(row_to_state))
        })
    }

    fn sources(&self) -> Result<Vec<SourceState>, StoreError> {
        let err = self.err();
        self.run(async {
            let sql = format!("SELECT {STATE_COLUMNS} FROM sources ORDER BY source");
            let rows = self.client.query(&sql, &[]).await.map_err(&err)?;
            Ok(rows.iter().map(row_to_state).collect())
        })
    }

    fn sources_needing_resync(&self) -> Result<Vec<String>, StoreError> {
        let err = self.err();
        self.run(async {
            let rows = super::query(
                &self.stmts,
                &self.client,
                "SELECT source FROM sources WHERE resync ORDER BY source",
                &[],
            )
            .await
            .map_err(&err)?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    fn record_failure(&mut self, source: &str, error: &str) -> Result<(), StoreError> {
        let err = self.err();
        let now = Timestamp::now();
        self.run(async {
            super::execute(
                &self.stmts,
                &self.client,
                "INSERT INTO sources (source,
                     last_attempt, last_error) VALUES ($1, $2, $3)
                     ON CONFLICT (source) DO UPDATE SET last_attempt = $2,
                         last_error = $3",
                &[&source, &now, &error],
            )
            .await
            .map_err(&err)?;
            Ok(())
        })
    }

    fn record_unchanged(&mut self, source: &str) -> Result<(), StoreError> {
        let err = self.err();
        let now = Timestamp::now();
        self.run(async {
            super::execute(
                &self.stmts,
                &self.client,
                "INSERT INTO sources (source,
                     last_attempt, last_success) VALUES ($1, $2, $2)
                     ON CONFLICT (source) DO UPDATE SET last_attempt = $2,
                         last_success = $2,
                         last_error = NULL",
                &[&source, &now],
            )
            .await
            .map_err(&err)?;
            Ok(())
        })
    }

    fn replace_source(
        &mut self,
        state: &SourceState,
        advisories: &[Advisory],
        errors: &[LoadError],
    ) -> Result<SyncOutcome, StoreError> {
        self.write_source(state, advisories, errors, true)
    }

    fn upsert_source(
        &mut self,
        state: &SourceState,
        advisories: &[Advisory],
        errors: &[LoadError],
    ) -> Result<SyncOutcome, StoreError> {
        self.write_source(state, advisories, errors, false)
    }

    fn replace_signal(
        &mut self,
        state: &SourceState,
        data: &SignalData,
    ) -> Result<SyncOutcome, StoreError> {
        self.write_signal(state, data)
    }

    fn signals_for(&self, cves: &[String]) -> Result<ExploitSignals, StoreError> {
        self.read_signals(cves)
    }

    fn records_for(
        &mut self,
        packages: &[(Ecosystem, String)],
    ) -> Result<StoredRecords, StoreError> {
        let at = self.at.clone();
        let err = super::pg_err(&at);
        let ecos: Vec<&str> = packages.iter().map(|(e, _)| e.as_osv()).collect();
        let names: Vec<&str> = packages.iter().map(|(_, n)| n.as_str()).collect();
        let rt = self.rt.clone();
        rt.block_on(async {
            // One snapshot for every read: a sync committing meanwhile is seen entirely or not
            // at all.
            let tx = self
                .client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err(&err)?;
            let mut out = StoredRecords::default();
            let rows = super::query(
                &self.stmts,
                &tx,
                "SELECT a.source, a.id,
                                                           a.record FROM advisories a
                     WHERE (a.source, a.id) IN (
                         SELECT f.source, f.id FROM affected f
                         JOIN unnest($1::text[], $2::text[]) AS p(eco, name)
                           ON f.ecosystem = p.eco AND f.name = p.name)
                     ORDER BY a.source, a.id",
                &[&ecos, &names],
            )
            .await
            .map_err(&err)?;
            for r in rows {
                let (source, id, json): (String, String, &str) = (r.get(0), r.get(1), r.get(2));
                // A record that is not valid JSON is a damaged store: an error naming it.
                let advisory: Advisory =
                    serde_json::from_str(json).map_err(|e| StoreError::BadRecord {
                        path: at.clone().into(),
                        source_name: source.clone(),
                        id: id.clone(),
                        message: e.to_string(),
                    })?;
                out.records.push(StoredRecord { source, advisory });
            }
            let mut yanked = Yanked::new();
            for r in super::query(
                &self.stmts,
                &tx,
                "SELECT name,
                     yanked FROM crate_index WHERE yanked != '[]'",
                &[],
            )
            .await
            .map_err(&err)?
            {
                yanked.insert(r.get(0), decode_yanked(r.get(1)));
            }
            out.yanked = yanked;
            for r in super::query(
                &self.stmts,
                &tx,
                "SELECT s.source, s.records,
                            (SELECT COUNT(*) FROM load_errors e WHERE e.source = s.source)
                     FROM sources s WHERE s.last_success IS NOT NULL
                       AND s.source NOT IN (SELECT source FROM signal_sets) ORDER BY
                           s.source",
                &[],
            )
            .await
            .map_err(&err)?
            {
                out.sources.push(SourceSummary {
                    source: r.get(0),
                    advisories: usize::try_from(r.get::<_, i64>(1)).unwrap_or(0),
                    skipped: usize::try_from(r.get::<_, i64>(2)).unwrap_or(0),
                });
            }
            for r in super::query(
                &self.stmts,
                &tx,
                "SELECT source, file, id,
                     message FROM load_errors ORDER BY source, file, seq",
                &[],
            )
            .await
            .map_err(&err)?
            {
                out.load_errors.push(LoadError {
                    source: r.get(0),
                    file: r.get(1),
                    id: r.get(2),
                    message: r.get(3),
                });
            }
            tx.commit().await.map_err(&err)?;
            Ok(out)
        })
    }

    fn withdrawn(&self, ids: &[String]) -> Result<Vec<String>, StoreError> {
        let err = self.err();
        self.run(async {
            // Withdrawn in every source that holds the id under any of its names.
            let rows = super::query(
                &self.stmts,
                &self.client,
                "SELECT l.alias FROM aliases l JOIN advisories a
                       ON a.source = l.source AND a.id = l.id
                     WHERE l.alias = ANY($1)
                     GROUP BY l.alias HAVING bool_and(a.withdrawn)",
                &[&ids],
            )
            .await
            .map_err(&err)?;
            let gone: HashSet<String> = rows.iter().map(|r| r.get(0)).collect();
            Ok(ids.iter().filter(|i| gone.contains(*i)).cloned().collect())
        })
    }

    fn change_generations(&self) -> Result<Option<ChangeGenerations>, StoreError> {
        let err = self.err();
        self.run(async {
            let mut out = ChangeGenerations::default();
            for r in super::query(
                &self.stmts,
                &self.client,
                "SELECT kind,
                     generation FROM change_generation",
                &[],
            )
            .await
            .map_err(&err)?
            {
                match r.get::<_, &str>(0) {
                    "current" => out.current = r.get(1),
                    "everything" => out.everything = r.get(1),
                    _ => {}
                }
            }
            for r in super::query(
                &self.stmts,
                &self.client,
                "SELECT ecosystem, name,
                                                                  generation FROM package_changes",
                &[],
            )
            .await
            .map_err(&err)?
            {
                out.packages.insert((r.get(0), r.get(1)), r.get(2));
            }
            Ok(Some(out))
        })
    }

    fn crate_index_cached(&self, name: &str) -> Result<Option<Cached>, StoreError> {
        let err = self.err();
        let key = name.to_ascii_lowercase();
        self.run(async {
            let row = super::query_opt(
                &self.stmts,
                &self.client,
                "SELECT etag,
                     yanked FROM crate_index WHERE name = $1",
                &[&key],
            )
            .await
            .map_err(&err)?;
            Ok(row.map(|r| (r.get(0), decode_yanked(r.get(1)))))
        })
    }

    fn put_crate_indexes(
        &mut self,
        entries: &[(String, Option<String>, Vec<String>)],
    ) -> Result<(), StoreError> {
        let at = self.at.clone();
        let err = super::pg_err(&at);
        let now = Timestamp::now();
        let names: Vec<String> = entries.iter().map(|e| e.0.to_ascii_lowercase()).collect();
        let etags: Vec<Option<&str>> = entries.iter().map(|e| e.1.as_deref()).collect();
        let yanked: Vec<String> = entries
            .iter()
            .map(|e| serde_json::to_string(&e.2).unwrap_or_else(|_| "[]".into()))
            .collect();
        let rt = self.rt.clone();
        rt.block_on(async {
            let tx = self.client.transaction().await.map_err(&err)?;
            // Crates whose yanked versions change: their projects are rescanned.
            let before: HashMap<String, String> = super::query(
                &self.stmts,
                &tx,
                "SELECT name, yanked FROM crate_index WHERE name = ANY($1)",
                &[&names],
            )
            .await
            .map_err(&err)?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
            let eco = Ecosystem::CratesIo;
            let touched: BTreeSet<(String, String)> = names
                .iter()
                .zip(&yanked)
                .filter(|(n, y)| before.get(*n) != Some(*y))
                .map(|(n, _)| (eco.as_osv().to_string(), eco.normalize_name(n)))
                .collect();
            // DISTINCT ON keeps the last entry of a name given twice (ON CONFLICT may not touch
            // a row twice).
            super::execute(
                &self.stmts,
                &tx,
                "INSERT INTO crate_index (name, etag,
                                                  fetched_at, yanked)
                     SELECT DISTINCT ON (n) n, e, $4, y
                     FROM unnest($1::text[], $2::text[],
                         $3::text[]) WITH ORDINALITY AS u(n, e, y, o)
                     ORDER BY n, o DESC
                     ON CONFLICT (name) DO UPDATE SET etag = excluded.etag,
                         fetched_at = excluded.fetched_at, yanked = excluded.yanked",
                &[&names, &etags, &yanked, &now],
            )
            .await
            .map_err(&err)?;
            mark_changed(&tx, &touched, false).await.map_err(&err)?;
            tx.commit().await.map_err(&err)?;
            Ok(())
        })
    }
}
