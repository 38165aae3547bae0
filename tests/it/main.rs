//! Integration tests: run the real binary on real files from `../shared`.

mod channels;
mod feeds_ghsa;
mod feeds_osv;
mod fuzz;
mod health;
mod http;
mod loopback;
mod malformed;
mod matching;
mod monitor_run;
mod notes;
mod online;
mod policy;
mod props;
mod scan_python;
mod scan_rust;
mod sources;
mod store;
mod sync_remote;
mod trust_policy;
mod util;
mod watch;
mod workflows;
