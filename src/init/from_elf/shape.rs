//! Step 5a: the kernel's shape, decided from the ELF and steered by the
//! command line (`--shape`, `--modes`). An image whose every PT_LOAD has
//! VA = PA inside physical RAM (and whose entry is in it), or an ET_DYN
//! linked at 0, runs without paging: firmware (OpenSBI, U-Boot), or a kernel
//! before it turns paging on. Anything else is a paging kernel, placed by
//! [`paging_shape`]. The shape then steers the load rule ([`steer`]).

use super::facts::{Facts, Kind};
use super::load::LoadRule;
use super::{ArchDefaults, Conventions};
use crate::arch::{PHYS_ADDR_BITS, PagingMode};

/// `--shape` given with `--from-elf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeChoice {
    /// No paging (`modes = ["bare"]`).
    Bare,
    /// Paging on, the image identity-mapped (VA = PA) in the lower half.
    Identity,
    /// A paging kernel in the upper half (the derivation for any kernel
    /// that is not a physical image).
    Linux,
}

impl ShapeChoice {
    fn flag(self) -> &'static str {
        match self {
            ShapeChoice::Bare => "--shape bare",
            ShapeChoice::Identity => "--shape identity",
            ShapeChoice::Linux => "--shape linux",
        }
    }
}

/// What the command line says beside the ELF; `None` (or no modes) is
/// "as the ELF says".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Steering {
    pub shape: Option<ShapeChoice>,
    /// `--modes`: the spec's `modes`, and with them the shape (`bare` is
    /// no paging; paging modes on a physical image are identity mapping).
    pub modes: Vec<PagingMode>,
    /// `--ram-base`: `ram.base`.
    pub ram_base: Option<u64>,
    /// `--load-addr`: `ram.load` (for an image that runs where it is
    /// linked, it must be the ELF's LMA).
    pub load: Option<u64>,
}

/// How an image addresses physical memory, when it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Physical {
    /// Every PT_LOAD has VA = PA inside physical RAM, and so has the entry.
    InRam,
    /// ET_DYN whose first PT_LOAD is at VA 0: a self-relocating image that
    /// runs wherever it is loaded (its PA is RAM, or 0 as well).
    AtZero,
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
    /// wherever it is loaded (decided in [`decide`]).
    Bare(Physical),
    /// Paging on, identity-mapped (VA = PA) in the lower half, xv6-style:
    /// the image in a lower-half linear map at `ram.base`.
    Identity,
}

/// Whether the ELF is a physical image, and which kind.
pub fn physical(facts: &Facts, conv: &Conventions) -> Option<Physical> {
    let first = facts.loads.iter().map(|l| l.vaddr).min()?;
    if facts.kind == Kind::Dyn && first == 0 {
        return Some(Physical::AtZero);
    }
    if !facts.loads.iter().all(|l| l.vaddr == l.paddr) {
        return None;
    }
    let (low, high) = (first.min(facts.link()) as u128, facts.last_end());
    let ram = conv.lowest_ram as u128..=1u128 << PHYS_ADDR_BITS;
    let entry_in = (low..high).contains(&(facts.entry as u128));
    (ram.contains(&low) && ram.contains(&high) && entry_in).then_some(Physical::InRam)
}

/// `what` describes the ELF's addresses for an error message.
fn addresses(facts: &Facts, phys: Option<Physical>) -> String {
    match (phys, facts.loads.first()) {
        (Some(Physical::InRam), _) => format!(
            "every PT_LOAD has VA = PA in physical RAM (linked at {:#x}): it runs without paging",
            facts.link()
        ),
        (Some(Physical::AtZero), _) => {
            "it is a PIE linked at 0: it relocates itself and runs without paging".into()
        }
        (None, Some(l)) if l.vaddr != l.paddr => format!(
            "its first PT_LOAD has VA {:#x} but PA {:#x}: it is linked to run with paging",
            l.vaddr, l.paddr
        ),
        (None, _) => format!(
            "it is linked at {:#x}, not in physical RAM with VA = PA",
            facts.link()
        ),
    }
}

/// The shape: `--shape`, else `--modes` (bare, or paging modes on a
/// physical image: identity), else the ELF (a physical image is bare),
/// refusing what contradicts the ELF or the other option.
pub fn decide(
    facts: &Facts,
    load: &LoadRule,
    defaults: ArchDefaults,
    conv: &Conventions,
    steer: &Steering,
) -> Result<Shape, String> {
    let phys = physical(facts, conv);
    let modes = &steer.modes;
    let bare_modes = modes.contains(&PagingMode::Bare);
    if bare_modes && modes.len() > 1 {
        return Err("--modes bare cannot be combined with a paging mode".into());
    }
    let modes_flag = || {
        let names: Vec<&str> = modes.iter().map(|m| m.name()).collect();
        format!("--modes {}", names.join(","))
    };
    let contradicts =
        |flag: &str| format!("{flag} contradicts the ELF: {}", addresses(facts, phys));
    let choice = match steer.shape {
        Some(ShapeChoice::Bare) if !modes.is_empty() && !bare_modes => {
            return Err(format!(
                "--shape bare and {} contradict each other: a bare image runs without paging",
                modes_flag()
            ));
        }
        Some(s @ (ShapeChoice::Identity | ShapeChoice::Linux)) if bare_modes => {
            return Err(format!(
                "{} and --modes bare contradict each other: that shape runs with paging",
                s.flag()
            ));
        }
        Some(s) => Some(s),
        None if bare_modes => Some(ShapeChoice::Bare),
        None if !modes.is_empty() && phys == Some(Physical::InRam) => Some(ShapeChoice::Identity),
        None => None,
    };
    let flag = || match steer.shape {
        Some(s) => s.flag().to_string(),
        None => modes_flag(),
    };
    match (choice, phys) {
        (Some(ShapeChoice::Bare | ShapeChoice::Identity) | None, Some(_))
            if defaults == ArchDefaults::Linux =>
        {
            Err(contradicts(
                "--arch-defaults linux (a higher-half Linux kernel)",
            ))
        }
        (Some(ShapeChoice::Bare) | None, Some(p)) => Ok(Shape::Bare(p)),
        (Some(ShapeChoice::Identity), Some(Physical::InRam)) => Ok(Shape::Identity),
        (None | Some(ShapeChoice::Linux), None) => Ok(paging_shape(facts, load, defaults, conv)),
        (Some(_), _) => Err(contradicts(&flag())),
    }
}

/// The kernel's shape: where it is decided, from the link address, the ELF
/// type and the load rule.
pub fn paging_shape(
    facts: &Facts,
    load: &LoadRule,
    defaults: ArchDefaults,
    conv: &Conventions,
) -> Shape {
    let linux = defaults == ArchDefaults::Linux;
    if facts.link() >= conv.kernel_slot {
        Shape::TopSlot
    } else if !linux && facts.kind == Kind::Exec && load.plausible {
        Shape::LinearMap
    } else {
        Shape::OwnSlot
    }
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

#[cfg(test)]
mod tests {
    use super::super::RISCV64;
    use super::super::fixture::*;
    use super::super::load::load_rule;
    use super::*;

    /// A firmware image: one RWX PT_LOAD at VA = PA = 0x8000_0000.
    fn firmware() -> Facts {
        facts(
            vec![
                section(".text", 0x8000_0000, 0x1_0000, 4, X | W),
                section(".data", 0x8001_0000, 0x1000, 8, W),
            ],
            vec![load(0x8000_0000, 0x8000_0000, X | W)],
        )
    }

    fn pie_at_zero() -> Facts {
        let mut f = facts(vec![section(".text", 0, 0x1000, 4, X)], vec![load(0, 0, X)]);
        f.kind = Kind::Dyn;
        f
    }

    fn decided(f: &Facts, steer: &Steering) -> Result<Shape, String> {
        let load = load_rule(f, PLAIN, &RISCV64);
        decide(f, &load, PLAIN, &RISCV64, steer)
    }

    #[test]
    fn physical_images_are_found_by_va_equal_to_pa() {
        assert_eq!(physical(&firmware(), &RISCV64), Some(Physical::InRam));
        assert_eq!(physical(&pie_at_zero(), &RISCV64), Some(Physical::AtZero));
        // A higher-half kernel, an ET_EXEC at 0, an entry outside the image,
        // an image above 2^56: paging kernels, or nothing physical.
        assert_eq!(physical(&kernel(), &RISCV64), None);
        let mut at_zero_exec = pie_at_zero();
        at_zero_exec.kind = Kind::Exec;
        assert_eq!(physical(&at_zero_exec, &RISCV64), None);
        let mut wild_entry = firmware();
        wild_entry.entry = 0x10;
        assert_eq!(physical(&wild_entry, &RISCV64), None);
        let high = facts(
            vec![section(".text", 1 << 57, 0x1000, 4, X)],
            vec![load(1 << 57, 1 << 57, X)],
        );
        assert_eq!(physical(&high, &RISCV64), None);
    }

    #[test]
    fn the_elf_decides_and_the_options_steer() {
        let none = Steering::default();
        let fw = firmware();
        assert_eq!(decided(&fw, &none), Ok(Shape::Bare(Physical::InRam)));
        assert_eq!(
            decided(&pie_at_zero(), &none),
            Ok(Shape::Bare(Physical::AtZero))
        );
        assert_eq!(decided(&kernel(), &none), Ok(Shape::TopSlot));
        let steer = |shape, modes: &[PagingMode]| Steering {
            shape,
            modes: modes.to_vec(),
            ..Steering::default()
        };
        let identity = steer(Some(ShapeChoice::Identity), &[]);
        assert_eq!(decided(&fw, &identity), Ok(Shape::Identity));
        let sv39 = steer(None, &[PagingMode::Sv39]);
        assert_eq!(decided(&fw, &sv39), Ok(Shape::Identity));
        let bare = steer(None, &[PagingMode::Bare]);
        assert_eq!(decided(&fw, &bare), Ok(Shape::Bare(Physical::InRam)));
        // Contradictions name the option and what the ELF says.
        let e = decided(&kernel(), &bare).unwrap_err();
        assert!(
            e.starts_with("--modes bare contradicts the ELF: its first PT_LOAD has VA"),
            "{e}"
        );
        let e = decided(&fw, &steer(Some(ShapeChoice::Linux), &[])).unwrap_err();
        assert!(
            e.contains("--shape linux contradicts the ELF: every PT_LOAD has VA = PA"),
            "{e}"
        );
        let e = decided(&fw, &steer(Some(ShapeChoice::Bare), &[PagingMode::Sv39])).unwrap_err();
        assert!(
            e.starts_with("--shape bare and --modes sv39 contradict"),
            "{e}"
        );
        let e = decided(&fw, &steer(None, &[PagingMode::Bare, PagingMode::Sv39])).unwrap_err();
        assert!(e.contains("cannot be combined"), "{e}");
        let e = decided(&pie_at_zero(), &identity).unwrap_err();
        assert!(e.contains("PIE linked at 0"), "{e}");
        let load = load_rule(&fw, LINUX, &RISCV64);
        let e = decide(&fw, &load, LINUX, &RISCV64, &none).unwrap_err();
        assert!(e.starts_with("--arch-defaults linux"), "{e}");
    }

    #[test]
    fn the_shape_follows_the_link_address_and_elf_type() {
        let shape_of = |f: &Facts, d| paging_shape(f, &load_rule(f, d, &RISCV64), d, &RISCV64);
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
