//! The ahead-of-time mode as the sample kernel uses it: `layoutgen build`
//! writes layout/{layout.ld,layout.rs,layout.stamp} into the kernel's tree,
//! and its build.rs checks them with the dependency-free `layoutgen-build`.
//!
//! These build the sample kernel (riscv64 target needed, as in
//! `sample_kernel`); they fail, not skip, without it.

use crate::support::cli::layoutgen_in;
use crate::support::{root, sample_kernels};
use std::path::{Path, PathBuf};
use std::process::Output;

/// A kernel of this repository that uses the ahead-of-time mode.
struct Kernel {
    dir: &'static str,
    spec: &'static str,
    /// The command its build.rs must print, run in its directory.
    fix: &'static str,
}

const RISCV: Kernel = Kernel {
    dir: "sample-kernel",
    spec: "qemu-virt-sv39.toml",
    fix: "layoutgen build --spec ../layouts/qemu-virt-sv39.toml --out-dir layout --emit ld,rs",
};
const AARCH64: Kernel = Kernel {
    dir: "sample-kernel-aarch64",
    spec: "qemu-virt-aarch64.toml",
    fix: "layoutgen build --spec ../layouts/qemu-virt-aarch64.toml --out-dir layout --emit ld,rs",
};
const FIX: &str = RISCV.fix;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

/// A copy of the riscv sample kernel and its spec, laid out as in this
/// repository (`<tmp>/sample-kernel`, `<tmp>/layouts/qemu-virt-sv39.toml`),
/// its path dependencies (layoutgen-build, layoutgen-rt) pointing back here.
fn kernel_copy(tmp: &Path) -> PathBuf {
    copy_of(tmp, &RISCV)
}

fn copy_of(tmp: &Path, k: &Kernel) -> PathBuf {
    let kernel = tmp.join(k.dir);
    copy_dir(&root().join(k.dir), &kernel);
    std::fs::create_dir_all(tmp.join("layouts")).unwrap();
    std::fs::copy(
        root().join("layouts").join(k.spec),
        tmp.join("layouts").join(k.spec),
    )
    .unwrap();
    let manifest = kernel.join("Cargo.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    for krate in ["layoutgen-build", "layoutgen-rt"] {
        let dep = format!(r#"path = "../{krate}""#);
        assert!(text.contains(&dep), "{}/Cargo.toml changed: {dep}", k.dir);
        let here = root().join(krate);
        text = text.replace(&dep, &format!("path = {:?}", here.display().to_string()));
    }
    std::fs::write(&manifest, text).unwrap();
    kernel
}

fn cargo_build(kernel: &Path) -> Output {
    sample_kernels::cargo(kernel, &["build", "--release", "--quiet"])
        .env(
            "CARGO_TARGET_DIR",
            root().join("target").join("layout-stamp-kernel"),
        )
        .env_remove("LAYOUTGEN_OUT")
        .output()
        .expect("run cargo")
}

/// Runs `command` (a `layoutgen build ...` line) with this build's layoutgen.
fn layoutgen(cwd: &Path, command: &str) -> Output {
    let args: Vec<&str> = command.split(' ').collect();
    assert_eq!(args[0], "layoutgen");
    layoutgen_in(&args[1..], cwd)
}

/// The committed layout/ of each sample kernel is exactly what this
/// layoutgen generates from its spec: the templates, the spec or the tool
/// did not change without the files being regenerated.
#[test]
fn committed_layouts_are_fresh() {
    for k in [RISCV, AARCH64] {
        let tmp = tempfile::tempdir().unwrap();
        let kernel = copy_of(tmp.path(), &k);
        let out = layoutgen(&kernel, k.fix);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for file in ["layout.ld", "layout.rs", "layout.stamp"] {
            let committed = std::fs::read_to_string(root().join(k.dir).join("layout").join(file))
                .unwrap_or_else(|e| panic!("{}/layout/{file}: {e}", k.dir));
            let fresh = std::fs::read_to_string(kernel.join("layout").join(file)).unwrap();
            assert!(
                committed == fresh,
                "{}/layout/{file} is stale: run `{}` in {}/",
                k.dir,
                k.fix,
                k.dir
            );
        }
    }
}

/// Editing the spec makes the kernel's build fail with the command that
/// regenerates the files; running that command makes it build again. A
/// hand-edited generated file fails the build too.
#[test]
fn stale_layout_fails_the_build_with_the_command() {
    let tmp = tempfile::tempdir().unwrap();
    let kernel = kernel_copy(tmp.path());
    let spec = tmp.path().join("layouts").join(RISCV.spec);
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, text + "\n# edited after layoutgen build\n").unwrap();

    let out = cargo_build(&kernel);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "built with a stale layout:\n{stderr}"
    );
    assert!(
        stderr.contains("error: layoutgen outputs are out of date"),
        "{stderr}"
    );
    assert!(stderr.contains("the spec changed"), "{stderr}");
    assert!(stderr.contains(&format!("    {FIX}\n")), "{stderr}");
    assert!(
        stderr.contains(&format!("in {}:", kernel.display())),
        "{stderr}"
    );

    // The printed command fixes it.
    let fix = layoutgen(&kernel, FIX);
    assert!(
        fix.status.success(),
        "{}",
        String::from_utf8_lossy(&fix.stderr)
    );
    let out = cargo_build(&kernel);
    assert!(
        out.status.success(),
        "still failing after `{FIX}`:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A generated file edited by hand.
    let ld = kernel.join("layout/layout.ld");
    let script = std::fs::read_to_string(&ld).unwrap();
    std::fs::write(&ld, script + "/* tweak */\n").unwrap();
    let out = cargo_build(&kernel);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "built with an edited layout.ld");
    assert!(
        stderr.contains("layout.ld is not what `layoutgen build` wrote"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("    {FIX}\n")), "{stderr}");
}

/// Without the stamp, the build says how to make one.
#[test]
fn missing_stamp_fails_the_build_with_the_command() {
    let tmp = tempfile::tempdir().unwrap();
    let kernel = kernel_copy(tmp.path());
    std::fs::remove_file(kernel.join("layout/layout.stamp")).unwrap();
    let out = cargo_build(&kernel);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("cannot read"), "{stderr}");
    assert!(stderr.contains(&format!("    {FIX}\n")), "{stderr}");
}
