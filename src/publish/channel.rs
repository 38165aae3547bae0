//! One seam for notification channels. A [`Channel`] sends an outbox [`Payload`] and, when it
//! fails, says whether a later attempt may succeed ([`Failure::Transient`]: no answer, a 5xx,
//! a rate limit, a 4xx SMTP reply) or never will ([`Failure::Permanent`]: a revoked webhook
//! (404/410), a refused login (401/403, SMTP 535), a rejected recipient (SMTP 550)). The outbox
//! retries the first with backoff and gives up on the second at once: re-sending the same bytes
//! to a webhook that is gone only repeats the same answer for hours.
//!
//! A new channel is one type implementing [`Channel`] plus its error's [`Classify`].

use crate::feeds::http::Http;
use crate::publish::email::{self, EmailError, EmailSettings};
use crate::publish::github::GithubError;
use crate::publish::slack::{self, SlackError};
use crate::publish::{EmailPayload, Payload};
use crate::secret::Secret;
use std::future::Future;
use std::pin::Pin;

/// Whether a failed send may succeed later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A later attempt may succeed: retry with backoff.
    Transient,
    /// The same request will fail the same way: give up now.
    Permanent,
}

/// A channel's failure, its text already scrubbed of the channel's secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// Transient or permanent.
    pub failure: Failure,
    /// What went wrong (no secrets).
    pub message: String,
}

impl SendError {
    /// A failure a later attempt may not have.
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            failure: Failure::Transient,
            message: message.into(),
        }
    }

    /// A failure every later attempt would have too.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            failure: Failure::Permanent,
            message: message.into(),
        }
    }

    /// Whether retrying is pointless.
    pub fn is_permanent(&self) -> bool {
        self.failure == Failure::Permanent
    }
}

/// A channel error that knows whether it is transient or permanent.
pub trait Classify: std::error::Error {
    /// Transient or permanent.
    fn failure(&self) -> Failure;
}

fn by_retryable(retryable: bool) -> Failure {
    if retryable {
        Failure::Transient
    } else {
        Failure::Permanent
    }
}

impl Classify for SlackError {
    fn failure(&self) -> Failure {
        by_retryable(self.is_retryable())
    }
}

impl Classify for EmailError {
    fn failure(&self) -> Failure {
        by_retryable(self.is_retryable())
    }
}

impl Classify for GithubError {
    fn failure(&self) -> Failure {
        by_retryable(self.is_retryable())
    }
}

/// The future a [`Channel::send`] returns (boxed so channels can be trait objects).
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>;

/// A notification channel: sends one outbox payload, once.
pub trait Channel: Send + Sync {
    /// The channel's name in the config and the outbox (`slack`, `email`).
    fn name(&self) -> &'static str;
    /// Send `payload`. A payload for another channel is a permanent failure.
    fn send<'a>(&'a self, payload: &'a Payload) -> SendFuture<'a>;
}

impl Payload {
    /// The name of the channel this payload is for.
    pub fn channel(&self) -> &'static str {
        match self {
            Payload::Slack { .. } => "slack",
            Payload::Email(_) => "email",
        }
    }
}

fn wrong_payload(channel: &str, payload: &Payload) -> SendError {
    SendError::permanent(format!(
        "a payload for {} cannot be sent through {channel}",
        payload.channel()
    ))
}

/// A Slack incoming webhook.
pub struct SlackChannel {
    http: Http,
    webhook: Secret,
}

impl SlackChannel {
    /// A channel posting to `webhook` with `http`.
    pub fn new(http: Http, webhook: Secret) -> Self {
        Self { http, webhook }
    }
}

impl Channel for SlackChannel {
    fn name(&self) -> &'static str {
        "slack"
    }

    fn send<'a>(&'a self, payload: &'a Payload) -> SendFuture<'a> {
        Box::pin(async move {
            let Payload::Slack { body } = payload else {
                return Err(wrong_payload(self.name(), payload));
            };
            slack::post(&self.http, &self.webhook, body)
                .await
                .map_err(|e| SendError {
                    failure: e.failure(),
                    message: self.webhook.scrub(&e.to_string()),
                })
        })
    }
}

/// Email over SMTP, with the password (if any) already resolved into the settings.
pub struct EmailChannel {
    settings: EmailSettings,
}

impl EmailChannel {
    /// A channel sending with `settings`.
    pub fn new(settings: EmailSettings) -> Self {
        Self { settings }
    }

    fn send_mail(&self, mail: &EmailPayload) -> Result<(), SendError> {
        email::send(&self.settings, mail).map_err(|e| {
            let text = e.to_string();
            SendError {
                failure: e.failure(),
                message: match &self.settings.password {
                    Some(p) => p.scrub(&text),
                    None => text,
                },
            }
        })
    }
}

impl Channel for EmailChannel {
    fn name(&self) -> &'static str {
        "email"
    }

    fn send<'a>(&'a self, payload: &'a Payload) -> SendFuture<'a> {
        // lettre's SMTP transport is blocking; the outbox sends one message at a time, so
        // blocking the (current-thread) executor here is what the send costs anyway.
        Box::pin(async move {
            match payload {
                Payload::Email(mail) => self.send_mail(mail),
                other => Err(wrong_payload(self.name(), other)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_errors_classify_as_their_retry_rule_says() {
        let slack = |status| SlackError::Status {
            host: "h".into(),
            status,
            detail: String::new(),
        };
        for s in [401, 403, 404, 410, 400] {
            assert_eq!(slack(s).failure(), Failure::Permanent, "{s}");
        }
        for s in [429, 500, 503] {
            assert_eq!(slack(s).failure(), Failure::Transient, "{s}");
        }
        let smtp = |retryable| EmailError::Smtp {
            server: "s:25".into(),
            message: "m".into(),
            retryable,
        };
        assert_eq!(smtp(false).failure(), Failure::Permanent);
        assert_eq!(smtp(true).failure(), Failure::Transient);
    }

    #[tokio::test]
    async fn a_payload_for_another_channel_is_permanent() {
        let ch = SlackChannel::new(
            Http::new(Default::default()).unwrap(),
            Secret::new("https://hooks.example.com/x"),
        );
        let mail = Payload::Email(EmailPayload {
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
        });
        let e = ch.send(&mail).await.unwrap_err();
        assert!(e.is_permanent(), "{e}");
        assert_eq!(
            e.to_string(),
            "a payload for email cannot be sent through slack"
        );
    }
}
