//! Integration tests: run the real binary (and the library's public API) on real files from
//! `../shared`, against real peers on 127.0.0.1.
//!
//! A file is named for the module it tests (`src/feeds/ghsa.rs` -> `feeds_ghsa.rs`,
//! `src/run/` -> `run*.rs`); tests of a concern that crosses modules are named for the
//! concern. Every helper used by two files is in [`support`], once.
//!
//! | file | tests |
//! |---|---|
//! | `support/` | the shared helpers: corpus paths, the binary, loopback HTTP/SMTP/GitHub/OSV peers, clients, config pieces, files |
//! | `net.rs` | `net`: the one HTTP client on its own |
//! | `manifests.rs` | `manifests`: what `scan` reads, parser cases checked against pip and Cargo |
//! | `feeds_local.rs` | `feeds` local sources: the real RustSec and PyPA snapshots, OSV zips |
//! | `feeds_osv_export.rs` | `feeds::osv_export` against a loopback export |
//! | `feeds_osv_api.rs` | `feeds::osv_api` against a loopback API |
//! | `feeds_ghsa.rs` | `feeds::ghsa`, the GitHub advisories REST client |
//! | `feeds_rustsec_archive.rs` | `feeds::rustsec_archive`, the advisory-db zip |
//! | `feeds_crates_index.rs` | `feeds::crates_index`, yanked flags from the sparse index |
//! | `store.rs` | `store`: import, no-op syncs, SIGKILL, concurrent sync and scan |
//! | `store_db_check.rs` | `store` integrity check, `depwatch db check` |
//! | `postgres_watchers.rs` | three watchers on one PostgreSQL store, the cycle holder SIGKILLed mid-send: every alert arrives, at most the one in flight twice |
//! | `postgres_tls.rs` | `sslmode=require` against a real TLS PostgreSQL server: the operator's root (`sslrootcert`), a foreign certificate and a server without TLS refused |
//! | `postgres.rs` | the PostgreSQL store through the binary: `db copy`, scans equal to SQLite's, KEV/EPSS and digests on PostgreSQL, the cycle lock across processes |
//! | `matcher.rs` | `matcher`: one verdict per record, merged findings' titles and severity |
//! | `matcher_range_ends.rs` | `matcher`: where a range ends, which versions are fixes |
//! | `policy.rs` | `policy`: `policy show` on the five real SECURITY.md files |
//! | `policy_trust.rs` | `policy`: figures cite their lines, disclosure never before the fix |
//! | `publish_drafts.rs` | `publish::draft` / `publish::github`: the GitHub advisory drafts of `run` and `publish` |
//! | `publish_slack.rs` | `publish::slack` against a loopback webhook |
//! | `publish_email.rs` | `publish::email` against a real SMTP server |
//! | `publish_github.rs` | `publish::github` against a loopback advisories API |
//! | `scan_rust.rs`, `scan_python.rs` | `scan` of the corpus, compared with cargo-audit and by hand |
//! | `scan_consistency.rs` | `scan`: one `via` rule, workspace path crates |
//! | `scan_peers.rs` | `scan` and `peer_ignores`: cargo-audit / osv-scanner ignores, `--deny` |
//! | `scan_online.rs` | `scan --online` against a loopback OSV API equals the store's answer |
//! | `sync.rs` | `sync` of the remote feeds from loopback servers |
//! | `sync_conversion_refresh.rs` | `sync` rewriting records of an older conversion; fixes from two copies of a record |
//! | `notes.rs` | `notes`: release notes between two git revisions |
//! | `health.rs` | `health`: failing and recovered feeds, projects and channels |
//! | `status.rs` | `status`: deadlines in the configured zone |
//! | `dashboard.rs` | issue 16's dashboard: `depwatch dashboard` of a seeded store in headless Chromium, screenshots; the same pages from PostgreSQL after `db copy` and a cycle |
//! | `run.rs` | `run`: the monitor cycle on the real projects, delivery, drafts, locks |
//! | `run_outbox.rs` | `run`'s outbox: permanent and transient delivery failures |
//! | `run_broken_checkout.rs` | `run`: one broken checkout fails only its project |
//! | `run_incremental.rs` | `run`: unchanged projects not rescanned, deadlines still evaluated, exactly the changed ones rescanned |
//! | `vex.rs` | `vex` and `vexdoc`: OpenVEX in (suppression, contradictions) and out (`depwatch vex`), until-fix ignores |
//! | `sbom.rs` | `sbom` and the `cyclonedx` manifest format: CycloneDX 1.6 out (schema, determinism), SBOMs in, the round trip |
//! | `watch.rs` | `watch` as a process: schedules, the cycle lock, SIGTERM |
//! | `server.rs` | `serve` and `submit` over real HTTP: submissions, reads, tokens, bounds, rate limits, metrics, SIGTERM |
//! | `registries.rs` | the manifest-format and source-kind registries against the CLI |
//! | `runtime.rs` | the library's async entry points on the caller's runtime |
//! | `architecture.rs` | the layers of `docs/ARCHITECTURE.md`, on the source |
//! | `workflows.rs` | the workflow files, the Dockerfile, compose, `.ci/run` |
//! | `hostile.rs` | issue 12: secrets, closed stdout, read-only stores, forged markers, symlinks |
//! | `hostile_resources.rs` | issue 12: memory, time and size bounds (FIFOs, floods, trickling mirrors) |
//! | `hostile_output.rs` | issue 12: control characters from a feed reach no human output |
//! | `malicious.rs` | OSV `MAL-` records: the malicious marker and advice, dependency confusion, withdrawn records, the watcher's fast lane |
//! | `malformed.rs` | broken manifests, records, archives and configs: named errors, no panic |
//! | `props.rs` | property tests of the parsers and the matcher |
//! | `digest.rs` | `monitor::digest` and the digest delivery: quiet scopes, loopback Slack and SMTP, faults |
//! | `digest_warnings.rs` | issue 14 §4: warnings and range risks as digest events, quiet without a digest |
//! | `environments.rs` | `environment`: declared target environments, PEP 508 markers, `--fail-scope` |
//! | `kev_epss.rs` | `feeds::signal` and the exploit join: CISA KEV and FIRST EPSS on the real files |
//! | `fuzz.rs` | a few seconds of the mutation fuzzer |
//! | `layout.rs` | this map: every file of `tests/it/` in it once |

mod support;

mod architecture;
mod dashboard;
mod digest;
mod digest_warnings;
mod environments;
mod feeds_crates_index;
mod feeds_ghsa;
mod feeds_local;
mod feeds_osv_api;
mod feeds_osv_export;
mod feeds_rustsec_archive;
mod fuzz;
mod health;
mod hostile;
mod hostile_output;
mod hostile_resources;
mod kev_epss;
mod layout;
mod malformed;
mod malicious;
mod manifests;
mod matcher;
mod matcher_range_ends;
mod net;
mod notes;
mod policy;
mod policy_trust;
mod postgres;
mod postgres_tls;
mod postgres_watchers;
mod props;
mod publish_drafts;
mod publish_email;
mod publish_github;
mod publish_slack;
mod registries;
mod run;
mod run_broken_checkout;
mod run_incremental;
mod run_outbox;
mod runtime;
mod sbom;
mod scan_consistency;
mod scan_online;
mod scan_peers;
mod scan_python;
mod scan_rust;
mod server;
mod status;
mod store;
mod store_db_check;
mod sync;
mod sync_conversion_refresh;
mod vex;
mod watch;
mod workflows;

// The helpers' paths before `support` (util, loopback, channels), for test files written
// against them on branches still in flight; new code names `crate::support`.
#[allow(unused_imports)]
use support as util;
#[allow(unused_imports)]
use support::loopback;
#[allow(unused_imports)]
mod channels {
    pub(crate) use crate::support::github::{FakeGithub, TOKEN};
    pub(crate) use crate::support::smtp::SmtpServer;
}
