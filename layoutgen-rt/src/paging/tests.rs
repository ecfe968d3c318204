use super::aarch64::{self, Granule4K};
use super::riscv64::{self, Sv};
use super::*;

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
const RX: Flags = Flags::R.union(Flags::X);
const RW: Flags = Flags::R.union(Flags::W);

/// A pool of `pages` zeroed tables, and the physical address it pretends
/// to be at (not its host address: entries must hold the physical one).
fn pool(pages: usize) -> Vec<Table> {
    vec![Table::EMPTY; pages]
}
const POOL_PA: u64 = 0x8080_4000;

/// A builder and its tables after `build`.
fn built<E: Encoding>(
    levels: u32,
    pages: usize,
    build: impl FnOnce(&mut Builder<E>) -> Result<(), Error>,
) -> (Vec<Table>, u64, [u64; MAX_LEVELS]) {
    let mut p = pool(pages);
    let mut b = Builder::<E>::new(levels, &mut p, POOL_PA);
    build(&mut b).unwrap_or_else(|e| panic!("{}", String::from_utf8_lossy(e)));
    let (used, leaves) = (b.pt_pages(), b.leaves());
    (p, used, leaves)
}

/// Reads a pool as the tree's memory.
struct Pool<'a>(&'a [Table]);

impl Tables for Pool<'_> {
    fn entry(&self, table: u64, index: usize) -> u64 {
        self.0[((table - POOL_PA) / PAGE_SIZE) as usize].0[index]
    }
}

fn err(r: Result<(), Error>) -> String {
    String::from_utf8(r.unwrap_err().to_vec()).unwrap()
}

// --- encodings ------------------------------------------------------------

#[test]
fn riscv64_pte_bits() {
    // V R X G A D over PPN 0x80200.
    assert_eq!(Sv::leaf(0x8020_0000, 1, RX), 0x2008_00eb);
    assert_eq!(Sv::leaf(0x8020_0000, 0, RW), 0x2008_00e7);
    // DEVICE has no bit without Svpbmt.
    assert_eq!(
        Sv::leaf(0x10_0000, 0, RW | Flags::DEVICE),
        Sv::leaf(0x10_0000, 0, RW)
    );
    assert_eq!(Sv::table(0x8080_5000), 0x2020_1401);
    assert_eq!(Sv::address(0x2020_1401), 0x8080_5000);
    // Bits above the PPN (PBMT, N) are not part of the address.
    assert_eq!(Sv::address(0xe000_0000_2008_00eb), 0x8020_0000);
    assert_eq!(Sv::kind(0, 1), Kind::Invalid);
    assert_eq!(Sv::kind(0x2020_1401, 1), Kind::Table);
    assert_eq!(Sv::kind(0x2020_1401, 0), Kind::Invalid);
    assert_eq!(Sv::kind(0x2008_00eb, 2), Kind::Leaf);
    assert_eq!(Sv::kind(0x2008_00ea, 2), Kind::Invalid, "V clear");
    // The satp the sample kernel prints for its default layout.
    assert_eq!(riscv64::satp(8, 0x8080_4000), 0x8000_0000_0008_0804);
    assert_eq!(riscv64::satp(10, 0x8080_4000) >> 60, 10);
}

#[test]
fn aarch64_descriptor_bits() {
    // VALID AF SH=inner, UXN; PXN without X, AP[2] without W.
    assert_eq!(aarch64::leaf_attrs(RW), 0x0060_0000_0000_0701);
    assert_eq!(aarch64::leaf_attrs(RX), 0x0040_0000_0000_0781);
    assert_eq!(aarch64::leaf_attrs(Flags::R), 0x0060_0000_0000_0781);
    // Device-nGnRnE: attribute index 1, not shareable.
    assert_eq!(
        aarch64::leaf_attrs(RW | Flags::DEVICE),
        0x0060_0000_0000_0405
    );
    // A page has bit 1 set, a block does not.
    assert_eq!(Granule4K::leaf(0x4020_0000, 1, RX), 0x0040_0000_4020_0781);
    assert_eq!(Granule4K::leaf(0x4020_0000, 0, RX), 0x0040_0000_4020_0783);
    assert_eq!(Granule4K::table(0x4080_5000), 0x4080_5003);
    assert_eq!(Granule4K::address(0x0040_0000_4020_0783), 0x4020_0000);
    assert_eq!(Granule4K::kind(0x4080_5003, 2), Kind::Table);
    assert_eq!(Granule4K::kind(0x4080_5003, 0), Kind::Leaf, "a page");
    assert_eq!(
        Granule4K::kind(0x0040_0000_4020_0781, 1),
        Kind::Leaf,
        "a block"
    );
    assert_eq!(Granule4K::kind(0x0040_0000_4020_0781, 0), Kind::Invalid);
    assert_eq!(Granule4K::kind(0x4080_5002, 2), Kind::Invalid);
    assert_eq!(aarch64::MAIR & 0xff, 0xff, "attr 0: normal write-back");
    assert_eq!(aarch64::MAIR >> 8 & 0xff, 0x00, "attr 1: Device-nGnRnE");
}

#[test]
fn flags_survive_both_encodings() {
    for bits in 0..8u8 {
        let f = Flags::rwx(bits & 1 != 0, bits & 2 != 0, bits & 4 != 0);
        assert_eq!(Sv::flags(Sv::leaf(0x1000, 0, f)), f);
        // aarch64 cannot express a leaf that is not readable at EL1.
        let readable = f | Flags::R;
        assert_eq!(Granule4K::flags(Granule4K::leaf(0x1000, 0, f)), readable);
        let dev = readable | Flags::DEVICE;
        assert_eq!(Granule4K::flags(Granule4K::leaf(0x1000, 0, dev)), dev);
        assert_eq!(dev.perms(), readable);
    }
    assert_eq!(Flags::rwx(true, false, true), RX);
    assert!(RW.contains(Flags::W) && !RW.contains(RX));
}

#[test]
fn leaf_sizes_per_encoding() {
    let mut p = pool(1);
    let sv39 = Builder::<Sv>::new(3, &mut p, POOL_PA);
    assert_eq!(sv39.largest_leaf_within(GIB), GIB);
    assert_eq!(sv39.largest_leaf_within(3 * MIB), 2 * MIB);
    assert_eq!(sv39.largest_leaf_within(0), 4 * KIB);
    assert_eq!(sv39.largest_leaf_within(u64::MAX), GIB);
    let sv57 = Builder::<Sv>::new(5, &mut p, POOL_PA);
    assert_eq!(sv57.largest_leaf_within(u64::MAX), 256 << 40);
    let va48 = Builder::<Granule4K>::new(4, &mut p, POOL_PA);
    assert_eq!(va48.largest_leaf_within(u64::MAX), GIB, "no level-0 block");
    assert_eq!(leaf_size(2), GIB);
    assert_eq!(index(0xffff_ffff_8020_0000, 2), 510);
    assert_eq!(index(0xffff_ffff_8020_0000, 1), 1);
}

#[test]
fn canonical_addresses() {
    assert_eq!(sign_extend(0x7f_c000_0000, 39), 0xffff_ffff_c000_0000);
    assert_eq!(sign_extend(0x3f_c000_0000, 39), 0x3f_c000_0000);
    assert_eq!(sign_extend(0xff80_0000_0000, 48), 0xffff_ff80_0000_0000);
}

// --- building and walking -------------------------------------------------

/// Maps 1 GiB + 2 MiB + 4 KiB at a 1 GiB-aligned address: one leaf of
/// each size, and every byte translates back.
fn one_of_each<E: Encoding>(levels: u32, va: u64) {
    let pa = 0x4000_0000;
    let size = GIB + 2 * MIB + 4 * KIB;
    let (p, used, leaves) = built::<E>(levels, 8, |b| b.map(va, pa, size, GIB, |_| RW));
    assert_eq!(leaves[..3], [1, 1, 1], "levels {levels}");
    // Root, the table for the 2 MiB and 4 KiB leaves' 1 GiB, the 4 KiB
    // leaf's table; plus one per level above the 1 GiB leaves' level.
    assert_eq!(used, 3 + (levels as u64 - 3), "levels {levels}");
    let mem = Pool(&p);
    for off in [
        0,
        0x1234,
        GIB - 8,
        GIB,
        GIB + 2 * MIB - 1,
        GIB + 2 * MIB + 0xfff,
    ] {
        assert_eq!(
            translate::<E>(&mem, POOL_PA, levels, va + off),
            Some(pa + off),
            "{off:#x}"
        );
    }
    assert_eq!(translate::<E>(&mem, POOL_PA, levels, va + size), None);
    assert_eq!(translate::<E>(&mem, POOL_PA, levels, va - 1), None);
    let leaf = walk::<E>(&mem, POOL_PA, levels, va + GIB + 0x10).unwrap();
    assert_eq!((leaf.size, E::flags(leaf.entry).perms()), (2 * MIB, RW));
}

#[test]
fn one_leaf_of_each_size() {
    for levels in [3, 4, 5] {
        one_of_each::<Sv>(levels, 0x40_0000_0000 >> (5 - levels));
    }
    for levels in [3, 4] {
        one_of_each::<Granule4K>(levels, 0x40_0000_0000 >> (5 - levels));
    }
}

#[test]
fn riscv_has_512_gib_leaves_aarch64_has_not() {
    let size = 512 * GIB;
    let (_, used, leaves) = built::<Sv>(4, 4, |b| b.map(0, 0, size, u64::MAX, |_| RW));
    assert_eq!((used, leaves), (1, [0, 0, 0, 1, 0]));
    let (_, used, leaves) = built::<Granule4K>(4, 4, |b| b.map(0, 0, size, u64::MAX, |_| RW));
    assert_eq!((used, leaves), (2, [0, 0, 512, 0, 0]));
}

#[test]
fn misaligned_physical_address_takes_pages() {
    let (p, used, leaves) = built::<Sv>(3, 8, |b| {
        b.map(0x4000_0000, 0x8000_1000, 4 * MIB, GIB, |_| Flags::R)
    });
    assert_eq!((used, leaves[..3].to_vec()), (4, vec![1024, 0, 0]));
    let mem = Pool(&p);
    assert_eq!(
        translate::<Sv>(&mem, POOL_PA, 3, 0x4012_3456),
        Some(0x8012_4456)
    );
}

#[test]
fn sizes_round_up_to_pages_and_flags_follow_the_address() {
    let (p, _, leaves) = built::<Granule4K>(3, 8, |b| {
        b.map(0x10_0000, 0x10_0000, 0x1001, MIB, |va| {
            if va == 0x10_0000 { RX } else { RW }
        })
    });
    assert_eq!(leaves[0], 2);
    let mem = Pool(&p);
    let flags = |va| Granule4K::flags(walk::<Granule4K>(&mem, POOL_PA, 3, va).unwrap().entry);
    assert_eq!((flags(0x10_0fff), flags(0x10_1000)), (RX, RW));
}

#[test]
fn overlaps_and_exhaustion_are_errors() {
    let mut p = pool(3);
    let mut b = Builder::<Sv>::new(3, &mut p, POOL_PA);
    b.map(0x4000_0000, 0x4000_0000, 2 * MIB, 2 * MIB, |_| RW)
        .unwrap();
    let again = b.map(0x4000_0000, 0x4000_0000, 4 * KIB, 4 * KIB, |_| RW);
    assert_eq!(err(again), "mapping overlaps a larger leaf");
    let same = b.map(0x4000_0000, 0x4000_0000, 2 * MIB, 2 * MIB, |_| RW);
    assert_eq!(err(same), "mapping overlaps an existing entry");
    b.map(0x4020_0000, 0x4020_0000, 4 * KIB, 4 * KIB, |_| RW)
        .unwrap();
    assert_eq!(b.pt_pages(), 3);
    let full = b.map(0x8000_0000, 0x8000_0000, 4 * KIB, 4 * KIB, |_| RW);
    assert_eq!(err(full), "page-table pool exhausted");

    let mut p = pool(3);
    let mut b = Builder::<Granule4K>::new(3, &mut p, POOL_PA);
    b.map(0, 0, GIB, GIB, |_| RW).unwrap();
    let inside = b.map(0x20_0000, 0x20_0000, 4 * KIB, 4 * KIB, |_| RW);
    assert_eq!(err(inside), "mapping overlaps a larger block");
}

#[test]
fn tables_are_zeroed_when_taken() {
    let mut p = pool(4);
    p.iter_mut().for_each(|t| t.0.fill(0xdead_beef_0000_0001));
    let mut b = Builder::<Sv>::new(3, &mut p, POOL_PA);
    b.map(0x4000_0000, 0x4000_0000, 4 * KIB, 4 * KIB, |_| RW)
        .unwrap();
    assert_eq!(b.pt_pages(), 3);
    assert_eq!(
        translate::<Sv>(&b, POOL_PA, 3, 0x4000_0010),
        Some(0x4000_0010)
    );
    assert_eq!(translate::<Sv>(&b, POOL_PA, 3, 0x4000_1000), None);
    assert_eq!(translate::<Sv>(&b, POOL_PA, 3, 0), None);
}

/// The sample kernels' images: text, rodata, data, bss at 2 MiB steps
/// from `base`, then the end.
fn bounds(base: u64) -> [u64; 5] {
    [0, 1, 2, 3, 4].map(|i| base + i * 2 * MIB)
}
const SECTIONS: [Flags; 4] = [RX, Flags::R, RW, RW];

/// A sample kernel's image as the runtime maps it: the sections `b` (see
/// [`bounds`]; the image's physical address is the first) in a 32 MiB
/// window at `image_va` with 2 MiB leaves, and all of `ram` (starting at
/// the RAM base) in a linear map of `linear_size` at `linear_offset` with
/// 1 GiB leaves.
fn sample_map<'a>(
    ram: &'a [(u64, u64)],
    linear_offset: u64,
    linear_size: u64,
    image_va: u64,
    b: &'a [u64; 5],
) -> KernelMap<'a> {
    KernelMap {
        ram,
        ram_base: ram[0].0,
        linear_offset,
        linear_size,
        linear_leaf: GIB,
        image_pa: b[0],
        image_va,
        image_size: 32 * MIB,
        image_leaf: 2 * MIB,
        image_in_linear_map: false,
        bounds: b,
        sections: &SECTIONS,
    }
}

/// The tables of `map` and a device page `device_pa` at `fixmap`, built as
/// the runtime does (`levels`, 64 pages at most).
fn with_device_page<E: Encoding>(
    levels: u32,
    map: &KernelMap,
    fixmap: u64,
    device_pa: u64,
) -> (Vec<Table>, u64, [u64; MAX_LEVELS]) {
    built::<E>(levels, 64, |bld| {
        bld.map_kernel(map)?;
        let va = bld.map_page(fixmap, device_pa, RW | Flags::DEVICE)?;
        assert_eq!(va, fixmap);
        Ok(())
    })
}

/// The counts `sample-kernel` prints for `layouts/qemu-virt-sv39.toml` on
/// QEMU's default 128 MiB: `pt_pages=5 leaves_1g=0 leaves_2m=80
/// leaves_4k=1`, and the live tree agrees with every mapping.
#[test]
fn sample_kernel_sv39_default_layout() {
    let b = bounds(0x8020_0000);
    let run = 0xffff_ffff_8020_0000;
    let fixmap = 0xffff_ffc4_fea0_0000;
    let offset = 0xffff_ffd5_8000_0000;
    let map = sample_map(&[(0x8000_0000, 128 * MIB)], offset, 0x20_0000_0000, run, &b);
    let (p, used, leaves) = with_device_page::<Sv>(3, &map, fixmap, 0x10_0000);
    assert_eq!((used, leaves), (5, [1, 80, 0, 0, 0]));
    let mem = Pool(&p);
    let t = |va| translate::<Sv>(&mem, POOL_PA, 3, va);
    let f = |va| Sv::flags(walk::<Sv>(&mem, POOL_PA, 3, va).unwrap().entry);
    assert_eq!(t(0x8123_4567 + offset), Some(0x8123_4567));
    assert_eq!(t(0x8800_0000 + offset), None, "past RAM");
    assert_eq!(t(run + 0x1000), Some(0x8020_1000));
    assert_eq!(t(fixmap + 8), Some(0x10_0008));
    assert_eq!(
        [0, 2, 4, 6, 8, 30].map(|m| f(run + m * MIB)),
        [RX, Flags::R, RW, RW, RW, RW]
    );
    assert_eq!(
        f(offset + 0x8020_0000),
        RW,
        "the linear alias is not executable"
    );

    // The census the kernel's wx_tables and pt_counts checks take.
    let mut seen = [0u64; MAX_LEVELS];
    let mut wx = 0;
    let tables = for_each_leaf::<Sv>(&mem, POOL_PA, 3, &mut |va, leaf| {
        seen[((leaf.size.trailing_zeros() - 12) / 9) as usize] += 1;
        let flags = Sv::flags(leaf.entry);
        wx += u32::from(flags.contains(Flags::W | Flags::X));
        let va = sign_extend(va, 39);
        assert_eq!(t(va), Some(Sv::address(leaf.entry)), "{va:#x}");
    });
    assert_eq!((tables, seen, wx), (used, leaves, 0));
}

/// `sample-kernel-aarch64` on `layouts/qemu-virt-aarch64.toml`, va48, with
/// 128 MiB: `pt_pages=7 leaves_1g=0 leaves_2m=80 leaves_4k=1`.
#[test]
fn sample_kernel_aarch64_va48_layout() {
    let b = bounds(0x4020_0000);
    let run = 0xffff_ffff_8020_0000;
    let fixmap = 0xffff_ffff_01e0_0000;
    let offset = 0xfffe_ffff_c000_0000;
    let map = sample_map(&[(0x4000_0000, 128 * MIB)], offset, 16 * GIB, run, &b);
    let (p, used, leaves) = with_device_page::<Granule4K>(4, &map, fixmap, 0x900_0000);
    assert_eq!((used, leaves), (7, [1, 80, 0, 0, 0]));
    let mem = Pool(&p);
    let t = |va| translate::<Granule4K>(&mem, POOL_PA, 4, va);
    let f = |va| Granule4K::flags(walk::<Granule4K>(&mem, POOL_PA, 4, va).unwrap().entry);
    assert_eq!(t(0x4123_4567 + offset), Some(0x4123_4567));
    assert_eq!(t(run + 0x20_0010), Some(0x4040_0010));
    assert_eq!(f(fixmap), RW | Flags::DEVICE);
    assert_eq!(
        [0, 2, 4, 6, 8].map(|m| f(run + m * MIB)),
        [RX, Flags::R, RW, RW, RW]
    );
    let top = !0u64 << 48;
    let mut leaves_seen = 0;
    let tables = for_each_leaf::<Granule4K>(&mem, POOL_PA, 4, &mut |va, leaf| {
        leaves_seen += 1;
        assert_eq!(t(va | top), Some(Granule4K::address(leaf.entry)));
    });
    assert_eq!((tables, leaves_seen), (7, 81));
}

/// An image inside the linear map (`qemu-virt-in-linear-map`): its window
/// replaces the linear map's leaves there, at 2 MiB with section flags.
#[test]
fn image_inside_the_linear_map() {
    let offset = 0xffff_ffd5_8000_0000;
    let b = bounds(0x8020_0000);
    let ram = [(0x8000_0000, 3 * GIB)];
    let map = KernelMap {
        image_in_linear_map: true,
        ..sample_map(&ram, offset, 128 * GIB, 0x8020_0000 + offset, &b)
    };
    let (p, used, leaves) = built::<Sv>(3, 8, |bld| bld.map_kernel(&map));
    // The first GiB: 2 MiB leaves (1 before the window, 16 window, 495
    // after); the other two GiB: gigapages.
    assert_eq!((used, leaves), (2, [0, 512, 2, 0, 0]));
    let mem = Pool(&p);
    let f = |pa: u64| Sv::flags(walk::<Sv>(&mem, POOL_PA, 3, pa + offset).unwrap().entry);
    assert_eq!(
        [0, 2 * MIB, 4 * MIB, 34 * MIB, GIB + 5].map(|pa| f(0x8000_0000 + pa)),
        [RW, RX, Flags::R, RW, RW]
    );
}

#[test]
fn ram_outside_the_linear_map_is_left_out() {
    let map = KernelMap {
        ram: &[(0x1000_0000, GIB), (0x8000_0000, 2 * GIB)],
        ram_base: 0x8000_0000,
        linear_offset: 0,
        linear_size: GIB,
        linear_leaf: GIB,
        image_pa: 0x8020_0000,
        image_va: 0x8020_0000,
        image_size: 0,
        image_leaf: 2 * MIB,
        image_in_linear_map: false,
        bounds: &[0x8020_0000],
        sections: &[],
    };
    let (_, used, leaves) = built::<Sv>(3, 4, |bld| bld.map_kernel(&map));
    assert_eq!((used, leaves), (1, [0, 0, 1, 0, 0]));
}

#[test]
fn live_trees_read_through_an_offset() {
    let (p, _, _) = built::<Sv>(3, 4, |b| b.map(GIB, 0x8000_0000, 2 * MIB, 2 * MIB, |_| RW));
    let host = p.as_ptr() as u64;
    // SAFETY: the pool's tables are at POOL_PA + (host - POOL_PA).
    let live = unsafe { Mapped::new(host.wrapping_sub(POOL_PA)) };
    assert_eq!(
        translate::<Sv>(&live, POOL_PA, 3, GIB + 42),
        Some(0x8000_002a)
    );
    assert_eq!(translate::<Sv>(&live, POOL_PA, 3, 3 * GIB), None);
}
