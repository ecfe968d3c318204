#![no_main]
//! Fuzz target `stamp`: see fuzz/harness/stamp.rs (shared with `cargo
//! test`'s tests/integration/fuzz_regressions.rs) and docs/fuzzing.md.

#[path = "../harness/common.rs"]
mod common;
#[path = "../harness/stamp.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

/// This process's scratch directory for `Outputs::try_verify` (a fork-mode
/// run starts one process per job; each makes its own and removes the
/// directories of earlier processes that are gone).
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = std::env::temp_dir().join("layoutgen-fuzz-stamp");
        std::fs::create_dir_all(&base).expect("scratch base");
        if let Ok(entries) = std::fs::read_dir(&base) {
            for e in entries.flatten() {
                let pid = e.file_name().to_string_lossy().into_owned();
                if !std::path::Path::new("/proc").join(&pid).exists() {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = base.join(std::process::id().to_string());
        std::fs::create_dir_all(&dir).expect("scratch directory");
        harness::prepare(&dir);
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    harness::run_in(scratch(), data);
});
