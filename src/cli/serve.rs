//! `depwatch serve`.

use super::watch::{LogFormat, init_logs};
use super::{Outcome, RequiredConfigArg, StoreArg};
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
}

/// Runs on the binary's runtime until SIGTERM / SIGINT.
pub async fn run(args: ServeArgs) -> anyhow::Result<Outcome> {
    init_logs(args.log_format);
    let config = args.config.load()?;
    let out_dir = super::out_dir(&args.out, &config);
    let opts = depwatch::server::ServeOptions {
        run: depwatch::run::RunOptions {
            config,
            store: args.store.path(),
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
    let listener = depwatch::server::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    outln!("depwatch serve: listening on http://{addr}");
    depwatch::server::serve(listener, opts).await?;
    tracing::info!("stopped");
    Ok(Outcome::Success)
}
