//! The kernel image as the generated linker script lays it out, seen from
//! the code that runs before paging: its sections' bounds and permissions,
//! and the pointers its data holds.
//!
//! The bundled kernels' images have four sections, [`SECTION_IDS`]; the
//! linker script brackets each with `__<id>_start` and the image with
//! `__image_start`/`__image_end`. [`sym!`](crate::sym!) reads such a
//! symbol's address PC-relatively: the physical address before paging, the
//! virtual one after.

#[cfg(test)]
use crate::paging::Flags;

/// The image sections the kernels expect, in link order; their start
/// symbols are `__<id>_start`. [`image_sections!`](crate::image_sections!)
/// checks a generated `SECTIONS` table against them.
pub const SECTION_IDS: [&str; 4] = ["text", "rodata", "data", "bss"];

/// The address of a linker symbol, computed PC-relatively (`lla` on
/// riscv64, `adrp`/`add` on aarch64): the physical address before paging,
/// the virtual one after. A macro, not a function: the symbol's name is
/// part of the instruction, and the instruction sits where it is used.
#[cfg(any(target_arch = "riscv64", target_arch = "aarch64"))]
#[macro_export]
macro_rules! sym {
    ($name:literal) => {{
        let a: u64;
        // SAFETY: only computes an address.
        #[cfg(target_arch = "riscv64")]
        unsafe {
            core::arch::asm!(concat!("lla {0}, ", $name), out(reg) a,
                options(nomem, nostack, pure, preserves_flags))
        };
        // SAFETY: only computes an address.
        #[cfg(target_arch = "aarch64")]
        unsafe {
            core::arch::asm!(
                concat!("adrp {0}, ", $name, "\nadd {0}, {0}, :lo12:", $name),
                out(reg) a,
                options(nomem, nostack, pure, preserves_flags)
            )
        };
        a
    }};
}

/// The address of a linker symbol: riscv64 and aarch64 only.
#[cfg(not(any(target_arch = "riscv64", target_arch = "aarch64")))]
#[macro_export]
macro_rules! sym {
    ($name:literal) => {
        compile_error!("layoutgen_rt::sym! reads linker symbols on riscv64 and aarch64 only")
    };
}

/// Each section's start, in [`SECTION_IDS`] order, then the image end:
/// physical addresses before paging, virtual ones after (see
/// [`sym!`](crate::sym!)).
#[cfg(any(target_arch = "riscv64", target_arch = "aarch64"))]
pub fn section_bounds() -> [u64; 5] {
    [
        crate::sym!("__text_start"),
        crate::sym!("__rodata_start"),
        crate::sym!("__data_start"),
        crate::sym!("__bss_start"),
        crate::sym!("__image_end"),
    ]
}

/// The [`Flags`] of a generated `SECTIONS` table (layoutgen's `layout.rs`:
/// entries with `id` and `perms.{read,write,execute}`), in order, usable in
/// a `const`; fails to compile unless the sections are [`SECTION_IDS`], the
/// ones `section_bounds` reads. The one bridge from a kernel's generated
/// types to this crate's plain values:
/// `const SECTION_FLAGS: [Flags; 4] = layoutgen_rt::image_sections!(layout::SECTIONS);`
#[macro_export]
macro_rules! image_sections {
    (@flags $sections:path, $($i:literal),*) => {
        [$($crate::paging::Flags::rwx(
            $sections[$i].perms.read,
            $sections[$i].perms.write,
            $sections[$i].perms.execute,
        )),*]
    };
    ($sections:path) => {{
        const _: () = assert!(
            $sections.len() == 4
                && $crate::text::same($sections[0].id, $crate::image::SECTION_IDS[0])
                && $crate::text::same($sections[1].id, $crate::image::SECTION_IDS[1])
                && $crate::text::same($sections[2].id, $crate::image::SECTION_IDS[2])
                && $crate::text::same($sections[3].id, $crate::image::SECTION_IDS[3]),
            "the image sections must be text, rodata, data, bss (layoutgen_rt::image::SECTION_IDS)"
        );
        $crate::image_sections!(@flags $sections, 0, 1, 2, 3)
    }};
}

/// A usable address, before paging, for a pointer into the image that was
/// loaded at `load`, `size` bytes at most. A pointer read from the image's
/// data holds a virtual address: the link address's, or once the image's
/// relocations are applied, the run address's (`words_at`, either way: the
/// address the image's first byte has in those words). One the compiler
/// materialised itself (PC-relative, e.g. after constant-folding a `const`)
/// is already physical. Which one a given pointer is depends on the
/// optimiser, so look at the value.
pub fn early_addr(ptr: u64, words_at: u64, load: u64, size: u64) -> u64 {
    if ptr.wrapping_sub(words_at) < size {
        ptr.wrapping_sub(words_at).wrapping_add(load)
    } else {
        ptr
    }
}

/// The entry called `name` of a generated table (a mode's regions), read
/// before paging: `table` and `len` are the table as the image holds it,
/// `name_of` gives an entry's name (pointer and length, as held), `early`
/// makes an image pointer usable ([`early_addr`]).
///
/// # Safety
/// Once passed through `early`, `table` must point to `len` readable `T`s
/// and each entry's name pointer to that many readable bytes.
pub unsafe fn find_named<T: Copy>(
    table: *const T,
    len: usize,
    name: &[u8],
    name_of: impl Fn(&T) -> (*const u8, usize),
    early: impl Fn(u64) -> u64,
) -> Option<T> {
    let base = early(table as u64) as *const T;
    let mut i = 0;
    while i < len {
        // SAFETY: the caller's contract.
        let entry = unsafe { base.add(i).read() };
        let (n, n_len) = name_of(&entry);
        let n = early(n as u64) as *const u8;
        let mut same = n_len == name.len();
        let mut j = 0;
        while same && j < name.len() {
            // SAFETY: within the entry's name (the caller's contract).
            same = unsafe { n.add(j).read() } == name[j];
            j += 1;
        }
        if same {
            return Some(entry);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paging::flags_at;

    const RX: Flags = Flags::R.union(Flags::X);
    const RW: Flags = Flags::R.union(Flags::W);

    /// The shape of the generated `layout.rs` tables the macro reads.
    struct Perms {
        read: bool,
        write: bool,
        execute: bool,
    }
    struct Section {
        id: &'static str,
        perms: Perms,
    }
    const fn section(id: &'static str, read: bool, write: bool, execute: bool) -> Section {
        Section {
            id,
            perms: Perms {
                read,
                write,
                execute,
            },
        }
    }
    const SECTIONS: [Section; 4] = [
        section("text", true, false, true),
        section("rodata", true, false, false),
        section("data", true, true, false),
        section("bss", true, true, false),
    ];

    #[test]
    fn generated_sections_to_flags() {
        const FLAGS: [Flags; 4] = crate::image_sections!(SECTIONS);
        assert_eq!(FLAGS, [RX, Flags::R, RW, RW]);
    }

    #[test]
    fn flags_by_section() {
        let bounds = [0x1000, 0x3000, 0x4000, 0x6000, 0x7000];
        let sections = [RX, Flags::R, RW, RW];
        let at = |pa| flags_at(&bounds, &sections, pa);
        assert_eq!(
            [0x1000, 0x2fff, 0x3000, 0x4000, 0x6fff, 0x7000, 0x8000].map(at),
            [RX, RX, Flags::R, RW, RW, RW, RW]
        );
        // An empty section (rodata here) owns no address.
        let bounds = [0x1000, 0x3000, 0x3000, 0x6000, 0x7000];
        assert_eq!(flags_at(&bounds, &sections, 0x3000), RW);
    }

    #[test]
    fn image_pointers_become_physical() {
        let (link, load, size) = (0xffff_ffff_8020_0000, 0x8020_0000, 0x200_0000);
        assert_eq!(early_addr(link + 0x1234, link, load, size), 0x8020_1234);
        assert_eq!(early_addr(link + size, link, load, size), link + size);
        assert_eq!(early_addr(0x8020_1234, link, load, size), 0x8020_1234);
        // Relocated words hold the run address instead.
        let run = 0xffff_ffd5_e9c0_0000;
        assert_eq!(early_addr(run + 8, run, load, size), load + 8);
    }

    #[derive(Clone, Copy)]
    struct Region {
        name: &'static str,
        start: u64,
    }

    #[test]
    fn tables_found_by_name() {
        let regions = [
            Region {
                name: "linear_map",
                start: 1,
            },
            Region {
                name: "fix",
                start: 2,
            },
            Region {
                name: "fixmap",
                start: 3,
            },
        ];
        let find = |name: &[u8]| {
            // SAFETY: a table and names in host memory, used as they are.
            unsafe {
                find_named(
                    regions.as_ptr(),
                    regions.len(),
                    name,
                    |r: &Region| (r.name.as_ptr(), r.name.len()),
                    |p| p,
                )
            }
            .map(|r| r.start)
        };
        assert_eq!(find(b"fixmap"), Some(3));
        assert_eq!(find(b"fix"), Some(2));
        assert_eq!(find(b"linear"), None);
        assert_eq!(find(b""), None);
    }
}
