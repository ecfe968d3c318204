//! The physical boot chain, booted: QEMU virt runs Debian's OpenSBI
//! (`fw_dynamic`), which starts Debian's S-mode U-Boot (`u-boot-qemu`),
//! whose distro boot finds the `boot.scr` that `layoutgen build --emit boot`
//! wrote (compiled by `mkimage`) on a FAT partition of a virtio disk. The
//! script loads the kernel Image, the device tree (QEMU's own, with the
//! generated `boot.dtsi` merged) and the initrd at the spec's addresses and
//! `booti`s. Linux must run the initrd's `/init`
//! (`tests/data/modules/init.c` with `marker` on the command line, built by
//! `scripts/linux-test-modules`),
//! which prints a marker and powers off; `memblock=debug` makes Linux print
//! where it found each piece, which must be where the spec put it. Then the
//! initrd placement grows: in place it would overlap the device tree and
//! `check` refuses it before anything runs; moved down, the regenerated
//! script boots a larger initrd. The sample kernel boots through the same
//! chain. Missing tools, kernels or initrds fail the tests; nothing skips.

use crate::support::cli::{layoutgen, stderr, text};
use crate::support::elf_tools::Linker;
use crate::support::sample_kernels;
use crate::support::{assert_success, linux, qemu, specs};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const OPENSBI: &str = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin";
const UBOOT: &str = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin";
/// QEMU's RAM: U-Boot's own `scriptaddr` (0x8c100000, where distro boot
/// loads boot.scr) must be inside it; the spec's placements are all below
/// its 128 MiB minimum.
const RAM: &str = "512M";
/// A guard only: firmware, U-Boot's 2 s autoboot delay and Linux take
/// about 3 s here.
const TIMEOUT: Duration = Duration::from_secs(180);
/// The console Linux writes to (SBI, before and after its drivers), and
/// its early memory reservations with their physical ranges.
const BOOTARGS: &str = "console=hvc0 earlycon=sbi memblock=debug marker";
const MARKER: &str = "layoutgen-initrd: init reached";

/// The initrd whose /init prints [`MARKER`], zero-padded to `len` bytes
/// when that is longer (the kernel's cpio reader skips zeros).
fn initrd(dir: &Path, len: u64) -> PathBuf {
    let cpio = linux::linux_dir().join("insmod/marker-initramfs.cpio");
    assert!(
        cpio.is_file(),
        "{} is missing: build it with `scripts/linux-test-modules` (scripts/test does), and \
         point LAYOUTGEN_LINUX_DIR at the cache directory (now {})",
        cpio.display(),
        linux::linux_dir().display()
    );
    let path = dir.join("initrd.img");
    std::fs::copy(&cpio, &path).unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    if file.metadata().unwrap().len() < len {
        file.set_len(len).unwrap();
    }
    path
}

#[track_caller]
fn tool(program: &str, args: &[&str], cwd: &Path, package: &str) {
    let o = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("{program} ({package}, installed by scripts/test): {e}"));
    assert_success(&o, format!("{program} {}", args.join(" ")));
}

/// QEMU virt's device tree with the spec's `boot.dtsi` merged in and
/// `bootargs` in /chosen, as `fdt.dtb` in `dir`.
fn device_tree(dir: &Path, bootargs: &str) {
    let virt = qemu::riscv_virt_dtb(dir, RAM);
    let dtc = "device-tree-compiler";
    tool(
        "dtc",
        &[
            "-q",
            "-I",
            "dtb",
            "-O",
            "dts",
            "-o",
            "virt.dts",
            virt.to_str().unwrap(),
        ],
        dir,
        dtc,
    );
    let board = format!(
        "/include/ \"virt.dts\"\n/include/ \"out/boot.dtsi\"\n/ {{ chosen {{ bootargs = \"{bootargs}\"; }}; }};\n"
    );
    std::fs::write(dir.join("board.dts"), board).unwrap();
    tool(
        "dtc",
        &["-q", "-I", "dts", "-O", "dtb", "-o", "fdt.dtb", "board.dts"],
        dir,
        dtc,
    );
}

/// A 64 MiB disk image with one FAT partition (an MBR written here: no
/// partitioning tool needed) holding `files`, each under its own name.
fn fat_disk(dir: &Path, files: &[(&str, &Path)]) -> PathBuf {
    const SIZE: u64 = 64 << 20;
    const FIRST_SECTOR: u32 = 2048;
    let mut mbr = vec![0u8; 512];
    // Partition 1: bootable, type 0x0c (FAT32 LBA; mformat picks FAT16
    // for this size, which U-Boot reads by content), from 1 MiB to the end.
    mbr[0x1be] = 0x80;
    mbr[0x1c2] = 0x0c;
    mbr[0x1c6..0x1ca].copy_from_slice(&FIRST_SECTOR.to_le_bytes());
    mbr[0x1ca..0x1ce].copy_from_slice(&((SIZE / 512) as u32 - FIRST_SECTOR).to_le_bytes());
    mbr[510..].copy_from_slice(&[0x55, 0xaa]);
    let disk = dir.join("disk.img");
    std::fs::write(&disk, &mbr).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&disk)
        .unwrap()
        .set_len(SIZE)
        .unwrap();
    let part = format!("{}@@1M", disk.display());
    tool("mformat", &["-i", &part, "::"], dir, "mtools");
    for (name, file) in files {
        let target = format!("::/{name}");
        tool(
            "mcopy",
            &["-i", &part, file.to_str().unwrap(), &target],
            dir,
            "mtools",
        );
    }
    disk
}

/// `build --emit boot,dts`, the device tree, `layoutgen check` against
/// the artifacts, `mkimage`'s boot.scr and the disk; then the boot.
fn chain_boot(
    dir: &Path,
    spec: &Path,
    kernel: &Path,
    initrd: Option<&Path>,
    bootargs: &str,
) -> qemu::Boot {
    let out = dir.join("out");
    let o = crate::support::cli::build(spec, &out, "boot,dts");
    assert_success(&o, "layoutgen build --emit boot,dts");
    device_tree(dir, bootargs);
    let fdt = dir.join("fdt.dtb");
    let scr = dir.join("boot.scr");
    let mut files = vec![("boot.scr", &*scr), ("Image", kernel), ("fdt.dtb", &fdt)];
    files.extend(initrd.map(|f| ("initrd.img", f)));
    let mut check = vec!["check".to_string(), spec.display().to_string()];
    for (name, file) in &files[1..] {
        let placement = if *name == "Image" {
            "kernel"
        } else {
            &name[..name.len() - 4]
        };
        check.push("--artifact".into());
        check.push(format!("{placement}={}", file.display()));
    }
    let check: Vec<&str> = check.iter().map(String::as_str).collect();
    assert_success(&layoutgen(&check), "layoutgen check --artifact");
    tool(
        "mkimage",
        &[
            "-A",
            "riscv",
            "-T",
            "script",
            "-C",
            "none",
            "-d",
            "out/boot.cmd",
            "boot.scr",
        ],
        dir,
        "u-boot-tools",
    );
    let disk = fat_disk(dir, &files);
    let mut cmd = Command::new("qemu-system-riscv64");
    cmd.args([
        "-machine",
        "virt",
        "-m",
        RAM,
        "-nographic",
        "-bios",
        OPENSBI,
        "-kernel",
        UBOOT,
    ])
    .arg("-drive")
    .arg(format!("file={},format=raw,if=none,id=hd0", disk.display()))
    .args(["-device", "virtio-blk-device,drive=hd0"]);
    qemu::run(cmd, TIMEOUT, "U-Boot")
}

/// U-Boot ran the generated script and used the device tree in place, and
/// Linux found the kernel, the initrd (its whole length) and the device
/// tree at the spec's addresses, the firmware's range reserved by the
/// merged fragment, and ran the initrd's /init.
#[track_caller]
fn assert_booted_at(boot: &qemu::Boot, spec: &Path, initrd_len: u64) {
    let layout = specs::checked(&std::fs::read_to_string(spec).unwrap());
    let at = |name: &str| layout.boot.iter().find(|p| p.name == name).unwrap();
    let (fdt, initrd, opensbi) = (at("fdt"), at("initrd"), at("opensbi"));
    let name = &layout.name;
    let expected = [
        "Found U-Boot script /boot.scr".to_string(),
        format!("layoutgen: {name}: Image at {:#x}", layout.ram.load),
        format!("layoutgen: {name}: fdt.dtb at {:#x}", fdt.start),
        format!("layoutgen: {name}: initrd.img at {:#x}", initrd.start),
        format!("## Flattened Device Tree blob at {:08x}", fdt.start),
        format!("Using Device Tree in place at {:016x}", fdt.start),
        format!("memblock_reserve: [{:#018x}-", layout.ram.load),
        format!(
            "memblock_reserve: [{:#018x}-{:#018x}]",
            initrd.start,
            initrd.start + initrd_len - 1
        ),
        format!("memblock_reserve: [{:#018x}-", fdt.start),
        format!(
            "OF: reserved mem: {:#018x}..{:#018x} ({} KiB) nomap non-reusable opensbi@{:x}",
            opensbi.start,
            opensbi.start + opensbi.size - 1,
            opensbi.size >> 10,
            opensbi.start
        ),
        "Unpacking initramfs...".to_string(),
        MARKER.to_string(),
    ];
    for line in expected {
        assert!(
            boot.output.contains(&line),
            "{line:?} missing; {}",
            boot.context()
        );
    }
    // U-Boot grows the tree in place for its fixups (/chosen, memory):
    // the grown tree still ends inside the `fdt` placement.
    let end = boot
        .output
        .split_once("Using Device Tree in place at ")
        .and_then(|(_, rest)| rest.split_once(", end "))
        .and_then(|(_, rest)| u64::from_str_radix(rest.get(..16)?, 16).ok())
        .unwrap_or_else(|| panic!("no device tree end from U-Boot; {}", boot.context()));
    assert!(
        end as u128 <= fdt.end(),
        "the tree ends at {end:#x}, past `fdt`; {}",
        boot.context()
    );
    assert_eq!(boot.status, 0, "{}", boot.context());
}

#[test]
fn linux_boots_through_opensbi_and_uboot_at_the_specs_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let spec = specs::linux_with_initrd(dir.path(), "chain.toml", "ram.base + 96MiB", "16MiB");
    let kernel = linux::kernel_file("modular", "Image");
    let initrd = initrd(dir.path(), 0);
    let len = std::fs::metadata(&initrd).unwrap().len();
    let boot = chain_boot(dir.path(), &spec, &kernel, Some(&initrd), BOOTARGS);
    assert_booted_at(&boot, &spec, len);
}

/// A 20 MiB initrd outgrows the 16 MiB limit; the limit grown in place
/// runs into the device tree and `check` refuses the spec (exit 1, both
/// ranges and their keys named) before anything is built or booted; the
/// placement moved down boots it through the regenerated script.
#[test]
fn a_bigger_initrd_moves_its_placement_and_the_regenerated_script_boots() {
    let dir = tempfile::tempdir().unwrap();
    let big = initrd(dir.path(), 20 << 20);
    let old = specs::linux_with_initrd(dir.path(), "old.toml", "ram.base + 96MiB", "16MiB");
    let err = stderr(
        &[
            "check",
            old.to_str().unwrap(),
            "--artifact",
            &format!("initrd={}", big.display()),
        ],
        1,
    );
    assert!(
        err.contains("needs 20 MiB (length")
            && err.contains("is past `initrd` [0x86000000, 0x87000000)")
            && err.contains("`boot.initrd.size`: too small for the artifact"),
        "{err}"
    );

    let grown = specs::linux_with_initrd(dir.path(), "grown.toml", "ram.base + 96MiB", "32MiB");
    let err = stderr(&["check", grown.to_str().unwrap()], 1);
    for part in [
        "error[boot-chain]: `initrd` [0x86000000, 0x88000000) overlaps `fdt` [0x87e00000, 0x87e10000)",
        "`boot.initrd.start`: overlaps",
        "`boot.fdt.start`: the range it overlaps",
    ] {
        assert!(err.contains(part), "{part:?} missing from\n{err}");
    }
    let out = dir.path().join("grown-out");
    let o = crate::support::cli::build(&grown, &out, "boot,dts");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(!out.exists(), "a refused spec wrote {}", out.display());

    let moved = specs::linux_with_initrd(dir.path(), "moved.toml", "ram.base + 68MiB", "32MiB");
    let kernel = linux::kernel_file("modular", "Image");
    let boot = chain_boot(dir.path(), &moved, &kernel, Some(&big), BOOTARGS);
    assert_booted_at(&boot, &moved, 20 << 20);
}

/// The sample kernel (layoutgen-rt gives it Linux's riscv Image header)
/// through the same chain: the flat image `booti`ed at `ram.load` with the
/// device tree at the spec's `fdt`; its own checks pass and what it reports
/// agrees with its spec. Its spec is the crate's, plus the boot chain of
/// docs/spec.md's `[boot.NAME]` example.
#[test]
fn the_sample_kernel_boots_through_the_same_chain() {
    let dir = tempfile::tempdir().unwrap();
    let chain = "\n[boot.opensbi]\nkind = \"firmware\"\nstart = \"ram.base\"\nsize = \"512KiB\"\npmp = true\n\
                 \n[boot.fdt]\nkind = \"fdt\"\nstart = \"ram.base + 0x220_0000\"\nsize = \"64KiB\"\n";
    let spec = dir.path().join("qemu-virt-sv39.toml");
    std::fs::write(&spec, specs::text("qemu-virt-sv39") + chain).unwrap();
    let elf = sample_kernels::riscv(None, Linker::Lld);
    let image = sample_kernels::flat_binary(&elf);
    // The header's image_size is the image's memory footprint as the
    // kernel maps it ([_start, __image_end) by nm: .bss, stack and the end
    // alignment), at least the ELF's PT_LOAD extent; not the file's length.
    let header = layoutgen::boot::footprint(&image, true).unwrap();
    let o = Command::new("riscv64-linux-gnu-nm")
        .arg(&elf)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "riscv64-linux-gnu-nm (binutils-riscv64-linux-gnu, installed by scripts/test): {e}"
            )
        });
    let symbols = text(&o.stdout);
    let sym = |name: &str| {
        let line = symbols
            .lines()
            .find(|l| l.ends_with(&format!(" {name}")))
            .unwrap();
        u64::from_str_radix(&line[..16], 16).unwrap()
    };
    assert_eq!(header.how, "image_size in its header");
    assert_eq!(
        header.bytes,
        sym("__image_end") - sym("_start"),
        "{header:?}"
    );
    let loads = layoutgen::boot::footprint(&elf, true).unwrap();
    assert!(header.bytes >= loads.bytes, "{header:?} vs {loads:?}");
    assert!(header.bytes > header.file_len, "{header:?}");

    let boot = chain_boot(dir.path(), &spec, &image, None, "");
    let layout = specs::checked(&std::fs::read_to_string(&spec).unwrap());
    let fdt = layout.boot.iter().find(|p| p.name == "fdt").unwrap();
    for line in [
        format!(
            "layoutgen: {}: Image at {:#x}",
            layout.name, layout.ram.load
        ),
        format!("Using Device Tree in place at {:016x}", fdt.start),
    ] {
        assert!(
            boot.output.contains(&line),
            "{line:?} missing; {}",
            boot.context()
        );
    }
    sample_kernels::assert_riscv_boot_agrees(&layout, &boot, 512 << 20);
}
