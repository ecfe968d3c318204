//! Lints Debian's riscv64 firmware against the bundled bare layout
//! (`layouts/qemu-virt-bare.toml`, M-mode firmware at the RAM base) and
//! asserts the exact set of findings: OpenSBI 1.1's `fw_dynamic.elf` and
//! `fw_jump.elf` (package `opensbi`) and U-Boot 2023.01's M-mode `uboot.elf`
//! (package `u-boot-qemu`). Each expected finding is a true property of the
//! file, checked with `riscv64-linux-gnu-readelf -W -h -S -l -r --dyn-syms`;
//! anything else is a false finding and fails the test. `scripts/test`
//! installs both packages; a missing file fails the test, it never skips.
//!
//! What the files are (readelf): ET_EXEC, linked at 0x80000000, stripped
//! (no .symtab, a .dynsym), FLAGS_1 PIE with a .rela.dyn and a .got — they
//! relocate themselves at boot — and one RWE PT_LOAD holding every section.
//! The bare spec stays `code_model = "fixed"` with no `[image.relocator]`:
//! the sample kernel is linked with it, and these images do run at their
//! link address when QEMU loads them with -bios.

use layoutgen::elf::{Check, ElfKind, Finding, LintReport, Severity, SymbolSource};
use std::path::{Path, PathBuf};

const OPENSBI_DIR: &str = "/usr/lib/riscv64-linux-gnu/opensbi/generic";
const UBOOT: &str = "/usr/lib/u-boot/qemu-riscv64/uboot.elf";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn bare_spec() -> PathBuf {
    root().join("layouts/qemu-virt-bare.toml")
}

fn firmware(path: &str, package: &str) -> PathBuf {
    let p = PathBuf::from(path);
    assert!(
        p.is_file(),
        "{} is missing: install the Debian package `{package}` (scripts/test does)",
        p.display()
    );
    p
}

fn opensbi(file: &str) -> PathBuf {
    firmware(&format!("{OPENSBI_DIR}/{file}"), "opensbi")
}

fn lint_against(spec: &Path, file: &Path) -> LintReport {
    let layout = layoutgen::load_checked(spec).unwrap();
    layoutgen::elf::lint(&layout, None, file).unwrap()
}

fn subject(f: &Finding) -> String {
    f.section
        .clone()
        .or_else(|| f.symbol.clone())
        .unwrap_or_default()
}

/// (check, the section it names) of every error and warning, sorted; the
/// checks of the info findings, sorted.
fn split(report: &LintReport) -> (Vec<(Check, String)>, Vec<Check>) {
    let mut findings: Vec<(Check, String)> = report
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
        .map(|f| (f.id, subject(f)))
        .collect();
    findings.sort();
    let mut infos: Vec<Check> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Info)
        .map(|f| f.id)
        .collect();
    infos.sort();
    (findings, infos)
}

fn named(v: &[(Check, &str)]) -> Vec<(Check, String)> {
    let mut v: Vec<(Check, String)> = v.iter().map(|(c, s)| (*c, s.to_string())).collect();
    v.sort();
    v
}

fn message(report: &LintReport, check: Check) -> &str {
    &report
        .findings
        .iter()
        .find(|f| f.id == check)
        .unwrap_or_else(|| panic!("no {} finding", check.id()))
        .message
}

/// Infos every one of these files gets, each a figure about the file.
fn firmware_infos() -> Vec<Check> {
    let mut v = vec![
        // LG016: the relocation audit's figures (.rela.dyn, readelf -r).
        Check::RelocationAudit,
        // LG019: a non-empty .got (readelf -S).
        Check::GotUse,
        // LG020: no .symtab, symbols from .dynsym (readelf -S).
        Check::SymbolSource,
        // LG021: allocated sections the bare spec does not list, as one
        // figure: the file has no .symtab to show it was linked with the
        // spec's script, and its own script may place them on purpose.
        Check::OrphanSection,
    ];
    v.sort();
    v
}

fn assert_opensbi(file: &str) {
    let path = opensbi(file);
    let r = lint_against(&bare_spec(), &path);
    assert_eq!(r.elf_kind, ElfKind::Exec);
    assert_eq!(r.symbols_from, SymbolSource::Dynsym);
    let (findings, infos) = split(&r);
    assert_eq!(
        findings,
        named(&[
            // PT_LOAD 1 [0x80000000, +0x45ac8) has flags RWE (readelf -l):
            // OpenSBI's fw_base.ldS places every section in one segment.
            (Check::SegmentWriteExecute, "segment 1"),
            // .text has flags WAX (readelf -S); the spec allows it r-x.
            (Check::SectionPlacement, ".text"),
        ]),
        "{file}: errors and warnings"
    );
    assert_eq!(infos, firmware_infos(), "{file}: infos");
    assert_eq!(r.exit_code(false), 1);

    assert!(
        message(&r, Check::SegmentWriteExecute).ends_with(".text is writable and executable (WAX)"),
        "{}",
        message(&r, Check::SegmentWriteExecute)
    );
    // .rela.dyn: 283 entries, all R_RISCV_RELATIVE (242 patch .data, 41
    // patch .got), none in an executable or read-only section; no
    // --emit-relocs sections (readelf -r).
    let audit = message(&r, Check::RelocationAudit);
    for part in [
        "0 static relocation(s) in 0 --emit-relocs section(s)",
        "283 dynamic relocation(s): 283 R_RISCV_RELATIVE, 0 other, 0 in executable and 0 in read-only sections",
    ] {
        assert!(audit.contains(part), "{part}\nin: {audit}");
    }
    // .got is 0x150 bytes at 0x8001a280; 41 of the RELATIVE entries patch it.
    assert!(
        message(&r, Check::GotUse)
            .starts_with("GOT use: .got of 336 bytes at 0x8001a280, 41 GOT relocation(s)"),
        "{}",
        message(&r, Check::GotUse)
    );
    // .dynsym has 43 entries: the null one and 42 more (readelf --dyn-syms).
    assert!(
        message(&r, Check::SymbolSource).contains(".dynsym (42 exported symbols)"),
        "{}",
        message(&r, Check::SymbolSource)
    );
    // .htif (WA, 0x10 bytes at 0x8001a3e0: HTIF's tohost/fromhost) is the
    // only allocated section that is neither a bare-spec section nor a
    // dynamic table. (OpenSBI's fw_base.ldS does not name it either.)
    assert!(
        message(&r, Check::OrphanSection).starts_with(
            "1 allocated section(s) the spec does not list: .htif [0x8001a3e0, +0x10];"
        ),
        "{}",
        message(&r, Check::OrphanSection)
    );
    // Every .dynsym symbol lies inside the firmware slot and the 2 MiB image.
    assert_eq!(r.stats.symbols_checked, 41, "{:?}", r.stats);
}

#[test]
fn opensbi_fw_dynamic_has_only_its_true_findings() {
    assert_opensbi("fw_dynamic.elf");
}

#[test]
fn opensbi_fw_jump_has_only_its_true_findings() {
    assert_opensbi("fw_jump.elf");
}

#[test]
fn uboot_m_mode_has_only_its_true_findings() {
    let path = firmware(UBOOT, "u-boot-qemu");
    let r = lint_against(&bare_spec(), &path);
    assert_eq!(r.elf_kind, ElfKind::Exec);
    assert_eq!(r.symbols_from, SymbolSource::Dynsym);
    let (findings, infos) = split(&r);
    assert_eq!(
        findings,
        named(&[
            // PT_LOAD 1 [0x80000000, +0xa8608) has flags RWE (readelf -l);
            // .efi_runtime is WAX and .text/.text_rest (AX) share the
            // segment with writable .data, .got, __u_boot_list, .bss.
            (Check::SegmentWriteExecute, "segment 1"),
            // .rodata starts at 0x8005a630 and .data at 0x80077fa8
            // (readelf -S): neither is on the 4 KiB boundary the bare spec
            // puts at each segment start so PMP entries can protect text,
            // read-only data and writable data apart. U-Boot's script only
            // aligns them to 4 bytes.
            (Check::SectionPlacement, ".rodata"),
            (Check::SectionPlacement, ".data"),
        ]),
        "errors and warnings"
    );
    assert_eq!(infos, firmware_infos(), "infos");
    assert_eq!(r.exit_code(false), 1);

    assert!(
        message(&r, Check::SegmentWriteExecute).ends_with(
            ".efi_runtime is writable and executable (WAX); .text, .text_rest are executable (AX) inside a writable segment with .dynamic, .data, .got, __u_boot_list, .bss"
        ),
        "{}",
        message(&r, Check::SegmentWriteExecute)
    );
    // The dynamic relocations (readelf -r): .efi_runtime_rel (18: 15
    // RELATIVE, 3 R_RISCV_64, all patching .efi_runtime, which is
    // executable) and .rela.dyn (3424: 3316 RELATIVE, 108 R_RISCV_64 against
    // symbols such as cmd_always_repeatable, in .data and __u_boot_list).
    let audit = message(&r, Check::RelocationAudit);
    for part in [
        "3442 dynamic relocation(s): 3331 R_RISCV_RELATIVE, 111 other, 18 in executable and 0 in read-only sections",
        "R_RISCV_64 111",
        "R_RISCV_RELATIVE 3331",
    ] {
        assert!(audit.contains(part), "{part}\nin: {audit}");
    }
    // .got is 0x7f8 bytes at 0x800844f8; 252 RELATIVE entries patch it.
    assert!(
        message(&r, Check::GotUse)
            .starts_with("GOT use: .got of 2040 bytes at 0x800844f8, 252 GOT relocation(s)"),
        "{}",
        message(&r, Check::GotUse)
    );
    // Sections U-Boot's own linker script (arch/riscv/cpu/u-boot.lds)
    // names, which the generic bare spec does not list: a figure, not
    // "placed by the linker on its own" warnings.
    assert!(
        message(&r, Check::OrphanSection).starts_with(
            "4 allocated section(s) the spec does not list: .efi_runtime [0x80000218, +0xcd0], .text_rest [0x80000ef0, +0x5973c], __u_boot_list [0x80084cf0, +0x38c0], .efi_runtime_rel [0x800885b0, +0x1b0];"
        ),
        "{}",
        message(&r, Check::OrphanSection)
    );
}

/// OpenSBI 1.1's .dynsym entries of .data objects have st_shndx 5, which is
/// .dynstr (allocated, [0x80018308, +0x34e)) in Debian's build, while their
/// values lie in .data [0x80019000, +0x1180) (readelf -S --dyn-syms:
/// `ecall_pmu` at 0x80019498, Ndx 5). Linted against the bare spec with a
/// 96 KiB image.max_size (the image ends at 0x80018000), those symbols lie
/// outside the image: each finding names the section that holds the
/// address, never .dynstr.
#[test]
fn opensbi_dynsym_symbols_are_reported_at_the_section_holding_them() {
    let spec = std::fs::read_to_string(bare_spec()).unwrap();
    assert_eq!(spec.matches("max_size = \"2MiB\"").count(), 1);
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("qemu-virt-bare-96k.toml");
    std::fs::write(
        &small,
        spec.replace("max_size = \"2MiB\"", "max_size = \"96KiB\""),
    )
    .unwrap();
    for file in ["fw_dynamic.elf", "fw_jump.elf"] {
        let r = lint_against(&small, &opensbi(file));
        // At most 20 per check are listed (the rest are one "N more").
        let outside: Vec<&Finding> = r
            .by_check(Check::SymbolOutsideSlot)
            .filter(|f| !f.spec_key.is_empty())
            .collect();
        assert_eq!(outside.len(), 20, "{file}");
        assert!(!outside.is_empty(), "{file}");
        for f in &outside {
            assert_eq!(f.spec_key, "image.max_size", "{}", f.message);
            let at = f.address.unwrap();
            let want = if (0x8001_9000..0x8001_a180).contains(&at) {
                ".data"
            } else {
                assert!((0x8001_d000..0x8004_5ac8).contains(&at), "{}", f.message);
                ".bss"
            };
            assert_eq!(f.section.as_deref(), Some(want), "{}", f.message);
            assert!(!f.message.contains(".dynstr"), "{}", f.message);
        }
        let pmu = outside
            .iter()
            .find(|f| f.symbol.as_deref() == Some("ecall_pmu"))
            .expect("ecall_pmu reported");
        assert_eq!(pmu.address, Some(0x8001_9498));
        assert_eq!(pmu.section.as_deref(), Some(".data"));
        assert!(pmu.message.contains("(section .data)"), "{}", pmu.message);
    }
}
