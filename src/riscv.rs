//! RISC-V facts the tool relies on (privileged spec, "Supervisor-Level ISA":
//! Sv39/Sv48/Sv57 virtual-memory systems), and sizes shared by every
//! architecture. What differs per architecture is described in `crate::arch`.

pub const KIB: u64 = 1 << 10;
pub const MIB: u64 = 1 << 20;
pub const GIB: u64 = 1 << 30;
pub const TIB: u64 = 1 << 40;

/// One past the last address: 2^64.
pub const TOP_U128: u128 = 1 << 64;

/// Base page size in every mode.
pub const PAGE_SIZE: u64 = 4 * KIB;
/// Page-table entries per table page (4 KiB / 8 bytes).
pub const PTES_PER_TABLE: u64 = 512;

pub use crate::arch::PagingMode;

/// ±2 KiB: the reach of a 12-bit signed offset from gp, the window a
/// linker relaxes small-data accesses into.
pub const GP_REACH: u64 = 2 * KIB;

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

/// Formats a size with the largest binary unit that divides it exactly.
pub fn human_size(size: u128) -> String {
    const UNITS: [(&str, u32); 6] = [
        ("EiB", 60),
        ("PiB", 50),
        ("TiB", 40),
        ("GiB", 30),
        ("MiB", 20),
        ("KiB", 10),
    ];
    for (name, shift) in UNITS {
        if size >= 1 << shift && size.is_multiple_of(1 << shift) {
            return format!("{} {name}", size >> shift);
        }
    }
    format!("{size} B")
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn human_sizes() {
        assert_eq!(human_size(2 * GIB as u128), "2 GiB");
        assert_eq!(human_size(6 * MIB as u128), "6 MiB");
        assert_eq!(human_size(4097), "4097 B");
    }
}
