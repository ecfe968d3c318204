//! LG009, LG010: the symbols the generated linker script defines.

use super::{Collector, Ctx};
use crate::elf::read::Symbol;
use crate::elf::{Check, Finding, SymbolSource};
use crate::riscv::human_size;
use std::collections::HashMap;

/// LG009, LG010: symbols the generated script defines.
pub(super) fn check_boundaries(ctx: &Ctx, wanted: &HashMap<String, Symbol>, c: &mut Collector) {
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
