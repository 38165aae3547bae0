//! `depwatch notes`.

use super::{ConfigArg, Outcome, SourceArgs, StoreArg};
use anyhow::Context;
use depwatch::scan::{self, Backend};
use std::path::PathBuf;

#[derive(clap::Args)]
#[command(
    mut_arg("sources", |a| a.help(
        "Read this advisory source directly instead of the store; repeatable"
    )),
    mut_arg("config", |a| a.help(
        "Configuration file (templates, ignores; default: ./depwatch.toml when it exists)"
    )),
)]
pub struct NotesArgs {
    /// The git repository.
    #[arg(long, value_name = "PATH", default_value = ".")]
    repo: PathBuf,
    /// The older revision (tag, branch, commit).
    #[arg(long, value_name = "REV")]
    from: String,
    /// The newer revision.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    to: String,
    #[command(flatten)]
    sources: SourceArgs,
    #[command(flatten)]
    store: StoreArg,
    #[command(flatten)]
    config: ConfigArg,
    /// Write the markdown here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Blocks (git, files, SQLite, rayon).
pub fn run(args: NotesArgs) -> anyhow::Result<Outcome> {
    let config = args.config.load()?;
    let backend = if args.sources.sources.is_empty() {
        Backend::Store {
            path: args.store.location()?,
            max_age: scan::DEFAULT_MAX_AGE,
            require_fresh: false,
        }
    } else {
        Backend::Sources(args.sources.specs()?)
    };
    let opts = depwatch::notes::NotesOptions {
        repo: args.repo,
        from: args.from,
        to: args.to,
        backend,
        templates_dir: config.templates.clone(),
        today: jiff::Zoned::now().date(),
    };
    let (notes, md) = depwatch::notes::release_notes(&opts)?;
    for w in &notes.warnings {
        errln!("warning: {w}");
    }
    match &args.output {
        Some(p) => std::fs::write(p, md.as_bytes()).with_context(|| format!("{}", p.display()))?,
        None => out!("{md}"),
    }
    Ok(Outcome::Success)
}
