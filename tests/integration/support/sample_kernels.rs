//! Building the sample kernels (`sample-kernel/`, `sample-kernel-aarch64/`)
//! for a layout, as their READMEs tell a user to, each build once per test
//! run whichever modules need it.

use super::cli::layoutgen;
use super::elf_tools::Linker;
use super::root;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

pub const RISCV_TARGET: &str = "riscv64gc-unknown-none-elf";
pub const AARCH64_TARGET: &str = "aarch64-unknown-none";

/// What the sample kernel's README tells a user to do for another layout:
/// `layoutgen build --spec layouts/<layout>.toml --out-dir <dir> --emit
/// ld,rs`, then `LAYOUTGEN_OUT=<dir> cargo build`. Returns the directory
/// (under `target/kernel-layouts/`) to pass as `LAYOUTGEN_OUT`.
pub fn kernel_layout(layout: &str) -> PathBuf {
    kernel_layout_of(&super::specs::path(layout))
}

/// The same for a spec anywhere (its file stem names the directory).
pub fn kernel_layout_of(spec: &Path) -> PathBuf {
    let layout = spec.file_stem().expect("a spec file").to_string_lossy();
    let dir = root().join("target").join("kernel-layouts").join(&*layout);
    let out = layoutgen(&[
        "build",
        "--spec",
        spec.to_str().unwrap(),
        "--out-dir",
        dir.to_str().unwrap(),
        "--emit",
        "ld,rs",
    ]);
    assert!(
        out.status.success(),
        "layoutgen build for {layout} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// `cargo ARGS` in the kernel crate `dir`. The kernel's own
/// .cargo/config.toml sets the target and its rustflags; flags meant for
/// the host build must not override them.
pub fn cargo(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(dir).args(args);
    without_host_flags(&mut cmd);
    cmd
}

/// Removes the environment that configures the host build (the test
/// binary's), which a kernel build or a documented command must not inherit.
pub fn without_host_flags(cmd: &mut Command) -> &mut Command {
    cmd.env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
}

/// Runs a kernel build; a failure is an error naming `what`, with cargo's
/// stderr.
pub fn run_build(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("cannot run cargo: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "building {what} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Files built once per key for the whole test run.
pub type Builds = OnceLock<Mutex<HashMap<String, Arc<OnceLock<Result<PathBuf, String>>>>>>;

/// The file `build` makes for `key`, built the first time it is asked for;
/// concurrent tests asking for the same key wait for that build, and a
/// failed build fails every test that needs it.
pub fn build_once(
    builds: &'static Builds,
    key: &str,
    build: impl FnOnce() -> Result<PathBuf, String>,
) -> PathBuf {
    let slot = builds
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(key.to_string())
        .or_default()
        .clone();
    match slot.get_or_init(build) {
        Ok(p) => p.clone(),
        Err(e) => panic!("{e}"),
    }
}

/// QEMU (`qemu`, Debian package `package`) and the Rust target `target`
/// must be installed: fail with the install commands.
fn preflight(qemu: &str, package: &str, target: &str) {
    static CHECKED: OnceLock<Mutex<HashMap<String, Result<(), String>>>> = OnceLock::new();
    let result = CHECKED
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(target.to_string())
        .or_insert_with(|| {
            let mut missing = Vec::new();
            let qemu_ok = Command::new(qemu)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success());
            if !qemu_ok {
                missing.push(format!(
                    "{qemu} not found: install it with `apt-get install -y {package}`"
                ));
            }
            let libdir = Command::new("rustc")
                .args(["--print", "target-libdir", "--target", target])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
            if !libdir.is_some_and(|d| d.is_dir()) {
                missing.push(format!(
                    "Rust target {target} not installed: install it with `rustup target add {target}`"
                ));
            }
            if missing.is_empty() {
                Ok(())
            } else {
                Err(missing.join("\n"))
            }
        })
        .clone();
    if let Err(e) = result {
        panic!("the sample-kernel tests need QEMU and the {target} target:\n{e}");
    }
}

/// GNU ld for riscv64 must be installed to link a kernel with it: fail with
/// the install command.
fn preflight_gnu_ld() {
    let ld = Linker::Gnu.name();
    let ok = Command::new(ld)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"GNU ld"));
    assert!(
        ok,
        "{ld} not found: install it with `apt-get install -y binutils-riscv64-linux-gnu`"
    );
}

/// `sample-kernel` built from `layout` (None: the crate's default spec,
/// with LAYOUTGEN_OUT unset: the committed sample-kernel/layout/) and linked
/// by `linker`, in its own target dir under target/sample-kernel/.
pub fn riscv(layout: Option<&str>, linker: Linker) -> PathBuf {
    preflight("qemu-system-riscv64", "qemu-system-misc", RISCV_TARGET);
    if linker == Linker::Gnu {
        preflight_gnu_ld();
    }
    static BUILDS: Builds = OnceLock::new();
    let mut key = layout.unwrap_or("default").to_string();
    if linker == Linker::Gnu {
        key.push_str("-gnu-ld");
    }
    build_once(&BUILDS, &key, || {
        let target_dir = root().join("target").join("sample-kernel").join(&key);
        let mut cmd = cargo(
            &root().join("sample-kernel"),
            &["build", "--release", "--quiet"],
        );
        cmd.env("CARGO_TARGET_DIR", &target_dir);
        // The linker: cargo's per-target setting, which rustc reads as the
        // `ld` flavour from the name and build.rs sees as RUSTC_LINKER (it
        // drops lld-only flags for GNU ld).
        const LINKER_VAR: &str = "CARGO_TARGET_RISCV64GC_UNKNOWN_NONE_ELF_LINKER";
        match linker {
            Linker::Lld => cmd.env_remove(LINKER_VAR),
            Linker::Gnu => cmd.env(LINKER_VAR, linker.name()),
        };
        match layout {
            Some(l) => cmd.env("LAYOUTGEN_OUT", kernel_layout(l)),
            None => cmd.env_remove("LAYOUTGEN_OUT"),
        };
        run_build(&mut cmd, &format!("sample-kernel for {key}"))?;
        Ok(target_dir
            .join(RISCV_TARGET)
            .join("release")
            .join("sample-kernel"))
    })
}

/// `sample-kernel-aarch64` built from `spec` (LAYOUTGEN_OUT pointing at
/// what `layoutgen build` wrote for it) under
/// target/sample-kernel-aarch64/`key`.
pub fn aarch64(spec: &Path, key: &str) -> PathBuf {
    preflight("qemu-system-aarch64", "qemu-system-arm", AARCH64_TARGET);
    static BUILDS: Builds = OnceLock::new();
    build_once(&BUILDS, key, || {
        let target_dir = root()
            .join("target")
            .join("sample-kernel-aarch64")
            .join(key);
        run_build(
            cargo(
                &root().join("sample-kernel-aarch64"),
                &["build", "--release", "--quiet"],
            )
            .env("CARGO_TARGET_DIR", &target_dir)
            .env("LAYOUTGEN_OUT", kernel_layout_of(spec)),
            "sample-kernel-aarch64",
        )?;
        Ok(target_dir
            .join(AARCH64_TARGET)
            .join("release")
            .join("sample-kernel-aarch64"))
    })
}
