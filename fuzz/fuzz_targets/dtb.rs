#![no_main]
//! Fuzz target `dtb`: see fuzz/harness/dtb.rs (shared with `cargo test`'s
//! tests/integration/fuzz_regressions.rs) and docs/fuzzing.md.

#[path = "../harness/common.rs"]
mod common;
#[path = "../harness/dtb.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| harness::run(data));
