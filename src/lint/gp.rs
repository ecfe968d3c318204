//! LG011–LG014 (symbol part): the global pointer.

use super::context::{Collector, Ctx, gp_policy_name, is_small_data};
use super::elf::{Section, Symbol};
use super::{Finding, Lint, Stats, SymbolSource};
use crate::spec::GpPolicy;
use object::elf;
use std::collections::HashMap;

use crate::arch::riscv64::GP_REACH;

/// LG011–LG014 (symbol part): the global pointer.
pub(super) fn check_gp(
    ctx: &Ctx,
    wanted: &HashMap<String, Symbol>,
    c: &mut Collector,
    stats: &mut Stats,
) {
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
                        Lint::GpMissing,
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
                        Lint::GpPlacement,
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
                && let Some((_, sec)) = elf.section_by_name(name)
                && gp.value.wrapping_sub(sec.addr) != ctx.layout.gp.offset
            {
                // Say where the symbol really is: the section its st_shndx
                // names when that is allocated, else the one holding it.
                let actual = elf
                    .sections
                    .get(gp.shndx as usize)
                    .filter(|s| s.alloc())
                    .or_else(|| elf.section_at(gp.value));
                let place = match actual {
                    Some(s) => format!("{} + {:#x}", s.name, gp.value.wrapping_sub(s.addr)),
                    None => "in no allocated section".into(),
                };
                c.push(
                    Finding::new(
                        Lint::GpPlacement,
                        "gp.offset",
                        format!(
                            "__global_pointer$ {:#x} is {place}, the spec says {name} + {:#x} (gp.section + gp.offset)",
                            gp.value, ctx.layout.gp.offset
                        ),
                        "link with the generated linker script, or set gp.section/gp.offset to where the kernel's own script puts it (Linux: .sdata + 0x800)",
                    )
                    .symbol("__global_pointer$")
                    .section(name.clone())
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
                        Lint::GpSmallDataWindow,
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
                        Lint::GpForbidden,
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
