//! The two charts, drawn on the server as SVG: open findings per day by severity (stacked
//! bars) and the deadlines of open findings on a timeline. Written by hand: the drawing is a
//! few rectangles and lines, and a plotting crate would bring a canvas model we do not need.

use super::{FindingRow, HISTORY_DAYS, SEVERITIES};
use crate::severity::Level;
use crate::store::DailyOpen;
use crate::text::escape_html as esc;
use jiff::Timestamp;
use jiff::civil::Date;
use std::fmt::Write as _;

/// The fill of a severity (shared by the legend in the HTML).
pub(super) fn color(level: Level) -> &'static str {
    match level {
        Level::Critical => "#7f1d1d",
        Level::High => "#dc2626",
        Level::Medium => "#f59e0b",
        Level::Low => "#0ea5e9",
        Level::Unknown => "#94a3b8",
    }
}

/// Open findings per day over the [`HISTORY_DAYS`] days ending on `today`, one stacked bar a
/// day, one `<g class="series" data-severity="...">` per severity. Days without a run have no
/// bar (depwatch does not invent a count).
pub fn history_svg(history: &[DailyOpen], today: Date) -> String {
    const W: f64 = 900.0;
    const H: f64 = 220.0;
    const LEFT: f64 = 36.0;
    const BOTTOM: f64 = 24.0;
    const TOP: f64 = 8.0;
    let days = HISTORY_DAYS as usize;
    let first = today
        .checked_sub(jiff::Span::new().days(HISTORY_DAYS - 1))
        .unwrap_or(today);
    // counts[day][severity index]
    let mut counts = vec![[0u32; 5]; days];
    let mut ran = vec![false; days];
    for d in history {
        let Ok(span) = first.until(d.day) else {
            continue;
        };
        let i = span.get_days();
        if i < 0 || i as usize >= days {
            continue;
        }
        let Some(s) = SEVERITIES.iter().position(|l| *l == d.severity) else {
            continue;
        };
        counts[i as usize][s] += d.open;
        ran[i as usize] = true;
    }
    let max = counts
        .iter()
        .map(|c| c.iter().sum::<u32>())
        .max()
        .unwrap_or(0)
        .max(1);
    // A round top for the axis: 1, 2, 5 x 10^n.
    let mut top = 1u32;
    'find: for mag in [1u32, 10, 100, 1_000, 10_000, 100_000] {
        for m in [1, 2, 5, 10] {
            if m * mag >= max {
                top = m * mag;
                break 'find;
            }
        }
    }
    let plot_h = H - TOP - BOTTOM;
    let plot_w = W - LEFT - 4.0;
    let bar_w = plot_w / days as f64;
    let y = |v: u32| TOP + plot_h - (v as f64 / top as f64) * plot_h;
    let mut out = String::with_capacity(16 * 1024);
    let _ = write!(
        out,
        r#"<svg class="chart history" viewBox="0 0 {W} {H}" role="img" aria-labelledby="history-title" xmlns="http://www.w3.org/2000/svg"><title id="history-title">Open findings per day by severity, {first} to {today}</title>"#
    );
    // Grid and axis labels.
    for v in [0, top / 2, top] {
        let yy = y(v);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{W}" y1="{yy:.1}" y2="{yy:.1}" stroke="#e2e8f0"/><text x="{:.1}" y="{:.1}" class="axis" text-anchor="end">{v}</text>"##,
            LEFT - 6.0,
            yy + 4.0
        );
    }
    for (i, label) in [(0usize, first), (days - 1, today)] {
        let anchor = if i == 0 { "start" } else { "end" };
        let x = LEFT + i as f64 * bar_w + if i == 0 { 0.0 } else { bar_w };
        let _ = write!(
            out,
            r#"<text x="{x:.1}" y="{:.1}" class="axis" text-anchor="{anchor}">{label}</text>"#,
            H - 6.0
        );
    }
    let mut base = vec![0u32; days];
    // Bottom of the stack first: the least severe, so critical sits on top.
    for (s, level) in SEVERITIES.iter().enumerate().rev() {
        let _ = write!(
            out,
            r#"<g class="series" data-severity="{}" fill="{}">"#,
            level.as_str(),
            color(*level)
        );
        for i in 0..days {
            let n = counts[i][s];
            if !ran[i] || n == 0 {
                continue;
            }
            let y0 = y(base[i]);
            let y1 = y(base[i] + n);
            base[i] += n;
            let day = first
                .checked_add(jiff::Span::new().days(i as i64))
                .unwrap_or(first);
            let _ = write!(
                out,
                r#"<rect x="{:.1}" y="{y1:.1}" width="{:.1}" height="{:.1}"><title>{day}: {n} {}</title></rect>"#,
                LEFT + i as f64 * bar_w + 0.5,
                (bar_w - 1.0).max(0.5),
                y0 - y1,
                level.as_str()
            );
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

/// The deadlines of `findings` on a timeline from `now` minus the oldest overdue to the
/// latest deadline: a marker per finding's nearest watched deadline, overdue ones left of
/// the "now" line. Nothing to draw gives an empty string.
pub fn timeline_svg(findings: &[FindingRow], now: Timestamp) -> String {
    const W: f64 = 900.0;
    const ROW: f64 = 22.0;
    const LEFT: f64 = 8.0;
    const RIGHT: f64 = 8.0;
    const TOP: f64 = 26.0;
    let due: Vec<(&FindingRow, Timestamp)> = findings
        .iter()
        .filter_map(|f| f.next_deadline.map(|(_, t)| (f, t)))
        .take(40)
        .collect();
    if due.is_empty() {
        return String::new();
    }
    let lo = due.iter().map(|d| d.1).min().unwrap_or(now).min(now);
    let hi = due.iter().map(|d| d.1).max().unwrap_or(now).max(now);
    let span = (hi.as_second() - lo.as_second()).max(86_400) as f64;
    let x = |t: Timestamp| {
        LEFT + 190.0 + (t.as_second() - lo.as_second()) as f64 / span * (W - LEFT - RIGHT - 290.0)
    };
    let h = TOP + ROW * due.len() as f64 + 8.0;
    let mut out = String::with_capacity(8 * 1024);
    let _ = write!(
        out,
        r#"<svg class="chart timeline" viewBox="0 0 {W} {h}" role="img" aria-labelledby="timeline-title" xmlns="http://www.w3.org/2000/svg"><title id="timeline-title">Deadlines of open findings</title>"#
    );
    let nx = x(now);
    let _ = write!(
        out,
        r##"<line x1="{nx:.1}" x2="{nx:.1}" y1="14" y2="{:.1}" stroke="#0f172a" stroke-dasharray="3 3"/><text x="{nx:.1}" y="11" class="axis" text-anchor="middle">now</text>"##,
        h - 4.0
    );
    for (i, (f, t)) in due.iter().enumerate() {
        let yy = TOP + ROW * i as f64 + ROW / 2.0;
        let tx = x(*t);
        let class = if f.overdue { "due overdue" } else { "due" };
        let fill = if f.overdue {
            "#dc2626"
        } else {
            color(f.severity)
        };
        let kind = f.next_deadline.map(|(k, _)| k.as_str()).unwrap_or("");
        let _ = write!(
            out,
            r##"<g class="{class}"><line x1="{nx:.1}" x2="{tx:.1}" y1="{yy:.1}" y2="{yy:.1}" stroke="#cbd5e1"/><circle cx="{tx:.1}" cy="{yy:.1}" r="5" fill="{fill}"><title>{} {}: {kind} due {}</title></circle><text x="{:.1}" y="{:.1}" class="label" text-anchor="end">{}</text><text x="{:.1}" y="{:.1}" class="label">{}</text></g>"##,
            esc(&f.id),
            esc(&f.package),
            t.strftime("%Y-%m-%d"),
            LEFT + 180.0,
            yy + 4.0,
            esc(&crate::text::cap_chars(&f.id, 24)),
            tx + 9.0,
            yy + 4.0,
            t.strftime("%Y-%m-%d"),
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_draws_each_series_and_skips_days_without_runs() {
        let today: Date = "2026-12-06".parse().unwrap();
        let d = |day: &str, severity, open| DailyOpen {
            day: day.parse().unwrap(),
            severity,
            open,
        };
        let svg = history_svg(
            &[
                d("2026-12-05", Level::High, 2),
                d("2026-12-06", Level::Critical, 1),
                d("2026-12-06", Level::High, 3),
                d("2026-01-01", Level::Low, 9), // before the window
            ],
            today,
        );
        assert!(svg.contains(r#"data-severity="critical""#));
        assert_eq!(svg.matches("<rect").count(), 3, "{svg}");
        assert!(svg.contains("2026-12-06: 3 high"));
        assert!(!svg.contains(": 9 low"), "outside the 90 days");
    }

    #[test]
    fn timeline_escapes_feed_text() {
        let now: Timestamp = "2026-12-06T00:00:00Z".parse().unwrap();
        let f = FindingRow {
            id: "<script>".into(),
            url: None,
            package: "a&b 1".into(),
            summary: None,
            severity: Level::High,
            marker: None,
            kev: None,
            epss: None,
            fix: "x".into(),
            scope: None,
            via: None,
            deadlines: vec![],
            next_deadline: Some((crate::monitor::DeadlineKind::Fix, now)),
            overdue: true,
            drafts: vec![],
        };
        let svg = timeline_svg(&[f], now);
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;") && svg.contains("a&amp;b"));
        assert!(svg.contains(r#"class="due overdue""#));
    }
}
