//! Invariants of a resolved layout: one function per rule. Each finding names
//! the spec key it breaks and says how to fix it. Names that reach generated
//! code are validated earlier, while resolving (`Rule::Identifier`).

use crate::arch::riscv64;
use crate::diag::{Diagnostic, Label, Rule};
use crate::format::human_size;
use crate::layout::{Layout, Region};
use crate::spec::{CodeModel, GpPolicy, Half, RegionKind};
use crate::units::{PAGE_SIZE, TOP_U128};

/// Every rule, in the order findings are reported.
const RULES: &[fn(&Layout, &mut Findings)] = &[
    canonical,
    kernel_half,
    overlap,
    wrap,
    align,
    leaf,
    slot_per_mode,
    modules_reach,
    semi_pic_window,
    gp_policy,
    kaslr,
    image_fits,
    ram,
    write_xor_execute,
    segments,
    load,
];

/// Runs every invariant; an empty result means the layout is sound.
pub fn run(layout: &Layout) -> Vec<Diagnostic> {
    let mut f = Findings {
        layout,
        out: Vec::new(),
    };
    for rule in RULES {
        rule(layout, &mut f);
    }
    // A mode-independent mistake is found once per mode; say it once.
    let mut seen = std::collections::HashSet::new();
    f.out
        .retain(|d| seen.insert((d.rule, d.message.clone(), d.key().map(str::to_owned))));
    f.out
}

struct Findings<'a> {
    layout: &'a Layout,
    out: Vec<Diagnostic>,
}

impl Findings<'_> {
    /// A finding about `key`, pointing at its span.
    fn at(
        &mut self,
        rule: Rule,
        key: &str,
        note: &str,
        message: String,
        help: String,
    ) -> &mut Diagnostic {
        let span = self.layout.origins.span(key);
        self.out.push(
            Diagnostic::new(rule, message)
                .label(Label::primary(key, span, note))
                .help(help),
        );
        self.out.last_mut().expect("just pushed")
    }

    fn also(d: &mut Diagnostic, layout: &Layout, key: &str, note: &str) {
        d.labels
            .push(Label::secondary(key, layout.origins.span(key), note));
    }
}

use crate::format::hex;

fn region_key(r: &Region) -> String {
    format!("region.{}.start", r.name)
}

fn is_pow2(v: u64) -> bool {
    v.is_power_of_two()
}

fn canonical(l: &Layout, f: &mut Findings) {
    for m in &l.modes {
        for r in &m.regions {
            if !m.mode.is_canonical_range(r.start, r.size) {
                f.at(
                    Rule::Canonical,
                    &region_key(r),
                    "not canonical",
                    format!(
                        "region `{}` [{}, {:#x}) is not canonical in {}",
                        r.name,
                        hex(r.start),
                        r.end(),
                        m.mode
                    ),
                    format!(
                        "in {} addresses must lie below {} or at/above {} (bits 63..{} copy bit {})",
                        m.mode,
                        hex(m.mode.user_half_end()),
                        hex(m.mode.kernel_half_start()),
                        m.mode.va_bits(),
                        m.mode.va_bits() - 1
                    ),
                )
                .mode = Some(m.mode);
            }
        }
    }
}

fn kernel_half(l: &Layout, f: &mut Findings) {
    for m in &l.modes {
        for r in &m.regions {
            if !m.mode.is_canonical_range(r.start, r.size) {
                continue; // reported by `canonical`
            }
            // Without paging there are no halves: addresses are physical.
            if m.mode.is_bare() {
                continue;
            }
            let in_kernel_half = r.start >= m.kernel_half;
            let key = region_key(r);
            let kind = if r.kind == RegionKind::User {
                "user region"
            } else {
                "region"
            };
            if r.half == Half::Lower && in_kernel_half {
                let d = f.at(
                    Rule::KernelHalf,
                    &key,
                    "in the kernel half",
                    format!(
                        "{kind} `{}` starts at {} in the kernel half of {}, but it is a lower-half region",
                        r.name,
                        hex(r.start),
                        m.mode
                    ),
                    format!(
                        "lower-half regions end at or below {}; for a kernel region in the upper half remove `half = \"lower\"`",
                        hex(m.mode.user_half_end())
                    ),
                );
                d.mode = Some(m.mode);
            } else if r.half == Half::Upper && !in_kernel_half {
                f.at(
                    Rule::KernelHalf,
                    &key,
                    "below the kernel half",
                    format!("region `{}` starts at {}, below the kernel half of {} ({})", r.name, hex(r.start), m.mode, hex(m.kernel_half)),
                    format!("kernel regions start at or above {} in {}; use `kernel_half + N` or `top - N`, or declare half = \"lower\" for an identity-mapped or lower-half kernel (kind = \"user\" for user space)", hex(m.kernel_half), m.mode),
                )
                .mode = Some(m.mode);
            }
        }
    }
}

fn overlap(l: &Layout, f: &mut Findings) {
    for m in &l.modes {
        // Regions are sorted by start: each one is compared with the earlier
        // region that reaches furthest, so every overlapping region is
        // reported once (linear in the number of regions).
        let mut furthest: Option<&Region> = None;
        for b in &m.regions {
            if let Some(a) = furthest.filter(|a| a.end() > b.start as u128) {
                let d = f.at(
                    Rule::Overlap,
                    &region_key(b),
                    &format!("`{}` starts here", b.name),
                    format!(
                        "regions `{}` [{}, {:#x}) and `{}` [{}, {:#x}) overlap in {}",
                        a.name,
                        hex(a.start),
                        a.end(),
                        b.name,
                        hex(b.start),
                        b.end(),
                        m.mode
                    ),
                    format!(
                        "move `{}` to start at or after {:#x}, or shrink `{}`",
                        b.name,
                        a.end(),
                        a.name
                    ),
                );
                d.mode = Some(m.mode);
                Findings::also(d, l, &region_key(a), &format!("`{}` covers this", a.name));
            }
            if furthest.is_none_or(|a| b.end() > a.end()) {
                furthest = Some(b);
            }
        }
    }
}

fn wrap(l: &Layout, f: &mut Findings) {
    for m in &l.modes {
        if m.image_link as u128 + l.image.max_size as u128 > TOP_U128 {
            f.at(
                Rule::Wrap,
                "image.link",
                "image wraps",
                format!(
                    "the image at {} with max_size {} wraps past 2^64",
                    hex(m.image_link),
                    human_size(l.image.max_size as u128)
                ),
                "link the image lower, or reduce image.max_size".into(),
            )
            .mode = Some(m.mode);
        }
    }
    if l.ram.base as u128 + l.ram.max_size as u128 > TOP_U128 {
        f.at(
            Rule::Wrap,
            "ram.max_size",
            "RAM wraps",
            format!(
                "RAM at {} of {} wraps past 2^64",
                hex(l.ram.base),
                human_size(l.ram.max_size as u128)
            ),
            "reduce ram.max_size".into(),
        );
    }
}

fn align(l: &Layout, f: &mut Findings) {
    for m in &l.modes {
        for r in &m.regions {
            let key = format!("region.{}.align", r.name);
            if !is_pow2(r.align) || r.align < PAGE_SIZE {
                f.at(Rule::Align, &key, "not a power of two ≥ 4 KiB",
                    format!("region `{}` declares align {}, which is not a power of two of at least 4 KiB", r.name, hex(r.align)),
                    "use a page-multiple power of two, e.g. \"4KiB\", \"2MiB\" or \"1GiB\"".into());
                continue;
            }
            if r.start % r.align != 0 || r.size % r.align != 0 {
                let what = if r.start % r.align != 0 {
                    ("start", r.start)
                } else {
                    ("size", r.size)
                };
                f.at(
                    Rule::Align,
                    &format!(
                        "region.{}.{}",
                        r.name,
                        if what.0 == "start" { "start" } else { "size" }
                    ),
                    "misaligned",
                    format!(
                        "region `{}` {} {} is not aligned to its declared align {}",
                        r.name,
                        what.0,
                        hex(what.1),
                        human_size(r.align as u128)
                    ),
                    format!(
                        "round the {} to a multiple of {}, or lower `region.{}.align`",
                        what.0,
                        human_size(r.align as u128),
                        r.name
                    ),
                )
                .mode = Some(m.mode);
            }
        }
    }
    let sa = l.image.section_align;
    if !is_pow2(sa) || sa < PAGE_SIZE {
        f.at(
            Rule::Align,
            "image.section_align",
            "not a power of two ≥ 4 KiB",
            format!(
                "image.section_align {} is not a power of two of at least 4 KiB",
                hex(sa)
            ),
            "use \"4KiB\", \"2MiB\" (Linux SECTION_ALIGN with strict RWX) or \"1GiB\"".into(),
        );
    }
    for s in &l.image.sections {
        if !is_pow2(s.align) {
            f.at(
                Rule::Align,
                &format!("image.section.{}.align", s.id),
                "not a power of two",
                format!(
                    "section `{}` align {} is not a power of two",
                    s.name,
                    hex(s.align)
                ),
                "use a power of two: \"8\", \"4KiB\", \"2MiB\"".into(),
            );
        }
    }
    if !l.ram.base.is_multiple_of(PAGE_SIZE) {
        f.at(
            Rule::Align,
            "ram.base",
            "not page-aligned",
            format!("ram.base {} is not 4 KiB-aligned", hex(l.ram.base)),
            "RAM starts on a page boundary".into(),
        );
    }
    if is_pow2(sa) && !l.ram.load.is_multiple_of(sa) {
        f.at(
            Rule::Align,
            "ram.load",
            "misaligned",
            format!(
                "ram.load {} is not aligned to image.section_align ({})",
                hex(l.ram.load),
                human_size(sa as u128)
            ),
            format!(
                "load the image at a multiple of {} (OpenSBI on QEMU virt uses 0x8020_0000)",
                human_size(sa as u128)
            ),
        );
    }
}

fn leaf(l: &Layout, f: &mut Findings) {
    for m in &l.modes {
        let sizes = m.mode.leaf_sizes();
        for r in &m.regions {
            if !sizes.contains(&r.leaf) {
                let names: Vec<String> = sizes.iter().map(|s| human_size(*s as u128)).collect();
                f.at(
                    Rule::Leaf,
                    &format!("region.{}.leaf", r.name),
                    "not a leaf size of this mode",
                    format!(
                        "region `{}` declares leaf {}, which {} cannot map",
                        r.name,
                        human_size(r.leaf as u128),
                        m.mode
                    ),
                    format!("{} leaf sizes are {}", m.mode, names.join(", ")),
                )
                .mode = Some(m.mode);
            }
        }
        if let (Some(linear), Some(linear_offset)) = (m.linear_map(), m.linear_offset)
            && sizes.contains(&linear.leaf)
            && linear_offset % linear.leaf != 0
        {
            f.at(Rule::Leaf, &format!("region.{}.leaf", linear.name), "VA ≢ PA modulo the leaf",
                format!(
                    "the linear map cannot use {} leaves in {}: its VA−PA offset {} (linear_map.start − ram.base) is not a multiple of {}",
                    human_size(linear.leaf as u128), m.mode, hex(linear_offset), human_size(linear.leaf as u128)),
                format!("align linear_map.start so that linear_map.start − ram.base is a multiple of {}, or declare a smaller leaf", human_size(linear.leaf as u128)))
                .mode = Some(m.mode);
        }
        let sa = l.image.section_align;
        if is_pow2(sa) && m.image_offset % sa != 0 {
            f.at(Rule::Leaf, "image.link", "VA ≢ PA modulo section_align",
                format!(
                    "the image's VA−PA offset {} (image.link {} − ram.load {}) is not a multiple of image.section_align {} in {}",
                    hex(m.image_offset), hex(m.image_link), hex(l.ram.load), human_size(sa as u128), m.mode),
                format!("link the image at an address congruent to ram.load modulo {}", human_size(sa as u128)))
                .mode = Some(m.mode);
        }
        if let Some(slot) = m.region(&l.image.slot) {
            if slot.kind == RegionKind::Kernel
                && sizes.contains(&slot.leaf)
                && m.image_offset % slot.leaf != 0
            {
                f.at(Rule::Leaf, &format!("region.{}.leaf", slot.name), "VA ≢ PA modulo the leaf",
                    format!(
                        "the image cannot be mapped with {} leaves in {}: its VA−PA offset {} is not a multiple of {}",
                        human_size(slot.leaf as u128), m.mode, hex(m.image_offset), human_size(slot.leaf as u128)),
                    format!("link the image at ram.load + a multiple of {} (e.g. {}), or declare a smaller leaf",
                        human_size(slot.leaf as u128), hex(m.image_link - m.image_offset % slot.leaf)))
                    .mode = Some(m.mode);
            }
            if slot.kind == RegionKind::LinearMap
                && let Some(linear_offset) = m.linear_offset
            {
                let expected = l.ram.load.wrapping_add(linear_offset);
                if m.image_link != expected {
                    f.at(Rule::Leaf, "image.link", "not the linear-map address of ram.load",
                        format!("an image inside the linear map must be linked at linear_map.start + (ram.load − ram.base) = {} in {}, not {}", hex(expected), m.mode, hex(m.image_link)),
                        "set image.link = \"linear_map.start + ram.load - ram.base\"".into())
                        .mode = Some(m.mode);
                }
            }
        }
    }
}

fn slot_per_mode(l: &Layout, f: &mut Findings) {
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

fn modules_reach(l: &Layout, f: &mut Findings) {
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

fn semi_pic_window(l: &Layout, f: &mut Findings) {
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

fn gp_policy(l: &Layout, f: &mut Findings) {
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

fn kaslr(l: &Layout, f: &mut Findings) {
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

fn image_fits(l: &Layout, f: &mut Findings) {
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

fn ram(l: &Layout, f: &mut Findings) {
    let r = &l.ram;
    if r.min_size == 0 || r.min_size > r.max_size {
        f.at(Rule::Ram, "ram.min_size", "bad bounds",
            format!("ram.min_size {} must be non-zero and at most ram.max_size {}", human_size(r.min_size as u128), human_size(r.max_size as u128)),
            "min_size is the smallest RAM the image boots with; max_size the largest the linear map must cover".into());
    }
    let ram_end = r.base as u128 + r.min_size as u128;
    if r.load < r.base || r.load as u128 + l.image.max_size as u128 > ram_end {
        f.at(Rule::Ram, "ram.load", "outside the minimum RAM",
            format!("the image loaded at {} with max_size {} does not fit in the minimum RAM [{}, {:#x})", hex(r.load), human_size(l.image.max_size as u128), hex(r.base), ram_end),
            "load the image inside RAM (QEMU virt with OpenSBI: 0x8020_0000), or raise ram.min_size".into());
    }
    for m in &l.modes {
        let Some(linear) = m.linear_map() else {
            continue;
        };
        if (linear.size) < r.max_size {
            f.at(
                Rule::Ram,
                "region.linear_map.size",
                "smaller than RAM",
                format!(
                    "the linear map ({}) cannot map ram.max_size ({}) in {}",
                    human_size(linear.size as u128),
                    human_size(r.max_size as u128),
                    m.mode
                ),
                "grow the linear map or lower ram.max_size".into(),
            )
            .mode = Some(m.mode);
        }
    }
}

fn write_xor_execute(l: &Layout, f: &mut Findings) {
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

fn segments(l: &Layout, f: &mut Findings) {
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
            if s.align < l.image.section_align && is_pow2(l.image.section_align) {
                f.at(Rule::Segment, &format!("{key}.align"), "segment start below section_align",
                    format!("section `{}` starts segment `{}` but is aligned to {} only, below image.section_align {}: the permission change would fall inside one {} page", s.name, s.segment, human_size(s.align as u128), human_size(l.image.section_align as u128), human_size(l.image.section_align as u128)),
                    "remove its `align` (a segment's first section defaults to image.section_align), or lower image.section_align".into());
            }
        }
    }
}

/// Found by the property test: with 4 KiB segment alignment, GNU ld's `-pie`
/// output put an executable section and the writable one after it into one
/// RWX PT_LOAD; 2 MiB (the usual kernel value) keeps them apart with both
/// linkers.
const MIN_RELOCATABLE_SECTION_ALIGN: u64 = 2 << 20;

fn load(l: &Layout, f: &mut Findings) {
    if l.code_model.is_relocatable() && l.image.section_align < MIN_RELOCATABLE_SECTION_ALIGN {
        f.at(Rule::Load, "image.section_align", "too small for a relocatable image",
            format!("image.section_align {} is below 2 MiB in a relocatable image: linkers (GNU ld -pie) then merge code and writable data into one writable and executable PT_LOAD", human_size(l.image.section_align as u128)),
            "use section_align = \"2MiB\" (Linux SECTION_ALIGN with strict RWX), or code_model = \"fixed\"".into());
    }
    let im = &l.image;
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
