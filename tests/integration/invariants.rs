//! One negative test per invariant: the smallest change to a sound spec
//! (`specs::BASE`) that breaks it, and an assertion that the error names the
//! rule and the key.

use crate::support::root;
use crate::support::specs::check_text;
use crate::support::specs::{self, BASE};
use layoutgen::{Diagnostic, Rule};

/// BASE with `from` replaced by `to` (which must occur exactly once).
fn edit(from: &str, to: &str) -> String {
    specs::edit(BASE, from, to)
}

fn errors(text: &str) -> Vec<Diagnostic> {
    match check_text(text, "test.toml") {
        Ok(_) => Vec::new(),
        Err(d) => d,
    }
}

/// Asserts that `text` fails with `rule` at `key` (and returns that finding).
#[track_caller]
fn assert_fails(text: &str, rule: Rule, key: &str) -> Diagnostic {
    let errs = errors(text);
    let found = errs.iter().find(|d| d.rule == rule && d.key() == Some(key));
    match found {
        Some(d) => {
            assert!(d.help.is_some(), "finding without a fix: {d:?}");
            let primary = d.labels.iter().find(|l| l.primary).unwrap();
            if !primary.span.is_empty() {
                let _ = &text[primary.span.clone()]; // the span lies inside the text
            }
            d.clone()
        }
        None => panic!("expected {rule} at `{key}`, got: {errs:#?}"),
    }
}

#[test]
fn base_spec_is_sound() {
    assert_eq!(errors(BASE), vec![]);
}

#[test]
fn rejects_non_canonical_region() {
    let text =
        format!("{BASE}\n[region.odd]\nstart = \"0xffff_ff00_0000_0000\"\nsize = \"1GiB\"\n");
    let d = assert_fails(&text, Rule::Canonical, "region.odd.start");
    assert!(d.message.contains("not canonical in sv39"), "{}", d.message);
}

#[test]
fn canonical_in_every_listed_mode() {
    // Canonical in Sv48 but not in Sv39.
    let text = edit(r#"modes = ["sv39"]"#, r#"modes = ["sv39", "sv48"]"#)
        + "\n[region.wide]\nstart = \"0xffff_8000_0000_0000\"\nsize = \"1GiB\"\n";
    let d = assert_fails(&text, Rule::Canonical, "region.wide.start");
    assert_eq!(d.mode, Some(layoutgen::arch::PagingMode::Sv39));
}

#[test]
fn rejects_kernel_region_in_user_half() {
    let text = format!("{BASE}\n[region.low]\nstart = \"0x1000_0000\"\nsize = \"1GiB\"\n");
    assert_fails(&text, Rule::KernelHalf, "region.low.start");
}

#[test]
fn rejects_user_region_in_kernel_half() {
    let text = format!("{BASE}\n[region.user]\nstart = \"kernel_half\"\nsize = \"1GiB\"\n");
    assert_fails(&text, Rule::KernelHalf, "region.user.start");
}

#[test]
fn rejects_overlapping_regions_and_points_at_both() {
    let text = edit(
        r#"end = "linear_map.start""#,
        r#"end = "linear_map.start + 4KiB""#,
    );
    let d = assert_fails(&text, Rule::Overlap, "region.linear_map.start");
    assert!(d.message.contains("`vmalloc`") && d.message.contains("`linear_map`"));
    let keys: Vec<&str> = d.labels.iter().map(|l| l.key.as_str()).collect();
    assert!(keys.contains(&"region.vmalloc.start"), "{keys:?}");
}

#[test]
fn rejects_region_wrapping_past_top() {
    let text = edit(r#"end = "top""#, r#"end = "top - 4GiB""#);
    let d = assert_fails(&text, Rule::Wrap, "region.kernel.end");
    assert!(d.message.contains("below its start"), "{}", d.message);
    let text = format!("{BASE}\n[region.past]\nstart = \"top - 1GiB\"\nsize = \"2GiB\"\n");
    let d = assert_fails(&text, Rule::Wrap, "region.past.start");
    assert!(d.message.contains("wraps"), "{}", d.message);
}

#[test]
fn rejects_expression_below_zero() {
    let text = edit(r#"base = "0x8000_0000""#, r#"base = "0x1000 - 0x2000""#);
    let errs = errors(&text);
    assert!(
        errs.iter()
            .any(|d| d.rule == Rule::Wrap && d.key() == Some("ram.base")),
        "{errs:#?}"
    );
}

#[test]
fn rejects_misaligned_region() {
    let text = edit(r#"size = "64GiB""#, r#"size = "64GiB - 4KiB""#)
        .replace("[region.vmalloc]", "[region.vmalloc]\nalign = \"2MiB\"");
    assert_fails(&text, Rule::Align, "region.vmalloc.start");
}

#[test]
fn rejects_non_power_of_two_alignment() {
    let text = edit(r#"section_align = "2MiB""#, r#"section_align = "3MiB""#);
    assert_fails(&text, Rule::Align, "image.section_align");
}

#[test]
fn rejects_linear_map_leaf_when_va_and_pa_disagree() {
    // VA - PA must be a multiple of 1 GiB for gigapages.
    let text = edit(
        r#"start = "0xffff_ffd6_0000_0000""#,
        r#"start = "0xffff_ffd6_0020_0000""#,
    )
    .replace(
        "size = \"128GiB\"\nalign = \"1GiB\"",
        "size = \"127GiB\"\nalign = \"2MiB\"",
    );
    let d = assert_fails(&text, Rule::Leaf, "region.linear_map.leaf");
    assert!(d.message.contains("VA−PA offset"), "{}", d.message);
}

#[test]
fn rejects_image_offset_not_congruent_to_section_align() {
    let text = edit(
        r#"link = "kernel.start + 0x20_0000""#,
        r#"link = "kernel.start + 0x10_0000""#,
    );
    assert_fails(&text, Rule::Leaf, "image.link");
}

#[test]
fn rejects_leaf_size_the_mode_cannot_map() {
    let text = edit(r#"leaf = "1GiB""#, r#"leaf = "512GiB""#);
    let d = assert_fails(&text, Rule::Leaf, "region.linear_map.leaf");
    assert!(d.help.as_deref().unwrap().contains("4 KiB, 2 MiB, 1 GiB"));
}

#[test]
fn rejects_kernel_slot_that_moves_between_modes() {
    let text = edit(r#"modes = ["sv39"]"#, r#"modes = ["sv39", "sv48"]"#).replace(
        r#"start = "top - 2GiB""#,
        r#"start = { sv39 = "top - 2GiB", sv48 = "top - 4GiB" }"#,
    );
    let text = text.replace(
        "end = \"top\"\nalign = \"2MiB\"",
        "size = \"2GiB\"\nalign = \"2MiB\"",
    );
    assert_fails(&text, Rule::SlotPerMode, "image.slot");
}

#[test]
fn rejects_modules_out_of_reach() {
    let text = edit(
        r#"start = "image.end - 2GiB""#,
        r#"start = "kernel.start - 4GiB""#,
    );
    let d = assert_fails(&text, Rule::ModulesReach, "region.modules.start");
    assert!(d.message.contains("±2 GiB"));
}

#[test]
fn rejects_semi_pic_slot_in_the_abs32_window() {
    let text = edit(r#"code_model = "fixed""#, r#"code_model = "semi-pic""#);
    let d = assert_fails(&text, Rule::SemiPicWindow, "region.kernel.start");
    assert!(d.message.contains("[-2 GiB, +2 GiB)"));
}

#[test]
fn rejects_gp_relaxation_in_a_pie() {
    let text = edit(r#"code_model = "fixed""#, r#"code_model = "pie""#);
    assert_fails(&text, Rule::GpPolicy, "gp.policy");
}

#[test]
fn rejects_gp_in_a_read_only_section() {
    let text = edit(
        r#"policy = "relax""#,
        "policy = \"relax\"\nsection = \".rodata\"",
    );
    assert_fails(&text, Rule::GpPolicy, "gp.section");
}

#[test]
fn rejects_a_gp_offset_whose_window_misses_the_start_of_its_section() {
    // 1 GiB puts __global_pointer$ far outside the image; 0x801 already
    // leaves the section's first byte out of the ±2 KiB window.
    for offset in ["1GiB", "0x801"] {
        let text = edit(
            r#"policy = "relax""#,
            &format!("policy = \"relax\"\noffset = \"{offset}\""),
        );
        let d = assert_fails(&text, Rule::GpPolicy, "gp.offset");
        assert!(d.help.as_deref().unwrap().contains("[0, 0x800]"), "{d:?}");
    }
    for offset in ["0", "0x800"] {
        let text = edit(
            r#"policy = "relax""#,
            &format!("policy = \"relax\"\noffset = \"{offset}\""),
        );
        assert_eq!(errors(&text), vec![], "gp.offset = {offset}");
    }
}

#[test]
fn rejects_a_gp_offset_past_the_end_of_a_small_gp_section() {
    let text = edit(
        "name = \".data\"\nperms = \"rw\"",
        "name = \".data\"\nperms = \"rw\"\nmax_size = \"1KiB\"",
    );
    let d = assert_fails(&text, Rule::GpPolicy, "gp.offset");
    assert!(d.message.contains("past the end of `.data`"), "{d:?}");
}

#[test]
fn rejects_kaslr_for_a_fixed_image() {
    let text = format!(
        "{BASE}\n[kaslr]\nstart = \"kernel.start\"\nend = \"kernel.end\"\ngranule = \"2MiB\"\n"
    );
    assert_fails(&text, Rule::Kaslr, "kaslr");
}

/// A semi-PIC variant of BASE with its slot outside the ±2 GiB window.
fn semi_pic(kaslr: &str) -> String {
    edit(r#"code_model = "fixed""#, r#"code_model = "semi-pic""#)
        .replace(r#"policy = "relax""#, r#"policy = "disabled""#)
        .replace(
            "start = \"top - 2GiB\"\nend = \"top\"",
            "size = \"1GiB\"\nend = \"vmalloc.start\"",
        )
        .replace(
            r#"start = "image.end - 2GiB""#,
            r#"start = "kernel.end - 2GiB""#,
        )
        + "\n[kaslr]\n"
        + kaslr
}

#[test]
fn semi_pic_with_kaslr_is_sound() {
    let text = semi_pic("start = \"kernel.start\"\nend = \"kernel.end\"\ngranule = \"2MiB\"\n");
    assert_eq!(errors(&text), vec![]);
}

#[test]
fn rejects_kaslr_range_outside_the_slot() {
    let text =
        semi_pic("start = \"kernel.start\"\nend = \"kernel.end + 2MiB\"\ngranule = \"2MiB\"\n");
    // The end is what is wrong, so the finding points there.
    assert_fails(&text, Rule::Kaslr, "kaslr.end");
    let text =
        semi_pic("start = \"kernel.start - 2MiB\"\nend = \"kernel.end\"\ngranule = \"2MiB\"\n");
    assert_fails(&text, Rule::Kaslr, "kaslr.start");
}

#[test]
fn rejects_kaslr_granule_smaller_than_section_align() {
    let text = semi_pic("start = \"kernel.start\"\nend = \"kernel.end\"\ngranule = \"4KiB\"\n");
    assert_fails(&text, Rule::Kaslr, "kaslr.granule");
}

#[test]
fn rejects_kaslr_range_not_granule_aligned() {
    let text =
        semi_pic("start = \"kernel.start + 1MiB\"\nend = \"kernel.end\"\ngranule = \"2MiB\"\n");
    assert_fails(&text, Rule::Kaslr, "kaslr.start");
}

#[test]
fn rejects_image_larger_than_its_slot() {
    let text = edit(r#"max_size = "32MiB""#, r#"max_size = "3GiB""#)
        .replace(r#"min_size = "128MiB""#, r#"min_size = "4GiB""#)
        .replace(
            r#"start = "image.end - 2GiB""#,
            r#"start = "kernel.start - 1GiB""#,
        );
    assert_fails(&text, Rule::ImageFits, "image.max_size");
}

#[test]
fn rejects_sections_that_cannot_fit_the_image() {
    // Four 2 MiB-aligned sections need at least 8 MiB plus the stack.
    let text = edit(r#"max_size = "32MiB""#, r#"max_size = "6MiB""#);
    let d = assert_fails(&text, Rule::ImageFits, "image.max_size");
    assert!(
        d.message.contains("sections need at least"),
        "{}",
        d.message
    );
}

#[test]
fn rejects_load_address_outside_ram() {
    let text = edit(r#"load = "0x8020_0000""#, r#"load = "0x7000_0000""#);
    assert_fails(&text, Rule::Ram, "ram.load");
}

#[test]
fn rejects_linear_map_smaller_than_ram() {
    let text = edit(r#"max_size = "4GiB""#, r#"max_size = "256GiB""#);
    assert_fails(&text, Rule::Ram, "region.linear_map.size");
}

#[test]
fn rejects_writable_executable_section() {
    let text = edit(r#"perms = "rx""#, r#"perms = "rwx""#);
    assert_fails(&text, Rule::WriteXorExecute, "image.section.text.perms");
}

#[test]
fn rejects_names_that_would_inject_into_generated_code() {
    let text =
        format!("{BASE}\n[region.\"evil;name\"]\nstart = \"kernel_half\"\nsize = \"4KiB\"\n");
    assert_fails(&text, Rule::Identifier, "region.evil;name");
    let text = edit(
        r#"input = [".text.entry", ".text", ".text.*"]"#,
        r#"input = [".text) } INCLUDE evil.ld { *(.x"]"#,
    );
    assert_fails(&text, Rule::Identifier, "image.section.text.input");
    let text = edit(
        r#"name = "base""#,
        "name = \"base\"\ndescription = \"*/ evil\"",
    );
    assert_fails(&text, Rule::Identifier, "description");
    let text = edit(r#"name = "base""#, r#"name = "Base Layout""#);
    assert_fails(&text, Rule::Identifier, "name");
}

#[test]
fn rejects_unknown_keys_with_their_location() {
    let text = edit(
        r#"section_align = "2MiB""#,
        "section_align = \"2MiB\"\nsection_alignment = 4",
    );
    let errs = errors(&text);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].rule, Rule::Syntax);
    assert!(
        errs[0].message.contains("section_alignment"),
        "{}",
        errs[0].message
    );
    let span = errs[0].labels[0].span.clone();
    assert!(text[span].contains("section_alignment"));
}

#[test]
fn rejects_ambiguous_units_with_a_fix() {
    let text = edit(r#"max_size = "32MiB""#, r#"max_size = "32MB""#);
    let errs = errors(&text);
    assert_eq!(errs[0].rule, Rule::Syntax);
    assert!(
        errs[0].message.contains("write `MiB`"),
        "{}",
        errs[0].message
    );
}

#[test]
fn rejects_unknown_references_and_cycles() {
    let text = edit(r#"end = "linear_map.start""#, r#"end = "linearmap.start""#);
    let errs = errors(&text);
    assert!(
        errs.iter()
            .any(|d| d.rule == Rule::Resolve && d.message.contains("no region `linearmap`")),
        "{errs:#?}"
    );
    let text = edit(
        r#"start = "0xffff_ffd6_0000_0000""#,
        r#"start = "vmalloc.end""#,
    );
    let errs = errors(&text);
    assert!(
        errs.iter()
            .any(|d| d.rule == Rule::Resolve && d.message.contains("circular reference")),
        "{errs:#?}"
    );
}

#[test]
fn rejects_region_without_exactly_two_placements() {
    let text = edit(
        "size = \"64GiB\"\nend = \"linear_map.start\"",
        "size = \"64GiB\"",
    );
    let errs = errors(&text);
    assert!(
        errs.iter().any(|d| d
            .message
            .contains("exactly two of `start`, `size` and `end`")),
        "{errs:#?}"
    );
}

#[test]
fn rejects_per_mode_value_missing_a_mode() {
    let text = edit(r#"modes = ["sv39"]"#, r#"modes = ["sv39", "sv48"]"#).replace(
        r#"start = "0xffff_ffd6_0000_0000""#,
        r#"start = { sv39 = "0xffff_ffd6_0000_0000" }"#,
    );
    let errs = errors(&text);
    assert!(
        errs.iter()
            .any(|d| d.rule == Rule::Resolve && d.message.contains("no value for sv48")),
        "{errs:#?}"
    );
}

#[test]
fn every_rule_has_a_negative_test_here() {
    // Keeps this file honest when a rule is added: list the ids tested above.
    let tested = [
        Rule::Syntax,
        Rule::Resolve,
        Rule::Identifier,
        Rule::Canonical,
        Rule::KernelHalf,
        Rule::Overlap,
        Rule::Wrap,
        Rule::Align,
        Rule::Leaf,
        Rule::SlotPerMode,
        Rule::ModulesReach,
        Rule::SemiPicWindow,
        Rule::GpPolicy,
        Rule::Kaslr,
        Rule::ImageFits,
        Rule::Ram,
        Rule::WriteXorExecute,
        Rule::Structure,
        Rule::Segment,
        Rule::Load,
    ];
    let source = include_str!("invariants.rs");
    for rule in tested {
        let name = format!("Rule::{rule:?}");
        assert!(source.matches(&name).count() >= 2, "{name} has no test");
    }
}

#[test]
fn rejects_two_linear_maps_and_bad_slot() {
    let text = format!(
        "{BASE}\n[region.direct]\nkind = \"linear_map\"\nstart = \"kernel_half\"\nsize = \"1GiB\"\n"
    );
    let errs = errors(&text);
    assert!(
        errs.iter()
            .any(|d| d.rule == Rule::Structure && d.message.contains("at most one `linear_map`")),
        "{errs:#?}"
    );
    let text = edit(r#"slot = "kernel""#, r#"slot = "vmalloc""#);
    assert_fails(&text, Rule::Structure, "image.slot");
}

// The image model (docs/spec.md, `[image]`): sections by ELF name, segments,
// boundary symbols, the load rule.

#[test]
fn rejects_duplicate_section_names() {
    let text = edit(
        "[[image.section]]\nname = \".rodata\"",
        "[[image.section]]\nname = \".text\"\nid = \"text2\"",
    );
    let d = assert_fails(&text, Rule::Segment, "image.section.text2.name");
    assert!(d.message.contains("`.text` is used twice"), "{}", d.message);
}

#[test]
fn rejects_duplicate_section_ids() {
    // `.data` and `_data` both derive the id `data`.
    let text = edit(
        "[[image.section]]\nname = \".bss\"",
        "[[image.section]]\nname = \"_data\"\nperms = \"rw\"\n\n[[image.section]]\nname = \".bss\"",
    );
    let d = assert_fails(&text, Rule::Identifier, "image.section.data.id");
    assert!(d.message.contains("id of `.data` too"), "{}", d.message);
}

#[test]
fn rejects_a_segment_split_by_another() {
    let text = edit(
        "name = \".text\"\nperms = \"rx\"",
        "name = \".text\"\nsegment = \"core\"\nperms = \"rx\"",
    );
    let text = text.replace(
        "name = \".data\"\nperms = \"rw\"",
        "name = \".data\"\nsegment = \"core\"\nperms = \"rw\"",
    );
    let d = assert_fails(&text, Rule::Segment, "image.section.data.segment");
    assert!(
        d.message.contains("joins segment `core` again"),
        "{}",
        d.message
    );
}

#[test]
fn rejects_a_segment_start_below_section_align() {
    let text = edit(
        "name = \".rodata\"\nperms = \"r\"",
        "name = \".rodata\"\nperms = \"r\"\nalign = \"4KiB\"",
    );
    assert_fails(&text, Rule::Segment, "image.section.rodata.align");
}

#[test]
fn accepts_sections_inside_a_segment_at_their_own_alignment() {
    // Linux: .head.text then .text at 4 KiB inside one 2 MiB text segment.
    let text = edit(
        "[[image.section]]\nname = \".text\"\nperms = \"rx\"\ninput = [\".text.entry\", \".text\", \".text.*\"]",
        "[[image.section]]\nname = \".head.text\"\nsegment = \"text\"\nperms = \"rx\"\ninput = [\".text.entry\"]\n\n[[image.section]]\nname = \".text\"\nsegment = \"text\"\nperms = \"rx\"\nalign = \"8\"\nstart_symbols = [\"_stext\"]\nend_symbols = [\"_etext\"]",
    );
    let layout = check_text(&text, "t.toml").unwrap_or_else(|d| panic!("{d:#?}"));
    let text_sec = layout.image.section(".text").unwrap();
    assert_eq!((text_sec.align, text_sec.segment_start), (8, false));
    assert_eq!(text_sec.start_symbols, ["_stext"]);
    assert_eq!(layout.image.segments().count(), 4);
}

#[test]
fn rejects_a_segment_mixing_writable_and_executable_sections() {
    let text = edit(
        "name = \".data\"\nperms = \"rw\"",
        "name = \".data\"\nsegment = \"rodata\"\nperms = \"rw\"",
    )
    .replace(
        "name = \".rodata\"\nperms = \"r\"",
        "name = \".rodata\"\nperms = \"rx\"",
    );
    let d = assert_fails(&text, Rule::WriteXorExecute, "image.section.rodata.segment");
    assert!(
        d.message.contains("writable section `.data`"),
        "{}",
        d.message
    );
}

#[test]
fn rejects_section_names_in_the_old_grammar_and_unsafe_ones() {
    let text = edit("name = \".rodata\"", "name = \"rodata\"");
    let d = assert_fails(&text, Rule::Identifier, "image.section.rodata.name");
    assert!(d.help.as_deref().unwrap().contains("name = \".rodata\""));
    let text = edit("name = \".rodata\"", "name = \".rodata) }\"");
    assert_fails(&text, Rule::Identifier, "image.section.rodata.name");
    // A name whose derived id is empty needs an explicit one.
    let text = edit("name = \".rodata\"", "name = \"...\"");
    assert_fails(&text, Rule::Identifier, "image.section..id");
}

#[test]
fn rejects_bad_boundary_symbol_names_and_empty_input() {
    let text = edit(
        "name = \".rodata\"\nperms = \"r\"",
        "name = \".rodata\"\nperms = \"r\"\nstart_symbols = [\"a b\"]",
    );
    assert_fails(
        &text,
        Rule::Identifier,
        "image.section.rodata.start_symbols",
    );
    let text = edit(
        "name = \".rodata\"\nperms = \"r\"",
        "name = \".rodata\"\nperms = \"r\"\ninput = []",
    );
    assert_fails(&text, Rule::Identifier, "image.section.rodata.input");
}

#[test]
fn rejects_an_lma_the_image_does_not_run_at() {
    let text = edit(
        "max_size = \"32MiB\"",
        "max_size = \"32MiB\"\nlma = \"0x8040_0000\"",
    );
    let d = assert_fails(&text, Rule::Load, "image.lma");
    assert!(d.help.as_deref().unwrap().contains("phys_align"));
}

#[test]
fn accepts_linux_load_offset_rule_with_boot_placement() {
    let text = edit(
        "max_size = \"32MiB\"",
        "max_size = \"32MiB\"\nlma = \"image.start - 0xffff_ffff_8000_0000\"\nphys_align = \"2MiB\"",
    );
    let layout = check_text(&text, "t.toml").unwrap_or_else(|d| panic!("{d:#?}"));
    assert_eq!(layout.image.lma, 0x20_0000);
    assert_eq!(layout.image.phys_align, Some(2 << 20));
}

#[test]
fn rejects_a_phys_align_that_cannot_be_mapped() {
    let text = edit(
        "max_size = \"32MiB\"",
        "max_size = \"32MiB\"\nlma = \"0\"\nphys_align = \"4KiB\"",
    );
    assert_fails(&text, Rule::Load, "image.phys_align");
    let text = edit(
        "max_size = \"32MiB\"",
        "max_size = \"32MiB\"\nlma = \"0\"\nphys_align = \"1GiB\"",
    );
    let d = assert_fails(&text, Rule::Load, "ram.load");
    assert!(
        d.message.contains("not a multiple of image.phys_align"),
        "{}",
        d.message
    );
}

#[test]
fn rejects_an_unknown_relocation_type() {
    let text = edit(
        "max_size = \"32MiB\"",
        "max_size = \"32MiB\"\nrelocator = { types = [\"R_RISCV_HI20\"] }",
    );
    assert_fails(&text, Rule::Syntax, "image.relocator.types");
}

// Kernel shapes: no paging, lower-half regions, inserts.

#[test]
fn rejects_bare_mixed_with_paging_modes_and_a_linear_map_without_paging() {
    let text = edit(r#"modes = ["sv39"]"#, r#"modes = ["sv39", "bare"]"#);
    let d = assert_fails(&text, Rule::Structure, "modes");
    assert!(d.message.contains("`bare`"), "{}", d.message);
    let errs = errors(&edit(r#"modes = ["sv39"]"#, r#"modes = ["bare"]"#));
    assert!(
        errs.iter().any(|d| d.rule == Rule::Structure
            && d.message
                .contains("without paging (`bare`) has no linear map")),
        "{errs:#?}"
    );
}

#[test]
fn accepts_a_lower_half_kernel_and_rejects_one_left_in_the_upper_half_rule() {
    // An identity-mapped slot at the RAM base: lower half.
    let lower = edit(
        "[region.kernel]\nstart = \"top - 2GiB\"\nend = \"top\"",
        "[region.kernel]\nhalf = \"lower\"\nstart = \"ram.base\"\nend = \"ram.base + 2GiB\"",
    )
    .replace("link = \"kernel.start + 0x20_0000\"", "link = \"ram.load\"")
    .replace(
        "[region.modules]\nstart = \"image.end - 2GiB\"\nend = \"kernel.start\"\n",
        "",
    );
    let layout = check_text(&lower, "t.toml").unwrap_or_else(|d| panic!("{d:#?}"));
    assert_eq!(layout.modes[0].image_offset, 0);
    // The same region without `half = "lower"` is an upper-half region.
    let upper = lower.replace("half = \"lower\"\n", "");
    let d = assert_fails(&upper, Rule::KernelHalf, "region.kernel.start");
    assert!(d.help.as_deref().unwrap().contains("half = \"lower\""));
    // A lower-half region must stay below the user-half end.
    let high = format!(
        "{BASE}\n[region.tramp]\nhalf = \"lower\"\nstart = \"kernel_half\"\nsize = \"4KiB\"\n"
    );
    assert_fails(&high, Rule::KernelHalf, "region.tramp.start");
}

#[test]
fn rejects_an_insert_with_a_bad_symbol_or_no_input() {
    let text = edit(
        "input = [\".text.entry\", \".text\", \".text.*\"]",
        "input = [\".text.entry\", \".text\", \".text.*\"]\n\n[[image.section.insert]]\ninput = [\"trampsec\"]\nalign = \"4KiB\"\nsize = \"4KiB\"\nsymbol = \"tramp oline\"",
    );
    assert_fails(
        &text,
        Rule::Identifier,
        "image.section.text.insert.0.symbol",
    );
    let text = edit(
        "input = [\".text.entry\", \".text\", \".text.*\"]",
        "input = [\".text.entry\", \".text\", \".text.*\"]\n\n[[image.section.insert]]\ninput = []\nalign = \"4KiB\"\nsize = \"4KiB\"\nsymbol = \"trampoline\"",
    );
    assert_fails(&text, Rule::Identifier, "image.section.text.insert.0.input");
}

// A second architecture: aarch64 rules come from its ArchFacts.

fn aarch64() -> String {
    specs::text("qemu-virt-aarch64")
}

#[test]
fn rejects_modes_of_another_architecture() {
    let text = edit(r#"modes = ["sv39"]"#, r#"modes = ["va48"]"#);
    let d = assert_fails(&text, Rule::Structure, "modes");
    assert!(
        d.message.contains("not a paging mode of riscv64"),
        "{}",
        d.message
    );
    let text = aarch64().replace(r#"modes = ["va39", "va48"]"#, r#"modes = ["sv39"]"#);
    let d = assert_fails(&text, Rule::Structure, "modes");
    assert!(d.help.as_deref().unwrap().contains("va39, va48"), "{d:?}");
}

#[test]
fn rejects_riscv_only_concepts_on_aarch64() {
    let gp = aarch64() + "\n[gp]\npolicy = \"relax\"\n";
    let d = assert_fails(&gp, Rule::Structure, "gp.policy");
    assert!(d.message.contains("no global pointer"), "{}", d.message);
    let semi = aarch64().replace(r#"code_model = "fixed""#, r#"code_model = "semi-pic""#);
    let d = assert_fails(&semi, Rule::Structure, "code_model");
    assert!(d.help.as_deref().unwrap().contains("pie"), "{d:?}");
    let reloc = aarch64().replace(
        "entry = \"_start\"",
        "entry = \"_start\"\nrelocator = { types = [\"R_RISCV_RELATIVE\"] }",
    );
    assert_fails(&reloc, Rule::Syntax, "image.relocator.types");
}

#[test]
fn aarch64_layout_uses_ttbr1_and_4k_granule_blocks() {
    let layout = check_text(&aarch64(), "a.toml").unwrap_or_else(|d| panic!("{d:#?}"));
    let va48 = layout.mode(layoutgen::arch::PagingMode::Va48).unwrap();
    assert_eq!(va48.kernel_half, 0xffff_0000_0000_0000);
    assert_eq!(va48.page_offset, Some(0xffff_0000_0000_0000));
    assert_eq!(va48.mode_register, 16, "TCR_EL1.T1SZ = 64 - 48");
    assert_eq!(layout.gp.policy, layoutgen::spec::GpPolicy::Disabled);
    // No 512 GiB leaf with the 4 KiB granule.
    let big = aarch64().replace("leaf = \"1GiB\"", "leaf = \"512GiB\"");
    assert_fails(&big, Rule::Leaf, "region.linear_map.leaf");
}

#[test]
fn phys_align_follows_the_image_window_not_the_linear_maps_leaf() {
    // The boot-loader-picks-both design: the image inside a 1 GiB-leaf
    // linear map, placed at any 2 MiB-aligned address (its window is
    // mapped with section_align leaves).
    let bootpick =
        std::fs::read_to_string(root().join("sample-kernel/layouts/qemu-virt-bootpick.toml"))
            .unwrap();
    assert!(bootpick.contains("leaf = \"1GiB\""));
    check_text(&bootpick, "bootpick.toml").unwrap_or_else(|d| panic!("{d:#?}"));
    // A slot of its own mapped with 1 GiB leaves cannot take a 2 MiB placement.
    let text = edit(
        "max_size = \"32MiB\"",
        "max_size = \"32MiB\"\nlma = \"0\"\nphys_align = \"2MiB\"",
    )
    .replace(
        "align = \"2MiB\"\nleaf = \"2MiB\"",
        "align = \"1GiB\"\nleaf = \"1GiB\"",
    );
    assert_fails(&text, Rule::Load, "image.phys_align");
}

#[test]
fn rejects_a_relocatable_image_with_small_segment_alignment() {
    let text = semi_pic("start = \"kernel.start\"\nend = \"kernel.end\"\ngranule = \"2MiB\"\n")
        .replace("section_align = \"2MiB\"", "section_align = \"4KiB\"");
    let d = assert_fails(&text, Rule::Load, "image.section_align");
    assert!(d.message.contains("relocatable"), "{}", d.message);
}
