//! Step 5: the load rule (`lma`, RAM, `phys_align`), the kernel's shape
//! (where the image runs), and the slot's `max_size`.

use super::facts::{Facts, Kind};
use super::image::ImageSection;
use super::shape::{Physical, Steering};
use super::{ArchDefaults, Conventions, GIB, round_up};

/// Where the image is loaded, and the RAM around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadRule {
    /// `p_paddr` of the first PT_LOAD (the link address without one).
    pub lma: u64,
    /// VA - PA of the first PT_LOAD.
    pub offset: u64,
    /// Every PT_LOAD has that VA - PA.
    pub consistent: bool,
    /// The LMA is a RAM address; else the physical address is chosen at
    /// boot (Linux's LOAD_OFFSET) and `phys_align` is written.
    pub plausible: bool,
    pub ram_base: u64,
    pub ram_load: u64,
}

/// The load rule: the first section's LMA by the first PT_LOAD's VA - PA. RAM is the LMA's
/// GiB when the LMA is RAM; with Linux's defaults, or when it is not, QEMU
/// virt's (an LMA below RAM is Linux's LOAD_OFFSET: loaded 2 MiB in).
pub fn load_rule(facts: &Facts, defaults: ArchDefaults, conv: &Conventions) -> LoadRule {
    let first = facts.loads.first();
    let offset = first.map(|l| l.vaddr.wrapping_sub(l.paddr)).unwrap_or(0);
    // The image starts at its first section, which a PT_LOAD holding the
    // ELF headers (a PIE's) starts before.
    let lma = facts.link().wrapping_sub(offset);
    let consistent = facts
        .loads
        .iter()
        .all(|l| l.vaddr.wrapping_sub(l.paddr) == offset);
    let plausible = lma >= conv.lowest_ram;
    let (ram_base, ram_load) = match (defaults, plausible) {
        (ArchDefaults::Linux, true) => (conv.qemu_ram_base, lma),
        (ArchDefaults::Plain, true) => (lma & !(GIB - 1), lma),
        (_, false) => (conv.qemu_ram_base, conv.qemu_load),
    };
    LoadRule {
        lma,
        offset,
        consistent,
        plausible,
        ram_base,
        ram_load,
    }
}

/// Where the image runs: its slot, and so its `link` and the regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// In the top 2 GiB, Linux's `kernel` slot.
    TopSlot,
    /// A fixed-address image outside the top 2 GiB, taken to run inside the
    /// linear map (PAGE_OFFSET + its offset into RAM), as old Linux and
    /// teaching kernels do.
    LinearMap,
    /// A slot of its own around the image: a relocatable image, or one
    /// whose LMA is not RAM, or any image outside the top 2 GiB with
    /// Linux's defaults.
    OwnSlot,
    /// No paging (`modes = ["bare"]`): firmware or a kernel before paging,
    /// in physical RAM where it is loaded, or a PIE linked at 0 that runs
    /// wherever it is loaded (decided in `shape::decide`).
    Bare(Physical),
    /// Paging on, identity-mapped (VA = PA) in the lower half, xv6-style:
    /// the image in a lower-half linear map at `ram.base`.
    Identity,
}

/// `--ram-base` and `--load-addr` applied to `load`: RAM's base, and where
/// the image is loaded when its physical address is chosen at boot; an
/// image that runs where it is linked must be loaded at its LMA.
pub fn steer(
    mut load: LoadRule,
    shape: Shape,
    steer: &Steering,
    conv: &Conventions,
) -> Result<LoadRule, String> {
    if shape == Shape::Bare(Physical::AtZero) && !load.plausible {
        // LMA 0 too: loaded by -bios at the first byte of RAM, unless told
        // otherwise.
        load.ram_base = conv.qemu_ram_base;
        load.ram_load = conv.qemu_ram_base;
    }
    if let Some(base) = steer.ram_base {
        load.ram_base = base;
        if !load.plausible && steer.load.is_none() {
            load.ram_load = base.max(load.ram_load);
        }
    }
    if let Some(at) = steer.load {
        if load.plausible && at != load.lma {
            return Err(format!(
                "--load-addr {at:#x} contradicts the ELF: it runs where it is linked, loaded at its LMA {:#x} (p_paddr)",
                load.lma
            ));
        }
        load.ram_load = at;
    }
    if load.ram_load < load.ram_base {
        let what = match (steer.load, load.plausible) {
            (Some(_), _) => "--load-addr",
            (None, true) => "the ELF's LMA",
            (None, false) => "the load address",
        };
        let base = if steer.ram_base.is_some() {
            "--ram-base"
        } else {
            "ram.base"
        };
        return Err(format!(
            "{base} {:#x} is above {what} {:#x}: the image must be loaded inside RAM",
            load.ram_base, load.ram_load
        ));
    }
    Ok(load)
}

/// The kernel's shape: where it is decided, from the link address, the ELF
/// type and the load rule.
pub fn shape(facts: &Facts, load: &LoadRule, defaults: ArchDefaults, conv: &Conventions) -> Shape {
    let linux = defaults == ArchDefaults::Linux;
    if facts.link() >= conv.kernel_slot {
        Shape::TopSlot
    } else if !linux && facts.kind == Kind::Exec && load.plausible {
        Shape::LinearMap
    } else {
        Shape::OwnSlot
    }
}

/// The image's size, and the slot's `max_size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// First section to the end rounded up to end_align.
    pub span: u64,
    pub max_size: u64,
}

/// `max_size`: the image's span is not enough for `check`, which rounds
/// every section up to its alignment (a segment's first to section_align)
/// and adds the stack; the sum of those, rounded up to a power of two, is.
pub fn slot(
    facts: &Facts,
    sections: &[ImageSection],
    section_align: u64,
    end_align: u64,
    stack_size: u64,
) -> Slot {
    let span = (round_up(facts.last_end(), end_align) - facts.link() as u128) as u64;
    let need = sections
        .iter()
        .enumerate()
        .fold(span.saturating_add(stack_size), |n, (i, o)| {
            let a = o.align.map(|(a, _)| a).unwrap_or(1);
            let first = i == 0 || sections[i - 1].segment != o.segment;
            n.saturating_add(if first { section_align.max(a) } else { a })
        });
    Slot {
        span,
        // Saturating: a hostile ELF's sizes near 2^64 give a slot `check`
        // then refuses, not an overflow.
        max_size: need
            .checked_next_power_of_two()
            .unwrap_or(1 << 63)
            .max(section_align),
    }
}

#[cfg(test)]
mod tests {
    use super::super::RISCV64;
    use super::super::fixture::*;
    use super::super::image;
    use super::*;

    const LINK: u64 = 0xffff_ffff_8000_0000;

    fn one_load(vaddr: u64, paddr: u64) -> Facts {
        facts(
            vec![section(".text", vaddr, 0x1000, 4, X)],
            vec![load(vaddr, paddr, X)],
        )
    }

    #[test]
    fn the_lma_is_the_first_loads_and_ram_its_gib() {
        let f = one_load(LINK, 0x8020_0000);
        let l = load_rule(&f, PLAIN, &RISCV64);
        assert_eq!((l.lma, l.offset), (0x8020_0000, LINK - 0x8020_0000));
        assert!(l.plausible && l.consistent);
        assert_eq!((l.ram_base, l.ram_load), (0x8000_0000, 0x8020_0000));
        // 0x4_4020_0000: RAM from its GiB, 0x4_4000_0000.
        let f = one_load(LINK, 0x4_4020_0000);
        let l = load_rule(&f, PLAIN, &RISCV64);
        assert_eq!((l.ram_base, l.ram_load), (0x4_4000_0000, 0x4_4020_0000));
        // Linux's defaults: QEMU's RAM base, loaded at the LMA.
        let l = load_rule(&f, LINUX, &RISCV64);
        assert_eq!((l.ram_base, l.ram_load), (0x8000_0000, 0x4_4020_0000));
    }

    #[test]
    fn an_lma_below_ram_is_chosen_at_boot() {
        // Linux's LOAD_OFFSET: p_paddr 0.
        let f = one_load(LINK, 0);
        for defaults in [PLAIN, LINUX] {
            let l = load_rule(&f, defaults, &RISCV64);
            assert_eq!(l.lma, 0);
            assert!(!l.plausible, "{defaults:?}");
            assert_eq!((l.ram_base, l.ram_load), (0x8000_0000, 0x8020_0000));
        }
        // Just below 16 MiB is no RAM either; 16 MiB is.
        assert!(!load_rule(&one_load(LINK, 0xff_f000), PLAIN, &RISCV64).plausible);
        assert!(load_rule(&one_load(LINK, 0x100_0000), PLAIN, &RISCV64).plausible);
    }

    #[test]
    fn loads_that_disagree_on_va_minus_pa_are_inconsistent() {
        let mut f = one_load(LINK, 0x8020_0000);
        f.loads.push(load(LINK + 0x20_0000, 0x8060_0000, W));
        let l = load_rule(&f, PLAIN, &RISCV64);
        assert!(!l.consistent);
        assert_eq!(l.offset, LINK - 0x8020_0000);
        // No PT_LOAD: the LMA is the link address.
        let mut f = one_load(0x8020_0000, 0);
        f.loads.clear();
        let l = load_rule(&f, PLAIN, &RISCV64);
        assert_eq!((l.lma, l.offset, l.consistent), (0x8020_0000, 0, true));
    }

    #[test]
    fn the_shape_follows_the_link_address_and_elf_type() {
        let shape_of = |f: &Facts, d| shape(f, &load_rule(f, d, &RISCV64), d, &RISCV64);
        let top = one_load(LINK, 0x8020_0000);
        assert_eq!(shape_of(&top, PLAIN), Shape::TopSlot);
        assert_eq!(shape_of(&top, LINUX), Shape::TopSlot);
        let low = one_load(0xffff_ffc0_0020_0000, 0x8020_0000);
        assert_eq!(shape_of(&low, PLAIN), Shape::LinearMap);
        assert_eq!(shape_of(&low, LINUX), Shape::OwnSlot);
        let mut dyn_low = low.clone();
        dyn_low.kind = Kind::Dyn;
        assert_eq!(shape_of(&dyn_low, PLAIN), Shape::OwnSlot);
        let no_ram = one_load(0xffff_ffc0_0020_0000, 0);
        assert_eq!(shape_of(&no_ram, PLAIN), Shape::OwnSlot);
    }

    #[test]
    fn max_size_covers_aligned_sections_and_the_stack() {
        let f = kernel();
        let g = 2 << 20;
        let s = image::sections(&f, g).unwrap();
        // Three segments at 2 MiB, .bss ending 0x1_1000 into the third.
        let slot = slot(&f, &s, g, 4 << 10, 0);
        assert_eq!(slot.span, 4 * (1 << 20) + 0x1_1000);
        // span + 3 segment starts of 2 MiB + .bss's 16: just over 10 MiB.
        assert_eq!(slot.max_size, 16 << 20);
        let f = facts(vec![section(".text", LINK, 0x1000, 4, X)], vec![]);
        let s = image::sections(&f, g).unwrap();
        let small = super::slot(&f, &s, g, 4 << 10, 0);
        assert_eq!((small.span, small.max_size), (0x1000, 4 << 20));
        // Never below the granule; the stack counts.
        let with_stack = super::slot(&f, &s, g, 4 << 10, 2 << 20);
        assert_eq!(with_stack.max_size, 8 << 20);
    }

    #[test]
    fn ram_base_and_load_addr_steer_the_load_rule() {
        let fw = one_load(0x8000_0000, 0x8000_0000);
        let rule = load_rule(&fw, PLAIN, &RISCV64);
        let bare = Shape::Bare(Physical::InRam);
        let steered = |ram_base, load| {
            let s = Steering {
                ram_base,
                load,
                ..Steering::default()
            };
            steer(rule, bare, &s, &RISCV64)
        };
        let l = steered(Some(0x4000_0000), None).unwrap();
        assert_eq!((l.ram_base, l.ram_load), (0x4000_0000, 0x8000_0000));
        assert_eq!(steered(None, Some(0x8000_0000)).unwrap(), rule);
        let e = steered(None, Some(0x8020_0000)).unwrap_err();
        assert!(
            e.starts_with("--load-addr 0x80200000 contradicts the ELF"),
            "{e}"
        );
        let e = steered(Some(0x9000_0000), None).unwrap_err();
        assert!(
            e.starts_with("--ram-base 0x90000000 is above the ELF's LMA 0x80000000"),
            "{e}"
        );
        // A PIE with LMA 0: QEMU's RAM base, where --load-addr says.
        let mut pie = one_load(0, 0);
        pie.kind = Kind::Dyn;
        let rule = load_rule(&pie, PLAIN, &RISCV64);
        let at_zero = Shape::Bare(Physical::AtZero);
        let l = steer(rule, at_zero, &Steering::default(), &RISCV64).unwrap();
        assert_eq!((l.lma, l.plausible), (0, false));
        assert_eq!((l.ram_base, l.ram_load), (0x8000_0000, 0x8000_0000));
        let s = Steering {
            load: Some(0x8040_0000),
            ..Steering::default()
        };
        assert_eq!(
            steer(rule, at_zero, &s, &RISCV64).unwrap().ram_load,
            0x8040_0000
        );
    }
}
