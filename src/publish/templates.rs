//! Handlebars templates for prose: embedded defaults from `templates/`, overridable from a
//! user directory, strict mode (a missing field is an error, not an empty string).
//!
//! One registry per escaping regime, picked by the template's extension: `.md` and `.txt`
//! are not escaped (HTML entities in markdown or a plain-text mail would show literally),
//! `.html` is HTML-escaped, `.mrkdwn` escapes only `&`, `<` and `>` as Slack asks.

use handlebars::Handlebars;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The default templates, embedded in the binary: (name, source).
pub const DEFAULTS: &[(&str, &str)] = &[
    ("draft.md", include_str!("../../templates/draft.md.hbs")),
    (
        "release-notes.md",
        include_str!("../../templates/release-notes.md.hbs"),
    ),
    (
        "email-subject.txt",
        include_str!("../../templates/email-subject.txt.hbs"),
    ),
    ("email.txt", include_str!("../../templates/email.txt.hbs")),
    ("email.html", include_str!("../../templates/email.html.hbs")),
    (
        "slack.mrkdwn",
        include_str!("../../templates/slack.mrkdwn.hbs"),
    ),
    (
        "slack-fallback.txt",
        include_str!("../../templates/slack-fallback.txt.hbs"),
    ),
    (
        "digest-email-subject.txt",
        include_str!("../../templates/digest-email-subject.txt.hbs"),
    ),
    (
        "digest-email.txt",
        include_str!("../../templates/digest-email.txt.hbs"),
    ),
    (
        "digest-email.html",
        include_str!("../../templates/digest-email.html.hbs"),
    ),
    (
        "digest-fallback.txt",
        include_str!("../../templates/digest-fallback.txt.hbs"),
    ),
    (
        "health-slack.mrkdwn",
        include_str!("../../templates/health-slack.mrkdwn.hbs"),
    ),
    (
        "health-fallback.txt",
        include_str!("../../templates/health-fallback.txt.hbs"),
    ),
    (
        "health-email-subject.txt",
        include_str!("../../templates/health-email-subject.txt.hbs"),
    ),
    (
        "health-email.txt",
        include_str!("../../templates/health-email.txt.hbs"),
    ),
    (
        "health-email.html",
        include_str!("../../templates/health-email.html.hbs"),
    ),
];

/// A template that could not be loaded or rendered.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// A user template file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A template does not compile.
    #[error("template {name}: {message}")]
    Invalid {
        /// Template name (`draft.md`) or file.
        name: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// Rendering failed (in strict mode: a field the template uses is missing).
    #[error("rendering template {name}: {message}")]
    Render {
        /// Template name.
        name: String,
        /// Why.
        message: String,
    },
    /// No template of that name.
    #[error("no template named {0}")]
    Unknown(String),
}

/// Escape for Slack `mrkdwn`: only the three control characters.
pub fn slack_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// The three registries.
#[derive(Debug)]
pub struct Templates {
    plain: Handlebars<'static>,
    html: Handlebars<'static>,
    slack: Handlebars<'static>,
}

// Every value a template interpolates is cleaned first (`text::clean`, newlines and tabs kept):
// feed text reaches drafts, notes, mail and Slack without escape sequences or NUL.
fn plain_escape(s: &str) -> String {
    crate::text::clean(s, true)
}

fn html_escape(s: &str) -> String {
    crate::text::escape_html(s)
}

fn slack_registry_escape(s: &str) -> String {
    slack_escape(&crate::text::clean(s, true))
}

fn registry(escape: fn(&str) -> String) -> Handlebars<'static> {
    let mut h = Handlebars::new();
    h.set_strict_mode(true);
    h.register_escape_fn(escape);
    h
}

impl Templates {
    /// The embedded defaults, with any `NAME.hbs` file in `user_dir` replacing the default of
    /// that name (e.g. `draft.md.hbs`). Unknown files in the directory are an error, so a
    /// misspelt override does not go silently unused.
    pub fn load(user_dir: Option<&Path>) -> Result<Self, TemplateError> {
        let mut t = Self {
            plain: registry(plain_escape),
            html: registry(html_escape),
            slack: registry(slack_registry_escape),
        };
        for (name, src) in DEFAULTS {
            t.register(name, src)?;
        }
        if let Some(dir) = user_dir {
            let entries = std::fs::read_dir(dir).map_err(|source| TemplateError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
            let mut files: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            files.sort();
            for path in files {
                let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
                    continue;
                };
                let Some(name) = file.strip_suffix(".hbs") else {
                    continue;
                };
                if !DEFAULTS.iter().any(|(n, _)| *n == name) {
                    return Err(TemplateError::Invalid {
                        name: path.display().to_string(),
                        message: format!(
                            "not a depwatch template name (known: {})",
                            DEFAULTS
                                .iter()
                                .map(|(n, _)| *n)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                }
                let src = std::fs::read_to_string(&path).map_err(|source| TemplateError::Io {
                    path: path.clone(),
                    source,
                })?;
                t.register(name, &src).map_err(|e| match e {
                    TemplateError::Invalid { message, .. } => TemplateError::Invalid {
                        name: path.display().to_string(),
                        message,
                    },
                    other => other,
                })?;
            }
        }
        Ok(t)
    }

    fn registry_for(&self, name: &str) -> &Handlebars<'static> {
        if name.ends_with(".html") {
            &self.html
        } else if name.ends_with(".mrkdwn") {
            &self.slack
        } else {
            &self.plain
        }
    }

    fn register(&mut self, name: &str, src: &str) -> Result<(), TemplateError> {
        let reg = if name.ends_with(".html") {
            &mut self.html
        } else if name.ends_with(".mrkdwn") {
            &mut self.slack
        } else {
            &mut self.plain
        };
        reg.register_template_string(name, src)
            .map_err(|e| TemplateError::Invalid {
                name: name.to_string(),
                message: e.to_string(),
            })
    }

    /// Render template `name` (`draft.md`, `email.html`, ...) with `data`.
    pub fn render(&self, name: &str, data: &impl Serialize) -> Result<String, TemplateError> {
        if !DEFAULTS.iter().any(|(n, _)| *n == name) {
            return Err(TemplateError::Unknown(name.to_string()));
        }
        self.registry_for(name)
            .render(name, data)
            .map_err(|e| TemplateError::Render {
                name: name.to_string(),
                message: e.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_extension() {
        let t = Templates::load(None).unwrap();
        let mut h = registry(slack_escape);
        h.register_template_string("x", "{{v}}").unwrap();
        assert_eq!(
            h.render("x", &serde_json::json!({"v": "a<b>&c"})).unwrap(),
            "a&lt;b&gt;&amp;c"
        );
        assert!(
            t.registry_for("email.html")
                .get_template("email.html")
                .is_some()
        );
    }

    #[test]
    fn every_registry_cleans_control_characters() {
        let v = serde_json::json!({"v": "a\x1b]0;t\x07b\x00c\nd"});
        for (escape, want) in [
            (plain_escape as fn(&str) -> String, "a ]0;t b c\nd"),
            (html_escape, "a ]0;t b c\nd"),
            (slack_registry_escape, "a ]0;t b c\nd"),
        ] {
            let mut h = registry(escape);
            h.register_template_string("x", "{{v}}").unwrap();
            assert_eq!(h.render("x", &v).unwrap(), want);
        }
    }

    #[test]
    fn strict_mode_rejects_missing_fields() {
        let mut h = registry(handlebars::no_escape);
        h.register_template_string("x", "{{missing}}").unwrap();
        assert!(h.render("x", &serde_json::json!({})).is_err());
    }

    #[test]
    fn user_dir_rejects_unknown_names() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("draft.mdd.hbs"), "x").unwrap();
        let e = Templates::load(Some(dir.path())).unwrap_err().to_string();
        assert!(e.contains("draft.mdd.hbs"), "{e}");
    }
}
