#![no_main]
//! Fuzz target `elf`: see fuzz/harness/elf.rs (shared with `cargo test`'s
//! tests/integration/fuzz_regressions.rs) and docs/fuzzing.md.

#[path = "../harness/elf.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| harness::run(data));
