//! TODO(helper): requirements_txt parser.

use super::{Manifest, ManifestError};
use std::path::Path;

/// Parse the file.
pub fn parse(path: &Path) -> Result<Manifest, ManifestError> {
    Err(ManifestError::parse(path, None, "format not implemented yet"))
}
