//! How numbers are written for people and in generated text: one place, so
//! every output spells an address or a size the same way.

/// `0xffffffff80000000`: lower case, no separators (messages, JSON).
pub fn hex(v: u64) -> String {
    format!("{v:#x}")
}

/// Formats a size with the largest binary unit that divides it exactly.
pub fn human_size(size: u128) -> String {
    const UNITS: [(&str, u32); 6] = [
        ("EiB", 60),
        ("PiB", 50),
        ("TiB", 40),
        ("GiB", 30),
        ("MiB", 20),
        ("KiB", 10),
    ];
    for (name, shift) in UNITS {
        if size >= 1 << shift && size.is_multiple_of(1 << shift) {
            return format!("{} {name}", size >> shift);
        }
    }
    format!("{size} B")
}

/// `0xffff_ffff_8000_0000`: grouped by 16 bits, as the bundled specs and the
/// generated Rust write addresses.
pub fn grouped_hex(v: u64) -> String {
    let digits = format!("{v:x}");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 4 == 0 {
            out.push('_');
        }
        out.push(c);
    }
    format!("0x{out}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{GIB, MIB};

    #[test]
    fn human_sizes() {
        assert_eq!(human_size(2 * GIB as u128), "2 GiB");
        assert_eq!(human_size(6 * MIB as u128), "6 MiB");
        assert_eq!(human_size(4097), "4097 B");
    }
}
