//! M-mode firmware (`cfg(bare)`) with a next stage: when QEMU's reset
//! vector describes one (`-kernel`, its `fw_dynamic_info` in a2), the
//! firmware starts it in S-mode after its own checks pass, as OpenSBI's
//! `fw_dynamic` does, and serves the two SBI calls the S-mode sample kernel
//! makes: the legacy console putchar and system reset.

use crate::Boot;
use crate::console::Console;
use layoutgen_rt::rt::TrapFrame;
use layoutgen_rt::rt::riscv64::{self, NextStage};
use layoutgen_rt::selftest::Exit;
use layoutgen_rt::sym;
use layoutgen_rt::text::Putc;

/// `mcause` of an ecall from S-mode.
const CAUSE_SUPERVISOR_ECALL: u64 = 9;
const SBI_LEGACY_PUTCHAR: u64 = 0x01;
const SBI_SRST: u64 = 0x5352_5354;
const SBI_ERR_NOT_SUPPORTED: i64 = -2;

/// The next stage QEMU named, if any.
pub fn next_stage(boot: &Boot) -> Option<NextStage> {
    // SAFETY: a2 from QEMU's reset vector: its fw_dynamic_info in ROM.
    unsafe { riscv64::next_stage(boot.loader_arg) }
}

/// Starts `next` in S-mode with the hart id and device tree; PMP keeps it
/// out of the firmware's read-only part, one NAPOT range
/// (`image.pmp_read_only`: `[image start, .data)`).
pub fn enter(boot: &Boot, next: NextStage) -> ! {
    if next.mode != 1 {
        Console::fail(b"the next stage is not S-mode (fw_dynamic_info next_mode)");
    }
    let start = boot.run;
    let size = (sym!("__data_start") - start).next_power_of_two();
    if !start.is_multiple_of(size) {
        Console::fail(b"the firmware's read-only part is not one NAPOT range where it runs");
    }
    crate::println!(
        "firmware: next stage at {:#x} in S-mode; PMP denies it {start:#x}-{:#x}",
        next.addr,
        start + size
    );
    // SAFETY: M-mode; a power of two `start` is a multiple of; the boot
    // stack is not needed again (traps from S-mode start at its top).
    unsafe {
        riscv64::enter_supervisor(
            next.addr,
            boot.hartid,
            boot.dtb,
            start,
            size,
            sym!("__stack_top"),
        )
    }
}

/// Serves an ecall from S-mode; false for any other trap.
pub fn sbi(f: &mut TrapFrame, cause: u64) -> bool {
    if cause != CAUSE_SUPERVISOR_ECALL {
        return false;
    }
    let (a0, a1, eid) = (f.x[10], f.x[11], f.x[17]);
    f.x[10] = match eid {
        SBI_LEGACY_PUTCHAR => {
            Console::putc(a0 as u8);
            0
        }
        // Shutdown or reboot: power off, a failure if the reason says so.
        SBI_SRST => Console::exit(if a1 == 0 { 0 } else { 1 }),
        _ => SBI_ERR_NOT_SUPPORTED as u64,
    };
    f.epc += 4;
    true
}
