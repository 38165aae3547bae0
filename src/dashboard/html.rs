//! The two pages. Plain `write!` into one string: a handful of tables, and a string per page
//! keeps 1,000 projects far under the 50 ms budget.

use super::svg::{color, history_svg, timeline_svg};
use super::{Data, FindingRow, ProjectData, SEVERITIES};
use crate::text::escape_html as esc;
use std::fmt::Write as _;

const CSS: &str = r#"
:root{--fg:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--card:#fff;--bad:#b91c1c}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#0f172a;color:#fff;padding:14px 20px}
header a{color:#fff;text-decoration:none}
header h1{margin:0;font-size:18px;font-weight:600}
header p{margin:2px 0 0;color:#cbd5e1;font-size:13px}
main{max-width:1100px;margin:0 auto;padding:16px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin:0 0 16px}
h2{font-size:16px;margin:0 0 10px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:12px;margin:0 0 16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px}
.card b{display:block;font-size:24px}
.card span{color:var(--muted);font-size:13px}
.card.bad b{color:var(--bad)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:7px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.overdue td:first-child{box-shadow:inset 3px 0 var(--bad)}
.zero{color:#cbd5e1}
.pill{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;font-weight:600;color:#fff;white-space:nowrap}
.pill.kev{background:#581c87}.pill.over{background:var(--bad)}.pill.mal{background:#000}
.muted{color:var(--muted);font-size:13px}
a{color:#1d4ed8}
.legend{display:flex;flex-wrap:wrap;gap:12px;font-size:13px;margin:6px 0 0}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px}
svg.chart{width:100%;height:auto;display:block}
svg .axis{font-size:12px;fill:#64748b}
svg .label{font-size:13px;fill:#0f172a}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0}
dt{color:var(--muted)}
.nw{white-space:nowrap}
.late{color:var(--muted)}
.missed{color:var(--bad);font-weight:600}
tr.overdue .late .pill{margin-left:4px}
@media (max-width:640px){
 main{padding:8px}
 section{padding:10px}
 table.findings thead{display:none}
 table.findings tr{display:block;border-bottom:1px solid var(--line);padding:6px 0}
 table.findings td{display:block;border:0;padding:2px 4px}
 .hide-phone{display:none}
 .cards{grid-template-columns:repeat(3,1fr);gap:8px}
 .card{padding:8px 10px}
 .card b{font-size:20px}
 svg.chart{min-width:620px}
}
"#;

/// The href of a project's page relative to the overview: `projects/<name>.html` with the name
/// percent-encoded, so any configured name is one safe path segment.
pub fn project_path(name: &str) -> String {
    let mut out = String::from("projects/");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') && !name.starts_with('.') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out.push_str(".html");
    out
}

fn head(out: &mut String, title: &str) {
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{CSS}</style></head><body>",
        esc(title)
    );
}

fn legend(out: &mut String) {
    out.push_str("<div class=\"legend\">");
    for l in SEVERITIES {
        let _ = write!(
            out,
            "<span><i style=\"background:{}\"></i>{}</span>",
            color(l),
            l.as_str()
        );
    }
    out.push_str("</div>");
}

fn count(out: &mut String, n: u32) {
    if n == 0 {
        out.push_str("<td class=\"n zero\">0</td>");
    } else {
        let _ = write!(out, "<td class=\"n\">{n}</td>");
    }
}

/// The overview: totals, the projects table (overdue first) and the 90-day chart.
pub fn overview_html(d: &Data) -> String {
    let mut out = String::with_capacity(4096 + d.projects.len() * 400);
    head(&mut out, "depwatch dashboard");
    let last = match d.last_run {
        Some(t) => format!("last cycle started {}", d.zone.format(t)),
        None => "no cycle has run yet".to_string(),
    };
    let _ = write!(
        out,
        "<header><h1>depwatch</h1><p>{} · shown {} · times in {} ({})</p></header><main>",
        esc(&last),
        esc(&d.zone.format(d.now)),
        esc(&d.zone.name()),
        esc(&d.zone.origin.to_string())
    );
    let mut totals = [0u32; 5];
    let (mut kev, mut overdue) = (0, 0);
    for p in &d.projects {
        for (t, n) in totals.iter_mut().zip(p.open) {
            *t += n;
        }
        kev += p.kev;
        overdue += p.overdue;
    }
    out.push_str("<div class=\"cards\">");
    let _ = write!(
        out,
        "<div class=\"card\"><b>{}</b><span>projects</span></div>",
        d.projects.len()
    );
    let _ = write!(
        out,
        "<div class=\"card\"><b>{}</b><span>open findings</span></div>",
        totals.iter().sum::<u32>()
    );
    let _ = write!(
        out,
        "<div class=\"card{}\"><b>{overdue}</b><span>overdue</span></div>",
        if overdue > 0 { " bad" } else { "" }
    );
    let _ = write!(
        out,
        "<div class=\"card\"><b>{}</b><span>critical</span></div><div class=\"card\"><b>{kev}</b><span>in CISA KEV</span></div></div>",
        totals[0]
    );
    out.push_str("<section><h2>Projects</h2><div class=\"scroll\"><table id=\"projects\" class=\"projects\"><thead><tr><th>Project</th><th class=\"n\">Overdue</th><th class=\"n\">Open</th>");
    for l in SEVERITIES {
        // Phones keep the two levels that drive deadlines soonest; the total is beside them.
        let class = if l >= crate::severity::Level::High {
            "n"
        } else {
            "n hide-phone"
        };
        let _ = write!(out, "<th class=\"{class}\">{}</th>", l.as_str());
    }
    out.push_str(
        "<th class=\"n\">KEV</th><th class=\"hide-phone\">Next deadline</th></tr></thead><tbody>",
    );
    for p in &d.projects {
        let class = if p.overdue > 0 {
            " class=\"overdue\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<tr{class} data-project=\"{}\"><td><a href=\"{}\">{}</a>{}</td>",
            esc(&p.name),
            esc(&project_path(&p.name)),
            esc(&p.name),
            if p.malware > 0 {
                " <span class=\"pill mal\">malware</span>"
            } else {
                ""
            }
        );
        if p.overdue > 0 {
            let _ = write!(
                out,
                "<td class=\"n\"><span class=\"pill over\">{} overdue</span></td>",
                p.overdue
            );
        } else {
            count(&mut out, 0);
        }
        let _ = write!(out, "<td class=\"n\"><b>{}</b></td>", p.total());
        for (i, n) in p.open.iter().enumerate() {
            let zero = if *n == 0 { " zero" } else { "" };
            let phone = if i >= 2 { " hide-phone" } else { "" };
            let _ = write!(out, "<td class=\"n{phone}{zero}\">{n}</td>");
        }
        if p.kev > 0 {
            let _ = write!(
                out,
                "<td class=\"n\"><span class=\"pill kev\">KEV {}</span></td>",
                p.kev
            );
        } else {
            count(&mut out, 0);
        }
        match p.next_deadline {
            Some((k, t)) => {
                let missed = if t <= d.now { " missed" } else { "" };
                let _ = write!(
                    out,
                    "<td class=\"hide-phone{missed}\">{} · {}</td></tr>",
                    k.as_str(),
                    esc(&d.zone.format(t))
                );
            }
            None => out.push_str("<td class=\"hide-phone muted\">none</td></tr>"),
        }
    }
    out.push_str("</tbody></table></div></section>");
    let today = d.now.to_zoned(jiff::tz::TimeZone::UTC).date();
    out.push_str("<section><h2>Open findings per day, last 90 days (all projects)</h2><div class=\"scroll\">");
    out.push_str(&history_svg(&d.history, today));
    out.push_str("</div>");
    legend(&mut out);
    out.push_str("<p class=\"muted\">Counted at the end of each day's last cycle (UTC days); a day without a cycle has no bar.</p></section>");
    out.push_str("</main></body></html>\n");
    out
}

fn finding_row(out: &mut String, f: &FindingRow, d: &ProjectData) {
    let class = if f.overdue { " class=\"overdue\"" } else { "" };
    let id = match &f.url {
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => format!(
            "<a href=\"{}\" rel=\"noreferrer\">{}</a>",
            esc(u),
            esc(&f.id)
        ),
        _ => esc(&f.id),
    };
    let sev = match f.marker {
        Some(m) => format!("<span class=\"pill mal\">{}</span>", esc(m)),
        None => format!(
            "<span class=\"pill\" style=\"background:{}\">{}</span>",
            color(f.severity),
            f.severity.as_str()
        ),
    };
    let _ = write!(
        out,
        "<tr{class}><td><b>{id}</b><br><span class=\"muted\">{}</span></td><td>{sev}",
        esc(&f.package)
    );
    if let Some(k) = &f.kev {
        let _ = write!(
            out,
            " <span class=\"pill kev\" title=\"CISA KEV, added {}\">KEV</span>",
            esc(k)
        );
    }
    if let Some(e) = f.epss {
        let _ = write!(out, "<br><span class=\"muted\">EPSS {e:.3}</span>");
    }
    out.push_str("</td><td>");
    if let Some(s) = &f.summary {
        let _ = write!(
            out,
            "{}<br>",
            esc(&crate::text::cap_chars(&crate::text::clean(s, false), 160))
        );
    }
    let _ = write!(out, "<b>{}</b>", esc(&f.fix));
    let scope = f.scope.as_deref().unwrap_or("normal dependency");
    let _ = write!(out, "<br><span class=\"muted\">scope: {}", esc(scope));
    if let Some(v) = &f.via {
        let _ = write!(out, " · {}", esc(v));
    }
    out.push_str("</span></td><td>");
    for (k, t) in &f.deadlines {
        let late = *t <= d.now;
        // A passed fix or disclosure deadline is the alarm; a passed response or update
        // deadline is history.
        let class = match (late, crate::monitor::WATCHED_DEADLINES.contains(k)) {
            (true, true) => " class=\"missed\"",
            (true, false) => " class=\"late\"",
            _ => "",
        };
        let _ = write!(
            out,
            "<div{class}>{}: <span class=\"nw\">{}</span>{}</div>",
            k.as_str(),
            esc(&d.zone.format(*t)),
            if late && Some((*k, *t)) == f.next_deadline {
                " <span class=\"pill over\">overdue</span>"
            } else {
                ""
            }
        );
    }
    if f.deadlines.is_empty() {
        out.push_str("<span class=\"muted\">none</span>");
    }
    out.push_str("</td><td>");
    for (text, href) in &f.drafts {
        let _ = write!(
            out,
            "<a class=\"nw\" href=\"{}\">{}</a><br>",
            esc(href),
            esc(text)
        );
    }
    if f.drafts.is_empty() {
        out.push_str("<span class=\"muted\">none written</span>");
    }
    out.push_str("</td></tr>");
}

/// A project's page: its findings with fix advice, scope, deadlines and drafts, the deadline
/// timeline, its 90-day chart and its policy figures with their origins.
pub fn project_html(d: &ProjectData) -> String {
    let mut out = String::with_capacity(8192 + d.findings.len() * 800);
    head(&mut out, &format!("{} · depwatch", d.name));
    let overdue = d.findings.iter().filter(|f| f.overdue).count();
    let _ = write!(
        out,
        "<header><a href=\"../index.html\">← all projects</a><h1>{}</h1><p>{} open · {overdue} overdue · shown {} · deadlines in {} ({})</p></header><main>",
        esc(&d.name),
        d.findings.len(),
        esc(&d.zone.format(d.now)),
        esc(&d.zone.name()),
        esc(&d.zone.origin.to_string())
    );
    out.push_str("<section><h2>Open findings</h2>");
    if d.findings.is_empty() {
        out.push_str("<p class=\"muted\">No open findings.</p>");
    } else {
        out.push_str("<div class=\"scroll\"><table id=\"findings\" class=\"findings\"><thead><tr><th>Finding</th><th>Severity</th><th>Fix and scope</th><th>Deadlines</th><th>Drafts</th></tr></thead><tbody>");
        for f in &d.findings {
            finding_row(&mut out, f, d);
        }
        out.push_str("</tbody></table></div>");
    }
    out.push_str("</section>");
    let timeline = timeline_svg(&d.findings, d.now);
    if !timeline.is_empty() {
        out.push_str("<section><h2>Deadlines</h2><div class=\"scroll\">");
        out.push_str(&timeline);
        out.push_str("</div>");
        out.push_str("<p class=\"muted\">Each open finding's nearest fix or disclosure deadline; red: overdue.</p></section>");
    }
    let today = d.now.to_zoned(jiff::tz::TimeZone::UTC).date();
    out.push_str("<section><h2>Open findings per day, last 90 days</h2><div class=\"scroll\">");
    out.push_str(&history_svg(&d.history, today));
    out.push_str("</div>");
    legend(&mut out);
    out.push_str("</section><section><h2>Policy</h2>");
    let _ = write!(
        out,
        "<p class=\"muted\">{}</p><div class=\"scroll\"><table class=\"policy\"><thead><tr><th>Figure</th><th>Value</th><th>Origin</th></tr></thead><tbody>",
        match &d.policy_source {
            Some(p) => format!("From {}", esc(p)),
            None => "No SECURITY.md: depwatch's defaults".to_string(),
        }
    );
    for f in &d.policy {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"muted\">{}</td></tr>",
            esc(&f.name),
            esc(&f.value),
            esc(&f.origin)
        );
    }
    out.push_str("</tbody></table></div></section></main></body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn project_path_is_one_safe_segment() {
        assert_eq!(super::project_path("web-app_2"), "projects/web-app_2.html");
        assert_eq!(super::project_path("a/../b"), "projects/a%2F..%2Fb.html");
        assert_eq!(super::project_path(".."), "projects/%2E%2E.html");
    }
}
