#![no_main]
//! Fuzz target `lint_render`: see fuzz/harness/lint_render.rs (shared with `cargo test`'s
//! tests/integration/fuzz_regressions.rs) and docs/fuzzing.md.

#[path = "../harness/common.rs"]
mod common;
#[path = "../harness/lint_render.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| harness::run(data));
