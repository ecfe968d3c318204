//! Boot before paging: runs at the physical load address with the MMU off.
//!
//! Everything here is PC-relative: statics are reached with `lla`, there are
//! no vtables (`dyn`), no `core::fmt`, no jump tables. The one place that
//! must follow an absolute pointer from the image (the generated region
//! table) translates it with [`early_addr`].
//!
//! M-mode firmware (`cfg(bare)`) only reads the device tree here and goes on
//! to `kmain`: it runs where it is linked, there is nothing to map.

use crate::console::{self, FINISHER, put_hex, puts};
use crate::fdt::{self, BootInfo};
use crate::layout::PagingMode;
#[cfg(not(bare))]
use crate::layout::{
    self, CODE_MODEL, CodeModel, IMAGE_LINK_ADDRESS, IMAGE_MAX_SIZE, MODES, PAGE_SIZE, RAM_BASE,
    Region, SECTION_ALIGN, SECTIONS,
};
#[cfg(not(bare))]
use crate::paging::{Builder, PTE_R, PTE_W, PTE_X, Table};
use crate::sym;
use core::sync::atomic::Ordering;

/// How the run address was chosen.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(bare, allow(dead_code))]
pub enum Kaslr {
    /// The layout has no KASLR range (or the code model is fixed).
    None,
    /// `nokaslr` on the command line.
    Disabled,
    /// Randomised: seed, where it came from, slot index.
    Random {
        seed: u64,
        source: SeedSource,
        slot: u64,
    },
    /// The image runs where the linear map maps its physical address, which
    /// the boot loader chose (`image.phys_align`, src/placement.rs).
    Physical,
}

#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(bare, allow(dead_code))]
pub enum SeedSource {
    Bootargs,
    DeviceTree,
    Timer,
}

/// What the early boot found and did, for `kmain`. (M-mode firmware leaves
/// the paging fields at zero.)
#[cfg_attr(bare, allow(dead_code))]
pub struct Boot {
    pub info: BootInfo,
    pub hartid: u64,
    pub dtb: u64,
    pub mode: PagingMode,
    pub mode_forced: bool,
    /// Modes the hart accepted in `satp`: sv39, sv48, sv57.
    pub accepted: [bool; 3],
    /// Virtual address the image runs at.
    pub run: u64,
    pub kaslr: Kaslr,
    #[cfg_attr(not(relocatable), allow(dead_code))]
    pub relocations: u64,
    pub root_pa: u64,
    pub pt_pages: u64,
    pub leaves: [u64; 5],
    pub finisher_pa: u64,
    /// Fixmap address of the finisher (0 when the layout has no fixmap).
    pub finisher_va: u64,
}

pub static mut BOOT: Boot = Boot {
    info: BootInfo::empty(),
    hartid: 0,
    dtb: 0,
    mode: PagingMode::Sv39,
    mode_forced: false,
    accepted: [false; 3],
    run: 0,
    kaslr: Kaslr::None,
    relocations: 0,
    root_pa: 0,
    pt_pages: 0,
    leaves: [0; 5],
    finisher_pa: 0,
    finisher_va: 0,
};

#[cfg(not(bare))]
const ALL_MODES: [PagingMode; 3] = [PagingMode::Sv39, PagingMode::Sv48, PagingMode::Sv57];

/// A usable address, before paging, for a pointer into the image. A pointer
/// loaded from the image's data holds the run-time virtual address `run`
/// (the link address, or for a relocatable image the address its
/// relocations were applied for: they are applied before anything follows
/// such a pointer); one the compiler materialised itself (`lla`, e.g. after
/// constant-folding a `const`) is already physical. Which one a given pointer
/// is depends on the optimiser, so look at the value.
#[cfg(not(bare))]
fn early_addr(ptr: u64, run: u64) -> u64 {
    if ptr.wrapping_sub(run) < IMAGE_MAX_SIZE {
        ptr.wrapping_sub(run)
            .wrapping_add(crate::placement::load_pa())
    } else {
        ptr
    }
}

pub fn fail(msg: &[u8]) -> ! {
    puts(b"RESULT: FAIL ");
    puts(msg);
    puts(b"\n");
    console::exit(1)
}

/// Called from `_start` with the MMU off, BSS cleared and a stack.
#[unsafe(no_mangle)]
pub extern "C" fn early_main(hartid: u64, dtb: u64) -> ! {
    // M-mode firmware writes the finisher at the layout's `test` region;
    // an S-mode kernel uses the device tree's (below) or QEMU's default.
    #[cfg(bare)]
    let finisher = crate::layout::bare::TEST.start;
    #[cfg(not(bare))]
    let finisher = console::VIRT_TEST_FINISHER;
    FINISHER.store(finisher, Ordering::Relaxed);
    // SAFETY: single hart, nothing else uses BOOT before `kmain`.
    #[allow(clippy::deref_addrof)] // `&mut BOOT` is a static-mut reference
    let boot = unsafe { &mut *(&raw mut BOOT) };
    boot.hartid = hartid;
    boot.dtb = dtb;
    puts(b"sample-kernel: entered at ");
    put_hex(sym!("_start"));
    #[cfg(bare)]
    puts(b" (M-mode, no paging), dtb ");
    #[cfg(not(bare))]
    puts(b" (MMU off), dtb ");
    put_hex(dtb);
    puts(b"\n");

    // SAFETY: OpenSBI passes the device tree's physical address in a1.
    if let Err(e) = unsafe { fdt::parse(dtb, &mut boot.info) } {
        fail(e);
    }
    #[cfg(bare)]
    {
        boot.mode = PagingMode::Bare;
        boot.run = crate::layout::LOAD_ADDRESS;
        boot.finisher_pa = finisher;
        boot.finisher_va = finisher;
        crate::kmain()
    }
    #[cfg(not(bare))]
    {
        boot.finisher_pa = boot.info.finisher.unwrap_or(finisher);
        crate::placement::record(&boot.info.ram[..boot.info.ram_count]);
        FINISHER.store(boot.finisher_pa, Ordering::Relaxed);
        choose_mode(boot);
        let mode = layout::layout_for(boot.mode).unwrap_or_else(|| fail(b"no layout for mode"));
        choose_run_address(boot, mode.kaslr);
        crate::placement::follow_physical(boot, mode);
        #[cfg(relocatable)]
        {
            // Before anything follows an absolute word of the image: GNU ld
            // leaves those words zero (it has no --apply-dynamic-relocs), lld
            // writes the link address. From here on they hold run-time
            // addresses, which `early_addr` translates until paging is on.
            let t0 = crate::workload::instret();
            boot.relocations = crate::reloc::relocate(boot.run.wrapping_sub(IMAGE_LINK_ADDRESS))
                .unwrap_or_else(|e| fail(e));
            crate::workload::note_relocation(t0);
        }
        build_page_tables(boot, mode);
        let satp = (boot.mode.satp_mode() << 60) | (boot.root_pa >> 12);
        // SAFETY: the tables map the image at `run` and the stack with it.
        unsafe { crate::enter_virtual(satp, boot.run.wrapping_sub(crate::placement::load_pa())) }
    }
}

#[cfg(not(bare))]
fn mode_index(m: PagingMode) -> usize {
    match m {
        PagingMode::Sv39 => 0,
        PagingMode::Sv48 => 1,
        PagingMode::Sv57 => 2,
    }
}

#[cfg(not(bare))]
static mut PROBE: [Table; 3] = [const { Table([0; 512]) }; 3];

#[cfg(not(bare))]
/// Does the hart accept `mode` in `satp`? (WARL: an unsupported mode leaves
/// `satp` unchanged.) The probe tables map the 1 GiB around this code to
/// itself in every mode, so the instructions after the write still fetch.
fn probe(mode: PagingMode) -> bool {
    let here = sym!("_start") & !(layout::GIGAPAGE_SIZE - 1);
    let p = (&raw mut PROBE).cast::<[u64; 512]>();
    // SAFETY: the probe tables are ours alone; an Sv39 root is p[0], an Sv48
    // root p[1] -> p[0], an Sv57 root p[2] -> p[1] -> p[0].
    unsafe {
        let (t0, t1, t2) = (p as u64, p.add(1) as u64, p.add(2) as u64);
        (*p)[((here >> 30) & 511) as usize] = ((here >> 12) << 10) | 0xcf; // VRWXAD
        (*p.add(1))[((here >> 39) & 511) as usize] = ((t0 >> 12) << 10) | 1;
        (*p.add(2))[((here >> 48) & 511) as usize] = ((t1 >> 12) << 10) | 1;
        let root = [t0, t1, t2][mode_index(mode)];
        let satp = (mode.satp_mode() << 60) | (root >> 12);
        let read: u64;
        core::arch::asm!(
            "sfence.vma",
            "csrw satp, {v}",
            "csrr {r}, satp",
            "csrw satp, zero",
            "sfence.vma",
            v = in(reg) satp, r = out(reg) read,
        );
        read == satp
    }
}

#[cfg(not(bare))]
fn choose_mode(boot: &mut Boot) {
    for m in ALL_MODES {
        boot.accepted[mode_index(m)] = probe(m);
    }
    let in_spec = |m: PagingMode| MODES.contains(&m);
    if let Some(v) = fdt::arg(boot.info.bootargs(), b"mode") {
        let m = if v == b"sv39" {
            PagingMode::Sv39
        } else if v == b"sv48" {
            PagingMode::Sv48
        } else if v == b"sv57" {
            PagingMode::Sv57
        } else {
            fail(b"bootargs: mode= must be sv39, sv48 or sv57")
        };
        if !in_spec(m) {
            fail(b"bootargs: mode= names a mode the layout spec does not list");
        }
        if !boot.accepted[mode_index(m)] {
            fail(b"bootargs: mode= names a mode this hart does not support");
        }
        boot.mode = m;
        boot.mode_forced = true;
        return;
    }
    let mut i = MODES.len();
    while i > 0 {
        i -= 1;
        if boot.accepted[mode_index(MODES[i])] {
            boot.mode = MODES[i];
            return;
        }
    }
    fail(b"the hart supports none of the layout's paging modes")
}

#[cfg(not(bare))]
/// splitmix64: a seed to a well-mixed 64-bit value.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(not(bare))]
fn choose_run_address(boot: &mut Boot, kaslr: Option<layout::Kaslr>) {
    boot.run = IMAGE_LINK_ADDRESS;
    let Some(k) = kaslr else { return };
    if CODE_MODEL == CodeModel::Fixed || k.slots == 0 {
        return;
    }
    let args = boot.info.bootargs();
    if fdt::flag(args, b"nokaslr") {
        boot.kaslr = Kaslr::Disabled;
        return;
    }
    let (seed, source) = if let Some(v) = fdt::arg(args, b"kaslr_seed") {
        let seed = fdt::parse_u64(v).unwrap_or_else(|| fail(b"bootargs: bad kaslr_seed="));
        (seed, SeedSource::Bootargs)
    } else if let Some(seed) = boot.info.kaslr_seed {
        (seed, SeedSource::DeviceTree)
    } else {
        let t: u64;
        // SAFETY: reading the time CSR has no side effects.
        unsafe { core::arch::asm!("rdtime {0}", out(reg) t) };
        (t, SeedSource::Timer)
    };
    let mut slot = mix(seed) % k.slots;
    // Never the link address: a zero offset would hide missing relocations.
    let link_slot = IMAGE_LINK_ADDRESS.wrapping_sub(k.start) / k.granule;
    if slot == link_slot && k.slots > 1 {
        slot = (slot + 1) % k.slots;
    }
    boot.run = k.start + slot * k.granule;
    boot.kaslr = Kaslr::Random { seed, source, slot };
}

#[cfg(not(bare))]
/// Physical start of each image section, in `SECTIONS` order, then the
/// image end. Section names are checked against `SECTIONS` at compile time
/// (main.rs).
fn section_bounds() -> [u64; 5] {
    [
        sym!("__text_start"),
        sym!("__rodata_start"),
        sym!("__data_start"),
        sym!("__bss_start"),
        sym!("__image_end"),
    ]
}

#[cfg(not(bare))]
/// Leaf permissions inside the image window: each section's, and R+W for
/// the rest of the window (free memory after the image).
fn image_flags(bounds: &[u64; 5], pa: u64) -> u64 {
    let mut i = 0;
    while i < SECTIONS.len() {
        if pa >= bounds[i] && pa < bounds[i + 1] {
            let p = SECTIONS[i].perms;
            return if p.read { PTE_R } else { 0 }
                | if p.write { PTE_W } else { 0 }
                | if p.execute { PTE_X } else { 0 };
        }
        i += 1;
    }
    PTE_R | PTE_W
}

#[cfg(not(bare))]
/// The region called `name` in `mode`, read through [`early_addr`].
fn find_region(mode: &layout::ModeLayout, name: &[u8], run: u64) -> Option<Region> {
    let base = early_addr(mode.regions.as_ptr() as u64, run) as *const Region;
    let mut i = 0;
    while i < mode.regions.len() {
        // SAFETY: the generated region table, at its load address.
        let r = unsafe { base.add(i).read() };
        let n = early_addr(r.name.as_ptr() as u64, run) as *const u8;
        let mut same = r.name.len() == name.len();
        let mut j = 0;
        while same && j < name.len() {
            // SAFETY: within the region's name.
            same = unsafe { n.add(j).read() } == name[j];
            j += 1;
        }
        if same {
            return Some(r);
        }
        i += 1;
    }
    None
}

#[cfg(not(bare))]
fn build_page_tables(boot: &mut Boot, mode: &layout::ModeLayout) {
    // SAFETY: the pool is in BSS (zeroed) and only used here.
    let mut b = unsafe { Builder::new(boot.mode.levels()) };
    let linear = mode.linear_map;
    let lin_leaf = b.largest_leaf_within(linear.leaf);
    let win_leaf = b.largest_leaf_within(SECTION_ALIGN);
    let bounds = section_bounds();
    let lin_flags = |_va: u64| PTE_R | PTE_W;
    let off = mode.linear_offset;
    let win_pa = crate::placement::load_pa();
    let win_end = win_pa + IMAGE_MAX_SIZE;
    let run = boot.run;
    let win_flags = |va: u64| image_flags(&bounds, va.wrapping_sub(run).wrapping_add(win_pa));
    let ok = |r: Result<(), &'static [u8]>| r.unwrap_or_else(|e| fail(e));

    // The linear map of every RAM range, clipped to the linear map region.
    let linear_end = RAM_BASE.saturating_add(linear.size);
    for &(start, size) in &boot.info.ram[..boot.info.ram_count] {
        let end = start.saturating_add(size).min(linear_end);
        if start < RAM_BASE || start >= end {
            continue;
        }
        if mode.image_in_linear_map {
            // The image window replaces the linear map's leaves there.
            let (ws, we) = (win_pa.clamp(start, end), win_end.clamp(start, end));
            if ws > start {
                ok(b.map(
                    start.wrapping_add(off),
                    start,
                    ws - start,
                    lin_leaf,
                    lin_flags,
                ));
            }
            if we > ws {
                let va = ws.wrapping_add(off);
                ok(b.map(va, ws, we - ws, win_leaf, |v| {
                    image_flags(&bounds, v.wrapping_sub(off))
                }));
            }
            if end > we {
                ok(b.map(we.wrapping_add(off), we, end - we, lin_leaf, lin_flags));
            }
        } else {
            ok(b.map(
                start.wrapping_add(off),
                start,
                end - start,
                lin_leaf,
                lin_flags,
            ));
        }
    }
    if !mode.image_in_linear_map {
        ok(b.map(run, win_pa, IMAGE_MAX_SIZE, win_leaf, win_flags));
    }
    // One device page at the start of the fixmap: the test finisher.
    if let Some(fixmap) = find_region(mode, b"fixmap", run) {
        let page = boot.finisher_pa & !(PAGE_SIZE - 1);
        ok(b.map(fixmap.start, page, PAGE_SIZE, PAGE_SIZE, |_| PTE_R | PTE_W));
        boot.finisher_va = fixmap.start + (boot.finisher_pa - page);
    }
    boot.root_pa = b.root_pa();
    boot.pt_pages = b.pt_pages();
    boot.leaves = b.leaves;
}
