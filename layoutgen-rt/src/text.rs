//! Text output on top of a console's `putc`, architecture-neutral.
//!
//! A kernel implements [`Putc`] for a type of its own (the SBI console, a
//! PL011, ...) and calls [`puts`]/[`put_hex`] with it: plain byte loops,
//! safe before paging (generic, so compiled in the kernel's crate, and
//! reading nothing but the bytes they are given). [`Writer`] and
//! [`println`] go through `core::fmt`, which follows absolute pointers
//! (vtables), so only once the kernel runs at its link-time virtual address.

use core::fmt;
use core::marker::PhantomData;

/// Where text goes: one byte at a time. A console implements `putc` and
/// gets [`puts`](Putc::puts) and [`put_hex`](Putc::put_hex) as
/// `Console::puts(b"...")`, the functions of the same name for it.
pub trait Putc {
    fn putc(c: u8);

    /// [`puts`](fn@puts) on this console (safe before paging).
    fn puts(s: &[u8])
    where
        Self: Sized,
    {
        puts::<Self>(s)
    }

    /// [`put_hex`](fn@put_hex) on this console (safe before paging).
    fn put_hex(v: u64)
    where
        Self: Sized,
    {
        put_hex::<Self>(v)
    }
}

pub fn puts<P: Putc>(s: &[u8]) {
    let mut i = 0;
    while i < s.len() {
        P::putc(s[i]);
        i += 1;
    }
}

/// `v` in lower-case hex with a `0x` prefix and no leading zeros.
pub fn put_hex<P: Putc>(v: u64) {
    puts::<P>(b"0x");
    let mut shift = 60i32;
    let mut started = false;
    while shift >= 0 {
        let d = ((v >> shift) & 0xf) as u8;
        if d != 0 || started || shift == 0 {
            started = true;
            P::putc(if d < 10 { b'0' + d } else { b'a' + d - 10 });
        }
        shift -= 4;
    }
}

/// `core::fmt` output to `P` (only with paging on, see the module docs).
pub struct Writer<P>(PhantomData<P>);

impl<P> Writer<P> {
    pub const fn new() -> Self {
        Writer(PhantomData)
    }
}

impl<P> Default for Writer<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Putc> fmt::Write for Writer<P> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        puts::<P>(s.as_bytes());
        Ok(())
    }
}

/// `args` and a newline: what a kernel's `println!` expands to,
/// `layoutgen_rt::text::println::<Console>(format_args!(...))`.
pub fn println<P: Putc>(args: fmt::Arguments) {
    let _ = fmt::write(&mut Writer::<P>::new(), args);
    puts::<P>(b"\n");
}

/// String equality in `const` context (for compile-time checks of
/// generated tables).
pub const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The strings of a slice with a separator between them, as `Display`.
pub struct Joined<'a>(pub &'a [&'a str], pub &'a str);

impl fmt::Display for Joined<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(self.1)?;
            }
            f.write_str(s)?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::cell::RefCell;

    thread_local! {
        static OUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }

    /// A console that collects what is written, per test thread.
    pub(crate) struct Buffer;

    impl Putc for Buffer {
        fn putc(c: u8) {
            OUT.with(|o| o.borrow_mut().push(c));
        }
    }

    impl Buffer {
        /// What was written since the last call.
        pub(crate) fn take() -> String {
            String::from_utf8(OUT.with(|o| core::mem::take(&mut *o.borrow_mut()))).unwrap()
        }
    }

    #[test]
    fn bytes_and_hex() {
        Buffer::take();
        puts::<Buffer>(b"entered at ");
        put_hex::<Buffer>(0x8020_0000);
        puts::<Buffer>(b" ");
        put_hex::<Buffer>(0);
        puts::<Buffer>(b" ");
        put_hex::<Buffer>(u64::MAX);
        puts::<Buffer>(b" ");
        put_hex::<Buffer>(0xa0b);
        assert_eq!(
            Buffer::take(),
            "entered at 0x80200000 0x0 0xffffffffffffffff 0xa0b"
        );
    }

    #[test]
    fn the_console_methods_are_the_functions() {
        Buffer::take();
        Buffer::puts(b"pt_pages ");
        Buffer::put_hex(0x5);
        assert_eq!(Buffer::take(), "pt_pages 0x5");
    }

    #[test]
    fn formatted_lines() {
        Buffer::take();
        println::<Buffer>(format_args!("check {}: {}", "symbols", "ok"));
        println::<Buffer>(format_args!("{:#x}", 0x1234u64));
        assert_eq!(Buffer::take(), "check symbols: ok\n0x1234\n");
    }

    #[test]
    fn const_string_equality() {
        const { assert!(same("text", "text") && !same("text", "tex") && !same("data", "bss ")) };
        assert!(same("", ""));
        assert!(!same("rodata", "rodatA"));
    }

    #[test]
    fn joined() {
        assert_eq!(Joined(&["sv39", "sv48"], ",").to_string(), "sv39,sv48");
        assert_eq!(Joined(&["va48"], ",").to_string(), "va48");
        assert_eq!(Joined(&[], ",").to_string(), "");
    }
}
