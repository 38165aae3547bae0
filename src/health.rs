//! Health of the monitor itself: feeds, projects and notification channels that keep failing.
//!
//! A run never stops on one failing component; instead each run reports every component it
//! exercised as ok or failed. After `[watch] health-after` failed runs in a row a "failing"
//! event is raised, once per streak; the first ok run after an alert raises one "recovered"
//! event. The events go out through the same channels as findings, one message per channel
//! per run, queued in the outbox in the same transaction as the state update.
//!
//! Components: `feed:SOURCE`, `project:NAME`, `channel:slack`, `channel:email`.

use crate::publish::EmailPayload;
use crate::publish::draft::{cap_chars, fmt_datetime, one_line};
use crate::publish::messages::{Block, SlackBody, Text, cap_mrkdwn};
use crate::publish::templates::{TemplateError, Templates, slack_escape};
use crate::store::{HealthRow, NewMessage};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

/// The outbox's project name for health messages.
pub const OUTBOX_PROJECT: &str = "depwatch";
/// Slack's limit on blocks in one message.
const MAX_BLOCKS: usize = 50;
/// Slack's limit on a section's text.
const SECTION_MAX: usize = 3000;
/// Slack's limit on a header's plain text.
const HEADER_MAX: usize = 150;
/// Events listed one by one in the Slack fallback text.
const FALLBACK_EVENTS: usize = 20;
/// An error longer than this is cut: the run report and the logs have all of it.
const ERROR_MAX: usize = 500;

/// What happened to a component in one run. A component the run did not exercise (no
/// message for a channel, sync skipped) has no outcome and keeps its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It worked.
    Ok,
    /// It failed; the message is already scrubbed of secrets.
    Failed(String),
    /// It failed permanently and its work was given up (a channel whose webhook is gone):
    /// alerted at once, whatever `health-after` says, since waiting for more runs only
    /// loses more messages.
    GaveUp(String),
}

/// Failing or recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthEventKind {
    /// Failed `health-after` runs in a row (raised once per streak).
    Failing,
    /// Worked again after a failing alert.
    Recovered,
}

/// A health event of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthEvent {
    /// `feed:SOURCE`, `project:NAME`, `channel:slack`, `channel:email`.
    pub component: String,
    /// Failing or recovered.
    pub kind: HealthEventKind,
    /// Failed runs in a row (for a recovery: how many there had been).
    pub failures: u32,
    /// The first failure of the streak.
    pub since: Option<Timestamp>,
    /// The last failure's message.
    pub last_error: Option<String>,
}

/// One component's next state and its event, if any, after a run. `threshold` is
/// `health-after` (0 is taken as 1).
pub fn step(
    prev: Option<&HealthRow>,
    component: &str,
    outcome: &Outcome,
    now: Timestamp,
    threshold: u32,
) -> (HealthRow, Option<HealthEvent>) {
    let prev = prev.cloned().unwrap_or_else(|| HealthRow {
        component: component.to_string(),
        ..Default::default()
    });
    let since = |row: &HealthRow| row.first_failed_at;
    match outcome {
        Outcome::Ok => {
            let healthy = HealthRow {
                component: component.to_string(),
                ..Default::default()
            };
            let event = prev.alerted_at.is_some().then(|| HealthEvent {
                component: component.to_string(),
                kind: HealthEventKind::Recovered,
                failures: prev.failures,
                since: since(&prev),
                last_error: prev.last_error.clone(),
            });
            (healthy, event)
        }
        Outcome::Failed(error) | Outcome::GaveUp(error) => {
            let threshold = match outcome {
                Outcome::GaveUp(_) => 1,
                _ => threshold,
            };
            let mut row = prev;
            let first = row.failures == 0 || row.first_failed_at.is_none();
            row.failures = row.failures.saturating_add(1);
            if first {
                row.first_failed_at = Some(now);
            }
            row.last_error = Some(cap_chars(&one_line(error), ERROR_MAX));
            let mut event = None;
            if row.failures >= threshold.max(1) && row.alerted_at.is_none() {
                row.alerted_at = Some(now);
                event = Some(HealthEvent {
                    component: component.to_string(),
                    kind: HealthEventKind::Failing,
                    failures: row.failures,
                    since: since(&row),
                    last_error: row.last_error.clone(),
                });
            }
            (row, event)
        }
    }
}

/// Apply a run's outcomes to the stored health: the rows to write (changed ones only) and the
/// events, failing first. A component listed twice counts as failed if either failed.
pub fn evaluate(
    prev: &[HealthRow],
    outcomes: &[(String, Outcome)],
    now: Timestamp,
    threshold: u32,
) -> (Vec<HealthRow>, Vec<HealthEvent>) {
    let mut merged: BTreeMap<&str, &Outcome> = BTreeMap::new();
    for (c, o) in outcomes {
        let slot = merged.entry(c.as_str()).or_insert(o);
        let rank = |o: &Outcome| match o {
            Outcome::Ok => 0,
            Outcome::Failed(_) => 1,
            Outcome::GaveUp(_) => 2,
        };
        if rank(o) > rank(slot) {
            *slot = o;
        }
    }
    let mut rows = Vec::new();
    let mut events = Vec::new();
    for (component, outcome) in merged {
        let old = prev.iter().find(|r| r.component == component);
        let (row, event) = step(old, component, outcome, now, threshold);
        let unchanged = match old {
            Some(o) => *o == row,
            None => row.failures == 0,
        };
        if !unchanged {
            rows.push(row);
        }
        events.extend(event);
    }
    events.sort_by(|a, b| {
        (a.kind == HealthEventKind::Recovered, &a.component)
            .cmp(&(b.kind == HealthEventKind::Recovered, &b.component))
    });
    (rows, events)
}

/// One event, flat and fully populated for strict templates.
#[derive(Debug, Clone, Serialize)]
struct EventContext {
    number: usize,
    /// `failing` or `recovered`.
    kind: &'static str,
    failing: bool,
    /// `feed:SOURCE` as stored.
    component: String,
    /// `feed`, `project`, `channel`.
    component_kind: String,
    /// The source, project or channel name.
    name: String,
    is_channel: bool,
    headline: String,
    failures: u32,
    /// "3 failed runs".
    failures_words: String,
    since: String,
    has_since: bool,
    last_error: String,
    has_last_error: bool,
}

fn runs_words(n: u32) -> String {
    if n == 1 {
        "1 failed run".to_string()
    } else {
        format!("{n} failed runs")
    }
}

fn event_context(number: usize, e: &HealthEvent) -> EventContext {
    let (kind, name) = e
        .component
        .split_once(':')
        .unwrap_or(("component", e.component.as_str()));
    let name = one_line(name);
    let since = e.since.map(fmt_datetime).unwrap_or_default();
    let failing = e.kind == HealthEventKind::Failing;
    let since_part = if since.is_empty() {
        String::new()
    } else {
        format!(" since {since}")
    };
    let headline = if failing {
        format!(
            "Failing: {kind} {name} ({} in a row{since_part})",
            runs_words(e.failures)
        )
    } else {
        format!(
            "Recovered: {kind} {name} (after {}{since_part})",
            runs_words(e.failures)
        )
    };
    let last_error = e.last_error.as_deref().map(one_line).unwrap_or_default();
    EventContext {
        number,
        kind: if failing { "failing" } else { "recovered" },
        failing,
        component: e.component.clone(),
        component_kind: kind.to_string(),
        is_channel: kind == "channel",
        name,
        headline,
        failures: e.failures,
        failures_words: runs_words(e.failures),
        has_since: !since.is_empty(),
        since,
        has_last_error: !last_error.is_empty(),
        last_error: cap_chars(&last_error, ERROR_MAX),
    }
}

/// The event with every free text escaped for Slack `mrkdwn`, for the `.txt` fallback.
fn slack_escaped(mut c: EventContext) -> EventContext {
    for s in [
        &mut c.component,
        &mut c.name,
        &mut c.headline,
        &mut c.last_error,
    ] {
        *s = slack_escape(s);
    }
    c
}

/// "2 failing, 1 recovered".
fn tally(events: &[HealthEvent]) -> String {
    let failing = events
        .iter()
        .filter(|e| e.kind == HealthEventKind::Failing)
        .count();
    let recovered = events.len() - failing;
    let mut parts = Vec::new();
    if failing > 0 {
        parts.push(format!("{failing} failing"));
    }
    if recovered > 0 {
        parts.push(format!("{recovered} recovered"));
    }
    if parts.is_empty() {
        "no events".to_string()
    } else {
        parts.join(", ")
    }
}

/// What the whole-message templates get.
#[derive(Debug, Serialize)]
struct MessageContext {
    run_at: String,
    count: usize,
    /// "2 failing, 1 recovered".
    tally: String,
    /// "3 failed runs": when an alert is raised.
    threshold_words: String,
    events: Vec<EventContext>,
    has_events: bool,
    more: usize,
    has_more: bool,
}

fn message_context(
    events: &[HealthEvent],
    run_at: Timestamp,
    threshold: u32,
    limit: usize,
) -> MessageContext {
    let listed: Vec<EventContext> = events
        .iter()
        .take(limit)
        .enumerate()
        .map(|(i, e)| event_context(i + 1, e))
        .collect();
    let more = events.len() - listed.len();
    MessageContext {
        run_at: fmt_datetime(run_at),
        count: events.len(),
        tally: tally(events),
        threshold_words: runs_words(threshold.max(1)),
        has_events: !listed.is_empty(),
        events: listed,
        more,
        has_more: more > 0,
    }
}

/// The Slack incoming-webhook body for a run's health events: a header, one section per event
/// (template `health-slack.mrkdwn`), a context line; fallback `text` from
/// `health-fallback.txt`. Within Slack's limits (50 blocks, 3000 characters a section).
pub fn slack_message(
    t: &Templates,
    events: &[HealthEvent],
    run_at: Timestamp,
    threshold: u32,
) -> Result<serde_json::Value, TemplateError> {
    let mut ctx = message_context(events, run_at, threshold, FALLBACK_EVENTS);
    ctx.events = ctx.events.into_iter().map(slack_escaped).collect();
    let text = t.render("health-fallback.txt", &ctx)?;
    let mut blocks = vec![Block::Header {
        text: Text::PlainText {
            text: cap_chars(&format!("depwatch health: {}", ctx.tally), HEADER_MAX),
            emoji: false,
        },
    }];
    let room = MAX_BLOCKS - 2;
    let shown = if events.len() <= room {
        events.len()
    } else {
        room - 1
    };
    for (i, e) in events.iter().take(shown).enumerate() {
        let section = t.render("health-slack.mrkdwn", &event_context(i + 1, e))?;
        blocks.push(Block::Section {
            text: Text::Mrkdwn {
                text: cap_mrkdwn(section.trim_end(), SECTION_MAX),
            },
        });
    }
    if shown < events.len() {
        blocks.push(Block::Section {
            text: Text::Mrkdwn {
                text: format!(
                    "…and {} more not shown here: {}. The email and `depwatch status` list them all.",
                    events.len() - shown,
                    tally(&events[shown..])
                ),
            },
        });
    }
    blocks.push(Block::Context {
        elements: vec![Text::Mrkdwn {
            text: format!(
                "depwatch run at {} · alerts after {} in a row",
                fmt_datetime(run_at),
                runs_words(threshold.max(1))
            ),
        }],
    });
    serde_json::to_value(SlackBody { text, blocks }).map_err(|e| TemplateError::Render {
        name: "health-slack".to_string(),
        message: e.to_string(),
    })
}

/// The email for a run's health events: subject (one line), text and HTML bodies.
pub fn email(
    t: &Templates,
    events: &[HealthEvent],
    run_at: Timestamp,
    threshold: u32,
) -> Result<EmailPayload, TemplateError> {
    let ctx = message_context(events, run_at, threshold, usize::MAX);
    Ok(EmailPayload {
        // A header line must not carry CR/LF.
        subject: one_line(&t.render("health-email-subject.txt", &ctx)?),
        text: t.render("health-email.txt", &ctx)?,
        html: t.render("health-email.html", &ctx)?,
    })
}

/// The outbox rows for a run's health events: one per channel (`slack`, `email`), none when
/// there are no events.
pub fn messages(
    t: &Templates,
    events: &[HealthEvent],
    run_at: Timestamp,
    threshold: u32,
    channels: &[&str],
) -> Result<Vec<NewMessage>, TemplateError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let mut names: Vec<&str> = events
        .iter()
        .map(|e| match e.kind {
            HealthEventKind::Failing => "health-failing",
            HealthEventKind::Recovered => "health-recovered",
        })
        .collect();
    names.dedup();
    let mut out = Vec::new();
    for ch in channels {
        let payload = match *ch {
            "slack" => crate::publish::Payload::Slack {
                body: slack_message(t, events, run_at, threshold)?,
            },
            "email" => crate::publish::Payload::Email(email(t, events, run_at, threshold)?),
            other => return Err(TemplateError::Unknown(format!("channel {other}"))),
        };
        out.push(NewMessage {
            project: OUTBOX_PROJECT.to_string(),
            channel: ch.to_string(),
            event: names.join(","),
            payload: serde_json::to_string(&payload).map_err(|e| TemplateError::Render {
                name: format!("health message for {ch}"),
                message: e.to_string(),
            })?,
        });
    }
    Ok(out)
}

/// One line per event, for the run summary: "feed:x failing (3 runs)".
pub fn summary_line(events: &[HealthEvent]) -> Option<String> {
    if events.is_empty() {
        return None;
    }
    Some(
        events
            .iter()
            .map(|e| match e.kind {
                HealthEventKind::Failing => {
                    format!(
                        "{} failing ({} in a row, alert queued)",
                        e.component,
                        runs_words(e.failures)
                    )
                }
                HealthEventKind::Recovered => format!(
                    "{} recovered (after {}, notice queued)",
                    e.component,
                    runs_words(e.failures)
                ),
            })
            .collect::<Vec<_>>()
            .join("; "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::draft::test_support::assert_snapshot;

    fn at(h: i64) -> Timestamp {
        "2026-12-01T09:00:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .checked_add(jiff::SignedDuration::from_hours(h))
            .unwrap()
    }

    /// Runs `outcomes` through the state machine and returns the events of each run.
    fn replay(outcomes: &[Outcome], threshold: u32) -> Vec<Vec<HealthEvent>> {
        let mut state: Vec<HealthRow> = Vec::new();
        let mut out = Vec::new();
        for (i, o) in outcomes.iter().enumerate() {
            let (rows, events) = evaluate(
                &state,
                &[("feed:osv".to_string(), o.clone())],
                at(i as i64),
                threshold,
            );
            for r in rows {
                state.retain(|s| s.component != r.component);
                state.push(r);
            }
            out.push(events);
        }
        out
    }

    fn fail(e: &str) -> Outcome {
        Outcome::Failed(e.to_string())
    }

    #[test]
    fn alert_once_at_the_threshold_then_recover_once() {
        let runs = replay(
            &[
                fail("a"),
                fail("b"),
                fail("c"),
                fail("d"),
                Outcome::Ok,
                Outcome::Ok,
            ],
            3,
        );
        let counts: Vec<usize> = runs.iter().map(Vec::len).collect();
        assert_eq!(counts, [0, 0, 1, 0, 1, 0]);
        let alert = &runs[2][0];
        assert_eq!(alert.kind, HealthEventKind::Failing);
        assert_eq!(alert.failures, 3);
        assert_eq!(alert.since, Some(at(0)), "the streak's first failure");
        assert_eq!(alert.last_error.as_deref(), Some("c"));
        let rec = &runs[4][0];
        assert_eq!(rec.kind, HealthEventKind::Recovered);
        assert_eq!(rec.failures, 4);
        assert_eq!(rec.since, Some(at(0)));
        assert_eq!(rec.last_error.as_deref(), Some("d"));
    }

    #[test]
    fn threshold_one_alerts_at_the_first_failure() {
        let runs = replay(&[fail("x"), fail("x"), Outcome::Ok, fail("y")], 1);
        let kinds: Vec<Vec<HealthEventKind>> = runs
            .iter()
            .map(|r| r.iter().map(|e| e.kind).collect())
            .collect();
        assert_eq!(
            kinds,
            [
                vec![HealthEventKind::Failing],
                vec![],
                vec![HealthEventKind::Recovered],
                vec![HealthEventKind::Failing],
            ]
        );
        // A new streak starts its own count and date.
        assert_eq!(runs[3][0].failures, 1);
        assert_eq!(runs[3][0].since, Some(at(3)));
    }

    #[test]
    fn a_give_up_alerts_at_once_whatever_the_threshold() {
        let runs = replay(
            &[Outcome::GaveUp("HTTP 404".into()), fail("b"), Outcome::Ok],
            3,
        );
        let counts: Vec<usize> = runs.iter().map(Vec::len).collect();
        assert_eq!(counts, [1, 0, 1], "{runs:?}");
        assert_eq!(runs[0][0].kind, HealthEventKind::Failing);
        assert_eq!(runs[0][0].last_error.as_deref(), Some("HTTP 404"));
        // Listed twice in one run, the give-up wins.
        let (_, events) = evaluate(
            &[],
            &[
                ("channel:slack".into(), fail("503")),
                ("channel:slack".into(), Outcome::GaveUp("404".into())),
            ],
            at(0),
            3,
        );
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].last_error.as_deref(), Some("404"));
    }

    #[test]
    fn failures_below_the_threshold_reset_silently() {
        let runs = replay(
            &[fail("a"), fail("b"), Outcome::Ok, fail("c"), fail("d")],
            3,
        );
        assert!(runs.iter().all(Vec::is_empty), "{runs:?}");
    }

    #[test]
    fn unexercised_components_keep_their_state_and_healthy_ones_write_nothing() {
        let prev = vec![HealthRow {
            component: "channel:slack".into(),
            failures: 2,
            first_failed_at: Some(at(0)),
            last_error: Some("500".into()),
            alerted_at: None,
        }];
        let (rows, events) = evaluate(&prev, &[("project:app".into(), Outcome::Ok)], at(3), 3);
        assert!(rows.is_empty() && events.is_empty(), "{rows:?} {events:?}");
        // A component failing twice in one run counts once, as failed.
        let (rows, _) = evaluate(
            &prev,
            &[
                ("channel:slack".into(), Outcome::Ok),
                ("channel:slack".into(), fail("timeout")),
            ],
            at(3),
            3,
        );
        assert_eq!(rows[0].failures, 3);
        assert_eq!(rows[0].last_error.as_deref(), Some("timeout"));
    }

    #[test]
    fn long_errors_are_cut_to_one_line() {
        let (row, _) = step(None, "feed:x", &fail(&"bad\n".repeat(400)), at(0), 3);
        let e = row.last_error.unwrap();
        assert!(!e.contains('\n') && e.chars().count() <= ERROR_MAX, "{e}");
    }

    fn sample() -> Vec<HealthEvent> {
        vec![
            HealthEvent {
                component: "feed:osv-dir:/srv/feeds/ghsa".into(),
                kind: HealthEventKind::Failing,
                failures: 3,
                since: Some(at(0)),
                last_error: Some(
                    "/srv/feeds/ghsa: No such file or directory (os error 2) (previous data kept)"
                        .into(),
                ),
            },
            HealthEvent {
                component: "channel:slack".into(),
                kind: HealthEventKind::Failing,
                failures: 3,
                since: Some(at(1)),
                last_error: Some("HTTP 500 from hooks.slack.com <x> & co".into()),
            },
            HealthEvent {
                component: "project:emby-watchparty".into(),
                kind: HealthEventKind::Recovered,
                failures: 4,
                since: Some(at(-24)),
                last_error: Some("notes.txt: not a recognised manifest".into()),
            },
        ]
    }

    #[test]
    fn slack_health_snapshot_and_structure() {
        let t = Templates::load(None).unwrap();
        let v = slack_message(&t, &sample(), at(2), 3).unwrap();
        assert_snapshot(
            "health-slack.json",
            &(serde_json::to_string_pretty(&v).unwrap() + "\n"),
        );
        let b = v["blocks"].as_array().unwrap();
        assert_eq!(b.len(), 5, "header, 3 events, context");
        assert_eq!(b[0]["type"], "header");
        assert_eq!(
            b[0]["text"]["text"],
            "depwatch health: 2 failing, 1 recovered"
        );
        let slack = b[2]["text"]["text"].as_str().unwrap();
        assert!(slack.contains("&lt;x&gt; &amp; co"), "escaped: {slack}");
        assert!(slack.contains("gets it once it works again"), "{slack}");
        assert!(
            b[3]["text"]["text"]
                .as_str()
                .unwrap()
                .starts_with("*Recovered: project emby-watchparty (after 4 failed runs since 2026-11-30 09:00 UTC)*"),
            "{}",
            b[3]
        );
        assert_eq!(b[4]["type"], "context");
        let text = v["text"].as_str().unwrap();
        assert!(
            text.starts_with("depwatch health: 2 failing, 1 recovered\n"),
            "{text}"
        );
    }

    #[test]
    fn slack_health_keeps_to_fifty_blocks() {
        let t = Templates::load(None).unwrap();
        let events: Vec<HealthEvent> = (0..60)
            .map(|i| HealthEvent {
                component: format!("project:p{i:02}"),
                ..sample()[0].clone()
            })
            .collect();
        let v = slack_message(&t, &events, at(2), 3).unwrap();
        let b = v["blocks"].as_array().unwrap();
        assert_eq!(b.len(), 50);
        assert!(
            b[48]["text"]["text"]
                .as_str()
                .unwrap()
                .starts_with("…and 13 more not shown here: 13 failing."),
            "{}",
            b[48]
        );
        assert!(v["text"].as_str().unwrap().contains("…and 40 more"));
    }

    #[test]
    fn email_health_snapshot_and_escaping() {
        let t = Templates::load(None).unwrap();
        let m = email(&t, &sample(), at(2), 3).unwrap();
        assert_eq!(m.subject, "[depwatch] health: 2 failing, 1 recovered");
        assert_snapshot("health-email.txt", &m.text);
        assert_snapshot("health-email.html", &m.html);
        assert!(m.html.contains("&lt;x&gt; &amp; co"), "{}", m.html);
        assert!(m.text.contains("<x> & co"), "plain text: {}", m.text);
        assert!(
            m.text.contains("after 3 failed runs in a row"),
            "{}",
            m.text
        );
    }

    #[test]
    fn one_message_per_channel_and_none_without_events() {
        let t = Templates::load(None).unwrap();
        let m = messages(&t, &sample(), at(2), 3, &["slack", "email"]).unwrap();
        assert_eq!(m.len(), 2);
        assert!(m.iter().all(|m| m.project == OUTBOX_PROJECT));
        assert_eq!(m[0].event, "health-failing,health-recovered");
        let p: crate::publish::Payload = serde_json::from_str(&m[1].payload).unwrap();
        assert!(matches!(p, crate::publish::Payload::Email(_)));
        assert!(
            messages(&t, &[], at(2), 3, &["slack", "email"])
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            summary_line(&sample()[2..]).unwrap(),
            "project:emby-watchparty recovered (after 4 failed runs, notice queued)"
        );
    }
}
