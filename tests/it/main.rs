//! Integration tests: run the real binary on real files from `../shared`.

mod scan_python;
mod scan_rust;
mod sources;
mod store;
mod util;
