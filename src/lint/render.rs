//! The one place lint results are rendered: human text, JSON (schema
//! `layoutgen-lint/1`), GitHub workflow commands and SARIF 2.1.0. All four
//! are documented in `docs/lint.md`.

use super::{BaselineSummary, Counts, Finding, Lint, LintConfig, LintError, LintReport, Severity};
use crate::format::printable;
use crate::layout::Layout;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The JSON schema id; bump on incompatible changes.
pub const JSON_SCHEMA: &str = "layoutgen-lint/1";

/// `layoutgen lint --format`.
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Findings grouped by severity, with a one-line summary.
    Human,
    /// A stable JSON document (schema layoutgen-lint/1).
    Json,
    /// GitHub Actions workflow commands (::error/::warning/::notice).
    Github,
    /// SARIF 2.1.0, for code-scanning uploads.
    Sarif,
}

/// One input file and what linting it gave.
pub struct Outcome {
    pub path: PathBuf,
    pub result: Result<LintReport, LintError>,
}

/// A whole lint run, ready to render: the spec it checked against, the
/// levels in effect, and what each file gave.
pub struct LintRun<'a> {
    /// The spec file, as given (it names the spec in every format).
    pub spec: &'a Path,
    pub layout: &'a Layout,
    pub config: &'a LintConfig,
    pub outcomes: Vec<Outcome>,
    /// `--deny warnings`: warnings fail the run.
    pub deny_warnings: bool,
}

impl LintRun<'_> {
    /// 2 if any file could not be linted, else 1 if any has findings at or
    /// above the failing severity, else 0.
    pub fn exit_code(&self) -> u8 {
        exit_code(&self.outcomes, self.deny_warnings)
    }

    /// The run in `format`.
    pub fn render(&self, format: Format) -> String {
        self.render_with(format, None)
    }

    /// The run in `format`, after `--baseline` left out the findings it
    /// holds ([`super::Baseline::apply`] on `outcomes`): `baseline` says
    /// how many were unchanged and gone.
    pub fn render_with(&self, format: Format, baseline: Option<&BaselineSummary>) -> String {
        let pretty = |v: Value| {
            let mut s = serde_json::to_string_pretty(&v)
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
            s.push('\n');
            s
        };
        match format {
            Format::Human => human(
                self.spec,
                self.layout,
                &self.outcomes,
                self.deny_warnings,
                baseline,
            ),
            Format::Json => pretty(self.json_with(baseline)),
            Format::Github => github(&self.outcomes, self.deny_warnings, baseline),
            Format::Sarif => pretty(sarif(self.spec, self.config, &self.outcomes, baseline)),
        }
    }

    /// The `--format json` document (schema `layoutgen-lint/1`).
    pub fn json(&self) -> Value {
        self.json_with(None)
    }

    /// [`Self::json`] after a baseline.
    pub fn json_with(&self, baseline: Option<&BaselineSummary>) -> Value {
        let mut v = json_value(
            self.spec,
            self.layout,
            self.config,
            &self.outcomes,
            self.deny_warnings,
        );
        v["baseline"] = baseline.map_or(Value::Null, |b| {
            json!({
                "file": b.file,
                "unchanged": b.unchanged,
                "gone": b.gone,
                "gone_findings": b.gone_findings,
            })
        });
        v
    }
}

fn exit_code(outcomes: &[Outcome], deny_warnings: bool) -> u8 {
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

fn plural(n: u64, one: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// `baseline FILE: U unchanged, G gone (fixed or no longer found)`.
fn baseline_line(b: &BaselineSummary) -> String {
    format!(
        "baseline {}: {} unchanged, {} gone (fixed or no longer found)",
        printable(&b.file.display().to_string()),
        b.unchanged,
        b.gone
    )
}

fn human(
    spec: &Path,
    layout: &Layout,
    outcomes: &[Outcome],
    deny_warnings: bool,
    baseline: Option<&BaselineSummary>,
) -> String {
    let mut out = String::new();
    for o in outcomes {
        match &o.result {
            Err(e) => {
                // A file name (a CI job's glob) may hold anything.
                // Line by line, so the message keeps its own line breaks
                // and nothing else gets one.
                let text = e.to_string();
                let lines: Vec<_> = text.lines().map(printable).collect();
                let _ = writeln!(out, "error: {}", lines.join("\n"));
            }
            Ok(r) if r.elf_kind == super::ElfKind::PageTables => {
                let modes: Vec<&str> = r.modes.iter().map(|m| m.name()).collect();
                let _ = writeln!(
                    out,
                    "{}: page-table dump, checked against {} ({}, {})",
                    printable(&r.path.display().to_string()),
                    layout.name,
                    spec.display(),
                    modes.join(", ")
                );
                human_findings(&mut out, r);
                let _ = writeln!(
                    out,
                    "  checked: {} mappings against the regions of {}",
                    r.stats.load_segments,
                    modes.join(", ")
                );
                human_counts(&mut out, r);
            }
            Ok(r) => {
                let modes: Vec<&str> = r.modes.iter().map(|m| m.name()).collect();
                let _ = writeln!(
                    out,
                    "{}: {} ELF, symbols from {}, checked against {} ({}, {})",
                    printable(&r.path.display().to_string()),
                    match r.elf_kind {
                        super::ElfKind::Exec => "ET_EXEC",
                        super::ElfKind::Dyn => "ET_DYN",
                        super::ElfKind::Rel => "ET_REL",
                        super::ElfKind::Other => "other",
                        super::ElfKind::PageTables => "page-table dump",
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
                human_findings(&mut out, r);
                let _ = writeln!(out, "  {}", facts(layout, r));
                human_counts(&mut out, r);
            }
        }
    }
    if let Some(b) = baseline {
        let _ = writeln!(out, "{}", baseline_line(b));
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
        "layoutgen lint: {}, {}, {}, {}{}{}: {verdict}",
        plural(outcomes.len() as u64, "file"),
        plural(t.errors, "error"),
        plural(t.warnings, "warning"),
        plural(t.infos, "info"),
        if t.suppressed > 0 {
            format!(", {} allowed", t.suppressed)
        } else {
            String::new()
        },
        if unreadable > 0 {
            format!(", {unreadable} unreadable")
        } else {
            String::new()
        }
    );
    out
}

/// A report's shown findings, most severe first.
fn human_findings(out: &mut String, r: &LintReport) {
    for sev in [Severity::Error, Severity::Warning, Severity::Info] {
        for f in r
            .findings
            .iter()
            .filter(|f| f.severity == sev && f.suppressed.is_none())
        {
            human_finding(out, f);
        }
    }
}

/// `  1 error, 0 warnings, 2 infos[, N allowed (...)]`.
fn human_counts(out: &mut String, r: &LintReport) {
    let _ = writeln!(
        out,
        "  {}, {}, {}{}",
        plural(r.counts.errors, "error"),
        plural(r.counts.warnings, "warning"),
        plural(r.counts.infos, "info"),
        allowed(r)
    );
}

/// `, 1 allowed (LG006: reason)`: suppressed findings, by check, with the
/// reason each check is allowed; empty when none.
fn allowed(r: &LintReport) -> String {
    if r.counts.suppressed == 0 {
        return String::new();
    }
    let mut parts: Vec<String> = Vec::new();
    let mut seen: Vec<Lint> = Vec::new();
    for f in &r.findings {
        if let Some(s) = &f.suppressed
            && !seen.contains(&f.id)
        {
            seen.push(f.id);
            parts.push(format!("{}: {}", f.id.id(), s.reason));
        }
    }
    format!(", {} allowed ({})", r.counts.suppressed, parts.join("; "))
}

/// `179712` → `179,712`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One line of what was checked and held, whatever the findings: symbols
/// against the slot, segments against W^X, relocations.
fn facts(layout: &Layout, r: &LintReport) -> String {
    let n = |c: Lint| r.by_check.get(&c).copied().unwrap_or(0);
    let mut v: Vec<String> = Vec::new();
    let linked = matches!(r.elf_kind, super::ElfKind::Exec | super::ElfKind::Dyn);
    if linked {
        let slot = &layout.image.slot;
        let outside = n(Lint::SymbolOutsideSlot) + n(Lint::SymbolInAbs32Window);
        let checked = r.stats.symbols_checked;
        v.push(match (checked, outside) {
            (0, _) => "no symbols checked".to_string(),
            (_, 0) => format!(
                "{} checked, all inside `{slot}`",
                plural_g(checked, "symbol")
            ),
            (_, k) => format!(
                "{} checked, {} outside `{slot}` or in the ±2 GiB window",
                plural_g(checked, "symbol"),
                grouped(k)
            ),
        });
        if let (Some(start), Some(end)) = (r.stats.image_start, r.stats.image_end) {
            v.push(format!(
                "image [{start:#x}, {end:#x}): {} of image.max_size {}",
                crate::format::human_size(end.wrapping_sub(start) as u128),
                crate::format::human_size(layout.image.max_size as u128)
            ));
        }
        let wx = n(Lint::SegmentWriteExecute);
        let segs = r.stats.load_segments;
        v.push(format!(
            "{}, {}",
            plural_g(segs, "PT_LOAD segment"),
            match wx {
                0 => "none W+X".to_string(),
                k => format!("{k} W+X"),
            }
        ));
        let outside_segs = n(Lint::SegmentOutsideSlot);
        if segs > 0 && outside_segs == 0 {
            v.push(format!("all segments inside `{slot}`"));
        }
    }
    let absolute = n(Lint::AbsoluteRelocation);
    let stat = r.stats.static_relocations;
    let dynamic = r.stats.dynamic_relocations;
    if stat > 0 || dynamic > 0 {
        let mut s = format!(
            "{} static and {} dynamic relocations",
            grouped(stat),
            grouped(dynamic)
        );
        if layout.code_model.is_relocatable() && stat > 0 {
            match absolute {
                0 => s.push_str(", no absolute HI20/LO12 against image symbols"),
                k => s.push_str(&format!(", {} absolute HI20/LO12", grouped(k))),
            }
        }
        v.push(s);
    } else {
        v.push("no relocations".to_string());
    }
    format!("checked: {}", v.join("; "))
}

fn plural_g(n: u64, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{} {one}s", grouped(n))
    }
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

fn json_value(
    spec: &Path,
    layout: &Layout,
    config: &LintConfig,
    outcomes: &[Outcome],
    deny_warnings: bool,
) -> Value {
    let lint_config: Vec<Value> = config
        .settings
        .iter()
        .map(|(c, s)| {
            json!({
                "id": c.id(),
                "check": c.name(),
                "level": s.level,
                "reason": s.reason,
                "source": s.source,
            })
        })
        .collect();
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
        "lint_config": lint_config,
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

fn github(outcomes: &[Outcome], deny_warnings: bool, baseline: Option<&BaselineSummary>) -> String {
    let mut out = String::new();
    if let Some(b) = baseline {
        let _ = writeln!(
            out,
            "::notice title={}::{}",
            gh_prop("layoutgen lint baseline"),
            gh_data(&baseline_line(b))
        );
    }
    for o in outcomes {
        let file = gh_prop(&printable(&o.path.display().to_string()));
        match &o.result {
            Err(e) => {
                let _ = writeln!(
                    out,
                    "::error file={file},title={}::{}",
                    gh_prop(&format!("layoutgen lint: {}", error_kind(e))),
                    // Line by line, as in human output: the message's own
                    // line breaks stay line breaks (%0A), control
                    // characters in a file name are shown escaped.
                    gh_data(
                        &e.to_string()
                            .lines()
                            .map(printable)
                            .collect::<Vec<_>>()
                            .join("\n")
                    )
                );
            }
            Ok(r) => {
                for f in r.findings.iter().filter(|f| f.suppressed.is_none()) {
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

/// A path as the RFC 3986 URI reference SARIF requires of
/// `artifactLocation.uri` (§3.4.3): every byte but unreserved characters and
/// `/` percent-encoded (so no `:` can read as a scheme, and spaces, `#`, `%`
/// or non-UTF-8 bytes stay data); an absolute path becomes a `file://` URI
/// (a relative reference must not start with `/`). Unix paths: a Windows
/// path's `\\` and drive letter would need their own rules.
fn artifact_uri(path: &Path) -> String {
    let bytes = path.as_os_str().as_encoded_bytes();
    let mut out = String::with_capacity(bytes.len() + 8);
    if path.is_absolute() {
        out.push_str("file://");
    }
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
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

fn sarif(
    spec: &Path,
    config: &LintConfig,
    outcomes: &[Outcome],
    baseline: Option<&BaselineSummary>,
) -> Value {
    let rules: Vec<Value> = Lint::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.id(),
                "name": c.name(),
                "shortDescription": { "text": c.description() },
                "defaultConfiguration": { "level": sarif_level(c.severity()) },
                // Not `helpUri`: SARIF wants an absolute URI there (the
                // Multitool rejects a relative one), and the tool has no
                // canonical web address.
                "help": { "text": format!(
                    "{} {}: see docs/lint.md, section Checks (anchor #{}), in layoutgen's documentation",
                    c.id(), c.name(), c.id().to_lowercase()
                ) },
            })
        })
        .collect();
    // Configured levels (SARIF 2.1.0 §3.51): `warn`/`deny` change the
    // level; `allow` keeps it and marks results suppressed instead.
    let overrides: Vec<Value> = config
        .settings
        .iter()
        .filter_map(|(c, s)| {
            let level = sarif_level(s.level.severity()?);
            Some(json!({
                "descriptor": {
                    "id": c.id(),
                    "index": Lint::ALL.iter().position(|x| x == c).unwrap_or(0),
                },
                "configuration": { "level": level },
                "properties": { "reason": s.reason, "source": s.source },
            }))
        })
        .collect();
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for o in outcomes {
        let uri = artifact_uri(&o.path);
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
                    let mut result = json!({
                        "ruleId": f.id.id(),
                        "ruleIndex": Lint::ALL.iter().position(|c| *c == f.id).unwrap_or(0),
                        "level": sarif_level(f.severity),
                        "message": { "text": format!("{} (spec key {}; help: {})", f.message, f.spec_key, f.help) },
                        "locations": [loc],
                        "properties": {
                            "address": f.address.map(|a| format!("{a:#x}")),
                            "specKey": f.spec_key,
                            "spec": spec,
                            "modes": f.modes,
                        },
                    });
                    if baseline.is_some() {
                        // SARIF 2.1.0 §3.27.24: what a baselined run kept.
                        result["baselineState"] = "new".into();
                    }
                    if let Some(s) = &f.suppressed {
                        // SARIF 2.1.0 §3.35: suppressed outside the
                        // analysed artifact (the spec or the command line).
                        result["suppressions"] = json!([{
                            "kind": "external",
                            "justification": s.reason,
                            "properties": { "level": s.level, "source": s.source },
                        }]);
                    }
                    results.push(result);
                }
            }
        }
    }
    let mut log = json!({
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
                "ruleConfigurationOverrides": overrides,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    });
    if let Some(b) = baseline {
        log["runs"][0]["properties"] = json!({ "baseline": {
            "file": b.file,
            "unchanged": b.unchanged,
            "gone": b.gone,
        }});
    }
    log
}
