//! depwatch command line: parses arguments and dispatches to one module per subcommand
//! (`cli/`), which calls the library, prints, and says how the command ended. The binary owns
//! the one tokio runtime; the library only ever runs on it.

use clap::{Parser, Subcommand};
use cli::Outcome;
use std::io::Write;
use std::process::ExitCode;

/// Write to standard output. A closed pipe (`depwatch ... | head`, a CI log reader gone) is not
/// an error: the reader has what it wanted, and the command's work and exit code stand.
fn emit(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}

/// `print!` through [`emit`] (`print!` panics on a closed pipe); other write errors return.
macro_rules! out {
    ($($t:tt)*) => { $crate::emit(&format!($($t)*))? };
}

/// `println!` through [`emit`].
macro_rules! outln {
    () => { $crate::emit("\n")? };
    ($($t:tt)*) => { $crate::emit(&format!("{}\n", format_args!($($t)*)))? };
}

// After the macros: the subcommands use them.
/// `eprintln!` through the one cleaning rule ([`depwatch::text::clean`]): error text can carry
/// feed or server text, and no escape sequence may reach the operator's terminal.
macro_rules! errln {
    ($($t:tt)*) => { eprintln!("{}", depwatch::text::clean(&format!($($t)*), true)) };
}

mod cli;

#[derive(Parser)]
#[command(
    name = "depwatch",
    version,
    about = "Dependency and supply-chain advisory monitor"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan manifests and lockfiles against the synced store or advisory sources.
    #[command(after_help = cli::scan::EXIT_CODES)]
    Scan(cli::scan::ScanArgs),
    /// Bring the local advisory store up to date from each source.
    Sync(cli::sync::SyncArgs),
    /// Inspect the local advisory store.
    Db(cli::db::DbArgs),
    /// The monitor's job: sync, scan every configured project, write advisory drafts and
    /// release notes, and notify each project's channels of what is new.
    #[command(after_help = cli::run::EXIT_CODES)]
    Run(cli::run::RunArgs),
    /// File the open findings' advisory drafts on GitHub (repository security advisories, draft
    /// state; re-runs update the same drafts) for projects with [project.github].
    Publish(cli::publish::PublishArgs),
    /// The security section of release notes between two git revisions of a repository.
    Notes(cli::notes::NotesArgs),
    /// Disclosure policies read from the projects' SECURITY.md files.
    Policy(cli::policy::PolicyArgs),
    /// Run cycles on cron schedules until SIGTERM / SIGINT (one cycle at a time per store).
    Watch(cli::watch::WatchArgs),
    /// The last cycle, next fire times, source freshness, and open findings, overdue first.
    Status(cli::status::StatusArgs),
    /// Write the dashboard as static HTML pages (overview and one page per project, with SVG
    /// charts; no JavaScript), to publish on any static host.
    Dashboard(cli::dashboard::DashboardArgs),
    /// Write a project's OpenVEX 0.2.0 document: not_affected for its ignores and VEX inputs,
    /// affected for open findings, fixed for resolved ones (attach it to a release).
    Vex(cli::vex::VexArgs),
    /// Write a CycloneDX 1.6 JSON SBOM of the scanned manifests: components with purls, the
    /// lockfiles' dependency paths, and the scan's vulnerabilities with ratings and analysis.
    Sbom(cli::sbom::SbomArgs),
    /// The HTTP API: CI jobs submit manifests or an SBOM per project; projects, findings,
    /// status and metrics to read. Runs until SIGTERM / SIGINT.
    Serve(cli::serve::ServeArgs),
    /// Submit manifests or an SBOM to a depwatch server (the CI client; token from
    /// $DEPWATCH_TOKEN) and print the report.
    #[command(after_help = cli::submit::EXIT_CODES)]
    Submit(cli::submit::SubmitArgs),
    /// The API tokens of `depwatch serve`: create (shown once), list, revoke.
    Token(cli::token::TokenArgs),
}

/// The error and its causes, each said once: library errors already include their cause's
/// text (`path: reason`), so a cause that the message above it already says is skipped.
fn describe(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}

/// Scan and watch are async; the other commands block (SQLite, git, files), so they run on
/// the blocking pool and reach the network through the runtime's handle.
async fn dispatch(command: Command) -> anyhow::Result<Outcome> {
    use depwatch::blocking::off_executor;
    let rt = tokio::runtime::Handle::current();
    match command {
        Command::Scan(args) => cli::scan::run(args).await,
        Command::Watch(args) => cli::watch::run(args).await,
        Command::Serve(args) => cli::serve::run(args).await,
        Command::Submit(args) => cli::submit::run(args).await,
        Command::Token(args) => off_executor(move || cli::token::run(args)).await,
        Command::Sync(args) => off_executor(move || cli::sync::run(args, &rt)).await,
        Command::Db(args) => off_executor(move || cli::db::run(args)).await,
        Command::Policy(args) => off_executor(move || cli::policy::run(args)).await,
        Command::Run(args) => off_executor(move || cli::run::run(args, &rt)).await,
        Command::Publish(args) => off_executor(move || cli::publish::run(args, &rt)).await,
        Command::Notes(args) => off_executor(move || cli::notes::run(args)).await,
        Command::Status(args) => off_executor(move || cli::status::run(args)).await,
        Command::Dashboard(args) => off_executor(move || cli::dashboard::run(args)).await,
        Command::Vex(args) => off_executor(move || cli::vex::run(args)).await,
        Command::Sbom(args) => off_executor(move || cli::sbom::run(args)).await,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The one runtime. `scan` does its work on one thread (a local scan never leaves the main
    // thread; an online one only waits on the network), so it gets a current-thread runtime:
    // starting worker threads, and their malloc arenas, was a measurable part of a 10 ms scan.
    let built = match cli.command {
        Command::Scan(_) => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    }
    .enable_all()
    .build();
    let rt = match built {
        Ok(rt) => rt,
        Err(e) => {
            errln!("error: starting the async runtime: {e}");
            return Outcome::Error.into();
        }
    };
    rt.block_on(run_cli(cli))
}

async fn run_cli(cli: Cli) -> ExitCode {
    // The operator's limits are read where clients are built; a typo must not fall back silently.
    let limits = depwatch::feeds::http::env_limits()
        .and_then(|_| depwatch::run::project_timeout())
        .map_err(anyhow::Error::msg);
    let result = match limits {
        Ok(_) => dispatch(cli.command).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(outcome) => outcome.into(),
        Err(e) => {
            errln!("error: {}", describe(&e));
            Outcome::Error.into()
        }
    }
}
