//! The checks. One pass over the symbols, one over the program headers and
//! section headers, one over relocation sections that target allocated
//! sections. Everything is compared with the resolved layout, never the spec.

use super::read::{Elf, Section, SymTab, Symbol};
use super::{
    Check, Counts, ElfKind, Finding, LintError, LintReport, MAX_PER_CHECK, Stats, SymbolSource,
};
use crate::layout::{Layout, ModeLayout, Region};
use crate::riscv::{ABS32_WINDOW_HIGH_START, ABS32_WINDOW_LOW_END, PagingMode, human_size};
use crate::spec::{CodeModel, GpPolicy};
use object::elf;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Sections a relocatable image's generated script adds besides the spec's.
const DYNAMIC_TABLES: [&str; 9] = [
    ".dynsym",
    ".dynstr",
    ".hash",
    ".gnu.hash",
    ".rela.dyn",
    ".relr.dyn",
    ".dynamic",
    ".got",
    ".got.plt",
];

const SMALL_DATA_PREFIXES: [&str; 3] = [".sdata", ".sbss", ".srodata"];

const R_RISCV_GPREL_I: u32 = 47;
const R_RISCV_GPREL_S: u32 = 48;

/// ±2 KiB: the reach of a 12-bit signed offset from gp.
const GP_REACH: u64 = 2048;

/// `.sdata`, `.sdata.*`, `.sbss…`, `.srodata…`: small data the linker may
/// reach gp-relatively.
fn is_small_data(s: &Section) -> bool {
    SMALL_DATA_PREFIXES.iter().any(|p| {
        s.name
            .strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    })
}

fn in_abs32_window(addr: u64) -> bool {
    !(ABS32_WINDOW_LOW_END..ABS32_WINDOW_HIGH_START).contains(&addr)
}

fn hex(v: u64) -> String {
    format!("{v:#x}")
}

fn reloc_name(t: u32) -> String {
    match t {
        2 => "R_RISCV_64".into(),
        3 => "R_RISCV_RELATIVE".into(),
        5 => "R_RISCV_JUMP_SLOT".into(),
        4 => "R_RISCV_COPY".into(),
        20 => "R_RISCV_GOT_HI20".into(),
        26 => "R_RISCV_HI20".into(),
        27 => "R_RISCV_LO12_I".into(),
        28 => "R_RISCV_LO12_S".into(),
        47 => "R_RISCV_GPREL_I".into(),
        48 => "R_RISCV_GPREL_S".into(),
        t => format!("relocation type {t}"),
    }
}

/// Collects findings, keeping at most `MAX_PER_CHECK` per check.
#[derive(Default)]
struct Collector {
    findings: Vec<Finding>,
    kept: HashMap<Check, usize>,
    over: BTreeMap<Check, u64>,
}

impl Collector {
    fn push(&mut self, f: Finding) {
        let n = self.kept.entry(f.id).or_default();
        if *n < MAX_PER_CHECK {
            *n += 1;
            self.findings.push(f);
        } else {
            *self.over.entry(f.id).or_default() += 1;
        }
    }
}

/// Everything one group of modes (same slot, link address and offset) shares.
struct Ctx<'a> {
    layout: &'a Layout,
    mode: &'a ModeLayout,
    slot: Option<&'a Region>,
    elf: &'a Elf<'a>,
    relocatable: bool,
    linked: bool,
}

pub(crate) fn run(
    layout: &Layout,
    modes: &[PagingMode],
    path: &Path,
    elf: &Elf<'_>,
) -> Result<LintReport, LintError> {
    let malformed = |what: String| LintError::Malformed {
        path: path.to_path_buf(),
        what,
    };
    let linked = matches!(elf.kind, super::ElfKind::Exec | super::ElfKind::Dyn);
    if linked && let Some(e) = &elf.segment_error {
        return Err(malformed(format!("program headers: {e}")));
    }

    // Modes whose slot, link address and offset agree are checked once.
    let mut groups: Vec<(&ModeLayout, Vec<PagingMode>)> = Vec::new();
    for &m in modes {
        let Some(ml) = layout.mode(m) else { continue };
        let key = |x: &ModeLayout| {
            let slot = x.region(&layout.image.slot).map(|r| (r.start, r.size));
            (slot, x.image_link, x.image_offset)
        };
        match groups.iter_mut().find(|(g, _)| key(g) == key(ml)) {
            Some((_, ms)) => ms.push(m),
            None => groups.push((ml, vec![m])),
        }
    }

    let mut merged: Vec<Finding> = Vec::new();
    let mut over: BTreeMap<Check, u64> = BTreeMap::new();
    let mut stats = Stats::default();
    let several = groups.len() > 1;
    for (mode, ms) in &groups {
        let ctx = Ctx {
            layout,
            mode,
            slot: mode.region(&layout.image.slot),
            elf,
            relocatable: layout.code_model.is_relocatable(),
            linked,
        };
        let mut c = Collector::default();
        stats = Stats {
            sections: elf.sections.len() as u64,
            load_segments: elf.segments.len() as u64,
            ..Stats::default()
        };
        check_source(&ctx, &mut c);
        let wanted = check_symbols(&ctx, &mut c, &mut stats);
        if linked {
            check_segments(&ctx, &mut c);
            check_sections(&ctx, &mut c);
            check_boundaries(&ctx, &wanted, &mut c);
            check_entry(&ctx, &wanted, &mut c);
        }
        check_gp(&ctx, &wanted, &mut c, &mut stats);
        check_relocations(&ctx, &mut c, &mut stats).map_err(malformed)?;
        for (k, n) in c.over {
            let e = over.entry(k).or_default();
            *e = (*e).max(n);
        }
        for mut f in c.findings {
            match merged
                .iter_mut()
                .find(|g| g.id == f.id && g.message == f.message)
            {
                Some(g) => {
                    if several {
                        g.modes.extend(ms.iter().copied());
                    }
                }
                None => {
                    if several {
                        f.modes = ms.clone();
                    }
                    merged.push(f);
                }
            }
        }
    }
    // A finding seen in every group applies to every mode: say nothing.
    if several {
        for f in &mut merged {
            if f.modes.len() == modes.len() {
                f.modes.clear();
            }
        }
    }

    let mut counts = Counts::default();
    for f in &merged {
        counts.add(f.severity, 1);
    }
    for (&check, &n) in &over {
        counts.add(check.severity(), n);
        merged.push(Finding::new(
            check,
            "",
            format!(
                "{n} more {} finding(s) like the ones above are not shown",
                check.id()
            ),
            format!(
                "at most {MAX_PER_CHECK} findings per check are listed; fix those and run lint again"
            ),
        ));
    }
    // Most severe first, stable within a severity (check order, then address).
    merged.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));

    Ok(LintReport {
        path: path.to_path_buf(),
        elf_kind: elf.kind,
        symbols_from: elf.symbols_from,
        modes: modes.to_vec(),
        findings: merged,
        counts,
        stats,
    })
}

fn slot_key(ctx: &Ctx) -> String {
    format!("region.{}", ctx.layout.image.slot)
}

fn slot_desc(slot: &Region) -> String {
    format!("`{}` [{:#x}, {:#x}]", slot.name, slot.start, slot.last)
}

/// LG020: where symbols come from, and what that limits.
fn check_source(ctx: &Ctx, c: &mut Collector) {
    let elf = ctx.elf;
    match elf.kind {
        ElfKind::Rel => c.push(Finding::new(
            Check::SymbolSource,
            "code_model",
            "relocatable object (ET_REL): addresses are assigned at link time, so only the relocation and gp checks apply",
            "lint the linked image too",
        )),
        ElfKind::Other => c.push(Finding::new(
            Check::SymbolSource,
            "code_model",
            "neither an executable, a PIE nor a relocatable object: only relocation and gp checks apply",
            "lint the linked kernel image",
        )),
        _ => {}
    }
    match elf.symbols_from {
        SymbolSource::Symtab => {}
        SymbolSource::Dynsym => c.push(
            Finding::new(
                Check::SymbolSource,
                "image",
                format!(
                    "no .symtab (stripped file): symbol checks use .dynsym ({} exported symbols); boundary-symbol and gp checks, which need local symbols, are skipped",
                    elf.symtab.len().saturating_sub(1)
                ),
                "lint the unstripped image (e.g. vmlinux rather than the stripped copy) for full coverage",
            )
            .section(".dynsym"),
        ),
        SymbolSource::None => c.push(Finding::new(
            Check::SymbolSource,
            "image",
            "no symbol table (.symtab or .dynsym): symbol, boundary-symbol and gp checks are skipped",
            "lint the unstripped image for full coverage",
        )),
    }
}

/// Symbols the generated linker script defines, plus the entry symbol.
fn wanted_names(layout: &Layout) -> Vec<String> {
    let mut v: Vec<String> = [
        "__image_start",
        "__image_end",
        "__global_pointer$",
        "__stack_bottom",
        "__stack_top",
        "__rela_dyn_start",
        "__rela_dyn_end",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for s in &layout.image.sections {
        v.push(format!("__{}_start", s.name));
        v.push(format!("__{}_end", s.name));
    }
    v.push(layout.image.entry.clone());
    v
}

/// LG001, LG002 and the symbol pass that finds the boundary symbols and
/// small-data symbols.
fn check_symbols<'d>(
    ctx: &Ctx<'d>,
    c: &mut Collector,
    stats: &mut Stats,
) -> HashMap<String, Symbol<'d>> {
    let elf = ctx.elf;
    let names = wanted_names(ctx.layout);
    let mut wanted: HashMap<String, Symbol<'d>> = HashMap::new();
    let entry = ctx.layout.image.entry.as_bytes();
    let semi_pic_window = ctx.relocatable;
    let slot = ctx.slot;
    // Section index -> (alloc, small data), computed once.
    let sec_info: Vec<(bool, bool)> = elf
        .sections
        .iter()
        .map(|s| (s.alloc(), is_small_data(s)))
        .collect();
    let mut small = 0u64;
    for sym in elf.symbols() {
        stats.symbols += 1;
        if (sym.name.starts_with(b"__") || sym.name == entry)
            && !sym.is_undefined()
            && let Ok(n) = std::str::from_utf8(sym.name)
            && names.iter().any(|w| w == n)
        {
            // A global definition wins over a local one of the same name.
            let keep = wanted
                .get(n)
                .is_none_or(|old| old.bind == elf::STB_LOCAL.0 && sym.bind != elf::STB_LOCAL.0);
            if keep {
                wanted.insert(n.to_string(), sym);
            }
        }
        if !sym.in_section()
            || sym.st_type == elf::STT_TLS.0
            || sym.st_type == elf::STT_SECTION.0
            || sym.st_type == elf::STT_FILE.0
        {
            continue;
        }
        let Some(&(alloc, is_small)) = sec_info.get(sym.shndx as usize) else {
            continue;
        };
        if !alloc {
            continue;
        }
        if is_small {
            small += 1;
        }
        if !ctx.linked {
            continue;
        }
        stats.symbols_checked += 1;
        let last = sym.value.wrapping_add(sym.size.saturating_sub(1));
        let sec_name = || {
            elf.section(sym.shndx)
                .map(|s| s.name.clone())
                .unwrap_or_default()
        };
        if semi_pic_window && (in_abs32_window(sym.value) || in_abs32_window(last)) {
            c.push(
                Finding::new(
                    Check::SymbolInAbs32Window,
                    "code_model",
                    format!(
                        "symbol `{}` at {} (section {}) lies in the ±2 GiB absolute window [{:#x}, {:#x}] (wrapping), where absolute lui/R_RISCV_HI20 addresses reach: references to it cannot move with a {} image",
                        sym.name_lossy(),
                        hex(sym.value),
                        sec_name(),
                        ABS32_WINDOW_HIGH_START,
                        ABS32_WINDOW_LOW_END - 1,
                        code_model_name(ctx.layout)
                    ),
                    "place every image symbol in the slot (link with the generated linker script; remove --defsym/--section-start or custom script lines that put it in the window)",
                )
                .symbol(sym.name_lossy())
                .section(sec_name())
                .address(sym.value),
            );
            continue;
        }
        if let Some(slot) = slot
            && (!slot.contains(sym.value) || !slot.contains(last))
        {
            c.push(
                Finding::new(
                    Check::SymbolOutsideSlot,
                    slot_key(ctx),
                    format!(
                        "symbol `{}` at {} (section {}) lies outside the image's slot {}",
                        sym.name_lossy(),
                        hex(sym.value),
                        sec_name(),
                        slot_desc(slot)
                    ),
                    format!(
                        "link the image with the generated linker script (image.link {}), or move/grow region.{} in {}",
                        hex(ctx.mode.image_link),
                        slot.name,
                        ctx.layout.source
                    ),
                )
                .symbol(sym.name_lossy())
                .section(sec_name())
                .address(sym.value),
            );
            continue;
        }
        // Inside the slot but outside the image's extent at its link address.
        let link = ctx.mode.image_link;
        let image_end = link as u128 + ctx.layout.image.max_size as u128;
        if (sym.value as u128) < link as u128 || (last as u128) >= image_end {
            c.push(
                Finding::new(
                    Check::SymbolOutsideSlot,
                    "image.max_size",
                    format!(
                        "symbol `{}` at {} (section {}) lies outside the image [{:#x}, {:#x}) (image.link + image.max_size)",
                        sym.name_lossy(),
                        hex(sym.value),
                        sec_name(),
                        link,
                        image_end
                    ),
                    format!(
                        "link the image with the generated linker script, or raise image.max_size in {}",
                        ctx.layout.source
                    ),
                )
                .symbol(sym.name_lossy())
                .section(sec_name())
                .address(sym.value),
            );
        }
    }
    stats.small_data_symbols = small;
    wanted
}

/// LG003–LG006: PT_LOAD segments.
fn check_segments(ctx: &Ctx, c: &mut Collector) {
    let elf = ctx.elf;
    let align = ctx.layout.image.section_align.max(1);
    let offset = ctx.mode.image_offset;
    let load = ctx.layout.ram.load;
    let first = elf
        .segments
        .iter()
        .filter(|s| s.memsz > 0)
        .min_by_key(|s| s.vaddr)
        .map(|s| s.index);
    for seg in elf.segments.iter().filter(|s| s.memsz > 0) {
        let name = format!("segment {}", seg.index);
        let last = (seg.end() - 1) as u64;
        if let Some(slot) = ctx.slot
            && (!slot.contains(seg.vaddr) || !slot.contains(last))
        {
            c.push(
                Finding::new(
                    Check::SegmentOutsideSlot,
                    slot_key(ctx),
                    format!(
                        "PT_LOAD {name} [{:#x}, {:#x}] ({}) lies outside the image's slot {}",
                        seg.vaddr,
                        last,
                        sections_in(elf, seg.vaddr, seg.end()),
                        slot_desc(slot)
                    ),
                    format!(
                        "link with the generated linker script, or move/grow region.{} in {}",
                        slot.name, ctx.layout.source
                    ),
                )
                .section(name.clone())
                .address(seg.vaddr),
            );
        }
        let delta = seg.vaddr.wrapping_sub(seg.paddr);
        if delta % align != 0 {
            c.push(
                Finding::new(
                    Check::SegmentVaPaCongruence,
                    "image.section_align",
                    format!(
                        "PT_LOAD {name} has VA {:#x} and PA {:#x}: VA - PA = {:#x} is not a multiple of image.section_align ({}), so it cannot be mapped with {} pages",
                        seg.vaddr,
                        seg.paddr,
                        delta,
                        human_size(align as u128),
                        human_size(align as u128)
                    ),
                    format!(
                        "load addresses must be AT(VA - image.link + ram.load): link with the generated linker script; VA - PA should be {:#x}",
                        offset
                    ),
                )
                .section(name.clone())
                .address(seg.vaddr),
            );
        } else if delta != offset {
            c.push(
                Finding::new(
                    Check::SegmentLoadAddress,
                    "ram.load",
                    format!(
                        "PT_LOAD {name} at VA {:#x} is loaded at PA {:#x}: VA - PA = {:#x}, but the spec's image offset (image.link - ram.load) is {:#x}",
                        seg.vaddr, seg.paddr, delta, offset
                    ),
                    format!(
                        "link with the generated linker script (its AT() puts every section at VA - {:#x} + ram.load {:#x}), or fix ram.load/image.link in {}",
                        ctx.mode.image_link, load, ctx.layout.source
                    ),
                )
                .section(name.clone())
                .address(seg.vaddr),
            );
        } else if Some(seg.index) == first && seg.paddr != load {
            c.push(
                Finding::new(
                    Check::SegmentLoadAddress,
                    "ram.load",
                    format!(
                        "the first PT_LOAD ({name}) is loaded at PA {:#x}, not at ram.load {:#x}: the loader jumps to ram.load",
                        seg.paddr, load
                    ),
                    "put the entry code's input section first in the first image section and link at image.link",
                )
                .section(name.clone())
                .address(seg.vaddr),
            );
        }
        if seg.write() && seg.exec() {
            let inside = sections_in(elf, seg.vaddr, seg.end());
            c.push(
                Finding::new(
                    Check::SegmentWriteExecute,
                    "image.section",
                    format!(
                        "PT_LOAD {name} [{:#x}, {:#x}] is writable and executable ({}); it holds {}",
                        seg.vaddr,
                        last,
                        seg.perms(),
                        inside
                    ),
                    format!(
                        "keep writable and executable sections in separate segments: separate them by image.section_align ({}) as the generated script does, and do not link with -N/--omagic",
                        human_size(ctx.layout.image.section_align as u128)
                    ),
                )
                .section(name)
                .address(seg.vaddr),
            );
        }
    }
}

/// Names of the allocated sections inside `[start, end)`.
fn sections_in(elf: &Elf, start: u64, end: u128) -> String {
    let v: Vec<&str> = elf
        .sections
        .iter()
        .filter(|s| s.alloc() && s.size > 0 && s.addr >= start && s.end() <= end)
        .map(|s| s.name.as_str())
        .collect();
    if v.is_empty() {
        "no sections".into()
    } else {
        format!("sections {}", v.join(", "))
    }
}

/// LG007, LG008, LG021: sections against `image.section`.
fn check_sections(ctx: &Ctx, c: &mut Collector) {
    let elf = ctx.elf;
    if elf.sections.is_empty() {
        return;
    }
    let image = &ctx.layout.image;
    let link = ctx.mode.image_link;
    let image_end = link as u128 + image.max_size as u128;
    let mut prev: Option<(&str, u64)> = None;
    for s in &image.sections {
        let key = format!("image.section.{}", s.name);
        let ename = format!(".{}", s.name);
        let Some((_, sec)) = elf.section_by_name(&ename) else {
            c.push(
                Finding::new(
                    Check::SectionMissing,
                    key,
                    format!("section {ename} that the spec lists is not in the ELF"),
                    "link with the generated linker script; an output section with no input is still emitted because the script defines its boundary symbols",
                )
                .section(ename),
            );
            continue;
        };
        let mut bad = |what: String, key: String, help: String| {
            c.push(
                Finding::new(Check::SectionPlacement, key, what, help)
                    .section(ename.clone())
                    .address(sec.addr),
            )
        };
        if !sec.alloc() {
            bad(
                format!("section {ename} is not allocated (no SHF_ALLOC)"),
                key.clone(),
                "image sections must be loaded: link with the generated linker script".into(),
            );
            continue;
        }
        if sec.addr % s.align.max(1) != 0 {
            bad(
                format!(
                    "section {ename} starts at {:#x}, not aligned to {} (image.section.{}.align)",
                    sec.addr,
                    human_size(s.align as u128),
                    s.name
                ),
                format!("{key}.align"),
                "link with the generated linker script, whose ALIGN() places each section".into(),
            );
        }
        if (sec.addr as u128) < link as u128 || sec.end() > image_end {
            bad(
                format!(
                    "section {ename} [{:#x}, {:#x}) lies outside the image [{:#x}, {:#x}) (image.link + image.max_size)",
                    sec.addr,
                    sec.end(),
                    link,
                    image_end
                ),
                "image.max_size".into(),
                format!(
                    "raise image.max_size in {} or shrink the kernel",
                    ctx.layout.source
                ),
            );
        }
        if let Some((pname, paddr)) = prev
            && sec.addr < paddr
        {
            bad(
                format!(
                    "section {ename} at {:#x} comes before .{pname} at {:#x}, but the spec orders .{pname} first",
                    sec.addr, paddr
                ),
                "image.section".into(),
                "sections must be in the order the spec lists them: link with the generated linker script".into(),
            );
        }
        prev = Some((s.name.as_str(), sec.addr));
        if sec.write() != s.write || sec.exec() != s.execute {
            bad(
                format!(
                    "section {ename} has permissions {}{}{}, the spec says {}",
                    'r',
                    if sec.write() { 'w' } else { '-' },
                    if sec.exec() { 'x' } else { '-' },
                    s.perms()
                ),
                format!("{key}.perms"),
                "an input section with other flags was merged into it: check the section's input patterns".into(),
            );
        }
        if sec.nobits() != s.nobits && sec.size > 0 {
            bad(
                format!(
                    "section {ename} is {}, the spec says {}",
                    if sec.nobits() { "NOBITS" } else { "PROGBITS" },
                    if s.nobits { "nobits" } else { "progbits" }
                ),
                format!("{key}.nobits"),
                "set image.section.<name>.nobits to match, or move the initialised input sections out of it".into(),
            );
        }
        if let Some(max) = s.max_size
            && sec.size > max
        {
            bad(
                format!(
                    "section {ename} is {} bytes, larger than its max_size {}",
                    sec.size,
                    human_size(max as u128)
                ),
                format!("{key}.max_size"),
                format!("raise {key}.max_size in {}", ctx.layout.source),
            );
        }
    }
    // Orphans: allocated, non-empty, neither a spec section nor a dynamic table.
    for sec in &elf.sections {
        if !sec.alloc() || sec.size == 0 {
            continue;
        }
        let known = image
            .sections
            .iter()
            .any(|s| sec.name == format!(".{}", s.name))
            || DYNAMIC_TABLES.contains(&sec.name.as_str());
        if !known {
            c.push(
                Finding::new(
                    Check::OrphanSection,
                    "image.section",
                    format!(
                        "allocated section {} [{:#x}, +{:#x}] is not one the spec lists: the linker placed it on its own",
                        sec.name, sec.addr, sec.size
                    ),
                    "add its input sections to an image.section's input list, or discard them",
                )
                .section(sec.name.clone())
                .address(sec.addr),
            );
        }
    }
}

/// LG009, LG010: symbols the generated script defines.
fn check_boundaries(ctx: &Ctx, wanted: &HashMap<String, Symbol>, c: &mut Collector) {
    let elf = ctx.elf;
    if elf.symbols_from != SymbolSource::Symtab {
        return;
    }
    let image = &ctx.layout.image;
    let link = ctx.mode.image_link;
    let mut missing: Vec<String> = Vec::new();
    let mut get = |n: &str| {
        let s = wanted.get(n).copied();
        if s.is_none() {
            missing.push(n.to_string());
        }
        s
    };
    let mut bad = |sym: &Symbol, key: &str, what: String, help: &str| {
        c.push(
            Finding::new(Check::BoundarySymbol, key, what, help)
                .symbol(sym.name_lossy())
                .address(sym.value),
        )
    };
    const RELINK: &str = "the ELF was not linked with the script generated from this spec: regenerate it (layoutgen build) and relink";
    if let Some(s) = get("__image_start")
        && s.value != link
    {
        bad(
            &s,
            "image.link",
            format!(
                "__image_start is {:#x}, the generated constant IMAGE_LINK_ADDRESS is {:#x}",
                s.value, link
            ),
            RELINK,
        );
    }
    if let Some(e) = get("__image_end") {
        if e.value % image.section_align.max(1) != 0 {
            bad(
                &e,
                "image.section_align",
                format!(
                    "__image_end {:#x} is not aligned to image.section_align ({})",
                    e.value,
                    human_size(image.section_align as u128)
                ),
                RELINK,
            );
        }
        if (e.value.wrapping_sub(link)) > image.max_size {
            bad(
                &e,
                "image.max_size",
                format!(
                    "the image is {:#x} bytes (__image_end {:#x} - image.link {:#x}), larger than image.max_size {}",
                    e.value.wrapping_sub(link),
                    e.value,
                    link,
                    human_size(image.max_size as u128)
                ),
                "raise image.max_size or shrink the kernel",
            );
        }
    }
    let mut prev: Option<(String, u64)> = None;
    for s in &image.sections {
        let key = format!("image.section.{}", s.name);
        let sec = elf.section_by_name(&format!(".{}", s.name)).map(|(_, x)| x);
        let start = get(&format!("__{}_start", s.name));
        let end = get(&format!("__{}_end", s.name));
        if let Some(st) = start {
            if st.value % s.align.max(1) != 0 {
                bad(
                    &st,
                    &format!("{key}.align"),
                    format!(
                        "__{}_start {:#x} is not aligned to {} (image.section.{}.align)",
                        s.name,
                        st.value,
                        human_size(s.align as u128),
                        s.name
                    ),
                    RELINK,
                );
            }
            if let Some(sec) = sec
                && st.value != sec.addr
            {
                bad(
                    &st,
                    &key,
                    format!(
                        "__{}_start {:#x} is not the start of section .{} ({:#x})",
                        s.name, st.value, s.name, sec.addr
                    ),
                    RELINK,
                );
            }
            if let Some((pn, pv)) = &prev
                && st.value < *pv
            {
                bad(
                    &st,
                    "image.section",
                    format!(
                        "__{}_start {:#x} is below __{pn}_start {:#x}: sections are not in spec order",
                        s.name, st.value, pv
                    ),
                    RELINK,
                );
            }
            prev = Some((s.name.clone(), st.value));
        }
        if let (Some(en), Some(sec)) = (end, sec)
            && en.value as u128 != sec.end()
        {
            bad(
                &en,
                &key,
                format!(
                    "__{}_end {:#x} is not the end of section .{} ({:#x})",
                    s.name,
                    en.value,
                    s.name,
                    sec.end()
                ),
                RELINK,
            );
        }
    }
    if let (Some(b), Some(t)) = (get("__stack_bottom"), get("__stack_top"))
        && t.value.wrapping_sub(b.value) != image.stack_size
    {
        bad(
            &t,
            "image.stack_size",
            format!(
                "__stack_top - __stack_bottom is {:#x}, the generated STACK_SIZE is {:#x}",
                t.value.wrapping_sub(b.value),
                image.stack_size
            ),
            RELINK,
        );
    }
    if ctx.relocatable
        && let Some((_, rd)) = elf.section_by_name(".rela.dyn")
        && let (Some(s), Some(e)) = (get("__rela_dyn_start"), get("__rela_dyn_end"))
        && (s.value != rd.addr || e.value as u128 != rd.end())
    {
        bad(
            &s,
            "code_model",
            format!(
                "__rela_dyn_start/__rela_dyn_end [{:#x}, {:#x}) do not bound .rela.dyn [{:#x}, {:#x}): the boot-time relocator would miss relocations",
                s.value,
                e.value,
                rd.addr,
                rd.end()
            ),
            RELINK,
        );
    }
    // __rela_dyn_* only exist in relocatable images with a .rela.dyn, and
    // __global_pointer$ only under relax (checked by LG011/LG014).
    missing.retain(|n| {
        !n.starts_with("__rela_dyn") && n != "__global_pointer$" && n != &ctx.layout.image.entry
    });
    if !missing.is_empty() {
        c.push(Finding::new(
            Check::BoundarySymbolMissing,
            "image.section",
            format!(
                "symbols the generated linker script defines are missing: {}",
                missing.join(", ")
            ),
            "link with the script generated from this spec (layoutgen build); the kernel's generated constants assume it",
        ));
    }
}

/// LG022: the entry point.
fn check_entry(ctx: &Ctx, wanted: &HashMap<String, Symbol>, c: &mut Collector) {
    let elf = ctx.elf;
    let name = &ctx.layout.image.entry;
    if elf.symbols_from == SymbolSource::Symtab {
        match wanted.get(name) {
            None => c.push(
                Finding::new(
                    Check::Entry,
                    "image.entry",
                    format!("the entry symbol `{name}` (image.entry) is not defined"),
                    "define the entry symbol in the first image section, or fix image.entry",
                )
                .symbol(name.clone())
                .address(elf.entry),
            ),
            Some(s) if s.value != elf.entry => c.push(
                Finding::new(
                    Check::Entry,
                    "image.entry",
                    format!(
                        "the ELF entry point {:#x} is not `{name}` ({:#x})",
                        elf.entry, s.value
                    ),
                    "link with the generated linker script, whose ENTRY() names image.entry",
                )
                .symbol(name.clone())
                .address(elf.entry),
            ),
            _ => {}
        }
    }
    if !elf.sections.is_empty() {
        let in_exec = elf.section_at(elf.entry).is_some_and(|s| s.exec());
        if !in_exec {
            c.push(
                Finding::new(
                    Check::Entry,
                    "image.entry",
                    format!(
                        "the ELF entry point {:#x} is not in an executable section",
                        elf.entry
                    ),
                    "the entry symbol must be code in an executable image section",
                )
                .symbol(name.clone())
                .address(elf.entry),
            );
        }
    }
}

/// LG011–LG014 (symbol part): the global pointer.
fn check_gp(ctx: &Ctx, wanted: &HashMap<String, Symbol>, c: &mut Collector, stats: &mut Stats) {
    let elf = ctx.elf;
    let gp = wanted.get("__global_pointer$");
    match ctx.layout.gp.policy {
        GpPolicy::Relax => {
            if !ctx.linked || elf.symbols_from != SymbolSource::Symtab {
                return;
            }
            let Some(gp) = gp else {
                c.push(
                    Finding::new(
                        Check::GpMissing,
                        "gp.policy",
                        "gp.policy is `relax` but __global_pointer$ is not defined: the linker cannot relax to gp, and startup code that loads gp from it does not link or loads garbage",
                        "link with the generated linker script, which defines __global_pointer$ in gp.section, or set gp.policy = \"disabled\"",
                    )
                    .symbol("__global_pointer$"),
                );
                return;
            };
            let link = ctx.mode.image_link;
            let image_end = link as u128 + ctx.layout.image.max_size as u128;
            if (gp.value as u128) < link as u128 || gp.value as u128 >= image_end {
                c.push(
                    Finding::new(
                        Check::GpPlacement,
                        "gp.section",
                        format!(
                            "__global_pointer$ {:#x} lies outside the image [{:#x}, {:#x})",
                            gp.value, link, image_end
                        ),
                        "link with the generated linker script, which puts it in gp.section",
                    )
                    .symbol("__global_pointer$")
                    .address(gp.value),
                );
            } else if let Some(name) = &ctx.layout.gp.section
                && let Some((_, sec)) = elf.section_by_name(&format!(".{name}"))
                && gp.value.wrapping_sub(sec.addr) != ctx.layout.gp.offset
            {
                c.push(
                    Finding::new(
                        Check::GpPlacement,
                        "gp.offset",
                        format!(
                            "__global_pointer$ {:#x} is .{name} + {:#x}, the spec says .{name} + {:#x} (gp.section + gp.offset)",
                            gp.value,
                            gp.value.wrapping_sub(sec.addr),
                            ctx.layout.gp.offset
                        ),
                        "link with the generated linker script",
                    )
                    .symbol("__global_pointer$")
                    .section(format!(".{name}"))
                    .address(gp.value),
                );
            }
            // The small-data figure: how many lie outside gp ± 2 KiB.
            if stats.small_data_symbols > 0 {
                let lo = gp.value.wrapping_sub(GP_REACH);
                let small: Vec<bool> = elf.sections.iter().map(is_small_data).collect();
                let outside = elf
                    .symbols()
                    .filter(|s| {
                        s.in_section()
                            && s.st_type != elf::STT_SECTION.0
                            && s.st_type != elf::STT_FILE.0
                            && s.st_type != elf::STT_TLS.0
                            && small.get(s.shndx as usize).copied().unwrap_or(false)
                            && elf.section(s.shndx).is_some_and(Section::alloc)
                            && s.value.wrapping_sub(lo) >= 2 * GP_REACH
                    })
                    .count() as u64;
                stats.small_data_outside_gp_window = outside;
                c.push(
                    Finding::new(
                        Check::GpSmallDataWindow,
                        "gp.offset",
                        format!(
                            "{outside} of {} small-data symbols (.sdata/.sbss/.srodata) lie outside __global_pointer$ ± 2 KiB [{:#x}, {:#x}): accesses to them are not relaxed to gp (legal, a little slower)",
                            stats.small_data_symbols,
                            lo,
                            gp.value.wrapping_add(GP_REACH)
                        ),
                        "nothing to fix; to relax more accesses, keep small data together at the start of gp.section (the generated script does)",
                    )
                    .symbol("__global_pointer$")
                    .address(gp.value),
                );
            }
        }
        GpPolicy::Disabled | GpPolicy::ShadowCallStack => {
            if let Some(gp) = gp {
                c.push(
                    Finding::new(
                        Check::GpForbidden,
                        "gp.policy",
                        format!(
                            "__global_pointer$ is defined at {:#x} but gp.policy is `{}`: the linker may relax accesses to gp-relative form while gp holds something else",
                            gp.value,
                            gp_policy_name(ctx.layout)
                        ),
                        "remove the __global_pointer$ definition (custom linker script or assembly), or set gp.policy = \"relax\" if gp is really the global pointer",
                    )
                    .symbol("__global_pointer$")
                    .address(gp.value),
                );
            }
        }
    }
}

/// Relocation audit: LG014 (gp-relative), LG015–LG019.
fn check_relocations(ctx: &Ctx, c: &mut Collector, stats: &mut Stats) -> Result<(), String> {
    let elf = ctx.elf;
    let gp_off = ctx.layout.gp.policy != GpPolicy::Relax;
    let mut static_sections = 0u64;
    let mut abs_hilo = 0u64;
    let mut abs64 = 0u64;
    let mut got_relocs = 0u64;
    let mut nonrel = 0u64;
    let mut text = 0u64;
    let mut ro_data = 0u64;
    for (i, rs) in elf.sections.iter().enumerate() {
        if rs.sh_type == elf::SHT_RELR.0 && rs.alloc() {
            let n = elf.relr_count(i).map_err(|e| format!("{}: {e}", rs.name))?;
            stats.dynamic_relocations += n;
            stats.relative_relocations += n;
            continue;
        }
        if rs.sh_type != elf::SHT_RELA.0 {
            continue;
        }
        let dynamic = rs.alloc();
        let target = elf.section(rs.info);
        if !dynamic && !target.is_some_and(|t| t.alloc()) {
            // Relocations of debug (non-allocated) sections: never read.
            continue;
        }
        let relas = elf.rela(i).map_err(|e| format!("{}: {e}", rs.name))?;
        let other_table = elf.symbol_table_at(rs.link);
        let table: &SymTab = other_table.as_ref().unwrap_or(&elf.symtab);
        if dynamic {
            for r in relas {
                let (off, typ, symi, _) = elf.rela_fields(r);
                stats.dynamic_relocations += 1;
                let at = elf.section_at(off);
                let at_name = at.map(|s| s.name.clone()).unwrap_or_default();
                if typ == elf::R_RISCV_RELATIVE.0 {
                    stats.relative_relocations += 1;
                } else if typ != elf::R_RISCV_NONE.0 {
                    nonrel += 1;
                    if ctx.relocatable {
                        let sym = elf.symbol_of(table, symi as usize);
                        let name = sym.map(|s| s.name_lossy()).unwrap_or_default();
                        c.push(
                            Finding::new(
                                Check::DynamicRelocationType,
                                "code_model",
                                format!(
                                    "{} has a {} at {:#x} ({at_name}) against `{name}`: a {} kernel applies only R_RISCV_RELATIVE at boot",
                                    rs.name,
                                    reloc_name(typ),
                                    off,
                                    code_model_name(ctx.layout)
                                ),
                                "the image must not need symbol lookups to relocate: make the symbol hidden/defined (-fvisibility=hidden, link with -pie -z notext and no shared libraries), or drop the reference",
                            )
                            .symbol(name)
                            .section(rs.name.clone())
                            .address(off),
                        );
                    }
                }
                if at.is_some_and(|s| s.exec()) {
                    text += 1;
                    if ctx.relocatable {
                        c.push(
                            Finding::new(
                                Check::TextRelocation,
                                "code_model",
                                format!(
                                    "text relocation: {} {} patches {:#x} in executable section {at_name}",
                                    rs.name,
                                    reloc_name(typ),
                                    off
                                ),
                                "code must reach addresses PC-relatively (medany/-fPIE): find the object with absolute code references (e.g. .word sym in .text)",
                            )
                            .section(at_name.clone())
                            .address(off),
                        );
                    }
                } else if at.is_some_and(|s| !s.write()) {
                    ro_data += 1;
                }
                if at_name == ".got" || at_name == ".got.plt" {
                    got_relocs += 1;
                }
            }
            continue;
        }
        let Some(target) = target else { continue };
        static_sections += 1;
        for r in relas {
            let (off, typ, symi, addend) = elf.rela_fields(r);
            stats.static_relocations += 1;
            match typ {
                26..=28 => {
                    let Some(sym) = elf.symbol_of(table, symi as usize) else {
                        continue;
                    };
                    if !is_image_symbol(elf, &sym, symi) {
                        continue;
                    }
                    abs_hilo += 1;
                    if ctx.relocatable {
                        let name = symbol_display(elf, &sym, addend);
                        let (sec_name, addr) = place(elf, target, off);
                        c.push(
                            Finding::new(
                                Check::AbsoluteRelocation,
                                "code_model",
                                format!(
                                    "absolute {} against image symbol `{name}` at {addr:#x} ({sec_name}): lui/absolute addressing bakes in the link address, so it does not move with a {} image",
                                    reloc_name(typ),
                                    code_model_name(ctx.layout)
                                ),
                                "compile with -mcmodel=medany (Rust: code-model=medium) so the reference is PC-relative (auipc), or use `lla` instead of `la`/`lui` in assembly",
                            )
                            .symbol(name)
                            .section(sec_name)
                            .address(addr),
                        );
                    }
                }
                2 => {
                    if let Some(sym) = elf.symbol_of(table, symi as usize)
                        && is_image_symbol(elf, &sym, symi)
                    {
                        abs64 += 1;
                    }
                }
                20 => got_relocs += 1,
                R_RISCV_GPREL_I | R_RISCV_GPREL_S if gp_off => {
                    let (sec_name, addr) = place(elf, target, off);
                    let name = elf
                        .symbol_of(table, symi as usize)
                        .map(|s| symbol_display(elf, &s, addend))
                        .unwrap_or_default();
                    c.push(
                        Finding::new(
                            Check::GpForbidden,
                            "gp.policy",
                            format!(
                                "gp-relative {} at {addr:#x} ({sec_name}) against `{name}`, but gp.policy is `{}`: gp does not hold the global pointer",
                                reloc_name(typ),
                                gp_policy_name(ctx.layout)
                            ),
                            "link without gp relaxation (no __global_pointer$, --no-relax-gp for lld, --no-relax for GNU ld), or set gp.policy = \"relax\"",
                        )
                        .symbol(name)
                        .section(sec_name)
                        .address(addr),
                    );
                }
                _ => {}
            }
        }
    }
    let got = elf
        .section_by_name(".got")
        .map(|(_, s)| s)
        .filter(|s| s.size > 0);
    if got.is_some() || got_relocs > 0 {
        let mut f = Finding::new(
            Check::GotUse,
            "code_model",
            format!(
                "GOT use: {}{got_relocs} GOT relocation(s) (R_RISCV_GOT_HI20 or dynamic relocations of .got)",
                got.map(|g| format!(".got of {} bytes at {:#x}, ", g.size, g.addr))
                    .unwrap_or_default()
            ),
            "every GOT load is an extra memory access (and the GOT needs relocating when the image moves): compile kernel code without -fPIC/-fPIE GOT indirection where possible",
        );
        if let Some(g) = got {
            f = f.section(".got").address(g.addr);
        }
        c.push(f);
    }
    if ctx.linked || stats.static_relocations > 0 {
        let mut msg = format!(
            "relocation audit ({}): {} static relocation(s) in {static_sections} --emit-relocs section(s), {abs_hilo} absolute HI20/LO12 and {abs64} absolute 64-bit word(s) against image symbols; {} dynamic relocation(s): {} R_RISCV_RELATIVE, {nonrel} other, {text} in executable and {ro_data} in read-only sections",
            code_model_name(ctx.layout),
            stats.static_relocations,
            stats.dynamic_relocations,
            stats.relative_relocations,
        );
        if elf.has_textrel() {
            msg.push_str("; DT_TEXTREL is set");
        }
        let help = if ctx.relocatable && ctx.linked && static_sections == 0 {
            msg.push_str(
                "; no --emit-relocs sections, so absolute HI20/LO12 references were not audited",
            );
            "link with --emit-relocs (-C link-arg=--emit-relocs) so lint can audit code references"
        } else if ctx.relocatable {
            "a relocatable image needs only R_RISCV_RELATIVE fix-ups, applied at boot"
        } else {
            "code_model = fixed: the image never moves, so these figures are informational"
        };
        c.push(Finding::new(
            Check::RelocationAudit,
            "code_model",
            msg,
            help,
        ));
    }
    Ok(())
}

/// A symbol a relocation may not reference absolutely: defined in the image
/// (an allocated section), or, in an object file, any non-absolute symbol
/// (an undefined one resolves to the kernel image or another module).
fn is_image_symbol(elf: &Elf, sym: &Symbol, index: u32) -> bool {
    if index == 0 || sym.is_absolute() {
        return false;
    }
    if elf.kind == ElfKind::Rel {
        return sym.in_section() || (sym.is_undefined() && sym.bind != elf::STB_WEAK.0);
    }
    sym.in_section() && elf.section(sym.shndx).is_some_and(Section::alloc)
}

fn symbol_display(elf: &Elf, sym: &Symbol, addend: i64) -> String {
    let base = if sym.st_type == elf::STT_SECTION.0 || sym.name.is_empty() {
        elf.section(sym.shndx)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| "<section>".into())
    } else {
        sym.name_lossy()
    };
    if (sym.st_type == elf::STT_SECTION.0 || sym.name.is_empty()) && addend != 0 {
        format!("{base}{addend:+#x}")
    } else {
        base
    }
}

/// The section and address of a relocation: linked files have VAs in
/// r_offset; objects have an offset into the target section.
fn place(elf: &Elf, target: &Section, off: u64) -> (String, u64) {
    if elf.kind == ElfKind::Rel {
        (target.name.clone(), off)
    } else {
        let name = elf
            .section_at(off)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| target.name.clone());
        (name, off)
    }
}

fn code_model_name(layout: &Layout) -> &'static str {
    match layout.code_model {
        CodeModel::Fixed => "fixed",
        CodeModel::SemiPic => "semi-PIC",
        CodeModel::Pie => "PIE",
    }
}

fn gp_policy_name(layout: &Layout) -> &'static str {
    match layout.gp.policy {
        GpPolicy::Relax => "relax",
        GpPolicy::Disabled => "disabled",
        GpPolicy::ShadowCallStack => "shadow-call-stack",
    }
}
