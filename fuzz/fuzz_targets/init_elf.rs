#![no_main]
//! Fuzz target `init_elf`: see fuzz/harness/init_elf.rs (shared with `cargo test`'s
//! tests/integration/fuzz_regressions.rs) and docs/fuzzing.md.

#[path = "../harness/common.rs"]
mod common;
#[path = "../harness/init_elf.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| harness::run(data));
