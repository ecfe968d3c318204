//! `layoutgen lint --page-tables` (docs/page-tables.md) on real running
//! kernels: Linux 6.12 as `scripts/linux-kernel` builds it, dumped through
//! QEMU's monitor at its (initramfs-less) panic in Sv39, Sv48 and Sv57, and
//! the sample kernel after its checks; then one real dump made wrong per
//! rule, each caught with the right finding.

use crate::support::cli::{layoutgen, text};
use crate::support::{linux, qemu, sample_kernels};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const QEMU: &str = "qemu-system-riscv64";
const LINUX: &str = "layouts/linux-riscv64.toml";

/// Linux's page tables at its panic, in `mode` (QEMU's `info mem`).
fn linux_dump(mode: &str) -> String {
    let image = linux::kernel_file("fixed", "Image");
    let extra = match mode {
        "sv39" => "no4lvl",
        "sv48" => "no5lvl",
        _ => "",
    };
    let mut cmd = Command::new(QEMU);
    cmd.args(["-machine", "virt", "-cpu", "rv64", "-m", "1G", "-nographic"])
        .arg("-kernel")
        .arg(&image)
        .args(["-append", &format!("earlycon=sbi console=hvc0 {extra}")]);
    let (_, dump) = qemu::info_mem(cmd, "end Kernel panic", Duration::from_secs(120));
    dump
}

/// `layoutgen lint --page-tables` of `dump` in `mode`, with `elf` if given:
/// (exit code, stdout).
fn lint(spec: &str, mode: &str, dump: &str, elf: Option<&Path>) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dump.txt");
    std::fs::write(&file, dump).unwrap();
    let mut args = vec!["lint", "--spec", spec, "--mode", mode, "--page-tables"];
    let file_s = file.to_str().unwrap().to_string();
    args.push(&file_s);
    let elf_s = elf.map(|e| e.to_str().unwrap().to_string());
    if let Some(e) = &elf_s {
        args.push(e);
    }
    let o = layoutgen(&args);
    (o.status.code().unwrap_or(-1), text(&o.stdout))
}

#[test]
fn linux_maps_only_inside_its_layout_in_every_mode() {
    let vmlinux = linux::kernel_file("fixed", "vmlinux");
    for mode in ["sv39", "sv48", "sv57"] {
        let dump = linux_dump(mode);
        let mappings = layoutgen::lint::page_tables::parse(&dump);
        assert!(mappings.len() > 5, "{mode}: too few mappings in\n{dump}");
        // The image and the linear map are there.
        assert!(
            mappings
                .iter()
                .any(|m| m.va == 0xffff_ffff_8000_0000 && m.execute)
        );
        let (code, out) = lint(LINUX, mode, &dump, Some(&vmlinux));
        assert_eq!(
            code, 0,
            "{mode}: Linux's real mappings:\n{out}\ndump:\n{dump}"
        );
        assert!(out.contains("0 errors, 0 warnings"), "{out}");
    }
}

#[test]
fn a_dump_made_wrong_is_caught_once_per_rule() {
    let vmlinux = linux::kernel_file("fixed", "vmlinux");
    let dump = linux_dump("sv39");
    let text_line = dump
        .lines()
        .find(|l| l.starts_with("ffffffff80000000 ") && l.ends_with("r-x-gad"))
        .expect("Linux's text mapping")
        .to_string();
    let cases = [
        // Text made writable: W^X and more than its segment allows.
        (
            dump.replace(&text_line, &text_line.replace("r-x-gad", "rwx-gad")),
            vec!["LG025 page-write-execute", "LG027 page-permissions"],
        ),
        // A page between the linear map and the KASAN shadow.
        (
            format!("{dump}\nfffffff600001000 0000000080000000 0000000000001000 rw--gad\n"),
            vec!["LG024 page-outside-regions"],
        ),
        // A user page in the kernel's tables.
        (
            format!("{dump}\n0000000000400000 0000000080000000 0000000000001000 rw-ugad\n"),
            vec!["LG026 page-user-half"],
        ),
    ];
    for (bad, expected) in cases {
        let (code, out) = lint(LINUX, "sv39", &bad, Some(&vmlinux));
        assert_eq!(code, 1, "{out}");
        for e in &expected {
            assert!(out.contains(&format!("error[{e}]")), "expected {e}:\n{out}");
        }
        let count = match expected.len() {
            1 => "1 error,".to_string(),
            n => format!("{n} errors,"),
        };
        assert!(out.contains(&count), "only {expected:?}:\n{out}");
    }
    // Not a dump at all: an input error.
    let (code, out) = lint(LINUX, "sv39", "hello\n", None);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no mapping in it"), "{out}");
}

/// The sample kernel under every bundled QEMU layout with paging, held up
/// after its checks (`hold`) and dumped in the mode it chose.
#[test]
fn the_sample_kernel_maps_only_inside_its_layout() {
    for layout in [
        "qemu-virt-sv39",
        "qemu-virt-multi",
        "qemu-virt-multi-onemap",
        "qemu-virt-semipic",
        "qemu-virt-in-linear-map",
        "qemu-virt-identity",
    ] {
        let elf = sample_kernels::riscv(Some(layout), crate::support::elf_tools::Linker::Lld);
        let mut cmd = Command::new(QEMU);
        cmd.args([
            "-machine",
            "virt",
            "-nographic",
            "-bios",
            "default",
            "-m",
            "256M",
        ])
        .arg("-kernel")
        .arg(&elf)
        .args(["-append", "hold"]);
        let (console, dump) = qemu::info_mem(cmd, "RESULT: PASS", Duration::from_secs(120));
        let mode = console
            .split_whitespace()
            .find_map(|w| w.strip_prefix("mode="))
            .unwrap_or_else(|| panic!("{layout}: no mode= in\n{console}"))
            .to_string();
        let spec = format!("layouts/{layout}.toml");
        let (code, out) = lint(&spec, &mode, &dump, Some(&elf));
        assert_eq!(code, 0, "{layout} ({mode}):\n{out}\ndump:\n{dump}");
    }
}
