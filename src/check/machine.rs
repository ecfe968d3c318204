//! RAM, the load address and the linear map agree.

use super::{Findings, hex};
use crate::check::Rule;
use crate::format::human_size;
use crate::layout::Layout;

pub(super) fn ram(l: &Layout, f: &mut Findings) {
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

/// The physical boot chain: each `[boot.NAME]` range inside the minimum
/// RAM, apart from every other and from the kernel's own
/// `[ram.load, ram.load + image.max_size)`, and a `pmp` range a naturally
/// aligned power of two.
pub(super) fn boot_chain(l: &Layout, f: &mut Findings) {
    let ram = &l.ram;
    let ram_end = ram.base as u128 + ram.min_size as u128;
    let kernel = (
        "the kernel image".to_string(),
        "ram.load".to_string(),
        ram.load as u128,
        ram.load as u128 + l.image.max_size as u128,
    );
    let mut ranges = vec![kernel];
    for p in &l.boot {
        let key = format!("boot.{}", p.name);
        if p.size == 0 || (p.start as u128) < ram.base as u128 || p.end() > ram_end {
            f.at(
                Rule::BootChain,
                &format!("{key}.start"),
                "outside the minimum RAM",
                format!(
                    "`{}` [{}, {:#x}) is not inside the minimum RAM [{}, {ram_end:#x})",
                    p.name,
                    hex(p.start),
                    p.end(),
                    hex(ram.base)
                ),
                "place it inside [ram.base, ram.base + ram.min_size), with a size above 0".into(),
            );
        }
        if p.pmp && (!p.size.is_power_of_two() || !p.start.is_multiple_of(p.size.max(1))) {
            let napot = p.size.checked_next_power_of_two().unwrap_or(0);
            f.at(
                Rule::BootChain,
                &format!("{key}.size"),
                "not a naturally aligned power of two",
                format!(
                    "`{}` [{}, {:#x}) is protected by one NAPOT PMP entry, which covers a power of two aligned to itself; this range is {}{}",
                    p.name,
                    hex(p.start),
                    p.end(),
                    human_size(p.size as u128),
                    if p.size.is_power_of_two() { " at a start not aligned to it" } else { "" }
                ),
                format!(
                    "use size = \"{}\" (the next power of two) at a start aligned to it (OpenSBI: 1 << LOG2CEIL(size))",
                    human_size(napot as u128)
                ),
            );
        }
        for (other, other_key, s, e) in &ranges {
            if (p.start as u128) < *e && *s < p.end() {
                let d = f.at(
                    Rule::BootChain,
                    &format!("{key}.start"),
                    "overlaps",
                    format!(
                        "`{}` [{}, {:#x}) overlaps {other} [{s:#x}, {e:#x})",
                        p.name,
                        hex(p.start),
                        p.end()
                    ),
                    format!("move one of them: `{}` could start at {e:#x}", p.name),
                );
                super::Findings::also(d, l, other_key, "the range it overlaps");
            }
        }
        ranges.push((
            format!("`{}`", p.name),
            format!("{key}.start"),
            p.start as u128,
            p.end(),
        ));
    }
}
