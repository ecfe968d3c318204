//! The Linux kernels `scripts/linux-kernel` builds, for the tests that use
//! them (`linux_boot`, `linux_lint`, `init_from_elf`). They come from
//! `$LAYOUTGEN_LINUX_DIR` (the script's cache directory; default
//! `target/linux`); a missing kernel fails the test, it never skips.

use std::path::PathBuf;

/// The directory `scripts/linux-kernel` wrote the kernels to.
pub fn linux_dir() -> PathBuf {
    std::env::var_os("LAYOUTGEN_LINUX_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| super::root().join("target/linux"))
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

/// `<linux dir>/insmod/FILE`, which `scripts/linux-test-modules` writes (the
/// modular kernel's test modules and the initramfs with its /init); panics,
/// naming the script, when it is missing.
pub fn insmod_file(file: &str) -> PathBuf {
    let path = linux_dir().join("insmod").join(file);
    assert!(
        path.is_file(),
        "{} is missing: build the test modules with `scripts/linux-test-modules` (scripts/test \
         does), and point LAYOUTGEN_LINUX_DIR at the cache directory (now {})",
        path.display(),
        linux_dir().display()
    );
    path
}

/// A symbol's address in the kernel's System.map.
pub fn system_map(kernel: &str, symbol: &str) -> u64 {
    let map = std::fs::read_to_string(kernel_file(kernel, "System.map")).unwrap();
    map.lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 3 && f[2] == symbol).then(|| u64::from_str_radix(f[0], 16).unwrap())
        })
        .unwrap_or_else(|| panic!("{symbol} not in {kernel}'s System.map"))
}
