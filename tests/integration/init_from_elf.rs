//! `layoutgen init --from-elf`: the spec derived from a linked kernel passes
//! `layoutgen check`, and `layoutgen lint` of the same kernel against it
//! reports only that kernel's true defects — none for the sample kernels,
//! exactly those `linux_lint` lists for the Linux kernels. Missing kernels
//! fail these tests (they do not skip).

use crate::support::cli::{init_overwrites_only_when_forced, layoutgen_in, text};
use crate::support::elf_tools::Linker;
use crate::support::{linux, sample_kernels};
use std::path::{Path, PathBuf};

/// The sample kernel built for a bundled layout (the build
/// tests/integration/sample_kernel.rs boots).
fn sample_kernel(layout: &str) -> PathBuf {
    sample_kernels::riscv(Some(layout), Linker::Lld)
}

/// `init --from-elf ELF EXTRA` into a fresh directory; asserts it succeeded
/// and that `layoutgen check` accepts the result. Returns (dir, spec text).
pub(crate) fn derive(elf: &Path, extra: &[&str]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let elf_arg = elf.to_str().unwrap();
    let mut argv = vec!["init", "derived.toml", "--from-elf", elf_arg];
    argv.extend_from_slice(extra);
    let o = layoutgen_in(&argv, dir.path());
    assert_eq!(o.status.code(), Some(0), "{argv:?}: {}", text(&o.stderr));
    assert!(text(&o.stdout).starts_with("wrote derived.toml"));
    let check = layoutgen_in(&["check", "derived.toml"], dir.path());
    assert_eq!(
        check.status.code(),
        Some(0),
        "the derived spec fails check:\n{}",
        text(&check.stderr)
    );
    let spec = std::fs::read_to_string(dir.path().join("derived.toml")).unwrap();
    (dir, spec)
}

/// (id, section-or-symbol) of every error and warning `lint --format json`
/// reports for `elf` against the derived spec, sorted.
fn lint_findings(dir: &Path, elf: &Path) -> Vec<(String, String)> {
    let o = layoutgen_in(
        &[
            "lint",
            "--spec",
            "derived.toml",
            "--format",
            "json",
            elf.to_str().unwrap(),
        ],
        dir,
    );
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "lint: {}",
        text(&o.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("lint JSON");
    let mut out = Vec::new();
    for file in doc["files"].as_array().expect("files") {
        for f in file["findings"].as_array().expect("findings") {
            if f["severity"] == "info" {
                continue;
            }
            let subject = f["section"]
                .as_str()
                .or_else(|| f["symbol"].as_str())
                .unwrap_or_default();
            out.push((f["id"].as_str().unwrap().to_string(), subject.to_string()));
        }
    }
    out.sort();
    out
}

fn expected(v: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = v
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    v.sort();
    v
}

/// .init.pi is WAX, so its PT_LOAD (segment 2) is RWX: the true defect.
const INIT_PI: [(&str, &str); 2] = [("LG006", "segment 2"), ("LG008", ".init.pi")];

#[test]
fn sample_kernels_lint_clean_against_their_derived_specs() {
    for layout in [
        "qemu-virt-sv39",
        "qemu-virt-multi",
        "qemu-virt-semipic",
        "qemu-virt-in-linear-map",
    ] {
        let elf = sample_kernel(layout);
        let (dir, spec) = derive(&elf, &[]);
        assert_eq!(
            lint_findings(dir.path(), &elf),
            vec![],
            "{layout}: derived spec:\n{spec}"
        );
        // The generated script's own names are found on the right edges.
        assert!(
            spec.contains("start_symbols = [\"__text_start\"]"),
            "{layout}:\n{spec}"
        );
        assert!(
            spec.contains("end_symbols = [\"__image_end\"]"),
            "{layout}:\n{spec}"
        );
        assert!(spec.contains("stack_size = \"64KiB\""), "{layout}:\n{spec}");
    }
}

/// aarch64 kernels are adopted the way riscv64 ones are: the project's
/// aarch64 sample kernel (and its PIE build) gets an aarch64 spec in va48,
/// without a global pointer, that lints it clean.
#[test]
fn aarch64_kernels_are_adopted_like_riscv64_ones() {
    for key in ["qemu-virt-aarch64", "qemu-virt-aarch64-pie"] {
        let spec_path = if key.ends_with("pie") {
            crate::support::root().join("sample-kernel-aarch64/layouts/qemu-virt-aarch64-pie.toml")
        } else {
            crate::support::specs::path(key)
        };
        let elf = sample_kernels::aarch64(&spec_path, key);
        let (dir, spec) = derive(&elf, &[]);
        assert!(spec.contains("arch = \"aarch64\""), "{key}:\n{spec}");
        assert!(spec.contains("modes = [\"va48\"]"), "{key}:\n{spec}");
        assert!(!spec.contains("[gp]\npolicy = \"relax\""), "{key}:\n{spec}");
        assert_eq!(
            lint_findings(dir.path(), &elf),
            vec![],
            "{key}: derived spec:\n{spec}"
        );
    }
}

#[test]
fn fixed_linux_kernel_lints_with_only_its_true_findings() {
    let elf = linux::kernel_file("fixed", "vmlinux");
    let (dir, _) = derive(&elf, &["--arch-defaults", "linux"]);
    assert_eq!(lint_findings(dir.path(), &elf), expected(&INIT_PI));
}

#[test]
fn relocatable_linux_kernels_lint_with_only_their_true_findings() {
    let elf = linux::kernel_file("reloc", "vmlinux");
    let (dir, spec) = derive(&elf, &["--arch-defaults", "linux"]);
    assert_eq!(lint_findings(dir.path(), &elf), expected(&INIT_PI));
    // Linux's relocatable vmlinux is still linked at KERNEL_LINK_ADDR.
    assert!(spec.contains("code_model = \"fixed\""), "{spec}");

    let elf = linux::kernel_file("reloc", "vmlinux.relocs");
    let (dir, spec) = derive(&elf, &["--arch-defaults", "linux"]);
    let mut want = INIT_PI.to_vec();
    // The one R_RISCV_64 in .rela.dyn, which relocate_kernel() skips.
    want.push(("LG017", ".rela.dyn"));
    assert_eq!(lint_findings(dir.path(), &elf), expected(&want));
    assert!(
        spec.contains("[image.relocator]\ntypes = [\"R_RISCV_RELATIVE\"]"),
        "{spec}"
    );
    assert!(spec.contains("unmoved_below_link = true"), "{spec}");
}

/// The TOML table starting at `[[image.section]]` with `name = "NAME"`.
fn section<'a>(spec: &'a str, name: &str) -> &'a str {
    let at = spec
        .find(&format!("[[image.section]]\nname = \"{name}\"\n"))
        .unwrap_or_else(|| panic!("no section {name} in:\n{spec}"));
    let rest = &spec[at + 1..];
    let end = rest.find("\n[").map(|e| e + 1).unwrap_or(rest.len());
    &spec[at..at + end]
}

#[test]
fn fixed_linux_kernel_inferred_values() {
    let elf = linux::kernel_file("fixed", "vmlinux");
    let (_dir, spec) = derive(&elf, &["--arch-defaults", "linux"]);
    for line in [
        "link = \"kernel.start\"",
        // LOAD_OFFSET: p_paddr starts at 0, the physical address is chosen at boot.
        "lma = \"0x0\"",
        "phys_align = \"2MiB\"",
        "section_align = \"2MiB\"",
        "end_align = \"4KiB\"",
        "stack_size = \"0\"",
        "entry = \"_start\"",
        "code_model = \"fixed\"",
        "[gp]\npolicy = \"relax\"\nsection = \".sdata\"\noffset = \"0x800\"",
        "base = \"0x8000_0000\"",
        "load = \"0x8020_0000\"",
        "[region.kasan]",
    ] {
        assert!(spec.contains(line), "{line}\nin:\n{spec}");
    }
    let image_end = crate::support::line_starting(&spec, "end_symbols");
    assert!(image_end.contains("\"_end\""), "{image_end}");
    let text = section(&spec, ".text");
    assert!(text.contains("\"_stext\""), "{text}");
    assert!(
        text.contains("end_symbols = [") && text.contains("\"_etext\""),
        "{text}"
    );
    let sbss = section(&spec, ".sbss");
    assert!(sbss.contains("start_symbols = [\"__bss_start\"]"), "{sbss}");
    assert!(sbss.contains("nobits = true"), "{sbss}");
    // The true W^X defect is described as rw, with a TODO saying so.
    let pi = section(&spec, ".init.pi");
    assert!(pi.contains("perms = \"rw\""), "{pi}");
    assert!(spec.contains(
        "# TODO(layoutgen init --from-elf): the ELF has .init.pi writable AND executable"
    ));
    // Segments split at the SECTION_ALIGN groups.
    assert!(section(&spec, ".init.text").contains("segment = \"init_text\""));
    assert!(section(&spec, ".exit.text").contains("segment = \"init_text\""));
    assert!(section(&spec, ".alternative").contains("segment = \"init_data\""));
    assert!(section(&spec, ".bss").contains("segment = \"data\""));
}

#[test]
fn plain_defaults_mark_guesses_as_todo() {
    let elf = linux::kernel_file("fixed", "vmlinux");
    let (_dir, spec) = derive(&elf, &[]);
    // LMA 0 is no RAM: the physical alignment and RAM are guesses.
    assert!(
        spec.contains("TODO(layoutgen init --from-elf): the LMA is not RAM"),
        "{spec}"
    );
    assert!(
        spec.contains("TODO(layoutgen init --from-elf): RAM base"),
        "{spec}"
    );
    assert!(
        spec.contains("TODO(layoutgen init --from-elf): the linear map"),
        "{spec}"
    );
    assert!(!spec.contains("[region.kasan]"));
}

#[test]
fn existing_file_is_kept_without_force() {
    let elf = sample_kernel("qemu-virt-sv39");
    let dir = tempfile::tempdir().unwrap();
    let spec = init_overwrites_only_when_forced(
        &["init", "--from-elf", elf.to_str().unwrap()],
        dir.path(),
        "keep me\n",
        "pass --force",
    );
    assert!(
        spec.contains("[[image.section]]\nname = \".text\""),
        "{spec}"
    );
}

#[test]
fn unreadable_or_non_elf_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a kernel\n").unwrap();
    let o = layoutgen_in(&["init", "--from-elf", "notes.txt"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("notes.txt") && err.contains("not an ELF file"),
        "{err}"
    );
    assert!(!dir.path().join("layout.toml").exists());

    let o = layoutgen_in(&["init", "--from-elf", "missing.elf"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("cannot read missing.elf"), "{err}");
    assert!(!dir.path().join("layout.toml").exists());

    // --arch-defaults only means something with --from-elf; --from-elf
    // cannot be mixed with the flag-built spec's options.
    let o = layoutgen_in(&["init", "--arch-defaults", "linux"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    let o = layoutgen_in(
        &["init", "--from-elf", "x", "--from", "qemu-virt-sv39"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2));
}

/// arm64 Linux's true defects, computed from the file (readelf): every RWE
/// PT_LOAD (the idmap code, `.rodata.text`, is linked into the segment of
/// `.rodata`) and every writable section before the last executable one
/// (`.rodata`, writable in the file for `.data..ro_after_init`), which a
/// spec cannot order so and the derived spec describes read-only.
fn arm64_true_findings(elf: &Path) -> Vec<(String, String)> {
    let readelf = crate::support::readelf::Readelf::of(elf);
    let mut image: Vec<_> = readelf.sections.iter().filter(|s| s.alloc()).collect();
    image.sort_by_key(|s| s.addr);
    let last_code = image
        .iter()
        .rposition(|s| s.flags.contains('X'))
        .expect("executable sections");
    let mut want: Vec<(String, String)> = readelf
        .loads
        .iter()
        .filter(|l| l.flags == "RWE")
        .map(|l| ("LG006".to_string(), format!("segment {}", l.index)))
        .chain(
            image[..last_code]
                .iter()
                .filter(|s| s.flags.contains('W'))
                .map(|s| ("LG008".to_string(), s.name.clone())),
        )
        .collect();
    want.sort();
    want
}

/// The arm64 Linux vmlinux of `scripts/linux-kernel arm64` (48-bit VA,
/// built from the same linux-source-6.12 as the riscv64 kernels) gets an
/// aarch64 spec that lints with only its true findings, with Linux's
/// defaults and with plain ones.
#[test]
fn arm64_linux_kernel_lints_with_only_its_true_findings() {
    let elf = linux::kernel_file("arm64", "vmlinux");
    let want = arm64_true_findings(&elf);
    // The defect is there (a test of nothing would pass too).
    assert!(
        want.iter().any(|(id, _)| id == "LG006") && want.iter().any(|(id, _)| id == "LG008"),
        "{want:?}"
    );
    for extra in [&["--arch-defaults", "linux"][..], &[]] {
        let (dir, spec) = derive(&elf, extra);
        assert_eq!(
            lint_findings(dir.path(), &elf),
            want,
            "{extra:?}: derived spec:\n{spec}"
        );
        assert!(spec.contains("arch = \"aarch64\""), "{spec}");
        assert!(spec.contains("modes = [\"va48\"]"), "{spec}");
    }
}

#[test]
fn arm64_linux_kernel_inferred_values() {
    let elf = linux::kernel_file("arm64", "vmlinux");
    let readelf = crate::support::readelf::Readelf::of(&elf);
    let link = readelf
        .sections
        .iter()
        .filter(|s| s.alloc())
        .map(|s| s.addr)
        .min()
        .unwrap();
    let (_dir, spec) = derive(&elf, &["--arch-defaults", "linux"]);
    for line in [
        "link = \"kernel.start\"".to_string(),
        // vmlinux.lds.S has no AT(): p_paddr = p_vaddr, no RAM address.
        format!("lma = \"{}\"", layoutgen::format::grouped_hex(link)),
        "phys_align = \"2MiB\"".into(),
        "code_model = \"fixed\"".into(),
        "entry = \"_text\"".into(),
        "# No __global_pointer$".into(),
        "base = \"0x4000_0000\"".into(),
        "load = \"0x4020_0000\"".into(),
        // Linux's regions, from the bundled linux-arm64 layout.
        "[region.vmemmap]".into(),
        "[region.pci_io]".into(),
    ] {
        assert!(spec.contains(&line), "{line}\nin:\n{spec}");
    }
    assert!(!spec.contains("OpenSBI"), "riscv's words in:\n{spec}");
    // Sections named without a leading dot (6.12's runtime constants)
    // are described by their real names.
    let plain_names: Vec<_> = readelf
        .sections
        .iter()
        .filter(|s| s.alloc() && !s.name.starts_with(['.', '_']))
        .collect();
    assert!(!plain_names.is_empty(), "no runtime_* section any more?");
    for s in plain_names {
        section(&spec, &s.name);
    }
}
