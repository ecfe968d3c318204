//! Step 5: the load rule (`lma`, RAM, `phys_align`) and the slot's
//! `max_size`. The kernel's shape (where the image runs), and the command
//! line's steering of this rule, are [`super::shape`]'s: it builds on the
//! rule, and this module knows nothing of shapes.

use super::facts::Facts;
use super::image::ImageSection;
use super::{ArchDefaults, Conventions, GIB, round_up};
use crate::arch::PHYS_ADDR_BITS;

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
/// virt's (an LMA below RAM is riscv Linux's LOAD_OFFSET, one above every
/// physical address is arm64 Linux's p_paddr = p_vaddr: loaded 2 MiB in).
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
    let plausible = lma >= conv.lowest_ram && lma >> PHYS_ADDR_BITS == 0;
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
    use super::super::fixture::*;
    use super::super::image;
    use super::super::{AARCH64, RISCV64};
    use super::*;

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
        // arm64 Linux: p_paddr = p_vaddr, above every physical address.
        let kimage = 0xffff_8000_8000_0000;
        let l = load_rule(&one_load(kimage, kimage), LINUX, &AARCH64);
        assert_eq!((l.lma, l.offset, l.plausible), (kimage, 0, false));
        assert_eq!((l.ram_base, l.ram_load), (0x4000_0000, 0x4020_0000));
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
}
