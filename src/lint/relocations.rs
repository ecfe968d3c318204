//! LG014 (gp-relative relocations), LG015–LG019: the relocation audit.

use super::context::{Collector, Ctx, code_model_name, gp_policy_name};
use super::elf::{Elf, Section, SymTab, Symbol};
use super::{ElfKind, Finding, Lint, Stats};
use crate::spec::GpPolicy;
use object::elf;

/// What the audit counts while it walks the relocation sections.
#[derive(Default)]
struct Audit {
    static_sections: u64,
    abs_hilo: u64,
    abs64: u64,
    got_relocs: u64,
    nonrel: u64,
    text: u64,
    ro_data: u64,
    /// Dynamic relocations by type.
    by_type: std::collections::BTreeMap<u32, u64>,
    /// RELATIVE entries the relocator writes without the load offset.
    unmoved: u64,
    /// A module's relocation types the module loader does not apply: count
    /// and the first one (section, offset, symbol).
    unapplied: std::collections::BTreeMap<u32, (u64, String, u64, String)>,
}

/// Relocation audit: LG014 (gp-relative), LG015–LG019.
pub(super) fn check_relocations(
    ctx: &Ctx,
    c: &mut Collector,
    stats: &mut Stats,
) -> Result<(), String> {
    let elf = ctx.elf;
    let mut audit = Audit::default();
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
            for fields in Elf::rela_entries(relas) {
                audit.dynamic(ctx, c, stats, rs, table, fields);
            }
        } else if let Some(target) = target {
            audit.static_sections += 1;
            for fields in Elf::rela_entries(relas) {
                audit.static_(ctx, c, stats, target, table, fields);
            }
        }
    }
    audit.module_relocations(ctx, c);
    audit.got_use(ctx, c);
    if ctx.linked || stats.static_relocations > 0 {
        audit.summary(ctx, c, stats);
    }
    Ok(())
}

impl Audit {
    /// One entry of an allocated (run-time) relocation section.
    fn dynamic(
        &mut self,
        ctx: &Ctx,
        c: &mut Collector,
        stats: &mut Stats,
        rs: &Section,
        table: &SymTab,
        (off, typ, symi, addend): (u64, u32, u32, i64),
    ) {
        let elf = ctx.elf;
        let facts = ctx.layout.arch.facts();
        let relocator = ctx.layout.image.relocator.as_ref();
        let relocator_key = if ctx.layout.origins.span("image.relocator") != (0..0) {
            "image.relocator.types"
        } else {
            "code_model"
        };
        let link = ctx.mode.image_link;
        stats.dynamic_relocations += 1;
        *self.by_type.entry(typ).or_default() += 1;
        let at = elf.section_at(off);
        let at_name = at.map(|s| s.name.clone()).unwrap_or_default();
        if typ == facts.relative_relocation {
            stats.relative_relocations += 1;
        }
        if typ != facts.relative_relocation && typ != facts.none_relocation {
            self.nonrel += 1;
        }
        let applied = relocator.is_some_and(|rl| rl.types.contains(&typ));
        if applied {
            if relocator.is_some_and(|rl| rl.unmoved_below_link) && (addend as u64) < link {
                self.unmoved += 1;
            }
        } else if typ != facts.none_relocation
            && let Some(rl) = relocator
        {
            let sym = elf.symbol_of(table, symi as usize);
            let name = sym.map(|s| s.name_lossy_in(table)).unwrap_or_default();
            let weak_undef = sym.is_some_and(|s| s.is_undefined() && s.bind == elf::STB_WEAK.0);
            c.push(
                    Finding::new(
                        Lint::DynamicRelocationType,
                        relocator_key,
                        format!(
                            "{} has a {} at {:#x} ({at_name}) against `{name}`{}: the kernel's boot-time relocator applies only {}, so this entry is skipped and the word keeps its link-time contents",
                            rs.name,
                            facts.relocation_name(typ),
                            off,
                            if weak_undef { " (an undefined weak symbol)" } else { "" },
                            rl.type_names.join(", "),
                        ),
                        "the image must not need symbol lookups to relocate: make the symbol hidden/defined (-fvisibility=hidden, link with -pie -z notext and no shared libraries), or drop the reference",
                    )
                    .symbol(name)
                    .section(rs.name.clone())
                    .address(off),
                );
        }
        if at.is_some_and(|s| s.exec()) {
            self.text += 1;
            if ctx.relocatable {
                c.push(
                    Finding::new(
                        Lint::TextRelocation,
                        "code_model",
                        format!(
                            "text relocation: {} {} patches {:#x} in executable section {at_name}",
                            rs.name,
                            facts.relocation_name(typ),
                            off
                        ),
                        "code must reach addresses PC-relatively (medany/-fPIE): find the object with absolute code references (e.g. .word sym in .text)",
                    )
                    .section(at_name.clone())
                    .address(off),
                );
            }
        } else if at.is_some_and(|s| !s.write()) {
            self.ro_data += 1;
        }
        if at_name == ".got" || at_name == ".got.plt" {
            self.got_relocs += 1;
        }
    }

    /// One entry of a static relocation section (`--emit-relocs`, objects).
    fn static_(
        &mut self,
        ctx: &Ctx,
        c: &mut Collector,
        stats: &mut Stats,
        target: &Section,
        table: &SymTab,
        (off, typ, symi, addend): (u64, u32, u32, i64),
    ) {
        let elf = ctx.elf;
        let facts = ctx.layout.arch.facts();
        let gp_off = ctx.layout.gp.policy != GpPolicy::Relax;
        stats.static_relocations += 1;
        // Type 0 too: riscv's loader has no handler for R_RISCV_NONE and
        // refuses it ("Unknown relocation type 0"); arm64's applies
        // R_AARCH64_NONE as a no-op, so its table lists it.
        if elf.kind == ElfKind::Rel
            && let Some(loader) = &ctx.layout.module_loader
            && !loader.types.contains(&typ)
        {
            let entry = self.unapplied.entry(typ).or_insert_with(|| {
                let symbol = elf
                    .symbol_of(table, symi as usize)
                    .map(|s| symbol_display(elf, table, &s, addend))
                    .unwrap_or_default();
                (0, target.name.clone(), off, symbol)
            });
            entry.0 += 1;
        }
        match typ {
            t if facts.absolute_relocations.iter().any(|(_, v)| *v == t) => {
                let Some(sym) = elf.symbol_of(table, symi as usize) else {
                    return;
                };
                if !is_image_symbol(elf, &sym, symi) {
                    return;
                }
                self.abs_hilo += 1;
                if ctx.relocatable {
                    let name = symbol_display(elf, table, &sym, addend);
                    let (sec_name, addr) = place(elf, target, off);
                    c.push(
                        Finding::new(
                            Lint::AbsoluteRelocation,
                            "code_model",
                            format!(
                                "absolute {} against image symbol `{name}` at {addr:#x} ({sec_name}): absolute addressing bakes in the link address, so it does not move with a {} image",
                                facts.relocation_name(typ),
                                code_model_name(ctx.layout)
                            ),
                            facts.absolute_help,
                        )
                        .symbol(name)
                        .section(sec_name)
                        .address(addr),
                    );
                }
            }
            t if t == facts.abs64_relocation => {
                if let Some(sym) = elf.symbol_of(table, symi as usize)
                    && is_image_symbol(elf, &sym, symi)
                {
                    self.abs64 += 1;
                }
            }
            t if facts.got_relocations.contains(&t) => self.got_relocs += 1,
            t if gp_off && facts.gp_relative_relocations.contains(&t) => {
                let (sec_name, addr) = place(elf, target, off);
                let name = elf
                    .symbol_of(table, symi as usize)
                    .map(|s| symbol_display(elf, table, &s, addend))
                    .unwrap_or_default();
                c.push(
                    Finding::new(
                        Lint::GpForbidden,
                        "gp.policy",
                        format!(
                            "gp-relative {} at {addr:#x} ({sec_name}) against `{name}`, but gp.policy is `{}`: gp does not hold the global pointer",
                            facts.relocation_name(typ),
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

    /// LG023: one finding per relocation type of a module that the
    /// kernel's module loader does not apply (insmod would refuse it).
    fn module_relocations(&self, ctx: &Ctx, c: &mut Collector) {
        let facts = ctx.layout.arch.facts();
        for (&typ, (count, section, off, symbol)) in &self.unapplied {
            let name = facts.relocation_name(typ);
            let mut f = Finding::new(
                Lint::ModuleRelocation,
                "module_loader.types",
                format!(
                    "{name} (type {typ}) × {count}, first in {section} at offset {off:#x}{}: the module loader does not apply it, so loading the module fails (Linux 6.12: \"{}\")",
                    if symbol.is_empty() { String::new() } else { format!(" against `{symbol}`") },
                    (facts.linux_module_refusal)(typ)
                ),
                "build the module so it does not need this type (older toolchain or flags), or describe the kernel's newer loader in [module_loader]",
            )
            .section(section.clone());
            if !symbol.is_empty() {
                f = f.symbol(symbol.clone());
            }
            c.push(f);
        }
    }

    /// LG019: a .got, or relocations that go through one.
    fn got_use(&self, ctx: &Ctx, c: &mut Collector) {
        let elf = ctx.elf;
        let got_relocs = self.got_relocs;
        let got = elf
            .section_by_name(".got")
            .map(|(_, s)| s)
            .filter(|s| s.size > 0);
        if got.is_some() || got_relocs > 0 {
            let mut f = Finding::new(
                Lint::GotUse,
                "code_model",
                format!(
                    "GOT use: {}{got_relocs} GOT relocation(s) (GOT-indirect code relocations or dynamic relocations of .got)",
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
    }

    /// LG016: the figures, and how the boot code treats each dynamic type.
    fn summary(&self, ctx: &Ctx, c: &mut Collector, stats: &Stats) {
        let elf = ctx.elf;
        let facts = ctx.layout.arch.facts();
        let relocator = ctx.layout.image.relocator.as_ref();
        let Audit {
            static_sections,
            abs_hilo,
            abs64,
            nonrel,
            text,
            ro_data,
            unmoved,
            ..
        } = *self;
        let by_type = &self.by_type;
        let mut msg = format!(
            "relocation audit ({}): {} static relocation(s) in {static_sections} {}, {abs_hilo} absolute {} and {abs64} absolute 64-bit word(s) against image symbols; {} dynamic relocation(s): {} {}, {nonrel} other, {text} in executable and {ro_data} in read-only sections",
            code_model_name(ctx.layout),
            stats.static_relocations,
            static_sections_kind(elf.kind),
            facts.absolute_kind,
            stats.dynamic_relocations,
            stats.relative_relocations,
            facts.relocation_name(facts.relative_relocation),
        );
        if elf.has_textrel() {
            msg.push_str("; DT_TEXTREL is set");
        }
        if !by_type.is_empty() {
            // How the boot code treats each type found.
            let parts: Vec<String> = by_type
            .iter()
            .map(|(&typ, &n)| {
                let what = if typ == facts.none_relocation {
                    "no-op".to_string()
                } else if relocator.is_some_and(|rl| rl.types.contains(&typ)) {
                    if relocator.is_some_and(|rl| rl.unmoved_below_link) {
                        format!(
                            "applied at boot; {unmoved} with an addend below image.link written without the offset"
                        )
                    } else {
                        "applied at boot".into()
                    }
                } else if relocator.is_some() {
                    "not applied by the kernel's relocator (LG017)".into()
                } else {
                    "no relocator declared".into()
                };
                format!("{} {n} ({what})", facts.relocation_name(typ))
            })
            .collect();
            msg.push_str(&format!("; by type: {}", parts.join(", ")));
        }
        let help = if ctx.relocatable && ctx.linked && static_sections == 0 {
            msg.push_str(
                "; no --emit-relocs sections, so absolute HI20/LO12 references were not audited",
            );
            "link with --emit-relocs (-C link-arg=--emit-relocs) so lint can audit code references"
        } else if ctx.relocatable {
            "a relocatable image needs only relative fix-ups (R_RISCV_RELATIVE, R_AARCH64_RELATIVE), applied at boot"
        } else {
            "code_model = fixed: the image never moves, so these figures are informational"
        };
        c.push(Finding::new(Lint::RelocationAudit, "code_model", msg, help));
    }
}

/// What a file's static relocation sections are: in a linked image they
/// exist only because of `--emit-relocs`; in an object or module they are
/// its ordinary `.rela.*` sections.
fn static_sections_kind(kind: ElfKind) -> &'static str {
    match kind {
        ElfKind::Exec | ElfKind::Dyn => "--emit-relocs section(s)",
        ElfKind::Rel => "relocation section(s) of the object file (ET_REL .rela.*)",
        ElfKind::Other | ElfKind::PageTables => "relocation section(s)",
    }
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

fn symbol_display(elf: &Elf, table: &SymTab, sym: &Symbol, addend: i64) -> String {
    let unnamed = sym.st_type == elf::STT_SECTION.0 || sym.name_in(table).is_empty();
    let base = if unnamed {
        elf.section(sym.shndx)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| "<section>".into())
    } else {
        sym.name_lossy_in(table)
    };
    if unnamed && addend != 0 {
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
