//! Integration tests: run the real binary on real files from `../shared`.

mod sources;
mod util;
