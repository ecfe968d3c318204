//! LG024–LG027: a running kernel's page tables (a dump: QEMU's `info mem`,
//! Linux's riscv64 ptdump, Linux's arm64 ptdump in `arm64`) against the resolved layout of the mode it ran
//! in (docs/page-tables.md).

mod arm64;
mod dump;
mod leaves;
mod walk;

pub use dump::{Level, Mapping};
pub use walk::{Memory, walk};

use super::context::Collector;
use super::{ElfKind, Finding, Lint, LintConfig, LintError, LintReport, Stats, SymbolSource};
use crate::arch::PagingMode;
use crate::layout::Layout;
use crate::spec::RegionKind;
use std::path::Path;

/// The most a dump may be (a full Sv57 ptdump is a few MiB).
const MAX_DUMP_BYTES: usize = 64 << 20;

/// What `lint --page-tables` knows besides the dump.
#[derive(Debug, Clone, Copy, Default)]
pub struct DumpOptions<'a> {
    /// The kernel's ELF, for its sections' addresses (LG027).
    pub elf: Option<&'a Path>,
    /// The RAM the kernel ran with, for the linear map's cost (LG031).
    pub ram: Option<u64>,
    /// The dump is a physical memory image and this is the root table's
    /// physical address (riscv64 `satp`'s PPN, aarch64 `TTBR1_EL1`).
    pub root: Option<u64>,
    /// Where the memory image starts (default: the spec's `ram.base`).
    pub memory_base: Option<u64>,
}

/// The mappings of a dump in any of the formats; other lines are skipped.
pub fn parse(text: &str) -> Vec<Mapping> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            if l.starts_with("0x") {
                dump::ptdump_line(l).or_else(|| arm64::line(l))
            } else {
                dump::qemu_line(l)
            }
        })
        .collect()
}

/// Lints the page-table dump at `path` against `layout` in `mode`.
pub fn run(
    layout: &Layout,
    config: &LintConfig,
    mode: PagingMode,
    path: &Path,
    opts: &DumpOptions,
) -> Result<LintReport, LintError> {
    let malformed = |what: String| LintError::Malformed {
        path: path.to_path_buf(),
        what,
    };
    let mappings = match opts.root {
        Some(root) => walk_image(layout, mode, path, root, opts.memory_base)?,
        None => read_text(path)?,
    };
    if mappings.is_empty() {
        return Err(malformed(match opts.root {
            Some(root) => {
                format!("the tables at {root:#x} map nothing: is --root the kernel's root table?")
            }
            None => {
                "no mapping in it: expected QEMU's `info mem` or Linux's kernel_page_tables".into()
            }
        }));
    }
    // The cost is counted in leaves, which QEMU's merged runs do not show.
    if opts.ram.is_some() && mappings.iter().any(|m| m.level.is_none()) {
        return Err(malformed("--ram compares leaf counts, which this dump does not show (QEMU's `info mem` merges neighbouring leaves): give Linux's kernel_page_tables or a memory image with --root, or leave --ram out".into()));
    }
    let (elf_path, ram) = (opts.elf, opts.ram);
    let segments = match elf_path {
        Some(p) => image_segments(layout, p)?,
        None => Vec::new(),
    };
    let mut c = Collector::default();
    check(layout, mode, &mappings, &segments, &mut c);
    if let Some(ml) = layout.mode(mode) {
        leaves::check_sizes(ml, &mappings, &mut c);
        if let Some(ram) = ram {
            leaves::check_cost(layout, ml, &mappings, ram, &mut c);
        }
    }
    let (findings, counts, by_check) = super::run::finish(c.findings, &c.over, config);
    Ok(LintReport {
        path: path.to_path_buf(),
        elf_kind: ElfKind::PageTables,
        symbols_from: SymbolSource::None,
        modes: vec![mode],
        findings,
        counts,
        stats: Stats {
            load_segments: mappings.len() as u64,
            ..Stats::default()
        },
        by_check,
    })
}

/// The mappings of a text dump (QEMU's `info mem`, Linux's ptdump).
fn read_text(path: &Path) -> Result<Vec<Mapping>, LintError> {
    let bytes =
        crate::files::read_capped(path, MAX_DUMP_BYTES).map_err(|source| LintError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(parse(&String::from_utf8_lossy(&bytes)))
}

/// The mappings of the tables at `root` in the memory image at `path`.
fn walk_image(
    layout: &Layout,
    mode: PagingMode,
    path: &Path,
    root: u64,
    base: Option<u64>,
) -> Result<Vec<Mapping>, LintError> {
    let map = super::input::map_regular(path).map_err(|source| LintError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let Some(ml) = layout.mode(mode) else {
        return Ok(Vec::new());
    };
    let mem = Memory {
        base: base.unwrap_or(layout.ram.base),
        bytes: map.as_deref().unwrap_or(&[]),
    };
    walk(layout.arch, ml, &mem, root).map_err(|what| LintError::Malformed {
        path: path.to_path_buf(),
        what,
    })
}

/// A spec segment as linked: its range and the union of its sections'
/// permissions.
struct ImageSegment {
    name: String,
    start: u64,
    end: u64,
    write: bool,
    execute: bool,
}

fn image_segments(layout: &Layout, path: &Path) -> Result<Vec<ImageSegment>, LintError> {
    let map = super::input::map_regular(path).map_err(|source| LintError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let elf = super::elf::Elf::parse(map.as_deref().unwrap_or(&[]), layout.arch)
        .map_err(|e| e.with_path(path))?;
    let mut out: Vec<ImageSegment> = Vec::new();
    for s in &layout.image.sections {
        let Some((_, sec)) = elf.section_by_name(&s.name) else {
            continue;
        };
        if sec.size == 0 {
            continue;
        }
        let end = (sec.addr as u128 + sec.size as u128).min(u64::MAX as u128) as u64;
        match out.last_mut() {
            Some(seg) if seg.name == s.segment => {
                seg.start = seg.start.min(sec.addr);
                seg.end = seg.end.max(end);
                seg.write |= s.write;
                seg.execute |= s.execute;
            }
            _ => out.push(ImageSegment {
                name: s.segment.clone(),
                start: sec.addr,
                end,
                write: s.write,
                execute: s.execute,
            }),
        }
    }
    Ok(out)
}

fn check(
    layout: &Layout,
    mode: PagingMode,
    mappings: &[Mapping],
    segments: &[ImageSegment],
    c: &mut Collector,
) {
    let Some(ml) = layout.mode(mode) else { return };
    let at = |m: &Mapping| match m.pa {
        Some(pa) => format!("[{:#x}, {:#x}) → {pa:#x} {}", m.va, m.end(), m.perms()),
        None => format!("[{:#x}, {:#x}) {}", m.va, m.end(), m.perms()),
    };
    for m in mappings {
        // LG024: inside a region (a mapping may span neighbouring regions).
        let mut covered = m.va as u128;
        while covered < m.end() {
            let Some(r) = ml
                .regions
                .iter()
                .find(|r| (r.start as u128) <= covered && covered < r.end())
            else {
                let below = ml
                    .regions
                    .iter()
                    .filter(|r| r.end() <= covered)
                    .max_by_key(|r| r.end());
                let above = ml
                    .regions
                    .iter()
                    .filter(|r| r.start as u128 > covered)
                    .min_by_key(|r| r.start);
                let hole_end = above.map_or(m.end(), |r| (r.start as u128).min(m.end()));
                c.push(
                    Finding::new(
                        Lint::PageOutsideRegions,
                        "region",
                        format!(
                            "{:#x}..{:#x} is mapped ({}) but lies in no region of {mode} (between {} and {})",
                            covered,
                            hole_end,
                            at(m),
                            below.map_or("the bottom".to_string(), |r| format!("`{}`", r.name)),
                            above.map_or("the top".to_string(), |r| format!("`{}`", r.name)),
                        ),
                        "map only inside the layout's regions, or add the region the kernel really uses to the spec",
                    )
                    .address(covered as u64),
                );
                covered = hole_end;
                continue;
            };
            // LG026: user regions are not the kernel's to map.
            if r.kind == RegionKind::User {
                c.push(
                    Finding::new(
                        Lint::PageUserHalf,
                        format!("region.{}", r.name),
                        format!(
                            "{} is mapped in the kernel's tables inside `{}`, the user half",
                            at(m),
                            r.name
                        ),
                        "user mappings belong to a process's tables; declare a region (an identity map, a trampoline) if the kernel maps this on purpose",
                    )
                    .address(m.va),
                );
            }
            covered = r.end();
        }
        // LG025: W^X.
        if m.write && m.execute {
            c.push(
                Finding::new(
                    Lint::PageWriteExecute,
                    "image.section",
                    format!("{} is writable and executable", at(m)),
                    "map code read-only and data non-executable (the spec's W^X, kept at run time)",
                )
                .address(m.va),
            );
        }
        // LG027: the image mapped with no more than its segments allow.
        for seg in segments {
            let overlaps = (m.va as u128) < seg.end as u128 && (seg.start as u128) < m.end();
            if overlaps && ((m.write && !seg.write) || (m.execute && !seg.execute)) {
                c.push(
                    Finding::new(
                        Lint::PagePermissions,
                        "image.section",
                        format!(
                            "{} maps segment `{}` [{:#x}, {:#x}), whose sections are {}{}: more than the spec allows",
                            at(m),
                            seg.name,
                            seg.start,
                            seg.end,
                            if seg.write { "writable" } else { "read-only" },
                            if seg.execute { " and executable" } else { ", not executable" },
                        ),
                        "map each segment with its sections' permissions (text r-x, rodata r--, data rw-)",
                    )
                    .address(m.va),
                );
            }
        }
    }
}
