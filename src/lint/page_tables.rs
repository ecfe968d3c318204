//! LG024–LG027: a running kernel's page tables (a dump: QEMU's `info mem`,
//! Linux's riscv64 ptdump, Linux's arm64 ptdump in `page_tables_arm64`) against the resolved layout of the mode it ran
//! in (docs/page-tables.md).

use super::context::Collector;
use super::{ElfKind, Finding, Lint, LintConfig, LintError, LintReport, Stats, SymbolSource};
use crate::arch::PagingMode;
use crate::layout::Layout;
use crate::spec::RegionKind;
use std::path::Path;

/// One run of pages with the same attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    pub va: u64,
    /// `None` where the dump does not say (arm64's ptdump).
    pub pa: Option<u64>,
    pub size: u64,
    pub read: bool,
    pub write: bool,
    pub execute: bool,
    pub user: bool,
}

impl Mapping {
    fn end(&self) -> u128 {
        self.va as u128 + self.size as u128
    }
    fn perms(&self) -> String {
        format!(
            "{}{}{}{}",
            if self.read { 'r' } else { '-' },
            if self.write { 'w' } else { '-' },
            if self.execute { 'x' } else { '-' },
            if self.user { 'u' } else { '-' }
        )
    }
}

/// The most a dump may be (a full Sv57 ptdump is a few MiB).
const MAX_DUMP_BYTES: usize = 64 << 20;

fn hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.strip_prefix("0x").unwrap_or(s), 16).ok()
}

/// QEMU `info mem` (riscv64): `vaddr paddr size attr`, attr `rwxugad`.
fn qemu_line(line: &str) -> Option<Mapping> {
    let f: Vec<&str> = line.split_whitespace().collect();
    let [va, pa, size, attr] = f.as_slice() else {
        return None;
    };
    let attr: Vec<char> = attr.chars().collect();
    if va.len() != 16 || attr.len() != 7 {
        return None;
    }
    Some(Mapping {
        va: hex(va)?,
        pa: Some(hex(pa)?),
        size: hex(size)?,
        read: attr[0] == 'r',
        write: attr[1] == 'w',
        execute: attr[2] == 'x',
        user: attr[3] == 'u',
    })
}

/// Linux riscv64 ptdump: `0xSTART-0xEND 0xPA SIZE LEVEL flags…`, the flags
/// as `arch/riscv/mm/ptdump.c` prints them (`U`, `X`, `W`, `R` or `.`).
fn ptdump_line(line: &str) -> Option<Mapping> {
    let mut f = line.split_whitespace();
    let (start, end) = f.next()?.split_once('-')?;
    let pa = f.next()?;
    let (start, end) = (hex(start)?, hex(end)?);
    if !pa.starts_with("0x") || end <= start {
        return None;
    }
    let flags: Vec<&str> = f.skip(2).collect();
    let has = |c: &str| flags.contains(&c);
    Some(Mapping {
        va: start,
        pa: Some(hex(pa)?),
        size: end - start,
        read: has("R"),
        write: has("W"),
        execute: has("X"),
        user: has("U"),
    })
}

/// The mappings of a dump in any of the formats; other lines are skipped.
pub fn parse(text: &str) -> Vec<Mapping> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            if l.starts_with("0x") {
                ptdump_line(l).or_else(|| super::page_tables_arm64::line(l))
            } else {
                qemu_line(l)
            }
        })
        .collect()
}

/// Lints the page-table dump at `path` against `layout` in `mode`, with the
/// kernel's ELF (for its sections' addresses) when given.
pub fn run(
    layout: &Layout,
    config: &LintConfig,
    mode: PagingMode,
    path: &Path,
    elf_path: Option<&Path>,
) -> Result<LintReport, LintError> {
    let read_err = |source| LintError::Read {
        path: path.to_path_buf(),
        source,
    };
    let bytes = crate::files::read_capped(path, MAX_DUMP_BYTES).map_err(read_err)?;
    let text = String::from_utf8_lossy(&bytes);
    let mappings = parse(&text);
    if mappings.is_empty() {
        return Err(LintError::Malformed {
            path: path.to_path_buf(),
            what: "no mapping in it: expected QEMU's `info mem` or Linux's kernel_page_tables"
                .into(),
        });
    }
    let segments = match elf_path {
        Some(p) => image_segments(layout, p)?,
        None => Vec::new(),
    };
    let mut c = Collector::default();
    check(layout, mode, &mappings, &segments, &mut c);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_qemu_info_mem_and_skips_the_monitor_around_it() {
        let dump = "info mem\nvaddr            paddr            size             attr\n\
                    ---------------- ---------------- ---------------- -------\n\
                    ffffffff80000000 0000000080200000 0000000000200000 r-x-gad\n\
                    ffffffd600c00000 0000000080c00000 000000003f400000 rw--gad\n(qemu) ";
        let m = parse(dump);
        assert_eq!(m.len(), 2);
        assert_eq!(
            (m[0].va, m[0].pa, m[0].size, m[0].write, m[0].execute),
            (
                0xffff_ffff_8000_0000,
                Some(0x8020_0000),
                0x20_0000,
                false,
                true
            )
        );
        assert!(m[1].write && !m[1].execute && !m[1].user);
    }

    /// Lines as arch/riscv/mm/ptdump.c prints them (`0x%016lx-0x%016lx`,
    /// the PA, the size with its unit, the level, then one column per bit:
    /// N, MT(..), RSW(..), D A G U X W R V).
    #[test]
    fn reads_linux_riscv64_ptdump() {
        let dump = "---[ Kernel mapping ]---\n\
            0xffffffff80000000-0xffffffff80200000    0x0000000080200000         2M PMD   .    ..     ..   D A G . X . R V\n\
            0xffffffff80400000-0xffffffff80600000    0x0000000080600000         2M PMD   .    ..     ..   D A G . . W R V\n\
            0x0000000000400000-0x0000000000401000    0x0000000080000000         4K PTE   .    ..     ..   D A . U . W R V\n";
        let m = parse(dump);
        assert_eq!(m.len(), 3);
        assert!(m[0].execute && !m[0].write && m[0].read);
        assert!(m[1].write && !m[1].execute);
        assert_eq!(m[1].size, 0x20_0000);
        assert!(m[2].user && m[2].write);
    }
}
