//! A line reader for `Cargo.lock` as Cargo writes it, tried before the TOML parser.
//!
//! Why by hand: on uv's `Cargo.lock` (8,600 lines) the general TOML parser, and dropping its
//! document, took about 4 ms of a 12 ms store scan (`perf record` of `depwatch scan`; timings in
//! the bench notes). Cargo writes every lockfile in one fixed layout: a `version = N` line,
//! `[[package]]` tables of `key = "string"` lines, and `dependencies` arrays with one string per
//! line. Reading that layout line by line costs a tenth of that.
//!
//! The layout accepted here is a strict subset of TOML that means the same under any TOML
//! parser: bare keys, basic strings without escapes or control characters, no key twice, only
//! `[[package]]` headers, comments only on their own line. Anything else (a hand-edited file,
//! CRLF line ends, v1's `[root]` and `[metadata]`, `[[patch.unused]]`, a bad checksum, a
//! missing field) makes [`read`] return `None`, and the TOML reader takes the whole file and
//! reports any error with its line. The tests check both readers agree on every lockfile of the
//! corpus and on mutated copies of one.

use super::RawPkg;

/// The packages of a lockfile in Cargo's own layout, or `None` when the file is anything else.
pub(super) fn read(text: &str) -> Option<Vec<RawPkg<'_>>> {
    let mut out = Vec::new();
    let mut current: Option<Partial<'_>> = None;
    let mut seen_version = false;
    let mut lines = text.split('\n').enumerate();
    while let Some((i, line)) = lines.next() {
        let line_no = i + 1;
        if line.is_empty() {
            continue;
        }
        if line.starts_with('#') {
            // TOML allows no control character but tab in a comment.
            if line.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
                return None;
            }
            continue;
        }
        if line == "[[package]]" {
            if let Some(p) = current.take() {
                out.push(p.finish()?);
            }
            current = Some(Partial::default());
            continue;
        }
        let (key, value) = line.split_once(" = ")?;
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return None;
        }
        let Some(p) = current.as_mut() else {
            // Before the first table only the format version may appear.
            if key != "version" || seen_version || !matches!(value, "1" | "2" | "3" | "4") {
                return None;
            }
            seen_version = true;
            continue;
        };
        if p.keys.contains(&key) {
            return None;
        }
        p.keys.push(key);
        if value == "[" {
            if key != "dependencies" {
                return None;
            }
            let mut deps = Vec::new();
            loop {
                let (j, entry) = lines.next()?;
                if entry == "]" {
                    break;
                }
                let spec = entry.strip_prefix(" \"")?.strip_suffix("\",")?;
                if !plain(spec) {
                    return None;
                }
                deps.push((spec, j + 1));
            }
            p.dependencies = deps;
            continue;
        }
        let value = value.strip_prefix('"')?.strip_suffix('"')?;
        if !plain(value) {
            return None;
        }
        match key {
            "name" => p.name = Some((value, line_no)),
            "version" => p.version = Some((value, line_no)),
            "source" => p.source = Some(value),
            "checksum" if !is_sha256(value) => return None,
            // `dependencies` must be an array; the TOML reader reports a string there.
            "dependencies" => return None,
            // Any other string key (a valid `checksum`, `replace`) is not read.
            _ => {}
        }
    }
    out.push(current?.finish()?);
    Some(out)
}

/// A basic string's content that needs no unescaping: no quote, backslash or control character.
fn plain(s: &str) -> bool {
    !s.bytes()
        .any(|b| b == b'"' || b == b'\\' || b < 0x20 || b == 0x7f)
}

/// 64 hex digits, as Cargo writes a checksum.
fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A `[[package]]` table being read.
#[derive(Default)]
struct Partial<'a> {
    keys: Vec<&'a str>,
    name: Option<(&'a str, usize)>,
    version: Option<(&'a str, usize)>,
    source: Option<&'a str>,
    dependencies: Vec<(&'a str, usize)>,
}

impl<'a> Partial<'a> {
    /// The package, or `None` without a name or version (the TOML reader reports that).
    fn finish(self) -> Option<RawPkg<'a>> {
        let (name, name_line) = self.name?;
        let (version, version_line) = self.version?;
        Some(RawPkg {
            name,
            name_line,
            version,
            version_line,
            source: self.source,
            dependencies: self.dependencies,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::read_packages;
    use super::*;
    use crate::manifests::LineIndex;
    use proptest::prelude::*;
    use std::path::Path;
    use toml::de::DeTable;

    /// What the TOML reader makes of `text`: its packages, or `None` for any error.
    fn via_toml(text: &str, check: impl FnOnce(Option<Vec<RawPkg<'_>>>)) {
        let Ok(doc) = DeTable::parse(text) else {
            return check(None);
        };
        let path = Path::new("Cargo.lock");
        let ok = super::super::check_checksums(path, text, doc.get_ref()).is_ok();
        let index = LineIndex::new(text);
        check(
            read_packages(path, &index, doc.get_ref())
                .ok()
                .filter(|_| ok),
        )
    }

    /// Both readers agree on `text` whenever the line reader accepts it.
    fn agree(text: &str) -> bool {
        let Some(fast) = read(text) else {
            return false;
        };
        via_toml(text, |slow| {
            assert_eq!(
                slow.as_ref(),
                Some(&fast),
                "the readers disagree on:\n{text}"
            )
        });
        true
    }

    #[test]
    fn real_lockfiles_take_the_line_reader_and_read_the_same() {
        for path in [
            concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock"),
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../shared/corpus/manifests/uv/Cargo.lock"
            ),
        ] {
            let text = std::fs::read_to_string(path).unwrap();
            assert!(agree(&text), "{path} was not read by the line reader");
            let n = read(&text).unwrap().len();
            assert!(n > 100, "{path}: {n} packages");
        }
    }

    const SMALL: &str = "# This file is automatically @generated by Cargo.\n\
        # It is not intended for manual editing.\n\
        version = 4\n\
        \n\
        [[package]]\n\
        name = \"app\"\n\
        version = \"0.1.0\"\n\
        dependencies = [\n \"dup 1.0.0 (git+https://example.com/dup#0123)\",\n \"leaf\",\n]\n\
        \n\
        [[package]]\n\
        name = \"dup\"\n\
        version = \"1.0.0\"\n\
        source = \"git+https://example.com/dup#0123\"\n\
        \n\
        [[package]]\n\
        name = \"leaf\"\n\
        version = \"0.1.0-rc.1+build\"\n\
        source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\
        checksum = \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"\n";

    #[test]
    fn cargo_layout_is_read_and_lines_are_kept() {
        let pkgs = read(SMALL).unwrap();
        assert!(agree(SMALL));
        assert_eq!(pkgs.len(), 3);
        assert_eq!((pkgs[0].name, pkgs[0].name_line), ("app", 6));
        assert_eq!(pkgs[0].dependencies[1], ("leaf", 10));
        assert_eq!(
            (pkgs[2].version, pkgs[2].version_line),
            ("0.1.0-rc.1+build", 20)
        );
        assert_eq!(pkgs[1].source, Some("git+https://example.com/dup#0123"));
    }

    #[test]
    fn anything_else_is_left_to_the_toml_reader() {
        let declined = [
            // Escapes, CRLF, trailing comments, spacing, inline arrays.
            SMALL.replace("name = \"leaf\"", "name = \"le\\u0061f\""),
            SMALL.replace('\n', "\r\n"),
            SMALL.replace("name = \"dup\"", "name = \"dup\" # a comment"),
            SMALL.replace("name = \"dup\"", "name  = \"dup\""),
            SMALL.replace("dependencies = [\n \"dup 1.0.0 (git+https://example.com/dup#0123)\",\n \"leaf\",\n]", "dependencies = [\"leaf\"]"),
            // Other tables, a duplicate key, a bad checksum, a missing version, no package.
            format!("{SMALL}\n[metadata]\n\"checksum leaf 0.1.0\" = \"00\"\n"),
            SMALL.replace("name = \"dup\"\n", "name = \"dup\"\nname = \"dup\"\n"),
            SMALL.replace("0123456789abcdef0123", "0123456789abcdefXXXX"),
            SMALL.replace("version = \"1.0.0\"\n", ""),
            "version = 4\n".to_string(),
            // A format version Cargo never wrote.
            SMALL.replace("version = 4", "version = 5"),
        ];
        for text in declined {
            assert!(read(&text).is_none(), "accepted:\n{text}");
        }
    }

    proptest! {
        /// The line reader never accepts what TOML reads differently: for any small edit of a
        /// lockfile (a character inserted or deleted, a line repeated or dropped), either the
        /// line reader declines it or both readers return the same packages.
        #[test]
        fn edits_are_declined_or_read_alike(
            at in 0usize..SMALL.len(),
            op in 0u8..4,
            ch in prop::sample::select(vec!['"', '\\', ' ', '=', '[', ']', '#', '\n', '\t', 'a', '1', '.', ',', '\u{7f}', 'é']),
        ) {
            let mut text = SMALL.to_string();
            let at = (0..=at).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            match op {
                0 => text.insert(at, ch),
                1 => {
                    if at < text.len() {
                        text.remove(at);
                    }
                }
                _ => {
                    let lines: Vec<&str> = text.split('\n').collect();
                    let n = SMALL[..at].matches('\n').count().min(lines.len() - 1);
                    let mut edited: Vec<&str> = lines.clone();
                    if op == 2 {
                        edited.insert(n, lines[n]);
                    } else {
                        edited.remove(n);
                    }
                    text = edited.join("\n");
                }
            }
            agree(&text);
        }
    }
}
