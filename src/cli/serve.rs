//! `depwatch serve`.

use super::watch::{LogFormat, init_logs};
use super::{Outcome, RequiredConfigArg, ScheduleArgs, StoreArg};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    config: RequiredConfigArg,
    #[command(flatten)]
    store: StoreArg,
    /// Where drafts and release notes go (default: the config's `output`, else ./depwatch-out).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Largest request body, bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    max_body: usize,
    /// Largest uploaded file, bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 8 << 20)]
    max_file: usize,
    /// Most files in one submission.
    #[arg(long, value_name = "N", default_value_t = 32)]
    max_files: usize,
    /// Requests per second per token, on average (an in-memory token bucket per process).
    #[arg(long, value_name = "N", default_value_t = 10.0)]
    rate_limit: f64,
    /// Requests per token at once before the rate limit applies.
    #[arg(long, value_name = "N", default_value_t = 20)]
    rate_burst: u32,
    /// Log format on standard error.
    #[arg(long, value_enum, default_value = "human")]
    log_format: LogFormat,
    /// Also run the watcher's cycles on their schedules in this process, as `depwatch watch`
    /// would (one cycle at a time per store, also against other watchers).
    #[arg(long)]
    watch: bool,
    #[command(flatten)]
    schedules: ScheduleArgs,
    /// With --watch: sync only the config's local sources, not the remote feeds.
    #[arg(long, requires = "watch")]
    offline: bool,
    /// With --watch: queue notifications without sending them.
    #[arg(long, requires = "watch")]
    no_deliver: bool,
    /// Test aid only: with --watch, fire every this many milliseconds.
    #[arg(long, value_name = "MS", hide = true, requires = "watch")]
    test_interval_ms: Option<u64>,
}

/// The watcher's options from the serve command line and the config, with `watch`'s defaults.
fn watch_options(
    args: &ServeArgs,
    run: &depwatch::run::RunOptions,
) -> anyhow::Result<depwatch::watch::WatchOptions> {
    let config = &run.config;
    let (schedule, sync_schedule) = args.schedules.schedules(config)?;
    let Some(schedule) = schedule else {
        anyhow::bail!("--watch needs a schedule: pass --schedule CRON or set [watch] schedule");
    };
    let mut run = run.clone();
    run.sync_local = true;
    run.sync_remote = !args.offline;
    run.deliver = !args.no_deliver;
    Ok(depwatch::watch::WatchOptions {
        run,
        schedule,
        sync_schedule,
        fast_lane: args.schedules.fast_lane(config)?,
        fast_lane_test_interval: None,
        jitter: config.watch.jitter.unsigned_abs(),
        test_interval: args.test_interval_ms.map(std::time::Duration::from_millis),
        lock_wait: std::time::Duration::from_secs(60),
        grace: std::time::Duration::from_secs(120),
    })
}

/// Runs on the binary's runtime until SIGTERM / SIGINT.
pub async fn run(args: ServeArgs) -> anyhow::Result<Outcome> {
    init_logs(args.log_format);
    let config = args.config.load()?;
    let out_dir = super::out_dir(&args.out, &config);
    let opts = depwatch::server::ServeOptions {
        run: depwatch::run::RunOptions {
            config,
            store: args.store.location()?,
            out_dir,
            sync_local: false,
            sync_remote: false,
            deliver: false,
            now: super::now()?,
            http: Default::default(),
        },
        limits: depwatch::server::Limits {
            max_body: args.max_body,
            max_part: args.max_file,
            max_parts: args.max_files,
            rate_per_second: args.rate_limit,
            rate_burst: args.rate_burst,
        },
    };
    let watch = if args.watch {
        Some(watch_options(&args, &opts.run)?)
    } else {
        None
    };
    let listener = depwatch::server::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    outln!("depwatch serve: listening on http://{addr}");
    let server = depwatch::server::serve(listener, opts);
    match &watch {
        None => server.await?,
        // Both stop on SIGTERM / SIGINT: the server after its requests in flight, the
        // watcher after its cycle in progress.
        Some(w) => {
            let (served, watched) = tokio::join!(server, depwatch::watch::watch(w));
            served?;
            let summary = watched?;
            tracing::info!(
                cycles = summary.cycles,
                failed = summary.failed,
                "watcher stopped"
            );
        }
    }
    tracing::info!("stopped");
    Ok(Outcome::Success)
}
