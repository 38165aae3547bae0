//! `depwatch vex`.

use super::{Outcome, RequiredConfigArg, StoreArg};
use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct VexArgs {
    /// The project (its `name` in depwatch.toml).
    project: String,
    #[command(flatten)]
    config: RequiredConfigArg,
    #[command(flatten)]
    store: StoreArg,
    /// Write the document here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The document's author (who makes the statements).
    #[arg(long, value_name = "NAME", default_value = "depwatch")]
    author: String,
}

/// Blocks (files, SQLite).
pub fn run(args: VexArgs) -> anyhow::Result<Outcome> {
    let config = args.config.load()?;
    let out = depwatch::vexdoc::project_vex(
        &config,
        &args.project,
        &args.store.location()?,
        &args.author,
        super::now()?,
    )?;
    for n in &out.notices {
        errln!("warning: {n}");
    }
    match &args.output {
        Some(p) => {
            std::fs::write(p, out.json.as_bytes()).with_context(|| format!("{}", p.display()))?
        }
        None => out!("{}", out.json),
    }
    Ok(Outcome::Success)
}
