//! `layouts/linux-riscv64.toml` against the tables of Linux 6.12's
//! Documentation/arch/riscv/vm-layout.rst, row by row. Every difference is
//! listed here with its reason (details and sources: docs/linux-riscv64.md).

use crate::support::specs;
use layoutgen::arch::PagingMode;

/// (region, first address, last address) as printed in vm-layout.rst.
type Row = (&'static str, u64, u64);

const SV39: &[Row] = &[
    ("user", 0x0000_0000_0000_0000, 0x0000_003f_ffff_ffff),
    ("fixmap", 0xffff_ffc4_fea0_0000, 0xffff_ffc4_feff_ffff),
    ("pci_io", 0xffff_ffc4_ff00_0000, 0xffff_ffc4_ffff_ffff),
    ("vmemmap", 0xffff_ffc5_0000_0000, 0xffff_ffc5_ffff_ffff),
    ("vmalloc", 0xffff_ffc6_0000_0000, 0xffff_ffd5_ffff_ffff),
    ("linear_map", 0xffff_ffd6_0000_0000, 0xffff_fff5_ffff_ffff),
    ("kasan", 0xffff_fff7_0000_0000, 0xffff_fffe_ffff_ffff),
    ("modules", 0xffff_ffff_0000_0000, 0xffff_ffff_7fff_ffff),
    ("kernel", 0xffff_ffff_8000_0000, 0xffff_ffff_ffff_ffff),
];

const SV48: &[Row] = &[
    ("user", 0x0000_0000_0000_0000, 0x0000_7fff_ffff_ffff),
    ("fixmap", 0xffff_8d7f_fea0_0000, 0xffff_8d7f_feff_ffff),
    ("pci_io", 0xffff_8d7f_ff00_0000, 0xffff_8d7f_ffff_ffff),
    ("vmemmap", 0xffff_8d80_0000_0000, 0xffff_8f7f_ffff_ffff),
    ("vmalloc", 0xffff_8f80_0000_0000, 0xffff_af7f_ffff_ffff),
    ("linear_map", 0xffff_af80_0000_0000, 0xffff_ef7f_ffff_ffff),
    ("kasan", 0xffff_ef80_0000_0000, 0xffff_fffe_ffff_ffff),
    ("modules", 0xffff_ffff_0000_0000, 0xffff_ffff_7fff_ffff),
    ("kernel", 0xffff_ffff_8000_0000, 0xffff_ffff_ffff_ffff),
];

const SV57: &[Row] = &[
    ("user", 0x0000_0000_0000_0000, 0x00ff_ffff_ffff_ffff),
    ("fixmap", 0xff1b_ffff_fea0_0000, 0xff1b_ffff_feff_ffff),
    ("pci_io", 0xff1b_ffff_ff00_0000, 0xff1b_ffff_ffff_ffff),
    ("vmemmap", 0xff1c_0000_0000_0000, 0xff1f_ffff_ffff_ffff),
    ("vmalloc", 0xff20_0000_0000_0000, 0xff5f_ffff_ffff_ffff),
    // The table's "32 PB" is rounded: the direct map ends at PAGE_END =
    // KASAN_SHADOW_START (mm/init.c); PAGE_OFFSET + KERN_VIRT_SIZE would
    // overlap the KASAN shadow by 256 TiB (docs/linux-riscv64.md, D2).
    ("linear_map", 0xff60_0000_0000_0000, 0xffde_ffff_ffff_ffff),
    ("kasan", 0xffdf_0000_0000_0000, 0xffff_fffe_ffff_ffff),
    ("modules", 0xffff_ffff_0000_0000, 0xffff_ffff_7fff_ffff),
    ("kernel", 0xffff_ffff_8000_0000, 0xffff_ffff_ffff_ffff),
];

#[test]
fn linux_layout_matches_vm_layout_rst() {
    let layout = layoutgen::load(&specs::path("linux-riscv64"), &Default::default())
        .unwrap_or_else(|e| panic!("{e}"));
    for (mode, rows) in [
        (PagingMode::Sv39, SV39),
        (PagingMode::Sv48, SV48),
        (PagingMode::Sv57, SV57),
    ] {
        let m = layout.mode(mode).unwrap();
        assert_eq!(m.regions.len(), rows.len(), "{mode}: region count");
        for &(name, first, last) in rows {
            let r = m
                .region(name)
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
