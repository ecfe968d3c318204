//! `--dtb FILE` on `check`, `build` and `show`: RAM from a flattened device
//! tree, checked against the layout. Device trees come from QEMU at test time
//! (`-machine dumpdtb=`; QEMU is required, as for the sample kernel) or are
//! built here; no binary is committed.

use crate::support::cli::{layoutgen, ok_stdout, stderr, stdout, text};
use crate::support::{assert_contains, assert_lacks, specs};
use std::path::{Path, PathBuf};

/// A minimal flattened device tree: `/` with 2 address and 2 size cells and
/// one memory node listing `ranges`.
fn build_dtb(ranges: &[(u64, u64)]) -> Vec<u8> {
    fn word(v: &mut Vec<u8>, w: u32) {
        v.extend_from_slice(&w.to_be_bytes());
    }
    fn prop(v: &mut Vec<u8>, name: u32, value: &[u8]) {
        word(v, 3);
        word(v, value.len() as u32);
        word(v, name);
        v.extend_from_slice(value);
        while !v.len().is_multiple_of(4) {
            v.push(0);
        }
    }
    let strings = b"#address-cells\0#size-cells\0device_type\0reg\0";
    let mut st = Vec::new();
    word(&mut st, 1);
    word(&mut st, 0);
    prop(&mut st, 0, &2u32.to_be_bytes());
    prop(&mut st, 15, &2u32.to_be_bytes());
    word(&mut st, 1);
    st.extend_from_slice(b"memory@0\0\0\0\0");
    prop(&mut st, 27, b"memory\0");
    let reg: Vec<u8> = ranges
        .iter()
        .flat_map(|&(start, size)| {
            [
                start >> 32,
                start & 0xffff_ffff,
                size >> 32,
                size & 0xffff_ffff,
            ]
            .map(|c| c as u32)
        })
        .flat_map(u32::to_be_bytes)
        .collect();
    prop(&mut st, 39, &reg);
    word(&mut st, 2);
    word(&mut st, 2);
    word(&mut st, 9);
    let (off_struct, off_strings) = (56u32, 56 + st.len() as u32);
    let total = off_strings + strings.len() as u32;
    let mut out = Vec::new();
    for w in [
        0xd00d_feed,
        total,
        off_struct,
        off_strings,
        40,
        17,
        16,
        0,
        strings.len() as u32,
        st.len() as u32,
    ] {
        word(&mut out, w);
    }
    out.extend_from_slice(&[0; 16]);
    out.extend_from_slice(&st);
    out.extend_from_slice(strings);
    out
}

fn write_dtb(dir: &Path, name: &str, ranges: &[(u64, u64)]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, build_dtb(ranges)).unwrap();
    path
}

const GIB: u64 = 1 << 30;

#[test]
fn qemu_device_trees_parse_to_their_ram() {
    let dir = tempfile::tempdir().unwrap();
    for (memory, size) in [("64M", 64u64 << 20), ("1G", GIB), ("2G", 2 * GIB)] {
        let ranges =
            layoutgen::dtb::read(&crate::support::qemu::riscv_virt_dtb(dir.path(), memory))
                .unwrap();
        assert_eq!(
            ranges,
            vec![layoutgen::dtb::RamRange {
                start: 0x8000_0000,
                size
            }],
            "{memory}"
        );
    }
}

#[test]
fn default_layout_fits_a_1g_qemu_virt() {
    let dir = tempfile::tempdir().unwrap();
    let dtb = crate::support::qemu::riscv_virt_dtb(dir.path(), "1G");
    let dtb = dtb.to_str().unwrap();
    for layout in ["qemu-virt-sv39", "qemu-virt-multi", "qemu-virt-semipic"] {
        let spec = format!("layouts/{layout}.toml");
        let o = layoutgen(&["check", "--dtb", dtb, &spec]);
        assert_eq!(o.status.code(), Some(0), "{layout}: {}", text(&o.stderr));
    }
    let out = tempfile::tempdir().unwrap();
    let o = layoutgen(&[
        "build",
        "--dtb",
        dtb,
        "--out-dir",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

#[test]
fn too_little_ram_is_a_finding_pointing_at_min_size() {
    let dir = tempfile::tempdir().unwrap();
    let dtb = crate::support::qemu::riscv_virt_dtb(dir.path(), "64M");
    let err = stderr(&["check", "--dtb", dtb.to_str().unwrap()], 1);
    assert_contains(
        &err,
        &[
            "error[ram]:",
            "64 MiB of RAM, less than ram.min_size (128 MiB)",
            "layouts/qemu-virt-sv39.toml:16:12",
            "min_size = \"128MiB\"",
        ],
    );
}

#[test]
fn ram_beyond_max_size_is_a_finding_pointing_at_the_ram_keys() {
    let dir = tempfile::tempdir().unwrap();
    let dtb = crate::support::qemu::riscv_virt_dtb(dir.path(), "1G");
    let spec =
        specs::text("qemu-virt-sv39").replace("max_size = \"16GiB\"", "max_size = \"512MiB\"");
    let path = dir.path().join("small.toml");
    std::fs::write(&path, spec).unwrap();
    let (dtb, path) = (dtb.to_str().unwrap(), path.to_str().unwrap());
    let err = stderr(&["check", "--dtb", dtb, path], 1);
    assert_contains(
        &err,
        &[
            "RAM [0x80000000, 0xc0000000) (1 GiB) lies outside [ram.base, ram.base + ram.max_size) = [0x80000000, 0xa0000000)",
            "max_size = \"512MiB\"",
            "raise ram.max_size to at least 1 GiB",
        ],
    );

    // The same as JSON, with the rule and keys.
    let out = stdout(&["check", "--format", "json", "--dtb", dtb, path], &[1]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let d = &json[0]["diagnostics"][0];
    assert_eq!(d["rule"], "ram");
    assert_eq!(d["labels"][0]["key"], "ram.base");
}

#[test]
fn load_address_outside_ram_is_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    // RAM that starts above the load address.
    let dtb = write_dtb(dir.path(), "high.dtb", &[(0x9000_0000, GIB)]);
    let err = stderr(&["check", "--dtb", dtb.to_str().unwrap()], 1);
    assert_contains(
        &err,
        &[
            "the image [0x80200000, 0x82200000) (ram.load + image.max_size) is not inside the machine's RAM: [0x90000000, 0xd0000000) (1 GiB)",
            "load = \"0x8020_0000\"",
            "help: load the image inside RAM, e.g. at 0x90200000",
        ],
    );
}

#[test]
fn ram_larger_than_the_linear_map_is_a_finding_per_mode() {
    let dir = tempfile::tempdir().unwrap();
    let dtb = write_dtb(dir.path(), "big.dtb", &[(0x8000_0000, 256 * GIB)]);
    let dtb = dtb.to_str().unwrap();
    let err = stderr(&["check", "--dtb", dtb], 1);
    assert_contains(
        &err,
        &[
            "the linear map (128 GiB) is smaller than the machine's RAM span from ram.base (256 GiB) in sv39",
            "size = \"128GiB\"",
        ],
    );
    // Sv48 and Sv57 have room: only Sv39 is reported for the multi-mode layout.
    let o = layoutgen(&["check", "--dtb", dtb, "layouts/qemu-virt-multi.toml"]);
    let err = text(&o.stderr);
    assert_contains(&err, &["in sv39"]);
    assert_lacks(&err, &["in sv48"]);
}

#[test]
fn show_uses_the_machine_ram_for_the_page_table_cost() {
    let dir = tempfile::tempdir().unwrap();
    let dtb = crate::support::qemu::riscv_virt_dtb(dir.path(), "2G");
    let dtb = dtb.to_str().unwrap();
    let out = ok_stdout(&["show", "--dtb", dtb]);
    assert_contains(&out, &["page tables for 2 GiB of RAM"]);
    // --ram still wins.
    let o = layoutgen(&["show", "--dtb", dtb, "--ram", "1GiB"]);
    assert_contains(&text(&o.stdout), &["page tables for 1 GiB of RAM"]);
    // Findings against the machine are reported, and the exit code says so.
    let small = crate::support::qemu::riscv_virt_dtb(dir.path(), "64M");
    let err = stderr(&["show", "--dtb", small.to_str().unwrap()], 1);
    assert_contains(&err, &["less than ram.min_size"]);
}

#[test]
fn unreadable_or_malformed_device_trees_exit_2_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let not_dtb = dir.path().join("spec.dtb");
    std::fs::write(&not_dtb, "name = \"x\"\n").unwrap();
    let truncated = dir.path().join("truncated.dtb");
    std::fs::write(&truncated, &build_dtb(&[(0x8000_0000, GIB)])[..60]).unwrap();
    let no_memory = write_dtb(dir.path(), "empty.dtb", &[]);
    for (path, message) in [
        (dir.path().join("missing.dtb"), "cannot read device tree"),
        (not_dtb, "not a flattened device tree: magic"),
        (truncated, "not a flattened device tree"),
        (no_memory, "no memory node"),
    ] {
        for command in ["check", "build", "show"] {
            let o = layoutgen(&[command, "--dtb", path.to_str().unwrap()]);
            let err = text(&o.stderr);
            assert_eq!(
                o.status.code(),
                Some(2),
                "{command} {}: {err}",
                path.display()
            );
            assert!(
                err.contains(message) && err.contains(path.to_str().unwrap()),
                "{command}: {err}"
            );
        }
    }
}
