//! `layoutgen lint` of the inputs that are not a plain linked kernel:
//! stripped files (symbols from .dynsym, or none), relocatable objects,
//! more findings than are shown, debug sections it never reads, and files
//! that are not riscv64 ELFs at all.

use crate::lint::{expect, fixture, lint_bytes, lint_path, show};
use crate::support::elf_tools::*;
use crate::support::findings::assert_says;
use crate::support::specs;
use layoutgen::lint::{Lint, LintError, SymbolSource};
use object::elf as e;

/// "Strips" a linked fixture in place: .symtab and the --emit-relocs
/// sections become SHT_NULL, as `strip` would remove them.
pub(crate) fn strip(d: &mut [u8]) {
    for (hdr, name, ty, ..) in shdrs(d) {
        if ty == e::SHT_SYMTAB.0 || (ty == e::SHT_RELA.0 && name != ".rela.dyn") {
            d[hdr + 4..hdr + 8].copy_from_slice(&0u32.to_le_bytes());
        }
    }
}

/// The clean fixture of `name`, stripped: lint takes its symbols from
/// `source`, says so (`says`) and finds no error. The fixture and the
/// stripped bytes, for variants.
#[track_caller]
fn stripped(name: &str, source: SymbolSource, says: &str) -> (Linked, Vec<u8>) {
    let (k, mut d) = fixture(name);
    strip(&mut d);
    let r = lint_bytes(name, &k, "stripped.elf", &d);
    assert_eq!(r.symbols_from, source);
    let f = expect(&r, Lint::SymbolSource);
    assert_says(f[0], says);
    assert_eq!(r.counts.errors, 0, "{}", show(&r));
    (k, d)
}

#[test]
fn stripped_pie_falls_back_to_dynsym_and_says_so() {
    let name = "qemu-virt-semipic";
    let (k, mut d) = stripped(name, SymbolSource::Dynsym, ".dynsym");
    // The segment checks still run.
    let first = loads(&d)[0];
    set_p_flags(&mut d, first.0, first.2 | e::PF_W.0);
    let r = lint_bytes(name, &k, "stripped-wx.elf", &d);
    expect(&r, Lint::SegmentWriteExecute);
}

#[test]
fn stripped_executable_without_any_symbol_table() {
    stripped("qemu-virt-sv39", SymbolSource::None, "no symbol table");
}

#[test]
fn relocatable_object_gets_relocation_checks() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("module.o");
    std::fs::write(&p, object(&ObjOpts::default())).unwrap();
    let r = lint_path("qemu-virt-semipic", &p);
    assert_eq!(r.elf_kind, layoutgen::lint::ElfKind::Rel);
    expect(&r, Lint::SymbolSource);
    assert_eq!(r.counts.errors, 0, "{}", show(&r));

    // An absolute HI20 in a module for a semi-PIC kernel.
    let mut d = std::fs::read(&p).unwrap();
    retype_rela(
        &mut d,
        ".rela.text.entry",
        e::R_RISCV_PCREL_HI20,
        e::R_RISCV_HI20,
    );
    std::fs::write(&p, &d).unwrap();
    let r = lint_path("qemu-virt-semipic", &p);
    let f = expect(&r, Lint::AbsoluteRelocation);
    assert_eq!(f[0].symbol.as_deref(), Some("counter"));
    assert_eq!(f[0].section.as_deref(), Some(".text.entry"));
    // For a fixed layout the same relocation is only counted.
    let r = lint_path("qemu-virt-sv39", &p);
    assert_eq!(r.counts.errors, 0, "{}", show(&r));
    let a = expect(&r, Lint::RelocationAudit);
    assert_says(a[0], "1 absolute HI20/LO12");
}

#[test]
fn findings_are_capped_per_check_but_all_counted() {
    let name = "qemu-virt-sv39";
    let (k, mut d) = fixture(name);
    // Move every symbol of the object (and more) out of the slot.
    let names = [
        "kmain",
        "counter",
        "buffer",
        "message",
        "kmain_ptr",
        "_start",
    ];
    for n in names {
        set_symbol_value(&mut d, n, 0x1000);
    }
    let r = lint_bytes(name, &k, "many.elf", &d);
    let n = r.by_check(Lint::SymbolOutsideSlot).count();
    assert!(n >= names.len(), "{}", show(&r));
    assert!(n <= layoutgen::lint::MAX_PER_CHECK + 1);
}

/// Debug (non-allocated) sections are never read: a `.comment` pointing far
/// past the end of the file, with a huge size, changes nothing.
#[test]
fn non_allocated_sections_are_never_read() {
    let name = "qemu-virt-sv39";
    let (k, mut d) = fixture(name);
    let (hdr, ..) = shdrs(&d).into_iter().find(|s| s.1 == ".comment").unwrap();
    d[hdr + 24..hdr + 32].copy_from_slice(&(1u64 << 60).to_le_bytes()); // sh_offset
    d[hdr + 32..hdr + 40].copy_from_slice(&(1u64 << 40).to_le_bytes()); // sh_size
    let r = lint_bytes(name, &k, "debug.elf", &d);
    assert_eq!(r.counts.errors + r.counts.warnings, 0, "{}", show(&r));
}

// ---- unreadable input -----------------------------------------------------------

#[test]
fn other_machines_classes_and_non_elf_files_are_clear_errors() {
    let l = specs::layout("qemu-virt-sv39");
    // This test binary: an x86-64 ELF.
    let exe = std::env::current_exe().unwrap();
    let err = layoutgen::lint::run(&l, &exe, &Default::default()).unwrap_err();
    assert!(matches!(err, LintError::NotRiscv64 { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("x86-64, 64-bit; the spec is for riscv64"),
        "{err}"
    );
    assert_eq!(err.exit_code(), 2);

    let dir = tempfile::tempdir().unwrap();
    // A 32-bit riscv ELF header.
    let mut h32 = vec![0u8; 64];
    h32[..4].copy_from_slice(&e::ELFMAG);
    h32[4] = 1;
    h32[5] = 1;
    h32[6] = 1;
    h32[18] = 243;
    let p = dir.path().join("rv32.elf");
    std::fs::write(&p, &h32).unwrap();
    let err = layoutgen::lint::run(&l, &p, &Default::default()).unwrap_err();
    assert!(matches!(err, LintError::NotRiscv64 { .. }), "{err}");

    let p = dir.path().join("text.txt");
    std::fs::write(&p, "not an elf at all").unwrap();
    assert!(matches!(
        layoutgen::lint::run(&l, &p, &Default::default()).unwrap_err(),
        LintError::NotElf { .. }
    ));
    let p = dir.path().join("empty");
    std::fs::write(&p, "").unwrap();
    assert!(matches!(
        layoutgen::lint::run(&l, &p, &Default::default()).unwrap_err(),
        LintError::NotElf { .. }
    ));
    assert!(matches!(
        layoutgen::lint::run(&l, &dir.path().join("missing"), &Default::default()).unwrap_err(),
        LintError::Read { .. }
    ));
    assert!(matches!(
        layoutgen::lint::run(&l, dir.path(), &Default::default()).unwrap_err(),
        LintError::Read { .. }
    ));
    // Truncated: section headers past EOF.
    let k = link("qemu-virt-sv39", &LinkOpts::default());
    let d = k.bytes();
    let p = k.write_variant("trunc.elf", &d[..d.len() / 2]);
    assert!(matches!(
        layoutgen::lint::run(&l, &p, &Default::default()).unwrap_err(),
        LintError::Malformed { .. }
    ));
}

/// A module using `R_RISCV_32_PCREL` (type 57, "Unknown relocation type 57"
/// on kernels whose loader lacks it): clean against 6.12's loader as
/// `layouts/linux-riscv64.toml` describes it, refused (LG023, naming the
/// type, count, section and symbol) against a loader without it, and
/// nothing is said without a `[module_loader]` table.
#[test]
fn module_relocations_the_loader_does_not_apply() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("module.ko");
    let mut d = object(&ObjOpts::default());
    retype_rela(
        &mut d,
        ".rela.text.entry",
        e::R_RISCV_PCREL_HI20,
        e::R_RISCV_32_PCREL,
    );
    std::fs::write(&p, &d).unwrap();
    let spec = std::fs::read_to_string(specs::path("linux-riscv64")).unwrap();
    let lint = |text: &str| {
        let layout = specs::check_text(text, "loader.toml").unwrap();
        layoutgen::lint::run(&layout, &p, &Default::default()).unwrap()
    };
    let r = lint(&spec);
    assert_eq!(
        r.by_check(Lint::ModuleRelocation).count(),
        0,
        "{}",
        show(&r)
    );
    let older = spec.replacen("\"R_RISCV_32_PCREL\",", "", 1);
    assert!(older != spec, "the 6.12 loader lists R_RISCV_32_PCREL");
    let r = lint(&older);
    let f = expect(&r, Lint::ModuleRelocation);
    assert_eq!(f.len(), 1, "{}", show(&r));
    assert_says(f[0], "R_RISCV_32_PCREL (type 57) × 1, first in .text.entry");
    assert_says(f[0], "Unknown relocation type 57");
    assert_eq!(f[0].spec_key, "module_loader.types");
    assert_eq!(f[0].symbol.as_deref(), Some("counter"));
    // R_RISCV_NONE is no exception: 6.12's riscv loader has no handler for
    // type 0 either (tests/integration/linux_insmod.rs boots it refusing
    // one).
    let mut d = object(&ObjOpts::default());
    retype_rela(
        &mut d,
        ".rela.text.entry",
        e::R_RISCV_PCREL_HI20,
        e::R_RISCV_NONE,
    );
    let none_module = dir.path().join("none.ko");
    std::fs::write(&none_module, &d).unwrap();
    let layout = specs::check_text(&spec, "loader.toml").unwrap();
    let r = layoutgen::lint::run(&layout, &none_module, &Default::default()).unwrap();
    let f = expect(&r, Lint::ModuleRelocation);
    assert_eq!(f.len(), 1, "{}", show(&r));
    assert_says(f[0], "R_RISCV_NONE (type 0) × 1, first in .text.entry");
    let start = older.find("\n[module_loader]").unwrap();
    let end = older[start + 1..].find("\n[").unwrap() + start + 1;
    let none = format!("{}{}", &older[..start], &older[end..]);
    let r = lint(&none);
    assert_eq!(
        r.by_check(Lint::ModuleRelocation).count(),
        0,
        "{}",
        show(&r)
    );
}
