//! TODO(helper): trusted workspace resolution through cargo metadata.
