//! `layoutgen lint` against real linked riscv64 ELFs: a clean fixture per
//! bundled QEMU layout (linked with the generated linker script by rust-lld
//! and by GNU ld), negative fixtures that each break one rule (linked by
//! rust-lld only: their byte patches assume lld's segment layout), the CLI's output
//! formats and exit codes (the bounded mutation fuzz of the reader is in
//! `lint_fuzz.rs`).

use crate::lint_inputs::strip;
use crate::support::cli::run as cli;
use crate::support::elf_tools::*;
use crate::support::findings::Field::{self, *};
use crate::support::findings::{self, assert_finding, assert_says};
use crate::support::lint_cli::lint_cli_fixtures;
use crate::support::{root, specs};
use layoutgen::arch::PagingMode;
use layoutgen::lint::{Finding, Lint, LintError, LintReport, Severity};
use object::elf as e;
use std::path::Path;

pub(crate) fn lint_path(name: &str, path: &Path) -> LintReport {
    layoutgen::lint::run(&specs::layout(name), path, &Default::default()).expect("lintable")
}

/// The clean fixture of layout `name` (linked by rust-lld) and its bytes,
/// to patch.
pub(crate) fn fixture(name: &str) -> (Linked, Vec<u8>) {
    let k = link(name, &LinkOpts::default());
    let d = k.bytes();
    (k, d)
}

pub(crate) fn lint_bytes(name: &str, linked: &Linked, variant: &str, data: &[u8]) -> LintReport {
    let p = linked.write_variant(variant, data);
    lint_path(name, &p)
}

/// Lints a copy of the fixture `linked` of layout `name` that `patch`
/// edited, written as `variant`.
pub(crate) fn lint_variant(
    name: &str,
    linked: &Linked,
    variant: &str,
    patch: impl FnOnce(&mut Vec<u8>),
) -> LintReport {
    let mut d = linked.bytes();
    patch(&mut d);
    lint_bytes(name, linked, variant, &d)
}

/// Lints the clean fixture of layout `name` after `patch` edited its bytes
/// (written as `variant`).
pub(crate) fn lint_patched(
    name: &str,
    variant: &str,
    patch: impl FnOnce(&mut Vec<u8>),
) -> LintReport {
    lint_variant(name, &link(name, &LinkOpts::default()), variant, patch)
}

pub(crate) fn show(r: &LintReport) -> String {
    findings::describe(&r.findings)
}

/// The findings of `check`, asserting there is at least one.
pub(crate) fn expect(r: &LintReport, check: Lint) -> Vec<&Finding> {
    let v: Vec<&Finding> = r.by_check(check).collect();
    assert!(
        !v.is_empty(),
        "expected {} ({}), got:\n{}",
        check.id(),
        check.name(),
        show(r)
    );
    v
}

/// The only errors are of `check`.
pub(crate) fn only_errors(r: &LintReport, check: Lint) {
    let others: Vec<&Finding> = r.errors().filter(|f| f.id != check).collect();
    assert!(
        others.is_empty(),
        "only {} errors expected, got:\n{}",
        check.id(),
        show(r)
    );
}

/// The findings of `check` (at least one), the first of them as `want`
/// says.
#[track_caller]
pub(crate) fn expect_first<'r>(r: &'r LintReport, check: Lint, want: &[Field]) -> Vec<&'r Finding> {
    let f = expect(r, check);
    assert_finding(f[0], want);
    f
}

/// [`expect_first`], and no error of another check.
#[track_caller]
pub(crate) fn expect_only<'r>(r: &'r LintReport, check: Lint, want: &[Field]) -> Vec<&'r Finding> {
    let f = expect_first(r, check, want);
    only_errors(r, check);
    f
}

pub(crate) fn slot(name: &str) -> layoutgen::layout::Region {
    let l = specs::layout(name);
    l.modes[0].region(&l.image.slot).unwrap().clone()
}

// ---- positive ---------------------------------------------------------------

#[test]
fn clean_fixture_for_every_bundled_qemu_layout_has_no_errors_or_warnings() {
    // Linked by both linkers: the generated script is for GNU ld and lld.
    for (name, linker) in LAYOUTS
        .into_iter()
        .flat_map(|n| Linker::ALL.map(|l| (n, l)))
    {
        let k = link(
            name,
            &LinkOpts {
                linker,
                ..LinkOpts::default()
            },
        );
        let what = format!("{name} ({})", linker.name());
        assert_eq!(k.stderr, "", "{what}: the linker warned");
        let r = lint_path(name, &k.elf);
        assert_eq!(r.counts.errors, 0, "{what}:\n{}", show(&r));
        assert_eq!(r.counts.warnings, 0, "{what}:\n{}", show(&r));
        assert_eq!(r.exit_code(true), 0, "{what}");
        assert_eq!(r.symbols_from, layoutgen::lint::SymbolSource::Symtab);
        assert!(r.stats.symbols_checked >= 6, "{what}: {:?}", r.stats);
        // The relocation audit always reports its figures.
        expect(&r, Lint::RelocationAudit);
        let l = specs::layout(name);
        assert_eq!(r.modes.len(), l.modes.len());
        // GNU ld writes a `-pie` image linked at a non-zero address as
        // ET_EXEC (with DF_1_PIE); lld as ET_DYN. Lint treats both alike.
        let kind = if l.code_model.is_relocatable() && linker == Linker::Lld {
            layoutgen::lint::ElfKind::Dyn
        } else {
            layoutgen::lint::ElfKind::Exec
        };
        assert_eq!(r.elf_kind, kind, "{what}");
    }
}

#[test]
fn semi_pic_clean_fixture_reports_its_relative_relocations() {
    let k = link("qemu-virt-semipic", &LinkOpts::default());
    let r = lint_path("qemu-virt-semipic", &k.elf);
    assert_eq!(r.stats.relative_relocations, 1, "{}", show(&r));
    let audit = expect(&r, Lint::RelocationAudit);
    assert_says(audit[0], "1 R_RISCV_RELATIVE");
}

#[test]
fn every_mode_of_a_multi_mode_layout_and_one_mode_on_request() {
    let k = link("qemu-virt-multi", &LinkOpts::default());
    let l = specs::layout("qemu-virt-multi");
    // Every mode the layout lists (PagingMode::ALL also has `bare`, which a
    // paged layout cannot list).
    assert_eq!(
        l.modes.iter().map(|m| m.mode).collect::<Vec<_>>(),
        [PagingMode::Sv39, PagingMode::Sv48, PagingMode::Sv57]
    );
    for m in [PagingMode::Sv39, PagingMode::Sv48, PagingMode::Sv57] {
        let r = layoutgen::lint::run(
            &l,
            &k.elf,
            &layoutgen::lint::Options {
                mode: Some(m),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(r.modes, vec![m]);
        assert_eq!(r.counts.errors, 0, "{}", show(&r));
    }
    let err = layoutgen::lint::run(
        &specs::layout("qemu-virt-sv39"),
        &k.elf,
        &layoutgen::lint::Options {
            mode: Some(PagingMode::Sv48),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, LintError::UnknownMode { .. }), "{err}");
    assert_eq!(err.exit_code(), 2);
}

// ---- the seven negative fixtures of the issue ---------------------------------

#[test]
fn symbol_in_the_abs32_window_of_a_semi_pic_image() {
    let va = 0xffff_ffff_8000_1000;
    let r = lint_patched("qemu-virt-semipic", "window.elf", |d| {
        set_symbol_value(d, "counter", va)
    });
    let want = [Symbol("counter"), At(va), Key("code_model")];
    expect_only(&r, Lint::SymbolInAbs32Window, &want);
    assert_eq!(r.exit_code(false), 1);
}

#[test]
fn segment_outside_the_slot() {
    let name = "qemu-virt-semipic";
    let slot = slot(name);
    let image_offset = specs::layout(name).modes[0].image_offset;
    // Move the last PT_LOAD (.bss) just past the slot, keeping VA - PA.
    let va = slot.start + slot.size;
    let r = lint_patched(name, "outside.elf", |d| {
        let last = *loads(d).last().unwrap();
        set_p_vaddr(d, last.0, va);
        set_p_paddr(d, last.0, va.wrapping_sub(image_offset));
    });
    let want = [At(va), Key("region.kernel")];
    let f = expect_only(&r, Lint::SegmentOutsideSlot, &want);
    assert!(f[0].section.as_deref().unwrap().starts_with("segment "));
}

#[test]
fn writable_and_executable_segment() {
    let name = "qemu-virt-sv39";
    let r = lint_patched(name, "wx.elf", |d| {
        make_text_segment_writable(d);
    });
    let want = [Says(".text"), At(specs::layout(name).modes[0].image_link)];
    expect_only(&r, Lint::SegmentWriteExecute, &want);
}

#[test]
fn misaligned_va_pa() {
    let (k, d) = fixture("qemu-virt-sv39");
    let data = data_segment(&d);
    let r = lint_variant("qemu-virt-sv39", &k, "vapa.elf", |d| {
        set_p_paddr(d, data.0, data.4 + 0x1000)
    });
    let want = [At(data.3), Key("image.section_align")];
    expect_only(&r, Lint::SegmentVaPaCongruence, &want);
}

/// What a finding on the global pointer's presence names: the symbol, and
/// the spec's `gp.policy` (required or forbidden).
const GP_AGAINST_POLICY: [Field; 2] = [Symbol("__global_pointer$"), Key("gp.policy")];

#[test]
fn missing_global_pointer_under_relax() {
    let r = lint_patched("qemu-virt-sv39", "nogp.elf", |d| {
        replace_in_section(d, ".strtab", b"__global_pointer$", b"__global_pointerX")
    });
    expect_only(&r, Lint::GpMissing, &GP_AGAINST_POLICY);
}

#[test]
fn absolute_hi20_relocation_in_a_semi_pic_image() {
    let r = lint_patched("qemu-virt-semipic", "hi20.elf", |d| {
        retype_rela(d, ".rela.text", e::R_RISCV_PCREL_HI20, e::R_RISCV_HI20)
    });
    let want = [Symbol("counter"), Section(".text"), Says("R_RISCV_HI20")];
    expect_only(&r, Lint::AbsoluteRelocation, &want);
}

#[test]
fn non_relative_dynamic_relocation() {
    let r = lint_patched("qemu-virt-semipic", "dynabs.elf", |d| {
        retype_rela(d, ".rela.dyn", e::R_RISCV_RELATIVE, e::R_RISCV_64)
    });
    let want = [Says("R_RISCV_64"), Section(".rela.dyn")];
    expect_only(&r, Lint::DynamicRelocationType, &want);
}

// ---- a fixture for every other check -----------------------------------------

#[test]
fn symbol_outside_the_slot() {
    let r = lint_patched("qemu-virt-sv39", "sym.elf", |d| {
        set_symbol_value(d, "buffer", 0xffff_ffd6_0000_0000)
    });
    let want = [Symbol("buffer"), Section(".bss"), Key("region.kernel")];
    expect_only(&r, Lint::SymbolOutsideSlot, &want);
}

#[test]
fn symbol_outside_the_slot_of_the_in_linear_map_layout() {
    let name = "qemu-virt-in-linear-map";
    let k = link(name, &LinkOpts::default());
    let start = slot(name).start;
    // Below the slot, then inside the (128 GiB) slot but far outside the
    // image.
    for (variant, value, spec_key) in [
        ("sym.elf", 0x1000, "region.linear_map"),
        ("sym2.elf", start + 0x1_0000_0000, "image.max_size"),
    ] {
        let r = lint_variant(name, &k, variant, |d| set_symbol_value(d, "kmain", value));
        let want = [Symbol("kmain"), Key(spec_key)];
        expect_only(&r, Lint::SymbolOutsideSlot, &want);
    }
}

#[test]
fn segment_loaded_at_the_wrong_physical_address() {
    let name = "qemu-virt-sv39";
    let (k, d) = fixture(name);
    let data = data_segment(&d);
    let r = lint_variant(name, &k, "pa.elf", |d| {
        set_p_paddr(d, data.0, data.4 + 0x20_0000)
    });
    expect_only(&r, Lint::SegmentLoadAddress, &[Key("image.lma")]);

    // The first segment not at ram.load, with VA - PA still consistent.
    let first = loads(&d)[0];
    let r = lint_variant(name, &k, "pa0.elf", |d| {
        set_p_vaddr(d, first.0, first.3 + 0x1000);
        set_p_paddr(d, first.0, first.4 + 0x1000);
    });
    let f = expect(&r, Lint::SegmentLoadAddress);
    assert_says(f[0], "not at image.lma 0x80200000");
}

/// The clean sv39 fixture with `.rodata` renamed `.rodatx`: a spec
/// section missing, and an unlisted one.
fn lint_with_rodata_renamed(variant: &str) -> LintReport {
    lint_patched("qemu-virt-sv39", variant, |d| {
        replace_in_section(d, ".shstrtab", b".rodata\0", b".rodatx\0")
    })
}

#[test]
fn missing_spec_section() {
    let r = lint_with_rodata_renamed("nosec.elf");
    let want = [Section(".rodata"), Key("image.section.rodata")];
    expect_first(&r, Lint::SectionMissing, &want);
    // The renamed section is now an orphan.
    let o = expect(&r, Lint::OrphanSection);
    assert_eq!(o[0].section.as_deref(), Some(".rodatx"));
    assert_eq!(r.counts.errors, 0, "{}", show(&r));
    assert_eq!(r.exit_code(false), 0);
    assert_eq!(r.exit_code(true), 1, "--deny warnings fails on warnings");
}

#[test]
fn orphan_of_a_file_linked_with_the_specs_script_is_a_warning() {
    // The fixture's .symtab has every boundary symbol of the generated
    // script (no LG010): an unlisted section is the linker's own placement.
    let r = lint_with_rodata_renamed("orphan.elf");
    assert!(r.by_check(Lint::BoundarySymbolMissing).next().is_none());
    let o = expect(&r, Lint::OrphanSection);
    assert_eq!(o.len(), 1, "{}", show(&r));
    let want = [
        Is(Severity::Warning),
        Section(".rodatx"),
        Says("the linker placed it on its own"),
    ];
    assert_finding(o[0], &want);
}

#[test]
fn unlisted_sections_of_a_file_the_spec_does_not_describe_are_one_figure() {
    let name = "qemu-virt-sv39";
    let k = link(name, &LinkOpts::default());
    let mut base = k.bytes();
    replace_in_section(&mut base, ".shstrtab", b".rodata\0", b".rodatx\0");

    // Linked with another script: a boundary symbol of the generated one
    // is missing (LG010), so which script placed .rodatx cannot be told.
    let mut d = base.clone();
    replace_in_section(&mut d, ".strtab", b"__image_start\0", b"__image_stXrt\0");
    let r = lint_bytes(name, &k, "foreign.elf", &d);
    expect(&r, Lint::BoundarySymbolMissing);
    let o = expect(&r, Lint::OrphanSection);
    assert_eq!(o.len(), 1, "{}", show(&r));
    assert_eq!(o[0].severity, Severity::Info);
    assert_eq!(o[0].section, None);
    assert!(
        o[0].message
            .starts_with("1 allocated section(s) the spec does not list: .rodatx [0x"),
        "{}",
        o[0].message
    );
    assert_says(o[0], "__image_start");
    assert!(
        !o[0].message.contains("placed it on its own"),
        "{}",
        o[0].message
    );
    assert_eq!(r.counts.warnings, 2, "LG007 and LG010:\n{}", show(&r));

    // Stripped: no .symtab, so no evidence either way.
    let mut d = base.clone();
    strip(&mut d);
    let r = lint_bytes(name, &k, "foreign-stripped.elf", &d);
    let o = expect(&r, Lint::OrphanSection);
    assert_eq!(o.len(), 1, "{}", show(&r));
    assert_eq!(o[0].severity, Severity::Info);
    assert_says(o[0], "no .symtab");

    // `warn` makes the figure a warning again, as for any check.
    let mut config = specs::layout(name).lint.clone();
    config.set_from_command_line(Lint::OrphanSection, layoutgen::lint::Level::Warn);
    let p = k.write_variant("foreign-stripped-warn.elf", &d);
    let r = layoutgen::lint::run(
        &specs::layout(name),
        &p,
        &layoutgen::lint::Options {
            config: Some(&config),
            ..Default::default()
        },
    )
    .unwrap();
    let o = expect(&r, Lint::OrphanSection);
    assert_eq!(o[0].severity, Severity::Warning);
}

#[test]
fn section_with_the_wrong_permissions() {
    let r = lint_patched("qemu-virt-sv39", "perms.elf", |d| {
        let (hdr, ..) = shdrs(d).into_iter().find(|s| s.1 == ".rodata").unwrap();
        // sh_flags |= SHF_WRITE
        d[hdr + 8] |= e::SHF_WRITE.0 as u8;
    });
    let want = [Key("image.section.rodata.perms"), Section(".rodata")];
    expect_only(&r, Lint::SectionPlacement, &want);
}

#[test]
fn section_misaligned_and_out_of_order() {
    let name = "qemu-virt-sv39";
    let text = specs::layout(name).modes[0].image_link;
    let r = lint_patched(name, "align.elf", |d| {
        let (hdr, ..) = shdrs(d).into_iter().find(|s| s.1 == ".data").unwrap();
        // sh_addr: before .text's neighbour .rodata and not 2 MiB-aligned.
        le64(d, hdr + 16, text + 0x1000);
    });
    let keys: Vec<&str> = r
        .by_check(Lint::SectionPlacement)
        .map(|f| f.spec_key.as_str())
        .collect();
    assert!(keys.contains(&"image.section.data.align"), "{keys:?}");
    assert!(keys.contains(&"image.section"), "{keys:?}");
}

#[test]
fn boundary_symbol_disagrees_with_the_generated_constants() {
    let name = "qemu-virt-sv39";
    let link_addr = specs::layout(name).modes[0].image_link;
    let r = lint_patched(name, "bound.elf", |d| {
        set_symbol_value(d, "__image_start", link_addr + 0x1000)
    });
    let want = [Symbol("__image_start"), Key("image.start_symbols")];
    expect_only(&r, Lint::BoundarySymbol, &want);
}

#[test]
fn boundary_symbol_missing() {
    let r = lint_patched("qemu-virt-sv39", "nostack.elf", |d| {
        replace_in_section(d, ".strtab", b"__stack_top\0", b"__stack_toq\0")
    });
    let want = [Says("__stack_top"), Is(Severity::Warning)];
    expect_first(&r, Lint::BoundarySymbolMissing, &want);
}

#[test]
fn global_pointer_misplaced() {
    let r = lint_patched("qemu-virt-sv39", "gp.elf", |d| {
        move_symbol(d, "__global_pointer$", 0x10);
    });
    let want = [Symbol("__global_pointer$"), Key("gp.offset")];
    expect_only(&r, Lint::GpPlacement, &want);
}

fn orphan_small_data(script: String) -> String {
    script
        .lines()
        .filter(|l| !l.contains("*(.sdata .sdata.*)") && !l.contains("*(.sbss .sbss.*)"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn small_data_outside_the_gp_window_is_a_figure_not_an_error() {
    let name = "qemu-virt-sv39";
    let k = link(
        name,
        &LinkOpts {
            obj: ObjOpts {
                small_data: true,
                data_pad: 8192,
                ..ObjOpts::default()
            },
            script_edit: Some(orphan_small_data),
            ..LinkOpts::default()
        },
    );
    let r = lint_path(name, &k.elf);
    let f = expect(&r, Lint::GpSmallDataWindow);
    assert_eq!(f[0].severity, Severity::Info);
    assert_eq!(r.stats.small_data_symbols, 3, "{}", show(&r));
    assert_eq!(r.stats.small_data_outside_gp_window, 3, "{}", show(&r));
    assert!(
        f[0].message.starts_with("3 of 3 small-data symbols"),
        "{}",
        f[0].message
    );
    // The linker placed .sdata/.sbss on its own: orphans, not errors.
    expect(&r, Lint::OrphanSection);
    assert_eq!(r.counts.errors, 0, "{}", show(&r));
}

#[test]
fn global_pointer_defined_although_gp_is_disabled() {
    let name = "qemu-virt-semipic";
    let obj = ObjOpts {
        define_gp: true,
        ..ObjOpts::default()
    };
    let k = link(
        name,
        &LinkOpts {
            obj,
            ..LinkOpts::default()
        },
    );
    let r = lint_path(name, &k.elf);
    expect_only(&r, Lint::GpForbidden, &GP_AGAINST_POLICY);
}

#[test]
fn gp_relative_relocation_although_gp_is_disabled() {
    let r = lint_patched("qemu-virt-semipic", "gprel.elf", |d| {
        retype_rela(d, ".rela.text", e::R_RISCV_PCREL_LO12_I, e::R_RISCV_GPREL_I)
    });
    expect_only(&r, Lint::GpForbidden, &[Says("R_RISCV_GPREL_I")]);
}

#[test]
fn text_relocation_in_a_semi_pic_image() {
    let name = "qemu-virt-semipic";
    let text = specs::layout(name).modes[0].image_link;
    let r = lint_patched(name, "textrel.elf", |d| {
        let at = rela_entries(d, ".rela.dyn", e::R_RISCV_RELATIVE)[0];
        le64(d, at, text + 8);
    });
    expect_first(&r, Lint::TextRelocation, &[Section(".text"), At(text + 8)]);
    assert_eq!(r.counts.errors, 0, "{}", show(&r));
}

#[test]
fn got_use_is_reported() {
    let r = lint_patched("qemu-virt-semipic", "got.elf", |d| {
        retype_rela(d, ".rela.text", e::R_RISCV_PCREL_HI20, e::R_RISCV_GOT_HI20)
    });
    let want = [Says("1 GOT relocation"), Is(Severity::Info)];
    expect_first(&r, Lint::GotUse, &want);
}

#[test]
fn wrong_entry_point() {
    let r = lint_patched("qemu-virt-sv39", "entry.elf", |d| {
        let data = symbol_value(d, "counter");
        set_entry(d, data);
    });
    let want = [Symbol("_start"), Key("image.entry")];
    expect_only(&r, Lint::Entry, &want);
}

/// The misplaced `_start` of the user-path report: `_start` a few bytes
/// into the image links, is `e_entry`, is code, and the boot died because
/// the loader jumps to the image's first byte. The generated script now
/// refuses it at link time, and lint names it (LG022 at image.entry_at);
/// with `entry_at = "elf-entry"` (a loader that reads e_entry) it is fine.
#[test]
fn entry_symbol_away_from_the_image_start() {
    let name = "qemu-virt-sv39";
    // Link time: with .text's inputs before .text.entry, _start moves.
    let opts = LinkOpts {
        script_edit: Some(|s| s.replace("KEEP(*(.text.entry))", "*(.text) KEEP(*(.text.entry))")),
        ..LinkOpts::default()
    };
    let err = try_link_layout(&specs::layout(name), name, &opts)
        .err()
        .expect("the ASSERT refuses the link");
    assert!(
        err.contains("the entry symbol _start is not the image's first byte")
            && err.contains(".text.entry"),
        "{err}"
    );
    // In the file: _start and e_entry 4 bytes in.
    let (k, mut d) = fixture(name);
    let start = move_symbol(&mut d, "_start", 4);
    set_entry(&mut d, start);
    let r = lint_bytes(name, &k, "entry-moved.elf", &d);
    let f = expect(&r, Lint::Entry);
    assert_eq!(f.len(), 1, "{}", show(&r));
    assert_eq!(f[0].spec_key, "image.entry_at");
    assert_says(f[0], "0x4 bytes into the image");
    assert!(f[0].help.contains(".text.entry"), "{}", f[0].help);
    only_errors(&r, Lint::Entry);
    let text = std::fs::read_to_string(specs::path(name))
        .unwrap()
        .replacen("[image]\n", "[image]\nentry_at = \"elf-entry\"\n", 1);
    let layout = specs::check_text(&text, "elf-entry.toml").unwrap();
    let p = k.write_variant("entry-moved-elf-entry.elf", &d);
    let r = layoutgen::lint::run(&layout, &p, &Default::default()).unwrap();
    assert_eq!(r.by_check(Lint::Entry).count(), 0, "{}", show(&r));
}

// ---- the CLI: formats and exit codes ---------------------------------------------

#[test]
fn cli_human_output_and_exit_codes() {
    let f = lint_cli_fixtures();
    let (code, out, _) = cli(&["lint", "--spec", &f.spec, &f.clean]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 errors, 0 warnings"), "{out}");
    assert!(out.trim_end().ends_with(": clean"), "{out}");

    let (code, out, _) = cli(&["lint", "--spec", &f.spec, &f.bad]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error[LG001 symbol-outside-slot]"), "{out}");
    assert!(out.contains("symbol buffer"), "{out}");
    assert!(out.contains("spec: region.kernel"), "{out}");
    assert!(out.contains("help: "), "{out}");

    let (code, out, _) = cli(&["lint", "--spec", &f.spec, &f.warn]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("warning[LG010"), "{out}");
    let (code, out, _) = cli(&["lint", "--spec", &f.spec, "--deny", "warnings", &f.warn]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("failed (warnings denied)"), "{out}");

    // Several files: the worst exit code wins; an unreadable file is 2.
    let (code, out, _) = cli(&["lint", "--spec", &f.spec, &f.clean, &f.bad]);
    assert_eq!(code, 1, "{out}");
    let (code, out, _) = cli(&["lint", "--spec", &f.spec, &f.bad, "Cargo.toml"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("not an ELF file"), "{out}");
    // Bad usage.
    assert_eq!(cli(&["lint", "--spec", &f.spec]).0, 2);
    assert_eq!(
        cli(&["lint", "--spec", &f.spec, "--format", "xml", &f.clean]).0,
        2
    );
    let (code, _, err) = cli(&["lint", "--spec", &f.spec, "--mode", "sv57", &f.clean]);
    assert_eq!(code, 2);
    assert!(err.contains("does not support sv57"), "{err}");
    assert_eq!(cli(&["lint", "--spec", "missing.toml", &f.clean]).0, 2);
}

#[test]
fn cli_json_output_follows_the_documented_schema() {
    let f = lint_cli_fixtures();
    let (code, out, _) = cli(&[
        "lint",
        "--spec",
        &f.spec,
        "--format",
        "json",
        &f.bad,
        "Cargo.toml",
    ]);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], "layoutgen-lint/1");
    assert_eq!(v["layout"], "qemu-virt-sv39");
    assert_eq!(v["code_model"], "fixed");
    assert_eq!(v["gp_policy"], "relax");
    assert_eq!(v["summary"]["exit_code"], 2);
    assert_eq!(v["summary"]["files"], 2);
    assert_eq!(v["summary"]["unreadable"], 1);
    let bad = &v["files"][0];
    assert_eq!(bad["ok"], false);
    assert_eq!(bad["elf_kind"], "exec");
    assert_eq!(bad["symbols_from"], "symtab");
    assert_eq!(bad["modes"][0], "sv39");
    assert!(bad["counts"]["errors"].as_u64().unwrap() >= 1);
    assert!(bad["stats"]["symbols"].as_u64().unwrap() > 0);
    let f0 = &bad["findings"][0];
    assert_eq!(f0["id"], "LG001");
    assert_eq!(f0["check"], "symbol-outside-slot");
    assert_eq!(f0["severity"], "error");
    assert_eq!(f0["symbol"], "buffer");
    assert_eq!(f0["section"], ".bss");
    assert_eq!(f0["address"], "0x1000");
    assert_eq!(f0["spec_key"], "region.kernel");
    assert!(f0["help"].as_str().unwrap().len() > 10);
    assert!(f0["modes"].as_array().unwrap().is_empty());
    let unreadable = &v["files"][1];
    assert_eq!(unreadable["error"]["kind"], "not-elf");
    assert_eq!(unreadable["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn cli_github_annotations() {
    let f = lint_cli_fixtures();
    let (code, out, _) = cli(&[
        "lint", "--spec", &f.spec, "--format", "github", &f.bad, &f.warn,
    ]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("::error file=")
                && l.contains("title=LG001 symbol-outside-slot::")),
        "{out}"
    );
    assert!(lines.iter().any(|l| l.starts_with("::warning ")), "{out}");
    assert!(lines.iter().any(|l| l.starts_with("::notice ")), "{out}");
    // Messages are one line: newlines are escaped.
    assert!(lines.iter().all(|l| l.starts_with("::")), "{out}");
    assert!(out.contains("%0Ahelp: "), "{out}");
    // --deny warnings turns warnings into error annotations.
    let (_, out, _) = cli(&[
        "lint", "--spec", &f.spec, "--format", "github", "--deny", "warnings", &f.warn,
    ]);
    assert!(!out.contains("::warning "), "{out}");
    assert!(out.contains("title=LG010"), "{out}");
}

#[test]
fn cli_sarif_output() {
    let f = lint_cli_fixtures();
    let (code, out, _) = cli(&["lint", "--spec", &f.spec, "--format", "sarif", &f.bad]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), Lint::ALL.len());
    assert_eq!(rules[0]["id"], "LG001");
    let r0 = &run["results"][0];
    assert_eq!(r0["ruleId"], "LG001");
    assert_eq!(r0["level"], "error");
    assert_eq!(
        rules[r0["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "LG001"
    );
    assert_eq!(
        r0["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        // An absolute path is a file URI (lint_formats.rs: odd names).
        format!("file://{}", f.bad)
    );
    assert_eq!(r0["locations"][0]["logicalLocations"][0]["name"], "buffer");
    assert_eq!(r0["properties"]["specKey"], "region.kernel");
    assert_eq!(r0["properties"]["address"], "0x1000");
}

#[test]
fn every_check_is_documented() {
    let doc = std::fs::read_to_string(root().join("docs/lint.md")).unwrap();
    for c in Lint::ALL {
        assert!(doc.contains(c.id()), "{} missing from docs/lint.md", c.id());
        assert!(
            doc.contains(c.name()),
            "{} missing from docs/lint.md",
            c.name()
        );
        assert_eq!(Lint::from_id(c.id()), Some(c));
    }
    for fmt in [
        "--format json",
        "--format github",
        "--format sarif",
        "layoutgen-lint/1",
    ] {
        assert!(doc.contains(fmt), "{fmt} missing from docs/lint.md");
    }
}

/// LG029: budgets warn before the link fails. The clean sv39 fixture is far
/// below its 32 MiB image.max_size: a 1% budget warns (naming the key and
/// the share), 100% does not; a section budget does the same against the
/// section's own max_size.
#[test]
fn size_budgets_warn_before_max_size_fails() {
    let name = "qemu-virt-sv39";
    let (k, _) = fixture(name);
    let text = std::fs::read_to_string(specs::path(name)).unwrap();
    let lint_with = |edited: &str| {
        let layout = specs::check_text(edited, "budget.toml").unwrap();
        layoutgen::lint::run(&layout, &k.elf, &Default::default()).unwrap()
    };
    let r = lint_with(&text.replacen("[image]\n", "[image]\nbudget = 100\n", 1));
    assert_eq!(r.by_check(Lint::Budget).count(), 0, "{}", show(&r));
    let r = lint_with(&text.replacen("[image]\n", "[image]\nbudget = 1\n", 1));
    let f = expect(&r, Lint::Budget);
    assert_eq!(f[0].spec_key, "image.budget");
    assert_says(f[0], "above its budget of 1%");
    assert_eq!(f[0].severity, Severity::Warning);
    let sect = text.replacen(
        "name = \".text\"\n",
        "name = \".text\"\nmax_size = \"256\"\nbudget = 1\n",
        1,
    );
    assert_ne!(sect, text);
    let r = lint_with(&sect);
    let f = expect(&r, Lint::Budget);
    assert_eq!(f[0].spec_key, "image.section.text.budget");
}
