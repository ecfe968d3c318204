//! Stage-1 translation tables (4 KiB granule), built exactly by layoutgen's
//! cost model (`src/layout/pagetable.rs`), so the counts the kernel prints
//! equal `layoutgen show --ram SIZE --device-pages 1`: every mapping is cut
//! into the largest blocks that VA/PA alignment, the remaining length and
//! the mapping's leaf limit allow (1 GiB and 2 MiB blocks, 4 KiB pages; no
//! level-0 block), and a table is allocated for every (level, index) a leaf
//! needs below the root.
//!
//! Levels are numbered as layoutgen does: 0 holds 4 KiB pages (Arm's level
//! 3), 1 holds 2 MiB blocks, 2 holds 1 GiB blocks, 3 is va48's root (Arm's
//! level 0).
//!
//! Runs before paging (tables are written through physical addresses) and
//! is plain arithmetic, safe at the physical load address.

use crate::layout::PAGE_SIZE;

/// Permissions and memory type, as the builder takes them.
pub const R: u64 = 1 << 0;
pub const W: u64 = 1 << 1;
pub const X: u64 = 1 << 2;
/// Device-nGnRnE instead of normal write-back memory.
pub const DEVICE: u64 = 1 << 3;

/// Descriptor bits.
pub const DESC_VALID: u64 = 1 << 0;
/// Table (levels 1-3) or page (level 0) rather than block.
pub const DESC_TABLE: u64 = 1 << 1;
const ATTR_NORMAL: u64 = 0 << 2; // MAIR_EL1 attr 0
const ATTR_DEVICE: u64 = 1 << 2; // MAIR_EL1 attr 1
/// AP[2]: read-only.
pub const DESC_RO: u64 = 1 << 7;
const SH_INNER: u64 = 3 << 8;
const DESC_AF: u64 = 1 << 10;
/// Not executable at EL1 / at EL0.
pub const DESC_PXN: u64 = 1 << 53;
const DESC_UXN: u64 = 1 << 54;
/// Output address, bits 47..12.
pub const DESC_ADDR: u64 = 0x0000_ffff_ffff_f000;

/// MAIR_EL1: attr 0 normal write-back read/write-allocate, attr 1
/// Device-nGnRnE.
pub const MAIR: u64 = 0xff;

/// The largest block level with the 4 KiB granule (1 GiB).
const MAX_LEAF_LEVEL: u32 = 2;

/// Page-table pages available (root included): enough for every mode with
/// up to `fdt::MAX_RAM_RANGES` RAM ranges.
pub const POOL_PAGES: usize = 64;

#[repr(C, align(4096))]
pub struct Table(pub [u64; 512]);

pub static mut POOL: [Table; POOL_PAGES] = [const { Table([0; 512]) }; POOL_PAGES];

/// The leaf descriptor bits for builder flags.
pub fn leaf_attrs(flags: u64) -> u64 {
    let mut d = DESC_VALID | DESC_AF | DESC_UXN;
    d |= if flags & DEVICE != 0 {
        ATTR_DEVICE
    } else {
        ATTR_NORMAL | SH_INNER
    };
    if flags & W == 0 {
        d |= DESC_RO;
    }
    if flags & X == 0 {
        d |= DESC_PXN;
    }
    d
}

/// Builder flags (R, W, X) of a leaf descriptor.
pub fn perms_of(desc: u64) -> u64 {
    R | if desc & DESC_RO == 0 { W } else { 0 } | if desc & DESC_PXN == 0 { X } else { 0 }
}

/// A translation-table tree being built, and what it has cost so far.
pub struct Builder {
    pub levels: u32,
    pub used: usize,
    /// Leaves per level: 0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB.
    pub leaves: [u64; 3],
    /// Address the pool is accessed through (physical before paging).
    pool: *mut Table,
}

impl Builder {
    /// # Safety
    /// Only one builder may exist; `POOL` must be zeroed (it is in BSS).
    pub unsafe fn new(levels: u32) -> Builder {
        Builder {
            levels,
            used: 1,
            leaves: [0; 3],
            pool: core::ptr::addr_of_mut!(POOL).cast(),
        }
    }

    pub fn root_pa(&self) -> u64 {
        self.pool as u64
    }

    pub fn pt_pages(&self) -> u64 {
        self.used as u64
    }

    fn table(&mut self, pa: u64) -> &mut [u64; 512] {
        // SAFETY: `pa` is the address of a pool page (tables are only ever
        // created by `alloc`), accessed while nothing else holds it.
        unsafe { &mut (*(pa as *mut Table)).0 }
    }

    fn alloc(&mut self) -> Result<u64, &'static [u8]> {
        if self.used >= POOL_PAGES {
            return Err(b"page-table pool exhausted");
        }
        // SAFETY: within the pool.
        let pa = unsafe { self.pool.add(self.used) } as u64;
        self.used += 1;
        Ok(pa)
    }

    fn top_leaf_level(&self) -> u32 {
        if self.levels - 1 < MAX_LEAF_LEVEL {
            self.levels - 1
        } else {
            MAX_LEAF_LEVEL
        }
    }

    /// The largest leaf of this mode that is at most `limit`.
    pub fn largest_leaf_within(&self, limit: u64) -> u64 {
        let mut best = PAGE_SIZE;
        let mut level = 0;
        while level <= self.top_leaf_level() {
            let size = PAGE_SIZE << (9 * level);
            if size <= limit {
                best = size;
            }
            level += 1;
        }
        best
    }

    /// Maps `[va, va + size)` to `[pa, ...)` with leaves no larger than
    /// `max_leaf`; `flags(va)` gives each leaf's builder flags (generic, not
    /// `dyn`: a vtable holds absolute addresses, unusable before paging).
    pub fn map(
        &mut self,
        va: u64,
        pa: u64,
        size: u64,
        max_leaf: u64,
        flags: impl Fn(u64) -> u64,
    ) -> Result<(), &'static [u8]> {
        let size = size.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        let mut off = 0;
        while off < size {
            let (v, p) = (va.wrapping_add(off), pa.wrapping_add(off));
            let mut level = self.top_leaf_level();
            loop {
                let leaf = PAGE_SIZE << (9 * level);
                if level == 0
                    || (leaf <= max_leaf && v % leaf == 0 && p % leaf == 0 && size - off >= leaf)
                {
                    break;
                }
                level -= 1;
            }
            self.set_leaf(v, p, level, flags(v))?;
            off += PAGE_SIZE << (9 * level);
        }
        Ok(())
    }

    fn set_leaf(&mut self, va: u64, pa: u64, level: u32, flags: u64) -> Result<(), &'static [u8]> {
        let mut table = self.root_pa();
        let mut l = self.levels - 1;
        while l > level {
            let idx = ((va >> (12 + 9 * l)) & 511) as usize;
            let desc = self.table(table)[idx];
            if desc & DESC_VALID == 0 {
                let next = self.alloc()?;
                self.table(table)[idx] = next | DESC_TABLE | DESC_VALID;
                table = next;
            } else if desc & DESC_TABLE == 0 {
                return Err(b"mapping overlaps a larger block");
            } else {
                table = desc & DESC_ADDR;
            }
            l -= 1;
        }
        let idx = ((va >> (12 + 9 * level)) & 511) as usize;
        if self.table(table)[idx] & DESC_VALID != 0 {
            return Err(b"mapping overlaps an existing entry");
        }
        let kind = if level == 0 { DESC_TABLE } else { 0 }; // page or block
        self.table(table)[idx] = pa | kind | leaf_attrs(flags);
        self.leaves[level as usize] += 1;
        Ok(())
    }
}

/// Looks `va` up in the tree rooted at `root` (read through `access`, which
/// turns a table's physical address into a usable pointer): the leaf
/// descriptor and its size.
pub fn walk(
    root: u64,
    levels: u32,
    va: u64,
    access: impl Fn(u64) -> *const u64,
) -> Option<(u64, u64)> {
    let mut table = root;
    let mut l = levels - 1;
    loop {
        let idx = (va >> (12 + 9 * l)) & 511;
        // SAFETY: `table` is a page-table page of this tree.
        let desc = unsafe { access(table).add(idx as usize).read_volatile() };
        if desc & DESC_VALID == 0 {
            return None;
        }
        if l == 0 {
            return (desc & DESC_TABLE != 0).then_some((desc, PAGE_SIZE));
        }
        if desc & DESC_TABLE == 0 {
            return Some((desc, PAGE_SIZE << (9 * l)));
        }
        table = desc & DESC_ADDR;
        l -= 1;
    }
}
