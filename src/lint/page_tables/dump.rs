//! The runs of mappings a dump is read into, and the riscv64 formats:
//! QEMU's `info mem` and Linux's riscv64 ptdump (debugfs
//! `kernel_page_tables`). arm64's ptdump is `super::arm64`'s; `super::parse`
//! picks the reader per line.

/// One run of pages with the same attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    pub va: u64,
    /// `None` where the dump does not say (arm64's ptdump).
    pub pa: Option<u64>,
    pub size: u64,
    pub read: bool,
    pub write: bool,
    pub execute: bool,
    pub user: bool,
    /// The level of its leaves, when the dump shows it (ptdump does, QEMU's
    /// `info mem` merges neighbours of any level).
    pub level: Option<Level>,
}

/// A page-table level as ptdump names it. The root is named PGD in every
/// mode, so its leaf size depends on the mode: [`Level::leaf_size`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Pte,
    Pmd,
    Pud,
    P4d,
    Pgd,
}

impl Level {
    pub(super) fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "PTE" => Level::Pte,
            "PMD" => Level::Pmd,
            "PUD" => Level::Pud,
            "P4D" => Level::P4d,
            "PGD" => Level::Pgd,
            _ => return None,
        })
    }

    /// The bytes one leaf at this level maps with `levels` levels of tables.
    pub fn leaf_size(self, levels: u32) -> u64 {
        let depth = match self {
            Level::Pte => 0,
            Level::Pmd => 1,
            Level::Pud => 2,
            Level::P4d => 3,
            Level::Pgd => levels.saturating_sub(1),
        };
        4096u64 << (9 * depth)
    }
}

impl Mapping {
    pub(super) fn end(&self) -> u128 {
        self.va as u128 + self.size as u128
    }
    pub(super) fn perms(&self) -> String {
        format!(
            "{}{}{}{}",
            if self.read { 'r' } else { '-' },
            if self.write { 'w' } else { '-' },
            if self.execute { 'x' } else { '-' },
            if self.user { 'u' } else { '-' }
        )
    }
}

fn hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.strip_prefix("0x").unwrap_or(s), 16).ok()
}

/// QEMU `info mem` (riscv64): `vaddr paddr size attr`, attr `rwxugad`.
pub(super) fn qemu_line(line: &str) -> Option<Mapping> {
    let f: Vec<&str> = line.split_whitespace().collect();
    let [va, pa, size, attr] = f.as_slice() else {
        return None;
    };
    let attr: Vec<char> = attr.chars().collect();
    if va.len() != 16 || attr.len() != 7 {
        return None;
    }
    Some(Mapping {
        va: hex(va)?,
        pa: Some(hex(pa)?),
        size: hex(size)?,
        read: attr[0] == 'r',
        write: attr[1] == 'w',
        execute: attr[2] == 'x',
        user: attr[3] == 'u',
        level: None,
    })
}

/// Linux riscv64 ptdump: `0xSTART-0xEND 0xPA SIZE LEVEL flags…`, the flags
/// as `arch/riscv/mm/ptdump.c` prints them (`U`, `X`, `W`, `R` or `.`).
pub(super) fn ptdump_line(line: &str) -> Option<Mapping> {
    let mut f = line.split_whitespace();
    let (start, end) = f.next()?.split_once('-')?;
    let pa = f.next()?;
    let (start, end) = (hex(start)?, hex(end)?);
    if !pa.starts_with("0x") || end <= start {
        return None;
    }
    let _size = f.next()?;
    let level = Level::parse(f.next()?)?;
    let flags: Vec<&str> = f.collect();
    let has = |c: &str| flags.contains(&c);
    Some(Mapping {
        va: start,
        pa: Some(hex(pa)?),
        size: end - start,
        read: has("R"),
        write: has("W"),
        execute: has("X"),
        user: has("U"),
        level: Some(level),
    })
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    #[test]
    fn reads_qemu_info_mem_and_skips_the_monitor_around_it() {
        let dump = "info mem\nvaddr            paddr            size             attr\n\
                    ---------------- ---------------- ---------------- -------\n\
                    ffffffff80000000 0000000080200000 0000000000200000 r-x-gad\n\
                    ffffffd600c00000 0000000080c00000 000000003f400000 rw--gad\n(qemu) ";
        let m = parse(dump);
        assert_eq!(m.len(), 2);
        assert_eq!(
            (m[0].va, m[0].pa, m[0].size, m[0].write, m[0].execute),
            (
                0xffff_ffff_8000_0000,
                Some(0x8020_0000),
                0x20_0000,
                false,
                true
            )
        );
        assert!(m[1].write && !m[1].execute && !m[1].user);
    }

    /// Lines as arch/riscv/mm/ptdump.c prints them (`0x%016lx-0x%016lx`,
    /// the PA, the size with its unit, the level, then one column per bit:
    /// N, MT(..), RSW(..), D A G U X W R V).
    #[test]
    fn reads_linux_riscv64_ptdump() {
        let dump = "---[ Kernel mapping ]---\n\
            0xffffffff80000000-0xffffffff80200000    0x0000000080200000         2M PMD   .    ..     ..   D A G . X . R V\n\
            0xffffffff80400000-0xffffffff80600000    0x0000000080600000         2M PMD   .    ..     ..   D A G . . W R V\n\
            0x0000000000400000-0x0000000000401000    0x0000000080000000         4K PTE   .    ..     ..   D A . U . W R V\n";
        let m = parse(dump);
        assert_eq!(m.len(), 3);
        assert!(m[0].execute && !m[0].write && m[0].read);
        assert!(m[1].write && !m[1].execute);
        assert_eq!(m[1].size, 0x20_0000);
        assert!(m[2].user && m[2].write);
        let levels: Vec<_> = m.iter().map(|m| m.level).collect();
        assert_eq!(
            levels,
            [Some(Level::Pmd), Some(Level::Pmd), Some(Level::Pte)]
        );
    }

    #[test]
    fn the_root_level_maps_what_the_mode_makes_it() {
        assert_eq!(Level::Pgd.leaf_size(3), 1 << 30);
        assert_eq!(Level::Pgd.leaf_size(4), 512 << 30);
        assert_eq!(Level::Pgd.leaf_size(5), 256 << 40);
        assert_eq!(Level::Pud.leaf_size(5), 1 << 30);
        assert_eq!(Level::Pte.leaf_size(3), 4096);
    }
}
