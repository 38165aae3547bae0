//! `depwatch submit`: the CI client of `depwatch serve`.

use super::Outcome;
use anyhow::Context;
use depwatch::severity::Level;
use std::path::{Path, PathBuf};

pub const EXIT_CODES: &str = "\
Exit codes (as scan):
  0  no finding at or above --fail-on
  1  a finding at or above --fail-on, or a malicious package
  2  an error: the server refused or failed the submission, or a manifest did not parse";

/// The largest report accepted from the server (the server is not trusted either).
const MAX_RESPONSE: usize = 64 << 20;
/// The largest file uploaded.
const MAX_FILE: u64 = 8 << 20;

#[derive(clap::Args)]
pub struct SubmitArgs {
    /// The depwatch server, e.g. https://depwatch.example.org.
    #[arg(long, value_name = "URL")]
    server: String,
    /// The project, as named in the server's config.
    #[arg(long, value_name = "NAME")]
    project: String,
    /// Manifests and lockfiles to upload; a directory uploads the ones directly in it.
    #[arg(required_unless_present = "sbom", value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Upload this CycloneDX JSON SBOM instead.
    #[arg(long, value_name = "FILE", conflicts_with = "paths")]
    sbom: Option<PathBuf>,
    /// Lowest severity that fails (exit 1).
    #[arg(long, value_name = "LEVEL")]
    fail_on: Option<String>,
}

/// The files to upload: each PATH, or the manifests directly in a directory PATH.
fn files(paths: &[PathBuf]) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && depwatch::manifests::registry::by_path(f).is_some())
                .collect();
            found.sort();
            if found.is_empty() {
                anyhow::bail!(
                    "{}: no manifest or lockfile in it ({})",
                    p.display(),
                    depwatch::manifests::registry::names()
                );
            }
            out.extend(found.into_iter().map(|f| (name_of(&f), f)));
        } else {
            out.push((name_of(p), p.clone()));
        }
    }
    Ok(out)
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    depwatch::fsread::read_regular(path, MAX_FILE).with_context(|| path.display().to_string())
}

pub async fn run(args: SubmitArgs) -> anyhow::Result<Outcome> {
    let fail_on = match &args.fail_on {
        Some(s) => s.parse::<Level>().map_err(anyhow::Error::msg)?,
        None => depwatch::config::DEFAULT_FAIL_ON,
    };
    let token = std::env::var("DEPWATCH_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
        .context("DEPWATCH_TOKEN is not set: create a token with `depwatch token create PROJECT` on the server")?;
    let url = format!(
        "{}/api/v1/projects/{}/scan",
        args.server.trim_end_matches('/'),
        percent_encoding::utf8_percent_encode(&args.project, percent_encoding::NON_ALPHANUMERIC)
    );
    let http = depwatch::net::Http::new(Default::default())?;
    let req = http.client().post(&url).bearer_auth(token.trim());
    let req = match &args.sbom {
        Some(path) => req
            .header("content-type", "application/vnd.cyclonedx+json")
            .body(read(path)?),
        None => {
            let mut form = reqwest::multipart::Form::new();
            for (name, path) in files(&args.paths)? {
                let part = reqwest::multipart::Part::bytes(read(&path)?).file_name(name.clone());
                form = form.part(name, part);
            }
            req.multipart(form)
        }
    };
    let (status, body) = http.send_once(req, &url, MAX_RESPONSE).await?;
    if status != 200 {
        let why = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(String::from))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(500).collect());
        anyhow::bail!("{}: HTTP {status}: {why}", depwatch::net::redact(&url));
    }
    let report: serde_json::Value =
        serde_json::from_slice(&body).context("the server's answer is not a JSON report")?;
    outln!("{}", serde_json::to_string_pretty(&report)?);
    Ok(verdict(&report, fail_on))
}

/// The exit outcome of a report, by `scan`'s rule ([`depwatch::scan::verdict`]) read from its
/// JSON: manifest errors, else malware or a finding at or above `fail_on`.
fn verdict(report: &serde_json::Value, fail_on: Level) -> Outcome {
    let errors = report["summary"]["manifest_errors"].as_u64().unwrap_or(0);
    if errors > 0 {
        for m in report["manifests"].as_array().into_iter().flatten() {
            if let Some(e) = m["error"].as_str() {
                errln!("error: {e}");
            }
        }
        return Outcome::Error;
    }
    let failing = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|f| {
            f["kind"] == "malware"
                || f["severity"]
                    .as_str()
                    .and_then(|s| s.parse::<Level>().ok())
                    .is_some_and(|l| l >= fail_on)
        });
    if failing {
        Outcome::Failing
    } else {
        Outcome::Success
    }
}
