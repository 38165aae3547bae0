//! `depwatch dashboard`.

use super::{Outcome, RequiredConfigArg, StoreArg};
use anyhow::Context;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct DashboardArgs {
    /// Write the pages here: index.html, projects/<name>.html and each project's drafts
    /// under projects/drafts/ (created; existing pages are replaced).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Where `depwatch run` wrote drafts (its `--out`; default: the config's `output`, else
    /// ./depwatch-out); the pages link to copies of them.
    #[arg(long, value_name = "DIR")]
    drafts: Option<PathBuf>,
    #[command(flatten)]
    config: RequiredConfigArg,
    #[command(flatten)]
    store: StoreArg,
}

/// Blocks (SQLite, files).
pub fn run(args: DashboardArgs) -> anyhow::Result<Outcome> {
    let config = args.config.load()?;
    let now = super::now()?;
    let store = args.store.path();
    let output = super::out_dir(&args.drafts, &config);
    let data = depwatch::status::dashboard(&store, &config, now)?;
    let projects = args.out.join("projects");
    let drafts = projects.join("drafts");
    std::fs::create_dir_all(&drafts).with_context(|| format!("creating {}", drafts.display()))?;
    write(
        &args.out.join("index.html"),
        &depwatch::dashboard::overview_html(&data),
    )?;
    for p in &config.projects {
        let Some(page) =
            depwatch::status::dashboard_project(&store, &config, &output, &p.name, now)?
        else {
            continue;
        };
        // Config names are letters, digits, '-', '_', '.' (checked on load), so the href is
        // the file name; only a leading dot is encoded, never a path step.
        let file = args.out.join(depwatch::dashboard::project_path(&p.name));
        write(&file, &depwatch::dashboard::project_html(&page))?;
        for (name, from) in depwatch::status::draft_files(&page, &output) {
            let to = drafts.join(&name);
            std::fs::copy(&from, &to)
                .with_context(|| format!("copying draft {} to {}", from.display(), to.display()))?;
        }
    }
    eprintln!(
        "wrote the dashboard of {} project(s) to {}",
        config.projects.len(),
        args.out.display()
    );
    Ok(Outcome::Success)
}

fn write(path: &Path, html: &str) -> anyhow::Result<()> {
    std::fs::write(path, html).with_context(|| format!("writing {}", path.display()))
}
