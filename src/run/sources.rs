//! The run's sync step: the config's local sources, then the enabled remote feeds.

use super::{RunError, RunOptions, SyncLine};
use crate::feeds::SourceSpec;
use crate::store::AdvisoryStore;

pub(super) fn sync_step(
    store: &mut impl AdvisoryStore,
    opts: &RunOptions,
    rt: &tokio::runtime::Handle,
) -> Result<Vec<SyncLine>, RunError> {
    let mut lines = Vec::new();
    if opts.sync_local {
        for s in &opts.config.sources {
            // A KEV catalog or EPSS file (`kev:PATH`, `epss:PATH`): exploit data, not advisories.
            if let Some(spec) = crate::feeds::signal::SignalSpec::parse(s) {
                lines.push(match crate::sync::sync_signal_local(store, &spec) {
                    Ok(r) => sync_line(&r),
                    Err(e) => SyncLine {
                        source: s.clone(),
                        ok: false,
                        detail: e.to_string(),
                    },
                });
                continue;
            }
            let line = match s.parse::<SourceSpec>() {
                Err(e) => SyncLine {
                    source: s.clone(),
                    ok: false,
                    detail: e.to_string(),
                },
                Ok(spec) => match crate::sync::sync_local(store, &spec) {
                    Ok(r) => sync_line(&r),
                    Err(e) => SyncLine {
                        source: s.clone(),
                        ok: false,
                        detail: e.to_string(),
                    },
                },
            };
            lines.push(line);
        }
    }
    if opts.sync_remote {
        let defs = opts.config.feed_defs().map_err(RunError::Setup)?;
        match crate::sync::sync_feeds(store, &defs, opts.http.clone(), rt) {
            Ok(rs) => lines.extend(rs.iter().map(sync_line)),
            Err(e) => lines.push(SyncLine {
                source: "feeds".into(),
                ok: false,
                detail: e.to_string(),
            }),
        }
    }
    Ok(lines)
}

pub(super) fn sync_line(r: &crate::sync::SourceSync) -> SyncLine {
    SyncLine {
        source: r.source.clone(),
        ok: r.result.is_ok(),
        detail: match &r.result {
            Ok(o) if o.unchanged => "unchanged".into(),
            Ok(o) => format!(
                "{} written, {} removed, {} broken records skipped",
                o.written, o.removed, r.skipped
            ),
            Err(e) => format!("{e} (previous data kept)"),
        },
    }
}
