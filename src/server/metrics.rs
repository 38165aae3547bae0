//! `/metrics` in the Prometheus text format (version 0.0.4). Hand-written: the gauges are
//! read from the store's status at scrape time and the one histogram is a fixed array, which
//! is fewer lines than wiring a metrics registry for them.

use crate::status::Status;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the request-duration buckets.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Request durations by route and status code, since the server started.
#[derive(Default)]
pub struct Requests {
    by: Mutex<BTreeMap<(String, u16), Histogram>>,
}

impl Requests {
    /// Count one request.
    pub fn observe(&self, route: &str, status: u16, took: Duration) {
        let secs = took.as_secs_f64();
        let mut by = self.by.lock().unwrap_or_else(|p| p.into_inner());
        let h = by.entry((route.to_string(), status)).or_default();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }
}

/// A label value escaped as the text format asks (backslash, quote, newline).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The whole exposition: from the store's status (open findings, feeds, outbox, the last
/// cycle) and the request histogram.
pub fn render(status: &Status, projects: &[String], requests: &Requests) -> String {
    let mut o = String::new();
    // Writing to a String cannot fail.
    let _ = write_all(&mut o, status, projects, requests);
    o
}

fn write_all(
    o: &mut String,
    s: &Status,
    projects: &[String],
    requests: &Requests,
) -> std::fmt::Result {
    writeln!(
        o,
        "# HELP depwatch_open_findings Open findings by project and severity (malware as severity=\"malicious\")."
    )?;
    writeln!(o, "# TYPE depwatch_open_findings gauge")?;
    let mut open: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for f in &s.open {
        let sev = if f.marker.is_some() {
            "malicious"
        } else {
            f.severity.as_str()
        };
        *open.entry((f.project.as_str(), sev)).or_default() += 1;
    }
    for p in projects {
        if !open.keys().any(|(q, _)| q == p) {
            writeln!(
                o,
                "depwatch_open_findings{{project=\"{}\",severity=\"none\"}} 0",
                label(p)
            )?;
        }
    }
    for ((p, sev), n) in &open {
        writeln!(
            o,
            "depwatch_open_findings{{project=\"{}\",severity=\"{}\"}} {n}",
            label(p),
            label(sev)
        )?;
    }
    writeln!(
        o,
        "# HELP depwatch_feed_last_success_timestamp_seconds When each source last synced successfully."
    )?;
    writeln!(
        o,
        "# TYPE depwatch_feed_last_success_timestamp_seconds gauge"
    )?;
    for src in &s.sources {
        if let Some(t) = src.last_success {
            writeln!(
                o,
                "depwatch_feed_last_success_timestamp_seconds{{source=\"{}\"}} {}",
                label(&crate::net::redact(&src.source)),
                t.as_second()
            )?;
        }
    }
    writeln!(
        o,
        "# HELP depwatch_feed_age_seconds Seconds since each source last synced successfully."
    )?;
    writeln!(o, "# TYPE depwatch_feed_age_seconds gauge")?;
    for src in &s.sources {
        if let Some(t) = src.last_success {
            writeln!(
                o,
                "depwatch_feed_age_seconds{{source=\"{}\"}} {}",
                label(&crate::net::redact(&src.source)),
                (s.now.as_second() - t.as_second()).max(0)
            )?;
        }
    }
    writeln!(
        o,
        "# HELP depwatch_outbox_messages Outbox messages by state."
    )?;
    writeln!(o, "# TYPE depwatch_outbox_messages gauge")?;
    for (state, n) in [
        ("pending", s.outbox.pending),
        ("sent", s.outbox.sent),
        ("given_up", s.outbox.given_up),
    ] {
        writeln!(o, "depwatch_outbox_messages{{state=\"{state}\"}} {n}")?;
    }
    writeln!(
        o,
        "# HELP depwatch_last_cycle_duration_seconds How long the last finished cycle (run or watch) took."
    )?;
    writeln!(o, "# TYPE depwatch_last_cycle_duration_seconds gauge")?;
    if let Some(r) = &s.last_run
        && let (Ok(a), Some(Ok(b))) = (
            r.started_at.parse::<jiff::Timestamp>(),
            r.finished_at.as_deref().map(str::parse::<jiff::Timestamp>),
        )
    {
        let secs = b.duration_since(a).as_secs_f64();
        writeln!(o, "depwatch_last_cycle_duration_seconds {secs}")?;
    }
    writeln!(
        o,
        "# HELP depwatch_http_request_duration_seconds API request durations by route and status, since the server started."
    )?;
    writeln!(o, "# TYPE depwatch_http_request_duration_seconds histogram")?;
    let by = requests
        .by
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    for ((route, status), h) in &by {
        let l = format!("route=\"{}\",status=\"{status}\"", label(route));
        for (i, b) in BUCKETS.iter().enumerate() {
            writeln!(
                o,
                "depwatch_http_request_duration_seconds_bucket{{{l},le=\"{b}\"}} {}",
                h.counts[i]
            )?;
        }
        writeln!(
            o,
            "depwatch_http_request_duration_seconds_bucket{{{l},le=\"+Inf\"}} {}",
            h.count
        )?;
        writeln!(
            o,
            "depwatch_http_request_duration_seconds_sum{{{l}}} {}",
            h.sum
        )?;
        writeln!(
            o,
            "depwatch_http_request_duration_seconds_count{{{l}}} {}",
            h.count
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_buckets_cumulative() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        let r = Requests::default();
        r.observe("/x", 200, Duration::from_millis(20));
        r.observe("/x", 200, Duration::from_secs(10));
        let by = r.by.lock().unwrap();
        let h = &by[&("/x".to_string(), 200)];
        assert_eq!(h.counts[0], 0);
        assert_eq!(h.counts[2], 1, "20 ms is under 25 ms");
        assert_eq!(h.counts[9], 1, "10 s is over every bound");
        assert_eq!(h.count, 2);
    }
}
