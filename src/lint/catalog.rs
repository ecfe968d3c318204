//! Every check `layoutgen lint` runs, declared once: id, variant, name,
//! default severity and the one sentence `docs/lint.md`, SARIF and `--help`
//! show. Adding a check is one entry here plus its code in the family file
//! (`symbols.rs`, `segments.rs`, …) that reports it. Ids are stable: JSON,
//! SARIF, tests and the documentation refer to them.

use serde::Serialize;
use std::fmt;

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One block per check, as clippy's `declare_clippy_lint!`:
/// `/// description` `Variant = "LGnnn", "kebab-name", Severity;`
macro_rules! declare_lints {
    ($( $(#[doc = $doc:literal])+ $variant:ident = $id:literal, $name:literal, $severity:ident; )+) => {
        /// Every check the lint runs.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Lint {
            $( $(#[doc = $doc])+ $variant, )+
        }

        impl Lint {
            pub const ALL: [Lint; [$(stringify!($variant)),+].len()] = [$(Lint::$variant),+];

            /// `LG001`…: the stable id.
            pub fn id(self) -> &'static str {
                match self { $(Lint::$variant => $id,)+ }
            }

            /// A short kebab-case name.
            pub fn name(self) -> &'static str {
                match self { $(Lint::$variant => $name,)+ }
            }

            /// The severity of its findings unless configured otherwise.
            pub fn severity(self) -> Severity {
                match self { $(Lint::$variant => Severity::$severity,)+ }
            }

            /// One sentence: what the check enforces.
            pub fn description(self) -> &'static str {
                match self { $(Lint::$variant => concat!($($doc),+).trim_ascii(),)+ }
            }
        }
    };
}

declare_lints! {
    /// Every defined, non-absolute symbol in an allocated section lies inside the image's slot and inside the image (image.link + image.max_size).
    SymbolOutsideSlot = "LG001", "symbol-outside-slot", Error;
    /// Semi-PIC/PIE: no symbol lies in [-2 GiB, +2 GiB), where absolute lui/HI20 addressing reaches.
    SymbolInAbs32Window = "LG002", "symbol-in-abs32-window", Error;
    /// Every PT_LOAD segment lies inside the image's slot.
    SegmentOutsideSlot = "LG003", "segment-outside-slot", Error;
    /// Every PT_LOAD segment has VA ≡ PA modulo image.section_align (the hugepage the image is mapped with).
    SegmentVaPaCongruence = "LG004", "segment-va-pa-congruence", Error;
    /// PT_LOAD physical addresses are the spec's: p_vaddr - p_paddr is the image offset, the first segment is at ram.load.
    SegmentLoadAddress = "LG005", "segment-load-address", Error;
    /// No PT_LOAD segment is both writable and executable.
    SegmentWriteExecute = "LG006", "segment-write-execute", Error;
    /// Every section the spec lists is in the ELF.
    SectionMissing = "LG007", "section-missing", Warning;
    /// Sections are in spec order, aligned, inside the image, with the spec's permissions, type and size.
    SectionPlacement = "LG008", "section-placement", Error;
    /// Symbols the generated linker script defines agree with the generated constants and the section headers.
    BoundarySymbol = "LG009", "boundary-symbol", Error;
    /// Symbols the generated linker script defines are present (else the image was not linked with it).
    BoundarySymbolMissing = "LG010", "boundary-symbol-missing", Warning;
    /// gp.policy = relax: __global_pointer$ is defined.
    GpMissing = "LG011", "gp-missing", Error;
    /// gp.policy = relax: __global_pointer$ is at gp.section + gp.offset, inside the image.
    GpPlacement = "LG012", "gp-placement", Error;
    /// gp.policy = relax: how many small-data symbols lie outside __global_pointer$ ± 2 KiB (a figure, not an error).
    GpSmallDataWindow = "LG013", "gp-small-data-window", Info;
    /// gp.policy = disabled/shadow-call-stack: no __global_pointer$ and no gp-relative relocation.
    GpForbidden = "LG014", "gp-forbidden", Error;
    /// Semi-PIC/PIE: no absolute R_RISCV_HI20/LO12_I/LO12_S relocation against an image symbol.
    AbsoluteRelocation = "LG015", "absolute-relocation", Error;
    /// Counts of the relocations found (--emit-relocs sections and .rela.dyn) by kind.
    RelocationAudit = "LG016", "relocation-audit", Info;
    /// Semi-PIC/PIE: .rela.dyn holds only R_RISCV_RELATIVE.
    DynamicRelocationType = "LG017", "dynamic-relocation-type", Error;
    /// Dynamic relocations that patch executable sections (text relocations).
    TextRelocation = "LG018", "text-relocation", Warning;
    /// GOT use: a .got section or GOT-indirect relocations.
    GotUse = "LG019", "got-use", Info;
    /// Where symbols came from (.symtab, .dynsym of a stripped file, none) and which checks that limits.
    SymbolSource = "LG020", "symbol-source", Info;
    /// Allocated sections that the spec does not list (placed by the linker on its own).
    OrphanSection = "LG021", "orphan-section", Warning;
    /// The ELF entry point is image.entry, lies in an executable section of the image, and (image.entry_at = "image-start") is the image's first byte.
    Entry = "LG022", "entry", Error;
    /// A module (ET_REL) uses a relocation type the kernel's module loader ([module_loader]) does not apply.
    ModuleRelocation = "LG023", "module-relocation", Error;
    /// A page-table dump maps a page that lies in no region of the mode.
    PageOutsideRegions = "LG024", "page-outside-regions", Error;
    /// A page-table dump has a writable and executable mapping.
    PageWriteExecute = "LG025", "page-write-execute", Error;
    /// A page-table dump of the kernel's tables maps a page in a user region.
    PageUserHalf = "LG026", "page-user-half", Error;
    /// A page-table dump maps an image segment with a permission its sections lack.
    PagePermissions = "LG027", "page-permissions", Error;
    /// image.pmp_read_only: the read-only part of the image is a naturally aligned power of two.
    PmpRange = "LG028", "pmp-range", Error;
    /// The image or a section is above its size budget (a percentage of its max_size).
    Budget = "LG029", "budget", Warning;
    /// A page-table dump that shows leaf levels (Linux's ptdump) maps a region with a leaf larger than its `leaf`.
    PageLeafSize = "LG030", "page-leaf-size", Error;
    /// With --ram: the linear map's leaves and page-table pages in the dump differ from what `show --ram` predicts.
    PageTableCost = "LG031", "page-table-cost", Warning;
}

impl Lint {
    /// A check by id (`LG006`).
    pub fn from_id(id: &str) -> Option<Lint> {
        Lint::ALL.iter().copied().find(|c| c.id() == id)
    }

    /// A check by id (`LG006`) or name (`segment-write-execute`).
    pub fn parse(s: &str) -> Option<Lint> {
        Lint::ALL
            .iter()
            .copied()
            .find(|c| c.id() == s || c.name() == s)
    }
}

impl Serialize for Lint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sequential_and_names_unique() {
        for (i, l) in Lint::ALL.iter().enumerate() {
            assert_eq!(l.id(), format!("LG{:03}", i + 1));
            assert_eq!(Lint::parse(l.name()), Some(*l));
            assert!(!l.description().starts_with(' '));
        }
    }
}
