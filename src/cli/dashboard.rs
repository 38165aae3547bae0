//! `depwatch dashboard`.

use super::{Outcome, RequiredConfigArg, StoreArg};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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
    /// Print to stderr how long each page took server-side: reading the already-open store
    /// and rendering, as `status::overview_page` / `status::project_page` do per request
    /// (milliseconds; `bench/dashboard.py` reads it).
    #[arg(long)]
    timings: bool,
}

/// Blocks (the store, files).
pub fn run(args: DashboardArgs) -> anyhow::Result<Outcome> {
    let config = args.config.load()?;
    let now = super::now()?;
    let loc = args.store.location()?;
    let output = super::out_dir(&args.drafts, &config);
    // Opened once, as a server holds it; the page times below exclude this.
    let t = Instant::now();
    let store = depwatch::store::open_read_only(&loc)?;
    let open_took = t.elapsed();
    let store = &*store;
    let projects = args.out.join("projects");
    let drafts = projects.join("drafts");
    std::fs::create_dir_all(&drafts).with_context(|| format!("creating {}", drafts.display()))?;
    let t = Instant::now();
    let overview = depwatch::status::overview_page(store, &config, now)?;
    let overview_took = t.elapsed();
    write(&args.out.join("index.html"), &overview)?;
    let mut page_times: Vec<Duration> = Vec::with_capacity(config.projects.len());
    for p in &config.projects {
        let t = Instant::now();
        let Some(page) =
            depwatch::status::dashboard_project(store, &config, &output, &p.name, now)?
        else {
            continue;
        };
        let html = depwatch::dashboard::project_html(&page);
        page_times.push(t.elapsed());
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
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        page_times.sort();
        let at = |q: f64| {
            page_times
                .get(((page_times.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or_default()
        };
        eprintln!(
            "timings: overview page {:.3} ms ({} projects); project pages median {:.3} ms, \
             p99 {:.3} ms, slowest {:.3} ms ({} pages); opening the store {:.1} ms ({})",
            ms(overview_took),
            config.projects.len(),
            ms(at(0.5)),
            ms(at(0.99)),
            ms(at(1.0)),
            page_times.len(),
            ms(open_took),
            if loc.sqlite_path().is_some() {
                "sqlite"
            } else {
                "postgres"
            }
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
