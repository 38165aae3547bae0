//! Severity levels from CVSS vectors (v3.x, v4.0 via the `cvss` crate; v2 computed here, as
//! the crate has no v2) or a source's label.

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

    /// The level of a CVSS v2 base score by NVD's v2 bands (v2 has no "critical"): 0.0-3.9 low,
    /// 4.0-6.9 medium, 7.0-10.0 high.
    pub fn from_v2_score(score: f64) -> Self {
        match score {
            s if s >= 7.0 => Self::High,
            s if s >= 4.0 => Self::Medium,
            _ => Self::Low,
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

/// The CVSS base score of one v3.x / v4.0 vector (`CVSS:3.1/...`, `CVSS:4.0/...`); `None` for
/// v2 vectors (see [`cvss_v2_score`]) and anything unparsable.
pub fn cvss_score(vector: &str) -> Option<f64> {
    cvss::Cvss::from_str(vector.trim()).ok().map(|c| c.score())
}

/// The CVSS v2 base score of a vector such as `AV:N/AC:L/Au:N/C:P/I:P/A:P` (NVD also writes it
/// in parentheses; a `CVSS:2.0/` prefix is accepted). Temporal and environmental metrics may
/// follow and do not change the base score. `None` when a base metric is missing, repeated or
/// has an unknown value, or a metric is unknown.
///
/// The base equation of the CVSS v2 specification (section 3.2.1):
/// ```text
/// Impact         = 10.41 * (1 - (1 - C) * (1 - I) * (1 - A))
/// Exploitability = 20 * AV * AC * Au
/// f(Impact)      = 0 if Impact = 0, else 1.176
/// BaseScore      = round_to_1_decimal(((0.6 * Impact) + (0.4 * Exploitability) - 1.5) * f(Impact))
/// ```
pub fn cvss_v2_score(vector: &str) -> Option<f64> {
    let v = vector.trim();
    let v = v
        .strip_prefix('(')
        .and_then(|v| v.strip_suffix(')'))
        .unwrap_or(v);
    let v = v.strip_prefix("CVSS:2.0/").unwrap_or(v);
    // AV, AC, Au, C, I, A in that order.
    let mut base: [Option<f64>; 6] = [None; 6];
    for part in v.split('/') {
        let (metric, value) = part.split_once(':')?;
        let (slot, weight) = match (metric, value) {
            ("AV", "L") => (0, 0.395),
            ("AV", "A") => (0, 0.646),
            ("AV", "N") => (0, 1.0),
            ("AC", "H") => (1, 0.35),
            ("AC", "M") => (1, 0.61),
            ("AC", "L") => (1, 0.71),
            ("Au", "M") => (2, 0.45),
            ("Au", "S") => (2, 0.56),
            ("Au", "N") => (2, 0.704),
            ("C" | "I" | "A", "N") => (impact_slot(metric), 0.0),
            ("C" | "I" | "A", "P") => (impact_slot(metric), 0.275),
            ("C" | "I" | "A", "C") => (impact_slot(metric), 0.660),
            // Temporal and environmental metrics: not part of the base score.
            ("E" | "RL" | "RC" | "CDP" | "TD" | "CR" | "IR" | "AR", _) => continue,
            _ => return None,
        };
        if base[slot].replace(weight).is_some() {
            return None;
        }
    }
    let [Some(av), Some(ac), Some(au), Some(c), Some(i), Some(a)] = base else {
        return None;
    };
    let impact = 10.41 * (1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a));
    let exploitability = 20.0 * av * ac * au;
    let f = if impact == 0.0 { 0.0 } else { 1.176 };
    let score = ((0.6 * impact) + (0.4 * exploitability) - 1.5) * f;
    // Round half up to one decimal; the epsilon keeps a product such as 4.2499999 that is
    // 4.25 in exact arithmetic from rounding down. Clamped: the formula stays within 0-10.
    Some((((score * 10.0) + 1e-9).round() / 10.0).clamp(0.0, 10.0))
}

fn impact_slot(metric: &str) -> usize {
    match metric {
        "C" => 3,
        "I" => 4,
        _ => 5,
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

    /// Base scores NVD publishes for these v2 vectors.
    #[test]
    fn cvss_v2_base_scores_match_nvd() {
        for (vector, score) in [
            ("AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5),
            ("AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0),
            ("AV:N/AC:M/Au:N/C:N/I:P/A:N", 4.3),
            ("AV:L/AC:L/Au:N/C:P/I:N/A:N", 2.1),
            ("AV:N/AC:L/Au:N/C:N/I:N/A:P", 5.0),
            ("AV:N/AC:M/Au:N/C:P/I:P/A:P", 6.8),
            ("AV:L/AC:L/Au:N/C:C/I:C/A:C", 7.2),
            ("AV:N/AC:H/Au:N/C:N/I:P/A:N", 2.6),
            ("AV:N/AC:L/Au:S/C:P/I:P/A:P", 6.5),
            ("AV:N/AC:M/Au:N/C:C/I:C/A:C", 9.3),
            ("AV:A/AC:L/Au:N/C:N/I:N/A:C", 6.1),
            ("AV:L/AC:M/Au:N/C:P/I:N/A:N", 1.9),
            ("AV:N/AC:L/Au:N/C:N/I:N/A:N", 0.0),
            // NVD's parentheses, a version prefix, temporal metrics.
            ("(AV:N/AC:L/Au:N/C:P/I:P/A:P)", 7.5),
            ("CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5),
            ("AV:N/AC:L/Au:N/C:P/I:P/A:P/E:F/RL:OF/RC:C", 7.5),
        ] {
            assert_eq!(cvss_v2_score(vector), Some(score), "{vector}");
        }
        for bad in [
            "AV:N/AC:L/Au:N/C:P/I:P",
            "AV:N/AC:L/Au:N/C:P/I:P/A:P/A:N",
            "AV:X/AC:L/Au:N/C:P/I:P/A:P",
            "AV:N/AC:L/Au:N/C:P/I:P/A:P/ZZ:1",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "",
        ] {
            assert_eq!(cvss_v2_score(bad), None, "{bad}");
        }
    }

    #[test]
    fn v2_levels_use_nvd_v2_bands() {
        assert_eq!(Level::from_v2_score(0.0), Level::Low);
        assert_eq!(Level::from_v2_score(3.9), Level::Low);
        assert_eq!(Level::from_v2_score(4.0), Level::Medium);
        assert_eq!(Level::from_v2_score(6.9), Level::Medium);
        assert_eq!(Level::from_v2_score(7.0), Level::High);
        // 9.3 is "critical" in v3 bands, "high" in v2's.
        assert_eq!(Level::from_v2_score(9.3), Level::High);
        assert_eq!(Level::from_v2_score(10.0), Level::High);
    }
}
