//! The runtime: from the boot loader's jump to a kernel's `main` at its
//! virtual address (docs/runtime.md). A kernel implements [`Kernel`] with
//! the two bridges from its generated `layout.rs`,
//! [`layout!`](crate::layout!) and [`sections!`](crate::sections!), and
//! expands [`entry!`](crate::entry!) once.
//!
//! The types here are plain values, usable on the host, and so are the
//! steps both architectures share (placement, run address, relocation);
//! the boot code is in [`riscv64`] and [`aarch64`] (each built for its
//! target only).

use crate::fdt::{self, BootInfo};
use crate::kaslr::{self, SeedSource};
use crate::paging::{Flags, MAX_LEVELS};
use crate::selftest::{self, Exit};
use crate::text::Putc;
use crate::{image, reloc};

#[cfg(target_arch = "aarch64")]
pub mod aarch64;
#[cfg(target_arch = "riscv64")]
pub mod riscv64;

/// The most paging modes a layout lists (riscv64: Sv39, Sv48, Sv57).
pub const MAX_MODES: usize = 3;
/// The most image sections [`Sections`] holds.
pub const MAX_SECTIONS: usize = 16;

/// Where a relocatable image may run: `start + i * granule`, `i < slots`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct KaslrRange {
    pub start: u64,
    pub granule: u64,
    pub slots: u64,
}

/// One paging mode of the layout, as plain numbers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ModeMap<M> {
    /// The kernel's own (generated) mode value.
    pub mode: M,
    /// Virtual-address bits (riscv64: 39, 48, 57 for Sv39/48/57; aarch64:
    /// 39, 48, `64 - T1SZ`); 0: no paging.
    pub va_bits: u32,
    pub levels: u32,
    pub linear_offset: u64,
    /// Size and largest leaf of the linear map region.
    pub linear_size: u64,
    pub linear_leaf: u64,
    pub image_in_linear_map: bool,
    pub kaslr: Option<KaslrRange>,
    /// Start of the `fixmap` region, if the mode has one.
    pub fixmap: Option<u64>,
}

/// The layout, as plain numbers: what [`layout!`](crate::layout!) takes
/// from the generated `layout.rs` at compile time. No pointers, so it is
/// safe to read before paging.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Layout<M> {
    /// M-mode firmware: no paging, no SBI (a `bare` layout).
    pub machine: bool,
    /// gp policy `relax`: gp holds `__global_pointer$`.
    pub gp_relax: bool,
    /// A relocatable code model (semi-PIC, PIE).
    pub relocatable: bool,
    pub ram_base: u64,
    /// The most RAM the layout allows (bounds where a device tree may be).
    pub ram_max_size: u64,
    pub load_address: u64,
    pub phys_align: Option<u64>,
    pub image_link: u64,
    pub image_max_size: u64,
    pub section_align: u64,
    /// The layout's modes, lowest first, `None` past the last.
    pub modes: [Option<ModeMap<M>>; MAX_MODES],
}

impl<M: Copy> Layout<M> {
    /// The first mode: the value [`Boot`] starts with.
    pub const fn first_mode(&self) -> M {
        match self.modes[0] {
            Some(m) => m.mode,
            None => panic!("a layout lists at least one mode"),
        }
    }
}

/// The image's sections as linked: start, end and flags, in link order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Sections {
    pub len: usize,
    pub start: [u64; MAX_SECTIONS],
    pub end: [u64; MAX_SECTIONS],
    pub flags: [Flags; MAX_SECTIONS],
}

impl Sections {
    pub const EMPTY: Sections = Sections {
        len: 0,
        start: [0; MAX_SECTIONS],
        end: [0; MAX_SECTIONS],
        flags: [Flags::NONE; MAX_SECTIONS],
    };

    /// Appends a section (ignored past [`MAX_SECTIONS`]; see `full`).
    pub fn push(&mut self, start: u64, end: u64, flags: Flags) {
        if self.len < MAX_SECTIONS {
            self.start[self.len] = start;
            self.end[self.len] = end;
            self.flags[self.len] = flags;
        }
        self.len += 1;
    }

    /// More sections than [`MAX_SECTIONS`] were pushed.
    pub fn overflowed(&self) -> bool {
        self.len > MAX_SECTIONS
    }

    /// Each section's start, then the last one's end: the `bounds` of
    /// [`paging::flags_at`](crate::paging::flags_at) (alignment padding
    /// counts to the section before it, past the end is read-write), for
    /// `&bounds[..=n]` with `n` = [`Sections::count`].
    pub fn bounds(&self) -> [u64; MAX_SECTIONS + 1] {
        let n = self.count();
        let mut b = [0; MAX_SECTIONS + 1];
        b[..n].copy_from_slice(&self.start[..n]);
        if n > 0 {
            b[n] = self.end[n - 1];
        }
        b
    }

    /// Sections held (at most [`MAX_SECTIONS`]).
    pub fn count(&self) -> usize {
        self.len.min(MAX_SECTIONS)
    }
}

/// How the run address was chosen.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kaslr {
    /// The layout has no KASLR range (or the code model is fixed).
    None,
    /// `nokaslr` on the command line.
    Disabled,
    /// `kaslr=N` on the command line: slot N of the range.
    Slot { slot: u64 },
    /// Randomised: seed, where it came from, slot index.
    Random {
        seed: u64,
        source: SeedSource,
        slot: u64,
    },
    /// The image runs where the linear map maps its physical address, which
    /// the boot loader chose (`image.phys_align` inside the linear map).
    Physical,
}

/// What the early boot found and did; `main` gets it. (M-mode firmware
/// leaves the paging fields at zero.)
pub struct Boot<M> {
    pub info: BootInfo,
    pub hartid: u64,
    pub dtb: u64,
    pub mode: M,
    /// `mode=` on the command line chose it.
    pub mode_forced: bool,
    /// riscv64: modes the hart accepted in `satp`: sv39, sv48, sv57.
    pub accepted: [bool; 3],
    /// Physical address of the image's first byte.
    pub load: u64,
    /// Virtual address the image runs at.
    pub run: u64,
    pub kaslr: Kaslr,
    /// `*_RELATIVE` relocations applied, and what applying them cost
    /// (riscv64: retired instructions).
    pub relocations: u64,
    pub relocation_cost: u64,
    pub root_pa: u64,
    pub pt_pages: u64,
    pub leaves: [u64; MAX_LEVELS],
    /// The exit device (the device tree's test finisher): physical, and
    /// where the fixmap maps it (equal when there is no fixmap).
    pub finisher_pa: u64,
    pub finisher_va: u64,
    /// riscv64: a2 at entry. From QEMU's reset vector (M-mode firmware)
    /// it is the address of its `fw_dynamic_info`, OpenSBI's description
    /// of the next stage ([`riscv64::next_stage`]).
    pub loader_arg: u64,
    /// What only the aarch64 boot records (zero on riscv64).
    pub aarch64: Aarch64,
}

/// The aarch64 side of [`Boot`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Aarch64 {
    /// The exception level the loader entered at (2 or 1).
    pub entry_el: u64,
    /// The device tree came in `x0` (else: found at the start of RAM,
    /// where QEMU puts it for an ELF `-kernel`).
    pub dtb_from_x0: bool,
    /// `ID_AA64MMFR0_EL1.PARange` as bits.
    pub pa_bits: u64,
    pub tcr: u64,
    /// TTBR0_EL1's identity map, used for the switch only, and its 1 GiB
    /// blocks.
    pub idmap_pa: u64,
    pub idmap_blocks: u64,
    /// The device tree's PL011: physical, and where the fixmap maps it
    /// (equal when the layout has no fixmap).
    pub uart_pa: u64,
    pub uart_va: u64,
}

impl Aarch64 {
    pub const ZERO: Aarch64 = Aarch64 {
        entry_el: 0,
        dtb_from_x0: false,
        pa_bits: 0,
        tcr: 0,
        idmap_pa: 0,
        idmap_blocks: 0,
        uart_pa: 0,
        uart_va: 0,
    };
}

impl<M: Copy> Boot<M> {
    pub const fn new(mode: M) -> Self {
        Boot {
            info: BootInfo::empty(),
            hartid: 0,
            dtb: 0,
            mode,
            mode_forced: false,
            accepted: [false; 3],
            load: 0,
            run: 0,
            kaslr: Kaslr::None,
            relocations: 0,
            relocation_cost: 0,
            root_pa: 0,
            pt_pages: 0,
            leaves: [0; MAX_LEVELS],
            finisher_pa: 0,
            finisher_va: 0,
            loader_arg: 0,
            aarch64: Aarch64::ZERO,
        }
    }
}

/// Registers at a trap, `epc` the address it returns to, which the
/// handler may change. riscv64: `x[2]` is the interrupted `sp`, `epc` is
/// `sepc` (`mepc` in M-mode), `vector` 0. aarch64: `x[0..31]` are x0-x30,
/// `x[31]` the interrupted `sp`, `epc` is `ELR_EL1`, `vector` the entry of
/// the vector table taken (0-15; 4: synchronous, current EL with SP_EL1).
#[repr(C)]
pub struct TrapFrame {
    pub x: [u64; 32],
    pub epc: u64,
    pub vector: u64,
}

/// A kernel on this runtime: its console, its layout, its `main` and
/// hooks. [`entry!`](crate::entry!) wires it to the boot loader.
pub trait Kernel: 'static {
    /// Output before and after paging, and the way out.
    type Console: Putc + Exit;
    /// The name the first line printed starts with (`NAME: entered at`).
    const NAME: &'static [u8] = b"layoutgen-rt";
    /// The generated `layout::PagingMode`.
    type Mode: Copy + 'static;
    /// `layoutgen_rt::layout!(layout)`.
    const LAYOUT: Layout<Self::Mode>;
    /// `layoutgen_rt::sections!(layout)`.
    fn sections() -> Sections;
    /// The kernel: at its virtual address with paging on (M-mode firmware:
    /// where it was loaded), BSS cleared, `core::fmt` usable.
    fn main(boot: &'static Boot<Self::Mode>) -> !;
    /// A trap (interrupts are off): by default print it and exit with
    /// status 2. `cause` and `tval` are `scause`/`stval` (M-mode: `m...`;
    /// aarch64: `ESR_EL1`/`FAR_EL1`).
    fn trap(frame: &mut TrapFrame, cause: u64, tval: u64) {
        use crate::text::{put_hex, puts};
        puts::<Self::Console>(b"\nunexpected trap: cause=");
        put_hex::<Self::Console>(cause);
        puts::<Self::Console>(b" epc=");
        put_hex::<Self::Console>(frame.epc);
        puts::<Self::Console>(b" tval=");
        put_hex::<Self::Console>(tval);
        puts::<Self::Console>(b"\nRESULT: FAIL unexpected trap\n");
        <Self::Console as Exit>::exit(2)
    }
    /// The exit device (physical) when the device tree names none: 0, none
    /// (QEMU `virt`'s test finisher is 0x10_0000).
    const EXIT_DEVICE: u64 = 0;
    /// Where the exit device is now (physical: first [`Self::EXIT_DEVICE`],
    /// then the device tree's). Before paging, MMU off; `main` finds the
    /// address to use from then on in [`Boot::finisher_va`].
    fn exit_device(_pa: u64) {}
    /// The device tree is read (before paging, MMU off, nothing printed
    /// yet on aarch64): take what the console and the exit need from it
    /// (aarch64: `info.uart`, the PL011 the runtime maps in the fixmap,
    /// and `info.psci`).
    fn devices(_info: &BootInfo) {}
    /// The mode and run address are chosen (before relocation and paging):
    /// record them for the generated conversions (`layout::Running`).
    fn record(_boot: &Boot<Self::Mode>) {}
    /// `(start, end)` of `.rela.dyn`; `(0, 0)` (the default) when the image
    /// has none. A relocatable kernel returns
    /// `(sym!("__rela_dyn_start"), sym!("__rela_dyn_end"))`.
    fn rela_dyn() -> (u64, u64) {
        (0, 0)
    }
}

/// The [`Layout`] of a generated `layout.rs` module, as a `const`
/// expression: `layout!(layout)`, or `layout!(machine layout)` for M-mode
/// firmware (a `bare` layout, whose mode has no linear map).
#[macro_export]
macro_rules! layout {
    (machine $($l:ident)::+) => {{
        const L: $crate::rt::Layout<$($l)::+::PagingMode> = {
            let mut modes = [None; $crate::rt::MAX_MODES];
            modes[0] = Some($crate::rt::ModeMap {
                mode: $($l)::+::MODES[0],
                va_bits: 0,
                levels: 0,
                linear_offset: 0,
                linear_size: 0,
                linear_leaf: 0,
                image_in_linear_map: false,
                kaslr: None,
                fixmap: None,
            });
            $crate::layout!(@image $($l)::+, true, modes)
        };
        L
    }};
    (@image $($l:ident)::+, $machine:expr, $modes:expr) => {
        $crate::rt::Layout {
            machine: $machine,
            gp_relax: matches!($($l)::+::GP_POLICY, $($l)::+::GpPolicy::Relax),
            relocatable: !matches!($($l)::+::CODE_MODEL, $($l)::+::CodeModel::Fixed),
            ram_base: $($l)::+::RAM_BASE,
            ram_max_size: $($l)::+::RAM_MAX_SIZE,
            load_address: $($l)::+::LOAD_ADDRESS,
            phys_align: $($l)::+::PHYS_ALIGN,
            image_link: $($l)::+::IMAGE_LINK_ADDRESS,
            image_max_size: $($l)::+::IMAGE_MAX_SIZE,
            section_align: $($l)::+::SECTION_ALIGN,
            modes: $modes,
        }
    };
    ($($l:ident)::+) => {{
        const L: $crate::rt::Layout<$($l)::+::PagingMode> = {
            let mut modes = [None; $crate::rt::MAX_MODES];
            let mut i = 0;
            while i < $($l)::+::MODES.len() && i < $crate::rt::MAX_MODES {
                let mode = $($l)::+::MODES[i];
                let ml = match $($l)::+::layout_for(mode) {
                    Some(ml) => ml,
                    None => panic!("layout_for(a listed mode) is None"),
                };
                modes[i] = Some($crate::rt::ModeMap {
                    mode,
                    va_bits: mode.va_bits(),
                    levels: mode.levels(),
                    linear_offset: ml.linear_offset,
                    linear_size: ml.linear_map.size,
                    linear_leaf: ml.linear_map.leaf,
                    image_in_linear_map: ml.image_in_linear_map,
                    kaslr: match ml.kaslr {
                        Some(k) => Some($crate::rt::KaslrRange {
                            start: k.start,
                            granule: k.granule,
                            slots: k.slots,
                        }),
                        None => None,
                    },
                    fixmap: match ml.region("fixmap") {
                        Some(r) => Some(r.start),
                        None => None,
                    },
                });
                i += 1;
            }
            $crate::layout!(@image $($l)::+, false, modes)
        };
        L
    }};
}

/// The image's [`Sections`] from a generated `layout.rs` module's
/// `linked_sections()`: every section of the spec, with its permissions,
/// at the addresses it runs at now (physical before paging).
#[macro_export]
macro_rules! sections {
    ($($l:ident)::+) => {{
        let mut s = $crate::rt::Sections::EMPTY;
        for ls in $($l)::+::linked_sections() {
            let p = ls.section.perms;
            s.push(ls.start, ls.end, $crate::paging::Flags::rwx(p.read, p.write, p.execute));
        }
        s
    }};
}

/// The entry from the boot loader: riscv64 and aarch64 only (see
/// [`riscv64`]'s and [`aarch64`]'s `entry!`).
#[cfg(not(any(target_arch = "riscv64", target_arch = "aarch64")))]
#[macro_export]
macro_rules! entry {
    ($($t:tt)*) => {
        compile_error!("layoutgen_rt::entry! supports riscv64 and aarch64 only");
    };
}

/// At the virtual address (`entry!`'s `enter_virtual` calls it, on both
/// architectures): the kernel's `main`.
///
/// # Safety
/// Only from `entry!`'s assembly, with `boot` the early boot's record.
pub unsafe extern "C" fn main<K: Kernel>(boot: *const Boot<K::Mode>) -> ! {
    // SAFETY: written by `early` only, read-only from here on.
    K::main(unsafe { &*boot })
}

// --- the steps both architectures share (before paging) -----------------

/// `RESULT: FAIL msg` on the kernel's console, status 1.
pub(crate) fn fail<K: Kernel>(msg: &[u8]) -> ! {
    selftest::fail::<K::Console>(msg)
}

/// The load address against the layout's placement rule and RAM.
#[cfg_attr(
    not(any(target_arch = "riscv64", target_arch = "aarch64")),
    allow(dead_code)
)]
pub(crate) fn check_placement<K: Kernel>(l: &Layout<K::Mode>, pa: u64, ram: &[(u64, u64)]) {
    match l.phys_align {
        None if pa != l.load_address => {
            fail::<K>(b"loaded away from ram.load, and the layout has no image.phys_align")
        }
        Some(a) if !pa.is_multiple_of(a) => {
            fail::<K>(b"loaded at an address that is not a multiple of image.phys_align")
        }
        Some(_) if !ram.iter().any(|&(s, n)| pa >= s && pa - s < n) => {
            fail::<K>(b"loaded outside RAM")
        }
        _ => {}
    }
}

/// Where the image runs in mode `m`, recorded in `boot` and told to
/// [`Kernel::record`]: the link address, or a slot of the mode's KASLR
/// range ([`choose_slot`]); a relocatable image with `image.phys_align`
/// inside the linear map runs where the linear map maps its physical
/// address ([`Kaslr::Physical`]).
#[cfg_attr(
    not(any(target_arch = "riscv64", target_arch = "aarch64")),
    allow(dead_code)
)]
pub(crate) fn place_image<K: Kernel>(
    boot: &mut Boot<K::Mode>,
    m: &ModeMap<K::Mode>,
    timer: impl FnOnce() -> u64,
) {
    let l = &K::LAYOUT;
    boot.run = l.image_link;
    if let Some(k) = m.kaslr
        && l.relocatable
        && k.slots != 0
    {
        choose_slot::<K>(boot, k, timer);
    }
    if l.phys_align.is_some() && m.image_in_linear_map && l.relocatable {
        boot.run = boot.load.wrapping_add(m.linear_offset);
        boot.kaslr = Kaslr::Physical;
    }
    K::record(boot);
}

/// A slot of the KASLR range `k` for the run address, from `kaslr=N`
/// (slot N) or a seed (`kaslr_seed=`, the device tree, `timer()`), unless
/// `nokaslr` (the run address stays).
fn choose_slot<K: Kernel>(boot: &mut Boot<K::Mode>, k: KaslrRange, timer: impl FnOnce() -> u64) {
    let args = boot.info.bootargs();
    if fdt::flag(args, b"nokaslr") {
        boot.kaslr = Kaslr::Disabled;
        return;
    }
    let slot = if let Some(v) = fdt::arg(args, b"kaslr") {
        let Some(slot) = fdt::parse_u64(v) else {
            fail::<K>(b"bootargs: bad kaslr=")
        };
        if slot >= k.slots {
            fail::<K>(b"bootargs: kaslr= names a slot beyond the layout's KASLR range");
        }
        boot.kaslr = Kaslr::Slot { slot };
        slot
    } else {
        let (seed, source) =
            kaslr::seed(args, boot.info.kaslr_seed, timer).unwrap_or_else(|e| fail::<K>(e));
        let link_slot = K::LAYOUT.image_link.wrapping_sub(k.start) / k.granule;
        let slot = kaslr::random_slot(seed, k.slots, link_slot);
        boot.kaslr = Kaslr::Random { seed, source, slot };
        slot
    };
    boot.run = k.start + slot * k.granule;
}

/// Applies `.rela.dyn`'s `*_RELATIVE` relocations (`arch`'s) for running
/// at `run`; the count.
#[cfg_attr(
    not(any(target_arch = "riscv64", target_arch = "aarch64")),
    allow(dead_code)
)]
pub(crate) fn relocate<K: Kernel>(
    arch: reloc::Arch,
    unsupported: &'static [u8],
    load: u64,
    run: u64,
) -> u64 {
    let l = &K::LAYOUT;
    let (start, end) = K::rela_dyn();
    if start == 0 && end == 0 {
        fail::<K>(b"a relocatable layout, but Kernel::rela_dyn gives no .rela.dyn")
    }
    let image = reloc::Image {
        link: l.image_link,
        load,
        size: l.image_max_size,
    };
    let delta = run.wrapping_sub(l.image_link);
    // SAFETY: `.rela.dyn` lies between the kernel's two symbols, and the
    // image is loaded at `load`.
    unsafe { reloc::relocate(arch, start, end, image, delta, unsupported) }
        .unwrap_or_else(|e| fail::<K>(e))
}

/// The kernel's [`Sections`], physical. `linked_sections()` takes them as
/// the kernel's code model does: PC-relatively (physical already), or
/// through the GOT with `-C relocation-model=pie`/`pic`, whose words hold
/// run-time virtual addresses once the image is relocated.
#[cfg_attr(
    not(any(target_arch = "riscv64", target_arch = "aarch64")),
    allow(dead_code)
)]
pub(crate) fn physical_sections<K: Kernel>(run: u64, load: u64) -> Sections {
    let mut s = K::sections();
    if s.overflowed() {
        fail::<K>(b"more image sections than layoutgen_rt::rt::MAX_SECTIONS");
    }
    let at = |a: u64| image::early_addr(a, run, load, K::LAYOUT.image_max_size);
    let mut i = 0;
    while i < s.count() {
        let start = s.start[i];
        // The end may be the window's end: convert its last byte.
        s.end[i] = if s.end[i] > start {
            at(s.end[i] - 1) + 1
        } else {
            at(start)
        };
        s.start[i] = at(start);
        i += 1;
    }
    s
}

/// Builds the kernel's tables in `pool`, whose address is its physical
/// address (the MMU is off), the same way on both architectures: the
/// linear map of all RAM, the image window at `boot.run` (or inside the
/// linear map) with each section's flags, and the device page `device_pa`
/// (none if 0) with `device_flags` at the start of the fixmap. Records the
/// tree in `boot` (`root_pa`, `pt_pages`, `leaves`); where the device page
/// is mapped, `None` when the mode has no fixmap or there is no device.
#[cfg_attr(
    not(any(target_arch = "riscv64", target_arch = "aarch64")),
    allow(dead_code)
)]
pub(crate) fn build_page_tables<K: Kernel, E: crate::paging::Encoding>(
    boot: &mut Boot<K::Mode>,
    m: &ModeMap<K::Mode>,
    pool: &mut [crate::paging::Table],
    device_pa: u64,
    device_flags: Flags,
) -> Option<u64> {
    let l = &K::LAYOUT;
    let mut sections = physical_sections::<K>(boot.run, boot.load);
    let n = sections.count();
    // Wrong on purpose, only on request: `pt-text-writable` maps the code
    // writable too (the negative cases of `layoutgen lint --page-tables`).
    let args = boot.info.bootargs();
    if fdt::flag(args, b"pt-text-writable") {
        for f in &mut sections.flags[..n] {
            if f.contains(Flags::X) {
                *f = *f | Flags::W;
            }
        }
    }
    let bounds = sections.bounds();
    let pool_pa = pool.as_ptr() as u64;
    let mut b = crate::paging::Builder::<E>::new(m.levels, pool, pool_pa);
    b.map_kernel(&crate::paging::KernelMap {
        ram: boot.info.ram(),
        ram_base: l.ram_base,
        linear_offset: m.linear_offset,
        linear_size: m.linear_size,
        linear_leaf: m.linear_leaf,
        image_pa: boot.load,
        image_va: boot.run,
        image_size: l.image_max_size,
        image_leaf: l.section_align,
        image_in_linear_map: m.image_in_linear_map,
        bounds: &bounds[..=n],
        sections: &sections.flags[..n],
    })
    .unwrap_or_else(|e| fail::<K>(e));
    let mut device_va = None;
    if let Some(fixmap) = m.fixmap
        && device_pa != 0
    {
        let va = b
            .map_page(fixmap, device_pa, device_flags)
            .unwrap_or_else(|e| fail::<K>(e));
        device_va = Some(va);
    }
    // `pt-map=VA`: one more page, the image's first, read-write at VA (a
    // hole, the user half: what lint must catch).
    if let Some(v) = fdt::arg(args, b"pt-map") {
        let Some(va) = fdt::parse_u64(v) else {
            fail::<K>(b"bootargs: bad pt-map=")
        };
        b.map_page(va, boot.load, Flags::R | Flags::W)
            .unwrap_or_else(|e| fail::<K>(e));
    }
    // `pt-block=VA`: one read-write 2 MiB block at VA (a leaf larger than
    // a region may promise), over the image's first 2 MiB.
    if let Some(v) = fdt::arg(args, b"pt-block") {
        const BLOCK: u64 = 2 << 20;
        let Some(va) = fdt::parse_u64(v).filter(|va| va % BLOCK == 0) else {
            fail::<K>(b"bootargs: pt-block= needs a 2 MiB-aligned address")
        };
        b.map(va, boot.load & !(BLOCK - 1), BLOCK, BLOCK, |_| {
            Flags::R | Flags::W
        })
        .unwrap_or_else(|e| fail::<K>(e));
    }
    boot.root_pa = b.root_pa();
    boot.pt_pages = b.pt_pages();
    boot.leaves = b.leaves();
    device_va
}

#[cfg(test)]
mod tests {
    use super::*;

    const RX: Flags = Flags::R.union(Flags::X);
    const RW: Flags = Flags::R.union(Flags::W);

    #[test]
    fn flags_by_section_with_padding() {
        let mut s = Sections::EMPTY;
        s.push(0x1000, 0x2800, RX);
        s.push(0x3000, 0x3000, Flags::R); // empty: owns nothing
        s.push(0x3000, 0x4100, RW);
        let n = s.count();
        let b = s.bounds();
        let at = |a| crate::paging::flags_at(&b[..=n], &s.flags[..n], a);
        assert_eq!(
            [0x1000, 0x2900, 0x2fff, 0x3000, 0x40ff, 0x4100, 0xfff].map(at),
            [RX, RX, RX, RW, RW, RW, RW]
        );
    }

    /// The sample kernel's committed `layout.rs`, as a kernel includes it.
    #[allow(dead_code, clippy::all)]
    mod sv39 {
        include!("../../../sample-kernel/layout/layout.rs");
    }

    #[test]
    fn layout_from_the_generated_file() {
        const L: Layout<sv39::PagingMode> = crate::layout!(sv39);
        const { assert!(!L.machine && L.gp_relax && !L.relocatable) };
        assert_eq!(L.first_mode(), sv39::PagingMode::Sv39);
        assert_eq!(
            (L.load_address, L.image_link, L.section_align),
            (0x8020_0000, 0xffff_ffff_8020_0000, 0x20_0000)
        );
        let m = L.modes[0].expect("sv39");
        assert_eq!((m.va_bits, m.levels), (39, 3));
        assert_eq!(m.linear_offset, sv39::sv39::LINEAR_OFFSET);
        assert_eq!(m.linear_leaf, sv39::sv39::LINEAR_MAP.leaf);
        assert_eq!(m.fixmap, Some(sv39::sv39::FIXMAP.start));
        assert_eq!(m.kaslr, None);
        assert_eq!(L.modes[1], None);
    }

    #[test]
    fn selftest_view_and_summary_from_the_generated_file() {
        let mut boot = Boot::new(sv39::PagingMode::Sv39);
        (boot.run, boot.load) = (sv39::IMAGE_LINK_ADDRESS, sv39::LOAD_ADDRESS);
        let ml = sv39::layout_for(boot.mode).expect("sv39");
        let bounds = [sv39::IMAGE_LINK_ADDRESS; 5];
        let v = crate::selftest_view!(sv39, ml, &boot, &bounds, &[]);
        assert_eq!(
            (v.link, v.image_offset, v.linear_offset, v.linear_start),
            (
                sv39::IMAGE_LINK_ADDRESS,
                sv39::IMAGE_OFFSET,
                ml.linear_offset,
                ml.linear_map.start
            )
        );
        assert_eq!(v.image_pa(v.run + 8), sv39::LOAD_ADDRESS + 8);
        let summary = crate::selftest_summary!(sv39, ml, &boot).to_string();
        assert!(
            summary.starts_with("layout: spec=qemu-virt-sv39 mode=sv39 page_offset=0x"),
            "{summary}"
        );
    }

    /// The aarch64 sample kernel's committed `layout.rs`.
    #[allow(dead_code, clippy::all)]
    mod va {
        include!("../../../sample-kernel-aarch64/layout/layout.rs");
    }

    #[test]
    fn aarch64_layout_from_the_generated_file() {
        const L: Layout<va::PagingMode> = crate::layout!(va);
        const { assert!(!L.machine && !L.gp_relax && !L.relocatable) };
        assert_eq!(L.first_mode(), va::PagingMode::Va39);
        assert_eq!(
            (L.ram_base, L.ram_max_size),
            (va::RAM_BASE, va::RAM_MAX_SIZE)
        );
        let [Some(m39), Some(m48), None] = L.modes else {
            panic!("va39 and va48: {:?}", L.modes)
        };
        assert_eq!((m39.va_bits, m39.levels), (39, 3));
        assert_eq!((m48.va_bits, m48.levels), (48, 4));
        // T1SZ, as the runtime computes it, is the generated one.
        assert_eq!(64 - m48.va_bits as u64, va::PagingMode::Va48.t1sz());
        assert_eq!(m48.linear_offset, va::va48::LINEAR_OFFSET);
        assert_eq!(m48.fixmap, Some(va::va48::FIXMAP.start));
    }

    #[test]
    fn overflow_is_reported() {
        let mut s = Sections::EMPTY;
        for i in 0..=MAX_SECTIONS as u64 {
            s.push(i, i + 1, RX);
        }
        assert!(s.overflowed());
    }
}
