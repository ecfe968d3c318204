//! Sizes and address-space facts shared by every architecture.

pub const KIB: u64 = 1 << 10;
pub const MIB: u64 = 1 << 20;
pub const GIB: u64 = 1 << 30;
pub const TIB: u64 = 1 << 40;

/// One past the last address: 2^64.
pub const TOP_U128: u128 = 1 << 64;

/// Base page size in every mode of both architectures (the 4 KiB granule).
pub const PAGE_SIZE: u64 = 4 * KIB;
/// Page-table entries per table page (4 KiB / 8 bytes).
pub const PTES_PER_TABLE: u64 = 512;

/// Linux's PFN_ALIGN: `addr` rounded up to the next page boundary (wrapping).
pub fn page_align_up(addr: u64) -> u64 {
    addr.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
}
