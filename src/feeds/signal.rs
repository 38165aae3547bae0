//! Exploit intelligence: the CISA Known Exploited Vulnerabilities catalog (KEV, JSON) and the
//! FIRST EPSS daily scores (CSV, usually gzipped). Neither is an advisory: each is a fact about
//! CVE ids, which a scan joins to findings through their ids (`report::Finding::kev`, `epss`).
//!
//! Both are read whole and replace what the store held for them in one transaction, as a
//! remote pull (`feeds/kev.toml`, `feeds/epss.toml`) or from a file (`--source kev:PATH`,
//! `--source epss:PATH`, for air-gapped sites and tests).
//!
//! Traps the real files set (`feeds-reference/README.md`): `knownRansomwareCampaignUse` is a
//! string (`Known` / `Unknown`), not a bool; `dateReleased` has a 4-digit fraction (kept as
//! text); EPSS rows are not sorted (a map, never a binary search); 2,455 EPSS scores are in
//! scientific notation (`2e-05`), so values are read as floats; the `#model_version` comment
//! line may end its timestamp in `Z` or `+0000`, or be absent.

use super::FeedError;
use super::budget::Budget;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Read};
use std::path::PathBuf;

/// Largest KEV catalog accepted (the real one is about 1.4 MB).
pub const MAX_KEV_BYTES: u64 = 64 * 1024 * 1024;
/// Largest EPSS file accepted as downloaded (the real gzip is about 2 MB); its decompressed
/// size is charged to the pull's [`Budget`].
pub const MAX_EPSS_BYTES: u64 = 256 * 1024 * 1024;
/// Most EPSS rows accepted (the real file has 313,089; every CVE ever is below this).
pub const MAX_EPSS_ROWS: usize = 5_000_000;

/// Which kind of exploit data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignalKind {
    /// CISA KEV.
    Kev,
    /// FIRST EPSS.
    Epss,
}

impl SignalKind {
    /// `kev` or `epss`: the local source kind and the store's name for the data set.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kev => "kev",
            Self::Epss => "epss",
        }
    }

    /// The kind named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "kev" => Some(Self::Kev),
            "epss" => Some(Self::Epss),
            _ => None,
        }
    }
}

/// One KEV entry, as the catalog states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KevEntry {
    /// `cveID`.
    pub cve: String,
    /// `vendorProject`.
    pub vendor_project: String,
    /// `product`.
    pub product: String,
    /// `dateAdded`.
    pub date_added: Date,
    /// `dueDate` (the deadline CISA set for US federal agencies).
    pub due_date: Date,
    /// `knownRansomwareCampaignUse`: `Known` or `Unknown` as written.
    pub known_ransomware_campaign_use: String,
}

/// A KEV catalog.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KevCatalog {
    /// `catalogVersion` (`2025.08.25`).
    pub catalog_version: String,
    /// `dateReleased`, as written.
    pub date_released: Option<String>,
    /// Every entry.
    pub entries: Vec<KevEntry>,
}

/// One EPSS row.
#[derive(Debug, Clone, PartialEq)]
pub struct EpssRow {
    /// The CVE.
    pub cve: String,
    /// Probability of exploitation activity in the next 30 days, 0..=1.
    pub score: f64,
    /// Percentile of the score among all scored CVEs, 0..=1.
    pub percentile: f64,
}

/// One day's EPSS scores.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EpssFile {
    /// `model_version` of the comment line, when there is one.
    pub model_version: Option<String>,
    /// The date of `score_date` in the comment line, when there is one.
    pub score_date: Option<Date>,
    /// Every row, in file order.
    pub rows: Vec<EpssRow>,
}

/// What one KEV or EPSS sync brings.
#[derive(Debug, Clone, PartialEq)]
pub enum SignalData {
    /// A KEV catalog.
    Kev(KevCatalog),
    /// An EPSS day.
    Epss(EpssFile),
}

impl SignalData {
    /// Which kind.
    pub fn kind(&self) -> SignalKind {
        match self {
            Self::Kev(_) => SignalKind::Kev,
            Self::Epss(_) => SignalKind::Epss,
        }
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        match self {
            Self::Kev(k) => k.entries.len(),
            Self::Epss(e) => e.rows.len(),
        }
    }

    /// True when it holds no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A finding's KEV mark: the catalog entry of one of its CVEs, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevMark {
    /// The CVE listed.
    pub cve: String,
    /// `dateAdded`.
    pub date_added: Date,
    /// `dueDate`.
    pub due_date: Date,
    /// `knownRansomwareCampaignUse` (`Known` or `Unknown`).
    pub known_ransomware_campaign_use: String,
    /// The catalog's `catalogVersion`.
    pub catalog_version: String,
    /// The store's name of the source it came from (`kev`, `kev:/path/file.json`).
    pub source: String,
}

impl KevMark {
    /// One line for people: `CVE-2020-11978 is in CISA KEV since 2022-01-18 (due 2022-07-18,
    /// known ransomware use: Unknown; catalog 2025.08.25, source kev)`.
    pub fn describe(&self) -> String {
        format!(
            "{} is in CISA KEV since {} (due {}, known ransomware use: {}; catalog {}, source {})",
            self.cve,
            self.date_added,
            self.due_date,
            self.known_ransomware_campaign_use,
            self.catalog_version,
            self.source
        )
    }
}

impl EpssMark {
    /// One line for people: `EPSS 0.94369 for CVE-2020-11978 (99.9th percentile, scores of
    /// 2026-01-30, model v2025.03.14, source epss)`; a file without a date says so.
    pub fn describe(&self) -> String {
        let date = match self.score_date {
            Some(d) => format!("scores of {d}"),
            None => "score date not stated by the file".to_string(),
        };
        let model = self
            .model_version
            .as_deref()
            .map(|m| format!(", model {m}"))
            .unwrap_or_default();
        format!(
            "EPSS {} for {} ({} percentile, {date}{model}, source {})",
            self.score,
            self.cve,
            percentile_text(self.percentile),
            self.source
        )
    }
}

/// `0.99912` -> `99.9th`.
fn percentile_text(p: f64) -> String {
    let v = (p * 1000.0).floor() / 10.0;
    format!("{v:.1}th")
}

/// A finding's EPSS mark: the score of one of its CVEs, with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpssMark {
    /// The CVE scored.
    pub cve: String,
    /// The score, 0..=1.
    pub score: f64,
    /// The percentile, 0..=1.
    pub percentile: f64,
    /// The file's score date; `None` when the file had no comment line saying it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score_date: Option<Date>,
    /// The file's model version, when stated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    /// The store's name of the source it came from.
    pub source: String,
}

/// Exploit data of some CVEs, as a scan reads it (from the store or from files): the KEV entry
/// and the EPSS score of each CVE that has one, keyed by CVE.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExploitSignals {
    /// KEV entries.
    pub kev: std::collections::HashMap<String, KevMark>,
    /// EPSS scores.
    pub epss: std::collections::HashMap<String, EpssMark>,
}

impl ExploitSignals {
    /// Add what `data` (read from `source`) says of `cves`; a later set replaces an earlier one
    /// of the same kind, as a sync does.
    pub fn add(&mut self, data: &SignalData, source: &str, cves: &std::collections::HashSet<&str>) {
        match data {
            SignalData::Kev(k) => {
                self.kev = k
                    .entries
                    .iter()
                    .filter(|e| cves.contains(e.cve.as_str()))
                    .map(|e| {
                        let mark = KevMark {
                            cve: e.cve.clone(),
                            date_added: e.date_added,
                            due_date: e.due_date,
                            known_ransomware_campaign_use: e.known_ransomware_campaign_use.clone(),
                            catalog_version: k.catalog_version.clone(),
                            source: source.to_string(),
                        };
                        (e.cve.clone(), mark)
                    })
                    .collect();
            }
            SignalData::Epss(f) => {
                self.epss = f
                    .rows
                    .iter()
                    .filter(|r| cves.contains(r.cve.as_str()))
                    .map(|r| {
                        let mark = EpssMark {
                            cve: r.cve.clone(),
                            score: r.score,
                            percentile: r.percentile,
                            score_date: f.score_date,
                            model_version: f.model_version.clone(),
                            source: source.to_string(),
                        };
                        (r.cve.clone(), mark)
                    })
                    .collect();
            }
        }
    }
}

fn invalid(what: &str, message: String) -> FeedError {
    FeedError::Invalid {
        path: PathBuf::from(what),
        message,
    }
}

/// `CVE-YYYY-NNNN+`.
pub fn is_cve(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, num)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && num.len() >= 4
        && num.len() <= 12
        && num.bytes().all(|b| b.is_ascii_digit())
}

/// Read a KEV catalog. `what` names the file or URL in errors; an entry that lacks a field or
/// holds a bad date is an error naming its index and `cveID`.
pub fn parse_kev(bytes: &[u8], what: &str) -> Result<KevCatalog, FeedError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Top {
        catalog_version: String,
        #[serde(default)]
        date_released: Option<String>,
        vulnerabilities: Vec<serde_json::Value>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Entry {
        #[serde(rename = "cveID")]
        cve_id: String,
        #[serde(default)]
        vendor_project: String,
        #[serde(default)]
        product: String,
        date_added: String,
        due_date: String,
        known_ransomware_campaign_use: String,
    }
    let top: Top = serde_json::from_slice(bytes)
        .map_err(|e| invalid(what, format!("not a KEV catalog: {e}")))?;
    let mut entries = Vec::with_capacity(top.vulnerabilities.len());
    for (i, v) in top.vulnerabilities.into_iter().enumerate() {
        let id = v
            .get("cveID")
            .and_then(|c| c.as_str())
            .map(|c| crate::text::shorten(c, 40))
            .unwrap_or_else(|| "(no cveID)".into());
        let bad = |m: String| invalid(what, format!("vulnerabilities[{i}] ({id}): {m}"));
        let e: Entry = serde_json::from_value(v).map_err(|e| bad(e.to_string()))?;
        if !is_cve(&e.cve_id) {
            return Err(bad("cveID is not CVE-YYYY-NNNN".into()));
        }
        let date = |s: &str, field: &str| {
            s.parse::<Date>().map_err(|_| {
                bad(format!(
                    "{field} {:?} is not YYYY-MM-DD",
                    crate::text::shorten(s, 40)
                ))
            })
        };
        entries.push(KevEntry {
            date_added: date(&e.date_added, "dateAdded")?,
            due_date: date(&e.due_date, "dueDate")?,
            cve: e.cve_id,
            vendor_project: e.vendor_project,
            product: e.product,
            known_ransomware_campaign_use: e.known_ransomware_campaign_use,
        });
    }
    if entries.is_empty() {
        // A pull replaces the whole set: an empty catalog would silently clear every mark.
        return Err(invalid(
            what,
            "the KEV catalog lists no vulnerability".into(),
        ));
    }
    Ok(KevCatalog {
        catalog_version: top.catalog_version,
        date_released: top.date_released,
        entries,
    })
}

/// The `#model_version:v2025.03.14,score_date:2026-01-30T12:55:00Z` line: its model version
/// and the date of its score date (`Z`, `+0000`, `+00:00` or a bare date all read).
fn parse_comment(line: &str) -> (Option<String>, Option<Date>) {
    let mut model = None;
    let mut date = None;
    for part in line.trim_start_matches('#').trim().split(',') {
        let Some((k, v)) = part.split_once(':') else {
            continue;
        };
        match k.trim() {
            "model_version" => model = Some(v.trim().to_string()).filter(|s| !s.is_empty()),
            // Only the date is used: the first ten characters, whatever the zone suffix.
            "score_date" => date = v.trim().get(..10).and_then(|d| d.parse::<Date>().ok()),
            _ => {}
        }
    }
    (model, date)
}

/// Charges every byte read to a budget, so a gzip bomb fails the pull.
struct Charged<'a, R> {
    inner: R,
    budget: &'a Budget,
    what: &'a str,
}

impl<R: Read> Read for Charged<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.budget
            .charge(n as u64, self.what)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(n)
    }
}

/// Read an EPSS scores file, gzipped (by its magic bytes) or plain. Every decompressed byte is
/// charged to `budget`. A row that is not `CVE,score,percentile` with scores in 0..=1 is an
/// error naming its line.
pub fn parse_epss(bytes: &[u8], what: &str, budget: &Budget) -> Result<EpssFile, FeedError> {
    let raw: Box<dyn Read + '_> = if bytes.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::GzDecoder::new(bytes))
    } else {
        Box::new(bytes)
    };
    let mut reader = std::io::BufReader::with_capacity(
        256 * 1024,
        Charged {
            inner: raw,
            budget,
            what,
        },
    );
    let io = |e: std::io::Error| invalid(what, format!("cannot read the EPSS file: {e}"));
    let mut out = EpssFile::default();
    let mut line_no = 0usize;
    // The comment line, when the file starts with one.
    if reader.fill_buf().map_err(io)?.first() == Some(&b'#') {
        let mut first = String::new();
        // Bounded: a "comment" line without an end must not be read whole.
        (&mut reader).take(4096).read_line(&mut first).map_err(io)?;
        line_no += 1;
        (out.model_version, out.score_date) = parse_comment(&first);
    }
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|e| invalid(what, format!("line {}: {e}", line_no + 1)))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(ci), Some(si), Some(pi)) = (col("cve"), col("epss"), col("percentile")) else {
        return Err(invalid(
            what,
            format!(
                "line {}: expected the header cve,epss,percentile, found {:?}",
                line_no + 1,
                crate::text::shorten(&headers.iter().collect::<Vec<_>>().join(","), 80)
            ),
        ));
    };
    let header_line = line_no + 1;
    let mut record = csv::StringRecord::new();
    let mut n = 0usize;
    loop {
        let more = csv
            .read_record(&mut record)
            .map_err(|e| invalid(what, format!("line {}: {e}", header_line + n + 1)))?;
        if !more {
            break;
        }
        n += 1;
        let line = header_line + n;
        if n > MAX_EPSS_ROWS {
            return Err(invalid(what, format!("more than {MAX_EPSS_ROWS} rows")));
        }
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let cve = field(ci);
        if !is_cve(cve) {
            return Err(invalid(
                what,
                format!(
                    "line {line}: {:?} is not a CVE id",
                    crate::text::shorten(cve, 40)
                ),
            ));
        }
        // Floats, not fixed-point: some scores are written as `2e-05`.
        let num = |s: &str, name: &str| match s.parse::<f64>() {
            Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
            _ => Err(invalid(
                what,
                format!(
                    "line {line} ({cve}): {name} {:?} is not a number from 0 to 1",
                    crate::text::shorten(s, 40)
                ),
            )),
        };
        out.rows.push(EpssRow {
            score: num(field(si), "epss")?,
            percentile: num(field(pi), "percentile")?,
            cve: cve.to_string(),
        });
    }
    if out.rows.is_empty() {
        // A pull replaces the whole set: an empty file would silently clear every score.
        return Err(invalid(what, "the EPSS file has no score".into()));
    }
    Ok(out)
}

/// Read a KEV or EPSS file (`--source kev:PATH`, `--source epss:PATH`): a regular file, size
/// bounded.
pub fn load_file(
    kind: SignalKind,
    path: &std::path::Path,
    budget: &Budget,
) -> Result<SignalData, FeedError> {
    let limit = match kind {
        SignalKind::Kev => MAX_KEV_BYTES,
        SignalKind::Epss => MAX_EPSS_BYTES,
    };
    let bytes = crate::fsread::read_regular(path, limit).map_err(|e| FeedError::Io {
        path: path.to_path_buf(),
        source: match e {
            crate::fsread::ReadError::Io(e) => e,
            other => std::io::Error::other(other.to_string()),
        },
    })?;
    let what = path.display().to_string();
    budget.charge(bytes.len() as u64, &what)?;
    Ok(match kind {
        SignalKind::Kev => SignalData::Kev(parse_kev(&bytes, &what)?),
        SignalKind::Epss => SignalData::Epss(parse_epss(&bytes, &what, budget)?),
    })
}

/// A local KEV or EPSS file as given to `--source kev:PATH` / `--source epss:PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalSpec {
    /// Which kind.
    pub kind: SignalKind,
    /// The file.
    pub path: PathBuf,
}

impl SignalSpec {
    /// `kev:PATH` or `epss:PATH`; `None` for another kind (an advisory source).
    pub fn parse(s: &str) -> Option<Self> {
        let (kind, loc) = s.split_once(':')?;
        let kind = SignalKind::parse(kind)?;
        (!loc.is_empty()).then(|| Self {
            kind,
            path: PathBuf::from(loc),
        })
    }

    /// The same file with its path made absolute (unchanged if it cannot be resolved): the
    /// store's source name.
    pub fn canonical(&self) -> Self {
        Self {
            kind: self.kind,
            path: std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone()),
        }
    }
}

impl std::fmt::Display for SignalSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.path.display())
    }
}

/// The `kev` and `epss` remote feed kinds: one download of the whole file, conditional on the
/// stored ETag / Last-Modified.
pub struct Kev;
/// See [`Kev`].
pub struct Epss;

async fn pull_signal(
    kind: SignalKind,
    http: &crate::net::Http,
    def: &super::defs::FeedDef,
    prev: Option<&super::SourceState>,
) -> Result<super::FeedUpdate, FeedError> {
    use crate::net::{Conditional, redact};
    // Validators only help when the data they describe is still held.
    let prev = prev.filter(|p| p.records > 0);
    let budget = Budget::new(http.settings().max_feed_bytes);
    let cap = match kind {
        SignalKind::Kev => MAX_KEV_BYTES,
        SignalKind::Epss => MAX_EPSS_BYTES,
    };
    let limit = usize::try_from(budget.remaining().min(cap)).unwrap_or(usize::MAX);
    let fetched = match http
        .get(
            &def.base_url,
            &reqwest::header::HeaderMap::new(),
            prev.and_then(|p| p.etag.as_deref()),
            prev.and_then(|p| p.last_modified.as_deref()),
            limit,
        )
        .await?
    {
        Conditional::NotModified => return Ok(super::FeedUpdate::NotModified),
        Conditional::Fetched(f) => f,
    };
    let label = redact(&def.base_url);
    budget.charge(fetched.body.len() as u64, &label)?;
    let body = fetched.body;
    let data = tokio::task::spawn_blocking(move || match kind {
        SignalKind::Kev => parse_kev(&body, &label).map(SignalData::Kev),
        SignalKind::Epss => parse_epss(&body, &label, &budget).map(SignalData::Epss),
    })
    .await
    .map_err(|e| {
        invalid(
            &redact(&def.base_url),
            format!("reading the file failed: {e}"),
        )
    })??;
    Ok(super::FeedUpdate::Signal {
        data,
        state: super::SourceState {
            source: def.name.clone(),
            etag: fetched.etag,
            last_modified: fetched.last_modified,
            ..Default::default()
        },
    })
}

impl super::registry::RemoteFeed for Kev {
    fn kind(&self) -> super::defs::FeedKind {
        super::defs::FeedKind::Kev
    }

    fn pull<'a>(
        &'a self,
        http: &'a crate::net::Http,
        def: &'a super::defs::FeedDef,
        _ecosystem: Option<&'a str>,
        prev: Option<&'a super::SourceState>,
    ) -> super::registry::Pull<'a> {
        Box::pin(pull_signal(SignalKind::Kev, http, def, prev))
    }
}

impl super::registry::RemoteFeed for Epss {
    fn kind(&self) -> super::defs::FeedKind {
        super::defs::FeedKind::Epss
    }

    fn pull<'a>(
        &'a self,
        http: &'a crate::net::Http,
        def: &'a super::defs::FeedDef,
        _ecosystem: Option<&'a str>,
        prev: Option<&'a super::SourceState>,
    ) -> super::registry::Pull<'a> {
        Box::pin(pull_signal(SignalKind::Epss, http, def, prev))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REF: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/feeds-reference");

    #[test]
    fn comment_lines_read_leniently() {
        let (m, d) = parse_comment("#model_version:v2025.03.14,score_date:2026-01-30T12:55:00Z\n");
        assert_eq!(m.as_deref(), Some("v2025.03.14"));
        assert_eq!(d, Some(jiff::civil::date(2026, 1, 30)));
        let (_, d) =
            parse_comment("#model_version:v2023.03.01,score_date:2025-01-01T00:00:00+0000");
        assert_eq!(d, Some(jiff::civil::date(2025, 1, 1)));
        assert_eq!(parse_comment("#something else"), (None, None));
    }

    #[test]
    fn epss_without_comment_scientific_notation_and_bad_rows() {
        let b = Budget::new(1 << 20);
        let f = parse_epss(
            b"cve,epss,percentile\nCVE-1999-1170,2e-05,0.00039\n",
            "t",
            &b,
        )
        .unwrap();
        assert_eq!(f.score_date, None);
        assert_eq!(f.rows[0].score, 0.00002);
        let e = parse_epss(b"#x\ncve,epss,percentile\nCVE-1,0.1,0.2\n", "t.csv", &b)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.csv: line 3: \"CVE-1\""), "{e}");
        let e = parse_epss(b"cve,epss,percentile\nCVE-2020-0001,1.5,0.2\n", "t", &b)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2 (CVE-2020-0001): epss \"1.5\""), "{e}");
        let e = parse_epss(b"a,b\n1,2\n", "t", &b).unwrap_err().to_string();
        assert!(e.contains("line 1: expected the header"), "{e}");
        assert!(parse_epss(b"cve,epss,percentile\n", "t", &b).is_err());
    }

    #[test]
    fn a_gzip_bigger_than_the_budget_fails() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(b"cve,epss,percentile\n").unwrap();
        for i in 0..20_000 {
            writeln!(gz, "CVE-2020-{i:05},0.1,0.5").unwrap();
        }
        let bytes = gz.finish().unwrap();
        let e = parse_epss(&bytes, "x.gz", &Budget::new(100_000))
            .unwrap_err()
            .to_string();
        assert!(e.contains("budget of 100000 bytes"), "{e}");
        assert_eq!(
            parse_epss(&bytes, "x.gz", &Budget::new(1 << 24))
                .unwrap()
                .rows
                .len(),
            20_000
        );
    }

    #[test]
    fn kev_entries_are_checked_by_index_and_id() {
        let e = parse_kev(
            br#"{"catalogVersion":"1","vulnerabilities":[{"cveID":"CVE-2020-0001","dateAdded":"2020-13-01","dueDate":"2020-01-02","knownRansomwareCampaignUse":"Unknown"}]}"#,
            "k.json",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("vulnerabilities[0] (CVE-2020-0001): dateAdded \"2020-13-01\""),
            "{e}"
        );
        assert!(parse_kev(br#"{"catalogVersion":"1","vulnerabilities":[]}"#, "k").is_err());
    }

    #[test]
    fn the_real_files() {
        let Ok(kev) = std::fs::read(format!("{REF}/kev/known_exploited_vulnerabilities.json"))
        else {
            return;
        };
        let k = parse_kev(&kev, "kev").unwrap();
        assert_eq!(
            (k.catalog_version.as_str(), k.entries.len()),
            ("2025.08.25", 1404)
        );
        let known = k
            .entries
            .iter()
            .filter(|e| e.known_ransomware_campaign_use == "Known")
            .count();
        assert_eq!(known, 293);
        let b = Budget::new(1 << 30);
        let Ok(epss) = std::fs::read(format!("{REF}/epss/epss_scores-2026-01-30.csv.gz")) else {
            return;
        };
        let f = parse_epss(&epss, "epss", &b).unwrap();
        assert_eq!(f.rows.len(), 313_089);
        assert_eq!(f.model_version.as_deref(), Some("v2025.03.14"));
        assert_eq!(f.score_date, Some(jiff::civil::date(2026, 1, 30)));
        assert_eq!(
            f.rows.last().map(|r| r.cve.as_str()),
            Some("CVE-2026-25211")
        );
        let top = f.rows.iter().map(|r| r.score).fold(0.0, f64::max);
        assert_eq!(top, 0.94579);
    }
}
