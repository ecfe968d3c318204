//! Reading page tables out of a physical memory image (QEMU's `pmemsave`)
//! from a root table's address: for machines whose QEMU monitor has no
//! `info mem` (aarch64), and wherever the leaves themselves matter. The
//! tables are walked in the layout's architecture and mode (riscv64
//! Sv39/48/57 PTEs; aarch64 4 KiB-granule stage-1 descriptors under
//! TTBR1_EL1, so every address is in the upper half), and runs of leaves
//! that continue each other are merged as ptdump merges them.

use super::dump::{Level, Mapping};
use crate::arch::Arch;
use crate::layout::ModeLayout;

/// Where the memory image sits in physical memory, and its bytes.
pub struct Memory<'a> {
    pub base: u64,
    pub bytes: &'a [u8],
}

/// More tables than any kernel's tree: a guard against an image whose
/// "tables" are something else.
const MAX_TABLES: usize = 1 << 16;

impl Memory<'_> {
    /// The 512 entries of the table at `pa`.
    fn table(&self, pa: u64) -> Result<[u64; 512], String> {
        let off = pa
            .checked_sub(self.base)
            .filter(|o| o.checked_add(4096).is_some_and(|e| e <= self.bytes.len() as u64))
            .ok_or_else(|| {
                format!(
                    "a page table at {pa:#x} lies outside the memory image [{:#x}, {:#x}): dump the RAM that holds the tables, or give --memory-base",
                    self.base,
                    self.base as u128 + self.bytes.len() as u128
                )
            })? as usize;
        let mut t = [0u64; 512];
        for (i, e) in t.iter_mut().enumerate() {
            let at = off + i * 8;
            *e = u64::from_le_bytes(self.bytes[at..at + 8].try_into().unwrap());
        }
        Ok(t)
    }
}

/// One entry: a next table, a leaf, or nothing.
enum Entry {
    Table(u64),
    Leaf {
        pa: u64,
        write: bool,
        execute: bool,
        user: bool,
    },
    Invalid,
}

/// riscv64 PTE: V R W X U, PPN from bit 10; a valid entry without R/W/X
/// points to the next table.
fn riscv(e: u64, level: u32) -> Entry {
    let bit = |n: u32| e >> n & 1 == 1;
    let pa = (e >> 10 & ((1 << 44) - 1)) << 12;
    if !bit(0) || (bit(2) && !bit(1)) {
        Entry::Invalid
    } else if !bit(1) && !bit(3) {
        if level == 0 {
            Entry::Invalid
        } else {
            Entry::Table(pa)
        }
    } else {
        Entry::Leaf {
            pa,
            write: bit(2),
            execute: bit(3),
            user: bit(4),
        }
    }
}

/// aarch64 descriptor (4 KiB granule): bit 1 is "table" above level 0 and
/// "page" at it; blocks at 1 GiB and 2 MiB only. AP[2] (bit 7) read-only,
/// AP[1] (bit 6) EL0-accessible, PXN (bit 53) not executable at EL1.
fn aarch64(e: u64, level: u32) -> Entry {
    let bit = |n: u32| e >> n & 1 == 1;
    let pa = e & 0x0000_ffff_ffff_f000;
    let leaf = || Entry::Leaf {
        pa,
        write: !bit(7),
        execute: !bit(53),
        user: bit(6),
    };
    match (bit(0), bit(1), level) {
        (false, _, _) => Entry::Invalid,
        (true, true, 0) => leaf(),
        (true, true, _) => Entry::Table(pa),
        (true, false, 1 | 2) => leaf(),
        _ => Entry::Invalid,
    }
}

/// The mappings of the tree at `root` in `mode`, leaf levels included.
pub fn walk(arch: Arch, ml: &ModeLayout, mem: &Memory, root: u64) -> Result<Vec<Mapping>, String> {
    if ml.levels == 0 {
        return Err(format!("{} has no page tables to walk", ml.mode));
    }
    let decode = match arch {
        Arch::Riscv64 => riscv,
        Arch::Aarch64 => aarch64,
    };
    let mut w = Walker {
        mem,
        decode,
        ml,
        arch,
        tables: 0,
        out: Vec::new(),
    };
    w.table(root, ml.levels - 1, 0)?;
    Ok(w.out)
}

struct Walker<'a> {
    mem: &'a Memory<'a>,
    decode: fn(u64, u32) -> Entry,
    ml: &'a ModeLayout,
    arch: Arch,
    tables: usize,
    out: Vec<Mapping>,
}

impl Walker<'_> {
    fn table(&mut self, pa: u64, level: u32, va_base: u64) -> Result<(), String> {
        self.tables += 1;
        if self.tables > MAX_TABLES {
            return Err(format!(
                "more than {MAX_TABLES} page-table pages: not a page-table tree"
            ));
        }
        let entries = self.mem.table(pa)?;
        let span = 1u64 << (12 + 9 * level);
        for (i, e) in entries.iter().enumerate() {
            let va = va_base | (i as u64).wrapping_mul(span);
            match (self.decode)(*e, level) {
                Entry::Invalid => {}
                Entry::Table(next) => self.table(next, level - 1, va)?,
                Entry::Leaf {
                    pa,
                    write,
                    execute,
                    user,
                } => self.leaf(Mapping {
                    va: self.canonical(va),
                    pa: Some(pa),
                    size: span,
                    read: true,
                    write,
                    execute,
                    user,
                    level: Some(level_of(level)),
                }),
            }
        }
        Ok(())
    }

    /// The full 64-bit address: riscv sign-extends from the top VA bit;
    /// TTBR1 translates only the upper half.
    fn canonical(&self, va: u64) -> u64 {
        let bits = self.ml.va_bits;
        let upper = match self.arch {
            Arch::Riscv64 => va >> (bits - 1) & 1 == 1,
            Arch::Aarch64 => true,
        };
        if upper && bits < 64 {
            va | !((1u64 << bits) - 1)
        } else {
            va
        }
    }

    /// Appends `m`, merged into the last run when it continues it.
    fn leaf(&mut self, m: Mapping) {
        if let Some(last) = self.out.last_mut()
            && last.va.wrapping_add(last.size) == m.va
            && last.pa.map(|pa| pa.wrapping_add(last.size)) == m.pa
            && (last.level, last.write, last.execute, last.user)
                == (m.level, m.write, m.execute, m.user)
        {
            last.size += m.size;
            return;
        }
        self.out.push(m);
    }
}

/// ptdump's name for layoutgen's level `k` (0 holds 4 KiB leaves).
fn level_of(k: u32) -> Level {
    match k {
        0 => Level::Pte,
        1 => Level::Pmd,
        2 => Level::Pud,
        3 => Level::P4d,
        _ => Level::Pgd,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn riscv_entries() {
        // A leaf r-x at 0x8020_0000, a table at 0x8000_1000, an invalid W-only.
        assert!(matches!(
            riscv((0x80200 << 10) | 0b1011, 1),
            Entry::Leaf {
                pa: 0x8020_0000,
                write: false,
                execute: true,
                user: false
            }
        ));
        assert!(matches!(
            riscv((0x80001 << 10) | 1, 2),
            Entry::Table(0x8000_1000)
        ));
        assert!(matches!(riscv(0b101, 0), Entry::Invalid));
    }

    #[test]
    fn aarch64_entries() {
        let page = 0x4020_0000 | 0b11 | 1 << 10 | 1 << 7 | 1 << 54;
        assert!(matches!(
            aarch64(page, 0),
            Entry::Leaf {
                pa: 0x4020_0000,
                write: false,
                execute: true,
                user: false
            }
        ));
        assert!(matches!(aarch64(page, 1), Entry::Table(0x4020_0000)));
        let block = 0x4000_0000 | 1 | 1 << 53;
        assert!(matches!(
            aarch64(block, 2),
            Entry::Leaf {
                write: true,
                execute: false,
                ..
            }
        ));
        // No block at the 48-bit root, no page descriptor without bit 1.
        assert!(matches!(aarch64(block, 3), Entry::Invalid));
        assert!(matches!(aarch64(block, 0), Entry::Invalid));
    }

    /// A three-page Sv39 tree: the root's entry 256 (the upper half's
    /// first GiB) points to a table with two r-x 2 MiB leaves, which merge
    /// into one run; entry 2 is a rw- 1 GiB leaf.
    #[test]
    fn walks_and_merges_an_sv39_tree() {
        let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/layouts/qemu-virt-sv39.toml");
        let layout = crate::load(std::path::Path::new(spec), &Default::default()).unwrap();
        let ml = layout.mode(crate::arch::PagingMode::Sv39).unwrap();
        let base = 0x8000_0000u64;
        let mut bytes = vec![0u8; 3 * 4096];
        fn put(bytes: &mut [u8], page: usize, i: usize, e: u64) {
            bytes[page * 4096 + i * 8..][..8].copy_from_slice(&e.to_le_bytes())
        }
        put(&mut bytes, 0, 256, ((base + 4096) >> 12) << 10 | 1);
        put(&mut bytes, 0, 2, (0x8000_0000u64 >> 12) << 10 | 0b111);
        put(&mut bytes, 1, 0, (0x8020_0000u64 >> 12) << 10 | 0b1011);
        put(&mut bytes, 1, 1, (0x8040_0000u64 >> 12) << 10 | 0b1011);
        let mem = Memory {
            base,
            bytes: &bytes,
        };
        let m = walk(Arch::Riscv64, ml, &mem, base).unwrap();
        assert_eq!(m.len(), 2, "{m:?}");
        assert_eq!(
            (m[0].va, m[0].pa, m[0].size),
            (0x8000_0000, Some(0x8000_0000), 1 << 30)
        );
        assert!(m[0].write && !m[0].execute && m[0].level == Some(Level::Pud));
        assert_eq!(
            (m[1].va, m[1].pa, m[1].size),
            (0xffff_ffc0_0000_0000, Some(0x8020_0000), 4 << 20)
        );
        assert!(!m[1].write && m[1].execute && m[1].level == Some(Level::Pmd));
        // A table outside the image is named.
        put(&mut bytes, 0, 3, (0x1000_0000u64 >> 12) << 10 | 1);
        let mem = Memory {
            base,
            bytes: &bytes,
        };
        let e = walk(Arch::Riscv64, ml, &mem, base).unwrap_err();
        assert!(
            e.contains(
                "a page table at 0x10000000 lies outside the memory image [0x80000000, 0x80003000)"
            ),
            "{e}"
        );
    }
}
