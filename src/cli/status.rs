//! `depwatch status`.

use super::{Outcome, RequiredConfigArg, ScheduleArgs, StoreArg};

#[derive(clap::Args)]
#[command(
    mut_arg("schedule", |a| a.help(
        "Show this cycle schedule's next fire time (default: the config's [watch] schedule)"
    )),
    mut_arg("sync_schedule", |a| a.help(
        "Show this sync schedule's next fire time (default: [watch] sync-schedule)"
    )),
    mut_arg("timezone", |a| a.help(
        "Time zone of the schedules (default: [watch] timezone, else the config's, else UTC)"
    )),
)]
pub struct StatusArgs {
    #[command(flatten)]
    config: RequiredConfigArg,
    #[command(flatten)]
    store: StoreArg,
    #[command(flatten)]
    schedules: ScheduleArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Blocks (SQLite).
pub fn run(args: StatusArgs) -> anyhow::Result<Outcome> {
    let config = args.config.load()?;
    let (cycle, sync) = args.schedules.schedules(&config)?;
    let mut schedules = Vec::new();
    if let Some(s) = cycle {
        schedules.push(("cycle", s));
    }
    if let Some(s) = sync {
        schedules.push(("sync", s));
    }
    if let Some(s) = config.digest_schedule() {
        schedules.push(("digest", s));
    }
    let refs: Vec<(&str, &depwatch::schedule::Schedule)> =
        schedules.iter().map(|(j, s)| (*j, s)).collect();
    let st = depwatch::status::status(&args.store.location()?, &config, &refs, super::now()?)?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&st)?);
    } else {
        out!("{}", depwatch::status::status_text(&st));
    }
    Ok(Outcome::Success)
}
