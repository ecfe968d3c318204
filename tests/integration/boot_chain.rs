//! The physical boot chain (`[boot.NAME]`, `check --artifact`) against real
//! artifacts: the Linux Image `scripts/linux-kernel` builds, the device
//! tree QEMU's virt machine gives it, Debian's OpenSBI. Then the failures
//! the issue cites, reproduced: a kernel that outgrows its room into the
//! FDT (measured by its header's image_size, not its file size), an initrd
//! that reaches the FDT, a kernel file whose footprint cannot be told.

use crate::support::cli::{layoutgen, stderr, text};
use crate::support::linux;
use crate::support::specs::linux_with_initrd;
use std::path::Path;

const LINUX: &str = "layouts/linux-riscv64.toml";
const OPENSBI: &str = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.elf";

/// stderr of `layoutgen check SPEC --artifact NAME=FILE...`, which must
/// exit with `code`.
#[track_caller]
fn check(spec: &str, artifacts: &[(&str, &Path)], code: i32) -> String {
    let mut args = vec!["check".to_string(), spec.to_string()];
    for (name, file) in artifacts {
        args.push("--artifact".into());
        args.push(format!("{name}={}", file.display()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    stderr(&args, code)
}

#[test]
fn linux_opensbi_and_qemus_device_tree_fit_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let image = linux::kernel_file("fixed", "Image");
    let dtb = crate::support::qemu::riscv_virt_dtb(dir.path(), "128M");
    check(
        LINUX,
        &[
            ("kernel", &image),
            ("fdt", &dtb),
            ("opensbi", Path::new(OPENSBI)),
        ],
        0,
    );
    // The footprints are the memory ones: the Image's image_size (larger
    // than the file: .bss), the firmware's PT_LOAD extent (what OpenSBI's
    // banner calls "Firmware Size"), the device tree's totalsize (QEMU pads
    // the dumped file to 1 MiB).
    let kernel = layoutgen::boot::footprint(&image, true).unwrap();
    assert_eq!(kernel.how, "image_size in its header");
    assert!(kernel.bytes > kernel.file_len, "{kernel:?}");
    let fw = layoutgen::boot::footprint(Path::new(OPENSBI), false).unwrap();
    assert_eq!(fw.how, "PT_LOAD extent");
    assert!(fw.bytes < 512 << 10, "{fw:?}");
    let fdt = layoutgen::boot::footprint(&dtb, false).unwrap();
    assert_eq!(fdt.how, "totalsize in its header");
    assert!(fdt.bytes < fdt.file_len, "{fdt:?}");
}

#[test]
fn a_kernel_that_outgrows_its_room_is_refused_with_what_it_runs_into() {
    // The CI Image with the image_size of a distribution kernel that no
    // longer fits below the FDT (opensbi#291: its *file* still would).
    let dir = tempfile::tempdir().unwrap();
    let mut image = std::fs::read(linux::kernel_file("fixed", "Image")).unwrap();
    image[16..24].copy_from_slice(&(130u64 << 20).to_le_bytes());
    let big = dir.path().join("Image");
    std::fs::write(&big, &image).unwrap();
    let err = check(LINUX, &[("kernel", &big)], 1);
    assert!(
        err.contains("needs 130 MiB (image_size in its header; the file is")
            && err.contains("runs into `fdt` at 0x87e00000")
            && err.contains("`image.max_size`"),
        "{err}"
    );
    // A raw file says nothing of its memory footprint: refused, not guessed.
    let raw = dir.path().join("kernel.bin");
    std::fs::write(&raw, vec![0u8; 4096]).unwrap();
    let err = check(LINUX, &[("kernel", &raw)], 2);
    assert!(err.contains("cannot be told from its length"), "{err}");
}

#[test]
fn an_initrd_that_reaches_the_fdt_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let spec_path = linux_with_initrd(dir.path(), "linux-initrd.toml", "ram.base + 96MiB", "16MiB");
    let initrd = dir.path().join("initrd.img");
    std::fs::File::create(&initrd)
        .unwrap()
        .set_len(40 << 20)
        .unwrap();
    let err = check(spec_path.to_str().unwrap(), &[("initrd", &initrd)], 1);
    assert!(
        err.contains("initrd")
            && err.contains("needs 40 MiB (length")
            && err.contains("runs into `fdt`"),
        "{err}"
    );
    // A name the spec does not place: a usage-level input error.
    let err = check(LINUX, &[("initrd", &initrd)], 2);
    assert!(err.contains("no [boot.initrd] in the spec"), "{err}");
}

/// `build --emit boot,dts`: the variables U-Boot and OpenSBI take and the
/// reserved ranges as a device-tree fragment, from the same placements;
/// U-Boot's `mkenvimage` reads the one, `dtc` compiles the other into a
/// tree whose reserved-memory node holds the firmware's range.
#[test]
fn the_boot_chain_outputs_are_what_uboot_opensbi_and_dtc_read() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = layoutgen(&[
        "build",
        "--spec",
        LINUX,
        "--out-dir",
        out.to_str().unwrap(),
        "--emit",
        "boot,dts",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let env = std::fs::read_to_string(out.join("boot.env")).unwrap();
    let layout = crate::support::specs::layout("linux-riscv64");
    let fdt = layout.boot.iter().find(|p| p.name == "fdt").unwrap();
    for line in [
        format!("kernel_addr_r={:#x}", layout.ram.load),
        format!("fdt_addr_r={:#x}", fdt.start),
        format!("FW_JUMP_ADDR={:#x}", layout.ram.load),
        format!("FW_JUMP_FDT_ADDR={:#x}", fdt.start),
        "FW_TEXT_START=0x80000000".to_string(),
    ] {
        assert!(env.lines().any(|l| l == line), "{line} missing from\n{env}");
    }
    let env_bin = dir.path().join("env.bin");
    let o = std::process::Command::new("mkenvimage")
        .args(["-s", "0x4000", "-o"])
        .arg(&env_bin)
        .arg(out.join("boot.env"))
        .output()
        .expect("mkenvimage (u-boot-tools) is needed");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let bin = std::fs::read(&env_bin).unwrap();
    assert!(bin.windows(24).any(|w| w == b"kernel_addr_r=0x80200000"));

    let dts = dir.path().join("board.dts");
    std::fs::write(
        &dts,
        "/dts-v1/;\n/ { #address-cells = <2>; #size-cells = <2>; };\n/include/ \"out/boot.dtsi\"\n",
    )
    .unwrap();
    let dtb = dir.path().join("board.dtb");
    let o = std::process::Command::new("dtc")
        .args(["-I", "dts", "-O", "dtb", "-o"])
        .arg(&dtb)
        .arg(&dts)
        .current_dir(dir.path())
        .output()
        .expect("dtc (device-tree-compiler) is needed");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = std::process::Command::new("dtc")
        .args(["-I", "dtb", "-O", "dts"])
        .arg(&dtb)
        .output()
        .unwrap();
    let back = text(&o.stdout);
    assert!(
        back.contains("opensbi@80000000") && back.contains("reg = <0x00 0x80000000 0x00 0x80000>"),
        "{back}"
    );
    // Without [boot.NAME] there is nothing to emit: said, exit 2.
    let out = out.to_str().unwrap();
    let err = stderr(&["build", "--out-dir", out, "--emit", "boot"], 2);
    assert!(err.contains("has no [boot.NAME] range"), "{err}");
}

/// `build --emit boot` output at `out` for `spec`: (boot.env, boot.cmd,
/// boot.dtsi compiled by dtc and decompiled back).
fn boot_outputs(dir: &Path, spec: &Path) -> (String, String, String) {
    let out = dir.join("out");
    let o = crate::support::cli::build(spec, &out, "boot,dts");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap();
    let dts = dir.join("board.dts");
    std::fs::write(
        &dts,
        "/dts-v1/;\n/ { #address-cells = <2>; #size-cells = <2>; };\n/include/ \"out/boot.dtsi\"\n",
    )
    .unwrap();
    let o = std::process::Command::new("dtc")
        .args(["-I", "dts", "-O", "dts"])
        .arg(&dts)
        .current_dir(dir)
        .output()
        .expect("dtc (device-tree-compiler) is needed");
    assert!(o.status.success(), "{}", text(&o.stderr));
    (read("boot.env"), read("boot.cmd"), text(&o.stdout))
}

/// boot.cmd loads each file at its placement's address and boots with
/// the initrd and the device tree it loaded (the same bytes on every
/// build, and mkimage takes it); the fragment's /chosen carries the
/// initrd's range. Without an initrd the script boots without one and
/// /chosen has no initrd properties.
#[test]
fn the_boot_script_and_chosen_follow_the_placements() {
    let dir = tempfile::tempdir().unwrap();
    let spec_path = linux_with_initrd(dir.path(), "linux-initrd.toml", "ram.base + 96MiB", "16MiB");
    let spec = std::fs::read_to_string(&spec_path).unwrap();
    let layout = crate::support::specs::checked(&spec);
    let at = |name: &str| layout.boot.iter().find(|p| p.name == name).unwrap();
    let (fdt, initrd) = (at("fdt"), at("initrd"));
    let (_, cmd, dts) = boot_outputs(dir.path(), &spec_path);
    for line in [
        format!("setenv kernel_addr_r {:#x}", layout.ram.load),
        format!("setenv fdt_addr_r {:#x}", fdt.start),
        format!("setenv ramdisk_addr_r {:#x}", initrd.start),
        "setenv fdt_high 0xffffffffffffffff".into(),
        "setenv initrd_high 0xffffffffffffffff".into(),
        "load ${devtype} ${devnum}:${distro_bootpart} ${kernel_addr_r} ${prefix}Image || exit".into(),
        "load ${devtype} ${devnum}:${distro_bootpart} ${fdt_addr_r} ${prefix}fdt.dtb || exit".into(),
        "load ${devtype} ${devnum}:${distro_bootpart} ${ramdisk_addr_r} ${prefix}initrd.img || exit"
            .into(),
        "booti ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} ${fdt_addr_r}".into(),
    ] {
        assert!(cmd.lines().any(|l| l == line), "{line} missing from\n{cmd}");
    }
    let (_, again, _) = boot_outputs(dir.path(), &spec_path);
    assert_eq!(cmd, again, "boot.cmd differs between two builds");
    let hex2 = |v: u128| format!("<{:#04x} {:#x}>", v >> 32, v & 0xffff_ffff);
    for line in [
        format!("linux,initrd-start = {};", hex2(initrd.start as u128)),
        format!("linux,initrd-end = {};", hex2(initrd.end())),
    ] {
        assert!(dts.contains(&line), "{line} missing from\n{dts}");
    }
    let scr = dir.path().join("boot.scr");
    let o = std::process::Command::new("mkimage")
        .args(["-A", "riscv", "-T", "script", "-C", "none", "-d"])
        .arg(dir.path().join("out/boot.cmd"))
        .arg(&scr)
        .output()
        .expect("mkimage (u-boot-tools) is needed");
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("RISC-V Linux Script"),
        "{}",
        text(&o.stdout)
    );

    // No initrd placement: booti without one ("-"), no /chosen.
    let (_, cmd, dts) = boot_outputs(dir.path(), Path::new(LINUX));
    assert!(
        cmd.lines()
            .any(|l| l == "booti ${kernel_addr_r} - ${fdt_addr_r}")
            && !cmd.contains("ramdisk"),
        "{cmd}"
    );
    assert!(!dts.contains("linux,initrd"), "{dts}");
}

/// aarch64 specs place their boot chain too: the U-Boot values and an
/// arm64 script, no OpenSBI variables; an initrd that overlaps the kernel's
/// room is refused naming both ranges and their keys.
#[test]
fn an_aarch64_boot_chain_has_uboot_values_and_no_opensbi_ones() {
    let dir = tempfile::tempdir().unwrap();
    let base = crate::support::specs::text("qemu-virt-aarch64");
    let chain = "\n[boot.fdt]\nkind = \"fdt\"\nstart = \"ram.base\"\nsize = \"1MiB\"\n\n\
                 [boot.initrd]\nkind = \"initrd\"\nstart = \"ram.base + 64MiB\"\nsize = \"32MiB\"\n";
    let spec = dir.path().join("a64.toml");
    std::fs::write(&spec, base.clone() + chain).unwrap();
    let layout = crate::support::specs::checked(&(base.clone() + chain));
    let (env, cmd, _) = boot_outputs(dir.path(), &spec);
    assert!(
        env.lines()
            .any(|l| l == format!("kernel_addr_r={:#x}", layout.ram.load)),
        "{env}"
    );
    assert!(
        env.lines()
            .any(|l| l == format!("ramdisk_addr_r={:#x}", layout.ram.base + (64 << 20))),
        "{env}"
    );
    assert!(!env.contains("FW_"), "{env}");
    assert!(cmd.contains("mkimage -A arm64"), "{cmd}");

    let bad = base + &chain.replace("ram.base + 64MiB", "ram.load + 1MiB");
    let bad_path = dir.path().join("a64-bad.toml");
    std::fs::write(&bad_path, bad).unwrap();
    let err = stderr(&["check", bad_path.to_str().unwrap()], 1);
    assert!(
        err.contains("`initrd` [0x40300000, 0x42300000) overlaps the kernel image")
            && err.contains("`boot.initrd.start`")
            && err.contains("`ram.load`"),
        "{err}"
    );
}
