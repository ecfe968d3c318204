//! What GNU readelf (`riscv64-linux-gnu-readelf -W`) says about an ELF file:
//! sections, PT_LOAD segments, relocations and dynamic symbols. Tests about
//! files that Debian builds (firmware, kernels) compute their expectations
//! from this, a tool independent of layoutgen, instead of pinning figures
//! that a package update changes.

use layoutgen::lint::Lint;
use std::path::Path;
use std::process::Command;

pub struct Readelf {
    pub sections: Vec<Section>,
    /// PT_LOAD entries, with their index among all program headers.
    pub loads: Vec<Load>,
    pub relocations: Vec<Relocation>,
    /// `.dynsym` entries, the null one included.
    pub dynsyms: Vec<DynSym>,
}

/// The findings any spec gets from the file's own flags, as readelf sees
/// them: LG006 for each writable and executable PT_LOAD, LG008 for each
/// section flagged both writable and executable.
impl Readelf {
    pub fn rwe_loads(&self) -> Vec<(Lint, String)> {
        self.loads
            .iter()
            .filter(|l| l.flags.contains('W') && l.flags.contains('E'))
            .map(|l| (Lint::SegmentWriteExecute, format!("segment {}", l.index)))
            .collect()
    }

    pub fn wax_sections(&self) -> Vec<(Lint, String)> {
        self.sections
            .iter()
            .filter(|s| s.flags.contains('W') && s.flags.contains('X'))
            .map(|s| (Lint::SectionPlacement, s.name.clone()))
            .collect()
    }
}

pub struct Section {
    /// Its index in the section header table (`st_shndx` of its symbols).
    pub index: usize,
    pub name: String,
    pub addr: u64,
    pub size: u64,
    /// readelf's flag letters (`WAX`, `A`, ...).
    pub flags: String,
}

impl Section {
    pub fn alloc(&self) -> bool {
        self.flags.contains('A')
    }
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.addr && addr - self.addr < self.size
    }
}

pub struct Load {
    pub index: usize,
    /// `R`, `RW`, `R E`, `RWE`.
    pub flags: String,
}

pub struct Relocation {
    /// The relocation section (`.rela.dyn`).
    pub in_section: String,
    pub offset: u64,
    pub kind: String,
    pub addend: u64,
}

pub struct DynSym {
    pub value: u64,
    pub kind: String,
    pub ndx: String,
    pub name: String,
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or_else(|_| panic!("not hex: {s}"))
}

fn run(args: &[&str], file: &Path) -> String {
    let out = Command::new("riscv64-linux-gnu-readelf")
        .args(args)
        .arg(file)
        .output()
        .expect("riscv64-linux-gnu-readelf (binutils-riscv64-linux-gnu) runs");
    assert!(out.status.success(), "readelf {args:?} {}", file.display());
    String::from_utf8(out.stdout).unwrap()
}

impl Readelf {
    pub fn of(file: &Path) -> Readelf {
        let mut sections = Vec::new();
        for line in run(&["-W", "-S"], file).lines() {
            // "  [ 1] .text  PROGBITS  0000000080000000 000120 015120 00 WAX  0   0  8"
            let Some(rest) = line.trim_start().strip_prefix('[') else {
                continue;
            };
            let Some((nr, rest)) = rest.split_once(']') else {
                continue;
            };
            let Ok(index) = nr.trim().parse::<usize>() else {
                continue; // the "[Nr] Name" header
            };
            let f: Vec<&str> = rest.split_whitespace().collect();
            if index == 0 || f.len() < 7 {
                continue;
            }
            // Flags are absent for non-alloc sections: the field after ES is
            // then the link number.
            let flags = if f[6].chars().all(|c| c.is_ascii_alphabetic()) {
                f[6].to_string()
            } else {
                String::new()
            };
            sections.push(Section {
                index,
                name: f[0].to_string(),
                addr: hex(f[2]),
                size: hex(f[4]),
                flags,
            });
        }
        let mut loads = Vec::new();
        let mut index = 0;
        let mut in_headers = false;
        for line in run(&["-W", "-l"], file).lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.first() == Some(&"Type") {
                in_headers = true;
                continue;
            }
            if !in_headers || f.is_empty() {
                if in_headers && f.is_empty() {
                    in_headers = false;
                }
                continue;
            }
            if f[0].starts_with('[') {
                continue; // "[Requesting program interpreter: ...]"
            }
            if f[0] == "LOAD" {
                // Flags are one or two fields ("RWE", "R E") before Align.
                let flags = f[6..f.len() - 1].join(" ");
                loads.push(Load { index, flags });
            }
            index += 1;
        }
        let mut relocations = Vec::new();
        let mut current = String::new();
        for line in run(&["-W", "-r"], file).lines() {
            if let Some(rest) = line.strip_prefix("Relocation section '") {
                current = rest.split('\'').next().unwrap().to_string();
                continue;
            }
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() >= 3 && f[2].starts_with("R_") {
                // The addend is the last field, signed hex, after a `+`/`-`
                // when a symbol is named ("sym + 10"), alone otherwise
                // ("-7fbffff8").
                let last = f[f.len() - 1];
                let negative = f[f.len() - 2] == "-" || last.starts_with('-');
                let magnitude =
                    u64::from_str_radix(last.trim_start_matches(['-', '+']), 16).unwrap_or(0);
                relocations.push(Relocation {
                    in_section: current.clone(),
                    offset: hex(f[0]),
                    kind: f[2].to_string(),
                    addend: if negative {
                        magnitude.wrapping_neg()
                    } else {
                        magnitude
                    },
                });
            }
        }
        let mut dynsyms = Vec::new();
        let mut in_dynsym = false;
        for line in run(&["-W", "--dyn-syms"], file).lines() {
            if line.starts_with("Symbol table '") {
                in_dynsym = line.contains("'.dynsym'");
                continue;
            }
            let f: Vec<&str> = line.split_whitespace().collect();
            if in_dynsym && f.len() >= 7 && f[0].ends_with(':') && f[0] != "Num:" {
                dynsyms.push(DynSym {
                    value: hex(f[1]),
                    kind: f[3].to_string(),
                    ndx: f[6].to_string(),
                    name: f.get(7).map_or(String::new(), |s| s.to_string()),
                });
            }
        }
        Readelf {
            sections,
            loads,
            relocations,
            dynsyms,
        }
    }

    pub fn section(&self, name: &str) -> &Section {
        self.sections
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("readelf lists no section {name}"))
    }

    /// The allocated section holding `addr`.
    pub fn section_at(&self, addr: u64) -> Option<&Section> {
        self.sections.iter().find(|s| s.alloc() && s.contains(addr))
    }

    /// The relocations of the section named `name`.
    pub fn relocations_in<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Relocation> {
        self.relocations
            .iter()
            .filter(move |r| r.in_section == name)
    }

    /// Relocations in allocated relocation sections (applied at run time).
    pub fn dynamic_relocations(&self) -> impl Iterator<Item = &Relocation> {
        self.relocations.iter().filter(move |r| {
            self.sections
                .iter()
                .any(|s| s.name == r.in_section && s.alloc())
        })
    }
}
