//! Output over the SBI legacy console (or, in M-mode firmware with no SBI
//! below it, `cfg(bare)`, straight to the ns16550a UART of the layout's
//! `uart` region), and the way out: the `virt` machine's test finisher (it
//! can report a failure status, SBI SRST on QEMU 7.2 with OpenSBI 1.1
//! cannot).
//!
//! [`Console`] is this machine's `putc` and `exit` for layoutgen-rt's text
//! output and check report. `Console::puts`/`Console::put_hex` (provided
//! by `text::Putc`) are plain byte loops, safe before paging: they read
//! nothing but PC-relatively addressed bytes.
//! `println!` goes through `core::fmt` and is only used once paging is on,
//! since `core::fmt` follows absolute pointers (vtables) that are valid only
//! at the kernel's virtual address.

use core::sync::atomic::{AtomicU64, Ordering};
use layoutgen_rt::{selftest, text};

/// The QEMU `virt` test finisher, used only when the device tree does not
/// name one (a device address, not part of the layout spec).
#[cfg(not(bare))]
pub const VIRT_TEST_FINISHER: u64 = 0x10_0000;

/// Where the finisher is reachable now: its physical address before paging,
/// its fixmap address after.
pub static FINISHER: AtomicU64 = AtomicU64::new(0);

#[cfg(not(bare))]
fn sbi_call(eid: usize, fid: usize, a0: usize, a1: usize) -> usize {
    let ret;
    // SAFETY: an SBI call clobbers only a0/a1.
    unsafe {
        core::arch::asm!("ecall", inlateout("a0") a0 => ret, inlateout("a1") a1 => _,
            in("a6") fid, in("a7") eid, options(nostack));
    }
    ret
}

/// The console: SBI under OpenSBI, the UART in M-mode firmware.
pub struct Console;

#[cfg(not(bare))]
impl text::Putc for Console {
    fn putc(c: u8) {
        // Legacy console putchar (EID 0x01); OpenSBI 1.1 has no DBCN.
        sbi_call(0x01, 0, c as usize, 0);
    }
}

/// ns16550a registers (byte offsets): transmit holding, line status.
#[cfg(bare)]
const UART_THR: u64 = 0;
#[cfg(bare)]
const UART_LSR: u64 = 5;
#[cfg(bare)]
const UART_LSR_THRE: u8 = 1 << 5;

/// Straight to the UART at the layout's `uart` region (QEMU needs no
/// initialisation of it).
#[cfg(bare)]
impl text::Putc for Console {
    fn putc(c: u8) {
        let base = crate::layout::bare::UART.start;
        // SAFETY: the UART's registers, physical addresses, no paging.
        unsafe {
            while ((base + UART_LSR) as *const u8).read_volatile() & UART_LSR_THRE == 0 {}
            ((base + UART_THR) as *mut u8).write_volatile(c);
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

impl selftest::Exit for Console {
    /// Powers off: status 0 for `code == 0`, else `code` (QEMU's exit
    /// status).
    fn exit(code: u16) -> ! {
        let finisher = FINISHER.load(Ordering::Relaxed);
        if finisher != 0 {
            let value = if code == 0 {
                0x5555
            } else {
                ((code as u32) << 16) | 0x3333
            };
            // SAFETY: the finisher's register is mapped (identity before
            // paging, the fixmap page after).
            unsafe { core::ptr::write_volatile(finisher as *mut u32, value) };
        }
        // No finisher: SBI system reset (shutdown; the status is lost).
        // M-mode firmware has no SBI below it: just stop.
        #[cfg(not(bare))]
        sbi_call(0x5352_5354, 0, 0, if code == 0 { 0 } else { 1 });
        loop {
            // SAFETY: waiting for an interrupt that never comes.
            unsafe { core::arch::asm!("wfi") };
        }
    }
}
