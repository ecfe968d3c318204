//! Conversion probes: `virt <-> phys` done the way this kernel does it at
//! run time, in functions of their own so a test can disassemble them
//! (`tests/integration/code_models.rs`) and `scripts/bench-code-models --conversions`
//! can count their instructions, loads and branches per layout.
//!
//! All go through the generated `Running` (layout.rs): the boot code
//! recorded the mode and, for a relocatable image, where it runs.
//! - A layout whose linear map is at one address in every mode it lists
//!   (one mode, or `qemu-virt-multi-onemap`): an add of a constant.
//! - A multi-mode layout whose linear map moves with the mode: one load of
//!   the recorded offset and an add, as Linux's `__va` reads
//!   `kernel_map.va_pa_offset`.
//! - The image's own addresses: a constant for a fixed image; for a
//!   relocatable one one load of the recorded run-time offset, as Linux's
//!   `__pa` of a kernel address reads `kernel_map.va_kernel_pa_offset`.

use crate::Boot;
use crate::layout;

/// The conversions' proof that the mode was recorded. The probes are
/// `extern "C"` functions that cannot carry the token; the runtime's `record` hook
/// recorded the mode (and the image's place) before paging, long before
/// anything calls them.
fn running() -> layout::Running {
    // SAFETY: recorded in the runtime's `record` hook, before paging is turned on.
    unsafe { layout::Running::assume_recorded() }
}

/// Linear-map address of `pa`.
#[inline(never)]
#[unsafe(no_mangle)]
pub extern "C" fn probe_phys_to_virt(pa: u64) -> u64 {
    running().phys_to_virt(pa)
}

/// Physical address of a linear-map address.
#[inline(never)]
#[unsafe(no_mangle)]
pub extern "C" fn probe_virt_to_phys(va: u64) -> u64 {
    running().virt_to_phys(va)
}

/// Physical address of an address inside the running image.
#[inline(never)]
#[unsafe(no_mangle)]
pub extern "C" fn probe_kernel_virt_to_phys(va: u64) -> u64 {
    running().kernel_virt_to_phys(va)
}

/// Address inside the running image of a physical address.
#[inline(never)]
#[unsafe(no_mangle)]
pub extern "C" fn probe_kernel_phys_to_virt(pa: u64) -> u64 {
    running().kernel_phys_to_virt(pa)
}

/// The probes agree with the layout's constants and with the live page
/// tables (a page-table walk from the root the kernel runs on); prints one
/// check line and returns the number of failures (0 or 1).
pub fn check(boot: &Boot) -> u32 {
    use core::hint::black_box;
    let ml = layout::layout_for(boot.mode).expect("mode chosen at boot");
    let walk = |va| crate::selftest::translate(boot, ml, va);
    let (start, size) = boot.info.ram[0];
    let mut ok = running().mode() == boot.mode;
    for pa in [start, start + size / 2, start + size - 8] {
        let va = black_box(probe_phys_to_virt)(black_box(pa));
        ok &= va == ml.phys_to_virt(pa)
            && walk(va) == Some(pa)
            && black_box(probe_virt_to_phys)(black_box(va)) == pa;
    }
    let here = layoutgen_rt::sym!("kmain");
    let pa = black_box(probe_kernel_virt_to_phys)(black_box(here));
    ok &= pa == here.wrapping_sub(boot.run).wrapping_add(boot.load)
        && walk(here) == Some(pa)
        && black_box(probe_kernel_phys_to_virt)(black_box(pa)) == here;
    crate::println!("check probes: {}", if ok { "ok" } else { "FAIL" });
    u32::from(!ok)
}
