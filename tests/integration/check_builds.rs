//! "check says ok" means "it builds": one minimal spec per class of failure
//! the adversarial property test (`tests/integration/properties.rs`,
//! `check_ok_means_it_builds`) found. Each spec passes `layoutgen check`; the
//! test asserts that its generated `layout.rs`, `layout.h` and linker script
//! build (`elf_tools::builds`: rustc, cc as C and assembly, rust-lld and GNU
//! ld without warnings, lint clean) — or, where the class cannot be made to
//! build, that `check` now rejects it with a diagnostic at the right key.

use crate::support::elf_tools;

/// A minimal sound spec: Sv39, fixed, gp relaxed into `.data`. `extra` is
/// appended to the top-level table (before the sections), `sections` replace
/// the default four, `regions` are appended.
fn spec(top: &str, sections: Option<&str>, tail: &str) -> String {
    let sections = sections.unwrap_or(
        r#"
[[image.section]]
name = ".text"
perms = "rx"
input = [".text.entry", ".text", ".text.*"]

[[image.section]]
name = ".rodata"
perms = "r"

[[image.section]]
name = ".data"
perms = "rw"

[[image.section]]
name = ".bss"
perms = "rw"
"#,
    );
    format!(
        r#"name = "min"
arch = "riscv64"
modes = ["sv39"]
code_model = "fixed"
{top}
[ram]
base = "0x8000_0000"
min_size = "128MiB"
max_size = "1GiB"
load = "0x8020_0000"

[image]
slot = "kernel"
link = "top - 2GiB + 2MiB"
max_size = "32MiB"
section_align = "2MiB"
{sections}
[region.kernel]
start = "top - 2GiB"
end = "top"
align = "2MiB"
leaf = "2MiB"

[region.linear_map]
start = "kernel_half + 4GiB"
size = "16GiB"
align = "1GiB"
leaf = "1GiB"
{tail}"#
    )
}

fn assert_builds(text: &str) {
    let layout = match layoutgen::check_text(text, "min.toml") {
        Ok(l) => l,
        Err(d) => {
            panic!("check rejects the spec (the class may be fixed that way):\n{text}\n{d:#?}")
        }
    };
    let failures = elf_tools::builds(&layout);
    assert!(
        failures.is_empty(),
        "check accepts this spec, but it does not build:\n{text}\n{}",
        failures.join("\n\n")
    );
}

/// The class is closed by rejection: `check` refuses the spec, naming
/// `rule` at a key starting with `key`.
#[track_caller]
fn assert_rejected(text: &str, rule: layoutgen::Rule, key: &str) {
    match layoutgen::check_text(text, "min.toml") {
        Ok(_) => panic!("check accepts a spec that cannot build:\n{text}"),
        Err(d) => assert!(
            d.iter()
                .any(|d| d.rule == rule && d.key().is_some_and(|k| k.starts_with(key))),
            "expected {rule} at `{key}…`, got {d:#?}"
        ),
    }
}

#[test]
fn the_minimal_spec_builds() {
    assert_builds(&spec("", None, ""));
}

#[test]
fn region_named_like_a_generated_rust_item() {
    for name in ["page_offset", "linear_offset", "regions", "layout"] {
        assert_rejected(
            &spec(
                "",
                None,
                &format!(
                    "\n[region.{name}]\nkind = \"custom\"\nstart = \"kernel_half\"\nsize = \"4KiB\"\n"
                ),
            ),
            layoutgen::Rule::Identifier,
            "region.",
        );
    }
}

#[test]
fn region_named_underscore() {
    assert_rejected(
        &spec(
            "",
            None,
            "\n[region._]\nkind = \"custom\"\nstart = \"kernel_half\"\nsize = \"4KiB\"\n",
        ),
        layoutgen::Rule::Identifier,
        "region._",
    );
}

#[test]
fn region_named_kaslr_in_a_relocatable_layout() {
    let text = spec(
        "",
        None,
        "\n[region.kaslr]\nkind = \"custom\"\nstart = \"kernel_half\"\nsize = \"4KiB\"\n",
    )
    .replace("code_model = \"fixed\"", "code_model = \"semi-pic\"")
    .replace(
        "[region.kernel]\nstart = \"top - 2GiB\"\nend = \"top\"",
        "[region.kernel]\nstart = \"top - 8GiB\"\nsize = \"1GiB\"",
    )
    .replace(
        "link = \"top - 2GiB + 2MiB\"",
        "link = \"top - 8GiB + 2MiB\"",
    ) + "\n[kaslr]\nstart = \"top - 8GiB\"\nend = \"top - 7GiB\"\ngranule = \"2MiB\"\n\n[gp]\npolicy = \"disabled\"\n";
    assert_rejected(&text, layoutgen::Rule::Identifier, "region.kaslr");
}

#[test]
fn description_with_a_comment_opener() {
    assert_rejected(
        &spec("description = \"a /* b\"", None, ""),
        layoutgen::Rule::Identifier,
        "description",
    );
}

#[test]
fn linker_script_keyword_as_a_boundary_symbol() {
    for sym in [
        "ALIGN", "AT", "SECTIONS", "ENTRY", "KEEP", "ASSERT", "PROVIDE", "NOLOAD", "DISCARD",
    ] {
        let sections = format!(
            "\n[[image.section]]\nname = \".text\"\nperms = \"rx\"\ninput = [\".text.entry\", \".text\", \".text.*\"]\nstart_symbols = [\"{sym}\"]\n\n[[image.section]]\nname = \".rodata\"\nperms = \"r\"\n\n[[image.section]]\nname = \".data\"\nperms = \"rw\"\n\n[[image.section]]\nname = \".bss\"\nperms = \"rw\"\n"
        );
        assert_rejected(
            &spec("", Some(&sections), ""),
            layoutgen::Rule::Identifier,
            "image.section.text.start_symbols",
        );
    }
}

/// Sections with the name given, one at a time, after the four standard ones.
fn with_section(name: &str, perms: &str) -> String {
    spec(
        "",
        Some(&format!(
            "\n[[image.section]]\nname = \".text\"\nperms = \"rx\"\ninput = [\".text.entry\", \".text\", \".text.*\"]\n\n[[image.section]]\nname = \".rodata\"\nperms = \"r\"\n\n[[image.section]]\nname = \".data\"\nperms = \"rw\"\n\n[[image.section]]\nname = \".bss\"\nperms = \"rw\"\n\n[[image.section]]\nname = \"{name}\"\nid = \"extra\"\nperms = \"{perms}\"\n"
        )),
        "",
    )
}

#[test]
fn section_name_the_linker_script_misreads() {
    for name in [".a-b", "_a-"] {
        assert_builds(&with_section(name, "r"));
    }
    // Names without a letter or digit are refused rather than guessed at.
    for name in [".", "..", "_-"] {
        assert_rejected(
            &with_section(name, "r"),
            layoutgen::Rule::Identifier,
            "image.section.extra.name",
        );
    }
}

#[test]
fn section_named_like_a_linker_keyword() {
    for name in [".ALIGN", "_AT", ".NOLOAD", ".DISCARD", "_ASSERT"] {
        assert_builds(&with_section(name, "r"));
    }
}

#[test]
fn section_named_like_a_linker_generated_section() {
    // Linker-owned sections are refused; .got and .dynamic are ordinary
    // output sections of a kernel's script (Linux's relocatable build).
    for name in [".comment", ".symtab", ".eh_frame"] {
        assert_rejected(
            &with_section(name, "r"),
            layoutgen::Rule::Identifier,
            "image.section.extra.name",
        );
    }
    for name in [".got", ".dynamic"] {
        assert_builds(&with_section(name, "rw"));
    }
}

#[test]
fn small_data_when_gp_is_not_relaxed() {
    for policy in ["disabled", "shadow-call-stack"] {
        assert_builds(&spec("", None, &format!("\n[gp]\npolicy = \"{policy}\"\n")));
    }
}

#[test]
fn boundary_symbol_named_like_a_generated_symbol() {
    let sections = "\n[[image.section]]\nname = \".text\"\nperms = \"rx\"\ninput = [\".text.entry\", \".text\", \".text.*\"]\nend_symbols = [\"__image_end\"]\n\n[[image.section]]\nname = \".rodata\"\nperms = \"r\"\n\n[[image.section]]\nname = \".data\"\nperms = \"rw\"\n\n[[image.section]]\nname = \".bss\"\nperms = \"rw\"\n";
    assert_rejected(
        &spec("", Some(sections), ""),
        layoutgen::Rule::Identifier,
        "image.",
    );
}

#[test]
fn boundary_symbol_named_like_another_sections_default_symbol() {
    let sections = "\n[[image.section]]\nname = \".text\"\nperms = \"rx\"\ninput = [\".text.entry\", \".text\", \".text.*\"]\nend_symbols = [\"__data_start\"]\n\n[[image.section]]\nname = \".rodata\"\nperms = \"r\"\n\n[[image.section]]\nname = \".data\"\nperms = \"rw\"\n\n[[image.section]]\nname = \".bss\"\nperms = \"rw\"\n";
    assert_rejected(
        &spec("", Some(sections), ""),
        layoutgen::Rule::Identifier,
        "image.",
    );
}

#[test]
fn boundary_symbol_named_like_the_entry() {
    let sections = "\n[[image.section]]\nname = \".text\"\nperms = \"rx\"\ninput = [\".text.entry\", \".text\", \".text.*\"]\n\n[[image.section]]\nname = \".rodata\"\nperms = \"r\"\n\n[[image.section]]\nname = \".data\"\nperms = \"rw\"\nstart_symbols = [\"_start\"]\n\n[[image.section]]\nname = \".bss\"\nperms = \"rw\"\n";
    assert_rejected(
        &spec("", Some(sections), ""),
        layoutgen::Rule::Identifier,
        "image.section.data.start_symbols",
    );
}

#[test]
fn input_pattern_that_is_a_linker_keyword() {
    let sections = "\n[[image.section]]\nname = \".text\"\nperms = \"rx\"\ninput = [\".text.entry\", \".text\", \".text.*\", \"KEEP\", \"SORT\"]\n\n[[image.section]]\nname = \".rodata\"\nperms = \"r\"\n\n[[image.section]]\nname = \".data\"\nperms = \"rw\"\n\n[[image.section]]\nname = \".bss\"\nperms = \"rw\"\n";
    assert_rejected(
        &spec("", Some(sections), ""),
        layoutgen::Rule::Identifier,
        "image.section.text.input",
    );
}

#[test]
fn bare_layout_builds() {
    let text = spec("", None, "")
        .replace("modes = [\"sv39\"]", "modes = [\"bare\"]")
        .replace("link = \"top - 2GiB + 2MiB\"", "link = \"ram.load\"")
        .replace("section_align = \"2MiB\"", "section_align = \"4KiB\"")
        .replace("[region.kernel]\nstart = \"top - 2GiB\"\nend = \"top\"\nalign = \"2MiB\"\nleaf = \"2MiB\"", "[region.kernel]\nstart = \"ram.base\"\nsize = \"64MiB\"")
        .replace("[region.linear_map]\nstart = \"kernel_half + 4GiB\"\nsize = \"16GiB\"\nalign = \"1GiB\"\nleaf = \"1GiB\"\n", "");
    assert_builds(&text);
}

#[test]
fn pie_layout_builds() {
    let text = spec("", None, "")
        .replace("code_model = \"fixed\"", "code_model = \"pie\"")
        .replace(
            "[region.kernel]\nstart = \"top - 2GiB\"\nend = \"top\"",
            "[region.kernel]\nstart = \"top - 8GiB\"\nsize = \"1GiB\"",
        )
        .replace(
            "link = \"top - 2GiB + 2MiB\"",
            "link = \"top - 8GiB + 2MiB\"",
        )
        + "\n[kaslr]\nstart = \"top - 8GiB\"\nend = \"top - 7GiB\"\ngranule = \"2MiB\"\n\n[gp]\npolicy = \"disabled\"\n";
    assert_builds(&text);
}

#[test]
fn dynamic_sections_a_relocatable_script_places_itself() {
    // A relocatable image's script places .dynamic, .got, ... together; a
    // spec section of that name (here holding code) broke both linkers.
    let text = with_section(".dynamic", "rw")
        .replace("code_model = \"fixed\"", "code_model = \"pie\"")
        .replace(
            "link = \"top - 2GiB + 2MiB\"",
            "link = \"top - 8GiB + 2MiB\"",
        )
        .replace(
            "[region.kernel]\nstart = \"top - 2GiB\"\nend = \"top\"",
            "[region.kernel]\nstart = \"top - 8GiB\"\nsize = \"1GiB\"",
        )
        + "\n[kaslr]\nstart = \"top - 8GiB\"\nend = \"top - 7GiB\"\ngranule = \"2MiB\"\n\n[gp]\npolicy = \"disabled\"\n";
    assert_rejected(
        &text,
        layoutgen::Rule::Identifier,
        "image.section.extra.name",
    );
    // In a fixed image it may be declared, holding only its own input.
    let code = with_section(".dynamic", "r").replace(
        "id = \"extra\"\nperms = \"r\"",
        "id = \"extra\"\nperms = \"r\"\ninput = [\".text.x\"]",
    );
    assert_rejected(
        &code,
        layoutgen::Rule::Identifier,
        "image.section.extra.input",
    );
    assert_builds(&with_section(".dynamic", "rw"));
}
