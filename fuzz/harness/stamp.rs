//! The `stamp` fuzz target's work, shared with `cargo test`
//! (tests/integration/fuzz_regressions.rs): any bytes as a `layout.stamp`
//! for `layoutgen-build`.
//!
//! 1. `Stamp::parse` of the text (lossily UTF-8, as the bytes that are not
//!    UTF-8 are refused before parsing): a stamp it accepts renders back to
//!    a stamp that parses to the same value; an error is safe to print.
//! 2. The bytes written as `layout.stamp` into a directory holding the
//!    sample kernel's spec and generated files (`prepare`), checked by
//!    `Outputs::try_verify` as a kernel's build.rs does, through
//!    `read_regular`: the real stamp verifies, a mutated one verifies or
//!    says why not (the `Stale` message, which cargo prints, is safe to
//!    print).
//!
//! Nothing may panic.

use super::common::assert_shown_safely;
use layoutgen_build::{Outputs, STAMP_FILE, Stamp};
use std::path::Path;

/// The sample kernel's committed outputs and the spec they come from.
const SPEC: &[u8] = include_bytes!("../../layouts/qemu-virt-sv39.toml");
const FILES: [(&str, &[u8]); 2] = [
    (
        "layout.ld",
        include_bytes!("../../sample-kernel/layout/layout.ld"),
    ),
    (
        "layout.rs",
        include_bytes!("../../sample-kernel/layout/layout.rs"),
    ),
];
/// The spec's name in the scratch directory.
pub const SPEC_FILE: &str = "spec.toml";

/// Writes the spec and the generated files into `dir` (once per directory).
pub fn prepare(dir: &Path) {
    std::fs::write(dir.join(SPEC_FILE), SPEC).expect("write the spec");
    for (name, bytes) in FILES {
        std::fs::write(dir.join(name), bytes).expect("write an output");
    }
}

/// Parses `data` as a stamp; then verifies it in `dir` (made by
/// [`prepare`]). Returns whether it verified.
pub fn run_in(dir: &Path, data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    match Stamp::parse(&text) {
        Ok(stamp) => {
            let again = Stamp::parse(&stamp.render());
            // A stamp with no `spec` line renders `spec = ` with an empty
            // value, which is not a `key = value` line; `layoutgen build`
            // always writes one.
            if !stamp.spec.is_empty() {
                assert_eq!(again.as_ref(), Ok(&stamp), "render does not round-trip");
            }
        }
        Err(e) => assert_shown_safely("stamp error", &e),
    }

    std::fs::write(dir.join(STAMP_FILE), data).expect("write the stamp");
    let result = Outputs::new(dir)
        .spec(dir.join(SPEC_FILE))
        .cargo_metadata(false)
        .try_verify();
    match result {
        Ok(v) => {
            assert!(v.stamp.outputs.iter().any(|(f, _)| f == "layout.ld"));
            let _ = v.fact("code_model");
            true
        }
        Err(stale) => {
            assert_shown_safely("stale outputs message", &stale.to_string());
            false
        }
    }
}
