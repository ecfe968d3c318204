//! The ELF reader: headers, section table and symbol table through `object`'s
//! zero-copy ELF layer, over a borrowed (memory-mapped) byte slice. Nothing
//! here copies section contents; debug sections are never touched.

use super::{ElfKind, ParseError, SymbolSource};
use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader, Rela, SectionHeader, SectionTable, Sym};
use object::{Endianness, SectionIndex, SymbolIndex};

pub(crate) type Hdr = elf::FileHeader64<Endianness>;
pub(crate) type SymTab<'d> = object::read::elf::SymbolTable<'d, Hdr, &'d [u8]>;

/// A PT_LOAD segment.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub index: usize,
    pub vaddr: u64,
    pub paddr: u64,
    pub memsz: u64,
    pub flags: u32,
}

impl Segment {
    /// Exclusive end, exact.
    pub fn end(&self) -> u128 {
        self.vaddr as u128 + self.memsz as u128
    }
    pub fn write(&self) -> bool {
        self.flags & elf::PF_W.0 != 0
    }
    pub fn exec(&self) -> bool {
        self.flags & elf::PF_X.0 != 0
    }
    pub fn perms(&self) -> String {
        format!(
            "{}{}{}",
            if self.flags & elf::PF_R.0 != 0 {
                'r'
            } else {
                '-'
            },
            if self.write() { 'w' } else { '-' },
            if self.exec() { 'x' } else { '-' }
        )
    }
}

/// One section header, with its name decoded.
#[derive(Debug, Clone)]
pub(crate) struct Section {
    pub name: String,
    pub sh_type: u32,
    pub flags: u64,
    pub addr: u64,
    pub size: u64,
    pub addralign: u64,
    pub link: u32,
    pub info: u32,
}

impl Section {
    pub fn alloc(&self) -> bool {
        self.flags & elf::SHF_ALLOC.0 != 0
    }
    pub fn write(&self) -> bool {
        self.flags & elf::SHF_WRITE.0 != 0
    }
    pub fn exec(&self) -> bool {
        self.flags & elf::SHF_EXECINSTR.0 != 0
    }
    pub fn nobits(&self) -> bool {
        self.sh_type == elf::SHT_NOBITS.0
    }
    /// Exclusive end, exact.
    pub fn end(&self) -> u128 {
        self.addr as u128 + self.size as u128
    }
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.addr && (addr as u128) < self.end()
    }
}

/// A symbol, decoded from the table on demand.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Symbol<'d> {
    pub name: &'d [u8],
    pub value: u64,
    pub size: u64,
    pub st_type: u8,
    pub bind: u8,
    /// Section index, with `SHN_XINDEX` resolved; `SHN_ABS`/`SHN_COMMON`/0 as is.
    pub shndx: u32,
}

impl Symbol<'_> {
    pub fn is_undefined(&self) -> bool {
        self.shndx == elf::SHN_UNDEF.0 as u32
    }
    pub fn is_absolute(&self) -> bool {
        self.shndx == elf::SHN_ABS.0 as u32
    }
    pub fn is_common(&self) -> bool {
        self.shndx == elf::SHN_COMMON.0 as u32
    }
    /// Defined in a real section (not undefined, absolute or common).
    pub fn in_section(&self) -> bool {
        !self.is_undefined()
            && !self.is_absolute()
            && !self.is_common()
            && (self.shndx < elf::SHN_LORESERVE as u32 || self.shndx > 0xffff)
    }
    pub fn name_lossy(&self) -> String {
        String::from_utf8_lossy(self.name).into_owned()
    }
}

pub(crate) struct Elf<'d> {
    pub data: &'d [u8],
    pub endian: Endianness,
    pub kind: ElfKind,
    pub entry: u64,
    pub segments: Vec<Segment>,
    pub sections: Vec<Section>,
    pub table: SectionTable<'d, Hdr, &'d [u8]>,
    pub symtab: SymTab<'d>,
    pub symbols_from: SymbolSource,
    /// Section index of the symbol table in use (for relocation `sh_link`).
    pub symtab_index: Option<SectionIndex>,
    /// The program headers could not be read (reported, not fatal).
    pub segment_error: Option<String>,
    /// Non-empty allocated sections as (start, index), sorted by start: an
    /// address lookup is a binary search, not a scan, so relocation audits
    /// stay linear in the number of relocations.
    by_addr: Vec<(u64, usize)>,
}

fn malformed(what: &str, e: object::read::Error) -> ParseError {
    ParseError::Malformed(format!("{what}: {e}"))
}

impl<'d> Elf<'d> {
    /// Parses an ELF of `arch` (ELFCLASS64, little-endian, its `e_machine`).
    pub fn parse(data: &'d [u8], arch: crate::arch::Arch) -> Result<Elf<'d>, ParseError> {
        if data.len() < 16 || data[..4] != elf::ELFMAG {
            return Err(ParseError::NotElf(if data.len() < 4 {
                format!("{} bytes, too short for an ELF header", data.len())
            } else {
                "no \\x7fELF magic".into()
            }));
        }
        let class = data[4];
        if class != elf::ELFCLASS64.0 {
            let what = match class {
                1 => "ELFCLASS32: a 32-bit file".to_string(),
                c => format!("ELF class {c}"),
            };
            return Err(ParseError::NotRiscv64(what));
        }
        if data[5] != elf::ELFDATA2LSB.0 {
            return Err(ParseError::NotRiscv64(format!(
                "big-endian: {arch} is little-endian here"
            )));
        }
        let hdr = Hdr::parse(data).map_err(|e| malformed("ELF header", e))?;
        let endian = hdr.endian().map_err(|e| malformed("ELF header", e))?;
        let machine = hdr.e_machine(endian).0;
        if machine != arch.facts().elf_machine {
            let name = match machine {
                62 => "x86-64".to_string(),
                183 => "AArch64".to_string(),
                243 => "RISC-V".to_string(),
                m => format!("e_machine {m}"),
            };
            return Err(ParseError::NotRiscv64(format!(
                "{name}, 64-bit; the spec is for {arch}"
            )));
        }
        let kind = match hdr.e_type(endian).0 {
            t if t == elf::ET_EXEC.0 => ElfKind::Exec,
            t if t == elf::ET_DYN.0 => ElfKind::Dyn,
            t if t == elf::ET_REL.0 => ElfKind::Rel,
            _ => ElfKind::Other,
        };
        let entry = hdr.e_entry(endian);

        // Program headers: a broken table is a finding-free skip for ET_REL,
        // and reported for linked files rather than aborting the other checks.
        let mut segments = Vec::new();
        let mut segment_error = None;
        match hdr.program_headers(endian, data) {
            Ok(phdrs) => {
                for (index, ph) in phdrs.iter().enumerate() {
                    if ph.p_type(endian) != elf::PT_LOAD {
                        continue;
                    }
                    segments.push(Segment {
                        index,
                        vaddr: ph.p_vaddr(endian),
                        paddr: ph.p_paddr(endian),
                        memsz: ph.p_memsz(endian),
                        flags: ph.p_flags(endian).0,
                    });
                }
            }
            Err(e) => segment_error = Some(e.to_string()),
        }

        let table = hdr
            .sections(endian, data)
            .map_err(|e| malformed("section headers", e))?;
        let mut sections = Vec::with_capacity(table.len());
        for sh in table.iter() {
            let name = table
                .section_name(endian, sh)
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .unwrap_or_else(|_| "<bad name>".into());
            sections.push(Section {
                name,
                sh_type: sh.sh_type(endian).0,
                flags: sh.sh_flags(endian).0,
                addr: sh.sh_addr(endian),
                size: sh.sh_size(endian),
                addralign: sh.sh_addralign(endian),
                link: sh.sh_link(endian),
                info: sh.sh_info(endian),
            });
        }

        let mut symbols_from = SymbolSource::None;
        let mut symtab = SymTab::default();
        let mut symtab_index = None;
        for (sht, source) in [
            (elf::SHT_SYMTAB, SymbolSource::Symtab),
            (elf::SHT_DYNSYM, SymbolSource::Dynsym),
        ] {
            let t = table
                .symbols(endian, data, sht)
                .map_err(|e| malformed("symbol table", e))?;
            if !t.is_empty() {
                symtab_index = Some(t.section());
                symtab = t;
                symbols_from = source;
                break;
            }
        }

        let mut by_addr: Vec<(u64, usize)> = sections
            .iter()
            .enumerate()
            .filter(|(_, s)| s.alloc() && s.size > 0)
            .map(|(i, s)| (s.addr, i))
            .collect();
        by_addr.sort_unstable();

        Ok(Elf {
            by_addr,
            data,
            endian,
            kind,
            entry,
            segments,
            sections,
            table,
            symtab,
            symbols_from,
            symtab_index,
            segment_error,
        })
    }

    pub fn section(&self, index: u32) -> Option<&Section> {
        self.sections.get(index as usize)
    }

    pub fn section_by_name(&self, name: &str) -> Option<(usize, &Section)> {
        self.sections
            .iter()
            .enumerate()
            .find(|(_, s)| s.name == name)
    }

    /// The allocated section containing `addr`: the one starting closest
    /// below it (a few neighbours are tried for overlapping sections).
    pub fn section_at(&self, addr: u64) -> Option<&Section> {
        let upto = self.by_addr.partition_point(|&(start, _)| start <= addr);
        self.by_addr[..upto]
            .iter()
            .rev()
            .take(8)
            .map(|&(_, i)| &self.sections[i])
            .find(|s| s.contains(addr))
    }

    /// Symbol `index` of `table`.
    pub fn symbol_of(&self, table: &SymTab<'d>, index: usize) -> Option<Symbol<'d>> {
        let sym = table.symbol(SymbolIndex(index)).ok()?;
        Some(self.decode(table, index, sym))
    }

    pub fn decode(
        &self,
        table: &SymTab<'d>,
        index: usize,
        sym: &'d elf::Sym64<Endianness>,
    ) -> Symbol<'d> {
        let e = self.endian;
        let raw = sym.st_shndx(e).0;
        let shndx = if raw == elf::SHN_XINDEX.0 {
            table.shndx(e, SymbolIndex(index)).unwrap_or(0)
        } else {
            raw as u32
        };
        Symbol {
            name: table.symbol_name(e, sym).unwrap_or(b"<bad name>"),
            value: sym.st_value(e),
            size: sym.st_size(e),
            st_type: sym.st_type().0,
            bind: sym.st_bind().0,
            shndx,
        }
    }

    /// Every symbol of the table in use, index 0 excluded.
    pub fn symbols(&self) -> impl Iterator<Item = Symbol<'d>> + '_ {
        let table = &self.symtab;
        table
            .symbols()
            .iter()
            .enumerate()
            .skip(1)
            .map(move |(i, s)| self.decode(table, i, s))
    }

    /// The symbol table at section `index` (for a relocation section's
    /// `sh_link`), when it is not the one in use.
    pub fn symbol_table_at(&self, index: u32) -> Option<SymTab<'d>> {
        if Some(SectionIndex(index as usize)) == self.symtab_index {
            return None;
        }
        let sh = self.table.section(SectionIndex(index as usize)).ok()?;
        sh.symbols(
            self.endian,
            self.data,
            &self.table,
            SectionIndex(index as usize),
        )
        .ok()
        .flatten()
    }

    /// The RELA entries of section `index` (empty when unreadable: the
    /// caller reports that).
    pub fn rela(&self, index: usize) -> Result<&'d [elf::Rela64<Endianness>], String> {
        let sh = self
            .table
            .section(SectionIndex(index))
            .map_err(|e| e.to_string())?;
        match sh.rela(self.endian, self.data) {
            Ok(Some((rela, _))) => Ok(rela),
            Ok(None) => Ok(&[]),
            Err(e) => Err(e.to_string()),
        }
    }

    /// The size of a SHT_RELR section in entries (each entry may encode many
    /// relative relocations: we count those).
    pub fn relr_count(&self, index: usize) -> Result<u64, String> {
        let sh = self
            .table
            .section(SectionIndex(index))
            .map_err(|e| e.to_string())?;
        match sh.relr(self.endian, self.data) {
            Ok(Some(relr)) => Ok(relr.count() as u64),
            Ok(None) => Ok(0),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Whether the dynamic table has DT_TEXTREL or DF_TEXTREL.
    pub fn has_textrel(&self) -> bool {
        for (i, s) in self.sections.iter().enumerate() {
            if s.sh_type != elf::SHT_DYNAMIC.0 {
                continue;
            }
            let Ok(sh) = self.table.section(SectionIndex(i)) else {
                continue;
            };
            let Ok(Some((dyns, _))) = sh.dynamic(self.endian, self.data) else {
                continue;
            };
            for d in dyns {
                let tag = d.d_tag(self.endian);
                let val = d.d_val(self.endian);
                if tag == elf::DT_NULL {
                    break;
                }
                if tag == elf::DT_TEXTREL || (tag == elf::DT_FLAGS && val & elf::DF_TEXTREL.0 != 0)
                {
                    return true;
                }
            }
        }
        false
    }

    pub fn rela_fields(&self, r: &elf::Rela64<Endianness>) -> (u64, u32, u32, i64) {
        let e = self.endian;
        (
            r.r_offset(e),
            r.r_type(e, false).0,
            r.r_sym(e, false),
            r.r_addend(e),
        )
    }
}
