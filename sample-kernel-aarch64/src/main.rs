//! A small aarch64 kernel whose every address comes from a layoutgen spec.
//!
//! Boot path: `_start` (below, EL1, MMU off) -> `early::early_main` (device
//! tree, VA size, page tables) -> `enter_virtual` (MAIR/TCR/TTBR0/TTBR1,
//! MMU on, jump to the image's virtual address, TTBR0 off) -> `kmain`
//! (self-checks, summary line, power off through PSCI).

#![no_std]
#![no_main]

#[allow(dead_code, clippy::all)]
mod layout {
    include!(concat!(env!("LAYOUTGEN_DIR"), "/layout.rs"));
}

mod console;
mod early;
mod selftest;

use console::{Console, exit, put_hex, puts};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use layoutgen_rt::paging::Flags;

/// Each image section's flags; fails to compile unless the spec's sections
/// are text, rodata, data, bss (the start symbols the kernel reads).
const SECTION_FLAGS: [Flags; 4] = layoutgen_rt::image_sections!(layout::SECTIONS);

core::arch::global_asm!(
    // The first input section of the first output section: the image's
    // first byte. QEMU enters an ELF `-kernel` here (e_entry), at its
    // physical load address, MMU off, at the highest EL it emulates.
    ".section .text.entry, \"ax\"",
    ".globl _start",
    "_start:",
    "msr daifset, #0xf",
    "mov x19, x0",
    // At EL2 (`-machine virt,virtualization=on`): continue at EL1.
    "mrs x20, CurrentEL",
    "lsr x20, x20, #2",
    "cmp x20, #2",
    "b.ne 1f",
    "mov x9, #(1 << 31)", // HCR_EL2.RW: EL1 is AArch64
    "msr hcr_el2, x9",
    "mov x9, #0x3c5", // EL1h, DAIF masked
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
    "bl early_main",
    "4: wfe",
    "b 4b",
    "",
    // enter_virtual(ttbr1, ttbr0, tcr, va - pa, mair): MMU on, then jump to
    // the virtual address. The instructions between the SCTLR write and the
    // branch fetch through TTBR0's identity map, which is switched off
    // (TCR_EL1.EPD0) once running at the virtual address.
    ".section .text",
    ".globl enter_virtual",
    ".balign 4",
    "enter_virtual:",
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
    "bl kmain",
    "",
    // The exception vectors: 16 entries of 0x80 bytes; each saves x0/x1,
    // puts its index in x1 and joins `trap_common`.
    ".macro vector idx",
    ".balign 0x80",
    "sub sp, sp, #272",
    "stp x0, x1, [sp]",
    "mov x1, #\\idx",
    "b trap_common",
    ".endm",
    ".balign 2048",
    ".globl vectors",
    "vectors:",
    ".irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15",
    "vector \\i",
    ".endr",
    "trap_common:",
    ".irp n, 2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30",
    "str x\\n, [sp, #(\\n * 8)]",
    ".endr",
    "mrs x2, elr_el1",
    "mrs x3, spsr_el1",
    "stp x2, x3, [sp, #248]",
    "mov x0, sp",
    "bl trap_handler",
    "ldp x2, x3, [sp, #248]",
    "msr elr_el1, x2",
    "msr spsr_el1, x3",
    ".irp n, 2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30",
    "ldr x\\n, [sp, #(\\n * 8)]",
    ".endr",
    "ldp x0, x1, [sp]",
    "add sp, sp, #272",
    "eret",
);

unsafe extern "C" {
    fn enter_virtual(ttbr1: u64, ttbr0: u64, tcr: u64, va_minus_pa: u64, mair: u64) -> !;
}

/// Registers at an exception: x0..x30, ELR_EL1, SPSR_EL1.
#[repr(C)]
pub struct TrapFrame {
    pub x: [u64; 31],
    pub elr: u64,
    pub spsr: u64,
    _pad: u64,
}

/// Set once `kmain` runs: `core::fmt` is usable from then on.
static PAGING: AtomicBool = AtomicBool::new(false);
static TRAP_DEPTH: AtomicU32 = AtomicU32::new(0);

/// Vector 4: synchronous exception from the current EL with SP_ELx.
const VECTOR_SYNC_CURRENT_SPX: u64 = 4;

#[unsafe(no_mangle)]
extern "C" fn trap_handler(f: &mut TrapFrame, vector: u64) {
    let (esr, far): (u64, u64);
    // SAFETY: reading exception syndrome registers.
    unsafe { core::arch::asm!("mrs {0}, esr_el1", "mrs {1}, far_el1", out(reg) esr, out(reg) far) };
    if console::exiting() {
        // A semihosting `hlt` without `-semihosting`: skip it, try PSCI.
        f.elr += 4;
        return;
    }
    if TRAP_DEPTH.fetch_add(1, Ordering::Relaxed) > 0 {
        puts(b"\ntrap inside the trap handler\nRESULT: FAIL nested trap\n");
        exit(2);
    }
    if vector == VECTOR_SYNC_CURRENT_SPX && selftest::expected_fault(f, esr, far) {
        TRAP_DEPTH.fetch_sub(1, Ordering::Relaxed);
        return;
    }
    puts(b"\nunexpected trap: vector=");
    put_hex(vector);
    puts(b" ec=");
    put_hex(esr >> 26 & 0x3f);
    puts(b" esr=");
    put_hex(esr);
    puts(b" elr=");
    put_hex(f.elr);
    puts(b" far=");
    put_hex(far);
    puts(b"\nRESULT: FAIL unexpected trap\n");
    exit(2)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    layoutgen_rt::selftest::panic::<Console>(info, PAGING.load(Ordering::Relaxed))
}

/// Runs at the image's virtual address with paging on.
#[unsafe(no_mangle)]
extern "C" fn kmain() -> ! {
    // SAFETY: written only by the early boot, read-only from here on.
    #[allow(clippy::deref_addrof)] // `&BOOT` is a static-mut reference
    let boot = unsafe { &*(&raw const early::BOOT) };
    console::set_uart(boot.uart_va);
    PAGING.store(true, Ordering::Relaxed);
    // Exercise the failure paths on request (the tests use these).
    layoutgen_rt::selftest::fail_on_request::<Console>(boot.info.bootargs());
    layoutgen_rt::selftest::finish::<Console>(selftest::run(boot))
}
