//! Lints Debian's riscv64 firmware against the bundled bare layout
//! (`layouts/qemu-virt-bare.toml`, M-mode firmware at the RAM base) and
//! asserts the exact set of findings: OpenSBI's `fw_dynamic.elf` and
//! `fw_jump.elf` (package `opensbi`) and U-Boot's M-mode `uboot.elf`
//! (package `u-boot-qemu`). Every expectation is computed from the file by
//! GNU readelf (`support/readelf.rs`), never pinned: a Debian update of either
//! package changes addresses and counts, not what is true of the files.
//! Anything lint reports beyond those properties is a false finding and
//! fails the test. `scripts/test` installs both packages; a missing file
//! fails the test, it never skips.
//!
//! What the files are (readelf): ET_EXEC, linked at 0x80000000, stripped
//! (no .symtab, a .dynsym), FLAGS_1 PIE with a .rela.dyn and a .got — they
//! relocate themselves at boot — and one RWE PT_LOAD holding every section.
//! The bare spec stays `code_model = "fixed"` with no `[image.relocator]`:
//! the sample kernel is linked with it, and these images do run at their
//! link address when QEMU loads them with -bios.

use crate::support::firmware::{lint, opensbi, uboot};
use crate::support::readelf::{self, Readelf};
use crate::support::{findings, specs};

use layoutgen::lint::{ElfKind, Finding, Lint, LintReport, SymbolSource};
use std::path::{Path, PathBuf};

fn bare_spec() -> PathBuf {
    specs::path("qemu-virt-bare")
}

fn message(report: &LintReport, check: Lint) -> &str {
    &report
        .findings
        .iter()
        .find(|f| f.id == check)
        .unwrap_or_else(|| panic!("no {} finding", check.id()))
        .message
}

/// Infos every one of these files gets, each a figure about the file.
fn firmware_infos() -> Vec<Lint> {
    let mut v = vec![
        // LG016: the relocation audit's figures (.rela.dyn, readelf -r).
        Lint::RelocationAudit,
        // LG019: a non-empty .got (readelf -S).
        Lint::GotUse,
        // LG020: no .symtab, symbols from .dynsym (readelf -S).
        Lint::SymbolSource,
        // LG021: allocated sections the bare spec does not list, as one
        // figure: the file has no .symtab to show it was linked with the
        // spec's script, and its own script may place them on purpose.
        Lint::OrphanSection,
    ];
    v.sort();
    v
}

/// The errors and warnings that are true of `elf` against the bare spec,
/// from readelf alone:
/// - LG006 for every PT_LOAD that is writable and executable;
/// - LG008 for every spec section the file gives more permissions than the
///   spec's `perms` (e.g. a WAX `.text`), and for every section that starts
///   a segment of the spec (a permission change: `.rodata`, `.data`) off the
///   spec's 4 KiB boundary, which PMP needs to protect text, read-only data
///   and writable data apart.
fn true_findings(elf: &Readelf) -> Vec<(Lint, String)> {
    let layout = layoutgen::load(&bare_spec(), &Default::default()).unwrap();
    let mut v = elf.rwe_loads();
    for s in &layout.image.sections {
        let Some(sec) = elf.sections.iter().find(|e| e.name == s.name) else {
            continue;
        };
        let extra_write = sec.flags.contains('W') && !s.write;
        let extra_exec = sec.flags.contains('X') && !s.execute;
        let off_boundary = s.segment_start && sec.addr % layout.image.section_align != 0;
        if extra_write || extra_exec || off_boundary {
            v.push((Lint::SectionPlacement, s.name.clone()));
        }
    }
    v.sort();
    v
}

/// LG016's figures, from readelf: dynamic relocations (those in allocated
/// relocation sections), how many are R_RISCV_RELATIVE, and how many patch
/// an executable or a read-only section.
fn audit_figures(elf: &Readelf) -> String {
    let relocs: Vec<_> = elf.dynamic_relocations().collect();
    let relative = relocs
        .iter()
        .filter(|r| r.kind == "R_RISCV_RELATIVE")
        .count();
    let patched = |pred: &dyn Fn(&readelf::Section) -> bool| {
        relocs
            .iter()
            .filter(|r| elf.section_at(r.offset).is_some_and(pred))
            .count()
    };
    let in_exec = patched(&|s| s.flags.contains('X'));
    let in_ro = patched(&|s| !s.flags.contains('X') && !s.flags.contains('W'));
    format!(
        "{} dynamic relocation(s): {relative} R_RISCV_RELATIVE, {} other, {in_exec} in executable and {in_ro} in read-only sections",
        relocs.len(),
        relocs.len() - relative
    )
}

/// LG019's figure: the .got and the dynamic relocations that patch it.
fn got_figure(elf: &Readelf) -> String {
    let got = elf.section(".got");
    let patching = elf
        .dynamic_relocations()
        .filter(|r| got.contains(r.offset))
        .count();
    format!(
        "GOT use: .got of {} bytes at {:#x}, {patching} GOT relocation(s)",
        got.size, got.addr
    )
}

/// Whether `name` is one of the tables a relocatable image's link adds
/// (named here by family, not copied from the library's list): the
/// dynamic section with its symbols and strings, the symbol hash tables,
/// the dynamic relocations (RELA and RELR), and the GOT.
fn is_dynamic_table(name: &str) -> bool {
    matches!(name, ".dynamic" | ".dynsym" | ".dynstr")
        || matches!(name, ".hash" | ".gnu.hash")
        || matches!(name, ".rela.dyn" | ".relr.dyn")
        || matches!(name, ".got" | ".got.plt")
}

/// LG021's figure: allocated sections that are neither the spec's nor the
/// dynamic tables a relocatable image carries, in file order.
fn orphan_figure(elf: &Readelf) -> String {
    let layout = layoutgen::load(&bare_spec(), &Default::default()).unwrap();
    let orphans: Vec<String> = elf
        .sections
        .iter()
        .filter(|s| s.alloc() && s.size > 0)
        .filter(|s| !is_dynamic_table(&s.name))
        .filter(|s| layout.image.section(&s.name).is_none())
        .map(|s| format!("{} [{:#x}, +{:#x}]", s.name, s.addr, s.size))
        .collect();
    format!(
        "{} allocated section(s) the spec does not list: {};",
        orphans.len(),
        orphans.join(", ")
    )
}

/// What every one of these firmware files must get: exactly its true
/// findings and the infos, with figures equal to readelf's.
fn assert_true_findings(path: &Path) -> LintReport {
    let elf = Readelf::of(path);
    let r = lint(&bare_spec(), path);
    assert_eq!(r.elf_kind, ElfKind::Exec);
    assert_eq!(r.symbols_from, SymbolSource::Dynsym);
    let (findings, infos) = findings::split(&r);
    let expected = true_findings(&elf);
    // The files have real defects, so the test is not vacuous.
    assert!(
        expected
            .iter()
            .any(|(c, _)| *c == Lint::SegmentWriteExecute),
        "{}: no RWE PT_LOAD; has the package changed its link?",
        path.display()
    );
    assert_eq!(
        findings,
        expected,
        "{}: errors and warnings",
        path.display()
    );
    assert_eq!(infos, firmware_infos(), "{}: infos", path.display());
    assert_eq!(r.exit_code(false), 1);
    for (check, figure) in [
        (Lint::RelocationAudit, audit_figures(&elf)),
        (Lint::GotUse, got_figure(&elf)),
        (Lint::OrphanSection, orphan_figure(&elf)),
        (
            Lint::SymbolSource,
            format!(".dynsym ({} exported symbols)", elf.dynsyms.len() - 1),
        ),
    ] {
        let m = message(&r, check);
        assert!(m.contains(&figure), "{}: {figure}\nin: {m}", path.display());
    }
    assert!(
        message(&r, Lint::RelocationAudit)
            .contains("0 static relocation(s) in 0 --emit-relocs section(s)"),
        "{}",
        message(&r, Lint::RelocationAudit)
    );
    // Every defined .dynsym symbol but section symbols is checked.
    let defined = elf
        .dynsyms
        .iter()
        .filter(|s| s.ndx != "UND" && s.kind != "SECTION")
        .count();
    assert_eq!(r.stats.symbols_checked, defined as u64, "{:?}", r.stats);
    r
}

fn assert_opensbi(file: &str) {
    let path = opensbi(file);
    let r = assert_true_findings(&path);
    // OpenSBI's fw_base.ldS places every section in one RWE segment; its
    // .text is WAX (readelf -S) where the spec allows r-x.
    assert!(
        message(&r, Lint::SegmentWriteExecute).ends_with(".text is writable and executable (WAX)"),
        "{}",
        message(&r, Lint::SegmentWriteExecute)
    );
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
    let path = uboot();
    let elf = Readelf::of(&path);
    let r = assert_true_findings(&path);
    // The RWE segment's sections, as lint names them in file order: the WAX
    // ones, then the executable ones sharing a segment with writable
    // sections (readelf -S).
    let load = elf.section(".text");
    let segment: Vec<&readelf::Section> = elf
        .sections
        .iter()
        .filter(|s| s.alloc() && s.addr >= load.addr && s.size > 0)
        .collect();
    let names = |pred: &dyn Fn(&str) -> bool| -> Vec<String> {
        segment
            .iter()
            .filter(|s| pred(&s.flags))
            .map(|s| s.name.clone())
            .collect()
    };
    let wax = names(&|f| f.contains('W') && f.contains('X'));
    let ax = names(&|f| !f.contains('W') && f.contains('X'));
    let writable = names(&|f| f.contains('W') && !f.contains('X'));
    assert!(!wax.is_empty() && !ax.is_empty() && !writable.is_empty());
    let want = format!(
        "{} is writable and executable (WAX); {} are executable (AX) inside a writable segment with {}",
        wax.join(", "),
        ax.join(", "),
        writable.join(", ")
    );
    assert!(
        message(&r, Lint::SegmentWriteExecute).ends_with(&want),
        "{want}\nin: {}",
        message(&r, Lint::SegmentWriteExecute)
    );
}

/// OpenSBI's .dynsym entries of .data objects have an `st_shndx` that
/// points at .dynstr in Debian's build, while their values lie in .data
/// (readelf -S --dyn-syms: `ecall_pmu`). Linted against the bare spec with
/// a 96 KiB image.max_size, symbols past the image's end are reported: each
/// finding names the section that really holds the address, never .dynstr.
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
    let image_end = 0x8000_0000 + 96 * 1024;
    for file in ["fw_dynamic.elf", "fw_jump.elf"] {
        let path = opensbi(file);
        let elf = Readelf::of(&path);
        let beyond: Vec<&readelf::DynSym> = elf
            .dynsyms
            .iter()
            .filter(|s| s.ndx != "UND" && s.kind != "SECTION" && s.value >= image_end)
            .collect();
        // The premise: some .dynsym entries point at .dynstr.
        let dynstr = elf.section(".dynstr").index;
        let misleading = beyond
            .iter()
            .find(|s| s.ndx == dynstr.to_string())
            .unwrap_or_else(|| panic!("{file}: no .dynsym entry past the image with Ndx .dynstr"));
        let r = lint(&small, &path);
        // At most 20 per check are listed (the rest are one "N more").
        let outside: Vec<&Finding> = r
            .by_check(Lint::SymbolOutsideSlot)
            .filter(|f| !f.spec_key.is_empty())
            .collect();
        assert_eq!(outside.len(), beyond.len().min(20), "{file}");
        for f in &outside {
            assert_eq!(f.spec_key, "image.max_size", "{}", f.message);
            let at = f.address.unwrap();
            let holder = elf.section_at(at).expect("an allocated section holds it");
            assert_eq!(
                f.section.as_deref(),
                Some(holder.name.as_str()),
                "{}",
                f.message
            );
            assert!(!f.message.contains(".dynstr"), "{}", f.message);
        }
        if let Some(f) = outside
            .iter()
            .find(|f| f.symbol.as_deref() == Some(misleading.name.as_str()))
        {
            let holder = &elf.section_at(misleading.value).unwrap().name;
            assert_eq!(f.address, Some(misleading.value));
            assert!(
                f.message.contains(&format!("(section {holder})")),
                "{}",
                f.message
            );
        }
    }
}
