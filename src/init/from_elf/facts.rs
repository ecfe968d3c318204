//! Step 1: what the ELF says, read into plain data. Every later step works
//! on [`Facts`] alone, so tests build them in memory, and a reader for
//! another architecture (an aarch64 `EM_AARCH64` ELF) only has to fill
//! them in.

use super::{Arch, Elf, ElfKind, InitError, STB_GLOBAL, STT_NOTYPE};
use std::collections::HashMap;
use std::path::Path;

/// The linked ELF types a spec can describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `ET_EXEC`: linked at a fixed address.
    Exec,
    /// `ET_DYN`: position-independent (or Linux's CONFIG_RELOCATABLE).
    Dyn,
}

/// An allocated section with bytes in the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub addr: u64,
    pub size: u64,
    pub addralign: u64,
    pub write: bool,
    pub exec: bool,
    /// SHT_NOBITS.
    pub nobits: bool,
}

impl Section {
    /// Exclusive end, exact.
    pub fn end(&self) -> u128 {
        self.addr as u128 + self.size as u128
    }
}

/// A PT_LOAD that occupies memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Load {
    pub vaddr: u64,
    pub paddr: u64,
    pub write: bool,
    pub exec: bool,
}

/// A symbol of the table in use (`.symtab`, else `.dynsym`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// Decoded lossily; [`Symbol::unique`] compares the raw bytes.
    pub name: String,
    pub value: u64,
    /// STT_NOTYPE: what linker scripts define.
    pub notype: bool,
    /// STB_GLOBAL.
    pub global: bool,
    /// Defined in a real section (not undefined, absolute or common).
    pub in_section: bool,
    /// SHN_ABS.
    pub absolute: bool,
    /// No other symbol of the table has this name (static labels repeat).
    pub unique: bool,
}

/// What `init --from-elf` derives a spec from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The ELF's file name (lossy), for the spec's comments.
    pub file_name: String,
    /// Decided by [`read`], from `e_machine`.
    pub arch: Arch,
    pub kind: Kind,
    /// `e_entry`.
    pub entry: u64,
    /// Allocated sections with a size, by address (stable); never empty.
    pub sections: Vec<Section>,
    /// PT_LOADs with a size, by virtual address (stable).
    pub loads: Vec<Load>,
    /// In table order.
    pub symbols: Vec<Symbol>,
    /// A `.rela.dyn` section header exists (any flags, any size).
    pub has_rela_dyn: bool,
}

impl Facts {
    /// The link address: the first section's.
    pub fn link(&self) -> u64 {
        self.sections[0].addr
    }

    /// The end of the highest-ending section.
    pub fn last_end(&self) -> u128 {
        let ends = self.sections.iter().map(|s| s.end());
        ends.max().unwrap_or(self.link() as u128)
    }

    /// The first symbol named `name`, of any type.
    pub fn symbol(&self, name: &str) -> Option<&Symbol> {
        self.symbols.iter().find(|s| s.name == name)
    }
}

/// The facts of the ELF at `path`: a linked kernel with something to
/// describe, or an error naming the file.
pub fn read(path: &Path) -> Result<Facts, InitError> {
    let shown = path.display();
    let map = crate::lint::input::map_regular(path)
        .map_err(|e| InitError::Elf(format!("cannot read {shown}: {e}")))?;
    let data: &[u8] = map.as_deref().unwrap_or(&[]);
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    from_bytes(data, file_name).map_err(|e| InitError::Elf(format!("{shown}: {e}")))
}

/// The facts of an ELF image already in memory (`file_name` names it in
/// the spec): what [`read`] does once the file is mapped.
pub fn from_bytes(data: &[u8], file_name: String) -> Result<Facts, String> {
    let arch = arch_to_read(data);
    let elf = Elf::parse(data, arch).map_err(|e| e.to_string())?;
    from_elf(&elf, arch, file_name)
}

/// The architecture to read the ELF as, from its `e_machine`: `EM_AARCH64`
/// is aarch64, anything else is read as riscv64 (and `Elf::parse` rejects a
/// machine that is neither, with its own message).
fn arch_to_read(data: &[u8]) -> Arch {
    // e_machine, little-endian at offset 18 (Elf::parse checks the rest).
    match data.get(18..20) {
        Some([183, 0]) => Arch::Aarch64,
        _ => Arch::Riscv64,
    }
}

/// The facts of a parsed ELF.
fn from_elf(elf: &Elf, arch: Arch, file_name: String) -> Result<Facts, String> {
    let kind = match elf.kind {
        ElfKind::Exec => Kind::Exec,
        ElfKind::Dyn => Kind::Dyn,
        _ => {
            return Err(
                "not a linked kernel (ET_EXEC or ET_DYN); an object file has no layout to describe"
                    .into(),
            );
        }
    };
    let sections = sections_of(elf);
    if sections.is_empty() {
        return Err("no allocated section: nothing to describe".into());
    }
    overlaps(elf)?;
    let loads = loads_of(elf);
    let symbols = symbols_of(elf);
    Ok(Facts {
        file_name,
        arch,
        kind,
        entry: elf.entry,
        sections,
        loads,
        symbols,
        has_rela_dyn: elf.section_by_name(".rela.dyn").is_some(),
    })
}

/// Allocated sections with a size, by address.
fn sections_of(elf: &Elf) -> Vec<Section> {
    let mut sections: Vec<Section> = elf
        .sections
        .iter()
        .filter(|s| s.alloc() && s.size > 0)
        .map(|s| Section {
            name: s.name.clone(),
            addr: s.addr,
            size: s.size,
            addralign: s.addralign,
            write: s.write(),
            exec: s.exec(),
            nobits: s.nobits(),
        })
        .collect();
    sections.sort_by_key(|s| s.addr);
    sections
}

/// A linker never lays allocated sections, or PT_LOADs, over each other
/// (thread-local `.tbss` aside, which takes no address space): an ELF that
/// does is not an image a spec can describe, and a spec written from it
/// would describe nothing real.
fn overlaps(elf: &Elf) -> Result<(), String> {
    const SHF_TLS: u64 = 0x400;
    let mut sections: Vec<(u64, u128, &str)> = elf
        .sections
        .iter()
        .filter(|s| s.alloc() && s.size > 0 && !(s.nobits() && s.flags & SHF_TLS != 0))
        .map(|s| (s.addr, s.end(), s.name.as_str()))
        .collect();
    sections.sort_unstable();
    if let Some(w) = sections.windows(2).find(|w| (w[1].0 as u128) < w[0].1) {
        return Err(format!(
            "sections {} [{:#x}, {:#x}) and {} (at {:#x}) overlap: not a linked image",
            w[0].2, w[0].0, w[0].1, w[1].2, w[1].0
        ));
    }
    let mut loads: Vec<(u64, u128)> = elf
        .segments
        .iter()
        .filter(|s| s.memsz > 0)
        .map(|s| (s.vaddr, s.vaddr as u128 + s.memsz as u128))
        .collect();
    loads.sort_unstable();
    if let Some(w) = loads.windows(2).find(|w| (w[1].0 as u128) < w[0].1) {
        return Err(format!(
            "PT_LOAD segments [{:#x}, {:#x}) and [{:#x}, ...) overlap: not a linked image",
            w[0].0, w[0].1, w[1].0
        ));
    }
    Ok(())
}

/// PT_LOADs with a size, by virtual address.
fn loads_of(elf: &Elf) -> Vec<Load> {
    let mut loads: Vec<Load> = elf
        .segments
        .iter()
        .filter(|s| s.memsz > 0)
        .map(|s| Load {
            vaddr: s.vaddr,
            paddr: s.paddr,
            write: s.write(),
            exec: s.exec(),
        })
        .collect();
    loads.sort_by_key(|s| s.vaddr);
    loads
}

/// Every symbol, in table order; uniqueness is by the name's bytes.
fn symbols_of(elf: &Elf) -> Vec<Symbol> {
    let raw: Vec<_> = elf.symbols().collect();
    let mut counts: HashMap<&[u8], usize> = HashMap::new();
    for s in &raw {
        *counts.entry(s.name_bytes(elf)).or_default() += 1;
    }
    raw.iter()
        .map(|s| Symbol {
            name: s.name(elf),
            value: s.value,
            notype: s.st_type == STT_NOTYPE.0,
            global: s.bind == STB_GLOBAL.0,
            in_section: s.in_section(),
            absolute: s.is_absolute(),
            unique: counts[s.name_bytes(elf)] == 1,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::*;

    #[test]
    fn the_link_address_and_last_end() {
        let f = facts(
            vec![
                section(".data", 0x2000, 0x10, 8, W),
                section(".text", 0x1000, 0x1800, 4, X),
            ],
            vec![],
        );
        assert_eq!(f.link(), 0x1000);
        // The highest end, not the last section's (.text overlaps .data).
        assert_eq!(f.last_end(), 0x2800);
    }

    #[test]
    fn symbols_are_found_by_name_first_of_any_type() {
        let mut f = kernel();
        f.symbols.push(sym("__stack_top", 1));
        assert_eq!(
            f.symbol("__stack_top").unwrap().value,
            0xffff_ffff_8041_1000
        );
        assert!(f.symbol("__global_pointer$").is_some());
        assert!(f.symbol("nope").is_none());
    }

    #[test]
    fn a_relocatable_object_is_no_kernel() {
        // An ET_REL as a compiler writes it.
        let mut obj = object::write::Object::new(
            object::BinaryFormat::Elf,
            object::Architecture::Riscv64,
            object::Endianness::Little,
        );
        let text = obj.section_id(object::write::StandardSection::Text);
        obj.append_section_data(text, &[0x13, 0, 0, 0], 4);
        let data = obj.write().unwrap();
        let elf = Elf::parse(&data, Arch::Riscv64).unwrap();
        let e = from_elf(&elf, Arch::Riscv64, "k.o".into()).unwrap_err();
        assert!(e.contains("not a linked kernel"), "{e}");
    }
}
