//! The aarch64 boot path: [`entry!`](crate::entry!)'s assembly drops from
//! EL2 to EL1 if it has to and calls [`early`] with the MMU off; it reads
//! the device tree, decides the VA size and the run address, builds the
//! TTBR1 tables and the TTBR0 identity map the switch needs; the assembly
//! turns the MMU on, jumps to the virtual address and switches TTBR0 off;
//! then [`main`] calls the kernel's. docs/runtime.md has the whole path.
//!
//! Everything in [`early`] runs at the physical load address: the rules of
//! the crate's "Before paging" section hold (no `core::fmt`, no `dyn`, no
//! pointers read from the image's data; [`Layout`](super::Layout) is plain
//! numbers).

use super::{Boot, Kernel, ModeMap, TrapFrame, check_placement, fail, place_image};
use crate::fdt;
use crate::paging::aarch64::{Granule4K, MAIR};
use crate::paging::{Builder, Flags, Table};
use crate::reloc;
use crate::sym;
use crate::text::{put_hex, puts};

/// Page-table pages of TTBR1 (root included): enough for every bundled
/// layout in every mode with up to `fdt::MAX_RAM_RANGES` RAM ranges.
pub const POOL_PAGES: usize = 64;

/// TTBR0's identity map: a 39-bit space (`TCR_EL1.T0SZ` 25), whose root
/// is Arm's level 1 and holds 1 GiB blocks.
pub const T0SZ: u64 = 25;
const GIB: u64 = 1 << 30;

static mut POOL: [Table; POOL_PAGES] = [Table::EMPTY; POOL_PAGES];
static mut IDMAP: [Table; 1] = [Table::EMPTY];

/// The pools' addresses, from this crate's own (not inlined) functions:
/// PC-relative whatever the kernel's relocation model (see riscv64's
/// `pool`).
#[inline(never)]
fn pool() -> *mut [Table; POOL_PAGES] {
    &raw mut POOL
}

#[inline(never)]
fn idmap() -> *mut [Table; 1] {
    &raw mut IDMAP
}

unsafe extern "C" {
    /// `entry!`'s: MAIR/TCR/TTBR0/TTBR1, MMU on, the jump to `va - pa`
    /// above, TTBR0 off, then `main`.
    fn __layoutgen_rt_enter_virtual(
        ttbr1: u64,
        ttbr0: u64,
        tcr: u64,
        va_minus_pa: u64,
        mair: u64,
        boot: u64,
    ) -> !;
}

fn current_el() -> u64 {
    let v: u64;
    // SAFETY: reads a register.
    unsafe { core::arch::asm!("mrs {0}, CurrentEL", out(reg) v, options(nomem, nostack)) };
    (v >> 2) & 3
}

/// Is there a flattened device tree at `pa`? Only looks inside the RAM
/// the layout allows.
fn dtb_at(ram_base: u64, ram_max_size: u64, pa: u64) -> bool {
    if pa < ram_base || pa - ram_base >= ram_max_size || !pa.is_multiple_of(8) {
        return false;
    }
    // SAFETY: inside RAM, aligned (the MMU is off: device memory, so no
    // unaligned accesses).
    let magic = unsafe { (pa as *const u32).read_volatile() };
    u32::from_be(magic) == 0xd00d_feed
}

/// Called by `_start` at EL1 with the MMU off, BSS cleared and a stack:
/// x0 = what the loader left in x0, x1 = the EL `_start` was entered at,
/// x2 = the kernel's `Boot` (`entry!`'s static).
///
/// # Safety
/// Only from `entry!`'s `_start`, once.
pub unsafe extern "C" fn early<K: Kernel>(x0: u64, entry_el: u64, boot: *mut Boot<K::Mode>) -> ! {
    // SAFETY: `entry!`'s static, ours alone until `main`.
    let boot = unsafe { &mut *boot };
    let l = &K::LAYOUT;
    boot.aarch64.entry_el = entry_el;
    boot.load = sym!("_start");
    // QEMU loads an ELF `-kernel` at its segments' physical addresses
    // (p_paddr), enters at e_entry's physical address with x0 = 0, and puts
    // the device tree at the start of RAM (QEMU 7.2, hw/arm/boot.c). A
    // loader that passes the device tree in x0 (as for a Linux Image) is
    // honoured too.
    boot.aarch64.dtb_from_x0 = dtb_at(l.ram_base, l.ram_max_size, x0);
    boot.dtb = if boot.aarch64.dtb_from_x0 {
        x0
    } else {
        l.ram_base
    };
    // Nothing is printed before the device tree names the console's
    // device: silent failures (the exit status tells).
    // SAFETY: a device tree's address (checked for the magic by `parse`).
    if let Err(e) = unsafe { fdt::parse(boot.dtb, &mut boot.info) } {
        fail::<K>(e);
    }
    K::devices(&boot.info);
    boot.aarch64.uart_pa = boot.info.uart.unwrap_or(0);
    puts::<K::Console>(K::NAME);
    puts::<K::Console>(b": entered at ");
    put_hex::<K::Console>(boot.load);
    puts::<K::Console>(b" (MMU off), dtb ");
    put_hex::<K::Console>(boot.dtb);
    puts::<K::Console>(if boot.aarch64.dtb_from_x0 {
        b" (from x0)\n"
    } else {
        b" (start of RAM)\n"
    });
    if l.machine {
        fail::<K>(b"a machine-mode (bare) layout is riscv64 only");
    }
    if current_el() != 1 {
        fail::<K>(b"not running at EL1");
    }
    let mmfr0: u64;
    // SAFETY: reads an ID register.
    unsafe { core::arch::asm!("mrs {0}, id_aa64mmfr0_el1", out(reg) mmfr0) };
    if (mmfr0 >> 28) & 0xf == 0xf {
        fail::<K>(b"the CPU has no 4 KiB translation granule");
    }
    // PARange and TCR_EL1.IPS share one encoding; 52 bits needs LPA.
    let parange = (mmfr0 & 0xf).min(5);
    boot.aarch64.pa_bits = [32, 36, 40, 42, 44, 48][parange as usize];

    check_placement::<K>(l, boot.load, boot.info.ram());
    let m = choose_mode::<K>(boot);
    place_image::<K>(boot, &m, || {
        let t: u64;
        // SAFETY: reads the virtual counter.
        unsafe { core::arch::asm!("mrs {0}, cntvct_el0", out(reg) t) };
        t
    });
    if l.relocatable {
        // Before anything follows an absolute word of the image.
        let unsupported = b"unsupported dynamic relocation (only R_AARCH64_RELATIVE is handled)";
        boot.relocations = super::relocate::<K>(reloc::AARCH64, unsupported, boot.load, boot.run);
    }
    build_page_tables::<K>(boot, &m);
    build_idmap::<K>(boot);

    // Both halves: inner-shareable, write-back walks, 4 KiB granule.
    let walk = (1 << 8) | (1 << 10) | (3 << 12); // IRGN, ORGN, SH at TTBR0's offset
    boot.aarch64.tcr = T0SZ
        | walk
        | ((64 - m.va_bits as u64) << 16)
        | (walk << 16)
        | (2 << 30) // TG1 = 4 KiB
        | (parange << 32);
    let offset = boot.run.wrapping_sub(boot.load);
    // SAFETY: the tables map the image at `run`, the stack and `boot` with
    // it, and the code around the switch at its physical address.
    unsafe {
        __layoutgen_rt_enter_virtual(
            boot.root_pa,
            boot.aarch64.idmap_pa,
            boot.aarch64.tcr,
            offset,
            MAIR,
            boot as *mut _ as u64,
        )
    }
}

/// `entry!`'s vector table calls this with the saved registers.
///
/// # Safety
/// Only from `entry!`'s vectors.
pub unsafe extern "C" fn trap<K: Kernel>(frame: &mut TrapFrame) {
    let (esr, far): (u64, u64);
    // SAFETY: reading the exception syndrome registers.
    unsafe { core::arch::asm!("mrs {0}, esr_el1", "mrs {1}, far_el1", out(reg) esr, out(reg) far) };
    K::trap(frame, esr, far)
}

/// The largest VA size the layout lists (39- and 48-bit VAs with the 4 KiB
/// granule are both base ARMv8-A), or `mode=` from bootargs.
fn choose_mode<K: Kernel>(boot: &mut Boot<K::Mode>) -> ModeMap<K::Mode> {
    let modes = &K::LAYOUT.modes;
    if let Some(v) = fdt::arg(boot.info.bootargs(), b"mode") {
        let bits = if v == b"va39" {
            39
        } else if v == b"va48" {
            48
        } else {
            fail::<K>(b"bootargs: mode= must be va39 or va48")
        };
        let mut i = 0;
        while i < modes.len() {
            if let Some(m) = modes[i]
                && m.va_bits == bits
            {
                boot.mode = m.mode;
                boot.mode_forced = true;
                return m;
            }
            i += 1;
        }
        fail::<K>(b"bootargs: mode= names a mode the layout spec does not list")
    }
    let mut i = modes.len();
    while i > 0 {
        i -= 1;
        if let Some(m) = modes[i]
            && m.va_bits > 0
        {
            boot.mode = m.mode;
            return m;
        }
    }
    fail::<K>(b"the layout lists no paging mode")
}

/// TTBR1: the linear map of all RAM, the image window at `run` (or inside
/// the linear map) with each section's flags, and the device tree's UART
/// as a device page at the start of the fixmap.
fn build_page_tables<K: Kernel>(boot: &mut Boot<K::Mode>, m: &ModeMap<K::Mode>) {
    // SAFETY: the pool is ours alone, used only here; its address is its
    // physical address (the MMU is off).
    let pool = unsafe { &mut *pool() };
    let (uart, flags) = (boot.aarch64.uart_pa, Flags::R | Flags::W | Flags::DEVICE);
    if let Some(va) = super::build_page_tables::<K, Granule4K>(boot, m, pool, uart, flags) {
        boot.aarch64.uart_va = va;
    }
}

/// TTBR0: 1 GiB blocks mapping the image's physical window to itself,
/// read-only and executable, for the instructions between the MMU switch
/// and the jump to the virtual address.
fn build_idmap<K: Kernel>(boot: &mut Boot<K::Mode>) {
    let (load, size) = (boot.load, K::LAYOUT.image_max_size);
    let start = load & !(GIB - 1);
    let end = (load + size).div_ceil(GIB) * GIB;
    if (end - 1) >> (64 - T0SZ) != 0 {
        fail::<K>(b"the load address is beyond the identity map's 39 bits");
    }
    // SAFETY: the identity map is ours alone, used only here; its address
    // is physical.
    let table = unsafe { &mut *idmap() };
    let table_pa = table.as_ptr() as u64;
    // Three levels from Arm's level 1: the root holds the 1 GiB blocks.
    let mut b = Builder::<Granule4K>::new(3, table, table_pa);
    b.map(start, start, end - start, GIB, |_| Flags::R | Flags::X)
        .unwrap_or_else(|e| fail::<K>(e));
    boot.aarch64.idmap_blocks = b.leaves()[2];
    boot.aarch64.idmap_pa = b.root_pa();
}

/// The entry from the boot loader for kernel type `$k` (a
/// [`Kernel`](crate::rt::Kernel)): `_start` in `.text.entry` (entered at
/// EL2 or EL1, MMU off), the vector table `vectors`, the switch to the
/// virtual address, and the static the early boot records into. Once per
/// kernel.
#[macro_export]
macro_rules! entry {
    ($k:ty) => {
        static mut __LAYOUTGEN_RT_BOOT: $crate::rt::Boot<<$k as $crate::rt::Kernel>::Mode> =
            $crate::rt::Boot::new(<$k as $crate::rt::Kernel>::LAYOUT.first_mode());
        core::arch::global_asm!(
            // The image's first byte: QEMU enters an ELF `-kernel` at its
            // physical load address, MMU off, at the highest EL it
            // emulates below EL3 (EL2 with virtualization=on).
            ".section .text.entry, \"ax\"",
            ".globl _start",
            "_start:",
            "msr daifset, #0xf",
            "mov x19, x0",
            "mrs x20, CurrentEL",
            "lsr x20, x20, #2",
            "cmp x20, #2",
            "b.ne 1f",
            // At EL2: continue at EL1 (AArch64, EL1h, DAIF masked).
            "mov x9, #(1 << 31)", // HCR_EL2.RW
            "msr hcr_el2, x9",
            "mov x9, #0x3c5",
            "msr spsr_el2, x9",
            "adr x9, 1f",
            "msr elr_el2, x9",
            "eret",
            "1:",
            // SCTLR_EL1: its RES1 bits, MMU and caches off, a known state.
            "movz x9, #0x30d0, lsl #16",
            "movk x9, #0x0800",
            "msr sctlr_el1, x9",
            // FP/SIMD usable at EL1 (the target has NEON; memcpy may use it).
            "mov x9, #(3 << 20)",
            "msr cpacr_el1, x9",
            "isb",
            "adrp x9, __stack_top",
            "add x9, x9, :lo12:__stack_top",
            "mov sp, x9",
            "adrp x9, __bss_start",
            "add x9, x9, :lo12:__bss_start",
            "adrp x10, __bss_end",
            "add x10, x10, :lo12:__bss_end",
            "2: cmp x9, x10",
            "b.hs 3f",
            "str xzr, [x9], #8",
            "b 2b",
            "3: adrp x9, vectors",
            "add x9, x9, :lo12:vectors",
            "msr vbar_el1, x9",
            "isb",
            "mov x0, x19",
            "mov x1, x20",
            "adrp x2, {boot}",
            "add x2, x2, :lo12:{boot}",
            "bl {early}",
            "4: wfe",
            "b 4b",
            "",
            // enter_virtual(ttbr1, ttbr0, tcr, va - pa, mair, boot): MMU
            // on, then the jump to the virtual address. The instructions
            // between the SCTLR write and the branch fetch through TTBR0's
            // identity map, which is switched off (TCR_EL1.EPD0) once
            // running at the virtual address.
            ".section .text",
            ".globl __layoutgen_rt_enter_virtual",
            ".balign 4",
            "__layoutgen_rt_enter_virtual:",
            "msr mair_el1, x4",
            "msr tcr_el1, x2",
            "msr ttbr0_el1, x1",
            "msr ttbr1_el1, x0",
            "isb",
            "tlbi vmalle1",
            "dsb nsh",
            "isb",
            "mrs x9, sctlr_el1",
            "orr x9, x9, #(1 << 0)",  // M
            "orr x9, x9, #(1 << 2)",  // C
            "orr x9, x9, #(1 << 12)", // I
            "msr sctlr_el1, x9",
            "isb",
            "adr x9, 1f",
            "add x9, x9, x3",
            "br x9",
            "1: add sp, sp, x3",
            "adrp x9, vectors",
            "add x9, x9, :lo12:vectors",
            "msr vbar_el1, x9",
            "mrs x9, tcr_el1",
            "orr x9, x9, #(1 << 7)", // EPD0: no more TTBR0 walks
            "msr tcr_el1, x9",
            "isb",
            "tlbi vmalle1",
            "dsb nsh",
            "isb",
            "add x0, x5, x3",
            "bl {main}",
            "",
            // The vector table: 16 entries of 0x80 bytes; each makes room
            // for an rt::TrapFrame (and SPSR_EL1 past it), saves x0/x1,
            // puts its index in x1 and joins the common path, which saves
            // the rest, calls the kernel's trap hook, restores (ELR as the
            // hook left it) and returns.
            ".balign 2048",
            ".globl vectors",
            "vectors:",
            ".irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15",
            ".balign 0x80",
            "sub sp, sp, #288",
            "stp x0, x1, [sp]",
            "mov x1, #\\i",
            "b __layoutgen_rt_trap_common",
            ".endr",
            "__layoutgen_rt_trap_common:",
            "str x1, [sp, #264]",
            ".irp n, 2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30",
            "str x\\n, [sp, #(\\n * 8)]",
            ".endr",
            "add x2, sp, #288",
            "str x2, [sp, #248]",
            "mrs x2, elr_el1",
            "str x2, [sp, #256]",
            "mrs x2, spsr_el1",
            "str x2, [sp, #272]",
            "mov x0, sp",
            "bl {trap}",
            "ldr x2, [sp, #256]",
            "msr elr_el1, x2",
            "ldr x2, [sp, #272]",
            "msr spsr_el1, x2",
            ".irp n, 2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30",
            "ldr x\\n, [sp, #(\\n * 8)]",
            ".endr",
            "ldp x0, x1, [sp]",
            "add sp, sp, #288",
            "eret",
            boot = sym __LAYOUTGEN_RT_BOOT,
            early = sym $crate::rt::aarch64::early::<$k>,
            trap = sym $crate::rt::aarch64::trap::<$k>,
            main = sym $crate::rt::main::<$k>,
        );
    };
}
