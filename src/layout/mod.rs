//! The resolved layout: plain numbers per paging mode. Emitters and the ELF
//! lint read this and never the spec. Spans survive only in `origins`, for
//! diagnostics.

pub mod conversions;
mod origins;
pub mod pagetable;
mod relocator;
mod resolve;

pub use origins::Origins;
pub use resolve::resolve;

use crate::arch::PagingMode;
use crate::lint::LintConfig;
use crate::spec::{CodeModel, GpPolicy, Half, RegionKind};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Layout {
    pub name: String,
    pub description: String,
    /// The spec's file name (never an absolute path: outputs must not depend
    /// on where the spec lives).
    pub source: String,
    pub arch: crate::arch::Arch,
    pub code_model: CodeModel,
    pub gp: Gp,
    pub ram: Ram,
    pub image: Image,
    pub modes: Vec<ModeLayout>,
    /// `[boot.NAME]`: the physical boot chain, by name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub boot: Vec<Placement>,
    /// `[module_loader]`: the relocation types the kernel's module loader
    /// applies, when the spec describes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module_loader: Option<ModuleLoader>,
    /// The spec's `[lint]` table: a level and its reason per check. Read by
    /// `layoutgen lint`; no generated file depends on it.
    #[serde(skip)]
    pub lint: LintConfig,
    /// Where each dotted key came from in the spec text.
    #[serde(skip)]
    pub origins: Origins,
}

/// One range of the physical boot chain.
#[derive(Debug, Clone, Serialize)]
pub struct Placement {
    pub name: String,
    pub kind: crate::spec::PlacementKind,
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub start: u64,
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub size: u64,
    pub pmp: bool,
    pub description: String,
}

impl Placement {
    pub fn end(&self) -> u128 {
        self.start as u128 + self.size as u128
    }
}

/// What the kernel's module loader applies.
#[derive(Debug, Clone, Serialize)]
pub struct ModuleLoader {
    /// Relocation type numbers it applies (JSON has the names).
    #[serde(skip)]
    pub types: Vec<u32>,
    pub type_names: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ram {
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub base: u64,
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub min_size: u64,
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub max_size: u64,
    /// Physical load address of the image.
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub load: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gp {
    pub policy: GpPolicy,
    /// Output section `__global_pointer$` is placed in (relax only).
    pub section: Option<String>,
    /// Offset of `__global_pointer$` from that section's start.
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub offset: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Image {
    pub slot: String,
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub max_size: u64,
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub section_align: u64,
    /// Load address (ELF p_paddr) of the first byte; every section's LMA is
    /// its VA − (link − lma).
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub lma: u64,
    /// `Some`: the physical address is chosen at boot, at a multiple of this.
    #[serde(serialize_with = "crate::json::hex_opt_u64")]
    pub phys_align: Option<u64>,
    /// The end symbols are the last section's end rounded up to this.
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub end_align: u64,
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub stack_size: u64,
    /// `image.pmp_read_only`: the read-only part is padded to a naturally
    /// aligned power of two.
    pub pmp_read_only: bool,
    /// Percent of `max_size` above which lint warns.
    pub budget: Option<u8>,
    pub entry: String,
    pub entry_at: crate::spec::EntryAt,
    pub start_symbols: Vec<String>,
    pub end_symbols: Vec<String>,
    pub sections: Vec<Section>,
    /// The boot code's relocator, when the spec declares one or the code
    /// model is relocatable.
    pub relocator: Option<Relocator>,
    /// The image's real end (rounded up to 4 KiB) when the layout was
    /// resolved against a linked ELF; `image.end` then means this.
    #[serde(serialize_with = "crate::json::hex_opt_u64")]
    pub linked_end: Option<u64>,
}

impl Image {
    /// Sections grouped into segments, in link order.
    pub fn segments(&self) -> impl Iterator<Item = &[Section]> {
        self.sections.chunk_by(|a, b| a.segment == b.segment)
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// Whether some section places small data itself (by name or input
    /// pattern); otherwise the generated script folds it into `gp.section`.
    /// The section the generated script folds small data (`.sdata`,
    /// `.srodata`, `.sbss`) into, when the spec does not place it itself:
    /// gp's section with relaxation, else the first writable section with
    /// file contents. `None` where the architecture has no small data.
    pub fn small_data_section<'a>(&'a self, layout: &'a Layout) -> Option<&'a Section> {
        if self.places_small_data() || !layout.arch.facts().global_pointer {
            return None;
        }
        if layout.gp.policy == crate::spec::GpPolicy::Relax {
            let name = layout.gp.section.as_deref()?;
            return self.sections.iter().find(|s| s.name == name);
        }
        self.sections
            .iter()
            .find(|s| s.write && !s.nobits)
            .or_else(|| self.sections.iter().find(|s| s.write))
    }

    pub fn places_small_data(&self) -> bool {
        let small = |p: &str| {
            [".sdata", ".srodata", ".sbss"]
                .iter()
                .any(|s| p.starts_with(s))
        };
        self.sections
            .iter()
            .any(|s| small(&s.name) || s.input.iter().any(|p| small(p)))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Relocator {
    /// Relocation type numbers it applies (JSON has the names).
    #[serde(skip)]
    pub types: Vec<u32>,
    pub type_names: Vec<String>,
    pub unmoved_below_link: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// The ELF output section's name (`.text`, `.data..percpu`).
    pub name: String,
    /// Identifier in generated code (`text`, `data_percpu`).
    pub id: String,
    /// The segment (permission group) it belongs to.
    pub segment: String,
    /// First section of its segment: starts on a mapping boundary.
    pub segment_start: bool,
    pub read: bool,
    pub write: bool,
    pub execute: bool,
    pub input: Vec<String>,
    /// Alignment of the start; 1 when the spec asks for none.
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub align: u64,
    #[serde(serialize_with = "crate::json::hex_opt_u64")]
    pub max_size: Option<u64>,
    /// Percent of `max_size` above which lint warns.
    pub budget: Option<u8>,
    pub nobits: bool,
    pub optional: bool,
    /// Kconfig options that bring an optional section (`image.section.config`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<String>,
    pub start_symbols: Vec<String>,
    pub end_symbols: Vec<String>,
    /// Aligned spots of exact size at the end of its inputs.
    pub inserts: Vec<Insert>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Insert {
    pub input: Vec<String>,
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub align: u64,
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub size: u64,
    pub symbol: String,
}

impl Section {
    /// `r-x`-style permissions.
    pub fn perms(&self) -> String {
        format!(
            "{}{}{}",
            if self.read { 'r' } else { '-' },
            if self.write { 'w' } else { '-' },
            if self.execute { 'x' } else { '-' }
        )
    }
}

/// Everything that depends on the paging mode.
#[derive(Debug, Clone, Serialize)]
pub struct ModeLayout {
    pub mode: PagingMode,
    pub va_bits: u32,
    pub levels: u32,
    /// The value that selects the mode: riscv `satp.MODE`, aarch64
    /// `TCR_EL1.T1SZ`; 0 without paging.
    pub mode_register: u64,
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub kernel_half: u64,
    /// Start of the linear map (Linux `PAGE_OFFSET`); `None` for a layout
    /// without one (an identity-mapped or bare kernel).
    #[serde(serialize_with = "crate::json::hex_opt_u64")]
    pub page_offset: Option<u64>,
    /// `virt = phys + linear_offset` (mod 2^64) inside the linear map.
    #[serde(serialize_with = "crate::json::hex_opt_u64")]
    pub linear_offset: Option<u64>,
    /// Link address of the image's first byte.
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub image_link: u64,
    /// `virt = phys + image_offset` (mod 2^64) inside the image at its link address.
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub image_offset: u64,
    /// The image is linked inside the linear map (no slot of its own).
    pub image_in_linear_map: bool,
    pub kaslr: Option<Kaslr>,
    /// Regions present in this mode, in address order.
    pub regions: Vec<Region>,
}

impl ModeLayout {
    pub fn region(&self, name: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.name == name)
    }

    pub fn region_of_kind(&self, kind: RegionKind) -> Option<&Region> {
        self.regions.iter().find(|r| r.kind == kind)
    }

    pub fn linear_map(&self) -> Option<&Region> {
        self.region_of_kind(RegionKind::LinearMap)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Kaslr {
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub start: u64,
    /// One past the highest address the image's last byte may occupy.
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub end: u64,
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub granule: u64,
    /// Number of granule-aligned positions for an image of `image.max_size`.
    pub slots: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Region {
    pub name: String,
    pub kind: RegionKind,
    /// The half of the address space it must lie in.
    pub half: Half,
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub start: u64,
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub size: u64,
    /// Last byte (inclusive), so a region ending at 2^64 still fits in u64.
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub last: u64,
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub align: u64,
    #[serde(serialize_with = "crate::json::hex_u64")]
    pub leaf: u64,
    pub description: String,
}

impl Region {
    /// Exclusive end, exact.
    pub fn end(&self) -> u128 {
        self.start as u128 + self.size as u128
    }

    pub fn contains(&self, addr: u64) -> bool {
        addr.wrapping_sub(self.start) < self.size
    }
}

impl Layout {
    pub fn mode(&self, mode: PagingMode) -> Option<&ModeLayout> {
        self.modes.iter().find(|m| m.mode == mode)
    }
}
