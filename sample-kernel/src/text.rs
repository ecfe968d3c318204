//! Text output on top of a console's `putc`, architecture-neutral: shared by
//! `sample-kernel` and `sample-kernel-aarch64` (each console module includes
//! it with `#[path]` and re-exports it). `puts`/`put_hex` are plain byte
//! loops, safe before paging; `Console` (and `println!`) go through
//! `core::fmt`, which follows absolute pointers, so only after paging.

use super::putc;

pub fn puts(s: &[u8]) {
    let mut i = 0;
    while i < s.len() {
        putc(s[i]);
        i += 1;
    }
}

pub fn put_hex(v: u64) {
    puts(b"0x");
    let mut shift = 60i32;
    let mut started = false;
    while shift >= 0 {
        let d = ((v >> shift) & 0xf) as u8;
        if d != 0 || started || shift == 0 {
            started = true;
            putc(if d < 10 { b'0' + d } else { b'a' + d - 10 });
        }
        shift -= 4;
    }
}

pub struct Console;

impl core::fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        puts(s.as_bytes());
        Ok(())
    }
}

#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = writeln!($crate::console::Console, $($arg)*);
    }};
}
