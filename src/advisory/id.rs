//! Advisory ids: the one place that knows what an id's prefix means, how ids rank as the
//! display id, and which page an id links to (as rustsec's `advisory/id.rs` does).

use crate::ecosystem::Ecosystem;

/// The database an id belongs to, by its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// `RUSTSEC-`: the RustSec advisory database.
    RustSec,
    /// `PYSEC-`: the PyPA advisory database.
    PySec,
    /// `GHSA-`: the GitHub advisory database.
    Ghsa,
    /// `CVE-`: a CVE record.
    Cve,
    /// `MAL-`: OSV's malicious-packages database.
    Malware,
    /// Any other prefix.
    Other,
}

/// An advisory id (`RUSTSEC-2024-0336`, `GHSA-…`, `CVE-…`), borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdvisoryId<'a>(&'a str);

impl<'a> AdvisoryId<'a> {
    /// Wrap an id as given.
    pub fn new(id: &'a str) -> Self {
        Self(id)
    }

    /// The id as given.
    pub fn as_str(self) -> &'a str {
        self.0
    }

    /// Which database the id belongs to.
    pub fn kind(self) -> IdKind {
        let id = self.0;
        if id.starts_with("RUSTSEC-") {
            IdKind::RustSec
        } else if id.starts_with("PYSEC-") {
            IdKind::PySec
        } else if id.starts_with("GHSA-") {
            IdKind::Ghsa
        } else if id.starts_with("CVE-") {
            IdKind::Cve
        } else if id.starts_with("MAL-") {
            IdKind::Malware
        } else {
            IdKind::Other
        }
    }

    /// Rank as display id, lowest first: the ecosystem's own database, then GHSA, then CVE,
    /// then the rest (uv's `best_id`: PYSEC > GHSA > CVE for Python; RUSTSEC > GHSA > CVE
    /// for Rust).
    pub fn rank(self, ecosystem: Ecosystem) -> u8 {
        match (self.kind(), ecosystem) {
            (IdKind::RustSec, Ecosystem::CratesIo) | (IdKind::PySec, Ecosystem::PyPI) => 0,
            (IdKind::Ghsa, _) => 1,
            (IdKind::Cve, _) => 2,
            _ => 3,
        }
    }

    /// The id's page on its own database; `None` for a prefix depwatch does not know, where a
    /// guessed link could point nowhere. A CVE links to NVD, which has a page for every
    /// published CVE (osv.dev only for those it imported).
    pub fn url(self) -> Option<String> {
        let id = self.0;
        match self.kind() {
            IdKind::RustSec => Some(format!("https://rustsec.org/advisories/{id}.html")),
            IdKind::Ghsa => Some(format!("https://github.com/advisories/{id}")),
            IdKind::Cve => Some(format!("https://nvd.nist.gov/vuln/detail/{id}")),
            IdKind::PySec | IdKind::Malware => Some(format!("https://osv.dev/vulnerability/{id}")),
            IdKind::Other => None,
        }
    }

    /// A well-formed CVE id: `CVE-YYYY-NNNN` (four or more digits).
    pub fn is_well_formed_cve(self) -> bool {
        let Some(rest) = self.0.strip_prefix("CVE-") else {
            return false;
        };
        let Some((year, num)) = rest.split_once('-') else {
            return false;
        };
        year.len() == 4
            && year.bytes().all(|b| b.is_ascii_digit())
            && num.len() >= 4
            && num.bytes().all(|b| b.is_ascii_digit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Before one table, a CVE got no link in a report, osv.dev in SARIF and markdown, and NVD
    /// in drafts.
    #[test]
    fn one_url_per_id_kind() {
        let url = |id| AdvisoryId::new(id).url();
        assert_eq!(
            url("CVE-2024-35195").as_deref(),
            Some("https://nvd.nist.gov/vuln/detail/CVE-2024-35195")
        );
        assert_eq!(
            url("RUSTSEC-2024-0336").as_deref(),
            Some("https://rustsec.org/advisories/RUSTSEC-2024-0336.html")
        );
        assert_eq!(
            url("GHSA-9wx4-h78v-vm56").as_deref(),
            Some("https://github.com/advisories/GHSA-9wx4-h78v-vm56")
        );
        assert_eq!(
            url("PYSEC-2024-1").as_deref(),
            Some("https://osv.dev/vulnerability/PYSEC-2024-1")
        );
        assert_eq!(
            url("MAL-2024-1").as_deref(),
            Some("https://osv.dev/vulnerability/MAL-2024-1")
        );
        assert_eq!(url("LOCAL-1"), None);
    }

    #[test]
    fn own_database_ranks_first() {
        let rank = |id, eco| AdvisoryId::new(id).rank(eco);
        assert!(rank("RUSTSEC-1", Ecosystem::CratesIo) < rank("GHSA-x", Ecosystem::CratesIo));
        assert!(rank("PYSEC-1", Ecosystem::PyPI) < rank("GHSA-x", Ecosystem::PyPI));
        assert!(rank("GHSA-x", Ecosystem::PyPI) < rank("CVE-1", Ecosystem::PyPI));
        assert_eq!(rank("RUSTSEC-1", Ecosystem::PyPI), 3);
        assert!(AdvisoryId::new("CVE-2024-1234").is_well_formed_cve());
        assert!(!AdvisoryId::new("CVE-24-1234").is_well_formed_cve());
    }
}
