//! `layoutgen init --from-elf`: a spec that describes an existing linked
//! riscv64 kernel, derived from its section and program headers and its
//! symbol table, so that `layoutgen lint` against it reports only the
//! kernel's true defects. What cannot be inferred is written with a
//! `# TODO(layoutgen init --from-elf): ...` comment, never guessed silently.

use super::{BUNDLED, InitError, checked, hex, size};
use crate::lint::ElfKind;
use crate::lint::elf::{Elf, Section};
use crate::units::{GIB, MIB, PAGE_SIZE};
use std::collections::HashMap;
use std::fmt::Write;
use std::path::Path;

/// Which platform's conventions fill in what the ELF does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArchDefaults {
    /// Linux riscv64 on QEMU virt: the regions of the bundled
    /// `linux-riscv64` layout, QEMU's RAM, `phys_align = 2MiB`.
    Linux,
    /// Only what the ELF says; the rest is marked TODO.
    #[default]
    Plain,
}

const TODO: &str = "# TODO(layoutgen init --from-elf):";

/// The start of Linux's `kernel` region, the top 2 GiB (KERNEL_LINK_ADDR).
const TOP_2GIB: u64 = 0xffff_ffff_8000_0000;
/// Linux's Sv39 linear map (PAGE_OFFSET_L3) and its size.
const SV39_LINEAR: u64 = 0xffff_ffd6_0000_0000;
const SV39_LINEAR_SIZE: u64 = 128 * GIB;
/// Below this an LMA is not RAM on any riscv64 platform layoutgen knows
/// (boot ROM and MMIO live there; Linux's LOAD_OFFSET rule gives 0).
const LOWEST_RAM: u64 = 16 * MIB;

/// One image section as it will be written.
struct Out<'a> {
    sec: &'a Section,
    segment: String,
    perms: &'static str,
    /// `align` to write, with the reason as a comment.
    align: Option<(u64, &'static str)>,
    start_symbols: Vec<String>,
    end_symbols: Vec<String>,
    comments: Vec<String>,
}

fn perms_of(s: &Section) -> &'static str {
    match (s.write(), s.exec()) {
        // W^X forbids describing rwx: the spec says rw, lint reports the x.
        (true, _) => "rw",
        (false, true) => "rx",
        (false, false) => "r",
    }
}

/// The largest power of two dividing `v`, capped at `cap` (`cap` for 0).
fn alignment_of(v: u64, cap: u64) -> u64 {
    if v == 0 {
        cap
    } else {
        (1u64 << v.trailing_zeros()).min(cap)
    }
}

fn round_up(v: u128, a: u64) -> u128 {
    v.div_ceil(a as u128) * a as u128
}

/// `_etext`, `__bss_stop`, `__init_end`, `__stop___param`, `__end_rodata`:
/// names linker scripts give to the end of something.
fn end_like(name: &str) -> bool {
    let t = name.trim_start_matches('_');
    t == "end"
        || t.starts_with("end_")
        || name.ends_with("_end")
        || name.ends_with("_stop")
        || name.starts_with("__stop_")
        || (name.starts_with("_e") && !name.starts_with("__"))
}

/// Names a linker script gives the end of the whole image.
fn image_end_like(name: &str) -> bool {
    matches!(
        name.trim_start_matches('_'),
        "end" | "image_end" | "kernel_end"
    )
}

/// C-identifier symbols the spec can name.
fn nameable(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !crate::spec::names::is_script_keyword(name)
        && !name.starts_with(crate::spec::names::PRIVATE_PREFIX)
        // The generated script defines these itself (the relocator's
        // bounds are kept only on a `.rela.dyn` section, below).
        && (!crate::spec::names::SCRIPT_SYMBOLS.contains(&name) || name.starts_with("__rela_dyn"))
}

fn list(v: &[String]) -> String {
    let q: Vec<String> = v.iter().map(|s| format!("\"{s}\"")).collect();
    format!("[{}]", q.join(", "))
}

/// The spec text describing the kernel at `path`, checked.
pub fn generate(path: &Path, name: &str, defaults: ArchDefaults) -> Result<String, InitError> {
    let shown = path.display();
    let data =
        std::fs::read(path).map_err(|e| InitError::Elf(format!("cannot read {shown}: {e}")))?;
    // `init --from-elf` describes riscv64 kernels (aarch64: not yet).
    let elf = Elf::parse(&data, crate::arch::Arch::Riscv64)
        .map_err(|e| InitError::Elf(format!("{shown}: {e}")))?;
    if !matches!(elf.kind, ElfKind::Exec | ElfKind::Dyn) {
        return Err(InitError::Elf(format!(
            "{shown}: not a linked kernel (ET_EXEC or ET_DYN); an object file has no layout to describe"
        )));
    }
    let linux = defaults == ArchDefaults::Linux;
    let mut secs: Vec<&Section> = elf
        .sections
        .iter()
        .filter(|s| s.alloc() && s.size > 0)
        .collect();
    secs.sort_by_key(|s| s.addr);
    if secs.is_empty() {
        return Err(InitError::Elf(format!(
            "{shown}: no allocated section: nothing to describe"
        )));
    }
    let loads: Vec<_> = {
        let mut v: Vec<_> = elf.segments.iter().filter(|s| s.memsz > 0).collect();
        v.sort_by_key(|s| s.vaddr);
        v
    };
    let link = secs[0].addr;
    let last_end = secs.iter().map(|s| s.end()).max().unwrap_or(link as u128);
    let mut header_todos: Vec<String> = Vec::new();

    // The mapping granule: PT_LOADs that add a permission (w or x) the one
    // before lacked are where the kernel's mapping must change, so each of
    // them starts on a granule boundary; the granule is the largest power of
    // two they, the image start and every VA - PA share (4 KiB..1 GiB).
    let mut section_align = alignment_of(link, GIB);
    for l in &loads {
        section_align = section_align.min(alignment_of(l.vaddr.wrapping_sub(l.paddr), GIB));
    }
    let mut upgrades = 0;
    for w in loads.windows(2) {
        let (a, b) = (w[0], w[1]);
        if (b.write() && !a.write()) || (b.exec() && !a.exec()) {
            section_align = section_align.min(alignment_of(b.vaddr, GIB));
            upgrades += 1;
        }
    }
    if upgrades == 0 {
        section_align = section_align.min(2 * MIB);
        header_todos.push(format!(
            "{TODO} no PT_LOAD boundary adds a permission, so the mapping granule is a guess"
        ));
    }
    let section_align = section_align.max(PAGE_SIZE);

    // Segments: a section on a granule boundary that starts a PT_LOAD or
    // changes permissions starts a new one, named after its first section.
    let mut outs: Vec<Out> = Vec::new();
    let mut used_segments: Vec<String> = Vec::new();
    for (i, &sec) in secs.iter().enumerate() {
        let perms = perms_of(sec);
        let starts_load = loads.iter().any(|l| l.vaddr == sec.addr);
        let new_segment = i == 0
            || (sec.addr.is_multiple_of(section_align)
                && (starts_load || perms != outs[i - 1].perms));
        let segment = if new_segment {
            let base = crate::spec::derive_id(&sec.name);
            let base = if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) {
                format!("seg{i}")
            } else {
                base
            };
            let mut id = base.clone();
            let mut n = 2;
            while used_segments.contains(&id) {
                id = format!("{base}_{n}");
                n += 1;
            }
            used_segments.push(id.clone());
            id
        } else {
            outs[i - 1].segment.clone()
        };
        // The alignment lint checks and a regenerated script reproduces: a
        // segment's first section defaults to section_align; after a gap,
        // the page (or granule) boundary the script aligned it to; when it
        // follows its predecessor directly, its own sh_addralign.
        let gap = i > 0 && (sec.addr as u128) > secs[i - 1].end();
        let align = if new_segment {
            (sec.addralign > section_align).then_some((sec.addralign, "its sh_addralign"))
        } else if gap && sec.addr.is_multiple_of(section_align) {
            Some((section_align, "starts on a granule boundary after a gap"))
        } else if gap && sec.addr.is_multiple_of(PAGE_SIZE) {
            Some((PAGE_SIZE, "starts on a page boundary after a gap"))
        } else if sec.addralign > 1 {
            let a = alignment_of(sec.addr, sec.addralign.next_power_of_two());
            Some((a, "its sh_addralign"))
        } else {
            None
        };
        let mut comments = Vec::new();
        if sec.write() && sec.exec() {
            comments.push(format!(
                "{TODO} the ELF has {} writable AND executable (a W^X violation); described as rw so lint reports it",
                sec.name
            ));
        }
        if !nameable_section(&sec.name) {
            return Err(InitError::Elf(format!(
                "{shown}: section name `{}` cannot be written in a spec",
                sec.name
            )));
        }
        outs.push(Out {
            sec,
            segment,
            perms,
            align,
            start_symbols: Vec::new(),
            end_symbols: Vec::new(),
            comments,
        });
    }

    // Symbols: linker-script symbols are STT_NOTYPE; names defined more than
    // once (static labels) cannot be named unambiguously.
    let mut counts: HashMap<&[u8], usize> = HashMap::new();
    let syms: Vec<_> = elf.symbols().collect();
    for s in &syms {
        *counts.entry(s.name_bytes(&elf)).or_default() += 1;
    }
    let mut edge: Vec<(String, u64)> = syms
        .iter()
        .filter(|s| {
            s.st_type == object::elf::STT_NOTYPE.0
                && (s.in_section() || s.is_absolute())
                && counts[s.name_bytes(&elf)] == 1
        })
        .map(|s| (s.name(&elf), s.value))
        .filter(|(n, _)| nameable(n) && n != "__global_pointer$")
        .collect();
    edge.sort();
    let symbol = |n: &str| syms.iter().find(|s| s.name_bytes(&elf) == n.as_bytes());

    // The image end: the last section's end rounded up to end_align, where
    // the image's end symbols are.
    let candidates: Vec<u128> = (12..=section_align.trailing_zeros())
        .map(|b| round_up(last_end, 1 << b))
        .collect();
    let at = |v: u128| -> Vec<&String> {
        edge.iter()
            .filter(|(n, x)| *x as u128 == v && (v > last_end || image_end_like(n)))
            .map(|(n, _)| n)
            .collect()
    };
    let image_end = candidates
        .iter()
        .copied()
        .find(|&v| at(v).iter().any(|n| image_end_like(n)))
        .or_else(|| candidates.iter().copied().find(|&v| !at(v).is_empty()));
    let end_align = match image_end {
        Some(v) => (12..=section_align.trailing_zeros())
            .rev()
            .map(|b| 1u64 << b)
            .find(|&a| round_up(last_end, a) == v)
            .unwrap_or(PAGE_SIZE),
        None => PAGE_SIZE,
    };
    let mut image_start_symbols = Vec::new();
    let mut image_end_symbols = Vec::new();
    for (n, v) in &edge {
        let v = *v;
        // At the first byte: the image's own names (`_start`,
        // `__image_start`) are the image's, the rest (`__text_start`) the
        // first section's.
        if v == link
            && matches!(
                n.trim_start_matches('_'),
                "start" | "image_start" | "kernel_start"
            )
        {
            image_start_symbols.push(n.clone());
            continue;
        }
        if Some(v as u128) == image_end && (v as u128 > last_end || image_end_like(n)) {
            image_end_symbols.push(n.clone());
            continue;
        }
        let starts = outs.iter().position(|o| o.sec.addr == v);
        let ends = outs.iter().rposition(|o| o.sec.end() == v as u128);
        // The relocator's bounds belong to `.rela.dyn` only; elsewhere (an
        // empty, discarded one) they are the script's business.
        let on_rela = |i: Option<usize>| i.is_some_and(|i| outs[i].sec.name == ".rela.dyn");
        if n.starts_with("__rela_dyn") && !on_rela(starts) && !on_rela(ends) {
            continue;
        }
        match (starts, ends) {
            (Some(_), Some(e)) if end_like(n) => outs[e].end_symbols.push(n.clone()),
            (Some(s), _) => outs[s].start_symbols.push(n.clone()),
            (None, Some(e)) => outs[e].end_symbols.push(n.clone()),
            (None, None) => {}
        }
    }
    if image_end_symbols.is_empty() {
        header_todos.push(format!(
            "{TODO} no symbol marks the image end; end_align is a guess"
        ));
    }

    // The entry symbol.
    let entry = {
        let mut at_entry: Vec<_> = syms
            .iter()
            .filter(|s| s.value == elf.entry && s.in_section() && counts[s.name_bytes(&elf)] == 1)
            .map(|s| (s.name(&elf), s.bind))
            .filter(|(n, _)| nameable(n))
            .collect();
        at_entry.sort_by_key(|(n, b)| (n != "_start", *b != object::elf::STB_GLOBAL.0, n.clone()));
        at_entry.first().map(|(n, _)| n.clone())
    };
    let entry = match entry {
        Some(e) => e,
        None => {
            header_todos.push(format!(
                "{TODO} no symbol names the entry point {:#x}; `_start` is a guess",
                elf.entry
            ));
            "_start".into()
        }
    };
    let stack_size = match (symbol("__stack_bottom"), symbol("__stack_top")) {
        (Some(b), Some(t)) if t.value > b.value => t.value - b.value,
        _ => 0,
    };

    // The load rule.
    let first = loads.first();
    let lma = first.map(|l| l.paddr).unwrap_or(link);
    let offset = first.map(|l| l.vaddr.wrapping_sub(l.paddr)).unwrap_or(0);
    let consistent = loads
        .iter()
        .all(|l| l.vaddr.wrapping_sub(l.paddr) == offset);
    let plausible = lma >= LOWEST_RAM;
    let (ram_base, ram_load) = if linux {
        (0x8000_0000, if plausible { lma } else { 0x8020_0000 })
    } else if plausible {
        (lma & !(GIB - 1), lma)
    } else {
        (0x8000_0000, 0x8020_0000)
    };

    // The slot.
    // max_size: the image's span is not enough for `check`, which rounds
    // every section up to its alignment and adds the stack; the sum of those,
    // rounded up to a power of two, is.
    let span = (round_up(last_end, end_align) - link as u128) as u64;
    let need = outs
        .iter()
        .enumerate()
        .fold(span + stack_size, |n, (i, o)| {
            let a = o.align.map(|(a, _)| a).unwrap_or(1);
            let first = i == 0 || outs[i - 1].segment != o.segment;
            n.saturating_add(if first { section_align.max(a) } else { a })
        });
    let max_size = need.next_power_of_two().max(section_align);
    let in_top = link >= TOP_2GIB;
    // A fixed-address image outside the top 2 GiB is taken to run inside
    // the linear map (PAGE_OFFSET + its offset into RAM), as old Linux and
    // teaching kernels do; a relocatable one to have a slot of its own.
    let in_linear = !in_top && !linux && elf.kind == ElfKind::Exec && plausible;
    let linear_start = if in_linear {
        link.wrapping_sub(ram_load - ram_base)
    } else {
        SV39_LINEAR
    };
    let linear_size = SV39_LINEAR_SIZE.min(linear_start.wrapping_neg().max(PAGE_SIZE));
    let code_model = match elf.kind {
        ElfKind::Dyn if !linux => "semi-pic",
        _ => "fixed",
    };

    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Generated by `layoutgen init --from-elf {}`{}: a description of that",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        if linux { " --arch-defaults linux" } else { "" }
    );
    let _ = writeln!(
        s,
        "# kernel's image, so `layoutgen lint --spec` this file reports only its true"
    );
    let _ = writeln!(
        s,
        "# defects. Lines marked TODO could not be inferred from the ELF: check them."
    );
    let _ = writeln!(s, "name = \"{name}\"");
    let _ = writeln!(
        s,
        "description = \"derived from {} ({} riscv64 ELF)\"",
        path.file_name()
            .map(|n| n.to_string_lossy().replace(['"', '\\'], ""))
            .unwrap_or_default(),
        if elf.kind == ElfKind::Dyn {
            "ET_DYN"
        } else {
            "ET_EXEC"
        }
    );
    let _ = writeln!(s, "arch = \"riscv64\"");
    if linux {
        let _ = writeln!(s, "modes = [\"sv39\", \"sv48\", \"sv57\"]");
    } else {
        let _ = writeln!(
            s,
            "{TODO} the ELF does not say which paging modes the kernel supports"
        );
        let _ = writeln!(s, "modes = [\"sv39\"]");
    }
    match (elf.kind, linux) {
        (ElfKind::Dyn, true) => {
            let _ = writeln!(
                s,
                "# ET_DYN (CONFIG_RELOCATABLE), still linked at KERNEL_LINK_ADDR: described as fixed."
            );
        }
        (ElfKind::Dyn, false) => {
            let _ = writeln!(
                s,
                "{TODO} ET_DYN: semi-pic assumed; use \"pie\" if the kernel runs at any address"
            );
        }
        _ => {}
    }
    let _ = writeln!(s, "code_model = \"{code_model}\"");
    let _ = writeln!(s);
    let _ = writeln!(s, "[ram]");
    if linux {
        let _ = writeln!(
            s,
            "# QEMU virt: DRAM at 0x8000_0000, OpenSBI loads the kernel 2 MiB above it."
        );
    } else {
        let _ = writeln!(
            s,
            "{TODO} RAM base and sizes guessed{}",
            if plausible {
                " (base: the LMA rounded down to 1 GiB)"
            } else {
                " (QEMU virt's): the ELF's LMA is not a RAM address"
            }
        );
    }
    let _ = writeln!(s, "base = {}", hex(ram_base));
    let _ = writeln!(s, "min_size = \"128MiB\"");
    let _ = writeln!(
        s,
        "max_size = {}",
        if linux { "\"128GiB\"" } else { "\"16GiB\"" }
    );
    let _ = writeln!(s, "load = {}", hex(ram_load));
    let _ = writeln!(s);
    let _ = writeln!(s, "[image]");
    for t in &header_todos {
        let _ = writeln!(s, "{t}");
    }
    let _ = writeln!(
        s,
        "slot = \"{}\"",
        if in_linear { "linear_map" } else { "kernel" }
    );
    if in_top && link == TOP_2GIB {
        let _ = writeln!(s, "link = \"kernel.start\"");
    } else if in_linear {
        let _ = writeln!(s, "link = \"linear_map.start + ram.load - ram.base\"");
    } else {
        let _ = writeln!(s, "link = {}", hex(link));
    }
    if !consistent {
        let _ = writeln!(
            s,
            "{TODO} the PT_LOADs disagree on VA - PA; the first one's is used"
        );
    }
    let _ = writeln!(
        s,
        "# p_paddr of the first PT_LOAD: every LMA is VA - {:#x}.",
        offset
    );
    let _ = writeln!(s, "lma = {}", hex(lma));
    if !plausible {
        if linux {
            let _ = writeln!(
                s,
                "# The LMA is not RAM (LOAD_OFFSET): the physical address is chosen at boot,\n# 2 MiB-aligned (setup_vm: BUG_ON(phys_addr % PMD_SIZE))."
            );
            let _ = writeln!(s, "phys_align = \"2MiB\"");
        } else {
            let _ = writeln!(
                s,
                "{TODO} the LMA is not RAM, so the physical address is chosen at boot; its alignment is a guess"
            );
            let _ = writeln!(s, "phys_align = {}", size(section_align));
        }
    }
    let _ = writeln!(
        s,
        "# The image spans {:#x} bytes; max_size leaves room up to the next power of two.",
        span
    );
    let _ = writeln!(s, "max_size = {}", size(max_size));
    let _ = writeln!(
        s,
        "# The largest power of two every permission-adding PT_LOAD, the image start and VA - PA share."
    );
    let _ = writeln!(s, "section_align = {}", size(section_align));
    let _ = writeln!(s, "end_align = {}", size(end_align));
    let _ = writeln!(
        s,
        "stack_size = {}",
        if stack_size == 0 {
            "\"0\"".to_string()
        } else {
            size(stack_size)
        }
    );
    let _ = writeln!(s, "entry = \"{entry}\"");
    let _ = writeln!(s, "start_symbols = {}", list(&image_start_symbols));
    let _ = writeln!(s, "end_symbols = {}", list(&image_end_symbols));
    if elf.section_by_name(".rela.dyn").is_some() {
        let _ = writeln!(s);
        let _ = writeln!(s, "[image.relocator]");
        let _ = writeln!(s, "types = [\"R_RISCV_RELATIVE\"]");
        if linux {
            let _ = writeln!(
                s,
                "# relocate_kernel() leaves addends below KERNEL_LINK_ADDR (vDSO offsets) unmoved."
            );
            let _ = writeln!(s, "unmoved_below_link = true");
        }
    }
    for o in &outs {
        // In a relocatable image the generated script places the dynamic
        // tables itself (and `check` refuses them in the spec).
        if code_model != "fixed"
            && crate::spec::names::DYNAMIC_SECTIONS.contains(&o.sec.name.as_str())
        {
            continue;
        }
        let _ = writeln!(s);
        for c in &o.comments {
            let _ = writeln!(s, "{c}");
        }
        let _ = writeln!(s, "[[image.section]]");
        let _ = writeln!(s, "name = \"{}\"", o.sec.name);
        if crate::spec::derive_id(&o.sec.name).is_empty()
            || crate::spec::derive_id(&o.sec.name).starts_with(|c: char| c.is_ascii_digit())
        {
            let _ = writeln!(s, "id = \"s_{}\"", o.segment);
        }
        let _ = writeln!(s, "segment = \"{}\"", o.segment);
        let _ = writeln!(s, "perms = \"{}\"", o.perms);
        if let Some((a, why)) = o.align {
            let _ = writeln!(s, "align = {}  # {why}", size_or_number(a));
        }
        if o.sec.nobits() {
            let _ = writeln!(s, "nobits = true");
        } else if matches!(o.sec.name.as_str(), ".bss" | ".sbss") {
            let _ = writeln!(s, "nobits = false");
        }
        let _ = writeln!(s, "start_symbols = {}", list(&o.start_symbols));
        let _ = writeln!(s, "end_symbols = {}", list(&o.end_symbols));
    }

    // gp: the section whose start is 0x800 below __global_pointer$ (the
    // usual `. + 0x800`), else .sdata, else the nearest section below it.
    let _ = writeln!(s);
    let _ = writeln!(s, "[gp]");
    match symbol("__global_pointer$") {
        Some(gp) => {
            let below: Vec<&Out> = outs.iter().filter(|o| o.sec.addr <= gp.value).collect();
            let pick = below
                .iter()
                .find(|o| gp.value - o.sec.addr == 0x800)
                .or_else(|| below.iter().rfind(|o| o.sec.name == ".sdata"))
                .or_else(|| below.iter().rfind(|o| o.sec.write()))
                .or(below.last());
            match pick {
                Some(o) => {
                    let _ = writeln!(s, "policy = \"relax\"");
                    let _ = writeln!(s, "section = \"{}\"", o.sec.name);
                    let _ = writeln!(s, "offset = {}", hex(gp.value - o.sec.addr));
                }
                None => {
                    let _ = writeln!(
                        s,
                        "{TODO} __global_pointer$ lies below the image; gp relaxation described as disabled"
                    );
                    let _ = writeln!(s, "policy = \"disabled\"");
                }
            }
        }
        None => {
            let _ = writeln!(
                s,
                "# No __global_pointer$: the kernel does not use gp relaxation."
            );
            let _ = writeln!(s, "policy = \"disabled\"");
        }
    }
    let _ = writeln!(s);

    // Regions.
    if linux {
        let text = BUNDLED
            .iter()
            .find(|(n, _)| *n == "linux-riscv64")
            .map(|(_, t)| *t)
            .unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let first = lines
            .iter()
            .position(|l| l.starts_with("[region."))
            .unwrap_or(lines.len());
        let mut from = first;
        while from > 0 && lines[from - 1].starts_with('#') {
            from -= 1;
        }
        let _ = writeln!(
            s,
            "# Linux's regions, as the bundled linux-riscv64 layout describes them."
        );
        for l in &lines[from..] {
            let _ = writeln!(s, "{l}");
        }
    } else {
        if in_top {
            let _ = writeln!(s, "# The image is in the top 2 GiB, Linux's kernel slot.");
            let _ = writeln!(s, "[region.kernel]");
            let _ = writeln!(s, "start = \"top - 2GiB\"");
            let _ = writeln!(s, "end = \"top\"");
        } else if !in_linear {
            let start = link & !(section_align - 1);
            let end = round_up(link as u128 + max_size as u128, section_align) as u64;
            let _ = writeln!(
                s,
                "{TODO} the kernel's slot: only the image's own span is known"
            );
            let _ = writeln!(s, "[region.kernel]");
            let _ = writeln!(s, "start = {}", hex(start));
            let _ = writeln!(s, "end = {}", hex(end));
        }
        if !in_linear {
            let _ = writeln!(s, "align = {}", size(section_align));
            let _ = writeln!(s, "leaf = {}", size(section_align.min(GIB)));
            let _ = writeln!(s, "description = \"kernel image slot\"");
            let _ = writeln!(s);
        }
        if !in_linear {
            let _ = writeln!(
                s,
                "{TODO} the linear map is not in the ELF: Linux's Sv39 one is a guess"
            );
        } else {
            let _ = writeln!(
                s,
                "{TODO} a fixed image outside the top 2 GiB is assumed to run in the linear map at\n# PAGE_OFFSET + (PA - ram.base); the map's start follows from ram.base, its size is a guess"
            );
        }
        let _ = writeln!(s, "[region.linear_map]");
        let _ = writeln!(s, "start = {}", hex(linear_start));
        let _ = writeln!(s, "size = {}", size(linear_size));
        let _ = writeln!(s, "align = \"1GiB\"");
        let _ = writeln!(
            s,
            "leaf = {}",
            size(alignment_of(ram_base, GIB).max(PAGE_SIZE))
        );
        let _ = writeln!(s, "description = \"direct mapping of all physical memory\"");
    }
    checked(s)
}

fn nameable_section(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$' | '-'))
}

/// `"4KiB"` for sizes of a KiB or more, `"8"` below.
fn size_or_number(v: u64) -> String {
    if v >= 1024 {
        size(v)
    } else {
        format!("\"{v}\"")
    }
}
