//! Self-relocation of a position-independent image, as Linux's
//! `relocate_kernel()` (riscv) and `__relocate_kernel` (arm64) do: the code
//! is PC-relative and moves by itself; only absolute data words (vtables,
//! `&'static` pointers, jump tables of the non-PIC libcore, the generated
//! region table) need fixing. A `-pie` link lists each such word as a
//! `*_RELATIVE` entry of `.rela.dyn`, which the generated linker script
//! brackets with `__rela_dyn_start`/`__rela_dyn_end`.
//!
//! Runs before paging: each word is written through its physical address.

use crate::Error;

/// One `Elf64_Rela`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Rela {
    pub offset: u64,
    pub info: u64,
    pub addend: i64,
}

/// An architecture's relocation types, as [`relocate`] needs them.
#[derive(Clone, Copy)]
pub struct Arch {
    /// `R_*_NONE`: skipped.
    pub none: u32,
    /// `R_*_RELATIVE`: the one type applied.
    pub relative: u32,
    /// Words must be 8-aligned (aarch64 with the MMU off: all memory is
    /// Device memory, which faults on unaligned accesses).
    pub aligned: bool,
}

pub const RISCV64: Arch = Arch {
    none: 0,
    relative: 3,
    aligned: false,
};

pub const AARCH64: Arch = Arch {
    none: 0,
    relative: 1027,
    aligned: true,
};

/// The image as the relocations see it.
#[derive(Clone, Copy)]
pub struct Image {
    /// Its first byte's link-time virtual address (the `r_offset` base).
    pub link: u64,
    /// Its first byte's physical address now.
    pub load: u64,
    /// Its size at most.
    pub size: u64,
}

/// Adds `delta` (run address - link address) to the addend of every
/// `R_*_RELATIVE` entry in `[start, end)` and writes the result into the
/// word it names, through the image's load address; returns how many there
/// were. Fails on another type (`unsupported`, an error naming the
/// architecture's type) or a word outside the image.
///
/// # Safety
/// `[start, end)` must hold readable, 8-aligned `Elf64_Rela` entries and
/// the image's `size` bytes at `load` must be writable.
pub unsafe fn relocate(
    arch: Arch,
    start: u64,
    end: u64,
    image: Image,
    delta: u64,
    unsupported: Error,
) -> Result<u64, Error> {
    let size = core::mem::size_of::<Rela>() as u64;
    let mut count = 0;
    let mut p = start;
    while p + size <= end {
        // SAFETY: the caller's contract.
        let r = unsafe { (p as *const Rela).read_volatile() };
        let kind = (r.info & 0xffff_ffff) as u32;
        if kind == arch.relative {
            let at = r.offset.wrapping_sub(image.link).wrapping_add(image.load);
            if at < image.load || at + 8 > image.load + image.size {
                return Err(b"dynamic relocation outside the image");
            }
            let value = (r.addend as u64).wrapping_add(delta);
            if arch.aligned {
                if !at.is_multiple_of(8) {
                    return Err(b"unaligned dynamic relocation");
                }
                // SAFETY: an aligned word inside the loaded image.
                unsafe { (at as *mut u64).write_volatile(value) };
            } else {
                // SAFETY: a word inside the loaded image.
                unsafe { (at as *mut u64).write_unaligned(value) };
            }
            count += 1;
        } else if kind != arch.none {
            return Err(unsupported);
        }
        p += size;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: u64 = 0xffff_ffff_8020_0000;

    fn rela(offset: u64, kind: u32, addend: u64) -> Rela {
        Rela {
            offset: LINK.wrapping_add(offset),
            info: kind as u64,
            addend: LINK.wrapping_add(addend) as i64,
        }
    }

    /// Applies `relas` to a 64-word image; returns the result and the
    /// image.
    fn apply(arch: Arch, relas: &[Rela], delta: u64) -> (Result<u64, Error>, Vec<u64>) {
        let mut image = vec![0u64; 64];
        let img = Image {
            link: LINK,
            load: image.as_mut_ptr() as u64,
            size: 64 * 8,
        };
        let start = relas.as_ptr() as u64;
        let end = start + core::mem::size_of_val(relas) as u64;
        // SAFETY: the entries and the image are ours.
        let r = unsafe { relocate(arch, start, end, img, delta, b"unsupported") };
        (r, image)
    }

    #[test]
    fn relative_words_get_the_run_address() {
        let delta = 0x1000_0000u64.wrapping_neg();
        let relas = [
            rela(0x10, 3, 0x100),
            rela(0x18, 0, 0),
            rela(0x1f8, 3, 0x1234),
        ];
        let (r, image) = apply(RISCV64, &relas, delta);
        assert_eq!(r, Ok(2));
        assert_eq!(image[2], (LINK + 0x100).wrapping_add(delta));
        assert_eq!(image[3], 0, "R_RISCV_NONE");
        assert_eq!(image[63], (LINK + 0x1234).wrapping_add(delta));
        // aarch64's numbers: R_AARCH64_RELATIVE is 1027.
        let (r, image) = apply(AARCH64, &[rela(0, 1027, 8)], 0);
        assert_eq!((r, image[0]), (Ok(1), LINK + 8));
    }

    #[test]
    fn unaligned_words_where_the_architecture_allows_them() {
        let (r, image) = apply(RISCV64, &[rela(4, 3, 0)], 0);
        assert_eq!(r, Ok(1));
        assert_eq!(image[0] >> 32 | image[1] << 32, LINK);
        let (r, _) = apply(AARCH64, &[rela(4, 1027, 0)], 0);
        assert_eq!(r, Err(&b"unaligned dynamic relocation"[..]));
    }

    #[test]
    fn other_types_and_stray_words_are_errors() {
        let (r, image) = apply(RISCV64, &[rela(0, 3, 1), rela(8, 2, 0)], 0);
        assert_eq!(r, Err(&b"unsupported"[..]));
        assert_eq!(image[0], LINK + 1, "applied up to the bad entry");
        for offset in [0x1fc, 0x200, 0u64.wrapping_sub(8)] {
            let (r, _) = apply(RISCV64, &[rela(offset, 3, 0)], 0);
            assert_eq!(r, Err(&b"dynamic relocation outside the image"[..]));
        }
        let (r, _) = apply(AARCH64, &[], 0);
        assert_eq!(r, Ok(0));
    }
}
