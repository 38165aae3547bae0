//! `depwatch db`.

use super::{Outcome, StoreArg};
use clap::Subcommand;
use depwatch::store::Store;

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
}

/// Blocks (SQLite).
pub fn run(args: DbArgs) -> anyhow::Result<Outcome> {
    match args.command {
        DbCommand::Stats { store, json } => {
            let s = Store::open_read_only(&store.path())?.stats()?;
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
        DbCommand::Check { store } => {
            let path = store.path();
            // Checking must not create the store it checks: a missing one is an error.
            if !path.exists() {
                anyhow::bail!(
                    "{}: no store at this path (nothing to check)",
                    path.display()
                );
            }
            let problems = Store::open_read_only(&path)?.check()?;
            if problems.is_empty() {
                outln!("{}: ok", path.display());
                Ok(Outcome::Success)
            } else {
                for p in &problems {
                    outln!("{}: {p}", path.display());
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
