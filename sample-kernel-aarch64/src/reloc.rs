//! Self-relocation of the PIE image, as arm64 Linux's `__relocate_kernel`
//! does: the code is PC-relative and moves by itself; only absolute data
//! words (vtables, `&'static` pointers, the generated region table) need
//! fixing. The `-pie` link (build.rs) lists each as an `R_AARCH64_RELATIVE`
//! entry of `.rela.dyn`, which the generated linker script brackets with
//! `__rela_dyn_start`/`__rela_dyn_end`.
//!
//! Runs before paging: each word is written through its physical address.

use crate::layout::{IMAGE_LINK_ADDRESS, IMAGE_MAX_SIZE, LOAD_ADDRESS};
use crate::sym;

const R_AARCH64_NONE: u64 = 0;
const R_AARCH64_RELATIVE: u64 = 1027;

#[repr(C)]
struct Rela {
    offset: u64,
    info: u64,
    addend: i64,
}

/// Writes `run + (addend - link)` into every relocated word, that is the
/// word's value for an image running at `run`; returns how many there were.
pub fn relocate(run: u64) -> Result<u64, &'static [u8]> {
    let (start, end) = (sym!("__rela_dyn_start"), sym!("__rela_dyn_end"));
    let delta = run.wrapping_sub(IMAGE_LINK_ADDRESS);
    let size = core::mem::size_of::<Rela>() as u64;
    let mut count = 0;
    let mut p = start;
    while p + size <= end {
        // SAFETY: `.rela.dyn` lies between the two linker-script symbols,
        // 8-aligned.
        let r = unsafe { (p as *const Rela).read_volatile() };
        let kind = r.info & 0xffff_ffff;
        if kind == R_AARCH64_RELATIVE {
            let at = r
                .offset
                .wrapping_sub(IMAGE_LINK_ADDRESS)
                .wrapping_add(LOAD_ADDRESS);
            if at < LOAD_ADDRESS || at + 8 > LOAD_ADDRESS + IMAGE_MAX_SIZE {
                return Err(b"dynamic relocation outside the image");
            }
            if !at.is_multiple_of(8) {
                // The MMU is off: memory is Device, no unaligned accesses.
                return Err(b"unaligned dynamic relocation");
            }
            // SAFETY: an aligned word inside the loaded image.
            unsafe { (at as *mut u64).write_volatile((r.addend as u64).wrapping_add(delta)) };
            count += 1;
        } else if kind != R_AARCH64_NONE {
            return Err(b"unsupported dynamic relocation (only R_AARCH64_RELATIVE is handled)");
        }
        p += size;
    }
    Ok(count)
}
