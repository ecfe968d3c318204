//! Conversion probes: `virt <-> phys` done the way this kernel does it at
//! run time, in functions of their own so a test can disassemble them
//! (`tests/integration/code_models.rs`) and `scripts/bench-code-models --conversions`
//! can count their instructions, loads and branches per layout.
//!
//! - A layout whose linear map is at one address in every mode it lists
//!   (`cfg(mode_free_linear)`: one mode, or `qemu-virt-multi-onemap`) uses
//!   the generated mode-free `phys_to_virt`/`virt_to_phys`: an add of a
//!   constant.
//! - A multi-mode layout whose linear map moves with the mode goes through
//!   the boot-selected mode's layout (`layout_for(mode).phys_to_virt(pa)`),
//!   as Linux's `__va` reads `kernel_map.va_pa_offset`.
//! - The image's own addresses: a constant for a fixed image; for a
//!   relocatable one the run-time offset chosen at boot, as Linux's
//!   `__pa` of a kernel address reads `kernel_map.va_kernel_pa_offset`;
//!   for one that runs inside the linear map at the address the boot
//!   loader chose (`cfg(image_in_linear_map)`), the linear conversion.

use crate::early::Boot;
use crate::layout;

#[cfg(not(mode_free_linear))]
fn current() -> &'static layout::ModeLayout {
    // SAFETY: BOOT is written before paging and only read afterwards.
    #[allow(clippy::deref_addrof)] // `BOOT` is a static mut
    let mode = unsafe { (*(&raw const crate::early::BOOT)).mode };
    match layout::layout_for(mode) {
        Some(l) => l,
        None => crate::console::fail(b"no layout for the current mode"),
    }
}

/// Linear-map address of `pa`.
#[inline(never)]
#[unsafe(no_mangle)]
pub extern "C" fn probe_phys_to_virt(pa: u64) -> u64 {
    #[cfg(mode_free_linear)]
    return layout::phys_to_virt(pa);
    #[cfg(not(mode_free_linear))]
    return current().phys_to_virt(pa);
}

/// Physical address of a linear-map address.
#[inline(never)]
#[unsafe(no_mangle)]
pub extern "C" fn probe_virt_to_phys(va: u64) -> u64 {
    #[cfg(mode_free_linear)]
    return layout::virt_to_phys(va);
    #[cfg(not(mode_free_linear))]
    return current().virt_to_phys(va);
}

/// Physical address of an address inside the running image.
#[inline(never)]
#[unsafe(no_mangle)]
pub extern "C" fn probe_kernel_virt_to_phys(va: u64) -> u64 {
    #[cfg(not(relocatable))]
    return layout::kernel_virt_to_phys(va);
    // The image runs at `phys_to_virt(pa)` (src/placement.rs): one
    // conversion for the linear map and the image, no offset to load.
    #[cfg(all(relocatable, image_in_linear_map))]
    return layout::virt_to_phys(va);
    #[cfg(all(relocatable, not(image_in_linear_map)))]
    {
        // SAFETY: BOOT is written before paging and only read afterwards.
        #[allow(clippy::deref_addrof)] // `BOOT` is a static mut
        let b = unsafe { &*(&raw const crate::early::BOOT) };
        va.wrapping_sub(b.run)
            .wrapping_add(crate::placement::load_pa())
    }
}

/// The probes agree with the conversions the checks use; prints one check
/// line and returns the number of failures (0 or 1).
pub fn check(boot: &Boot) -> u32 {
    use core::hint::black_box;
    let ml = layout::layout_for(boot.mode).expect("mode chosen at boot");
    let (start, size) = boot.info.ram[0];
    let mut ok = true;
    for pa in [start, start + size / 2, start + size - 8] {
        let va = black_box(probe_phys_to_virt)(black_box(pa));
        ok &= va == ml.phys_to_virt(pa) && black_box(probe_virt_to_phys)(black_box(va)) == pa;
    }
    let here = layoutgen_rt::sym!("kmain");
    let pa = black_box(probe_kernel_virt_to_phys)(black_box(here));
    ok &= pa
        == here
            .wrapping_sub(boot.run)
            .wrapping_add(crate::placement::load_pa());
    crate::println!("check probes: {}", if ok { "ok" } else { "FAIL" });
    u32::from(!ok)
}
