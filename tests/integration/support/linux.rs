//! The Linux kernels `scripts/linux-kernel` builds, for the tests that use
//! them (`linux_boot`, `linux_lint`, `init_from_elf`). They come from
//! `$LAYOUTGEN_LINUX_DIR` (the script's cache directory; default
//! `target/linux`); a missing kernel fails the test, it never skips.

use std::path::{Path, PathBuf};

/// The directory `scripts/linux-kernel` wrote the kernels to.
pub fn linux_dir() -> PathBuf {
    std::env::var_os("LAYOUTGEN_LINUX_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/linux"))
}

/// A file of one kernel (`fixed` or `reloc`); panics, naming the script
/// that builds it, when it is missing.
pub fn kernel_file(kernel: &str, file: &str) -> PathBuf {
    let path = linux_dir().join(kernel).join(file);
    assert!(
        path.is_file(),
        "{} is missing: build the Linux kernels with `scripts/linux-kernel` (scripts/test does), \
         and point LAYOUTGEN_LINUX_DIR at its cache directory (now {})",
        path.display(),
        linux_dir().display()
    );
    path
}

/// The dynamic relocations of `file` as GNU readelf lists them (`.rela.dyn`):
/// (type name, addend), so tests compute their expectations from the kernel
/// itself, with a tool independent of layoutgen, instead of pinning figures
/// that change with every linux-source-6.12 update.
pub fn readelf_dynamic_relocations(file: &Path) -> Vec<(String, u64)> {
    let out = std::process::Command::new("riscv64-linux-gnu-readelf")
        .arg("-rW")
        .arg(file)
        .output()
        .expect("riscv64-linux-gnu-readelf (binutils-riscv64-linux-gnu) runs");
    assert!(out.status.success(), "readelf -rW {}", file.display());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut in_dyn = false;
    let mut relocs = Vec::new();
    for line in text.lines() {
        if line.starts_with("Relocation section") {
            in_dyn = line.contains("'.rela.dyn'");
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if !in_dyn || fields.len() < 3 || !fields[2].starts_with("R_") {
            continue;
        }
        // The addend is the last field, signed hex, after a `+`/`-` when a
        // symbol is named ("sym + 10"), alone otherwise ("-7fbffff8").
        let last = fields[fields.len() - 1];
        let negative = fields[fields.len() - 2] == "-" || last.starts_with('-');
        let magnitude = u64::from_str_radix(last.trim_start_matches(['-', '+']), 16).unwrap_or(0);
        let addend = if negative {
            magnitude.wrapping_neg()
        } else {
            magnitude
        };
        relocs.push((fields[2].to_string(), addend));
    }
    relocs
}
