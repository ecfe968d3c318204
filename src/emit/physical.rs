//! The physical map `layoutgen show` adds for a spec with `[boot.NAME]`
//! (docs/spec.md "[boot.NAME]"): the minimum RAM from `ram.base`, the
//! kernel's room `[ram.load, ram.load + image.max_size)` and each
//! placement, in address order with the free RAM between them. The same
//! rows as a table (human, Markdown, reST), JSON and an SVG column.

use super::table::{short_size, terminal_table};
use crate::layout::Layout;
use serde::Serialize;
use std::fmt::Write;

/// One row of the physical map: a placement, the kernel's room, or free
/// RAM between them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhysRow {
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub start: u64,
    /// One past the last byte (`u128`: a range may end at 2^64).
    #[serde(serialize_with = "crate::json::hex_u128")]
    pub end: u128,
    /// The placement's name, `kernel`, or `free`.
    pub name: String,
    /// `firmware`, `fdt`, `initrd`, `reserved`, `kernel` or `free`.
    pub kind: &'static str,
    /// The spec keys that place it (empty for free RAM).
    pub key: String,
    pub description: String,
}

/// The rows in address order, free RAM filling the gaps up to the end of
/// the minimum RAM. Overlapping ranges (a spec `check` refuses) are listed
/// as they are, the later one starting inside the earlier.
pub fn rows(layout: &Layout) -> Vec<PhysRow> {
    let mut ranges = vec![PhysRow {
        start: layout.ram.load,
        end: layout.ram.load as u128 + layout.image.max_size as u128,
        name: "kernel".into(),
        kind: "kernel",
        key: "ram.load, image.max_size".into(),
        description: "the kernel image at its load address, at most image.max_size".into(),
    }];
    for p in &layout.boot {
        let kind = match p.kind {
            crate::spec::PlacementKind::Firmware => "firmware",
            crate::spec::PlacementKind::Fdt => "fdt",
            crate::spec::PlacementKind::Initrd => "initrd",
            crate::spec::PlacementKind::Reserved => "reserved",
        };
        ranges.push(PhysRow {
            start: p.start,
            end: p.end(),
            name: p.name.clone(),
            kind,
            key: format!("boot.{}", p.name),
            description: p.description.clone(),
        });
    }
    ranges.sort_by_key(|r| (r.start, r.end));
    let ram_end = layout.ram.base as u128 + layout.ram.min_size as u128;
    let mut out = Vec::new();
    let mut cursor = layout.ram.base as u128;
    let free = |start: u128, end: u128| PhysRow {
        start: start as u64,
        end,
        name: "free".into(),
        kind: "free",
        key: String::new(),
        description: String::new(),
    };
    for r in ranges {
        if (r.start as u128) > cursor && cursor < ram_end {
            out.push(free(cursor, (r.start as u128).min(ram_end)));
        }
        cursor = cursor.max(r.end);
        out.push(r);
    }
    if cursor < ram_end {
        out.push(free(cursor, ram_end));
    }
    out
}

/// The heading line: the RAM the map is drawn in.
fn heading(layout: &Layout) -> String {
    format!(
        "{}: physical boot chain in the minimum RAM [{:#x}, {:#x}) ({})",
        layout.name,
        layout.ram.base,
        layout.ram.base as u128 + layout.ram.min_size as u128,
        short_size(layout.ram.min_size as u128)
    )
}

fn what(r: &PhysRow) -> String {
    let mut s = r.name.clone();
    if r.kind != r.name && r.kind != "free" {
        let _ = write!(s, " ({})", r.kind);
    }
    if !r.description.is_empty() {
        let _ = write!(s, " — {}", r.description);
    }
    s
}

/// The terminal table, in the columns of the virtual one.
pub fn render(layout: &Layout) -> String {
    let mut out = heading(layout) + "\n";
    terminal_table(
        &mut out,
        &[
            ("start address", 18),
            ("end address", 18),
            ("size", 9),
            ("spec key", -26),
        ],
        "what",
        rows(layout).iter().map(|r| {
            let cells = vec![
                format!("{:016x}", r.start),
                format!("{:016x}", r.end - 1),
                short_size(r.end - r.start as u128),
                r.key.clone(),
            ];
            (cells, what(r))
        }),
    );
    out
}

/// A Markdown section: the heading and a table.
pub fn render_markdown(layout: &Layout) -> String {
    let mut out = format!("### {}\n\n", heading(layout));
    out.push_str("| start | end | size | spec key | what |\n|---|---|---|---|---|\n");
    for r in rows(layout) {
        let [start, end, size, key] = cells(&r, "`");
        let what = what(&r).replace('|', "\\|");
        let _ = writeln!(out, "| {start} | {end} | {size} | {key} | {what} |");
    }
    out
}

/// A reStructuredText section: the heading and a list table.
pub fn render_rst(layout: &Layout) -> String {
    let title = heading(layout);
    let mut out = format!("{title}\n{}\n\n", "-".repeat(title.chars().count()));
    out.push_str(".. list-table::\n   :header-rows: 1\n\n");
    out.push_str("   * - start\n     - end\n     - size\n     - spec key\n     - what\n");
    for r in rows(layout) {
        let [start, end, size, key] = cells(&r, "``");
        let what = what(&r);
        let _ = writeln!(
            out,
            "   * - {start}\n     - {end}\n     - {size}\n     - {key}\n     - {what}"
        );
    }
    out
}

/// A row's start, end, size and spec key for a markup table, addresses and
/// the key set as code with `code` (Markdown's backtick, rst's two).
fn cells(r: &PhysRow, code: &str) -> [String; 4] {
    [
        format!("{code}{:#x}{code}", r.start),
        format!("{code}{:#x}{code}", r.end),
        short_size(r.end - r.start as u128),
        if r.key.is_empty() {
            String::new()
        } else {
            format!("{code}{}{code}", r.key)
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ram_fills_the_gaps_up_to_the_minimum_ram() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("layouts/linux-riscv64.toml"),
        )
        .unwrap();
        let layout = crate::load(
            crate::Source::Text {
                text: &text,
                name: "linux-riscv64.toml",
            },
            &Default::default(),
        )
        .unwrap();
        let got: Vec<(u64, u128, &str)> = rows(&layout)
            .iter()
            .map(|r| (r.start, r.end, r.kind))
            .collect();
        assert_eq!(
            got,
            [
                (0x8000_0000, 0x8008_0000, "firmware"),
                (0x8008_0000, 0x8020_0000, "free"),
                (0x8020_0000, 0x8420_0000, "kernel"),
                (0x8420_0000, 0x87e0_0000, "free"),
                (0x87e0_0000, 0x87e1_0000, "fdt"),
                (0x87e1_0000, 0x8800_0000, "free"),
            ]
        );
    }
}
