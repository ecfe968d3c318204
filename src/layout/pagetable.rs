//! Page-table cost of a layout: which leaves mapping RAM and the image takes,
//! and how many page-table pages they need.
//!
//! This is the model the sample kernel implements, so its counts can be
//! compared with the prediction:
//! - the linear map covers `[ram.base, ram.base + ram_size)` (clipped to the
//!   linear map region) with the largest leaf that VA/PA alignment, the
//!   remaining length and the region's declared `leaf` allow;
//! - the image window `[image start, image start + image.max_size)` is mapped
//!   with leaves no larger than `image.section_align`, so every W^X section
//!   boundary falls on a leaf boundary. When the image lives inside the linear
//!   map, that window *replaces* the linear map's leaves there, which is the
//!   price the seed thread talks about: the hugepage covering the kernel
//!   must be split;
//! - `device_pages` 4 KiB pages at the start of the fixmap region (MMIO).

use super::{Layout, ModeLayout};
use crate::spec::RegionKind;
use crate::units::PAGE_SIZE;
use serde::Serialize;
use std::collections::BTreeSet;

/// One contiguous mapping request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Mapping {
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub va: u64,
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub pa: u64,
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub size: u64,
    /// Largest leaf this mapping may use.
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub max_leaf: u64,
}

/// What mapping a given RAM size costs in one mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cost {
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub ram_size: u64,
    /// Page-table pages, the root included.
    pub pt_pages: u64,
    /// Leaves per size in bytes, smallest first: (leaf size, count).
    #[serde(serialize_with = "crate::json::hex_size_counts")]
    pub leaves: Vec<(u64, u64)>,
}

impl Cost {
    pub fn leaves_of(&self, size: u64) -> u64 {
        self.leaves
            .iter()
            .find(|(s, _)| *s == size)
            .map_or(0, |(_, n)| *n)
    }
}

/// The mappings the sample kernel creates for `ram_size` bytes of RAM with
/// the image running at `image_va`.
pub fn plan(
    layout: &Layout,
    mode: &ModeLayout,
    ram_size: u64,
    image_va: u64,
    device_pages: u64,
) -> Vec<Mapping> {
    // Without paging nothing is mapped.
    if mode.mode.is_bare() {
        return Vec::new();
    }
    let window = Mapping {
        va: image_va,
        pa: layout.ram.load,
        size: layout.image.max_size,
        max_leaf: largest_leaf_within(mode, layout.image.section_align),
    };
    let mut maps = Vec::new();
    // A kernel without a linear map maps its image (and devices) only.
    let (Some(linear), Some(linear_offset)) = (mode.linear_map(), mode.linear_offset) else {
        maps.push(window);
        push_devices(mode, device_pages, &mut maps);
        maps.retain(|m| m.size > 0);
        return maps;
    };
    let ram_start = layout.ram.base;
    let ram_len = ram_size.min(linear.size);
    let linear_piece = |pa: u64, end: u64| Mapping {
        va: pa.wrapping_add(linear_offset),
        pa,
        size: end - pa,
        max_leaf: largest_leaf_within(mode, linear.leaf),
    };
    if mode.image_in_linear_map {
        let win_start = window.pa.clamp(ram_start, ram_start + ram_len);
        let win_end = (window.pa + window.size).clamp(ram_start, ram_start + ram_len);
        if win_start > ram_start {
            maps.push(linear_piece(ram_start, win_start));
        }
        if win_end > win_start {
            maps.push(Mapping {
                va: win_start.wrapping_add(linear_offset),
                pa: win_start,
                size: win_end - win_start,
                max_leaf: window.max_leaf,
            });
        }
        if ram_start + ram_len > win_end {
            maps.push(linear_piece(win_end, ram_start + ram_len));
        }
    } else {
        maps.push(linear_piece(ram_start, ram_start + ram_len));
        maps.push(window);
    }
    push_devices(mode, device_pages, &mut maps);
    maps.retain(|m| m.size > 0);
    maps
}

/// `device_pages` 4 KiB pages at the start of the fixmap, if there is one.
fn push_devices(mode: &ModeLayout, device_pages: u64, maps: &mut Vec<Mapping>) {
    if device_pages > 0
        && let Some(fixmap) = mode.region_of_kind(RegionKind::Fixmap)
    {
        maps.push(Mapping {
            va: fixmap.start,
            pa: 0,
            size: device_pages * PAGE_SIZE,
            max_leaf: PAGE_SIZE,
        });
    }
}

/// The largest leaf size of `mode` that is at most `limit`.
pub fn largest_leaf_within(mode: &ModeLayout, limit: u64) -> u64 {
    mode.mode
        .leaf_sizes()
        .into_iter()
        .filter(|&l| l <= limit.max(PAGE_SIZE))
        .max()
        .unwrap_or(PAGE_SIZE)
}

/// Splits a mapping into leaves: at each step the largest leaf that fits the
/// remaining length and that both VA and PA are aligned to.
pub fn leaves(mode: &ModeLayout, m: &Mapping) -> Vec<(u64, u64)> {
    let sizes: Vec<u64> = mode
        .mode
        .leaf_sizes()
        .into_iter()
        .rev()
        .filter(|&s| s <= m.max_leaf)
        .collect();
    let mut out = Vec::new();
    let mut off = 0u64;
    // Round the length up to whole pages, as any mapper must.
    let size = m.size.div_ceil(PAGE_SIZE) * PAGE_SIZE;
    while off < size {
        let va = m.va.wrapping_add(off);
        let pa = m.pa.wrapping_add(off);
        let leaf = sizes
            .iter()
            .copied()
            .find(|&s| va.is_multiple_of(s) && pa.is_multiple_of(s) && size - off >= s)
            .unwrap_or(PAGE_SIZE);
        out.push((va, leaf));
        off += leaf;
    }
    out
}

/// Leaves and page-table pages for a set of mappings.
pub fn cost_of(mode: &ModeLayout, maps: &[Mapping], ram_size: u64) -> Cost {
    let levels = mode.levels;
    let va_mask = if mode.va_bits >= 64 {
        u64::MAX
    } else {
        (1u64 << mode.va_bits) - 1
    };
    let mut tables: BTreeSet<(u32, u64)> = BTreeSet::new();
    let mut counts = std::collections::BTreeMap::new();
    for m in maps {
        for (va, leaf) in leaves(mode, m) {
            *counts.entry(leaf).or_insert(0u64) += 1;
            // The leaf sits in a table at level k (level 0 holds 4 KiB
            // leaves); it needs a table at every level from k up to just
            // below the root.
            let k = (leaf.trailing_zeros() - 12) / 9;
            for j in k..levels.saturating_sub(1) {
                tables.insert((j, (va & va_mask) >> (12 + 9 * (j + 1))));
            }
        }
    }
    let leaves = mode
        .mode
        .leaf_sizes()
        .into_iter()
        .map(|s| (s, counts.get(&s).copied().unwrap_or(0)))
        .collect();
    Cost {
        ram_size,
        // No root table without paging.
        pt_pages: if levels == 0 {
            0
        } else {
            1 + tables.len() as u64
        },
        leaves,
    }
}

/// The page-table cost of `ram_size` bytes of RAM with the image at its link
/// address and `device_pages` MMIO pages in the fixmap.
pub fn cost(layout: &Layout, mode: &ModeLayout, ram_size: u64, device_pages: u64) -> Cost {
    let maps = plan(layout, mode, ram_size, mode.image_link, device_pages);
    cost_of(mode, &maps, ram_size)
}
