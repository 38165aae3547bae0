//! `depwatch watch`.

use super::{Outcome, RequiredConfigArg, ScheduleArgs, StoreArg};
use clap::ValueEnum;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(clap::Args)]
pub struct WatchArgs {
    #[command(flatten)]
    config: RequiredConfigArg,
    #[command(flatten)]
    store: StoreArg,
    /// Where drafts and release notes go (default: the config's `output`, else ./depwatch-out).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    schedules: ScheduleArgs,
    /// Delay each fire by a random 0..SECONDS (default: [watch] jitter, else 0).
    #[arg(long, value_name = "SECONDS")]
    jitter: Option<u64>,
    /// Sync only the config's local sources, not the remote feeds.
    #[arg(long)]
    offline: bool,
    /// Queue notifications without sending them.
    #[arg(long)]
    no_deliver: bool,
    /// How long a cycle waits for another process's cycle on the same store before skipping.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    lock_wait: u64,
    /// After SIGTERM / SIGINT, how long the current cycle may take to finish.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    grace: u64,
    /// Test aid only: fire every this many milliseconds instead of on the cron schedule.
    #[arg(long, value_name = "MS", hide = true)]
    test_interval_ms: Option<u64>,
    /// Test aid only: run the fast lane every this many milliseconds.
    #[arg(long, value_name = "MS", hide = true)]
    test_fast_lane_ms: Option<u64>,
    /// Log format on standard error.
    #[arg(long, value_enum, default_value = "human")]
    log_format: LogFormat,
}

pub fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder
            .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
            .init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Runs on the binary's runtime until SIGTERM / SIGINT.
pub async fn run(args: WatchArgs) -> anyhow::Result<Outcome> {
    init_logs(args.log_format);
    let config = args.config.load()?;
    let out_dir = super::out_dir(&args.out, &config);
    let (schedule, sync_schedule) = args.schedules.schedules(&config)?;
    let fast_lane = args.schedules.fast_lane(&config)?;
    let Some(schedule) = schedule else {
        anyhow::bail!("no schedule: pass --schedule CRON or set [watch] schedule in the config");
    };
    let jitter = match args.jitter {
        Some(s) => std::time::Duration::from_secs(s),
        None => config.watch.jitter.unsigned_abs(),
    };
    let opts = depwatch::watch::WatchOptions {
        run: depwatch::run::RunOptions {
            config,
            store: args.store.location()?,
            out_dir,
            sync_local: true,
            sync_remote: !args.offline,
            deliver: !args.no_deliver,
            now: super::now()?,
            http: Default::default(),
        },
        schedule,
        sync_schedule,
        fast_lane,
        fast_lane_test_interval: args.test_fast_lane_ms.map(std::time::Duration::from_millis),
        jitter,
        test_interval: args.test_interval_ms.map(std::time::Duration::from_millis),
        lock_wait: std::time::Duration::from_secs(args.lock_wait),
        grace: std::time::Duration::from_secs(args.grace),
    };
    let summary = depwatch::watch::watch(&opts).await?;
    tracing::info!(
        cycles = summary.cycles,
        failed = summary.failed,
        skipped = summary.skipped,
        "stopped"
    );
    Ok(Outcome::Success)
}
