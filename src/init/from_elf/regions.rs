//! Step 7: the regions. With Linux's defaults, the bundled Linux layout's;
//! else the image's slot and a linear map, TODO-marked guesses.

use super::load::LoadRule;
use super::shape::Shape;
use super::{ArchDefaults, BUNDLED, Conventions, GIB, MIB, PAGE_SIZE, alignment_of, round_up};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Regions {
    /// The bundled Linux layout's lines, from the comments above its first
    /// region to its end.
    Linux(Vec<&'static str>),
    Plain {
        /// None when the image runs in the linear map.
        kernel: Option<KernelSlot>,
        linear_map: LinearMap,
    },
    /// No paging: the image's slot in physical memory, its span rounded
    /// to 4 KiB (`[region.firmware]`, kind `kernel`); no linear map.
    Bare { start: u64, end: u64 },
    /// Identity mapping: a lower-half linear map at `ram.base` holding the
    /// image, mapped with the largest leaf `ram.base` allows.
    Identity { leaf: u64 },
}

/// `[region.kernel]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelSlot {
    pub bounds: SlotBounds,
    pub align: u64,
    pub leaf: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotBounds {
    /// The top 2 GiB, Linux's kernel slot (riscv64; any kernel linked
    /// there).
    Top2GiB,
    /// The architecture's Linux image slot below the top 2 GiB (arm64's
    /// KIMAGE_VADDR): a comment, `start` and `end`.
    Arch([&'static str; 3]),
    /// Only the image's own span is known: a TODO.
    Guessed { start: u64, end: u64 },
}

/// `[region.linear_map]`: a guess either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinearMap {
    pub start: u64,
    pub size: u64,
    pub leaf: u64,
    /// The image runs in it (`Shape::LinearMap`): its start follows from
    /// ram.base, its size is a guess. Else it is Linux's Sv39 one.
    pub holds_image: bool,
}

/// The regions for an image at `link` of `shape`, `max_size` and
/// `section_align`, loaded by `load`.
pub fn regions(
    link: u64,
    shape: Shape,
    max_size: u64,
    section_align: u64,
    load: &LoadRule,
    defaults: ArchDefaults,
    conv: &Conventions,
) -> Regions {
    match shape {
        Shape::Bare(_) => {
            return Regions::Bare {
                start: link & !(PAGE_SIZE - 1),
                end: round_up(link as u128 + max_size as u128, PAGE_SIZE) as u64,
            };
        }
        Shape::Identity => {
            return Regions::Identity {
                leaf: alignment_of(load.ram_base, GIB).max(PAGE_SIZE),
            };
        }
        _ => {}
    }
    if defaults == ArchDefaults::Linux {
        return Regions::Linux(linux_regions(conv.linux_layout));
    }
    let slot = |bounds| KernelSlot {
        bounds,
        align: section_align,
        // The largest leaf the granule holds: arm64 Linux's 32/64 KiB
        // segments are mapped with 4 KiB pages.
        leaf: [GIB, 2 * MIB]
            .into_iter()
            .find(|&l| section_align >= l)
            .unwrap_or(PAGE_SIZE),
    };
    let kernel = match shape {
        Shape::TopSlot => Some(slot(match conv.kernel_slot_toml {
            Some(arch) if link < TOP_2GIB => SlotBounds::Arch(arch),
            _ => SlotBounds::Top2GiB,
        })),
        Shape::OwnSlot => Some(slot(SlotBounds::Guessed {
            start: link & !(section_align - 1),
            end: round_up(link as u128 + max_size as u128, section_align) as u64,
        })),
        Shape::LinearMap | Shape::Bare(_) | Shape::Identity => None,
    };
    let holds_image = shape == Shape::LinearMap;
    let start = if holds_image {
        link.wrapping_sub(load.ram_load - load.ram_base)
    } else {
        conv.linear_map
    };
    Regions::Plain {
        kernel,
        linear_map: LinearMap {
            start,
            size: conv
                .linear_map_size
                .min(start.wrapping_neg().max(PAGE_SIZE)),
            leaf: alignment_of(load.ram_base, GIB).max(PAGE_SIZE),
            holds_image,
        },
    }
}

/// The top 2 GiB of the address space.
const TOP_2GIB: u64 = 0xffff_ffff_8000_0000;

/// The lines of bundled layout `name` from the comment lines just above
/// its first `[region.*]` to its end.
fn linux_regions(name: &str) -> Vec<&'static str> {
    let text = BUNDLED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let first = lines
        .iter()
        .position(|l| l.starts_with("[region."))
        .unwrap_or(lines.len());
    let mut from = first;
    while from > 0 && lines[from - 1].starts_with('#') {
        from -= 1;
    }
    lines[from..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::super::{AARCH64, RISCV64};
    use super::*;

    const M2: u64 = 2 << 20;

    fn rule(ram_base: u64, ram_load: u64) -> LoadRule {
        LoadRule {
            lma: ram_load,
            offset: 0,
            consistent: true,
            plausible: true,
            ram_base,
            ram_load,
        }
    }

    /// The plain (not Linux) regions of an 8 MiB image at `link` of
    /// `shape`, 2 MiB sections, RAM at `ram_base` loaded at `ram_load`.
    fn plain(
        link: u64,
        shape: Shape,
        ram_base: u64,
        ram_load: u64,
    ) -> (Option<KernelSlot>, LinearMap) {
        let r = regions(
            link,
            shape,
            8 << 20,
            M2,
            &rule(ram_base, ram_load),
            PLAIN,
            &RISCV64,
        );
        let Regions::Plain { kernel, linear_map } = r else {
            panic!()
        };
        (kernel, linear_map)
    }

    #[test]
    fn linux_defaults_copy_the_bundled_regions_with_their_comments() {
        let Regions::Linux(lines) =
            regions(0, Shape::OwnSlot, M2, M2, &rule(0, 0), LINUX, &RISCV64)
        else {
            panic!("not Linux's regions")
        };
        let first = lines.iter().position(|l| l.starts_with('[')).unwrap();
        assert!(lines[first].starts_with("[region."), "{lines:?}");
        assert!(lines[..first].iter().all(|l| l.starts_with('#')));
        assert!(lines.contains(&"[region.kasan]"));
    }

    #[test]
    fn an_image_in_the_top_2gib_is_in_linuxs_slot() {
        let (kernel, linear_map) = plain(
            0xffff_ffff_8000_0000,
            Shape::TopSlot,
            0x8000_0000,
            0x8020_0000,
        );
        let k = kernel.unwrap();
        assert_eq!((k.bounds, k.align, k.leaf), (SlotBounds::Top2GiB, M2, M2));
        assert_eq!(
            (linear_map.start, linear_map.size),
            (0xffff_ffd6_0000_0000, 128 << 30)
        );
        assert_eq!(linear_map.leaf, 1 << 30);
        assert!(!linear_map.holds_image);
    }

    /// arm64 Linux at KIMAGE_VADDR, 32 KiB segments: its own slot, mapped
    /// by 4 KiB pages (no leaf is 32 KiB); an aarch64 image in the top
    /// 2 GiB keeps that slot.
    #[test]
    fn an_arm64_image_is_in_its_architectures_slot() {
        let kimage = 0xffff_8000_8000_0000;
        let r = regions(
            kimage,
            Shape::TopSlot,
            4 << 20,
            32 << 10,
            &rule(0x4000_0000, 0x4020_0000),
            PLAIN,
            &AARCH64,
        );
        let Regions::Plain { kernel, .. } = r else {
            panic!()
        };
        let k = kernel.unwrap();
        assert!(matches!(
            k.bounds,
            SlotBounds::Arch([_, "0xffff_8000_8000_0000", _])
        ));
        assert_eq!(k.leaf, 4 << 10);
        let top = regions(
            0xffff_ffff_8020_0000,
            Shape::TopSlot,
            4 << 20,
            M2,
            &rule(0x4000_0000, 0x4020_0000),
            PLAIN,
            &AARCH64,
        );
        let Regions::Plain { kernel, .. } = top else {
            panic!()
        };
        assert_eq!(kernel.unwrap().bounds, SlotBounds::Top2GiB);
    }

    #[test]
    fn an_own_slot_spans_the_image_rounded_to_the_granule() {
        let link = 0xffff_ffc4_0010_0000;
        let (kernel, linear_map) = plain(link, Shape::OwnSlot, 0x8020_0000, 0x8020_0000);
        let bounds = kernel.unwrap().bounds;
        let (start, end) = (0xffff_ffc4_0000_0000, 0xffff_ffc4_00a0_0000);
        assert_eq!(bounds, SlotBounds::Guessed { start, end });
        // RAM at 0x8020_0000: the linear map's leaves are 2 MiB.
        assert_eq!(linear_map.leaf, M2);
    }

    #[test]
    fn an_image_in_the_linear_map_places_it_from_ram_base() {
        let link = 0xffff_ffc0_0020_0000;
        let (kernel, linear_map) = plain(link, Shape::LinearMap, 0x8000_0000, 0x8020_0000);
        assert_eq!(kernel, None);
        assert!(linear_map.holds_image);
        assert_eq!(linear_map.start, 0xffff_ffc0_0000_0000);
        // Up to the top of the address space (256 GiB), capped at 128 GiB.
        assert_eq!(linear_map.size, 128 << 30);
        let (_, linear_map) = plain(
            0xffff_fff0_0020_0000,
            Shape::LinearMap,
            0x8000_0000,
            0x8020_0000,
        );
        assert_eq!(linear_map.size, 64 << 30);
    }
}
