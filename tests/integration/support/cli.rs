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

/// `layoutgen build --spec SPEC --out-dir OUT --emit EMIT`.
pub fn build(spec: &Path, out: &Path, emit: &str) -> Output {
    layoutgen(&[
        "build",
        "--spec",
        spec.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
        "--emit",
        emit,
    ])
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
    stderr_in(args, root(), code)
}

/// stderr of `layoutgen ARGS` in `cwd`, which must exit with `code`.
#[track_caller]
pub fn stderr_in(args: &[&str], cwd: &Path, code: i32) -> String {
    let o = layoutgen_in(args, cwd);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "layoutgen {args:?}: {err}");
    err
}

/// The `init` contract for an existing `layout.toml`: with one holding
/// `mine` in `dir`, `layoutgen ARGS` exits 2 saying `says` and leaves it
/// as it was; with `--force` added it succeeds. Returns the spec it wrote.
#[track_caller]
pub fn init_overwrites_only_when_forced(
    args: &[&str],
    dir: &Path,
    mine: &str,
    says: &str,
) -> String {
    let spec = dir.join("layout.toml");
    std::fs::write(&spec, mine).unwrap();
    let err = stderr_in(args, dir, 2);
    assert!(err.contains(says), "{err}");
    assert_eq!(std::fs::read_to_string(&spec).unwrap(), mine);
    let forced = [args, &["--force"]].concat();
    stderr_in(&forced, dir, 0);
    std::fs::read_to_string(&spec).unwrap()
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
