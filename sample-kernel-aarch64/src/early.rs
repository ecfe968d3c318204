//! Boot before paging: runs at EL1 at the physical load address with the
//! MMU off.
//!
//! Everything here is PC-relative: statics are reached with `adrp`, there
//! are no vtables (`dyn`), no `core::fmt`, no jump tables (this crate and
//! layoutgen-rt are built with `-C jump-tables=no`). The one place that must
//! follow an absolute pointer from the image (the generated region table)
//! translates it with [`early_addr`].

use crate::console::{self, fail, put_hex, puts};
use crate::layout::{
    self, CODE_MODEL, CodeModel, IMAGE_LINK_ADDRESS, IMAGE_MAX_SIZE, LOAD_ADDRESS, MODES,
    PagingMode, RAM_BASE, RAM_MAX_SIZE, Region, SECTION_ALIGN,
};
use core::sync::atomic::{AtomicU64, Ordering};
use layoutgen_rt::fdt::{self, BootInfo};
use layoutgen_rt::image;
use layoutgen_rt::kaslr::{self, SeedSource};
use layoutgen_rt::paging::aarch64::{Granule4K, MAIR};
use layoutgen_rt::paging::{Builder, Flags, KernelMap, MAX_LEVELS, Table};
use layoutgen_rt::sym;

/// How the run address was chosen.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(relocatable), allow(dead_code))]
pub enum Kaslr {
    /// The code model is fixed, or the layout has no KASLR range.
    None,
    /// `nokaslr` on the command line.
    Disabled,
    /// `kaslr=N` on the command line: slot N.
    Slot,
    /// Randomised: the seed and where it came from.
    Random { seed: u64, source: SeedSource },
}

/// Where the device tree was found.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum DtbSource {
    /// `x0` at entry pointed at one.
    X0,
    /// At the start of RAM, where QEMU puts it for an ELF `-kernel`.
    RamStart,
}

/// What the early boot found and did, for `kmain`.
pub struct Boot {
    pub info: BootInfo,
    pub dtb: u64,
    pub dtb_source: DtbSource,
    /// Exception level at entry (QEMU enters at the highest it emulates).
    pub entry_el: u64,
    pub mode: PagingMode,
    pub mode_forced: bool,
    /// ID_AA64MMFR0_EL1.PARange as bits.
    pub pa_bits: u64,
    /// Virtual address the image runs at.
    pub run: u64,
    pub kaslr: Kaslr,
    /// The KASLR slot `run` is in (when `kaslr` is not `None`).
    pub slot: u64,
    /// R_AARCH64_RELATIVE entries applied.
    pub relocations: u64,
    /// TTBR1_EL1: the kernel half.
    pub root_pa: u64,
    pub pt_pages: u64,
    pub leaves: [u64; MAX_LEVELS],
    /// TTBR0_EL1: the identity map used for the switch only.
    pub idmap_pa: u64,
    pub idmap_blocks: u64,
    pub tcr: u64,
    pub uart_pa: u64,
    /// Fixmap address of the UART (0 when the layout has no fixmap).
    pub uart_va: u64,
}

pub static mut BOOT: Boot = Boot {
    info: BootInfo::empty(),
    dtb: 0,
    dtb_source: DtbSource::RamStart,
    entry_el: 0,
    mode: PagingMode::Va39,
    mode_forced: false,
    pa_bits: 0,
    run: 0,
    kaslr: Kaslr::None,
    slot: 0,
    relocations: 0,
    root_pa: 0,
    pt_pages: 0,
    leaves: [0; MAX_LEVELS],
    idmap_pa: 0,
    idmap_blocks: 0,
    tcr: 0,
    uart_pa: 0,
    uart_va: 0,
};

/// TTBR0's identity map: a 39-bit space (T0SZ 25), so its root is Arm's
/// level 1 and holds 1 GiB blocks.
static mut IDMAP: [Table; 1] = [Table::EMPTY];
const T0SZ: u64 = 25;

/// The virtual address the image's absolute words hold: the link address,
/// then (PIE) the run address once `relocate` rewrote them.
static WORDS_AT: AtomicU64 = AtomicU64::new(IMAGE_LINK_ADDRESS);

/// A usable address, before paging, for a pointer into the image: see
/// `layoutgen_rt::image::early_addr`; its words hold [`WORDS_AT`].
fn early_addr(ptr: u64) -> u64 {
    let words_at = WORDS_AT.load(Ordering::Relaxed);
    image::early_addr(ptr, words_at, LOAD_ADDRESS, IMAGE_MAX_SIZE)
}

fn current_el() -> u64 {
    let v: u64;
    // SAFETY: reads a register.
    unsafe { core::arch::asm!("mrs {0}, CurrentEL", out(reg) v) };
    (v >> 2) & 3
}

/// Is there a flattened device tree at `pa`? Only looks inside RAM.
fn dtb_at(pa: u64) -> bool {
    if pa < RAM_BASE || pa - RAM_BASE >= RAM_MAX_SIZE || !pa.is_multiple_of(8) {
        return false;
    }
    // SAFETY: inside RAM, aligned (the MMU is off: device memory, so no
    // unaligned accesses).
    let magic = unsafe { (pa as *const u32).read_volatile() };
    u32::from_be(magic) == 0xd00d_feed
}

/// Called from `_start` at EL1 with the MMU off, BSS cleared and a stack;
/// `x0` is what the loader left there, `entry_el` the EL `_start` ran at.
#[unsafe(no_mangle)]
pub extern "C" fn early_main(x0: u64, entry_el: u64) -> ! {
    // Nothing is printed before the device tree names the UART: no device
    // address is written in this kernel (they come from the device tree
    // or the layout).
    // SAFETY: single CPU, nothing else uses BOOT before `kmain`.
    #[allow(clippy::deref_addrof)] // `&mut BOOT` is a static-mut reference
    let boot = unsafe { &mut *(&raw mut BOOT) };
    boot.entry_el = entry_el;
    // QEMU loads an ELF `-kernel` at its segments' physical addresses
    // (p_paddr), enters at e_entry translated to its segment's physical
    // address, with x0 = 0, and puts the device tree at the start of RAM
    // when the image leaves room below itself (QEMU 7.2, hw/arm/boot.c).
    // A loader that passes the device tree in x0 (as for a Linux Image)
    // is honoured too.
    (boot.dtb, boot.dtb_source) = if dtb_at(x0) {
        (x0, DtbSource::X0)
    } else {
        (RAM_BASE, DtbSource::RamStart)
    };
    // SAFETY: a device tree's address (checked for the magic by `parse`).
    if let Err(e) = unsafe { fdt::parse(boot.dtb, &mut boot.info) } {
        fail(e);
    }
    boot.uart_pa = match boot.info.uart {
        Some(uart) => uart,
        // Silent (no UART to say it on): the exit status tells.
        None => fail(b"the device tree names no arm,pl011 UART"),
    };
    console::set_uart(boot.uart_pa);
    puts(b"sample-kernel-aarch64: entered at ");
    put_hex(sym!("_start"));
    puts(b" (MMU off), dtb ");
    put_hex(boot.dtb);
    puts(if boot.dtb_source == DtbSource::X0 {
        b" (from x0)\n"
    } else {
        b" (start of RAM)\n"
    });
    match boot.info.psci {
        Some(c) => console::set_psci(c),
        None => fail(b"the device tree has no /psci method (hvc or smc)"),
    }
    if current_el() != 1 {
        fail(b"not running at EL1");
    }

    let mmfr0: u64;
    // SAFETY: reads an ID register.
    unsafe { core::arch::asm!("mrs {0}, id_aa64mmfr0_el1", out(reg) mmfr0) };
    if (mmfr0 >> 28) & 0xf == 0xf {
        fail(b"the CPU has no 4 KiB translation granule");
    }
    // PARange and TCR_EL1.IPS share one encoding; 52 bits needs LPA.
    let parange = (mmfr0 & 0xf).min(5);
    boot.pa_bits = [32, 36, 40, 42, 44, 48][parange as usize];

    choose_mode(boot);
    // Once: the conversions of the running kernel read what this records.
    let running = layout::Running::record(boot.mode).unwrap_or_else(|| fail(b"no layout for mode"));
    let mode = running.layout();
    choose_run_address(boot, mode.kaslr);
    #[cfg(relocatable)]
    running.record_image(boot.run, layout::LOAD_ADDRESS);
    #[cfg(relocatable)]
    {
        // Before anything follows an absolute word of the image for the
        // last time: from here on they hold run-time addresses.
        boot.relocations = relocate(boot.run).unwrap_or_else(|e| fail(e));
        WORDS_AT.store(boot.run, Ordering::Relaxed);
    }
    build_page_tables(boot, mode);
    build_idmap(boot);

    // Both halves: inner-shareable, write-back walks, 4 KiB granule.
    let walk = (1 << 8) | (1 << 10) | (3 << 12); // IRGN, ORGN, SH at TTBR0's offset
    boot.tcr = T0SZ
        | walk
        | (boot.mode.t1sz() << 16)
        | (walk << 16)
        | (2 << 30) // TG1 = 4 KiB
        | (parange << 32);
    // SAFETY: the tables map the image at `run`, the stack with it, and the
    // code around the switch at its physical address.
    unsafe {
        crate::enter_virtual(
            boot.root_pa,
            boot.idmap_pa,
            boot.tcr,
            boot.run.wrapping_sub(LOAD_ADDRESS),
            MAIR,
        )
    }
}

fn choose_mode(boot: &mut Boot) {
    // With the 4 KiB granule, 39- and 48-bit VAs are both base ARMv8-A: any
    // listed mode works, so the default is the largest.
    boot.mode = MODES[MODES.len() - 1];
    if let Some(v) = fdt::arg(boot.info.bootargs(), b"mode") {
        let m = if v == b"va39" {
            PagingMode::Va39
        } else if v == b"va48" {
            PagingMode::Va48
        } else {
            fail(b"bootargs: mode= must be va39 or va48")
        };
        if !MODES.contains(&m) {
            fail(b"bootargs: mode= names a mode the layout spec does not list");
        }
        boot.mode = m;
        boot.mode_forced = true;
    }
}

/// The run address: the link address for a fixed image, `nokaslr` or a
/// layout without a KASLR range; otherwise a slot of the range, from
/// `kaslr=N` (slot N), `kaslr_seed=S`, the device tree's
/// `/chosen/kaslr-seed` (QEMU 7.2's `virt` provides one), or the counter.
fn choose_run_address(boot: &mut Boot, kaslr: Option<layout::Kaslr>) {
    boot.run = IMAGE_LINK_ADDRESS;
    let Some(k) = kaslr else { return };
    if CODE_MODEL == CodeModel::Fixed || k.slots == 0 {
        return;
    }
    let link_slot = IMAGE_LINK_ADDRESS.wrapping_sub(k.start) / k.granule;
    let args = boot.info.bootargs();
    if fdt::flag(args, b"nokaslr") {
        boot.kaslr = Kaslr::Disabled;
        boot.slot = link_slot;
        return;
    }
    let slot = if let Some(v) = fdt::arg(args, b"kaslr") {
        let n = fdt::parse_u64(v).unwrap_or_else(|| fail(b"bootargs: bad kaslr="));
        if n >= k.slots {
            fail(b"bootargs: kaslr= names a slot beyond the layout's KASLR range");
        }
        boot.kaslr = Kaslr::Slot;
        n
    } else {
        let (seed, source) = kaslr::seed(args, boot.info.kaslr_seed, || {
            let t: u64;
            // SAFETY: reads the virtual counter.
            unsafe { core::arch::asm!("mrs {0}, cntvct_el0", out(reg) t) };
            t
        })
        .unwrap_or_else(|e| fail(e));
        boot.kaslr = Kaslr::Random { seed, source };
        kaslr::random_slot(seed, k.slots, link_slot)
    };
    boot.slot = slot;
    boot.run = k.start + slot * k.granule;
}

/// Applies the image's `R_AARCH64_RELATIVE` relocations for running at
/// `run`.
#[cfg(relocatable)]
fn relocate(run: u64) -> Result<u64, layoutgen_rt::Error> {
    use layoutgen_rt::reloc;
    let image = reloc::Image {
        link: IMAGE_LINK_ADDRESS,
        load: LOAD_ADDRESS,
        size: IMAGE_MAX_SIZE,
    };
    let delta = run.wrapping_sub(IMAGE_LINK_ADDRESS);
    let (start, end) = (sym!("__rela_dyn_start"), sym!("__rela_dyn_end"));
    let unsupported = b"unsupported dynamic relocation (only R_AARCH64_RELATIVE is handled)";
    // SAFETY: `.rela.dyn` lies between the two linker-script symbols,
    // 8-aligned, and the image is loaded at LOAD_ADDRESS.
    unsafe { reloc::relocate(reloc::AARCH64, start, end, image, delta, unsupported) }
}

/// The region called `name` in `mode`, read through [`early_addr`].
fn find_region(mode: &layout::ModeLayout, name: &[u8]) -> Option<Region> {
    let name_of = |r: &Region| (r.name.as_ptr(), r.name.len());
    // SAFETY: the generated region table and its names, in the loaded image.
    unsafe {
        image::find_named(
            mode.regions.as_ptr(),
            mode.regions.len(),
            name,
            name_of,
            early_addr,
        )
    }
}

/// Page-table pages available (root included): enough for every mode with
/// up to `fdt::MAX_RAM_RANGES` RAM ranges.
const POOL_PAGES: usize = 64;

static mut POOL: [Table; POOL_PAGES] = [Table::EMPTY; POOL_PAGES];

/// TTBR1: the linear map of all RAM, the image window at `run` with
/// per-section permissions, and the UART's page at the start of the fixmap.
fn build_page_tables(boot: &mut Boot, mode: &layout::ModeLayout) {
    if mode.image_in_linear_map {
        fail(b"this kernel implements an image in its own slot only");
    }
    // SAFETY: the pool is ours alone, and only used here; its address is its
    // physical address (the MMU is off).
    #[allow(clippy::deref_addrof)] // `&mut POOL` is a static-mut reference
    let pool = unsafe { &mut *(&raw mut POOL) };
    let pool_pa = pool.as_ptr() as u64;
    let mut b = Builder::<Granule4K>::new(boot.mode.levels(), pool, pool_pa);
    let bounds = image::section_bounds();
    b.map_kernel(&KernelMap {
        ram: boot.info.ram(),
        ram_base: RAM_BASE,
        linear_offset: mode.linear_offset,
        linear_size: mode.linear_map.size,
        linear_leaf: mode.linear_map.leaf,
        image_pa: LOAD_ADDRESS,
        image_va: boot.run,
        image_size: IMAGE_MAX_SIZE,
        image_leaf: SECTION_ALIGN,
        image_in_linear_map: false,
        bounds: &bounds,
        sections: &crate::SECTION_FLAGS,
    })
    .unwrap_or_else(|e| fail(e));
    // One device page at the start of the fixmap: the UART.
    if let Some(fixmap) = find_region(mode, b"fixmap") {
        let flags = Flags::R | Flags::W | Flags::DEVICE;
        boot.uart_va = b
            .map_page(fixmap.start, boot.uart_pa, flags)
            .unwrap_or_else(|e| fail(e));
    }
    boot.root_pa = b.root_pa();
    boot.pt_pages = b.pt_pages();
    boot.leaves = b.leaves();
}

/// TTBR0: 1 GiB blocks mapping the image window to itself, read-only and
/// executable, for the instructions between the MMU switch and the jump.
fn build_idmap(boot: &mut Boot) {
    let gib = layout::GIGAPAGE_SIZE;
    let start = LOAD_ADDRESS & !(gib - 1);
    let end = (LOAD_ADDRESS + IMAGE_MAX_SIZE).div_ceil(gib) * gib;
    if (end - 1) >> (64 - T0SZ) != 0 {
        fail(b"the load address is beyond the identity map's 39 bits");
    }
    // SAFETY: IDMAP is ours alone, used only here; its address is physical.
    #[allow(clippy::deref_addrof)] // `&mut IDMAP` is a static-mut reference
    let table = unsafe { &mut *(&raw mut IDMAP) };
    let table_pa = table.as_ptr() as u64;
    // Three levels from Arm's level 1: the root holds the 1 GiB blocks.
    let mut b = Builder::<Granule4K>::new(3, table, table_pa);
    b.map(start, start, end - start, gib, |_| Flags::R | Flags::X)
        .unwrap_or_else(|e| fail(e));
    boot.idmap_blocks = b.leaves()[2];
    boot.idmap_pa = b.root_pa();
}
