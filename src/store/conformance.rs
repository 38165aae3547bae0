//! The conformance suite of the store traits: what every backend must do, checked through
//! [`AdvisoryStore`] and [`MonitorState`] only. SQLite runs it in this module's tests; another
//! backend runs it from its own tests (enable the `conformance` feature outside this crate):
//!
//! ```ignore
//! depwatch::store::conformance::conformance(|| MyStore::connect_fresh());
//! ```
//!
//! `make` must return a new, empty store each call. Each check panics with its name on a
//! failure. Times are compared at microsecond precision: the finest every backend is asked to
//! keep (PostgreSQL's `timestamptz`). Times within one check are whole seconds apart or more,
//! so a backend comparing stored text and one comparing instants agree.

use super::{
    AdvisoryStore, DailyOpen, DayOpen, HealthRow, MessageState, MonitorState, NewHeld, NewMessage,
    RunOutcome, SeenRow, SourceState,
};
use crate::advisory::{Advisory, Affected, Package};
use crate::ecosystem::Ecosystem;
use crate::feeds::LoadError;
use jiff::Timestamp;

/// Run every check, each on a fresh store from `make`.
pub fn conformance<S: AdvisoryStore + MonitorState>(make: impl Fn() -> S) {
    type Check<S> = fn(&mut S);
    let checks: [(&str, Check<S>); 16] = [
        ("source_state", source_state),
        ("replace_source", replace_source),
        ("upsert_source", upsert_source),
        ("records_for", records_for),
        ("withdrawn", withdrawn),
        ("crate_index", crate_index),
        ("seen", seen),
        ("outbox_delivery", outbox_delivery),
        ("outbox_give_up", outbox_give_up),
        ("runs", runs),
        ("health", health),
        ("signals", signals),
        ("digest", digest),
        ("change_generations", change_generations),
        ("tokens", tokens),
        ("daily_open", daily_open),
    ];
    for (name, check) in checks {
        let mut store = make();
        let run = std::panic::AssertUnwindSafe(|| check(&mut store));
        if let Err(e) = std::panic::catch_unwind(run) {
            let why = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("store conformance check `{name}` failed: {why}");
        }
    }
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("a valid test time")
}

fn adv(id: &str, modified: &str, packages: &[(&str, &str)]) -> Advisory {
    Advisory {
        id: id.into(),
        modified: modified.into(),
        summary: Some(format!("{id} at {modified}")),
        affected: packages
            .iter()
            .map(|(eco, name)| Affected {
                package: Package {
                    ecosystem: eco.to_string(),
                    name: name.to_string(),
                    ..Default::default()
                },
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn state(source: &str) -> SourceState {
    SourceState {
        source: source.into(),
        ..Default::default()
    }
}

fn all<S: AdvisoryStore>(s: &mut S) -> Vec<(String, String, String)> {
    let packages = [
        (Ecosystem::CratesIo, "a".to_string()),
        (Ecosystem::CratesIo, "b".to_string()),
        (Ecosystem::PyPI, "c".to_string()),
    ];
    let got = s.records_for(&packages).expect("records_for");
    got.records
        .into_iter()
        .map(|r| {
            let summary = r.advisory.summary.unwrap_or_default();
            (r.source, r.advisory.id, summary)
        })
        .collect()
}

/// A source's sync state: never synced is `None`; a sync stores the feed's cursor, ETag and
/// Last-Modified and stamps success; a failure keeps data and success time; an unchanged
/// check clears the error.
fn source_state<S: AdvisoryStore + MonitorState>(s: &mut S) {
    assert_eq!(s.source_state("f").unwrap(), None);
    assert!(s.sources().unwrap().is_empty());
    let before = Timestamp::now();
    let st = SourceState {
        cursor: Some("c1".into()),
        etag: Some("\"e1\"".into()),
        last_modified: Some("Tue, 01 Dec 2026 10:00:00 GMT".into()),
        ..state("f")
    };
    s.replace_source(&st, &[adv("F-1", "t1", &[("crates.io", "a")])], &[])
        .unwrap();
    let got = s.source_state("f").unwrap().expect("state after a sync");
    let after = Timestamp::now();
    assert_eq!(
        (got.cursor.as_deref(), got.etag.as_deref(), got.records),
        (Some("c1"), Some("\"e1\""), 1)
    );
    assert_eq!(got.last_modified, st.last_modified);
    let success = got.last_success.expect("last_success set by a sync");
    assert!(before <= success && success <= after, "{success} not now");
    assert_eq!(got.last_attempt, got.last_success);
    assert_eq!(got.last_error, None);

    s.record_failure("f", "HTTP 500").unwrap();
    let failed = s.source_state("f").unwrap().unwrap();
    assert_eq!(failed.last_error.as_deref(), Some("HTTP 500"));
    assert_eq!(
        failed.last_success,
        Some(success),
        "a failure keeps the success"
    );
    assert!(failed.last_attempt >= Some(success));
    assert_eq!(failed.records, 1, "a failure keeps the data");
    assert_eq!(all(s).len(), 1);

    s.record_unchanged("f").unwrap();
    let fresh = s.source_state("f").unwrap().unwrap();
    assert_eq!(fresh.last_error, None);
    assert!(fresh.last_success >= Some(success));
    assert_eq!(fresh.cursor.as_deref(), Some("c1"));

    // A source that only ever failed has a state but no success.
    s.record_failure("a-first", "down").unwrap();
    let names: Vec<_> = s.sources().unwrap().into_iter().map(|x| x.source).collect();
    assert_eq!(names, ["a-first", "f"], "sources by name");
    let never = s.source_state("a-first").unwrap().unwrap();
    assert_eq!((never.last_success, never.records), (None, 0));
}

/// A full replace writes new records, removes the ones the source no longer has, leaves
/// unchanged ones alone and never touches another source.
fn replace_source<S: AdvisoryStore + MonitorState>(s: &mut S) {
    let o = s
        .replace_source(
            &state("a"),
            &[
                adv("A-1", "t1", &[("crates.io", "a")]),
                adv("A-2", "t1", &[("crates.io", "b")]),
            ],
            &[],
        )
        .unwrap();
    assert_eq!((o.written, o.removed, o.unchanged), (2, 0, false));
    s.replace_source(&state("b"), &[adv("B-1", "t1", &[("crates.io", "a")])], &[])
        .unwrap();
    let o = s
        .replace_source(&state("a"), &[adv("A-2", "t1", &[("crates.io", "b")])], &[])
        .unwrap();
    assert_eq!((o.written, o.removed, o.unchanged), (0, 1, false));
    let o = s
        .replace_source(&state("a"), &[adv("A-2", "t1", &[("crates.io", "b")])], &[])
        .unwrap();
    assert!(o.unchanged, "{o:?}");
    let ids: Vec<_> = all(s).into_iter().map(|(src, id, _)| (src, id)).collect();
    assert_eq!(
        ids,
        [
            ("a".to_string(), "A-2".to_string()),
            ("b".into(), "B-1".into())
        ]
    );
    assert_eq!(s.source_state("a").unwrap().unwrap().records, 1);
    // A replace may also change a record's `modified` backwards (the feed is the truth).
    s.replace_source(&state("a"), &[adv("A-2", "t0", &[("crates.io", "b")])], &[])
        .unwrap();
    assert!(all(s).contains(&("a".into(), "A-2".into(), "A-2 at t0".into())));
}

/// An incremental sync adds and updates records; an older `modified` never overwrites newer
/// data, and an equal one writes nothing.
fn upsert_source<S: AdvisoryStore + MonitorState>(s: &mut S) {
    let new = adv("X-1", "2026-02-01T00:00:00Z", &[("crates.io", "a")]);
    let o = s
        .upsert_source(&state("f"), std::slice::from_ref(&new), &[])
        .unwrap();
    assert_eq!(o.written, 1);
    let old = adv("X-1", "2026-01-01T00:00:00Z", &[("crates.io", "a")]);
    assert!(s.upsert_source(&state("f"), &[old], &[]).unwrap().unchanged);
    assert!(s.upsert_source(&state("f"), &[new], &[]).unwrap().unchanged);
    let o = s
        .upsert_source(
            &state("f"),
            &[adv("X-2", "2026-03-01T00:00:00Z", &[("crates.io", "b")])],
            &[],
        )
        .unwrap();
    assert_eq!((o.written, o.removed), (1, 0), "an upsert removes nothing");
    let got = all(s);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].2, "X-1 at 2026-02-01T00:00:00Z");
    assert_eq!(s.source_state("f").unwrap().unwrap().records, 2);
}

/// A scan's snapshot: only records naming an asked-for package (by normalised name and
/// ecosystem), whole records, by (source, id); sources that synced; load errors; the yanked
/// cache.
fn records_for<S: AdvisoryStore + MonitorState>(s: &mut S) {
    let mut both = adv("R-2", "t1", &[("PyPI", "Foo_Bar"), ("crates.io", "serde")]);
    both.aliases = vec!["CVE-2026-1".into()];
    let errors = [LoadError {
        source: "z".into(),
        file: "bad.json".into(),
        id: Some("R-9".into()),
        message: "not OSV".into(),
    }];
    s.replace_source(&state("z"), &[both.clone()], &errors)
        .unwrap();
    s.replace_source(
        &state("m"),
        &[
            adv("R-1", "t1", &[("crates.io", "other")]),
            adv("R-3", "t1", &[("PyPI", "foo-bar")]),
            adv("R-4", "t1", &[("npm", "foo-bar")]),
        ],
        &[],
    )
    .unwrap();
    s.record_failure("never", "down").unwrap();
    s.put_crate_index("Serde", None, &["1.0.1".into()]).unwrap();

    let got = s
        .records_for(&[(Ecosystem::PyPI, "foo-bar".into())])
        .unwrap();
    let keys: Vec<_> = got
        .records
        .iter()
        .map(|r| (r.source.as_str(), r.advisory.id.as_str()))
        .collect();
    assert_eq!(keys, [("m", "R-3"), ("z", "R-2")], "by (source, id)");
    assert_eq!(got.records[1].advisory, both, "the record comes back whole");
    let sources: Vec<_> = got
        .sources
        .iter()
        .map(|x| (x.source.as_str(), x.advisories, x.skipped))
        .collect();
    assert_eq!(sources, [("m", 3, 0), ("z", 1, 1)], "synced sources only");
    assert_eq!(got.load_errors, errors);
    assert_eq!(
        got.yanked.get("serde").map(Vec::as_slice),
        Some(&["1.0.1".to_string()][..])
    );

    assert!(s.records_for(&[]).unwrap().records.is_empty());
    let crates = s.records_for(&[(Ecosystem::PyPI, "serde".into())]).unwrap();
    assert!(crates.records.is_empty(), "the ecosystem must match too");
    // A replace that drops the load error clears it.
    s.replace_source(&state("z"), &[both], &[]).unwrap();
    assert!(s.records_for(&[]).unwrap().load_errors.is_empty());
}

/// Withdrawn means withdrawn in every source holding the id, looked up by any alias.
fn withdrawn<S: AdvisoryStore + MonitorState>(s: &mut S) {
    let mut gone = adv("GHSA-1", "t1", &[("crates.io", "a")]);
    gone.aliases = vec!["CVE-1".into()];
    gone.withdrawn = Some("2026-01-01T00:00:00Z".into());
    let mut half = adv("GHSA-2", "t1", &[("crates.io", "a")]);
    half.withdrawn = Some("2026-01-01T00:00:00Z".into());
    s.replace_source(&state("a"), &[gone, half], &[]).unwrap();
    s.replace_source(&state("b"), &[adv("GHSA-2", "t1", &[])], &[])
        .unwrap();
    let ids: Vec<String> = ["CVE-1", "GHSA-1", "GHSA-2", "UNKNOWN-1"]
        .map(String::from)
        .to_vec();
    assert_eq!(s.withdrawn(&ids).unwrap(), ["CVE-1", "GHSA-1"]);
}

/// The crates.io index cache is keyed case-insensitively and keeps the ETag.
fn crate_index<S: AdvisoryStore + MonitorState>(s: &mut S) {
    assert_eq!(s.yanked_versions("serde").unwrap(), None);
    s.put_crate_index("Serde", Some("\"e1\""), &["1.0.0".into()])
        .unwrap();
    assert_eq!(
        s.crate_index_cached("SERDE").unwrap(),
        Some((Some("\"e1\"".into()), vec!["1.0.0".into()]))
    );
    s.put_crate_indexes(&[
        ("serde".into(), None, vec![]),
        ("gone".into(), None, vec![]),
    ])
    .unwrap();
    assert_eq!(s.crate_index_cached("serde").unwrap(), Some((None, vec![])));
    assert_eq!(s.yanked_versions("gone").unwrap(), Some(vec![]));
    assert!(
        s.records_for(&[]).unwrap().yanked.is_empty(),
        "no yanked left"
    );
}

fn message(project: &str, channel: &str, event: &str) -> NewMessage {
    NewMessage {
        project: project.into(),
        channel: channel.into(),
        event: event.into(),
        payload: format!("{{\"to\":\"{channel}\"}}"),
    }
}

/// A project's memory round-trips typed, per project, by fingerprint; a row written again
/// replaces the old one; its messages are queued with it.
fn seen<S: AdvisoryStore + MonitorState>(s: &mut S) {
    assert!(s.seen("p").unwrap().is_empty());
    let open = SeenRow {
        fingerprint: "crates.io/b/RUSTSEC-1".into(),
        first_seen: ts("2026-12-01T10:00:00.123456Z"),
        last_seen: ts("2026-12-02T10:00:00Z"),
        resolved_at: None,
        state: "{\"severity\":\"high\"}".into(),
    };
    let closed = SeenRow {
        fingerprint: "PyPI/a/GHSA-1".into(),
        resolved_at: Some(ts("2026-12-02T10:00:00Z")),
        ..open.clone()
    };
    let now = ts("2026-12-02T10:00:00Z");
    s.record_run(
        "p",
        &[open.clone(), closed.clone()],
        &[message("p", "slack", "new")],
        now,
    )
    .unwrap();
    s.record_run("q", std::slice::from_ref(&open), &[], now)
        .unwrap();
    assert_eq!(s.seen("p").unwrap(), [closed.clone(), open.clone()]);
    // Every project's unresolved rows, by project then fingerprint: p's closed one left out.
    assert_eq!(
        s.unresolved().unwrap(),
        [
            ("p".to_string(), open.clone()),
            ("q".to_string(), open.clone())
        ]
    );
    let reopened = SeenRow {
        resolved_at: None,
        last_seen: ts("2026-12-03T10:00:00Z"),
        ..closed
    };
    s.record_run("p", std::slice::from_ref(&reopened), &[], now)
        .unwrap();
    assert_eq!(s.seen("p").unwrap(), [reopened, open.clone()]);
    assert_eq!(s.seen("q").unwrap(), [open]);
    let due = s.due_messages(now).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (
            due[0].project.as_str(),
            due[0].channel.as_str(),
            due[0].event.as_str()
        ),
        ("p", "slack", "new")
    );
    assert_eq!((due[0].attempts, due[0].last_error.as_deref()), (0, None));
}

/// Messages are due oldest first; a failure waits for its retry time; a sent one is never
/// due again.
fn outbox_delivery<S: AdvisoryStore + MonitorState>(s: &mut S) {
    let t0 = ts("2026-12-01T10:00:00Z");
    s.record_run(
        "p",
        &[],
        &[message("p", "slack", "new"), message("p", "email", "new")],
        t0,
    )
    .unwrap();
    let due = s.due_messages(t0).unwrap();
    let (first, second) = (due[0].id, due[1].id);
    assert_eq!(due[0].channel, "slack", "oldest first");
    s.mark_sent(first, t0).unwrap();
    let retry = ts("2026-12-01T10:05:00Z");
    s.mark_failed(second, "HTTP 500", Some(retry), t0).unwrap();
    assert!(
        s.due_messages(ts("2026-12-01T10:04:59Z"))
            .unwrap()
            .is_empty()
    );
    let again = s.due_messages(retry).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, second);
    assert_eq!(
        (again[0].attempts, again[0].last_error.as_deref()),
        (1, Some("HTTP 500"))
    );
    let sent_at = ts("2026-12-01T10:05:01Z");
    s.mark_sent(second, sent_at).unwrap();
    assert!(
        s.due_messages(ts("2027-01-01T00:00:00Z"))
            .unwrap()
            .is_empty()
    );
    let counts = s.outbox_counts().unwrap();
    assert_eq!((counts.sent, counts.pending, counts.given_up), (2, 0, 0));
    let all = s.messages().unwrap();
    assert_eq!(all[0].1, MessageState::Sent(t0));
    assert_eq!(all[1].1, MessageState::Sent(sent_at));
    assert_eq!(
        (all[1].0.attempts, all[1].0.last_error.as_deref()),
        (2, None)
    );
}

/// A failure with no retry time gives the message up: never due again, counted apart.
fn outbox_give_up<S: AdvisoryStore + MonitorState>(s: &mut S) {
    let t0 = ts("2026-12-01T10:00:00Z");
    s.record_run(
        "p",
        &[],
        &[message("p", "slack", "new"), message("p", "email", "new")],
        t0,
    )
    .unwrap();
    let id = s.due_messages(t0).unwrap()[0].id;
    let at = ts("2026-12-01T10:00:01Z");
    s.mark_failed(id, "HTTP 404", None, at).unwrap();
    let due = s.due_messages(ts("2027-01-01T00:00:00Z")).unwrap();
    assert_eq!(due.len(), 1);
    assert_ne!(due[0].id, id);
    let counts = s.outbox_counts().unwrap();
    assert_eq!((counts.sent, counts.pending, counts.given_up), (0, 1, 1));
    let all = s.messages().unwrap();
    assert_eq!(all[0].1, MessageState::GivenUp(at));
    assert_eq!(all[0].0.last_error.as_deref(), Some("HTTP 404"));
    assert_eq!(all[1].1, MessageState::Pending);
}

/// Runs: the latest started is the last run; its end is typed.
fn runs<S: AdvisoryStore + MonitorState>(s: &mut S) {
    assert_eq!(s.last_run().unwrap(), None);
    let t1 = ts("2026-12-01T10:00:00.5Z");
    let first = s.run_started(t1).unwrap();
    let r = s.last_run().unwrap().unwrap();
    assert_eq!((r.started_at, r.finished_at, r.outcome), (t1, None, None));
    let t2 = ts("2026-12-01T10:01:00Z");
    s.run_finished(first, t2, RunOutcome::Partial, "{\"x\":1}")
        .unwrap();
    let r = s.last_run().unwrap().unwrap();
    assert_eq!(
        (r.finished_at, r.outcome, r.summary.as_deref()),
        (Some(t2), Some(RunOutcome::Partial), Some("{\"x\":1}"))
    );
    let t3 = ts("2026-12-01T11:00:00Z");
    let second = s.run_started(t3).unwrap();
    assert_ne!(first, second);
    s.run_finished(second, t3, RunOutcome::Failed, "{}")
        .unwrap();
    let r = s.last_run().unwrap().unwrap();
    assert_eq!((r.started_at, r.outcome), (t3, Some(RunOutcome::Failed)));
}

/// Health rows round-trip typed and are replaced by component; their messages are queued
/// with them.
fn health<S: AdvisoryStore + MonitorState>(s: &mut S) {
    assert!(s.health().unwrap().is_empty());
    let row = HealthRow {
        component: "feed:osv-dir:/x".into(),
        failures: 3,
        first_failed_at: Some(ts("2026-12-01T09:00:00.25Z")),
        last_error: Some("gone".into()),
        alerted_at: Some(ts("2026-12-01T11:00:00Z")),
    };
    let other = HealthRow {
        component: "channel:email".into(),
        failures: 1,
        ..Default::default()
    };
    let now = ts("2026-12-01T11:00:00Z");
    s.record_health(
        &[row.clone(), other.clone()],
        &[message("depwatch", "slack", "health:failing")],
        now,
    )
    .unwrap();
    assert_eq!(s.health().unwrap(), [other.clone(), row.clone()]);
    assert_eq!(s.due_messages(now).unwrap().len(), 1);
    let healthy = HealthRow {
        component: row.component.clone(),
        ..Default::default()
    };
    s.record_health(std::slice::from_ref(&healthy), &[], now)
        .unwrap();
    assert_eq!(s.health().unwrap(), [other, healthy]);
}

fn kev_entry(cve: &str, added: &str) -> crate::feeds::signal::KevEntry {
    crate::feeds::signal::KevEntry {
        cve: cve.into(),
        vendor_project: "v".into(),
        product: "p".into(),
        date_added: added.parse().expect("a test date"),
        due_date: "2030-01-01".parse().expect("a test date"),
        known_ransomware_campaign_use: "Unknown".into(),
    }
}

/// KEV and EPSS sets: a sync replaces the whole set of its kind atomically; another source of
/// the same kind takes the set over; marks say their source and version; exploit-data
/// sources are not advisory sources.
fn signals<S: AdvisoryStore + MonitorState>(s: &mut S) {
    use crate::feeds::signal::{EpssFile, EpssRow, KevCatalog, SignalData};
    let cves = |v: &[&str]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    assert_eq!(
        s.signals_for(&cves(&["CVE-2020-0001"])).unwrap(),
        Default::default(),
        "an empty store has no exploit data"
    );
    let kev1 = SignalData::Kev(KevCatalog {
        catalog_version: "2025.08.25".into(),
        date_released: None,
        entries: vec![
            kev_entry("CVE-2020-0001", "2021-01-02"),
            kev_entry("CVE-2020-0002", "2021-01-03"),
        ],
    });
    let o = s.replace_signal(&state("kev"), &kev1).unwrap();
    assert_eq!((o.written, o.removed), (2, 0));
    let got = s
        .signals_for(&cves(&["CVE-2020-0001", "CVE-2099-9999"]))
        .unwrap();
    let k = &got.kev["CVE-2020-0001"];
    assert_eq!(
        (
            k.source.as_str(),
            k.catalog_version.as_str(),
            k.date_added.to_string()
        ),
        ("kev", "2025.08.25", "2021-01-02".to_string())
    );
    assert_eq!(got.kev.len(), 1);
    assert_eq!(s.source_state("kev").unwrap().unwrap().records, 2);
    // The next catalog replaces the set: what it no longer lists is gone.
    let kev2 = SignalData::Kev(KevCatalog {
        catalog_version: "2026.01.29".into(),
        date_released: None,
        entries: vec![kev_entry("CVE-2020-0002", "2021-01-03")],
    });
    let o = s.replace_signal(&state("kev"), &kev2).unwrap();
    assert_eq!((o.written, o.removed), (1, 1));
    let got = s
        .signals_for(&cves(&["CVE-2020-0001", "CVE-2020-0002"]))
        .unwrap();
    assert_eq!(got.kev.keys().collect::<Vec<_>>(), ["CVE-2020-0002"]);
    assert_eq!(got.kev["CVE-2020-0002"].catalog_version, "2026.01.29");
    // EPSS: a separate set; a second source of the kind takes it over.
    let epss = |src: &str, score: f64| {
        (
            state(src),
            SignalData::Epss(EpssFile {
                model_version: Some("v2025.03.14".into()),
                score_date: Some(jiff::civil::date(2026, 1, 30)),
                rows: vec![EpssRow {
                    cve: "CVE-2020-0002".into(),
                    score,
                    percentile: 0.5,
                }],
            }),
        )
    };
    let (st, d) = epss("epss", 2e-05);
    s.replace_signal(&st, &d).unwrap();
    let (st, d) = epss("epss:/x.csv.gz", 0.94579);
    s.replace_signal(&st, &d).unwrap();
    let got = s.signals_for(&cves(&["CVE-2020-0002"])).unwrap();
    let e = &got.epss["CVE-2020-0002"];
    assert_eq!((e.score, e.source.as_str()), (0.94579, "epss:/x.csv.gz"));
    assert_eq!(e.score_date, Some(jiff::civil::date(2026, 1, 30)));
    assert!(got.kev.contains_key("CVE-2020-0002"), "EPSS left KEV alone");
    assert!(
        s.source_state("epss").unwrap().is_none(),
        "the source whose set was taken over is gone"
    );
    // Exploit-data sources are not advisory sources.
    s.replace_source(&state("a"), &[adv("A-1", "t1", &[("PyPI", "x")])], &[])
        .unwrap();
    let r = s.records_for(&[(Ecosystem::PyPI, "x".into())]).unwrap();
    let names: Vec<&str> = r.sources.iter().map(|x| x.source.as_str()).collect();
    assert_eq!(names, ["a"]);
}

/// Held events are kept per project in order with the run's memory; queueing a digest deletes
/// exactly the ids it names (not one held since), queues its messages and records its time,
/// together.
fn digest<S: AdvisoryStore + MonitorState>(s: &mut S) {
    let held = |event: &str| NewHeld {
        event: event.into(),
        item: format!("{{\"kind\":\"{event}\"}}"),
    };
    let row = SeenRow {
        fingerprint: "PyPI/a/GHSA-1".into(),
        first_seen: ts("2026-12-01T10:00:00Z"),
        last_seen: ts("2026-12-01T10:00:00Z"),
        resolved_at: None,
        state: "{}".into(),
    };
    let t1 = ts("2026-12-01T10:00:00Z");
    assert_eq!(s.last_digest("p").unwrap(), None);
    s.record_run_held(
        "p",
        std::slice::from_ref(&row),
        &[message("p", "slack", "new")],
        &[held("new"), held("resolved")],
        t1,
    )
    .unwrap();
    s.record_run_held("q", &[], &[], &[held("fix_available")], t1)
        .unwrap();
    assert_eq!(s.seen("p").unwrap(), [row]);
    let p = s.held("p").unwrap();
    let names: Vec<&str> = p.iter().map(|h| h.event.as_str()).collect();
    assert_eq!(names, ["new", "resolved"], "in the order held");
    assert_eq!((p[0].project.as_str(), p[0].held_at), ("p", t1));
    assert_eq!(p[0].item, "{\"kind\":\"new\"}");
    assert_eq!(s.due_messages(t1).unwrap().len(), 1, "the urgent message");

    // One more is held after the digest was composed from the first two: it stays.
    let t2 = ts("2026-12-01T11:00:00Z");
    s.record_run_held("p", &[], &[], &[held("severity_changed")], t2)
        .unwrap();
    let t3 = ts("2026-12-07T09:00:00Z");
    let ids: Vec<i64> = p.iter().map(|h| h.id).collect();
    s.queue_digest("p", &ids, &[message("p", "email", "digest")], t3)
        .unwrap();
    let left = s.held("p").unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(
        (left[0].event.as_str(), left[0].held_at),
        ("severity_changed", t2)
    );
    assert_eq!(
        s.held("q").unwrap().len(),
        1,
        "another project's are untouched"
    );
    assert_eq!(s.last_digest("p").unwrap(), Some(t3));
    assert_eq!(s.last_digest("q").unwrap(), None);
    let due = s.due_messages(t3).unwrap();
    assert_eq!(due.len(), 2);
    assert_eq!(
        (due[1].channel.as_str(), due[1].event.as_str()),
        ("email", "digest")
    );
    let t4 = ts("2026-12-14T09:00:00Z");
    s.queue_digest("p", &[left[0].id], &[], t4).unwrap();
    assert!(s.held("p").unwrap().is_empty());
    assert_eq!(s.last_digest("p").unwrap(), Some(t4));
}

/// Issue 15: a sync stamps exactly the packages it wrote or removed (old and new versions of
/// a record), a no-op sync stamps nothing, a KEV replacement stamps everything, and a
/// project's remembered input round-trips.
fn change_generations<S: AdvisoryStore + MonitorState>(s: &mut S) {
    use crate::feeds::signal::{KevCatalog, SignalData};
    let key = |e: &str, n: &str| (e.to_string(), n.to_string());
    let gens = |s: &S| s.change_generations().unwrap().expect("generations kept");
    assert_eq!(gens(s).current, 0, "a new store");
    let a1 = adv("GHSA-a", "2024-01-01T00:00:00Z", &[("PyPI", "requests")]);
    let b1 = adv("GHSA-b", "2024-01-01T00:00:00Z", &[("crates.io", "time")]);
    s.replace_source(&state("x"), &[a1.clone(), b1.clone()], &[])
        .unwrap();
    let g1 = gens(s);
    assert!(g1.current > 0);
    assert_eq!(g1.packages[&key("PyPI", "requests")], g1.current);
    assert_eq!(g1.packages[&key("crates.io", "time")], g1.current);
    let requests = [key("PyPI", "requests")];
    assert!(!g1.changed_since(g1.current, &requests));
    // The same records again: nothing changes.
    s.replace_source(&state("x"), &[a1.clone(), b1.clone()], &[])
        .unwrap();
    assert_eq!(gens(s), g1, "a no-op sync bumps nothing");
    // GHSA-a moves from requests to urllib3: both packages are stamped, `time` is not.
    let a2 = adv("GHSA-a", "2024-02-01T00:00:00Z", &[("PyPI", "urllib3")]);
    s.upsert_source(&state("x"), std::slice::from_ref(&a2), &[])
        .unwrap();
    let g2 = gens(s);
    assert!(g2.current > g1.current);
    assert_eq!(g2.packages[&key("PyPI", "requests")], g2.current);
    assert_eq!(g2.packages[&key("PyPI", "urllib3")], g2.current);
    assert_eq!(g2.packages[&key("crates.io", "time")], g1.current);
    assert!(g2.changed_since(g1.current, &requests));
    assert!(!g2.changed_since(g1.current, &[key("crates.io", "time")]));
    // A whole-source replace that drops GHSA-b stamps `time` only.
    s.replace_source(&state("x"), &[a2], &[]).unwrap();
    let g3 = gens(s);
    assert_eq!(g3.packages[&key("crates.io", "time")], g3.current);
    assert_eq!(g3.packages[&key("PyPI", "urllib3")], g2.current);
    // KEV: every project.
    let kev = SignalData::Kev(KevCatalog {
        catalog_version: "1".into(),
        date_released: None,
        entries: vec![kev_entry("CVE-2020-0001", "2021-01-02")],
    });
    s.replace_signal(&state("kev"), &kev).unwrap();
    let g4 = gens(s);
    assert_eq!(g4.everything, g4.current);
    assert!(g4.changed_since(g3.current, &[]));

    assert_eq!(s.project_input("p").unwrap(), None);
    let input = super::ProjectInput {
        hash: "ab".repeat(32),
        generation: g4.current,
        packages: vec![key("PyPI", "requests"), key("crates.io", "time")],
    };
    s.set_project_input("p", Some(&input)).unwrap();
    assert_eq!(s.project_input("p").unwrap(), Some(input.clone()));
    let newer = super::ProjectInput {
        generation: g4.current + 1,
        ..input
    };
    s.set_project_input("p", Some(&newer)).unwrap();
    assert_eq!(s.project_input("p").unwrap(), Some(newer));
    s.set_project_input("p", None).unwrap();
    assert_eq!(s.project_input("p").unwrap(), None);
}

fn tokens<S: AdvisoryStore + MonitorState>(s: &mut S) {
    use crate::store::TokenScope;
    let t1 = ts("2026-12-01T10:00:00Z");
    let t2 = ts("2026-12-02T10:00:00.123456Z");
    assert!(s.tokens().unwrap().is_empty());
    let a = s
        .create_token("p", TokenScope::Submit, &[1u8; 32], t1)
        .unwrap();
    let b = s
        .create_token("*", TokenScope::Read, &[2u8; 32], t1)
        .unwrap();
    assert_ne!(a, b);
    assert!(
        s.create_token("q", TokenScope::Submit, &[1u8; 32], t1)
            .is_err(),
        "a hash is unique"
    );
    let all = s.tokens().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        (all[0].id, all[0].project.as_str(), all[0].scope),
        (a, "p", TokenScope::Submit)
    );
    assert_eq!(
        (all[0].hash.as_slice(), all[0].created_at),
        (&[1u8; 32][..], t1)
    );
    assert_eq!(all[1].scope, TokenScope::Read);
    assert!(s.revoke_token(a, t2).unwrap());
    assert!(!s.revoke_token(a, t2).unwrap(), "already revoked");
    assert!(!s.revoke_token(9999, t2).unwrap(), "no such token");
    let all = s.tokens().unwrap();
    assert_eq!(all[0].revoked_at, Some(t2), "kept to the microsecond");
    assert_eq!(all[1].revoked_at, None);
}

/// The daily history is written with the run's memory; a later run of the same day replaces
/// that day's counts whole (a severity gone to zero leaves no row); all projects are summed
/// when no project is named; days before `since` are left out.
fn daily_open<S: AdvisoryStore + MonitorState>(s: &mut S) {
    use crate::severity::Level;
    let day = |d: &str| d.parse::<jiff::civil::Date>().unwrap();
    let c = |d: &str, severity: Level, open: u32| DailyOpen {
        day: day(d),
        severity,
        open,
    };
    let on = |d: &str, counts: &[(Level, u32)]| DayOpen {
        day: day(d),
        counts: counts.to_vec(),
        summary: format!("{{\"as of\":\"{d}\",\"open\":{}}}", counts.len()),
    };
    let row = SeenRow {
        fingerprint: "PyPI/a/GHSA-1".into(),
        first_seen: ts("2026-12-01T10:00:00Z"),
        last_seen: ts("2026-12-01T10:00:00Z"),
        resolved_at: None,
        state: "{}".into(),
    };
    let t1 = ts("2026-12-01T10:00:00Z");
    s.record_run_daily(
        "p",
        std::slice::from_ref(&row),
        &[],
        &[],
        Some(&on("2026-12-01", &[(Level::High, 2), (Level::Low, 1)])),
        t1,
    )
    .unwrap();
    assert_eq!(
        s.seen("p").unwrap(),
        std::slice::from_ref(&row),
        "the memory in the same call"
    );
    s.record_run_daily(
        "q",
        &[],
        &[],
        &[],
        Some(&on("2026-12-01", &[(Level::High, 3)])),
        t1,
    )
    .unwrap();
    // Later the same day: p's low finding is gone.
    let t2 = ts("2026-12-01T18:00:00Z");
    s.record_run_daily(
        "p",
        &[],
        &[],
        &[],
        Some(&on("2026-12-01", &[(Level::High, 1)])),
        t2,
    )
    .unwrap();
    // A run that leaves the history alone (`record_run_held`) changes nothing.
    s.record_run_held("p", &[], &[], &[], t2).unwrap();
    let summaries = |s: &S| s.open_summaries().unwrap();
    assert_eq!(
        summaries(s),
        [
            (
                "p".to_string(),
                on("2026-12-01", &[(Level::High, 1)]).summary
            ),
            (
                "q".to_string(),
                on("2026-12-01", &[(Level::High, 3)]).summary
            ),
        ],
        "each project's last summary"
    );
    let t3 = ts("2026-12-02T10:00:00Z");
    s.record_run_daily(
        "p",
        &[],
        &[],
        &[],
        Some(&on("2026-12-02", &[(Level::Critical, 1), (Level::High, 1)])),
        t3,
    )
    .unwrap();
    // q fixed everything on the 2nd: a day with nothing open clears its earlier counts.
    s.record_run_daily(
        "q",
        &[],
        &[],
        &[],
        Some(&on("2026-12-02", &[(Level::Medium, 5)])),
        t3,
    )
    .unwrap();
    s.record_run_daily("q", &[], &[], &[], Some(&on("2026-12-02", &[])), t3)
        .unwrap();
    assert_eq!(summaries(s)[1].1, on("2026-12-02", &[]).summary);
    // Memory written without a summary drops the project's old one (no longer true).
    s.record_run_held("q", std::slice::from_ref(&row), &[], &[], t3)
        .unwrap();
    assert_eq!(summaries(s).len(), 1, "only p's summary left");
    assert_eq!(
        s.daily_open(Some("p"), day("2026-11-01")).unwrap(),
        [
            c("2026-12-01", Level::High, 1),
            c("2026-12-02", Level::Critical, 1),
            c("2026-12-02", Level::High, 1),
        ]
    );
    assert_eq!(
        s.daily_open(None, day("2026-11-01")).unwrap(),
        [
            c("2026-12-01", Level::High, 4),
            c("2026-12-02", Level::Critical, 1),
            c("2026-12-02", Level::High, 1),
        ],
        "summed over projects"
    );
    assert_eq!(
        s.daily_open(Some("p"), day("2026-12-02")).unwrap().len(),
        2,
        "since is inclusive, earlier days left out"
    );
    assert!(
        s.daily_open(Some("none"), day("2026-11-01"))
            .unwrap()
            .is_empty()
    );
}
