//! Building the sample kernels (`sample-kernel/`, `sample-kernel-aarch64/`)
//! for a layout, as their READMEs tell a user to, each build once per test
//! run whichever modules need it.

use super::elf_tools::Linker;
use super::qemu::{Boot, Summary};
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
    let out = crate::support::cli::build(spec, &dir, "ld,rs");
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
            if !rust_target_installed(target) {
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
    let mut key = layout.unwrap_or("default").to_string();
    if linker == Linker::Gnu {
        key.push_str("-gnu-ld");
    }
    riscv_built(&key, linker, || layout.map(kernel_layout))
}

/// `sample-kernel` built from any spec file (e.g. one a property test
/// wrote; its file stem names the layout directory), linked by rust-lld,
/// under target/sample-kernel/`key`.
pub fn riscv_spec(spec: &Path, key: &str) -> PathBuf {
    riscv_built(key, Linker::Lld, || Some(kernel_layout_of(spec)))
}

/// The riscv kernel for `key`, built once: `out` is the LAYOUTGEN_OUT
/// directory (None: the committed one).
fn riscv_built(key: &str, linker: Linker, out: impl FnOnce() -> Option<PathBuf>) -> PathBuf {
    preflight("qemu-system-riscv64", "qemu-system-misc", RISCV_TARGET);
    if linker == Linker::Gnu {
        preflight_gnu_ld();
    }
    static BUILDS: Builds = OnceLock::new();
    build_once(&BUILDS, key, || {
        let target_dir = root().join("target").join("sample-kernel").join(key);
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
        match out() {
            Some(dir) => cmd.env("LAYOUTGEN_OUT", dir),
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

/// A 24-byte first stage for riscv64 QEMU `virt` that jumps to `pa`: `auipc
/// t0, 0; ld t0, 16(t0); jr t0; nop`, then `pa`. a0 (hart id) and a1
/// (device tree) pass through untouched, so it works as the `-bios` (M-mode,
/// entered at the RAM base) or as OpenSBI's next stage (`-kernel`). Written
/// to `dir`.
pub fn stage0(dir: &Path, pa: u64) -> PathBuf {
    let mut code = Vec::new();
    for insn in [0x0000_0297u32, 0x0102_b283, 0x0002_8067, 0x0000_0013] {
        code.extend_from_slice(&insn.to_le_bytes());
    }
    code.extend_from_slice(&pa.to_le_bytes());
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("stage0-{pa:x}.bin"));
    std::fs::write(&path, code).unwrap();
    path
}

/// `elf` as a flat binary (`riscv64-linux-gnu-objcopy -O binary`, from its
/// first load address), next to it as `<elf>.bin`, for a loader that places
/// raw bytes (`-device loader,file=...,addr=...,force-raw=on`).
pub fn flat_binary(elf: &Path) -> PathBuf {
    const OBJCOPY: &str = "riscv64-linux-gnu-objcopy";
    let bin = elf.with_extension("bin");
    let out = Command::new(OBJCOPY)
        .args(["-O", "binary"])
        .arg(elf)
        .arg(&bin)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {OBJCOPY} (apt-get install -y binutils-riscv64-linux-gnu): {e}")
        });
    assert!(
        out.status.success(),
        "{OBJCOPY} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    bin
}

/// The fewest `check` lines a passing riscv sample-kernel boot prints.
pub const RISCV_MIN_CHECKS: usize = 9;

/// The summary line of the riscv kernel under a paged layout, key by key.
pub const RISCV_SUMMARY: [&str; 11] = [
    "spec",
    "mode",
    "page_offset",
    "linear_map",
    "kernel_link",
    "kernel_run",
    "ram",
    "pt_pages",
    "leaves_1g",
    "leaves_2m",
    "leaves_4k",
];

/// A riscv sample-kernel boot under a paged `spec` with `ram` bytes
/// passed, and what it printed agrees with the spec and with layoutgen's
/// page-table prediction (`layoutgen show --ram SIZE --device-pages 1`),
/// also at the address the image ran at (KASLR). Returns the summary.
pub fn assert_riscv_boot_agrees(spec: &layoutgen::Layout, b: &Boot, ram: u64) -> Summary {
    use layoutgen::layout::pagetable;
    use layoutgen::units::{GIB, MIB};
    b.assert_pass(RISCV_MIN_CHECKS);
    let s = b.summary_with(&RISCV_SUMMARY);
    let ctx = b.context();
    assert_eq!(s.str("spec"), spec.name, "{ctx}");
    let ml = spec
        .modes
        .iter()
        .find(|m| m.mode.name() == s.str("mode"))
        .unwrap_or_else(|| panic!("the kernel chose a mode {} does not list\n{ctx}", spec.name));
    // Every layout the sample kernel boots has a linear map.
    let lm = ml.linear_map().expect("a linear map");
    assert_eq!(s.num("page_offset"), lm.start, "page_offset\n{ctx}");
    assert_eq!(s.range("linear_map"), (lm.start as u128, lm.end()), "{ctx}");
    assert_eq!(s.num("kernel_link"), ml.image_link, "kernel_link\n{ctx}");
    let base = spec.ram.base as u128;
    assert_eq!(s.range("ram"), (base, base + ram as u128), "ram\n{ctx}");
    let predicted = pagetable::cost(spec, ml, ram, 1);
    let got = [
        ("pt_pages", s.num("pt_pages"), predicted.pt_pages),
        ("leaves_1g", s.num("leaves_1g"), predicted.leaves_of(GIB)),
        (
            "leaves_2m",
            s.num("leaves_2m"),
            predicted.leaves_of(2 * MIB),
        ),
        ("leaves_4k", s.num("leaves_4k"), predicted.leaves_of(4096)),
    ];
    for (key, kernel, model) in got {
        assert_eq!(
            kernel, model,
            "{key}: kernel vs layoutgen prediction\n{ctx}"
        );
    }
    let run = s.num("kernel_run");
    let maps = pagetable::plan(spec, ml, ram, run, 1);
    assert_eq!(
        pagetable::cost_of(ml, &maps, ram),
        predicted,
        "cost at the run address\n{ctx}"
    );
    s
}

/// Whether rustup has the standard library of `target` (`rustc --print
/// target-libdir` names a directory that exists).
pub fn rust_target_installed(target: &str) -> bool {
    Command::new("rustc")
        .args(["--print", "target-libdir", "--target", target])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .is_some_and(|d| d.is_dir())
}
