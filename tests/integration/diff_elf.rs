//! `layoutgen diff --spec S --elf OLD NEW` (docs/diff.md): two builds of the
//! test kernel, the second with 4 KiB more code, `buffer` moved into the
//! modules region and its text segment made writable (LG006). Every figure
//! asserted is read from the ELF files here (`object`, `elf_tools`), never
//! pinned, so a toolchain that lays the sections out differently changes
//! the numbers, not the test.

use crate::support::cli::{run as cli, stderr};
use crate::support::elf_tools::{
    InputKind, LinkOpts, Linked, ObjOpts, link, link_layout, loads, make_text_segment_writable,
    set_symbol_value, symbol_value,
};
use crate::support::firmware::opensbi;
use crate::support::specs;
use object::{Object, ObjectSection, SectionFlags};
use serde_json::Value;
use std::path::{Path, PathBuf};

const NAME: &str = "qemu-virt-sv39";
/// `.text`'s budget in the fixture's spec, so its share is shown.
const TEXT_MAX: u64 = 64 << 10;
const GROWN: usize = 4096;

struct Builds {
    _old: Linked,
    _new: Linked,
    dir: tempfile::TempDir,
    spec: PathBuf,
    layout: layoutgen::Layout,
    old: PathBuf,
    new: PathBuf,
}

impl Builds {
    fn s(p: &Path) -> String {
        p.display().to_string()
    }

    /// `diff --spec S --elf A B ARGS`: (exit code, stdout, stderr).
    fn diff(&self, a: &Path, b: &Path, args: &[&str]) -> (i32, String, String) {
        let (spec, a, b) = (Self::s(&self.spec), Self::s(a), Self::s(b));
        let mut all = vec!["diff", "--spec", &spec, "--elf", &a, &b];
        all.extend(args);
        cli(&all)
    }

    fn json(&self, a: &Path, b: &Path) -> (i32, Value) {
        let (code, out, err) = self.diff(a, b, &["--format", "json"]);
        let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
        (code, v)
    }
}

/// The old build, and the new one: more code, `buffer` in `modules`, W+X text.
fn builds() -> Builds {
    let dir = tempfile::tempdir().unwrap();
    let spec = specs::write_edited(
        dir.path(),
        NAME,
        "perms = \"rx\"\ninput = [\".text.entry\", \".text\", \".text.*\"]",
        "perms = \"rx\"\ninput = [\".text.entry\", \".text\", \".text.*\"]\nmax_size = \"64KiB\"",
    );
    let layout = layoutgen::load(&spec, &Default::default()).unwrap();
    let old = link_layout(&layout, NAME, &LinkOpts::default());
    let grown = link_layout(
        &layout,
        NAME,
        &LinkOpts {
            obj: ObjOpts {
                extra_sections: vec![(".text.grown".into(), InputKind::Code, GROWN)],
                ..Default::default()
            },
            ..Default::default()
        },
    );
    let mut bytes = grown.bytes();
    let modules = layout.modes[0].region("modules").unwrap().start;
    set_symbol_value(&mut bytes, "buffer", modules + 0x1000);
    make_text_segment_writable(&mut bytes);
    let new = grown.write_variant("new.elf", &bytes);
    Builds {
        old: old.elf.clone(),
        new,
        _old: old,
        _new: grown,
        dir,
        spec,
        layout,
    }
}

/// (address, size) of section `name`, read with `object`.
fn section(path: &Path, name: &str) -> (u64, u64) {
    let data = std::fs::read(path).unwrap();
    let f = object::File::parse(&*data).unwrap();
    let s = f.section_by_name(name).unwrap();
    (s.address(), s.size())
}

/// The span of the allocated, non-empty sections starting in [start, end).
fn span(path: &Path, start: u64, size: u64) -> (u64, u64) {
    let data = std::fs::read(path).unwrap();
    let f = object::File::parse(&*data).unwrap();
    let (mut lo, mut hi) = (u64::MAX, 0);
    for s in f.sections() {
        let alloc = matches!(s.flags(), SectionFlags::Elf { sh_flags, .. } if sh_flags.0 & 2 != 0);
        if alloc && s.size() > 0 && s.address().wrapping_sub(start) < size {
            lo = lo.min(s.address());
            hi = hi.max(s.address() + s.size());
        }
    }
    (lo, hi - lo)
}

fn hex(v: u64) -> String {
    format!("{v:#x}")
}

fn row<'v>(rows: &'v Value, name: &str) -> &'v Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no row {name} in {rows}"))
}

fn ids(findings: &Value) -> Vec<String> {
    let mut v: Vec<String> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn reports_growth_budgets_moved_symbols_and_new_findings() {
    let b = builds();
    let (code, v) = b.json(&b.old, &b.new);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["schema"], "layoutgen-elf-diff/1");
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["changed"], true);

    // .text: start and sizes as the files say, growth their difference,
    // shares of the 64 KiB budget.
    let (old_text, new_text) = (section(&b.old, ".text"), section(&b.new, ".text"));
    assert!(new_text.1 >= old_text.1 + GROWN as u64);
    let text = row(&v["sections"], ".text");
    assert_eq!(text["key"], "image.section.text");
    assert_eq!(text["old"]["start"], hex(old_text.0));
    assert_eq!(text["old"]["size"], hex(old_text.1));
    assert_eq!(text["new"]["size"], hex(new_text.1));
    assert_eq!(text["growth"], new_text.1 as i64 - old_text.1 as i64);
    assert_eq!(text["budget"]["key"], "image.section.text.max_size");
    assert_eq!(text["budget"]["size"], hex(TEXT_MAX));
    let share = |size: u64| (size as f64 * 100.0 / TEXT_MAX as f64 * 100.0).round() / 100.0;
    assert_eq!(text["share_old"].as_f64().unwrap(), share(old_text.1));
    assert_eq!(text["share_new"].as_f64().unwrap(), share(new_text.1));
    assert_eq!(text["changed"], true);

    // The image: link address to its end symbol, against image.max_size.
    let ml = &b.layout.modes[0];
    let end = &b.layout.image.end_symbols[0];
    for (side, path) in [("old", &b.old), ("new", &b.new)] {
        let data = std::fs::read(path).unwrap();
        let size = symbol_value(&data, end) - ml.image_link;
        assert_eq!(v["image"][side]["start"], hex(ml.image_link));
        assert_eq!(v["image"][side]["size"], hex(size), "{side}");
    }
    assert_eq!(v["image"]["budget"]["key"], "image.max_size");
    assert_eq!(v["image"]["budget"]["size"], hex(b.layout.image.max_size));

    // PT_LOADs, in order, with their permissions (the new text is rwx).
    for (side, path) in [("old", &b.old), ("new", &b.new)] {
        let data = std::fs::read(path).unwrap();
        let segs = v["segments"].as_array().unwrap();
        assert_eq!(segs.len(), loads(&data).len());
        for (r, p) in segs.iter().zip(loads(&data)) {
            assert_eq!(r[side]["start"], hex(p.3));
            assert_eq!(r[side]["size"], hex(p.5));
        }
    }
    assert!(
        v["segments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["old"]["perms"] == "r-x" && s["new"]["perms"] == "rwx"),
        "{:#}",
        v["segments"]
    );

    // The slot: the span of the image's sections, as a share of its size.
    let slot = ml.region("kernel").unwrap();
    let kernel = row(&v["regions"], "kernel");
    for (side, path) in [("old", &b.old), ("new", &b.new)] {
        let (start, size) = span(path, slot.start, slot.size);
        assert_eq!(kernel[side]["start"], hex(start));
        assert_eq!(kernel[side]["size"], hex(size));
    }
    assert_eq!(kernel["budget"]["size"], hex(slot.size));

    // `buffer` went from the slot to `modules`.
    let moved = v["moved_symbols"].as_array().unwrap();
    assert_eq!(moved.len(), 1, "{moved:#?}");
    assert_eq!(moved[0]["name"], "buffer");
    assert_eq!(moved[0]["old_region"], "kernel");
    assert_eq!(moved[0]["new_region"], "modules");
    let data = std::fs::read(&b.new).unwrap();
    assert_eq!(moved[0]["new_address"], hex(symbol_value(&data, "buffer")));

    // New: W+X text (LG006) and `buffer` outside the slot (LG001). The
    // findings both builds have (the relocation audit's figures, which
    // moved with the addresses) are neither new nor fixed.
    assert_eq!(ids(&v["findings"]["new"]), ["LG001", "LG006"]);
    assert_eq!(ids(&v["findings"]["fixed"]), Vec::<String>::new());

    // The other way round they are fixed, and the text shrank.
    let (code, back) = b.json(&b.new, &b.old);
    assert_eq!(code, 1);
    assert_eq!(ids(&back["findings"]["fixed"]), ["LG001", "LG006"]);
    assert_eq!(ids(&back["findings"]["new"]), Vec::<String>::new());
    assert_eq!(
        row(&back["sections"], ".text")["growth"],
        old_text.1 as i64 - new_text.1 as i64
    );
}

#[test]
fn human_and_markdown_lead_with_the_verdict() {
    let b = builds();
    let (code, out, err) = b.diff(&b.old, &b.new, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("section .text: "), "{out}");
    assert!(out.contains("buffer: kernel "), "{out}");
    assert!(out.contains("error[LG006 segment-write-execute]"), "{out}");
    let verdict = out.lines().last().unwrap();
    // The segments start on 2 MiB boundaries, so 4 KiB more code may or
    // may not move the image's end: the verdict says which.
    let end = &b.layout.image.end_symbols[0];
    let end_of = |p: &Path| symbol_value(&std::fs::read(p).unwrap(), end);
    let lead = if end_of(&b.new) > end_of(&b.old) {
        "image +"
    } else {
        "image unchanged ("
    };
    assert!(verdict.starts_with(lead), "{verdict}");
    assert!(verdict.contains("1 section changed"), "{verdict}");
    assert!(verdict.contains("% of image.max_size)"), "{verdict}");
    assert!(verdict.contains("2 new findings"), "{verdict}");
    assert!(verdict.contains("1 symbol changed region"), "{verdict}");

    let (code, md, err) = b.diff(&b.old, &b.new, &["--format", "markdown"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(md.lines().next(), Some(verdict), "{md}");
    assert!(
        md.contains("| | start | size | growth | share of budget |\n|---|---|---|---|---|\n"),
        "{md}"
    );
    let text_row = crate::support::line_starting(&md, "| section .text |");
    let (o, n) = (section(&b.old, ".text").1, section(&b.new, ".text").1);
    let growth = n - o;
    assert!(
        text_row.contains(&format!("| +{} |", human(growth))),
        "{text_row}"
    );
    assert!(md.contains("**New lint findings** (2)"), "{md}");
}

/// The size as the report spells it when exact (the growth here is whole
/// bytes below 10000, or whole KiB).
fn human(v: u64) -> String {
    if v.is_multiple_of(1024) {
        format!("{} KiB", v / 1024)
    } else {
        format!("{v} B")
    }
}

#[test]
fn identical_builds_are_no_change_and_exit_0() {
    let b = builds();
    let (code, out, err) = b.diff(&b.old, &b.old, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.lines().last().unwrap().starts_with("no changes"),
        "{out}"
    );
    let (code, md, _) = b.diff(&b.old, &b.old, &["--format", "markdown"]);
    assert_eq!(code, 0);
    assert!(md.starts_with("no changes"), "{md}");
    assert!(!md.contains("|---"), "{md}");
    let (code, v) = b.json(&b.old, &b.old);
    assert_eq!(code, 0);
    assert_eq!(v["changed"], false);
    assert_eq!(v["moved_symbols"], serde_json::json!([]));
    // A copy of the same file is the same build.
    let copy = b.dir.path().join("copy.elf");
    std::fs::copy(&b.old, &copy).unwrap();
    assert_eq!(b.diff(&b.old, &copy, &[]).0, 0);
}

#[test]
fn inputs_that_are_not_elf_files_of_the_spec_arch_are_exit_2_naming_the_file() {
    let b = builds();
    let text = b.dir.path().join("notes.txt");
    std::fs::write(&text, "not an ELF\n").unwrap();
    let (code, _, err) = b.diff(&b.old, &text, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&Builds::s(&text)), "{err}");
    assert!(err.contains("not an ELF file"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let arm = link("qemu-virt-aarch64", &LinkOpts::default());
    let (code, _, err) = b.diff(&arm.elf, &b.new, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&Builds::s(&arm.elf)), "{err}");
    assert!(
        err.contains("not an ELF of the spec's architecture"),
        "{err}"
    );

    // A mode the spec does not list.
    let (code, _, err) = b.diff(&b.old, &b.new, &["--mode", "sv57"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("does not support sv57"), "{err}");

    let missing = b.dir.path().join("missing.elf");
    let (code, _, err) = b.diff(&b.old, &missing, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&Builds::s(&missing)), "{err}");
}

#[test]
fn elf_needs_spec_and_markdown_needs_elf() {
    let err = stderr(&["diff", "--elf", "a.elf", "b.elf"], 2);
    assert!(err.contains("--spec"), "{err}");
    let err = stderr(
        &[
            "diff",
            "layouts/qemu-virt-sv39.toml",
            "layouts/qemu-virt-sv39.toml",
            "--format",
            "markdown",
        ],
        2,
    );
    assert!(err.contains("--elf"), "{err}");
    // The spec form is unchanged.
    stderr(
        &[
            "diff",
            "layouts/qemu-virt-sv39.toml",
            "layouts/qemu-virt-sv39.toml",
        ],
        0,
    );
}

/// Debian's OpenSBI builds (tests/integration/firmware_lint.rs), built by
/// nobody here: fw_jump against fw_dynamic under the bare spec. Properties
/// only, since a Debian update changes the figures.
#[test]
fn opensbi_firmware_builds_compare_against_the_bare_spec() {
    let (jump, dynamic) = (
        opensbi("fw_jump.elf").display().to_string(),
        opensbi("fw_dynamic.elf").display().to_string(),
    );
    let spec = specs::path("qemu-virt-bare").display().to_string();
    let (code, out, err) = cli(&[
        "diff", "--spec", &spec, "--elf", &jump, &dynamic, "--format", "json",
    ]);
    assert!(code == 0 || code == 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(code == 1, v["changed"] == true);
    let names: Vec<&str> = v["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [".text", ".rodata", ".data", ".bss"]);
    // Both are linked at the RAM base, in the firmware slot.
    let firmware = row(&v["regions"], "firmware");
    assert_eq!(firmware["old"]["start"], "0x80000000");
    assert_eq!(firmware["new"]["start"], "0x80000000");
    for side in ["old", "new"] {
        let (start, size) = section(
            Path::new(if side == "old" { &jump } else { &dynamic }),
            ".text",
        );
        assert_eq!(row(&v["sections"], ".text")[side]["start"], hex(start));
        assert_eq!(row(&v["sections"], ".text")[side]["size"], hex(size));
    }
    // Stripped (.dynsym only): no symbol is in a different region.
    assert_eq!(v["moved_symbols"], serde_json::json!([]));
    // The same file against itself is no change.
    let (code, out, _) = cli(&["diff", "--spec", &spec, "--elf", &jump, &jump]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.lines().last().unwrap().starts_with("no changes"),
        "{out}"
    );
}
