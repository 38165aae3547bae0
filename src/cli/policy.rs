//! `depwatch policy`.

use super::{Outcome, RequiredConfigArg};
use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    command: PolicyCommand,
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Print what was understood from a project's SECURITY.md, figure by figure, with the line
    /// each came from.
    #[command(mut_arg("config", |a| a.help(
        "Configuration file (default: ./depwatch.toml; with --file, read only when given, \
         for its timezone)"
    )))]
    Show {
        /// The project's name in depwatch.toml (or a label when --file is given).
        project: Option<String>,
        /// Read this SECURITY.md directly instead of the project's configured one.
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        #[command(flatten)]
        config: RequiredConfigArg,
        /// `text` for people; `json` for machines: the same figures, each with its origin
        /// (SECURITY.md file and line, depwatch.toml, or default). One object for one project,
        /// an array when no project is named.
        #[arg(long, value_enum, default_value = "text")]
        format: PolicyFormat,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PolicyFormat {
    Text,
    Json,
}

/// Blocks (files).
pub fn run(args: PolicyArgs) -> anyhow::Result<Outcome> {
    match args.command {
        PolicyCommand::Show {
            project,
            file,
            config,
            format,
        } => {
            let json = format == PolicyFormat::Json;
            if let Some(file) = file {
                let zone = match &config.config {
                    Some(_) => {
                        depwatch::policy::Zone::configured(config.load()?.timezone.as_deref())
                    }
                    None => depwatch::policy::Zone::default(),
                };
                let policy = depwatch::policy::Policy::load(&file)?;
                let label = project.unwrap_or_else(|| file.display().to_string());
                if json {
                    outln!(
                        "{}",
                        serde_json::to_string_pretty(&policy.to_json(&label, &zone))?
                    );
                } else {
                    out!("{}", policy.show(&label, &zone));
                }
                return Ok(Outcome::Success);
            }
            let config = config.load()?;
            let zone = depwatch::policy::Zone::configured(config.timezone.as_deref());
            let names: Vec<&str> = config.projects.iter().map(|p| p.name.as_str()).collect();
            let selected: Vec<_> = match &project {
                Some(name) => vec![config.project(name).with_context(|| {
                    format!(
                        "no project named {name:?} in the config (projects: {})",
                        names.join(", ")
                    )
                })?],
                None => config.projects.iter().collect(),
            };
            if json {
                let mut all = Vec::new();
                for p in &selected {
                    all.push(depwatch::run::project_policy(p)?.to_json(&p.name, &zone));
                }
                let text = match (&project, all.as_slice()) {
                    (Some(_), [one]) => serde_json::to_string_pretty(one)?,
                    _ => serde_json::to_string_pretty(&all)?,
                };
                outln!("{text}");
                return Ok(Outcome::Success);
            }
            for (i, p) in selected.iter().enumerate() {
                if i > 0 {
                    outln!();
                }
                let policy = depwatch::run::project_policy(p)?;
                out!("{}", policy.show(&p.name, &zone));
            }
            Ok(Outcome::Success)
        }
    }
}
