//! Inputs the fuzz targets (fuzz/, docs/fuzzing.md) found, fed to the same
//! entry points: `check_text` (and every output of an accepted spec) for the
//! spec target. The `elf`, `stamp`, `dtb`, `init_elf` and `lint_render`
//! targets' work lives in fuzz/harness/, compiled here as it is into the
//! fuzz targets, so these tests run exactly what the fuzzers ran. Nothing here may panic.
//!
//! Also the generator of the ELF seed corpus (`fuzz/corpus/elf/`), an
//! ignored test: `cargo test --test integration fuzz_regressions:: -- --ignored`.

#![cfg(feature = "lint")]

use crate::support::{elf_tools, root, specs};

use layoutgen::lint::{Format, LintRun, Outcome};
use layoutgen::{Output, Templates};
use std::path::{Path, PathBuf};

#[path = "../../fuzz/harness/common.rs"]
mod common;
#[path = "../../fuzz/harness/dtb.rs"]
mod dtb_harness;
#[path = "../../fuzz/harness/elf.rs"]
mod elf_harness;
#[path = "../../fuzz/harness/init_elf.rs"]
mod init_elf_harness;
#[path = "../../fuzz/harness/lint_render.rs"]
mod lint_render_harness;
#[path = "../../fuzz/harness/stamp.rs"]
mod stamp_harness;

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

/// The seeds themselves go through both targets (a quick check that the
/// harness code here matches what the fuzzers run).
#[test]
fn seed_corpus_runs_through_the_targets() {
    let corpus = root().join("fuzz/corpus");
    for (dir, run) in [
        ("spec", spec_target as fn(&[u8])),
        ("elf", elf_harness::run),
    ] {
        let mut n = 0;
        for entry in std::fs::read_dir(corpus.join(dir)).expect("seed corpus") {
            let data = std::fs::read(entry.expect("entry").path()).expect("seed");
            run(&data);
            n += 1;
        }
        assert!(n > 0, "no seeds in fuzz/corpus/{dir}");
    }
}

/// Every file of `fuzz/corpus/<dir>` (the committed seeds and the inputs
/// fuzzing found, which are committed there too), by name.
fn seeds(dir: &str) -> Vec<(String, Vec<u8>)> {
    let mut seeds: Vec<_> = std::fs::read_dir(root().join("fuzz/corpus").join(dir))
        .expect("seed corpus")
        .map(|e| {
            let path = e.expect("entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("seed"))
        })
        .collect();
    assert!(!seeds.is_empty(), "no seeds in fuzz/corpus/{dir}");
    seeds.sort();
    seeds
}

/// Runs `target` on every seed of `dir`, naming the seed that panics.
fn run_seeds(dir: &str, mut target: impl FnMut(&[u8])) {
    for (name, data) in seeds(dir) {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| target(&data)));
        assert!(
            outcome.is_ok(),
            "fuzz/corpus/{dir}/{name} fails the {dir} target"
        );
    }
}

#[test]
fn stamp_seeds_run_through_the_target() {
    let dir = tempfile::tempdir().expect("tempdir");
    stamp_harness::prepare(dir.path());
    run_seeds("stamp", |data| {
        stamp_harness::run_in(dir.path(), data);
    });
    // The harness reaches the end of the check: the sample kernel's real
    // stamp verifies against the files `prepare` wrote.
    let real = std::fs::read(root().join("sample-kernel/layout/layout.stamp")).unwrap();
    assert!(
        stamp_harness::run_in(dir.path(), &real),
        "the real stamp verifies"
    );
}

#[test]
fn dtb_seeds_run_through_the_target() {
    run_seeds("dtb", dtb_harness::run);
    // The QEMU seeds are real device trees: they parse.
    for (name, data) in seeds("dtb") {
        if name.starts_with("qemu-") {
            assert!(layoutgen::dtb::parse(&data).is_ok(), "{name} parses");
        }
    }
}

#[test]
fn init_elf_seeds_run_through_the_target() {
    run_seeds("init_elf", init_elf_harness::run);
}

#[test]
fn lint_render_seeds_run_through_the_target() {
    run_seeds("lint_render", lint_render_harness::run);
}

/// Writes the seed corpora of the `init_elf` and `lint_render` targets
/// from the ELF seeds (a header of option bytes before each image; see
/// fuzz/harness/*.rs), plus fixture edits with hostile names. Run by hand
/// after the ELF seeds change:
/// `cargo test --test integration fuzz_regressions::write_render_seed_corpora -- --ignored`.
#[test]
#[ignore = "writes fuzz/corpus/{init_elf,lint_render}; run by hand"]
fn write_render_seed_corpora() {
    let corpus = root().join("fuzz/corpus");
    let write = |dir: &str, name: &str, data: &[u8]| {
        std::fs::write(corpus.join(dir).join(name), data).expect("write seed");
    };
    let with_header = |header: &[u8], body: &[u8]| [header, body].concat();
    for (name, elf) in seeds("elf") {
        let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
        write(
            "init_elf",
            &format!("{stem}.plain"),
            &with_header(&[0], &elf),
        );
        write(
            "init_elf",
            &format!("{stem}.linux"),
            &with_header(&[1], &elf),
        );
        // Raw ELF, linted against each layout in turn.
        for layout in 0..4u8 {
            write(
                "lint_render",
                &format!("{stem}.layout{layout}"),
                &with_header(&[layout << 1, 0], &elf),
            );
        }
    }
    // A hostile file name in front of a real image.
    let sv39 = &seeds("elf")
        .into_iter()
        .find(|(n, _)| n == "qemu-virt-sv39.elf")
        .unwrap()
        .1;
    let name = b"\x1b[31mred\n::error file=x::injected.elf";
    let mut named = vec![2, name.len() as u8];
    named.extend_from_slice(name);
    named.extend_from_slice(sv39);
    write("init_elf", "hostile-file-name", &named);
    let mut named = vec![0, name.len() as u8];
    named.extend_from_slice(name);
    named.extend_from_slice(sv39);
    write("lint_render", "hostile-file-name", &named);
    // Fixture edits: names overwritten with escapes, line breaks and
    // workflow commands, for each fixture and layout.
    let hostile: [&[u8]; 3] = [
        b"\x1b]0;title\x07",
        b"\n::error file=a::b\n",
        b"\xe2\x80\xae\r\t%0A",
    ];
    for fixture in 0..4u8 {
        for layout in 0..4u8 {
            let mut seed = vec![1 | layout << 1 | fixture << 4, 0];
            for (i, h) in hostile.iter().enumerate() {
                let offset = (i as u16 * 97 + u16::from(fixture) * 13 + 1).to_be_bytes();
                seed.extend_from_slice(&offset);
                seed.push(h.len() as u8);
                seed.extend_from_slice(h);
            }
            write(
                "lint_render",
                &format!("fixture{fixture}-layout{layout}-hostile-names"),
                &seed,
            );
        }
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

/// Found by the `stamp` target's seeds: a stamp key holding an ESC
/// reached the error (and cargo's output) raw. Every name a stamp gives is
/// shown escaped.
#[test]
fn a_hostile_stamp_key_or_format_is_shown_escaped_in_the_error() {
    for text in [
        "format = 1\ngenerator = g\ninputs = i\n\u{1b}[31mkey = v\n",
        "format = \u{1b}]0;x\u{7}\ngenerator = g\ninputs = i\n",
        "format = 1\ngenerator = g\ninputs = i\noutput \u{202e}x = h\n",
    ] {
        let err = layoutgen_build::Stamp::parse(text).unwrap_err();
        common::assert_shown_safely("stamp error", &err);
        assert!(err.contains("\\u{"), "{err}");
    }
}

/// Found by the `init_elf` target's seeds: a file name with an ESC made
/// `init --from-elf` write it raw into the spec's first comment; the
/// spec failed its TOML parse and the report printed the line, ESC and
/// all. The name is now shown escaped (the spec is written), and any
/// report shows control characters in the source escaped.
#[test]
fn a_hostile_file_name_or_spec_line_is_shown_escaped() {
    let elf = std::fs::read(root().join("fuzz/corpus/elf/qemu-virt-sv39.elf")).unwrap();
    let name = "\u{1b}[31mred\u{202e}\n::error file=x::y*/.elf";
    let text = layoutgen::init::from_elf::generate_bytes(
        &elf,
        name,
        "fuzz",
        layoutgen::init::from_elf::ArchDefaults::Plain,
    )
    .expect("a hostile file name still gives a spec");
    common::assert_shown_safely("generated spec", &text);

    let spec = "name = \"x\" # \u{1b}[2J\u{202e}\n[ram\n";
    let source = layoutgen::Source::Text {
        text: spec,
        name: "hostile.toml",
    };
    let report = match layoutgen::load(source, &Default::default()) {
        Err(layoutgen::Error::Spec(r)) => {
            layoutgen::diag::Report::new(Path::new("hostile.toml"), spec, r.diagnostics)
        }
        _ => panic!("expected a spec error"),
    };
    let rendered = report.render();
    common::assert_shown_safely("report", &rendered);
    assert!(rendered.contains("\\u{1b}"), "{rendered}");
}

/// Found by the `lint_render` target (fuzz/corpus/lint_render/crash-*): a
/// file name that starts with `::` began a line of the human report (a
/// GitHub workflow command when lint runs in CI), and one with a line
/// break split a lint error so that a line did. File names and the names
/// in lint errors are now shown escaped, a leading `::` included.
#[test]
fn a_file_name_never_starts_a_line_of_the_human_report() {
    let layout = specs::layout("qemu-virt-sv39");
    let spec = specs::path("qemu-virt-sv39");
    let elf = std::fs::read(root().join("fuzz/corpus/elf/qemu-virt-sv39.elf")).unwrap();
    for name in [
        "::error file=x::y.elf",
        " ::warning ::z",
        "k\n::error file=a::b\r\n",
    ] {
        for data in [&elf[..], b"not an ELF", &elf[..200]] {
            let path = PathBuf::from(name);
            let result = layoutgen::lint::run(
                &layout,
                layoutgen::lint::Input::Bytes { name: &path, data },
                &Default::default(),
            );
            let run = LintRun {
                spec: &spec,
                layout: &layout,
                config: &layout.lint,
                outcomes: vec![Outcome { path, result }],
                deny_warnings: false,
            };
            common::assert_shown_safely("human report", &run.render(Format::Human));
        }
    }
}
