//! `depwatch publish`.

use super::{Outcome, RequiredConfigArg, StoreArg};

#[derive(clap::Args)]
pub struct PublishArgs {
    #[command(flatten)]
    config: RequiredConfigArg,
    #[command(flatten)]
    store: StoreArg,
    /// Only this project.
    #[arg(long, value_name = "NAME")]
    project: Option<String>,
}

/// Blocks (SQLite); the GitHub requests run on `rt`.
pub fn run(args: PublishArgs, rt: &tokio::runtime::Handle) -> anyhow::Result<Outcome> {
    let config = args.config.load()?;
    if let Some(name) = &args.project
        && config.project(name).is_none()
    {
        anyhow::bail!("no project named {name:?} in the config");
    }
    let store = depwatch::store::open(&args.store.location()?)?;
    let results =
        depwatch::run::publish_drafts(&store, &config, args.project.as_deref(), super::now()?, rt)?;
    let mut ok = true;
    for r in &results {
        match &r.result {
            Ok(line) => outln!("{}: {line}", r.project),
            Err(e) => {
                ok = false;
                errln!("error: {}: {e}", r.project);
            }
        }
    }
    if results.is_empty() {
        outln!("nothing to publish: no project has [project.github]");
    }
    Ok(Outcome::error_unless(ok))
}
