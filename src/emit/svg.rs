//! The memory map as an SVG picture: one column per paging mode, regions as
//! labelled bands from the top of the address space down, boundary addresses
//! beside them, and optionally the page-table cost of mapping some RAM.
//!
//! Region sizes span from kilobytes to petabytes, so band heights grow with
//! log2(size) rather than with the size: a 6 MiB fixmap stays legible next
//! to a 32 PiB linear map. The picture says so in its legend.
//!
//! Hand-written text, no dependencies; the output depends only on the layout
//! (no timestamps, no paths), so it can be committed and checked for staleness.

use super::table::{Row, rows};
use crate::format::human_size;
use crate::layout::pagetable::Cost;
use crate::layout::{Layout, ModeLayout};
use crate::spec::RegionKind;
use crate::units::{PAGE_SIZE, TOP_U128};
use std::fmt::Write;

const FONT: &str = "DejaVu Sans Mono, Menlo, Consolas, monospace";
/// Advance of one character per pixel of font size (monospace).
const CHAR_WIDTH: f64 = 0.61;
const MARGIN: u32 = 24;
const ADDR_WIDTH: u32 = 150;
const BAND_WIDTH: u32 = 250;
const COLUMN_GAP: u32 = 28;
const COLUMN_WIDTH: u32 = ADDR_WIDTH + 8 + BAND_WIDTH;
const MIN_BAND: u32 = 24;
/// Pixels per doubling of a region's size.
const PER_DOUBLING: u32 = 3;
/// Vertical gap drawn where consecutive rows are not contiguous.
const BREAK_GAP: u32 = 18;
const LINE: u32 = 16;
/// Height of a column's heading (mode, VA bits, PAGE_OFFSET).
const HEADER: u32 = 46;

/// Height of a band for `size` bytes: `MIN_BAND` for a page, then
/// `PER_DOUBLING` more per doubling (integer arithmetic in eighths of a
/// doubling, so the output is the same on every machine).
fn band_height(size: u128) -> u32 {
    if size == 0 {
        return MIN_BAND;
    }
    let floor = 127 - size.leading_zeros();
    let frac = if floor >= 3 {
        ((size >> (floor - 3)) & 7) as u32
    } else {
        0
    };
    let eighths = (floor * 8 + frac).saturating_sub(PAGE_SIZE.trailing_zeros() * 8);
    MIN_BAND + PER_DOUBLING * eighths / 8
}

fn colours(kind: Option<RegionKind>) -> (&'static str, &'static str) {
    match kind {
        None => ("url(#hole)", "#9a9a9a"),
        Some(RegionKind::LinearMap) => ("#cfe0fb", "#2f5f9e"),
        Some(RegionKind::Vmalloc) => ("#d5efd2", "#357a38"),
        Some(RegionKind::Vmemmap) => ("#cfeeed", "#24807c"),
        Some(RegionKind::PciIo) => ("#ffe2c4", "#b35f0e"),
        Some(RegionKind::Fixmap) => ("#e7dbf5", "#6e46a3"),
        Some(RegionKind::Modules) => ("#fff0a8", "#8f7500"),
        Some(RegionKind::Kernel) => ("#ffd3d0", "#a8322b"),
        Some(RegionKind::Kasan) => ("#fbd5ec", "#a3367a"),
        Some(RegionKind::User) => ("#dfe0f2", "#4f5290"),
        Some(RegionKind::Custom) => ("#ececec", "#5f5f5f"),
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// `s`, cut with an ellipsis to fit `width` pixels at `font` px.
fn fit(s: &str, width: u32, font: f64) -> String {
    let max = (width as f64 / (font * CHAR_WIDTH)).floor() as usize;
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `s` broken at spaces into at most `lines` lines of `width` pixels; the
/// last line is cut with an ellipsis when the text does not fit.
fn wrap(s: &str, width: u32, font: f64, lines: usize) -> Vec<String> {
    let max = (width as f64 / (font * CHAR_WIDTH)).floor() as usize;
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut words = s.split_whitespace().peekable();
    while let Some(word) = words.next() {
        let len = current.chars().count();
        if len > 0 && len + 1 + word.chars().count() > max {
            if out.len() + 1 == lines {
                current.push(' ');
                current.push_str(word);
                for w in words.by_ref() {
                    current.push(' ');
                    current.push_str(w);
                }
                break;
            }
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out.into_iter().map(|l| fit(&l, width, font)).collect()
}

/// `0xffff_ffc0_0000_0000`: 64-bit address grouped by 16 bits.
fn addr(v: u64) -> String {
    format!(
        "0x{:04x}_{:04x}_{:04x}_{:04x}",
        v >> 48,
        (v >> 32) & 0xffff,
        (v >> 16) & 0xffff,
        v & 0xffff
    )
}

/// An exclusive end, which may be 2^64.
fn end_addr(end: u128) -> String {
    if end >= TOP_U128 {
        "2^64 (top)".to_string()
    } else {
        addr(end as u64)
    }
}

/// `s` between `before` and `after`, or nothing when `s` is empty.
fn around(before: &str, s: &str, after: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("{before}{s}{after}")
    }
}

struct Text<'a> {
    x: u32,
    y: u32,
    size: f64,
    anchor: &'a str,
    fill: &'a str,
    weight: &'a str,
    body: String,
}

impl Text<'_> {
    fn write(&self, out: &mut String) {
        let weight = around(" font-weight=\"", self.weight, "\"");
        let _ = writeln!(
            out,
            "  <text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{}\" fill=\"{}\"{weight}>{}</text>",
            self.x,
            self.y,
            self.size,
            self.anchor,
            self.fill,
            escape(&self.body)
        );
    }
}

fn text(x: u32, y: u32, size: f64, body: impl Into<String>) -> Text<'static> {
    Text {
        x,
        y,
        size,
        anchor: "start",
        fill: "#1f1f1f",
        weight: "",
        body: body.into(),
    }
}

/// Height of a mode's stack of bands, breaks included.
fn stack_height(mode: &ModeLayout) -> u32 {
    let rows = rows(mode);
    let bands: u32 = rows.iter().map(|r| band_height(r.size)).sum();
    let breaks = rows
        .windows(2)
        .filter(|w| w[0].last as u128 + 1 != w[1].start as u128)
        .count() as u32;
    bands + breaks * BREAK_GAP
}

/// A size in binary units, rounded to a tenth like the table ("16.5 TiB").
fn size_label(size: u128) -> String {
    let s = super::table::short_size(size);
    match s.strip_suffix("B") {
        Some(n) if n.ends_with(|c: char| c.is_ascii_alphabetic()) => format!("{n}iB"),
        _ => s,
    }
}

/// One mode's column, drawn at `x0`, starting at `y0`; the lines under the
/// bands start at `y0 + stack` so that they line up across columns. Returns
/// the column's height.
fn column(
    out: &mut String,
    layout: &Layout,
    mode: &ModeLayout,
    cost: Option<&Cost>,
    (x0, y0): (u32, u32),
    stack: u32,
) -> u32 {
    let band_x = x0 + ADDR_WIDTH + 8;
    column_header(out, mode, x0, y0);
    let mut y = y0 + HEADER;
    let mut previous_start: Option<u64> = None;
    for row in rows(mode).iter().rev() {
        let end = row.last as u128 + 1;
        let top_label = match previous_start {
            Some(p) if p as u128 == end => None,
            Some(p) => {
                axis_break(out, band_x, y, end, p);
                y += BREAK_GAP;
                Some(end)
            }
            None => Some(end),
        };
        if let Some(end) = top_label {
            boundary(out, x0, band_x, y, &end_addr(end));
        }
        y += band(out, layout, mode, row, band_x, y);
        boundary(out, x0, band_x, y, &addr(row.start));
        previous_start = Some(row.start);
    }
    // The image, KASLR and page-table lines under the column.
    y = y.max(y0 + HEADER + stack) + 22;
    y = column_footer(out, layout, mode, cost, x0, y);
    y - y0
}

/// The mode's name, VA size and PAGE_OFFSET above its column.
fn column_header(out: &mut String, mode: &ModeLayout, x0: u32, y: u32) {
    let mut head = text(x0, y + 14, 15.0, format!("{}", mode.mode));
    head.weight = "bold";
    head.write(out);
    text(
        x0 + 56,
        y + 14,
        12.0,
        format!("{}-bit VA, {} levels", mode.va_bits, mode.levels),
    )
    .write(out);
    let mut offset = text(
        x0,
        y + 31,
        11.0,
        match (mode.mode.is_bare(), mode.page_offset) {
            (true, _) => "no paging".to_string(),
            (false, Some(p)) => format!("PAGE_OFFSET {}", addr(p)),
            (false, None) => "no linear map".to_string(),
        },
    );
    offset.fill = "#444444";
    offset.write(out);
}

/// Between two bands that do not touch: a broken axis for a jump (to the
/// user half), a red mark for an overlap (a layout that fails `check` is
/// still drawn).
fn axis_break(out: &mut String, band_x: u32, y: u32, end: u128, p: u64) {
    let mid = y + BREAK_GAP / 2;
    let overlap = end > p as u128;
    let colour = if overlap { "#c62828" } else { "#9a9a9a" };
    let _ = writeln!(
        out,
        "  <path d=\"M{} {} l10 -4 l10 8 l10 -8 l10 8 l10 -4\" fill=\"none\" stroke=\"{colour}\"/>",
        band_x + BAND_WIDTH / 2 - 25,
        mid
    );
    if overlap {
        let mut t = text(
            band_x + BAND_WIDTH / 2 + 34,
            mid + 4,
            11.0,
            format!("overlap: {}", size_label(end - p as u128)),
        );
        t.fill = colour;
        t.weight = "bold";
        t.write(out);
    }
}

/// One region (or hole) as a labelled band at `y`; returns its height.
fn band(
    out: &mut String,
    layout: &Layout,
    mode: &ModeLayout,
    row: &Row,
    band_x: u32,
    y: u32,
) -> u32 {
    let end = row.last as u128 + 1;
    let slot = &layout.image.slot;
    let h = band_height(row.size);
    let kind = row
        .region
        .as_deref()
        .and_then(|n| mode.region(n))
        .map(|r| r.kind);
    let (fill, stroke) = colours(kind);
    let tooltip = match &row.region {
        None => format!(
            "unused hole [{}, {}), {}",
            addr(row.start),
            end_addr(end),
            human_size(row.size)
        ),
        Some(name) => format!(
            "{name} [{}, {}), {}{}",
            addr(row.start),
            end_addr(end),
            human_size(row.size),
            around(": ", &row.description, "")
        ),
    };
    let _ = writeln!(
        out,
        "  <rect x=\"{band_x}\" y=\"{y}\" width=\"{BAND_WIDTH}\" height=\"{h}\" fill=\"{fill}\" stroke=\"{stroke}\"><title>{}</title></rect>",
        escape(&tooltip)
    );
    let size = size_label(row.size);
    let size_chars = size.chars().count() as u32;
    let name_room = BAND_WIDTH - 20 - (size_chars as f64 * 12.0 * CHAR_WIDTH) as u32;
    let first = y + h.min(2 * LINE + 8) / 2 + 4 - if h >= 2 * LINE + 8 { 7 } else { 0 };
    match &row.region {
        None => {
            let mut t = text(band_x + 8, first, 12.0, "unused");
            t.fill = "#6b6b6b";
            t.write(out);
        }
        Some(name) => {
            let mut t = text(band_x + 8, first, 12.0, fit(name, name_room, 12.0));
            t.weight = "bold";
            t.fill = stroke;
            t.write(out);
        }
    }
    let mut s = text(band_x + BAND_WIDTH - 8, first, 12.0, size);
    s.anchor = "end";
    s.fill = if row.region.is_some() {
        "#1f1f1f"
    } else {
        "#6b6b6b"
    };
    s.write(out);
    let is_slot = row.region.as_deref() == Some(slot.as_str());
    // Lines of text below the name that fit in the band.
    let room = (h.saturating_sub(8) / LINE).saturating_sub(1) as usize;
    let description_lines = room.saturating_sub(usize::from(is_slot)).max(1);
    let mut below = 0;
    if h >= 2 * LINE + 8 && !row.description.is_empty() {
        for line in wrap(&row.description, BAND_WIDTH - 16, 10.5, description_lines) {
            below += 1;
            let mut d = text(band_x + 8, first + below * LINE, 10.5, line);
            d.fill = "#3a3a3a";
            d.write(out);
        }
    }
    if is_slot && h >= (below + 2) * LINE + 8 {
        let mut m = text(
            band_x + 8,
            first + (below + 1) * LINE,
            10.5,
            fit(
                &format!("▸ image at {}", addr(mode.image_link)),
                BAND_WIDTH - 16,
                10.5,
            ),
        );
        m.fill = stroke;
        m.write(out);
    }
    h
}

/// The image, KASLR and page-table lines under a column; returns the y
/// below them.
fn column_footer(
    out: &mut String,
    layout: &Layout,
    mode: &ModeLayout,
    cost: Option<&Cost>,
    x0: u32,
    mut y: u32,
) -> u32 {
    let mut lines = vec![format!(
        "image: {} in `{}`",
        addr(mode.image_link),
        layout.image.slot,
    )];
    lines.push(format!("VA - PA = {}", addr(mode.image_offset)));
    lines.push(format!(
        "loaded at {:#x}, at most {}",
        layout.ram.load,
        human_size(layout.image.max_size as u128)
    ));
    if let Some(k) = &mode.kaslr {
        lines.push(format!(
            "kaslr: {} positions in {} steps",
            k.slots,
            human_size(k.granule as u128)
        ));
    }
    for line in lines {
        text(x0, y, 11.5, fit(&line, COLUMN_WIDTH, 11.5)).write(out);
        y += LINE;
    }
    if let Some(cost) = cost {
        y += 10;
        y = cost_box(out, cost, x0, y);
    }
    y
}

/// A boundary: a tick and the address beside it.
fn boundary(out: &mut String, x0: u32, band_x: u32, y: u32, label: &str) {
    let _ = writeln!(
        out,
        "  <line x1=\"{}\" y1=\"{y}\" x2=\"{band_x}\" y2=\"{y}\" stroke=\"#7a7a7a\"/>",
        band_x - 6
    );
    let mut t = text(x0 + ADDR_WIDTH - 2, y + 4, 11.0, label);
    t.anchor = "end";
    t.fill = "#333333";
    t.write(out);
}

/// The page-table cost: pages in total, and one bar per leaf size whose
/// length grows with log2 of the count.
fn cost_box(out: &mut String, cost: &Cost, x0: u32, y0: u32) -> u32 {
    let rows = cost.leaves.len() as u32;
    let height = 2 * LINE + 12 + rows * LINE + 8;
    let _ = writeln!(
        out,
        "  <rect x=\"{x0}\" y=\"{y0}\" width=\"{COLUMN_WIDTH}\" height=\"{height}\" rx=\"4\" fill=\"#f6f8fa\" stroke=\"#c8ccd1\"/>"
    );
    let mut y = y0 + LINE + 2;
    let mut t = text(
        x0 + 10,
        y,
        12.0,
        format!(
            "page tables for {} of RAM",
            human_size(cost.ram_size as u128)
        ),
    );
    t.weight = "bold";
    t.write(out);
    y += LINE;
    text(
        x0 + 10,
        y,
        11.5,
        format!(
            "{} page-table pages ({}), root included",
            cost.pt_pages,
            human_size(cost.pt_pages as u128 * PAGE_SIZE as u128)
        ),
    )
    .write(out);
    y += LINE + 4;
    for (size, n) in &cost.leaves {
        let mut l = text(
            x0 + 120,
            y,
            11.5,
            format!("{} leaves", human_size(*size as u128)),
        );
        l.anchor = "end";
        l.write(out);
        let bar = if *n == 0 {
            0
        } else {
            12 + 14 * (64 - n.leading_zeros())
        };
        let _ = writeln!(
            out,
            "  <rect x=\"{}\" y=\"{}\" width=\"{bar}\" height=\"10\" fill=\"#8fb3e0\"/>",
            x0 + 128,
            y - 9
        );
        text(x0 + 134 + bar, y, 11.5, n.to_string()).write(out);
        y += LINE;
    }
    y0 + height
}

/// The physical boot chain (a spec with `[boot.NAME]`) as one more column:
/// the minimum RAM, highest address at the top, each placement, the
/// kernel's room and the free RAM between them. Returns its height.
fn physical_column(out: &mut String, layout: &Layout, (x0, y0): (u32, u32)) -> u32 {
    let band_x = x0 + ADDR_WIDTH + 8;
    let mut head = text(x0, y0 + 14, 15.0, "physical");
    head.weight = "bold";
    head.write(out);
    text(x0 + 80, y0 + 14, 12.0, "boot chain in the minimum RAM").write(out);
    let mut y = y0 + HEADER;
    let mut previous_start: Option<u64> = None;
    for row in super::physical::rows(layout).iter().rev() {
        match previous_start {
            Some(p) if p as u128 == row.end => {}
            Some(p) => {
                axis_break(out, band_x, y, row.end, p);
                y += BREAK_GAP;
                boundary(out, x0, band_x, y, &end_addr(row.end));
            }
            None => boundary(out, x0, band_x, y, &end_addr(row.end)),
        }
        y += physical_band(out, row, band_x, y);
        boundary(out, x0, band_x, y, &addr(row.start));
        previous_start = Some(row.start);
    }
    y - y0
}

/// One row of the physical map as a labelled band; returns its height.
fn physical_band(out: &mut String, row: &super::physical::PhysRow, band_x: u32, y: u32) -> u32 {
    let size = row.end - row.start as u128;
    let h = band_height(size);
    let (fill, stroke) = match row.kind {
        "firmware" => ("#f6d6d6", "#9e2f2f"),
        "kernel" => ("#e8dcf7", "#5b3a8e"),
        "fdt" => ("#ffe2c4", "#b35f0e"),
        "initrd" => ("#d5efd2", "#357a38"),
        "reserved" => ("#e4e4e4", "#4f4f4f"),
        _ => ("url(#hole)", "#9a9a9a"),
    };
    let tooltip = format!(
        "{} [{}, {}), {}{}{}",
        row.name,
        addr(row.start),
        end_addr(row.end),
        human_size(size),
        around(" (", &row.key, ")"),
        around(": ", &row.description, "")
    );
    let _ = writeln!(
        out,
        "  <rect x=\"{band_x}\" y=\"{y}\" width=\"{BAND_WIDTH}\" height=\"{h}\" fill=\"{fill}\" stroke=\"{stroke}\"><title>{}</title></rect>",
        escape(&tooltip)
    );
    let label = size_label(size);
    let name_room = BAND_WIDTH - 20 - (label.chars().count() as f64 * 12.0 * CHAR_WIDTH) as u32;
    let first = y + h.min(2 * LINE + 8) / 2 + 4 - if h >= 2 * LINE + 8 { 7 } else { 0 };
    let free = row.kind == "free";
    let mut t = text(band_x + 8, first, 12.0, fit(&row.name, name_room, 12.0));
    if free {
        t.fill = "#6b6b6b";
    } else {
        t.weight = "bold";
        t.fill = stroke;
    }
    t.write(out);
    let mut s = text(band_x + BAND_WIDTH - 8, first, 12.0, label);
    s.anchor = "end";
    s.fill = if free { "#6b6b6b" } else { "#1f1f1f" };
    s.write(out);
    if h >= 2 * LINE + 8 && !row.key.is_empty() {
        let mut d = text(
            band_x + 8,
            first + LINE,
            10.5,
            fit(&row.key, BAND_WIDTH - 16, 10.5),
        );
        d.fill = "#3a3a3a";
        d.write(out);
    }
    h
}

/// The whole picture: a title, one column per mode (and one for the
/// physical boot chain of a spec with `[boot.NAME]`), a legend; with
/// `costs` (one per mode, or empty) the page-table cost under each column.
pub fn render(layout: &Layout, modes: &[&ModeLayout], costs: &[Cost]) -> String {
    let mut body = String::new();
    let physical = !layout.boot.is_empty();
    let n = (modes.len() + usize::from(physical)).max(1) as u32;
    let width = 2 * MARGIN + n * COLUMN_WIDTH + (n - 1) * COLUMN_GAP;
    let description = wrap(&layout.description, width - 2 * MARGIN, 12.0, 2);
    let top = MARGIN + 28 + LINE * description.len().max(1) as u32;
    let mut tallest = 0;
    let stack = modes.iter().map(|m| stack_height(m)).max().unwrap_or(0);
    for (i, mode) in modes.iter().enumerate() {
        let x0 = MARGIN + i as u32 * (COLUMN_WIDTH + COLUMN_GAP);
        let h = column(&mut body, layout, mode, costs.get(i), (x0, top), stack);
        tallest = tallest.max(h);
    }
    if physical {
        let x0 = MARGIN + modes.len() as u32 * (COLUMN_WIDTH + COLUMN_GAP);
        tallest = tallest.max(physical_column(&mut body, layout, (x0, top)));
    }
    let legend_y = top + tallest + 24;
    let legend = [
        "Higher addresses at the top; hatched bands are unused.".to_string(),
        "Band heights grow with log2(size), not with size:".to_string(),
        format!("each doubling adds {PER_DOUBLING} px. Sizes in binary units."),
    ];
    let height = legend_y + LINE * legend.len() as u32 + MARGIN;

    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"{FONT}\">"
    );
    let _ = writeln!(
        out,
        "  <title>{}: virtual memory layout{} (generated by layoutgen show --format svg)</title>",
        escape(&layout.name),
        if physical {
            " and physical boot chain"
        } else {
            ""
        }
    );
    out.push_str(concat!(
        "  <defs>\n",
        "    <pattern id=\"hole\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\n",
        "      <rect width=\"8\" height=\"8\" fill=\"#f7f7f7\"/>\n",
        "      <line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" stroke=\"#dedede\" stroke-width=\"3\"/>\n",
        "    </pattern>\n",
        "  </defs>\n",
    ));
    let _ = writeln!(
        out,
        "  <rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>"
    );
    let mut title = text(MARGIN, MARGIN + 6, 17.0, layout.name.clone());
    title.weight = "bold";
    title.write(&mut out);
    for (i, line) in description.into_iter().enumerate() {
        let mut d = text(MARGIN, MARGIN + 24 + i as u32 * LINE, 12.0, line);
        d.fill = "#444444";
        d.write(&mut out);
    }
    out.push_str(&body);
    for (i, line) in legend.iter().enumerate() {
        let mut t = text(
            MARGIN,
            legend_y + i as u32 * LINE,
            11.0,
            fit(line, width - 2 * MARGIN, 11.0),
        );
        t.fill = "#555555";
        t.write(&mut out);
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_heights_grow_with_log_size() {
        assert_eq!(band_height(4096), MIN_BAND);
        assert_eq!(band_height(8192), MIN_BAND + PER_DOUBLING);
        assert!(band_height(6 << 20) > band_height(4 << 20));
        assert!(band_height(6 << 20) < band_height(8 << 20));
        assert_eq!(band_height(1), MIN_BAND);
        assert_eq!(band_height(TOP_U128), MIN_BAND + PER_DOUBLING * 52);
    }

    #[test]
    fn addresses_are_grouped() {
        assert_eq!(addr(0xffff_ffc0_0000_0000), "0xffff_ffc0_0000_0000");
        assert_eq!(end_addr(TOP_U128), "2^64 (top)");
    }

    #[test]
    fn text_is_escaped_and_fitted() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
        assert_eq!(fit("abcdef", 30, 10.0), "abc…");
        assert_eq!(fit("abc", 30, 10.0), "abc");
        // 6 characters a line at 10 px.
        assert_eq!(wrap("ab cd ef gh", 37, 10.0, 5), ["ab cd", "ef gh"]);
        assert_eq!(wrap("ab cd ef ghij", 37, 10.0, 2), ["ab cd", "ef gh…"]);
        assert_eq!(wrap("abcdefghij", 37, 10.0, 2), ["abcde…"]);
    }
}
