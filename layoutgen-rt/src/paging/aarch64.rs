//! aarch64 stage-1 translation-table descriptors with the 4 KiB granule:
//! 39-bit (3 levels) and 48-bit (4 levels) virtual addresses. Blocks exist
//! at 1 GiB and 2 MiB (layoutgen's levels 2 and 1), pages at level 0 (Arm's
//! level 3); there is no block at the 48-bit root (Arm's level 0).
//!
//! Leaves are written with the access flag set, inner-shareable normal
//! write-back memory (MAIR attribute 0) or Device-nGnRnE (attribute 1,
//! [`Flags::DEVICE`]), never executable at EL0; `AP[2]` makes a leaf without
//! [`Flags::W`] read-only and PXN one without [`Flags::X`] non-executable.
//! Every leaf is readable at EL1.

use super::{Encoding, Flags, Kind};
use crate::Error;

/// Descriptor bits.
pub const DESC_VALID: u64 = 1 << 0;
/// Table (levels 1-3) or page (level 0) rather than block.
pub const DESC_TABLE: u64 = 1 << 1;
const ATTR_NORMAL: u64 = 0 << 2; // MAIR_EL1 attr 0
const ATTR_DEVICE: u64 = 1 << 2; // MAIR_EL1 attr 1
const ATTR_MASK: u64 = 7 << 2;
/// `AP[2]`: read-only.
pub const DESC_RO: u64 = 1 << 7;
const SH_INNER: u64 = 3 << 8;
pub const DESC_AF: u64 = 1 << 10;
/// Not executable at EL1 / at EL0.
pub const DESC_PXN: u64 = 1 << 53;
pub const DESC_UXN: u64 = 1 << 54;
/// Output address, bits 47..12.
pub const DESC_ADDR: u64 = 0x0000_ffff_ffff_f000;

/// MAIR_EL1 for these descriptors: attr 0 normal write-back
/// read/write-allocate, attr 1 Device-nGnRnE.
pub const MAIR: u64 = 0xff;

/// The largest block level with the 4 KiB granule (1 GiB).
const MAX_LEAF_LEVEL: u32 = 2;

/// The leaf descriptor bits for `flags`, without the output address and
/// the page/block bit.
pub const fn leaf_attrs(flags: Flags) -> u64 {
    let mut d = DESC_VALID | DESC_AF | DESC_UXN;
    d |= if flags.contains(Flags::DEVICE) {
        ATTR_DEVICE
    } else {
        ATTR_NORMAL | SH_INNER
    };
    if !flags.contains(Flags::W) {
        d |= DESC_RO;
    }
    if !flags.contains(Flags::X) {
        d |= DESC_PXN;
    }
    d
}

/// The 4 KiB-granule descriptor format.
pub struct Granule4K;

impl Encoding for Granule4K {
    fn top_leaf_level(levels: u32) -> u32 {
        if levels - 1 < MAX_LEAF_LEVEL {
            levels - 1
        } else {
            MAX_LEAF_LEVEL
        }
    }

    fn kind(entry: u64, level: u32) -> Kind {
        if entry & DESC_VALID == 0 {
            Kind::Invalid
        } else if level == 0 {
            // A page needs the bit; without it the encoding is reserved.
            if entry & DESC_TABLE != 0 {
                Kind::Leaf
            } else {
                Kind::Invalid
            }
        } else if entry & DESC_TABLE != 0 {
            Kind::Table
        } else {
            Kind::Leaf
        }
    }

    fn table(next: u64) -> u64 {
        (next & DESC_ADDR) | DESC_TABLE | DESC_VALID
    }

    fn leaf(pa: u64, level: u32, flags: Flags) -> u64 {
        let page = if level == 0 { DESC_TABLE } else { 0 };
        (pa & DESC_ADDR) | page | leaf_attrs(flags)
    }

    fn address(entry: u64) -> u64 {
        entry & DESC_ADDR
    }

    /// Always readable; W unless `AP[2]`; X unless PXN; DEVICE for attr 1.
    fn flags(entry: u64) -> Flags {
        let f = Flags::rwx(true, entry & DESC_RO == 0, entry & DESC_PXN == 0);
        if entry & ATTR_MASK == ATTR_DEVICE {
            f.union(Flags::DEVICE)
        } else {
            f
        }
    }

    const OVERLAPS_LARGER: Error = b"mapping overlaps a larger block";
}
