//! The monitor's part of `depwatch.toml`: projects, channels and their secrets.
//!
//! ```toml
//! timezone = "Europe/Berlin"            # deadlines are calendar dates in this zone (default UTC)
//! output = "depwatch-out"               # drafts and release notes (relative to this file)
//! deadline-warning = "3 days"           # "deadline near" this long before a fix/disclosure deadline
//!
//! [[project]]
//! name = "emby-watchparty"
//! path = ["app/requirements.txt"]       # files or directories, relative to this file
//! security-policy = "SECURITY.md"
//! vex = ["security/vex.json"]           # optional: OpenVEX 0.2.0 documents (also: .openvex.json next to the manifests)
//! versions = ">= 1.0.0"                 # optional: its versions for advisory drafts (see below)
//! fixed-in = "1.4.3"                    # optional: its release that fixes its open findings
//! notify = ["slack", "email"]           # default: every configured channel
//! python = ["3.11", "3.12"]             # optional: where it runs (see `crate::environment`)
//! platforms = ["linux"]                 # linux, windows, darwin/macos
//! implementation = "cpython"            # cpython, pypy
//! quiet-scopes = ["dev", "test"]        # their events wait for the digest (needs [notify] digest)
//! [project.policy]                      # optional overrides of what SECURITY.md says
//! fix-high = "14 days"
//! [project.github]                      # optional: `depwatch publish` files drafts here
//! repo = "owner/name"
//! token-env = "GITHUB_TOKEN"            # the default; any other name must start with DEPWATCH_
//! [project.advisory.GHSA-9wx4-h78v-vm56]  # optional, per finding (any of its ids)
//! cve-id = "CVE-2026-0001"              # the CVE assigned to the project's own advisory
//! fixed-in = "1.4.3"                    # replaces the project's `fixed-in` for this finding
//!
//! [notify]
//! digest = "0 9 * * 1"                  # low-priority events: one message per project, Mondays 09:00
//!
//! [notify.slack]
//! webhook-env = "DEPWATCH_SLACK_WEBHOOK"   # or webhook = "https://hooks.slack.com/..." in a 0600 file
//!
//! [notify.email]
//! host = "smtp.example.org"
//! port = 587
//! tls = "starttls"                      # starttls | implicit | none (none: loopback only)
//! user = "depwatch"
//! password-env = "DEPWATCH_SMTP_PASSWORD"  # or password = "..." in a 0600 file
//! from = "depwatch <depwatch@example.org>"
//! to = ["security@example.org"]
//! ```

use super::ConfigError;
use crate::policy::PolicyOverride;
use crate::publish::email::{EmailSettings, TlsMode};
use crate::secret::Secret;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The GitHub token's variable when `[project.github]` names none.
const DEFAULT_TOKEN_ENV: &str = "GITHUB_TOKEN";

/// The operator's list of other variables a config may name for a secret.
pub const ALLOW_SECRET_ENV: &str = "DEPWATCH_ALLOW_SECRET_ENV";

/// Whether a config may read the secret in variable `name`: `DEPWATCH_*`, or listed in
/// `allowed` (the comma-separated value of `$DEPWATCH_ALLOW_SECRET_ENV`).
fn secret_env_allowed(name: &str, allowed: &str) -> bool {
    (name.starts_with("DEPWATCH_") && name.len() > "DEPWATCH_".len())
        || allowed
            .split(',')
            .any(|a| !a.trim().is_empty() && a.trim() == name)
}

/// A string or a list of strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawProject {
    name: Spanned<String>,
    #[serde(default)]
    path: Option<Spanned<OneOrMany>>,
    #[serde(default)]
    security_policy: Option<Spanned<String>>,
    #[serde(default)]
    vex: Option<Spanned<OneOrMany>>,
    #[serde(default)]
    versions: Option<Spanned<OneOrMany>>,
    #[serde(default)]
    fixed_in: Option<Spanned<OneOrMany>>,
    #[serde(default)]
    notify: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    quiet_scopes: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    policy: Option<Spanned<PolicyOverride>>,
    #[serde(default)]
    github: Option<RawGithub>,
    #[serde(default)]
    advisory: std::collections::BTreeMap<String, RawAdvisory>,
    #[serde(default)]
    python: Option<Spanned<OneOrMany>>,
    #[serde(default)]
    platforms: Option<Spanned<OneOrMany>>,
    #[serde(default)]
    implementation: Option<Spanned<OneOrMany>>,
    epss_alert: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawAdvisory {
    #[serde(default)]
    cve_id: Option<Spanned<String>>,
    #[serde(default)]
    fixed_in: Option<Spanned<OneOrMany>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawGithub {
    repo: Spanned<String>,
    #[serde(default)]
    token_env: Option<Spanned<String>>,
    #[serde(default)]
    api_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawNotify {
    #[serde(default)]
    digest: Option<Spanned<String>>,
    #[serde(default)]
    slack: Option<RawSlack>,
    #[serde(default)]
    email: Option<RawEmail>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSlack {
    #[serde(default)]
    webhook_env: Option<Spanned<String>>,
    #[serde(default)]
    webhook: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawEmail {
    host: Spanned<String>,
    #[serde(default)]
    port: Option<u16>,
    tls: Spanned<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    password_env: Option<Spanned<String>>,
    #[serde(default)]
    password: Option<Spanned<String>>,
    from: Spanned<String>,
    to: Spanned<OneOrMany>,
}

/// GitHub repository for filing advisory drafts.
#[derive(Debug, Clone, PartialEq)]
pub struct GithubRepo {
    /// `owner/name`.
    pub repo: String,
    /// Environment variable holding the token (default `GITHUB_TOKEN`).
    pub token_env: String,
    /// API base (default `https://api.github.com`).
    pub api_url: String,
}

/// Settings of the project's own advisory for one finding (`[project.advisory.ID]`).
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectAdvisory {
    /// The finding it applies to: any of the finding's ids (`GHSA-...`, `CVE-...`).
    pub id: String,
    /// The CVE id assigned to the project's own advisory (never the dependency's).
    pub cve_id: Option<String>,
    /// The project's release(s) that fix this finding; empty: the project's `fixed-in`.
    pub fixed_in: Vec<String>,
}

impl Project {
    /// The `[project.advisory.ID]` settings for a finding with these ids, if any.
    pub fn advisory_for(&self, ids: &[String]) -> Option<&ProjectAdvisory> {
        self.advisories
            .iter()
            .find(|a| ids.iter().any(|i| i.trim().eq_ignore_ascii_case(&a.id)))
    }
}

/// A project the monitor watches.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    /// Its name (unique; names files and messages).
    pub name: String,
    /// Manifests or directories to scan (resolved against the config's directory). Empty: a
    /// policy-only entry, shown by `policy show` but not scanned.
    pub paths: Vec<PathBuf>,
    /// Its SECURITY.md.
    pub security_policy: Option<PathBuf>,
    /// Its OpenVEX documents (resolved against the config's directory).
    pub vex: Vec<PathBuf>,
    /// Its versions for advisory drafts (ranges, series such as `1.4.x`, or released
    /// versions); empty: the SECURITY.md supported-versions table is used.
    pub versions: Vec<String>,
    /// Its release(s) that fix its open findings (`fixed-in`): the patched versions of drafts.
    pub fixed_in: Vec<String>,
    /// Per-finding settings of its own advisories (`[project.advisory.ID]`).
    pub advisories: Vec<ProjectAdvisory>,
    /// Channels it notifies (`slack`, `email`).
    pub notify: Vec<String>,
    /// Scopes whose events go to the digest instead of an immediate alert (`quiet-scopes`);
    /// the findings stay in every report with their scope.
    pub quiet_scopes: Vec<String>,
    /// Overrides of the parsed policy.
    pub policy: PolicyOverride,
    /// Where `depwatch publish` files drafts.
    pub github: Option<GithubRepo>,
    /// Where it runs (`python`, `platforms`, `implementation`): dependencies whose markers
    /// exclude every such environment are not applicable. Default: undeclared.
    pub targets: crate::environment::Targets,
    /// `epss-alert`: an open finding whose EPSS score reaches it is a "now known exploited"
    /// event; `None`: [`super::DEFAULT_EPSS_ALERT`].
    pub epss_alert: Option<f64>,
}

impl Project {
    /// Whether its paths are there: every path exists and its SECURITY.md is a file (a
    /// renamed manifest or a dangling symlink is this project's error, not the config's).
    pub fn check_paths(&self) -> Result<(), String> {
        for p in &self.paths {
            if !p.exists() {
                return Err(format!("path {} does not exist", p.display()));
            }
        }
        if let Some(sp) = &self.security_policy
            && !sp.is_file()
        {
            return Err(format!("security-policy {} is not a file", sp.display()));
        }
        Ok(())
    }
}

/// Where a secret comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum SecretSource {
    /// An environment variable, read when the secret is used.
    Env(String),
    /// The value itself, from a config file only its owner can read.
    Inline(Secret),
}

impl SecretSource {
    /// The secret, or an error naming the variable (never its value).
    pub fn resolve(&self) -> Result<Secret, String> {
        match self {
            Self::Inline(s) => Ok(s.clone()),
            Self::Env(var) => match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim())),
                _ => Err(format!("environment variable {var} is not set")),
            },
        }
    }
}

/// Slack settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SlackConfig {
    /// The incoming-webhook URL.
    pub webhook: SecretSource,
}

/// Email settings; the password is resolved when mail is sent.
#[derive(Debug, Clone)]
pub struct EmailConfig {
    /// Everything but the password.
    pub settings: EmailSettings,
    /// The password, if the server wants one.
    pub password: Option<SecretSource>,
}

/// The channels.
#[derive(Debug, Clone, Default)]
pub struct Notify {
    /// `digest = "<cron>"`: when low-priority events held since the last digest go out, one
    /// message per project and channel; `None`: every event is sent at once.
    pub digest: Option<String>,
    /// `[notify.slack]`.
    pub slack: Option<SlackConfig>,
    /// `[notify.email]`.
    pub email: Option<EmailConfig>,
}

/// Everything needed to validate: the file's text (for lines), its path and permissions.
pub(super) struct Ctx<'a> {
    pub text: &'a str,
    pub path: &'a Path,
    /// Whether group or others may read the file (then inline secrets are refused).
    pub readable_by_others: bool,
}

impl Ctx<'_> {
    fn line(&self, offset: usize) -> Option<usize> {
        Some(crate::manifests::line_of_offset(self.text, offset))
    }

    fn err(&self, offset: Option<usize>, message: String) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line: offset.and_then(|o| self.line(o)),
            message,
        }
    }

    pub(super) fn resolve(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        let joined = if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .map(|d| d.join(p))
                .unwrap_or_else(|| p.to_path_buf())
        };
        normalize(&joined)
    }

    /// The environment variable a config names for a secret. The config chooses both the
    /// secret and where it goes (an SMTP host, a webhook URL), so it may name only
    /// `DEPWATCH_*` variables: `password-env = "GITHUB_TOKEN"` would otherwise mail the
    /// operator's token to any host. The operator allows other names in the environment,
    /// `DEPWATCH_ALLOW_SECRET_ENV=NAME,NAME` (the environment is the operator's; the config,
    /// which may come with a scanned repository, may not be).
    fn secret_env(&self, key: &str, v: &Spanned<String>) -> Result<String, ConfigError> {
        let name = v.get_ref().trim();
        let allowed = std::env::var(ALLOW_SECRET_ENV).unwrap_or_default();
        if secret_env_allowed(name, &allowed) {
            return Ok(name.to_string());
        }
        Err(self.err(
            Some(v.span().start),
            format!(
                "{key} names {name:?}: a config may name only DEPWATCH_* variables for its \
                 secrets, since it also chooses where they are sent; rename the variable \
                 (e.g. DEPWATCH_{name}), or allow it in the environment with \
                 {ALLOW_SECRET_ENV}={name}"
            ),
        ))
    }

    fn inline_secret(&self, key: &str, v: &Spanned<String>) -> Result<SecretSource, ConfigError> {
        if self.readable_by_others {
            return Err(self.err(
                Some(v.span().start),
                format!(
                    "{key} holds a secret, but the file can be read by group or others: \
                     run `chmod 600 {}` or use {key}-env to name an environment variable",
                    self.path.display()
                ),
            ));
        }
        Ok(SecretSource::Inline(Secret::new(v.get_ref().trim())))
    }
}

pub(super) fn projects(
    ctx: &Ctx,
    raw: Vec<RawProject>,
    notify: &Notify,
) -> Result<Vec<Project>, ConfigError> {
    let mut out: Vec<Project> = Vec::new();
    for p in raw {
        let name = p.name.get_ref().trim().to_string();
        let at = Some(p.name.span().start);
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(ctx.err(
                at,
                format!("[[project]] name {name:?}: use letters, digits, '-', '_' and '.' only (it names files)"),
            ));
        }
        if out.iter().any(|q| q.name == name) {
            return Err(ctx.err(at, format!("[[project]] name {name:?} is used twice")));
        }
        // Paths are only resolved here: whether they exist is checked when the project runs
        // (`Project::check_paths`), so one project's broken checkout fails only that project.
        let paths: Vec<PathBuf> = match p.path {
            Some(sp) => sp
                .into_inner()
                .into_vec()
                .iter()
                .map(|s| ctx.resolve(s))
                .collect(),
            None => Vec::new(),
        };
        let security_policy = p.security_policy.map(|sp| ctx.resolve(sp.get_ref()));
        let vex: Vec<PathBuf> = p
            .vex
            .map(|v| {
                v.into_inner()
                    .into_vec()
                    .iter()
                    .map(|s| ctx.resolve(s))
                    .collect()
            })
            .unwrap_or_default();
        let notify_list = match p.notify {
            Some(n) => {
                for ch in n.get_ref() {
                    let configured = match ch.as_str() {
                        "slack" => notify.slack.is_some(),
                        "email" => notify.email.is_some(),
                        other => {
                            return Err(ctx.err(
                                Some(n.span().start),
                                format!("project {name}: notify: unknown channel {other:?} (slack, email)"),
                            ));
                        }
                    };
                    if !configured {
                        return Err(ctx.err(
                            Some(n.span().start),
                            format!(
                                "project {name}: notify names {ch}, but there is no [notify.{ch}]"
                            ),
                        ));
                    }
                }
                n.into_inner()
            }
            None => {
                let mut v = Vec::new();
                if notify.slack.is_some() {
                    v.push("slack".to_string());
                }
                if notify.email.is_some() {
                    v.push("email".to_string());
                }
                v
            }
        };
        let quiet_scopes = match p.quiet_scopes {
            None => Vec::new(),
            Some(q) => {
                let at = Some(q.span().start);
                if notify.digest.is_none() {
                    // Quiet without a digest would either drop the events or send them at
                    // once; both would make the setting say something untrue.
                    return Err(ctx.err(
                        at,
                        format!(
                            "project {name}: quiet-scopes sends events to the digest, but \
                             [notify] has no digest = \"<cron>\""
                        ),
                    ));
                }
                let mut v = Vec::new();
                for s in q.into_inner() {
                    let s = s.trim().to_string();
                    if s.is_empty() || s.contains(',') {
                        return Err(ctx.err(
                            at,
                            format!(
                                "project {name}: quiet-scopes: {s:?} is not a scope name \
                                 (e.g. \"dev\", \"test\", \"build\")"
                            ),
                        ));
                    }
                    v.push(s);
                }
                v
            }
        };
        let policy = match p.policy {
            Some(o) => {
                validate_override(o.get_ref()).map_err(|m| {
                    ctx.err(
                        Some(o.span().start),
                        format!("project {name}: [project.policy] {m}"),
                    )
                })?;
                o.into_inner()
            }
            None => PolicyOverride::default(),
        };
        let github = match p.github {
            Some(g) => {
                let repo = g.repo.get_ref().trim().to_string();
                let ok = repo.split('/').count() == 2
                    && repo.split('/').all(|s| {
                        !s.is_empty()
                            && s.chars()
                                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    });
                if !ok {
                    return Err(ctx.err(
                        Some(g.repo.span().start),
                        format!("project {name}: github.repo {repo:?} is not owner/name"),
                    ));
                }
                let token_env = match g.token_env {
                    // The token goes only to api.github.com unless $DEPWATCH_GHSA_TOKEN_URL
                    // says otherwise, so depwatch's default name needs no allowing.
                    Some(v) if v.get_ref() == DEFAULT_TOKEN_ENV => DEFAULT_TOKEN_ENV.to_string(),
                    Some(v) => ctx.secret_env("project.github.token-env", &v)?,
                    None => DEFAULT_TOKEN_ENV.to_string(),
                };
                Some(GithubRepo {
                    repo,
                    token_env,
                    api_url: g
                        .api_url
                        .unwrap_or_else(|| "https://api.github.com".into())
                        .trim_end_matches('/')
                        .to_string(),
                })
            }
            None => None,
        };
        // Checked here so a draft never silently loses its range to a typo.
        let versions = match p.versions {
            Some(v) => {
                let at = Some(v.span().start);
                let v = v.into_inner().into_vec();
                for s in &v {
                    crate::publish::affected::check_statement(s)
                        .map_err(|m| ctx.err(at, format!("project {name}: versions: {m}")))?;
                }
                v
            }
            None => Vec::new(),
        };
        let fixed_in = release_list(ctx, &name, "fixed-in", p.fixed_in)?;
        let mut advisories = Vec::new();
        for (id, a) in p.advisory {
            let key = format!("advisory.{id}");
            let cve_id = match a.cve_id {
                Some(c) => {
                    let v = c.get_ref().trim().to_string();
                    if !crate::advisory::AdvisoryId::new(&v).is_well_formed_cve() {
                        return Err(ctx.err(
                            Some(c.span().start),
                            format!(
                                "project {name}: {key}.cve-id {v:?} is not a CVE id (CVE-YYYY-NNNN)"
                            ),
                        ));
                    }
                    Some(v)
                }
                None => None,
            };
            advisories.push(ProjectAdvisory {
                id: id.trim().to_string(),
                cve_id,
                fixed_in: release_list(ctx, &name, &format!("{key}.fixed-in"), a.fixed_in)?,
            });
        }
        let targets = targets(ctx, &name, p.python, p.platforms, p.implementation)?;
        let epss_alert = match p.epss_alert {
            Some(v) if (0.0..=1.0).contains(v.get_ref()) => Some(*v.get_ref()),
            Some(v) => {
                return Err(ctx.err(
                    Some(v.span().start),
                    format!(
                        "project {name}: epss-alert {} is not a score from 0 to 1 (e.g. 0.1)",
                        v.get_ref()
                    ),
                ));
            }
            None => None,
        };
        out.push(Project {
            targets,
            epss_alert,
            name,
            paths,
            security_policy,
            vex,
            versions,
            fixed_in,
            advisories,
            notify: notify_list,
            quiet_scopes,
            policy,
            github,
        });
    }
    Ok(out)
}

/// The project's target environments, each value checked (the error names its line).
fn targets(
    ctx: &Ctx,
    name: &str,
    python: Option<Spanned<OneOrMany>>,
    platforms: Option<Spanned<OneOrMany>>,
    implementation: Option<Spanned<OneOrMany>>,
) -> Result<crate::environment::Targets, ConfigError> {
    use crate::environment::Targets;
    let split = |v: Option<Spanned<OneOrMany>>| match v {
        Some(v) => (Some(v.span().start), v.into_inner().into_vec()),
        None => (None, Vec::new()),
    };
    let (py_at, python) = split(python);
    let (pl_at, platforms) = split(platforms);
    let (im_at, implementation) = split(implementation);
    // Each list on its own first, so the error points at the key that holds the bad value.
    for (at, key, check) in [
        (py_at, "python", Targets::new(&python, &[], &[])),
        (pl_at, "platforms", Targets::new(&[], &platforms, &[])),
        (
            im_at,
            "implementation",
            Targets::new(&[], &[], &implementation),
        ),
    ] {
        check.map_err(|e| ctx.err(at, format!("project {name}: {key}: {e}")))?;
    }
    Targets::new(&python, &platforms, &implementation)
        .map_err(|e| ctx.err(py_at, format!("project {name}: {e}")))
}

/// A list of the project's release versions (`fixed-in`), each checked.
fn release_list(
    ctx: &Ctx,
    name: &str,
    key: &str,
    raw: Option<Spanned<OneOrMany>>,
) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let at = Some(raw.span().start);
    let v: Vec<String> = raw
        .into_inner()
        .into_vec()
        .into_iter()
        .map(|s| s.trim().to_string())
        .collect();
    for s in &v {
        crate::publish::affected::check_version(s)
            .map_err(|m| ctx.err(at, format!("project {name}: {key}: {m}")))?;
    }
    Ok(v)
}

/// `[notify]`; `zone` is the zone of the digest schedule (the watch's, else the config's).
pub(super) fn notify(ctx: &Ctx, raw: RawNotify, zone: &str) -> Result<Notify, ConfigError> {
    let slack = match raw.slack {
        None => None,
        Some(s) => {
            let webhook = match (s.webhook_env, s.webhook) {
                (Some(e), None) => {
                    SecretSource::Env(ctx.secret_env("notify.slack.webhook-env", &e)?)
                }
                (None, Some(w)) => ctx.inline_secret("notify.slack.webhook", &w)?,
                (Some(e), Some(_)) => {
                    return Err(ctx.err(
                        Some(e.span().start),
                        "notify.slack: give webhook-env or webhook, not both".into(),
                    ));
                }
                (None, None) => {
                    return Err(ctx.err(
                        None,
                        "[notify.slack] needs webhook-env (the environment variable holding the webhook URL)".into(),
                    ));
                }
            };
            Some(SlackConfig { webhook })
        }
    };
    let email = match raw.email {
        None => None,
        Some(e) => {
            let tls = match e.tls.get_ref().to_ascii_lowercase().as_str() {
                "starttls" => TlsMode::StartTls,
                "implicit" | "tls" => TlsMode::Implicit,
                "none" => TlsMode::None,
                other => {
                    return Err(ctx.err(
                        Some(e.tls.span().start),
                        format!("notify.email.tls: {other:?} is not starttls, implicit or none"),
                    ));
                }
            };
            let port = e.port.unwrap_or(match tls {
                TlsMode::StartTls => 587,
                TlsMode::Implicit => 465,
                TlsMode::None => 25,
            });
            let password = match (e.password_env, e.password) {
                (Some(v), None) => Some(SecretSource::Env(
                    ctx.secret_env("notify.email.password-env", &v)?,
                )),
                (None, Some(p)) => Some(ctx.inline_secret("notify.email.password", &p)?),
                (Some(v), Some(_)) => {
                    return Err(ctx.err(
                        Some(v.span().start),
                        "notify.email: give password-env or password, not both".into(),
                    ));
                }
                (None, None) => None,
            };
            let host_at = e.host.span().start;
            let settings = EmailSettings {
                host: e.host.into_inner(),
                port,
                tls,
                user: e.user,
                password: None,
                from: e.from.into_inner(),
                to: e.to.into_inner().into_vec(),
                timeout: std::time::Duration::from_secs(30),
            };
            settings.validate().map_err(|m| ctx.err(Some(host_at), m))?;
            Some(EmailConfig { settings, password })
        }
    };
    let digest = match raw.digest {
        Some(d) => {
            crate::schedule::Schedule::parse(d.get_ref(), zone)
                .map_err(|m| ctx.err(Some(d.span().start), format!("notify.digest: {m}")))?;
            Some(d.into_inner())
        }
        None => None,
    };
    Ok(Notify {
        digest,
        slack,
        email,
    })
}

fn validate_override(o: &PolicyOverride) -> Result<(), String> {
    o.validate()
}

/// Remove `.` and `dir/..` pairs without touching the file system (no symlinks resolved), so
/// `examples/../../shared/x` reads `../shared/x` in messages and drafts.
fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            c => out.push(c),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{normalize, secret_env_allowed};
    use std::path::Path;

    #[test]
    fn advisory_settings_are_read_and_checked() {
        use crate::config::Config;
        let cfg = Path::new("/nonexistent/depwatch.toml");
        let c = Config::parse(
            "[[project]]\nname = \"app\"\nversions = [\"1.0.0\", \"1.0.7\"]\nfixed-in = \"1.0.8\"\n\
             [project.advisory.GHSA-9wx4-h78v-vm56]\ncve-id = \"CVE-2026-10001\"\nfixed-in = [\"1.0.9\"]\n\
             [[project]]\nname = \"b\"\nversions = \">= 2.0, < 3\"\n",
            cfg,
        )
        .unwrap();
        let p = &c.projects[0];
        assert_eq!(p.versions, vec!["1.0.0", "1.0.7"]);
        assert_eq!(p.fixed_in, vec!["1.0.8"]);
        let ids = vec![
            "CVE-2024-35195".to_string(),
            "GHSA-9wx4-h78v-vm56".to_string(),
        ];
        let a = p.advisory_for(&ids).unwrap();
        assert_eq!(a.cve_id.as_deref(), Some("CVE-2026-10001"));
        assert_eq!(a.fixed_in, vec!["1.0.9"]);
        assert!(p.advisory_for(&["GHSA-other".to_string()]).is_none());
        assert_eq!(c.projects[1].versions, vec![">= 2.0, < 3"]);
        for (text, line, want) in [
            (
                "[[project]]\nname = \"a\"\nversions = \"latest\"\n",
                ":3:",
                "versions: \"latest\" is not a version",
            ),
            (
                "[[project]]\nname = \"a\"\nfixed-in = \"next\"\n",
                ":3:",
                "fixed-in: \"next\" is not a version",
            ),
            (
                "[[project]]\nname = \"a\"\n[project.advisory.X]\ncve-id = \"GHSA-1\"\n",
                ":4:",
                "advisory.X.cve-id \"GHSA-1\" is not a CVE id",
            ),
            (
                "[[project]]\nname = \"a\"\n[project.advisory.X]\ncve = \"CVE-2026-1000\"\n",
                "",
                "unknown field",
            ),
        ] {
            let e = Config::parse(text, cfg).unwrap_err().to_string();
            assert!(e.contains(line) && e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn target_environments_are_read_and_checked() {
        use crate::config::Config;
        let cfg = Path::new("/nonexistent/depwatch.toml");
        let c = Config::parse(
            "[[project]]\nname = \"app\"\npython = [\"3.11\", \"3.12\"]\nplatforms = \"linux\"\n\
             [[project]]\nname = \"b\"\n",
            cfg,
        )
        .unwrap();
        assert_eq!(
            c.projects[0].targets.describe(),
            ["python 3.11, linux", "python 3.12, linux"]
        );
        assert!(!c.projects[1].targets.is_declared());
        for (text, want) in [
            ("python = \"3.x\"", ":3:"),
            ("python = [\"3.12\"]\nplatforms = [\"beos\"]", ":4:"),
            ("implementation = \"jython\"", ":3:"),
        ] {
            let text = format!("[[project]]\nname = \"a\"\n{text}\n");
            let e = Config::parse(&text, cfg).unwrap_err().to_string();
            assert!(e.contains(want) && e.contains("project a: "), "{text}: {e}");
        }
    }

    #[test]
    fn secret_variables_need_the_prefix_or_the_operators_word() {
        assert!(secret_env_allowed("DEPWATCH_SMTP_PASSWORD", ""));
        assert!(!secret_env_allowed("DEPWATCH_", ""));
        assert!(!secret_env_allowed("GITHUB_TOKEN", ""));
        assert!(!secret_env_allowed("GITHUB_TOKEN", "GITHUB_TOKENS, ,AWS"));
        assert!(secret_env_allowed("GITHUB_TOKEN", "AWS, GITHUB_TOKEN"));
    }

    #[test]
    fn normalizes_lexically() {
        assert_eq!(
            normalize(Path::new("examples/../../shared/x")),
            Path::new("../shared/x")
        );
        assert_eq!(normalize(Path::new("./a/./b/..")), Path::new("a"));
        assert_eq!(normalize(Path::new("/../a")), Path::new("/a"));
        assert_eq!(normalize(Path::new("a/..")), Path::new("."));
    }
}
