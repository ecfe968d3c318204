//! LG001, LG002: symbols against the slot, the image and the ±2 GiB window.

use super::context::{Collector, Ctx, code_model_name, is_small_data, slot_desc, slot_key};
use super::elf::{Elf, Symbol};
use super::{Finding, Lint, Stats};
use crate::arch::riscv64::{ABS32_WINDOW_HIGH_START, ABS32_WINDOW_LOW_END};
use crate::format::hex;
use crate::layout::Layout;
use object::elf;
use std::collections::HashMap;

fn in_abs32_window(addr: u64) -> bool {
    !(ABS32_WINDOW_LOW_END..ABS32_WINDOW_HIGH_START).contains(&addr)
}

/// Symbols the generated linker script defines, plus the entry symbol.
fn wanted_names(layout: &Layout) -> Vec<String> {
    let image = &layout.image;
    let mut v: Vec<String> = ["__global_pointer$", "__rela_dyn_start", "__rela_dyn_end"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if image.stack_size > 0 {
        v.extend(["__stack_bottom".to_string(), "__stack_top".to_string()]);
    }
    v.extend(image.start_symbols.iter().cloned());
    v.extend(image.end_symbols.iter().cloned());
    for s in &image.sections {
        v.extend(s.start_symbols.iter().cloned());
        v.extend(s.end_symbols.iter().cloned());
        for ins in &s.inserts {
            v.push(ins.symbol.clone());
            v.push(format!("__layoutgen_{}_filled", ins.symbol));
        }
    }
    v.push(image.entry.clone());
    v
}

/// The boundary-symbol lookup: the names of [`wanted_names`], matched by
/// bytes against every defined symbol without decoding any name.
///
/// A name is not always the linker script's (a custom `__global_pointer$`
/// in code is `STT_OBJECT`, the entry symbol may be code), so every symbol
/// is tested, but cheaply: the first 8 bytes at its `st_name` (one load)
/// are filtered through a 4096-bit hash set per distinct prefix length
/// (names shorter than 8 bytes match with their NUL and a mask). Only the
/// ~1% that pass have their name read (`memchr`) and looked up exactly.
struct Lookup<'n> {
    names: HashMap<&'n [u8], &'n str>,
    /// (mask of the prefix bytes, bit set of hashed masked prefixes).
    filters: Vec<(u64, Box<[u64; 64]>)>,
}

fn bucket(v: u64) -> usize {
    (v.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 52) as usize
}

impl<'n> Lookup<'n> {
    fn new(names: &'n [String]) -> Lookup<'n> {
        let mut filters: Vec<(u64, Box<[u64; 64]>)> = Vec::new();
        for n in names {
            // The name and its NUL, up to 8 bytes.
            let mut head = [0u8; 8];
            let bytes = n.as_bytes();
            let len = (bytes.len() + 1).min(8);
            head[..bytes.len().min(8)].copy_from_slice(&bytes[..bytes.len().min(8)]);
            let mask = if len == 8 {
                u64::MAX
            } else {
                (1u64 << (8 * len)) - 1
            };
            let v = u64::from_le_bytes(head) & mask;
            let i = match filters.iter().position(|(m, _)| *m == mask) {
                Some(i) => i,
                None => {
                    filters.push((mask, Box::new([0; 64])));
                    filters.len() - 1
                }
            };
            let b = bucket(v);
            filters[i].1[b / 64] |= 1 << (b % 64);
        }
        Lookup {
            names: names.iter().map(|n| (n.as_bytes(), n.as_str())).collect(),
            filters,
        }
    }

    /// The wanted name `sym` has, if it has one.
    fn find(&self, elf: &Elf, sym: &Symbol) -> Option<&'n str> {
        let off = sym.name_off as usize;
        if let Some(head) = elf.strtab.get(off..off.saturating_add(8)) {
            let v = u64::from_le_bytes(head.try_into().unwrap_or([0; 8]));
            let maybe = self.filters.iter().any(|(mask, bits)| {
                let b = bucket(v & mask);
                bits[b / 64] & (1 << (b % 64)) != 0
            });
            if !maybe {
                return None;
            }
        }
        self.names.get(sym.name_bytes(elf)).copied()
    }

    /// Keeps `sym` under `name` unless a definition already there wins: a
    /// global definition wins over a local one of the same name.
    fn keep<K: std::borrow::Borrow<str> + std::hash::Hash + Eq + From<&'n str>>(
        wanted: &mut HashMap<K, Symbol>,
        name: &'n str,
        sym: Symbol,
    ) {
        let keep = wanted
            .get(name)
            .is_none_or(|old| old.bind == elf::STB_LOCAL.0 && sym.bind != elf::STB_LOCAL.0);
        if keep {
            wanted.insert(K::from(name), sym);
        }
    }
}

/// LG001, LG002 and the symbol pass that finds the boundary symbols and
/// small-data symbols. Hundreds of thousands of symbols on a distro kernel:
/// the common case (an allocated section's symbol, inside the slot, the image
/// and out of the ±2 GiB window) is a few compares on precomputed bounds;
/// anything else takes the careful path.
pub(super) fn check_symbols(
    ctx: &Ctx,
    c: &mut Collector,
    stats: &mut Stats,
) -> HashMap<String, Symbol> {
    let elf = ctx.elf;
    let names = wanted_names(ctx.layout);
    let lookup = Lookup::new(&names);
    // Section index -> what the pass needs of it, computed once.
    let sections: Vec<SectionFacts> = elf
        .sections
        .iter()
        .map(|s| SectionFacts {
            alloc: s.alloc(),
            small: is_small_data(s),
            addr: s.addr,
            end: s.end(),
        })
        .collect();
    let fine = Fine::new(ctx);
    let total = elf.symtab.symbols().len();
    stats.symbols += total.saturating_sub(1) as u64;
    // In an object or module the local symbols (all before the table's
    // sh_info) are neither looked up nor placed, and the small-data figure
    // they would count towards is a linked image's (gp.rs): they are not
    // read. A module's table is ~99% locals (riscv's .L labels): on
    // Debian's module tree, 27 M of 27.1 M symbols.
    let start = if ctx.linked {
        1
    } else {
        first_global(elf).clamp(1, total.max(1))
    };
    // A distro kernel has hundreds of thousands of symbols: the second half
    // is scanned on the other core, and merged after the first as if one
    // pass had seen them in order.
    let split = if total - start.min(total) >= PARALLEL_SYMBOLS {
        start + (total - start) / 2
    } else {
        total
    };
    let pass = Pass {
        ctx,
        lookup: &lookup,
        sections: &sections,
        fine: &fine,
    };
    let (first, second) = std::thread::scope(|scope| {
        let second = (split < total).then(|| scope.spawn(|| pass.scan(split..total)));
        let first = pass.scan(start..split);
        (
            first,
            second.map(|h| h.join().expect("the symbol pass does not panic")),
        )
    });
    let mut wanted: HashMap<String, Symbol> = HashMap::new();
    for part in std::iter::once(first).chain(second) {
        c.absorb(part.findings);
        for (name, sym) in part.wanted {
            Lookup::keep(&mut wanted, name, sym);
        }
        stats.small_data_symbols += part.small;
        stats.symbols_checked += part.checked;
    }
    wanted
}

/// The index of the first non-local symbol of the table in use (its
/// section's sh_info); 1 when the table does not say.
fn first_global(elf: &super::elf::Elf) -> usize {
    elf.symtab_index
        .and_then(|i| elf.sections.get(i.0))
        .map_or(1, |s| s.info as usize)
}

/// From this many symbols on, a file is big enough (a kernel, not a module)
/// for lint to spread its passes over two threads.
pub(super) const PARALLEL_SYMBOLS: usize = 20_000;

/// One scan over a range of the symbol table.
struct Pass<'a> {
    ctx: &'a Ctx<'a>,
    lookup: &'a Lookup<'a>,
    sections: &'a [SectionFacts],
    fine: &'a Fine,
}

/// What a scan over part of the table found.
struct Part<'n> {
    findings: Collector,
    wanted: HashMap<&'n str, Symbol>,
    small: u64,
    checked: u64,
}

impl Pass<'_> {
    fn scan(&self, range: std::ops::Range<usize>) -> Part<'_> {
        let ctx = self.ctx;
        let elf = ctx.elf;
        let mut part = Part {
            findings: Collector::default(),
            wanted: HashMap::new(),
            small: 0,
            checked: 0,
        };
        for (_, sym) in elf.indexed_symbols(range) {
            // In an object or module only a global definition is one the
            // link (or insmod) sees by name; its many local labels are
            // skipped unread.
            if !sym.is_undefined()
                && (ctx.linked || sym.bind != elf::STB_LOCAL.0)
                && let Some(n) = self.lookup.find(elf, &sym)
            {
                Lookup::keep(&mut part.wanted, n, sym);
            }
            if !sym.in_section()
                || sym.st_type == elf::STT_TLS.0
                || sym.st_type == elf::STT_SECTION.0
                || sym.st_type == elf::STT_FILE.0
            {
                continue;
            }
            let Some(sec) = self.sections.get(sym.shndx as usize) else {
                continue;
            };
            // Its own allocated section holds it (or it marks that
            // section's end): attributed there, as `attributed_section`
            // would.
            let own = sec.alloc
                && (!ctx.linked || (sym.value >= sec.addr && sym.value as u128 <= sec.end));
            let section = if own {
                Some(elf.sections[sym.shndx as usize].name.as_str())
            } else {
                match attributed_section(ctx, &sym, sec.alloc) {
                    Some(section) => section,
                    None => continue,
                }
            };
            if sec.small && sec.alloc {
                part.small += 1;
            }
            if !ctx.linked {
                continue;
            }
            part.checked += 1;
            if !self.fine.holds(sym.value, sym.size) {
                check_place(ctx, &mut part.findings, &sym, section);
            }
        }
        part
    }
}

/// What the symbol pass needs of a section.
struct SectionFacts {
    alloc: bool,
    small: bool,
    addr: u64,
    end: u128,
}

/// Where a symbol is fine (no LG001/LG002 finding): out of the ±2 GiB
/// window when that applies, inside the slot and inside the image at its
/// link address. The same conditions as [`check_place`], precomputed.
struct Fine {
    semi_pic_window: bool,
    slot: Option<(u64, u64)>,
    link: u64,
    image_end: u128,
}

impl Fine {
    fn new(ctx: &Ctx) -> Fine {
        let link = ctx.mode.image_link;
        Fine {
            semi_pic_window: ctx.relocatable && ctx.layout.arch.facts().semi_pic,
            slot: ctx.slot.map(|s| (s.start, s.size)),
            link,
            image_end: link as u128 + ctx.layout.image.max_size as u128,
        }
    }

    #[inline]
    fn holds(&self, value: u64, size: u64) -> bool {
        let last = value.wrapping_add(size.saturating_sub(1));
        let in_slot = |a: u64| {
            self.slot
                .is_none_or(|(start, size)| a.wrapping_sub(start) < size)
        };
        !(self.semi_pic_window && (in_abs32_window(value) || in_abs32_window(last)))
            && in_slot(value)
            && in_slot(last)
            && value >= self.link
            && (last as u128) < self.image_end
    }
}

/// The section a finding about `sym` names, or `None` when the symbol is
/// not an image address and is not checked. The symbol's own section when
/// it holds the symbol's address (or the symbol marks its end). In a
/// linked file, when st_shndx names a section that does not (OpenSBI 1.1's
/// .dynsym entries point at .dynstr, allocated in Debian's build and
/// non-allocated in others), the allocated section that contains the
/// address; at an address no section holds, its own (allocated) section,
/// or none for a non-allocated one. A symbol whose st_shndx names a
/// non-allocated section is checked only when its value looks like an
/// image address (inside an allocated section, a PT_LOAD segment or the
/// slot), not an offset into that section.
#[inline]
fn attributed_section<'e>(ctx: &Ctx<'e>, sym: &Symbol, alloc: bool) -> Option<Option<&'e str>> {
    let elf = ctx.elf;
    let slot = ctx.slot;
    let own = elf.section(sym.shndx);
    if alloc {
        let holds = own
            .is_some_and(|s| s.contains(sym.value) || sym.value as u128 == s.end() || !ctx.linked);
        Some(if holds {
            own.map(|s| s.name.as_str())
        } else {
            elf.section_at(sym.value).or(own).map(|s| s.name.as_str())
        })
    } else {
        if !ctx.linked {
            return None;
        }
        let at = elf.section_at(sym.value);
        let in_segment = elf
            .segments
            .iter()
            .any(|s| s.memsz > 0 && sym.value >= s.vaddr && (sym.value as u128) < s.end());
        if at.is_none() && !in_segment && !slot.is_some_and(|s| s.contains(sym.value)) {
            return None;
        }
        Some(at.map(|s| s.name.as_str()))
    }
}

/// LG001, LG002 for one checked symbol.
fn check_place(ctx: &Ctx, c: &mut Collector, sym: &Symbol, section: Option<&str>) {
    let elf = ctx.elf;
    let slot = ctx.slot;
    // The ±2 GiB absolute window is riscv's (lui/HI20); arm64 has none. A
    // PIE cannot reference it: GNU ld and lld refuse R_RISCV_HI20 in -pie
    // links ("recompile with -fPIC").
    let semi_pic_window = ctx.layout.code_model == crate::spec::CodeModel::SemiPic
        && ctx.layout.arch.facts().semi_pic;
    let last = sym.value.wrapping_add(sym.size.saturating_sub(1));
    // Formatted only for a finding: not once per symbol.
    let where_ = || match section {
        Some(n) => format!("section {n}"),
        None => "no section".to_string(),
    };
    let located = |f: Finding| match section {
        Some(n) => f.section(n),
        None => f,
    };
    if semi_pic_window && (in_abs32_window(sym.value) || in_abs32_window(last)) {
        c.push(located(
            Finding::new(
                Lint::SymbolInAbs32Window,
                "code_model",
                format!(
                    "symbol `{}` at {} ({}) lies in the ±2 GiB absolute window [{:#x}, {:#x}] (wrapping), where absolute lui/R_RISCV_HI20 addresses reach: references to it cannot move with a {} image",
                    sym.name(elf),
                    hex(sym.value),
                    where_(),
                    ABS32_WINDOW_HIGH_START,
                    ABS32_WINDOW_LOW_END - 1,
                    code_model_name(ctx.layout)
                ),
                "place every image symbol in the slot (link with the generated linker script; remove --defsym/--section-start or custom script lines that put it in the window)",
            )
            .symbol(sym.name(elf))
            .address(sym.value),
        ));
        return;
    }
    if let Some(slot) = slot
        && (!slot.contains(sym.value) || !slot.contains(last))
    {
        c.push(located(
            Finding::new(
                Lint::SymbolOutsideSlot,
                slot_key(ctx),
                format!(
                    "symbol `{}` at {} ({}) lies outside the image's slot {}",
                    sym.name(elf),
                    hex(sym.value),
                    where_(),
                    slot_desc(slot)
                ),
                format!(
                    "link the image with the generated linker script (image.link {}), or move/grow region.{} in {}",
                    hex(ctx.mode.image_link),
                    slot.name,
                    ctx.layout.source
                ),
            )
            .symbol(sym.name(elf))
            .address(sym.value),
        ));
        return;
    }
    // Inside the slot but outside the image's extent at its link address.
    let link = ctx.mode.image_link;
    let image_end = link as u128 + ctx.layout.image.max_size as u128;
    if (sym.value as u128) < link as u128 || (last as u128) >= image_end {
        c.push(located(
            Finding::new(
                Lint::SymbolOutsideSlot,
                "image.max_size",
                format!(
                    "symbol `{}` at {} ({}) lies outside the image [{:#x}, {:#x}) (image.link + image.max_size)",
                    sym.name(elf),
                    hex(sym.value),
                    where_(),
                    link,
                    image_end
                ),
                format!(
                    "link the image with the generated linker script, or raise image.max_size in {}",
                    ctx.layout.source
                ),
            )
            .symbol(sym.name(elf))
            .address(sym.value),
        ));
    }
}
