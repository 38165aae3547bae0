//! `depwatch notes`: the security section of release notes between two git revisions.
//! OWNED BY A HELPER (release notes).
