//! The `elf` fuzz target's work, shared with `cargo test`
//! (tests/integration/fuzz_regressions.rs): any bytes as an ELF image
//! linted against a bundled layout (all its paging modes), then the
//! outcome rendered in every format. Nothing may panic.

use layoutgen::Layout;
use layoutgen::lint::{self, Format, Input, LintRun, Options, Outcome};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The multi-mode layout: every paging mode's checks run on each input.
const SPEC: &str = include_str!("../../layouts/qemu-virt-multi.toml");

fn layout() -> &'static Layout {
    static L: OnceLock<Layout> = OnceLock::new();
    L.get_or_init(|| {
        let source = layoutgen::Source::Text {
            text: SPEC,
            name: "qemu-virt-multi.toml",
        };
        layoutgen::load(source, &Default::default()).expect("bundled layout is sound")
    })
}

pub fn run(data: &[u8]) {
    let layout = layout();
    let path = Path::new("fuzz.elf");
    let result = lint::run(
        layout,
        Input::Bytes { name: path, data },
        &Options::default(),
    );
    let run = LintRun {
        spec: Path::new("qemu-virt-multi.toml"),
        layout,
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
