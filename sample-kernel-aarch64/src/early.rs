//! Boot before paging: runs at EL1 at the physical load address with the
//! MMU off.
//!
//! Everything here is PC-relative: statics are reached with `adrp`, there
//! are no vtables (`dyn`), no `core::fmt`, no jump tables. The one place that
//! must follow an absolute pointer from the image (the generated region
//! table) translates it with [`early_addr`].

use crate::console::{self, put_hex, puts};
use crate::fdt::{self, BootInfo};
use crate::layout::{
    self, CODE_MODEL, CodeModel, IMAGE_LINK_ADDRESS, IMAGE_MAX_SIZE, LOAD_ADDRESS, MODES,
    PAGE_SIZE, PagingMode, RAM_BASE, RAM_MAX_SIZE, Region, SECTION_ALIGN, SECTIONS,
};
use crate::paging::{self, Builder, DEVICE, R, Table, W, X};
use crate::sym;
use core::sync::atomic::{AtomicU64, Ordering};

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

#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(relocatable), allow(dead_code))]
pub enum SeedSource {
    Bootargs,
    DeviceTree,
    Timer,
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
    pub leaves: [u64; 3],
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
    leaves: [0; 3],
    idmap_pa: 0,
    idmap_blocks: 0,
    tcr: 0,
    uart_pa: 0,
    uart_va: 0,
};

/// TTBR0's identity map: a 39-bit space (T0SZ 25), so its root is Arm's
/// level 1 and holds 1 GiB blocks.
static mut IDMAP: Table = Table([0; 512]);
const T0SZ: u64 = 25;

/// The virtual address the image's absolute words hold: the link address,
/// then (PIE) the run address once `reloc::relocate` rewrote them.
static WORDS_AT: AtomicU64 = AtomicU64::new(IMAGE_LINK_ADDRESS);

/// A usable address, before paging, for a pointer into the image. A pointer
/// loaded from the image's data holds a virtual address ([`WORDS_AT`]); one
/// the compiler materialised itself (`adrp`) is already physical. Which one
/// a given pointer is depends on the optimiser, so look at the value.
fn early_addr(ptr: u64) -> u64 {
    let base = WORDS_AT.load(Ordering::Relaxed);
    if ptr.wrapping_sub(base) < IMAGE_MAX_SIZE {
        ptr.wrapping_sub(base).wrapping_add(LOAD_ADDRESS)
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
    let mode = layout::layout_for(boot.mode).unwrap_or_else(|| fail(b"no layout for mode"));
    choose_run_address(boot, mode.kaslr);
    #[cfg(relocatable)]
    {
        // Before anything follows an absolute word of the image for the
        // last time: from here on they hold run-time addresses.
        boot.relocations = crate::reloc::relocate(boot.run).unwrap_or_else(|e| fail(e));
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
            paging::MAIR,
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

/// SplitMix64's finaliser: spreads a seed over all bits.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
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
        let (seed, source) = if let Some(v) = fdt::arg(args, b"kaslr_seed") {
            let seed = fdt::parse_u64(v).unwrap_or_else(|| fail(b"bootargs: bad kaslr_seed="));
            (seed, SeedSource::Bootargs)
        } else if let Some(seed) = boot.info.kaslr_seed {
            (seed, SeedSource::DeviceTree)
        } else {
            let t: u64;
            // SAFETY: reads the virtual counter.
            unsafe { core::arch::asm!("mrs {0}, cntvct_el0", out(reg) t) };
            (t, SeedSource::Timer)
        };
        boot.kaslr = Kaslr::Random { seed, source };
        let mut slot = mix(seed) % k.slots;
        // Never the link address at random: it would hide a missing
        // relocation.
        if slot == link_slot && k.slots > 1 {
            slot = (slot + 1) % k.slots;
        }
        slot
    };
    boot.slot = slot;
    boot.run = k.start + slot * k.granule;
}

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

/// Permissions inside the image window: each section's, and R+W for the
/// rest of the window (free memory after the image).
pub fn image_flags(bounds: &[u64; 5], pa: u64) -> u64 {
    let mut i = 0;
    while i < SECTIONS.len() {
        if pa >= bounds[i] && pa < bounds[i + 1] {
            let p = SECTIONS[i].perms;
            return if p.read { R } else { 0 }
                | if p.write { W } else { 0 }
                | if p.execute { X } else { 0 };
        }
        i += 1;
    }
    R | W
}

/// The region called `name` in `mode`, read through [`early_addr`].
fn find_region(mode: &layout::ModeLayout, name: &[u8]) -> Option<Region> {
    let base = early_addr(mode.regions.as_ptr() as u64) as *const Region;
    let mut i = 0;
    while i < mode.regions.len() {
        // SAFETY: the generated region table, at its load address.
        let r = unsafe { base.add(i).read() };
        let n = early_addr(r.name.as_ptr() as u64) as *const u8;
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

/// TTBR1: the linear map of all RAM, the image window at `run` with
/// per-section permissions, and the UART's page at the start of the fixmap.
fn build_page_tables(boot: &mut Boot, mode: &layout::ModeLayout) {
    // SAFETY: the pool is in BSS (zeroed) and only used here.
    let mut b = unsafe { Builder::new(boot.mode.levels()) };
    let linear = mode.linear_map;
    let lin_leaf = b.largest_leaf_within(linear.leaf);
    let win_leaf = b.largest_leaf_within(SECTION_ALIGN);
    let bounds = section_bounds();
    let off = mode.linear_offset;
    let run = boot.run;
    let win_flags = |va: u64| image_flags(&bounds, va.wrapping_sub(run).wrapping_add(LOAD_ADDRESS));
    let ok = |r: Result<(), &'static [u8]>| r.unwrap_or_else(|e| fail(e));
    if mode.image_in_linear_map {
        fail(b"this kernel implements an image in its own slot only");
    }

    // The linear map of every RAM range, clipped to the linear map region.
    let linear_end = RAM_BASE.saturating_add(linear.size);
    for &(start, size) in &boot.info.ram[..boot.info.ram_count] {
        let end = start.saturating_add(size).min(linear_end);
        if start < RAM_BASE || start >= end {
            continue;
        }
        ok(b.map(
            start.wrapping_add(off),
            start,
            end - start,
            lin_leaf,
            |_| R | W,
        ));
    }
    ok(b.map(run, LOAD_ADDRESS, IMAGE_MAX_SIZE, win_leaf, win_flags));
    // One device page at the start of the fixmap: the UART.
    if let Some(fixmap) = find_region(mode, b"fixmap") {
        let page = boot.uart_pa & !(PAGE_SIZE - 1);
        ok(b.map(fixmap.start, page, PAGE_SIZE, PAGE_SIZE, |_| R | W | DEVICE));
        boot.uart_va = fixmap.start + (boot.uart_pa - page);
    }
    boot.root_pa = b.root_pa();
    boot.pt_pages = b.pt_pages();
    boot.leaves = b.leaves;
}

/// TTBR0: 1 GiB blocks mapping the image window to itself, read-only and
/// executable, for the instructions between the MMU switch and the jump.
fn build_idmap(boot: &mut Boot) {
    let t = (&raw mut IDMAP).cast::<u64>();
    let gib = layout::GIGAPAGE_SIZE;
    let mut pa = LOAD_ADDRESS & !(gib - 1);
    while pa < LOAD_ADDRESS + IMAGE_MAX_SIZE {
        if pa >> (64 - T0SZ) != 0 {
            fail(b"the load address is beyond the identity map's 39 bits");
        }
        // SAFETY: IDMAP is ours; the index is below 512.
        unsafe {
            t.add((pa >> 30) as usize & 511)
                .write(pa | paging::leaf_attrs(R | X))
        };
        boot.idmap_blocks += 1;
        pa += gib;
    }
    boot.idmap_pa = t as u64;
}
