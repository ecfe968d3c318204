//! `layoutgen lint --page-tables` on arm64 Linux as it runs: the kernel of
//! `scripts/linux-kernel arm64` (6.12, 48-bit VA, 4 KiB pages) boots on
//! `qemu-system-aarch64 -M virt -cpu cortex-a72` with the initramfs of
//! `scripts/linux-ptdump-init`, whose `/init` prints
//! `/sys/kernel/debug/kernel_page_tables` (arm64's ptdump) and powers off.
//! `layouts/linux-arm64.toml` must agree with what the kernel really maps;
//! then the real dump made wrong, once per rule, is caught with the right
//! finding. Missing kernels, initramfs or QEMU fail the tests.

use crate::support::cli::{layoutgen, text};
use crate::support::{linux, qemu};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

const LINUX: &str = "layouts/linux-arm64.toml";
/// A guard only: the kernel boots, dumps and powers off in about a second.
const BOOT_TIMEOUT: Duration = Duration::from_secs(180);
const BEGIN: &str = "layoutgen-ptdump: begin";
const END: &str = "layoutgen-ptdump: end";

/// `<linux dir>/ptdump-arm64/initramfs.cpio`.
fn initramfs() -> PathBuf {
    let path = linux::linux_dir().join("ptdump-arm64/initramfs.cpio");
    assert!(
        path.is_file(),
        "{} is missing: build it with `scripts/linux-ptdump-init arm64` (scripts/test does), \
         and point LAYOUTGEN_LINUX_DIR at the cache directory (now {})",
        path.display(),
        linux::linux_dir().display()
    );
    path
}

/// The arm64 kernel's page tables after boot (the lines between the
/// markers), booted once per test run.
fn dump() -> &'static str {
    static DUMP: OnceLock<String> = OnceLock::new();
    DUMP.get_or_init(|| {
        let image = linux::kernel_file("arm64", "Image");
        let mut cmd = qemu::aarch64_virt();
        cmd.args(["-m", "1G", "-no-reboot"])
            .arg("-kernel")
            .arg(&image)
            .arg("-initrd")
            .arg(initramfs())
            .args(["-append", "console=ttyAMA0 panic=-1 ptdump"]);
        let boot = qemu::run(cmd, BOOT_TIMEOUT, "Linux version");
        assert_eq!(boot.status, 0, "{}", boot.context());
        let out = boot.output.replace('\r', "");
        let (Some(b), Some(e)) = (out.find(BEGIN), out.find(END)) else {
            panic!("/init printed no dump\n{}", boot.context());
        };
        out[b + BEGIN.len()..e].to_string()
    })
}

/// `layoutgen lint --page-tables` of `dump` in va48, with `elf` if given:
/// (exit code, stdout and stderr).
fn lint(dump: &str, elf: Option<&Path>) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kernel_page_tables");
    std::fs::write(&file, dump).unwrap();
    let mut args = vec![
        "lint".to_string(),
        "--spec".into(),
        LINUX.into(),
        "--mode".into(),
        "va48".into(),
        "--page-tables".into(),
        file.to_str().unwrap().into(),
    ];
    args.extend(elf.map(|e| e.to_str().unwrap().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = layoutgen(&args);
    (
        o.status.code().unwrap_or(-1),
        format!("{}{}", text(&o.stdout), text(&o.stderr)),
    )
}

#[test]
fn arm64_linux_maps_only_inside_its_layout() {
    let dump = dump();
    let mappings = layoutgen::lint::page_tables::parse(dump);
    assert!(mappings.len() > 5, "too few mappings in\n{dump}");
    // The image's text where System.map puts it, executable, not writable;
    // the linear map at PAGE_OFFSET writable and not executable.
    let (stext, etext) = (
        linux::system_map("arm64", "_stext"),
        linux::system_map("arm64", "_etext"),
    );
    assert!(
        mappings
            .iter()
            .any(|m| m.va <= stext && etext <= m.va + m.size && m.execute && !m.write),
        "no r-x mapping of [_stext, _etext) = [{stext:#x}, {etext:#x}) in\n{dump}"
    );
    assert!(
        mappings
            .iter()
            .any(|m| m.va == 0xffff_0000_0000_0000 && m.write && !m.execute),
        "no linear map at PAGE_OFFSET in\n{dump}"
    );
    // D4 of docs/linux-arm64.md: vmalloc allocations (the PL011's
    // ioremap, vmap stacks) follow the image inside the spec's `kernel`
    // slot, as vmalloc starts at KIMAGE_VADDR; no finding, since the slot
    // is a region.
    let layout = crate::support::specs::layout("linux-arm64");
    let slot = layout
        .mode(layoutgen::arch::PagingMode::Va48)
        .unwrap()
        .region("kernel")
        .unwrap()
        .last;
    let end = linux::system_map("arm64", "_end");
    assert!(
        mappings.iter().any(|m| m.va >= end && m.va < slot),
        "nothing mapped in [_end, kernel slot end] = [{end:#x}, {slot:#x}]:\n{dump}"
    );
    // No W+X anywhere, and the dump has no physical addresses.
    assert!(mappings.iter().all(|m| !(m.write && m.execute)));
    assert!(mappings.iter().all(|m| m.pa.is_none()));
    let vmlinux = linux::kernel_file("arm64", "vmlinux");
    let (code, out) = lint(dump, Some(&vmlinux));
    assert_eq!(code, 0, "Linux's real mappings:\n{out}\ndump:\n{dump}");
    assert!(out.contains("0 errors, 0 warnings"), "{out}");
}

/// Where the ptdump's `---[ NAME ]---` markers (arch/arm64/mm/ptdump.c's
/// `address_markers`: the kernel's own PAGE_OFFSET, MODULES_VADDR, ...)
/// are, as far as the dump tells: `note_page()` prints a marker at the
/// first entry at or above its address, so it lies in (the start of the
/// range printed before it, the start of the range printed after it].
fn markers(dump: &str) -> Vec<(String, u64, u64)> {
    let mut out = Vec::new();
    let mut pending = Vec::new();
    let mut before = 0;
    for line in dump.lines().map(str::trim) {
        if let Some(name) = line
            .strip_prefix("---[ ")
            .and_then(|l| l.strip_suffix(" ]---"))
        {
            pending.push(name.to_string());
        } else if let Some((start, _)) = line.strip_prefix("0x").and_then(|l| l.split_once('-')) {
            let at = u64::from_str_radix(start, 16).unwrap();
            out.extend(pending.drain(..).map(|n| (n, before, at)));
            before = at;
        }
    }
    out
}

/// The running kernel's own region boundaries, as its ptdump marks them,
/// are the layout's: the spec is not only consistent with the macros
/// (linux_arm64_layout.rs) but with the kernel that was built and booted.
#[test]
fn arm64_ptdump_markers_are_the_layouts_boundaries() {
    let layout = crate::support::specs::layout("linux-arm64");
    let m = layout.mode(layoutgen::arch::PagingMode::Va48).unwrap();
    let start = |r: &str| m.region(r).unwrap_or_else(|| panic!("no region {r}")).start;
    let end = |r: &str| (m.region(r).unwrap().last as u128 + 1) as u64;
    let found = markers(dump());
    let at = |name: &str| {
        let (_, lo, hi) = found
            .iter()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("no marker {name} in {found:?}"));
        (*lo, *hi)
    };
    let agrees = |name: &str, spec: u64| {
        let (lo, hi) = at(name);
        assert!(
            (lo == 0 || lo < spec) && spec <= hi,
            "{name}: the kernel's is in ({lo:#x}, {hi:#x}], the spec's {spec:#x}"
        );
    };
    agrees("Linear Mapping start", start("linear_map"));
    agrees("Linear Mapping end", end("linear_map"));
    agrees("Modules start", start("modules"));
    agrees("Modules end", end("modules"));
    // VMALLOC_START = MODULES_END = KIMAGE_VADDR: the spec's image slot is
    // carved from vmalloc's start (docs/linux-arm64.md, D1).
    agrees("vmalloc() area", start("kernel"));
    agrees("vmalloc() end", end("vmalloc"));
    agrees("vmemmap start", start("vmemmap"));
    agrees("vmemmap end", end("vmemmap"));
    agrees("PCI I/O start", start("pci_io"));
    agrees("PCI I/O end", end("pci_io"));
    // FIXADDR_TOT_START depends on the configuration (D3): at or above
    // the spec's fixmap start, which ends at FIXADDR_TOP.
    let (lo, _) = at("Fixmap start");
    assert!(start("fixmap") <= lo, "Fixmap start above {lo:#x}");
    agrees("Fixmap end", end("fixmap"));
    // The boundaries the dump pins exactly (a range starts there).
    for (name, region) in [
        ("Linear Mapping start", start("linear_map")),
        ("Modules start", start("modules")),
        ("vmalloc() area", start("kernel")),
        ("vmemmap start", start("vmemmap")),
        ("PCI I/O start", start("pci_io")),
        ("Fixmap end", end("fixmap")),
    ] {
        assert_eq!(at(name).1, region, "{name}");
    }
}

#[test]
fn an_arm64_dump_made_wrong_is_caught_once_per_rule() {
    let dump = dump();
    let vmlinux = linux::kernel_file("arm64", "vmlinux");
    let stext = linux::system_map("arm64", "_stext");
    // The mapping of the kernel's text, as the dump prints it.
    let text_line = dump
        .lines()
        .find(|l| {
            layoutgen::lint::page_tables::parse(l)
                .first()
                .is_some_and(|m| m.va <= stext && stext < m.va + m.size && m.execute)
        })
        .expect("the text mapping")
        .to_string();
    assert!(text_line.contains(" ro x "), "{text_line}");
    // A page between vmemmap's end (-1 GiB) and PCI I/O (+8 MiB above it),
    // a hole in the layout, as arm64's ptdump prints a 4 KiB page.
    let hole = "0xffffffffc0000000-0xffffffffc0001000           4K PTE       RW NX SHD AF            UXN    MEM/NORMAL";
    let user = "0x0000000000400000-0x0000000000401000           4K PTE   USR RW NX SHD AF            UXN    MEM/NORMAL";
    let block = "0xfffffe0000000000-0xfffffe0040000000           1G PUD       RW NX SHD AF        BLK UXN    MEM/NORMAL";
    let cases = [
        // Text made writable: W^X and more than its segment allows.
        (
            dump.replace(&text_line, &text_line.replace(" ro x ", " RW x ")),
            vec!["LG025 page-write-execute", "LG027 page-permissions"],
        ),
        (
            format!("{dump}{hole}\n"),
            vec!["LG024 page-outside-regions"],
        ),
        (format!("{dump}{user}\n"), vec!["LG026 page-user-half"]),
        // A 1 GiB block in vmemmap, whose leaves are at most 2 MiB.
        (format!("{dump}{block}\n"), vec!["LG030 page-leaf-size"]),
    ];
    for (bad, expected) in cases {
        let (code, out) = lint(&bad, Some(&vmlinux));
        assert_eq!(code, 1, "{out}");
        crate::support::findings::assert_only_errors(&out, &expected);
    }
    // The hole's finding names the regions either side.
    let (_, out) = lint(&format!("{dump}{hole}\n"), None);
    assert!(out.contains("between `vmemmap` and `pci_io`"), "{out}");
    // Empty and invalid runs map nothing: a dump of only those is no dump.
    let empty: String = dump
        .lines()
        .filter(|l| layoutgen::lint::page_tables::parse(l).is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(empty.contains(" PGD\n"), "{empty}");
    let (code, out) = lint(&empty, None);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no mapping in it"), "{out}");
}
