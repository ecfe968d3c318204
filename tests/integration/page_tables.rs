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

/// The kernel argument that keeps Linux in `mode` (it takes the largest
/// mode the CPU has, Sv57 on QEMU's rv64, unless told fewer levels).
fn mode_arg(mode: &str) -> &'static str {
    match mode {
        "sv39" => "no4lvl",
        "sv48" => "no5lvl",
        _ => "",
    }
}

/// QEMU's riscv virt machine with 1 GiB of RAM, as the Linux dumps boot.
fn linux_virt() -> Command {
    let mut cmd = Command::new(QEMU);
    cmd.args(["-machine", "virt", "-cpu", "rv64", "-m", "1G", "-nographic"]);
    cmd
}

/// Linux's page tables at its panic, in `mode` (QEMU's `info mem`).
fn linux_dump(mode: &str) -> String {
    let image = linux::kernel_file("fixed", "Image");
    let extra = mode_arg(mode);
    let mut cmd = linux_virt();
    cmd.arg("-kernel")
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
    let extra = mode_arg(mode);
    let mut cmd = linux_virt();
    cmd.arg("-no-reboot")
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
        crate::support::findings::assert_only_errors(&out, &expected);
    }
    // Not a dump at all: an input error.
    let (code, out) = lint(LINUX, "sv39", "hello\n", None);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no mapping in it"), "{out}");
}

/// `--root` on a memory image that holds no tables there: input errors
/// (exit 2) that name what is wrong, never a panic or a clean result.
#[test]
fn a_memory_image_without_tables_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("ram.bin");
    std::fs::write(&image, vec![0u8; 8192]).unwrap();
    let image_s = image.to_str().unwrap();
    let run = |root: &str| {
        let o = layoutgen(&[
            "lint",
            "--spec",
            LINUX,
            "--mode",
            "sv39",
            "--page-tables",
            image_s,
            "--root",
            root,
        ]);
        (
            o.status.code().unwrap_or(-1),
            text(&o.stdout) + &text(&o.stderr),
        )
    };
    // An empty root table: nothing mapped.
    let (code, out) = run("0x80000000");
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("the tables at 0x80000000 map nothing"),
        "{out}"
    );
    // A root outside the image (ram.base 0x8000_0000, 8 KiB).
    let (code, out) = run("0x1000");
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(
            "a page table at 0x1000 lies outside the memory image [0x80000000, 0x80002000)"
        ),
        "{out}"
    );
    // Not an address.
    let (code, out) = run("banana");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--root"), "{out}");
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
    let link = linux::system_map("modular", "_start");
    let init_end = linux::system_map("modular", "__init_end");
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
            .pa
            .expect("riscv's ptdump prints the PA");
        let init_end_pa = init_end - link + image_pa;
        let linear: Vec<_> = mappings
            .iter()
            .filter(|m| m.va >= lin_start && m.va <= lin_last)
            .collect();
        let leaf_of =
            |m: &layoutgen::lint::page_tables::Mapping| m.level.unwrap().leaf_size(levels);
        let mut counts = std::collections::BTreeMap::new();
        for m in &linear {
            let pa = m.pa.expect("riscv's ptdump prints the PA");
            *counts.entry(leaf_of(m)).or_insert(0u64) += m.size / leaf_of(m);
            // The explanation, checked: 4 KiB only in the 2 MiB of __init_end.
            if leaf_of(m) == 4096 {
                assert!(
                    pa >> 21 == init_end_pa >> 21 && (pa + m.size - 1) >> 21 == init_end_pa >> 21,
                    "{mode}: 4 KiB leaves outside the 2 MiB of __init_end ({init_end_pa:#x}): {m:?}"
                );
            }
        }
        // The GiB that holds the kernel carries several permissions (its
        // aliases: text read-only), which one 1 GiB leaf could not.
        let gib = |pa: Option<u64>| pa.map(|pa| pa >> 30);
        let perms: std::collections::BTreeSet<_> = linear
            .iter()
            .filter(|m| gib(m.pa) == gib(Some(image_pa)))
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

/// A sample kernel held up after its checks, dumped through QEMU's
/// monitor.
struct SampleDump {
    console: String,
    /// The mode it chose (its summary line's `mode=`).
    mode: String,
    elf: std::path::PathBuf,
    /// `info mem` (riscv64 only; empty on aarch64).
    info_mem: String,
    /// Its RAM, saved with `pmemsave`, and the root table it printed.
    ram_image: std::path::PathBuf,
    root: String,
    _dir: tempfile::TempDir,
}

const SAMPLE_RAM: &str = "256MiB";

/// The sample kernel of `arch` under `layout`, booted with `args` and
/// `hold`: the console, `info mem` where QEMU has it, and all its RAM.
fn sample_dump_of(arch: &str, layout: &str, args: &str) -> SampleDump {
    let dir = tempfile::tempdir().unwrap();
    let ram_image = dir.path().join("ram.bin");
    let (elf, mut cmd, ram_base) = if arch == "aarch64" {
        let elf = sample_kernels::aarch64(&crate::support::specs::path(layout), layout);
        (elf, qemu::aarch64_virt(), "0x40000000")
    } else {
        let elf = sample_kernels::riscv(Some(layout), crate::support::elf_tools::Linker::Lld);
        let mut cmd = Command::new(QEMU);
        cmd.args(["-machine", "virt", "-nographic", "-bios", "default"]);
        (elf, cmd, "0x80000000")
    };
    cmd.args(["-m", "256M"])
        .arg("-kernel")
        .arg(&elf)
        .args(["-append", &format!("hold {args}")]);
    // Quoted: HMP would read `/` in a bare file name as a division.
    let pmemsave = format!("pmemsave {ram_base} 0x10000000 \"{}\"", ram_image.display());
    let mut commands = vec![pmemsave.as_str()];
    if arch != "aarch64" {
        commands.push("info mem");
    }
    // `(holding)` after PASS or FAIL: a kernel mapping wrong on purpose
    // may fail its own checks too.
    let (console, answers) = qemu::monitor(cmd, "(holding)", Duration::from_secs(120), &commands);
    // From the summary line (the console echoes the command line too).
    let field = |key: &str| {
        console
            .lines()
            .filter(|l| l.starts_with("layout: ") || l.starts_with("tables: "))
            .flat_map(str::split_whitespace)
            .find_map(|w| w.strip_prefix(key))
            .unwrap_or_else(|| panic!("{layout}: no {key} in\n{console}"))
            .to_string()
    };
    let ram_len = std::fs::metadata(&ram_image).map(|m| m.len()).unwrap_or(0);
    // The monitor's answer without its line editing (escape sequences).
    let answer = answers[0].rsplit("\r\n").take(3).collect::<Vec<_>>();
    assert_eq!(ram_len, 256 << 20, "pmemsave: {answer:?}");
    SampleDump {
        mode: field("mode="),
        root: field("root="),
        info_mem: answers.get(1).cloned().unwrap_or_default(),
        console,
        elf,
        ram_image,
        _dir: dir,
    }
}

/// `lint --page-tables` of a sample kernel's RAM image, walked from its
/// root: (exit code, stdout).
fn lint_ram(layout: &str, d: &SampleDump) -> (i32, String) {
    let spec = format!("layouts/{layout}.toml");
    let o = layoutgen(&[
        "lint",
        "--spec",
        &spec,
        "--mode",
        &d.mode,
        "--ram",
        SAMPLE_RAM,
        "--page-tables",
        d.ram_image.to_str().unwrap(),
        "--root",
        &d.root,
        d.elf.to_str().unwrap(),
    ]);
    (o.status.code().unwrap_or(-1), text(&o.stdout))
}

/// The bundled QEMU layouts of `arch` and each paging mode they list
/// (`bare`, no paging, has no tables to dump).
fn qemu_layouts(arch: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(crate::support::root().join("layouts")).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        if !name.starts_with("qemu-virt") || !text.contains(&format!("arch = \"{arch}\"")) {
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

/// The sample kernels under every bundled QEMU layout, in every mode it
/// lists (`mode=`), held up after their checks passed: riscv64's tables
/// read twice, as QEMU's `info mem` and walked by layoutgen from a RAM
/// image and satp; aarch64's (QEMU has no `info mem` there) walked from a
/// RAM image and TTBR1_EL1. Every rule holds, and the walked leaves and
/// page-table pages of the linear map are exactly what `show --ram`
/// predicts (no LG031: the sample kernel implements the model).
#[test]
fn the_sample_kernels_map_only_inside_their_layouts() {
    let riscv = qemu_layouts("riscv64");
    let aarch64 = qemu_layouts("aarch64");
    // Today's sets, so a filter gone wrong cannot shrink the test silently.
    assert!(
        riscv.len() >= 10 && aarch64.len() >= 2,
        "{riscv:?} {aarch64:?}"
    );
    let all = riscv
        .iter()
        .map(|l| ("riscv64", l))
        .chain(aarch64.iter().map(|l| ("aarch64", l)));
    for (arch, (layout, mode)) in all {
        let d = sample_dump_of(arch, layout, &format!("mode={mode}"));
        assert!(
            d.console.contains("RESULT: PASS"),
            "{layout} {mode}:\n{}",
            d.console
        );
        assert_eq!(&d.mode, mode, "{layout}");
        if arch == "riscv64" {
            let spec = format!("layouts/{layout}.toml");
            let (code, out) = lint(&spec, mode, &d.info_mem, Some(&d.elf));
            assert_eq!(code, 0, "{layout} ({mode}):\n{out}\ndump:\n{}", d.info_mem);
            assert!(
                out.contains("0 errors, 0 warnings"),
                "{layout} ({mode}):\n{out}"
            );
        }
        let (code, out) = lint_ram(layout, &d);
        assert_eq!(code, 0, "{arch} {layout} ({mode}) walked:\n{out}");
        assert!(
            out.contains("0 errors, 0 warnings"),
            "{arch} {layout} ({mode}) walked:\n{out}"
        );
    }
}

/// The sample kernels made to map wrong on request (`pt-text-writable`,
/// `pt-map=VA`, `pt-block=VA`: layoutgen-rt's build_page_tables), one
/// rule each, caught
/// with the finding that names the region or segment, range and spec key:
/// through `info mem` and the walk on riscv64, the walk on aarch64.
#[test]
fn the_sample_kernels_made_to_map_wrong_are_caught() {
    let text_writable: &[&str] = &[
        "error[LG025 page-write-execute]",
        "error[LG027 page-permissions]",
        "maps segment `text`",
        "spec: image.section",
    ];
    let cases: [(&str, &str, &str, &[&str]); 7] = [
        // Code made writable: W^X, and more than segment `text` allows.
        (
            "riscv64",
            "qemu-virt-sv39",
            "pt-text-writable",
            text_writable,
        ),
        (
            "aarch64",
            "qemu-virt-aarch64",
            "pt-text-writable",
            text_writable,
        ),
        // A page between the linear map and the modules area.
        (
            "riscv64",
            "qemu-virt-sv39",
            "pt-map=0xfffffff600000000",
            &[
                "error[LG024 page-outside-regions]",
                "0xfffffff600000000..0xfffffff600001000 is mapped",
                "(between `linear_map` and `modules`)",
                "spec: region\n",
            ],
        ),
        // aarch64 (va39): a page between the linear map and vmalloc.
        (
            "aarch64",
            "qemu-virt-aarch64",
            "mode=va39 pt-map=0xffffff8400000000",
            &[
                "error[LG024 page-outside-regions]",
                "0xffffff8400000000..0xffffff8400001000 is mapped",
                "(between `linear_map` and `vmalloc`)",
                "spec: region\n",
            ],
        ),
        // A page in the identity layout's per-process trap frame (kind
        // user). aarch64's walk reads TTBR1 only: no user-half case there.
        (
            "riscv64",
            "qemu-virt-identity",
            "pt-map=0x3fffffe000",
            &[
                "error[LG026 page-user-half]",
                "[0x3fffffe000, 0x3ffffff000)",
                "inside `trapframe`",
                "spec: region.trapframe",
            ],
        ),
        // A 2 MiB block in vmalloc, which promises 4 KiB leaves: only a
        // walk shows leaves (`info mem` merges them).
        (
            "riscv64",
            "qemu-virt-sv39",
            "pt-block=0xffffffc600000000",
            &[
                "error[LG030 page-leaf-size]",
                "[0xffffffc600000000, 0xffffffc600200000) in `vmalloc` is mapped with 2 MiB leaves",
                "spec: region.vmalloc.leaf",
            ],
        ),
        (
            "aarch64",
            "qemu-virt-aarch64",
            "mode=va39 pt-block=0xffffffa000000000",
            &[
                "error[LG030 page-leaf-size]",
                "[0xffffffa000000000, 0xffffffa000200000) in `vmalloc` is mapped with 2 MiB leaves",
                "spec: region.vmalloc.leaf",
            ],
        ),
    ];
    for (arch, layout, args, expected) in cases {
        let d = sample_dump_of(arch, layout, args);
        let spec = format!("layouts/{layout}.toml");
        let mut outputs = vec![("walked", lint_ram(layout, &d))];
        if arch == "riscv64" && !args.contains("pt-block") {
            outputs.push(("info mem", lint(&spec, &d.mode, &d.info_mem, Some(&d.elf))));
        }
        for (how, (code, out)) in outputs {
            let at = format!("{layout} {args} ({how})");
            assert_eq!(code, 1, "{at}:\n{out}");
            for e in expected {
                assert!(out.contains(e), "{at}: expected {e:?} in\n{out}");
            }
            // Nothing else: every error is an expected check's.
            for l in out.lines().filter(|l| l.contains("error[")) {
                assert!(
                    expected
                        .iter()
                        .any(|e| e.starts_with("error[") && l.contains(e)),
                    "{at}: unexpected {l}"
                );
            }
        }
    }
}
