//! Shared by the tests that build sample-kernel for other layouts.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What the sample kernel's README tells a user to do for another layout:
/// `layoutgen build --spec layouts/<layout>.toml --out-dir <dir> --emit
/// ld,rs`, then `LAYOUTGEN_OUT=<dir> cargo build`. Returns the directory
/// (under `target/kernel-layouts/`) to pass as `LAYOUTGEN_OUT`.
pub fn kernel_layout(layout: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    kernel_layout_of(&root.join("layouts").join(format!("{layout}.toml")))
}

/// The same for a spec anywhere (its file stem names the directory).
pub fn kernel_layout_of(spec: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let layout = spec.file_stem().expect("a spec file").to_string_lossy();
    let dir = root.join("target").join("kernel-layouts").join(&*layout);
    let out = Command::new(env!("CARGO_BIN_EXE_layoutgen"))
        .arg("build")
        .arg("--spec")
        .arg(spec)
        .arg("--out-dir")
        .arg(&dir)
        .args(["--emit", "ld,rs"])
        .output()
        .expect("run layoutgen");
    assert!(
        out.status.success(),
        "layoutgen build for {layout} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}
