//! "check says ok" means "it builds": one minimal spec per class of failure
//! the adversarial property test (`properties::check_ok_means_it_builds`)
//! found. Each spec passes `layoutgen check`; the
//! test asserts that its generated `layout.rs`, `layout.h` and linker script
//! build (`builds::builds`: rustc, cc as C and assembly, rust-lld and GNU
//! ld without warnings, lint clean) — or, where the class cannot be made to
//! build, that `check` now rejects it with a diagnostic at the right key.

use crate::support::builds;
use crate::support::specs::{self, BASE};

/// A minimal sound spec derived from `specs::BASE`: Sv39, fixed, no
/// `[gp]` table (gp relaxed into `.data`), only the kernel slot and a linear
/// map. `top` is inserted in the top-level table (before `[ram]`),
/// `sections` replace BASE's four, `tail` is appended.
fn spec(top: &str, sections: Option<&str>, tail: &str) -> String {
    let text = specs::edits(
        BASE.trim_start(),
        &[
            ("name = \"base\"", "name = \"min\""),
            (
                "code_model = \"fixed\"\n",
                &format!("code_model = \"fixed\"\n{top}"),
            ),
            ("max_size = \"4GiB\"", "max_size = \"1GiB\""),
            (
                "link = \"kernel.start + 0x20_0000\"",
                "link = \"top - 2GiB + 2MiB\"",
            ),
            ("\n[gp]\npolicy = \"relax\"\n", ""),
            (&format!("{}\n", specs::table(BASE, "region.modules")), ""),
            (
                "start = \"0xffff_ffd6_0000_0000\"",
                "start = \"kernel_half + 4GiB\"",
            ),
            ("size = \"128GiB\"", "size = \"16GiB\""),
            (&format!("\n{}", specs::table(BASE, "region.vmalloc")), ""),
        ],
    );
    // Last: the replacement sections may contain any text.
    specs::edit(
        &text,
        specs::sections(),
        sections.unwrap_or(specs::sections()),
    ) + tail
}

/// The minimal spec with one edit in its sections (`from` must occur once).
fn with_sections_edit(from: &str, to: &str) -> String {
    spec("", Some(&specs::edit(specs::sections(), from, to)), "")
}

/// The minimal spec with `line` added to its text section.
fn with_text_line(line: &str) -> String {
    with_sections_edit(TEXT_INPUT, &format!("{TEXT_INPUT}{line}"))
}

/// A minimal spec `text` made relocatable with code model `model`: the slot
/// moves 8 GiB below the top (the semi-PIC window excludes -2 GiB), KASLR
/// spans its first GiB, gp is disabled.
fn relocatable(text: &str, model: &str) -> String {
    text.replace(
        "code_model = \"fixed\"",
        &format!("code_model = \"{model}\""),
    )
    .replace(
        "[region.kernel]\nstart = \"top - 2GiB\"\nend = \"top\"",
        "[region.kernel]\nstart = \"top - 8GiB\"\nsize = \"1GiB\"",
    )
    .replace(
        "link = \"top - 2GiB + 2MiB\"",
        "link = \"top - 8GiB + 2MiB\"",
    ) + "\n[kaslr]\nstart = \"top - 8GiB\"\nend = \"top - 7GiB\"\ngranule = \"2MiB\"\n\n[gp]\npolicy = \"disabled\"\n"
}

/// The input patterns of the text section, which several tests extend.
const TEXT_INPUT: &str = "input = [\".text.entry\", \".text\", \".text.*\"]\n";

fn assert_builds(text: &str) {
    let layout = match crate::support::specs::check_text(text, "min.toml") {
        Ok(l) => l,
        Err(d) => {
            panic!("check rejects the spec (the class may be fixed that way):\n{text}\n{d:#?}")
        }
    };
    let failures = builds::builds(&layout);
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
    match crate::support::specs::check_text(text, "min.toml") {
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
    let text = relocatable(
        &spec(
            "",
            None,
            "\n[region.kaslr]\nkind = \"custom\"\nstart = \"kernel_half\"\nsize = \"4KiB\"\n",
        ),
        "semi-pic",
    );
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
        assert_rejected(
            &with_text_line(&format!("start_symbols = [\"{sym}\"]\n")),
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
            "{}\n[[image.section]]\nname = \"{name}\"\nid = \"extra\"\nperms = \"{perms}\"\n",
            specs::sections()
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
    assert_rejected(
        &with_text_line("end_symbols = [\"__image_end\"]\n"),
        layoutgen::Rule::Identifier,
        "image.",
    );
}

#[test]
fn boundary_symbol_named_like_another_sections_default_symbol() {
    assert_rejected(
        &with_text_line("end_symbols = [\"__data_start\"]\n"),
        layoutgen::Rule::Identifier,
        "image.",
    );
}

#[test]
fn boundary_symbol_named_like_the_entry() {
    assert_rejected(
        &with_sections_edit(
            "name = \".data\"\nperms = \"rw\"\n",
            "name = \".data\"\nperms = \"rw\"\nstart_symbols = [\"_start\"]\n",
        ),
        layoutgen::Rule::Identifier,
        "image.section.data.start_symbols",
    );
}

#[test]
fn input_pattern_that_is_a_linker_keyword() {
    assert_rejected(
        &with_sections_edit(
            TEXT_INPUT,
            "input = [\".text.entry\", \".text\", \".text.*\", \"KEEP\", \"SORT\"]\n",
        ),
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
    let text = relocatable(&spec("", None, ""), "pie");
    assert_builds(&text);
}

/// The linker's GOT and `.dynamic` are writable whatever section takes
/// them: a section without `w` that does became RWX in the ELF (found on
/// aarch64 by the property). In a relocatable image the generated script
/// places every dynamic-linking table, and rust-lld refused `.rela.dyn`
/// taken into a section of program data ("section type mismatch").
#[test]
fn linker_tables_taken_as_input() {
    let code_with = |pattern: &str| {
        with_sections_edit(
            TEXT_INPUT,
            &format!("input = [\".text.entry\", \".text\", \".text.*\", \"{pattern}\"]\n"),
        )
    };
    assert_rejected(
        &code_with(".got"),
        layoutgen::Rule::Identifier,
        "image.section.text.input",
    );
    // A wildcard that matches the table counts too.
    assert_rejected(
        &code_with(".go*"),
        layoutgen::Rule::Identifier,
        "image.section.text.input",
    );
    assert_rejected(
        &relocatable(&code_with(".rela*"), "pie"),
        layoutgen::Rule::Identifier,
        "image.section.text.input",
    );
    // Writable data may hold the GOT in a fixed image, and a pattern that
    // only looks alike is not the table.
    assert_builds(&with_sections_edit(
        "name = \".data\"\nperms = \"rw\"\n",
        "name = \".data\"\nperms = \"rw\"\ninput = [\".data\", \".data.*\", \".got\"]\n",
    ));
    assert_builds(&relocatable(&code_with(".gotcha"), "pie"));
}

/// A relocatable image whose last section is read-only: the script puts
/// the dynamic-linking tables after it, so the image (and its end symbol)
/// ends past them. Lint took the last spec section's end as the image's
/// and reported the end symbol as misplaced (LG009, found by the property;
/// a 16-byte end alignment lets the small tables cross it).
#[test]
fn relocatable_image_ending_in_a_read_only_section() {
    let rodata = "\n[[image.section]]\nname = \".rodata\"\nperms = \"r\"\n";
    let sections = specs::edit(specs::sections(), rodata, "") + rodata;
    let text = relocatable(&spec("", Some(&sections), ""), "pie").replace(
        "section_align = \"2MiB\"\n",
        "section_align = \"2MiB\"\nend_symbols = [\"_image_end\"]\nend_align = \"16\"\n",
    );
    assert!(text.contains("end_symbols"), "{text}");
    assert_builds(&text);
}

/// Relocatable images with 4 KiB segments: once refused (GNU ld's `-pie`
/// output merged code and data into one RWX PT_LOAD), they now link into
/// separate segments with both linkers and lint clean, since the classes
/// that caused the merge are refused on their own (code after writable
/// data; a read-only section before a writable one in a segment).
#[test]
fn relocatable_images_with_4kib_segments_build() {
    for model in ["semi-pic", "pie"] {
        let text = relocatable(&spec("", None, ""), model)
            .replace("section_align = \"2MiB\"", "section_align = \"4KiB\"");
        assert!(text.contains("section_align = \"4KiB\""), "{text}");
        assert_builds(&text);
    }
}

#[test]
fn dynamic_sections_a_relocatable_script_places_itself() {
    // A relocatable image's script places .dynamic, .got, ... together; a
    // spec section of that name (here holding code) broke both linkers.
    let text = relocatable(&with_section(".dynamic", "rw"), "pie");
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

/// Every bundled layout (riscv64 and aarch64), and every shape `init`
/// writes, builds with both linkers and lints clean (the linker scripts
/// people start from are the first to be linked with a linker we did not
/// try).
#[test]
fn every_bundled_layout_and_init_shape_builds_with_both_linkers() {
    let mut failed = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let mut paths = specs::bundled();
    let inits: [&[&str]; 4] = [
        &["--shape", "linux"],
        &["--shape", "identity"],
        &["--shape", "bare"],
        &["--arch", "aarch64"],
    ];
    for args in inits {
        let path = dir.path().join(format!("init{}.toml", args.join("")));
        let mut argv = vec!["init"];
        argv.extend(args);
        argv.push(path.to_str().unwrap());
        let o = crate::support::cli::layoutgen(&argv);
        assert!(
            o.status.success(),
            "init {args:?}: {}",
            crate::support::cli::text(&o.stderr)
        );
        paths.push(path);
    }
    for path in paths {
        let layout = layoutgen::load(&path, &Default::default()).expect("bundled layout is sound");
        for f in builds::builds(&layout) {
            failed.push(format!("{}: {f}", path.display()));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

/// `image.pmp_read_only` (OpenSBI's one NAPOT PMP entry over
/// `[_fw_start, _fw_rw_start)`): the generated script pads the read-only part
/// of the bare firmware layout to a power of two, both linkers accept it
/// (LOG2CEIL, the ASSERT), lint agrees; an ELF whose read-only part is not
/// one is LG028; and the ASSERT refuses an image start not aligned to it.
#[test]
fn pmp_read_only_pads_to_a_naturally_aligned_power_of_two() {
    let text = std::fs::read_to_string(specs::path("qemu-virt-bare"))
        .unwrap()
        .replacen("[image]\n", "[image]\npmp_read_only = true\n", 1);
    let layout = specs::check_text(&text, "pmp.toml").unwrap();
    let failures = builds::builds(&layout);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    let linked = crate::support::elf_tools::link_layout(&layout, "pmp", &Default::default());
    let data = linked.bytes();
    let shdrs = crate::support::elf_tools::shdrs(&data);
    let first_rw = layout.image.sections.iter().find(|s| s.write).unwrap();
    let start = layout.modes[0].image_link;
    let hdr = shdrs.iter().find(|s| s.1 == first_rw.name).unwrap().0;
    let rw = u64::from_le_bytes(data[hdr + 16..hdr + 24].try_into().unwrap());
    let size = rw - start;
    assert!(
        size.is_power_of_two() && start.is_multiple_of(size),
        "{start:#x}..{rw:#x}"
    );
    // The same file with the writable part moved 4 KiB on: LG028.
    let mut bad = data.clone();
    crate::support::elf_tools::le64(&mut bad, hdr + 16, rw + 0x1000);
    let p = linked.write_variant("pmp-bad.elf", &bad);
    let r = layoutgen::lint::run(&layout, &p, &Default::default()).unwrap();
    let f: Vec<_> = r.by_check(layoutgen::lint::Lint::PmpRange).collect();
    assert_eq!(
        f.len(),
        1,
        "{}",
        crate::support::findings::describe(&r.findings)
    );
    assert_eq!(f[0].spec_key, "image.pmp_read_only");
    // Loaded 4 KiB off a power-of-two boundary: the ASSERT refuses the link.
    let off = text
        .replace("load = \"0x8000_0000\"", "load = \"0x8000_1000\"")
        .replace("max_size = \"2MiB\"", "max_size = \"1MiB\"");
    assert_ne!(off, text);
    let layout = specs::check_text(&off, "pmp-off.toml").unwrap();
    let err = crate::support::elf_tools::try_link_layout(&layout, "pmp-off", &Default::default())
        .err()
        .expect("the ASSERT refuses it");
    assert!(err.contains("image.pmp_read_only"), "{err}");
}
