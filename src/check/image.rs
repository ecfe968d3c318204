//! The image: one slot in every mode, fitting it, W^X by section and
//! segment, and the load rule (where its bytes are physically).

use super::{Findings, hex, is_pow2, region_key};
use crate::check::Rule;
use crate::format::human_size;
use crate::layout::Layout;
use crate::spec::RegionKind;
use crate::units::PAGE_SIZE;

pub(super) fn slot_per_mode(l: &Layout, f: &mut Findings) {
    let Some(first) = l.modes.first() else { return };
    for m in &l.modes[1..] {
        let a = first.region(&l.image.slot).map(|r| (r.start, r.size));
        let b = m.region(&l.image.slot).map(|r| (r.start, r.size));
        if a != b || first.image_link != m.image_link {
            // Say which of the three differs, with both values.
            let (what, show): (&str, &dyn Fn(&crate::layout::ModeLayout) -> String) =
                if first.image_link != m.image_link {
                    ("the link address", &|ml| hex(ml.image_link))
                } else if a.map(|x| x.0) != b.map(|x| x.0) {
                    ("the slot's start", &|ml| {
                        ml.region(&l.image.slot)
                            .map_or("none".into(), |r| hex(r.start))
                    })
                } else {
                    ("the slot's size", &|ml| {
                        ml.region(&l.image.slot)
                            .map_or("none".into(), |r| human_size(r.size as u128))
                    })
                };
            let what = format!("{what} (slot `{}`)", l.image.slot);
            let d = f.at(Rule::SlotPerMode, "image.slot", "differs between modes",
                format!(
                    "one image must serve {} and {}, but {} differs: {} vs {}",
                    first.mode, m.mode, what, show(first), show(m)),
                "put the kernel slot at an address canonical in every mode, e.g. the top 2 GiB (`top - 2GiB`), as Linux riscv does; an image inside the linear map can serve one mode only".into());
            Findings::also(
                d,
                l,
                &format!("region.{}.start", l.image.slot),
                "slot start",
            );
        }
    }
}

pub(super) fn image_fits(l: &Layout, f: &mut Findings) {
    // Lower bound on the image: each section occupies at least its own
    // alignment (or its declared max_size rounded up to it).
    let needed: u128 = l
        .image
        .sections
        .iter()
        .map(|s| {
            let a = s.align.max(1) as u128;
            (s.max_size.unwrap_or(0) as u128).div_ceil(a).max(1) * a
        })
        .sum::<u128>()
        + l.image.stack_size as u128;
    if needed > l.image.max_size as u128 {
        f.at(Rule::ImageFits, "image.max_size", "too small for its sections",
            format!("the sections need at least {} (each rounded up to its alignment, plus the stack), more than image.max_size {}", human_size(needed), human_size(l.image.max_size as u128)),
            "raise image.max_size, or lower section alignments/max sizes".into());
    }
    for m in &l.modes {
        let Some(slot) = m.region(&l.image.slot) else {
            continue;
        };
        let lo = m.image_link as u128;
        let hi = lo + l.image.max_size as u128;
        if lo < slot.start as u128 || hi > slot.end() {
            let d = f.at(
                Rule::ImageFits,
                "image.max_size",
                "does not fit the slot",
                format!(
                    "the image [{}, {:#x}) does not fit its slot `{}` [{}, {:#x}) in {}",
                    hex(m.image_link),
                    hi,
                    slot.name,
                    hex(slot.start),
                    slot.end(),
                    m.mode
                ),
                "link the image inside the slot and keep image.max_size within it".into(),
            );
            d.mode = Some(m.mode);
            Findings::also(d, l, &region_key(slot), "slot");
        }
    }
    if l.image.sections.is_empty() {
        f.at(
            Rule::ImageFits,
            "image",
            "no sections",
            "the image declares no sections".into(),
            "add [[image.section]] entries for text, rodata, data and bss".into(),
        );
    }
}

pub(super) fn write_xor_execute(l: &Layout, f: &mut Findings) {
    // A segment is mapped with the union of its sections' permissions (that
    // is what its PT_LOAD gets), so W^X holds per segment, not per section.
    for seg in l.image.segments() {
        let (w, x) = (seg.iter().find(|s| s.write), seg.iter().find(|s| s.execute));
        if let (Some(w), Some(x)) = (w, x)
            && !(w.write && w.execute)
        {
            f.at(
                Rule::WriteXorExecute,
                &format!("image.section.{}.segment", x.id),
                "writable and executable segment",
                format!(
                    "segment `{}` holds the writable section `{}` and the executable section `{}`: its pages would be mapped writable and executable",
                    x.segment, w.name, x.name
                ),
                "start a new segment between them (`segment = \"...\"`), so a mapping boundary separates code from data".into(),
            );
        }
    }
    // Linkers lay PT_LOADs out assuming code comes before writable data:
    // GNU ld keeps appending to a writable segment, so an executable
    // section after a writable one ends up in an RWX PT_LOAD.
    if let Some(w) = l.image.sections.iter().position(|s| s.write)
        && let Some(x) = l.image.sections[w..].iter().find(|s| s.execute)
    {
        let first = &l.image.sections[w];
        f.at(
            Rule::WriteXorExecute,
            &format!("image.section.{}.perms", x.id),
            "code after writable data",
            format!(
                "executable section `{}` follows writable section `{}`: linkers (GNU ld) merge them into one writable and executable PT_LOAD",
                x.name, first.name
            ),
            "order the image code first, then read-only data, then writable data (as Linux's vmlinux.lds.S does)".into(),
        );
    }
    for s in &l.image.sections {
        if s.write && s.execute {
            f.at(
                Rule::WriteXorExecute,
                &format!("image.section.{}.perms", s.id),
                "writable and executable",
                format!("section `{}` is both writable and executable", s.name),
                "split it: code goes into an \"rx\" section, data into an \"rw\" one (W^X)".into(),
            );
        }
    }
}

pub(super) fn segments(l: &Layout, f: &mut Findings) {
    let sections = &l.image.sections;
    for (i, s) in sections.iter().enumerate() {
        let key = format!("image.section.{}", s.id);
        if let Some(first) = sections[..i].iter().find(|o| o.name == s.name) {
            f.at(Rule::Segment, &format!("{key}.name"), "duplicate name",
                format!("section name `{}` is used twice: a linker script places an output section once, and GNU ld rejects the second", s.name),
                format!("merge the two entries, or rename one (the first is image.section.{})", first.id));
        }
        if s.segment_start {
            if let Some(prev) = sections[..i].iter().rfind(|o| o.segment == s.segment) {
                f.at(Rule::Segment, &format!("{key}.segment"), "segment not contiguous",
                    format!("section `{}` joins segment `{}` again after other segments (its last section was `{}`)", s.name, s.segment, prev.name),
                    "keep a segment's sections together, or give this run its own segment name".into());
            }
            // GNU ld starts a new PT_LOAD at a read-only → writable change
            // only across a page; it never splits executable → read-only.
            // So read-only sections followed by writable ones in one
            // segment share a PT_LOAD with the executable segment before.
            let members: Vec<&crate::layout::Section> = sections[i..]
                .iter()
                .take_while(|o| o.segment == s.segment)
                .collect();
            if let Some(w) = members.iter().position(|o| o.write)
                && w > 0
                && sections[..i].iter().any(|o| o.execute)
            {
                let (ro, rw) = (members[w - 1], members[w]);
                f.at(Rule::Segment, &format!("image.section.{}.perms", rw.id), "writable after read-only in one segment",
                    format!("segment `{}` has read-only `{}` before writable `{}`: GNU ld keeps a read-only section in the PT_LOAD before it and adds the writable one on the same page, so the executable segment before and this one become one RWX PT_LOAD", s.segment, ro.name, rw.name),
                    format!("put the writable sections first in segment `{}`, or give `{}` a segment of its own", s.segment, ro.name));
            }
            if s.align < l.image.section_align && is_pow2(l.image.section_align) {
                f.at(Rule::Segment, &format!("{key}.align"), "segment start below section_align",
                    format!("section `{}` starts segment `{}` but is aligned to {} only, below image.section_align {}: the permission change would fall inside one {} page", s.name, s.segment, human_size(s.align as u128), human_size(l.image.section_align as u128), human_size(l.image.section_align as u128)),
                    "remove its `align` (a segment's first section defaults to image.section_align), or lower image.section_align".into());
            }
        }
    }
}

pub(super) fn load(l: &Layout, f: &mut Findings) {
    let im = &l.image;
    // Without paging the image runs at the address it was loaded to; only a
    // relocating image can run linked elsewhere.
    let bare = l
        .modes
        .iter()
        .all(|m| m.mode == crate::arch::PagingMode::Bare);
    if bare && !l.code_model.is_relocatable() {
        for m in &l.modes {
            if m.image_link != im.lma {
                f.at(Rule::Load, "image.link", "not where the image is loaded",
                    format!("without paging the image runs where it is loaded ({}), but it is linked at {}: every absolute address in it would be off by {}", hex(im.lma), hex(m.image_link), hex(m.image_link.wrapping_sub(im.lma))),
                    "link the image at its load address (image.link = \"ram.load\")".into());
            }
        }
    }
    match im.phys_align {
        None if im.lma != l.ram.load => {
            f.at(Rule::Load, "image.lma", "not where the image runs",
                format!("image.lma {} differs from ram.load {}, but without image.phys_align the image runs where it is loaded", hex(im.lma), hex(l.ram.load)),
                "remove image.lma, or set image.phys_align if the boot code chooses the physical address (Linux: \"2MiB\")".into());
        }
        None => {}
        Some(pa) => {
            // An image inside the linear map is mapped as its own window of
            // section_align leaves, and VA - PA is the linear offset
            // wherever it lands: the linear map's leaf does not bind it.
            let slot_leaf = l
                .modes
                .iter()
                .filter_map(|m| m.region(&im.slot))
                .filter(|r| r.kind != RegionKind::LinearMap)
                .map(|r| r.leaf)
                .max()
                .unwrap_or(PAGE_SIZE);
            let need = im.section_align.max(slot_leaf);
            if !is_pow2(pa) || !pa.is_multiple_of(need) {
                f.at(Rule::Load, "image.phys_align", "cannot be mapped",
                    format!("image.phys_align {} must be a power of two and a multiple of image.section_align and of the slot's leaf ({}): otherwise a placement the boot code accepts cannot be mapped", hex(pa), human_size(need as u128)),
                    format!("use \"{}\" or a larger power of two", human_size(need as u128)))
                ;
            } else if !l.ram.load.is_multiple_of(pa) {
                f.at(
                    Rule::Load,
                    "ram.load",
                    "not a boot-time placement",
                    format!(
                        "ram.load {} is not a multiple of image.phys_align {}",
                        hex(l.ram.load),
                        human_size(pa as u128)
                    ),
                    format!(
                        "use a multiple of {} (OpenSBI on QEMU virt: 0x8020_0000)",
                        human_size(pa as u128)
                    ),
                );
            }
        }
    }
}

/// Input sections that hold only zero-initialised data, the only ones a
/// `nobits` (NOLOAD) section may take (anything else would be loaded as
/// zeros: code, initial values): `COMMON`, or a name with a `bss`
/// component (`.bss.*`, `.sbss`, `.tbss`, Linux's `.init.bss` and
/// `.bss..page_aligned`).
fn zero_initialised(pattern: &str) -> bool {
    pattern == "COMMON"
        || pattern
            .split('.')
            .any(|c| matches!(c, "bss" | "sbss" | "tbss" | "lbss" | "dynbss"))
}

pub(super) fn nobits(l: &Layout, f: &mut Findings) {
    let small_data = l.image.small_data_section(l).map(|s| s.name.as_str());
    for s in l.image.sections.iter().filter(|s| s.nobits) {
        let key = format!("image.section.{}.nobits", s.id);
        if s.execute {
            f.at(
                Rule::Nobits,
                &key,
                "code without file contents",
                format!(
                    "section `{}` is executable and `nobits`: its code would be loaded as zeros",
                    s.name
                ),
                "remove `nobits = true` (only zero-initialised data, .bss, is nobits)".into(),
            );
            continue;
        }
        let loaded: Vec<&str> = s
            .input
            .iter()
            .chain(s.inserts.iter().flat_map(|i| &i.input))
            .map(String::as_str)
            .filter(|p| !zero_initialised(p))
            .collect();
        if !loaded.is_empty() {
            f.at(
                Rule::Nobits,
                &key,
                "initialised inputs in a nobits section",
                format!(
                    "section `{}` is `nobits` but takes {}, which hold initial values that would be lost (loaded as zeros)",
                    s.name,
                    loaded.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
                ),
                "give those inputs a section with contents, or remove `nobits = true`".into(),
            );
        }
        if small_data == Some(s.name.as_str()) {
            f.at(
                Rule::Nobits,
                if l.gp.section.as_deref() == Some(s.name.as_str()) {
                    "gp.section"
                } else {
                    &key
                },
                "small data folded into a nobits section",
                format!(
                    "small data (.sdata, .srodata) would be folded into `{}`, which is `nobits`: initialised small variables would lose their values",
                    s.name
                ),
                "set gp.section to a writable section with contents (\".data\"), or place .sdata in its own section".into(),
            );
        }
    }
}
