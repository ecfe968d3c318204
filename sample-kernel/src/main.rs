//! A small riscv64 kernel whose every address comes from a layoutgen spec.
//!
//! Boot path: `_start` (below, MMU off) -> `early::early_main` (device tree,
//! paging mode, KASLR, relocation, page tables) -> `enter_virtual` (satp,
//! jump to the image's virtual address) -> `kmain` (self-checks, summary
//! line, power off through the test finisher).
//!
//! With a `bare` layout (`cfg(bare)`) the same kernel is M-mode firmware:
//! QEMU enters it at the RAM base with `-bios`, there is no SBI and no
//! paging, and `early_main` goes straight to `kmain`.

#![no_std]
#![no_main]

#[allow(dead_code, clippy::all)]
mod layout {
    // layout/layout.rs, or the directory LAYOUTGEN_OUT names (build.rs).
    include!(concat!(env!("LAYOUTGEN_DIR"), "/layout.rs"));
}

/// What build.rs found out about the layout's shape and the linker.
#[allow(dead_code)]
mod shape {
    include!(concat!(env!("OUT_DIR"), "/shape.rs"));
}

mod console;
mod early;
mod placement;
#[cfg(not(bare))]
mod probe;
mod selftest;
mod workload;

use console::{Console, exit, put_hex, puts};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use layoutgen_rt::paging::Flags;

/// Each image section's flags; fails to compile unless the spec's sections
/// are text, rodata, data, bss (the start symbols the kernel reads).
#[cfg_attr(bare, allow(dead_code))] // M-mode firmware maps nothing
const SECTION_FLAGS: [Flags; 4] = layoutgen_rt::image_sections!(layout::SECTIONS);

// gp per the spec's GP policy: with `relax` it must hold `__global_pointer$`
// (loaded PC-relatively, with relaxation off so this very instruction is
// not turned into a gp-relative one); otherwise nothing may rely on it.
#[cfg(gp_relax)]
macro_rules! load_gp {
    () => {
        ".option push\n.option norelax\nlla gp, __global_pointer$\n.option pop"
    };
}
#[cfg(not(gp_relax))]
macro_rules! load_gp {
    () => {
        "li gp, 0"
    };
}

// The privilege level the kernel runs in names its trap CSRs: `s` for an
// S-mode kernel under OpenSBI, `m` for M-mode firmware (`cfg(bare)`).
#[cfg(not(bare))]
macro_rules! x {
    () => {
        "s"
    };
}
#[cfg(bare)]
macro_rules! x {
    () => {
        "m"
    };
}

// Where the trap entry lives: xv6's `trampsec` when the layout reserves a
// trampoline page for it (`cfg(trampoline)`), else plain text.
#[cfg(trampoline)]
macro_rules! trap_section {
    () => {
        ".section trampsec, \"ax\""
    };
}
#[cfg(not(trampoline))]
macro_rules! trap_section {
    () => {
        ".section .text"
    };
}

// M-mode firmware: every hart starts here (park all but hart 0, as OpenSBI's
// cold boot does), and the FPU is off after reset (mstatus.FS = Initial so
// compiled code may use it). Under OpenSBI only the boot hart arrives.
#[cfg(bare)]
macro_rules! machine_entry {
    () => {
        "bnez a0, 3f\nli t0, 0x2000\ncsrs mstatus, t0"
    };
}
#[cfg(not(bare))]
macro_rules! machine_entry {
    () => {
        ""
    };
}

core::arch::global_asm!(
    // The first input section of the first output section: the image's
    // first byte, where OpenSBI (or QEMU's reset vector, for M-mode
    // firmware) enters with a0 = hart id, a1 = DTB.
    ".section .text.entry, \"ax\"",
    ".globl _start",
    "_start:",
    machine_entry!(),
    load_gp!(),
    concat!("csrw ", x!(), "ie, zero"),
    "lla sp, __stack_top",
    "lla t0, __bss_start",
    "lla t1, __bss_end",
    "1: bgeu t0, t1, 2f",
    "sd zero, 0(t0)",
    "addi t0, t0, 8",
    "j 1b",
    "2: lla t0, trap_entry",
    concat!("csrw ", x!(), "tvec, t0"),
    "call early_main",
    "3: wfi",
    "j 3b",
    "",
    // Save every register, let Rust look at the trap, restore, return.
    trap_section!(),
    ".balign 4",
    ".globl trap_entry",
    "trap_entry:",
    "addi sp, sp, -272",
    ".irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
    "sd x\\n, \\n*8(sp)",
    ".endr",
    "addi t0, sp, 272",
    "sd t0, 16(sp)",
    concat!("csrr t0, ", x!(), "epc"),
    "sd t0, 256(sp)",
    "mv a0, sp",
    "call trap_handler",
    "ld t0, 256(sp)",
    concat!("csrw ", x!(), "epc, t0"),
    ".irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
    "ld x\\n, \\n*8(sp)",
    ".endr",
    "addi sp, sp, 272",
    concat!(x!(), "ret"),
);

// enter_virtual(satp, va - pa): turn paging on and continue at the virtual
// address. The fetch after the satp write faults (the physical address is
// not mapped) and the trap lands on `1f` at its virtual address; the `jr`
// gets there too if it does not (an identity-mapped kernel: VA = PA).
#[cfg(not(bare))]
core::arch::global_asm!(
    ".section .text",
    ".globl enter_virtual",
    ".balign 4",
    "enter_virtual:",
    "lla t0, 1f",
    "add t0, t0, a1",
    "csrw stvec, t0",
    "sfence.vma",
    "csrw satp, a0",
    "sfence.vma",
    "jr t0",
    ".balign 4",
    "1: add sp, sp, a1",
    load_gp!(),
    "lla t0, trap_entry",
    "csrw stvec, t0",
    "call kmain",
);

#[cfg(not(bare))]
unsafe extern "C" {
    fn enter_virtual(satp: u64, va_minus_pa: u64) -> !;
}

/// Registers at a trap; `x[2]` is the interrupted `sp`; `epc` is `sepc` (or
/// `mepc` in M-mode).
#[repr(C)]
pub struct TrapFrame {
    pub x: [u64; 32],
    pub epc: u64,
    _pad: u64,
}

/// Set once `kmain` runs at the link address (with paging on, or in M-mode
/// firmware from the start): `core::fmt` is usable from then on.
static FMT_READY: AtomicBool = AtomicBool::new(false);
static TRAP_DEPTH: AtomicU32 = AtomicU32::new(0);

#[unsafe(no_mangle)]
extern "C" fn trap_handler(f: &mut TrapFrame) {
    let (cause, tval): (u64, u64);
    // SAFETY: reading trap CSRs.
    unsafe {
        core::arch::asm!(
            concat!("csrr {0}, ", x!(), "cause"),
            concat!("csrr {1}, ", x!(), "tval"),
            out(reg) cause, out(reg) tval)
    };
    if TRAP_DEPTH.fetch_add(1, Ordering::Relaxed) > 0 {
        puts(b"\ntrap inside the trap handler\nRESULT: FAIL nested trap\n");
        // The fixmap may be what faults: leave by SBI instead. (M-mode
        // firmware has only the finisher, at its physical address.)
        #[cfg(not(bare))]
        console::FINISHER.store(0, Ordering::Relaxed);
        exit(2);
    }
    if selftest::expected_fault(f, cause, tval) {
        TRAP_DEPTH.fetch_sub(1, Ordering::Relaxed);
        return;
    }
    puts(concat!("\nunexpected trap: ", x!(), "cause=").as_bytes());
    put_hex(cause);
    puts(concat!(" ", x!(), "epc=").as_bytes());
    put_hex(f.epc);
    puts(concat!(" ", x!(), "tval=").as_bytes());
    put_hex(tval);
    puts(b"\nRESULT: FAIL unexpected trap\n");
    exit(2)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    layoutgen_rt::selftest::panic::<Console>(info, FMT_READY.load(Ordering::Relaxed))
}

/// Runs at the image's virtual address with paging on (M-mode firmware: at
/// its physical address, called by `early_main`).
#[unsafe(no_mangle)]
extern "C" fn kmain() -> ! {
    // SAFETY: written only by the early boot, read-only from here on.
    #[allow(clippy::deref_addrof)] // `&BOOT` is a static-mut reference
    let boot = unsafe { &*(&raw const early::BOOT) };
    #[cfg(not(bare))]
    console::FINISHER.store(boot.finisher_va, Ordering::Relaxed);
    FMT_READY.store(true, Ordering::Relaxed);
    // Exercise the failure paths on request (the tests use these).
    layoutgen_rt::selftest::fail_on_request::<Console>(boot.info.bootargs());
    #[allow(unused_mut)]
    let mut failures = selftest::run(boot);
    #[cfg(not(bare))]
    {
        failures += probe::check(boot);
    }
    workload::report(boot.relocations);
    layoutgen_rt::selftest::finish::<Console>(failures)
}
