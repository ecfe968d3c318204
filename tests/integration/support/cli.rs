//! Running the `layoutgen` binary of this build, as a user would.

use super::root;
use std::path::Path;
use std::process::{Command, Output};

/// The binary cargo built for these tests.
pub const LAYOUTGEN: &str = env!("CARGO_BIN_EXE_layoutgen");

/// `layoutgen ARGS` in `cwd`, with NO_COLOR set: diagnostics are plain
/// text to assert on.
pub fn layoutgen_in(args: &[&str], cwd: &Path) -> Output {
    Command::new(LAYOUTGEN)
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("run layoutgen")
}

/// `layoutgen ARGS` in the repository root (relative paths such as
/// `layouts/qemu-virt-sv39.toml` work).
pub fn layoutgen(args: &[&str]) -> Output {
    layoutgen_in(args, root())
}

/// stdout of `layoutgen ARGS` (in the repository root), which must exit
/// with one of `codes`.
#[track_caller]
pub fn stdout(args: &[&str], codes: &[i32]) -> String {
    let o = layoutgen(args);
    assert!(
        o.status.code().is_some_and(|c| codes.contains(&c)),
        "layoutgen {args:?} exited {:?}: {}",
        o.status.code(),
        text(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("UTF-8 output")
}

/// stdout of `layoutgen ARGS` (in the repository root), which must succeed.
#[track_caller]
pub fn ok_stdout(args: &[&str]) -> String {
    stdout(args, &[0])
}

/// stderr of `layoutgen ARGS` (in the repository root), which must exit
/// with `code`.
#[track_caller]
pub fn stderr(args: &[&str], code: i32) -> String {
    let o = layoutgen(args);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "layoutgen {args:?}: {err}");
    err
}

/// (exit code, stdout, stderr) of `layoutgen ARGS` in the repository root.
pub fn run(args: &[&str]) -> (i32, String, String) {
    let o = layoutgen(args);
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

/// Output bytes as text, invalid UTF-8 replaced.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
