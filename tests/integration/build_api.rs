//! The build.rs API and the file-writing guarantees behind it.

use crate::support::specs;
use layoutgen::emit::write::{WriteOutcome, write_atomically, write_if_changed};
use layoutgen::{Build, Error};
use std::path::Path;

/// A build of the bundled `qemu-virt-sv39` into `out`, without cargo's
/// `cargo:` lines (nothing reads them here).
fn sv39_into(out: &Path) -> Build {
    let mut build = Build::new();
    build
        .spec(specs::path("qemu-virt-sv39"))
        .out_dir(out)
        .cargo_metadata(false);
    build
}

#[test]
fn compile_writes_into_out_dir_and_not_again_when_unchanged() {
    let out = tempfile::tempdir().unwrap();
    let first = sv39_into(out.path()).try_compile().unwrap();
    assert_eq!(first.linker_script, out.path().join("layout.ld"));
    assert_eq!(first.rust, out.path().join("layout.rs"));
    assert_eq!(first.written.len(), 4);
    assert_eq!(first.layout.name, "qemu-virt-sv39");
    let second = sv39_into(out.path()).try_compile().unwrap();
    assert!(second.written.is_empty(), "rewrote {:?}", second.written);
}

#[test]
fn compile_always_emits_linker_script_and_rust() {
    let out = tempfile::tempdir().unwrap();
    let c = sv39_into(out.path())
        .outputs(&[layoutgen::Output::Json])
        .try_compile()
        .unwrap();
    assert!(c.linker_script.exists() && c.rust.exists());
    assert!(!out.path().join("layout.h").exists());
}

#[test]
fn invalid_spec_writes_nothing_and_reports_like_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = specs::text("qemu-virt-sv39").replace("perms = \"rx\"", "perms = \"rwx\"");
    std::fs::write(&bad, text).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let err = Build::new()
        .spec(&bad)
        .out_dir(&out)
        .cargo_metadata(false)
        .try_compile()
        .unwrap_err();
    assert_eq!(err.exit_code(), 1);
    let Error::Spec(report) = &err else {
        panic!("{err}")
    };
    let text = report.render();
    assert!(
        text.contains("error[w-xor-x]") && text.contains("bad.toml:"),
        "{text}"
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
}

#[test]
fn missing_out_dir_outside_cargo_is_a_clear_error() {
    // OUT_DIR is not set for integration tests.
    let err = Build::new()
        .spec(specs::path("qemu-virt-sv39"))
        .cargo_metadata(false)
        .try_compile()
        .unwrap_err();
    assert!(err.to_string().contains("OUT_DIR is not set"), "{err}");
}

#[test]
fn failure_between_write_and_rename_leaves_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("layout.ld");
    std::fs::write(&path, "old").unwrap();
    let err = write_atomically(&path, b"new contents", |_| {
        Err(std::io::Error::other("injected failure"))
    })
    .unwrap_err();
    assert_eq!(err.to_string(), "injected failure");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("layout.ld")]);
}

#[test]
fn write_if_changed_reports_what_it_did() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    assert_eq!(
        write_if_changed(&path, b"a").unwrap(),
        WriteOutcome::Written
    );
    assert_eq!(
        write_if_changed(&path, b"a").unwrap(),
        WriteOutcome::Unchanged
    );
    assert_eq!(
        write_if_changed(&path, b"b").unwrap(),
        WriteOutcome::Written
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"b");
}
