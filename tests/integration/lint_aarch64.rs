//! `layoutgen lint` on aarch64 ELFs: an object written with `object`,
//! linked by rust-lld (`-m aarch64elf`) with the script generated from
//! `layouts/qemu-virt-aarch64.toml` (and a relocatable variant), then
//! linted against the same spec.

use crate::support::findings::assert_says;
use crate::support::{elf_tools, specs};

use layoutgen::lint::Lint;
use object::write::{Object, Relocation, StandardSection, Symbol, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, RelocationFlags, SectionKind, SymbolFlags, SymbolKind,
    SymbolScope,
};
use std::path::{Path, PathBuf};
use std::process::Command;

const R_AARCH64_ABS64: u32 = 257;
const R_AARCH64_MOVW_UABS_G0_NC: u32 = 264;

fn spec_text(pie: bool) -> String {
    let text = specs::text("qemu-virt-aarch64");
    if !pie {
        return text;
    }
    text.replace("code_model = \"fixed\"", "code_model = \"pie\"")
        + "\n[kaslr]\nstart = \"kernel.start\"\nend = \"kernel.end\"\ngranule = \"2MiB\"\n"
}

/// An aarch64 object: `_start` in `.text.entry`, code, read-only data with
/// a pointer to `table` (an absolute 64-bit word), `.data`, `.bss`; with
/// `movw`, one `movz` carrying `R_AARCH64_MOVW_UABS_G0_NC` against `table`.
fn object(movw: bool) -> Vec<u8> {
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::Aarch64, Endianness::Little);
    let entry = obj.add_section(Vec::new(), b".text.entry".to_vec(), SectionKind::Text);
    // nop; b .
    obj.append_section_data(entry, &[0x1f, 0x20, 0x03, 0xd5, 0x00, 0x00, 0x00, 0x14], 4);
    obj.add_symbol(Symbol {
        name: b"_start".to_vec(),
        value: 0,
        size: 8,
        kind: SymbolKind::Text,
        scope: SymbolScope::Linkage,
        weak: false,
        section: SymbolSection::Section(entry),
        flags: SymbolFlags::None,
    });
    let text = obj.section_id(StandardSection::Text);
    // movz x0, #0
    let at = obj.append_section_data(text, &[0x00, 0x00, 0x80, 0xd2], 4);
    let data = obj.section_id(StandardSection::Data);
    let table_off = obj.append_section_data(data, &[0u8; 64], 8);
    let table = obj.add_symbol(Symbol {
        name: b"table".to_vec(),
        value: table_off,
        size: 64,
        kind: SymbolKind::Data,
        scope: SymbolScope::Linkage,
        weak: false,
        section: SymbolSection::Section(data),
        flags: SymbolFlags::None,
    });
    let rodata = obj.section_id(StandardSection::ReadOnlyData);
    let ptr = obj.append_section_data(rodata, &[0u8; 8], 8);
    obj.add_relocation(
        rodata,
        Relocation {
            offset: ptr,
            symbol: table,
            addend: 0,
            flags: RelocationFlags::Elf {
                r_type: object::elf::RelocationType(R_AARCH64_ABS64),
            },
        },
    )
    .unwrap();
    if movw {
        obj.add_relocation(
            text,
            Relocation {
                offset: at,
                symbol: table,
                addend: 0,
                flags: RelocationFlags::Elf {
                    r_type: object::elf::RelocationType(R_AARCH64_MOVW_UABS_G0_NC),
                },
            },
        )
        .unwrap();
    }
    let bss = obj.section_id(StandardSection::UninitializedData);
    obj.append_section_bss(bss, 256, 8);
    obj.write().unwrap()
}

/// Links `object(movw)` with the script of `spec`; returns the layout and ELF.
fn link(spec: &str, movw: bool, dir: &Path) -> (layoutgen::Layout, PathBuf) {
    let layout =
        crate::support::specs::check_text(spec, "a64.toml").unwrap_or_else(|d| panic!("{d:#?}"));
    let templates = layoutgen::Templates::new(None).unwrap();
    let script = templates
        .render(&layout, layoutgen::Output::LinkerScript)
        .unwrap();
    std::fs::write(dir.join("layout.ld"), script).unwrap();
    std::fs::write(dir.join("k.o"), object(movw)).unwrap();
    let elf = dir.join("k.elf");
    let mut cmd = Command::new(elf_tools::rust_lld());
    cmd.args(["-flavor", "gnu", "-m", "aarch64elf", "--emit-relocs"]);
    if layout.code_model.is_relocatable() {
        cmd.args([
            "-pie",
            "-z",
            "notext",
            "--apply-dynamic-relocs",
            "--no-dynamic-linker",
        ]);
    }
    let out = cmd
        .arg("-T")
        .arg(dir.join("layout.ld"))
        .arg("-o")
        .arg(&elf)
        .arg(dir.join("k.o"))
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "rust-lld: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (layout, elf)
}

#[test]
fn aarch64_kernel_linked_with_the_generated_script_lints_clean() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, elf) = link(&spec_text(false), false, dir.path());
    let r = layoutgen::lint::run(&layout, &elf, &Default::default()).unwrap();
    assert_eq!(r.counts.errors + r.counts.warnings, 0, "{:#?}", r.findings);
    // The image is where the spec puts it, in both VA sizes.
    assert_eq!(r.modes.len(), 2);
}

#[test]
fn riscv_spec_refuses_an_aarch64_elf_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let (_, elf) = link(&spec_text(false), false, dir.path());
    let riscv = specs::layout("qemu-virt-sv39");
    let err = layoutgen::lint::run(&riscv, &elf, &Default::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("AArch64, 64-bit; the spec is for riscv64"),
        "{err}"
    );
}

#[test]
fn relocatable_aarch64_image_has_only_relative_relocations_and_flags_movw_uabs() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, elf) = link(&spec_text(true), false, dir.path());
    let r = layoutgen::lint::run(&layout, &elf, &Default::default()).unwrap();
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
    std::fs::write(&obj, object(true)).unwrap();
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
