//! What the published packages hold (docs/releasing.md): every file the
//! sources embed with `include_str!`/`include_bytes!`, and no test data.
//! `cargo package --list` reads the manifests' `include` lists without the
//! network.

use crate::support::{assert_success, root, stdout_lines};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn package_list(package: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let o = Command::new(cargo)
        .args([
            "package",
            "--list",
            "--allow-dirty",
            "--offline",
            "-p",
            package,
        ])
        .current_dir(root())
        .output()
        .expect("run cargo package --list");
    assert_success(&o, format!("cargo package --list -p {package}"));
    stdout_lines(&o)
}

/// Files under `dir` (relative to the package root `base`) that a source
/// file embeds: `include_str!("../x")` resolved against the source's folder.
fn embedded(base: &Path, dir: &Path, out: &mut BTreeSet<String>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            embedded(base, &p, out);
            continue;
        }
        if p.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for macro_ in ["include_str!(\"", "include_bytes!(\""] {
            for (at, _) in text.match_indices(macro_) {
                let rest = &text[at + macro_.len()..];
                let rel = &rest[..rest.find('"').unwrap()];
                let file = p.parent().unwrap().join(rel);
                let file = file.canonicalize().unwrap_or_else(|e| {
                    panic!("{} embeds {rel}: {e}", p.display());
                });
                out.insert(
                    file.strip_prefix(base.canonicalize().unwrap())
                        .unwrap()
                        .display()
                        .to_string(),
                );
            }
        }
    }
}

#[test]
fn packages_hold_what_the_binary_embeds_and_no_test_data() {
    for (package, dir) in [("layoutgen", "."), ("layoutgen-build", "layoutgen-build")] {
        let base = root().join(dir);
        let list = package_list(package);
        let mut wanted = BTreeSet::new();
        embedded(&base, &base.join("src"), &mut wanted);
        for f in &wanted {
            assert!(
                list.contains(f),
                "{package}: {f} is embedded but not packaged"
            );
        }
        // The license files the manifest's `license` names travel with it.
        for f in [
            "Cargo.toml",
            "README.md",
            "src/lib.rs",
            "LICENSE-MIT",
            "LICENSE-APACHE",
        ] {
            assert!(list.contains(f), "{package}: {f} missing: {list:?}");
        }
        for f in &list {
            for dir in [
                "tests/",
                "fuzz/",
                "benches/",
                "scripts/",
                "examples/",
                ".ci/",
            ] {
                assert!(!f.starts_with(dir), "{package}: {f} is not for the package");
            }
            assert!(!f.starts_with("sample-kernel"), "{package}: {f}");
            assert!(!f.starts_with("layoutgen-rt/"), "{package}: {f}");
        }
        if package == "layoutgen" {
            assert!(wanted.contains("templates/linker.ld.j2"), "{wanted:?}");
            assert!(wanted.contains("layouts/qemu-virt-sv39.toml"), "{wanted:?}");
            for f in ["CHANGELOG.md", "docs/lint.md", "docs/releasing.md"] {
                assert!(list.contains(f), "{f} missing");
            }
        }
    }
}

#[test]
fn both_manifests_declare_the_same_rust_version_and_license() {
    let key = |p: &str, key: &str| {
        let text = std::fs::read_to_string(root().join(p)).unwrap();
        let v: toml::Value = toml::from_str(&text).unwrap();
        v["package"]
            .get(key)
            .and_then(|k| k.as_str())
            .map(str::to_string)
    };
    for p in [
        "Cargo.toml",
        "layoutgen-build/Cargo.toml",
        "layoutgen-rt/Cargo.toml",
    ] {
        assert_eq!(
            key(p, "license").as_deref(),
            Some("MIT OR Apache-2.0"),
            "{p}"
        );
    }
    let version = |p: &str| key(p, "rust-version");
    let top = version("Cargo.toml").expect("rust-version in Cargo.toml");
    assert_eq!(version("layoutgen-build/Cargo.toml"), Some(top.clone()));
    let doc = std::fs::read_to_string(root().join("docs/releasing.md")).unwrap();
    assert!(
        doc.contains(&format!("rust-version = \"{top}\"")),
        "docs/releasing.md"
    );
}
