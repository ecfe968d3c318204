//! Page tables, built exactly by layoutgen's cost model
//! (`src/layout/pagetable.rs`), so the counts the kernel prints equal
//! `layoutgen show --ram SIZE --device-pages 1`:
//! every mapping is cut into the largest leaves that VA/PA alignment, the
//! remaining length and the mapping's leaf limit allow, and a table is
//! allocated for every (level, index) a leaf needs below the root.
//!
//! Runs before paging (tables are written through physical addresses) and
//! is plain arithmetic, safe at the physical load address.

use crate::layout::PAGE_SIZE;

pub const PTE_V: u64 = 1 << 0;
pub const PTE_R: u64 = 1 << 1;
pub const PTE_W: u64 = 1 << 2;
pub const PTE_X: u64 = 1 << 3;
pub const PTE_G: u64 = 1 << 5;
pub const PTE_A: u64 = 1 << 6;
pub const PTE_D: u64 = 1 << 7;

/// Page-table pages available (root included): enough for every bundled
/// layout in every mode with up to `fdt::MAX_RAM_RANGES` RAM ranges.
pub const POOL_PAGES: usize = 64;

#[repr(C, align(4096))]
pub struct Table(pub [u64; 512]);

pub static mut POOL: [Table; POOL_PAGES] = [const { Table([0; 512]) }; POOL_PAGES];

/// A page-table tree being built, and what it has cost so far.
pub struct Builder {
    pub levels: u32,
    pub used: usize,
    /// Leaves per level: 0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB, ...
    pub leaves: [u64; 5],
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
            leaves: [0; 5],
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

    /// The largest leaf of this mode that is at most `limit`.
    pub fn largest_leaf_within(&self, limit: u64) -> u64 {
        let limit = if limit < PAGE_SIZE { PAGE_SIZE } else { limit };
        let mut best = PAGE_SIZE;
        let mut level = 0;
        while level < self.levels {
            let size = PAGE_SIZE << (9 * level);
            if size <= limit {
                best = size;
            }
            level += 1;
        }
        best
    }

    /// Maps `[va, va + size)` to `[pa, ...)` with leaves no larger than
    /// `max_leaf`; `flags(va)` gives each leaf's permission bits (generic, not `dyn`:
    /// a vtable holds absolute addresses, unusable before paging).
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
            let mut level = self.levels - 1;
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
            let pte = self.table(table)[idx];
            if pte & PTE_V == 0 {
                let next = self.alloc()?;
                self.table(table)[idx] = ((next >> 12) << 10) | PTE_V;
                table = next;
            } else if pte & (PTE_R | PTE_W | PTE_X) != 0 {
                return Err(b"mapping overlaps a larger leaf");
            } else {
                table = (pte >> 10) << 12;
            }
            l -= 1;
        }
        let idx = ((va >> (12 + 9 * level)) & 511) as usize;
        if self.table(table)[idx] & PTE_V != 0 {
            return Err(b"mapping overlaps an existing entry");
        }
        self.table(table)[idx] = ((pa >> 12) << 10) | flags | PTE_V | PTE_A | PTE_D | PTE_G;
        self.leaves[level as usize] += 1;
        Ok(())
    }
}

/// Looks `va` up in the tree rooted at `root` (read through `access`, which
/// turns a table's physical address into a usable pointer): the leaf's PTE
/// and its size.
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
        let pte = unsafe { access(table).add(idx as usize).read_volatile() };
        if pte & PTE_V == 0 {
            return None;
        }
        if pte & (PTE_R | PTE_W | PTE_X) != 0 {
            return Some((pte, PAGE_SIZE << (9 * l)));
        }
        if l == 0 {
            return None;
        }
        table = (pte >> 10) << 12;
        l -= 1;
    }
}
