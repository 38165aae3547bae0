//! The digest step of a run: for each project whose digest fell due, one message per channel
//! with every event held since its last digest, queued in the transaction that clears them
//! ([`MonitorState::queue_digest`]). Delivery then goes through the outbox like any message.
//!
//! Due: the digest schedule's latest fire time at or before now is after the project's last
//! digest; a project that never had one is due once a fire time comes at or after its first
//! held event. `run` (one-shot, CI) and every `watch` cycle check it, so a digest goes out with
//! the first run at or after its time, however many fire times were missed (one message).
//! Events still held when the config no longer has a digest go out at the next run.

use super::{ProjectOutcome, RunOptions, StepError};
use crate::config::Project;
use crate::monitor::digest::HeldEvent;
use crate::publish::Payload;
use crate::publish::messages::{self, DigestEvents};
use crate::publish::templates::Templates;
use crate::schedule::{Schedule, ScheduleError};
use crate::store::{HeldRow, MonitorState, NewMessage};
use jiff::Timestamp;

/// Whether a project's digest is due at `now`: `last` is its last digest, `first_held` when
/// its oldest held event was held.
pub fn digest_due(
    schedule: &Schedule,
    last: Option<Timestamp>,
    first_held: Timestamp,
    now: Timestamp,
) -> Result<bool, ScheduleError> {
    let fired = schedule.previous_at_or_before(now)?;
    Ok(match last {
        // Strictly after: the digest queued at a fire time is not due again until the next.
        Some(last) => fired > last,
        // At or after: an event found by the run at the fire time itself goes in this digest.
        None => fired >= first_held,
    })
}

/// Compose and queue the due digests; each project's count or error goes into its outcome.
pub(super) fn digest_step(
    store: &mut impl MonitorState,
    t: &Templates,
    opts: &RunOptions,
    outcomes: &mut [ProjectOutcome],
) {
    // Without a schedule (the digest was taken out of the config) whatever is still held goes
    // out now, rather than never.
    let schedule = opts.config.digest_schedule();
    for p in &opts.config.projects {
        // Under the project's lock: two runs never compose a digest from the same events.
        let result = super::holding_project(store, &p.name, |store| {
            project_digest(store, t, opts, schedule.as_ref(), p)
        });
        let Some(out) = outcomes.iter_mut().find(|o| o.name == p.name) else {
            continue;
        };
        match result {
            Ok(n) => out.digest_queued = n,
            Err(e) => {
                tracing::warn!(project = %p.name, error = %e, "digest failed");
                let e = format!("digest: {e} (its events stay held)");
                out.error = Some(match out.error.take() {
                    Some(prev) => format!("{prev}; {e}"),
                    None => e,
                });
            }
        }
    }
}

fn project_digest(
    store: &mut impl MonitorState,
    t: &Templates,
    opts: &RunOptions,
    schedule: Option<&Schedule>,
    p: &Project,
) -> Result<usize, StepError> {
    // Without a channel the events stay held (a config may name channels again later).
    if p.notify.is_empty() {
        return Ok(0);
    }
    let held = store.held(&p.name)?;
    let Some(first) = held.first() else {
        return Ok(0);
    };
    let last = store.last_digest(&p.name)?;
    let due = match schedule {
        Some(s) => digest_due(s, last, first.held_at, opts.now)
            .map_err(|e| StepError::Digest(e.to_string()))?,
        None => true,
    };
    if !due {
        return Ok(0);
    }
    let items = held.iter().map(parse_held).collect::<Result<Vec<_>, _>>()?;
    let d = DigestEvents {
        project: p.name.clone(),
        at: opts.now,
        since: last.unwrap_or(first.held_at),
        since_last_digest: last.is_some(),
        zone: crate::policy::Zone::configured(opts.config.timezone.as_deref()),
        items,
    };
    let mut queued = Vec::new();
    for ch in &p.notify {
        let payload = match ch.as_str() {
            "slack" => Payload::Slack {
                body: messages::digest_slack(t, &d)?,
            },
            "email" => Payload::Email(messages::digest_email(t, &d)?),
            other => return Err(StepError::UnknownChannel(other.to_string())),
        };
        queued.push(NewMessage {
            project: p.name.clone(),
            channel: ch.clone(),
            event: "digest".to_string(),
            payload: serde_json::to_string(&payload)?,
        });
    }
    let ids: Vec<i64> = held.iter().map(|h| h.id).collect();
    store.queue_digest(&p.name, &ids, &queued, opts.now)?;
    Ok(queued.len())
}

/// A held event as the monitor wrote it; one a newer depwatch wrote is an error naming the row,
/// and every event stays held.
fn parse_held(h: &HeldRow) -> Result<HeldEvent, StepError> {
    serde_json::from_str(&h.item).map_err(|e| {
        StepError::Digest(format!(
            "held event {} ({}) is unreadable: {e}",
            h.id, h.event
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn due_after_the_next_fire_time_once() {
        // Mondays 09:00 UTC; 2026-12-07 is a Monday.
        let s = Schedule::parse("0 9 * * 1", "UTC").unwrap();
        let held = ts("2026-12-01T10:00:00Z");
        assert!(!digest_due(&s, None, held, ts("2026-12-07T08:59:00Z")).unwrap());
        assert!(digest_due(&s, None, held, ts("2026-12-07T09:00:00Z")).unwrap());
        // Found by the run at the fire time itself: in that digest.
        let at_fire = ts("2026-12-07T09:00:00Z");
        assert!(digest_due(&s, None, at_fire, at_fire).unwrap());
        // Queued at 09:05: not due again until the next Monday.
        let last = Some(ts("2026-12-07T09:05:00Z"));
        assert!(!digest_due(&s, last, held, ts("2026-12-07T12:00:00Z")).unwrap());
        assert!(!digest_due(&s, last, held, ts("2026-12-14T08:00:00Z")).unwrap());
        assert!(digest_due(&s, last, held, ts("2026-12-14T09:00:00Z")).unwrap());
        // Weeks missed: still one digest.
        assert!(digest_due(&s, last, held, ts("2027-01-20T00:00:00Z")).unwrap());
    }
}
