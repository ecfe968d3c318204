//! Where regions are: canonical in every mode, in their half, disjoint,
//! not wrapping, aligned, mappable with their leaf.

use super::{Findings, hex, is_pow2, region_key};
use crate::check::Rule;
use crate::format::human_size;
use crate::layout::{Layout, Region};
use crate::spec::{Half, RegionKind};
use crate::units::{PAGE_SIZE, TOP_U128};

pub(super) fn canonical(l: &Layout, f: &mut Findings) {
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
                    if m.mode.is_bare() {
                        format!(
                            "without paging addresses are physical: the region must end at or below {} ({}-bit physical addresses)",
                            hex(m.mode.user_half_end()),
                            m.mode.user_half_end().trailing_zeros()
                        )
                    } else {
                        format!(
                            "in {} addresses must lie below {} or at/above {} (bits 63..{} copy bit {})",
                            m.mode,
                            hex(m.mode.user_half_end()),
                            hex(m.mode.kernel_half_start()),
                            m.mode.va_bits(),
                            m.mode.va_bits() - 1
                        )
                    },
                )
                .mode = Some(m.mode);
            }
        }
    }
}

pub(super) fn kernel_half(l: &Layout, f: &mut Findings) {
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

pub(super) fn overlap(l: &Layout, f: &mut Findings) {
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

pub(super) fn wrap(l: &Layout, f: &mut Findings) {
    for m in &l.modes {
        if let Some(d) = wraps(
            f,
            "image.link",
            "image wraps",
            (m.image_link, l.image.max_size),
            |start, size| format!("the image at {start} with max_size {size} wraps past 2^64"),
            "link the image lower, or reduce image.max_size",
        ) {
            d.mode = Some(m.mode);
        }
    }
    // The load addresses (p_paddr) run from image.lma for the image's size.
    wraps(
        f,
        "image.lma",
        "load addresses wrap",
        (l.image.lma, l.image.max_size),
        |start, size| {
            format!(
                "the image's load addresses from image.lma {start} for image.max_size {size} wrap past 2^64"
            )
        },
        "image.lma is a physical address in RAM (usually ram.load)",
    );
    wraps(
        f,
        "ram.max_size",
        "RAM wraps",
        (l.ram.base, l.ram.max_size),
        |start, size| format!("RAM at {start} of {size} wraps past 2^64"),
        "reduce ram.max_size",
    );
}

/// A [`Rule::Wrap`] finding at `key` when `[start, start + size)` runs past
/// 2^64; `message` words it from the start (hex) and size (human).
fn wraps<'f>(
    f: &'f mut Findings,
    key: &str,
    note: &str,
    (start, size): (u64, u64),
    message: impl FnOnce(String, String) -> String,
    help: &str,
) -> Option<&'f mut crate::diag::Diagnostic> {
    if start as u128 + size as u128 <= TOP_U128 {
        return None;
    }
    let message = message(hex(start), human_size(size as u128));
    Some(f.at(Rule::Wrap, key, note, message, help.into()))
}

pub(super) fn align(l: &Layout, f: &mut Findings) {
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
    image_alignments(l, f);
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

pub(super) fn leaf(l: &Layout, f: &mut Findings) {
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

/// The image's own alignments and sizes: what the linkers accept (rust-lld
/// refuses an `ALIGN` that is not a power of two; GNU ld silently rounds)
/// and what the ABI needs (the stack pointer 16-byte aligned on riscv64
/// and aarch64).
fn image_alignments(l: &Layout, f: &mut Findings) {
    let im = &l.image;
    if !is_pow2(im.end_align) {
        f.at(
            Rule::Align,
            "image.end_align",
            "not a power of two",
            format!(
                "image.end_align {} is not a power of two",
                hex(im.end_align)
            ),
            "use a power of two: \"4KiB\" (Linux), or leave it to default to section_align".into(),
        );
    }
    if !im.stack_size.is_multiple_of(16) {
        f.at(
            Rule::Align,
            "image.stack_size",
            "not a multiple of 16",
            format!(
                "image.stack_size {} is not a multiple of 16: the stack top would break the ABI's 16-byte stack-pointer alignment (an alignment fault on aarch64)",
                hex(im.stack_size)
            ),
            // The next multiple of 16 can be past u64 (a size near the
            // top of the address space): then the one below.
            format!(
                "use {}",
                hex(im
                    .stack_size
                    .checked_next_multiple_of(16)
                    .unwrap_or(im.stack_size / 16 * 16))
            ),
        );
    }
    for s in &im.sections {
        for (n, ins) in s.inserts.iter().enumerate() {
            let key = format!("image.section.{}.insert.{n}", s.id);
            if !is_pow2(ins.align) {
                f.at(
                    Rule::Align,
                    &format!("{key}.align"),
                    "not a power of two",
                    format!(
                        "insert `{}` align {} is not a power of two",
                        ins.symbol,
                        hex(ins.align)
                    ),
                    "use a power of two: \"4KiB\" (xv6's trampoline page)".into(),
                );
            }
            let limit = s.max_size.unwrap_or(im.max_size).min(im.max_size);
            if ins.size == 0 || ins.size > limit {
                f.at(
                    Rule::Align,
                    &format!("{key}.size"),
                    if ins.size == 0 { "empty" } else { "larger than its section may be" },
                    format!(
                        "insert `{}` size {} must be at least one byte and at most {} (the section's max_size, or the image's)",
                        ins.symbol,
                        hex(ins.size),
                        human_size(limit as u128)
                    ),
                    "give the size the inputs must fill, e.g. \"4KiB\"".into(),
                );
            }
        }
    }
}
