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
