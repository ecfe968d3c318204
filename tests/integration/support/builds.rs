//! "check says ok" means "it builds": compiling what layoutgen generates
//! (`layout.rs` with rustc, `layout.h` with cc as C and as assembly) and
//! linking the test object with the generated script, as tests do one
//! step at a time and `builds` does all at once.

use super::elf_tools::{InputKind, LinkOpts, Linker, ObjOpts, try_link_layout};
use super::findings;
use std::path::Path;
use std::process::Command;

/// An assembly file every generated `layout.h` must assemble in (the
/// header's constants are plain numbers, usable from `.S` files).
pub const HEADER_ASM: &str = "#include \"layout.h\"\n.quad LAYOUTGEN_IMAGE_LINK_ADDRESS\n";

/// `rustc` checking `lib` (a `#![no_std]` library including the generated
/// `layout.rs`) down to its metadata, written to `out`.
pub fn rustc_metadata(lib: &Path, out: &Path) -> Command {
    let mut cmd = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()));
    cmd.args([
        "--edition",
        "2021",
        "--crate-type",
        "lib",
        "--emit",
        "metadata",
        "-o",
    ])
    .arg(out)
    .arg(lib);
    cmd
}

/// `cc` compiling `file` as `lang` (`c`, `assembler-with-cpp`) to
/// `file.o`, warnings as errors.
pub fn cc(file: &Path, lang: &str) -> Command {
    let mut object = file.as_os_str().to_owned();
    object.push(".o");
    let mut cmd = Command::new("cc");
    cmd.args(["-std=c11", "-Wall", "-Werror", "-c", "-x", lang])
        .arg(file)
        .arg("-o")
        .arg(object);
    cmd
}

/// The object for `layout`: the standard test object (with small data) plus
/// one input section for every input pattern of the spec (a `*` becomes
/// `x`), of the kind the output section's permissions call for, and a
/// small code section for every insert.
pub fn object_for(layout: &layoutgen::Layout) -> ObjOpts {
    const STANDARD: [&str; 7] = [
        ".text.entry",
        ".text",
        ".rodata",
        ".data",
        ".bss",
        ".sdata",
        ".sbss",
    ];
    let mut extra: Vec<(String, InputKind, usize)> = Vec::new();
    // What the linker makes itself in a PIE link (dynamic-linking tables,
    // the GOT): an object's own PROGBITS section of that name is not
    // something a compiler emits, and both linkers rightly refuse to merge
    // it with theirs ("section type mismatch"). In a static link they make
    // none, and the stand-in gives the spec's section something to hold.
    let pie = layout.code_model.is_relocatable() || layout.image.relocator.is_some();
    let synthesized = |name: &str| {
        pie && [
            ".dynsym",
            ".dynstr",
            ".hash",
            ".gnu.hash",
            ".dynamic",
            ".got",
            ".plt",
            ".interp",
        ]
        .iter()
        .any(|t| name == *t || name.starts_with(&format!("{t}.")))
            || name.starts_with(".rela")
            || name == ".rel"
            || name.starts_with(".rel.")
    };
    let mut add = |name: String, kind: InputKind, size: usize| {
        if !STANDARD.contains(&name.as_str())
            && !synthesized(&name)
            && !extra.iter().any(|e| e.0 == name)
        {
            extra.push((name, kind, size));
        }
    };
    for s in &layout.image.sections {
        // An optional GOT or PLT is the linker's to make (a compiler never
        // emits one, and the linker gives its own the flags the name
        // calls for, whatever the spec maps it with): none here.
        if s.optional && [".got", ".got.plt", ".plt"].contains(&s.name.as_str()) {
            continue;
        }
        let kind = if s.execute {
            InputKind::Code
        } else if s.write && s.nobits {
            InputKind::Bss
        } else if s.write {
            InputKind::Data
        } else {
            InputKind::ReadOnly
        };
        for p in &s.input {
            add(p.replace('*', "x"), kind, 16);
        }
        for ins in &s.inserts {
            // What fills an insert is at most its declared size (more is the
            // kernel's error, which the script's ASSERT reports).
            let size = (ins.size as usize).clamp(1, 16);
            for p in &ins.input {
                add(p.replace('*', "x"), InputKind::Code, size);
            }
        }
    }
    ObjOpts {
        small_data: true,
        extra_sections: extra,
        ..ObjOpts::default()
    }
}

/// Runs `cmd`: Ok when it succeeds with nothing on stderr, else `what`, the
/// command, its status and stderr.
fn run(what: &str, cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() && stderr.trim().is_empty() {
        Ok(())
    } else {
        Err(format!("{what}: {cmd:?} ({})\n{stderr}", out.status))
    }
}

/// Everything a checked layout generates builds: `layout.rs` compiles
/// (`#![no_std]`, `-D warnings`, included as the docs say), `layout.h`
/// compiles as C11 and as assembly with `-Wall -Werror`, and the linker
/// script links the object of `object_for` with rust-lld and with GNU ld,
/// with nothing on stderr, into an ELF that `layoutgen lint` finds clean.
/// Returns every failure, each starting with its stage
/// (`rustc`, `cc -x c`, `cc -x assembler-with-cpp`, `link rust-lld`, `lint rust-lld`, ...).
pub fn builds(layout: &layoutgen::Layout) -> Vec<String> {
    let mut failures = Vec::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let templates = layoutgen::Templates::new(None).expect("templates");
    for (out, file) in [
        (layoutgen::Output::Rust, "layout.rs"),
        (layoutgen::Output::CHeader, "layout.h"),
    ] {
        let text = templates.render(layout, out).expect("render");
        std::fs::write(d.join(file), text).expect("write");
    }
    // The documented use, plus a const use of the generated items.
    std::fs::write(
        d.join("lib.rs"),
        "#![no_std]\n#[allow(dead_code)]\nmod layout { include!(\"layout.rs\"); }\n\
         pub const MODES: usize = layout::MODES.len();\n\
         const _: () = assert!(layout::layout_for(layout::MODES[0]).is_some());\n\
         const _: () = assert!(layout::SECTIONS.len() > 0);\n",
    )
    .expect("write lib.rs");
    if let Err(e) = run(
        "rustc",
        rustc_metadata(&d.join("lib.rs"), &d.join("lib.rmeta")).args(["-D", "warnings"]),
    ) {
        failures.push(e);
    }
    std::fs::write(
        d.join("t.c"),
        "#include \"layout.h\"\nunsigned long long f(void) { return LAYOUTGEN_IMAGE_LINK_ADDRESS + LAYOUTGEN_RAM_BASE; }\n",
    )
    .expect("write t.c");
    std::fs::write(d.join("t.S"), HEADER_ASM).expect("write t.S");
    for (file, lang) in [("t.c", "c"), ("t.S", "assembler-with-cpp")] {
        if let Err(e) = run(&format!("cc -x {lang}"), &mut cc(&d.join(file), lang)) {
            failures.push(e);
        }
    }
    for linker in Linker::ALL {
        // As docs/spec.md says for `section_align`: GNU ld for aarch64
        // pages by 64 KiB and would merge segments closer than that.
        let extra_args = match (linker, layout.arch) {
            (Linker::Gnu, layoutgen::arch::Arch::Aarch64)
                if layout.image.section_align < 0x1_0000 =>
            {
                vec![
                    "-z".to_string(),
                    format!("max-page-size={:#x}", layout.image.section_align),
                ]
            }
            // A layout with its own `.data.rel.ro` (Linux arm64, which
            // ASSERTs it empty) is linked as Linux links it, `-z norelro`:
            // rust-lld otherwise wants it beside the other RELRO sections.
            (Linker::Lld, _)
                if layout
                    .image
                    .sections
                    .iter()
                    .any(|s| s.name == ".data.rel.ro") =>
            {
                vec!["-z".to_string(), "norelro".to_string()]
            }
            _ => Vec::new(),
        };
        let opts = LinkOpts {
            obj: object_for(layout),
            linker,
            extra_args,
            ..LinkOpts::default()
        };
        match try_link_layout(layout, &layout.name, &opts) {
            Err(e) => failures.push(format!("link {}: {e}", linker.name_for(layout.arch))),
            Ok(k) => {
                if !k.stderr.trim().is_empty() {
                    failures.push(format!(
                        "link {}: warned:\n{}",
                        linker.name_for(layout.arch),
                        k.stderr
                    ));
                }
                match layoutgen::lint::run(layout, &k.elf, &Default::default()) {
                    Err(e) => failures.push(format!("lint {}: {e}", linker.name_for(layout.arch))),
                    Ok(r) if r.counts.errors + r.counts.warnings > 0 => failures.push(format!(
                        "lint {}: {}",
                        linker.name_for(layout.arch),
                        findings::describe(r.findings.iter().filter(|f| matches!(
                            f.severity,
                            layoutgen::lint::Severity::Error | layoutgen::lint::Severity::Warning
                        )))
                    )),
                    Ok(_) => {}
                }
            }
        }
    }
    failures
}
