//! `layoutgen lint`: a linked (or relocatable) riscv64 ELF checked against
//! the resolved [`Layout`] it was built from — the link result cross-checked
//! against the spec after the fact, as arm64's `relacheck` and the emitted
//! linker-script `ASSERT`s do at link time.
//!
//! The file is memory-mapped (the kernel told to read ahead exactly what
//! lint needs and nothing around it) and only the parts a check needs are
//! touched: the ELF header, program and section headers, section names, the
//! symbol table with its strings, and relocation sections whose target is an
//! allocated section. Debug sections (and their relocations) are never read,
//! so time and memory do not grow with them.
//!
//! Findings are values ([`Finding`]) rendered in one place ([`render`]).
//! Every check has a stable id (`LG001`…), listed in [`Check`] and in
//! `docs/lint.md`.

mod checks;
pub(crate) mod read;
pub mod render;

use crate::arch::PagingMode;
use crate::layout::Layout;
use serde::Serialize;
use std::path::{Path, PathBuf};

pub use render::{Format, render};

pub use crate::lints::{Check, ConfigSource, Level, LintConfig, LintSetting, Severity};

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
    /// Set when the check is configured `allow` (in the spec's `[lint]`
    /// table or with `--allow`): the finding is reported but does not count
    /// towards the exit code.
    pub suppressed: Option<LintSetting>,
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
    /// The linked image's link address and real end (its end symbol, else
    /// its last allocated section's end); null for objects.
    #[serde(serialize_with = "ser_hex_opt")]
    pub image_start: Option<u64>,
    #[serde(serialize_with = "ser_hex_opt")]
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
    pub by_check: std::collections::BTreeMap<Check, u64>,
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
        "{path}: not an ELF of the spec's architecture ({found})\nhelp: lint checks 64-bit little-endian kernels and modules of the spec's `arch` (riscv64: EM_RISCV, aarch64: EM_AARCH64)"
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
/// `None`) every mode the layout lists, with the levels of the layout's
/// `[lint]` table. The file is memory-mapped.
pub fn lint(
    layout: &Layout,
    mode: Option<PagingMode>,
    path: &Path,
) -> Result<LintReport, LintError> {
    lint_with(layout, &LintConfig::from_layout(layout), mode, path)
}

/// As [`lint`], with the check levels in `config` (the spec's, with
/// command-line levels applied on top: [`LintConfig::set_from_command_line`]).
pub fn lint_with(
    layout: &Layout,
    config: &LintConfig,
    mode: Option<PagingMode>,
    path: &Path,
) -> Result<LintReport, LintError> {
    let map = map_needed(path)?;
    lint_bytes_with(layout, config, mode, path, map.as_deref().unwrap_or(&[]))
}

/// Memory-maps the file at `path` for lint (`None` for an empty file), with
/// the kernel told what lint will read: random access everywhere (no
/// read-around: a cold page cache would otherwise pull in megabytes of the
/// debug sections around each page touched), and read-ahead of exactly the
/// ranges lint needs ([`read::needed_ranges`]), so a cold run reads little
/// more than those bytes, in large requests.
fn map_needed(path: &Path) -> Result<Option<memmap2::Mmap>, LintError> {
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
        return Ok(None);
    }
    // SAFETY: the map is read-only and private to this call. If another
    // process truncates the file while we read it, accesses past the new end
    // fault (SIGBUS); that is the accepted cost of not reading a
    // hundreds-of-megabytes vmlinux (mostly debug info we never look at)
    // into memory.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(read_err)?;
    advise(&map);
    Ok(Some(map))
}

/// Tells the kernel how lint reads `map` (see [`map_needed`]).
#[cfg(unix)]
fn advise(map: &memmap2::Mmap) {
    // Advice only steers the page cache: failing to give it changes nothing
    // else, so errors are ignored.
    let _ = map.advise(memmap2::Advice::Random);
    let ehdr = &map[..map.len().min(64)];
    let (off, len) = read::shdr_range(ehdr);
    let shdrs = usize::try_from(off)
        .ok()
        .and_then(|off| map.get(off..off.saturating_add(len as usize).min(map.len())))
        .unwrap_or(&[]);
    match read::needed_ranges(ehdr, shdrs, map.len() as u64) {
        Some(ranges) => {
            // The kernel reads at most its read-ahead window (128 KiB by
            // default) per MADV_WILLNEED call: one call per window.
            const WINDOW: u64 = 128 << 10;
            for (off, len) in ranges {
                let end = off + len;
                let mut at = off;
                while at < end {
                    let n = WINDOW.min(end - at);
                    let _ = map.advise_range(memmap2::Advice::WillNeed, at as usize, n as usize);
                    at += n;
                }
            }
        }
        None => {
            let _ = map.advise(memmap2::Advice::Normal);
        }
    }
}

#[cfg(not(unix))]
fn advise(_: &memmap2::Mmap) {}

/// The byte ranges `layoutgen lint` reads from the ELF file at `path`, as
/// `(offset, length)`, sorted and disjoint; `None` when they cannot be told
/// from the headers alone. For `scripts/bench-lint`'s floor
/// (`examples/lint-floor.rs`), which reads exactly these bytes and nothing
/// else; not a stable interface.
#[doc(hidden)]
#[cfg(unix)]
pub fn needed_ranges(path: &Path) -> std::io::Result<Option<Vec<(u64, u64)>>> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path)?;
    let file_len = file.metadata()?.len();
    let mut ehdr = [0u8; 64];
    let n = read_at_most(&file, &mut ehdr, 0)?;
    let ehdr = &ehdr[..n];
    let (off, len) = read::shdr_range(ehdr);
    let len = len.min(file_len.saturating_sub(off));
    let mut shdrs = vec![0u8; usize::try_from(len).unwrap_or(0)];
    file.read_exact_at(&mut shdrs, off)?;
    Ok(read::needed_ranges(ehdr, &shdrs, file_len))
}

#[cfg(unix)]
fn read_at_most(file: &std::fs::File, buf: &mut [u8], off: u64) -> std::io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], off + done as u64)? {
            0 => break,
            n => done += n,
        }
    }
    Ok(done)
}

/// The real end of the image linked into the ELF at `path`: the value of
/// the spec's first end-of-image symbol, or else the end of the highest
/// allocated section. `None` when the file has neither. `image.end` in a
/// spec resolved against this file is this rounded up to 4 KiB.
pub fn linked_end(layout: &Layout, path: &Path) -> Result<Option<u64>, LintError> {
    let map = map_needed(path)?;
    let elf = read::Elf::parse(map.as_deref().unwrap_or(&[]), layout.arch)
        .map_err(|e| e.with_path(path))?;
    let wanted = layout.image.end_symbols.first().map(|s| s.as_bytes());
    let by_symbol = wanted.and_then(|w| {
        elf.symbols()
            .find(|s| !s.is_undefined() && s.name_bytes(&elf) == w)
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
    lint_bytes_with(layout, &LintConfig::from_layout(layout), mode, path, data)
}

/// As [`lint_bytes`], with the check levels in `config`.
pub fn lint_bytes_with(
    layout: &Layout,
    config: &LintConfig,
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
    let elf = read::Elf::parse(data, layout.arch).map_err(|e| e.with_path(path))?;
    checks::run(layout, config, &modes, path, &elf)
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
    fn with_path(self, path: &Path) -> LintError {
        let path = path.to_path_buf();
        match self {
            ParseError::NotElf(reason) => LintError::NotElf { path, reason },
            ParseError::NotRiscv64(found) => LintError::NotRiscv64 { path, found },
            ParseError::Malformed(what) => LintError::Malformed { path, what },
        }
    }
}
