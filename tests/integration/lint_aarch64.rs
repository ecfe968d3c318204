//! `layoutgen lint` on aarch64 ELFs: an object written with `object`,
//! linked by rust-lld (`-m aarch64elf`) with the script generated from
//! `layouts/qemu-virt-aarch64.toml` (and a relocatable variant), then
//! linted against the same spec.

use crate::support::findings::assert_says;
use crate::support::{elf_tools, specs};

use layoutgen::lint::Lint;

fn spec_text(pie: bool) -> String {
    let text = specs::text("qemu-virt-aarch64");
    if !pie {
        return text;
    }
    text.replace("code_model = \"fixed\"", "code_model = \"pie\"")
        + "\n[kaslr]\nstart = \"kernel.start\"\nend = \"kernel.end\"\ngranule = \"2MiB\"\n"
}

/// Links the aarch64 test object (`elf_tools::object_aarch64`) with the
/// script of `spec` by rust-lld, with nothing on stderr; returns the layout
/// and the linked ELF (in a directory that lives as long as it).
fn link(spec: &str) -> (layoutgen::Layout, elf_tools::Linked) {
    let layout = specs::check_text(spec, "a64.toml").unwrap_or_else(|d| panic!("{d:#?}"));
    let linked = elf_tools::link_layout(&layout, "a64", &elf_tools::LinkOpts::default());
    assert!(linked.stderr.is_empty(), "rust-lld: {}", linked.stderr);
    (layout, linked)
}

#[test]
fn aarch64_kernel_linked_with_the_generated_script_lints_clean() {
    let (layout, linked) = link(&spec_text(false));
    let r = layoutgen::lint::run(&layout, &linked.elf, &Default::default()).unwrap();
    assert_eq!(r.counts.errors + r.counts.warnings, 0, "{:#?}", r.findings);
    // The image is where the spec puts it, in both VA sizes.
    assert_eq!(r.modes.len(), 2);
}

#[test]
fn riscv_spec_refuses_an_aarch64_elf_and_back() {
    let (_, linked) = link(&spec_text(false));
    let riscv = specs::layout("qemu-virt-sv39");
    let err = layoutgen::lint::run(&riscv, &linked.elf, &Default::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("AArch64, 64-bit; the spec is for riscv64"),
        "{err}"
    );
}

#[test]
fn relocatable_aarch64_image_has_only_relative_relocations_and_flags_movw_uabs() {
    let (layout, linked) = link(&spec_text(true));
    let r = layoutgen::lint::run(&layout, &linked.elf, &Default::default()).unwrap();
    assert_eq!(r.counts.errors, 0, "{:#?}", r.findings);
    assert!(r.stats.relative_relocations >= 1, "{:?}", r.stats);
    let audit = r
        .findings
        .iter()
        .find(|f| f.id == Lint::RelocationAudit)
        .unwrap();
    assert_says(audit, "R_AARCH64_RELATIVE");

    // An absolute address built in code (movz with MOVW_UABS) cannot move:
    // lld refuses it in a PIE link; lint flags it in the object, as arm64's
    // relacheck does before the link.
    let dir = tempfile::tempdir().unwrap();
    let obj = dir.path().join("k.o");
    std::fs::write(&obj, elf_tools::object_aarch64(&Default::default(), true)).unwrap();
    let r = layoutgen::lint::run(&layout, &obj, &Default::default()).unwrap();
    let f: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.id == Lint::AbsoluteRelocation)
        .collect();
    assert_eq!(f.len(), 1, "{:#?}", r.findings);
    assert_says(f[0], "R_AARCH64_MOVW_UABS_G0_NC");
    assert_eq!(f[0].symbol.as_deref(), Some("table"));
}

/// GNU ld for aarch64 pages by 64 KiB: with segments 4 KiB apart it puts
/// the code and the data in one RWX segment. Lint says so and names the
/// flag that keeps them apart; linked with that flag the image is clean.
#[test]
fn gnu_ld_page_size_above_section_align_merges_segments_and_lint_names_the_flag() {
    let text = spec_text(false).replace("section_align = \"2MiB\"", "section_align = \"4KiB\"");
    assert!(text.contains("section_align = \"4KiB\""));
    let layout = specs::check_text(&text, "a64.toml").unwrap_or_else(|d| panic!("{d:#?}"));
    let gnu = |extra: &[&str]| {
        let opts = elf_tools::LinkOpts {
            linker: elf_tools::Linker::Gnu,
            extra_args: extra.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        let linked = elf_tools::link_layout(&layout, "a64", &opts);
        layoutgen::lint::run(&layout, &linked.elf, &Default::default()).unwrap()
    };
    let merged = gnu(&[]);
    let wx = merged
        .findings
        .iter()
        .find(|f| f.id == Lint::SegmentWriteExecute)
        .unwrap_or_else(|| panic!("no LG006: {:#?}", merged.findings));
    assert_says(wx, "is RWX");
    assert!(
        wx.help.contains("page size (64 KiB, p_align)")
            && wx.help.contains("-z max-page-size=0x1000"),
        "{}",
        wx.help
    );
    let apart = gnu(&["-z", "max-page-size=0x1000"]);
    assert_eq!(
        apart.counts.errors + apart.counts.warnings,
        0,
        "{:#?}",
        apart.findings
    );
}
