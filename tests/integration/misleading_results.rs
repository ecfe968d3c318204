//! Inputs that used to give a wrong or misleading answer (issue: hostile
//! inputs, "wrong or misleading results"): each now gets the answer that
//! names the real problem.

use crate::support::cli::{layoutgen, stderr, text};
use crate::support::elf_tools::{self, LinkOpts, le64};
use std::path::Path;

const SV39: &str = "layouts/qemu-virt-sv39.toml";

/// `lint` and `init --from-elf` of `elf` both refuse it as malformed
/// (exit 2), saying `says`, and `init` writes no spec.
fn assert_malformed(elf: &Path, says: &str) {
    let o = layoutgen(&["lint", "--spec", SV39, elf.to_str().unwrap()]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("malformed") || out.contains(says), "{out}");
    assert!(out.contains(says), "lint should say {says:?}:\n{out}");
    let err = init_refuses(elf);
    assert!(err.contains(says), "{err}");
}

/// stderr of `init --from-elf ELF SPEC`, which must exit 2 and write no
/// spec.
#[track_caller]
fn init_refuses(elf: &Path) -> String {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("adopted.toml");
    let (elf, spec_arg) = (elf.to_str().unwrap(), spec.to_str().unwrap());
    let err = stderr(&["init", "--from-elf", elf, spec_arg], 2);
    assert!(!spec.exists(), "no spec is written from a refused ELF");
    err
}

#[test]
fn a_string_table_outside_the_file_is_malformed_not_a_list_of_findings() {
    let linked = elf_tools::link("qemu-virt-sv39", &LinkOpts::default());
    let mut data = linked.bytes();
    let (at, ..) = elf_tools::shdrs(&data)
        .into_iter()
        .find(|s| s.1 == ".strtab")
        .expect(".strtab");
    let past_end = data.len() as u64 + 0x1000;
    le64(&mut data, at + 24, past_end); // sh_offset
    let elf = linked.write_variant("strtab-past-eof.elf", &data);
    assert_malformed(&elf, "string table");
}

#[test]
fn a_linked_elf_without_program_headers_is_malformed_not_clean() {
    let linked = elf_tools::link("qemu-virt-sv39", &LinkOpts::default());
    let mut data = linked.bytes();
    data[56..58].copy_from_slice(&0u16.to_le_bytes()); // e_phnum
    let elf = linked.write_variant("no-phdrs.elf", &data);
    assert_malformed(&elf, "without a PT_LOAD program header");
}

#[test]
fn init_with_ram_at_the_top_of_the_address_space_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("top.toml");
    let spec = spec.to_str().unwrap();
    for (base, size, says) in [
        (
            "0xffff_ffff_ffe0_0000",
            "1GiB",
            "runs past the top of the address space",
        ),
        (
            "0xffff_ffff_fff0_0000",
            "1MiB",
            "no 2 MiB-aligned load address fits",
        ),
    ] {
        let o = layoutgen(&["init", "--ram-base", base, "--ram-size", size, spec]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{base}: {err}");
        assert!(
            err.contains(says) && !err.contains("panicked"),
            "{base}: {err}"
        );
    }
}

#[test]
fn a_value_of_the_wrong_type_is_named_in_the_specs_words() {
    // serde's message names the Rust struct it wanted; no spec author knows
    // those names.
    let base = crate::support::specs::BASE.replace("[gp]\npolicy = \"relax\"\n", "");
    for (spec, wanted) in [
        (
            format!("{base}\n[lint]\nLG006 = \"allow\"\n"),
            "a table with `level` and `reason`",
        ),
        (format!("gp = 5\n{base}"), "the table `[gp]`"),
        (format!("kaslr = \"on\"\n{base}"), "the table `[kaslr]`"),
    ] {
        let table = spec.as_str();
        let err = crate::support::specs::check_text(&spec, "t.toml").expect_err(table);
        let messages: Vec<&str> = err.iter().map(|d| d.message.as_str()).collect();
        assert!(
            messages.iter().any(|m| m.contains(wanted)),
            "{table}: {messages:?}"
        );
        assert!(
            !messages.iter().any(|m| m.contains("struct")),
            "{table}: {messages:?}"
        );
    }
}

#[test]
fn an_end_symbol_near_the_top_is_named_not_wrapped() {
    let layout = crate::support::specs::layout("qemu-virt-sv39");
    let end = layout.image.end_symbols[0].clone();
    let linked = elf_tools::link("qemu-virt-sv39", &LinkOpts::default());
    let mut data = linked.bytes();
    elf_tools::set_symbol_value(&mut data, &end, 0xffff_ffff_ffff_fff0);
    let elf = linked.write_variant("end-at-top.elf", &data);
    let err = stderr(&["show", "--spec", SV39, "--elf", elf.to_str().unwrap()], 2);
    assert!(
        err.contains(&format!("its end symbol `{end}`")) && err.contains("0xfffffffffffffff0"),
        "{err}"
    );
}

#[test]
fn init_refuses_an_elf_whose_sections_overlap() {
    let linked = elf_tools::link("qemu-virt-sv39", &LinkOpts::default());
    let mut data = linked.bytes();
    let shdrs = elf_tools::shdrs(&data);
    let text_hdr = shdrs.iter().find(|s| s.1 == ".text").expect(".text").0;
    let rodata = shdrs.iter().find(|s| s.1 == ".rodata").expect(".rodata").0;
    let text_addr = u64::from_le_bytes(data[text_hdr + 16..text_hdr + 24].try_into().unwrap());
    le64(&mut data, rodata + 16, text_addr); // sh_addr: .rodata over .text
    let elf = linked.write_variant("overlap.elf", &data);
    let err = init_refuses(&elf);
    assert!(err.contains("overlap") && err.contains(".rodata"), "{err}");
}
