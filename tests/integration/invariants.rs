//! The invariants from the accepting side: specs that check, asserted on
//! the resolved layout. Each invariant's negative cases are data, a spec
//! per file in `tests/data/rejected/` (run by `spec_cases`).

use crate::support::root;
use crate::support::specs::{self, BASE, checked};

/// BASE with `from` replaced by `to` (which must occur exactly once).
fn edit(from: &str, to: &str) -> String {
    specs::edit(BASE, from, to)
}

#[test]
fn accepts_sections_inside_a_segment_at_their_own_alignment() {
    // Linux: .head.text then .text at 4 KiB inside one 2 MiB text segment.
    let text = edit(
        "[[image.section]]\nname = \".text\"\nperms = \"rx\"\ninput = [\".text.entry\", \".text\", \".text.*\"]",
        "[[image.section]]\nname = \".head.text\"\nsegment = \"text\"\nperms = \"rx\"\ninput = [\".text.entry\"]\n\n[[image.section]]\nname = \".text\"\nsegment = \"text\"\nperms = \"rx\"\nalign = \"8\"\nstart_symbols = [\"_stext\"]\nend_symbols = [\"_etext\"]",
    );
    let layout = checked(&text);
    let text_sec = layout.image.section(".text").unwrap();
    assert_eq!((text_sec.align, text_sec.segment_start), (8, false));
    assert_eq!(text_sec.start_symbols, ["_stext"]);
    assert_eq!(layout.image.segments().count(), 4);
}

#[test]
fn accepts_linux_load_offset_rule_with_boot_placement() {
    let text = edit(
        "max_size = \"32MiB\"",
        "max_size = \"32MiB\"\nlma = \"image.start - 0xffff_ffff_8000_0000\"\nphys_align = \"2MiB\"",
    );
    let layout = checked(&text);
    assert_eq!(layout.image.lma, 0x20_0000);
    assert_eq!(layout.image.phys_align, Some(2 << 20));
}

#[test]
fn accepts_a_lower_half_kernel() {
    // An identity-mapped slot at the RAM base: lower half. Without
    // `half = "lower"` it is refused (rejected/lower-half-slot-without-half-lower.toml).
    let lower = edit(
        "[region.kernel]\nstart = \"top - 2GiB\"\nend = \"top\"",
        "[region.kernel]\nhalf = \"lower\"\nstart = \"ram.base\"\nend = \"ram.base + 2GiB\"",
    )
    .replace("link = \"kernel.start + 0x20_0000\"", "link = \"ram.load\"")
    .replace(
        "[region.modules]\nstart = \"image.end - 2GiB\"\nend = \"kernel.start\"\n",
        "",
    );
    let layout = checked(&lower);
    assert_eq!(layout.modes[0].image_offset, 0);
}

#[test]
fn aarch64_layout_uses_ttbr1_and_4k_granule_blocks() {
    // No 512 GiB leaf with the 4 KiB granule: rejected/aarch64-512gib-leaf.toml.
    let layout = checked(&specs::text("qemu-virt-aarch64"));
    let va48 = layout.mode(layoutgen::arch::PagingMode::Va48).unwrap();
    assert_eq!(va48.kernel_half, 0xffff_0000_0000_0000);
    assert_eq!(va48.page_offset, Some(0xffff_0000_0000_0000));
    assert_eq!(va48.mode_register, 16, "TCR_EL1.T1SZ = 64 - 48");
    assert_eq!(layout.gp.policy, layoutgen::spec::GpPolicy::Disabled);
}

#[test]
fn phys_align_follows_the_image_window_not_the_linear_maps_leaf() {
    // The boot-loader-picks-both design: the image inside a 1 GiB-leaf
    // linear map, placed at any 2 MiB-aligned address (its window is
    // mapped with section_align leaves). A slot of its own mapped with
    // 1 GiB leaves cannot take a 2 MiB placement:
    // rejected/phys-align-finer-than-the-slots-leaf.toml.
    let bootpick =
        std::fs::read_to_string(root().join("sample-kernel/layouts/qemu-virt-bootpick.toml"))
            .unwrap();
    assert!(bootpick.contains("leaf = \"1GiB\""));
    checked(&bootpick);
}
