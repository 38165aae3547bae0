//! Outbox delivery: every due message through its channel; transient failures retried with
//! backoff, permanent ones given up at once.

use super::clock::Clock;
use super::{Delivery, RunError, RunOptions};
use crate::feeds::http::Http;
use crate::health::Outcome;
use crate::publish::Payload;
use crate::publish::channel::{Channel, EmailChannel, SendError, SlackChannel};
use crate::store::MonitorState;
use jiff::Timestamp;

/// Transient delivery failures are retried on later runs, backing off from this...
const RETRY_FIRST: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);
/// ...to at most this...
const RETRY_MAX: jiff::SignedDuration = jiff::SignedDuration::from_secs(6 * 3600);
/// ...and given up after this many attempts (recorded, and shown by `status`). A permanent
/// failure ([`crate::publish::channel::Failure::Permanent`]) is given up after the first.
pub const MAX_ATTEMPTS: i64 = 12;

fn retry_at(now: Timestamp, attempts: i64) -> Option<Timestamp> {
    if attempts + 1 >= MAX_ATTEMPTS {
        return None;
    }
    let factor = 1i64 << attempts.clamp(0, 20);
    let wait = RETRY_FIRST
        .checked_mul(factor as i32)
        .unwrap_or(RETRY_MAX)
        .min(RETRY_MAX);
    Some(now.checked_add(wait).unwrap_or(now))
}

/// Send every due message in the outbox, oldest first; also return each channel that had
/// something to send with its outcome: failed (the last error) if any of its messages failed,
/// else ok. Messages for the channels
/// in `skip` stay queued.
pub(super) fn deliver_tracked(
    store: &mut impl MonitorState,
    opts: &RunOptions,
    clock: &dyn Clock,
    skip: &[String],
    rt: &tokio::runtime::Handle,
) -> Result<(Delivery, Vec<(String, Outcome)>), RunError> {
    let now = opts.now;
    let mut due = store.due_messages(now)?;
    due.retain(|m| !skip.contains(&m.channel));
    let mut d = Delivery::default();
    let mut channels: std::collections::BTreeMap<String, Outcome> = Default::default();
    if due.is_empty() {
        return Ok((d, Vec::new()));
    }
    let http = Http::new(opts.http.clone()).map_err(|e| RunError::Setup(e.to_string()))?;
    let channels_set = Channels::from_config(&opts.config.notify, &http);
    for m in due {
        let result: Result<(), SendError> = match serde_json::from_str::<Payload>(&m.payload) {
            // Kept transient: a payload a newer depwatch wrote may be readable after an upgrade.
            Err(e) => Err(SendError::transient(format!("unreadable payload: {e}"))),
            Ok(payload) => match channels_set.get(payload.channel()) {
                Err(e) => Err(e),
                Ok(ch) => rt.block_on(ch.send(&payload)),
            },
        };
        let at = clock.now().max(now);
        match result {
            Ok(()) => {
                store.mark_sent(m.id, at)?;
                d.sent += 1;
                channels.entry(m.channel.clone()).or_insert(Outcome::Ok);
            }
            Err(err) => {
                // A permanent failure (a revoked webhook, a refused login) is given up at
                // once and alerts at once; a transient one is retried with backoff.
                let permanent = err.is_permanent();
                let (next, e) = if permanent {
                    (None, format!("{err} (permanent: given up, not retried)"))
                } else {
                    (retry_at(now, m.attempts), err.message)
                };
                if next.is_none() {
                    d.given_up += 1;
                } else {
                    d.failed += 1;
                }
                d.errors.push(format!(
                    "message {} ({} via {}): {e}",
                    m.id, m.project, m.channel
                ));
                store.mark_failed(m.id, &e, next, at)?;
                let outcome = if permanent {
                    Outcome::GaveUp(e)
                } else {
                    Outcome::Failed(e)
                };
                // A give-up in this run outranks a later transient failure.
                match channels.get(&m.channel) {
                    Some(Outcome::GaveUp(_)) => {}
                    _ => {
                        channels.insert(m.channel.clone(), outcome);
                    }
                }
            }
        }
    }
    Ok((d, channels.into_iter().collect()))
}

/// The configured channels, built once per delivery pass. A channel missing from the config
/// or whose secret is not set fails its messages as transient (the operator can fix the
/// config or the environment before the next run), as before this seam existed.
struct Channels {
    slack: Option<Result<SlackChannel, String>>,
    email: Option<Result<EmailChannel, String>>,
}

impl Channels {
    fn from_config(notify: &crate::config::Notify, http: &Http) -> Self {
        let slack = notify.slack.as_ref().map(|s| {
            s.webhook
                .resolve()
                .map(|hook| SlackChannel::new(http.clone(), hook))
        });
        let email = notify.email.as_ref().map(|e| {
            let mut settings = e.settings.clone();
            settings.password = e.password.as_ref().map(|p| p.resolve()).transpose()?;
            Ok(EmailChannel::new(settings))
        });
        Self { slack, email }
    }

    fn get(&self, name: &str) -> Result<&dyn Channel, SendError> {
        fn pick<'a, C: Channel>(
            c: &'a Option<Result<C, String>>,
            name: &str,
        ) -> Result<&'a dyn Channel, SendError> {
            match c {
                None => Err(SendError::transient(format!(
                    "no [notify.{name}] in the config"
                ))),
                Some(Err(e)) => Err(SendError::transient(e.clone())),
                Some(Ok(c)) => Ok(c),
            }
        }
        match name {
            "slack" => pick(&self.slack, name),
            "email" => pick(&self.email, name),
            other => Err(SendError::transient(format!("unknown channel {other}"))),
        }
    }
}
