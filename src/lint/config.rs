//! Levels per check (clippy's `allow`/`warn`/`deny`): the spec's `[lint]`
//! table, validated here when a spec is resolved (unknown checks, a check
//! twice, missing level or reason are `lint-config` errors, exit 2), and the
//! command line's `--allow/--warn/--deny`, which override it.

use super::catalog::{Lint, Severity};
use crate::diag::{Diagnostic, Label, Rule};
use crate::spec::Spec;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// A configured level, as in clippy: `allow` suppresses a check's findings
/// (they are still counted), `warn` makes them warnings, `deny` errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Allow, Level::Warn, Level::Deny];

    pub fn name(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.name() == s)
    }

    /// The severity a finding gets at this level (`None`: suppressed).
    pub fn severity(self) -> Option<Severity> {
        match self {
            Level::Allow => None,
            Level::Warn => Some(Severity::Warning),
            Level::Deny => Some(Severity::Error),
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a check's level was configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigSource {
    /// The spec's `[lint]` table.
    Spec,
    /// `--allow`/`--warn`/`--deny` on the command line (overrides the spec).
    CommandLine,
}

impl ConfigSource {
    pub fn name(self) -> &'static str {
        match self {
            ConfigSource::Spec => "spec",
            ConfigSource::CommandLine => "command line",
        }
    }
}

impl Serialize for ConfigSource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// One check's configured level, why, and where that was said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LintSetting {
    pub level: Level,
    pub reason: String,
    pub source: ConfigSource,
}

/// Levels per check; checks not listed keep their default severity.
/// Built from the layout's `[lint]` table, then command-line levels
/// override it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintConfig {
    pub settings: BTreeMap<Lint, LintSetting>,
}

impl LintConfig {
    /// Sets `check` to `level` from the command line, replacing what the
    /// spec said.
    pub fn set_from_command_line(&mut self, check: Lint, level: Level) {
        let flag = format!("--{} {}", level.name(), check.id());
        let reason = match self.settings.get(&check) {
            Some(old) if old.source == ConfigSource::Spec => format!(
                "{flag} on the command line (the spec says {}: {})",
                old.level, old.reason
            ),
            _ => format!("{flag} on the command line"),
        };
        self.settings.insert(
            check,
            LintSetting {
                level,
                reason,
                source: ConfigSource::CommandLine,
            },
        );
    }

    /// This configuration with command-line levels ([`command_line`])
    /// applied on top.
    pub fn with_command_line(mut self, levels: &[(Lint, Level)]) -> LintConfig {
        for &(check, level) in levels {
            self.set_from_command_line(check, level);
        }
        self
    }

    pub fn get(&self, check: Lint) -> Option<&LintSetting> {
        self.settings.get(&check)
    }
}

/// The levels `--allow`, `--warn` and `--deny` give, in order; a check
/// given two different levels is a usage error (the message says which).
pub fn command_line(
    allow: &[Lint],
    warn: &[Lint],
    deny: &[Lint],
) -> Result<Vec<(Lint, Level)>, String> {
    let mut levels: Vec<(Lint, Level)> = Vec::new();
    let given = allow
        .iter()
        .map(|&c| (c, Level::Allow))
        .chain(warn.iter().map(|&c| (c, Level::Warn)))
        .chain(deny.iter().map(|&c| (c, Level::Deny)));
    for (check, level) in given {
        match levels.iter().find(|(c, _)| *c == check) {
            Some((_, other)) if *other != level => {
                return Err(format!(
                    "{} {} is given both --{other} and --{level}; give one level per check",
                    check.id(),
                    check.name()
                ));
            }
            Some(_) => {}
            None => levels.push((check, level)),
        }
    }
    Ok(levels)
}

/// The `[lint]` table: every key a known check (id or name, each check at
/// most once), every level `allow`/`warn`/`deny`, every reason non-empty.
pub fn from_spec(spec: &Spec, diags: &mut Vec<Diagnostic>) -> LintConfig {
    let mut out = LintConfig::default();
    let mut seen: BTreeMap<Lint, String> = BTreeMap::new();
    let levels = || {
        Level::ALL
            .iter()
            .map(|l| format!("\"{l}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (key, entry) in &spec.lint {
        let name = key.get_ref();
        let dotted = format!("lint.{name}");
        let Some(check) = Lint::parse(name) else {
            diags.push(
                Diagnostic::new(Rule::LintConfig, format!("`{dotted}`: unknown lint check `{name}`"))
                    .label(Label::primary(&dotted, key.span(), "not a layoutgen lint check"))
                    .help("use a check id (LG001…LG022) or its name (e.g. segment-write-execute); docs/lint.md lists them"),
            );
            continue;
        };
        if let Some(first) = seen.get(&check) {
            diags.push(
                Diagnostic::new(
                    Rule::LintConfig,
                    format!(
                        "`{dotted}`: {} is already configured as `lint.{first}`",
                        check.id()
                    ),
                )
                .label(Label::primary(&dotted, key.span(), "configured twice"))
                .help("keep one entry per check (by id or by name, not both)"),
            );
            continue;
        }
        seen.insert(check, name.clone());
        let entry_span = entry.span();
        let level = match &entry.get_ref().level {
            None => {
                diags.push(
                    Diagnostic::new(Rule::LintConfig, format!("`{dotted}` has no `level`"))
                        .label(Label::primary(&dotted, key.span(), "level missing"))
                        .help(format!("add level = one of {}", levels())),
                );
                None
            }
            Some(l) => match Level::parse(l.get_ref()) {
                Some(level) => Some(level),
                None => {
                    diags.push(
                        Diagnostic::new(
                            Rule::LintConfig,
                            format!("`{dotted}.level`: unknown level \"{}\"", l.get_ref()),
                        )
                        .label(Label::primary(
                            format!("{dotted}.level"),
                            l.span(),
                            "not a lint level",
                        ))
                        .help(format!("a lint level is one of {}", levels())),
                    );
                    None
                }
            },
        };
        let reason = match &entry.get_ref().reason {
            // The reason is printed in every report (and GitHub's log): one
            // line of plain text, nothing a terminal or a CI runner obeys.
            Some(r) if r.get_ref().chars().any(crate::format::is_unprintable) => {
                diags.push(
                    Diagnostic::new(
                        Rule::LintConfig,
                        format!("`{dotted}.reason` holds a line break or control character"),
                    )
                    .label(Label::primary(format!("{dotted}.reason"), r.span(), "not one line of plain text"))
                    .help("write the reason as one line of plain text (no \\n, \\u001b, bidirectional controls)"),
                );
                None
            }
            Some(r) if !r.get_ref().trim().is_empty() => Some(r.get_ref().trim().to_string()),
            Some(r) => {
                diags.push(
                    Diagnostic::new(Rule::LintConfig, format!("`{dotted}.reason` is empty"))
                        .label(Label::primary(format!("{dotted}.reason"), r.span(), "empty reason"))
                        .help("say why the check is configured, e.g. reason = \"Linux 6.12 puts .init.pi code in the RW init segment\""),
                );
                None
            }
            None => {
                let span = if key.span().is_empty() {
                    entry_span
                } else {
                    key.span()
                };
                diags.push(
                    Diagnostic::new(Rule::LintConfig, format!("`{dotted}` has no `reason`"))
                        .label(Label::primary(&dotted, span, "reason missing"))
                        .help("every configured check needs a reason (a non-empty string): reason = \"...\""),
                );
                None
            }
        };
        if let (Some(level), Some(reason)) = (level, reason) {
            out.settings.insert(
                check,
                LintSetting {
                    level,
                    reason,
                    source: ConfigSource::Spec,
                },
            );
        }
    }
    out
}
