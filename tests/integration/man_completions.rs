//! The committed man pages (`docs/man/`) are what `layoutgen man` generates
//! from the clap definitions now, so a new flag cannot be missing from them.
//! `UPDATE_DOCS=1 cargo test --test integration man_completions::` rewrites
//! them. Shell completions are not committed: `layoutgen completions SHELL`
//! writes them where a shell or a package wants them, so a committed copy
//! would only be a second, staler home for the same output.

use crate::support::cli::{layoutgen, ok_stdout};
use crate::support::root;
use std::collections::BTreeMap;
use std::path::Path;

fn files_in(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// Compares `fresh` with the files in `dir` (relative to the repository);
/// with UPDATE_DOCS set, makes `dir` hold exactly `fresh`.
fn compare(dir: &str, fresh: BTreeMap<String, Vec<u8>>) {
    let path = root().join(dir);
    let committed = files_in(&path);
    if committed == fresh {
        return;
    }
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(&path).unwrap();
        for name in committed.keys().filter(|n| !fresh.contains_key(*n)) {
            std::fs::remove_file(path.join(name)).unwrap();
        }
        for (name, bytes) in &fresh {
            std::fs::write(path.join(name), bytes).unwrap();
        }
        return;
    }
    let stale: Vec<&String> = fresh
        .keys()
        .chain(committed.keys())
        .filter(|n| fresh.get(*n) != committed.get(*n))
        .collect();
    panic!(
        "{dir} is stale ({stale:?}): the CLI changed. \
         Run UPDATE_DOCS=1 cargo test --test integration man_completions:: and commit the result"
    );
}

#[test]
fn committed_man_pages_are_current() {
    let dir = tempfile::tempdir().unwrap();
    ok_stdout(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    let fresh = files_in(dir.path());
    for page in [
        "layoutgen.1",
        "layoutgen-build.1",
        "layoutgen-check.1",
        "layoutgen-show.1",
        "layoutgen-diff.1",
        "layoutgen-init.1",
    ] {
        assert!(fresh.contains_key(page), "no {page} in {:?}", fresh.keys());
    }
    // `layoutgen man` prints the top-level page.
    assert!(
        ok_stdout(&["man"]).as_bytes() == fresh["layoutgen.1"],
        "`layoutgen man` differs from the layoutgen.1 of `man --out-dir`"
    );
    compare("docs/man", fresh);
}

#[test]
fn completions_know_every_command_and_show_format() {
    let bash = ok_stdout(&["completions", "bash"]);
    for word in [
        "build", "check", "show", "diff", "init", "schema", "markdown", "svg", "--ram",
    ] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    // What a user sources must be a script bash accepts.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("layoutgen.bash");
    std::fs::write(&file, &bash).unwrap();
    crate::support::run_ok(std::process::Command::new("bash").arg("-n").arg(&file));
    let fish = ok_stdout(&["completions", "fish"]);
    assert!(fish.contains("complete -c layoutgen"), "{fish}");
}

#[test]
fn man_page_documents_the_show_formats() {
    let page = ok_stdout(&["man"]);
    assert!(page.starts_with(".ie"), "{page}");
    assert!(page.contains(".TH layoutgen 1"), "{page}");
    assert!(page.contains(env!("CARGO_PKG_VERSION")), "{page}");
    let dir = tempfile::tempdir().unwrap();
    ok_stdout(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    let show = std::fs::read_to_string(dir.path().join("layoutgen-show.1")).unwrap();
    for word in ["markdown", "rst", "svg", "json", "\\-\\-ram"] {
        assert!(show.contains(word), "layoutgen-show.1 lacks {word}");
    }
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let out = layoutgen(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}
