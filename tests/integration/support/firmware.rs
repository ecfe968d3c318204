//! Debian's riscv64 firmware (OpenSBI's `fw_dynamic.elf` and `fw_jump.elf`,
//! package `opensbi`; U-Boot's M-mode `uboot.elf`, package `u-boot-qemu`),
//! linted in process, and what readelf says every such file gets. A missing
//! file fails the test, it never skips (`scripts/test` installs both).

use layoutgen::lint::LintReport;
use std::path::{Path, PathBuf};

const OPENSBI_DIR: &str = "/usr/lib/riscv64-linux-gnu/opensbi/generic";
const UBOOT: &str = "/usr/lib/u-boot/qemu-riscv64/uboot.elf";

/// `path`, which Debian's `package` installs; a missing file fails.
fn firmware(path: &str, package: &str) -> PathBuf {
    let p = PathBuf::from(path);
    assert!(
        p.is_file(),
        "{} is missing: install the Debian package `{package}` (scripts/test does)",
        p.display()
    );
    p
}

/// OpenSBI's generic-platform `file` (`fw_dynamic.elf`, `fw_jump.elf`).
pub fn opensbi(file: &str) -> PathBuf {
    firmware(&format!("{OPENSBI_DIR}/{file}"), "opensbi")
}

/// U-Boot's M-mode image for QEMU virt.
pub fn uboot() -> PathBuf {
    firmware(UBOOT, "u-boot-qemu")
}

/// `layoutgen lint` of `elf` against the spec at `spec`, in process.
pub fn lint(spec: &Path, elf: &Path) -> LintReport {
    let layout = layoutgen::load(spec, &Default::default()).unwrap();
    layoutgen::lint::run(&layout, elf, &Default::default()).unwrap()
}

/// OpenSBI's generic-platform `file` as `scripts/opensbi-source` builds it
/// from Debian's source with Debian's cross compiler (the newest build
/// under target/opensbi/); missing fails, naming the script.
pub fn opensbi_built(file: &str) -> PathBuf {
    let dir = super::newest_done("opensbi", "scripts/opensbi-source");
    let p = dir.join("src/build/platform/generic/firmware").join(file);
    assert!(
        p.is_file(),
        "{} is missing: run scripts/opensbi-source (scripts/test does)",
        p.display()
    );
    p
}
