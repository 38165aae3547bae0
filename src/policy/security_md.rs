//! Reading a SECURITY.md into a [`super::Policy`].
//!
//! A general, line-oriented reader of Markdown as SECURITY.md files write it: headings,
//! bullet lines (`- **Initial Response**: Within 48 hours`), nested severity bullets, inline
//! `critical: ..., high: ...` lists, the supported-versions table and reporting channels.
//! Fenced code blocks are skipped. Mis-decoded emoji (UTF-8 read as Windows-1252) are repaired
//! where the bytes survived and tolerated where they did not.
//!
//! Conservative by design: a figure is taken only when its label (or, for prose, its section and
//! wording) clearly makes it a response, update, fix or disclosure time. The first figure of each
//! kind in the file wins; later repeats (e.g. a "Response Time" in a contact section) are ignored.

use super::{Channel, ChannelKind, FixTime, Origin, Period, SupportedVersion, Unit};
use crate::severity::Level;

/// The grace after a fix that "users have time to update" asks for. A week: long enough to
/// roll out a patch release, short enough that the advisory is not held back indefinitely.
pub const UPDATE_GRACE: Period = Period::days(7);

/// What a SECURITY.md says, figure by figure, with its 1-based line; `None` where it says
/// nothing usable (the policy falls back to a default there).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Found {
    /// Initial response time.
    pub response: Option<(Period, usize)>,
    /// Status update time.
    pub update: Option<(Period, usize)>,
    /// Assessment time ("Assessment Complete: Within 1 week"): its own deadline, not an update.
    pub assessment: Option<(Period, usize)>,
    /// Fix time, indexed critical, high, medium, low.
    pub fix: [Option<(FixTime, usize)>; 4],
    /// Lines that name a severity's fix rule without a figure ("critical: days"), same index.
    pub fix_unstated: [Option<usize>; 4],
    /// Whether `fix[i]` came from a line naming no severity: a later line about that severity
    /// ("Critical Vulnerabilities: Immediate patches") is more specific and replaces it.
    fix_general: [bool; 4],
    /// Disclosure follows the fix: the line that says so, and the grace after the fix.
    pub after_fix: Option<AfterFix>,
    /// Disclosure at the latest this long after the report.
    pub at_most: Option<(Period, usize)>,
    /// Rows of the supported-versions table.
    pub supported: Vec<SupportedVersion>,
    /// "Current Version: v0.2.5-alpha": the one supported version of a file without a table.
    pub current_version: Option<(String, usize)>,
    /// Reporting channels, the preferred one first.
    pub channels: Vec<Channel>,
    /// The fix time of exploited issues ("Actively exploited vulnerabilities: fixed within 24
    /// hours"), with its line: only a line that names exploited issues and states a time.
    pub fix_known_exploited: Option<(FixTime, usize)>,
}

/// A rule that ties disclosure to the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AfterFix {
    /// Its line.
    pub line: usize,
    /// How long after the fix.
    pub grace: Grace,
}

/// The wait between the fix and disclosure, as the line states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grace {
    /// None: disclose when the fix is released.
    None,
    /// A figure on the line ("30 days after the fix").
    Stated(Period),
    /// "Users have time to update", with no figure: depwatch's [`UPDATE_GRACE`] applies.
    UpdateTime,
}

/// Severity slots of [`Found::fix`], most urgent first.
pub const SEVERITIES: [Level; 4] = [Level::Critical, Level::High, Level::Medium, Level::Low];

fn slot(level: Level) -> usize {
    match level {
        Level::Critical => 0,
        Level::High => 1,
        Level::Medium | Level::Unknown => 2,
        Level::Low => 3,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Respond,
    Update,
    Assess,
    Fix,
    Disclose,
}

enum Table {
    /// Not in a table.
    Out,
    /// In a table that is not the versions table.
    Other,
    /// In the versions table: (version column, supported column).
    Versions(usize, usize),
}

/// Read the text of a SECURITY.md. Never fails: what is not understood is left out.
pub fn scan(text: &str) -> Found {
    let mut found = Found::default();
    let mut preferred: Vec<bool> = Vec::new();
    let mut headings: Vec<(usize, String)> = Vec::new();
    let mut fence: Option<char> = None;
    // Indent of a fix line whose per-severity figures may follow as nested bullets.
    let mut fix_ctx: Option<usize> = None;
    let mut table = Table::Out;

    for (index, raw) in text.lines().enumerate() {
        let n = index + 1;
        let line = repair_mojibake(raw);
        let trimmed = line.trim();

        if let Some(marker) = fence_marker(trimmed) {
            match fence {
                None => fence = Some(marker),
                Some(open) if open == marker => fence = None,
                Some(_) => {}
            }
            continue;
        }
        if fence.is_some() {
            continue;
        }

        if trimmed.starts_with('|') {
            table_line(trimmed, n, &mut table, &mut found.supported);
            continue;
        }
        table = Table::Out;

        if let Some((level, title)) = heading(trimmed) {
            headings.retain(|(l, _)| *l < level);
            headings.push((level, title.to_lowercase()));
            fix_ctx = None;
            // "### Current Version: v0.2.5-alpha"
            if let (Some(label), value) = split_label(title) {
                current_version(&label, &value, n, &mut found);
            }
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }

        let indent = raw.len() - raw.trim_start().len();
        let (label, value) = split_label(trimmed);

        if let Some(ctx) = fix_ctx {
            if indent > ctx {
                if let Some(level) = label.as_deref().and_then(severity_label) {
                    severity_fix(&mut found, level, &value, n);
                    continue;
                }
            } else {
                fix_ctx = None;
            }
        }

        if in_section(&headings, &["report", "contact"])
            && !in_section(&headings, &["resource", "reference", "links", "support"])
        {
            channels_in(trimmed, n, &mut found.channels, &mut preferred);
        }

        if let Some(label) = &label {
            current_version(label, &value, n, &mut found);
            // "- **Critical Vulnerabilities**: Immediate patches": a fix rule for that severity.
            if let Some(level) = severity_label(label)
                && immediate(&value)
                && mentions_fix(&value)
            {
                set_fix(&mut found, &[level], FixTime::Immediate, n, false);
                continue;
            }
        }

        // A line about exploited issues with a time is their rule, not a general fix figure.
        if let Some(t) = exploited_fix(trimmed) {
            if found.fix_known_exploited.is_none() {
                found.fix_known_exploited = Some((t, n));
            }
            continue;
        }

        let class = match &label {
            Some(label) => classify_label(label),
            None if in_section(&headings, &["disclos"]) => Some(Class::Disclose),
            None if in_section(
                &headings,
                &["report", "respon", "timeline", "contact", "process"],
            ) =>
            {
                classify_prose(&value)
            }
            None => None,
        };
        match class {
            Some(Class::Respond) if found.response.is_none() => {
                found.response = first_duration(&value).map(|p| (p, n));
            }
            Some(Class::Update) if found.update.is_none() => {
                found.update = first_duration(&value).map(|p| (p, n));
            }
            Some(Class::Assess) if found.assessment.is_none() => {
                found.assessment = first_duration(&value).map(|p| (p, n));
            }
            Some(Class::Fix) => {
                fix_line(&value, n, &mut found);
                fix_ctx = Some(indent);
            }
            Some(Class::Disclose) => disclosure(&value, n, &mut found),
            Some(Class::Respond | Class::Update | Class::Assess) | None => {}
        }
    }

    // The channel the file calls preferred or primary goes first; otherwise file order.
    let mut ordered: Vec<(bool, Channel)> = preferred.into_iter().zip(found.channels).collect();
    ordered.sort_by_key(|(p, _)| !*p);
    found.channels = ordered.into_iter().map(|(_, c)| c).collect();
    found
}

/// Take a fix time for `levels` unless one was taken already; a figure from a line naming the
/// severity (`general == false`) replaces one from a line naming none.
fn set_fix(found: &mut Found, levels: &[Level], time: FixTime, n: usize, general: bool) {
    for &level in levels {
        let i = slot(level);
        if found.fix[i].is_none() || (found.fix_general[i] && !general) {
            found.fix[i] = Some((time, n));
            found.fix_general[i] = general;
        }
    }
}

/// The fix rule of one severity (`Critical: 1-7 days`, `critical: days`, `Critical: immediate`).
/// A rule without a figure is remembered by its line, so the default can cite it.
fn severity_fix(found: &mut Found, level: Level, text: &str, n: usize) {
    let time = fix_time(text).or_else(|| immediate(text).then_some(FixTime::Immediate));
    match time {
        Some(time) => set_fix(found, &[level], time, n, false),
        None => {
            let i = slot(level);
            if found.fix[i].is_none() && found.fix_unstated[i].is_none() {
                found.fix_unstated[i] = Some(n);
            }
        }
    }
}

fn immediate(text: &str) -> bool {
    words(text)
        .iter()
        .any(|w| matches!(w.as_str(), "immediate" | "immediately"))
}

fn mentions_fix(text: &str) -> bool {
    words(text).iter().any(|w| {
        matches!(
            w.as_str(),
            "patch" | "patches" | "patched" | "fix" | "fixes" | "fixed" | "release" | "releases"
        )
    })
}

/// `Current Version: v0.2.5-alpha` (as a heading or a bullet): the version a file without a
/// supported-versions table supports. "Version: 1.0" alone is the document's own version.
fn current_version(label: &str, value: &str, n: usize, found: &mut Found) {
    let l = label.to_lowercase();
    if found.current_version.is_some()
        || !matches!(
            l.trim(),
            "current version" | "latest version" | "current release"
        )
    {
        return;
    }
    let Some(first) = value
        .replace('`', "")
        .split_whitespace()
        .next()
        .map(str::to_string)
    else {
        return;
    };
    let digits = first.strip_prefix(['v', 'V']).unwrap_or(&first);
    if digits.starts_with(|c: char| c.is_ascii_digit()) {
        found.current_version = Some((first, n));
    }
}

/// A fix line: inline `critical: X, high: Y` pairs, or one figure for the severities it names
/// ("within 2 weeks (critical issues)"), or for all of them when it names none.
fn fix_line(value: &str, n: usize, found: &mut Found) {
    let pairs = severity_pairs(value);
    if !pairs.is_empty() {
        for (level, text) in pairs {
            severity_fix(found, level, &text, n);
        }
        return;
    }
    let Some(time) = fix_time(value) else {
        return;
    };
    let named: Vec<Level> = words(value)
        .iter()
        .filter_map(|w| severity_word(w))
        .collect();
    if named.is_empty() {
        set_fix(found, &SEVERITIES, time, n, true);
    } else {
        set_fix(found, &named, time, n, false);
    }
}

/// `critical: days, high: 1-2 weeks` -> [(Critical, "days"), (High, "1-2 weeks")].
fn severity_pairs(value: &str) -> Vec<(Level, String)> {
    let lower = value.to_lowercase();
    let mut keys: Vec<(usize, usize, Level)> = Vec::new();
    for (name, level) in [
        ("critical", Level::Critical),
        ("high", Level::High),
        ("medium", Level::Medium),
        ("moderate", Level::Medium),
        ("low", Level::Low),
    ] {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(name) {
            let start = from + pos;
            let end = start + name.len();
            from = end;
            let word_start = lower[..start]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric());
            let rest = lower[end..].trim_start();
            if word_start && rest.starts_with(':') {
                let colon = end + (lower[end..].len() - rest.len()) + 1;
                keys.push((start, colon, level));
            }
        }
    }
    keys.sort_by_key(|k| k.0);
    let mut pairs = Vec::new();
    for (i, &(_, colon, level)) in keys.iter().enumerate() {
        let stop = keys.get(i + 1).map_or(lower.len(), |k| k.0);
        let text = lower
            .get(colon..stop)
            .unwrap_or_default()
            .trim_matches(|c: char| c.is_whitespace() || ",;)(".contains(c));
        pairs.push((level, text.to_string()));
    }
    pairs
}

/// The fix time a line states for exploited issues ("known exploited", "actively exploited",
/// "exploited in the wild"): a duration or "immediately". `None` for a line that does not name
/// exploited issues or states no time ("Zero-Day Exploits: Emergency response procedures").
fn exploited_fix(line: &str) -> Option<FixTime> {
    let lower = line.to_lowercase();
    let names = lower
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .any(|w| w == "exploited");
    if !names {
        return None;
    }
    first_duration(line)
        .map(FixTime::Within)
        .or_else(|| immediate(line).then_some(FixTime::Immediate))
}

/// A fix promise: a duration (a range counts as its upper bound, the promise), else
/// "best effort" or "next release". "critical: days" without a number is no promise.
fn fix_time(text: &str) -> Option<FixTime> {
    if let Some(period) = first_duration(text) {
        return Some(FixTime::Within(period));
    }
    let lower = text.to_lowercase();
    if lower.contains("best effort") || lower.contains("best-effort") {
        Some(FixTime::BestEffort)
    } else if ["next release", "next version", "next scheduled release"]
        .iter()
        .any(|p| lower.contains(p))
    {
        Some(FixTime::NextRelease)
    } else {
        None
    }
}

const AFTER_FIX: &[&str] = &[
    "after fix",
    "after the fix",
    "after a fix",
    "once the fix",
    "once a fix",
    "fix is released",
    "fix has been released",
    "fix is available",
    "is fixed",
    "has been fixed",
    "after the patch",
    "after a patch",
    "once the patch",
    "once a patch",
    "patch is released",
];

const UPDATE_TIME: &[&str] = &[
    "time to update",
    "time to upgrade",
    "time to patch",
    "time to apply",
];

/// A disclosure rule: tied to the fix (plus a grace), and/or at most N days after the report.
fn disclosure(value: &str, n: usize, found: &mut Found) {
    let lower = value.to_lowercase();
    let tied = AFTER_FIX.iter().any(|p| lower.contains(p));
    let update_time = UPDATE_TIME.iter().any(|p| lower.contains(p));
    let mut grace = None;
    let mut at_most = None;
    let tokens = tokenize(&lower);
    let mut i = 0;
    while i < tokens.len() {
        let Some((period, end)) = duration_at(&tokens, i) else {
            i += 1;
            continue;
        };
        // "30 days after the fix" is a grace; any other figure is a cap from the report.
        let next: Vec<&str> = tokens[end..]
            .iter()
            .map(String::as_str)
            .filter(|t| !matches!(*t, "the" | "a" | "is" | "its"))
            .take(2)
            .collect();
        let after_fix = next.first() == Some(&"after")
            && next
                .get(1)
                .is_some_and(|t| matches!(*t, "fix" | "fixes" | "patch" | "release" | "fixed"));
        if after_fix {
            grace.get_or_insert(period);
        } else {
            at_most.get_or_insert(period);
        }
        i = end;
    }
    // Only "whichever comes first" (a cap) is modelled; "whichever is later" is not taken.
    if lower.contains("whichever") && lower.contains("later") {
        at_most = None;
    }
    if (tied || update_time || grace.is_some()) && found.after_fix.is_none() {
        let grace = match grace {
            Some(p) => Grace::Stated(p),
            // "Users have time to update" names no figure: the policy supplies the default.
            None if update_time => Grace::UpdateTime,
            None => Grace::None,
        };
        found.after_fix = Some(AfterFix { line: n, grace });
    }
    if let Some(period) = at_most
        && found.at_most.is_none()
    {
        found.at_most = Some((period, n));
    }
}

fn classify_label(label: &str) -> Option<Class> {
    let l = label.to_lowercase();
    if l.contains("suggest") || l.len() > 40 {
        None
    } else if l.contains("disclos") {
        Some(Class::Disclose)
    } else if l.contains("assessment") {
        Some(Class::Assess)
    } else if l.contains("status update") || l.contains("progress update") || l.trim() == "update" {
        Some(Class::Update)
    } else if l.contains("response") || l.contains("acknowledg") {
        Some(Class::Respond)
    } else if l.contains("fix")
        || l.contains("patch")
        || l.contains("resolution")
        || l.contains("remediation")
    {
        Some(Class::Fix)
    } else {
        None
    }
}

/// Prose ("We will respond within 48 hours."): taken only when exactly one kind is named.
fn classify_prose(text: &str) -> Option<Class> {
    let lower = text.to_lowercase();
    let ws = words(&lower);
    let has = |list: &[&str]| ws.iter().any(|w| list.contains(&w.as_str()));
    let mut classes = Vec::new();
    if has(&["respond", "response", "acknowledge", "acknowledgement"]) {
        classes.push(Class::Respond);
    }
    if lower.contains("status update") {
        classes.push(Class::Update);
    }
    if has(&["assessment", "assess"]) {
        classes.push(Class::Assess);
    }
    if has(&["fix", "fixed", "patch", "resolve", "resolved", "resolution"]) {
        classes.push(Class::Fix);
    }
    if lower.contains("disclos") {
        classes.push(Class::Disclose);
    }
    match classes.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

fn severity_word(word: &str) -> Option<Level> {
    match word {
        "critical" => Some(Level::Critical),
        "high" => Some(Level::High),
        "medium" | "moderate" => Some(Level::Medium),
        "low" => Some(Level::Low),
        _ => None,
    }
}

/// "Critical", "High severity", "Low issues" as a bullet label.
fn severity_label(label: &str) -> Option<Level> {
    let lower = label.to_lowercase();
    let ws = words(&lower);
    let first = severity_word(ws.first()?)?;
    ws[1..]
        .iter()
        .all(|w| {
            matches!(
                w.as_str(),
                "severity" | "issues" | "vulnerabilities" | "risk"
            )
        })
        .then_some(first)
}

fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn in_section(headings: &[(usize, String)], keys: &[&str]) -> bool {
    // The top heading ("# Security Policy") covers the whole file, so it says nothing.
    headings
        .iter()
        .any(|(level, title)| *level >= 2 && keys.iter().any(|k| title.contains(k)))
}

fn fence_marker(trimmed: &str) -> Option<char> {
    if trimmed.starts_with("```") {
        Some('`')
    } else if trimmed.starts_with("~~~") {
        Some('~')
    } else {
        None
    }
}

fn heading(trimmed: &str) -> Option<(usize, &str)> {
    let level = trimmed.chars().take_while(|&c| c == '#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let rest = &trimmed[level..];
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((level, rest.trim().trim_end_matches('#').trim()))
}

/// Split a bullet into its label and value: `- **Initial Response**: Within 48 hours` ->
/// (Some("Initial Response"), "Within 48 hours"). Lines without a short label give (None, text).
fn split_label(trimmed: &str) -> (Option<String>, String) {
    let mut text = trimmed;
    for marker in ["- ", "* ", "+ "] {
        if let Some(rest) = text.strip_prefix(marker) {
            text = rest;
            break;
        }
    }
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 {
        let rest = &text[digits..];
        if let Some(rest) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            text = rest;
        }
    }
    for checkbox in ["[ ] ", "[x] ", "[X] "] {
        if let Some(rest) = text.strip_prefix(checkbox) {
            text = rest;
        }
    }
    let clean = text.replace("**", "").replace("__", "");
    let clean = clean.trim();
    let mut search = 0;
    while let Some(pos) = clean[search..].find(':') {
        let at = search + pos;
        let after = &clean[at + 1..];
        let before = &clean[..at];
        search = at + 1;
        // Not the colon of a URL, an emoji shortcode or a time of day.
        if before.ends_with("http") || before.ends_with("https") || before.ends_with("mailto") {
            continue;
        }
        if !(after.is_empty() || after.starts_with(char::is_whitespace)) {
            continue;
        }
        let label = before.trim();
        if label.is_empty() || label.chars().count() > 40 {
            break;
        }
        return (Some(label.to_string()), after.trim().to_string());
    }
    (None, clean.to_string())
}

fn cells(row: &str) -> Vec<String> {
    let inner = row.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    inner.split('|').map(|c| c.trim().to_string()).collect()
}

fn table_line(trimmed: &str, n: usize, table: &mut Table, out: &mut Vec<SupportedVersion>) {
    let row = cells(trimmed);
    let separator = row
        .iter()
        .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':' | ' ')));
    match *table {
        Table::Out => {
            let lower: Vec<String> = row.iter().map(|c| c.to_lowercase()).collect();
            let version = lower.iter().position(|c| c.contains("version"));
            let supported = lower.iter().position(|c| c.contains("support"));
            *table = match (version, supported) {
                (Some(v), Some(s)) if v != s => Table::Versions(v, s),
                _ => Table::Other,
            };
        }
        Table::Other => {}
        Table::Versions(v, s) => {
            if separator {
                return;
            }
            let (Some(version), Some(mark)) = (row.get(v), row.get(s)) else {
                return;
            };
            let version = version.replace('`', "");
            let version = version.trim();
            if let (false, Some(supported)) = (version.is_empty(), support_mark(mark)) {
                out.push(SupportedVersion {
                    version: version.to_string(),
                    supported,
                    origin: Origin::Line(n),
                });
            }
        }
    }
}

/// ✅ / :white_check_mark: / yes -> true; ❌ / :x: / no -> false; anything else unknown.
fn support_mark(cell: &str) -> Option<bool> {
    let c = cell.to_lowercase();
    let no = [
        "❌",
        ":x:",
        "✗",
        "✘",
        ":no_entry",
        ":heavy_multiplication_x:",
        "not supported",
        "unsupported",
        "end of life",
        "\u{e2}\u{152}", // ❌ mis-decoded with its lost middle byte
    ];
    let yes = [
        "✅",
        ":white_check_mark:",
        ":heavy_check_mark:",
        "✔",
        "✓",
        "supported",
    ];
    let ws = words(&c);
    if no.iter().any(|m| c.contains(m))
        || ws.first().is_some_and(|w| w == "no")
        || ws.iter().any(|w| w == "eol")
    {
        Some(false)
    } else if yes.iter().any(|m| c.contains(m)) || ws.first().is_some_and(|w| w == "yes") {
        Some(true)
    } else {
        None
    }
}

fn channels_in(line: &str, n: usize, out: &mut Vec<Channel>, preferred: &mut Vec<bool>) {
    let lower = line.to_lowercase();
    let is_preferred = lower.contains("preferred") || lower.contains("primary");
    let mut push = |kind: ChannelKind, value: String| {
        let dup = out.iter().position(|c| {
            c.kind == kind && (kind == ChannelKind::GitHubAdvisory || c.value == value)
        });
        match dup {
            Some(i) => preferred[i] |= is_preferred,
            None => {
                out.push(Channel {
                    kind,
                    value,
                    line: n,
                });
                preferred.push(is_preferred);
            }
        }
    };
    for email in emails(line) {
        push(ChannelKind::Email, email);
    }
    // A link is a channel only when its line is about reporting ("security" alone is not:
    // a list of security resources is no place to report to).
    let about_reporting = ["advis", "vulnerab", "report", "private", "disclos"]
        .iter()
        .any(|k| lower.contains(k));
    let mut url_taken = false;
    for url in urls(line) {
        let public = ["/issues", "/discussions", "/pulls"]
            .iter()
            .any(|p| url.contains(p));
        if about_reporting && !public {
            push(ChannelKind::Url, url);
            url_taken = true;
        }
    }
    if !url_taken && lower.contains("github") && lower.contains("advisor") {
        push(ChannelKind::GitHubAdvisory, plain(line));
    }
}

/// A bullet line without its list marker and emphasis, for display.
fn plain(line: &str) -> String {
    let (label, value) = split_label(line);
    match label {
        Some(label) => format!("{label}: {value}"),
        None => value,
    }
}

fn emails(line: &str) -> Vec<String> {
    line.split(|c: char| !(c.is_ascii_alphanumeric() || "._%+-@".contains(c)))
        .filter_map(|token| {
            let token = token.trim_matches('.');
            let (local, domain) = token.split_once('@')?;
            let ok = !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && domain.split('.').all(|part| !part.is_empty());
            ok.then(|| token.to_string())
        })
        .collect()
}

fn urls(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(pos) = rest.find("http") {
        let tail = &rest[pos..];
        if tail.starts_with("https://") || tail.starts_with("http://") {
            let end = tail
                .find(|c: char| c.is_whitespace() || ")]>\"'".contains(c))
                .unwrap_or(tail.len());
            let url = tail[..end].trim_end_matches(['.', ',', ';']);
            found.push(url.to_string());
            rest = &tail[end..];
        } else {
            rest = &tail[4..];
        }
    }
    found
}

/// Words and numbers, with digits split from letters ("48h" -> "48", "h") and dashes kept.
fn tokenize(text: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut kind = 0u8; // 1 digits, 2 letters
    for c in text.chars() {
        let k = if c.is_ascii_digit() {
            1
        } else if c.is_alphabetic() {
            2
        } else {
            0
        };
        if k != kind && !current.is_empty() {
            tokens.push(std::mem::take(&mut current));
        }
        kind = k;
        match k {
            0 if matches!(c, '-' | '–' | '—') => tokens.push("-".to_string()),
            0 => {}
            _ => current.extend(c.to_lowercase()),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

fn number(token: &str) -> Option<u32> {
    if token.chars().all(|c| c.is_ascii_digit()) {
        return token.parse().ok();
    }
    let words = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    words
        .iter()
        .position(|w| *w == token)
        .and_then(|i| u32::try_from(i).ok())
}

fn unit(token: &str) -> Option<Unit> {
    match token {
        "h" | "hr" | "hrs" | "hour" | "hours" => Some(Unit::Hours),
        "d" | "day" | "days" => Some(Unit::Days),
        "w" | "wk" | "wks" | "week" | "weeks" => Some(Unit::Weeks),
        "mo" | "month" | "months" => Some(Unit::Months),
        _ => None,
    }
}

/// A duration starting at token `i`: "48 hours", "1-7 days" (upper bound), "1 to 2 weeks",
/// "a week". Returns it and the index after it. "5 business days" is not taken.
fn duration_at(tokens: &[String], i: usize) -> Option<(Period, usize)> {
    let first = tokens.get(i)?;
    let (mut amount, mut next) = match number(first) {
        Some(a) => (a, i + 1),
        None if matches!(first.as_str(), "a" | "an") => (1, i + 1),
        None => return None,
    };
    if let (Some(sep), Some(upper)) = (tokens.get(next), tokens.get(next + 1))
        && (sep == "-" || sep == "to")
        && let Some(upper) = number(upper)
    {
        amount = upper;
        next += 2;
    }
    let unit = unit(tokens.get(next)?)?;
    // "a" and "an" only count before a unit ("a week"), never as a bare number.
    Some((Period { amount, unit }, next + 1))
}

/// The first duration in `text`.
pub fn first_duration(text: &str) -> Option<Period> {
    let tokens = tokenize(text);
    (0..tokens.len()).find_map(|i| duration_at(&tokens, i).map(|(p, _)| p))
}

/// `text` as exactly one duration ("48h", "72 hours", "within 7 days", "2 weeks", "1 month").
pub fn exact_duration(text: &str) -> Option<Period> {
    let tokens = tokenize(text);
    let start = usize::from(tokens.first().is_some_and(|t| t == "within"));
    match duration_at(&tokens, start) {
        Some((period, end)) if end == tokens.len() => Some(period),
        _ => None,
    }
}

/// `text` as a fix time: a duration, "best effort" or "next release".
pub fn exact_fix_time(text: &str) -> Option<FixTime> {
    if let Some(period) = exact_duration(text) {
        return Some(FixTime::Within(period));
    }
    match words(text).join(" ").as_str() {
        "best effort" => Some(FixTime::BestEffort),
        "next release" => Some(FixTime::NextRelease),
        _ => None,
    }
}

/// Windows-1252 code points 0x80..=0x9F (None: undefined there, kept as the C1 control).
const CP1252_HIGH: [Option<char>; 32] = [
    Some('€'),
    None,
    Some('‚'),
    Some('ƒ'),
    Some('„'),
    Some('…'),
    Some('†'),
    Some('‡'),
    Some('ˆ'),
    Some('‰'),
    Some('Š'),
    Some('‹'),
    Some('Œ'),
    None,
    Some('Ž'),
    None,
    None,
    Some('‘'),
    Some('’'),
    Some('“'),
    Some('”'),
    Some('•'),
    Some('–'),
    Some('—'),
    Some('˜'),
    Some('™'),
    Some('š'),
    Some('›'),
    Some('œ'),
    None,
    Some('ž'),
    Some('Ÿ'),
];

fn cp1252_byte(c: char) -> Option<u8> {
    let code = u32::from(c);
    if code < 0x80 || (0xA0..=0xFF).contains(&code) {
        return u8::try_from(code).ok();
    }
    if (0x80..0xA0).contains(&code) {
        // An undefined Windows-1252 byte some decoders pass through as the C1 control.
        return u8::try_from(code).ok();
    }
    CP1252_HIGH
        .iter()
        .position(|m| *m == Some(c))
        .and_then(|i| u8::try_from(0x80 + i).ok())
}

/// Undo UTF-8 that was decoded as Windows-1252 ("ðŸ“§" -> "📧"), run by run of non-ASCII
/// characters. A run that does not turn back into valid UTF-8 (a byte was lost, or the text
/// was never mis-decoded, like "é") is kept as it is.
pub fn repair_mojibake(line: &str) -> String {
    if line.is_ascii() {
        return line.to_string();
    }
    let mut out = String::with_capacity(line.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.is_empty() {
            return;
        }
        let bytes: Option<Vec<u8>> = run.chars().map(cp1252_byte).collect();
        match bytes.and_then(|b| String::from_utf8(b).ok()) {
            Some(fixed) => out.push_str(&fixed),
            None => out.push_str(run),
        }
        run.clear();
    };
    for c in line.chars() {
        if c.is_ascii() {
            flush(&mut run, &mut out);
            out.push(c);
        } else {
            run.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_about_exploited_issues_sets_their_fix_time_only() {
        let f = scan(
            "### Response timeline\n- **Actively exploited vulnerabilities**: fixed within 72 hours\n\
             - **Resolution**: Within 30 days\n",
        );
        assert_eq!(
            f.fix_known_exploited,
            Some((FixTime::Within(Period::hours(72)), 2))
        );
        // The general figure is the resolution line's, not the exploited line's.
        assert_eq!(
            f.fix[slot(Level::Critical)],
            Some((FixTime::Within(Period::days(30)), 3))
        );
        let f = scan(
            "- Zero-Day Exploits: Emergency response procedures\n- exploitation details: 3 days\n",
        );
        assert_eq!(f.fix_known_exploited, None);
    }

    fn fix(found: &Found, level: Level) -> Option<(FixTime, usize)> {
        found.fix[slot(level)]
    }

    #[test]
    fn labelled_bullets_give_figures_and_lines() {
        let f = scan(
            "# P\n\n### Response Timeline\n\n- **Initial Response**: Within 48 hours\n\
             - **Status Update:** Within 7 days\n- **Resolution**: Within 30 days (depending on complexity)\n",
        );
        assert_eq!(f.response, Some((Period::hours(48), 5)));
        assert_eq!(f.update, Some((Period::days(7), 6)));
        for level in SEVERITIES {
            assert_eq!(fix(&f, level), Some((FixTime::Within(Period::days(30)), 7)));
        }
    }

    #[test]
    fn nested_severity_bullets_take_the_upper_bound() {
        let f = scan(
            "## Timeline\n- **Fix Timeline**: Depends on severity\n  - Critical: 1-7 days\n\
             \x20 - High: 7–30 days\n  - Medium: 30 to 90 days\n  - Low: Best effort\n- Other: 5 days\n",
        );
        assert_eq!(
            fix(&f, Level::Critical),
            Some((FixTime::Within(Period::days(7)), 3))
        );
        assert_eq!(
            fix(&f, Level::High),
            Some((FixTime::Within(Period::days(30)), 4))
        );
        assert_eq!(
            fix(&f, Level::Medium),
            Some((FixTime::Within(Period::days(90)), 5))
        );
        assert_eq!(fix(&f, Level::Low), Some((FixTime::BestEffort, 6)));
    }

    #[test]
    fn inline_severity_pairs_skip_figures_without_a_number() {
        let f = scan(
            "- **Fix/Patch:** Depends on severity (critical: days, high: 1-2 weeks, medium: 1 month, low: next release)\n",
        );
        assert_eq!(fix(&f, Level::Critical), None);
        assert_eq!(
            fix(&f, Level::High),
            Some((FixTime::Within(Period::weeks(2)), 1))
        );
        assert_eq!(
            fix(&f, Level::Medium),
            Some((FixTime::Within(Period::months(1)), 1))
        );
        assert_eq!(fix(&f, Level::Low), Some((FixTime::NextRelease, 1)));
    }

    #[test]
    fn a_figure_naming_a_severity_applies_to_it_only() {
        let f = scan("- **Fix Available**: Within 2 weeks (critical issues)\n");
        assert_eq!(
            fix(&f, Level::Critical),
            Some((FixTime::Within(Period::weeks(2)), 1))
        );
        assert_eq!(fix(&f, Level::High), None);
        assert_eq!(fix(&f, Level::Low), None);
    }

    #[test]
    fn assessment_is_its_own_figure_not_a_status_update() {
        let f = scan(
            "## Timeline\n- **Assessment Complete**: Within 1 week\n- **Status Update**: 3 days\n\
             We will assess the report within 5 days.\n",
        );
        assert_eq!(f.assessment, Some((Period::weeks(1), 2)));
        assert_eq!(f.update, Some((Period::days(3), 3)));
    }

    #[test]
    fn a_severity_rule_without_a_figure_is_cited_not_invented() {
        let f = scan("- **Fix/Patch:** by severity (critical: days, high: 1-2 weeks)\n");
        assert_eq!(fix(&f, Level::Critical), None);
        assert_eq!(f.fix_unstated[slot(Level::Critical)], Some(1));
        assert_eq!(f.fix_unstated[slot(Level::High)], None);
    }

    #[test]
    fn immediate_patches_for_a_severity_replace_a_general_figure() {
        let f = scan(
            "### Response timeline\n- **Resolution**: Within 30 days\n\
             ### Emergency Updates\n- **Critical Vulnerabilities**: Immediate patches\n\
             - **High Severity**: Immediate patches\n- **Zero-Day Exploits**: Emergency response\n",
        );
        assert_eq!(fix(&f, Level::Critical), Some((FixTime::Immediate, 4)));
        assert_eq!(fix(&f, Level::High), Some((FixTime::Immediate, 5)));
        assert_eq!(
            fix(&f, Level::Low),
            Some((FixTime::Within(Period::days(30)), 2))
        );
        // A figure for a named severity is not replaced by a later one.
        let f = scan("- Fix: critical: 3 days\n- **Critical**: Immediate patches\n");
        assert_eq!(
            fix(&f, Level::Critical),
            Some((FixTime::Within(Period::days(3)), 1))
        );
        // "Immediate" without a fix word is no fix rule.
        let f = scan("- **Critical**: Immediate attention\n");
        assert_eq!(fix(&f, Level::Critical), None);
    }

    #[test]
    fn current_version_heading_or_bullet() {
        let f = scan("## Security\n### Current Version: v0.2.5-alpha\n**Version:** 1.0\n");
        assert_eq!(f.current_version, Some(("v0.2.5-alpha".into(), 2)));
        let f = scan("- **Current Version**: `2.1.0` (stable)\n");
        assert_eq!(f.current_version, Some(("2.1.0".into(), 1)));
        let f = scan("**Version:** 1.0\n### Current Version: unreleased\n");
        assert_eq!(f.current_version, None);
    }

    #[test]
    fn a_response_time_is_never_a_fix_time_and_first_wins() {
        let f = scan(
            "## Response\n- **Initial Response**: Within 48 hours\n## Contact\n\
             - **Response Time**: Within 24 hours for critical issues\n",
        );
        assert_eq!(f.response, Some((Period::hours(48), 2)));
        assert!(f.fix.iter().all(Option::is_none));
    }

    #[test]
    fn disclosure_forms() {
        let f = scan(
            "- **Public Disclosure:** After fix is released or 90 days from report, whichever comes first\n",
        );
        let tied = |line, grace| Some(AfterFix { line, grace });
        assert_eq!(f.after_fix, tied(1, Grace::None));
        assert_eq!(f.at_most, Some((Period::days(90), 1)));

        let f =
            scan("- **Public Disclosure**: After fix is released and users have time to update\n");
        // No figure on the line: the grace is depwatch's default, never a figure of the line.
        assert_eq!(f.after_fix, tied(1, Grace::UpdateTime));
        assert_eq!(f.at_most, None);

        let f = scan(
            "### Disclosure Policy\n\n- We will publish a security advisory once the fix is released\n",
        );
        assert_eq!(f.after_fix, tied(3, Grace::None));

        let f = scan("- Disclosure: 30 days after the fix is released\n");
        assert_eq!(f.after_fix, tied(1, Grace::Stated(Period::days(30))));
        assert_eq!(f.at_most, None);

        let f = scan("- Disclosure: after the fix or 60 days, whichever is later\n");
        assert_eq!(f.at_most, None);
    }

    #[test]
    fn prose_in_a_timeline_section_is_read_when_unambiguous() {
        let f = scan(
            "## Reporting\nYou should receive a response within 2 days.\n\
             We will fix and respond within 9 days.\n## Usage\nWe fix things within 3 days.\n",
        );
        assert_eq!(f.response, Some((Period::days(2), 2)));
        // Line 3 names two kinds, line 5 is outside any reporting section.
        assert!(f.fix.iter().all(Option::is_none));
    }

    #[test]
    fn fenced_code_is_skipped() {
        let f = scan(
            "## Timeline\n```\n- Initial Response: within 1 hour\n```\n- Initial Response: 3 days\n",
        );
        assert_eq!(f.response, Some((Period::days(3), 5)));
    }

    #[test]
    fn tables_with_emoji_shortcodes_and_mojibake() {
        let f = scan(
            "| Version | Supported |\n| --- | :---: |\n| 2.x | ✅ |\n| 1.x | :white_check_mark: |\n\
             | 0.9 | ❌ |\n| < 0.9 | :x: |\n| 0.1 | \u{e2}\u{153}\u{2026} |\n| ??? | maybe |\n\n\
             | Risk | Supported |\n|---|---|\n| x | ✅ |\n",
        );
        let rows: Vec<(&str, bool, Origin)> = f
            .supported
            .iter()
            .map(|r| (r.version.as_str(), r.supported, r.origin))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("2.x", true, Origin::Line(3)),
                ("1.x", true, Origin::Line(4)),
                ("0.9", false, Origin::Line(5)),
                ("< 0.9", false, Origin::Line(6)),
                ("0.1", true, Origin::Line(7)),
            ]
        );
    }

    #[test]
    fn mojibake_is_repaired_when_the_bytes_survived() {
        assert_eq!(repair_mojibake("- ðŸ“§ mail"), "- 📧 mail");
        assert_eq!(repair_mojibake("tab â†’ x"), "tab → x");
        // A lost byte: kept as is, the ASCII around it still reads.
        assert_eq!(repair_mojibake("### â±ï¸ Response"), "### â±ï¸ Response");
        assert_eq!(repair_mojibake("café ✅"), "café ✅");
    }

    #[test]
    fn mojibake_headings_still_scope_sections() {
        let f = scan("### â±ï¸ Response Timeline\nWe respond within 12 hours.\n");
        assert_eq!(f.response, Some((Period::hours(12), 2)));
    }

    #[test]
    fn invalid_utf8_is_tolerated() {
        let bytes = b"## Timeline\n- Initial Response: \xff\xfe within 4 days\n";
        let f = scan(&String::from_utf8_lossy(bytes));
        assert_eq!(f.response, Some((Period::days(4), 2)));
    }

    #[test]
    fn channels_in_reporting_sections_only() {
        let f = scan(
            "## Security Measures\n- **GitHub Security Advisories**: monitoring\n\
             ## Reporting a Vulnerability\n1. **Email us** at [placeholder]\n\
             2. **GitHub Security Advisories** (preferred): Report a vulnerability button\n\
             Send an email to: **security@example.com**.\n\
             ## Contact\n- Issues: [GitHub Issues](https://github.com/o/r/issues)\n\
             - Email: security@example.com\n- [Private advisory](https://github.com/o/r/security/advisories)\n",
        );
        let got: Vec<(ChannelKind, &str, usize)> = f
            .channels
            .iter()
            .map(|c| (c.kind, c.value.as_str(), c.line))
            .collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].0, ChannelKind::GitHubAdvisory);
        assert_eq!(got[0].2, 5);
        assert_eq!(got[1], (ChannelKind::Email, "security@example.com", 6));
        assert_eq!(
            got[2],
            (
                ChannelKind::Url,
                "https://github.com/o/r/security/advisories",
                10
            )
        );
    }

    proptest::proptest! {
        #[test]
        fn any_text_scans_without_panic(text in "[-|:*#`~ \n0-9a-zA-Z@./()✅❌ðŸâ€œ]{0,200}") {
            let found = scan(&text);
            let lines = text.lines().count();
            // Every figure points at a real line of the text.
            let mut cited: Vec<usize> = found.channels.iter().map(|c| c.line).collect();
            cited.extend(found.response.map(|r| r.1));
            cited.extend(found.fix.iter().flatten().map(|f| f.1));
            proptest::prop_assert!(cited.iter().all(|&l| l >= 1 && l <= lines));
        }

        #[test]
        fn arbitrary_unicode_scans_without_panic(text in "\\PC{0,120}") {
            let _ = scan(&text);
            let _ = exact_duration(&text);
            let _ = repair_mojibake(&text);
        }
    }

    #[test]
    fn durations() {
        assert_eq!(exact_duration("48h"), Some(Period::hours(48)));
        assert_eq!(exact_duration("72 hours"), Some(Period::hours(72)));
        assert_eq!(exact_duration("within 7 days"), Some(Period::days(7)));
        assert_eq!(exact_duration("2 weeks"), Some(Period::weeks(2)));
        assert_eq!(exact_duration("1 month"), Some(Period::months(1)));
        assert_eq!(exact_duration("a week"), Some(Period::weeks(1)));
        assert_eq!(exact_duration("1-2 weeks"), Some(Period::weeks(2)));
        assert_eq!(exact_duration("soon"), None);
        assert_eq!(exact_duration("7 days please"), None);
        assert_eq!(exact_duration("99999999999 days"), None);
        assert_eq!(first_duration("within 5 business days"), None);
        assert_eq!(first_duration("days"), None);
        assert_eq!(exact_fix_time("Best effort"), Some(FixTime::BestEffort));
        assert_eq!(exact_fix_time("next release"), Some(FixTime::NextRelease));
    }
}
