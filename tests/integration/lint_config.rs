//! Per-check lint levels (`[lint]` in the spec, `--allow/--warn/--deny` on
//! the command line) and the wording of findings met on real kernels:
//! W+X sections named, relocation sections worded by file type, symbols
//! whose st_shndx points at a non-allocated section, and the facts line.

use crate::support::cli::run as cli;
use crate::support::elf_tools::*;
use crate::support::findings::{assert_says, message_of};
use crate::support::specs;
use layoutgen::lint::{Finding, Lint, LintReport};
use std::path::{Path, PathBuf};

const SPEC: &str = "qemu-virt-sv39";
const REASON: &str = "Linux 6.12 puts .init.pi code in the RW init segment";

/// The bundled spec with `extra` appended, written next to the fixture.
/// Returns its path and the 1-based line where `extra` starts.
fn spec_with(k: &Linked, file: &str, extra: &str) -> (PathBuf, usize) {
    let base = specs::text(SPEC);
    let first_line = base.lines().count() + 2;
    let p = k.dir.path().join(file);
    std::fs::write(&p, format!("{base}\n{extra}")).unwrap();
    (p, first_line)
}

/// A fixture whose text segment is also writable: LG006, an error.
fn wx(k: &Linked) -> PathBuf {
    let mut d = k.bytes();
    make_text_segment_writable(&mut d);
    k.write_variant("wx.elf", &d)
}

/// The fixture made W+X (LG006, an error) and the bundled spec with
/// `extra` appended, written as `file`: the fixture, and the paths of the
/// W+X file and the spec.
fn wx_with(file: &str, extra: &str) -> (Linked, String, String) {
    let k = link(SPEC, &LinkOpts::default());
    let elf = s(&wx(&k));
    let (spec, _) = spec_with(&k, file, extra);
    (k, elf, s(&spec))
}

/// The `[lint.LG006]` table that allows LG006 for [`REASON`].
fn allow_lg006() -> String {
    format!("[lint.LG006]\nlevel = \"allow\"\nreason = \"{REASON}\"\n")
}

/// A fixture missing a boundary symbol: LG010, a warning.
fn warn_fixture(k: &Linked) -> PathBuf {
    let mut d = k.bytes();
    replace_in_section(&mut d, ".strtab", b"__stack_top\0", b"__stack_toq\0");
    k.write_variant("warn.elf", &d)
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn json(args: &[&str]) -> (i32, serde_json::Value) {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    let (code, out, err) = cli(&a);
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}")),
    )
}

fn findings_of<'a>(v: &'a serde_json::Value, id: &str) -> Vec<&'a serde_json::Value> {
    v["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == id)
        .collect()
}

// ---- levels from the spec ---------------------------------------------------

#[test]
fn allowed_in_the_spec_exits_0_and_is_still_reported() {
    let (_k, elf, spec) = wx_with("allow.toml", &allow_lg006());
    // Without the table it fails.
    let (code, _, _) = cli(&["lint", "--spec", &s(&specs::path(SPEC)), &elf]);
    assert_eq!(code, 1);

    let (code, out, _) = cli(&["lint", "--spec", &spec, &elf]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("error[LG006"), "{out}");
    let summary = format!("0 errors, 0 warnings, 1 info, 1 allowed (LG006: {REASON})");
    assert!(out.contains(&summary), "{out}");
    assert!(out.contains("1 allowed: clean"), "{out}");

    let (code, v) = json(&["lint", "--spec", &spec, &elf]);
    assert_eq!(code, 0);
    let f = findings_of(&v, "LG006");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["severity"], "error");
    assert_eq!(f[0]["suppressed"]["level"], "allow");
    assert_eq!(f[0]["suppressed"]["reason"], REASON);
    assert_eq!(f[0]["suppressed"]["source"], "spec");
    assert_eq!(v["files"][0]["counts"]["suppressed"], 1);
    assert_eq!(v["files"][0]["counts"]["errors"], 0);
    assert_eq!(v["files"][0]["ok"], true);
    assert_eq!(v["summary"]["counts"]["suppressed"], 1);
    assert_eq!(v["lint_config"][0]["id"], "LG006");
    assert_eq!(v["lint_config"][0]["level"], "allow");
    // Findings of other checks are not suppressed.
    for f in findings_of(&v, "LG016") {
        assert!(f["suppressed"].is_null(), "{f}");
    }

    let (code, out, _) = cli(&["lint", "--spec", &spec, "--format", "sarif", &elf]);
    assert_eq!(code, 0);
    let sarif: serde_json::Value = serde_json::from_str(&out).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let r = results.iter().find(|r| r["ruleId"] == "LG006").unwrap();
    assert_eq!(r["suppressions"][0]["kind"], "external");
    assert_eq!(r["suppressions"][0]["justification"], REASON);
    let other = results.iter().find(|r| r["ruleId"] == "LG016").unwrap();
    assert!(other.get("suppressions").is_none(), "{other}");

    // GitHub annotations leave suppressed findings out.
    let (_, out, _) = cli(&["lint", "--spec", &spec, "--format", "github", &elf]);
    assert!(!out.contains("LG006"), "{out}");
}

#[test]
fn warn_turns_an_error_into_a_warning() {
    let (_k, elf, spec) = wx_with(
        "warn.toml",
        &format!("[lint]\nsegment-write-execute = {{ level = \"warn\", reason = \"{REASON}\" }}\n"),
    );
    let (code, out, _) = cli(&["lint", "--spec", &spec, &elf]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("warning[LG006 segment-write-execute]"),
        "{out}"
    );
    assert!(out.contains("0 errors, 1 warning"), "{out}");
    let (code, out, _) = cli(&["lint", "--spec", &spec, "--deny", "warnings", &elf]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("failed (warnings denied)"), "{out}");

    let (_, out, _) = cli(&["lint", "--spec", &spec, "--format", "sarif", &elf]);
    let sarif: serde_json::Value = serde_json::from_str(&out).unwrap();
    let run = &sarif["runs"][0];
    let r = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "LG006")
        .unwrap();
    assert_eq!(r["level"], "warning");
    let o = &run["invocations"][0]["ruleConfigurationOverrides"][0];
    assert_eq!(o["descriptor"]["id"], "LG006");
    assert_eq!(o["configuration"]["level"], "warning");
}

#[test]
fn deny_turns_a_warning_into_an_error() {
    let k = link(SPEC, &LinkOpts::default());
    let elf = warn_fixture(&k);
    let (code, _, _) = cli(&["lint", "--spec", &s(&specs::path(SPEC)), &s(&elf)]);
    assert_eq!(code, 0);
    let (spec, _) = spec_with(
        &k,
        "deny.toml",
        "[lint.boundary-symbol-missing]\nlevel = \"deny\"\nreason = \"our kernel is always linked with the generated script\"\n",
    );
    let (code, out, _) = cli(&["lint", "--spec", &s(&spec), &s(&elf)]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error[LG010 boundary-symbol-missing]"),
        "{out}"
    );
    // The library applies the spec's levels too.
    let layout = layoutgen::load(&spec, &Default::default()).unwrap();
    let r: LintReport = layoutgen::lint::run(&layout, &elf, &Default::default()).unwrap();
    assert_eq!(r.exit_code(false), 1);
}

#[test]
fn command_line_overrides_the_spec() {
    let (k, elf, allow) = wx_with("allow.toml", &allow_lg006());
    let (code, out, _) = cli(&["lint", "--spec", &allow, "--deny", "LG006", &elf]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error[LG006"), "{out}");
    let (code, out, _) = cli(&["lint", "--spec", &allow, "--warn", "LG006", &elf]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("warning[LG006"), "{out}");

    // Allowed on the command line (by name), over the bundled spec.
    let (code, v) = json(&[
        "lint",
        "--spec",
        &s(&specs::path(SPEC)),
        "--allow",
        "segment-write-execute",
        &elf,
    ]);
    assert_eq!(code, 0);
    let f = findings_of(&v, "LG006");
    assert_eq!(f[0]["suppressed"]["source"], "command line");
    assert!(
        f[0]["suppressed"]["reason"]
            .as_str()
            .unwrap()
            .contains("--allow LG006"),
        "{}",
        f[0]
    );
    // Info checks can be denied too.
    let clean = k.elf.clone();
    let (code, _, _) = cli(&["lint", "--spec", &s(&specs::path(SPEC)), &s(&clean)]);
    assert_eq!(code, 0);
    let (code, out, _) = cli(&[
        "lint",
        "--spec",
        &s(&specs::path(SPEC)),
        "--deny",
        "relocation-audit",
        &s(&clean),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error[LG016"), "{out}");

    // Bad command-line levels are usage errors.
    let (code, _, err) = cli(&["lint", "--spec", &allow, "--allow", "LG999", &elf]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown lint check `LG999`"), "{err}");
    let (code, _, err) = cli(&[
        "lint", "--spec", &allow, "--allow", "LG006", "--deny", "LG006", &elf,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("both --allow and --deny"), "{err}");
}

// ---- spec errors -------------------------------------------------------------

/// Lints the clean fixture with `extra` in the spec: exit 2, and stderr
/// names the key and the line.
fn spec_error(extra: &str, key: &str, line_offset: usize, what: &str) {
    let k = link(SPEC, &LinkOpts::default());
    let (spec, first) = spec_with(&k, "bad.toml", extra);
    let (code, out, err) = cli(&["lint", "--spec", &s(&spec), &s(&k.elf)]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("lint-config"), "{err}");
    assert!(err.contains(&format!("`{key}`")), "{err}");
    assert!(err.contains(what), "{err}");
    let line = first + line_offset;
    assert!(
        err.contains(&format!("bad.toml:{line}:")),
        "expected line {line}:\n{err}"
    );
    // `layoutgen check` reports the same spec error.
    let (code, _, err) = cli(&["check", &s(&spec)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("`{key}`")), "{err}");
}

#[test]
fn unknown_check_in_the_spec_is_an_error_at_its_key() {
    spec_error(
        "[lint]\nLG999 = { level = \"allow\", reason = \"x\" }\n",
        "lint.LG999",
        1,
        "unknown lint check",
    );
}

#[test]
fn missing_or_empty_reason_is_an_error_at_its_key() {
    spec_error(
        "[lint.LG006]\nlevel = \"allow\"\n",
        "lint.LG006",
        0,
        "has no `reason`",
    );
    spec_error(
        "[lint]\nLG021 = { level = \"allow\", reason = \"  \" }\n",
        "lint.LG021.reason",
        1,
        "is empty",
    );
}

#[test]
fn bad_level_is_an_error_at_its_key() {
    spec_error(
        "[lint.LG006]\nreason = \"x\"\nlevel = \"error\"\n",
        "lint.LG006.level",
        2,
        "unknown level \"error\"",
    );
}

#[test]
fn a_check_configured_twice_is_an_error() {
    spec_error(
        "[lint]\nLG006 = { level = \"allow\", reason = \"x\" }\nsegment-write-execute = { level = \"warn\", reason = \"y\" }\n",
        "lint.segment-write-execute",
        2,
        "already configured",
    );
}

/// Lints `d` (written as `file` next to the fixture) and returns the
/// symbol-outside-slot finding for `buffer`.
fn buffer_finding(k: &Linked, layout: &layoutgen::Layout, d: &[u8], file: &str) -> Finding {
    let p = k.write_variant(file, d);
    let r = layoutgen::lint::run(layout, &p, &Default::default()).unwrap();
    r.by_check(Lint::SymbolOutsideSlot)
        .find(|f| f.symbol.as_deref() == Some("buffer"))
        .expect("buffer reported")
        .clone()
}

// ---- wording -----------------------------------------------------------------

#[test]
fn write_execute_names_the_sections_responsible() {
    let k = link(SPEC, &LinkOpts::default());
    let mut d = k.bytes();
    // The text segment made writable and stretched over the data sections:
    // .text is then executable inside a writable segment with .data/.bss.
    let text = make_text_segment_writable(&mut d);
    let last_end = loads(&d).iter().map(|p| p.3 + p.5).max().unwrap();
    le64(&mut d, text.0 + 40, last_end - text.3);
    let p = k.write_variant("wx-all.elf", &d);
    let layout = specs::layout(SPEC);
    let r = layoutgen::lint::run(&layout, &p, &Default::default()).unwrap();
    let m = message_of(&r, Lint::SegmentWriteExecute);
    assert!(m.contains("is RWX"), "{m}");
    let cause = ".text is executable (AX) inside a writable segment with";
    assert!(m.contains(cause), "{m}");
    assert!(m.contains(".data"), "{m}");
    assert!(m.contains(".bss"), "{m}");
    // Read-only data is neither cause.
    assert!(!m.contains(".rodata"), "{m}");

    // Only the flag: the section is named and the segment blamed.
    let r = layoutgen::lint::run(&layout, &wx(&k), &Default::default()).unwrap();
    let m = message_of(&r, Lint::SegmentWriteExecute);
    let blamed = ".text is executable (AX) inside a segment marked writable";
    assert!(m.contains(blamed), "{m}");
}

#[test]
fn object_relocations_are_not_called_emit_relocs() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("module.ko");
    std::fs::write(&p, object(&ObjOpts::default())).unwrap();
    let layout = specs::layout("qemu-virt-semipic");
    let r = layoutgen::lint::run(&layout, &p, &Default::default()).unwrap();
    let a = message_of(&r, Lint::RelocationAudit);
    assert!(!a.contains("--emit-relocs"), "{a}");
    assert!(
        a.contains("relocation section(s) of the object file"),
        "{a}"
    );

    // A linked image's static relocations do come from --emit-relocs.
    let k = link(SPEC, &LinkOpts::default());
    let layout = specs::layout(SPEC);
    let r = layoutgen::lint::run(&layout, &k.elf, &Default::default()).unwrap();
    let a = message_of(&r, Lint::RelocationAudit);
    assert!(a.contains("--emit-relocs section(s)"), "{a}");
}

/// The SPEC fixture and what the st_shndx tests patch in it: `buffer` (a
/// .bss symbol) pointed at another section, .bss moved into the slot
/// below the image.
struct ShndxFixture {
    k: Linked,
    layout: layoutgen::Layout,
    slot_start: u64,
    d0: Vec<u8>,
}

impl ShndxFixture {
    fn new() -> ShndxFixture {
        let k = link(SPEC, &LinkOpts::default());
        let layout = specs::layout(SPEC);
        let slot_start = layout.modes[0].region(&layout.image.slot).unwrap().start;
        let d0 = k.bytes();
        ShndxFixture {
            k,
            layout,
            slot_start,
            d0,
        }
    }

    /// Index of the first section header `is` accepts the name of.
    fn index(&self, is: impl Fn(&str) -> bool) -> u16 {
        shdrs(&self.d0).iter().position(|s| is(&s.1)).unwrap() as u16
    }

    /// (header offset, size) of .bss.
    fn bss(&self) -> (usize, u64) {
        let bss = shdrs(&self.d0).into_iter().find(|s| s.1 == ".bss").unwrap();
        (bss.0, bss.4)
    }

    /// The fixture with .bss moved to the slot's start (`move_bss`) and
    /// `buffer`'s st_shndx set to `shndx` (unless None) and its value to
    /// `value`.
    fn patched(&self, move_bss: bool, shndx: Option<u16>, value: u64) -> Vec<u8> {
        let mut d = self.d0.clone();
        if let Some(shndx) = shndx {
            set_symbol_shndx(&mut d, "buffer", shndx);
        }
        if move_bss {
            le64(&mut d, self.bss().0 + 16, self.slot_start);
        }
        set_symbol_value(&mut d, "buffer", value);
        d
    }

    /// The symbol-outside-slot finding for `buffer` in `d`, written as `file`.
    fn finding(&self, d: &[u8], file: &str) -> Finding {
        buffer_finding(&self.k, &self.layout, d, file)
    }

    /// `buffer`'s st_shndx patched to the section `shndx` (named `wrong`)
    /// while its address is in .bss, moved into the slot below the image
    /// (written as `file`): the finding names .bss, the section that
    /// contains the address, and not `wrong`.
    #[track_caller]
    fn assert_named_by_its_address(&self, shndx: u16, wrong: &str, file: &str) {
        let f = self.finding(&self.patched(true, Some(shndx), self.slot_start), file);
        assert_eq!(f.section.as_deref(), Some(".bss"), "{}", f.message);
        assert_says(&f, "(section .bss)");
        assert!(!f.message.contains(wrong), "{}", f.message);
    }
}

#[test]
fn symbol_pointing_at_a_non_allocated_section_is_reported_where_it_is() {
    let fx = ShndxFixture::new();
    let nonalloc = fx.index(|s| s == ".shstrtab" || s == ".strtab");
    let start = fx.slot_start;

    // `buffer` (in .bss) patched to point at a non-allocated section.
    fx.assert_named_by_its_address(nonalloc, "strtab", "shndx.elf");

    // At an address no allocated section holds: "no section".
    let d = fx.patched(false, Some(nonalloc), start + 0x100);
    let f = fx.finding(&d, "shndx-none.elf");
    assert_eq!(f.section, None);
    assert_says(&f, "(no section)");

    // An offset into the non-allocated section (not an address) is skipped.
    let d = fx.patched(false, Some(nonalloc), 0x10);
    let p = fx.k.write_variant("shndx-offset.elf", &d);
    let r = layoutgen::lint::run(&fx.layout, &p, &Default::default()).unwrap();
    assert_eq!(r.counts.errors, 0, "{:?}", r.findings);
}

#[test]
fn symbol_pointing_at_an_allocated_section_that_does_not_hold_it_is_reported_where_it_is() {
    // Debian's OpenSBI 1.1 (`firmware_lint`): .dynstr is allocated
    // (flags A) and .dynsym entries of .data objects have st_shndx = .dynstr.
    let fx = ShndxFixture::new();
    let text = fx.index(|s| s == ".text");
    let start = fx.slot_start;

    // `buffer` patched to point at .text while its address is in .bss.
    fx.assert_named_by_its_address(text, ".text", "shndx-alloc.elf");

    // At an address no allocated section holds, the ELF's own attribution
    // (st_shndx) is all there is: .text.
    let d = fx.patched(false, Some(text), start + 0x100);
    let f = fx.finding(&d, "shndx-alloc-none.elf");
    assert_eq!(f.section.as_deref(), Some(".text"), "{}", f.message);

    // Negative: a symbol whose own section holds it keeps that section,
    // and so does one at its section's end (an end marker).
    let mut d = fx.patched(true, None, start);
    let entry = symbol_entry(&d, "buffer");
    let bss_index = fx.index(|s| s == ".bss");
    assert_eq!(u16::from_le_bytes([d[entry + 6], d[entry + 7]]), bss_index);
    let f = fx.finding(&d, "shndx-own.elf");
    assert_eq!(f.section.as_deref(), Some(".bss"), "{}", f.message);
    set_symbol_value(&mut d, "buffer", start + fx.bss().1);
    let f = fx.finding(&d, "shndx-end.elf");
    assert_eq!(f.section.as_deref(), Some(".bss"), "{}", f.message);
}

#[test]
fn human_summary_states_the_facts() {
    let k = link(SPEC, &LinkOpts::default());
    let spec = s(&specs::path(SPEC));
    let (code, out, _) = cli(&["lint", "--spec", &spec, &s(&k.elf)]);
    assert_eq!(code, 0, "{out}");
    let facts = out
        .lines()
        .find(|l| l.trim_start().starts_with("checked: "))
        .unwrap_or_else(|| panic!("no facts line:\n{out}"));
    assert!(
        facts.contains("symbols checked, all inside `kernel`"),
        "{facts}"
    );
    assert!(facts.contains("PT_LOAD segments, none W+X"), "{facts}");
    assert!(facts.contains("static and"), "{facts}");
    assert_eq!(
        out.lines()
            .filter(|l| l.trim_start().starts_with("checked: "))
            .count(),
        1
    );

    // The same line states what failed.
    let (_, out, _) = cli(&["lint", "--spec", &spec, &s(&wx(&k))]);
    assert!(out.contains(", 1 W+X"), "{out}");
    let mut d = k.bytes();
    set_symbol_value(&mut d, "buffer", 0x1000);
    let bad = k.write_variant("bad.elf", &d);
    let (_, out, _) = cli(&["lint", "--spec", &spec, &s(&bad)]);
    assert!(out.contains(", 1 outside `kernel`"), "{out}");
    assert!(!out.contains("all inside"), "{out}");
}
