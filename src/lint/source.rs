//! LG020: where the symbols came from.

use super::context::{Collector, Ctx};
use super::{ElfKind, Finding, Lint, SymbolSource};

/// LG020: where symbols come from, and what that limits.
pub(super) fn check_source(ctx: &Ctx, c: &mut Collector) {
    let elf = ctx.elf;
    match elf.kind {
        ElfKind::Rel => c.push(Finding::new(
            Lint::SymbolSource,
            "code_model",
            "relocatable object (ET_REL): addresses are assigned at link time, so only the relocation and gp checks apply",
            "lint the linked image too",
        )),
        ElfKind::Other => c.push(Finding::new(
            Lint::SymbolSource,
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
                Lint::SymbolSource,
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
            Lint::SymbolSource,
            "image",
            "no symbol table (.symtab or .dynsym): symbol, boundary-symbol and gp checks are skipped",
            "lint the unstripped image for full coverage",
        )),
    }
}
