//! RISC-V facts beyond the paging modes (`arch::PagingMode`): the ±2 GiB
//! window absolute `lui`/`R_RISCV_HI20` addressing reaches (the semi-PIC
//! rule) and the gp window.

use crate::units::GIB;

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
