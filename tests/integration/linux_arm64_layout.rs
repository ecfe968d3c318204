//! `layouts/linux-arm64.toml` against Linux 6.12's
//! Documentation/arch/arm64/memory.rst (48-bit VA, 4 KiB pages), row by row.
//! The spec follows the macros of `asm/memory.h`; where the table differs
//! from them, the row is listed with the macro value and the reason
//! (details and sources: docs/linux-arm64.md).

use crate::support::specs;
use layoutgen::arch::PagingMode;

/// (region, first address, last address) as printed in memory.rst.
type Row = (&'static str, u64, u64);

/// Rows where the table and `asm/memory.h` agree.
const AGREE: &[Row] = &[
    ("user", 0x0000_0000_0000_0000, 0x0000_ffff_ffff_ffff),
    ("linear_map", 0xffff_0000_0000_0000, 0xffff_7fff_ffff_ffff),
    ("modules", 0xffff_8000_0000_0000, 0xffff_8000_7fff_ffff),
];

/// Rows where the table predates 6.x's move of vmemmap, PCI I/O and the
/// fixmap to the top of the address space: (region, table's first, table's
/// last, memory.h's first, memory.h's last).
const STALE: &[(&str, u64, u64, u64, u64)] = &[
    // VMEMMAP_END = -SZ_1G, VMEMMAP_SIZE = 2 TiB.
    (
        "vmemmap",
        0xffff_fc00_0000_0000,
        0xffff_fdff_ffff_ffff,
        0xffff_fdff_c000_0000,
        0xffff_ffff_bfff_ffff,
    ),
    // PCI_IO_START = VMEMMAP_END + SZ_8M, 16 MiB.
    (
        "pci_io",
        0xffff_fbff_fe80_0000,
        0xffff_fbff_ff7f_ffff,
        0xffff_ffff_c080_0000,
        0xffff_ffff_c17f_ffff,
    ),
    // FIXADDR_TOP = -SZ_8M; the enum-dependent size taken as 4 MiB.
    (
        "fixmap",
        0xffff_fbff_f000_0000,
        0xffff_fbff_fdff_ffff,
        0xffff_ffff_ff40_0000,
        0xffff_ffff_ff7f_ffff,
    ),
];

#[test]
fn linux_arm64_layout_matches_memory_rst_and_memory_h() {
    let layout = layoutgen::load(&specs::path("linux-arm64"), &Default::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let m = layout.mode(PagingMode::Va48).unwrap();
    let get = |name: &str| {
        let r = m.region(name).unwrap_or_else(|| panic!("no region {name}"));
        (r.start, r.last)
    };
    for (name, first, last) in AGREE {
        assert_eq!(get(name), (*first, *last), "{name} differs from memory.rst");
    }
    for (name, doc_first, doc_last, first, last) in STALE {
        assert_ne!(
            (*doc_first, *doc_last),
            (*first, *last),
            "{name}: not stale any more"
        );
        assert_eq!(get(name), (*first, *last), "{name} differs from memory.h");
    }
    // vmalloc: the table's [ffff800080000000, fffffbffefffffff]; memory.h's
    // VMALLOC_START = MODULES_END, VMALLOC_END = VMEMMAP_START - SZ_8M. The
    // spec carves the image's slot from its start (regions do not overlap).
    let kernel = get("kernel");
    let vmalloc = get("vmalloc");
    assert_eq!(
        kernel.0, 0xffff_8000_8000_0000,
        "KIMAGE_VADDR = MODULES_END"
    );
    assert_eq!(vmalloc.0, kernel.1 + 1);
    assert_eq!(vmalloc.1, 0xffff_fdff_c000_0000 - (8 << 20) - 1);
    assert_eq!(m.image_link, 0xffff_8000_8000_0000);
    assert_eq!(m.page_offset, Some(0xffff_0000_0000_0000));
}
