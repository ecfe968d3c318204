//! The ELF reader: headers, section table and symbol table through `object`'s
//! zero-copy ELF layer, over a borrowed (memory-mapped) byte slice. Nothing
//! here copies section contents; debug sections are never touched.

use super::report::{ElfKind, ParseError, SymbolSource};
use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader, SectionHeader, SectionTable, Sym};
use object::{LittleEndian, SectionIndex, SymbolIndex};

/// Little-endian only (riscv64 and aarch64 kernels are; others are refused
/// before this is parsed), so every field read is a plain load, not a
/// branch on the file's byte order: lint reads hundreds of thousands.
pub(crate) type Hdr = elf::FileHeader64<LittleEndian>;
pub(crate) type SymTab<'d> = object::read::elf::SymbolTable<'d, Hdr, &'d [u8]>;

/// A PT_LOAD segment.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub index: usize,
    pub vaddr: u64,
    pub paddr: u64,
    pub memsz: u64,
    pub flags: u32,
    /// p_align: the linker's page size for this segment.
    pub align: u64,
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

/// A symbol, decoded from the table on demand. Its name is not: it is the
/// `st_name` offset, read ([`Symbol::name_bytes`]) only for the few symbols
/// a check looks up by name and decoded ([`Symbol::name`]) only for those a
/// finding names. Decoding every name (a `memchr` and UTF-8 check per
/// symbol) was half of lint's time on a distro kernel.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Symbol {
    /// `st_name`: the name's offset in the table's string table.
    pub name_off: u32,
    pub value: u64,
    pub size: u64,
    pub st_type: u8,
    pub bind: u8,
    /// Section index, with `SHN_XINDEX` resolved; `SHN_ABS`/`SHN_COMMON`/0 as is.
    pub shndx: u32,
}

impl Symbol {
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
    /// The name's bytes in `table`'s string table (`<bad name>` when the
    /// offset is out of range or unterminated).
    pub fn name_in<'d>(&self, table: &SymTab<'d>) -> &'d [u8] {
        table.strings().get(self.name_off).unwrap_or(b"<bad name>")
    }
    /// The name's bytes, for a symbol of the table in use.
    pub fn name_bytes<'d>(&self, elf: &Elf<'d>) -> &'d [u8] {
        self.name_in(&elf.symtab)
    }
    /// The name, decoded (lossy UTF-8), for a symbol of the table in use:
    /// for findings only.
    pub fn name(&self, elf: &Elf) -> String {
        crate::format::printable_bytes(self.name_bytes(elf))
    }
    /// As [`Symbol::name`], for a symbol of `table`.
    pub fn name_lossy_in(&self, table: &SymTab) -> String {
        crate::format::printable_bytes(self.name_in(table))
    }
}

pub(crate) struct Elf<'d> {
    pub data: &'d [u8],
    pub endian: LittleEndian,
    pub kind: ElfKind,
    pub entry: u64,
    pub segments: Vec<Segment>,
    pub sections: Vec<Section>,
    pub table: SectionTable<'d, Hdr, &'d [u8]>,
    pub symtab: SymTab<'d>,
    /// The bytes of `symtab`'s string table (empty when unreadable).
    pub strtab: &'d [u8],
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

        let (segments, segment_error) = load_segments(hdr, endian, data);

        let table = hdr
            .sections(endian, data)
            .map_err(|e| malformed("section headers", e))?;
        let mut sections = Vec::with_capacity(table.len());
        for sh in table.iter() {
            let name = table
                .section_name(endian, sh)
                .map(crate::format::printable_bytes)
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

        // Names outside the file would read as `<bad name>` and give false
        // findings: a string table that is not in the file is malformed.
        let strtab = match symtab_index {
            None => &[][..],
            Some(_) => table
                .section(symtab.string_section())
                .and_then(|sh| sh.data(endian, data))
                .map_err(|e| malformed("the symbol table's string table", e))?,
        };
        // A linked file is loaded by its program headers: without one
        // PT_LOAD there is nothing to check against the layout (and nothing
        // a loader would load).
        if matches!(kind, ElfKind::Exec | ElfKind::Dyn)
            && segments.is_empty()
            && segment_error.is_none()
        {
            return Err(ParseError::Malformed(format!(
                "a linked ELF ({}) without a PT_LOAD program header: nothing to load",
                if kind == ElfKind::Exec {
                    "ET_EXEC"
                } else {
                    "ET_DYN"
                }
            )));
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
            strtab,
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
    pub fn symbol_of(&self, table: &SymTab<'d>, index: usize) -> Option<Symbol> {
        let sym = table.symbol(SymbolIndex(index)).ok()?;
        Some(self.decode(table, index, sym))
    }

    pub fn decode(
        &self,
        table: &SymTab<'d>,
        index: usize,
        sym: &'d elf::Sym64<LittleEndian>,
    ) -> Symbol {
        let e = self.endian;
        let raw = sym.st_shndx(e).0;
        let shndx = if raw == elf::SHN_XINDEX.0 {
            table.shndx(e, SymbolIndex(index)).unwrap_or(0)
        } else {
            raw as u32
        };
        Symbol {
            name_off: sym.st_name(e),
            value: sym.st_value(e),
            size: sym.st_size(e),
            st_type: sym.st_type().0,
            bind: sym.st_bind().0,
            shndx,
        }
    }

    /// The symbols of the table in use whose indices are in `range` (index 0
    /// excluded), with their indices, decoded straight from the
    /// little-endian bytes (24 per entry): the symbol pass reads hundreds
    /// of thousands.
    pub fn indexed_symbols(
        &self,
        range: std::ops::Range<usize>,
    ) -> impl Iterator<Item = (usize, Symbol)> + '_ {
        let table = &self.symtab;
        let symbols = table.symbols();
        // Index 0 is the null symbol; an empty or short table gives nothing.
        let len = symbols.len();
        let start = range.start.max(1).min(len);
        let range = start..range.end.min(len).max(start);
        let start = range.start;
        let bytes = object::pod::bytes_of_slice(&symbols[range]);
        bytes
            .chunks_exact(24)
            .enumerate()
            .map(move |(i, b)| (i + start, b))
            .map(move |(i, b)| {
                let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
                let u64_at = |o: usize| u64::from(u32_at(o)) | (u64::from(u32_at(o + 4)) << 32);
                let raw = u16::from_le_bytes([b[6], b[7]]);
                let shndx = if raw == elf::SHN_XINDEX.0 {
                    table.shndx(LittleEndian, SymbolIndex(i)).unwrap_or(0)
                } else {
                    raw as u32
                };
                let sym = Symbol {
                    name_off: u32_at(0),
                    value: u64_at(8),
                    size: u64_at(16),
                    st_type: b[4] & 0xf,
                    bind: b[4] >> 4,
                    shndx,
                };
                (i, sym)
            })
    }

    /// Every symbol of the table in use, index 0 excluded.
    pub fn symbols(&self) -> impl Iterator<Item = Symbol> + '_ {
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
    pub fn rela(&self, index: usize) -> Result<&'d [elf::Rela64<LittleEndian>], String> {
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

    /// `(r_offset, type, symbol index, addend)` of each entry of a RELA
    /// section, from its little-endian bytes.
    pub fn rela_entries(
        relas: &'d [elf::Rela64<LittleEndian>],
    ) -> impl Iterator<Item = (u64, u32, u32, i64)> + 'd {
        object::pod::bytes_of_slice(relas)
            .chunks_exact(24)
            .map(|b| {
                let u64_at = |o: usize| {
                    u64::from_le_bytes([
                        b[o],
                        b[o + 1],
                        b[o + 2],
                        b[o + 3],
                        b[o + 4],
                        b[o + 5],
                        b[o + 6],
                        b[o + 7],
                    ])
                };
                let info = u64_at(8);
                (
                    u64_at(0),
                    info as u32,
                    (info >> 32) as u32,
                    u64_at(16) as i64,
                )
            })
    }
}

/// The byte ranges of the file lint reads, as `(offset, length)`, clamped to
/// `file_len`: the ELF header, program and section headers, section names,
/// the symbol table in use with its strings (and `SHT_SYMTAB_SHNDX`), and
/// every relocation section that [`super::checks`] audits (allocated ones,
/// and static ones whose target is allocated) with the symbol table and
/// strings it links to, plus `SHT_DYNAMIC`. Debug sections and their
/// relocations are never in it.
///
/// `ehdr` is the file's first 64 bytes (or fewer) and `shdrs` the section
/// header table (`e_shoff`, `e_shnum` × 64 bytes, as far as the file has
/// it): the reader fetches just those first ([`shdr_range`]). Anything that
/// is not a little-endian ELF64 gives just the header: the parser reports it.
/// `None` when the ranges cannot be told from the header alone (extended
/// section numbering, `e_shnum` 0): the caller then reads as it would
/// without this list.
pub(crate) fn needed_ranges(ehdr: &[u8], shdrs: &[u8], file_len: u64) -> Option<Vec<(u64, u64)>> {
    let mut out = vec![(0, 64)];
    let Some(h) = Ehdr::read(ehdr) else {
        return Some(clamp(out, file_len));
    };
    if h.shoff != 0 && (h.shnum == 0 || h.shstrndx == elf::SHN_XINDEX.0 as u32) {
        return None;
    }
    out.push((h.phoff, h.phnum as u64 * h.phentsize as u64));
    out.push((h.shoff, shdrs.len() as u64));
    let sh: Vec<Shdr> = shdrs.chunks_exact(64).map(Shdr::read).collect();
    let data_of = |i: u32| {
        sh.get(i as usize)
            .filter(|s| s.sh_type != elf::SHT_NOBITS.0)
    };
    let mut tables = Vec::new();
    if let Some(s) = data_of(h.shstrndx) {
        out.push((s.offset, s.size));
    }
    let symtab = sh
        .iter()
        .position(|s| s.sh_type == elf::SHT_SYMTAB.0 && s.size > 0)
        .or_else(|| {
            sh.iter()
                .position(|s| s.sh_type == elf::SHT_DYNSYM.0 && s.size > 0)
        });
    tables.extend(symtab.map(|i| i as u32));
    for s in &sh {
        let alloc = s.flags & elf::SHF_ALLOC.0 != 0;
        let t = s.sh_type;
        if t == elf::SHT_RELA.0 && (alloc || is_alloc(&sh, s.info)) {
            out.push((s.offset, s.size));
            tables.push(s.link);
        } else if (t == elf::SHT_RELR.0 && alloc) || t == elf::SHT_DYNAMIC.0 {
            out.push((s.offset, s.size));
        }
    }
    tables.sort_unstable();
    tables.dedup();
    for t in tables {
        let Some(s) = data_of(t) else { continue };
        if s.sh_type != elf::SHT_SYMTAB.0 && s.sh_type != elf::SHT_DYNSYM.0 {
            continue;
        }
        out.push((s.offset, s.size));
        if let Some(strings) = data_of(s.link) {
            out.push((strings.offset, strings.size));
        }
        for x in &sh {
            if x.sh_type == elf::SHT_SYMTAB_SHNDX.0 && x.link == t {
                out.push((x.offset, x.size));
            }
        }
    }
    Some(clamp(out, file_len))
}

fn is_alloc(sh: &[Shdr], index: u32) -> bool {
    sh.get(index as usize)
        .is_some_and(|t| t.flags & elf::SHF_ALLOC.0 != 0)
}

/// The section header table's `(offset, length)`, from the ELF header; 0
/// length when `ehdr` is not a little-endian ELF64 header.
pub(crate) fn shdr_range(ehdr: &[u8]) -> (u64, u64) {
    match Ehdr::read(ehdr) {
        Some(h) if h.shentsize == 64 => (h.shoff, h.shnum as u64 * 64),
        Some(h) => (h.shoff, 0),
        None => (0, 0),
    }
}

/// Ranges cut to the file, empty ones dropped, sorted and merged.
fn clamp(mut v: Vec<(u64, u64)>, file_len: u64) -> Vec<(u64, u64)> {
    let mut spans: Vec<(u64, u64)> = v
        .drain(..)
        .filter_map(|(off, len)| {
            let end = off.saturating_add(len).min(file_len);
            (off < end).then_some((off, end))
        })
        .collect();
    spans.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (start, end) in spans {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out.into_iter().map(|(s, e)| (s, e - s)).collect()
}

/// The ELF header fields [`needed_ranges`] uses, little-endian ELF64 only.
struct Ehdr {
    phoff: u64,
    shoff: u64,
    phentsize: u16,
    phnum: u16,
    shentsize: u16,
    shnum: u16,
    shstrndx: u32,
}

fn le16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}
fn le32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_le_bytes(s.try_into().unwrap_or([0; 4])))
}
fn le64(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .map_or(0, |s| u64::from_le_bytes(s.try_into().unwrap_or([0; 8])))
}

impl Ehdr {
    fn read(b: &[u8]) -> Option<Ehdr> {
        if b.len() < 64
            || b[..4] != elf::ELFMAG
            || b[4] != elf::ELFCLASS64.0
            || b[5] != elf::ELFDATA2LSB.0
        {
            return None;
        }
        Some(Ehdr {
            phoff: le64(b, 32),
            shoff: le64(b, 40),
            phentsize: le16(b, 54),
            phnum: le16(b, 56),
            shentsize: le16(b, 58),
            shnum: le16(b, 60),
            shstrndx: le16(b, 62) as u32,
        })
    }
}

/// The section header fields [`needed_ranges`] uses.
struct Shdr {
    sh_type: u32,
    flags: u64,
    offset: u64,
    size: u64,
    link: u32,
    info: u32,
}

impl Shdr {
    fn read(b: &[u8]) -> Shdr {
        Shdr {
            sh_type: le32(b, 4),
            flags: le64(b, 8),
            offset: le64(b, 24),
            size: le64(b, 32),
            link: le32(b, 40),
            info: le32(b, 44),
        }
    }
}

/// The PT_LOAD program headers. A broken table is a finding-free skip for
/// ET_REL, and reported for linked files rather than aborting the other
/// checks (the error, second).
fn load_segments(hdr: &Hdr, endian: LittleEndian, data: &[u8]) -> (Vec<Segment>, Option<String>) {
    let mut segments = Vec::new();
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
                    align: ph.p_align(endian),
                });
            }
            (segments, None)
        }
        Err(e) => (segments, Some(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian ELF64 header with `shnum` section headers at `shoff`.
    fn ehdr(shoff: u64, shnum: u16, shstrndx: u16) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(&elf::ELFMAG);
        h[4] = elf::ELFCLASS64.0;
        h[5] = elf::ELFDATA2LSB.0;
        h[40..48].copy_from_slice(&shoff.to_le_bytes());
        h[58..60].copy_from_slice(&64u16.to_le_bytes());
        h[60..62].copy_from_slice(&shnum.to_le_bytes());
        h[62..64].copy_from_slice(&shstrndx.to_le_bytes());
        h
    }

    fn shdr(sh_type: u32, flags: u64, offset: u64, size: u64, link: u32, info: u32) -> Vec<u8> {
        let mut s = vec![0u8; 64];
        s[4..8].copy_from_slice(&sh_type.to_le_bytes());
        s[8..16].copy_from_slice(&flags.to_le_bytes());
        s[24..32].copy_from_slice(&offset.to_le_bytes());
        s[32..40].copy_from_slice(&size.to_le_bytes());
        s[40..44].copy_from_slice(&link.to_le_bytes());
        s[44..48].copy_from_slice(&info.to_le_bytes());
        s
    }

    #[test]
    fn needed_ranges_are_the_tables_and_audited_relocations_only() {
        let alloc = elf::SHF_ALLOC.0;
        let shdrs = [
            shdr(0, 0, 0, 0, 0, 0),
            shdr(elf::SHT_PROGBITS.0, alloc, 0x1000, 0x1000, 0, 0), // 1 .text
            shdr(elf::SHT_PROGBITS.0, 0, 0x2000, 0x10000, 0, 0),    // 2 .debug_info
            shdr(elf::SHT_RELA.0, 0, 0x12000, 0x300, 6, 1),         // 3 .rela.text
            shdr(elf::SHT_RELA.0, 0, 0x12300, 0x900, 6, 2),         // 4 .rela.debug_info
            shdr(elf::SHT_STRTAB.0, 0, 0x12c00, 0x20, 0, 0),        // 5 .shstrtab
            shdr(elf::SHT_SYMTAB.0, 0, 0x12c20, 0x180, 7, 1),       // 6 .symtab
            shdr(elf::SHT_STRTAB.0, 0, 0x12da0, 0x60, 0, 0),        // 7 .strtab
        ]
        .concat();
        let h = ehdr(0x13000, 8, 5);
        let got = needed_ranges(&h, &shdrs, 0x13000 + 8 * 64).unwrap();
        assert_eq!(
            got,
            vec![
                (0, 64),
                (0x12000, 0x300),
                (0x12c00, 0x200), // .shstrtab, .symtab, .strtab: adjacent, merged
                (0x13000, 8 * 64)
            ]
        );
        // Cut to a truncated file; extended numbering is not guessed.
        let got = needed_ranges(&h, &shdrs, 0x12100).unwrap();
        assert_eq!(got, vec![(0, 64), (0x12000, 0x100)]);
        assert_eq!(needed_ranges(&ehdr(0x13000, 0, 5), &[], 0x20000), None);
    }

    #[test]
    fn needed_ranges_never_panic_on_any_bytes() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..2000 {
            let mut h = ehdr(next() % 4096, (next() % 40) as u16, (next() % 50) as u16);
            if round % 3 == 0 {
                let at = (next() % 64) as usize;
                h[at] = next() as u8;
            }
            let h = &h[..(next() % 65) as usize];
            let shdrs: Vec<u8> = (0..(next() % 2600)).map(|_| next() as u8).collect();
            for (off, len) in needed_ranges(h, &shdrs, next() % 100_000).unwrap_or_default() {
                assert!(len > 0 && off.checked_add(len).is_some());
            }
            let _ = shdr_range(h);
        }
    }
}
