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
    /// Print to stderr how long reading the store and rendering the pages took (milliseconds;
    /// `bench/dashboard.py` reads it).
    #[arg(long)]
    timings: bool,
}

/// Blocks (SQLite, files).
pub fn run(args: DashboardArgs) -> anyhow::Result<Outcome> {
    let config = args.config.load()?;
    let now = super::now()?;
    let store = args.store.path();
    let output = super::out_dir(&args.drafts, &config);
    let t0 = std::time::Instant::now();
    let data = depwatch::status::dashboard(&store, &config, now)?;
    let t1 = std::time::Instant::now();
    let overview = depwatch::dashboard::overview_html(&data);
    let overview_render = t1.elapsed();
    let (mut gather, mut render, mut pages) = (t1 - t0, std::time::Duration::ZERO, 0u32);
    let mut slowest = std::time::Duration::ZERO;
    let projects = args.out.join("projects");
    let drafts = projects.join("drafts");
    std::fs::create_dir_all(&drafts).with_context(|| format!("creating {}", drafts.display()))?;
    write(&args.out.join("index.html"), &overview)?;
    for p in &config.projects {
        let t = std::time::Instant::now();
        let Some(page) =
            depwatch::status::dashboard_project(&store, &config, &output, &p.name, now)?
        else {
            continue;
        };
        let t2 = std::time::Instant::now();
        let html = depwatch::dashboard::project_html(&page);
        let took = t2.elapsed();
        gather += t2 - t;
        render += took;
        slowest = slowest.max(took);
        pages += 1;
        // Config names are letters, digits, '-', '_', '.' (checked on load), so the href is
        // the file name; only a leading dot is encoded, never a path step.
        let file = args.out.join(depwatch::dashboard::project_path(&p.name));
        write(&file, &html)?;
        for (name, from) in depwatch::status::draft_files(&page, &output) {
            let to = drafts.join(&name);
            std::fs::copy(&from, &to)
                .with_context(|| format!("copying draft {} to {}", from.display(), to.display()))?;
        }
    }
    if args.timings {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        eprintln!(
            "timings: overview render {:.3} ms ({} projects); project pages render {:.3} ms total, \
             slowest {:.3} ms ({pages} pages); reading the store {:.1} ms",
            ms(overview_render),
            data.projects.len(),
            ms(render),
            ms(slowest),
            ms(gather)
        );
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
