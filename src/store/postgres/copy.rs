//! Writing a whole [`Dump`] into a PostgreSQL store (`db copy`), in one transaction.

use super::{PgStore, other_err};
use crate::store::StoreError;
use crate::store::dump::Dump;

/// Tables emptied by `--replace`, in one statement (foreign keys between them allow it).
/// `project_inputs` goes too: the copied memory was not scanned from what it remembers, so
/// every project is rescanned once.
const TABLES: &str = "sources, advisories, affected, aliases, load_errors, crate_index, findings_seen, outbox, \
     runs, health, secrets, signal_sets, kev, epss, digest_held, digest_sent, project_inputs, api_tokens,
     daily_open, project_summary";

impl PgStore {
    /// Write every row of `d`. A store holding data is refused unless `replace`, which
    /// empties it first; either way readers see the old store or the new one, never a mix.
    pub fn load(&mut self, d: &Dump, replace: bool) -> Result<(), StoreError> {
        let at = self.at.clone();
        let err = super::pg_err(&at);
        let rt = self.rt.clone();
        rt.block_on(async {
            let tx = self.client.transaction().await.map_err(&err)?;
            // Another copy or a sync starting meanwhile waits for this one.
            tx.batch_execute(&format!("LOCK TABLE {TABLES} IN EXCLUSIVE MODE"))
                .await
                .map_err(&err)?;
            let held: i64 = tx
                .query_one(
                    "SELECT (SELECT COUNT(*) FROM sources) + (SELECT COUNT(*) FROM findings_seen)
                          + (SELECT COUNT(*) FROM outbox) + (SELECT COUNT(*) FROM runs)
                          + (SELECT COUNT(*) FROM health) + (SELECT COUNT(*) FROM crate_index)
                          + (SELECT COUNT(*) FROM signal_sets) + (SELECT COUNT(*) FROM digest_held)
                          + (SELECT COUNT(*) FROM digest_sent) + (SELECT COUNT(*) FROM api_tokens)
                          + (SELECT COUNT(*) FROM daily_open)
                          + (SELECT COUNT(*) FROM project_summary)",
                    &[],
                )
                .await
                .map_err(&err)?
                .get(0);
            if held > 0 && !replace {
                return Err(other_err(
                    &at,
                    format!(
                        "the target store is not empty ({held} rows of sources, findings, \
                         outbox, runs, health, crate index, exploit data, digests, tokens \
                         and history); pass \
                         --replace to overwrite it"
                    ),
                ));
            }
            if held > 0 || replace {
                tx.batch_execute(&format!("TRUNCATE {TABLES} RESTART IDENTITY"))
                    .await
                    .map_err(&err)?;
            }
            macro_rules! col {
                ($v:expr, $f:expr) => {
                    $v.iter().map($f).collect::<Vec<_>>()
                };
            }
            let s = &d.sources;
            tx.execute(
                "INSERT INTO sources (source, cursor, etag, last_modified, last_attempt,
                     last_success, last_error, records, resync)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
                     $5::timestamptz[], $6::timestamptz[], $7::text[], $8::bigint[], $9::bool[])",
                &[
                    &col!(s, |(x, _)| x.source.as_str()),
                    &col!(s, |(x, _)| x.cursor.as_deref()),
                    &col!(s, |(x, _)| x.etag.as_deref()),
                    &col!(s, |(x, _)| x.last_modified.as_deref()),
                    &col!(s, |(x, _)| x.last_attempt),
                    &col!(s, |(x, _)| x.last_success),
                    &col!(s, |(x, _)| x.last_error.as_deref()),
                    &col!(s, |(x, _)| x.records),
                    &col!(s, |(_, r)| *r),
                ],
            )
            .await
            .map_err(&err)?;
            let a = &d.advisories;
            tx.execute(
                "INSERT INTO advisories (source, id, modified, withdrawn, record)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::text[])",
                &[
                    &col!(a, |x| x.0.as_str()),
                    &col!(a, |x| x.1.as_str()),
                    &col!(a, |x| x.2.as_str()),
                    &col!(a, |x| x.3),
                    &col!(a, |x| x.4.as_str()),
                ],
            )
            .await
            .map_err(&err)?;
            let f = &d.affected;
            tx.execute(
                "INSERT INTO affected (ecosystem, name, source, id)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])",
                &[
                    &col!(f, |x| x.0.as_str()),
                    &col!(f, |x| x.1.as_str()),
                    &col!(f, |x| x.2.as_str()),
                    &col!(f, |x| x.3.as_str()),
                ],
            )
            .await
            .map_err(&err)?;
            let l = &d.aliases;
            tx.execute(
                "INSERT INTO aliases (alias, source, id)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[])",
                &[
                    &col!(l, |x| x.0.as_str()),
                    &col!(l, |x| x.1.as_str()),
                    &col!(l, |x| x.2.as_str()),
                ],
            )
            .await
            .map_err(&err)?;
            let e = &d.load_errors;
            tx.execute(
                "INSERT INTO load_errors (source, file, id, message)
                 SELECT s, f, i, m FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
                     WITH ORDINALITY AS u(s, f, i, m, o) ORDER BY o",
                &[
                    &col!(e, |x| x.source.as_str()),
                    &col!(e, |x| x.file.as_str()),
                    &col!(e, |x| x.id.as_deref()),
                    &col!(e, |x| x.message.as_str()),
                ],
            )
            .await
            .map_err(&err)?;
            let c = &d.crate_index;
            tx.execute(
                "INSERT INTO crate_index (name, etag, fetched_at, yanked)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[])",
                &[
                    &col!(c, |x| x.0.as_str()),
                    &col!(c, |x| x.1.as_deref()),
                    &col!(c, |x| x.2),
                    &col!(c, |x| x.3.as_str()),
                ],
            )
            .await
            .map_err(&err)?;
            let n = &d.seen;
            tx.execute(
                "INSERT INTO findings_seen (project, fingerprint, first_seen, last_seen,
                     resolved_at, state)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[],
                     $4::timestamptz[], $5::timestamptz[], $6::text[])",
                &[
                    &col!(n, |x| x.0.as_str()),
                    &col!(n, |x| x.1.fingerprint.as_str()),
                    &col!(n, |x| x.1.first_seen),
                    &col!(n, |x| x.1.last_seen),
                    &col!(n, |x| x.1.resolved_at),
                    &col!(n, |x| x.1.state.as_str()),
                ],
            )
            .await
            .map_err(&err)?;
            let o = &d.outbox;
            tx.execute(
                "INSERT INTO outbox (id, project, channel, event, payload, created_at, attempts,
                     next_attempt, sent_at, last_error, gave_up_at)
                 SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[],
                     $5::text[], $6::timestamptz[], $7::bigint[], $8::timestamptz[],
                     $9::timestamptz[], $10::text[], $11::timestamptz[])",
                &[
                    &col!(o, |x| x.id),
                    &col!(o, |x| x.project.as_str()),
                    &col!(o, |x| x.channel.as_str()),
                    &col!(o, |x| x.event.as_str()),
                    &col!(o, |x| x.payload.as_str()),
                    &col!(o, |x| x.created_at),
                    &col!(o, |x| x.attempts),
                    &col!(o, |x| x.next_attempt),
                    &col!(o, |x| x.sent_at),
                    &col!(o, |x| x.last_error.as_deref()),
                    &col!(o, |x| x.gave_up_at),
                ],
            )
            .await
            .map_err(&err)?;
            let r = &d.runs;
            tx.execute(
                "INSERT INTO runs (id, started_at, finished_at, outcome, summary)
                 SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[],
                     $4::text[], $5::text[])",
                &[
                    &col!(r, |x| x.id),
                    &col!(r, |x| x.started_at),
                    &col!(r, |x| x.finished_at),
                    &col!(r, |x| x.outcome.as_deref()),
                    &col!(r, |x| x.summary.as_deref()),
                ],
            )
            .await
            .map_err(&err)?;
            let h = &d.health;
            tx.execute(
                "INSERT INTO health (component, failures, first_failed_at, last_error, alerted_at)
                 SELECT * FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::text[],
                     $5::timestamptz[])",
                &[
                    &col!(h, |x| x.component.as_str()),
                    &col!(h, |x| i64::from(x.failures)),
                    &col!(h, |x| x.first_failed_at),
                    &col!(h, |x| x.last_error.as_deref()),
                    &col!(h, |x| x.alerted_at),
                ],
            )
            .await
            .map_err(&err)?;
            for (name, value) in &d.secrets {
                tx.execute(
                    "INSERT INTO secrets (name, value) VALUES ($1, $2)",
                    &[name, value],
                )
                .await
                .map_err(&err)?;
            }
            let g = &d.signal_sets;
            tx.execute(
                "INSERT INTO signal_sets (kind, source, version, dated, rows)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])",
                &[
                    &col!(g, |x| x.kind.as_str()),
                    &col!(g, |x| x.source.as_str()),
                    &col!(g, |x| x.version.as_deref()),
                    &col!(g, |x| x.dated.as_deref()),
                    &col!(g, |x| x.rows),
                ],
            )
            .await
            .map_err(&err)?;
            let k = &d.kev;
            tx.execute(
                "INSERT INTO kev (cve, date_added, due_date, ransomware, vendor_project, product)
                 SELECT * FROM unnest($1::text[], $2::date[], $3::date[], $4::text[], $5::text[],
                     $6::text[])",
                &[
                    &col!(k, |x| x.cve.as_str()),
                    &col!(k, |x| x.date_added),
                    &col!(k, |x| x.due_date),
                    &col!(k, |x| x.ransomware.as_str()),
                    &col!(k, |x| x.vendor_project.as_str()),
                    &col!(k, |x| x.product.as_str()),
                ],
            )
            .await
            .map_err(&err)?;
            // 313k EPSS rows: three arrays in one statement, well under a second.
            let p = &d.epss;
            tx.execute(
                "INSERT INTO epss (cve, score, percentile)
                 SELECT * FROM unnest($1::text[], $2::float8[], $3::float8[])",
                &[
                    &col!(p, |x| x.0.as_str()),
                    &col!(p, |x| x.1),
                    &col!(p, |x| x.2),
                ],
            )
            .await
            .map_err(&err)?;
            let hd = &d.held;
            tx.execute(
                "INSERT INTO digest_held (id, project, event, item, held_at)
                 SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[],
                     $5::timestamptz[])",
                &[
                    &col!(hd, |x| x.id),
                    &col!(hd, |x| x.project.as_str()),
                    &col!(hd, |x| x.event.as_str()),
                    &col!(hd, |x| x.item.as_str()),
                    &col!(hd, |x| x.held_at),
                ],
            )
            .await
            .map_err(&err)?;
            let ds = &d.digest_sent;
            tx.execute(
                "INSERT INTO digest_sent (project, queued_at)
                 SELECT * FROM unnest($1::text[], $2::timestamptz[])",
                &[&col!(ds, |x| x.0.as_str()), &col!(ds, |x| x.1)],
            )
            .await
            .map_err(&err)?;
            let tk = &d.tokens;
            tx.execute(
                "INSERT INTO api_tokens (id, project, scope, hash, created_at, revoked_at)
                 SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bytea[],
                     $5::timestamptz[], $6::timestamptz[])",
                &[
                    &col!(tk, |x| x.id),
                    &col!(tk, |x| x.project.as_str()),
                    &col!(tk, |x| x.scope.as_str()),
                    &col!(tk, |x| x.hash.as_slice()),
                    &col!(tk, |x| x.created_at),
                    &col!(tk, |x| x.revoked_at),
                ],
            )
            .await
            .map_err(&err)?;
            let dh = &d.daily_open;
            tx.execute(
                "INSERT INTO daily_open (project, day, severity, open)
                 SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::int4[])",
                &[
                    &col!(dh, |x| x.0.as_str()),
                    &col!(dh, |x| x.1.day),
                    &col!(dh, |x| x.1.severity.as_str()),
                    &col!(dh, |x| i32::try_from(x.1.open).unwrap_or(i32::MAX)),
                ],
            )
            .await
            .map_err(&err)?;
            let ps = &d.project_summary;
            tx.execute(
                "INSERT INTO project_summary (project, summary)
                 SELECT * FROM unnest($1::text[], $2::text[])",
                &[&col!(ps, |x| x.0.as_str()), &col!(ps, |x| x.1.as_str())],
            )
            .await
            .map_err(&err)?;
            // New rows continue after the copied ids.
            tx.batch_execute(
                "SELECT setval(pg_get_serial_sequence('outbox', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM outbox;
                 SELECT setval(pg_get_serial_sequence('runs', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM runs;
                 SELECT setval(pg_get_serial_sequence('digest_held', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM digest_held;
                 SELECT setval(pg_get_serial_sequence('api_tokens', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM api_tokens;",
            )
            .await
            .map_err(&err)?;
            tx.commit().await.map_err(&err)
        })
    }
}
