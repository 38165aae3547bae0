//! `depwatch sync`.

use super::{ConfigArg, Outcome, SourceArgs, StoreArg};
use depwatch::feeds::defs::{self, FeedKind};
use std::path::PathBuf;

#[derive(clap::Args)]
#[command(mut_arg("sources", |a| a.help(format!(
    "Sync only this local source, KIND:LOCATION ({}); repeatable. Without it: every enabled \
     feed (feeds/*.toml, overridable in depwatch.toml) and the config's `sources`",
    depwatch::feeds::registry::local_forms()
))))]
pub struct SyncArgs {
    #[command(flatten)]
    sources: SourceArgs,
    /// Sync only this feed (by name: osv-pypi, osv-crates, ghsa, rustsec, kev, epss); repeatable.
    #[arg(long = "feed", value_name = "NAME")]
    feeds: Vec<String>,
    /// Refresh the crates.io index (yanked flags) for the crates locked in these Cargo.lock
    /// files or directories; repeatable.
    #[arg(long = "yanked-for", value_name = "PATH")]
    yanked_for: Vec<PathBuf>,
    #[command(flatten)]
    config: ConfigArg,
    #[command(flatten)]
    store: StoreArg,
}

fn print_sync(r: &depwatch::sync::SourceSync) -> anyhow::Result<bool> {
    match &r.result {
        Ok(o) if o.unchanged => outln!("{}: unchanged", r.source),
        Ok(o) => outln!(
            "{}: {} written, {} removed, {} broken records skipped",
            r.source,
            o.written,
            o.removed,
            r.skipped
        ),
        Err(e) => {
            errln!("error: {}: {e} (previous data kept)", r.source);
            return Ok(false);
        }
    }
    Ok(true)
}

/// Blocks (SQLite, local sources); the downloads run on `rt`.
pub fn run(args: SyncArgs, rt: &tokio::runtime::Handle) -> anyhow::Result<Outcome> {
    let config = args.config.load()?;
    let mut store = depwatch::store::open(&args.store.location()?)?;
    let mut ok = true;
    let only_local = !args.sources.sources.is_empty();
    let (local, signals) = if only_local {
        (args.sources.specs()?, args.sources.signals())
    } else {
        (
            super::parse_sources(&config.sources)?,
            super::parse_signals(&config.sources),
        )
    };
    for spec in &local {
        ok &= print_sync(&depwatch::sync::sync_local(&mut store, spec)?)?;
    }
    for spec in &signals {
        ok &= print_sync(&depwatch::sync::sync_signal_local(&mut store, spec)?)?;
    }
    if !only_local {
        let all = config.feed_defs().map_err(anyhow::Error::msg)?;
        let mut defs = all.clone();
        if !args.feeds.is_empty() {
            for name in &args.feeds {
                if !defs.iter().any(|d| &d.name == name) {
                    anyhow::bail!("no feed named {name:?}");
                }
            }
            defs.retain(|d| args.feeds.contains(&d.name));
            for d in &mut defs {
                d.enabled = true;
            }
        }
        let settings = depwatch::feeds::http::HttpSettings {
            progress: true,
            ..Default::default()
        };
        for r in depwatch::sync::sync_feeds(&mut store, &defs, settings.clone(), rt)? {
            ok &= print_sync(&r)?;
        }
        if !args.yanked_for.is_empty() {
            let index = defs::of_kind(&all, FeedKind::CratesIndex)
                .map(|d| d.base_url.clone())
                .unwrap_or_default();
            let r =
                depwatch::sync::refresh_yanked(&mut store, &index, &args.yanked_for, settings, rt)?;
            outln!(
                "crates-index: {} fetched, {} not modified, {} not on crates.io, {} failed",
                r.fetched,
                r.not_modified,
                r.not_found,
                r.failed.len()
            );
            for (name, why) in &r.failed {
                errln!("error: crates-index: {name}: {why}");
            }
            ok &= r.failed.is_empty();
        }
    }
    Ok(Outcome::error_unless(ok))
}
