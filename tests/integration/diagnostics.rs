//! Rendered diagnostics: file:line:col, the source line, a caret under the
//! offending key or value, and a help line. Snapshots keep the text stable.

use crate::support::specs::check_text;
use crate::support::{assert_snapshot, specs};
use layoutgen::Report;
use std::path::Path;

#[test]
fn rejected_specs_render_file_line_caret_and_help() {
    // (snapshot, from, to): one edit of the bundled Sv39 layout each; the
    // snapshot's name says what its rendering shows.
    let cases = [
        (
            "overlap_points_at_both_regions",
            "start = \"pci_io.start - 6MiB\"\nend = \"pci_io.start\"",
            "start = \"pci_io.start - 6MiB + 4KiB\"\nsize = \"8MiB\"",
        ),
        (
            "ambiguous_unit_points_at_the_value",
            "stack_size = \"64KiB\"",
            "stack_size = \"64KB\"",
        ),
        (
            "unknown_key_points_at_the_key",
            "section_align = \"2MiB\"",
            "section_alignment = \"2MiB\"",
        ),
        (
            "leaf_violation_says_how_to_fix_it",
            "link = \"kernel.start + ram.load - ram.base\"",
            "link = \"kernel.start + 0x10_0000\"",
        ),
        (
            "region_placed_by_three_keys_points_at_the_region",
            "start = \"pci_io.start - 6MiB\"",
            "start = \"pci_io.start - 6MiB\"\nsize = \"6MiB\"",
        ),
    ];
    for (name, from, to) in cases {
        let text = specs::text("qemu-virt-sv39").replace(from, to);
        let diags = check_text(&text, "spec.toml")
            .err()
            .unwrap_or_else(|| panic!("{name}: the spec must be rejected"));
        let rendered = Report::new(Path::new("layouts/example.toml"), &text, diags).render();
        assert_snapshot!(name, rendered);
    }
}
