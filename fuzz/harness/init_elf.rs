//! The `init_elf` fuzz target's work, shared with `cargo test`
//! (tests/integration/fuzz_regressions.rs): `layoutgen init --from-elf` on
//! any bytes (`layoutgen::init::from_elf::generate_bytes`).
//!
//! Input: byte 0 picks the options (bit 0: `--arch-defaults linux`; bit 1:
//! the file name is taken from the input: byte 1 is its length, then its
//! bytes, lossily UTF-8), the rest is the ELF image.
//!
//! Nothing may panic. A spec it writes is checked by `generate_bytes`
//! itself (it loads, or the answer is an error with the report); it must
//! also hold no character that would act on a terminal (`layoutgen check`
//! and editors show it) and, file name aside, be the spec the plain name
//! `kernel.elf` gives: a hostile file name must not add, drop or change a
//! key. Every error, and the rendered report of a spec that fails its
//! checks, is safe to print.

use super::common::assert_shown_safely;
use layoutgen::init::InitError;
use layoutgen::init::from_elf::{ArchDefaults, generate_bytes};

const PLAIN_NAME: &str = "kernel.elf";

pub fn run(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let defaults = if flags & 1 != 0 {
        ArchDefaults::Linux
    } else {
        ArchDefaults::Plain
    };
    let (file_name, elf) = if flags & 2 != 0 {
        let Some((&len, rest)) = rest.split_first() else {
            return;
        };
        let len = usize::from(len).min(rest.len());
        let (name, elf) = rest.split_at(len);
        (String::from_utf8_lossy(name).into_owned(), elf)
    } else {
        (PLAIN_NAME.to_string(), rest)
    };
    let named = describe(elf, &file_name, defaults);
    if file_name != PLAIN_NAME {
        let plain = describe(elf, PLAIN_NAME, defaults);
        if let (Some(named), Some(plain)) = (&named, &plain) {
            let keys = |t: &str| -> Vec<String> {
                t.lines()
                    .filter(|l| !l.starts_with('#') && !l.starts_with("description = "))
                    .map(str::to_string)
                    .collect()
            };
            assert_eq!(
                keys(named),
                keys(plain),
                "the file name {file_name:?} changed the spec beyond its comments and description"
            );
        }
    }
}

/// `generate_bytes` with every answer checked; the spec text if one was
/// written.
fn describe(elf: &[u8], file_name: &str, defaults: ArchDefaults) -> Option<String> {
    match generate_bytes(elf, file_name, "fuzz", defaults) {
        Ok(text) => {
            assert_shown_safely("generated spec", &text);
            Some(text)
        }
        Err(InitError::Check(report)) => {
            assert_shown_safely("report on the generated spec", &report.render());
            None
        }
        Err(e) => {
            assert_shown_safely("init error", &e.to_string());
            None
        }
    }
}
