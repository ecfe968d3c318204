//! `layouts/linux-riscv64.toml` against the tables of Linux 6.12's
//! Documentation/arch/riscv/vm-layout.rst, row by row. Every difference is
//! listed here with its reason (details and sources: docs/linux-riscv64.md).

use crate::support::specs;
use layoutgen::arch::PagingMode;

/// (region, first address, last address) as printed in vm-layout.rst, for
/// `mode`: the rows of `tests/data/linux-riscv64-vm-layout.txt`.
fn rows(mode: PagingMode) -> Vec<(String, u64, u64)> {
    let table = include_str!("../data/linux-riscv64-vm-layout.txt");
    let addr = |s: &str| u64::from_str_radix(&s[2..].replace('_', ""), 16).unwrap();
    table
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|f| f[0] == mode.to_string())
        .map(|f| (f[1].to_string(), addr(f[2]), addr(f[3])))
        .collect()
}

#[test]
fn linux_layout_matches_vm_layout_rst() {
    let layout = layoutgen::load(&specs::path("linux-riscv64"), &Default::default())
        .unwrap_or_else(|e| panic!("{e}"));
    for mode in [PagingMode::Sv39, PagingMode::Sv48, PagingMode::Sv57] {
        let rows = rows(mode);
        let m = layout.mode(mode).unwrap();
        assert_eq!(m.regions.len(), rows.len(), "{mode}: region count");
        for (name, first, last) in rows {
            let r = m
                .region(&name)
                .unwrap_or_else(|| panic!("{mode}: no region {name}"));
            if name == "modules" {
                // The table's fixed 2 GB row is an upper bound: Linux sets
                // MODULES_VADDR = PFN_ALIGN(_end) - 2 GiB at run time
                // (asm/pgtable.h). The spec writes exactly that with the
                // largest image (image.end - 2GiB), so it starts
                // image.max_size above the table's row and ends where it does.
                assert_eq!(
                    r.start,
                    first + layout.image.max_size,
                    "{mode}: modules start"
                );
                assert_eq!(r.last, last, "{mode}: modules end");
                continue;
            }
            assert_eq!(
                (r.start, r.last),
                (first, last),
                "{mode}: {name} differs from vm-layout.rst"
            );
        }
        assert_eq!(m.image_link, 0xffff_ffff_8000_0000, "KERNEL_LINK_ADDR");
    }
    assert_eq!(
        layout.mode(PagingMode::Sv39).unwrap().page_offset,
        Some(0xffff_ffd6_0000_0000)
    ); // PAGE_OFFSET_L3
    assert_eq!(
        layout.mode(PagingMode::Sv48).unwrap().page_offset,
        Some(0xffff_af80_0000_0000)
    ); // PAGE_OFFSET_L4
    assert_eq!(
        layout.mode(PagingMode::Sv57).unwrap().page_offset,
        Some(0xff60_0000_0000_0000)
    ); // PAGE_OFFSET_L5
}
