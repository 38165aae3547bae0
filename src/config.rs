//! `depwatch.toml`: scan settings and ignore rules.
//!
//! ```toml
//! fail-on = "high"                       # optional: default level for --fail-on
//! sources = ["rustsec-dir:advisory-db"]  # optional: what `depwatch sync` syncs by default
//!
//! [feeds.osv-pypi]                     # override a built-in feed (feeds/*.toml): mirrors, tests
//! base_url = "https://mirror.example/osv"
//! enabled = true
//!
//! [[ignore]]
//! id = "RUSTSEC-2023-0071"               # any alias of the finding works
//! reason = "rsa is only used to verify, never to decrypt"
//! until = "2027-01-31"                   # optional: the ignore stops hiding the finding after this day
//! until-fix = true                       # optional: ... or as soon as a fixed version is known
//! ```

mod monitor;

pub use monitor::{
    EmailConfig, GithubRepo, Notify, Project, ProjectAdvisory, SecretSource, SlackConfig,
};

use crate::matcher::Ignore;
use crate::severity::Level;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A configuration error, naming the file and, where known, the line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    #[serde(default)]
    fail_on: Option<toml::Spanned<String>>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    ignore: Vec<RawIgnore>,
    #[serde(default)]
    feeds: std::collections::BTreeMap<String, FeedOverride>,
    #[serde(default)]
    timezone: Option<toml::Spanned<String>>,
    #[serde(default)]
    output: Option<String>,
    #[serde(default)]
    templates: Option<toml::Spanned<String>>,
    #[serde(default)]
    deadline_warning: Option<toml::Spanned<String>>,
    #[serde(default)]
    project: Vec<monitor::RawProject>,
    #[serde(default)]
    notify: monitor::RawNotify,
    #[serde(default)]
    watch: Option<RawWatch>,
    #[serde(default)]
    full_rescan: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawWatch {
    #[serde(default)]
    schedule: Option<toml::Spanned<String>>,
    #[serde(default)]
    sync_schedule: Option<toml::Spanned<String>>,
    #[serde(default)]
    fast_lane: Option<toml::Spanned<String>>,
    #[serde(default)]
    timezone: Option<toml::Spanned<String>>,
    #[serde(default)]
    jitter: Option<toml::Spanned<String>>,
    #[serde(default)]
    health_after: Option<toml::Spanned<u32>>,
}

/// `[watch]`: when `depwatch watch` runs cycles, and when it raises health alerts.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchConfig {
    /// Cycle schedule (5-field cron, as GitHub Actions `schedule:` takes it).
    pub schedule: Option<String>,
    /// A separate feed-sync schedule.
    pub sync_schedule: Option<String>,
    /// The fast lane's schedule (`fast-lane = "*/5 * * * *"`): the OSV exports' changed
    /// records and the packages they name, alerted at once.
    pub fast_lane: Option<String>,
    /// Time zone of the schedules (default: the top-level `timezone`, else UTC).
    pub timezone: Option<String>,
    /// Random delay of each fire, up to this.
    pub jitter: jiff::SignedDuration,
    /// Consecutive failures of a feed, project or channel before a health alert is published.
    pub health_after: u32,
}

impl Default for WatchConfig {
    fn default() -> Self {
        Self {
            schedule: None,
            sync_schedule: None,
            fast_lane: None,
            timezone: None,
            jitter: jiff::SignedDuration::ZERO,
            health_after: 3,
        }
    }
}

/// Overrides of a built-in feed definition.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FeedOverride {
    /// Another base URL (a mirror, a test server).
    #[serde(default, alias = "base_url")]
    pub base_url: Option<String>,
    /// Turn the feed on or off.
    #[serde(default)]
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    id: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    until: Option<toml::Spanned<toml::Value>>,
    #[serde(default, rename = "until-fix")]
    until_fix: bool,
}

/// Where `run` and `watch` write drafts and release notes when neither `--out` nor the
/// config's `output` says.
pub const DEFAULT_OUTPUT_DIR: &str = "depwatch-out";

/// The `--fail-on` level when neither the flag nor the config's `fail-on` says: any
/// vulnerability fails.
pub const DEFAULT_FAIL_ON: Level = Level::Unknown;

/// The EPSS alert threshold of a project that sets no `epss-alert` (the issue's example,
/// 0.1: about the top 7% of scored CVEs in the 2026-01-30 file). depwatch's default.
pub const DEFAULT_EPSS_ALERT: f64 = 0.1;

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Default `--fail-on` level.
    pub fail_on: Option<Level>,
    /// Sources `depwatch sync` syncs when no `--source` is given.
    pub sources: Vec<String>,
    /// Ignore rules.
    pub ignores: Vec<Ignore>,
    /// Overrides of built-in feeds, by feed name.
    pub feeds: std::collections::BTreeMap<String, FeedOverride>,
    /// Time zone for deadlines (IANA name); UTC when unset.
    pub timezone: Option<String>,
    /// Where `depwatch run` writes drafts and release notes (resolved against the file's folder).
    pub output: Option<PathBuf>,
    /// A directory of templates overriding the embedded ones.
    pub templates: Option<PathBuf>,
    /// "Deadline near" warning lead time (default 3 days).
    pub deadline_warning: jiff::SignedDuration,
    /// The projects the monitor watches.
    pub projects: Vec<Project>,
    /// Notification channels.
    pub notify: Notify,
    /// `[watch]`.
    pub watch: WatchConfig,
    /// `full-rescan = true` (or `run --full`): rescan every project every cycle, even the
    /// unchanged ones (issue 15's escape hatch).
    pub full_rescan: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            fail_on: None,
            sources: Vec::new(),
            ignores: Vec::new(),
            feeds: Default::default(),
            timezone: None,
            output: None,
            templates: None,
            deadline_warning: jiff::SignedDuration::from_hours(72),
            projects: Vec::new(),
            notify: Notify::default(),
            watch: WatchConfig::default(),
            full_rescan: false,
        }
    }
}

impl Config {
    /// The feed definitions with this config's overrides applied.
    pub fn feed_defs(&self) -> Result<Vec<crate::feeds::defs::FeedDef>, String> {
        let mut defs = crate::feeds::defs::builtin()?;
        for d in &mut defs {
            if let Some(o) = self.feeds.get(&d.name) {
                if let Some(u) = &o.base_url {
                    d.base_url = u.clone();
                }
                if let Some(e) = o.enabled {
                    d.enabled = e;
                }
            }
        }
        Ok(defs)
    }

    /// Read and validate a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse_with(&text, path, readable_by_others(path))
    }

    /// The project named `name`.
    pub fn project(&self, name: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.name == name)
    }

    /// The digest schedule (`[notify] digest`) in the watch's zone (`[watch] timezone`, else
    /// `timezone`, else UTC), or `None` when no digest is configured.
    pub fn digest_schedule(&self) -> Option<crate::schedule::Schedule> {
        let expr = self.notify.digest.as_deref()?;
        let zone = self
            .watch
            .timezone
            .as_deref()
            .or(self.timezone.as_deref())
            .unwrap_or("UTC");
        // Checked when the config was read; a failure here cannot happen with a loaded config.
        crate::schedule::Schedule::parse(expr, zone).ok()
    }

    /// The configured time zone (UTC when unset).
    pub fn tz(&self) -> jiff::tz::TimeZone {
        self.timezone
            .as_deref()
            .and_then(|n| jiff::tz::TimeZone::get(n).ok())
            .unwrap_or(jiff::tz::TimeZone::UTC)
    }

    /// Parse and validate config text; `path` names the file in errors. Inline secrets are
    /// refused here as if the file were readable by others ([`Config::load`] checks the mode).
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        Self::parse_with(text, path, true)
    }

    fn parse_with(text: &str, path: &Path, readable_by_others: bool) -> Result<Self, ConfigError> {
        let line_of = |offset: usize| crate::manifests::line_of_offset(text, offset);
        let invalid = |line: Option<usize>, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            message,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(s.start));
            invalid(line, e.message().to_string())
        })?;
        let fail_on =
            match raw.fail_on {
                Some(s) => Some(s.get_ref().parse::<Level>().map_err(|m| {
                    invalid(Some(line_of(s.span().start)), format!("fail-on: {m}"))
                })?),
                None => None,
            };
        let mut ignores = Vec::new();
        for ig in raw.ignore {
            if ig.id.trim().is_empty() {
                return Err(invalid(None, "[[ignore]] id must not be empty".into()));
            }
            let until = match &ig.until {
                None => None,
                Some(v) => {
                    let line = Some(line_of(v.span().start));
                    let s = match v.get_ref() {
                        toml::Value::String(s) => s.clone(),
                        toml::Value::Datetime(d) => d.to_string(),
                        other => {
                            return Err(invalid(
                                line,
                                format!(
                                    "ignore {}: until must be a date (YYYY-MM-DD), found {}",
                                    ig.id,
                                    other.type_str()
                                ),
                            ));
                        }
                    };
                    Some(s.parse::<jiff::civil::Date>().map_err(|e| {
                        invalid(
                            line,
                            format!(
                                "ignore {}: until {s:?} is not a date (YYYY-MM-DD): {e}",
                                ig.id
                            ),
                        )
                    })?)
                }
            };
            ignores.push(Ignore {
                id: ig.id.trim().to_string(),
                reason: ig.reason,
                until,
                until_fix: ig.until_fix,
                origin: Some(path.display().to_string()),
                ..Default::default()
            });
        }
        let known = crate::feeds::defs::builtin().map_err(|e| invalid(None, e))?;
        for name in raw.feeds.keys() {
            if !known.iter().any(|d| &d.name == name) {
                let names: Vec<_> = known.iter().map(|d| d.name.as_str()).collect();
                return Err(invalid(
                    None,
                    format!("[feeds.{name}]: no such feed (known: {})", names.join(", ")),
                ));
            }
        }
        let ctx = monitor::Ctx {
            text,
            path,
            readable_by_others,
        };
        let at = |sp: &toml::Spanned<String>| Some(line_of(sp.span().start));
        let timezone = match raw.timezone {
            Some(tz) => {
                jiff::tz::TimeZone::get(tz.get_ref())
                    .map_err(|e| invalid(at(&tz), format!("timezone {:?}: {e}", tz.get_ref())))?;
                Some(tz.into_inner())
            }
            None => None,
        };
        let deadline_warning = match raw.deadline_warning {
            Some(d) => parse_duration(d.get_ref())
                .map_err(|m| invalid(at(&d), format!("deadline-warning: {m}")))?,
            None => jiff::SignedDuration::from_hours(72),
        };
        let templates = match raw.templates {
            Some(t) => {
                let dir = ctx.resolve(t.get_ref());
                if !dir.is_dir() {
                    return Err(invalid(
                        at(&t),
                        format!("templates: {} is not a directory", dir.display()),
                    ));
                }
                Some(dir)
            }
            None => None,
        };
        let watch = match raw.watch {
            None => WatchConfig::default(),
            Some(w) => {
                for (key, expr) in [
                    ("schedule", &w.schedule),
                    ("sync-schedule", &w.sync_schedule),
                    ("fast-lane", &w.fast_lane),
                ] {
                    if let Some(e) = expr {
                        let tz = w
                            .timezone
                            .as_ref()
                            .map(|t| t.get_ref().as_str())
                            .or(timezone.as_deref())
                            .unwrap_or("UTC");
                        crate::schedule::Schedule::parse(e.get_ref(), tz)
                            .map_err(|m| invalid(at(e), format!("watch.{key}: {m}")))?;
                    }
                }
                if let Some(tz) = &w.timezone {
                    jiff::tz::TimeZone::get(tz.get_ref()).map_err(|e| {
                        invalid(at(tz), format!("watch.timezone {:?}: {e}", tz.get_ref()))
                    })?;
                }
                let jitter = match &w.jitter {
                    Some(j) => parse_duration(j.get_ref())
                        .map_err(|m| invalid(at(j), format!("watch.jitter: {m}")))?,
                    None => jiff::SignedDuration::ZERO,
                };
                let health_after = match &w.health_after {
                    Some(h) if *h.get_ref() == 0 => {
                        return Err(invalid(
                            Some(line_of(h.span().start)),
                            "watch.health-after must be at least 1".into(),
                        ));
                    }
                    Some(h) => *h.get_ref(),
                    None => 3,
                };
                WatchConfig {
                    schedule: w.schedule.map(|s| s.into_inner()),
                    sync_schedule: w.sync_schedule.map(|s| s.into_inner()),
                    fast_lane: w.fast_lane.map(|s| s.into_inner()),
                    timezone: w.timezone.map(|s| s.into_inner()),
                    jitter,
                    health_after,
                }
            }
        };
        let digest_zone = watch
            .timezone
            .as_deref()
            .or(timezone.as_deref())
            .unwrap_or("UTC")
            .to_string();
        let notify = monitor::notify(&ctx, raw.notify, &digest_zone)?;
        let projects = monitor::projects(&ctx, raw.project, &notify)?;
        Ok(Self {
            fail_on,
            // Local sources are relative to the config file, like every other path in it.
            sources: raw
                .sources
                .iter()
                .map(|s| match s.split_once(':') {
                    Some((kind, loc))
                        if (crate::feeds::registry::local(kind).is_some()
                            || crate::feeds::signal::SignalKind::parse(kind).is_some())
                            && Path::new(loc).is_relative() =>
                    {
                        format!("{kind}:{}", ctx.resolve(loc).display())
                    }
                    _ => s.clone(),
                })
                .collect(),
            ignores,
            feeds: raw.feeds,
            timezone,
            output: raw.output.map(|o| ctx.resolve(&o)),
            templates,
            deadline_warning,
            projects,
            notify,
            watch,
            full_rescan: raw.full_rescan,
        })
    }
}

/// `90 minutes`, `48h`, `3 days`, `2 weeks`: a fixed duration (days are 24 hours here).
pub fn parse_duration(s: &str) -> Result<jiff::SignedDuration, String> {
    let t = s.trim().to_ascii_lowercase();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: i64 = n
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like \"3 days\" or \"48h\""))?;
    let hours = match unit.trim() {
        "m" | "min" | "mins" | "minute" | "minutes" if n <= 60 * 24 * 366 => {
            return Ok(jiff::SignedDuration::from_mins(n));
        }
        "m" | "min" | "mins" | "minute" | "minutes" => None,
        "h" | "hour" | "hours" => Some(n),
        "d" | "day" | "days" => n.checked_mul(24),
        "w" | "week" | "weeks" => n.checked_mul(24 * 7),
        _ => return Err(format!("{s:?}: unknown unit (minutes, hours, days, weeks)")),
    };
    let hours = hours.unwrap_or(i64::MAX);
    if !(0..=24 * 366).contains(&hours) {
        return Err(format!("{s:?} is out of range"));
    }
    Ok(jiff::SignedDuration::from_hours(hours))
}

/// Whether group or others may read `path` (always false off Unix, where modes do not apply).
fn readable_by_others(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ignores_with_dates() {
        let c = Config::parse(
            "fail-on = \"high\"\n[[ignore]]\nid = \"GHSA-x\"\nreason = \"r\"\nuntil = 2027-01-31\n[[ignore]]\nid = \"CVE-1\"\nuntil = \"2026-02-01\"\n",
            Path::new("d.toml"),
        )
        .unwrap();
        assert_eq!(c.fail_on, Some(Level::High));
        assert_eq!(c.ignores.len(), 2);
        assert_eq!(c.ignores[0].until.unwrap().to_string(), "2027-01-31");
        assert_eq!(c.ignores[1].until.unwrap().to_string(), "2026-02-01");
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = Config::parse(
            "[[ignore]]\nid = \"X\"\nuntil = \"31/01/2027\"\n",
            Path::new("d.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("d.toml:3:"), "{e}");
        let e = Config::parse("fail-on = \"high\"\nbogus = 1\n", Path::new("d.toml")).unwrap_err();
        assert!(e.to_string().starts_with("d.toml:2:"), "{e}");
        let e = Config::parse("fail-on = \"severe\"\n", Path::new("d.toml")).unwrap_err();
        assert!(e.to_string().contains("d.toml:1: fail-on"), "{e}");
    }

    #[test]
    fn projects_and_channels_are_validated_with_lines() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("depwatch.toml");
        std::fs::write(dir.path().join("SECURITY.md"), "# Security\n").unwrap();
        std::fs::write(dir.path().join("requirements.txt"), "requests==2.31.0\n").unwrap();
        let good = "timezone = \"Europe/Berlin\"\ndeadline-warning = \"2 days\"\n\
            [[project]]\nname = \"app\"\npath = \"requirements.txt\"\nsecurity-policy = \"SECURITY.md\"\n\
            [notify.slack]\nwebhook-env = \"DEPWATCH_HOOK\"\n";
        let c = Config::parse(good, &cfg).unwrap();
        assert_eq!(
            c.projects[0].paths,
            vec![dir.path().join("requirements.txt")]
        );
        assert_eq!(c.projects[0].notify, vec!["slack".to_string()]);
        assert_eq!(c.deadline_warning, jiff::SignedDuration::from_hours(48));
        // A missing path is the project's error when it runs, not the config's.
        let c = Config::parse(
            "[[project]]\nname = \"app\"\npath = \"missing.txt\"\nsecurity-policy = \"gone.md\"\n",
            &cfg,
        )
        .unwrap();
        let e = c.projects[0].check_paths().unwrap_err();
        assert!(
            e.contains("missing.txt") && e.contains("does not exist"),
            "{e}"
        );
        let mut c = c;
        c.projects[0].paths.clear();
        let e = c.projects[0].check_paths().unwrap_err();
        assert!(e.contains("gone.md") && e.contains("not a file"), "{e}");
        let cases = [
            ("[[project]]\nname = \"a b\"\n", ":2:", "letters, digits"),
            (
                "[[project]]\nname = \"app\"\nnotify = [\"email\"]\n",
                ":3:",
                "no [notify.email]",
            ),
            (
                "[[project]]\nname = \"app\"\n[project.policy]\nfix-high = \"soon\"\n",
                ":3:",
                "fix-high",
            ),
            ("timezone = \"Mars/Olympus\"\n", ":1:", "timezone"),
            ("[watch]\nschedule = \"0 9 * *\"\n", ":2:", "watch.schedule"),
            ("[watch]\njitter = \"a while\"\n", ":2:", "watch.jitter"),
            ("[watch]\nhealth-after = 0\n", ":2:", "health-after"),
            (
                "[notify.email]\nhost = \"smtp.example.org\"\ntls = \"plain\"\nfrom = \"a@b.c\"\nto = \"d@e.f\"\n",
                ":3:",
                "notify.email.tls",
            ),
            (
                "[notify.slack]\nwebhook = \"https://hooks.slack.com/services/T/B/SECRET\"\n",
                ":2:",
                "chmod 600",
            ),
        ];
        for (text, line, want) in cases {
            let e = Config::parse(text, &cfg).unwrap_err().to_string();
            assert!(e.contains(line) && e.contains(want), "{text}: {e}");
            assert!(!e.contains("SECRET"), "secret echoed: {e}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn digest_and_quiet_scopes_are_validated_with_lines() {
        let good = "[[project]]\nname = \"p\"\nquiet-scopes = [\"dev\", \"test\"]\n\
                    [notify]\ndigest = \"0 9 * * 1\"\n[notify.slack]\nwebhook-env = \"DEPWATCH_X\"\n";
        let c = Config::parse(good, Path::new("d.toml")).unwrap();
        assert_eq!(c.projects[0].quiet_scopes, ["dev", "test"]);
        assert_eq!(c.notify.digest.as_deref(), Some("0 9 * * 1"));
        assert!(c.digest_schedule().is_some());
        // Quiet without a digest would be untrue: refused, naming the line.
        let e = Config::parse(
            "[[project]]\nname = \"p\"\nquiet-scopes = [\"dev\"]\n",
            Path::new("d.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("d.toml:3") && e.contains("no digest"), "{e}");
        let e = Config::parse("[notify]\ndigest = \"every monday\"\n", Path::new("d.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("d.toml:2") && e.contains("notify.digest"), "{e}");
        let e = Config::parse(&good.replace("\"test\"", "\"\""), Path::new("d.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("quiet-scopes") && e.contains("d.toml:3"), "{e}");
        // Without it: no digest, today's behaviour.
        assert!(Config::default().digest_schedule().is_none());
    }

    #[test]
    fn inline_secrets_need_a_private_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("depwatch.toml");
        std::fs::write(
            &cfg,
            "[notify.slack]\nwebhook = \"https://hooks.slack.com/services/T/B/SECRET\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Config::load(&cfg).unwrap_err().to_string();
        assert!(
            e.contains("group or others") && !e.contains("SECRET"),
            "{e}"
        );
        std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600)).unwrap();
        let c = Config::load(&cfg).unwrap();
        let hook = c.notify.slack.unwrap().webhook.resolve().unwrap();
        assert_eq!(hook.expose(), "https://hooks.slack.com/services/T/B/SECRET");
        assert!(!format!("{hook:?}").contains("SECRET"));
    }

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("48h").unwrap(),
            jiff::SignedDuration::from_hours(48)
        );
        assert_eq!(
            parse_duration("3 days").unwrap(),
            jiff::SignedDuration::from_hours(72)
        );
        assert_eq!(
            parse_duration("1 week").unwrap(),
            jiff::SignedDuration::from_hours(168)
        );
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("99999999999999 days").is_err());
        assert!(parse_duration("9000000000000000000 weeks").is_err());
        assert!(parse_duration("9000000000000000000 minutes").is_err());
    }
}
