//! Email over SMTP (lettre with rustls): one multipart/alternative message (text/plain, then
//! text/html, UTF-8) to every configured recipient, one attempt per call.
//!
//! The password is a [`Secret`]: it goes to the server only inside TLS (or to a loopback
//! relay), and any error text is scrubbed of it.

use crate::publish::EmailPayload;
use crate::secret::Secret;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::SmtpTransport;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, Transport};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How the connection to the SMTP server is secured (`notify.email.tls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain connection upgraded with STARTTLS; the upgrade is required, so a server (or an
    /// attacker) that does not offer it gets neither credentials nor mail. Usually port 587.
    #[serde(rename = "starttls")]
    StartTls,
    /// TLS from the first byte (SMTPS). Usually port 465.
    Implicit,
    /// No encryption: only for a relay on the loopback interface.
    None,
}

/// Where and how to send email (`[notify.email]`), with the password already read from the
/// environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailSettings {
    /// SMTP server host name or address.
    pub host: String,
    /// SMTP server port.
    pub port: u16,
    /// Connection security.
    pub tls: TlsMode,
    /// Login user, if the server needs one.
    pub user: Option<String>,
    /// Login password (from an environment variable).
    pub password: Option<Secret>,
    /// Sender mailbox, e.g. `depwatch <depwatch@example.com>`.
    pub from: String,
    /// Recipient mailboxes; one message goes to all of them.
    pub to: Vec<String>,
    /// Timeout for connecting and for each SMTP command.
    pub timeout: Duration,
}

/// A failed email delivery. Messages name the server's host and port, never the password.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// The settings are unusable (see [`EmailSettings::validate`]).
    #[error("email settings: {0}")]
    Config(String),
    /// The message could not be built from the payload.
    #[error("email message: {0}")]
    Message(String),
    /// The SMTP exchange failed.
    #[error("SMTP server {server}: {message}")]
    Smtp {
        /// `host:port`.
        server: String,
        /// What went wrong (lettre's text with the server's reply), scrubbed of the password.
        message: String,
        /// Whether a later attempt may succeed (see [`EmailError::is_retryable`]).
        retryable: bool,
    },
}

impl EmailError {
    /// Whether a later attempt may succeed: connection failures, timeouts and transient (4xx)
    /// SMTP replies are retryable; permanent (5xx) replies such as a refused login or
    /// recipient, TLS failures (a certificate or TLS-mode mismatch) and bad settings are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Config(_) | Self::Message(_) => false,
            Self::Smtp { retryable, .. } => *retryable,
        }
    }
}

impl EmailSettings {
    /// Check the settings before any connection; the message names the offending key
    /// (`notify.email.tls`, `notify.email.to[1]`, ...).
    pub fn validate(&self) -> Result<(), String> {
        let host = self.host.trim();
        if host.is_empty() || host.chars().any(char::is_whitespace) {
            return Err(format!(
                "notify.email.host: {:?} is not a host name",
                self.host
            ));
        }
        if self.port == 0 {
            return Err("notify.email.port: 0 is not a port".into());
        }
        if self.timeout.is_zero() {
            return Err("notify.email.timeout: must be more than zero".into());
        }
        self.from
            .parse::<Mailbox>()
            .map_err(|e| format!("notify.email.from: {:?} is not a mailbox: {e}", self.from))?;
        if self.to.is_empty() {
            return Err("notify.email.to: at least one recipient is needed".into());
        }
        for (i, to) in self.to.iter().enumerate() {
            to.parse::<Mailbox>()
                .map_err(|e| format!("notify.email.to[{i}]: {to:?} is not a mailbox: {e}"))?;
        }
        if self.tls == TlsMode::None && !crate::net::is_loopback_host(host) {
            // Mail (and any login) would cross the network in clear text.
            return Err(format!(
                "notify.email.tls: \"none\" (no encryption) is allowed only for a loopback host \
                 (localhost, 127.0.0.0/8, ::1), not {host}; use \"starttls\" or \"implicit\""
            ));
        }
        if self.user.as_deref().is_some_and(|u| u.trim().is_empty()) {
            return Err("notify.email.user: empty; remove it to send without login".into());
        }
        Ok(())
    }

    /// The login to use, checked at send time (the password is read from the environment
    /// after the config is validated): a user needs a password and a password a user.
    fn login(&self) -> Result<Option<(&str, &Secret)>, String> {
        match (&self.user, &self.password) {
            (Some(u), Some(p)) => Ok(Some((u.as_str(), p))),
            (Some(_), None) => Err("notify.email.password: notify.email.user is set but no \
                 password was given (is its environment variable set?)"
                .into()),
            (None, Some(_)) => {
                Err("notify.email.user: a password is given but no user to log in as".into())
            }
            (None, None) => Ok(None),
        }
    }
}

/// Collapse line breaks and runs of whitespace: a subject is one header line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A Message-ID unique per process and call, in the sender's domain (not the host name, which
/// may be internal).
fn message_id(from: &Mailbox) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "<depwatch.{nanos}.{}.{n}@{}>",
        std::process::id(),
        from.email.domain()
    )
}

/// Build the message: From, To (all recipients), UTF-8 Subject, Message-ID, Date and a
/// multipart/alternative body with text/plain first (clients show the last part they can).
fn build(settings: &EmailSettings, mail: &EmailPayload) -> Result<Message, EmailError> {
    let parse = |key: String, s: &str| {
        s.parse::<Mailbox>()
            .map_err(|e| EmailError::Config(format!("{key}: {s:?} is not a mailbox: {e}")))
    };
    let from = parse("notify.email.from".into(), &settings.from)?;
    let mut builder = Message::builder()
        .message_id(Some(message_id(&from)))
        .from(from)
        .subject(one_line(&mail.subject));
    for (i, to) in settings.to.iter().enumerate() {
        builder = builder.to(parse(format!("notify.email.to[{i}]"), to)?);
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))
        .map_err(|e| EmailError::Message(e.to_string()))
}

/// Send `mail` to every recipient in one SMTP transaction: a single attempt, blocking (call it
/// from `spawn_blocking` in async code). Settings are validated first.
pub fn send(settings: &EmailSettings, mail: &EmailPayload) -> Result<(), EmailError> {
    settings.validate().map_err(EmailError::Config)?;
    let login = settings.login().map_err(EmailError::Config)?;
    let message = build(settings, mail)?;
    let host = settings.host.trim().to_string();
    let server = format!("{host}:{}", settings.port);
    // A server may echo what it was sent: the password as is, base64 inside the AUTH PLAIN
    // argument (`\0user\0password`, whole, for passwords too short to match alone) or the
    // AUTH LOGIN one. Its reply is then cleaned and bounded, never kept verbatim.
    let scrub = |text: String| {
        let text = match (&settings.password, login) {
            (Some(p), Some((user, _))) => {
                use base64::Engine as _;
                let plain = base64::engine::general_purpose::STANDARD
                    .encode(format!("\0{user}\0{}", p.expose()));
                let login = base64::engine::general_purpose::STANDARD.encode(p.expose());
                let text = Secret::new(plain.trim_end_matches('=')).scrub(&text);
                let text = Secret::new(login.trim_end_matches('=')).scrub(&text);
                p.scrub(&text)
            }
            (Some(p), None) => p.scrub(&text),
            (None, _) => text,
        };
        crate::text::server_text(&text, 500)
    };
    let tls = match settings.tls {
        TlsMode::None => Tls::None,
        TlsMode::StartTls | TlsMode::Implicit => {
            let params = TlsParameters::new(host.clone()).map_err(|e| {
                EmailError::Config(format!("TLS setup for {server}: {}", scrub(e.to_string())))
            })?;
            if settings.tls == TlsMode::StartTls {
                // Required, not opportunistic: no silent fallback to clear text.
                Tls::Required(params)
            } else {
                Tls::Wrapper(params)
            }
        }
    };
    let mut builder = SmtpTransport::builder_dangerous(host.as_str())
        .port(settings.port)
        .tls(tls)
        .timeout(Some(settings.timeout));
    if let Some((user, password)) = login {
        // validate() has ensured TLS or a loopback host, so the password stays private.
        builder = builder
            .credentials(Credentials::new(
                user.to_string(),
                password.expose().to_string(),
            ))
            .authentication(vec![Mechanism::Plain, Mechanism::Login]);
    }
    let transport = builder.build();
    transport.send(&message).map(|_| ()).map_err(|e| {
        let retryable = !(e.is_permanent() || e.is_tls() || e.is_client());
        EmailError::Smtp {
            server,
            message: scrub(e.to_string()),
            retryable,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> EmailSettings {
        EmailSettings {
            host: "smtp.example.com".into(),
            port: 587,
            tls: TlsMode::StartTls,
            user: Some("bot".into()),
            password: Some(Secret::new("pw-123")),
            from: "depwatch <depwatch@example.com>".into(),
            to: vec!["a@example.com".into(), "Team B <b@example.org>".into()],
            timeout: Duration::from_secs(10),
        }
    }

    #[test]
    fn valid_settings_pass() {
        assert_eq!(settings().validate(), Ok(()));
        let mut s = settings();
        s.tls = TlsMode::None;
        for host in [
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
            "localhost",
            "LOCALHOST",
        ] {
            s.host = host.into();
            assert_eq!(s.validate(), Ok(()), "{host}");
        }
    }

    #[test]
    fn each_problem_names_its_key() {
        type Change = Box<dyn Fn(&mut EmailSettings)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|s| s.tls = TlsMode::None), "notify.email.tls"),
            (
                Box::new(|s| {
                    s.tls = TlsMode::None;
                    s.host = "10.0.0.1".into();
                }),
                "notify.email.tls",
            ),
            (Box::new(|s| s.to.clear()), "notify.email.to:"),
            (
                Box::new(|s| s.to.push("not an address".into())),
                "notify.email.to[2]",
            ),
            (Box::new(|s| s.from = "nobody".into()), "notify.email.from"),
            (Box::new(|s| s.host = " ".into()), "notify.email.host"),
            (Box::new(|s| s.port = 0), "notify.email.port"),
            (Box::new(|s| s.user = Some(" ".into())), "notify.email.user"),
            (
                Box::new(|s| s.timeout = Duration::ZERO),
                "notify.email.timeout",
            ),
        ];
        for (change, key) in cases {
            let mut s = settings();
            change(&mut s);
            let e = s.validate().unwrap_err();
            assert!(e.starts_with(key), "{key}: {e}");
            assert!(!e.contains("pw-123"), "{e}");
        }
    }

    #[test]
    fn login_needs_user_and_password_together() {
        let mut s = settings();
        assert_eq!(s.login().unwrap().map(|(u, _)| u), Some("bot"));
        s.password = None;
        // The config is validated before the password is read from the environment.
        assert_eq!(s.validate(), Ok(()));
        let e = s.login().unwrap_err();
        assert!(e.starts_with("notify.email.password"), "{e}");
        let e = send(
            &s,
            &EmailPayload {
                subject: "s".into(),
                text: "t".into(),
                html: "h".into(),
            },
        )
        .unwrap_err();
        assert!(!e.is_retryable());
        s.user = None;
        assert_eq!(s.login(), Ok(None));
        s.password = Some(Secret::new("pw-123"));
        let e = s.login().unwrap_err();
        assert!(e.starts_with("notify.email.user"), "{e}");
    }

    #[test]
    fn tls_mode_config_names() {
        #[derive(serde::Deserialize)]
        struct T {
            tls: TlsMode,
        }
        let t = |s: &str| toml::from_str::<T>(&format!("tls = \"{s}\"")).map(|t| t.tls);
        assert_eq!(t("starttls").unwrap(), TlsMode::StartTls);
        assert_eq!(t("implicit").unwrap(), TlsMode::Implicit);
        assert_eq!(t("none").unwrap(), TlsMode::None);
        assert!(t("ssl").is_err());
    }

    #[test]
    fn message_shape() {
        let mail = EmailPayload {
            subject: "[depwatch] 2 new findings in café\n".into(),
            text: "plain body".into(),
            html: "<p>html body</p>".into(),
        };
        let m = build(&settings(), &mail).unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(raw.contains("Message-ID: <depwatch."), "{raw}");
        assert!(raw.contains("@example.com>"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        let plain = raw.find("text/plain").unwrap();
        let html = raw.find("text/html").unwrap();
        assert!(plain < html, "text/plain comes first");
        // The subject is one encoded header line: no raw newline inside the header block.
        let subject = raw.lines().find(|l| l.starts_with("Subject:")).unwrap();
        assert!(subject.contains("=?utf-8?"), "{subject}");
        assert_ne!(
            message_id(&"a@x.org".parse().unwrap()),
            message_id(&"a@x.org".parse().unwrap())
        );
    }
}
