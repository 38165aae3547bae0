//! The PostgreSQL store: [`PgStore`] implements [`AdvisoryStore`](super::AdvisoryStore) and
//! [`MonitorState`](super::MonitorState) on one `tokio-postgres` connection, one file per trait
//! (`advisories.rs`, `monitor.rs`) over the helpers here ([`PgStore::run`], [`pg_err`]).
//!
//! The traits are blocking (see `traits.rs`): every method `block_on`s its queries through a
//! [`tokio::runtime::Handle`] to the binary's runtime, whose executor also drives the
//! connection. So it must be called from a blocking thread (`spawn_blocking`, a thread of its
//! own), never from an async task: tokio panics on `block_on` inside a task, and no public API
//! tells the two apart beforehand. Every method is one transaction, as in the SQLite store; a scan's
//! reads are one `REPEATABLE READ` snapshot.
//!
//! Text columns that are keys or sorted are `COLLATE "C"`: byte order, as SQLite sorts, whatever
//! the database's locale. Times are `timestamptz` (microseconds).
//!
//! The location is a URL (`postgres://user@host:port/db?sslmode=require`) or a libpq key=value
//! string; the password comes from it or from `PGPASSWORD` and never appears in a message:
//! errors and logs name the store by [`PgLocation`]'s display, which has no password.

mod advisories;
mod copy;
mod monitor;
mod schema;
// The tests' throwaway server, shared with `tests/it/postgres.rs`; outside `src/`, as it
// builds its own runtime, which library code never does.
#[cfg(test)]
#[path = "../../../tests/support/pg_cluster.rs"]
pub(crate) mod test_cluster;

use super::{Stats, StoreError};
use std::future::Future;
use std::time::Duration;
use tokio_postgres::config::{Host, SslMode};

/// Where a PostgreSQL store is: its connection settings (with the password, if given) and the
/// form that is shown.
#[derive(Clone)]
pub struct PgLocation {
    // Boxed: a location sits in error values, which stay small.
    config: Box<tokio_postgres::Config>,
    /// libpq's `sslrootcert`: the only root the server's certificate may chain to (PEM).
    root_cert: Option<std::path::PathBuf>,
    shown: String,
}

impl std::fmt::Debug for PgLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl std::fmt::Display for PgLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl PgLocation {
    /// Parse a `postgres://` / `postgresql://` URL or a key=value string. A password missing
    /// from it is taken from `PGPASSWORD`, as libpq does.
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        let bad = |message: String| StoreError::Postgres {
            // The text may hold a password: only the parts that cannot are shown.
            at: crate::net::redact(text),
            message,
        };
        let (text, root_cert) = libpq_tls_options(text).map_err(bad)?;
        let mut config: tokio_postgres::Config = text
            .parse()
            .map_err(|e: tokio_postgres::Error| bad(error_text(&e)))?;
        if config.get_password().is_none()
            && let Some(pw) = std::env::var_os("PGPASSWORD")
        {
            use std::os::unix::ffi::OsStrExt;
            config.password(pw.as_bytes());
        }
        if config.get_connect_timeout().is_none() {
            // libpq waits forever by default; a monitor cycle should fail and say so.
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("depwatch");
        }
        if root_cert.is_some() && config.get_ssl_mode() != SslMode::Require {
            return Err(bad(
                "sslrootcert is given but sslmode is not require (or verify-ca / verify-full): \
                 the connection would not use TLS"
                    .into(),
            ));
        }
        let shown = shown(&config);
        Ok(Self {
            config: Box::new(config),
            root_cert,
            shown,
        })
    }

    /// The database name, for messages.
    pub fn dbname(&self) -> Option<&str> {
        self.config.get_dbname()
    }

    /// The same server with another database (tests, and `db copy` target checks).
    pub fn with_dbname(&self, name: &str) -> Self {
        let mut config = self.config.clone();
        config.dbname(name);
        let shown = shown(&config);
        Self {
            config,
            root_cert: self.root_cert.clone(),
            shown,
        }
    }
}

/// The libpq TLS options `tokio-postgres` does not parse, taken out of `text` (a URL's query or
/// a key=value string): `sslrootcert=PATH` (returned), and `sslmode=verify-ca` /
/// `verify-full`, which become `require` (depwatch's `require` already verifies the
/// certificate and the host name, as `verify-full` does). Hand-written: no crate parses
/// libpq's connection strings with these options.
fn libpq_tls_options(text: &str) -> Result<(String, Option<std::path::PathBuf>), String> {
    let mut root = None;
    let verify = |v: &str| matches!(v, "verify-ca" | "verify-full");
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        let Some((base, query)) = text.split_once('?') else {
            return Ok((text.to_string(), None));
        };
        let mut kept = Vec::new();
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_encoding::percent_decode_str(v)
                .decode_utf8()
                .map_err(|_| format!("{k}: not UTF-8"))?;
            match k {
                "sslrootcert" => root = Some(std::path::PathBuf::from(value.as_ref())),
                "sslmode" if verify(&value) => kept.push("sslmode=require".to_string()),
                _ => kept.push(pair.to_string()),
            }
        }
        let text = match kept.is_empty() {
            true => base.to_string(),
            false => format!("{base}?{}", kept.join("&")),
        };
        return Ok((text, root));
    }
    let mut kept = Vec::new();
    for word in text.split_whitespace() {
        match word.split_once('=') {
            Some(("sslrootcert", v)) if v.starts_with('\'') => {
                return Err("sslrootcert: write the path without quotes, or use the \
                            postgres:// URL form with the path percent-encoded"
                    .into());
            }
            Some(("sslrootcert", v)) => root = Some(std::path::PathBuf::from(v)),
            Some(("sslmode", v)) if verify(v) => kept.push("sslmode=require"),
            _ => kept.push(word),
        }
    }
    // Only rebuilt when something was taken out: a quoted value with spaces stays intact.
    if root.is_none()
        && !text
            .split_whitespace()
            .any(|w| w.starts_with("sslmode=verify-"))
    {
        return Ok((text.to_string(), None));
    }
    Ok((kept.join(" "), root))
}

/// `postgres://user@host:port/db`: every setting that says where, none that is secret.
fn shown(c: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = c
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = match h {
                Host::Tcp(h) => h.clone(),
                Host::Unix(p) => p.display().to_string(),
            };
            match c.get_ports().get(i).or(c.get_ports().first()) {
                Some(p) => format!("{host}:{p}"),
                None => host,
            }
        })
        .collect();
    let user = c.get_user().map(|u| format!("{u}@")).unwrap_or_default();
    let tls = match c.get_ssl_mode() {
        SslMode::Require => "?sslmode=require",
        _ => "",
    };
    // The root named by `sslrootcert` is not secret, but long: `shown` says where, not how.
    format!(
        "postgres://{user}{}/{}{tls}",
        hosts.join(","),
        c.get_dbname().unwrap_or("")
    )
}

/// A `tokio-postgres` error as one line: its kind, the server's message and detail, and the
/// causes (its `Display` alone says only "db error").
pub(crate) fn error_text(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!("{}: {}", db.severity(), db.message());
        if let Some(d) = db.detail() {
            s.push_str(&format!(" ({d})"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cause = c.source();
    }
    s
}

/// The store's error for a `tokio-postgres` error at `at`.
pub(crate) fn pg_err(at: &str) -> impl Fn(tokio_postgres::Error) -> StoreError + '_ {
    move |e| StoreError::Postgres {
        at: at.to_string(),
        message: error_text(&e),
    }
}

/// An error that is not the server's (a value that does not decode, a misuse).
pub(crate) fn other_err(at: &str, message: impl Into<String>) -> StoreError {
    StoreError::Postgres {
        at: at.to_string(),
        message: message.into(),
    }
}

/// The PostgreSQL store on one connection.
pub struct PgStore {
    client: tokio_postgres::Client,
    rt: tokio::runtime::Handle,
    at: String,
    /// This store handle's name in outbox claims (random).
    claimer: String,
    /// How long a claim on due messages lasts.
    lease: Duration,
    /// The statements of the frequent queries, prepared once per connection ([`cached`]).
    stmts: StmtCache,
}

/// Prepared statements by their SQL.
pub(crate) type StmtCache =
    std::sync::Mutex<std::collections::HashMap<&'static str, tokio_postgres::Statement>>;

/// `sql` prepared on `c`'s connection, once: a query given as text is prepared again on every
/// call, a round trip of its own, which was a third of a cycle's time on an unchanged
/// project (issue 15). A statement outlives the transaction it was prepared in; a new
/// connection is a new store, with an empty cache.
pub(crate) async fn cached(
    stmts: &StmtCache,
    c: &impl tokio_postgres::GenericClient,
    sql: &'static str,
) -> Result<tokio_postgres::Statement, tokio_postgres::Error> {
    let hit = stmts
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(sql)
        .cloned();
    if let Some(s) = hit {
        return Ok(s);
    }
    let s = c.prepare(sql).await?;
    stmts
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(sql, s.clone());
    Ok(s)
}

/// The parameters of a query.
pub(crate) type Params<'a> = &'a [&'a (dyn tokio_postgres::types::ToSql + Sync)];

/// [`tokio_postgres::GenericClient::execute`] of `sql`, prepared once ([`cached`]).
pub(crate) async fn execute(
    stmts: &StmtCache,
    c: &impl tokio_postgres::GenericClient,
    sql: &'static str,
    params: Params<'_>,
) -> Result<u64, tokio_postgres::Error> {
    c.execute(&cached(stmts, c, sql).await?, params).await
}

/// [`tokio_postgres::GenericClient::query`] of `sql`, prepared once ([`cached`]).
pub(crate) async fn query(
    stmts: &StmtCache,
    c: &impl tokio_postgres::GenericClient,
    sql: &'static str,
    params: Params<'_>,
) -> Result<Vec<tokio_postgres::Row>, tokio_postgres::Error> {
    c.query(&cached(stmts, c, sql).await?, params).await
}

/// [`tokio_postgres::GenericClient::query_opt`] of `sql`, prepared once ([`cached`]).
pub(crate) async fn query_opt(
    stmts: &StmtCache,
    c: &impl tokio_postgres::GenericClient,
    sql: &'static str,
    params: Params<'_>,
) -> Result<Option<tokio_postgres::Row>, tokio_postgres::Error> {
    c.query_opt(&cached(stmts, c, sql).await?, params).await
}

/// [`tokio_postgres::GenericClient::query_one`] of `sql`, prepared once ([`cached`]).
pub(crate) async fn query_one(
    stmts: &StmtCache,
    c: &impl tokio_postgres::GenericClient,
    sql: &'static str,
    params: Params<'_>,
) -> Result<tokio_postgres::Row, tokio_postgres::Error> {
    c.query_one(&cached(stmts, c, sql).await?, params).await
}

/// How long a sender's claim on the messages it fetched lasts: longer than delivering a
/// run's messages takes (each channel request times out well within it), short enough that a
/// crashed sender's messages go out on another process's next cycle.
pub const OUTBOX_LEASE: Duration = Duration::from_secs(15 * 60);

/// The outbox lease: [`OUTBOX_LEASE`], or `DEPWATCH_OUTBOX_LEASE_SECS` (whole seconds, at
/// least 1) where a deployment's deliveries need longer or a crashed sender's messages should
/// go out sooner; an unreadable value is ignored with a warning.
fn lease_from_env() -> Duration {
    match std::env::var("DEPWATCH_OUTBOX_LEASE_SECS") {
        Err(_) => OUTBOX_LEASE,
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(n) if n >= 1 => Duration::from_secs(n),
            _ => {
                tracing::warn!(value = %v, "DEPWATCH_OUTBOX_LEASE_SECS is not a whole number of seconds >= 1; using 900");
                OUTBOX_LEASE
            }
        },
    }
}

impl PgStore {
    /// Connect to `loc`, running the connection on `rt`, and bring the schema up to date.
    /// Blocks: call it from a blocking thread, never from a task of `rt`.
    pub fn open(loc: &PgLocation, rt: &tokio::runtime::Handle) -> Result<Self, StoreError> {
        let mut s = Self::connect(loc, rt)?;
        s.migrate()?;
        Ok(s)
    }

    /// Connect to `loc` for reading: nothing is created or migrated. A database without the
    /// store's tables, or with an older schema, is an error saying to sync first.
    pub fn open_read_only(
        loc: &PgLocation,
        rt: &tokio::runtime::Handle,
    ) -> Result<Self, StoreError> {
        let s = Self::connect(loc, rt)?;
        let found = s.schema_version()?;
        let latest = schema::MIGRATIONS.len() as i64;
        if found == 0 {
            return Err(other_err(
                &s.at,
                "the database holds no depwatch store: run `depwatch sync` first",
            ));
        }
        if found > latest {
            return Err(StoreError::TooNew {
                path: loc.shown.clone().into(),
                found,
                supported: latest,
            });
        }
        if found < latest {
            return Err(StoreError::NeedsUpgrade {
                path: loc.shown.clone().into(),
                found,
                supported: latest,
            });
        }
        Ok(s)
    }

    fn connect(loc: &PgLocation, rt: &tokio::runtime::Handle) -> Result<Self, StoreError> {
        let at = loc.shown.clone();
        let config = (*loc.config).clone();
        let err = pg_err(&at);
        let client = rt.block_on(async {
            if config.get_ssl_mode() == SslMode::Require {
                let tls = tls_connector(loc.root_cert.as_deref()).map_err(|m| other_err(&at, m))?;
                let (client, conn) = config.connect(tls).await.map_err(&err)?;
                rt.spawn(drive(conn, at.clone()));
                Ok::<_, StoreError>(client)
            } else {
                let (client, conn) = config.connect(tokio_postgres::NoTls).await.map_err(&err)?;
                rt.spawn(drive(conn, at.clone()));
                Ok(client)
            }
        })?;
        drop(err);
        let mut token = [0u8; 12];
        aws_lc_rs::rand::fill(&mut token).map_err(|_| other_err(&at, "no random bytes"))?;
        Ok(Self {
            client,
            rt: rt.clone(),
            at,
            claimer: token.iter().map(|b| format!("{b:02x}")).collect(),
            lease: lease_from_env(),
            stmts: Default::default(),
        })
    }

    /// The store's location as shown (no password).
    pub fn location(&self) -> &str {
        &self.at
    }

    /// Claim due messages for `lease` instead of [`OUTBOX_LEASE`] (tests of an expiring
    /// lease).
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Run `f` to completion on the runtime, from this blocking thread.
    fn run<'a, T>(
        &'a self,
        f: impl Future<Output = Result<T, StoreError>> + 'a,
    ) -> Result<T, StoreError> {
        self.rt.block_on(f)
    }

    fn err(&self) -> impl Fn(tokio_postgres::Error) -> StoreError + '_ {
        pg_err(&self.at)
    }

    /// The schema version, 0 for a database without the store's tables.
    fn schema_version(&self) -> Result<i64, StoreError> {
        let err = self.err();
        self.run(async {
            let exists: bool = self
                .client
                .query_one("SELECT to_regclass('depwatch_schema') IS NOT NULL", &[])
                .await
                .map_err(&err)?
                .get(0);
            if !exists {
                return Ok(0);
            }
            let row = self
                .client
                .query_opt("SELECT version FROM depwatch_schema", &[])
                .await
                .map_err(&err)?;
            Ok(row.map_or(0, |r| r.get::<_, i64>(0)))
        })
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let at = self.at.clone();
        let err = pg_err(&at);
        let latest = schema::MIGRATIONS.len() as i64;
        let rt = self.rt.clone();
        rt.block_on(async {
            let tx = self.client.transaction().await.map_err(&err)?;
            // Two processes opening a new store at once: the second waits here, then sees the
            // version the first wrote and applies nothing twice.
            tx.execute(
                "SELECT pg_advisory_xact_lock($1)",
                &[&schema::MIGRATION_LOCK],
            )
            .await
            .map_err(&err)?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS depwatch_schema (version bigint NOT NULL)",
            )
            .await
            .map_err(&err)?;
            let found: i64 = match tx
                .query_opt("SELECT version FROM depwatch_schema", &[])
                .await
                .map_err(&err)?
            {
                Some(r) => r.get(0),
                None => {
                    tx.execute("INSERT INTO depwatch_schema (version) VALUES (0)", &[])
                        .await
                        .map_err(&err)?;
                    0
                }
            };
            if found > latest || found < 0 {
                return Err(StoreError::TooNew {
                    path: at.clone().into(),
                    found,
                    supported: latest,
                });
            }
            for sql in &schema::MIGRATIONS[found as usize..] {
                tx.batch_execute(sql).await.map_err(&err)?;
            }
            tx.execute("UPDATE depwatch_schema SET version = $1", &[&latest])
                .await
                .map_err(&err)?;
            tx.commit().await.map_err(&err)
        })
    }

    /// Counts per ecosystem and per source, and the database's size.
    pub fn stats(&self) -> Result<Stats, StoreError> {
        use super::AdvisoryStore;
        let err = self.err();
        let (by_ecosystem, records, bytes) = self.run(async {
            let mut by = std::collections::BTreeMap::new();
            for r in self
                .client
                .query(
                    "SELECT ecosystem, COUNT(DISTINCT (source, id)) FROM affected GROUP BY ecosystem",
                    &[],
                )
                .await
                .map_err(&err)?
            {
                by.insert(r.get::<_, String>(0), r.get::<_, i64>(1));
            }
            let records: i64 = self
                .client
                .query_one("SELECT COUNT(*) FROM advisories", &[])
                .await
                .map_err(&err)?
                .get(0);
            let bytes: i64 = self
                .client
                .query_one("SELECT pg_database_size(current_database())", &[])
                .await
                .map_err(&err)?
                .get(0);
            Ok((by, records, bytes))
        })?;
        Ok(Stats {
            path: self.at.clone().into(),
            schema_version: self.schema_version()?,
            bytes: u64::try_from(bytes).unwrap_or(0),
            by_ecosystem,
            sources: self.sources()?,
            records,
        })
    }

    /// The store's invariants and the index tables against the stored records (the checks
    /// `db check` runs on SQLite, minus SQLite's page check: PostgreSQL checks its own pages,
    /// and its foreign keys keep index rows from pointing at no record).
    pub fn check(&self) -> Result<Vec<String>, StoreError> {
        let err = self.err();
        let (mut problems, affected, aliases, records) = self.run(async {
            let mut problems = Vec::new();
            for (what, sql) in [
                (
                    "sources whose record count is wrong",
                    // An exploit-data source counts its KEV / EPSS rows, not records.
                    "SELECT COUNT(*) FROM sources s WHERE s.records != (SELECT COUNT(*) FROM advisories a WHERE a.source = s.source)
                       AND s.source NOT IN (SELECT source FROM signal_sets)",
                ),
                (
                    "records of a source with no sync state",
                    "SELECT COUNT(*) FROM advisories a LEFT JOIN sources s ON s.source = a.source WHERE s.source IS NULL",
                ),
                (
                    // The day is a date and the count checked non-negative by the schema.
                    "daily history rows that do not read (severity)",
                    "SELECT COUNT(*) FROM daily_open
                       WHERE severity NOT IN ('critical', 'high', 'medium', 'low', 'unknown')",
                ),
            ] {
                let n: i64 = self.client.query_one(sql, &[]).await.map_err(&err)?.get(0);
                if n > 0 {
                    problems.push(format!("{n} {what}"));
                }
            }
            let affected = self
                .client
                .query("SELECT source, id, ecosystem, name FROM affected", &[])
                .await
                .map_err(&err)?;
            let aliases = self
                .client
                .query("SELECT source, id, alias FROM aliases", &[])
                .await
                .map_err(&err)?;
            let records = self
                .client
                .query("SELECT source, id, record FROM advisories", &[])
                .await
                .map_err(&err)?;
            Ok((problems, affected, aliases, records))
        })?;
        let text = |r: &tokio_postgres::Row, i: usize| r.get::<_, String>(i);
        let stored_affected = affected
            .iter()
            .map(|r| (text(r, 0), text(r, 1), text(r, 2), text(r, 3)))
            .collect();
        let stored_aliases = aliases
            .iter()
            .map(|r| (text(r, 0), text(r, 1), text(r, 2), String::new()))
            .collect();
        let mut bad_json = 0;
        let mut wrong_id = 0;
        let mut decoded = Vec::new();
        for r in &records {
            let (source, id, json) = (text(r, 0), text(r, 1), text(r, 2));
            match serde_json::from_str::<serde_json::Value>(&json) {
                Err(_) => bad_json += 1,
                Ok(v) if v.get("id").and_then(|v| v.as_str()) != Some(id.as_str()) => wrong_id += 1,
                Ok(_) => {}
            }
            decoded.push((source, id, json));
        }
        if bad_json > 0 {
            problems.push(format!("{bad_json} records not valid JSON"));
        }
        if wrong_id > 0 {
            problems.push(format!(
                "{wrong_id} records whose stored id differs from the JSON id"
            ));
        }
        problems.extend(super::index_problems(
            &decoded,
            &stored_affected,
            &stored_aliases,
        ));
        Ok(problems)
    }
}

/// `pg_advisory_lock` key of the cycle lock ("depc"); advisory locks are per database, and a
/// database is one store.
const CYCLE_LOCK: i64 = 0x6465_7063;

/// One cycle at a time across every process sharing a PostgreSQL store: a session-level
/// advisory lock held by a connection of its own. Dropping it closes the connection, which
/// releases the lock; so does the server when the holder dies (its session ends).
pub struct PgCycleLock {
    _client: tokio_postgres::Client,
}

impl PgCycleLock {
    /// Take the lock if it is free; `Ok(None)` when another session holds it. Blocks.
    pub fn try_acquire(
        loc: &PgLocation,
        rt: &tokio::runtime::Handle,
    ) -> Result<Option<Self>, StoreError> {
        let s = PgStore::connect(loc, rt)?;
        let err = s.err();
        let got: bool = s.run(async {
            Ok(s.client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&CYCLE_LOCK])
                .await
                .map_err(&err)?
                .get(0))
        })?;
        drop(err);
        Ok(got.then_some(Self { _client: s.client }))
    }

    /// Who holds the lock, for a waiter's message: the holding session's server pid, client
    /// address and application name; "unknown" when it cannot be read.
    pub fn holder(loc: &PgLocation, rt: &tokio::runtime::Handle) -> String {
        let Ok(s) = PgStore::connect(loc, rt) else {
            return "unknown".into();
        };
        let err = s.err();
        let row = s.run(async {
            s.client
                .query_opt(
                    "SELECT a.pid, COALESCE(host(a.client_addr), 'local'), a.application_name
                     FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                     WHERE l.locktype = 'advisory' AND l.granted AND l.database = (
                         SELECT oid FROM pg_database WHERE datname = current_database())
                       AND l.classid = ($1::bigint >> 32)::oid AND l.objid = ($1::bigint & 4294967295)::oid
                       AND l.objsubid = 1",
                    &[&CYCLE_LOCK],
                )
                .await
                .map_err(&err)
        });
        match row {
            Ok(Some(r)) => format!(
                "PostgreSQL session {} ({} from {})",
                r.get::<_, i32>(0),
                r.get::<_, String>(2),
                r.get::<_, String>(1)
            ),
            _ => "unknown".into(),
        }
    }
}

/// Drive a connection until its client is dropped; a broken connection is logged (its
/// queries fail with their own errors).
async fn drive<C>(conn: C, at: String)
where
    C: Future<Output = Result<(), tokio_postgres::Error>>,
{
    if let Err(e) = conn.await {
        tracing::warn!(store = %at, error = %error_text(&e), "PostgreSQL connection closed");
    }
}

/// TLS for `sslmode=require`: rustls with the platform's verifier (system roots), so the
/// server's certificate is checked, which libpq's `require` alone does not do. With
/// `sslrootcert` (`root`), that file's certificates are the only roots (a private CA); the
/// host name is checked either way.
fn tls_connector(
    root: Option<&std::path::Path>,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?;
    let config = match root {
        None => builder
            .with_platform_verifier()
            .map_err(|e| format!("TLS setup: {e}"))?,
        Some(path) => {
            let at = |e: &dyn std::fmt::Display| format!("sslrootcert {}: {e}", path.display());
            // A certificate file is small; a bigger one is not what was meant.
            let meta = std::fs::metadata(path).map_err(|e| at(&e))?;
            if meta.len() > 1 << 20 {
                return Err(at(&"larger than 1 MiB"));
            }
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(path).map_err(|e| at(&e))? {
                roots.add(cert.map_err(|e| at(&e))?).map_err(|e| at(&e))?;
            }
            if roots.is_empty() {
                return Err(at(&"no PEM certificate in it"));
            }
            builder.with_root_certificates(roots)
        }
    };
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(
        config.with_no_client_auth(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new empty database on the test server.
    pub(crate) fn fresh(server: &test_cluster::Server) -> PgLocation {
        PgLocation::parse(&server.fresh_database()).unwrap()
    }

    #[test]
    fn libpq_tls_options_are_taken_out() {
        let (t, root) = libpq_tls_options(
            "postgres://u:p@h:5/d?sslmode=verify-full&sslrootcert=%2Fetc%2Fca%20x.pem&connect_timeout=3",
        )
        .unwrap();
        assert_eq!(t, "postgres://u:p@h:5/d?sslmode=require&connect_timeout=3");
        assert_eq!(root.unwrap(), std::path::Path::new("/etc/ca x.pem"));
        let (t, root) = libpq_tls_options("host=h sslmode=verify-ca sslrootcert=/ca.pem").unwrap();
        assert_eq!(
            (t.as_str(), root.unwrap()),
            ("host=h sslmode=require", "/ca.pem".into())
        );
        let plain = "host=h password='a b'";
        assert_eq!(libpq_tls_options(plain).unwrap(), (plain.to_string(), None));
        assert!(libpq_tls_options("host=h sslrootcert='/a b.pem'").is_err());
        let loc =
            PgLocation::parse("postgres://u@h/d?sslmode=verify-full&sslrootcert=/ca.pem").unwrap();
        assert_eq!(loc.to_string(), "postgres://u@h:5432/d?sslmode=require");
        assert_eq!(
            loc.root_cert.as_deref(),
            Some(std::path::Path::new("/ca.pem"))
        );
        // A root without TLS would be ignored silently: refused instead.
        let e = PgLocation::parse("postgres://u:hunter2@h/d?sslrootcert=/ca.pem").unwrap_err();
        assert!(e.to_string().contains("sslmode"), "{e}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn the_shown_location_has_no_password() {
        let loc =
            PgLocation::parse("postgres://dw:s3cr%21t@db.example:5433/depwatch?sslmode=require")
                .unwrap();
        let shown = loc.to_string();
        assert_eq!(
            shown,
            "postgres://dw@db.example:5433/depwatch?sslmode=require"
        );
        assert!(!format!("{loc:?}").contains("s3cr"));
        let kv = PgLocation::parse("host=h user=u password=hunter2 dbname=d").unwrap();
        assert!(!kv.to_string().contains("hunter2"), "{kv}");
        let e = PgLocation::parse("postgres://u:hunter2@h:notaport/d")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }

    /// On the test's runtime, from a blocking thread, as the binary calls a store.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn postgres_passes_the_store_conformance_suite() {
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let server = test_cluster::server();
            super::super::conformance::conformance(|| {
                PgStore::open(&fresh(server), &handle).unwrap()
            });
        })
        .await
        .unwrap();
    }

    fn message(n: usize) -> crate::store::NewMessage {
        crate::store::NewMessage {
            project: "p".into(),
            channel: "slack".into(),
            event: format!("new-{n}"),
            payload: "{}".into(),
        }
    }

    /// Two senders on one database: a due message is claimed by one only; marking it ends
    /// the claim; a claim whose holder is gone runs out and another sender gets the message.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_senders_never_get_the_same_message_and_an_expired_lease_frees_it() {
        use crate::store::MonitorState;
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let loc = fresh(test_cluster::server());
            let t0: jiff::Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
            let open = || PgStore::open(&loc, &handle).unwrap();
            let mut a = open().with_lease(Duration::from_secs(2));
            let b = open();
            a.record_run("p", &[], &[message(1), message(2)], t0)
                .unwrap();
            let got_a = a.due_messages(t0).unwrap();
            assert_eq!(got_a.len(), 2);
            assert!(
                a.due_messages(t0).unwrap().len() == 2,
                "its own claims stay due to it"
            );
            assert!(
                b.due_messages(t0).unwrap().is_empty(),
                "claimed by the other sender"
            );
            a.mark_sent(got_a[0].id, t0).unwrap();
            a.mark_failed(got_a[1].id, "HTTP 500", Some(t0), t0)
                .unwrap();
            let got_b = b.due_messages(t0).unwrap();
            assert_eq!(
                got_b.iter().map(|m| m.id).collect::<Vec<_>>(),
                [got_a[1].id]
            );
            assert!(a.due_messages(t0).unwrap().is_empty(), "now b's");
            // A sender that dies holding a claim: the message waits out the lease, then goes
            // to another sender.
            a.record_run("p", &[], &[message(3)], t0).unwrap();
            let third = a.due_messages(t0).unwrap();
            assert_eq!(third.len(), 1);
            drop(a);
            assert_eq!(b.due_messages(t0).unwrap().len(), 1, "only its own");
            std::thread::sleep(Duration::from_millis(2500));
            let after = b.due_messages(t0).unwrap();
            assert_eq!(after.len(), 2, "the lease ran out: {after:?}");
            assert!(after.iter().any(|m| m.id == third[0].id));

            // Many messages, two senders asking at the same moment: disjoint shares.
            let mut c = open();
            let many: Vec<_> = (10..210).map(message).collect();
            c.record_run("q", &[], &many, t0).unwrap();
            for m in &after {
                c.mark_sent(m.id, t0).unwrap();
            }
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
            let ask = |s: PgStore| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    s.due_messages(t0)
                        .unwrap()
                        .into_iter()
                        .map(|m| m.id)
                        .collect::<Vec<_>>()
                })
            };
            let (x, y) = (ask(c), ask(b));
            let (x, y) = (x.join().unwrap(), y.join().unwrap());
            let both: std::collections::BTreeSet<i64> = x.iter().chain(&y).copied().collect();
            assert_eq!(
                x.len() + y.len(),
                200,
                "every message claimed once: {} + {}",
                x.len(),
                y.len()
            );
            assert_eq!(both.len(), 200, "no message claimed twice");
        })
        .await
        .unwrap();
    }
}
