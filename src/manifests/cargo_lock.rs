//! TODO(helper): Cargo.lock parser.

use super::{Manifest, ManifestError, ParseOptions};
use std::path::Path;

/// Parse the file.
pub fn parse(path: &Path, _opts: &ParseOptions) -> Result<Manifest, ManifestError> {
    Err(ManifestError::parse(path, None, "format not implemented yet"))
}
