//! RISC-V facts beyond the paging modes (`arch::PagingMode`): the ±2 GiB
//! window absolute `lui`/`R_RISCV_HI20` addressing reaches (the semi-PIC
//! rule) and the gp window.

use crate::units::GIB;
#[cfg(test)]
use crate::units::{KIB, MIB, TIB};

/// The window that absolute `lui`/`R_RISCV_HI20` addressing reaches: a
/// sign-extended 32-bit value, `[-2 GiB, +2 GiB)` wrapping through zero. A
/// semi-PIC image must keep its symbols outside it, or they cannot move.
pub const ABS32_WINDOW_LOW_END: u64 = 2 * GIB; // [0, 2 GiB)
pub const ABS32_WINDOW_HIGH_START: u64 = 0u64.wrapping_sub(2 * GIB); // [-2 GiB, 2^64)

/// Whether `[start, start + size)` touches the ±2 GiB absolute window.
pub fn touches_abs32_window(start: u64, size: u64) -> bool {
    let end = start as u128 + size as u128;
    (start as u128) < ABS32_WINDOW_LOW_END as u128 || end > ABS32_WINDOW_HIGH_START as u128
}

/// ±2 KiB: the reach of a 12-bit signed offset from gp, the window a
/// linker relaxes small-data accesses into.
pub const GP_REACH: u64 = 2 * crate::units::KIB;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::PagingMode;

    #[test]
    fn kernel_half_starts_match_the_privileged_spec() {
        assert_eq!(PagingMode::Sv39.kernel_half_start(), 0xffff_ffc0_0000_0000);
        assert_eq!(PagingMode::Sv48.kernel_half_start(), 0xffff_8000_0000_0000);
        assert_eq!(PagingMode::Sv57.kernel_half_start(), 0xff00_0000_0000_0000);
        assert_eq!(PagingMode::Sv39.user_half_end(), 0x40_0000_0000);
    }

    #[test]
    fn leaf_sizes_per_mode() {
        assert_eq!(PagingMode::Sv39.leaf_sizes(), vec![4 * KIB, 2 * MIB, GIB]);
        assert_eq!(PagingMode::Sv48.leaf_sizes().last(), Some(&(512 * GIB)));
        assert_eq!(PagingMode::Sv57.leaf_sizes().last(), Some(&(256 * TIB)));
    }

    #[test]
    fn canonical_ranges() {
        let m = PagingMode::Sv39;
        assert!(m.is_canonical_range(0xffff_ffff_8000_0000, 2 * GIB));
        assert!(!m.is_canonical_range(0xffff_ff00_0000_0000, GIB));
        assert!(!m.is_canonical_range(0x3f_ffff_f000, 0x2000));
        assert!(m.is_canonical_range(0x1000, 0x1000));
    }

    #[test]
    fn abs32_window() {
        assert!(touches_abs32_window(0xffff_ffff_8000_0000, 4096));
        assert!(touches_abs32_window(0x7fff_f000, 4096));
        assert!(!touches_abs32_window(0x8000_0000, 4096));
        assert!(!touches_abs32_window(0xffff_ffff_0000_0000, 2 * GIB));
        assert!(touches_abs32_window(0xffff_ffff_0000_0000, 2 * GIB + 1));
    }
}
