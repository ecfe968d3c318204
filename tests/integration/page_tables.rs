//! `layoutgen lint --page-tables` (docs/page-tables.md) on real running
//! kernels: Linux 6.12 as `scripts/linux-kernel` builds it, dumped through
//! QEMU's monitor at its (initramfs-less) panic, and by Linux itself
//! (debugfs's kernel_page_tables, printed by the modular kernel's /init),
//! in Sv39, Sv48 and Sv57; the sample kernel after its checks; one real
//! dump made wrong per rule, and the sample kernel made to map wrong on
//! request, each caught with the right finding.

use crate::support::cli::{layoutgen, ok_stdout, text};
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

/// Linux's page tables as Linux shows them (ptdump: debugfs's
/// kernel_page_tables), in `mode`: the modular kernel booted with the
/// initramfs of `scripts/linux-test-modules`, whose /init prints the file
/// when `ptdump` is on the command line.
fn linux_ptdump(mode: &str) -> String {
    let image = linux::kernel_file("modular", "Image");
    let initramfs = linux::insmod_file("initramfs.cpio");
    let extra = match mode {
        "sv39" => "no4lvl",
        "sv48" => "no5lvl",
        _ => "",
    };
    let mut cmd = Command::new(QEMU);
    cmd.args(["-machine", "virt", "-cpu", "rv64", "-m", "1G", "-nographic"])
        .arg("-no-reboot")
        .arg("-kernel")
        .arg(&image)
        .arg("-initrd")
        .arg(&initramfs)
        .args([
            "-append",
            &format!("earlycon=sbi console=hvc0 panic=-1 {extra} ptdump"),
        ]);
    let boot = qemu::run(cmd, Duration::from_secs(120), "Linux version");
    let out = &boot.output;
    let (Some(begin), Some(end)) = (
        out.find("layoutgen-ptdump: begin"),
        out.find("layoutgen-ptdump: end"),
    ) else {
        panic!("{mode}: /init printed no page tables\n{}", boot.context());
    };
    out[begin..end].to_string()
}

/// `layoutgen lint --page-tables` of `dump` in `mode`, with `elf` if given:
/// (exit code, stdout).
fn lint(spec: &str, mode: &str, dump: &str, elf: Option<&Path>) -> (i32, String) {
    lint_with(spec, mode, dump, elf, &[])
}

/// [`lint`] with more arguments (`--ram`, `--format`).
fn lint_with(
    spec: &str,
    mode: &str,
    dump: &str,
    elf: Option<&Path>,
    more: &[&str],
) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dump.txt");
    std::fs::write(&file, dump).unwrap();
    let mut args = vec!["lint", "--spec", spec, "--mode", mode];
    args.extend_from_slice(more);
    args.push("--page-tables");
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

/// A symbol's address in the kernel's System.map.
fn system_map(kernel: &str, symbol: &str) -> u64 {
    let map = std::fs::read_to_string(linux::kernel_file(kernel, "System.map")).unwrap();
    map.lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 3 && f[2] == symbol).then(|| u64::from_str_radix(f[0], 16).unwrap())
        })
        .unwrap_or_else(|| panic!("{symbol} not in {kernel}'s System.map"))
}

/// Linux's own dump (ptdump) in every mode: every rule holds, leaves
/// included, with the layout's promises; the one finding is LG031, the
/// linear map costing more than `show --ram` predicts, and this test
/// proves why from the dump and the kernel: STRICT_KERNEL_RWX maps the
/// kernel's linear alias with its own permissions per 2 MiB (so no 1 GiB
/// leaf where the kernel lies), and free_initmem() makes the alias of the
/// freed init memory rw-nx, which splits the 2 MiB holding `__init_end`
/// into 4 KiB pages (arch/riscv/kernel/setup.c, mm/pageattr.c).
#[test]
fn linux_ptdump_has_only_explained_findings_in_every_mode() {
    let vmlinux = linux::kernel_file("modular", "vmlinux");
    let link = system_map("modular", "_start");
    let init_end = system_map("modular", "__init_end");
    let spec_json = ok_stdout(&["show", "--spec", LINUX, "--format", "json"]);
    let spec: serde_json::Value = serde_json::from_str(&spec_json).unwrap();
    for (mode, levels) in [("sv39", 3u32), ("sv48", 4), ("sv57", 5)] {
        let dump = linux_ptdump(mode);
        let mappings = layoutgen::lint::page_tables::parse(&dump);
        assert!(mappings.len() > 5, "{mode}: too few mappings in\n{dump}");
        assert!(mappings.iter().all(|m| m.level.is_some()), "{dump}");
        let region = |name: &str| {
            let m = spec["modes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| &m["layout"])
                .find(|m| m["mode"] == mode)
                .unwrap();
            let r = m["regions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["name"] == name)
                .unwrap();
            let h = |k: &str| {
                u64::from_str_radix(r[k].as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
            };
            (h("start"), h("last"), h("leaf"))
        };
        let (lin_start, lin_last, lin_leaf) = region("linear_map");
        // Where the kernel is: its mapping at the link address.
        let image_pa = mappings
            .iter()
            .find(|m| m.va == link)
            .expect("the kernel mapping")
            .pa;
        let init_end_pa = init_end - link + image_pa;
        let linear: Vec<_> = mappings
            .iter()
            .filter(|m| m.va >= lin_start && m.va <= lin_last)
            .collect();
        let leaf_of =
            |m: &layoutgen::lint::page_tables::Mapping| m.level.unwrap().leaf_size(levels);
        let mut counts = std::collections::BTreeMap::new();
        for m in &linear {
            *counts.entry(leaf_of(m)).or_insert(0u64) += m.size / leaf_of(m);
            // The explanation, checked: 4 KiB only in the 2 MiB of __init_end.
            if leaf_of(m) == 4096 {
                assert!(
                    m.pa >> 21 == init_end_pa >> 21
                        && (m.pa + m.size - 1) >> 21 == init_end_pa >> 21,
                    "{mode}: 4 KiB leaves outside the 2 MiB of __init_end ({init_end_pa:#x}): {m:?}"
                );
            }
        }
        // The GiB that holds the kernel carries several permissions (its
        // aliases: text read-only), which one 1 GiB leaf could not.
        let gib = |pa: u64| pa >> 30;
        let perms: std::collections::BTreeSet<_> = linear
            .iter()
            .filter(|m| gib(m.pa) == gib(image_pa))
            .map(|m| (m.write, m.execute))
            .collect();
        assert!(perms.len() > 1, "{mode}: {perms:?}");
        assert_eq!(counts.get(&(1 << 30)), None, "{mode}: {counts:?}");
        // The lint: clean but for LG031, whose figures are the dump's own
        // (all in one GiB: one table per level) and the model's (RAM with
        // the largest leaf the spec promises).
        let (code, out) = lint_with(LINUX, mode, &dump, Some(&vmlinux), &["--ram", "1GiB"]);
        assert_eq!(code, 0, "{mode}:\n{out}\ndump:\n{dump}");
        assert!(out.contains("0 errors, 1 warning"), "{mode}:\n{out}");
        let human = |size: u64| match size {
            s if s >= 1 << 30 => format!("{} GiB", s >> 30),
            s if s >= 1 << 20 => format!("{} MiB", s >> 20),
            s => format!("{} KiB", s >> 10),
        };
        let dumped: Vec<String> = counts
            .iter()
            .map(|(l, n)| format!("{n} × {}", human(*l)))
            .collect();
        let dumped = format!(
            "mapped with {} leaves in {levels} page-table pages",
            dumped.join(" + ")
        );
        let predicted_tables = levels - (lin_leaf.trailing_zeros() - 12) / 9;
        let predicted = format!(
            "predicts {} × {} leaves in {predicted_tables} page-table pages",
            (1u64 << 30) / lin_leaf,
            human(lin_leaf)
        );
        assert!(
            out.contains("warning[LG031 page-table-cost]")
                && out.contains(&dumped)
                && out.contains(&predicted),
            "{mode}: expected {dumped:?} and {predicted:?} in\n{out}\ndump:\n{dump}"
        );
    }
}

/// A ptdump made wrong: a leaf larger than its region promises (LG030), in
/// every output format.
#[test]
fn a_ptdump_with_a_too_large_leaf_is_caught() {
    let dump = linux_ptdump("sv39");
    // The linear map's big run, relabelled as 1 GiB leaves: Sv39's linear
    // map promises 2 MiB (best_map_size has no PUD there).
    let line = dump
        .lines()
        .find(|l| {
            l.contains(" PMD ")
                && l.split_whitespace()
                    .nth(2)
                    .is_some_and(|s| s.ends_with('M') && s.len() > 3)
        })
        .expect("a large PMD run")
        .to_string();
    let bad = dump.replace(&line, &line.replace(" PMD ", " PUD "));
    let (code, out) = lint(LINUX, "sv39", &bad, None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error[LG030 page-leaf-size]"), "{out}");
    assert!(out.contains("spec: region.linear_map.leaf"), "{out}");
    assert!(
        out.contains("with 1 GiB leaves (Pud); the spec promises at most 2 MiB"),
        "{out}"
    );
    assert!(out.contains("1 error,"), "{out}");
    // --ram needs leaves: QEMU's merged runs are refused, naming why.
    let (code, out) = lint_with(
        LINUX,
        "sv39",
        "ffffffff80000000 0000000080200000 0000000000200000 r-x-gad\n",
        None,
        &["--ram", "1GiB"],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--ram compares leaf counts"), "{out}");
}

/// The riscv sample kernel under `layout`, booted with `args` and held up
/// after its checks (`hold`), dumped through QEMU's monitor: (its console,
/// the mode it chose, its ELF, the dump).
fn sample_dump(layout: &str, args: &str) -> (String, String, std::path::PathBuf, String) {
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
    .args(["-append", &format!("hold {args}")]);
    // `(holding)` after PASS or FAIL: a kernel mapping wrong on purpose
    // may fail its own checks too.
    let (console, dump) = qemu::info_mem(cmd, "(holding)", Duration::from_secs(120));
    // From the summary line (the console echoes the command line too).
    let mode = console
        .lines()
        .filter(|l| l.starts_with("layout: "))
        .flat_map(str::split_whitespace)
        .find_map(|w| w.strip_prefix("mode="))
        .unwrap_or_else(|| panic!("{layout}: no mode= in\n{console}"))
        .to_string();
    (console, mode, elf, dump)
}

/// The sample kernel made to map wrong on request (`pt-text-writable`,
/// `pt-map=VA`: layoutgen-rt's build_page_tables), one rule each, caught
/// with the finding that names the region or segment, range and spec key.
#[test]
fn the_sample_kernel_made_to_map_wrong_is_caught() {
    let cases: [(&str, &str, &[&str]); 3] = [
        // Code made writable: W^X, and more than segment `text` allows.
        (
            "qemu-virt-sv39",
            "pt-text-writable",
            &[
                "error[LG025 page-write-execute]",
                "error[LG027 page-permissions]",
                "maps segment `text`",
                "spec: image.section",
            ],
        ),
        // A page between the linear map and the modules area.
        (
            "qemu-virt-sv39",
            "pt-map=0xfffffff600000000",
            &[
                "error[LG024 page-outside-regions]",
                "0xfffffff600000000..0xfffffff600001000 is mapped",
                "(between `linear_map` and `modules`)",
                "spec: region\n",
            ],
        ),
        // A page in the identity layout's per-process trap frame (kind user).
        (
            "qemu-virt-identity",
            "pt-map=0x3fffffe000",
            &[
                "error[LG026 page-user-half]",
                "[0x3fffffe000, 0x3ffffff000)",
                "inside `trapframe`",
                "spec: region.trapframe",
            ],
        ),
    ];
    for (layout, args, expected) in cases {
        let (_, mode, elf, dump) = sample_dump(layout, args);
        let spec = format!("layouts/{layout}.toml");
        let (code, out) = lint(&spec, &mode, &dump, Some(&elf));
        assert_eq!(code, 1, "{layout} {args}:\n{out}\ndump:\n{dump}");
        for e in expected {
            assert!(out.contains(e), "{layout} {args}: expected {e:?} in\n{out}");
        }
        // Nothing else: the errors are the expected checks' only.
        let errors = out
            .lines()
            .filter(|l| l.trim_start().starts_with("error["))
            .count();
        let wanted = expected.iter().filter(|e| e.starts_with("error[")).count();
        assert!(errors >= wanted, "{out}");
        for l in out.lines().filter(|l| l.trim_start().starts_with("error[")) {
            assert!(
                expected
                    .iter()
                    .any(|e| e.starts_with("error[") && l.contains(e)),
                "{layout} {args}: unexpected {l}"
            );
        }
    }
}

/// The bundled riscv64 QEMU layouts and each paging mode they list
/// (`bare`, no paging, has no tables to dump).
fn riscv_qemu_layouts() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(crate::support::root().join("layouts")).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        if !name.starts_with("qemu-virt") || !text.contains("arch = \"riscv64\"") {
            continue;
        }
        let spec = path.display().to_string();
        let json: serde_json::Value =
            serde_json::from_str(&ok_stdout(&["show", "--spec", &spec, "--format", "json"]))
                .unwrap();
        for m in json["modes"].as_array().unwrap() {
            let mode = m["layout"]["mode"].as_str().unwrap();
            if mode != "bare" {
                out.push((name.clone(), mode.to_string()));
            }
        }
    }
    out.sort();
    out
}

/// The sample kernel under every bundled riscv64 QEMU layout, in every
/// mode it lists (`mode=`), held up after its checks passed and dumped.
#[test]
fn the_sample_kernel_maps_only_inside_its_layout() {
    let all = riscv_qemu_layouts();
    // Today's set, so a filter gone wrong cannot shrink the test silently.
    assert!(all.len() >= 10, "{all:?}");
    for (layout, mode) in all {
        let (console, chosen, elf, dump) = sample_dump(&layout, &format!("mode={mode}"));
        assert!(
            console.contains("RESULT: PASS"),
            "{layout} {mode}:\n{console}"
        );
        assert_eq!(chosen, mode, "{layout}");
        let spec = format!("layouts/{layout}.toml");
        let (code, out) = lint(&spec, &mode, &dump, Some(&elf));
        assert_eq!(code, 0, "{layout} ({mode}):\n{out}\ndump:\n{dump}");
        assert!(
            out.contains("0 errors, 0 warnings"),
            "{layout} ({mode}):\n{out}"
        );
    }
}
