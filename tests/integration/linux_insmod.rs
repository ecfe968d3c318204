//! Lint's LG023 verdict against the real module loader's, in both
//! directions. `scripts/linux-test-modules` builds out-of-tree modules
//! (`tests/data/modules/`) against the `modular` Linux 6.12 kernel of
//! `scripts/linux-kernel`, and an initramfs whose `/init` (no libc) loads
//! each with finit_module(2) and prints one line per module:
//!
//! * `lg_plain`: ordinary relocations only;
//! * `lg_pcrel32`: a 32-bit PC-relative data word, `R_RISCV_32_PCREL` (type
//!   57, word = S + A - P; stated with `.reloc` because bookworm's binutils
//!   2.40 writes `.4byte sym - .` as an ADD32/SUB32 pair),
//!   which 6.12's loader applies (the module checks the value it wrote) and
//!   a loader before "riscv: Add remaining module relocations" lacks;
//! * `lg_tls`: a `__thread` variable, `R_RISCV_TPREL_*`, which 6.12's loader
//!   refuses (`tls_not_supported`);
//! * `lg_gprel`: `R_RISCV_GPREL_I` (type 47, by `.reloc`), for which 6.12's
//!   loader has no handler ("Unknown relocation type 47");
//! * `lg_none`: `R_RISCV_NONE` (type 0, by `.reloc`), which riscv's loader
//!   has no handler for either ("Unknown relocation type 0"; lint exempted
//!   type 0 until this test showed the kernel refusing it).
//!
//! Each module is linted against `layouts/linux-riscv64.toml` (6.12's
//! `[module_loader]`) and against an older loader's description (the same
//! table without `R_RISCV_32_PCREL`); then the kernel boots under QEMU with
//! the initramfs. A module lint passes is loaded by the kernel, and a module
//! lint reports is refused, with the kernel's own message naming (or, for
//! the TLS types, classing) a type lint named. Missing kernels, modules or
//! QEMU fail the test; nothing is skipped.

use crate::linux_modules::{lint_verdicts, relocation_types};
use crate::support::linux::insmod_file;
use crate::support::{linux, qemu, specs};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const QEMU: &str = "qemu-system-riscv64";
/// A guard only: the kernel boots and powers off in a few seconds.
const BOOT_TIMEOUT: Duration = Duration::from_secs(180);
const MODULES: [&str; 5] = ["lg_gprel", "lg_none", "lg_pcrel32", "lg_plain", "lg_tls"];
const R_RISCV_NONE: u32 = 0;
const R_RISCV_32_PCREL: u32 = 57;
const R_RISCV_GPREL_I: u32 = 47;
/// `R_RISCV_TPREL_HI20`, `_LO12_I`, `_LO12_S`, `_ADD`: what `__thread` compiles to.
const TPREL: [u32; 4] = [29, 30, 31, 32];
/// The types 6.12's `reloc_handlers` maps to `tls_not_supported`:
/// `R_RISCV_TLS_GOT_HI20`, `_TLS_GD_HI20` and the four `R_RISCV_TPREL_*`.
const TLS_NOT_SUPPORTED: [u32; 6] = [21, 22, 29, 30, 31, 32];
const EINVAL: i32 = 22;

/// What the kernel did with one module.
#[derive(Debug, PartialEq)]
enum Kernel {
    Loaded,
    /// finit_module's errno and the loader's message about the module.
    Refused {
        errno: i32,
        message: Refusal,
    },
}

#[derive(Debug, PartialEq)]
enum Refusal {
    /// "NAME: Unknown relocation type N".
    Unknown(u32),
    /// "NAME: Thread local storage not supported in kernel modules".
    Tls,
    /// No loader message about a relocation.
    Other,
}

/// The `/init` lines and the loader's messages, per module.
fn kernel_verdicts(output: &str) -> BTreeMap<String, Kernel> {
    let mut verdicts = BTreeMap::new();
    for line in output.lines() {
        let Some(rest) = line.split("layoutgen-insmod: ").nth(1) else {
            continue;
        };
        let Some((file, result)) = rest.split_once(".ko: ") else {
            continue;
        };
        let verdict = if result.trim_end() == "loaded" {
            Kernel::Loaded
        } else {
            let errno = result
                .trim_end()
                .strip_prefix("refused, errno ")
                .and_then(|e| e.parse().ok())
                .unwrap_or_else(|| panic!("unexpected /init line {line:?}"));
            let about = |text: &str| {
                output
                    .lines()
                    .find_map(|l| l.split(&format!("{file}: {text}")).nth(1))
            };
            let message = if let Some(n) = about("Unknown relocation type ") {
                Refusal::Unknown(n.trim().parse().unwrap())
            } else if about("Thread local storage not supported").is_some() {
                Refusal::Tls
            } else {
                Refusal::Other
            };
            Kernel::Refused { errno, message }
        };
        assert!(
            verdicts.insert(file.to_string(), verdict).is_none(),
            "{file}.ko loaded twice"
        );
    }
    verdicts
}

#[test]
fn lint_and_the_6_12_module_loader_agree_on_out_of_tree_modules() {
    let image = linux::kernel_file("modular", "Image");
    let initramfs = insmod_file("initramfs.cpio");
    let files: Vec<PathBuf> = MODULES
        .iter()
        .map(|m| insmod_file(&format!("{m}.ko")))
        .collect();
    let name = |p: &PathBuf| p.file_stem().unwrap().to_str().unwrap().to_string();

    // Each module carries what it is for (read independently of lint).
    let used: BTreeMap<String, BTreeSet<u32>> = files
        .iter()
        .map(|f| (name(f), relocation_types(f)))
        .collect();
    let special: BTreeSet<u32> = [R_RISCV_NONE, R_RISCV_32_PCREL, R_RISCV_GPREL_I]
        .into_iter()
        .chain(TPREL)
        .collect();
    let has = |m: &str, types: &[u32]| {
        let mine: BTreeSet<u32> = types.iter().copied().collect();
        assert_eq!(
            used[m]
                .intersection(&special)
                .copied()
                .collect::<BTreeSet<u32>>(),
            mine,
            "{m}: relocation types {:?}",
            used[m]
        );
    };
    has("lg_plain", &[]);
    has("lg_pcrel32", &[R_RISCV_32_PCREL]);
    has("lg_tls", &TPREL);
    has("lg_gprel", &[R_RISCV_GPREL_I]);
    has("lg_none", &[R_RISCV_NONE]);

    // Lint against 6.12's loader (what it reports is checked against the
    // kernel first, then against what each module is for).
    let text = specs::text("linux-riscv64");
    let layout = specs::check_text(&text, "linux-riscv64.toml").unwrap();
    let table = |l: &layoutgen::Layout| -> BTreeSet<u32> {
        l.module_loader
            .as_ref()
            .unwrap()
            .types
            .iter()
            .copied()
            .collect()
    };
    let by_name = |v: BTreeMap<PathBuf, BTreeSet<u32>>| -> BTreeMap<String, BTreeSet<u32>> {
        v.into_iter().map(|(p, t)| (name(&p), t)).collect()
    };
    let lint_6_12 = by_name(lint_verdicts(&layout, &files));
    // An older loader, described the documented way (6.12's table without
    // what it lacks): the 32-bit PC-relative module is refused with the
    // type-57 finding, the others are judged as before.
    let entry = "\"R_RISCV_32_PCREL\",";
    assert!(
        text.contains(entry),
        "R_RISCV_32_PCREL is not in 6.12's table"
    );
    let older = specs::check_text(&text.replacen(entry, "", 1), "older-loader.toml").unwrap();
    assert!(!table(&older).contains(&R_RISCV_32_PCREL));
    let lint_older = by_name(lint_verdicts(&older, &files));
    for m in MODULES {
        let mut want = lint_6_12[m].clone();
        if m == "lg_pcrel32" {
            want.insert(R_RISCV_32_PCREL);
        }
        assert_eq!(lint_older[m], want, "{m} against the older loader");
    }

    // The kernel's verdict: boot the modular kernel with the initramfs.
    let mut cmd = Command::new(QEMU);
    cmd.args([
        "-machine",
        "virt",
        "-cpu",
        "rv64",
        "-m",
        "256M",
        "-nographic",
    ])
    .arg("-no-reboot")
    .arg("-kernel")
    .arg(&image)
    .arg("-initrd")
    .arg(&initramfs)
    .args(["-append", "earlycon=sbi console=hvc0 panic=-1"]);
    let boot = qemu::run(cmd, BOOT_TIMEOUT, "Linux version");
    assert!(
        boot.output.contains("layoutgen-insmod: done"),
        "/init did not finish\n{}",
        boot.context()
    );
    assert_eq!(boot.status, 0, "{}", boot.context());
    let kernel = kernel_verdicts(&boot.output);
    assert_eq!(
        kernel.keys().map(String::as_str).collect::<Vec<_>>(),
        MODULES.to_vec(),
        "one /init line per module\n{}",
        boot.context()
    );

    // Both directions, module by module.
    for m in MODULES {
        let lint = &lint_6_12[m];
        match &kernel[m] {
            Kernel::Loaded => assert!(
                lint.is_empty(),
                "{m}: the kernel loaded it, lint reports types {lint:?}\n{}",
                boot.context()
            ),
            Kernel::Refused { errno, message } => {
                assert!(
                    !lint.is_empty(),
                    "{m}: the kernel refused it (errno {errno}, {message:?}), lint passes it\n{}",
                    boot.context()
                );
                assert_eq!(*errno, EINVAL, "{m}\n{}", boot.context());
                match message {
                    Refusal::Unknown(t) => assert!(
                        lint.contains(t),
                        "{m}: the kernel names type {t}, lint {lint:?}"
                    ),
                    Refusal::Tls => assert!(
                        lint.iter().all(|t| TLS_NOT_SUPPORTED.contains(t)),
                        "{m}: the kernel refuses TLS, lint names {lint:?}"
                    ),
                    Refusal::Other => panic!(
                        "{m}: refused without a relocation message\n{}",
                        boot.context()
                    ),
                }
            }
        }
    }
    // What the kernel printed for a refused module is what lint's finding
    // quotes (the loader stops at the first relocation it refuses, so one
    // of the module's findings).
    for m in MODULES {
        if kernel[m] == Kernel::Loaded {
            continue;
        }
        let report = layoutgen::lint::run(
            &layout,
            &insmod_file(&format!("{m}.ko")),
            &Default::default(),
        )
        .unwrap();
        let quotes: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| f.id == layoutgen::lint::Lint::ModuleRelocation)
            .filter_map(|f| f.message.split("(Linux 6.12: \"").nth(1))
            .filter_map(|q| q.split('"').next())
            .collect();
        assert!(
            quotes
                .iter()
                .any(|q| boot.output.contains(&format!("{m}: {q}"))),
            "{m}: lint quotes {quotes:?}, which the kernel did not print\n{}",
            boot.context()
        );
    }
    // And what each module is for, so neither direction is vacuous.
    let expected = |m: &str, types: &[u32]| -> BTreeSet<u32> {
        assert_eq!(
            used[m]
                .difference(&table(&layout))
                .copied()
                .collect::<BTreeSet<u32>>(),
            types.iter().copied().collect(),
            "{m}: the types 6.12's table lacks"
        );
        types.iter().copied().collect()
    };
    assert_eq!(lint_6_12["lg_plain"], expected("lg_plain", &[]));
    assert_eq!(lint_6_12["lg_pcrel32"], expected("lg_pcrel32", &[]));
    assert_eq!(lint_6_12["lg_tls"], expected("lg_tls", &TPREL));
    assert_eq!(
        lint_6_12["lg_gprel"],
        expected("lg_gprel", &[R_RISCV_GPREL_I])
    );
    assert_eq!(lint_6_12["lg_none"], expected("lg_none", &[R_RISCV_NONE]));

    assert_eq!(kernel["lg_plain"], Kernel::Loaded);
    assert_eq!(kernel["lg_pcrel32"], Kernel::Loaded);
    assert!(
        boot.output
            .contains("lg_pcrel32: loaded, 32-bit PC-relative word resolved"),
        "{}",
        boot.context()
    );
    assert_eq!(
        kernel["lg_tls"],
        Kernel::Refused {
            errno: EINVAL,
            message: Refusal::Tls
        }
    );
    assert_eq!(
        kernel["lg_gprel"],
        Kernel::Refused {
            errno: EINVAL,
            message: Refusal::Unknown(R_RISCV_GPREL_I)
        }
    );
    assert_eq!(
        kernel["lg_none"],
        Kernel::Refused {
            errno: EINVAL,
            message: Refusal::Unknown(R_RISCV_NONE)
        }
    );
    eprintln!(
        "modular kernel booted in {:.1} s: {}",
        boot.elapsed.as_secs_f64(),
        MODULES
            .iter()
            .map(|m| format!("{m} {:?}", kernel[*m]))
            .collect::<Vec<_>>()
            .join(", ")
    );
}
