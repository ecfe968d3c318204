//! Choosing where a relocatable image runs: a slot of the layout's KASLR
//! range (`start + slot * granule`, `slot < slots`) from a seed. Plain
//! arithmetic, before paging.

use crate::Error;
use crate::fdt;

/// Where the KASLR seed came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SeedSource {
    /// `kaslr_seed=` on the command line.
    Bootargs,
    /// `/chosen/kaslr-seed`.
    DeviceTree,
    /// A timer or counter read at boot.
    Timer,
}

/// The seed: `kaslr_seed=` from the command line `args`, else the device
/// tree's, else `timer()` (an architecture's counter, read only if needed).
pub fn seed(
    args: &[u8],
    device_tree: Option<u64>,
    timer: impl FnOnce() -> u64,
) -> Result<(u64, SeedSource), Error> {
    if let Some(v) = fdt::arg(args, b"kaslr_seed") {
        match fdt::parse_u64(v) {
            Some(seed) => Ok((seed, SeedSource::Bootargs)),
            None => Err(b"bootargs: bad kaslr_seed="),
        }
    } else if let Some(seed) = device_tree {
        Ok((seed, SeedSource::DeviceTree))
    } else {
        Ok((timer(), SeedSource::Timer))
    }
}

/// SplitMix64's finaliser: spreads a seed over all 64 bits.
pub const fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The slot (below `slots`, which must not be 0) for `seed`; never
/// `link_slot`, the link address's, when there is another: a zero offset
/// would hide missing relocations.
pub const fn random_slot(seed: u64, slots: u64, link_slot: u64) -> u64 {
    let slot = mix(seed) % slots;
    if slot == link_slot && slots > 1 {
        (slot + 1) % slots
    } else {
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64() {
        // The first outputs of SplitMix64 seeded with 0 (state += golden
        // gamma, then the finaliser).
        assert_eq!(mix(0), 0xe220_a839_7b1d_cdaf);
        assert_eq!(mix(0x9e37_79b9_7f4a_7c15), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn slots_stay_in_range_and_avoid_the_link_address() {
        for slots in [1, 2, 3, 640] {
            for link_slot in [0, slots - 1] {
                for seed in 0..2000 {
                    let s = random_slot(seed, slots, link_slot);
                    assert!(s < slots);
                    assert!(slots == 1 || s != link_slot);
                }
            }
        }
        // Same seed, same slot; the result spreads over the range.
        assert_eq!(random_slot(42, 640, 7), random_slot(42, 640, 7));
        let mut seen = [false; 16];
        (0..200).for_each(|seed| seen[random_slot(seed, 16, 99) as usize] = true);
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn seed_sources_in_order() {
        let never = || -> u64 { panic!("the timer is read only without another seed") };
        assert_eq!(
            seed(b"kaslr_seed=0x2a", Some(7), never),
            Ok((42, SeedSource::Bootargs))
        );
        assert_eq!(
            seed(b"nokaslr", Some(7), never),
            Ok((7, SeedSource::DeviceTree))
        );
        assert_eq!(seed(b"", None, || 99), Ok((99, SeedSource::Timer)));
        assert_eq!(
            seed(b"kaslr_seed=x", None, || 99),
            Err(&b"bootargs: bad kaslr_seed="[..])
        );
    }
}
