//! riscv64 page-table entries: Sv39, Sv48 and Sv57 share one PTE format and
//! differ only in the number of levels (3, 4, 5), each of which may hold
//! leaves (4 KiB pages up to 256 TiB leaves in Sv57).
//!
//! Leaves are written accessed, dirty and global (no A/D faults, no
//! address-space IDs); permissions are R/W/X. Without Svpbmt there are no
//! memory-type bits: [`Flags::DEVICE`] encodes as nothing.

use super::{Encoding, Flags, Kind};
use crate::Error;

pub const PTE_V: u64 = 1 << 0;
pub const PTE_R: u64 = 1 << 1;
pub const PTE_W: u64 = 1 << 2;
pub const PTE_X: u64 = 1 << 3;
pub const PTE_G: u64 = 1 << 5;
pub const PTE_A: u64 = 1 << 6;
pub const PTE_D: u64 = 1 << 7;
/// The physical page number, bits 53..10 of a PTE.
const PPN_MASK: u64 = (1 << 44) - 1;

/// The `satp` value for paging mode field `mode` (8: Sv39, 9: Sv48, 10:
/// Sv57) with the root table at `root_pa`, ASID 0.
pub const fn satp(mode: u64, root_pa: u64) -> u64 {
    (mode << 60) | (root_pa >> 12)
}

/// The Sv39/Sv48/Sv57 PTE format.
pub struct Sv;

impl Sv {
    const fn ppn(pa: u64) -> u64 {
        (pa >> 12) << 10
    }
}

impl Encoding for Sv {
    fn top_leaf_level(levels: u32) -> u32 {
        levels - 1
    }

    fn kind(entry: u64, level: u32) -> Kind {
        if entry & PTE_V == 0 {
            Kind::Invalid
        } else if entry & (PTE_R | PTE_W | PTE_X) != 0 {
            Kind::Leaf
        } else if level == 0 {
            Kind::Invalid // a pointer below the last level
        } else {
            Kind::Table
        }
    }

    fn table(next: u64) -> u64 {
        Sv::ppn(next) | PTE_V
    }

    fn leaf(pa: u64, _level: u32, flags: Flags) -> u64 {
        let mut pte = Sv::ppn(pa) | PTE_V | PTE_A | PTE_D | PTE_G;
        if flags.contains(Flags::R) {
            pte |= PTE_R;
        }
        if flags.contains(Flags::W) {
            pte |= PTE_W;
        }
        if flags.contains(Flags::X) {
            pte |= PTE_X;
        }
        pte
    }

    fn address(entry: u64) -> u64 {
        ((entry >> 10) & PPN_MASK) << 12
    }

    fn flags(entry: u64) -> Flags {
        Flags::rwx(entry & PTE_R != 0, entry & PTE_W != 0, entry & PTE_X != 0)
    }

    const OVERLAPS_LARGER: Error = b"mapping overlaps a larger leaf";
}
