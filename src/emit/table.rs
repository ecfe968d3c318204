//! The memory map as a text table, in the columns of Linux's
//! `Documentation/arch/riscv/vm-layout.rst`: start, offset, end, size, area.

use crate::layout::pagetable::Cost;
use crate::layout::{Layout, ModeLayout};
use crate::riscv::{TOP_U128, human_size};

use std::fmt::Write;

/// A row: a region or an unused hole between regions.
struct Row {
    start: u64,
    last: u64,
    size: u128,
    name: String,
}

fn rows(mode: &ModeLayout) -> Vec<Row> {
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
        });
        cursor = cursor.max(r.end());
    }
    if cursor < TOP_U128 {
        rows.push(Row {
            start: cursor as u64,
            last: u64::MAX,
            size: TOP_U128 - cursor,
            name: "unused hole".into(),
        });
    }
    rows
}

/// Offset from 0 in the style of vm-layout.rst: negative below 2^64.
fn offset(start: u64) -> String {
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
fn short_size(v: u128) -> String {
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

pub fn render(layout: &Layout, mode: &ModeLayout) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}), {}-bit virtual addresses, {}-level page tables, PAGE_OFFSET {:#x}",
        layout.name, mode.mode, mode.va_bits, mode.levels, mode.page_offset
    );
    let _ = writeln!(
        out,
        "{:>18} | {:>11} | {:>18} | {:>9} | VM area description",
        "start address", "offset", "end address", "size"
    );
    let _ = writeln!(out, "{}", "-".repeat(96));
    for row in rows(mode) {
        let _ = writeln!(
            out,
            "{:>18} | {:>11} | {:>18} | {:>9} | {}",
            format!("{:016x}", row.start),
            offset(row.start),
            format!("{:016x}", row.last),
            short_size(row.size),
            row.name
        );
    }
    let _ = writeln!(
        out,
        "image: linked at {:#x} in `{}` (VA-PA offset {:#x}), loaded at {:#x}, at most {}",
        mode.image_link,
        layout.image.slot,
        mode.image_offset,
        layout.ram.load,
        human_size(layout.image.max_size as u128)
    );
    if let Some(k) = &mode.kaslr {
        let _ = writeln!(
            out,
            "kaslr: [{:#x}, {:#x}) in {} steps: {} positions",
            k.start,
            k.end,
            human_size(k.granule as u128),
            k.slots
        );
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
