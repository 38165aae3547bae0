//! Notification messages for one run of one project: a Slack Block Kit body and a multipart
//! email. Prose comes from templates (`slack.mrkdwn`, `slack-fallback.txt`,
//! `email-subject.txt`, `email.txt`, `email.html`); the Block Kit structure is serde types.
//!
//! Both order events most urgent first: overdue, deadline near, new (by severity, highest
//! first), severity changed, fix available, resolved.

use crate::monitor::digest::HeldEvent;
use crate::monitor::{Event, EventKind, ProjectEvents};
use crate::policy::Zone;
use crate::publish::EmailPayload;
use crate::publish::draft::{
    cap_chars, deadline_rows, exploit_text, fmt_date, fmt_datetime, one_line, severity_text,
    summary_of, web_url,
};
use crate::publish::templates::{TemplateError, Templates, slack_escape};
use crate::report::Fix;
use jiff::Timestamp;
use serde::Serialize;

/// Slack's limit on blocks in one message.
const MAX_BLOCKS: usize = 50;
/// Slack's limit on a section's text.
const SECTION_MAX: usize = 3000;
/// Slack's limit on a header's plain text.
const HEADER_MAX: usize = 150;
/// Events listed one by one in the Slack fallback text (the blocks carry the detail).
const FALLBACK_EVENTS: usize = 20;
/// A summary longer than this is cut in messages: the link leads to the rest.
const SUMMARY_MAX: usize = 500;

/// The events most urgent first, in the monitor's one order ([`Event::urgency_cmp`]).
pub fn ordered(events: &[Event]) -> Vec<&Event> {
    let mut out: Vec<&Event> = events.iter().collect();
    out.sort_by(|a, b| a.urgency_cmp(b));
    out
}

/// "Initial response", from "initial response".
fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The event's headline in the words people read first.
fn headline(e: &Event, zone: &Zone) -> String {
    let f = &e.finding.finding;
    match &e.kind {
        // A warning says which kind it is: it is not a vulnerability.
        EventKind::New if f.kind.is_informational() => format!(
            "New {} warning: {}",
            f.kind.as_str(),
            cap_chars(&summary_of(f), SUMMARY_MAX)
        ),
        EventKind::New => format!("New: {}", cap_chars(&summary_of(f), SUMMARY_MAX)),
        EventKind::RangeRisk {
            requirement,
            allows,
            suggested,
            note,
        } => {
            let bound = match (suggested, note) {
                (Some(b), _) => format!("depwatch suggests the bound {}", one_line(b)),
                (None, Some(n)) => format!("no bound suggested: {}", one_line(n)),
                (None, None) => "no bound suggested".to_string(),
            };
            cap_chars(
                &format!(
                    "Range risk: {} {} allows affected versions ({}); {bound}",
                    one_line(&f.package.name),
                    one_line(requirement),
                    one_line(&allows.join("; "))
                ),
                SUMMARY_MAX,
            )
        }
        EventKind::SeverityChanged { from, to } => format!("Severity {from} -> {to}"),
        EventKind::FixAvailable { version } => {
            format!("Fix available: upgrade to {}", one_line(version))
        }
        EventKind::DeadlineNear { deadline, due } => format!(
            "{} deadline near: due {}",
            capitalise(deadline.as_str()),
            due_text(*due, zone)
        ),
        EventKind::Overdue { deadline, due } => {
            format!(
                "OVERDUE: {} was due {}",
                deadline.as_str(),
                due_text(*due, zone)
            )
        }
        EventKind::Resolved { reason } => {
            format!("Resolved: {}", cap_chars(&one_line(reason), SUMMARY_MAX))
        }
        EventKind::KnownExploited { reason } => {
            format!(
                "Now known exploited: {}",
                cap_chars(&one_line(reason), SUMMARY_MAX)
            )
        }
    }
}

/// One event, flat and fully populated for strict templates.
#[derive(Debug, Clone, Serialize)]
struct EventContext {
    /// 1-based position in the message.
    number: usize,
    /// `new`, `overdue`, ... (for templates that want to style by kind).
    kind: String,
    headline: String,
    id: String,
    url: String,
    has_url: bool,
    ecosystem: String,
    package: String,
    version: String,
    /// "2.32.2", "no safe version yet", "no fix yet".
    fix: String,
    has_upgrade: bool,
    /// False for a resolved finding: there is nothing left to fix.
    show_fix: bool,
    severity: String,
    /// Exploitation (KEV, EPSS) in words with sources; empty when nothing is known.
    exploit: String,
    has_exploit: bool,
    summary: String,
    /// The summary is shown under the headline unless the headline already is the summary.
    show_summary: bool,
    /// `requirements.txt:12 (via requests)`.
    declared_in: String,
    /// Deadlines still ahead at the run ("fix released by 2026-12-08"); none for a resolved one.
    deadlines: String,
    has_deadlines: bool,
}

/// A deadline as messages show it: its date in UTC (`2026-12-02`); in any other configured
/// zone the wall-clock time with its offset (`2027-01-05 09:00 +01:00 Europe/Paris`), since a
/// bare date would be read as the reader's own day.
fn due_text(due: Timestamp, zone: &Zone) -> String {
    if zone.name() == "UTC" {
        fmt_date(due)
    } else {
        zone.format(due)
    }
}

fn event_context(number: usize, e: &Event, run_at: Timestamp, zone: &Zone) -> EventContext {
    let t = &e.finding;
    let f = &t.finding;
    // A `|` would end the URL part of a Slack `<url|text>` link early.
    let url = web_url(f).unwrap_or_default().replace('|', "%7C");
    let (fix, has_upgrade) = match &f.fix {
        Fix::Upgrade { to } => (one_line(to), true),
        Fix::NoSafeVersion => ("no safe version yet".to_string(), false),
        Fix::NoFix => ("no fix yet".to_string(), false),
        Fix::RemoveRelease { .. } | Fix::CheckIndex { .. } => {
            (one_line(&f.fix.malware_advice()), false)
        }
    };
    let resolved = matches!(e.kind, EventKind::Resolved { .. });
    // A range risk has no upgrade: what to change is the requirement's bound (in the headline).
    let range_risk = matches!(e.kind, EventKind::RangeRisk { .. })
        || e.finding
            .fingerprint
            .starts_with(crate::monitor::RISK_PREFIX);
    // Past deadlines are either the event itself (overdue) or old news.
    let deadlines = deadline_rows(t)
        .into_iter()
        .filter(|(_, due)| !resolved && *due >= run_at)
        .map(|(label, due)| format!("{} by {}", label.to_lowercase(), due_text(due, zone)))
        .collect::<Vec<_>>()
        .join(", ");
    let mut declared_in = if f.location.line > 0 {
        format!("{}:{}", f.location.file.display(), f.location.line)
    } else {
        f.location.file.display().to_string()
    };
    if let Some(path) = f.via.as_ref().filter(|p| !p.is_empty()) {
        declared_in.push_str(&format!(" (via {})", one_line(&path.join(" → "))));
    }
    EventContext {
        number,
        kind: e.kind.name().to_string(),
        headline: headline(e, zone),
        id: f.id.clone(),
        has_url: !url.is_empty(),
        url,
        ecosystem: f.package.ecosystem.as_osv().to_string(),
        package: f.package.name.clone(),
        version: f.package.version.clone(),
        fix,
        has_upgrade,
        show_fix: !resolved && !range_risk,
        severity: severity_text(f),
        exploit: exploit_text(f),
        has_exploit: !exploit_text(f).is_empty(),
        summary: cap_chars(&summary_of(f), SUMMARY_MAX),
        show_summary: !matches!(e.kind, EventKind::New),
        declared_in,
        has_deadlines: !deadlines.is_empty(),
        deadlines,
    }
}

/// The same event with every string escaped for Slack `mrkdwn`, for the `.txt` fallback
/// template (its registry does not escape, but Slack parses the fallback as mrkdwn).
fn slack_escaped(mut c: EventContext) -> EventContext {
    for s in [
        &mut c.headline,
        &mut c.id,
        &mut c.url,
        &mut c.package,
        &mut c.version,
        &mut c.fix,
        &mut c.summary,
        &mut c.exploit,
        &mut c.declared_in,
    ] {
        *s = slack_escape(s);
    }
    c
}

/// Counts of the events by kind, most urgent first: "1 overdue, 2 new".
fn tally(events: &[&Event]) -> String {
    let mut counts = [0usize; EventKind::KINDS];
    for e in events {
        counts[usize::from(e.kind.urgency_rank())] += 1;
    }
    let words = [
        ("now known exploited", "now known exploited"),
        ("overdue", "overdue"),
        ("deadline near", "deadlines near"),
        ("new", "new"),
        ("severity change", "severity changes"),
        ("fix available", "fixes available"),
        ("resolved", "resolved"),
        ("range risk", "range risks"),
    ];
    counts
        .iter()
        .zip(words)
        .filter(|(n, _)| **n > 0)
        .map(|(n, (one, many))| format!("{n} {}", if *n == 1 { one } else { many }))
        .collect::<Vec<_>>()
        .join(", ")
}

fn count_words(n: usize) -> String {
    if n == 1 {
        "1 event".to_string()
    } else {
        format!("{n} events")
    }
}

/// What the whole-message templates get.
#[derive(Debug, Serialize)]
struct MessageContext {
    project: String,
    run_at: String,
    count: usize,
    /// "3 events".
    count_words: String,
    /// "1 overdue, 2 new" ("no events" when empty).
    tally: String,
    events: Vec<EventContext>,
    has_events: bool,
    /// Events not listed (the Slack fallback lists the first few).
    more: usize,
    has_more: bool,
}

fn message_context(events: &ProjectEvents, ordered: &[&Event], limit: usize) -> MessageContext {
    let listed: Vec<EventContext> = ordered
        .iter()
        .take(limit)
        .enumerate()
        .map(|(i, e)| event_context(i + 1, e, events.run_at, &events.zone))
        .collect();
    let more = ordered.len() - listed.len();
    let tally = tally(ordered);
    MessageContext {
        project: one_line(&events.project),
        run_at: fmt_datetime(events.run_at),
        count: ordered.len(),
        count_words: count_words(ordered.len()),
        tally: if tally.is_empty() {
            "no events".to_string()
        } else {
            tally
        },
        has_events: !listed.is_empty(),
        events: listed,
        more,
        has_more: more > 0,
    }
}

// ---------------------------------------------------------------------------------------------
// Slack Block Kit.

/// A Block Kit text object (shared with the health messages).
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Text {
    PlainText { text: String, emoji: bool },
    Mrkdwn { text: String },
}

/// The Block Kit blocks depwatch sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Block {
    Header { text: Text },
    Section { text: Text },
    Context { elements: Vec<Text> },
}

/// An incoming-webhook body.
#[derive(Debug, Serialize)]
pub(crate) struct SlackBody {
    /// Fallback for notifications and clients without blocks.
    pub(crate) text: String,
    pub(crate) blocks: Vec<Block>,
}

/// Cut mrkdwn to `max` characters without leaving half an entity (`&am…`) at the end.
pub(crate) fn cap_mrkdwn(s: &str, max: usize) -> String {
    let capped = cap_chars(s, max);
    if capped.len() == s.len() {
        return capped;
    }
    let body = capped.strip_suffix('…').unwrap_or(&capped);
    let body = match body.rfind('&') {
        Some(i) if !body[i..].contains(';') => &body[..i],
        _ => body,
    };
    format!("{body}…")
}

/// The Slack incoming-webhook body for one run of one project: a header, one section per
/// event (template `slack.mrkdwn`), and a context line with the run time, within Slack's
/// limits (50 blocks: the events that do not fit are counted in one last section); the
/// top-level `text` is the fallback (template `slack-fallback.txt`).
pub fn slack_message(
    t: &Templates,
    events: &ProjectEvents,
) -> Result<serde_json::Value, TemplateError> {
    let ordered = ordered(&events.events);
    let mut ctx = message_context(events, &ordered, FALLBACK_EVENTS);
    ctx.events = ctx.events.into_iter().map(slack_escaped).collect();
    ctx.project = slack_escape(&ctx.project);
    let text = t.render("slack-fallback.txt", &ctx)?;

    let header = cap_chars(
        &format!(
            "{}: {}",
            one_line(&events.project),
            count_words(ordered.len())
        ),
        HEADER_MAX,
    );
    let mut blocks = vec![Block::Header {
        text: Text::PlainText {
            text: header,
            emoji: false,
        },
    }];
    // Header and context always; the rest are events, or events plus one "and N more".
    let room = MAX_BLOCKS - 2;
    let shown = if ordered.len() <= room {
        ordered.len()
    } else {
        room - 1
    };
    for (i, e) in ordered.iter().take(shown).enumerate() {
        let section = t.render(
            "slack.mrkdwn",
            &event_context(i + 1, e, events.run_at, &events.zone),
        )?;
        blocks.push(Block::Section {
            text: Text::Mrkdwn {
                text: cap_mrkdwn(section.trim_end(), SECTION_MAX),
            },
        });
    }
    if ordered.is_empty() {
        blocks.push(Block::Section {
            text: Text::Mrkdwn {
                text: "No events in this run.".to_string(),
            },
        });
    } else if shown < ordered.len() {
        let rest: Vec<&Event> = ordered.iter().skip(shown).copied().collect();
        blocks.push(Block::Section {
            text: Text::Mrkdwn {
                text: format!(
                    "…and {} more {} not shown here: {}. The email and the `depwatch` report list them all.",
                    rest.len(),
                    if rest.len() == 1 { "event" } else { "events" },
                    tally(&rest)
                ),
            },
        });
    }
    blocks.push(Block::Context {
        elements: vec![Text::Mrkdwn {
            text: format!(
                "depwatch run at {} · most urgent first",
                fmt_datetime(events.run_at)
            ),
        }],
    });
    serde_json::to_value(SlackBody { text, blocks }).map_err(|e| TemplateError::Render {
        name: "slack".to_string(),
        message: e.to_string(),
    })
}

// ---------------------------------------------------------------------------------------------
// Email.

/// The email for one run of one project: subject (one line), text and HTML bodies.
pub fn email(t: &Templates, events: &ProjectEvents) -> Result<EmailPayload, TemplateError> {
    let ordered = ordered(&events.events);
    let ctx = message_context(events, &ordered, usize::MAX);
    // A header line must not carry CR/LF (header injection, broken mail): fold to spaces.
    let subject = one_line(&t.render("email-subject.txt", &ctx)?);
    Ok(EmailPayload {
        subject,
        text: t.render("email.txt", &ctx)?,
        html: t.render("email.html", &ctx)?,
    })
}

// ---------------------------------------------------------------------------------------------
// Digest.

/// One project's digest: every event held for it since the last digest.
#[derive(Debug, Clone)]
pub struct DigestEvents {
    /// The project's name.
    pub project: String,
    /// When the digest was composed.
    pub at: Timestamp,
    /// The start of the period: the last digest, or the first held event when there was none.
    pub since: Timestamp,
    /// Whether `since` is the last digest (else it is when the first event was held).
    pub since_last_digest: bool,
    /// The zone times are shown in (the configured `timezone`).
    pub zone: Zone,
    /// The held events, in the order held.
    pub items: Vec<HeldEvent>,
}

/// One held event: the event's fields plus why it waited and when it was found.
#[derive(Debug, Serialize)]
struct DigestEventContext {
    #[serde(flatten)]
    event: EventContext,
    /// "scope dev is quiet for this project", "low severity".
    why: String,
    /// When the run that found it ran.
    found_at: String,
}

#[derive(Debug, Serialize)]
struct DigestContext {
    project: String,
    at: String,
    /// "since the last digest (2026-11-30 09:00 UTC)" or "since 2026-11-24 10:00 UTC, when
    /// the first of them was found".
    since: String,
    count: usize,
    count_words: String,
    tally: String,
    events: Vec<DigestEventContext>,
}

/// Most urgent first in the one order; equal events in the order held.
fn digest_ordered(d: &DigestEvents) -> Vec<&HeldEvent> {
    let mut v: Vec<&HeldEvent> = d.items.iter().collect();
    v.sort_by(|a, b| a.event.urgency_cmp(&b.event));
    v
}

fn since_text(d: &DigestEvents) -> String {
    if d.since_last_digest {
        format!("since the last digest ({})", d.zone.format(d.since))
    } else {
        format!(
            "since {}, when the first of them was found",
            d.zone.format(d.since)
        )
    }
}

fn digest_context(d: &DigestEvents, ordered: &[&HeldEvent]) -> DigestContext {
    let events: Vec<&Event> = ordered.iter().map(|h| &h.event).collect();
    DigestContext {
        project: one_line(&d.project),
        at: d.zone.format(d.at),
        since: since_text(d),
        count: ordered.len(),
        count_words: count_words(ordered.len()),
        tally: tally(&events),
        events: ordered
            .iter()
            .enumerate()
            .map(|(i, h)| DigestEventContext {
                // Deadlines are shown as they stand now, when the digest is read.
                event: event_context(i + 1, &h.event, d.at, &d.zone),
                why: one_line(&h.reason),
                found_at: d.zone.format(h.run_at),
            })
            .collect(),
    }
}

/// The Slack body of a project's digest: a header, one section per held event (template
/// `slack.mrkdwn` plus why it waited), and a context line with the period; the fallback text is
/// template `digest-fallback.txt`. Within Slack's limits like [`slack_message`].
pub fn digest_slack(t: &Templates, d: &DigestEvents) -> Result<serde_json::Value, TemplateError> {
    let ordered = digest_ordered(d);
    let mut ctx = digest_context(d, &ordered);
    ctx.project = slack_escape(&ctx.project);
    ctx.events = ctx
        .events
        .into_iter()
        .take(FALLBACK_EVENTS)
        .map(|mut e| {
            e.event = slack_escaped(e.event);
            e.why = slack_escape(&e.why);
            e
        })
        .collect();
    let text = t.render("digest-fallback.txt", &ctx)?;
    let header = cap_chars(
        &format!(
            "{}: digest, {}",
            one_line(&d.project),
            count_words(ordered.len())
        ),
        HEADER_MAX,
    );
    let mut blocks = vec![Block::Header {
        text: Text::PlainText {
            text: header,
            emoji: false,
        },
    }];
    let room = MAX_BLOCKS - 2;
    let shown = if ordered.len() <= room {
        ordered.len()
    } else {
        room - 1
    };
    for (i, h) in ordered.iter().take(shown).enumerate() {
        let section = t.render(
            "slack.mrkdwn",
            &event_context(i + 1, &h.event, d.at, &d.zone),
        )?;
        let section = format!(
            "{}\n_Held for the digest: {} · found {}_",
            section.trim_end(),
            slack_escape(&one_line(&h.reason)),
            slack_escape(&d.zone.format(h.run_at))
        );
        blocks.push(Block::Section {
            text: Text::Mrkdwn {
                text: cap_mrkdwn(&section, SECTION_MAX),
            },
        });
    }
    if shown < ordered.len() {
        let rest: Vec<&Event> = ordered.iter().skip(shown).map(|h| &h.event).collect();
        blocks.push(Block::Section {
            text: Text::Mrkdwn {
                text: format!(
                    "…and {} more {} not shown here: {}. The email digest lists them all.",
                    rest.len(),
                    if rest.len() == 1 { "event" } else { "events" },
                    tally(&rest)
                ),
            },
        });
    }
    blocks.push(Block::Context {
        elements: vec![Text::Mrkdwn {
            text: slack_escape(&format!(
                "depwatch digest of {}, {} · most urgent first",
                d.zone.format(d.at),
                since_text(d)
            )),
        }],
    });
    serde_json::to_value(SlackBody { text, blocks }).map_err(|e| TemplateError::Render {
        name: "digest-slack".to_string(),
        message: e.to_string(),
    })
}

/// The email of a project's digest: templates `digest-email-subject.txt`, `digest-email.txt`,
/// `digest-email.html`.
pub fn digest_email(t: &Templates, d: &DigestEvents) -> Result<EmailPayload, TemplateError> {
    let ordered = digest_ordered(d);
    let ctx = digest_context(d, &ordered);
    Ok(EmailPayload {
        subject: one_line(&t.render("digest-email-subject.txt", &ctx)?),
        text: t.render("digest-email.txt", &ctx)?,
        html: t.render("digest-email.html", &ctx)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecosystem::Ecosystem;
    use crate::monitor::{DeadlineKind, TrackedFinding};
    use crate::publish::draft::test_support::*;
    use crate::severity::Level;

    fn werkzeug() -> TrackedFinding {
        tracked(
            finding(Rec {
                eco: Ecosystem::PyPI,
                package: "Werkzeug",
                version: "3.0.1",
                id: "GHSA-2g68-c3qc-8985",
                aliases: &["CVE-2024-34069"],
                vectors: &["CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:H"],
                label: Level::High,
                summary: "Werkzeug debugger vulnerable to remote execution when interacting with attacker controlled domain",
                cwes: &["CWE-352"],
                fixed: &["3.0.3"],
                url: "https://github.com/advisories/GHSA-2g68-c3qc-8985",
                file: "requirements.txt",
                line: 9,
            }),
            "2026-10-20T14:05:00Z",
        )
    }

    fn jinja2() -> TrackedFinding {
        tracked(
            finding(Rec {
                eco: Ecosystem::PyPI,
                package: "Jinja2",
                version: "3.1.3",
                id: "GHSA-h75v-3vvj-5mfj",
                aliases: &["CVE-2024-34064"],
                vectors: &["CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N"],
                label: Level::Medium,
                summary: "Jinja vulnerable to HTML attribute injection when passing user input as keys to xmlattr filter",
                cwes: &["CWE-79"],
                fixed: &["3.1.4"],
                url: "https://github.com/advisories/GHSA-h75v-3vvj-5mfj",
                file: "requirements.txt",
                line: 6,
            }),
            "2026-11-04T09:30:00Z",
        )
    }

    fn gunicorn() -> TrackedFinding {
        let mut t = tracked(
            finding(Rec {
                eco: Ecosystem::PyPI,
                package: "gunicorn",
                version: "21.2.0",
                id: "GHSA-w3h3-4rj7-4ph4",
                aliases: &["CVE-2024-1135"],
                vectors: &["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:H/A:N"],
                label: Level::High,
                summary: "Request smuggling leading to endpoint restriction bypass in Gunicorn",
                cwes: &["CWE-444"],
                fixed: &[],
                url: "https://github.com/advisories/GHSA-w3h3-4rj7-4ph4",
                file: "requirements.txt",
                line: 7,
            }),
            "2026-11-18T11:00:00Z",
        );
        t.finding.fixed_versions = vec!["22.0.0".into()];
        t.finding.fix = Fix::Upgrade {
            to: "22.0.0".into(),
        };
        t
    }

    fn urllib3() -> TrackedFinding {
        let mut t = tracked(
            finding(Rec {
                eco: Ecosystem::PyPI,
                package: "urllib3",
                version: "1.26.18",
                id: "GHSA-34jh-p97f-mpxf",
                aliases: &["CVE-2024-37891"],
                vectors: &["CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N"],
                label: Level::Medium,
                summary: "urllib3's Proxy-Authorization request header isn't stripped during cross-origin redirects",
                cwes: &["CWE-669"],
                fixed: &["1.26.19"],
                url: "https://github.com/advisories/GHSA-34jh-p97f-mpxf",
                file: "requirements.txt",
                line: 12,
            }),
            "2026-11-15T16:40:00Z",
        );
        t.finding.via = Some(vec!["requests".into()]);
        t
    }

    fn aiohttp() -> TrackedFinding {
        tracked(
            finding(Rec {
                eco: Ecosystem::PyPI,
                package: "aiohttp",
                version: "3.9.1",
                id: "GHSA-5h86-8mv2-jq9f",
                aliases: &["CVE-2024-23334"],
                vectors: &["CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N"],
                label: Level::Medium,
                summary: "aiohttp is vulnerable to directory traversal",
                cwes: &["CWE-22"],
                fixed: &["3.9.2"],
                url: "https://github.com/advisories/GHSA-5h86-8mv2-jq9f",
                file: "requirements.txt",
                line: 2,
            }),
            "2026-09-01T10:00:00Z",
        )
    }

    /// One run of emby-watchparty with one event of each kind, in no particular order.
    fn run() -> ProjectEvents {
        let w = werkzeug();
        let j = jinja2();
        let overdue_due = w.deadlines.fix_by.unwrap();
        let near_due = j.deadlines.fix_by.unwrap();
        ProjectEvents {
            project: "emby-watchparty".into(),
            run_at: ts("2026-11-30T07:00:00Z"),
            zone: Zone::default(),
            events: vec![
                Event {
                    kind: EventKind::Resolved {
                        reason: "aiohttp upgraded to 3.9.2".into(),
                    },
                    finding: aiohttp(),
                },
                Event {
                    kind: EventKind::New,
                    finding: requests(),
                },
                Event {
                    kind: EventKind::FixAvailable {
                        version: "22.0.0".into(),
                    },
                    finding: gunicorn(),
                },
                Event {
                    kind: EventKind::DeadlineNear {
                        deadline: DeadlineKind::Fix,
                        due: near_due,
                    },
                    finding: j,
                },
                Event {
                    kind: EventKind::SeverityChanged {
                        from: Level::Low,
                        to: Level::Medium,
                    },
                    finding: urllib3(),
                },
                Event {
                    kind: EventKind::Overdue {
                        deadline: DeadlineKind::Fix,
                        due: overdue_due,
                    },
                    finding: w,
                },
            ],
        }
    }

    fn blocks(v: &serde_json::Value) -> &Vec<serde_json::Value> {
        v["blocks"].as_array().unwrap()
    }

    #[test]
    fn events_are_ordered_most_urgent_first() {
        let r = run();
        let kinds: Vec<&str> = ordered(&r.events).iter().map(|e| e.kind.name()).collect();
        assert_eq!(
            kinds,
            [
                "overdue",
                "deadline_near",
                "new",
                "severity_changed",
                "fix_available",
                "resolved"
            ]
        );
        // New events: highest severity first.
        let mut r = run();
        r.events.retain(|e| e.kind == EventKind::New);
        r.events.push(Event {
            kind: EventKind::New,
            finding: werkzeug(),
        });
        let ids: Vec<&str> = ordered(&r.events)
            .iter()
            .map(|e| e.finding.finding.id.as_str())
            .collect();
        assert_eq!(ids, ["GHSA-2g68-c3qc-8985", "GHSA-9wx4-h78v-vm56"]);
    }

    #[test]
    fn deadlines_are_shown_in_the_configured_zone_with_its_offset() {
        let mut r = run();
        r.zone = Zone::configured(Some("Europe/Paris"));
        if r.zone.tz.iana_name().is_none() {
            return; // no tz database on this machine
        }
        let lines: Vec<String> = ordered(&r.events)
            .iter()
            .map(|e| headline(e, &r.zone))
            .collect();
        // The fix deadline 2026-11-17 20:14 UTC is 21:14 in Paris (UTC+1 in November).
        assert!(
            lines[0].starts_with("OVERDUE: fix was due 2026-11-"),
            "{lines:?}"
        );
        assert!(lines[0].ends_with(" +01:00 Europe/Paris"), "{lines:?}");
        let t = Templates::load(None).unwrap();
        let body = slack_message(&t, &r).unwrap().to_string();
        assert!(body.contains("+01:00 Europe/Paris"), "{body}");
        let mail = email(&t, &r).unwrap();
        assert!(mail.text.contains("+01:00 Europe/Paris"), "{}", mail.text);
    }

    #[test]
    fn headlines_use_the_agreed_words() {
        let r = run();
        let lines: Vec<String> = ordered(&r.events)
            .iter()
            .map(|e| headline(e, &Zone::default()))
            .collect();
        assert_eq!(
            lines,
            [
                "OVERDUE: fix was due 2026-11-17",
                "Fix deadline near: due 2026-12-02",
                "New: Requests `Session` object does not verify requests after making first request with verify=False",
                "Severity low -> medium",
                "Fix available: upgrade to 22.0.0",
                "Resolved: aiohttp upgraded to 3.9.2",
            ]
        );
    }

    #[test]
    fn slack_snapshots() {
        let t = Templates::load(None).unwrap();
        let v = slack_message(&t, &run()).unwrap();
        assert_snapshot(
            "slack-emby-watchparty.json",
            &(serde_json::to_string_pretty(&v).unwrap() + "\n"),
        );
        // The mrkdwn and the fallback, readable on their own.
        let sections: Vec<&str> = blocks(&v)
            .iter()
            .filter(|b| b["type"] == "section")
            .map(|b| b["text"]["text"].as_str().unwrap())
            .collect();
        assert_snapshot(
            "slack-emby-watchparty.mrkdwn.txt",
            &(sections.join("\n\n----\n\n") + "\n"),
        );
        assert_snapshot(
            "slack-fallback-emby-watchparty.txt",
            v["text"].as_str().unwrap(),
        );
    }

    #[test]
    fn slack_block_kit_structure() {
        let t = Templates::load(None).unwrap();
        let v = slack_message(&t, &run()).unwrap();
        let b = blocks(&v);
        assert_eq!(b.len(), 8, "header, 6 events, context");
        assert_eq!(b[0]["type"], "header");
        assert_eq!(b[0]["text"]["type"], "plain_text");
        assert_eq!(b[0]["text"]["text"], "emby-watchparty: 6 events");
        for s in &b[1..7] {
            assert_eq!(s["type"], "section");
            assert_eq!(s["text"]["type"], "mrkdwn");
        }
        assert!(
            b[1]["text"]["text"]
                .as_str()
                .unwrap()
                .starts_with("*OVERDUE: fix was due 2026-11-17*\n<https://github.com/advisories/GHSA-2g68-c3qc-8985|GHSA-2g68-c3qc-8985>"),
            "{}",
            b[1]
        );
        assert_eq!(b[7]["type"], "context");
        assert_eq!(b[7]["elements"][0]["type"], "mrkdwn");
        assert!(
            b[7]["elements"][0]["text"]
                .as_str()
                .unwrap()
                .contains("2026-11-30 07:00 UTC")
        );
        let text = v["text"].as_str().unwrap();
        assert!(
            text.starts_with("depwatch: emby-watchparty: 6 events"),
            "{text}"
        );
        assert!(text.contains("OVERDUE: fix was due 2026-11-17"), "{text}");
    }

    #[test]
    fn slack_keeps_to_fifty_blocks() {
        let t = Templates::load(None).unwrap();
        let mut r = run();
        let base = r.events.clone();
        r.events = (0..51).map(|i| base[i % base.len()].clone()).collect();
        let v = slack_message(&t, &r).unwrap();
        let b = blocks(&v);
        assert_eq!(b.len(), 50);
        assert_eq!(b[0]["text"]["text"], "emby-watchparty: 51 events");
        assert_eq!(b[49]["type"], "context");
        let more = b[48]["text"]["text"].as_str().unwrap();
        assert!(
            more.starts_with("…and 4 more events not shown here: 4 resolved."),
            "{more}"
        );
        assert!(
            more.contains("resolved"),
            "the least urgent are the ones left out: {more}"
        );
        // 48 events fit exactly (header + 48 + context), with no summary section.
        r.events.truncate(48);
        let v = slack_message(&t, &r).unwrap();
        assert_eq!(blocks(&v).len(), 50);
        assert!(blocks(&v).iter().all(|b| {
            !b["text"]["text"]
                .as_str()
                .unwrap_or("")
                .contains("more not shown")
        }));
        // The fallback lists a few and counts the rest.
        let text = v["text"].as_str().unwrap();
        assert!(text.contains("…and 28 more"), "{text}");
    }

    #[test]
    fn slack_limits_on_text() {
        let dir = tempfile::tempdir().unwrap();
        // A user template that says a lot.
        std::fs::write(
            dir.path().join("slack.mrkdwn.hbs"),
            "{{summary}} {{summary}} {{summary}} {{summary}} {{summary}} {{summary}} {{summary}} {{summary}}\n",
        )
        .unwrap();
        let t = Templates::load(Some(dir.path())).unwrap();
        let mut r = run();
        r.project = format!("{} & co", "very-long-project-name-".repeat(10));
        for e in &mut r.events {
            e.finding.finding.summary = Some("<&>".repeat(400));
        }
        let v = slack_message(&t, &r).unwrap();
        let b = blocks(&v);
        let header = b[0]["text"]["text"].as_str().unwrap();
        assert!(header.chars().count() <= 150, "{header}");
        for s in b.iter().filter(|b| b["type"] == "section") {
            let text = s["text"]["text"].as_str().unwrap();
            assert!(text.chars().count() <= 3000, "{}", text.chars().count());
            assert!(!text.contains('<') && !text.contains('>'), "unescaped");
            assert!(
                !text.trim_end_matches('…').ends_with("&am"),
                "half an entity at the cut"
            );
        }
    }

    #[test]
    fn slack_escapes_links_and_fallback() {
        let t = Templates::load(None).unwrap();
        let mut r = run();
        r.events.truncate(1);
        r.project = "a<b>&c".into();
        let f = &mut r.events[0].finding.finding;
        f.url = Some("https://example.com/?a=1&b=<2>|x".into());
        f.id = "ID<1>".into();
        let v = slack_message(&t, &r).unwrap();
        let section = blocks(&v)[1]["text"]["text"].as_str().unwrap();
        assert!(
            section.contains("<https://example.com/?a=1&amp;b=&lt;2&gt;%7Cx|ID&lt;1&gt;>"),
            "{section}"
        );
        let text = v["text"].as_str().unwrap();
        assert!(
            text.contains("a&lt;b&gt;&amp;c") && text.contains("ID&lt;1&gt;"),
            "{text}"
        );
        // A non-web URL is not linked.
        r.events[0].finding.finding.url = Some("javascript:alert(1)".into());
        let v = slack_message(&t, &r).unwrap();
        assert!(!v.to_string().contains("javascript:"), "{v}");
    }

    #[test]
    fn slack_with_no_events() {
        let t = Templates::load(None).unwrap();
        let mut r = run();
        r.events.clear();
        let v = slack_message(&t, &r).unwrap();
        assert_eq!(blocks(&v).len(), 3);
        assert_eq!(blocks(&v)[0]["text"]["text"], "emby-watchparty: 0 events");
        assert!(!v["text"].as_str().unwrap().is_empty());
    }

    #[test]
    fn email_snapshots() {
        let t = Templates::load(None).unwrap();
        let m = email(&t, &run()).unwrap();
        assert_snapshot(
            "email-subject-emby-watchparty.txt",
            &(m.subject.clone() + "\n"),
        );
        assert_snapshot("email-emby-watchparty.txt", &m.text);
        assert_snapshot("email-emby-watchparty.html", &m.html);
        assert_eq!(
            m.subject,
            "[depwatch] emby-watchparty: 1 overdue, 1 deadline near, 1 new, 1 severity change, 1 fix available, 1 resolved"
        );
        let first = m.text.find("OVERDUE").unwrap();
        let last = m.text.find("Resolved").unwrap();
        assert!(first < last, "most urgent first");
    }

    #[test]
    fn email_html_escapes_untrusted_data() {
        let t = Templates::load(None).unwrap();
        let mut r = run();
        r.project = "emby<b>".into();
        for e in &mut r.events {
            e.finding.finding.summary = Some("<script>alert('x')</script> & \"q\"".into());
        }
        r.events[1].finding.finding.url = Some("https://example.com/\"><script>x</script>".into());
        let m = email(&t, &r).unwrap();
        assert!(!m.html.contains("<script>"), "{}", m.html);
        assert!(!m.html.contains("<b>"), "{}", m.html);
        assert!(m.html.contains("&lt;script&gt;alert("), "{}", m.html);
        assert!(
            !m.html.contains("\"><"),
            "attribute not escaped: {}",
            m.html
        );
        // The text body is plain text: no entities.
        assert!(
            m.text.contains("<script>alert('x')</script> & \"q\""),
            "{}",
            m.text
        );
    }

    #[test]
    fn email_subject_is_one_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("email-subject.txt.hbs"),
            "Alert\r\n{{project}}\n\n{{tally}}\r\n",
        )
        .unwrap();
        let t = Templates::load(Some(dir.path())).unwrap();
        let mut r = run();
        r.project = "emby\r\nBcc: victim@example.com".into();
        let m = email(&t, &r).unwrap();
        assert!(
            !m.subject.contains('\r') && !m.subject.contains('\n'),
            "{:?}",
            m.subject
        );
        assert!(m.subject.starts_with("Alert emby Bcc:"), "{:?}", m.subject);
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(64))]
        /// Any text from a feed or a config: no panic, one-line subject, Slack limits kept.
        #[test]
        fn any_text_renders_within_limits(
            project in "\\PC{0,200}",
            summary in "\\PC{0,4000}",
            url in "\\PC{0,100}",
            reason in "\\PC{0,300}",
        ) {
            let t = Templates::load(None).unwrap();
            let mut r = run();
            r.project = project;
            for e in &mut r.events {
                e.finding.finding.summary = Some(summary.clone());
                e.finding.finding.url = Some(format!("https://{url}"));
                if let EventKind::Resolved { reason: r } = &mut e.kind {
                    *r = reason.clone();
                }
            }
            let v = slack_message(&t, &r).unwrap();
            for b in blocks(&v) {
                if b["type"] == "section" {
                    proptest::prop_assert!(b["text"]["text"].as_str().unwrap().chars().count() <= 3000);
                }
                if b["type"] == "header" {
                    proptest::prop_assert!(b["text"]["text"].as_str().unwrap().chars().count() <= 150);
                }
            }
            let m = email(&t, &r).unwrap();
            proptest::prop_assert!(!m.subject.contains(['\r', '\n']));
            proptest::prop_assert!(!m.html.contains("<script"));
        }
    }

    /// A range risk says what it is and depwatch's suggested bound, offers no upgrade; a
    /// warning names its kind.
    #[test]
    fn a_digest_says_what_a_range_risk_and_a_warning_are() {
        use crate::monitor::digest::HeldEvent;
        let t = Templates::load(None).unwrap();
        let mut risk = werkzeug();
        risk.fingerprint = "risk/PyPI/werkzeug/>=2.0/GHSA-2g68-c3qc-8985".into();
        risk.finding.package.version = ">=2.0".into();
        risk.finding.fix = Fix::NoFix;
        let mut warning = jinja2();
        warning.finding.kind = crate::advisory::AdvisoryKind::Unmaintained;
        let items = vec![
            HeldEvent {
                event: Event {
                    kind: EventKind::RangeRisk {
                        requirement: ">=2.0".into(),
                        allows: vec!["GHSA-2g68-c3qc-8985 (high): >=2.0, <3.0.3".into()],
                        suggested: Some(">=3.0.3".into()),
                        note: None,
                    },
                    finding: risk,
                },
                reason: "range risk (not a vulnerable version in use)".into(),
                run_at: ts("2026-11-24T10:00:00Z"),
            },
            HeldEvent {
                event: Event {
                    kind: EventKind::New,
                    finding: warning,
                },
                reason: "informational advisory (unmaintained)".into(),
                run_at: ts("2026-11-24T10:00:00Z"),
            },
        ];
        let d = DigestEvents {
            project: "emby-watchparty".into(),
            at: ts("2026-11-30T09:00:00Z"),
            since: ts("2026-11-23T09:00:00Z"),
            since_last_digest: true,
            zone: Zone::default(),
            items,
        };
        let mail = digest_email(&t, &d).unwrap();
        assert!(
            mail.text.contains(
                "Range risk: Werkzeug >=2.0 allows affected versions (GHSA-2g68-c3qc-8985 \
                 (high): >=2.0, <3.0.3); depwatch suggests the bound >=3.0.3"
            ),
            "{}",
            mail.text
        );
        assert!(mail.text.contains("(1 new, 1 range risk)"), "{}", mail.text);
        assert!(
            mail.text.contains("New unmaintained warning: "),
            "{}",
            mail.text
        );
        // Only the warning's own fix line: a range risk offers no upgrade.
        assert_eq!(mail.text.matches("   Fix: ").count(), 1, "{}", mail.text);
    }

    #[test]
    fn a_digest_says_why_each_event_waited_and_since_when() {
        use crate::monitor::digest::HeldEvent;
        let t = Templates::load(None).unwrap();
        let mut w = werkzeug();
        w.finding.scope = Some("dev".into());
        let items = vec![
            HeldEvent {
                event: Event {
                    kind: EventKind::New,
                    finding: jinja2(),
                },
                reason: "low severity".into(),
                run_at: ts("2026-11-24T10:00:00Z"),
            },
            HeldEvent {
                event: Event {
                    kind: EventKind::New,
                    finding: w,
                },
                reason: "scope dev is quiet for this project".into(),
                run_at: ts("2026-11-25T10:00:00Z"),
            },
        ];
        let mut d = DigestEvents {
            project: "emby-watchparty".into(),
            at: ts("2026-11-30T09:00:00Z"),
            since: ts("2026-11-23T09:00:00Z"),
            since_last_digest: true,
            zone: Zone::default(),
            items,
        };
        let body = digest_slack(&t, &d).unwrap();
        assert_eq!(
            body["blocks"][0]["text"]["text"],
            "emby-watchparty: digest, 2 events"
        );
        // Most urgent first: the high one, then the medium one.
        let first = body["blocks"][1]["text"]["text"].as_str().unwrap();
        assert!(first.contains("GHSA-2g68-c3qc-8985"), "{first}");
        assert!(
            first.contains("_Held for the digest: scope dev is quiet for this project · found 2026-11-25 10:00 UTC_"),
            "{first}"
        );
        let ctx = body["blocks"][3]["elements"][0]["text"].as_str().unwrap();
        assert!(
            ctx.contains("since the last digest (2026-11-23 09:00 UTC)"),
            "{ctx}"
        );
        let text = body["text"].as_str().unwrap();
        assert!(
            text.starts_with("depwatch digest: emby-watchparty: 2 events (2 new)"),
            "{text}"
        );
        d.since_last_digest = false;
        let mail = digest_email(&t, &d).unwrap();
        assert_eq!(mail.subject, "[depwatch] emby-watchparty digest: 2 new");
        assert!(
            mail.text
                .contains("since 2026-11-23 09:00 UTC, when the first of them was found"),
            "{}",
            mail.text
        );
        assert!(
            mail.text
                .contains("Held for the digest: low severity; found 2026-11-24 10:00 UTC")
        );
        assert!(
            mail.html
                .contains("<em>Held for the digest: scope dev is quiet")
        );
    }
}
