//! What the test modules share: the repository's paths here, and one
//! module per kind of tool.

pub mod builds;
pub mod cli;
pub mod debian;
pub mod elf_tools;
pub mod findings;
pub mod firmware;
pub mod lds;
pub mod lint_cli;
pub mod linux;
pub mod qemu;
pub mod readelf;
pub mod sample_kernels;
pub mod specs;

use std::path::Path;

/// The repository root (this crate's manifest directory).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `PROPTEST_CASES` when set (a longer run), else `default`.
pub fn proptest_cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The first line of `text` that starts with `prefix`; fails the test,
/// showing `text`, when there is none.
#[track_caller]
pub fn line_starting<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with `{prefix}` in:\n{text}"))
}

/// Asserts that `text` contains every one of `needles`; a failure lists
/// the missing ones and shows the text.
#[track_caller]
pub fn assert_contains(text: &str, needles: &[&str]) {
    let missing: Vec<&str> = needles
        .iter()
        .copied()
        .filter(|n| !text.contains(n))
        .collect();
    assert!(missing.is_empty(), "missing {missing:#?} in:\n{text}");
}

/// Asserts that `text` contains none of `needles`.
#[track_caller]
pub fn assert_lacks(text: &str, needles: &[&str]) {
    let present: Vec<&str> = needles
        .iter()
        .copied()
        .filter(|n| text.contains(n))
        .collect();
    assert!(present.is_empty(), "unexpected {present:#?} in:\n{text}");
}

/// Asserts that a finished command succeeded; a failure names it with
/// `what` and shows its stderr.
#[track_caller]
pub fn assert_success(o: &std::process::Output, what: impl std::fmt::Display) {
    assert!(
        o.status.success(),
        "{what} ({}):\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The lines of a command's stdout (which must be UTF-8), collected.
pub fn stdout_lines<C: FromIterator<String>>(o: &std::process::Output) -> C {
    std::str::from_utf8(&o.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(str::to_string)
        .collect()
}

/// Whether the committed file at `path` (generated documentation: a
/// schema, a picture) holds `fresh`; with UPDATE_DOCS set, a stale file is
/// rewritten instead, and counts as current.
pub fn committed_file_is_current(path: &Path, fresh: &str) -> bool {
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    if committed == fresh {
        return true;
    }
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, fresh).unwrap();
        return true;
    }
    false
}

/// `insta::assert_snapshot!(name, value)` with the snapshot in
/// `tests/snapshots/<module>__<name>.snap`: where and how each module named
/// its snapshots when it was a test binary of its own (insta would put them
/// next to this binary's sources, prefixed `integration__<module>__`).
macro_rules! assert_snapshot {
    ($name:expr, $value:expr) => {{
        let module = module_path!().rsplit("::").next().unwrap();
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots"));
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| insta::assert_snapshot!(format!("{module}__{}", $name), $value));
    }};
}
pub(crate) use assert_snapshot;

/// Runs `cmd` and returns its standard output; fails the test, naming the
/// command and showing its standard error, when it cannot start or exits
/// unsuccessfully.
#[track_caller]
pub fn run_ok(cmd: &mut std::process::Command) -> String {
    let o = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        o.status.success(),
        "{cmd:?} failed ({}): {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The newest directory (by name) of the cache `target/CACHE` that a script
/// finished filling (it holds a `done` file); fails the test naming
/// `script`, which makes it, when there is none.
#[track_caller]
pub fn newest_done(cache: &str, script: &str) -> std::path::PathBuf {
    let dir = root().join("target").join(cache);
    let mut done: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("done").is_file())
        .collect();
    done.sort();
    done.pop().unwrap_or_else(|| {
        panic!(
            "nothing built in {}: run {script} (scripts/test does)",
            dir.display()
        )
    })
}
