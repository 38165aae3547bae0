//! `depwatch token`: the API tokens of `depwatch serve`.

use super::{Outcome, StoreArg};
use depwatch::server::auth;
use depwatch::store::TokenScope;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
    #[command(flatten)]
    store: StoreArg,
}

#[derive(clap::Subcommand)]
enum TokenCommand {
    /// Create a token and print it once (only its SHA-256 is kept): a submit token for
    /// PROJECT, or with --read a token that reads every project.
    Create {
        /// The project the token may submit for.
        #[arg(required_unless_present = "read", conflicts_with = "read")]
        project: Option<String>,
        /// A read token (projects, findings, status, metrics) instead of a submit token.
        #[arg(long)]
        read: bool,
        /// Check that PROJECT is in this config.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// List the tokens (ids, scopes, projects, dates; never the tokens).
    List,
    /// Revoke a token by its id.
    Revoke {
        /// The id `token list` shows.
        id: i64,
    },
}

/// Blocks (SQLite).
pub fn run(args: TokenArgs) -> anyhow::Result<Outcome> {
    let mut store = depwatch::store::open(&args.store.location()?)?;
    let now = super::now()?;
    match args.command {
        TokenCommand::Create {
            project,
            read,
            config,
        } => {
            let (project, scope) = match project {
                Some(p) => (p, TokenScope::Submit),
                None if read => ("*".to_string(), TokenScope::Read),
                None => anyhow::bail!("name the project the token is for"),
            };
            if scope == TokenScope::Submit && !auth::valid_project_name(&project) {
                anyhow::bail!(
                    "invalid project name {project:?}: 1 to 64 of letters, digits, '.', '_', '-'"
                );
            }
            if let Some(path) = config {
                let c = super::load_required(Some(path.clone()))?;
                if scope == TokenScope::Submit && !c.projects.iter().any(|p| p.name == project) {
                    anyhow::bail!("{}: no project {project:?}", path.display());
                }
            }
            let (text, hash) = auth::new_token().map_err(anyhow::Error::msg)?;
            let id = store.create_token(&project, scope, &hash, now)?;
            outln!("{text}");
            errln!(
                "token {id} ({} {}): shown once; store it as a secret (DEPWATCH_TOKEN for depwatch submit)",
                scope.as_str(),
                if scope == TokenScope::Read {
                    "all projects"
                } else {
                    &project
                }
            );
        }
        TokenCommand::List => {
            outln!("ID\tSCOPE\tPROJECT\tCREATED\tREVOKED");
            for t in store.tokens()? {
                let revoked = t
                    .revoked_at
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "-".into());
                outln!(
                    "{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.scope.as_str(),
                    t.project,
                    t.created_at,
                    revoked
                );
            }
        }
        TokenCommand::Revoke { id } => {
            if !store.revoke_token(id, now)? {
                anyhow::bail!("no active token with id {id}");
            }
            outln!("token {id} revoked");
        }
    }
    Ok(Outcome::Success)
}
