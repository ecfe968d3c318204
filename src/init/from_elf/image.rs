//! Steps 2 and 3: the mapping granule (`section_align`), and the image
//! sections in address order with their segments, perms and alignment.

use super::facts::{Facts, Section};
use super::{GIB, MIB, PAGE_SIZE, TODO, alignment_of, derive_id};

/// The granule the kernel maps its image with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Granule {
    pub section_align: u64,
    /// No PT_LOAD boundary adds a permission: the granule is a guess.
    pub guessed: bool,
}

/// The mapping granule: PT_LOADs that add a permission (w or x) the one
/// before lacked are where the kernel's mapping must change, so each of them
/// starts on a granule boundary; the granule is the largest power of two
/// they, the image start and every VA - PA share (4 KiB..1 GiB). With no
/// such boundary it is at most 2 MiB, a guess.
pub fn granule(facts: &Facts) -> Granule {
    let mut align = alignment_of(facts.link(), GIB);
    for l in &facts.loads {
        align = align.min(alignment_of(l.vaddr.wrapping_sub(l.paddr), GIB));
    }
    let mut upgrades = 0;
    for w in facts.loads.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        if (b.write && !a.write) || (b.exec && !a.exec) {
            align = align.min(alignment_of(b.vaddr, GIB));
            upgrades += 1;
        }
    }
    if upgrades == 0 {
        align = align.min(2 * MIB);
    }
    Granule {
        section_align: align.max(PAGE_SIZE),
        guessed: upgrades == 0,
    }
}

/// One `[[image.section]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSection {
    pub sec: Section,
    pub segment: String,
    pub perms: &'static str,
    /// `align` to write, with the reason as a comment.
    pub align: Option<(u64, &'static str)>,
    /// Filled by the boundary-symbol step.
    pub start_symbols: Vec<String>,
    pub end_symbols: Vec<String>,
    /// Comment lines written above the table (TODOs).
    pub comments: Vec<String>,
}

/// The image sections, in address order. A section on a granule boundary
/// that starts a PT_LOAD or changes permissions starts a new segment, named
/// after its first section. Fails on a section name a spec cannot hold.
#[cfg(test)]
pub fn sections(facts: &Facts, section_align: u64) -> Result<Vec<ImageSection>, String> {
    sections_for(facts, section_align, false)
}

/// [`sections`]; `bare` (no paging, firmware) adds what PMP needs: a
/// section that adds a permission (w or x) its predecessor lacked starts a
/// segment, on the granule or not (off it, lint reports the section: PMP
/// cannot protect it apart), and a writable and
/// executable section among code is described `rx` (code after writable
/// data is no order a spec may have), else `rw`.
pub fn sections_for(
    facts: &Facts,
    section_align: u64,
    bare: bool,
) -> Result<Vec<ImageSection>, String> {
    let mut out: Vec<ImageSection> = Vec::new();
    let mut used_segments: Vec<String> = Vec::new();
    for (i, sec) in facts.sections.iter().enumerate() {
        if !nameable_section(&sec.name) {
            return Err(format!(
                "section name `{}` cannot be written in a spec",
                sec.name
            ));
        }
        let among_code = |j: Option<usize>| {
            j.and_then(|j| facts.sections.get(j))
                .is_some_and(|s| s.exec && !s.write)
        };
        let perms = if bare
            && sec.write
            && sec.exec
            && (among_code(i.checked_sub(1)) || among_code(Some(i + 1)))
        {
            "rx"
        } else {
            perms_of(sec)
        };
        let starts_load = facts.loads.iter().any(|l| l.vaddr == sec.addr);
        let new_segment = out.last().is_none_or(|prev| {
            let on_granule = sec.addr.is_multiple_of(section_align);
            let adds = |p: char| perms.contains(p) && !prev.perms.contains(p);
            (on_granule && (starts_load || perms != prev.perms))
                || (bare && (adds('w') || adds('x')))
        });
        let segment = match out.last() {
            Some(prev) if !new_segment => prev.segment.clone(),
            _ => segment_id(&sec.name, i, &mut used_segments),
        };
        let gap = i > 0 && (sec.addr as u128) > facts.sections[i - 1].end();
        let align = alignment(sec, new_segment, gap, section_align);
        let mut comments = Vec::new();
        if sec.write && sec.exec {
            comments.push(format!(
                "{TODO} the ELF has {} writable AND executable (a W^X violation); described as {perms} so lint reports it",
                sec.name
            ));
        }
        out.push(ImageSection {
            sec: sec.clone(),
            segment,
            perms,
            align,
            start_symbols: Vec::new(),
            end_symbols: Vec::new(),
            comments,
        });
    }
    if !bare {
        writable_before_code(&mut out);
    }
    Ok(out)
}

/// Writable data before code (arm64 Linux's `.rodata`, writable in the
/// ELF for its `.data..ro_after_init`, before `.init.text`): no spec may
/// order sections so, as linkers would merge them into a writable and
/// executable PT_LOAD. Such a section is described `r` with a TODO, so
/// that lint reports its flags (LG008) and any PT_LOAD made W+X (LG006).
fn writable_before_code(out: &mut [ImageSection]) {
    let Some(last_code) = out.iter().rposition(|s| s.perms.contains('x')) else {
        return;
    };
    for s in &mut out[..last_code] {
        if s.perms.contains('w') {
            s.comments.push(format!(
                "{TODO} the ELF has {} writable before executable sections; described as r so lint reports it",
                s.sec.name
            ));
            s.perms = "r";
        }
    }
}

/// A relocatable image's dynamic tables (`names`) are placed by the
/// generated script, not by the spec: they leave the list, and a section
/// that now starts its segment on the granule takes the segment's default
/// alignment (section_align) instead of its own smaller one.
pub fn drop_dynamic(sections: &mut Vec<ImageSection>, names: &[&str], section_align: u64) {
    sections.retain(|s| !names.contains(&s.sec.name.as_str()));
    for i in 0..sections.len() {
        let first = i == 0 || sections[i - 1].segment != sections[i].segment;
        let s = &mut sections[i];
        let small = s.align.is_some_and(|(a, _)| a < section_align);
        if first && small && s.sec.addr.is_multiple_of(section_align) {
            s.align = None;
        }
    }
}

/// W^X forbids describing rwx: the spec says rw, lint reports the x.
fn perms_of(s: &Section) -> &'static str {
    match (s.write, s.exec) {
        (true, _) => "rw",
        (false, true) => "rx",
        (false, false) => "r",
    }
}

/// A segment id from its first section's name (`seg{i}` when that gives
/// none), made unique among `used`, which it joins.
fn segment_id(section: &str, i: usize, used: &mut Vec<String>) -> String {
    let base = derive_id(section);
    let base = if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) {
        format!("seg{i}")
    } else {
        base
    };
    let mut id = base.clone();
    let mut n = 2;
    while used.contains(&id) {
        id = format!("{base}_{n}");
        n += 1;
    }
    used.push(id.clone());
    id
}

/// The alignment lint checks and a regenerated script reproduces: a
/// segment's first section defaults to section_align; after a gap, the page
/// (or granule) boundary the script aligned it to; when it follows its
/// predecessor directly, its own sh_addralign.
fn alignment(
    sec: &Section,
    first_in_segment: bool,
    gap: bool,
    section_align: u64,
) -> Option<(u64, &'static str)> {
    if first_in_segment {
        (sec.addralign > section_align).then_some((sec.addralign, "its sh_addralign"))
    } else if gap && sec.addr.is_multiple_of(section_align) {
        Some((section_align, "starts on a granule boundary after a gap"))
    } else if gap && sec.addr.is_multiple_of(PAGE_SIZE) {
        Some((PAGE_SIZE, "starts on a page boundary after a gap"))
    } else if sec.addralign > 1 {
        // A hostile sh_addralign above 2^63 has no next power of two.
        let pow = sec.addralign.checked_next_power_of_two().unwrap_or(1 << 63);
        let a = alignment_of(sec.addr, pow);
        Some((a, "its sh_addralign"))
    } else {
        None
    }
}

fn nameable_section(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$' | '-'))
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::*;

    const BASE: u64 = 0xffff_ffff_8000_0000;

    #[test]
    fn the_granule_is_what_permission_adding_loads_share() {
        // rx at BASE, r at +2 MiB (adds nothing), rw at +6 MiB (adds w).
        let f = facts(
            vec![section(".text", BASE, 0x1000, 4, X)],
            vec![
                load(BASE, 0x8020_0000, X),
                load(BASE + 2 * MIB, 0x8040_0000, R),
                load(BASE + 6 * MIB, 0x8080_0000, W),
            ],
        );
        assert_eq!(
            granule(&f),
            Granule {
                section_align: 2 * MIB,
                guessed: false
            }
        );
        // A permission-adding load on a 4 KiB boundary brings it down...
        let mut g = f.clone();
        g.loads[2] = load(BASE + 6 * MIB + 0x1000, 0x8080_1000, W);
        assert_eq!(granule(&g).section_align, 4 << 10);
        // ...and so does a VA - PA that is only 64 KiB-aligned.
        let mut g = f.clone();
        for l in &mut g.loads {
            l.paddr += 0x1_0000;
        }
        assert_eq!(granule(&g).section_align, 64 << 10);
    }

    #[test]
    fn without_a_permission_boundary_the_granule_is_a_2mib_guess() {
        let f = facts(
            vec![section(".text", 0x8000_0000, 0x1000, 4, X | W)],
            vec![load(0x8000_0000, 0x8000_0000, X | W)],
        );
        let g = granule(&f);
        assert_eq!(g.section_align, 2 * MIB);
        assert!(g.guessed);
        // Never below a page, even at an odd link address.
        let f = facts(vec![section(".text", 0x8000_0010, 0x10, 4, X)], vec![]);
        assert_eq!(granule(&f).section_align, PAGE_SIZE);
    }

    #[test]
    fn segments_start_at_granule_boundaries_that_start_a_load_or_change_perms() {
        const G: u64 = 2 * MIB;
        let f = facts(
            vec![
                section(".text", BASE, 0x1000, 4, X),
                // Follows .text in its PT_LOAD: same segment.
                section(".text.more", BASE + 0x1000, 0x1000, 4, X),
                // Changes perms, but off a granule boundary: same segment.
                section(".rodata", BASE + 0x2000, 0x1000, 8, R),
                // A granule boundary with new perms: a new segment.
                section(".data", BASE + G, 0x1000, 8, W),
                // A granule boundary that starts a load, same perms.
                section(".data.late", BASE + 2 * G, 0x1000, 8, W),
                // Same perms, on a boundary, no load starts: same segment.
                section(".sdata", BASE + 3 * G, 0x1000, 8, W),
                // New perms; its id would repeat `data`'s: numbered.
                section(".data$", BASE + 4 * G, 0x10, 8, R),
                // No id from the name: `seg{i}`.
                section("..", BASE + 5 * G, 0x10, 8, X),
            ],
            vec![
                load(BASE, 0x8020_0000, X),
                load(BASE + 2 * G, 0x8060_0000, W),
            ],
        );
        let s = sections(&f, G).unwrap();
        let segs: Vec<&str> = s.iter().map(|s| s.segment.as_str()).collect();
        assert_eq!(
            segs,
            [
                "text",
                "text",
                "text",
                "data",
                "data_late",
                "data_late",
                "data_2",
                "seg7"
            ]
        );
        assert_eq!(s[2].perms, "r");
    }

    #[test]
    fn a_wax_section_is_written_rw_with_a_todo() {
        let f = facts(vec![section(".init.pi", BASE, 0x100, 8, W | X)], vec![]);
        let s = &sections(&f, 2 * MIB).unwrap()[0];
        assert_eq!(s.perms, "rw");
        assert_eq!(s.comments.len(), 1);
        assert!(
            s.comments[0].starts_with(
                "# TODO(layoutgen init --from-elf): the ELF has .init.pi writable AND executable"
            ),
            "{:?}",
            s.comments
        );
        let f = facts(vec![section(".text", BASE, 0x100, 8, X)], vec![]);
        let s = &sections(&f, 2 * MIB).unwrap()[0];
        assert_eq!((s.perms, s.comments.len()), ("rx", 0));
        let f = facts(vec![section(".rodata", BASE, 0x100, 8, R)], vec![]);
        assert_eq!(sections(&f, 2 * MIB).unwrap()[0].perms, "r");
    }

    /// arm64 Linux: `.rodata` (writable for `.data..ro_after_init`) before
    /// `.init.text`; code after it is no order a spec may have.
    #[test]
    fn writable_data_before_code_is_written_r_with_a_todo() {
        let f = facts(
            vec![
                section(".text", BASE, 0x100, 8, X),
                section(".rodata", BASE + 0x1_0000, 0x100, 8, W),
                section(".rodata.text", BASE + 0x1_1000, 0x100, 8, X),
                section(".init.text", BASE + 0x2_0000, 0x100, 8, X),
                section(".data", BASE + 0x3_0000, 0x100, 8, W),
            ],
            vec![],
        );
        let s = sections(&f, 0x1_0000).unwrap();
        let perms: Vec<_> = s.iter().map(|s| s.perms).collect();
        assert_eq!(perms, ["rx", "r", "rx", "rx", "rw"]);
        assert!(s[1].comments[0].contains(".rodata writable before executable sections"));
        assert!(
            s[4].comments.is_empty(),
            "data after the last code stays rw"
        );
    }

    #[test]
    fn alignment_follows_the_section_placement() {
        const G: u64 = 2 * MIB;
        let f = facts(
            vec![
                // A segment's first: only an sh_addralign above the granule.
                section(".text", BASE, 0x1000, 4 * MIB, X),
                // Directly after its predecessor: its sh_addralign, as far
                // as its address honours it.
                section(".text.a", BASE + 0x1000, 0x10, 16, X),
                section(".text.b", BASE + 0x1010, 0x10, 1, X),
                // After a gap, on a page boundary.
                section(".text.c", BASE + 0x3000, 0x10, 8, X),
                // After a gap, on a granule boundary (same segment: no
                // load starts, same perms).
                section(".text.d", BASE + G, 0x10, 8, X),
            ],
            vec![load(BASE, 0x8020_0000, X)],
        );
        let s = sections(&f, G).unwrap();
        let aligns: Vec<_> = s.iter().map(|s| s.align).collect();
        assert_eq!(
            aligns,
            [
                Some((4 * MIB, "its sh_addralign")),
                Some((16, "its sh_addralign")),
                None,
                Some((PAGE_SIZE, "starts on a page boundary after a gap")),
                Some((G, "starts on a granule boundary after a gap")),
            ]
        );
    }

    #[test]
    fn a_section_name_a_spec_cannot_hold_is_an_error() {
        let f = facts(vec![section(".text with space", BASE, 0x100, 8, X)], vec![]);
        let e = sections(&f, 2 * MIB).unwrap_err();
        assert!(e.contains("`.text with space` cannot be written"), "{e}");
    }

    /// U-Boot's shape: code, a WAX section among code, more code,
    /// read-only data, writable data off the 4 KiB granule, read-only
    /// tables after it, .bss on the granule; one RWX PT_LOAD.
    #[test]
    fn without_paging_permission_gains_start_segments_and_wax_code_is_rx() {
        const FW: u64 = 0x8000_0000;
        let f = facts(
            vec![
                section(".text", FW, 0x200, 4, X),
                section(".efi_runtime", FW + 0x200, 0x100, 8, X | W),
                section(".text_rest", FW + 0x300, 0x1000, 4, X),
                section(".rodata", FW + 0x1300, 0x100, 8, R),
                section(".data", FW + 0x1400, 0x100, 8, W),
                section(".rela.dyn", FW + 0x1500, 0x100, 8, R),
                section(".bss", FW + 0x2000, 0x100, 8, W | NOBITS),
            ],
            vec![load(FW, FW, X | W)],
        );
        let s = sections_for(&f, PAGE_SIZE, true).unwrap();
        let got: Vec<(&str, &str)> = s.iter().map(|o| (o.segment.as_str(), o.perms)).collect();
        assert_eq!(
            got,
            [
                ("text", "rx"),
                ("text", "rx"),
                ("text", "rx"),
                ("text", "r"),
                ("data", "rw"),
                ("data", "r"),
                ("bss", "rw"),
            ]
        );
        assert!(
            s[1].comments[0].contains("described as rx"),
            "{:?}",
            s[1].comments
        );
        // A paging kernel keeps one segment per granule boundary.
        let paged = sections_for(&f, PAGE_SIZE, false).unwrap();
        assert_eq!(paged[4].segment, "text");
        // A WAX section away from code is data.
        let mut g = f.clone();
        g.sections.truncate(1);
        g.sections[0].write = true;
        assert_eq!(sections_for(&g, PAGE_SIZE, true).unwrap()[0].perms, "rw");
    }

    #[test]
    fn dropped_dynamic_tables_leave_a_segment_start_its_default_alignment() {
        let f = facts(
            vec![
                section(".text", 0, 0x100, 4, X),
                section(".dynamic", 0x2ef0, 0x110, 8, W),
                section(".data", 0x3000, 0x8, 8, W),
                section(".bss", 0x3010, 0x100, 16, W | NOBITS),
            ],
            vec![load(0, 0, X), load(0x2ef0, 0x2ef0, W)],
        );
        let mut s = sections_for(&f, PAGE_SIZE, true).unwrap();
        assert_eq!(s[2].align, Some((8, "its sh_addralign")));
        drop_dynamic(&mut s, &[".dynamic"], PAGE_SIZE);
        let names: Vec<&str> = s.iter().map(|o| o.sec.name.as_str()).collect();
        assert_eq!(names, [".text", ".data", ".bss"]);
        assert_eq!(s[1].align, None, "it starts its segment on the granule");
        assert_eq!(s[2].align, Some((16, "its sh_addralign")));
    }
}
