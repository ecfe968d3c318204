//! LG003–LG006: PT_LOAD segments.

use super::context::{Collector, Ctx, slot_desc, slot_key};
use super::elf::{Elf, Section};
use super::{Finding, Lint};
use crate::format::human_size;

/// LG003–LG006: PT_LOAD segments.
pub(super) fn check_segments(ctx: &Ctx, c: &mut Collector) {
    let elf = ctx.elf;
    let align = ctx.layout.image.section_align.max(1);
    // The load rule: every byte's LMA is its VA minus (image.link - image.lma).
    let load = ctx.layout.image.lma;
    let offset = ctx.mode.image_link.wrapping_sub(load);
    let first = elf
        .segments
        .iter()
        .filter(|s| s.memsz > 0)
        .min_by_key(|s| s.vaddr)
        .map(|s| s.index);
    for seg in elf.segments.iter().filter(|s| s.memsz > 0) {
        let name = format!("segment {}", seg.index);
        let last = (seg.end() - 1) as u64;
        if let Some(slot) = ctx.slot
            && (!slot.contains(seg.vaddr) || !slot.contains(last))
        {
            c.push(
                Finding::new(
                    Lint::SegmentOutsideSlot,
                    slot_key(ctx),
                    format!(
                        "PT_LOAD {name} [{:#x}, {:#x}] ({}) lies outside the image's slot {}",
                        seg.vaddr,
                        last,
                        sections_in(elf, seg.vaddr, seg.end()),
                        slot_desc(slot)
                    ),
                    format!(
                        "link with the generated linker script, or move/grow region.{} in {}",
                        slot.name, ctx.layout.source
                    ),
                )
                .section(name.clone())
                .address(seg.vaddr),
            );
        }
        let delta = seg.vaddr.wrapping_sub(seg.paddr);
        if delta % align != 0 {
            c.push(
                Finding::new(
                    Lint::SegmentVaPaCongruence,
                    "image.section_align",
                    format!(
                        "PT_LOAD {name} has VA {:#x} and PA {:#x}: VA - PA = {:#x} is not a multiple of image.section_align ({}), so it cannot be mapped with {} pages",
                        seg.vaddr,
                        seg.paddr,
                        delta,
                        human_size(align as u128),
                        human_size(align as u128)
                    ),
                    format!(
                        "load addresses must be AT(VA - image.link + image.lma): link with the generated linker script; VA - PA should be {:#x}",
                        offset
                    ),
                )
                .section(name.clone())
                .address(seg.vaddr),
            );
        } else if delta != offset {
            c.push(
                Finding::new(
                    Lint::SegmentLoadAddress,
                    "image.lma",
                    format!(
                        "PT_LOAD {name} at VA {:#x} is loaded at PA {:#x}: VA - PA = {:#x}, but the spec's load rule (image.link - image.lma) is {:#x}",
                        seg.vaddr, seg.paddr, delta, offset
                    ),
                    format!(
                        "link with the generated linker script (its AT() puts every section at VA - {:#x} + image.lma {:#x}), or fix image.lma/image.link in {}",
                        ctx.mode.image_link, load, ctx.layout.source
                    ),
                )
                .section(name.clone())
                .address(seg.vaddr),
            );
        } else if Some(seg.index) == first && seg.paddr != load {
            c.push(
                Finding::new(
                    Lint::SegmentLoadAddress,
                    "image.lma",
                    format!(
                        "the first PT_LOAD ({name}) is loaded at PA {:#x}, not at image.lma {:#x}: the loader places the image by its first byte",
                        seg.paddr, load
                    ),
                    "put the entry code's input section first in the first image section and link at image.link",
                )
                .section(name.clone())
                .address(seg.vaddr),
            );
        }
        if seg.write() && seg.exec() {
            c.push(
                Finding::new(
                    Lint::SegmentWriteExecute,
                    "image.section",
                    format!(
                        "PT_LOAD {name} [{:#x}, {:#x}) is {}: {}",
                        seg.vaddr,
                        seg.end(),
                        seg.perms().to_uppercase(),
                        wx_culprits(elf, seg.vaddr, seg.end())
                    ),
                    wx_fix(seg.align, ctx.layout.image.section_align),
                )
                .section(name)
                .address(seg.vaddr),
            );
        }
    }
}

/// How to split a W+X segment. A linker whose page size (p_align) exceeds
/// the spec's segment alignment merges segments that share one of its
/// pages: GNU ld for aarch64 defaults to 64 KiB pages.
fn wx_fix(page: u64, section_align: u64) -> String {
    if page > section_align {
        format!(
            "the linker's page size ({}, p_align) is larger than image.section_align ({}), so segments sharing one of its pages were merged: link with -z max-page-size={section_align:#x}, or raise image.section_align to {}",
            human_size(page as u128),
            human_size(section_align as u128),
            human_size(page as u128)
        )
    } else {
        format!(
            "keep writable and executable sections in separate segments: separate them by image.section_align ({}) as the generated script does, and do not link with -N/--omagic",
            human_size(section_align as u128)
        )
    }
}

/// Which allocated sections make a segment W+X: the executable ones inside
/// a writable segment, and the writable ones they share it with.
fn wx_culprits(elf: &Elf, start: u64, end: u128) -> String {
    let inside: Vec<&Section> = elf
        .sections
        .iter()
        .filter(|s| s.alloc() && s.size > 0 && s.addr >= start && s.end() <= end)
        .collect();
    let names = |v: &[&Section]| {
        v.iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let both: Vec<&Section> = inside
        .iter()
        .copied()
        .filter(|s| s.write() && s.exec())
        .collect();
    let exec: Vec<&Section> = inside
        .iter()
        .copied()
        .filter(|s| s.exec() && !s.write())
        .collect();
    let write: Vec<&Section> = inside
        .iter()
        .copied()
        .filter(|s| s.write() && !s.exec())
        .collect();
    let is = |v: &[&Section]| if v.len() == 1 { "is" } else { "are" };
    let mut parts: Vec<String> = Vec::new();
    if !both.is_empty() {
        parts.push(format!(
            "{} {} writable and executable (WAX)",
            names(&both),
            is(&both)
        ));
    }
    if !exec.is_empty() {
        parts.push(if write.is_empty() {
            format!(
                "{} {} executable (AX) inside a segment marked writable that holds no writable section",
                names(&exec),
                is(&exec)
            )
        } else {
            format!(
                "{} {} executable (AX) inside a writable segment with {}",
                names(&exec),
                is(&exec),
                names(&write)
            )
        });
    } else if !write.is_empty() && both.is_empty() {
        parts.push(format!(
            "no section is executable, but the segment is marked executable and holds writable {}",
            names(&write)
        ));
    }
    if parts.is_empty() {
        if inside.is_empty() {
            "it holds no allocated section; only its flags are wrong".into()
        } else {
            format!(
                "no section in it is writable or executable ({}); only the segment's flags are wrong",
                names(&inside)
            )
        }
    } else {
        parts.join("; ")
    }
}

/// Names of the allocated sections inside `[start, end)`.
fn sections_in(elf: &Elf, start: u64, end: u128) -> String {
    let v: Vec<&str> = elf
        .sections
        .iter()
        .filter(|s| s.alloc() && s.size > 0 && s.addr >= start && s.end() <= end)
        .map(|s| s.name.as_str())
        .collect();
    if v.is_empty() {
        "no sections".into()
    } else {
        format!("sections {}", v.join(", "))
    }
}
