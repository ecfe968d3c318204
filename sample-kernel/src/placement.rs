//! Where the image is in physical memory.
//!
//! A layout without `image.phys_align` runs where it is loaded:
//! `LOAD_ADDRESS`, a constant. With `phys_align` the boot loader chooses
//! the physical address (any multiple of `phys_align` inside RAM, as
//! Linux's `setup_vm` accepts any 2 MiB-aligned one): the kernel reads it
//! from its own program counter before paging, and an image linked inside
//! the linear map then runs at `phys_to_virt(pa)`, so the boot loader has
//! picked the virtual address too.

use crate::layout::{LOAD_ADDRESS, ModeLayout, PHYS_ALIGN};
use core::sync::atomic::{AtomicU64, Ordering};
use layoutgen_rt::Error;

static LOAD_PA: AtomicU64 = AtomicU64::new(0);

/// Physical address of the image's first byte.
#[cfg_attr(bare, allow(dead_code))]
pub fn load_pa() -> u64 {
    match PHYS_ALIGN {
        None => LOAD_ADDRESS,
        Some(_) => LOAD_PA.load(Ordering::Relaxed),
    }
}

/// Before paging: note where the image was loaded and check it against
/// the layout's placement rule and the RAM the device tree lists.
#[cfg_attr(bare, allow(dead_code))]
pub fn record(ram: &[(u64, u64)]) -> Result<(), Error> {
    let pa = layoutgen_rt::sym!("_start");
    LOAD_PA.store(pa, Ordering::Relaxed);
    match PHYS_ALIGN {
        None if pa != LOAD_ADDRESS => {
            Err(b"loaded away from ram.load, and the layout has no image.phys_align")
        }
        Some(a) if pa % a != 0 => {
            Err(b"loaded at an address that is not a multiple of image.phys_align")
        }
        Some(_) if !ram.iter().any(|&(s, n)| pa >= s && pa - s < n) => Err(b"loaded outside RAM"),
        _ => Ok(()),
    }
}

/// An image linked inside the linear map, whose physical address the boot
/// loader chose, runs at `phys_to_virt(pa)`: the run address then. Not a
/// seed, not the link address: where the linear map already maps the
/// loaded bytes.
#[cfg(not(bare))]
pub fn follow_physical(ml: &ModeLayout) -> Option<u64> {
    use crate::layout::{CODE_MODEL, CodeModel};
    if PHYS_ALIGN.is_none() || !ml.image_in_linear_map || CODE_MODEL == CodeModel::Fixed {
        return None;
    }
    Some(ml.phys_to_virt(load_pa()))
}

/// `run` is where the linear map maps the image's physical address.
pub fn runs_at_its_linear_address(ml: &ModeLayout, run: u64) -> bool {
    #[cfg(not(bare))]
    return ml.image_in_linear_map && run == ml.phys_to_virt(load_pa());
    #[cfg(bare)]
    {
        let _ = (ml, run);
        false
    }
}
