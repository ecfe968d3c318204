//! Regression tests for the classes of careless and hostile specs that used
//! to pass `check` and then break the build, be silently ignored, or be
//! reported without a place: each asserts the rule id, the key and the line.

use crate::support::cli::layoutgen;
use crate::support::specs::check_text;
use crate::support::specs::{self, BASE};
use crate::support::{committed_file_is_current, root};
use layoutgen::{Diagnostic, Rule};

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

/// The line that contains `needle` (which must occur once).
fn line_with(text: &str, needle: &str) -> usize {
    assert_eq!(
        text.matches(needle).count(),
        1,
        "`{needle}` must occur once"
    );
    line_of(text, text.find(needle).unwrap())
}

/// Asserts a diagnostic with `rule` at `key` on `line`, and returns it.
#[track_caller]
fn fails_at(text: &str, rule: Rule, key: &str, line: usize) -> Diagnostic {
    let errs = check_text(text, "t.toml").err().unwrap_or_default();
    let found = errs.iter().find(|d| {
        d.rule == rule
            && d.key() == Some(key)
            && d.labels
                .iter()
                .any(|l| l.primary && !l.span.is_empty() && line_of(text, l.span.start) == line)
    });
    match found {
        Some(d) => d.clone(),
        None => panic!("expected {rule} at `{key}` on line {line}, got: {errs:#?}"),
    }
}

// 1. Names that collide in generated code.

#[test]
fn region_names_of_generated_items_are_reserved() {
    for name in [
        "_",
        "layout",
        "regions",
        "page_offset",
        "linear_offset",
        "kaslr",
        "ram",
        "image",
        "top",
        "kernel_half",
    ] {
        let text = format!(
            "{}\n[region.{name}]\nstart = \"kernel_half\"\nsize = \"1GiB\"\n",
            BASE
        );
        let line = line_with(&text, &format!("[region.{name}]"));
        let d = fails_at(&text, Rule::Identifier, &format!("region.{name}"), line);
        assert!(d.message.contains("reserved"), "{name}: {}", d.message);
    }
}

#[test]
fn every_reserved_name_is_reserved_for_a_reason_the_outputs_show() {
    // The table is not a guess: each name really is an item of the
    // generated outputs or a word of the spec grammar.
    // The semi-PIC layout has KASLR, so its header has the KASLR macros.
    let layout = specs::layout("qemu-virt-semipic");
    let templates = layoutgen::Templates::new(None).unwrap();
    let rs = templates.render(&layout, layoutgen::Output::Rust).unwrap();
    let h = templates
        .render(&layout, layoutgen::Output::CHeader)
        .unwrap();
    for (name, _) in layoutgen::spec::names::RESERVED_REGION_NAMES {
        let upper = name.to_uppercase();
        let used = match name {
            "_" => true,
            "kaslr" => h.contains("LAYOUTGEN_SV39_KASLR_START"),
            "ram" | "image" | "top" | "kernel_half" => true,
            _ => rs.contains(&format!("pub const {upper}:")),
        };
        assert!(used, "`{name}` is reserved but nothing generated uses it");
    }
}

#[test]
fn a_section_id_that_makes_a_symbol_twice_is_refused() {
    // `image` → __image_start, which the image's own start symbol is.
    let text = specs::edit(
        BASE,
        "name = \".rodata\"",
        "name = \".rodata\"\nid = \"image\"",
    );
    let line = line_with(&text, "name = \".rodata\"");
    let d = fails_at(
        &text,
        Rule::Identifier,
        "image.section.image.start_symbols",
        line,
    );
    assert!(d.message.contains("`__image_start` again"), "{}", d.message);
}

#[test]
fn linker_script_keywords_are_refused_as_symbols_and_patterns() {
    let text = specs::edit(
        BASE,
        "name = \".rodata\"\nperms = \"r\"",
        "name = \".rodata\"\nperms = \"r\"\nstart_symbols = [\"ALIGN\"]",
    );
    let line = line_with(&text, "[\"ALIGN\"]");
    fails_at(
        &text,
        Rule::Identifier,
        "image.section.rodata.start_symbols",
        line,
    );
    let text = specs::edit(
        BASE,
        "name = \".rodata\"\nperms = \"r\"",
        "name = \".rodata\"\nperms = \"r\"\ninput = [\"KEEP\"]",
    );
    let line = line_with(&text, "[\"KEEP\"]");
    fails_at(&text, Rule::Identifier, "image.section.rodata.input", line);
}

// 2. Sections that break the linker script.

#[test]
fn two_sections_of_one_name_are_refused() {
    let text = specs::edit(
        BASE,
        "name = \".rodata\"",
        "name = \".text\"\nid = \"text2\"",
    );
    let line = line_with(&text, "id = \"text2\"") - 1;
    let d = fails_at(&text, Rule::Segment, "image.section.text2.name", line);
    assert!(d.message.contains("used twice"), "{}", d.message);
}

// 3. Silently ignored input.

#[test]
fn an_empty_input_list_is_refused() {
    let text = specs::edit(
        BASE,
        "input = [\".text.entry\", \".text\", \".text.*\"]",
        "input = []",
    );
    let line = line_with(&text, "input = []");
    fails_at(&text, Rule::Identifier, "image.section.text.input", line);
}

#[test]
fn a_per_mode_value_for_an_unlisted_mode_is_refused() {
    let text = specs::edit(
        BASE,
        "size = \"64GiB\"",
        "size = { sv39 = \"64GiB\", sv48 = \"64GiB\" }",
    );
    let line = line_with(&text, "sv48 = \"64GiB\"");
    let d = fails_at(&text, Rule::Resolve, "region.vmalloc.size", line);
    assert!(d.message.contains("sv48"), "{}", d.message);
}

#[test]
fn a_per_mode_value_where_one_value_is_meant_is_refused() {
    let text = specs::edit(
        BASE,
        "section_align = \"2MiB\"",
        "section_align = { sv39 = \"2MiB\" }",
    );
    let line = line_with(&text, "section_align = ");
    fails_at(&text, Rule::Resolve, "image.section_align", line);
}

#[test]
fn region_modes_the_spec_does_not_list_are_refused() {
    let text = format!(
        "{}\n[region.x]\nstart = \"kernel_half\"\nsize = \"1GiB\"\nmodes = [\"sv48\"]\n",
        BASE
    );
    let line = line_with(&text, "modes = [\"sv48\"]");
    fails_at(&text, Rule::Resolve, "region.x.modes", line);
}

// 4. Errors with a place.

#[test]
fn a_failed_slot_is_not_reported_missing_as_well() {
    let text = specs::edit(
        BASE,
        "start = \"top - 2GiB\"",
        "start = \"top - 2GiB - nothere.size\"",
    );
    let errs = check_text(&text, "t.toml").unwrap_err();
    let line = line_with(&text, "nothere.size");
    fails_at(&text, Rule::Resolve, "region.kernel.start", line);
    assert!(
        !errs.iter().any(|d| d.message.contains("names no region")),
        "follow-on error: {errs:#?}"
    );
}

#[test]
fn a_per_mode_slot_mismatch_says_what_differs() {
    let text = BASE
        .replace("modes = [\"sv39\"]", "modes = [\"sv39\", \"sv48\"]")
        .replace(
            "end = \"top\"\nalign = \"2MiB\"",
            "end = { sv39 = \"top\", sv48 = \"top - 2MiB\" }\nalign = \"2MiB\"",
        )
        .replace(
            "start = \"0xffff_ffd6_0000_0000\"",
            "start = { sv39 = \"0xffff_ffd6_0000_0000\", sv48 = \"0xffff_af80_0000_0000\" }",
        );
    let line = line_with(&text, "slot = \"kernel\"");
    let d = fails_at(&text, Rule::SlotPerMode, "image.slot", line);
    assert!(d.message.contains("the slot's size"), "{}", d.message);
    assert!(d.message.contains("2 GiB vs 2046 MiB"), "{}", d.message);
}

#[test]
fn duplicate_keys_name_the_key_and_table() {
    let text = format!(
        "{}\n[region.x]\nstart = \"kernel_half\"\nstart = \"kernel_half\"\nsize = \"1GiB\"\n",
        BASE
    );
    let errs = check_text(&text, "t.toml").unwrap_err();
    let d = &errs[0];
    assert_eq!(d.rule, Rule::Syntax);
    assert!(
        d.message.contains("duplicate key `start` in [region.x]"),
        "{}",
        d.message
    );
    let span = d.labels[0].span.clone();
    assert_eq!(line_of(&text, span.start), text.lines().count() - 1);
}

#[test]
fn recursion_limit_points_at_the_chain() {
    let chain: String = (0..100)
        .map(|i| {
            format!(
                "[region.r{i}]\nstart = \"r{}.end\"\nsize = \"4KiB\"\n",
                i + 1
            )
        })
        .collect();
    let text = format!(
        "{}\n{chain}[region.r100]\nstart = \"kernel_half\"\nsize = \"4KiB\"\n",
        BASE
    );
    let errs = check_text(&text, "t.toml").unwrap_err();
    let d = errs
        .iter()
        .find(|d| d.message.contains("nest deeper"))
        .expect("a depth error");
    let primary = d.labels.iter().find(|l| l.primary).unwrap();
    assert!(!primary.span.is_empty(), "{d:#?}");
    assert!(d.key().unwrap().starts_with("region.r"), "{d:#?}");
}

#[test]
fn invalid_utf8_gets_its_byte_offset_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = BASE.as_bytes().to_vec();
    let at = bytes.len();
    bytes.extend_from_slice(b"# \xff\n");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, &bytes).unwrap();
    let o = layoutgen(&["check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("invalid byte at offset {}", at + 2)),
        "{err}"
    );
    let line = BASE.lines().count() + 1;
    assert!(err.contains(&format!("bad.toml:{line}:3")), "{err}");
}

#[test]
fn very_long_lines_are_shown_as_a_window_with_the_real_column() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{}\n[region.x]\ndescription = \"{}\n",
        BASE,
        "a".repeat(5000)
    );
    let path = dir.path().join("long.toml");
    std::fs::write(&path, &text).unwrap();
    let o = layoutgen(&["check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.lines().all(|l| l.chars().count() < 300), "{err}");
    let line = text.lines().count();
    assert!(err.contains(&format!("long.toml:{line}:5016")), "{err}");
}

// 5. Unbounded reads.

#[test]
fn endless_inputs_stop_at_the_cap() {
    for args in [&["check", "/dev/zero"][..], &["show", "--dtb", "/dev/zero"]] {
        let o = layoutgen(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("larger than"), "{args:?}: {err}");
    }
}

#[test]
fn an_oversized_template_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("t");
    std::fs::create_dir(&templates).unwrap();
    std::os::unix::fs::symlink("/dev/zero", templates.join("layout.rs.j2")).unwrap();
    let err = match layoutgen::Templates::new(Some(&templates)) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("an endless template was accepted"),
    };
    assert!(err.contains("larger than"), "{err}");
}

// 6. Exit-code classes: structural mistakes are input errors.

#[test]
fn structural_mistakes_exit_2_and_invariants_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let empty_modes = write(
        "m.toml",
        &specs::edit(BASE, "modes = [\"sv39\"]", "modes = []"),
    );
    let zero = write(
        "z.toml",
        &format!(
            "{}\n[region.z]\nstart = \"kernel_half\"\nsize = \"0\"\n",
            BASE
        ),
    );
    let overlap = write(
        "o.toml",
        &specs::edit(
            BASE,
            "end = \"linear_map.start\"",
            "end = \"linear_map.start + 4KiB\"",
        ),
    );
    for (path, code) in [(&empty_modes, 2), (&zero, 2), (&overlap, 1)] {
        let o = layoutgen(&["check", path.to_str().unwrap()]);
        assert_eq!(
            o.status.code(),
            Some(code),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn the_name_rules_in_docs_are_the_ones_the_code_uses() {
    let path = root().join("docs/spec.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (begin, end) = ("<!-- names:begin -->\n", "<!-- names:end -->");
    let start = doc.find(begin).expect("names:begin marker") + begin.len();
    let stop = doc.find(end).expect("names:end marker");
    let want = layoutgen::spec::names::markdown();
    let fresh = format!("{}{want}{}", &doc[..start], &doc[stop..]);
    assert!(
        committed_file_is_current(&path, &fresh),
        "docs/spec.md's name table is stale: run UPDATE_DOCS=1 cargo test --test integration hostile_specs::"
    );
}
