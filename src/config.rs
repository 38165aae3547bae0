//! `depwatch.toml`: scan settings and ignore rules.
//!
//! ```toml
//! fail-on = "high"                       # optional: default level for --fail-on
//! sources = ["rustsec-dir:advisory-db"]  # optional: what `depwatch sync` syncs by default
//!
//! [feeds.osv-pypi]                     # override a built-in feed (feeds/*.toml): mirrors, tests
//! base_url = "https://mirror.example/osv"
//! enabled = true
//!
//! [[ignore]]
//! id = "RUSTSEC-2023-0071"               # any alias of the finding works
//! reason = "rsa is only used to verify, never to decrypt"
//! until = "2027-01-31"                   # optional: the ignore stops hiding the finding after this day
//! ```

use crate::matcher::Ignore;
use crate::severity::Level;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A configuration error, naming the file and, where known, the line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    #[serde(default)]
    fail_on: Option<toml::Spanned<String>>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    ignore: Vec<RawIgnore>,
    #[serde(default)]
    feeds: std::collections::BTreeMap<String, FeedOverride>,
}

/// Overrides of a built-in feed definition.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FeedOverride {
    /// Another base URL (a mirror, a test server).
    #[serde(default, alias = "base_url")]
    pub base_url: Option<String>,
    /// Turn the feed on or off.
    #[serde(default)]
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    id: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    until: Option<toml::Spanned<toml::Value>>,
}

/// The validated configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// Default `--fail-on` level.
    pub fail_on: Option<Level>,
    /// Sources `depwatch sync` syncs when no `--source` is given.
    pub sources: Vec<String>,
    /// Ignore rules.
    pub ignores: Vec<Ignore>,
    /// Overrides of built-in feeds, by feed name.
    pub feeds: std::collections::BTreeMap<String, FeedOverride>,
}

impl Config {
    /// The feed definitions with this config's overrides applied.
    pub fn feed_defs(&self) -> Result<Vec<crate::feeds::defs::FeedDef>, String> {
        let mut defs = crate::feeds::defs::builtin()?;
        for d in &mut defs {
            if let Some(o) = self.feeds.get(&d.name) {
                if let Some(u) = &o.base_url {
                    d.base_url = u.clone();
                }
                if let Some(e) = o.enabled {
                    d.enabled = e;
                }
            }
        }
        Ok(defs)
    }

    /// Read and validate a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parse and validate config text; `path` names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let line_of = |offset: usize| crate::manifests::line_of_offset(text, offset);
        let invalid = |line: Option<usize>, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            message,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(s.start));
            invalid(line, e.message().to_string())
        })?;
        let fail_on =
            match raw.fail_on {
                Some(s) => Some(s.get_ref().parse::<Level>().map_err(|m| {
                    invalid(Some(line_of(s.span().start)), format!("fail-on: {m}"))
                })?),
                None => None,
            };
        let mut ignores = Vec::new();
        for ig in raw.ignore {
            if ig.id.trim().is_empty() {
                return Err(invalid(None, "[[ignore]] id must not be empty".into()));
            }
            let until = match &ig.until {
                None => None,
                Some(v) => {
                    let line = Some(line_of(v.span().start));
                    let s = match v.get_ref() {
                        toml::Value::String(s) => s.clone(),
                        toml::Value::Datetime(d) => d.to_string(),
                        other => {
                            return Err(invalid(
                                line,
                                format!(
                                    "ignore {}: until must be a date (YYYY-MM-DD), found {}",
                                    ig.id,
                                    other.type_str()
                                ),
                            ));
                        }
                    };
                    Some(s.parse::<jiff::civil::Date>().map_err(|e| {
                        invalid(
                            line,
                            format!(
                                "ignore {}: until {s:?} is not a date (YYYY-MM-DD): {e}",
                                ig.id
                            ),
                        )
                    })?)
                }
            };
            ignores.push(Ignore {
                id: ig.id.trim().to_string(),
                reason: ig.reason,
                until,
            });
        }
        let known = crate::feeds::defs::builtin().map_err(|e| invalid(None, e))?;
        for name in raw.feeds.keys() {
            if !known.iter().any(|d| &d.name == name) {
                let names: Vec<_> = known.iter().map(|d| d.name.as_str()).collect();
                return Err(invalid(
                    None,
                    format!("[feeds.{name}]: no such feed (known: {})", names.join(", ")),
                ));
            }
        }
        Ok(Self {
            fail_on,
            sources: raw.sources,
            ignores,
            feeds: raw.feeds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ignores_with_dates() {
        let c = Config::parse(
            "fail-on = \"high\"\n[[ignore]]\nid = \"GHSA-x\"\nreason = \"r\"\nuntil = 2027-01-31\n[[ignore]]\nid = \"CVE-1\"\nuntil = \"2026-02-01\"\n",
            Path::new("d.toml"),
        )
        .unwrap();
        assert_eq!(c.fail_on, Some(Level::High));
        assert_eq!(c.ignores.len(), 2);
        assert_eq!(c.ignores[0].until.unwrap().to_string(), "2027-01-31");
        assert_eq!(c.ignores[1].until.unwrap().to_string(), "2026-02-01");
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = Config::parse(
            "[[ignore]]\nid = \"X\"\nuntil = \"31/01/2027\"\n",
            Path::new("d.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("d.toml:3:"), "{e}");
        let e = Config::parse("fail-on = \"high\"\nbogus = 1\n", Path::new("d.toml")).unwrap_err();
        assert!(e.to_string().starts_with("d.toml:2:"), "{e}");
        let e = Config::parse("fail-on = \"severe\"\n", Path::new("d.toml")).unwrap_err();
        assert!(e.to_string().contains("d.toml:1: fail-on"), "{e}");
    }
}
