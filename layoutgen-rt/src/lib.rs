//! What layoutgen's two sample kernels (`sample-kernel/`, riscv64, and
//! `sample-kernel-aarch64/`) have in common, in one `no_std` crate with no
//! dependencies:
//!
//! - [`fdt`]: the flattened-device-tree reader (RAM ranges, bootargs,
//!   KASLR seed, finisher, UART, PSCI conduit) and the command-line helpers.
//! - [`text`]: byte output on top of a console's `putc` ([`text::Putc`]),
//!   hex numbers, and `core::fmt` output once that is usable.
//! - [`paging`]: an architecture-neutral page-table builder and walker, with
//!   the riscv64 (Sv39/Sv48/Sv57 PTE) and aarch64 (4 KiB granule
//!   descriptor) encodings in [`paging::riscv64`] and [`paging::aarch64`].
//! - [`image`]: the image before paging: section bounds and permissions,
//!   pointers read from the image's data, the linker-symbol macro [`sym!`].
//! - [`kaslr`]: choosing a KASLR slot from a seed.
//! - [`reloc`]: applying the image's `*_RELATIVE` relocations.
//! - [`rt`]: the runtime: [`entry!`], [`rt::Kernel`], [`layout!`],
//!   [`sections!`].
//! - [`selftest`]: the `check NAME: ok` / `RESULT:` reporter and the
//!   self-checks both kernels run once paging is on.
//!
//! The API takes plain values (addresses, sizes, [`paging::Flags`], slices
//! of RAM ranges and section bounds), not a kernel's generated `layout.rs`
//! types; the one bridge from those is [`image_sections!`].
//!
//! # Before paging
//!
//! A kernel calls much of this at its physical load address with the MMU
//! off, where the absolute addresses the image was linked with are not
//! mapped. That code is written to need none: no `core::fmt`, no `dyn`
//! (vtables), no statics, no function pointers, loops instead of iterator
//! chains over tables of pointers, and errors as byte-string literals (their
//! address is computed PC-relatively where they are named). Jump tables
//! (absolute addresses in `.rodata`) are ruled out by the kernels'
//! `-C jump-tables=no` (their `.cargo/config.toml`), which cargo applies to
//! every crate built for the target, this one included: a kernel that uses
//! this crate must set it too. Generic functions (everything that takes a
//! console, a closure or an [`paging::Encoding`]) are compiled in the
//! kernel's crate with its flags; the rest is compiled here with the
//! target's default code model, which on riscv64 (medany) and aarch64
//! (small) reaches code and data PC-relatively. So nothing needs
//! `#[inline(always)]` to stay position-independent: what must be
//! PC-relative whatever the flags, a linker symbol's address, is the
//! [`sym!`] macro, whose `lla` or `adrp`/`add` sits at the use site.
//!
//! # The runtime
//!
//! [`rt`] puts these pieces together in the manner of `riscv-rt`: the
//! entry from the loader, BSS and stack set-up, a trap-vector hook, the
//! early page tables built from the generated layout, the jump to the
//! kernel's virtual address, then the kernel's [`rt::Kernel::main`]
//! (docs/runtime.md), on riscv64 ([`rt::riscv64`]) and aarch64
//! ([`rt::aarch64`]).

#![cfg_attr(not(test), no_std)]

pub mod fdt;
pub mod image;
pub mod kaslr;
pub mod paging;
pub mod reloc;
pub mod rt;
pub mod selftest;
pub mod text;

/// Errors before paging: static byte strings, printable with
/// [`text::puts`] without `core::fmt`.
pub type Error = &'static [u8];
