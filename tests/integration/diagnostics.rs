//! Rendered diagnostics: file:line:col, the source line, a caret under the
//! offending key or value, and a help line. Snapshots keep the text stable.

use crate::support::specs::check_text;
use crate::support::{assert_snapshot, specs};
use layoutgen::Report;
use std::path::Path;

fn render(text: &str) -> String {
    let diags = check_text(text, "spec.toml").expect_err("spec must be rejected");
    Report::new(Path::new("layouts/example.toml"), text, diags).render()
}

fn default_spec() -> String {
    specs::text("qemu-virt-sv39")
}

#[test]
fn overlap_points_at_both_regions() {
    let text = default_spec().replace(
        "start = \"pci_io.start - 6MiB\"\nend = \"pci_io.start\"",
        "start = \"pci_io.start - 6MiB + 4KiB\"\nsize = \"8MiB\"",
    );
    assert_snapshot!("overlap_points_at_both_regions", render(&text));
}

#[test]
fn ambiguous_unit_points_at_the_value() {
    let text = default_spec().replace("stack_size = \"64KiB\"", "stack_size = \"64KB\"");
    assert_snapshot!("ambiguous_unit_points_at_the_value", render(&text));
}

#[test]
fn unknown_key_points_at_the_key() {
    let text = default_spec().replace("section_align = \"2MiB\"", "section_alignment = \"2MiB\"");
    assert_snapshot!("unknown_key_points_at_the_key", render(&text));
}

#[test]
fn leaf_violation_says_how_to_fix_it() {
    let text = default_spec().replace(
        "link = \"kernel.start + ram.load - ram.base\"",
        "link = \"kernel.start + 0x10_0000\"",
    );
    assert_snapshot!("leaf_violation_says_how_to_fix_it", render(&text));
}

#[test]
fn region_placed_by_three_keys_points_at_the_region() {
    let text = default_spec().replace(
        "start = \"pci_io.start - 6MiB\"",
        "start = \"pci_io.start - 6MiB\"\nsize = \"6MiB\"",
    );
    assert_snapshot!(
        "region_placed_by_three_keys_points_at_the_region",
        render(&text)
    );
}
