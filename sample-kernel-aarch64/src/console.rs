//! Output on the PL011 UART, and the way out: PSCI `SYSTEM_OFF` on success
//! (QEMU exits with status 0), a semihosting `SYS_EXIT` with the status on
//! failure (QEMU exits with that status; needs QEMU's `-semihosting`).
//!
//! [`Console`] is this machine's `putc` and `exit` for layoutgen-rt's text
//! output and check report. `Console::puts`/`Console::put_hex` (provided
//! by `text::Putc`) are plain byte loops, safe before paging: they read
//! nothing but PC-relatively addressed bytes.
//! `println!` goes through `core::fmt` and is only used once paging is on,
//! since `core::fmt` follows absolute pointers (vtables) that are valid only
//! at the kernel's virtual address.

use core::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use layoutgen_rt::fdt::PsciConduit;
use layoutgen_rt::selftest;
use layoutgen_rt::text::{self, Putc};

const UART_DR: u64 = 0x00;
const UART_FR: u64 = 0x18;
const UART_FR_TXFF: u32 = 1 << 5;

pub const PSCI_SYSTEM_OFF: u64 = 0x8400_0008;
pub const PSCI_SYSTEM_RESET: u64 = 0x8400_0009;

/// Where the UART's registers are reachable now: the physical address
/// before paging, the fixmap address after.
static UART: AtomicU64 = AtomicU64::new(0);
/// 0: unknown, 1: `hvc`, 2: `smc`.
static PSCI: AtomicU8 = AtomicU8::new(0);
static EXITING: AtomicBool = AtomicBool::new(false);

pub fn set_uart(base: u64) {
    UART.store(base, Ordering::Relaxed);
}

pub fn set_psci(conduit: PsciConduit) {
    let v = match conduit {
        PsciConduit::Hvc => 1,
        PsciConduit::Smc => 2,
    };
    PSCI.store(v, Ordering::Relaxed);
}

/// Inside `exit`: traps are the semihosting call failing.
pub fn exiting() -> bool {
    EXITING.load(Ordering::Relaxed)
}

/// The console: the PL011 the device tree names.
pub struct Console;

impl text::Putc for Console {
    fn putc(c: u8) {
        let base = UART.load(Ordering::Relaxed);
        if base == 0 {
            return;
        }
        // SAFETY: the UART's registers are mapped (identity with the MMU
        // off, the fixmap device page after).
        unsafe {
            while ((base + UART_FR) as *const u32).read_volatile() & UART_FR_TXFF != 0 {}
            ((base + UART_DR) as *mut u32).write_volatile(c as u32);
        }
    }
}

/// Only once paging is on (see the module docs).
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {
        layoutgen_rt::text::println::<$crate::console::Console>(format_args!($($arg)*))
    };
}

/// A PSCI call through the device tree's conduit; false when none is known.
fn psci(function: u64) -> bool {
    let conduit = PSCI.load(Ordering::Relaxed);
    // SAFETY: SMCCC: the firmware may clobber the caller-saved registers.
    unsafe {
        match conduit {
            1 => core::arch::asm!("hvc #0", inlateout("x0") function => _, clobber_abi("C")),
            2 => core::arch::asm!("smc #0", inlateout("x0") function => _, clobber_abi("C")),
            _ => return false,
        }
    }
    true
}

/// Semihosting `SYS_EXIT` (0x18) with `ADP_Stopped_ApplicationExit` and
/// `code`: QEMU with `-semihosting` exits with status `code`. Without
/// `-semihosting` the `hlt` is undefined; the trap handler skips it.
fn semihosting_exit(code: u64) {
    let block: [u64; 2] = [0x2_0026, code];
    // SAFETY: the parameter block is readable at its current address.
    unsafe {
        core::arch::asm!("hlt #0xf000", inlateout("x0") 0x18u64 => _,
            in("x1") block.as_ptr() as u64, options(nostack));
    }
}

impl selftest::Exit for Console {
    /// Powers off: QEMU's exit status is 0 for `code == 0`, else `code`.
    fn exit(code: u16) -> ! {
        EXITING.store(true, Ordering::Relaxed);
        if code == 0 {
            psci(PSCI_SYSTEM_OFF);
        }
        semihosting_exit(code as u64);
        // No semihosting: the status cannot be reported. Reset (with QEMU's
        // `-no-reboot` that stops QEMU; the output says RESULT: FAIL).
        Console::puts(b"(no semihosting: QEMU's exit status cannot report the failure)\n");
        psci(PSCI_SYSTEM_RESET);
        loop {
            // SAFETY: waiting for an event that never comes.
            unsafe { core::arch::asm!("wfe") };
        }
    }
}
