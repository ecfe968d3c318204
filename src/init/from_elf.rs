//! `layoutgen init --from-elf`: a spec that describes an existing linked
//! riscv64 or aarch64 kernel, derived from its section and program headers and its
//! symbol table, so that `layoutgen lint` against it reports only the
//! kernel's true defects. What cannot be inferred is written with a
//! `# TODO(layoutgen init --from-elf): ...` comment, never guessed silently.
//!
//! The derivation is a pipeline of steps over plain data, one module each
//! (README.md, "`layoutgen init`", describes each rule):
//!
//! 1. `facts::read`: the ELF's sections, PT_LOADs and symbols (`Facts`);
//!    the architecture is decided here (`facts::arch_to_read`: aarch64
//!    for `EM_AARCH64`, else riscv64).
//! 2. `image::granule`: the mapping granule (`section_align`).
//! 3. `image::sections`: the image sections, their segments, perms, align.
//! 4. `symbols::boundaries`, `symbols::entry`, `symbols::stack_size`:
//!    the start/end symbols, `end_align`, `entry`, `stack_size`.
//! 5. `load::load_rule`, `shape::decide`, `shape::steer`, `load::slot`:
//!    `lma`, RAM, where the image runs (the kernel's shape is decided
//!    here), `max_size`.
//! 6. `addressing::code_model`, `addressing::gp`,
//!    `addressing::relocator`.
//! 7. `regions::regions`: TODO-marked guesses, or Linux's regions.
//! 8. `render::render`: the TOML text; then `checked`.
//!
//! Steps 2..7 are `derive`: facts in, a `Spec` out, no I/O.

mod addressing;
mod facts;
mod image;
mod load;
mod regions;
mod render;
mod shape;
mod symbols;

pub use shape::{ShapeChoice, Steering};

// Everything the steps use from the rest of the crate, in one place: the
// step modules import these through `super::`.
use super::{BUNDLED, InitError, checked, hex, size};
use crate::arch::Arch;
use crate::lint::ElfKind;
use crate::lint::elf::Elf;
use crate::spec::derive_id;
use crate::spec::names::{DYNAMIC_SECTIONS, PRIVATE_PREFIX, SCRIPT_SYMBOLS, is_script_keyword};
use crate::units::{GIB, MIB, PAGE_SIZE};
use object::elf::{STB_GLOBAL, STT_NOTYPE};

use addressing::{CodeModel, Gp, Relocator};
use facts::Facts;
use image::ImageSection;
use load::LoadRule;
use regions::Regions;
use shape::Shape;
use std::path::Path;

/// Which platform's conventions fill in what the ELF does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArchDefaults {
    /// Linux on QEMU virt: the regions of the bundled `linux-riscv64` or
    /// `linux-arm64` layout, QEMU's RAM, `phys_align = 2MiB`.
    Linux,
    /// Only what the ELF says; the rest is marked TODO.
    #[default]
    Plain,
}

const TODO: &str = "# TODO(layoutgen init --from-elf):";

/// What the steps assume about an architecture beyond its ELF: addresses
/// and names of its platforms and of Linux on it. One table per
/// architecture `init --from-elf` describes ([`Conventions::of`]).
#[derive(Debug)]
struct Conventions {
    /// `arch = ...` in the spec.
    arch: &'static str,
    /// `modes` when nothing says more (a TODO), and with Linux's defaults.
    plain_modes: &'static [&'static str],
    linux_modes: &'static [&'static str],
    /// The bundled layout whose regions `--arch-defaults linux` copies.
    linux_layout: &'static str,
    /// Below this an LMA is not RAM on any platform layoutgen knows (boot
    /// ROM and MMIO live there; Linux's LOAD_OFFSET rule gives 0).
    lowest_ram: u64,
    /// QEMU virt's RAM base and the usual load address (OpenSBI's).
    qemu_ram_base: u64,
    qemu_load: u64,
    /// The start of Linux's `kernel` region: riscv's top 2 GiB
    /// (KERNEL_LINK_ADDR), arm64's KIMAGE_VADDR.
    kernel_slot: u64,
    /// That region as a spec writes it (a comment, `start` and `end`),
    /// where it is not the top 2 GiB.
    kernel_slot_toml: Option<[&'static str; 3]>,
    /// Linux's smallest paging mode, whose linear map `linear_map` is.
    linear_map_mode: &'static str,
    /// Linux's linear map in its smallest mode (PAGE_OFFSET_L3), and size.
    linear_map: u64,
    linear_map_size: u64,
    /// The symbol the gp register is loaded from, when the ABI has one.
    gp_symbol: Option<&'static str>,
    /// `[image.relocator] types`.
    relative_reloc: &'static str,
    /// With Linux's defaults: the `[ram]` comment, and the comment on a
    /// p_paddr that is no RAM address (why the image is 2 MiB-aligned).
    linux_ram_comment: &'static str,
    linux_lma_comment: &'static str,
}

const RISCV64: Conventions = Conventions {
    arch: "riscv64",
    plain_modes: &["sv39"],
    linux_modes: &["sv39", "sv48", "sv57"],
    linux_layout: "linux-riscv64",
    lowest_ram: 16 * MIB,
    qemu_ram_base: 0x8000_0000,
    qemu_load: 0x8020_0000,
    kernel_slot: 0xffff_ffff_8000_0000,
    kernel_slot_toml: None,
    linear_map_mode: "Sv39",
    linear_map: 0xffff_ffd6_0000_0000,
    linear_map_size: 128 * GIB,
    gp_symbol: Some("__global_pointer$"),
    relative_reloc: "R_RISCV_RELATIVE",
    linux_ram_comment: "# QEMU virt: DRAM at 0x8000_0000, OpenSBI loads the kernel 2 MiB above it.",
    linux_lma_comment: "# The LMA is not RAM (LOAD_OFFSET): the physical address is chosen at boot,\n\
                        # 2 MiB-aligned (setup_vm: BUG_ON(phys_addr % PMD_SIZE)).",
};

/// arm64 as Linux 6.12 lays it out with 48-bit VAs (layouts/linux-arm64.toml):
/// the image at KIMAGE_VADDR in the vmalloc area, RAM at QEMU virt's
/// 0x4000_0000, no global pointer.
const AARCH64: Conventions = Conventions {
    arch: "aarch64",
    plain_modes: &["va48"],
    linux_modes: &["va48"],
    linux_layout: "linux-arm64",
    lowest_ram: 16 * MIB,
    qemu_ram_base: 0x4000_0000,
    qemu_load: 0x4020_0000,
    kernel_slot: 0xffff_8000_8000_0000,
    // KIMAGE_VADDR = MODULES_END; 128 MiB as layouts/linux-arm64.toml.
    kernel_slot_toml: Some([
        "# The image is at KIMAGE_VADDR, Linux's arm64 image slot (the start of vmalloc).",
        "0xffff_8000_8000_0000",
        "0xffff_8000_8800_0000",
    ]),
    linear_map_mode: "48-bit VA",
    linear_map: 0xffff_0000_0000_0000,
    linear_map_size: 128 << 40,
    gp_symbol: None,
    relative_reloc: "R_AARCH64_RELATIVE",
    linux_ram_comment: "# QEMU virt: DRAM at 0x4000_0000, the Image loaded 2 MiB above it.",
    linux_lma_comment: "# The LMA is not RAM (vmlinux.lds.S sets no AT(): p_paddr = p_vaddr): the\n\
                        # physical address is chosen at boot, 2 MiB-aligned\n\
                        # (Documentation/arch/arm64/booting.rst).",
};

impl Conventions {
    /// The conventions for `arch` (the ELF's `e_machine` decides it).
    fn of(arch: Arch) -> Result<&'static Conventions, String> {
        match arch {
            Arch::Riscv64 => Ok(&RISCV64),
            Arch::Aarch64 => Ok(&AARCH64),
        }
    }
}

/// A header TODO of `[image]`: something the ELF does not say.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Guess {
    /// No PT_LOAD boundary adds a permission: the granule is a guess.
    Granule,
    /// No symbol marks the image end: `end_align` is a guess.
    ImageEnd,
    /// No symbol names the entry point (at this address).
    Entry(u64),
}

/// `[image]`'s own keys.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Image {
    guesses: Vec<Guess>,
    shape: Shape,
    link: u64,
    /// The image's bytes, first section to end_align-rounded end.
    span: u64,
    max_size: u64,
    section_align: u64,
    end_align: u64,
    stack_size: u64,
    entry: String,
    start_symbols: Vec<String>,
    end_symbols: Vec<String>,
}

/// Everything the spec says, before it is written as TOML.
#[derive(Debug)]
struct Spec {
    name: String,
    /// The ELF's file name, for the header comment and description.
    file_name: String,
    defaults: ArchDefaults,
    conventions: &'static Conventions,
    kind: facts::Kind,
    code_model: CodeModel,
    /// `--modes`; empty: from the shape.
    modes: Vec<&'static str>,
    load: LoadRule,
    image: Image,
    relocator: Option<Relocator>,
    sections: Vec<ImageSection>,
    gp: Gp,
    regions: Regions,
}

/// The spec text describing the kernel at `path`, checked.
pub fn generate(path: &Path, name: &str, defaults: ArchDefaults) -> Result<String, InitError> {
    generate_steered(path, name, defaults, &Steering::default())
}

/// [`generate`], steered by the command line's `--shape`, `--modes`,
/// `--ram-base` and `--load-addr` (an option that contradicts the ELF is an
/// error naming both).
pub fn generate_steered(
    path: &Path,
    name: &str,
    defaults: ArchDefaults,
    steer: &Steering,
) -> Result<String, InitError> {
    let facts = facts::read(path)?;
    describe(&facts, &path.display().to_string(), name, defaults, steer)
}

/// [`generate`] for an ELF image already in memory (the `init_elf` fuzz
/// target's entry): `file_name` stands for the file in the spec and in
/// messages.
pub fn generate_bytes(
    data: &[u8],
    file_name: &str,
    name: &str,
    defaults: ArchDefaults,
) -> Result<String, InitError> {
    let facts = facts::from_bytes(data, file_name.to_string())
        .map_err(|e| InitError::Elf(format!("{file_name}: {e}")))?;
    describe(&facts, file_name, name, defaults, &Steering::default())
}

/// The checked spec text for `facts`; `shown` names the ELF in errors.
fn describe(
    facts: &Facts,
    shown: &str,
    name: &str,
    defaults: ArchDefaults,
    steer: &Steering,
) -> Result<String, InitError> {
    let spec = derive(facts, name, defaults, steer)
        .map_err(|e| InitError::Elf(format!("{shown}: {e}")))?;
    checked(render::render(&spec))
}

/// Steps 2..7: the spec that describes `facts`.
fn derive(
    facts: &Facts,
    name: &str,
    defaults: ArchDefaults,
    steer: &Steering,
) -> Result<Spec, String> {
    let conv = Conventions::of(facts.arch)?;
    let load = load::load_rule(facts, defaults, conv);
    let shape = shape::decide(facts, &load, defaults, conv, steer)?;
    let load = shape::steer(load, shape, steer, conv)?;
    let granule = image::granule(facts);
    // Without paging a guessed granule is PMP's 4 KiB, not a hugepage.
    let section_align = match shape {
        Shape::Bare(_) if granule.guessed => PAGE_SIZE,
        _ => granule.section_align,
    };
    let bare = matches!(shape, Shape::Bare(_));
    let mut sections = image::sections_for(facts, section_align, bare)?;
    let bounds = symbols::boundaries(facts, &mut sections, section_align);
    let entry = symbols::entry(facts);
    let stack_size = symbols::stack_size(facts);
    let slot = load::slot(
        facts,
        &sections,
        section_align,
        bounds.end_align,
        stack_size,
    );
    let regions = regions::regions(
        facts.link(),
        shape,
        slot.max_size,
        section_align,
        &load,
        defaults,
        conv,
    );
    let guesses = [
        granule.guessed.then_some(Guess::Granule),
        bounds.end_symbols.is_empty().then_some(Guess::ImageEnd),
        entry.is_none().then_some(Guess::Entry(facts.entry)),
    ];
    let code_model = match shape {
        Shape::Bare(shape::Physical::AtZero) => CodeModel::Pie,
        _ => addressing::code_model(facts.kind, defaults, facts.arch.facts().semi_pic),
    };
    if code_model != CodeModel::Fixed {
        image::drop_dynamic(&mut sections, &DYNAMIC_SECTIONS, section_align);
    }
    Ok(Spec {
        name: name.to_string(),
        file_name: facts.file_name.clone(),
        defaults,
        conventions: conv,
        kind: facts.kind,
        code_model,
        modes: steer.modes.iter().map(|m| m.name()).collect(),
        // A fixed image without paging runs at its link address where it
        // is loaded: whatever it does with its .rela.dyn when moved
        // (OpenSBI, U-Boot relocate themselves) is no part of its layout.
        relocator: match shape {
            Shape::Bare(shape::Physical::InRam) if facts.kind == facts::Kind::Exec => None,
            _ => addressing::relocator(facts, defaults, conv),
        },
        gp: match code_model {
            CodeModel::Pie => Gp::Pie,
            _ => addressing::gp(facts, &sections, conv),
        },
        image: Image {
            guesses: guesses.into_iter().flatten().collect(),
            shape,
            link: facts.link(),
            span: slot.span,
            max_size: slot.max_size,
            section_align,
            end_align: bounds.end_align,
            stack_size,
            entry: entry.unwrap_or_else(|| "_start".into()),
            start_symbols: bounds.start_symbols,
            end_symbols: bounds.end_symbols,
        },
        load,
        sections,
        regions,
    })
}

/// The largest power of two dividing `v`, capped at `cap` (`cap` for 0).
fn alignment_of(v: u64, cap: u64) -> u64 {
    if v == 0 {
        cap
    } else {
        (1u64 << v.trailing_zeros()).min(cap)
    }
}

fn round_up(v: u128, a: u64) -> u128 {
    v.div_ceil(a as u128) * a as u128
}

/// Test inputs: facts built in memory, shared by the steps' tests.
#[cfg(test)]
mod fixture {
    use super::facts::{Facts, Kind, Load, Section, Symbol};
    use super::{Arch, ArchDefaults};

    pub const R: u32 = 0;
    pub const W: u32 = 1;
    pub const X: u32 = 2;
    pub const NOBITS: u32 = 4;

    pub fn section(name: &str, addr: u64, size: u64, align: u64, flags: u32) -> Section {
        Section {
            name: name.into(),
            addr,
            size,
            addralign: align,
            write: flags & W != 0,
            exec: flags & X != 0,
            nobits: flags & NOBITS != 0,
        }
    }

    /// A PT_LOAD with VA = `vaddr`, PA = `paddr`.
    pub fn load(vaddr: u64, paddr: u64, flags: u32) -> Load {
        Load {
            vaddr,
            paddr,
            write: flags & W != 0,
            exec: flags & X != 0,
        }
    }

    /// A linker-script symbol (STT_NOTYPE, local, in a section, unique).
    pub fn sym(name: &str, value: u64) -> Symbol {
        Symbol {
            name: name.into(),
            value,
            notype: true,
            global: false,
            in_section: true,
            absolute: false,
            unique: true,
        }
    }

    /// An ET_EXEC riscv64 image of `sections` (sorted here), no symbols.
    pub fn facts(mut sections: Vec<Section>, loads: Vec<Load>) -> Facts {
        sections.sort_by_key(|s| s.addr);
        Facts {
            file_name: "kernel".into(),
            arch: Arch::Riscv64,
            kind: Kind::Exec,
            entry: sections[0].addr,
            sections,
            loads,
            symbols: Vec::new(),
            has_rela_dyn: false,
        }
    }

    /// The link address of a higher-half kernel: Linux's `kernel` slot.
    pub const LINK: u64 = 0xffff_ffff_8000_0000;

    /// One PT_LOAD at VA `vaddr`, PA `paddr`, holding one 4 KiB .text.
    pub fn one_load(vaddr: u64, paddr: u64) -> Facts {
        facts(
            vec![section(".text", vaddr, 0x1000, 4, X)],
            vec![load(vaddr, paddr, X)],
        )
    }

    /// A small higher-half kernel: rx, r and rw segments, 2 MiB apart,
    /// loaded at 0x8020_0000; `_start`, `__text_start`, `_etext`,
    /// `__bss_start`, `__image_end`, a 64 KiB stack, and gp.
    pub fn kernel() -> Facts {
        const M2: u64 = 2 << 20;
        let off = LINK - 0x8020_0000;
        let mut f = facts(
            vec![
                section(".text", LINK, 0x1_2345, 4, X),
                section(".rodata", LINK + M2, 0x4000, 16, R),
                section(".data", LINK + 2 * M2, 0x1000, 8, W),
                section(".bss", LINK + 2 * M2 + 0x1000, 0x1_0000, 16, W | NOBITS),
            ],
            vec![
                load(LINK, LINK - off, X),
                load(LINK + M2, LINK + M2 - off, R),
                load(LINK + 2 * M2, LINK + 2 * M2 - off, W),
            ],
        );
        let bss_end = LINK + 2 * M2 + 0x1_1000;
        f.symbols = vec![
            Symbol {
                global: true,
                ..sym("_start", LINK)
            },
            sym("__text_start", LINK),
            sym("_etext", LINK + 0x1_2345),
            sym("__bss_start", LINK + 2 * M2 + 0x1000),
            sym("__stack_bottom", bss_end - 0x1_0000),
            sym("__stack_top", bss_end),
            sym("__image_end", bss_end),
            Symbol {
                notype: false,
                ..sym("__global_pointer$", LINK + 2 * M2 + 0x800)
            },
        ];
        f
    }

    pub const PLAIN: ArchDefaults = ArchDefaults::Plain;
    pub const LINUX: ArchDefaults = ArchDefaults::Linux;
}

#[cfg(test)]
mod tests {
    use super::fixture::*;
    use super::*;

    #[test]
    fn a_small_kernel_is_described_without_guesses() {
        let spec = derive(&kernel(), "k", PLAIN, &Steering::default()).unwrap();
        assert_eq!(spec.image.guesses, vec![]);
        assert_eq!(spec.image.section_align, 2 * MIB);
        assert_eq!(spec.image.entry, "_start");
        assert_eq!(spec.image.stack_size, 64 << 10);
        assert_eq!(spec.image.end_symbols, vec!["__image_end".to_string()]);
        assert_eq!(spec.image.shape, Shape::TopSlot);
    }

    #[test]
    fn what_the_elf_does_not_say_is_a_guess() {
        let mut f = kernel();
        f.symbols.clear();
        // One PT_LOAD: no boundary adds a permission.
        f.loads.truncate(1);
        let spec = derive(&f, "k", PLAIN, &Steering::default()).unwrap();
        assert_eq!(
            spec.image.guesses,
            vec![Guess::Granule, Guess::ImageEnd, Guess::Entry(f.entry)]
        );
        assert_eq!(spec.image.entry, "_start");
    }

    #[test]
    fn aarch64_has_its_own_conventions() {
        let mut f = kernel();
        f.arch = Arch::Aarch64;
        let spec = derive(&f, "k", PLAIN, &Steering::default()).unwrap();
        assert_eq!(spec.conventions.arch, "aarch64");
        assert_eq!(spec.conventions.plain_modes, ["va48"]);
        assert_eq!(spec.gp, Gp::Absent, "aarch64 has no global pointer");
    }

    #[test]
    fn alignments_and_rounding() {
        assert_eq!(alignment_of(0, GIB), GIB);
        assert_eq!(alignment_of(0x8020_0000, GIB), 2 * MIB);
        assert_eq!(alignment_of(0x8000_0000, GIB), GIB);
        assert_eq!(alignment_of(0x1003, 8), 1);
        assert_eq!(round_up(0x1001, 0x1000), 0x2000);
        assert_eq!(round_up(0x2000, 0x1000), 0x2000);
    }
}
