//! Self-relocation of the semi-PIC image, as Linux's `relocate_kernel()`
//! (arch/riscv/mm/init.c) does: the code is medany (PC-relative) and moves
//! by itself; only absolute data words (vtables, `&'static` pointers, jump
//! tables of the non-PIC libcore) need fixing. The link (`-pie -z notext
//! --apply-dynamic-relocs`, see build.rs) lists each such word as an
//! `R_RISCV_RELATIVE` entry of `.rela.dyn`.
//!
//! Runs before paging: each word is written through its physical address.

use crate::layout::{IMAGE_LINK_ADDRESS, IMAGE_MAX_SIZE};
use crate::sym;

const R_RISCV_NONE: u64 = 0;
const R_RISCV_RELATIVE: u64 = 3;

#[repr(C)]
struct Rela {
    offset: u64,
    info: u64,
    addend: i64,
}

/// Adds `delta` (run address - link address) to every relocated word;
/// returns how many there were.
pub fn relocate(delta: u64) -> Result<u64, &'static [u8]> {
    let (start, end) = (sym!("__rela_dyn_start"), sym!("__rela_dyn_end"));
    let mut count = 0;
    let load = crate::placement::load_pa();
    let mut p = start;
    while p + core::mem::size_of::<Rela>() as u64 <= end {
        // SAFETY: `.rela.dyn` lies between the two linker-script symbols.
        let r = unsafe { (p as *const Rela).read() };
        let kind = r.info & 0xffff_ffff;
        if kind == R_RISCV_RELATIVE {
            let at = r.offset.wrapping_sub(IMAGE_LINK_ADDRESS).wrapping_add(load);
            if at < load || at + 8 > load + IMAGE_MAX_SIZE {
                return Err(b"dynamic relocation outside the image");
            }
            // SAFETY: the word lies inside the loaded image.
            unsafe { (at as *mut u64).write_unaligned((r.addend as u64).wrapping_add(delta)) };
            count += 1;
        } else if kind != R_RISCV_NONE {
            return Err(b"unsupported dynamic relocation (only R_RISCV_RELATIVE is handled)");
        }
        p += core::mem::size_of::<Rela>() as u64;
    }
    Ok(count)
}
