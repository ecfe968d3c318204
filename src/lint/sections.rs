//! LG007, LG008, LG021: output sections against `image.section`.

use super::boundaries::Provenance;
use super::context::{Collector, Ctx};
use super::elf::Section;
use super::{Finding, Lint, Severity};
use crate::format::human_size;

/// Sections a relocatable image's generated script adds besides the spec's.
const DYNAMIC_TABLES: [&str; 9] = [
    ".dynsym",
    ".dynstr",
    ".hash",
    ".gnu.hash",
    ".rela.dyn",
    ".relr.dyn",
    ".dynamic",
    ".got",
    ".got.plt",
];

/// LG007, LG008, LG021: sections against `image.section`.
pub(super) fn check_sections(ctx: &Ctx, provenance: &Provenance, c: &mut Collector) {
    if ctx.elf.sections.is_empty() {
        return;
    }
    let mut prev: Option<(&str, u64)> = None;
    for s in &ctx.layout.image.sections {
        check_section(ctx, s, &mut prev, c);
    }
    check_orphans(ctx, provenance, c);
}

/// LG007/LG008 for one spec section; `prev` is the one before it in the
/// file (sections must be in spec order).
fn check_section<'s>(
    ctx: &Ctx,
    s: &'s crate::layout::Section,
    prev: &mut Option<(&'s str, u64)>,
    c: &mut Collector,
) {
    let elf = ctx.elf;
    let image = &ctx.layout.image;
    let link = ctx.mode.image_link;
    let image_end = link as u128 + image.max_size as u128;
    let key = format!("image.section.{}", s.id);
    let ename = s.name.clone();
    let Some((_, sec)) = elf.section_by_name(&ename) else {
        if s.optional {
            return;
        }
        c.push(
            Finding::new(
                Lint::SectionMissing,
                key,
                format!("section {ename} that the spec lists is not in the ELF"),
                "link with the generated linker script, or mark it `optional = true` (with `config = [\"CONFIG_...\"]`, the options that bring it) if the kernel's configuration decides whether it exists",
            )
            .section(ename),
        );
        return;
    };
    let mut bad = |what: String, key: String, help: String| {
        c.push(
            Finding::new(Lint::SectionPlacement, key, what, help)
                .section(ename.clone())
                .address(sec.addr),
        )
    };
    if !sec.alloc() {
        bad(
            format!("section {ename} is not allocated (no SHF_ALLOC)"),
            key.clone(),
            "image sections must be loaded: link with the generated linker script".into(),
        );
        return;
    }
    if sec.addr % s.align.max(1) != 0 {
        bad(
            format!(
                "section {ename} starts at {:#x}, not aligned to {} (image.section.{}.align{})",
                sec.addr,
                human_size(s.align as u128),
                s.id,
                if s.segment_start {
                    ", the start of segment ".to_string() + &s.segment
                } else {
                    String::new()
                }
            ),
            format!("{key}.align"),
            "link with the generated linker script, whose ALIGN() places each section".into(),
        );
    }
    if (sec.addr as u128) < link as u128 || sec.end() > image_end {
        bad(
            format!(
                "section {ename} [{:#x}, {:#x}) lies outside the image [{:#x}, {:#x}) (image.link + image.max_size)",
                sec.addr,
                sec.end(),
                link,
                image_end
            ),
            "image.max_size".into(),
            format!(
                "raise image.max_size in {} or shrink the kernel",
                ctx.layout.source
            ),
        );
    }
    if let Some((pname, paddr)) = *prev
        && sec.addr < paddr
    {
        bad(
            format!(
                "section {ename} at {:#x} comes before {pname} at {:#x}, but the spec orders {pname} first",
                sec.addr, paddr
            ),
            "image.section".into(),
            "sections must be in the order the spec lists them: link with the generated linker script".into(),
        );
    }
    *prev = Some((s.name.as_str(), sec.addr));
    // perms are an upper bound: a section with fewer permissions than
    // declared is harmless, one with more is what W^X is about. An empty
    // section maps nothing: lld keeps an empty `.rel.dyn` with the flags of
    // the section before it (GNU ld drops it), which is no finding.
    if sec.size > 0 && ((sec.write() && !s.write) || (sec.exec() && !s.execute)) {
        bad(
            format!(
                "section {ename} has permissions {}{}{}, the spec says {}",
                'r',
                if sec.write() { 'w' } else { '-' },
                if sec.exec() { 'x' } else { '-' },
                s.perms()
            ),
            format!("{key}.perms"),
            "an input section with other flags was merged into it: check the section's input patterns".into(),
        );
    }
    if sec.nobits() != s.nobits && sec.size > 0 {
        bad(
            format!(
                "section {ename} is {}, the spec says {}",
                if sec.nobits() { "NOBITS" } else { "PROGBITS" },
                if s.nobits { "nobits" } else { "progbits" }
            ),
            format!("{key}.nobits"),
            format!("set {key}.nobits to match, or move the initialised input sections out of it"),
        );
    }
    if let Some(max) = s.max_size
        && sec.size > max
    {
        bad(
            format!(
                "section {ename} is {} bytes, larger than its max_size {}",
                sec.size,
                human_size(max as u128)
            ),
            format!("{key}.max_size"),
            format!("raise {key}.max_size in {}", ctx.layout.source),
        );
    }
}

/// LG021: allocated sections neither the spec's nor dynamic tables.
fn check_orphans(ctx: &Ctx, provenance: &Provenance, c: &mut Collector) {
    let elf = ctx.elf;
    let image = &ctx.layout.image;
    // Orphans: allocated, non-empty, neither a spec section nor a dynamic table.
    let unlisted: Vec<&Section> = elf
        .sections
        .iter()
        .filter(|sec| {
            sec.alloc()
                && sec.size > 0
                && !image.sections.iter().any(|s| sec.name == s.name)
                && !DYNAMIC_TABLES.contains(&sec.name.as_str())
        })
        .collect();
    if unlisted.is_empty() {
        return;
    }
    // "The linker placed it on its own" holds only for a file linked with
    // the script the spec describes (its boundary symbols, LG010, are the
    // evidence). For any other file (firmware linked with its own script,
    // a stripped image) the sections its own script placed cannot be told
    // from orphans: one figure lists what the spec does not describe.
    let why = match provenance {
        Provenance::Described => {
            for sec in unlisted {
                c.push(
                    Finding::new(
                        Lint::OrphanSection,
                        "image.section",
                        format!(
                            "allocated section {} [{:#x}, +{:#x}] is not one the spec lists: the linker placed it on its own",
                            sec.name, sec.addr, sec.size
                        ),
                        "add its input sections to an image.section's input list, or discard them",
                    )
                    .section(sec.name.clone())
                    .address(sec.addr),
                );
            }
            return;
        }
        Provenance::Missing(names) => format!(
            "it lacks the boundary symbols of the script the spec describes ({})",
            names.join(", ")
        ),
        Provenance::Unknown => {
            "it has no .symtab, whose boundary symbols would show which script linked it"
                .to_string()
        }
    };
    let list: Vec<String> = unlisted
        .iter()
        .map(|s| format!("{} [{:#x}, +{:#x}]", s.name, s.addr, s.size))
        .collect();
    let mut f = Finding::new(
        Lint::OrphanSection,
        "image.section",
        format!(
            "{} allocated section(s) the spec does not list: {}; whether the file's own linker script placed them or the linker did cannot be told: {why} (a figure, not a warning)",
            unlisted.len(),
            list.join(", "),
        ),
        "to check these sections, describe the file's own layout in image.section (layoutgen init --from-elf FILE writes a starting spec); lint the unstripped image linked with the generated script for orphan warnings",
    );
    f.severity = Severity::Info;
    c.push(f);
}

/// LG028: with `image.pmp_read_only`, the image's start to its first
/// writable section is one naturally aligned power of two (a NAPOT PMP
/// entry covers exactly that: OpenSBI's `[_fw_start, _fw_rw_start)`).
pub(super) fn check_pmp_range(ctx: &Ctx, c: &mut Collector) {
    let image = &ctx.layout.image;
    if !image.pmp_read_only {
        return;
    }
    let elf = ctx.elf;
    let addr = |name: &str| elf.section_by_name(name).map(|(_, s)| s.addr);
    let (Some(start), Some(rw)) = (
        image.sections.first().and_then(|s| addr(&s.name)),
        image
            .sections
            .iter()
            .find(|s| s.write)
            .and_then(|s| addr(&s.name)),
    ) else {
        return;
    };
    let size = rw.wrapping_sub(start);
    if size == 0 || !size.is_power_of_two() || start & (size - 1) != 0 {
        let need = size.checked_next_power_of_two().unwrap_or(0);
        c.push(
            Finding::new(
                Lint::PmpRange,
                "image.pmp_read_only",
                format!(
                    "the read-only part of the image [{start:#x}, {rw:#x}) is {size:#x} bytes at {start:#x}: one NAPOT PMP entry covers only a power of two aligned to itself ({need:#x} here)"
                ),
                "link with the generated linker script (it pads the read-only part to a power of two), and load the image at an address aligned to that size",
            )
            .address(start),
        );
    }
}

/// LG029: the image (from its start to its real end) and each section with
/// a `budget` against that percentage of their `max_size`: a size that is
/// still legal but about to not be, said in every pull request's lint.
pub(super) fn check_budgets(ctx: &Ctx, image_size: Option<u64>, c: &mut Collector) {
    let image = &ctx.layout.image;
    let over = |size: u64, max: u64, pct: u8| size as u128 * 100 > max as u128 * pct as u128;
    let mut push = |key: String, what: String, size: u64, max: u64, pct: u8| {
        c.push(Finding::new(
            Lint::Budget,
            key,
            format!(
                "{what} is {} of its max_size {} ({}%), above its budget of {pct}%",
                human_size(size as u128),
                human_size(max as u128),
                size as u128 * 100 / max.max(1) as u128
            ),
            "shrink it, or raise max_size and the budget together",
        ));
    };
    if let (Some(pct), Some(size)) = (image.budget, image_size)
        && over(size, image.max_size, pct)
    {
        push(
            "image.budget".into(),
            "the image".into(),
            size,
            image.max_size,
            pct,
        );
    }
    for s in &image.sections {
        let (Some(pct), Some(max)) = (s.budget, s.max_size) else {
            continue;
        };
        if let Some((_, sec)) = ctx.elf.section_by_name(&s.name)
            && over(sec.size, max, pct)
        {
            push(
                format!("image.section.{}.budget", s.id),
                format!("section {}", s.name),
                sec.size,
                max,
                pct,
            );
        }
    }
}
