//! LG009, LG010: the symbols the generated linker script defines.

use super::context::{Collector, Ctx};
use super::elf::Symbol;
use super::{Finding, Lint, SymbolSource};
use crate::format::human_size;
use std::collections::HashMap;

/// Whether the file shows it was linked with the script the spec describes:
/// the evidence LG010 needs, which LG021 relies on too.
pub(super) enum Provenance {
    /// `.symtab` defines every boundary symbol the spec names.
    Described,
    /// `.symtab` lacks these boundary symbols (LG010 reports them).
    Missing(Vec<String>),
    /// No `.symtab` (stripped): it cannot be told.
    Unknown,
}

/// LG009, LG010: symbols the generated script defines.
pub(super) fn check_boundaries(
    ctx: &Ctx,
    wanted: &HashMap<String, Symbol>,
    c: &mut Collector,
) -> Provenance {
    if ctx.elf.symbols_from != SymbolSource::Symtab {
        return Provenance::Unknown;
    }
    let mut b = Boundaries {
        ctx,
        wanted,
        c,
        missing: Vec::new(),
    };
    b.image_edges();
    let mut prev: Option<(String, u64)> = None;
    for s in &ctx.layout.image.sections {
        b.section(s, &mut prev);
    }
    b.stack_and_relocations();
    b.provenance()
}

const RELINK: &str = "the ELF was not linked with the script generated from this spec: regenerate it (layoutgen build) and relink, or correct the symbol names in the spec";

/// The state of one pass over the boundary symbols.
struct Boundaries<'a, 'c> {
    ctx: &'a Ctx<'a>,
    wanted: &'a HashMap<String, Symbol>,
    c: &'c mut Collector,
    /// Names the spec expects that `.symtab` lacks.
    missing: Vec<String>,
}

impl Boundaries<'_, '_> {
    /// The symbol `n`, noting it missing when absent.
    fn get(&mut self, n: &str) -> Option<Symbol> {
        let s = self.wanted.get(n).copied();
        if s.is_none() {
            self.missing.push(n.to_string());
        }
        s
    }

    fn bad(&mut self, sym: &Symbol, key: &str, what: String, help: &str) {
        self.c.push(
            Finding::new(Lint::BoundarySymbol, key, what, help)
                .symbol(sym.name(self.ctx.elf))
                .address(sym.value),
        )
    }

    /// The image's start and end symbols.
    fn image_edges(&mut self) {
        let elf = self.ctx.elf;
        let image = &self.ctx.layout.image;
        let link = self.ctx.mode.image_link;
        for name in &image.start_symbols {
            if let Some(s) = self.get(name)
                && s.value != link
            {
                self.bad(
                    &s,
                    "image.start_symbols",
                    format!(
                        "{name} is {:#x}, but the image starts at image.link {:#x}",
                        s.value, link
                    ),
                    RELINK,
                );
            }
        }
        // The image ends where its last section present in the ELF ends,
        // rounded up to image.end_align: a spec section, or in a
        // relocatable image one of the dynamic-linking tables the script
        // places after the last read-only or writable section (the last of
        // all when such a section ends the image).
        let tables: &[&str] = if self.ctx.layout.code_model.is_relocatable() {
            &crate::spec::names::DYNAMIC_SECTIONS
        } else {
            &[]
        };
        let last_end = image
            .sections
            .iter()
            .map(|s| s.name.as_str())
            .chain(tables.iter().copied())
            .filter_map(|name| elf.section_by_name(name).map(|(_, x)| x.end()))
            .max();
        for name in &image.end_symbols {
            let Some(e) = self.get(name) else { continue };
            if let Some(last_end) = last_end {
                let a = image.end_align.max(1) as u128;
                let want = last_end.div_ceil(a) * a;
                if e.value as u128 != want {
                    self.bad(
                        &e,
                        "image.end_symbols",
                        format!(
                            "{name} is {:#x}, but the image's last section ends at {:#x}, which rounded up to image.end_align ({}) is {:#x}",
                            e.value,
                            last_end,
                            human_size(a),
                            want
                        ),
                        RELINK,
                    );
                }
            }
            if (e.value.wrapping_sub(link)) > image.max_size {
                self.bad(
                    &e,
                    "image.max_size",
                    format!(
                        "the image is {:#x} bytes ({name} {:#x} - image.link {:#x}), larger than image.max_size {}",
                        e.value.wrapping_sub(link),
                        e.value,
                        link,
                        human_size(image.max_size as u128)
                    ),
                    "raise image.max_size or shrink the kernel",
                );
            }
        }
    }

    /// One section's start and end symbols and inserts; `prev` is the last
    /// start symbol seen (sections must be in spec order).
    fn section(&mut self, s: &crate::layout::Section, prev: &mut Option<(String, u64)>) {
        let elf = self.ctx.elf;
        let wanted = self.wanted;
        let key = format!("image.section.{}", s.id);
        let sec = elf.section_by_name(&s.name).map(|(_, x)| x);
        if sec.is_none() && s.optional {
            return;
        }
        for name in &s.start_symbols {
            let Some(st) = self.get(name) else { continue };
            if st.value % s.align.max(1) != 0 {
                self.bad(
                    &st,
                    &format!("{key}.align"),
                    format!(
                        "{name} {:#x} is not aligned to {} ({key}.align)",
                        st.value,
                        human_size(s.align as u128),
                    ),
                    RELINK,
                );
            }
            if let Some(sec) = sec
                && st.value != sec.addr
            {
                self.bad(
                    &st,
                    &format!("{key}.start_symbols"),
                    format!(
                        "{name} {:#x} is not the start of section {} ({:#x})",
                        st.value, s.name, sec.addr
                    ),
                    RELINK,
                );
            }
            if let Some((pn, pv)) = &*prev
                && st.value < *pv
            {
                self.bad(
                    &st,
                    "image.section",
                    format!(
                        "{name} {:#x} is below {pn} {:#x}: sections are not in spec order",
                        st.value, pv
                    ),
                    RELINK,
                );
            }
            *prev = Some((name.clone(), st.value));
        }
        for (n, ins) in s.inserts.iter().enumerate() {
            let key = format!("{key}.insert.{n}");
            let Some(at) = self.get(&ins.symbol) else {
                continue;
            };
            let fits = sec.is_some_and(|sec| {
                at.value >= sec.addr && at.value as u128 + ins.size as u128 <= sec.end()
            });
            if at.value % ins.align.max(1) != 0 || !fits {
                self.bad(
                    &at,
                    &key,
                    format!(
                        "{} {:#x} is not a {}-aligned spot of {} inside section {}",
                        ins.symbol,
                        at.value,
                        human_size(ins.align as u128),
                        human_size(ins.size as u128),
                        s.name
                    ),
                    RELINK,
                );
            }
            // Generated scripts mark how far the inputs reached.
            if let Some(filled) = wanted.get(&format!("__layoutgen_{}_filled", ins.symbol))
                && filled.value.wrapping_sub(at.value) > ins.size
            {
                self.bad(
                    &at,
                    &format!("{key}.size"),
                    format!(
                        "the inputs at {} take {:#x} bytes, more than its {}",
                        ins.symbol,
                        filled.value.wrapping_sub(at.value),
                        human_size(ins.size as u128)
                    ),
                    "shrink the inserted input sections or raise the insert's size",
                );
            }
        }
        for name in &s.end_symbols {
            if let (Some(en), Some(sec)) = (self.get(name), sec)
                && en.value as u128 != sec.end()
            {
                self.bad(
                    &en,
                    &format!("{key}.end_symbols"),
                    format!(
                        "{name} {:#x} is not the end of section {} ({:#x})",
                        en.value,
                        s.name,
                        sec.end()
                    ),
                    RELINK,
                );
            }
        }
    }

    /// The stack symbols and the relocator's bounds of .rela.dyn.
    fn stack_and_relocations(&mut self) {
        let elf = self.ctx.elf;
        let image = &self.ctx.layout.image;
        let ctx = self.ctx;
        if image.stack_size > 0
            && let (Some(b), Some(t)) = (self.get("__stack_bottom"), self.get("__stack_top"))
            && t.value.wrapping_sub(b.value) != image.stack_size
        {
            self.bad(
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
            && let (Some(s), Some(e)) = (self.get("__rela_dyn_start"), self.get("__rela_dyn_end"))
            && (s.value != rd.addr || e.value as u128 != rd.end())
        {
            self.bad(
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
    }

    /// LG010, and what the file shows about the script it was linked with.
    fn provenance(mut self) -> Provenance {
        let ctx = self.ctx;
        let mut missing = std::mem::take(&mut self.missing);
        // __rela_dyn_* only exist in relocatable images with a .rela.dyn, and
        // __global_pointer$ only under relax (checked by LG011/LG014).
        missing.retain(|n| {
            !n.starts_with("__rela_dyn") && n != "__global_pointer$" && n != &ctx.layout.image.entry
        });
        if missing.is_empty() {
            return Provenance::Described;
        }
        self.c.push(Finding::new(
            Lint::BoundarySymbolMissing,
            "image.section",
            format!(
                "symbols the generated linker script defines are missing: {}",
                missing.join(", ")
            ),
            "link with the script generated from this spec (layoutgen build); the kernel's generated constants assume it",
        ));
        Provenance::Missing(missing)
    }
}
