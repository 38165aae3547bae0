//! depwatch: a dependency and supply-chain advisory monitor for Rust and Python projects.
//!
//! Data flows one way: advisory sources -> advisory database -> matcher -> report -> renderers.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod advisory;
pub mod blocking;
pub mod config;
pub mod dashboard;
pub mod database;
pub mod ecosystem;
pub mod environment;
pub mod feeds;
pub mod fsread;
pub mod health;
pub mod manifests;
pub mod matcher;
pub mod monitor;
pub mod net;
pub mod notes;
pub mod peer_ignores;
pub mod policy;
pub mod publish;
pub mod render;
pub mod report;
pub mod run;
pub mod scan;
pub mod schedule;
pub mod secret;
pub mod server;
pub mod severity;
pub mod status;
pub mod store;
pub mod sync;
pub mod text;
pub mod vex;
pub mod vexdoc;
pub mod watch;
