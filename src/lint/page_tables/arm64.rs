//! Linux arm64's ptdump (`/sys/kernel/debug/kernel_page_tables`,
//! `arch/arm64/mm/ptdump.c`) as page-table [`Mapping`]s for LG024–LG027
//! (docs/page-tables.md, "arm64").
//!
//! Each line is one run of entries at one level with the same attributes:
//!
//! ```text
//! 0xffff800080000000-0xffff800080010000          64K PTE       ro x  SHD AF            UXN    MEM/NORMAL
//! ```
//!
//! `note_page()` prints `0x%016lx-0x%016lx`, the size as `%9lu%c` (K, M,
//! G, …), the level (PGD, P4D, PUD, PMD, PTE), then, for entries that are
//! not all zero, one column per attribute of `pte_bits[]`: ` ` or `F`
//! (valid), `USR`, `ro` or `RW`, `NX` or `x` (PXN), `SHD`, `AF`, `NG`,
//! `CON`, `BLK`, `UXN`, `GP` and the memory type. Unlike riscv's ptdump
//! it prints no physical address. Runs of empty entries are printed too,
//! with no attributes; they map nothing and are skipped, as are invalid
//! (`F`) entries.

use super::dump::{Level, Mapping};

/// One line of an arm64 ptdump: `None` for anything else (markers, other
/// formats) and for runs that map nothing.
pub(super) fn line(line: &str) -> Option<Mapping> {
    let mut f = line.split_whitespace();
    let (start, end) = f.next()?.split_once('-')?;
    let start = hex(start)?;
    // The last run of the address space ends at 2^64, printed as 0.
    let end = match hex(end)? {
        0 => 1u128 << 64,
        e => e as u128,
    };
    let size = size(f.next()?)?;
    let level = Level::parse(f.next()?)?;
    if end <= start as u128 || end - start as u128 != size {
        return None;
    }
    let attrs: Vec<&str> = f.collect();
    let has = |a: &str| attrs.contains(&a);
    // No attributes: an empty entry; `F`: present in the table but invalid.
    if attrs.is_empty() || has("F") {
        return None;
    }
    Some(Mapping {
        va: start,
        pa: None,
        size: u64::try_from(size).ok()?,
        // Every valid kernel entry is readable at EL1 (AP[2:1] has no
        // "no access" encoding for the kernel).
        read: true,
        write: has("RW"),
        // PXN clear (`x`): executable by the kernel. UXN concerns EL0.
        execute: has("x"),
        user: has("USR"),
        level: Some(level),
    })
}

fn hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.strip_prefix("0x")?, 16).ok()
}

/// `%9lu%c`: a count of K, M, G, T, P or E bytes.
fn size(s: &str) -> Option<u128> {
    let (digits, unit) = s.split_at(s.len().checked_sub(1)?);
    let shift = 10 * (1 + "KMGTPE".find(unit)? as u32);
    Some(digits.parse::<u128>().ok()? << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mapped_runs_with_their_permissions() {
        let text = "0xffff800080000000-0xffff800080010000          64K PTE       ro x  SHD AF            UXN    MEM/NORMAL";
        let m = line(text).unwrap();
        assert_eq!(
            (m.va, m.size, m.pa),
            (0xffff_8000_8000_0000, 0x1_0000, None)
        );
        assert!(m.read && !m.write && m.execute && !m.user);

        let text = "0xffff000040000000-0xffff000040200000           2M PMD       RW NX SHD AF        BLK UXN    MEM/NORMAL";
        let m = line(text).unwrap();
        assert!(m.write && !m.execute);
        assert_eq!(m.size, 2 << 20);

        let text = "0xfffffbfffe800000-0xfffffbfffe801000           4K PTE       RW NX SHD AF            UXN    DEVICE/nGnRE";
        assert!(line(text).unwrap().write);
    }

    #[test]
    fn empty_and_invalid_runs_and_markers_map_nothing() {
        assert_eq!(
            line("0xffff000000000000-0xffff000040000000           1G PUD"),
            None
        );
        assert_eq!(
            line(
                "0xffff800080000000-0xffff800080001000           4K PTE   F   RW NX SHD AF UXN MEM/NORMAL"
            ),
            None
        );
        assert_eq!(line("---[ Linear Mapping start ]---"), None);
        // riscv's format (a physical address in the second column).
        assert_eq!(
            line(
                "0xffffffff80000000-0xffffffff80200000    0x0000000080200000         2M PMD   .    ..     ..   D A G . X . R V"
            ),
            None
        );
    }

    #[test]
    fn the_last_run_ends_at_the_top_and_sizes_must_agree() {
        let top = line("0xffffffffffe00000-0x0000000000000000           2M PMD       RW NX SHD AF        BLK UXN    MEM/NORMAL").unwrap();
        assert_eq!((top.va, top.size), (0xffff_ffff_ffe0_0000, 2 << 20));
        // A size column that disagrees with the range is not this format.
        assert_eq!(
            line(
                "0xffff800080000000-0xffff800080010000           4K PTE       ro x  SHD AF UXN MEM/NORMAL"
            ),
            None
        );
    }
}
