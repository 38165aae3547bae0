//! The subcommands, one file each (its arguments and handler), and what they share: the
//! arguments declared once and flattened, config loading, defaults, and the exit status.

pub mod dashboard;
pub mod db;
pub mod notes;
pub mod policy;
pub mod publish;
pub mod run;
pub mod sbom;
pub mod scan;
pub mod serve;
pub mod status;
pub mod submit;
pub mod sync;
pub mod token;
pub mod vex;
pub mod watch;

use anyhow::Context;
use depwatch::config::Config;
use depwatch::feeds::SourceSpec;
use depwatch::feeds::signal::SignalSpec;
use depwatch::severity::Level;
use std::path::PathBuf;

/// How a command ended; the process exits with its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// 0: done, nothing failing.
    Success,
    /// 1: something at or above the threshold (findings, denied warnings, store problems).
    Failing,
    /// 2: an error: bad input, or a source, project or delivery that failed.
    Error,
}

impl Outcome {
    /// [`Outcome::Success`] when `ok`, else [`Outcome::Error`].
    pub fn error_unless(ok: bool) -> Outcome {
        if ok { Outcome::Success } else { Outcome::Error }
    }
}

impl From<Outcome> for std::process::ExitCode {
    fn from(o: Outcome) -> Self {
        std::process::ExitCode::from(match o {
            Outcome::Success => 0,
            Outcome::Failing => 1,
            Outcome::Error => 2,
        })
    }
}

/// `--fail-scope`: which findings decide a failing exit (`scan`, `run --ci`).
#[derive(Debug, Clone, Copy, Default, clap::ValueEnum)]
pub enum FailScopeArg {
    /// Every finding.
    #[default]
    All,
    /// Only findings of runtime dependencies (no scope, Poetry's `main`, Cargo's `normal`):
    /// not dev or build dependencies, extras or dependency groups.
    Runtime,
}

impl From<FailScopeArg> for depwatch::scan::FailScope {
    fn from(s: FailScopeArg) -> Self {
        match s {
            FailScopeArg::All => Self::All,
            FailScopeArg::Runtime => Self::Runtime,
        }
    }
}

impl From<depwatch::scan::Verdict> for Outcome {
    fn from(v: depwatch::scan::Verdict) -> Self {
        match v {
            depwatch::scan::Verdict::Clean => Outcome::Success,
            depwatch::scan::Verdict::Findings => Outcome::Failing,
            depwatch::scan::Verdict::InputError => Outcome::Error,
        }
    }
}

impl From<depwatch::run::RunOutcome> for Outcome {
    fn from(o: depwatch::run::RunOutcome) -> Self {
        match o {
            depwatch::run::RunOutcome::Ok => Outcome::Success,
            depwatch::run::RunOutcome::Partial | depwatch::run::RunOutcome::Failed => {
                Outcome::Error
            }
        }
    }
}

/// `--config` for the commands that read ./depwatch.toml only when it exists.
#[derive(clap::Args)]
pub struct ConfigArg {
    /// Configuration file (default: ./depwatch.toml when it exists).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl ConfigArg {
    /// --config, else ./depwatch.toml when it exists, else the defaults.
    pub fn load(&self) -> anyhow::Result<Config> {
        Ok(match &self.config {
            Some(p) => Config::load(p)?,
            None => {
                let default = PathBuf::from("depwatch.toml");
                if default.is_file() {
                    Config::load(&default)?
                } else {
                    Config::default()
                }
            }
        })
    }
}

/// `--config` for the monitor commands, which need one.
#[derive(clap::Args)]
pub struct RequiredConfigArg {
    /// Configuration file (default: ./depwatch.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl RequiredConfigArg {
    /// --config, else ./depwatch.toml; an error without one.
    pub fn load(&self) -> anyhow::Result<Config> {
        load_required(self.config.clone())
    }
}

/// The config a monitor command needs: `path`, else ./depwatch.toml; an error without one.
pub fn load_required(path: Option<PathBuf>) -> anyhow::Result<Config> {
    let path = path.unwrap_or_else(|| PathBuf::from("depwatch.toml"));
    if !path.is_file() {
        anyhow::bail!(
            "{}: no such config file (see examples/depwatch.toml; pass --config FILE)",
            path.display()
        );
    }
    Ok(Config::load(&path)?)
}

/// `--store`.
#[derive(clap::Args)]
pub struct StoreArg {
    /// The advisory store: an SQLite file (PATH or sqlite:PATH) or a PostgreSQL database
    /// (postgres://USER@HOST:PORT/DB; password from PGPASSWORD or the URL). Default:
    /// $DEPWATCH_STORE, else the per-user data directory.
    #[arg(
        long,
        value_name = "PATH|URL",
        env = "DEPWATCH_STORE",
        hide_env_values = true
    )]
    pub store: Option<std::ffi::OsString>,
}

impl StoreArg {
    /// `scan`'s and `sbom`'s store backend: this store, with data no older than
    /// `max_age_hours` (`--max-age-hours`) unless stale data is allowed.
    pub fn backend(
        &self,
        max_age_hours: i64,
        require_fresh: bool,
    ) -> anyhow::Result<depwatch::scan::Backend> {
        Ok(depwatch::scan::Backend::Store {
            path: self.location()?,
            max_age: jiff::SignedDuration::try_from_hours(max_age_hours)
                .ok_or_else(|| anyhow::anyhow!("--max-age-hours {max_age_hours} is too large"))?,
            require_fresh,
        })
    }

    /// The store: --store, $DEPWATCH_STORE, else the per-user default (SQLite).
    pub fn location(&self) -> anyhow::Result<depwatch::store::Location> {
        Ok(match &self.store {
            Some(s) => depwatch::store::Location::parse(s)?,
            None => depwatch::store::Store::default_path().into(),
        })
    }
}

/// `--source KIND:LOCATION`, repeatable.
#[derive(clap::Args)]
pub struct SourceArgs {
    // Help text from the registry, so a new source kind is listed without an edit here.
    #[arg(long = "source", value_name = "KIND:LOCATION", help = format!(
        "Read this advisory source directly instead of the store, KIND:LOCATION ({}), or \
         exploit data from a file, kev:PATH (CISA KEV JSON) or epss:PATH (FIRST EPSS CSV, \
         gzipped or not); repeatable",
        depwatch::feeds::registry::local_forms()
    ))]
    pub sources: Vec<String>,
}

impl SourceArgs {
    /// The sources, parsed.
    pub fn specs(&self) -> anyhow::Result<Vec<SourceSpec>> {
        parse_sources(&self.sources)
    }

    /// The KEV / EPSS files among them (`kev:PATH`, `epss:PATH`).
    pub fn signals(&self) -> Vec<SignalSpec> {
        parse_signals(&self.sources)
    }
}

/// Parse `KIND:LOCATION` advisory source texts (from flags or the config); the exploit data
/// files among them (`kev:PATH`, `epss:PATH`) are left to [`parse_signals`].
pub fn parse_sources(texts: &[String]) -> anyhow::Result<Vec<SourceSpec>> {
    Ok(texts
        .iter()
        .filter(|s| SignalSpec::parse(s).is_none())
        .map(|s| s.parse::<SourceSpec>())
        .collect::<Result<Vec<_>, _>>()?)
}

/// The exploit data files among source texts: `kev:PATH` and `epss:PATH`.
pub fn parse_signals(texts: &[String]) -> Vec<SignalSpec> {
    texts.iter().filter_map(|s| SignalSpec::parse(s)).collect()
}

/// The output directory: --out, else the config's `output`, else the default.
pub fn out_dir(flag: &Option<PathBuf>, config: &Config) -> PathBuf {
    flag.clone()
        .or_else(|| config.output.clone())
        .unwrap_or_else(|| PathBuf::from(depwatch::config::DEFAULT_OUTPUT_DIR))
}

/// The failing level: --fail-on, else the config's `fail-on`, else the default.
pub fn fail_on(flag: &Option<String>, config: &Config) -> anyhow::Result<Level> {
    Ok(match flag {
        Some(s) => s.parse::<Level>().map_err(anyhow::Error::msg)?,
        None => config.fail_on.unwrap_or(depwatch::config::DEFAULT_FAIL_ON),
    })
}

/// Now, or $DEPWATCH_NOW (RFC 3339) to replay a run at another time (tests, demos).
pub fn now() -> anyhow::Result<jiff::Timestamp> {
    match std::env::var("DEPWATCH_NOW") {
        Ok(v) => v
            .parse()
            .with_context(|| format!("DEPWATCH_NOW={v:?} is not an RFC 3339 timestamp")),
        Err(_) => Ok(jiff::Timestamp::now()),
    }
}

/// `--schedule`, `--sync-schedule` and `--timezone` (watch, status).
#[derive(clap::Args)]
pub struct ScheduleArgs {
    /// When cycles run: a 5-field cron expression as GitHub Actions `schedule:` takes it
    /// (minute hour day-of-month month day-of-week; Sunday = 0 or 7). Default: the config's
    /// [watch] schedule.
    #[arg(long, value_name = "CRON")]
    pub schedule: Option<String>,
    /// A separate schedule for feed sync; cycles on --schedule then only scan and publish.
    /// Default: the config's [watch] sync-schedule.
    #[arg(long, value_name = "CRON")]
    pub sync_schedule: Option<String>,
    /// The fast lane (`watch` only): on this schedule, sync the OSV exports' changed records
    /// and re-match only the packages they name, alerting at once. Default: the config's
    /// [watch] fast-lane.
    #[arg(long, value_name = "CRON")]
    pub fast_lane: Option<String>,
    /// Time zone of the schedules (IANA name). Default: [watch] timezone, else the config's
    /// timezone, else UTC.
    #[arg(long, value_name = "TZ")]
    pub timezone: Option<String>,
}

impl ScheduleArgs {
    /// The fast lane's schedule: command line first, then the config's [watch] fast-lane.
    pub fn fast_lane(
        &self,
        config: &Config,
    ) -> anyhow::Result<Option<depwatch::schedule::Schedule>> {
        let tz = self
            .timezone
            .clone()
            .or_else(|| config.watch.timezone.clone())
            .or_else(|| config.timezone.clone())
            .unwrap_or_else(|| "UTC".into());
        Ok(self
            .fast_lane
            .as_ref()
            .or(config.watch.fast_lane.as_ref())
            .map(|s| depwatch::schedule::Schedule::parse(s, &tz))
            .transpose()?)
    }

    /// The cycle and sync schedules: command line first, then the config's [watch].
    #[allow(clippy::type_complexity)]
    pub fn schedules(
        &self,
        config: &Config,
    ) -> anyhow::Result<(
        Option<depwatch::schedule::Schedule>,
        Option<depwatch::schedule::Schedule>,
    )> {
        let tz = self
            .timezone
            .clone()
            .or_else(|| config.watch.timezone.clone())
            .or_else(|| config.timezone.clone())
            .unwrap_or_else(|| "UTC".into());
        let parse = |s: Option<&String>| {
            s.map(|s| depwatch::schedule::Schedule::parse(s, &tz))
                .transpose()
        };
        Ok((
            parse(self.schedule.as_ref().or(config.watch.schedule.as_ref()))?,
            parse(
                self.sync_schedule
                    .as_ref()
                    .or(config.watch.sync_schedule.as_ref()),
            )?,
        ))
    }
}
