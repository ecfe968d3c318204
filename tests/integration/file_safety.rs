//! Generated files are safe: a failed generation leaves previous outputs
//! untouched, never a truncated file, and nothing a spec says can make
//! layoutgen write outside its output directory.

use crate::support::cli::LAYOUTGEN;
use crate::support::{assert_success, specs};
use layoutgen::emit::write::write_atomically;
use layoutgen::{Error, Output, Templates, generate};
use std::path::Path;

fn default_layout() -> layoutgen::Layout {
    specs::layout("qemu-virt-sv39")
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
        let text = specs::text("qemu-virt-sv39")
            .replace("name = \"qemu-virt-sv39\"", &format!("name = \"{name}\""));
        let errs = crate::support::specs::check_text(&text, "x.toml").unwrap_err();
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

/// A read-only output directory: the build fails naming the file, and the
/// previous outputs stay as they were. Root ignores permission bits, so as
/// root the binary runs as `nobody` (setpriv, util-linux).
#[test]
fn a_read_only_output_directory_fails_and_keeps_previous_outputs() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // Everything the unprivileged run needs, readable by anyone.
    let exe = dir.path().join("layoutgen");
    std::fs::copy(LAYOUTGEN, &exe).unwrap();
    let spec_text = specs::text("qemu-virt-sv39");
    let spec = dir.path().join("spec.toml");
    std::fs::write(&spec, &spec_text).unwrap();
    let out = dir.path().join("out");
    // `layoutgen build --spec SPEC --out-dir OUT`, as `nobody` when asked.
    let build = |spec: &Path, unprivileged: bool| {
        let mut cmd = if unprivileged && is_root() {
            let mut c = std::process::Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
                .arg(&exe);
            c
        } else {
            std::process::Command::new(&exe)
        };
        cmd.arg("build")
            .arg("--spec")
            .arg(spec)
            .arg("--out-dir")
            .arg(&out)
            .current_dir(dir.path())
            .output()
            .expect("run layoutgen")
    };
    let outputs = || -> Vec<Vec<u8>> {
        ["layout.ld", "layout.rs", "layout.h", "layout.json"]
            .iter()
            .map(|f| std::fs::read(out.join(f)).unwrap())
            .collect()
    };
    assert_success(&build(&spec, false), "the first build");
    let before = outputs();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).unwrap();
    for f in ["layout.ld", "layout.rs", "layout.h", "layout.json"] {
        std::fs::set_permissions(out.join(f), std::fs::Permissions::from_mode(0o444)).unwrap();
    }
    // A changed spec, so that every output must be rewritten.
    let changed = dir.path().join("changed.toml");
    std::fs::write(
        &changed,
        spec_text.replace("description = \"", "description = \"changed: "),
    )
    .unwrap();
    let o = build(&changed, true);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write") && stderr.contains(&out.display().to_string()),
        "{stderr}"
    );
    assert!(before == outputs(), "previous outputs changed");
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn is_root() -> bool {
    // The effective uid, without a libc dependency: /proc/self/status.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}
