//! The one place lint results are rendered: human text, JSON (schema
//! `layoutgen-lint/1`), GitHub workflow commands and SARIF 2.1.0. All four
//! are documented in `docs/lint.md`.

use super::{Check, Counts, Finding, LintError, LintReport, Severity};
use crate::layout::Layout;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The JSON schema id; bump on incompatible changes.
pub const JSON_SCHEMA: &str = "layoutgen-lint/1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Github,
    Sarif,
}

/// One input file and what linting it gave.
pub struct Outcome {
    pub path: PathBuf,
    pub result: Result<LintReport, LintError>,
}

/// The exit code for a whole run: 2 if any file could not be linted, else
/// 1 if any has findings at or above the failing severity, else 0.
pub fn exit_code(outcomes: &[Outcome], deny_warnings: bool) -> u8 {
    outcomes
        .iter()
        .map(|o| match &o.result {
            Ok(r) => r.exit_code(deny_warnings),
            Err(e) => e.exit_code(),
        })
        .max()
        .unwrap_or(0)
}

fn totals(outcomes: &[Outcome]) -> Counts {
    let mut c = Counts::default();
    for o in outcomes {
        if let Ok(r) = &o.result {
            c.merge(&r.counts);
        }
    }
    c
}

/// Renders every outcome in `format`. `spec` names the spec file.
pub fn render(
    format: Format,
    spec: &Path,
    layout: &Layout,
    outcomes: &[Outcome],
    deny_warnings: bool,
) -> String {
    match format {
        Format::Human => human(spec, layout, outcomes, deny_warnings),
        Format::Json => {
            let mut s =
                serde_json::to_string_pretty(&json_value(spec, layout, outcomes, deny_warnings))
                    .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
            s.push('\n');
            s
        }
        Format::Github => github(outcomes, deny_warnings),
        Format::Sarif => {
            let mut s = serde_json::to_string_pretty(&sarif(spec, outcomes))
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
            s.push('\n');
            s
        }
    }
}

fn plural(n: u64, one: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {one}s")
    }
}

fn human(spec: &Path, layout: &Layout, outcomes: &[Outcome], deny_warnings: bool) -> String {
    let mut out = String::new();
    for o in outcomes {
        match &o.result {
            Err(e) => {
                let _ = writeln!(out, "error: {e}");
            }
            Ok(r) => {
                let modes: Vec<&str> = r.modes.iter().map(|m| m.name()).collect();
                let _ = writeln!(
                    out,
                    "{}: {} ELF, symbols from {}, checked against {} ({}, {})",
                    r.path.display(),
                    match r.elf_kind {
                        super::ElfKind::Exec => "ET_EXEC",
                        super::ElfKind::Dyn => "ET_DYN",
                        super::ElfKind::Rel => "ET_REL",
                        super::ElfKind::Other => "other",
                    },
                    match r.symbols_from {
                        super::SymbolSource::Symtab => ".symtab",
                        super::SymbolSource::Dynsym => ".dynsym",
                        super::SymbolSource::None => "nowhere",
                    },
                    layout.name,
                    spec.display(),
                    modes.join(", ")
                );
                for sev in [Severity::Error, Severity::Warning, Severity::Info] {
                    for f in r.findings.iter().filter(|f| f.severity == sev) {
                        human_finding(&mut out, f);
                    }
                }
                let _ = writeln!(
                    out,
                    "  {}, {}, {}",
                    plural(r.counts.errors, "error"),
                    plural(r.counts.warnings, "warning"),
                    plural(r.counts.infos, "info")
                );
            }
        }
    }
    let t = totals(outcomes);
    let unreadable = outcomes.iter().filter(|o| o.result.is_err()).count();
    let code = exit_code(outcomes, deny_warnings);
    let verdict = match code {
        0 => "clean".to_string(),
        1 if t.errors == 0 => "failed (warnings denied)".to_string(),
        1 => "failed".to_string(),
        _ => "failed (unreadable input)".to_string(),
    };
    let _ = writeln!(
        out,
        "layoutgen lint: {}, {}, {}, {}{}: {verdict}",
        plural(outcomes.len() as u64, "file"),
        plural(t.errors, "error"),
        plural(t.warnings, "warning"),
        plural(t.infos, "info"),
        if unreadable > 0 {
            format!(", {unreadable} unreadable")
        } else {
            String::new()
        }
    );
    out
}

fn human_finding(out: &mut String, f: &Finding) {
    let _ = writeln!(
        out,
        "  {}[{} {}]: {}",
        f.severity,
        f.id.id(),
        f.check,
        f.message
    );
    let mut at = Vec::new();
    if let Some(s) = &f.symbol {
        at.push(format!("symbol {s}"));
    }
    if let Some(s) = &f.section {
        if s.starts_with("segment ") {
            at.push(s.clone());
        } else {
            at.push(format!("section {s}"));
        }
    }
    if let Some(a) = f.address {
        at.push(format!("address {a:#x}"));
    }
    if !f.modes.is_empty() {
        let m: Vec<&str> = f.modes.iter().map(|m| m.name()).collect();
        at.push(format!("modes {}", m.join(",")));
    }
    if !at.is_empty() {
        let _ = writeln!(out, "      at: {}", at.join(", "));
    }
    if !f.spec_key.is_empty() {
        let _ = writeln!(out, "    spec: {}", f.spec_key);
    }
    let _ = writeln!(out, "    help: {}", f.help);
}

fn error_kind(e: &LintError) -> &'static str {
    match e {
        LintError::Read { .. } => "read",
        LintError::NotElf { .. } => "not-elf",
        LintError::NotRiscv64 { .. } => "not-riscv64",
        LintError::Malformed { .. } => "malformed",
        LintError::UnknownMode { .. } => "unknown-mode",
    }
}

/// The `--format json` document (schema `layoutgen-lint/1`).
pub fn json_value(
    spec: &Path,
    layout: &Layout,
    outcomes: &[Outcome],
    deny_warnings: bool,
) -> Value {
    let files: Vec<Value> = outcomes
        .iter()
        .map(|o| match &o.result {
            Ok(r) => json!({
                "path": r.path,
                "ok": r.exit_code(deny_warnings) == 0,
                "elf_kind": r.elf_kind,
                "symbols_from": r.symbols_from,
                "modes": r.modes,
                "counts": r.counts,
                "stats": r.stats,
                "findings": r.findings,
                "error": Value::Null,
            }),
            Err(e) => json!({
                "path": o.path,
                "ok": false,
                "elf_kind": Value::Null,
                "symbols_from": Value::Null,
                "modes": [],
                "counts": Counts::default(),
                "stats": Value::Null,
                "findings": [],
                "error": { "kind": error_kind(e), "message": e.to_string() },
            }),
        })
        .collect();
    json!({
        "schema": JSON_SCHEMA,
        "tool": { "name": "layoutgen", "version": env!("CARGO_PKG_VERSION") },
        "spec": spec,
        "layout": layout.name,
        "code_model": layout.code_model,
        "gp_policy": layout.gp.policy,
        "deny_warnings": deny_warnings,
        "files": files,
        "summary": {
            "files": outcomes.len(),
            "unreadable": outcomes.iter().filter(|o| o.result.is_err()).count(),
            "counts": totals(outcomes),
            "exit_code": exit_code(outcomes, deny_warnings),
        },
    })
}

/// Escapes a workflow-command message (`%`, CR, LF).
fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property (also `:` and `,`).
fn gh_prop(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn github(outcomes: &[Outcome], deny_warnings: bool) -> String {
    let mut out = String::new();
    for o in outcomes {
        let file = gh_prop(&o.path.display().to_string());
        match &o.result {
            Err(e) => {
                let _ = writeln!(
                    out,
                    "::error file={file},title={}::{}",
                    gh_prop(&format!("layoutgen lint: {}", error_kind(e))),
                    gh_data(&e.to_string())
                );
            }
            Ok(r) => {
                for f in &r.findings {
                    let level = match f.severity {
                        Severity::Error => "error",
                        Severity::Warning if deny_warnings => "error",
                        Severity::Warning => "warning",
                        Severity::Info => "notice",
                    };
                    let mut msg = f.message.clone();
                    if !f.spec_key.is_empty() {
                        let _ = write!(msg, "\nspec key: {}", f.spec_key);
                    }
                    let _ = write!(msg, "\nhelp: {}", f.help);
                    let _ = writeln!(
                        out,
                        "::{level} file={file},title={}::{}",
                        gh_prop(&format!("{} {}", f.id.id(), f.check)),
                        gh_data(&msg)
                    );
                }
            }
        }
    }
    out
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn sarif(spec: &Path, outcomes: &[Outcome]) -> Value {
    let rules: Vec<Value> = Check::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.id(),
                "name": c.name(),
                "shortDescription": { "text": c.description() },
                "defaultConfiguration": { "level": sarif_level(c.severity()) },
                "helpUri": format!("docs/lint.md#{}", c.id().to_lowercase()),
            })
        })
        .collect();
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for o in outcomes {
        let uri = o.path.display().to_string();
        match &o.result {
            Err(e) => notifications.push(json!({
                "level": "error",
                "message": { "text": e.to_string() },
                "locations": [{ "physicalLocation": { "artifactLocation": { "uri": uri } } }],
            })),
            Ok(r) => {
                for f in &r.findings {
                    let mut logical = Vec::new();
                    if let Some(s) = &f.symbol {
                        logical.push(json!({ "name": s, "kind": "variable" }));
                    }
                    if let Some(s) = &f.section {
                        logical.push(json!({ "name": s, "kind": "module" }));
                    }
                    let mut loc = json!({
                        "physicalLocation": { "artifactLocation": { "uri": uri } },
                    });
                    if !logical.is_empty() {
                        loc["logicalLocations"] = Value::Array(logical);
                    }
                    results.push(json!({
                        "ruleId": f.id.id(),
                        "ruleIndex": Check::ALL.iter().position(|c| *c == f.id).unwrap_or(0),
                        "level": sarif_level(f.severity),
                        "message": { "text": format!("{} (spec key {}; help: {})", f.message, f.spec_key, f.help) },
                        "locations": [loc],
                        "properties": {
                            "address": f.address.map(|a| format!("{a:#x}")),
                            "specKey": f.spec_key,
                            "spec": spec,
                            "modes": f.modes,
                        },
                    }));
                }
            }
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "layoutgen-lint",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": outcomes.iter().all(|o| o.result.is_ok()),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    })
}
