//! `layoutgen lint`: a linked (or relocatable) riscv64 ELF checked against
//! the resolved [`Layout`] it was built from — the link result cross-checked
//! against the spec after the fact, as arm64's `relacheck` and the emitted
//! linker-script `ASSERT`s do at link time.
//!
//! The file is memory-mapped and only the parts a check needs are touched:
//! the ELF header, program and section headers, section names, the symbol
//! table with its strings, and relocation sections whose target is an
//! allocated section. Debug sections (and their relocations) are never read,
//! so time and memory do not grow with them.
//!
//! Findings are values ([`Finding`]) rendered in one place ([`render`]).
//! Every check has a stable id (`LG001`…), listed in [`Check`] and in
//! `docs/lint.md`.

mod checks;
pub(crate) mod read;
pub mod render;

use crate::layout::Layout;
use crate::riscv::PagingMode;
use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};

pub use render::{Format, render};

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Every check the lint runs. Ids are stable: JSON, SARIF, tests and
/// `docs/lint.md` refer to them. Each check has one severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    SymbolOutsideSlot,
    SymbolInAbs32Window,
    SegmentOutsideSlot,
    SegmentVaPaCongruence,
    SegmentLoadAddress,
    SegmentWriteExecute,
    SectionMissing,
    SectionPlacement,
    BoundarySymbol,
    BoundarySymbolMissing,
    GpMissing,
    GpPlacement,
    GpSmallDataWindow,
    GpForbidden,
    AbsoluteRelocation,
    RelocationAudit,
    DynamicRelocationType,
    TextRelocation,
    GotUse,
    SymbolSource,
    OrphanSection,
    Entry,
}

impl Check {
    pub const ALL: [Check; 22] = [
        Check::SymbolOutsideSlot,
        Check::SymbolInAbs32Window,
        Check::SegmentOutsideSlot,
        Check::SegmentVaPaCongruence,
        Check::SegmentLoadAddress,
        Check::SegmentWriteExecute,
        Check::SectionMissing,
        Check::SectionPlacement,
        Check::BoundarySymbol,
        Check::BoundarySymbolMissing,
        Check::GpMissing,
        Check::GpPlacement,
        Check::GpSmallDataWindow,
        Check::GpForbidden,
        Check::AbsoluteRelocation,
        Check::RelocationAudit,
        Check::DynamicRelocationType,
        Check::TextRelocation,
        Check::GotUse,
        Check::SymbolSource,
        Check::OrphanSection,
        Check::Entry,
    ];

    /// `LG001`…: the stable id.
    pub fn id(self) -> &'static str {
        match self {
            Check::SymbolOutsideSlot => "LG001",
            Check::SymbolInAbs32Window => "LG002",
            Check::SegmentOutsideSlot => "LG003",
            Check::SegmentVaPaCongruence => "LG004",
            Check::SegmentLoadAddress => "LG005",
            Check::SegmentWriteExecute => "LG006",
            Check::SectionMissing => "LG007",
            Check::SectionPlacement => "LG008",
            Check::BoundarySymbol => "LG009",
            Check::BoundarySymbolMissing => "LG010",
            Check::GpMissing => "LG011",
            Check::GpPlacement => "LG012",
            Check::GpSmallDataWindow => "LG013",
            Check::GpForbidden => "LG014",
            Check::AbsoluteRelocation => "LG015",
            Check::RelocationAudit => "LG016",
            Check::DynamicRelocationType => "LG017",
            Check::TextRelocation => "LG018",
            Check::GotUse => "LG019",
            Check::SymbolSource => "LG020",
            Check::OrphanSection => "LG021",
            Check::Entry => "LG022",
        }
    }

    /// A short kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Check::SymbolOutsideSlot => "symbol-outside-slot",
            Check::SymbolInAbs32Window => "symbol-in-abs32-window",
            Check::SegmentOutsideSlot => "segment-outside-slot",
            Check::SegmentVaPaCongruence => "segment-va-pa-congruence",
            Check::SegmentLoadAddress => "segment-load-address",
            Check::SegmentWriteExecute => "segment-write-execute",
            Check::SectionMissing => "section-missing",
            Check::SectionPlacement => "section-placement",
            Check::BoundarySymbol => "boundary-symbol",
            Check::BoundarySymbolMissing => "boundary-symbol-missing",
            Check::GpMissing => "gp-missing",
            Check::GpPlacement => "gp-placement",
            Check::GpSmallDataWindow => "gp-small-data-window",
            Check::GpForbidden => "gp-forbidden",
            Check::AbsoluteRelocation => "absolute-relocation",
            Check::RelocationAudit => "relocation-audit",
            Check::DynamicRelocationType => "dynamic-relocation-type",
            Check::TextRelocation => "text-relocation",
            Check::GotUse => "got-use",
            Check::SymbolSource => "symbol-source",
            Check::OrphanSection => "orphan-section",
            Check::Entry => "entry",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Check::SectionMissing
            | Check::BoundarySymbolMissing
            | Check::TextRelocation
            | Check::OrphanSection => Severity::Warning,
            Check::GpSmallDataWindow
            | Check::RelocationAudit
            | Check::GotUse
            | Check::SymbolSource => Severity::Info,
            _ => Severity::Error,
        }
    }

    /// One sentence: what the check enforces.
    pub fn description(self) -> &'static str {
        match self {
            Check::SymbolOutsideSlot => {
                "Every defined, non-absolute symbol in an allocated section lies inside the image's slot and inside the image (image.link + image.max_size)."
            }
            Check::SymbolInAbs32Window => {
                "Semi-PIC/PIE: no symbol lies in [-2 GiB, +2 GiB), where absolute lui/HI20 addressing reaches."
            }
            Check::SegmentOutsideSlot => "Every PT_LOAD segment lies inside the image's slot.",
            Check::SegmentVaPaCongruence => {
                "Every PT_LOAD segment has VA ≡ PA modulo image.section_align (the hugepage the image is mapped with)."
            }
            Check::SegmentLoadAddress => {
                "PT_LOAD physical addresses are the spec's: p_vaddr - p_paddr is the image offset, the first segment is at ram.load."
            }
            Check::SegmentWriteExecute => "No PT_LOAD segment is both writable and executable.",
            Check::SectionMissing => "Every section the spec lists is in the ELF.",
            Check::SectionPlacement => {
                "Sections are in spec order, aligned, inside the image, with the spec's permissions, type and size."
            }
            Check::BoundarySymbol => {
                "Symbols the generated linker script defines agree with the generated constants and the section headers."
            }
            Check::BoundarySymbolMissing => {
                "Symbols the generated linker script defines are present (else the image was not linked with it)."
            }
            Check::GpMissing => "gp.policy = relax: __global_pointer$ is defined.",
            Check::GpPlacement => {
                "gp.policy = relax: __global_pointer$ is at gp.section + gp.offset, inside the image."
            }
            Check::GpSmallDataWindow => {
                "gp.policy = relax: how many small-data symbols lie outside __global_pointer$ ± 2 KiB (a figure, not an error)."
            }
            Check::GpForbidden => {
                "gp.policy = disabled/shadow-call-stack: no __global_pointer$ and no gp-relative relocation."
            }
            Check::AbsoluteRelocation => {
                "Semi-PIC/PIE: no absolute R_RISCV_HI20/LO12_I/LO12_S relocation against an image symbol."
            }
            Check::RelocationAudit => {
                "Counts of the relocations found (--emit-relocs sections and .rela.dyn) by kind."
            }
            Check::DynamicRelocationType => "Semi-PIC/PIE: .rela.dyn holds only R_RISCV_RELATIVE.",
            Check::TextRelocation => {
                "Dynamic relocations that patch executable sections (text relocations)."
            }
            Check::GotUse => "GOT use: a .got section or GOT-indirect relocations.",
            Check::SymbolSource => {
                "Where symbols came from (.symtab, .dynsym of a stripped file, none) and which checks that limits."
            }
            Check::OrphanSection => {
                "Allocated sections that the spec does not list (placed by the linker on its own)."
            }
            Check::Entry => {
                "The ELF entry point is image.entry and lies in an executable section of the image."
            }
        }
    }

    pub fn from_id(id: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.id() == id)
    }
}

impl Serialize for Check {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// One finding: a check that failed (or reports a figure), what it is about,
/// the spec key it breaks and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `LG001`…
    pub id: Check,
    /// The check's kebab-case name.
    pub check: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The symbol the finding is about, if any.
    pub symbol: Option<String>,
    /// The ELF section (or `segment N`) the finding is about, if any.
    pub section: Option<String>,
    /// The address the finding is about, if any (hex in JSON).
    #[serde(serialize_with = "ser_hex_opt")]
    pub address: Option<u64>,
    /// The dotted spec key the ELF disagrees with (`region.kernel`, `ram.load`, …).
    pub spec_key: String,
    pub help: String,
    /// Paging modes the finding applies to (empty: every mode of the layout).
    pub modes: Vec<PagingMode>,
}

fn ser_hex_opt<S: serde::Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_str(&format!("{v:#x}")),
        None => s.serialize_none(),
    }
}

impl Finding {
    pub(crate) fn new(
        check: Check,
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

/// Findings per severity, including those left out of `findings` by the
/// per-check cap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub errors: u64,
    pub warnings: u64,
    pub infos: u64,
}

impl Counts {
    fn add(&mut self, severity: Severity, n: u64) {
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
    pub small_data_symbols: u64,
    pub small_data_outside_gp_window: u64,
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
    pub fn by_check(&self, check: Check) -> impl Iterator<Item = &Finding> {
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
    #[error("cannot read {path}: {source}\nhelp: check the path and permissions")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: not an ELF file ({reason})\nhelp: pass the linked kernel (vmlinux-style ELF), not a raw binary image"
    )]
    NotElf { path: PathBuf, reason: String },
    #[error(
        "{path}: not a riscv64 ELF ({found})\nhelp: lint checks riscv64 (ELFCLASS64, EM_RISCV) kernels and modules only"
    )]
    NotRiscv64 { path: PathBuf, found: String },
    #[error("{path}: malformed ELF: {what}\nhelp: the file is truncated or corrupt; rebuild it")]
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

impl LintError {
    pub fn exit_code(&self) -> u8 {
        2
    }
}

/// Lints the ELF file at `path` against `layout`, in `mode` or (with
/// `None`) every mode the layout lists. The file is memory-mapped.
pub fn lint(
    layout: &Layout,
    mode: Option<PagingMode>,
    path: &Path,
) -> Result<LintReport, LintError> {
    let read_err = |source| LintError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let meta = file.metadata().map_err(read_err)?;
    if !meta.is_file() {
        return Err(read_err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    if meta.len() == 0 {
        return lint_bytes(layout, mode, path, &[]);
    }
    // SAFETY: the map is read-only and private to this call. If another
    // process truncates the file while we read it, accesses past the new end
    // fault (SIGBUS); that is the accepted cost of not reading a
    // hundreds-of-megabytes vmlinux (mostly debug info we never look at)
    // into memory.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(read_err)?;
    lint_bytes(layout, mode, path, &map)
}

/// The real end of the image linked into the ELF at `path`: the value of
/// the spec's first end-of-image symbol, or else the end of the highest
/// allocated section. `None` when the file has neither. `image.end` in a
/// spec resolved against this file is this rounded up to 4 KiB.
pub fn linked_end(layout: &Layout, path: &Path) -> Result<Option<u64>, LintError> {
    let data = std::fs::read(path).map_err(|source| LintError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let elf = read::Elf::parse(&data).map_err(|e| e.with_path(path))?;
    let wanted = layout.image.end_symbols.first().map(|s| s.as_bytes());
    let by_symbol = wanted.and_then(|w| {
        elf.symbols()
            .find(|s| s.name == w && !s.is_undefined())
            .map(|s| s.value)
    });
    let by_sections = elf
        .sections
        .iter()
        .filter(|s| s.alloc() && s.size > 0)
        .map(|s| s.end().min(u64::MAX as u128) as u64)
        .max();
    Ok(by_symbol.or(by_sections))
}

/// Lints an ELF image already in memory; `path` only names it in messages.
/// Never panics, whatever the bytes.
pub fn lint_bytes(
    layout: &Layout,
    mode: Option<PagingMode>,
    path: &Path,
    data: &[u8],
) -> Result<LintReport, LintError> {
    let modes: Vec<PagingMode> = match mode {
        Some(m) => {
            if layout.mode(m).is_none() {
                return Err(LintError::UnknownMode {
                    layout: layout.name.clone(),
                    mode: m,
                    listed: layout
                        .modes
                        .iter()
                        .map(|m| m.mode.name())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            vec![m]
        }
        None => layout.modes.iter().map(|m| m.mode).collect(),
    };
    let elf = read::Elf::parse(data).map_err(|e| e.with_path(path))?;
    checks::run(layout, &modes, path, &elf)
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
            ParseError::NotRiscv64(found) => write!(f, "not a riscv64 ELF ({found})"),
            ParseError::Malformed(what) => write!(f, "malformed ELF: {what}"),
        }
    }
}

impl ParseError {
    fn with_path(self, path: &Path) -> LintError {
        let path = path.to_path_buf();
        match self {
            ParseError::NotElf(reason) => LintError::NotElf { path, reason },
            ParseError::NotRiscv64(found) => LintError::NotRiscv64 { path, found },
            ParseError::Malformed(what) => LintError::Malformed { path, what },
        }
    }
}
