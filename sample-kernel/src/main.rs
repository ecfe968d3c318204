//! A small riscv64 kernel whose every address comes from a layoutgen spec.
//!
//! Boot path: layoutgen-rt's runtime (`layoutgen_rt::entry!` below,
//! docs/runtime.md): `_start` (MMU off) -> device tree, paging mode, KASLR,
//! relocation, page tables from the generated layout -> paging on at the
//! image's virtual address -> [`kmain`] (self-checks, summary line, power
//! off through the test finisher).
//!
//! With a `bare` layout (`cfg(bare)`) the same kernel is M-mode firmware:
//! QEMU enters it at the RAM base with `-bios`, there is no SBI and no
//! paging, and the runtime goes straight to `kmain`.

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
#[cfg(bare)]
mod firmware;
#[cfg(not(bare))]
mod probe;
mod selftest;
mod workload;

use console::Console;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use layoutgen_rt::paging::Flags;
use layoutgen_rt::rt::{self, TrapFrame};
use layoutgen_rt::selftest::Exit;
use layoutgen_rt::text::Putc;

/// What the runtime's early boot found and did.
pub type Boot = rt::Boot<layout::PagingMode>;

/// Each image section's flags, as the self-checks compare them; fails to
/// compile unless the spec's sections are text, rodata, data, bss (the
/// start symbols `image::section_bounds` reads).
#[cfg_attr(bare, allow(dead_code))] // M-mode firmware maps nothing
const SECTION_FLAGS: [Flags; 4] = layoutgen_rt::image_sections!(layout::SECTIONS);

/// This kernel, to layoutgen-rt's runtime.
struct Kernel;

impl rt::Kernel for Kernel {
    type Console = Console;
    type Mode = layout::PagingMode;
    #[cfg(not(bare))]
    const LAYOUT: rt::Layout<layout::PagingMode> = layoutgen_rt::layout!(layout);
    #[cfg(bare)]
    const LAYOUT: rt::Layout<layout::PagingMode> = layoutgen_rt::layout!(machine layout);

    fn sections() -> rt::Sections {
        layoutgen_rt::sections!(layout)
    }

    fn main(boot: &'static Boot) -> ! {
        kmain(boot)
    }

    // The hooks, all optional.
    const NAME: &'static [u8] = b"sample-kernel";
    // M-mode firmware writes the finisher at the layout's `test` region;
    // an S-mode kernel uses the device tree's or QEMU's default.
    #[cfg(bare)]
    const EXIT_DEVICE: u64 = layout::bare::TEST.start;
    #[cfg(not(bare))]
    const EXIT_DEVICE: u64 = console::VIRT_TEST_FINISHER;

    fn exit_device(pa: u64) {
        console::FINISHER.store(pa, Ordering::Relaxed);
    }

    fn record(boot: &Boot) {
        // Once: the conversions of the running kernel read what this
        // records (one word each), never the mode (layout.rs, `Running`).
        let running = layout::Running::record(boot.mode)
            .unwrap_or_else(|| Console::fail(b"no layout for mode"));
        // Inside the linear map the image's conversions are the linear
        // map's: nothing to record.
        #[cfg(all(relocatable, not(image_in_linear_map)))]
        running.record_image(boot.run, boot.load);
        #[cfg(not(all(relocatable, not(image_in_linear_map))))]
        let _ = running;
    }

    #[cfg(relocatable)]
    fn rela_dyn() -> (u64, u64) {
        (
            layoutgen_rt::sym!("__rela_dyn_start"),
            layoutgen_rt::sym!("__rela_dyn_end"),
        )
    }

    fn trap(f: &mut TrapFrame, cause: u64, tval: u64) {
        trap_handler(f, cause, tval)
    }
}

// The trap entry goes to xv6's `trampsec` when the layout reserves a
// trampoline page for it (`cfg(trampoline)`), else to plain text.
#[cfg(trampoline)]
layoutgen_rt::entry!(Kernel, "trampsec");
#[cfg(not(trampoline))]
layoutgen_rt::entry!(Kernel);

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

/// Set once `kmain` runs at the link address (with paging on, or in M-mode
/// firmware from the start): `core::fmt` is usable from then on.
static FMT_READY: AtomicBool = AtomicBool::new(false);
static TRAP_DEPTH: AtomicU32 = AtomicU32::new(0);

fn trap_handler(f: &mut TrapFrame, cause: u64, tval: u64) {
    // Firmware: the next stage's SBI calls.
    #[cfg(bare)]
    if firmware::sbi(f, cause) {
        return;
    }
    if TRAP_DEPTH.fetch_add(1, Ordering::Relaxed) > 0 {
        Console::puts(b"\ntrap inside the trap handler\nRESULT: FAIL nested trap\n");
        // The fixmap may be what faults: leave by SBI instead. (M-mode
        // firmware has only the finisher, at its physical address.)
        #[cfg(not(bare))]
        console::FINISHER.store(0, Ordering::Relaxed);
        Console::exit(2);
    }
    if selftest::expected_fault(f, cause, tval) {
        TRAP_DEPTH.fetch_sub(1, Ordering::Relaxed);
        return;
    }
    layoutgen_rt::selftest::unexpected_trap::<Console>(&[
        (concat!(x!(), "cause"), cause),
        (concat!(x!(), "epc"), f.epc),
        (concat!(x!(), "tval"), tval),
    ])
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    layoutgen_rt::selftest::panic::<Console>(info, FMT_READY.load(Ordering::Relaxed))
}

/// Runs at the image's virtual address with paging on (M-mode firmware: at
/// its physical address). By name: the self-checks look its symbol up.
#[unsafe(no_mangle)]
fn kmain(boot: &'static Boot) -> ! {
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
    workload::report(boot.relocations, boot.relocation_cost);
    if layoutgen_rt::fdt::flag(boot.info.bootargs(), b"hold") {
        // `hold`: stay up, so the tests can dump the page tables through
        // QEMU's monitor (tests/integration/page_tables.rs), `info mem` or
        // a RAM image walked from the root table satp names.
        let satp: u64;
        // SAFETY: reads a CSR, no side effect.
        unsafe { core::arch::asm!("csrr {}, satp", out(reg) satp) };
        Console::puts(b"tables: root=");
        Console::put_hex((satp & ((1 << 44) - 1)) << 12);
        Console::puts(b"\n");
        layoutgen_rt::selftest::hold::<Console>(failures)
    }
    // Firmware with a next stage (QEMU `-kernel`): start it instead of
    // powering off.
    #[cfg(bare)]
    if let Some(next) = firmware::next_stage(boot).filter(|_| failures == 0) {
        firmware::enter(boot, next)
    }
    layoutgen_rt::selftest::finish::<Console>(failures)
}
