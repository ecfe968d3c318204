//! What linting one file gives: findings (each a check that failed or a
//! figure), counts per severity, statistics, or why the file could not be
//! read at all.

use super::catalog::{Lint, Severity};
use super::config::LintSetting;
use crate::arch::PagingMode;
use crate::format::printable;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One finding: a check that failed (or reports a figure), what it is about,
/// the spec key it breaks and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `LG001`…
    pub id: Lint,
    /// The check's kebab-case name.
    pub check: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The symbol the finding is about, if any.
    pub symbol: Option<String>,
    /// The ELF section (or `segment N`) the finding is about, if any.
    pub section: Option<String>,
    /// The address the finding is about, if any (hex in JSON).
    #[serde(serialize_with = "crate::json::hex_opt_u64")]
    pub address: Option<u64>,
    /// The dotted spec key the ELF disagrees with (`region.kernel`, `ram.load`, …).
    pub spec_key: String,
    pub help: String,
    /// Paging modes the finding applies to (empty: every mode of the layout).
    pub modes: Vec<PagingMode>,
    /// Set when the check is configured `allow` (in the spec's `[lint]`
    /// table or with `--allow`): the finding is reported but does not count
    /// towards the exit code.
    pub suppressed: Option<LintSetting>,
}

impl Finding {
    pub(crate) fn new(
        check: Lint,
        spec_key: impl Into<String>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Finding {
        Finding {
            id: check,
            check: check.name(),
            severity: check.severity(),
            message: message.into(),
            symbol: None,
            section: None,
            address: None,
            spec_key: spec_key.into(),
            help: help.into(),
            modes: Vec::new(),
            suppressed: None,
        }
    }

    pub(crate) fn symbol(mut self, name: impl Into<String>) -> Finding {
        self.symbol = Some(name.into());
        self
    }

    pub(crate) fn section(mut self, name: impl Into<String>) -> Finding {
        self.section = Some(name.into());
        self
    }

    pub(crate) fn address(mut self, addr: u64) -> Finding {
        self.address = Some(addr);
        self
    }
}

/// Findings per (configured) severity, including those left out of
/// `findings` by the per-check cap. Suppressed (`allow`ed) findings count
/// only in `suppressed`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub errors: u64,
    pub warnings: u64,
    pub infos: u64,
    pub suppressed: u64,
}

impl Counts {
    pub(crate) fn add(&mut self, severity: Severity, n: u64) {
        match severity {
            Severity::Error => self.errors += n,
            Severity::Warning => self.warnings += n,
            Severity::Info => self.infos += n,
        }
    }

    pub fn merge(&mut self, other: &Counts) {
        self.errors += other.errors;
        self.warnings += other.warnings;
        self.infos += other.infos;
        self.suppressed += other.suppressed;
    }
}

/// What kind of ELF was linted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ElfKind {
    /// `ET_EXEC`: a kernel linked at a fixed address.
    Exec,
    /// `ET_DYN`: a PIE kernel.
    Dyn,
    /// `ET_REL`: an object file or module; addresses are not final.
    Rel,
    /// Any other `e_type` (core files…): only header-level checks apply.
    Other,
    /// Not an ELF: a running kernel's page-table dump (`lint --page-tables`).
    PageTables,
}

/// Which symbol table the symbol checks used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SymbolSource {
    Symtab,
    /// Stripped file: the dynamic symbol table (exported symbols only).
    Dynsym,
    None,
}

/// Figures gathered while linting (also in the JSON output).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub symbols: u64,
    pub symbols_checked: u64,
    pub load_segments: u64,
    pub sections: u64,
    pub static_relocations: u64,
    pub dynamic_relocations: u64,
    pub relative_relocations: u64,
    /// Symbols in small-data sections; counted in linked images only.
    pub small_data_symbols: u64,
    pub small_data_outside_gp_window: u64,
    /// The linked image's link address and real end (its end symbol, else
    /// its last allocated section's end); null for objects.
    #[serde(serialize_with = "crate::json::hex_opt_u64")]
    pub image_start: Option<u64>,
    #[serde(serialize_with = "crate::json::hex_opt_u64")]
    pub image_end: Option<u64>,
}

/// The result of linting one ELF file.
#[derive(Debug, Clone, Serialize)]
pub struct LintReport {
    pub path: PathBuf,
    pub elf_kind: ElfKind,
    pub symbols_from: SymbolSource,
    /// Modes the file was checked against.
    pub modes: Vec<PagingMode>,
    /// Findings, most severe first; at most [`MAX_PER_CHECK`] per check plus
    /// one "N more" finding.
    pub findings: Vec<Finding>,
    /// Every finding counted, including those over the cap.
    pub counts: Counts,
    pub stats: Stats,
    /// Findings per check, over the cap and suppressed ones included
    /// (whatever their configured level).
    #[serde(skip)]
    pub by_check: std::collections::BTreeMap<Lint, u64>,
}

/// Findings kept per check; the rest are counted and summarised.
pub const MAX_PER_CHECK: usize = 20;

impl LintReport {
    /// 0 clean; 1 if a finding is at or above the failing severity (error,
    /// or warning with `deny_warnings`).
    pub fn exit_code(&self, deny_warnings: bool) -> u8 {
        if self.counts.errors > 0 || (deny_warnings && self.counts.warnings > 0) {
            1
        } else {
            0
        }
    }

    /// Findings of one check.
    pub fn by_check(&self, check: Lint) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.id == check)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }
}

/// Why a file could not be linted at all (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    #[error(
        "cannot read {}: {source}\nhelp: check the path and permissions",
        shown_path(path)
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{}: not an ELF file ({})\nhelp: pass the linked kernel (vmlinux-style ELF), not a raw binary image",
        shown_path(path),
        printable(reason)
    )]
    NotElf { path: PathBuf, reason: String },
    #[error(
        "{}: not an ELF of the spec's architecture ({})\nhelp: lint checks 64-bit little-endian kernels and modules of the spec's `arch` (riscv64: EM_RISCV, aarch64: EM_AARCH64)",
        shown_path(path),
        printable(found)
    )]
    NotRiscv64 { path: PathBuf, found: String },
    #[error(
        "{}: malformed ELF: {}\nhelp: the file is truncated or corrupt; rebuild it",
        shown_path(path),
        printable(what)
    )]
    Malformed { path: PathBuf, what: String },
    #[error(
        "the layout `{layout}` does not support {mode}; it lists {listed}\nhelp: pick one of the listed modes with --mode, or omit --mode"
    )]
    UnknownMode {
        layout: String,
        mode: PagingMode,
        listed: String,
    },
}

/// A file name (a CI job's glob may give any) as a message shows it: its
/// line breaks and escapes must not split or colour the message.
fn shown_path(path: &Path) -> String {
    printable(&path.display().to_string()).into_owned()
}

impl LintError {
    pub fn exit_code(&self) -> u8 {
        2
    }
}

/// Parse failures before a path is attached.
#[derive(Debug)]
pub(crate) enum ParseError {
    NotElf(String),
    NotRiscv64(String),
    Malformed(String),
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::NotElf(r) => write!(f, "not an ELF file ({r})"),
            ParseError::NotRiscv64(found) => {
                write!(f, "not an ELF of the spec's architecture ({found})")
            }
            ParseError::Malformed(what) => write!(f, "malformed ELF: {what}"),
        }
    }
}

impl ParseError {
    pub(crate) fn with_path(self, path: &Path) -> LintError {
        let path = path.to_path_buf();
        match self {
            ParseError::NotElf(reason) => LintError::NotElf { path, reason },
            ParseError::NotRiscv64(found) => LintError::NotRiscv64 { path, found },
            ParseError::Malformed(what) => LintError::Malformed { path, what },
        }
    }
}
