//! Lints the two Linux 6.12 kernels built by `scripts/linux-kernel` against
//! `layouts/linux-riscv64.toml` and asserts the exact set of findings. Each
//! expected finding is a true property of that kernel (checked with
//! `riscv64-linux-gnu-readelf -W -S -l -r`), never something the spec cannot
//! express; anything else is a false finding and fails the test.

use crate::support::findings;
use crate::support::readelf::Readelf;
use crate::support::{linux, specs};

use layoutgen::lint::Lint;
use linux::kernel_file;
use std::path::Path;

/// (check, the section or symbol it names) of every error and warning, and
/// of every info finding, sorted.
fn lint(file: &Path) -> (Vec<(Lint, String)>, Vec<Lint>) {
    let (layout, _) = linked_to(file);
    let report = layoutgen::lint::run(&layout, file, &Default::default()).unwrap();
    findings::split(&report)
}

/// `layouts/linux-riscv64.toml` resolved against the real `_end` of the
/// kernel `file` (as `show --elf` and `lint` do), and that `_end`.
fn linked_to(file: &Path) -> (layoutgen::Layout, u64) {
    let spec = specs::path("linux-riscv64");
    let layout = layoutgen::load(&spec, &Default::default()).unwrap();
    let end = layoutgen::lint::linked_end(&layout, file)
        .unwrap()
        .expect("the kernel has an _end");
    let options = layoutgen::LoadOptions {
        linked_end: Some(end),
        ..Default::default()
    };
    (layoutgen::load(&spec, &options).unwrap(), end)
}

fn named(v: &[(Lint, &str)]) -> Vec<(Lint, String)> {
    let mut v: Vec<(Lint, String)> = v.iter().map(|(c, s)| (*c, s.to_string())).collect();
    v.sort();
    v
}

/// The defect both kernels share: arch/riscv/kernel/vmlinux.lds.S puts
/// `.init.pi` (early-boot position-independent code, flags WAX) between
/// `.init.data` and `.init.bss`, so its PT_LOAD is RWX.
fn init_pi_rwx() -> Vec<(Lint, &'static str)> {
    vec![
        // PT_LOAD 2 [0xffffffff80400000, …] has flags RWE (readelf -l).
        (Lint::SegmentWriteExecute, "segment 2"),
        // .init.pi is WAX (readelf -S); the spec allows it rw only.
        (Lint::SectionPlacement, ".init.pi"),
    ]
}

#[test]
fn fixed_linux_kernel_has_only_its_true_findings() {
    let (findings, infos) = lint(&kernel_file("fixed", "vmlinux"));
    assert_eq!(findings, named(&init_pi_rwx()), "errors and warnings");
    // LG013: most small data lies outside gp ± 2 KiB (a figure);
    // LG016: the relocation audit of a fixed image (informational).
    assert_eq!(infos, vec![Lint::GpSmallDataWindow, Lint::RelocationAudit]);
}

#[test]
fn relocatable_linux_kernel_has_only_its_true_findings() {
    // vmlinux of a RELOCATABLE build has its relocations stripped
    // (scripts/Makefile.vmlinux, "STRIPREL"); it is an ET_DYN with a .got.
    let (findings, infos) = lint(&kernel_file("reloc", "vmlinux"));
    assert_eq!(findings, named(&init_pi_rwx()), "errors and warnings");
    // LG019: the -fPIE build has a .got of 2928 bytes (readelf -S).
    assert_eq!(
        infos,
        vec![Lint::GpSmallDataWindow, Lint::RelocationAudit, Lint::GotUse]
    );
}

#[test]
fn relocatable_linux_relocs_are_explained_as_relocate_kernel_treats_them() {
    // vmlinux.relocs keeps .rela.dyn and the --emit-relocs sections.
    let file = kernel_file("reloc", "vmlinux.relocs");
    let (findings, infos) = lint(&file);
    let mut expected = init_pi_rwx();
    // .rela.dyn holds one R_RISCV_64, in .got, against the undefined weak
    // symbol efi_arch_tables (readelf -r): relocate_kernel() skips every
    // type but R_RISCV_RELATIVE, so the word keeps what the linker wrote.
    expected.push((Lint::DynamicRelocationType, ".rela.dyn"));
    assert_eq!(findings, named(&expected), "errors and warnings");
    assert_eq!(
        infos,
        vec![Lint::GpSmallDataWindow, Lint::RelocationAudit, Lint::GotUse]
    );

    let spec = specs::path("linux-riscv64");
    let layout = layoutgen::load(&spec, &Default::default()).unwrap();
    let report = layoutgen::lint::run(&layout, &file, &Default::default()).unwrap();
    let audit = report
        .findings
        .iter()
        .find(|f| f.id == Lint::RelocationAudit)
        .unwrap();
    // Every type found is explained as relocate_kernel() treats it:
    // R_RISCV_NONE entries are no-ops, R_RISCV_RELATIVE is applied,
    // R_RISCV_64 is not. The counts come from the kernel itself (GNU
    // readelf), never pinned: they move with every linux-source-6.12 update.
    let readelf = Readelf::of(&file);
    let relocs: Vec<_> = readelf.relocations_in(".rela.dyn").collect();
    let count = |ty: &str| relocs.iter().filter(|r| r.kind == ty).count();
    let link = layout.modes[0].image_link;
    let below_link = relocs
        .iter()
        .filter(|r| r.kind == "R_RISCV_RELATIVE" && r.addend < link)
        .count();
    let types: std::collections::BTreeSet<&str> = relocs.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(
        types,
        ["R_RISCV_64", "R_RISCV_NONE", "R_RISCV_RELATIVE"].into(),
        "a relocation type this test does not explain"
    );
    for part in [
        format!("R_RISCV_NONE {} (no-op)", count("R_RISCV_NONE")),
        format!(
            "R_RISCV_RELATIVE {} (applied at boot; {below_link} with an addend below image.link written without the offset)",
            count("R_RISCV_RELATIVE")
        ),
        format!(
            "R_RISCV_64 {} (not applied by the kernel's relocator (LG017))",
            count("R_RISCV_64")
        ),
    ] {
        assert!(
            audit.message.contains(&part),
            "{part}\nin: {}",
            audit.message
        );
    }
    let skipped = report
        .findings
        .iter()
        .find(|f| f.id == Lint::DynamicRelocationType)
        .unwrap();
    assert_eq!(skipped.symbol.as_deref(), Some("efi_arch_tables"));
    assert_eq!(skipped.spec_key, "image.relocator.types");
}

#[test]
fn modules_window_follows_the_kernels_real_end() {
    // MODULES_VADDR = PFN_ALIGN(_end) - 2 GiB (asm/pgtable.h): show --elf
    // resolves image.end from the vmlinux's _end.
    let vmlinux = kernel_file("fixed", "vmlinux");
    let (linked, end) = linked_to(&vmlinux);
    let pfn_end = (end + 0xfff) & !0xfff;
    for m in &linked.modes {
        let modules = m.region("modules").unwrap();
        assert_eq!(modules.start, pfn_end - (2 << 30), "{}", m.mode);
        assert_eq!(modules.end(), 0xffff_ffff_8000_0000, "{}", m.mode);
    }
    assert_eq!(linked.image.linked_end, Some(pfn_end));
}

/// Linux as a distribution builds it: Debian's riscv64 vmlinux
/// (`scripts/debian-kernel`: the `-dbg` package of the release's
/// `linux-image-*-riscv64`, Debian's own configuration, 160,000-odd
/// symbols). Its findings are the same true defect as our small kernels',
/// computed from the file: a PT_LOAD per RWE segment and every section
/// flagged both writable and executable. Nothing else: the spec describes
/// every section Debian's configuration links (no LG021 orphan).
#[test]
fn debian_distro_vmlinux_has_only_its_true_findings() {
    let file = crate::support::debian::vmlinux();
    let readelf = Readelf::of(&file);
    let mut expected = readelf.rwe_loads();
    expected.extend(readelf.wax_sections());
    expected.sort();
    // The defect it shares with the kernels built here (.init.pi WAX).
    assert_eq!(expected.len(), 2, "{expected:?}");
    let (findings, infos) = lint(&file);
    assert_eq!(findings, expected, "errors and warnings");
    // LG013: the small-data figure; LG016: the audit of a fixed image.
    assert_eq!(infos, vec![Lint::GpSmallDataWindow, Lint::RelocationAudit]);
}
