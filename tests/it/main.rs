//! Integration tests: run the real binary on real files from `../shared`.

mod broken_checkout;
mod channels;
mod feeds_ghsa;
mod feeds_osv;
mod health;
mod hostile_output;
mod http;
mod loopback;
mod malformed;
mod monitor_run;
mod notes;
mod online;
mod policy;
mod props;
mod scan_python;
mod scan_rust;
mod sources;
mod status_zone;
mod store;
mod sync_remote;
mod trust_policy;
mod util;
mod watch;
mod workflows;
