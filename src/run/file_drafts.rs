//! `depwatch publish`: file the open findings' drafts as GitHub draft advisories.

use super::draft_input::draft_input;
use super::project::project_policy;
use super::{RunError, StepError};
use crate::config::Config;
use crate::feeds::http::{Http, HttpSettings};
use crate::monitor;
use crate::publish::draft;
use crate::publish::templates::Templates;
use crate::store::MonitorState;
use jiff::Timestamp;

/// One project's `publish` result.
#[derive(Debug)]
pub struct Published {
    /// Project.
    pub project: String,
    /// What happened, or why it failed (secrets redacted).
    pub result: Result<String, StepError>,
}

/// File the open findings' drafts on GitHub for every project with `[project.github]`. Blocks;
/// the requests run on `rt` (call it from a blocking thread).
pub fn publish_drafts(
    store: &impl MonitorState,
    config: &Config,
    only: Option<&str>,
    now: Timestamp,
    rt: &tokio::runtime::Handle,
) -> Result<Vec<Published>, RunError> {
    let templates = Templates::load(config.templates.as_deref())?;
    let http = Http::new(HttpSettings::default()).map_err(|e| RunError::Setup(e.to_string()))?;
    let allow_custom = std::env::var("DEPWATCH_GHSA_TOKEN_URL").ok();
    let key = draft::MarkerKey::new(store.draft_marker_key()?);
    let mut out = Vec::new();
    for p in &config.projects {
        let Some(gh) = &p.github else { continue };
        if only.is_some_and(|o| o != p.name) {
            continue;
        }
        let result = (|| -> Result<String, StepError> {
            let token = crate::config::SecretSource::Env(gh.token_env.clone())
                .resolve()
                .map_err(StepError::Secret)?;
            let policy = project_policy(p)?;
            let open = monitor::open_findings(&p.name, &store.seen(&p.name)?)?;
            let target = crate::publish::github::GithubTarget {
                api_base: gh.api_url.clone(),
                repo: gh.repo.clone(),
                token: token.clone(),
                allow_token_to_custom_base: crate::publish::github::token_allowed(
                    &gh.api_url,
                    allow_custom.as_deref(),
                ),
            };
            let (mut created, mut updated) = (0, 0);
            for f in &open {
                let mut input = draft_input(p, &policy, f, now);
                input.zone = crate::policy::Zone::configured(config.timezone.as_deref());
                let md = draft::render_markdown(&templates, &input)?;
                let body = serde_json::to_value(draft::github_advisory(&input, &md, &key))?;
                let filed = rt
                    .block_on(crate::publish::github::file_draft_matching(
                        &http,
                        &target,
                        &body,
                        &draft::marker(&f.fingerprint, &key),
                        &[&draft::legacy_marker(&f.fingerprint)],
                    ))
                    .map_err(|e| StepError::Github(token.scrub(&e.to_string())))?;
                if filed.created {
                    created += 1;
                } else {
                    updated += 1;
                }
            }
            Ok(format!(
                "{created} draft(s) filed, {updated} updated on {} (drafts stay unpublished for maintainers to review)",
                gh.repo
            ))
        })();
        out.push(Published {
            project: p.name.clone(),
            result,
        });
    }
    Ok(out)
}
