//! Inputs the fuzz targets (fuzz/, docs/fuzzing.md) found, fed to the same
//! entry points: `check_text` (and every output of an accepted spec) for the
//! spec target, `lint_bytes` and every report format for the ELF target.
//! Nothing here may panic.
//!
//! Also the generator of the ELF seed corpus (`fuzz/corpus/elf/`), an
//! ignored test: `cargo test --test integration fuzz_regressions:: -- --ignored`.

#![cfg(feature = "lint")]

use crate::support::{elf_tools, root, specs};

use layoutgen::lint::{Format, LintRun, Outcome};
use layoutgen::{Output, Templates};
use std::path::{Path, PathBuf};

/// What the `spec` fuzz target does with one input.
fn spec_target(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(layout) = crate::support::specs::check_text(&text, "fuzz.toml") {
        let templates = Templates::new(None).expect("built-in templates");
        for output in Output::ALL {
            let _ = templates.render(&layout, output);
        }
    }
}

/// What the `elf` fuzz target does with one input.
fn elf_target(data: &[u8]) {
    let spec = specs::path("qemu-virt-multi");
    let layout = specs::layout("qemu-virt-multi");
    let path = Path::new("fuzz.elf");
    let result = layoutgen::lint::run(
        &layout,
        layoutgen::lint::Input::Bytes { name: path, data },
        &Default::default(),
    );
    let run = LintRun {
        spec: &spec,
        layout: &layout,
        config: &layout.lint,
        outcomes: vec![Outcome {
            path: PathBuf::from(path),
            result,
        }],
        deny_warnings: false,
    };
    for format in [Format::Human, Format::Json, Format::Github, Format::Sarif] {
        let _ = run.render(format);
    }
}

/// The seeds themselves go through both targets (a quick check that the
/// harness code here matches what the fuzzers run).
#[test]
fn seed_corpus_runs_through_the_targets() {
    let corpus = root().join("fuzz/corpus");
    for (dir, run) in [("spec", spec_target as fn(&[u8])), ("elf", elf_target)] {
        let mut n = 0;
        for entry in std::fs::read_dir(corpus.join(dir)).expect("seed corpus") {
            let data = std::fs::read(entry.expect("entry").path()).expect("seed");
            run(&data);
            n += 1;
        }
        assert!(n > 0, "no seeds in fuzz/corpus/{dir}");
    }
}

/// Writes the ELF seed corpus: the lint fixtures (`support::elf_tools`)
/// linked for each bundled layout, and a few damaged copies. Run by hand
/// after the fixtures change.
#[test]
#[ignore = "writes fuzz/corpus/elf; run by hand"]
fn write_elf_seed_corpus() {
    use elf_tools::{LinkOpts, ObjOpts, link};
    let out = root().join("fuzz/corpus/elf");
    std::fs::create_dir_all(&out).expect("mkdir");
    let write = |name: &str, data: &[u8]| {
        assert!(data.len() < 64 * 1024, "{name} is {} bytes", data.len());
        std::fs::write(out.join(name), data).expect("write seed");
    };
    for layout in elf_tools::LAYOUTS {
        let linked = link(layout, &LinkOpts::default());
        write(&format!("{layout}.elf"), &linked.bytes());
    }
    let small_data = link(
        "qemu-virt-sv39",
        &LinkOpts {
            obj: ObjOpts {
                small_data: true,
                define_gp: true,
                ..ObjOpts::default()
            },
            ..LinkOpts::default()
        },
    );
    let bytes = small_data.bytes();
    write("qemu-virt-sv39-small-data-gp.elf", &bytes);
    // Damaged copies: cut inside the program headers, and with the section
    // header table pointing past the end.
    write("truncated-phdrs.elf", &bytes[..100.min(bytes.len())]);
    let mut bad_shoff = bytes.clone();
    bad_shoff[0x28..0x30].copy_from_slice(&u64::MAX.to_le_bytes());
    write("bad-shoff.elf", &bad_shoff);
    write(
        "relocatable-object.o",
        &elf_tools::object(&ObjOpts::default()),
    );
}
