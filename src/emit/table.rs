//! The memory map as a text table, in the columns of Linux's
//! `Documentation/arch/riscv/vm-layout.rst`: start, offset, end, size, area.

use crate::format::human_size;
use crate::layout::pagetable::Cost;
use crate::layout::{Layout, ModeLayout};
use crate::units::TOP_U128;

use std::fmt::Write;

/// A row: a region or an unused hole between regions.
pub(crate) struct Row {
    pub(crate) start: u64,
    pub(crate) last: u64,
    pub(crate) size: u128,
    pub(crate) name: String,
    /// The region's name, or `None` for an unused hole.
    pub(crate) region: Option<String>,
    pub(crate) description: String,
}

pub(crate) fn rows(mode: &ModeLayout) -> Vec<Row> {
    let mut rows = Vec::new();
    // Holes are shown inside the kernel half, as vm-layout.rst does.
    let mut cursor: u128 = mode.kernel_half as u128;
    for r in &mode.regions {
        if r.start as u128 >= mode.kernel_half as u128 && (r.start as u128) > cursor {
            rows.push(Row {
                start: cursor as u64,
                last: (r.start as u128 - 1) as u64,
                size: r.start as u128 - cursor,
                name: "unused hole".into(),
                region: None,
                description: String::new(),
            });
        }
        let name = if r.description.is_empty() {
            r.name.clone()
        } else {
            format!("{} — {}", r.name, r.description)
        };
        rows.push(Row {
            start: r.start,
            last: r.last,
            size: r.size as u128,
            name,
            region: Some(r.name.clone()),
            description: r.description.clone(),
        });
        cursor = cursor.max(r.end());
    }
    // Without paging there is no kernel half to show holes in.
    if cursor < TOP_U128 && !mode.mode.is_bare() {
        rows.push(Row {
            start: cursor as u64,
            last: u64::MAX,
            size: TOP_U128 - cursor,
            name: "unused hole".into(),
            region: None,
            description: String::new(),
        });
    }
    rows
}

/// Offset from 0 in the style of vm-layout.rst: negative below 2^64.
pub(crate) fn offset(start: u64) -> String {
    let (neg, mag) = if start >= 1 << 63 {
        (true, (TOP_U128 - start as u128) as u64)
    } else {
        (false, start)
    };
    let text = short_size(mag as u128);
    if neg && mag != 0 {
        format!("-{text}")
    } else {
        text
    }
}

/// A size in the largest unit that keeps it at least 1, with one rounded
/// decimal when it is not whole (vm-layout.rst writes e.g. "-114.5 TB"). Like
/// vm-layout.rst, "GB" here means 2^30 bytes.
pub(crate) fn short_size(v: u128) -> String {
    for (unit, shift) in [
        ("EB", 60),
        ("PB", 50),
        ("TB", 40),
        ("GB", 30),
        ("MB", 20),
        ("KB", 10),
    ] {
        if v >= 1 << shift {
            if v.is_multiple_of(1 << shift) {
                return format!("{} {unit}", v >> shift);
            }
            // Round to the nearest tenth, as vm-layout.rst does ("16.5 TB").
            let tenths = (v * 10 + (1 << (shift - 1))) >> shift;
            return match tenths % 10 {
                0 => format!("{} {unit}", tenths / 10),
                t => format!("{}.{t} {unit}", tenths / 10),
            };
        }
    }
    format!("{v} B")
}

/// A terminal table in the layout of Linux's boot-time one: a header line,
/// a rule, then each row's cells aligned to their column's width (right,
/// or left where a width is negative) and its last, free-width column, all
/// separated by ` | `.
pub(crate) fn terminal_table(
    out: &mut String,
    columns: &[(&str, isize)],
    last: &str,
    rows: impl Iterator<Item = (Vec<String>, String)>,
) {
    let line = |out: &mut String, cells: &[&str], last: &str| {
        for (cell, &(_, width)) in cells.iter().zip(columns) {
            let w = width.unsigned_abs();
            let _ = if width < 0 {
                write!(out, "{cell:<w$} | ")
            } else {
                write!(out, "{cell:>w$} | ")
            };
        }
        let _ = writeln!(out, "{last}");
    };
    let header: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    line(out, &header, last);
    let _ = writeln!(out, "{}", "-".repeat(96));
    for (cells, last) in rows {
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        line(out, &cells, &last);
    }
}

pub fn render(layout: &Layout, mode: &ModeLayout) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}), {}",
        layout.name,
        mode.mode,
        mode_summary(mode, " ", &|s| s)
    );
    terminal_table(
        &mut out,
        &[
            ("start address", 18),
            ("offset", 11),
            ("end address", 18),
            ("size", 9),
        ],
        "VM area description",
        rows(mode).iter().map(|row| {
            let cells = vec![
                format!("{:016x}", row.start),
                offset(row.start),
                format!("{:016x}", row.last),
                short_size(row.size),
            ];
            (cells, row.name.to_string())
        }),
    );
    // Only the slot name is quoted in the terminal.
    let slot = format!("`{}`", layout.image.slot);
    let plain = |s: String| {
        if s == layout.image.slot {
            slot.clone()
        } else {
            s
        }
    };
    for line in image_lines(layout, mode, &plain) {
        let _ = writeln!(out, "{line}");
    }
    out
}

pub fn render_cost(cost: &Cost) -> String {
    let leaves: Vec<String> = cost
        .leaves
        .iter()
        .map(|(size, n)| format!("{} × {}", n, human_size(*size as u128)))
        .collect();
    format!(
        "page tables for {} of RAM: pt_pages={} leaves: {}\n",
        human_size(cost.ram_size as u128),
        cost.pt_pages,
        leaves.join(", ")
    )
}

/// The image and KASLR lines under a table; `code` formats addresses and
/// names (plain for the terminal, code spans for Markdown and RST).
fn image_lines(layout: &Layout, mode: &ModeLayout, code: &dyn Fn(String) -> String) -> Vec<String> {
    let mut lines = vec![format!(
        "image: linked at {} in {} (VA-PA offset {}), loaded at {}, at most {}",
        code(format!("{:#x}", mode.image_link)),
        code(layout.image.slot.clone()),
        code(format!("{:#x}", mode.image_offset)),
        code(format!("{:#x}", layout.ram.load)),
        human_size(layout.image.max_size as u128)
    )];
    if let Some(pa) = layout.image.phys_align {
        lines.push(format!(
            "load: physical address chosen at boot, {}-aligned (ELF load address of the first byte {})",
            human_size(pa as u128),
            code(format!("{:#x}", layout.image.lma))
        ));
    }
    if let Some(end) = layout.image.linked_end {
        lines.push(format!(
            "linked image: ends at {} (page-aligned): {} of {}",
            code(format!("{end:#x}")),
            human_size(end.wrapping_sub(mode.image_link) as u128),
            human_size(layout.image.max_size as u128)
        ));
    }
    lines.push(crate::layout::conversions::summary(layout));
    if let Some(k) = &mode.kaslr {
        lines.push(format!(
            "kaslr: [{}, {}) in {} steps: {} positions",
            code(format!("{:#x}", k.start)),
            code(format!("{:#x}", k.end)),
            human_size(k.granule as u128),
            k.slots
        ));
    }
    lines
}

/// Markdown: `\`, `|`, `*`, `_`, `<`, `` ` `` and `[` escaped, so spec text
/// cannot break the table or start markup.
fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '|' | '*' | '_' | '<' | '>' | '`' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The memory map of one mode as a GitHub-flavoured Markdown section: a
/// heading, a table in the columns of `vm-layout.rst`, and the image line.
pub fn render_markdown(layout: &Layout, mode: &ModeLayout) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### {} ({})\n", md_escape(&layout.name), mode.mode);
    let _ = writeln!(
        out,
        "{}.\n",
        mode_summary(mode, " = ", &|s| format!("`{s}`"))
    );
    let _ = writeln!(
        out,
        "| start address | offset | end address | size | VM area description |"
    );
    let _ = writeln!(out, "|--:|--:|--:|--:|:--|");
    for row in rows(mode) {
        let area = match &row.region {
            None => "*unused hole*".to_string(),
            Some(name) if row.description.is_empty() => format!("`{name}`"),
            Some(name) => format!("`{name}` — {}", md_escape(&row.description)),
        };
        let _ = writeln!(
            out,
            "| `{:016x}` | {} | `{:016x}` | {} | {} |",
            row.start,
            offset(row.start),
            row.last,
            short_size(row.size),
            area
        );
    }
    out.push('\n');
    for line in image_lines(layout, mode, &|s| format!("`{s}`")) {
        let _ = writeln!(out, "{line}  ");
    }
    out
}

/// The page-table cost as a Markdown table.
pub fn render_cost_markdown(cost: &Cost) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nPage tables for {} of RAM: **{} page-table pages** ({}).\n",
        human_size(cost.ram_size as u128),
        cost.pt_pages,
        human_size(cost.pt_pages as u128 * crate::units::PAGE_SIZE as u128)
    );
    let _ = writeln!(out, "| leaf size | leaves |");
    let _ = writeln!(out, "|--:|--:|");
    for (size, n) in &cost.leaves {
        let _ = writeln!(out, "| {} | {n} |", human_size(*size as u128));
    }
    out
}

/// reStructuredText: escapes inline markup characters.
fn rst_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '*' | '_' | '`' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A reStructuredText simple table: `=` rules sized to the widest cell.
fn rst_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let rule = widths
        .iter()
        .map(|w| "=".repeat(*w))
        .collect::<Vec<_>>()
        .join("  ");
    let line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            l.push_str(cell);
            if i + 1 < widths.len() {
                l.push_str(&" ".repeat(w - cell.chars().count()));
            }
        }
        l.trim_end().to_string()
    };
    let mut out = String::new();
    let _ = writeln!(out, "{rule}");
    let _ = writeln!(out, "{}", line(header.to_vec()));
    let _ = writeln!(out, "{rule}");
    for row in rows {
        let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
    }
    let _ = writeln!(out, "{rule}");
    out
}

/// The memory map of one mode as a reStructuredText section with a simple
/// table, for Sphinx/kernel-doc documentation like `vm-layout.rst`.
pub fn render_rst(layout: &Layout, mode: &ModeLayout) -> String {
    let mut out = String::new();
    let title = rst_escape(&format!("{} ({})", layout.name, mode.mode));
    let _ = writeln!(out, "{title}\n{}\n", "-".repeat(title.chars().count()));
    let _ = writeln!(
        out,
        "{}.\n",
        mode_summary(mode, " = ", &|s| format!("``{s}``"))
    );
    let rows: Vec<Vec<String>> = rows(mode)
        .into_iter()
        .map(|row| {
            let area = match &row.region {
                None => "unused hole".to_string(),
                Some(name) if row.description.is_empty() => format!("``{name}``"),
                Some(name) => format!("``{name}`` — {}", rst_escape(&row.description)),
            };
            vec![
                format!("{:016x}", row.start),
                offset(row.start),
                format!("{:016x}", row.last),
                short_size(row.size),
                area,
            ]
        })
        .collect();
    out.push_str(&rst_table(
        &[
            "start address",
            "offset",
            "end address",
            "size",
            "VM area description",
        ],
        &rows,
    ));
    out.push('\n');
    for line in image_lines(layout, mode, &|s| format!("``{s}``")) {
        let _ = writeln!(out, "| {line}");
    }
    out
}

/// The page-table cost as a reStructuredText paragraph and table.
pub fn render_cost_rst(cost: &Cost) -> String {
    let mut out = format!(
        "\nPage tables for {} of RAM: **{} page-table pages** ({}).\n\n",
        human_size(cost.ram_size as u128),
        cost.pt_pages,
        human_size(cost.pt_pages as u128 * crate::units::PAGE_SIZE as u128)
    );
    let rows: Vec<Vec<String>> = cost
        .leaves
        .iter()
        .map(|(size, n)| vec![human_size(*size as u128), n.to_string()])
        .collect();
    out.push_str(&rst_table(&["leaf size", "leaves"], &rows));
    out
}

/// "39-bit virtual addresses, 3-level page tables, PAGE_OFFSET 0x…", with
/// `code` formatting names and numbers; what a layout without a linear map
/// or without paging has instead.
fn mode_summary(mode: &ModeLayout, sep: &str, code: &dyn Fn(String) -> String) -> String {
    if mode.mode.is_bare() {
        return format!("no paging: {}-bit physical addresses", mode.va_bits);
    }
    let offset = match mode.page_offset {
        Some(p) => format!(
            "{}{sep}{}",
            code("PAGE_OFFSET".into()),
            code(format!("{p:#x}"))
        ),
        None => "no linear map".into(),
    };
    format!(
        "{}-bit virtual addresses, {}-level page tables, {offset}",
        mode.va_bits, mode.levels
    )
}
