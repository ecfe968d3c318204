//! Page tables, built exactly by layoutgen's cost model
//! (`src/layout/pagetable.rs` in layoutgen), so the counts a kernel prints
//! equal `layoutgen show --ram SIZE --device-pages 1`: every mapping is cut
//! into the largest leaves that VA/PA alignment, the remaining length and
//! the mapping's leaf limit allow, and a table is allocated for every
//! (level, index) a leaf needs below the root.
//!
//! Architecture-neutral: 4 KiB tables of 512 64-bit entries, 9 bits of
//! virtual address per level. Levels are numbered as layoutgen does: 0 holds
//! 4 KiB pages, 1 holds 2 MiB leaves, 2 holds 1 GiB leaves, and so on up to
//! the root at `levels - 1`. What an entry looks like is an [`Encoding`]:
//! [`riscv64::Sv`] (Sv39/Sv48/Sv57 PTEs) or [`aarch64::Granule4K`] (stage-1
//! descriptors, 4 KiB granule). Permissions are architecture-neutral
//! [`Flags`].
//!
//! [`Builder`] runs before paging (tables are written through the pool's
//! address, which is its physical address with the MMU off) and is plain
//! arithmetic, safe at the physical load address. [`walk`], [`translate`]
//! and [`for_each_leaf`] read a tree through [`Tables`]: the builder's own
//! pool, or a live tree through [`Mapped`].

pub mod aarch64;
pub mod riscv64;

use crate::Error;
use core::marker::PhantomData;

/// The page (and table) size.
pub const PAGE_SIZE: u64 = 0x1000;
/// Entries per table.
pub const ENTRIES: usize = 512;
/// The most levels a tree has (Sv57).
pub const MAX_LEVELS: usize = 5;

/// Size of a leaf at `level` (0: 4 KiB, 1: 2 MiB, 2: 1 GiB, ...).
pub const fn leaf_size(level: u32) -> u64 {
    PAGE_SIZE << (9 * level)
}

/// Index of `va` in a table at `level`.
#[inline]
pub const fn index(va: u64, level: u32) -> usize {
    ((va >> (12 + 9 * level)) & (ENTRIES as u64 - 1)) as usize
}

/// Leaf permissions and memory type, architecture-neutral.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Flags(u8);

impl Flags {
    pub const NONE: Flags = Flags(0);
    pub const R: Flags = Flags(1 << 0);
    pub const W: Flags = Flags(1 << 1);
    pub const X: Flags = Flags(1 << 2);
    /// Device memory (aarch64: Device-nGnRnE; riscv64 without Svpbmt: no
    /// bit, the platform's PMAs make the range I/O).
    pub const DEVICE: Flags = Flags(1 << 3);

    /// From a section's permissions, as the generated `Perms` has them.
    pub const fn rwx(read: bool, write: bool, execute: bool) -> Flags {
        Flags(read as u8 | (write as u8) << 1 | (execute as u8) << 2)
    }

    pub const fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    /// Are all of `other`'s flags set?
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The permissions alone (R, W, X), without the memory type.
    pub const fn perms(self) -> Flags {
        Flags(self.0 & 0b111)
    }
}

impl core::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, other: Flags) -> Flags {
        self.union(other)
    }
}

/// One page-table page.
#[derive(Clone)]
#[repr(C, align(4096))]
pub struct Table(pub [u64; ENTRIES]);

impl Table {
    pub const EMPTY: Table = Table([0; ENTRIES]);
}

/// What a valid-looking entry is, at a given level.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Invalid,
    /// Points to the next level's table.
    Table,
    /// Maps a page or a block.
    Leaf,
}

/// An architecture's page-table entry format. All functions are plain bit
/// arithmetic on values: safe before paging.
pub trait Encoding {
    /// The highest level a leaf may be at in a tree of `levels` levels.
    fn top_leaf_level(levels: u32) -> u32;
    /// What `entry`, found at `level`, is.
    fn kind(entry: u64, level: u32) -> Kind;
    /// An entry pointing to the table at physical address `next`.
    fn table(next: u64) -> u64;
    /// A leaf at `level` mapping physical address `pa` with `flags`.
    fn leaf(pa: u64, level: u32, flags: Flags) -> u64;
    /// The physical address in an entry: a leaf's output address or a
    /// table entry's next table.
    fn address(entry: u64) -> u64;
    /// A leaf's flags.
    fn flags(entry: u64) -> Flags;
    /// The error for a mapping that runs into a larger leaf.
    const OVERLAPS_LARGER: Error;
}

/// Reads the entries of a tree: entry `index` of the table at physical
/// address `table`.
pub trait Tables {
    fn entry(&self, table: u64, index: usize) -> u64;
}

/// A live tree, its tables readable at `physical address + offset`: the
/// linear map's offset once paging is on, 0 before.
pub struct Mapped {
    offset: u64,
}

impl Mapped {
    /// # Safety
    /// Every table of the trees read through this must be mapped, readable,
    /// at its physical address plus `offset`, for as long as this is used.
    pub const unsafe fn new(offset: u64) -> Mapped {
        Mapped { offset }
    }
}

impl Tables for Mapped {
    fn entry(&self, table: u64, index: usize) -> u64 {
        let t = table.wrapping_add(self.offset) as *const u64;
        // SAFETY: `new`'s contract; `index` is below 512 (a table's size).
        unsafe { t.add(index % ENTRIES).read_volatile() }
    }
}

/// A leaf found by [`walk`]: its entry and the size it maps.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Leaf {
    pub entry: u64,
    pub size: u64,
}

/// Looks `va` up in the tree of `levels` levels rooted at `root`.
pub fn walk<E: Encoding>(tables: &impl Tables, root: u64, levels: u32, va: u64) -> Option<Leaf> {
    let mut table = root;
    let mut l = levels - 1;
    loop {
        let entry = tables.entry(table, index(va, l));
        match E::kind(entry, l) {
            Kind::Invalid => return None,
            Kind::Leaf => {
                return Some(Leaf {
                    entry,
                    size: leaf_size(l),
                });
            }
            Kind::Table if l == 0 => return None,
            Kind::Table => table = E::address(entry),
        }
        l -= 1;
    }
}

/// The physical address `va` translates to in the tree.
pub fn translate<E: Encoding>(
    tables: &impl Tables,
    root: u64,
    levels: u32,
    va: u64,
) -> Option<u64> {
    let leaf = walk::<E>(tables, root, levels, va)?;
    let within = leaf.size - 1;
    Some((E::address(leaf.entry) & !within) + (va & within))
}

/// Calls `f(va, leaf)` for every leaf of the tree, in address order; `va`
/// holds only the bits the indices give (below bit `12 + 9 * levels`): the
/// caller makes it canonical ([`sign_extend`], or a TTBR1 prefix). Returns
/// the number of tables, root included.
pub fn for_each_leaf<E: Encoding>(
    tables: &impl Tables,
    root: u64,
    levels: u32,
    f: &mut impl FnMut(u64, Leaf),
) -> u64 {
    fn visit<E: Encoding>(
        tables: &impl Tables,
        table: u64,
        level: u32,
        va_base: u64,
        f: &mut impl FnMut(u64, Leaf),
    ) -> u64 {
        let mut count = 1;
        for i in 0..ENTRIES {
            let entry = tables.entry(table, i);
            let va = va_base | (i as u64) << (12 + 9 * level);
            match E::kind(entry, level) {
                Kind::Invalid => {}
                Kind::Leaf => f(
                    va,
                    Leaf {
                        entry,
                        size: leaf_size(level),
                    },
                ),
                Kind::Table if level == 0 => {}
                Kind::Table => count += visit::<E>(tables, E::address(entry), level - 1, va, f),
            }
        }
        count
    }
    visit::<E>(tables, root, levels - 1, 0, f)
}

/// `va` with bit `bits - 1` copied into every bit above it: the canonical
/// form of an address of a `bits`-bit virtual address space (riscv64).
pub const fn sign_extend(va: u64, bits: u32) -> u64 {
    let shift = 64 - bits;
    (((va << shift) as i64) >> shift) as u64
}

/// What [`Builder::map_kernel`] maps: the linear map of RAM and the
/// image's window, all as plain values from the generated layout and the
/// device tree.
pub struct KernelMap<'a> {
    /// RAM ranges, `(start, size)`, from the device tree.
    pub ram: &'a [(u64, u64)],
    /// The first byte the linear map covers (`RAM_BASE`).
    pub ram_base: u64,
    /// `virt = phys + linear_offset` in the linear map.
    pub linear_offset: u64,
    /// How much RAM from `ram_base` on the linear map region holds.
    pub linear_size: u64,
    /// The linear map region's largest leaf.
    pub linear_leaf: u64,
    /// The image window: `image_size` bytes loaded at `image_pa`, running
    /// at `image_va`.
    pub image_pa: u64,
    pub image_va: u64,
    pub image_size: u64,
    /// The largest leaf inside the window (the sections' alignment).
    pub image_leaf: u64,
    /// The window lies inside the linear map (at `image_pa +
    /// linear_offset`) rather than in a slot of its own.
    pub image_in_linear_map: bool,
    /// Physical section starts, then the image end; and each section's
    /// flags (see [`flags_at`]).
    pub bounds: &'a [u64],
    pub sections: &'a [Flags],
}

/// A page-table tree being built from a pool of pages, and what it has cost
/// so far.
pub struct Builder<'a, E> {
    levels: u32,
    pool: &'a mut [Table],
    pool_pa: u64,
    used: usize,
    leaves: [u64; MAX_LEVELS],
    encoding: PhantomData<E>,
}

impl<'a, E: Encoding> Builder<'a, E> {
    /// A tree of `levels` levels whose tables come from `pool`, which is at
    /// physical address `pool_pa` (its own address before paging). The root
    /// is the pool's first page; every table is zeroed when taken.
    pub fn new(levels: u32, pool: &'a mut [Table], pool_pa: u64) -> Self {
        pool[0].0.fill(0);
        Builder {
            levels,
            pool,
            pool_pa,
            used: 1,
            leaves: [0; MAX_LEVELS],
            encoding: PhantomData,
        }
    }

    pub fn root_pa(&self) -> u64 {
        self.pool_pa
    }

    /// Tables used, root included.
    pub fn pt_pages(&self) -> u64 {
        self.used as u64
    }

    /// Leaves per level: 0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB, ...
    pub fn leaves(&self) -> [u64; MAX_LEVELS] {
        self.leaves
    }

    fn table(&mut self, pa: u64) -> &mut [u64; ENTRIES] {
        let i = (pa.wrapping_sub(self.pool_pa) / PAGE_SIZE) as usize;
        &mut self.pool[i].0
    }

    fn alloc(&mut self) -> Result<u64, Error> {
        if self.used >= self.pool.len() {
            return Err(b"page-table pool exhausted");
        }
        self.pool[self.used].0.fill(0);
        let pa = self.pool_pa + self.used as u64 * PAGE_SIZE;
        self.used += 1;
        Ok(pa)
    }

    /// The largest leaf of this tree that is at most `limit` (at least a
    /// page).
    pub fn largest_leaf_within(&self, limit: u64) -> u64 {
        let mut best = PAGE_SIZE;
        let mut level = 0;
        while level <= E::top_leaf_level(self.levels) {
            if leaf_size(level) <= limit {
                best = leaf_size(level);
            }
            level += 1;
        }
        best
    }

    /// Maps `[va, va + size)` (rounded up to pages) to `[pa, ...)` with
    /// leaves no larger than `max_leaf`; `flags(va)` gives each leaf's
    /// flags (generic, not `dyn`: a vtable holds absolute addresses,
    /// unusable before paging).
    pub fn map(
        &mut self,
        va: u64,
        pa: u64,
        size: u64,
        max_leaf: u64,
        flags: impl Fn(u64) -> Flags,
    ) -> Result<(), Error> {
        let size = size.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        let mut off = 0;
        while off < size {
            let (v, p) = (va.wrapping_add(off), pa.wrapping_add(off));
            let mut level = E::top_leaf_level(self.levels);
            loop {
                let leaf = leaf_size(level);
                if level == 0
                    || (leaf <= max_leaf && v % leaf == 0 && p % leaf == 0 && size - off >= leaf)
                {
                    break;
                }
                level -= 1;
            }
            self.set_leaf(v, p, level, flags(v))?;
            off += leaf_size(level);
        }
        Ok(())
    }

    fn set_leaf(&mut self, va: u64, pa: u64, level: u32, flags: Flags) -> Result<(), Error> {
        let mut table = self.root_pa();
        let mut l = self.levels - 1;
        while l > level {
            let idx = index(va, l);
            let entry = self.table(table)[idx];
            match E::kind(entry, l) {
                Kind::Invalid => {
                    let next = self.alloc()?;
                    self.table(table)[idx] = E::table(next);
                    table = next;
                }
                Kind::Leaf => return Err(E::OVERLAPS_LARGER),
                Kind::Table => table = E::address(entry),
            }
            l -= 1;
        }
        let idx = index(va, level);
        if E::kind(self.table(table)[idx], level) != Kind::Invalid {
            return Err(b"mapping overlaps an existing entry");
        }
        self.table(table)[idx] = E::leaf(pa, level, flags);
        self.leaves[level as usize] += 1;
        Ok(())
    }

    /// Maps the page holding `pa` at the page `va` (a device register in a
    /// fixmap slot); returns where `pa` is then.
    pub fn map_page(&mut self, va: u64, pa: u64, flags: Flags) -> Result<u64, Error> {
        let page = pa & !(PAGE_SIZE - 1);
        self.map(va, page, PAGE_SIZE, PAGE_SIZE, |_| flags)?;
        Ok(va + (pa - page))
    }

    /// The linear map of every RAM range, clipped to the linear map region,
    /// read-write; and the image window with each section's flags
    /// (read-write past the image's end): inside the linear map, replacing
    /// its leaves there, or at `image_va`.
    pub fn map_kernel(&mut self, k: &KernelMap) -> Result<(), Error> {
        let lin_leaf = self.largest_leaf_within(k.linear_leaf);
        let win_leaf = self.largest_leaf_within(k.image_leaf);
        let off = k.linear_offset;
        let rw = |_: u64| Flags::R | Flags::W;
        let image = |pa: u64| flags_at(k.bounds, k.sections, pa);
        let (win_pa, win_end) = (k.image_pa, k.image_pa + k.image_size);
        let linear_end = k.ram_base.saturating_add(k.linear_size);
        for &(start, size) in k.ram {
            let end = start.saturating_add(size).min(linear_end);
            if start < k.ram_base || start >= end {
                continue;
            }
            if k.image_in_linear_map {
                let (ws, we) = (win_pa.clamp(start, end), win_end.clamp(start, end));
                if ws > start {
                    self.map(start.wrapping_add(off), start, ws - start, lin_leaf, rw)?;
                }
                if we > ws {
                    let va = ws.wrapping_add(off);
                    self.map(va, ws, we - ws, win_leaf, |v| image(v.wrapping_sub(off)))?;
                }
                if end > we {
                    self.map(we.wrapping_add(off), we, end - we, lin_leaf, rw)?;
                }
            } else {
                self.map(start.wrapping_add(off), start, end - start, lin_leaf, rw)?;
            }
        }
        if !k.image_in_linear_map {
            let run = k.image_va;
            self.map(run, win_pa, k.image_size, win_leaf, |v| {
                image(v.wrapping_sub(run).wrapping_add(win_pa))
            })?;
        }
        Ok(())
    }
}

/// The builder's own tables, by physical address.
impl<E> Tables for Builder<'_, E> {
    fn entry(&self, table: u64, index: usize) -> u64 {
        let i = (table.wrapping_sub(self.pool_pa) / PAGE_SIZE) as usize;
        self.pool[i].0[index]
    }
}

/// The flags of the section `pa` lies in (`bounds`: each section's start,
/// then the end; `sections`: each section's flags), and read-write past the
/// image's end (free memory in the image's window). Works on virtual
/// addresses as well, given virtual bounds.
pub fn flags_at(bounds: &[u64], sections: &[Flags], pa: u64) -> Flags {
    let mut i = 0;
    while i < sections.len() && i + 1 < bounds.len() {
        if pa >= bounds[i] && pa < bounds[i + 1] {
            return sections[i];
        }
        i += 1;
    }
    Flags::R | Flags::W
}

#[cfg(test)]
mod tests;
