//! Publishing: advisory drafts, release notes and notifications, rendered from the monitor's
//! events and the findings' report data. Publishers never read feeds or manifests.
//!
//! Prose comes from Handlebars templates ([`templates`]); structured outputs (Block Kit, the
//! GitHub advisory JSON) are serde types.

pub mod affected;
pub mod channel;
pub mod draft;
pub mod email;
pub mod github;
pub mod messages;
pub mod slack;
pub mod templates;

use serde::{Deserialize, Serialize};

/// An email as sent: subject and the two alternative bodies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailPayload {
    /// Subject line.
    pub subject: String,
    /// text/plain body.
    pub text: String,
    /// text/html body.
    pub html: String,
}

/// What an outbox row carries: exactly what is sent, so a retry sends the same bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Payload {
    /// A Slack incoming-webhook body (Block Kit `blocks` plus fallback `text`).
    Slack {
        /// The JSON body POSTed to the webhook.
        body: serde_json::Value,
    },
    /// An email.
    Email(EmailPayload),
}
