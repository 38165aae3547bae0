//! The outbox through the real binary against a loopback webhook: a permanent failure (404,
//! a revoked webhook) is sent once and given up at once with a health alert; a transient one
//! (503) is retried on a later run.

use crate::support::config::{Monitor, slack_section};
use crate::support::loopback::{Reply, Request, Server, slack_header};
use crate::support::output_text as text;
use crate::support::shared;

const HOOK_PATH: &str = "/services/T0000/B0000/ReVoKeDhOoK";

/// One project with one finding (requests 2.31.0, GHSA-9wx4-h78v-vm56), Slack only.
fn setup(slack: &Server) -> Monitor {
    Monitor::new(format!("{}{HOOK_PATH}", slack.url), |d| {
        std::fs::create_dir_all(d.join("osv")).unwrap();
        std::fs::copy(
            shared().join("feeds-reference/ghsa-osv/PyPI/GHSA-9wx4-h78v-vm56.json"),
            d.join("osv/GHSA-9wx4-h78v-vm56.json"),
        )
        .unwrap();
        format!(
            r#"
sources = ["osv-dir:{osv}"]

[[project]]
name = "emby"
path = "{emby}"

{slack}
[watch]
health-after = 3
"#,
            osv = d.join("osv").display(),
            slack = slack_section(),
            emby = shared()
                .join("corpus/manifests/emby-watchparty/requirements.txt")
                .display(),
        )
    })
}

fn status(env: &Monitor) -> String {
    let o = env
        .command()
        .args(["status", "--config"])
        .arg(&env.config)
        .output()
        .expect("run depwatch status");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The Block Kit header of each POST the server received.
fn headers_posted(server: &Server) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| slack_header(&serde_json::from_slice(&r.body).unwrap_or_default()))
        .collect()
}

#[test]
fn a_revoked_webhook_gets_one_post_then_the_message_is_given_up_with_an_alert() {
    let slack = Server::start(|_: &Request| Reply::status(404));
    let env = setup(&slack);

    let o = env.run("2026-12-01T09:00:00Z");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        out.contains("delivery: 0 sent, 0 failed (retried next run), 1 given up"),
        "{out}"
    );
    // Alerted at once, although health-after is 3.
    assert!(
        out.contains("health: channel:slack failing (1 failed run in a row, alert queued)"),
        "{out}"
    );
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        err.contains("HTTP 404") && err.contains("permanent: given up, not retried"),
        "{err}"
    );
    assert!(!text(&o).contains("ReVoKeDhOoK"), "the webhook is a secret");
    // One POST: the finding's message; the alert is not sent to the dead hook in this run.
    let posts = headers_posted(&slack);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(posts[0].contains("emby"), "{posts:?}");

    let st = status(&env);
    assert!(st.contains("outbox: 0 sent, 1 pending, 1 given up"), "{st}");
    assert!(
        st.contains("failing: channel:slack (1 run(s) in a row since 2026-12-01 09:00:00 UTC"),
        "{st}"
    );

    // Past the first retry time: the finding's message is never sent again; the queued alert
    // gets its one try (and is given up too), without a second alert.
    let o = env.run("2026-12-01T12:00:00Z");
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.contains("1 given up"), "{}", text(&o));
    assert!(!out.contains("health:"), "{out}");
    let posts = headers_posted(&slack);
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert!(posts[1].starts_with("depwatch health"), "{posts:?}");
    let o = env.run("2026-12-02T12:00:00Z");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("delivery: 0 sent, 0 failed"),
        "{}",
        text(&o)
    );
    assert_eq!(slack.requests().len(), 2);
    assert!(status(&env).contains("outbox: 0 sent, 0 pending, 2 given up"));
}

#[test]
fn an_unavailable_webhook_is_retried_on_a_later_run() {
    let slack = Server::start(|_: &Request| Reply::status(503));
    let env = setup(&slack);

    let o = env.run("2026-12-01T09:00:00Z");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        out.contains("delivery: 0 sent, 1 failed (retried next run), 0 given up"),
        "{out}"
    );
    assert!(!out.contains("health:"), "below health-after: {out}");
    let first = slack.requests().len();
    assert!(first >= 2, "a 5xx is retried within the call: {first}");
    assert!(status(&env).contains("outbox: 0 sent, 1 pending, 0 given up"));

    // After the backoff, tried again.
    let o = env.run("2026-12-01T09:05:00Z");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("1 failed (retried next run), 0 given up"),
        "{}",
        text(&o)
    );
    assert!(slack.requests().len() > first);
}
