//! What the code model needs: modules within reach, the semi-PIC window,
//! the gp policy, the KASLR range.

use super::{Findings, hex, is_pow2, region_key};
use crate::arch::riscv64;
use crate::check::Rule;
use crate::format::human_size;
use crate::layout::Layout;
use crate::spec::{CodeModel, GpPolicy, RegionKind};

pub(super) fn modules_reach(l: &Layout, f: &mut Findings) {
    let reach = l.arch.facts().pc_relative_reach as u128;
    for m in &l.modes {
        for r in m.regions.iter().filter(|r| r.kind == RegionKind::Modules) {
            // A relocatable image may run anywhere in its KASLR range.
            let (img_lo, img_hi) = match &m.kaslr {
                Some(k) => (k.start as u128, k.end as u128),
                // Resolved against a linked ELF: the image's real end.
                None => (
                    m.image_link as u128,
                    l.image
                        .linked_end
                        .map_or(m.image_link as u128 + l.image.max_size as u128, u128::from),
                ),
            };
            let lo = img_lo.min(r.start as u128);
            let hi = img_hi.max(r.end());
            if hi - lo > reach {
                f.at(Rule::ModulesReach, &region_key(r), "out of PC-relative reach",
                    format!(
                        "region `{}` [{}, {:#x}) and the image's range [{:#x}, {:#x}) span {}, beyond the ±{} that PC-relative code reaches on {}, in {}",
                        r.name, hex(r.start), r.end(), img_lo, img_hi, human_size(hi - lo), human_size(reach), l.arch, m.mode),
                    "place modules so that the modules region and the whole image fit in 2 GiB, e.g. start = \"image.end - 2GiB\", end = \"image.start\" (Linux: MODULES_VADDR = _end - 2G)".into())
                    .mode = Some(m.mode);
            }
        }
    }
}

pub(super) fn semi_pic_window(l: &Layout, f: &mut Findings) {
    if l.code_model != CodeModel::SemiPic {
        return;
    }
    for m in &l.modes {
        let Some(slot) = m.region(&l.image.slot) else {
            continue;
        };
        // The image may run anywhere in its slot (or KASLR range); all of it
        // must avoid the window absolute addressing reaches.
        if riscv64::touches_abs32_window(slot.start, slot.size) {
            f.at(Rule::SemiPicWindow, &region_key(slot), "inside [-2 GiB, +2 GiB)",
                format!(
                    "semi-PIC slot `{}` [{}, {:#x}) reaches into [-2 GiB, +2 GiB), where medany code may use absolute lui/R_RISCV_HI20 addresses that do not move with the image, in {}",
                    slot.name, hex(slot.start), slot.end(), m.mode),
                "move the slot out of [0xffff_ffff_8000_0000, 0x7fff_ffff] (wrapping), e.g. into the vmalloc area as arm64 does, or use code_model = \"fixed\"".into())
                .mode = Some(m.mode);
        }
    }
}

pub(super) fn gp_policy(l: &Layout, f: &mut Findings) {
    match l.gp.policy {
        GpPolicy::Relax => {
            if l.code_model == CodeModel::Pie {
                f.at(Rule::GpPolicy, "gp.policy", "relax in a PIE",
                    "gp relaxation is not possible in a PIE: linkers do not relax to gp in PIE links, and __global_pointer$ would need a dynamic relocation".into(),
                    "use gp.policy = \"disabled\" with code_model = \"pie\"".into());
            }
            match &l.gp.section {
                None => {
                    f.at(Rule::GpPolicy, "gp.policy", "no section for small data",
                        "gp.policy = \"relax\" needs a writable section to place __global_pointer$ in".into(),
                        "add a writable section (e.g. data with perms = \"rw\") or set gp.section".into());
                }
                Some(name) => match l.image.section(name) {
                    None => {
                        f.at(
                            Rule::GpPolicy,
                            "gp.section",
                            "unknown section",
                            format!("gp.section names no image section `{name}`"),
                            "name one of the image's [[image.section]] entries".into(),
                        );
                    }
                    Some(s) if !s.write => {
                        f.at(Rule::GpPolicy, "gp.section", "not writable",
                            format!("gp.section `{name}` is not writable, but small data (.sdata/.sbss) is"),
                            "place __global_pointer$ in the data section".into());
                    }
                    Some(s) => {
                        // gp-relative accesses reach [gp − 2 KiB, gp + 2 KiB);
                        // small data goes first in gp.section, so the window
                        // must cover the section's start: 0 ≤ offset ≤ 2 KiB.
                        // A larger offset leaves the section's first bytes out
                        // of reach and, far enough, puts gp outside the image.
                        let reach = riscv64::GP_REACH;
                        let limit = s.max_size.map_or(reach, |m| m.min(reach));
                        if l.gp.offset > limit {
                            let why = match s.max_size {
                                Some(m) if m < reach => {
                                    format!("past the end of `{name}` (max_size {})", hex(m))
                                }
                                _ => format!(
                                    "more than 2 KiB past the start of `{name}`: the ±2 KiB gp window no longer covers the small data placed there"
                                ),
                            };
                            f.at(
                                Rule::GpPolicy,
                                "gp.offset",
                                "out of range",
                                format!(
                                    "gp.offset {} puts __global_pointer$ {why}",
                                    hex(l.gp.offset)
                                ),
                                format!(
                                    "use an offset in [0, {}] (Linux: 0x800, the window then starts at `{name}`'s first byte)",
                                    hex(limit)
                                ),
                            );
                        }
                    }
                },
            }
        }
        GpPolicy::Disabled | GpPolicy::ShadowCallStack => {
            if l.origins.span("gp.section") != (0..0) && l.gp.section.is_some() {
                f.at(
                    Rule::GpPolicy,
                    "gp.section",
                    "has no effect",
                    "gp.section is set but gp.policy does not define __global_pointer$".into(),
                    "remove gp.section, or use gp.policy = \"relax\"".into(),
                );
            }
        }
    }
}

pub(super) fn kaslr(l: &Layout, f: &mut Findings) {
    for m in &l.modes {
        let Some(k) = &m.kaslr else { continue };
        if !l.code_model.is_relocatable() {
            f.at(Rule::Kaslr, "kaslr", "fixed image",
                "a KASLR range is declared but code_model = \"fixed\" cannot run anywhere but its link address".into(),
                "use code_model = \"semi-pic\" or \"pie\", or remove [kaslr]".into());
            return;
        }
        let granule_ok = is_pow2(k.granule) && k.granule >= l.image.section_align;
        if !granule_ok {
            f.at(Rule::Kaslr, "kaslr.granule", "bad granule",
                format!("kaslr.granule {} must be a power of two and a multiple of image.section_align ({})", hex(k.granule), human_size(l.image.section_align as u128)),
                "use \"2MiB\" as Linux does: moving in granule steps keeps VA ≡ PA modulo the section alignment".into());
        }
        if granule_ok
            && (k.start % k.granule != 0 || m.image_link.wrapping_sub(k.start) % k.granule != 0)
        {
            f.at(Rule::Kaslr, "kaslr.start", "not granule-aligned",
                format!("kaslr.start {} (and the link address {}) must be multiples of kaslr.granule {}", hex(k.start), hex(m.image_link), human_size(k.granule as u128)),
                "align the KASLR range to the granule".into()).mode = Some(m.mode);
        }
        if let Some(slot) = m.region(&l.image.slot)
            && ((k.start as u128) < slot.start as u128 || k.end as u128 > slot.end())
        {
            // Point at the end that is out of the slot.
            let key = if (k.start as u128) < slot.start as u128 {
                "kaslr.start"
            } else {
                "kaslr.end"
            };
            f.at(Rule::Kaslr, key, "outside the slot",
                    format!("KASLR range [{}, {}) is not inside slot `{}` [{}, {:#x}) in {}", hex(k.start), hex(k.end), slot.name, hex(slot.start), slot.end(), m.mode),
                    "keep kaslr.start and kaslr.end within the slot, e.g. start = \"kernel.start\", end = \"kernel.end\"".into()).mode = Some(m.mode);
        }
        if k.slots < 2 {
            f.at(Rule::Kaslr, "kaslr.end", "no room to move",
                format!("KASLR range [{}, {}) holds {} position(s) for an image of {}: nothing to randomise", hex(k.start), hex(k.end), k.slots, human_size(l.image.max_size as u128)),
                "widen the range to at least image.max_size + kaslr.granule".into()).mode = Some(m.mode);
        }
        let link = m.image_link as u128;
        if link < k.start as u128 || link + l.image.max_size as u128 > k.end as u128 {
            f.at(
                Rule::Kaslr,
                "image.link",
                "outside the KASLR range",
                format!(
                    "the link address {} is not a position of the KASLR range [{}, {})",
                    hex(m.image_link),
                    hex(k.start),
                    hex(k.end)
                ),
                "link the image at kaslr.start so `nokaslr` runs it inside the range".into(),
            )
            .mode = Some(m.mode);
        }
    }
}
