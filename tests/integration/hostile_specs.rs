//! Regression tests for the classes of careless and hostile specs that used
//! to pass `check` and then break the build, be silently ignored, or be
//! reported without a place. Most are data now, a spec per file in
//! `tests/data/rejected/` with the rule, key and line in its header (run by
//! `spec_cases`); here are the ones that need code: loops over names, bytes
//! that are not UTF-8, endless inputs, rendered output.

use crate::support::cli::layoutgen;
use crate::support::specs::{self, BASE, check_text, line_of};
use crate::support::{committed_file_is_current, root};
use layoutgen::{Diagnostic, Rule};

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

// 2. Errors with a place (more in tests/data/rejected/: duplicate-key.toml,
// reference-chain-too-deep.toml, ...).

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

// 3. Unbounded reads.

#[test]
fn endless_inputs_are_refused_and_large_files_stop_at_the_cap() {
    // A device is refused before it is read (it would never end)...
    for args in [&["check", "/dev/zero"][..], &["show", "--dtb", "/dev/zero"]] {
        let o = layoutgen(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("character device, not a regular file"),
            "{args:?}: {err}"
        );
    }
    // ...and a regular file is read up to the cap, not past it.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    let big = big.to_str().unwrap();
    for args in [&["check", big][..], &["show", "--dtb", big]] {
        let o = layoutgen(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("larger than"), "{args:?}: {err}");
    }
}

#[test]
fn an_oversized_or_endless_template_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("t");
    std::fs::create_dir(&templates).unwrap();
    std::os::unix::fs::symlink("/dev/zero", templates.join("layout.rs.j2")).unwrap();
    let err = match layoutgen::Templates::new(Some(&templates)) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("an endless template was accepted"),
    };
    assert!(err.contains("not a regular file"), "{err}");
    std::fs::remove_file(templates.join("layout.rs.j2")).unwrap();
    std::fs::File::create(templates.join("layout.rs.j2"))
        .unwrap()
        .set_len(2 << 20)
        .unwrap();
    let err = match layoutgen::Templates::new(Some(&templates)) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("an oversized template was accepted"),
    };
    assert!(err.contains("larger than"), "{err}");
}

// 4. The documentation of the rules.

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
