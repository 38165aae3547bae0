//! Severity levels from CVSS vectors (v3.x, v4.0 via the `cvss` crate) or a source's label.

use crate::advisory::Advisory;
use std::str::FromStr;

/// A severity level, ordered from least to most severe.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// No score and no label.
    Unknown,
    /// CVSS 0.1-3.9.
    Low,
    /// CVSS 4.0-6.9 (GHSA "moderate").
    Medium,
    /// CVSS 7.0-8.9.
    High,
    /// CVSS 9.0-10.0.
    Critical,
}

impl Level {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// The level of a CVSS base score.
    pub fn from_score(score: f64) -> Self {
        match score {
            s if s >= 9.0 => Self::Critical,
            s if s >= 7.0 => Self::High,
            s if s >= 4.0 => Self::Medium,
            s if s > 0.0 => Self::Low,
            _ => Self::Unknown,
        }
    }

    /// Parse a label (`critical`, `high`, `moderate`/`medium`, `low`); anything else is unknown.
    pub fn from_label(label: &str) -> Self {
        match label.trim().to_ascii_lowercase().as_str() {
            "critical" => Self::Critical,
            "high" => Self::High,
            "moderate" | "medium" => Self::Medium,
            "low" => Self::Low,
            _ => Self::Unknown,
        }
    }
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "critical" => Ok(Self::Critical),
            "high" => Ok(Self::High),
            "medium" | "moderate" => Ok(Self::Medium),
            "low" => Ok(Self::Low),
            "unknown" | "none" | "any" => Ok(Self::Unknown),
            other => Err(format!(
                "unknown severity level {other:?} (expected critical, high, medium, low or unknown)"
            )),
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The CVSS base score of one vector (`CVSS:3.1/...`, `CVSS:4.0/...`); `None` for v2 vectors
/// (the `cvss` 2.x crate has no v2) and anything unparsable.
pub fn cvss_score(vector: &str) -> Option<f64> {
    cvss::Cvss::from_str(vector.trim()).ok().map(|c| c.score())
}

/// Assess a record: the highest CVSS v3/v4 base score among its vectors, else its label
/// (GHSA `database_specific.severity`).
pub fn assess(advisory: &Advisory) -> (Level, Option<f64>) {
    let score = advisory
        .severity
        .iter()
        .filter(|s| s.kind.starts_with("CVSS_V3") || s.kind.starts_with("CVSS_V4"))
        .filter_map(|s| cvss_score(&s.score))
        .fold(None, |best: Option<f64>, s| {
            Some(best.map_or(s, |b| b.max(s)))
        });
    match score {
        Some(s) => (Level::from_score(s), Some(s)),
        None => (
            advisory
                .severity_label()
                .map(|l| Level::from_label(&l))
                .unwrap_or(Level::Unknown),
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvss_v3_and_v4_scores() {
        assert_eq!(
            cvss_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            Some(9.8)
        );
        let v4 =
            cvss_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N").unwrap();
        assert!((v4 - 9.3).abs() < 0.01, "{v4}");
        assert_eq!(cvss_score("AV:N/AC:L/Au:N/C:P/I:P/A:P"), None);
        assert_eq!(Level::from_score(9.8), Level::Critical);
        assert_eq!(Level::from_score(6.9), Level::Medium);
        assert_eq!(Level::from_label("MODERATE"), Level::Medium);
    }
}
