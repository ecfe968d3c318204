//! Boot before paging: runs at the physical load address with the MMU off.
//!
//! Everything here is PC-relative: statics are reached with `lla`, there are
//! no vtables (`dyn`), no `core::fmt`, no jump tables (this crate and
//! layoutgen-rt are built with `-C jump-tables=no`). The one place that must
//! follow an absolute pointer from the image (the generated region table)
//! translates it with `layoutgen_rt::image::early_addr`.
//!
//! M-mode firmware (`cfg(bare)`) only reads the device tree here and goes on
//! to `kmain`: it runs where it is linked, there is nothing to map.

use crate::console::{FINISHER, fail, put_hex, puts};
use crate::layout::PagingMode;
#[cfg(not(bare))]
use crate::layout::{
    self, CODE_MODEL, CodeModel, IMAGE_LINK_ADDRESS, IMAGE_MAX_SIZE, MODES, RAM_BASE, Region,
    SECTION_ALIGN,
};
#[cfg(not(bare))]
use crate::placement;
use core::sync::atomic::Ordering;
use layoutgen_rt::fdt::{self, BootInfo};
#[cfg(not(bare))]
use layoutgen_rt::image;
#[cfg(not(bare))]
use layoutgen_rt::kaslr;
use layoutgen_rt::kaslr::SeedSource;
use layoutgen_rt::paging::MAX_LEVELS;
#[cfg(not(bare))]
use layoutgen_rt::paging::riscv64::{self, Sv};
#[cfg(not(bare))]
use layoutgen_rt::paging::{Builder, Flags, KernelMap, Table};
use layoutgen_rt::sym;

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
    pub leaves: [u64; MAX_LEVELS],
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
    leaves: [0; MAX_LEVELS],
    finisher_pa: 0,
    finisher_va: 0,
};

#[cfg(not(bare))]
const ALL_MODES: [PagingMode; 3] = [PagingMode::Sv39, PagingMode::Sv48, PagingMode::Sv57];

/// A usable address, before paging, for a pointer into the image: see
/// `layoutgen_rt::image::early_addr`. Its words hold the run-time virtual
/// address `run` (the link address, or for a relocatable image the address
/// its relocations were applied for: they are applied before anything
/// follows such a pointer).
#[cfg(not(bare))]
fn early_addr(ptr: u64, run: u64) -> u64 {
    image::early_addr(ptr, run, placement::load_pa(), IMAGE_MAX_SIZE)
}

/// Called from `_start` with the MMU off, BSS cleared and a stack.
#[unsafe(no_mangle)]
pub extern "C" fn early_main(hartid: u64, dtb: u64) -> ! {
    // M-mode firmware writes the finisher at the layout's `test` region;
    // an S-mode kernel uses the device tree's (below) or QEMU's default.
    #[cfg(bare)]
    let finisher = crate::layout::bare::TEST.start;
    #[cfg(not(bare))]
    let finisher = crate::console::VIRT_TEST_FINISHER;
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
        placement::record(boot.info.ram()).unwrap_or_else(|e| fail(e));
        FINISHER.store(boot.finisher_pa, Ordering::Relaxed);
        choose_mode(boot);
        // Once: the conversions of the running kernel read what this
        // records (one word each), never the mode (layout.rs, `Running`).
        let running =
            layout::Running::record(boot.mode).unwrap_or_else(|| fail(b"no layout for mode"));
        let mode = running.layout();
        choose_run_address(boot, mode.kaslr);
        if let Some(run) = placement::follow_physical(mode) {
            boot.run = run;
            boot.kaslr = Kaslr::Physical;
        }
        // Inside the linear map the image's conversions are the linear
        // map's: nothing to record.
        #[cfg(all(relocatable, not(image_in_linear_map)))]
        running.record_image(boot.run, placement::load_pa());
        #[cfg(relocatable)]
        {
            // Before anything follows an absolute word of the image: GNU ld
            // leaves those words zero (it has no --apply-dynamic-relocs), lld
            // writes the link address. From here on they hold run-time
            // addresses, which `early_addr` translates until paging is on.
            let t0 = crate::workload::instret();
            boot.relocations = relocate(boot.run).unwrap_or_else(|e| fail(e));
            crate::workload::note_relocation(t0);
        }
        build_page_tables(boot, mode);
        let satp = riscv64::satp(boot.mode.satp_mode(), boot.root_pa);
        // SAFETY: the tables map the image at `run` and the stack with it.
        unsafe { crate::enter_virtual(satp, boot.run.wrapping_sub(placement::load_pa())) }
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
static mut PROBE: [Table; 3] = [Table::EMPTY; 3];

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
        let satp = riscv64::satp(mode.satp_mode(), root);
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
    let (seed, source) = kaslr::seed(args, boot.info.kaslr_seed, || {
        let t: u64;
        // SAFETY: reading the time CSR has no side effects.
        unsafe { core::arch::asm!("rdtime {0}", out(reg) t) };
        t
    })
    .unwrap_or_else(|e| fail(e));
    let link_slot = IMAGE_LINK_ADDRESS.wrapping_sub(k.start) / k.granule;
    let slot = kaslr::random_slot(seed, k.slots, link_slot);
    boot.run = k.start + slot * k.granule;
    boot.kaslr = Kaslr::Random { seed, source, slot };
}

/// Applies the image's `R_RISCV_RELATIVE` relocations for running at `run`.
#[cfg(relocatable)]
fn relocate(run: u64) -> Result<u64, layoutgen_rt::Error> {
    use layoutgen_rt::reloc;
    let image = reloc::Image {
        link: IMAGE_LINK_ADDRESS,
        load: placement::load_pa(),
        size: IMAGE_MAX_SIZE,
    };
    let delta = run.wrapping_sub(IMAGE_LINK_ADDRESS);
    let (start, end) = (sym!("__rela_dyn_start"), sym!("__rela_dyn_end"));
    let unsupported = b"unsupported dynamic relocation (only R_RISCV_RELATIVE is handled)";
    // SAFETY: `.rela.dyn` lies between the two linker-script symbols, and
    // the image is loaded at `load_pa()`.
    unsafe { reloc::relocate(reloc::RISCV64, start, end, image, delta, unsupported) }
}

#[cfg(not(bare))]
/// The region called `name` in `mode`, read through [`early_addr`].
fn find_region(mode: &layout::ModeLayout, name: &[u8], run: u64) -> Option<Region> {
    let name_of = |r: &Region| (r.name.as_ptr(), r.name.len());
    // SAFETY: the generated region table and its names, in the loaded image.
    unsafe {
        image::find_named(
            mode.regions.as_ptr(),
            mode.regions.len(),
            name,
            name_of,
            |p| early_addr(p, run),
        )
    }
}

/// Page-table pages available (root included): enough for every bundled
/// layout in every mode with up to `fdt::MAX_RAM_RANGES` RAM ranges.
#[cfg(not(bare))]
const POOL_PAGES: usize = 64;

#[cfg(not(bare))]
static mut POOL: [Table; POOL_PAGES] = [Table::EMPTY; POOL_PAGES];

/// The linear map of all RAM, the image window at `run` (or inside the
/// linear map) with per-section permissions, and the test finisher's page
/// at the start of the fixmap.
#[cfg(not(bare))]
fn build_page_tables(boot: &mut Boot, mode: &layout::ModeLayout) {
    // SAFETY: the pool is ours alone, and only used here; its address is its
    // physical address (the MMU is off).
    #[allow(clippy::deref_addrof)] // `&mut POOL` is a static-mut reference
    let pool = unsafe { &mut *(&raw mut POOL) };
    let pool_pa = pool.as_ptr() as u64;
    let mut b = Builder::<Sv>::new(boot.mode.levels(), pool, pool_pa);
    let bounds = image::section_bounds();
    b.map_kernel(&KernelMap {
        ram: boot.info.ram(),
        ram_base: RAM_BASE,
        linear_offset: mode.linear_offset,
        linear_size: mode.linear_map.size,
        linear_leaf: mode.linear_map.leaf,
        image_pa: placement::load_pa(),
        image_va: boot.run,
        image_size: IMAGE_MAX_SIZE,
        image_leaf: SECTION_ALIGN,
        image_in_linear_map: mode.image_in_linear_map,
        bounds: &bounds,
        sections: &crate::SECTION_FLAGS,
    })
    .unwrap_or_else(|e| fail(e));
    // One device page at the start of the fixmap: the test finisher.
    if let Some(fixmap) = find_region(mode, b"fixmap", boot.run) {
        boot.finisher_va = b
            .map_page(fixmap.start, boot.finisher_pa, Flags::R | Flags::W)
            .unwrap_or_else(|e| fail(e));
    }
    boot.root_pa = b.root_pa();
    boot.pt_pages = b.pt_pages();
    boot.leaves = b.leaves();
}
