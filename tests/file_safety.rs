//! Generated files are safe: a failed generation leaves previous outputs
//! untouched, never a truncated file, and nothing a spec says can make
//! layoutgen write outside its output directory.

use layoutgen::emit::write::write_atomically;
use layoutgen::{Error, Output, Templates, generate, load_checked};
use std::path::Path;

fn default_layout() -> layoutgen::Layout {
    load_checked(&Path::new(env!("CARGO_MANIFEST_DIR")).join("layouts/qemu-virt-sv39.toml"))
        .unwrap()
}

#[test]
fn generating_into_a_missing_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir");
    let err = generate(
        &default_layout(),
        &Templates::new(None).unwrap(),
        &missing,
        &Output::ALL,
    )
    .unwrap_err();
    let Error::Write { path, .. } = &err else {
        panic!("{err}")
    };
    assert!(path.starts_with(&missing), "{}", path.display());
    assert_eq!(err.exit_code(), 2);
    assert!(
        err.to_string().contains("previous outputs are untouched"),
        "{err}"
    );
    assert!(!missing.exists());
}

#[test]
fn a_full_disk_between_write_and_rename_keeps_the_previous_output() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("layout.rs");
    std::fs::write(&path, "previous").unwrap();
    let err = write_atomically(&path, &vec![b'x'; 1 << 20], |tmp| {
        // The temporary file is complete at this point; the rename is what
        // publishes it. Fail here as a full disk or a kill would.
        assert_eq!(std::fs::metadata(tmp).unwrap().len(), 1 << 20);
        Err(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            "no space left on device",
        ))
    })
    .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::StorageFull);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "temporary file left behind"
    );
}

#[test]
fn a_template_error_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let templates_dir = tempfile::tempdir().unwrap();
    std::fs::write(templates_dir.path().join("layout.h.j2"), "{% for %}").unwrap();
    let err = Templates::new(Some(templates_dir.path()))
        .map(|_| ())
        .unwrap_err();
    assert!(err.to_string().contains("layout.h.j2"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn outputs_have_fixed_names_inside_the_output_directory() {
    // The only spec text that reaches a path is `name` (the default output
    // directory is target/layoutgen/<name>); it is an identifier.
    for name in ["../../etc", "a/b", "/abs", ".."] {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("layouts/qemu-virt-sv39.toml"),
        )
        .unwrap()
        .replace("name = \"qemu-virt-sv39\"", &format!("name = \"{name}\""));
        let errs = layoutgen::check_text(&text, "x.toml").unwrap_err();
        assert!(
            errs.iter()
                .any(|d| d.rule == layoutgen::Rule::Identifier && d.key() == Some("name")),
            "{name}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let written = generate(
        &default_layout(),
        &Templates::new(None).unwrap(),
        dir.path(),
        &Output::ALL,
    )
    .unwrap();
    for g in written {
        assert_eq!(g.path.parent(), Some(dir.path()));
    }
}
