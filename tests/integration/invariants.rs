//! The invariants from the accepting side: specs that check, asserted on
//! the resolved layout. The specs are data (`tests/data/accepted/`, which
//! `spec_cases` also checks), and so is each invariant's negative cases
//! (`tests/data/rejected/`).

use crate::support::root;
use crate::support::specs::{self, checked};
use layoutgen::Layout;

/// `tests/data/accepted/NAME.toml`, checked.
#[track_caller]
fn accepted(name: &str) -> Layout {
    let path = root().join(format!("tests/data/accepted/{name}.toml"));
    checked(&std::fs::read_to_string(&path).unwrap())
}

#[test]
fn accepts_sections_inside_a_segment_at_their_own_alignment() {
    let layout = accepted("sections-inside-a-segment-at-their-own-alignment");
    let text_sec = layout.image.section(".text").unwrap();
    assert_eq!((text_sec.align, text_sec.segment_start), (8, false));
    assert_eq!(text_sec.start_symbols, ["_stext"]);
    assert_eq!(layout.image.segments().count(), 4);
}

#[test]
fn accepts_linux_load_offset_rule_with_boot_placement() {
    let image = accepted("linux-load-offset-rule-with-boot-placement").image;
    assert_eq!((image.lma, image.phys_align), (0x20_0000, Some(2 << 20)));
}

#[test]
fn accepts_a_lower_half_kernel() {
    assert_eq!(accepted("lower-half-kernel").modes[0].image_offset, 0);
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
