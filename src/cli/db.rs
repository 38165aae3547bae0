//! `depwatch db`.

use super::{Outcome, StoreArg};
use clap::Subcommand;

#[derive(clap::Args)]
pub struct DbArgs {
    #[command(subcommand)]
    command: DbCommand,
}

#[derive(Subcommand)]
enum DbCommand {
    /// Record counts, per-source freshness and size on disk.
    Stats {
        #[command(flatten)]
        store: StoreArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Integrity check: SQLite's, the store's own invariants, and the index tables against the
    /// stored records. Exit 0 sound, 1 problems found (each listed), 2 the store could not be
    /// read (missing or not a store).
    Check {
        #[command(flatten)]
        store: StoreArg,
    },
    /// Copy a whole SQLite store (advisories, sync state, memory, outbox, runs, health) into
    /// a PostgreSQL database, in one transaction. A target that holds data is refused unless
    /// --replace is given.
    Copy {
        /// The SQLite store to read: sqlite:PATH or PATH.
        #[arg(long, value_name = "PATH")]
        from: std::ffi::OsString,
        /// The PostgreSQL store to write: postgres://USER@HOST:PORT/DB (password from
        /// PGPASSWORD or the URL).
        #[arg(long, value_name = "URL")]
        to: std::ffi::OsString,
        /// Empty a target that holds data first (in the same transaction).
        #[arg(long)]
        replace: bool,
    },
}

/// Blocks (SQLite, PostgreSQL on the caller's runtime).
pub fn run(args: DbArgs) -> anyhow::Result<Outcome> {
    match args.command {
        DbCommand::Stats { store, json } => {
            let s = depwatch::store::open_read_only(&store.location()?)?.stats()?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                outln!(
                    "store: {} ({} bytes, schema {})",
                    s.path.display(),
                    s.bytes,
                    s.schema_version
                );
                outln!("records: {}", s.records);
                for (eco, n) in &s.by_ecosystem {
                    outln!("  {eco}: {n}");
                }
                for src in &s.sources {
                    outln!(
                        "source {}: {} records, last success {}, last attempt {}{}",
                        src.source,
                        src.records,
                        src.last_success.map_or("never".into(), |t| t.to_string()),
                        src.last_attempt.map_or("never".into(), |t| t.to_string()),
                        src.last_error
                            .as_deref()
                            .map(|e| format!(", last error: {e}"))
                            .unwrap_or_default()
                    );
                }
            }
            Ok(Outcome::Success)
        }
        DbCommand::Copy { from, to, replace } => {
            let from = depwatch::store::Location::parse(&from)?;
            let to = depwatch::store::Location::parse(&to)?;
            let n = depwatch::store::dump::copy(&from, &to, replace)?;
            outln!(
                "copied {from} to {to}: {} sources, {} records, {} remembered findings, \
                 {} outbox messages, {} runs, {} health rows, {} KEV/EPSS rows, \
                 {} events held for digests, {} API tokens, {} history rows",
                n.sources,
                n.records,
                n.findings,
                n.messages,
                n.runs,
                n.health,
                n.exploit_rows,
                n.held,
                n.tokens,
                n.history
            );
            Ok(Outcome::Success)
        }
        DbCommand::Check { store } => {
            let loc = store.location()?;
            // Checking must not create the store it checks: a missing one is an error.
            if loc.sqlite_path().is_some_and(|p| !p.exists()) {
                anyhow::bail!("{loc}: no store at this path (nothing to check)");
            }
            let problems = depwatch::store::open_read_only(&loc)?.check()?;
            if problems.is_empty() {
                outln!("{loc}: ok");
                Ok(Outcome::Success)
            } else {
                for p in &problems {
                    outln!("{loc}: {p}");
                }
                // A sync of an unchanged source writes nothing, so it would not repair them.
                outln!(
                    "to repair: move the store aside and run `depwatch sync` again (it rebuilds every table from the sources)"
                );
                Ok(Outcome::Failing)
            }
        }
    }
}
