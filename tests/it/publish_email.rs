//! The email channel (`publish::email`) against a real SMTP server on 127.0.0.1 (aiosmtpd, see
//! `support::smtp`): multipart UTF-8 mail, login only on loopback without TLS, TLS never
//! downgraded, an SMTP server that is down is a retryable error.

use crate::support::smtp::{SmtpServer, free_port};
use depwatch::publish::EmailPayload;
use depwatch::publish::email::{self, EmailSettings, TlsMode};
use depwatch::secret::Secret;
use serde_json::json;
use std::time::Duration;
fn mail() -> EmailPayload {
    EmailPayload {
        subject: "[depwatch] démo: 1 new critical finding — tokio ≥ 1.18.4 needed".into(),
        text: "New: RUSTSEC-2023-0001 in tokio 1.0.0 (critical).\nUpgrade to 1.18.4 — Grüße.\n"
            .into(),
        html: "<p>New: <b>RUSTSEC-2023-0001</b> in tokio 1.0.0 — Grüße</p>\n".into(),
    }
}

#[test]
fn email_multipart_utf8_reaches_both_recipients() {
    let server = SmtpServer::start(None);
    email::send(&server.settings(), &mail()).unwrap();
    let got = server.messages();
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    assert_eq!(m["mail_from"], "depwatch@example.com");
    assert_eq!(
        m["rcpt_tos"],
        json!(["security@example.com", "zoe@example.org"])
    );
    assert_eq!(m["subject"], json!(mail().subject));
    assert_eq!(m["content_type"], "multipart/alternative");
    assert_eq!(
        m["parts"],
        json!(["multipart/alternative", "text/plain", "text/html"])
    );
    assert_eq!(m["charsets"], json!(["utf-8", "utf-8"]));
    let text = m["text"].as_str().unwrap().replace("\r\n", "\n");
    let html = m["html"].as_str().unwrap().replace("\r\n", "\n");
    assert_eq!(text, mail().text);
    assert_eq!(html, mail().html);
    let id = m["message_id"].as_str().unwrap();
    assert!(id.starts_with('<') && id.ends_with("@example.com>"), "{id}");
    assert!(m["date"].is_string());
    assert!(m["auth_user"].is_null());
}

#[test]
fn email_login_without_tls_only_on_loopback() {
    // Decision: a loopback relay may take a login without TLS (nothing crosses a network);
    // validate() refuses TlsMode::None for any other host, so credentials never travel in clear.
    let server = SmtpServer::start(Some("bot:s3cret-pw"));
    let mut s = server.settings();
    s.user = Some("bot".into());
    s.password = Some(Secret::new("s3cret-pw"));
    email::send(&s, &mail()).unwrap();
    let got = server.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["auth_user"], "bot");

    // A wrong password is a permanent (535) refusal: not retryable, and never printed.
    s.password = Some(Secret::new("wrong-pw"));
    let e = email::send(&s, &mail()).unwrap_err();
    assert!(!e.is_retryable(), "{e}");
    assert!(!format!("{e} {e:?}").contains("wrong-pw"), "{e}");
    assert!(
        e.to_string()
            .contains(&format!("127.0.0.1:{}", server.port)),
        "{e}"
    );
    // Without a login the server refuses too, and nothing was delivered by either attempt.
    s.user = None;
    s.password = None;
    assert!(email::send(&s, &mail()).is_err());
    assert_eq!(server.messages().len(), 1);

    let mut remote = server.settings();
    remote.host = "smtp.example.com".into();
    remote.user = Some("bot".into());
    remote.password = Some(Secret::new("s3cret-pw"));
    let e = remote.validate().unwrap_err();
    assert!(e.starts_with("notify.email.tls"), "{e}");
}

#[test]
fn email_smtp_down_is_a_retryable_error() {
    let mut s = EmailSettings {
        host: "127.0.0.1".into(),
        port: free_port(),
        tls: TlsMode::None,
        user: Some("bot".into()),
        password: Some(Secret::new("pw-never-shown")),
        from: "depwatch@example.com".into(),
        to: vec!["a@example.com".into()],
        timeout: Duration::from_secs(5),
    };
    let e = email::send(&s, &mail()).unwrap_err();
    assert!(e.is_retryable(), "{e}");
    let text = e.to_string();
    assert!(text.contains(&format!("127.0.0.1:{}", s.port)), "{text}");
    assert!(!format!("{text} {e:?}").contains("pw-never-shown"));

    // The same with STARTTLS: still a connection failure, still retryable.
    s.tls = TlsMode::StartTls;
    assert!(email::send(&s, &mail()).unwrap_err().is_retryable());
}

#[test]
fn email_tls_none_to_a_remote_host_is_refused_before_connecting() {
    let s = EmailSettings {
        host: "smtp.example.com".into(),
        port: 25,
        tls: TlsMode::None,
        user: None,
        password: None,
        from: "depwatch@example.com".into(),
        to: vec!["a@example.com".into()],
        timeout: Duration::from_secs(5),
    };
    let e = s.validate().unwrap_err();
    assert!(e.starts_with("notify.email.tls"), "{e}");
    let e = email::send(&s, &mail()).unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("notify.email.tls"), "{e}");
}

#[test]
fn email_required_tls_never_falls_back_to_clear_text() {
    // The server offers no STARTTLS and speaks no TLS: neither mode may deliver (or log in).
    let server = SmtpServer::start(None);
    for mode in [TlsMode::StartTls, TlsMode::Implicit] {
        let mut s = server.settings();
        s.tls = mode;
        s.user = Some("bot".into());
        s.password = Some(Secret::new("pw-x"));
        let e = email::send(&s, &mail()).unwrap_err();
        if mode == TlsMode::StartTls {
            // A server without STARTTLS is a configuration problem, not an outage.
            assert!(!e.is_retryable(), "{e}");
            assert!(e.to_string().contains("STARTTLS"), "{e}");
        }
        assert!(!format!("{e} {e:?}").contains("pw-x"));
    }
    assert!(server.messages().is_empty());
}
