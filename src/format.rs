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

/// Characters that would act on a terminal or a CI log rather than be
/// shown: control characters (C0 with line breaks and ESC, DEL, C1) and the
/// invisible or reordering ones (bidirectional overrides and isolates,
/// zero-width characters, the byte-order mark). Defined once, in
/// layoutgen-build (whose messages need it too, without dependencies).
pub use layoutgen_build::is_unprintable;

/// An untrusted string (a name read from an ELF file or a device tree) as
/// it may reach a terminal or a CI log: every [`is_unprintable`] character
/// written as `\u{..}`, so no escape sequence, line break or workflow
/// command (`::error …` at the start of a line) can be smuggled through.
/// The string may itself start a line (a file name in lint's report), so a
/// leading `::` (after white space, which GitHub's runner trims) has its
/// first colon written `\u{3a}`.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    let command = s.trim_start().starts_with("::");
    if !command && !s.chars().any(is_unprintable) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    if command {
        let lead = s.len() - s.trim_start().len();
        out.push_str(&printable(&s[..lead]));
        out.push_str("\\u{3a}");
        out.push_str(&printable(&s[lead + 1..]));
        return std::borrow::Cow::Owned(out);
    }
    for c in s.chars() {
        if is_unprintable(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// [`printable`] of bytes decoded as (lossy) UTF-8.
pub fn printable_bytes(bytes: &[u8]) -> String {
    printable(&String::from_utf8_lossy(bytes)).into_owned()
}

#[cfg(test)]
mod printable_tests {
    use super::printable;

    #[test]
    fn escapes_what_acts_on_a_terminal_or_a_log() {
        assert_eq!(printable(".text"), ".text");
        assert_eq!(printable("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(printable("x\n::error::y"), "x\\u{a}::error::y");
        assert_eq!(printable("\u{202e}cod"), "\\u{202e}cod");
        assert_eq!(printable("é"), "é");
        // A name that would start a line as a workflow command.
        assert_eq!(printable("::error file=x::y"), "\\u{3a}:error file=x::y");
        assert_eq!(printable(" \t::x"), " \\u{9}\\u{3a}:x");
    }
}
