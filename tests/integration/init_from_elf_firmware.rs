//! `layoutgen init --from-elf` on images that run without paging: Debian's
//! OpenSBI (`fw_dynamic.elf`, `fw_jump.elf`, package `opensbi`) and U-Boot
//! (`uboot.elf`, package `u-boot-qemu`), and a PIE linked at 0. The derived
//! spec passes `layoutgen check`, and `layoutgen lint` of the same file
//! against it reports exactly its true findings, each computed from GNU
//! readelf (`support/readelf.rs`), never pinned: a Debian update changes
//! addresses and counts, not what is true of the files. The steering
//! options (`--shape`, `--modes`, `--ram-base`, `--load-addr`) work with
//! `--from-elf`, and one that contradicts the ELF is refused naming both.
//! Missing files fail these tests (`scripts/test` installs the packages).

use crate::init_from_elf::derive;
use crate::support::cli::{layoutgen_in, text};
use crate::support::elf_tools::{LinkOpts, link_layout};
use crate::support::firmware::{self, lint, opensbi, uboot};
use crate::support::readelf::{self, Readelf};
use crate::support::{assert_contains, findings, sample_kernels, specs};

use layoutgen::lint::Lint;
use std::path::Path;

/// PMP's granule as the bare shape uses it (`section_align`).
const PMP_GRANULE: u64 = 4096;

/// The allocated sections with bytes in the image, by address.
fn image_sections(elf: &Readelf) -> Vec<&readelf::Section> {
    let mut v: Vec<&readelf::Section> = elf
        .sections
        .iter()
        .filter(|s| s.alloc() && s.size > 0)
        .collect();
    v.sort_by_key(|s| s.addr);
    v
}

/// What a section is for PMP, which protects address ranges: (writable,
/// executable). A WAX section next to code is code: a spec cannot put
/// code after writable data, so it is described `rx` and lint reports its
/// W; any other WAX section is data, described `rw`.
fn pmp_class(sections: &[&readelf::Section], i: usize) -> (bool, bool) {
    let code = |s: &readelf::Section| s.flags.contains('X') && !s.flags.contains('W');
    let s = sections[i];
    let (w, x) = (s.flags.contains('W'), s.flags.contains('X'));
    if w && x {
        let among_code =
            (i > 0 && code(sections[i - 1])) || sections.get(i + 1).is_some_and(|n| code(n));
        (!among_code, among_code)
    } else {
        (w, x)
    }
}

/// The errors and warnings that are true of a firmware file, from readelf:
/// - LG006 for every PT_LOAD that is writable and executable;
/// - LG008 for every WAX section (the spec can give it only one of W, X);
/// - LG008 for every section where the image gains a permission (W or X)
///   the section before it lacks, off PMP's 4 KiB granule: PMP cannot
///   protect the two apart.
fn true_findings(elf: &Readelf) -> Vec<(Lint, String)> {
    let mut v = elf.rwe_loads();
    let sections = image_sections(elf);
    for (i, s) in sections.iter().enumerate() {
        let wax = s.flags.contains('W') && s.flags.contains('X');
        let gains = i > 0 && {
            let ((w, x), (pw, px)) = (pmp_class(&sections, i), pmp_class(&sections, i - 1));
            (w && !pw) || (x && !px)
        };
        if wax || (gains && s.addr % PMP_GRANULE != 0) {
            v.push((Lint::SectionPlacement, s.name.clone()));
        }
    }
    v.sort();
    v
}

/// The infos, each a figure about the file: the relocation audit (it has a
/// .rela.dyn), GOT use (a non-empty .got), the symbol source (no .symtab:
/// .dynsym). No LG021: the derived spec lists every allocated section.
fn true_infos(elf: &Readelf) -> Vec<Lint> {
    let has = |name: &str| elf.sections.iter().any(|s| s.name == name && s.size > 0);
    let mut v = Vec::new();
    if has(".rela.dyn") {
        v.push(Lint::RelocationAudit);
    }
    if has(".got") {
        v.push(Lint::GotUse);
    }
    if !has(".symtab") {
        v.push(Lint::SymbolSource);
    }
    v.sort();
    v
}

/// `init --from-elf` on a firmware file: a bare spec at the file's own
/// addresses, and lint reports exactly the true findings.
fn assert_firmware(elf_path: &Path) {
    let elf = Readelf::of(elf_path);
    let (dir, spec) = derive(elf_path, &[]);
    let spec_path = dir.path().join("derived.toml");
    let layout = layoutgen::load(&spec_path, &Default::default()).unwrap();
    let first = image_sections(&elf)[0].addr;
    assert_eq!(layout.modes.len(), 1, "{spec}");
    let m = &layout.modes[0];
    assert!(m.mode.is_bare(), "no paging:\n{spec}");
    assert_eq!(m.page_offset, None, "no linear map:\n{spec}");
    assert_eq!(
        (m.image_link, layout.ram.load),
        (first, first),
        "runs where loaded:\n{spec}"
    );
    // ET_EXEC: it runs at its link address, so its .rela.dyn is not part of
    // its layout (as in the bundled qemu-virt-bare that firmware_lint uses).
    assert!(!spec.contains("[image.relocator]"), "{spec}");
    assert!(spec.contains("code_model = \"fixed\""), "{spec}");
    let r = lint(&spec_path, elf_path);
    let (found, infos) = findings::split(&r);
    let want = true_findings(&elf);
    // The files have real defects, so the test is not vacuous.
    assert!(
        want.iter().any(|(c, _)| *c == Lint::SegmentWriteExecute),
        "{}: no RWX PT_LOAD; has the package changed its link?",
        elf_path.display()
    );
    assert_eq!(found, want, "{}:\n{spec}", elf_path.display());
    assert_eq!(infos, true_infos(&elf), "{}", elf_path.display());
}

#[test]
fn opensbi_fw_dynamic_is_described_as_bare_firmware() {
    assert_firmware(&opensbi("fw_dynamic.elf"));
}

#[test]
fn opensbi_fw_jump_is_described_as_bare_firmware() {
    assert_firmware(&opensbi("fw_jump.elf"));
}

#[test]
fn uboot_m_mode_is_described_as_bare_firmware() {
    let path = uboot();
    assert_firmware(&path);
    // Its code, WAX section and writable data share one PT_LOAD, and its
    // writable data starts off the 4 KiB granule: both are reported.
    let elf = Readelf::of(&path);
    let want = true_findings(&elf);
    let placement = want
        .iter()
        .filter(|(c, _)| *c == Lint::SectionPlacement)
        .count();
    assert!(placement >= 2, "{want:?}");
}

/// `init --from-elf` on OpenSBI built from Debian's source with Debian's
/// cross compiler (`scripts/opensbi-source`): upstream's default build is
/// a PIE linked at 0 (FW_PIC), which relocates itself in fw_base.S
/// (`_relocate`: every entry of `.rela.dyn` whose type is R_RISCV_RELATIVE,
/// the others skipped). The derived spec says so (`code_model = "pie"`,
/// `image.relocator.types = ["R_RISCV_RELATIVE"]`), and lint reports what
/// is true of the file: LG017 for each dynamic relocation of another type
/// (readelf -r; in 1.6 the two R_RISCV_64 words of `domain_list`'s static
/// list head, which `sbi_domain_init()` rewrites before use), plus the
/// findings every firmware file gets (`true_findings`, `true_infos`).
fn assert_source_built_opensbi(file: &str) {
    let path = firmware::opensbi_built(file);
    let elf = Readelf::of(&path);
    let (dir, spec) = derive(&path, &[]);
    let spec_path = dir.path().join("derived.toml");
    let layout = layoutgen::load(&spec_path, &Default::default()).unwrap();
    let m = &layout.modes[0];
    assert!(m.mode.is_bare(), "no paging:\n{spec}");
    assert_eq!(m.image_link, image_sections(&elf)[0].addr, "{spec}");
    assert!(spec.contains("code_model = \"pie\""), "{spec}");
    let relocator = layout.image.relocator.as_ref().expect("a relocator");
    assert_eq!(relocator.type_names, ["R_RISCV_RELATIVE"], "{spec}");

    let skipped: Vec<&readelf::Relocation> = elf
        .dynamic_relocations()
        .filter(|r| r.kind != "R_RISCV_RELATIVE" && r.kind != "R_RISCV_NONE")
        .collect();
    assert!(
        !skipped.is_empty(),
        "{}: every dynamic relocation is R_RISCV_RELATIVE; has the build changed?",
        path.display()
    );
    let mut want = true_findings(&elf);
    want.extend(
        skipped
            .iter()
            .map(|r| (Lint::DynamicRelocationType, r.in_section.clone())),
    );
    want.sort();
    let r = lint(&spec_path, &path);
    let (found, infos) = findings::split(&r);
    assert_eq!(found, want, "{}:\n{spec}", path.display());
    assert_eq!(infos, true_infos(&elf), "{}", path.display());
    // Each LG017 is about the word readelf shows, with its type.
    for reloc in &skipped {
        let at = format!("{} at {:#x}", reloc.kind, reloc.offset);
        assert!(
            r.findings
                .iter()
                .any(|f| f.id == Lint::DynamicRelocationType && f.message.contains(&at)),
            "no LG017 says {at}"
        );
    }
}

#[test]
fn opensbi_fw_jump_built_from_debian_source_lints_with_its_true_findings() {
    assert_source_built_opensbi("fw_jump.elf");
}

#[test]
fn opensbi_fw_dynamic_built_from_debian_source_lints_with_its_true_findings() {
    assert_source_built_opensbi("fw_dynamic.elf");
}

/// `init --from-elf ELF ARGS` that must fail: exit 2, nothing written, and
/// the message (returned).
fn refused(elf: &Path, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut argv = vec!["init", "x.toml", "--from-elf", elf.to_str().unwrap()];
    argv.extend_from_slice(args);
    let o = layoutgen_in(&argv, dir.path());
    assert_eq!(o.status.code(), Some(2), "{argv:?}: {}", text(&o.stdout));
    assert!(!dir.path().join("x.toml").exists(), "{argv:?} wrote a file");
    text(&o.stderr)
}

#[test]
fn steering_options_work_with_from_elf() {
    let fw = opensbi("fw_jump.elf");
    let load_at = image_sections(&Readelf::of(&fw))[0].addr;
    let layout_of = |spec: &str| specs::check_text(spec, "derived.toml").unwrap();

    // --shape bare and --modes bare say what the ELF says.
    let (_, plain) = derive(&fw, &[]);
    assert_eq!(derive(&fw, &["--shape", "bare"]).1, plain);
    assert_eq!(derive(&fw, &["--modes", "bare"]).1, plain);

    // --ram-base: RAM starts lower, the image stays where it is linked.
    let (_, spec) = derive(&fw, &["--ram-base", "0x4000_0000"]);
    let l = layout_of(&spec);
    assert_eq!((l.ram.base, l.ram.load), (0x4000_0000, load_at), "{spec}");

    // --load-addr: only the ELF's own load address.
    let own = format!("{load_at:#x}");
    assert_eq!(derive(&fw, &["--load-addr", &own]).1, plain);
    let elsewhere = format!("{:#x}", load_at + (2 << 20));
    let e = refused(&fw, &["--load-addr", &elsewhere]);
    assert!(
        e.contains(&format!("--load-addr {elsewhere} contradicts the ELF")),
        "{e}"
    );
    assert!(e.contains(&format!("its LMA {own}")), "{e}");

    // --shape identity, or paging --modes: paging on, VA = PA, lower half.
    for args in [&["--shape", "identity"][..], &["--modes", "sv39,sv48"]] {
        let (_, spec) = derive(&fw, args);
        let l = layout_of(&spec);
        for m in &l.modes {
            assert!(!m.mode.is_bare(), "{args:?}:\n{spec}");
            assert_eq!(m.image_offset, 0, "{args:?}: VA = PA\n{spec}");
            assert_eq!(m.page_offset, Some(l.ram.base), "{args:?}:\n{spec}");
        }
        assert_eq!(l.modes.len(), args[1].split(',').count().max(1));
    }

    // Contradictions name the option and what the ELF says.
    let e = refused(&fw, &["--shape", "linux"]);
    assert!(e.contains("--shape linux contradicts the ELF"), "{e}");
    assert!(
        e.contains("every PT_LOAD has VA = PA in physical RAM"),
        "{e}"
    );
    let e = refused(&fw, &["--shape", "bare", "--modes", "sv39"]);
    assert!(
        e.contains("--shape bare and --modes sv39 contradict each other"),
        "{e}"
    );
    let e = refused(&fw, &["--ram-base", "0x9000_0000"]);
    assert!(e.contains("--ram-base 0x90000000 is above"), "{e}");
    let e = refused(&fw, &["--ram-size", "1GiB"]);
    assert!(e.contains("cannot be used with"), "{e}");

    // A paging kernel is no bare image.
    let kernel = sample_kernels::riscv(Some("qemu-virt-sv39"), Default::default());
    let e = refused(&kernel, &["--shape", "bare"]);
    assert!(
        e.contains("--shape bare contradicts the ELF: its first PT_LOAD has VA"),
        "{e}"
    );
}

/// The bundled bare layout as a self-relocating PIE linked at 0, loaded at
/// the RAM base (p_paddr), without gp (no gp relaxation in a PIE).
fn bare_pie_layout() -> layoutgen::Layout {
    let text = std::fs::read_to_string(specs::path("qemu-virt-bare")).unwrap();
    let mut text = text;
    for (from, to) in [
        ("code_model = \"fixed\"", "code_model = \"pie\""),
        ("link = \"ram.load\"", "link = \"0x0\""),
        (
            "[gp]\npolicy = \"relax\"\nsection = \".data\"",
            "[gp]\npolicy = \"disabled\"",
        ),
        // Below the test finisher at 1 MiB.
        ("max_size = \"2MiB\"", "max_size = \"512KiB\""),
        (
            "start = \"ram.base\"\nsize = \"2MiB\"",
            "start = \"0x0\"\nsize = \"1MiB\"",
        ),
    ] {
        assert_eq!(text.matches(from).count(), 1, "{from}");
        text = text.replace(from, to);
    }
    specs::check_text(&text, "bare-pie.toml").unwrap_or_else(|d| panic!("{d:?}"))
}

#[test]
fn a_pie_linked_at_0_is_a_self_relocating_bare_image() {
    let l = bare_pie_layout();
    let linked = link_layout(&l, "bare-pie", &LinkOpts::default());
    let elf = Readelf::of(&linked.elf);
    assert!(
        elf.sections.iter().any(|s| s.name == ".rela.dyn"),
        "the PIE has dynamic relocations"
    );
    let (dir, spec) = derive(&linked.elf, &[]);
    let derived = specs::check_text(&spec, "derived.toml").unwrap();
    assert_contains(
        &spec,
        &[
            "modes = [\"bare\"]",
            "code_model = \"pie\"",
            "[image.relocator]\ntypes = [\"R_RISCV_RELATIVE\"]",
            "[gp]\n# A PIE: linkers do not relax to gp in PIE links.\npolicy = \"disabled\"",
        ],
    );
    let m = &derived.modes[0];
    assert_eq!(m.image_link, 0, "{spec}");
    assert_eq!(derived.ram.load, l.ram.load, "loaded where p_paddr says");
    let spec_path = dir.path().join("derived.toml");
    let r = lint(&spec_path, &linked.elf);
    let (found, _) = findings::split(&r);
    assert_eq!(found, vec![], "{spec}");
}
