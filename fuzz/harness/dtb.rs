//! The `dtb` fuzz target's work, shared with `cargo test`
//! (tests/integration/fuzz_regressions.rs): any bytes as a flattened device
//! tree through `layoutgen::dtb::parse`; RAM it finds is checked against
//! bundled layouts (`dtb::check`, what `--dtb` does) and the findings are
//! rendered. Nothing may panic, and no message may carry a control
//! character from the blob to the terminal.

use super::common::assert_shown_safely;
use layoutgen::Layout;
use layoutgen::diag::Report;
use layoutgen::dtb;
use std::path::Path;
use std::sync::OnceLock;

/// Layouts the RAM is checked against: one with paging (three modes, so
/// the linear-map check runs per mode) and one bare.
const SPECS: [(&str, &str); 2] = [
    (
        "qemu-virt-multi.toml",
        include_str!("../../layouts/qemu-virt-multi.toml"),
    ),
    (
        "qemu-virt-bare.toml",
        include_str!("../../layouts/qemu-virt-bare.toml"),
    ),
];

fn layouts() -> &'static [Layout] {
    static L: OnceLock<Vec<Layout>> = OnceLock::new();
    L.get_or_init(|| {
        SPECS
            .iter()
            .map(|&(name, text)| {
                let source = layoutgen::Source::Text { text, name };
                layoutgen::load(source, &Default::default()).expect("bundled layout is sound")
            })
            .collect()
    })
}

pub fn run(data: &[u8]) {
    match dtb::parse(data) {
        Err(e) => assert_shown_safely("dtb error", &e.to_string()),
        Ok(ranges) => {
            assert!(!ranges.is_empty(), "Ok with no RAM range");
            assert!(
                ranges.windows(2).all(|w| w[0].start <= w[1].start),
                "ranges not in address order: {ranges:?}"
            );
            let _ = dtb::total(&ranges);
            for (layout, (name, text)) in layouts().iter().zip(SPECS) {
                let found = dtb::check(layout, &ranges, "fuzz.dtb");
                for d in &found {
                    assert_shown_safely("dtb finding", &d.message);
                }
                if !found.is_empty() {
                    let report = Report::new(Path::new(name), text, found);
                    assert_shown_safely("dtb report", &report.render());
                }
            }
        }
    }
}
