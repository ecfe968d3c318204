//! A small aarch64 kernel whose every address comes from a layoutgen spec.
//!
//! Boot path: layoutgen-rt's runtime (`layoutgen_rt::entry!` below,
//! docs/runtime.md): `_start` (EL2 or EL1, MMU off) -> EL1, device tree, VA
//! size, KASLR, relocation, TTBR1 tables from the generated layout and the
//! TTBR0 identity map -> MMU on at the image's virtual address, TTBR0 off
//! -> [`kmain`] (self-checks, summary line, power off through PSCI).

#![no_std]
#![no_main]

#[allow(dead_code, clippy::all)]
mod layout {
    include!(concat!(env!("LAYOUTGEN_DIR"), "/layout.rs"));
}

mod console;
mod selftest;

use console::Console;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use layoutgen_rt::fdt::BootInfo;
use layoutgen_rt::paging::Flags;
use layoutgen_rt::rt::{self, TrapFrame};
use layoutgen_rt::selftest::Exit;
use layoutgen_rt::text::Putc;

/// What the runtime's early boot found and did.
pub type Boot = rt::Boot<layout::PagingMode>;

/// Each image section's flags, as the self-checks compare them; fails to
/// compile unless the spec's sections are text, rodata, data, bss (the
/// start symbols `image::section_bounds` reads).
const SECTION_FLAGS: [Flags; 4] = layoutgen_rt::image_sections!(layout::SECTIONS);

/// This kernel, to layoutgen-rt's runtime.
struct Kernel;

impl rt::Kernel for Kernel {
    type Console = Console;
    type Mode = layout::PagingMode;
    const LAYOUT: rt::Layout<layout::PagingMode> = layoutgen_rt::layout!(layout);

    fn sections() -> rt::Sections {
        layoutgen_rt::sections!(layout)
    }

    fn main(boot: &'static Boot) -> ! {
        kmain(boot)
    }

    // The hooks, all optional.
    const NAME: &'static [u8] = b"sample-kernel-aarch64";

    /// No device address is written in this kernel: the UART and the PSCI
    /// conduit come from the device tree. Silent on failure (no UART to
    /// say it on): the exit status tells.
    fn devices(info: &BootInfo) {
        match info.uart {
            Some(uart) => console::set_uart(uart),
            None => Console::fail(b"the device tree names no arm,pl011 UART"),
        }
        match info.psci {
            Some(c) => console::set_psci(c),
            None => Console::fail(b"the device tree has no /psci method (hvc or smc)"),
        }
    }

    fn record(boot: &Boot) {
        // Once: the conversions of the running kernel read what this
        // records (layout.rs, `Running`).
        let running = layout::Running::record(boot.mode)
            .unwrap_or_else(|| Console::fail(b"no layout for mode"));
        #[cfg(relocatable)]
        running.record_image(boot.run, boot.load);
        #[cfg(not(relocatable))]
        let _ = running;
    }

    #[cfg(relocatable)]
    fn rela_dyn() -> (u64, u64) {
        (
            layoutgen_rt::sym!("__rela_dyn_start"),
            layoutgen_rt::sym!("__rela_dyn_end"),
        )
    }

    fn trap(f: &mut TrapFrame, esr: u64, far: u64) {
        trap_handler(f, esr, far)
    }
}

layoutgen_rt::entry!(Kernel);

/// Set once `kmain` runs: `core::fmt` is usable from then on.
static PAGING: AtomicBool = AtomicBool::new(false);
static TRAP_DEPTH: AtomicU32 = AtomicU32::new(0);

/// Vector 4: synchronous exception from the current EL with SP_ELx.
const VECTOR_SYNC_CURRENT_SPX: u64 = 4;

fn trap_handler(f: &mut TrapFrame, esr: u64, far: u64) {
    if console::exiting() {
        // A semihosting `hlt` without `-semihosting`: skip it, try PSCI.
        f.epc += 4;
        return;
    }
    if TRAP_DEPTH.fetch_add(1, Ordering::Relaxed) > 0 {
        Console::puts(b"\ntrap inside the trap handler\nRESULT: FAIL nested trap\n");
        Console::exit(2);
    }
    if f.vector == VECTOR_SYNC_CURRENT_SPX && selftest::expected_fault(f, esr, far) {
        TRAP_DEPTH.fetch_sub(1, Ordering::Relaxed);
        return;
    }
    layoutgen_rt::selftest::unexpected_trap::<Console>(&[
        ("vector", f.vector),
        ("ec", esr >> 26 & 0x3f),
        ("esr", esr),
        ("elr", f.epc),
        ("far", far),
    ])
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    layoutgen_rt::selftest::panic::<Console>(info, PAGING.load(Ordering::Relaxed))
}

/// Runs at the image's virtual address with paging on. By name: the
/// self-checks look its symbol up.
#[unsafe(no_mangle)]
fn kmain(boot: &'static Boot) -> ! {
    console::set_uart(boot.aarch64.uart_va);
    PAGING.store(true, Ordering::Relaxed);
    // Exercise the failure paths on request (the tests use these).
    layoutgen_rt::selftest::fail_on_request::<Console>(boot.info.bootargs());
    let failures = selftest::run(boot);
    if layoutgen_rt::fdt::flag(boot.info.bootargs(), b"hold") {
        // `hold`: stay up, so the tests can save RAM through QEMU's monitor
        // (`pmemsave`; aarch64 has no `info mem`) and walk the tables from
        // the root TTBR1_EL1 names (tests/integration/page_tables.rs).
        let ttbr1: u64;
        // SAFETY: reads a system register, no side effect.
        unsafe { core::arch::asm!("mrs {}, ttbr1_el1", out(reg) ttbr1) };
        Console::puts(b"tables: root=");
        Console::put_hex(ttbr1 & 0x0000_ffff_ffff_f000);
        Console::puts(b"\n");
        layoutgen_rt::selftest::hold::<Console>(failures)
    }
    layoutgen_rt::selftest::finish::<Console>(failures)
}
