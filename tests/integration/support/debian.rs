//! Debian's riscv64 kernel as the distribution builds it, fetched and
//! unpacked by `scripts/debian-kernel` under `target/debian-kernel/` (the
//! newest package it fetched): its module tree and its unstripped vmlinux.
//! Missing is a test failure, never a skip.

use std::path::PathBuf;

/// The cache directory of the newest package `scripts/debian-kernel`
/// unpacked completely.
fn package_dir() -> PathBuf {
    super::newest_done("debian-kernel", "scripts/debian-kernel")
}

/// Every `.ko` of the package's module tree, sorted.
pub fn modules() -> Vec<PathBuf> {
    let dir = package_dir();
    let mut files = Vec::new();
    let mut stack = vec![dir.join("root")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "ko") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(
        files.len() > 1000,
        "only {} modules in {}",
        files.len(),
        dir.display()
    );
    files
}

/// The unstripped vmlinux of the package's `-dbg` companion.
pub fn vmlinux() -> PathBuf {
    package_dir().join("vmlinux")
}
