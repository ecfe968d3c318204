//! The specs tests start from: the bundled layouts (`layouts/*.toml`) and
//! `BASE`, the one small sound spec that tests change a line at a time.
//! Variants are derived from these with `edit`, never retyped, so a change
//! to the spec language is made here once.

use super::root;
use layoutgen::Layout;
use std::path::{Path, PathBuf};

/// `layouts/NAME.toml`.
pub fn path(name: &str) -> PathBuf {
    root().join("layouts").join(format!("{name}.toml"))
}

/// The text of `layouts/NAME.toml`.
pub fn text(name: &str) -> String {
    std::fs::read_to_string(path(name)).unwrap_or_else(|e| panic!("layouts/{name}.toml: {e}"))
}

/// `layouts/NAME.toml`, checked.
pub fn layout(name: &str) -> Layout {
    layoutgen::load(&path(name), &Default::default()).expect("bundled layout is sound")
}

/// `text` written to `DIR/spec.toml`; its path.
pub fn write(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("spec.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `layouts/NAME.toml` with `from` replaced by `to` (see [`edit`]),
/// written to `DIR/spec.toml`; its path.
#[track_caller]
pub fn write_edited(dir: &Path, name: &str, from: &str, to: &str) -> PathBuf {
    write(dir, &edit(&text(name), from, to))
}

/// Every bundled layout's spec file, sorted.
pub fn bundled() -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(root().join("layouts"))
        .expect("layouts/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    specs.sort();
    specs
}

/// A sound spec (`tests/data/accepted/base.toml`, also a spec case): Sv39, a fixed image at
/// -2 GiB with gp relaxed, modules below it, a linear map and vmalloc. Every
/// test that needs "a spec" changes one thing in it.
pub const BASE: &str = include_str!("../../data/accepted/base.toml");

/// `BASE`'s `[[image.section]]` tables (text, read-only data, data, bss):
/// the line break before the first of them up to the blank line before
/// `[gp]`, so that replacing them keeps the text around them as it is.
pub fn sections() -> &'static str {
    let start = BASE.find("\n[[image.section]]").expect("BASE has sections");
    let end = start
        + BASE[start..]
            .find("\n\n[gp]")
            .expect("BASE has [gp] after its sections");
    &BASE[start..=end]
}

/// `text` with `from` replaced by `to`; `from` must occur exactly once, so
/// an edit cannot silently miss or hit twice.
#[track_caller]
pub fn edit(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "`{from}` must occur once in the spec"
    );
    text.replace(from, to)
}

/// `edit` for each `(from, to)` in turn.
#[track_caller]
pub fn edits(text: &str, changes: &[(&str, &str)]) -> String {
    changes
        .iter()
        .fold(text.to_string(), |t, (from, to)| edit(&t, from, to))
}

/// The table `[HEADER]` of `text` up to the blank line that ends it
/// (inclusive), e.g. `table(BASE, "region.modules")`.
#[track_caller]
pub fn table<'a>(text: &'a str, header: &str) -> &'a str {
    let head = format!("[{header}]\n");
    let start = text
        .find(&head)
        .unwrap_or_else(|| panic!("no [{header}] in the spec"));
    let end = text[start..]
        .find("\n\n")
        .map_or(text.len(), |e| start + e + 1);
    &text[start..end]
}

/// Spec text through the library's one entry (parse, resolve, check):
/// the layout, or every diagnostic. `name` stands for the file.
pub fn check_text(text: &str, name: &str) -> Result<Layout, Vec<layoutgen::Diagnostic>> {
    let source = layoutgen::Source::Text { text, name };
    layoutgen::load(source, &Default::default()).map_err(|e| match e {
        layoutgen::Error::Spec(report) => report.diagnostics,
        other => panic!("spec text needs no I/O: {other}"),
    })
}

/// Spec text that must check: its layout, else a panic listing the
/// diagnostics.
#[track_caller]
pub fn checked(text: &str) -> Layout {
    check_text(text, "spec.toml").unwrap_or_else(|d| panic!("{d:#?}"))
}

/// 1-based line of a byte offset in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}
