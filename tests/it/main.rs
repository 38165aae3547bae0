//! Integration tests: run the real binary on real files from `../shared`.

mod malformed;
mod props;
mod scan_python;
mod scan_rust;
mod sources;
mod store;
mod util;
