//! Target environments: where a project says it runs (Python versions, platforms,
//! implementations), and whether a dependency's PEP 508 markers can hold in any of them.
//!
//! Markers are parsed by `pep508_rs` into its canonical decision diagram. `pep508_rs` only
//! evaluates a marker against a *complete* environment (every key fixed); a declared target
//! fixes a few keys and leaves the rest (`platform_machine`, `extra`, `platform_release`...)
//! unknown. So the diagram is walked here: a node on a key the target fixes follows the one
//! edge that value takes, a node on an unknown key tries every edge. The marker "may apply"
//! when some path reaches `true`, i.e. when it holds for *some* value of the unknown keys:
//! the conservative answer. Only a marker false for every such value is "not applicable".
//!
//! What depwatch supplies (not any source): a Python version `3.11` stands for every 3.11.x
//! (`python_full_version` in `==3.11.*`; `3.11.4` is that release only); a platform fixes
//! `sys_platform`, `platform_system` and `os_name` to CPython's values on it; an
//! implementation fixes `implementation_name` and `platform_python_implementation`.

use pep508_rs::pep440_rs::{Version, VersionSpecifier, release_specifier_to_range};
use pep508_rs::{MarkerTree, MarkerTreeKind, MarkerValueString, MarkerValueVersion};
use std::str::FromStr;
use version_ranges::Ranges;

/// Longest marker evaluated. A longer one (only a hostile or broken file has one) is counted as
/// applying: parsing it would grow `pep508_rs`'s global marker interner for nothing.
pub const MAX_MARKER_LEN: usize = 8 * 1024;

/// A declared value depwatch does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvironmentError {
    /// Not a Python release like `3.11` or `3.11.4`.
    #[error("python `{0}` is not a Python release (write it as `3.11` or `3.11.4`)")]
    Python(String),
    /// Not a known platform.
    #[error("platform `{0}` is not one depwatch knows (linux, windows, darwin or macos)")]
    Platform(String),
    /// Not a known implementation.
    #[error("implementation `{0}` is not one depwatch knows (cpython or pypy)")]
    Implementation(String),
}

/// A declared Python version and the `python_full_version` values it stands for.
#[derive(Debug, Clone, PartialEq)]
struct Python {
    text: String,
    full: Ranges<Version>,
}

impl Python {
    fn parse(text: &str) -> Result<Self, EnvironmentError> {
        let t = text.trim();
        let parts: Vec<&str> = t.split('.').collect();
        let well_formed = (1..=3).contains(&parts.len())
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()));
        if !well_formed {
            return Err(EnvironmentError::Python(crate::text::shorten(t, 40)));
        }
        // `3.11` is every 3.11.x (the patch release is not declared); `3.11.4` is that one.
        let spec = if parts.len() == 3 {
            format!("=={t}")
        } else {
            format!("=={t}.*")
        };
        let spec = VersionSpecifier::from_str(&spec)
            .map_err(|_| EnvironmentError::Python(crate::text::shorten(t, 40)))?;
        Ok(Self {
            text: t.to_string(),
            full: release_specifier_to_range(spec),
        })
    }
}

/// A declared platform, with the values CPython reports on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Platform {
    Linux,
    Windows,
    Darwin,
}

impl Platform {
    fn parse(text: &str) -> Result<Self, EnvironmentError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "linux" => Ok(Self::Linux),
            "windows" | "win32" => Ok(Self::Windows),
            "darwin" | "macos" => Ok(Self::Darwin),
            _ => Err(EnvironmentError::Platform(crate::text::shorten(
                text.trim(),
                40,
            ))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Linux => "linux",
            Self::Windows => "windows",
            Self::Darwin => "darwin",
        }
    }

    fn sys_platform(self) -> &'static str {
        match self {
            Self::Linux => "linux",
            Self::Windows => "win32",
            Self::Darwin => "darwin",
        }
    }

    fn platform_system(self) -> &'static str {
        match self {
            Self::Linux => "Linux",
            Self::Windows => "Windows",
            Self::Darwin => "Darwin",
        }
    }

    fn os_name(self) -> &'static str {
        match self {
            Self::Windows => "nt",
            Self::Linux | Self::Darwin => "posix",
        }
    }
}

/// A declared Python implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Implementation {
    CPython,
    PyPy,
}

impl Implementation {
    fn parse(text: &str) -> Result<Self, EnvironmentError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "cpython" => Ok(Self::CPython),
            "pypy" => Ok(Self::PyPy),
            _ => Err(EnvironmentError::Implementation(crate::text::shorten(
                text.trim(),
                40,
            ))),
        }
    }

    fn implementation_name(self) -> &'static str {
        match self {
            Self::CPython => "cpython",
            Self::PyPy => "pypy",
        }
    }

    fn platform_python_implementation(self) -> &'static str {
        match self {
            Self::CPython => "CPython",
            Self::PyPy => "PyPy",
        }
    }
}

/// One declared environment: each part `None` when not declared (then any value may hold).
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    python: Option<Python>,
    platform: Option<Platform>,
    implementation: Option<Implementation>,
}

impl std::fmt::Display for Environment {
    /// `python 3.11, linux, cpython`, naming only what was declared.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(p) = &self.python {
            parts.push(format!("python {}", p.text));
        }
        if let Some(p) = self.platform {
            parts.push(p.name().to_string());
        }
        if let Some(i) = self.implementation {
            parts.push(i.implementation_name().to_string());
        }
        f.write_str(&parts.join(", "))
    }
}

impl Environment {
    /// The value this environment fixes for a string key, `None` when it leaves it open.
    fn string(&self, key: &MarkerValueString) -> Option<&'static str> {
        use MarkerValueString as K;
        match key {
            K::SysPlatform | K::SysPlatformDeprecated => self.platform.map(Platform::sys_platform),
            K::PlatformSystem => self.platform.map(Platform::platform_system),
            K::OsName | K::OsNameDeprecated => self.platform.map(Platform::os_name),
            K::ImplementationName => self.implementation.map(Implementation::implementation_name),
            K::PlatformPythonImplementation
            | K::PlatformPythonImplementationDeprecated
            | K::PythonImplementationDeprecated => self
                .implementation
                .map(Implementation::platform_python_implementation),
            // Machine, release and version strings are never declared.
            _ => None,
        }
    }

    /// Whether `tree` is true for some value of the keys this environment leaves open.
    fn may_satisfy(&self, tree: &MarkerTree) -> bool {
        match tree.kind() {
            MarkerTreeKind::True => true,
            MarkerTreeKind::False => false,
            MarkerTreeKind::Version(node) => {
                // `python_version` markers are normalised to `python_full_version` nodes.
                let known = match (node.key(), &self.python) {
                    (MarkerValueVersion::PythonFullVersion, Some(p)) => Some(&p.full),
                    _ => None,
                };
                node.edges().any(|(range, child)| {
                    known.is_none_or(|k| !range.is_disjoint(k)) && self.may_satisfy(&child)
                })
            }
            MarkerTreeKind::String(node) => match self.string(node.key()) {
                Some(value) => {
                    let value = value.to_string();
                    node.children()
                        .any(|(range, child)| range.contains(&value) && self.may_satisfy(&child))
                }
                None => node.children().any(|(_, child)| self.may_satisfy(&child)),
            },
            // `'x' in key`: the key's value is a substring of the literal.
            MarkerTreeKind::In(node) => match self.string(node.key()) {
                Some(value) => self.may_satisfy(&node.edge(node.value().contains(value))),
                None => node.children().any(|(_, child)| self.may_satisfy(&child)),
            },
            // `key contains 'x'` (`'x' in key` written the other way round).
            MarkerTreeKind::Contains(node) => match self.string(node.key()) {
                Some(value) => self.may_satisfy(&node.edge(value.contains(node.value()))),
                None => node.children().any(|(_, child)| self.may_satisfy(&child)),
            },
            // Extras are never declared: either way may hold.
            MarkerTreeKind::Extra(node) => {
                node.children().any(|(_, child)| self.may_satisfy(&child))
            }
        }
    }
}

/// Whether a dependency's markers can hold in a project's declared environments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applies {
    /// True in at least one declared environment, for some value of the undeclared keys (or
    /// nothing is declared).
    Maybe,
    /// False in every declared environment, whatever the undeclared keys are.
    NotHere,
    /// The markers could not be read in full (the message says why): counted as applying.
    Unreadable(String),
}

/// The environments a project declares: every combination of its Python versions, platforms
/// and implementations. Empty: nothing declared, every marker may apply.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Targets {
    envs: Vec<Environment>,
}

impl Targets {
    /// The environments declared by these lists (each may be empty: that part is undeclared).
    pub fn new(
        python: &[String],
        platforms: &[String],
        implementations: &[String],
    ) -> Result<Self, EnvironmentError> {
        let python = python
            .iter()
            .map(|p| Python::parse(p))
            .collect::<Result<Vec<_>, _>>()?;
        let platforms = platforms
            .iter()
            .map(|p| Platform::parse(p))
            .collect::<Result<Vec<_>, _>>()?;
        let implementations = implementations
            .iter()
            .map(|p| Implementation::parse(p))
            .collect::<Result<Vec<_>, _>>()?;
        if python.is_empty() && platforms.is_empty() && implementations.is_empty() {
            return Ok(Self::default());
        }
        let (python, platforms, implementations) = (
            optional(python),
            optional(platforms),
            optional(implementations),
        );
        let mut envs = Vec::new();
        for py in &python {
            for platform in &platforms {
                for implementation in &implementations {
                    let env = Environment {
                        python: py.clone(),
                        platform: *platform,
                        implementation: *implementation,
                    };
                    if !envs.contains(&env) {
                        envs.push(env);
                    }
                }
            }
        }
        Ok(Self { envs })
    }

    /// Whether any environment is declared.
    pub fn is_declared(&self) -> bool {
        !self.envs.is_empty()
    }

    /// The declared environments, for people (`python 3.11, linux`).
    pub fn describe(&self) -> Vec<String> {
        self.envs.iter().map(ToString::to_string).collect()
    }

    /// Whether markers written as `markers` may hold in a declared environment.
    pub fn applies(&self, markers: &str) -> Applies {
        if !self.is_declared() || markers.trim().is_empty() {
            return Applies::Maybe;
        }
        let tree = match parse_markers(markers) {
            Ok(t) => t,
            Err(e) => return Applies::Unreadable(e),
        };
        if self.envs.iter().any(|env| env.may_satisfy(&tree)) {
            Applies::Maybe
        } else {
            Applies::NotHere
        }
    }
}

/// Each value as `Some`, or one `None` (that part undeclared) when there is none.
fn optional<T>(v: Vec<T>) -> Vec<Option<T>> {
    if v.is_empty() {
        vec![None]
    } else {
        v.into_iter().map(Some).collect()
    }
}

/// Parse markers with `pep508_rs`. An expression it would skip (`python_version == 'x'`, a
/// string compared with `~=`) makes the whole marker unreadable: skipping one side of an `or`
/// would make the marker narrower than written, and "not applicable" must never come from that.
fn parse_markers(markers: &str) -> Result<MarkerTree, String> {
    if markers.len() > MAX_MARKER_LEN {
        return Err(format!("longer than {MAX_MARKER_LEN} bytes, not evaluated"));
    }
    let mut skipped: Vec<String> = Vec::new();
    let mut reporter = |_kind, message: String| skipped.push(message);
    // `pep508_rs` is not written for hostile input (its requirement parser is known to panic
    // on some names); a panic here must not end the scan, only make this marker unreadable.
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        MarkerTree::parse_reporter(markers, &mut reporter).map_err(|e| e.message.to_string())
    }))
    .unwrap_or_else(|_| Err("the marker parser failed on it".to_string()))?;
    match skipped.first() {
        Some(why) => Err(crate::text::shorten(why, 200)),
        None => Ok(parsed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(py: &[&str], plat: &[&str], imp: &[&str]) -> Targets {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        Targets::new(&v(py), &v(plat), &v(imp)).unwrap()
    }

    #[test]
    fn python_versions_decide_python_markers() {
        let t = targets(&["3.11", "3.12"], &[], &[]);
        assert_eq!(t.applies("python_version < '3.12'"), Applies::Maybe);
        assert_eq!(t.applies("python_version >= '3.12'"), Applies::Maybe);
        assert_eq!(t.applies("python_version < '3.11'"), Applies::NotHere);
        assert_eq!(t.applies("python_version >= '3.13'"), Applies::NotHere);
        assert_eq!(
            t.applies("python_version == '3.10' or python_version == '3.13'"),
            Applies::NotHere
        );
        let one = targets(&["3.11"], &[], &[]);
        assert_eq!(one.applies("python_version>='3.12'"), Applies::NotHere);
        assert_eq!(one.applies("python_version<'3.12'"), Applies::Maybe);
    }

    #[test]
    fn a_minor_version_is_every_patch_release() {
        // `3.11` does not say which 3.11.x: a marker true for some patch release may apply.
        let t = targets(&["3.11"], &[], &[]);
        assert_eq!(t.applies("python_full_version >= '3.11.4'"), Applies::Maybe);
        assert_eq!(t.applies("python_full_version < '3.11.2'"), Applies::Maybe);
        assert_eq!(
            t.applies("python_full_version >= '3.12.0'"),
            Applies::NotHere
        );
        assert_eq!(
            t.applies("python_full_version == '3.9.*'"),
            Applies::NotHere
        );
        // A full version is that release only.
        let exact = targets(&["3.11.1"], &[], &[]);
        assert_eq!(
            exact.applies("python_full_version >= '3.11.4'"),
            Applies::NotHere
        );
        assert_eq!(
            exact.applies("python_full_version < '3.11.2'"),
            Applies::Maybe
        );
    }

    #[test]
    fn platforms_and_implementations() {
        let linux = targets(&[], &["linux"], &[]);
        assert_eq!(linux.applies("sys_platform == 'win32'"), Applies::NotHere);
        assert_eq!(
            linux.applies("platform_system == 'Windows'"),
            Applies::NotHere
        );
        assert_eq!(linux.applies("os_name == 'nt'"), Applies::NotHere);
        assert_eq!(linux.applies("sys_platform == 'linux'"), Applies::Maybe);
        assert_eq!(linux.applies("sys_platform != 'darwin'"), Applies::Maybe);
        assert_eq!(linux.applies("'linux' in sys_platform"), Applies::Maybe);
        assert_eq!(
            linux.applies("sys_platform in 'win32 cygwin'"),
            Applies::NotHere
        );
        let mac = targets(&[], &["macos"], &[]);
        assert_eq!(mac.applies("sys_platform == 'darwin'"), Applies::Maybe);
        assert_eq!(mac.applies("os_name == 'posix'"), Applies::Maybe);
        let pypy = targets(&[], &[], &["pypy"]);
        assert_eq!(
            pypy.applies("implementation_name != 'PyPy'"),
            Applies::Maybe
        );
        assert_eq!(
            pypy.applies("implementation_name != 'pypy'"),
            Applies::NotHere
        );
        assert_eq!(
            pypy.applies("platform_python_implementation == 'CPython'"),
            Applies::NotHere
        );
        // Python version undeclared: any may hold.
        assert_eq!(pypy.applies("python_version < '2.7'"), Applies::Maybe);
    }

    #[test]
    fn undeclared_keys_stay_conservative() {
        let t = targets(&["3.12"], &["linux"], &["cpython"]);
        // platform_machine and extra are never declared: either value may hold.
        assert_eq!(t.applies("platform_machine == 'aarch64'"), Applies::Maybe);
        assert_eq!(t.applies("platform_machine != 'aarch64'"), Applies::Maybe);
        assert_eq!(t.applies("extra == 'socks'"), Applies::Maybe);
        assert_eq!(t.applies("platform_release >= '6'"), Applies::Maybe);
        // ... but not when a declared key rules the marker out anyway.
        assert_eq!(
            t.applies("platform_machine == 'x86_64' and sys_platform == 'win32'"),
            Applies::NotHere
        );
        assert_eq!(
            t.applies("(platform_machine == 'x86_64' and python_version < '3.8') or extra == 'x'"),
            Applies::Maybe
        );
        assert_eq!(
            t.applies("platform_machine == 'x86_64' and python_version < '3.8'"),
            Applies::NotHere
        );
        // A marker true in one environment of several applies.
        let two = targets(&["3.11", "3.12"], &["linux", "windows"], &[]);
        assert_eq!(
            two.applies("sys_platform == 'win32' and python_version >= '3.12'"),
            Applies::Maybe
        );
        assert_eq!(two.applies("sys_platform == 'darwin'"), Applies::NotHere);
    }

    #[test]
    fn nothing_declared_means_everything_may_apply() {
        let t = Targets::default();
        assert!(!t.is_declared());
        assert_eq!(t.applies("python_version < '2'"), Applies::Maybe);
        assert_eq!(t.applies("sys_platform == 'nonesuch'"), Applies::Maybe);
    }

    #[test]
    fn unreadable_markers_count_as_applying() {
        let t = targets(&["3.12"], &[], &[]);
        assert!(matches!(
            t.applies("python_version <"),
            Applies::Unreadable(_)
        ));
        assert!(matches!(
            t.applies("frobnicate == '1'"),
            Applies::Unreadable(_)
        ));
        // An expression pep508_rs skips would narrow the `or`: the whole marker is unreadable.
        assert!(matches!(
            t.applies("python_version == 'bogus' or python_version < '3'"),
            Applies::Unreadable(_)
        ));
        let long = format!("python_version < '3'{}", " ".repeat(MAX_MARKER_LEN));
        assert!(matches!(t.applies(&long), Applies::Unreadable(_)));
    }

    #[test]
    fn declared_values_are_checked() {
        let v = |s: &str| vec![s.to_string()];
        for bad in ["3.x", "", "three", "3.11.4.1", "3..1", "3.11rc1"] {
            assert_eq!(
                Targets::new(&v(bad), &[], &[]),
                Err(EnvironmentError::Python(bad.to_string())),
                "{bad}"
            );
        }
        assert!(matches!(
            Targets::new(&[], &v("beos"), &[]),
            Err(EnvironmentError::Platform(_))
        ));
        assert!(matches!(
            Targets::new(&[], &[], &v("jython")),
            Err(EnvironmentError::Implementation(_))
        ));
        let t = targets(&["3.11", "3.12"], &["linux", "Linux"], &["cpython"]);
        assert_eq!(
            t.describe(),
            ["python 3.11, linux, cpython", "python 3.12, linux, cpython"]
        );
    }

    proptest::proptest! {
        // Whatever the text, evaluation answers and never panics.
        #[test]
        fn any_marker_text_gets_an_answer(s in "[a-z_ '\"<>=!~().0-9]{0,60}") {
            let t = targets(&["3.11"], &["linux"], &[]);
            let _ = t.applies(&s);
        }
    }
}
