//! LG022: the entry point.

use super::context::{Collector, Ctx};
use super::elf::Symbol;
use super::{Finding, Lint, SymbolSource};
use std::collections::HashMap;

/// LG022: the entry point.
pub(super) fn check_entry(ctx: &Ctx, wanted: &HashMap<String, Symbol>, c: &mut Collector) {
    let elf = ctx.elf;
    let name = &ctx.layout.image.entry;
    if elf.symbols_from == SymbolSource::Symtab {
        match wanted.get(name) {
            None => c.push(
                Finding::new(
                    Lint::Entry,
                    "image.entry",
                    format!("the entry symbol `{name}` (image.entry) is not defined"),
                    "define the entry symbol in the first image section, or fix image.entry",
                )
                .symbol(name.clone())
                .address(elf.entry),
            ),
            Some(s) if s.value != elf.entry => c.push(
                Finding::new(
                    Lint::Entry,
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
    // Where the loader jumps: the image's first byte, unless the spec says
    // the loader reads e_entry.
    let first = &ctx.layout.image.sections[0];
    if ctx.layout.image.entry_at == crate::spec::EntryAt::ImageStart
        && let Some((_, start)) = elf.section_by_name(&first.name)
        && elf.entry != start.addr
    {
        c.push(
            Finding::new(
                Lint::Entry,
                "image.entry_at",
                format!(
                    "the ELF entry point {:#x} is {:#x} bytes into the image, but the loader jumps to its first byte ({:#x}, {})",
                    elf.entry,
                    elf.entry.wrapping_sub(start.addr),
                    start.addr,
                    first.name
                ),
                format!(
                    "put `{name}` in {}, the first input of {} (e.g. #[link_section = \"{}\"]), or set image.entry_at = \"elf-entry\" if the loader reads e_entry",
                    first.input.first().map_or("the first input", String::as_str),
                    first.name,
                    first.input.first().map_or(".text.entry", String::as_str)
                ),
            )
            .symbol(name.clone())
            .address(elf.entry),
        );
    }
    if !elf.sections.is_empty() {
        let in_exec = elf.section_at(elf.entry).is_some_and(|s| s.exec());
        if !in_exec {
            c.push(
                Finding::new(
                    Lint::Entry,
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
