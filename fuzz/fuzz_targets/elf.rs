#![no_main]
//! ELF reader and lint: any bytes as an ELF image linted against a bundled
//! layout (all its paging modes), then the outcome rendered in every
//! format. Nothing may panic.

use layoutgen::Layout;
use layoutgen::elf::render::{Format, Outcome, render};
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The multi-mode layout: every paging mode's checks run on each input.
const SPEC: &str = include_str!("../../layouts/qemu-virt-multi.toml");

fn layout() -> &'static Layout {
    static L: OnceLock<Layout> = OnceLock::new();
    L.get_or_init(|| {
        layoutgen::check_text(SPEC, "qemu-virt-multi.toml").expect("bundled layout is sound")
    })
}

fuzz_target!(|data: &[u8]| {
    let layout = layout();
    let path = Path::new("fuzz.elf");
    let result = layoutgen::elf::lint_bytes(layout, None, path, data);
    let outcomes = [Outcome {
        path: PathBuf::from(path),
        result,
    }];
    let spec = Path::new("qemu-virt-multi.toml");
    for format in [Format::Human, Format::Json, Format::Github, Format::Sarif] {
        let _ = render(format, spec, layout, &outcomes, false);
    }
});
