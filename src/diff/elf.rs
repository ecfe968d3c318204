//! `layoutgen diff --spec SPEC --elf OLD NEW`: what changed between two
//! builds of one kernel, measured against the spec both were linked with.
//!
//! Both files are read with lint's ELF reader and linted with the same
//! levels, so the figures are the ones lint sees: per spec section
//! (`image.section`), per PT_LOAD segment and per region the image's
//! sections lie in (the slot, normally), start and size before and after
//! and the share of each one's budget (the section's `max_size`,
//! `image.max_size`, the region's size); symbols whose region changed; and
//! lint findings that are new or fixed, matched by the key a lint baseline
//! uses (check, symbol, section, spec key), so findings that only moved with
//! the addresses are neither. Rendering is in `elf_render.rs`.

use crate::arch::PagingMode;
use crate::layout::{Layout, ModeLayout};
use crate::lint::elf::Elf;
use crate::lint::{self, Finding, LintConfig, LintError, LintReport};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use super::elf_render::JSON_SCHEMA;

/// Where something lies in one build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extent {
    pub start: u64,
    pub size: u64,
    /// A segment's `rwx` permissions (`None` for sections and regions).
    pub perms: Option<String>,
}

/// What a size is measured against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    /// The spec key of the limit: `image.section.text.max_size`,
    /// `image.max_size`, `region.kernel.size`.
    pub key: String,
    pub size: u64,
}

/// One thing measured in both builds: a section, a segment, the image or a
/// region. `old`/`new` are `None` where the build does not have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// `.text`, `segment 2`, `image`, `kernel`.
    pub name: String,
    /// The spec key it answers to (`image.section.text`, `image`,
    /// `region.kernel`), or lint's name of a segment (`segment 2`) and the
    /// spec segment it holds (`segment 2 (text)`).
    pub key: String,
    pub old: Option<Extent>,
    pub new: Option<Extent>,
    pub budget: Option<Budget>,
}

impl Row {
    /// New size minus old size (a missing side counts 0).
    pub fn growth(&self) -> i128 {
        let size = |e: &Option<Extent>| e.as_ref().map_or(0, |e| e.size as i128);
        size(&self.new) - size(&self.old)
    }

    pub fn changed(&self) -> bool {
        self.old != self.new
    }

    /// The share of the budget `side` takes, in percent.
    pub fn share(&self, side: Option<&Extent>) -> Option<f64> {
        let (b, e) = (self.budget.as_ref()?, side?);
        (b.size > 0).then(|| e.size as f64 * 100.0 / b.size as f64)
    }
}

/// A symbol defined in both builds whose containing region (by the
/// resolved layout, in the mode compared) is not the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedSymbol {
    pub name: String,
    /// `None`: in no region of the layout.
    pub old_region: Option<String>,
    pub new_region: Option<String>,
    pub old_address: u64,
    pub new_address: u64,
}

/// One build as read.
#[derive(Debug, Clone)]
pub struct Build {
    pub path: PathBuf,
    /// Its lint run, with the levels both runs share.
    pub report: LintReport,
}

/// What changed between two builds.
#[derive(Debug, Clone)]
pub struct ElfDiff {
    pub layout: String,
    /// The mode whose regions the figures use.
    pub mode: PagingMode,
    /// The slot (`image.slot`).
    pub slot: String,
    pub old: Build,
    pub new: Build,
    pub image: Row,
    pub sections: Vec<Row>,
    pub segments: Vec<Row>,
    pub regions: Vec<Row>,
    pub moved_symbols: Vec<MovedSymbol>,
    /// Findings of the new build the old one does not have.
    pub new_findings: Vec<Finding>,
    /// Findings of the old build the new one no longer has.
    pub fixed_findings: Vec<Finding>,
}

impl ElfDiff {
    /// Anything at all differs (the command's exit status 1).
    pub fn changed(&self) -> bool {
        self.rows().any(Row::changed)
            || !self.moved_symbols.is_empty()
            || !self.new_findings.is_empty()
            || !self.fixed_findings.is_empty()
    }

    /// The image, then sections, segments and regions.
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        std::iter::once(&self.image)
            .chain(&self.sections)
            .chain(&self.segments)
            .chain(&self.regions)
    }
}

/// How to compare: the mode whose regions are used (`None`: the spec's
/// first) and the lint levels both runs use (`None`: the spec's `[lint]`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    pub mode: Option<PagingMode>,
    pub config: Option<&'a LintConfig>,
}

/// Compares the linked ELF files `old` and `new` against `layout`. Errors
/// are lint's (unreadable file, not an ELF of the spec's architecture,
/// malformed, a mode the spec does not list) and name the file.
pub fn diff_elfs(
    layout: &Layout,
    old: &Path,
    new: &Path,
    options: &Options,
) -> Result<ElfDiff, LintError> {
    // The mode asked for (which the spec must list), else the spec's first;
    // a resolved layout lists at least one.
    let modes = lint::input::modes(layout, options.mode)?;
    let mode = modes
        .first()
        .and_then(|&m| layout.mode(m))
        .expect("a resolved layout lists at least one mode");
    let lint_options = lint::Options {
        mode: options.mode,
        config: options.config,
    };
    let (old_map, new_map) = (map(old)?, map(new)?);
    let (old_bytes, new_bytes) = (
        old_map.as_deref().unwrap_or(&[]),
        new_map.as_deref().unwrap_or(&[]),
    );
    let parse = |path: &Path, data| Elf::parse(data, layout.arch).map_err(|e| e.with_path(path));
    let (a, b) = (parse(old, old_bytes)?, parse(new, new_bytes)?);
    let lint = |path: &Path, data: &[u8]| {
        lint::run(
            layout,
            lint::Input::Bytes { name: path, data },
            &lint_options,
        )
    };
    let (old_report, new_report) = (lint(old, old_bytes)?, lint(new, new_bytes)?);
    let image = Row {
        name: "image".into(),
        key: "image".into(),
        old: image_extent(&old_report),
        new: image_extent(&new_report),
        budget: Some(Budget {
            key: "image.max_size".into(),
            size: layout.image.max_size,
        }),
    };
    Ok(ElfDiff {
        layout: layout.name.clone(),
        mode: mode.mode,
        slot: layout.image.slot.clone(),
        image,
        sections: section_rows(layout, &a, &b),
        segments: segment_rows(layout, &a, &b),
        regions: region_rows(mode, &a, &b),
        moved_symbols: moved_symbols(mode, &a, &b),
        new_findings: lint::baseline::unmatched(&new_report.findings, &old_report.findings),
        fixed_findings: lint::baseline::unmatched(&old_report.findings, &new_report.findings),
        old: Build {
            path: old.to_path_buf(),
            report: old_report,
        },
        new: Build {
            path: new.to_path_buf(),
            report: new_report,
        },
    })
}

fn map(path: &Path) -> Result<Option<memmap2::Mmap>, LintError> {
    lint::input::map_regular(path).map_err(|source| LintError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The image's extent as lint measured it: from its link address to its
/// end symbol (else its last allocated section's end).
fn image_extent(report: &LintReport) -> Option<Extent> {
    let (start, end) = (report.stats.image_start?, report.stats.image_end?);
    Some(Extent {
        start,
        size: end.saturating_sub(start),
        perms: None,
    })
}

fn section_extent(elf: &Elf, name: &str) -> Option<Extent> {
    elf.section_by_name(name).map(|(_, s)| Extent {
        start: s.addr,
        size: s.size,
        perms: None,
    })
}

/// One row per spec section, in spec order.
fn section_rows(layout: &Layout, a: &Elf, b: &Elf) -> Vec<Row> {
    layout
        .image
        .sections
        .iter()
        .map(|s| Row {
            name: s.name.clone(),
            key: format!("image.section.{}", s.id),
            old: section_extent(a, &s.name),
            new: section_extent(b, &s.name),
            budget: s.max_size.map(|size| Budget {
                key: format!("image.section.{}.max_size", s.id),
                size,
            }),
        })
        .collect()
}

/// One row per PT_LOAD, matched by order: the Nth of each file.
fn segment_rows(layout: &Layout, a: &Elf, b: &Elf) -> Vec<Row> {
    let extent = |s: &lint::elf::Segment| Extent {
        start: s.vaddr,
        size: s.memsz,
        perms: Some(s.perms()),
    };
    // The spec segment the PT_LOAD starts with, by the section at its start.
    let spec_segment = |elf: &Elf, s: &lint::elf::Segment| {
        let section = elf.section_at(s.vaddr)?;
        layout
            .image
            .section(&section.name)
            .map(|x| x.segment.clone())
    };
    (0..a.segments.len().max(b.segments.len()))
        .map(|i| {
            let (x, y) = (a.segments.get(i), b.segments.get(i));
            let index = y.or(x).map_or(i, |s| s.index);
            let named = y
                .and_then(|s| spec_segment(b, s))
                .or_else(|| x.and_then(|s| spec_segment(a, s)));
            let name = format!("segment {index}");
            Row {
                key: match named {
                    Some(n) => format!("{name} ({n})"),
                    None => name.clone(),
                },
                name,
                old: x.map(extent),
                new: y.map(extent),
                budget: None,
            }
        })
        .collect()
}

/// Per region of `mode`: the span of the file's non-empty allocated
/// sections that start in it. Regions neither file uses are left out.
fn region_rows(mode: &ModeLayout, a: &Elf, b: &Elf) -> Vec<Row> {
    let span = |elf: &Elf, r: &crate::layout::Region| {
        let mut lo: Option<u64> = None;
        let mut hi: u128 = 0;
        for s in elf.sections.iter().filter(|s| s.alloc() && s.size > 0) {
            if r.contains(s.addr) {
                lo = Some(lo.map_or(s.addr, |l| l.min(s.addr)));
                hi = hi.max(s.end());
            }
        }
        lo.map(|start| Extent {
            start,
            size: (hi - start as u128).min(u64::MAX as u128) as u64,
            perms: None,
        })
    };
    mode.regions
        .iter()
        .filter_map(|r| {
            let (old, new) = (span(a, r), span(b, r));
            (old.is_some() || new.is_some()).then(|| Row {
                name: r.name.clone(),
                key: format!("region.{}", r.name),
                old,
                new,
                budget: Some(Budget {
                    key: format!("region.{}.size", r.name),
                    size: r.size,
                }),
            })
        })
        .collect()
}

/// Symbols defined in a section, by name, with their address; a name
/// defined more than once (local statics) is left out, it names no one
/// symbol.
fn defined<'d>(elf: &Elf<'d>) -> HashMap<&'d [u8], u64> {
    let mut seen: HashMap<&[u8], Option<u64>> = HashMap::new();
    for s in elf.symbols().filter(|s| s.in_section()) {
        let name = s.name_bytes(elf);
        if name.is_empty() {
            continue;
        }
        seen.entry(name)
            .and_modify(|v| *v = None)
            .or_insert(Some(s.value));
    }
    seen.into_iter()
        .filter_map(|(n, v)| v.map(|v| (n, v)))
        .collect()
}

/// Symbols of both files whose region changed, by name.
fn moved_symbols(mode: &ModeLayout, a: &Elf, b: &Elf) -> Vec<MovedSymbol> {
    let region = |addr: u64| {
        mode.regions
            .iter()
            .find(|r| r.contains(addr))
            .map(|r| r.name.clone())
    };
    let new = defined(b);
    let mut moved: Vec<MovedSymbol> = defined(a)
        .into_iter()
        .filter_map(|(name, old_address)| {
            let new_address = *new.get(name)?;
            let (old_region, new_region) = (region(old_address), region(new_address));
            (old_region != new_region).then(|| MovedSymbol {
                name: crate::format::printable_bytes(name),
                old_region,
                new_region,
                old_address,
                new_address,
            })
        })
        .collect();
    moved.sort_by(|x, y| x.name.cmp(&y.name));
    moved
}
