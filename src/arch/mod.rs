//! What layoutgen knows per architecture, in one place: the paging modes
//! and their address-space facts, and one `ArchFacts` table per
//! architecture (linker output architecture, ELF machine, relocation types,
//! whether a global pointer or the riscv semi-PIC window exist). Checks,
//! templates and the lint read these instead of branching on the arch.

pub mod riscv64;

use crate::units::PAGE_SIZE;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An instruction-set architecture a spec describes.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    Riscv64,
    Aarch64,
}

impl Arch {
    pub fn facts(self) -> &'static ArchFacts {
        match self {
            Arch::Riscv64 => &RISCV64,
            Arch::Aarch64 => &AARCH64,
        }
    }
}

/// Everything architecture-specific the checks, templates and lint use.
#[derive(Debug)]
pub struct ArchFacts {
    pub name: &'static str,
    /// Paging modes a spec of this architecture may list.
    pub modes: &'static [PagingMode],
    /// `OUTPUT_ARCH(...)` in the linker script.
    pub output_arch: &'static str,
    /// ELF `e_machine`.
    pub elf_machine: u16,
    /// What the mode register value means (`satp.MODE`, `TCR_EL1.T1SZ`).
    pub mode_register: &'static str,
    /// The ABI has a linker-relaxed global pointer (riscv `gp`).
    pub global_pointer: bool,
    /// Absolute `lui`-style addressing reaches [-2 GiB, +2 GiB), so the
    /// semi-PIC code model exists (riscv medany pretending to be PIC).
    pub semi_pic: bool,
    /// Dynamic relocation types a boot-time relocator may apply, by name.
    pub dynamic_relocations: &'static [(&'static str, u32)],
    pub relative_relocation: u32,
    pub none_relocation: u32,
    /// Static relocations that bake an absolute address into code or data
    /// (what arm64's `relacheck` and riscv's HI20/LO12 audit flag).
    pub absolute_relocations: &'static [(&'static str, u32)],
    /// Relocations that go through the GOT.
    pub got_relocations: &'static [u32],
    /// The absolute 64-bit data word relocation (`R_RISCV_64`, `R_AARCH64_ABS64`).
    pub abs64_relocation: u32,
    /// gp-relative relocations (riscv `GPREL_I/S`); none elsewhere.
    pub gp_relative_relocations: &'static [u32],
    /// Names of the other relocation types lint prints.
    pub other_relocations: &'static [(&'static str, u32)],
    /// Every relocation type of the psABI by name (`[module_loader]` names
    /// them; lint says them).
    pub relocations: &'static [(&'static str, u32)],
    /// What the audit calls the absolute code relocations.
    pub absolute_kind: &'static str,
    /// How to avoid an absolute code relocation, for the finding's help.
    pub absolute_help: &'static str,
    /// How far PC-relative code reaches: modules must lie within it of
    /// every kernel symbol (riscv auipc+jalr: ±2 GiB; arm64 ADRP: ±4 GiB).
    pub pc_relative_reach: u64,
    /// What Linux 6.12's module loader prints when it refuses a relocation
    /// type (quoted by LG023, so a user can match the finding to the
    /// `insmod` failure they saw).
    pub linux_module_refusal: fn(u32) -> String,
}

/// The entries of `table` from the one numbered `first` to the one
/// numbered `last`, both included (a compile-time error where either is
/// missing).
const fn entries(
    table: &'static [(&'static str, u32)],
    first: u32,
    last: u32,
) -> &'static [(&'static str, u32)] {
    let mut from = 0;
    while table[from].1 != first {
        from += 1;
    }
    let mut to = from;
    while table[to].1 != last {
        to += 1;
    }
    table.split_at(to + 1).0.split_at(from).1
}

/// Every relocation type of the RISC-V ELF psABI, by name.
const RISCV64_RELOCATIONS: &[(&str, u32)] = &[
    ("R_RISCV_NONE", 0),
    ("R_RISCV_32", 1),
    ("R_RISCV_64", 2),
    ("R_RISCV_RELATIVE", 3),
    ("R_RISCV_COPY", 4),
    ("R_RISCV_JUMP_SLOT", 5),
    ("R_RISCV_TLS_DTPMOD32", 6),
    ("R_RISCV_TLS_DTPMOD64", 7),
    ("R_RISCV_TLS_DTPREL32", 8),
    ("R_RISCV_TLS_DTPREL64", 9),
    ("R_RISCV_TLS_TPREL32", 10),
    ("R_RISCV_TLS_TPREL64", 11),
    ("R_RISCV_TLSDESC", 12),
    ("R_RISCV_BRANCH", 16),
    ("R_RISCV_JAL", 17),
    ("R_RISCV_CALL", 18),
    ("R_RISCV_CALL_PLT", 19),
    ("R_RISCV_GOT_HI20", 20),
    ("R_RISCV_TLS_GOT_HI20", 21),
    ("R_RISCV_TLS_GD_HI20", 22),
    ("R_RISCV_PCREL_HI20", 23),
    ("R_RISCV_PCREL_LO12_I", 24),
    ("R_RISCV_PCREL_LO12_S", 25),
    ("R_RISCV_HI20", 26),
    ("R_RISCV_LO12_I", 27),
    ("R_RISCV_LO12_S", 28),
    ("R_RISCV_TPREL_HI20", 29),
    ("R_RISCV_TPREL_LO12_I", 30),
    ("R_RISCV_TPREL_LO12_S", 31),
    ("R_RISCV_TPREL_ADD", 32),
    ("R_RISCV_ADD8", 33),
    ("R_RISCV_ADD16", 34),
    ("R_RISCV_ADD32", 35),
    ("R_RISCV_ADD64", 36),
    ("R_RISCV_SUB8", 37),
    ("R_RISCV_SUB16", 38),
    ("R_RISCV_SUB32", 39),
    ("R_RISCV_SUB64", 40),
    ("R_RISCV_GOT32_PCREL", 41),
    ("R_RISCV_ALIGN", 43),
    ("R_RISCV_RVC_BRANCH", 44),
    ("R_RISCV_RVC_JUMP", 45),
    ("R_RISCV_GPREL_I", 47),
    ("R_RISCV_GPREL_S", 48),
    ("R_RISCV_RELAX", 51),
    ("R_RISCV_SUB6", 52),
    ("R_RISCV_SET6", 53),
    ("R_RISCV_SET8", 54),
    ("R_RISCV_SET16", 55),
    ("R_RISCV_SET32", 56),
    ("R_RISCV_32_PCREL", 57),
    ("R_RISCV_IRELATIVE", 58),
    ("R_RISCV_PLT32", 59),
    ("R_RISCV_SET_ULEB128", 60),
    ("R_RISCV_SUB_ULEB128", 61),
    ("R_RISCV_TLSDESC_HI20", 62),
    ("R_RISCV_TLSDESC_LOAD_LO12", 63),
    ("R_RISCV_TLSDESC_ADD_LO12", 64),
    ("R_RISCV_TLSDESC_CALL", 65),
];

pub static RISCV64: ArchFacts = ArchFacts {
    name: "riscv64",
    modes: &[
        PagingMode::Sv39,
        PagingMode::Sv48,
        PagingMode::Sv57,
        PagingMode::Bare,
    ],
    output_arch: "riscv",
    elf_machine: 243, // EM_RISCV
    mode_register: "satp.MODE",
    global_pointer: true,
    semi_pic: true,
    dynamic_relocations: &[
        ("R_RISCV_32", 1),
        ("R_RISCV_64", 2),
        ("R_RISCV_RELATIVE", 3),
        ("R_RISCV_COPY", 4),
        ("R_RISCV_JUMP_SLOT", 5),
        ("R_RISCV_IRELATIVE", 58),
    ],
    relative_relocation: 3,
    none_relocation: 0,
    // HI20, LO12_I, LO12_S.
    absolute_relocations: entries(RISCV64_RELOCATIONS, 26, 28),
    got_relocations: &[20],
    abs64_relocation: 2,
    gp_relative_relocations: &[47, 48],
    other_relocations: &[
        ("R_RISCV_NONE", 0),
        ("R_RISCV_GOT_HI20", 20),
        ("R_RISCV_GPREL_I", 47),
        ("R_RISCV_GPREL_S", 48),
    ],
    relocations: RISCV64_RELOCATIONS,
    absolute_kind: "HI20/LO12",
    absolute_help: "compile with -mcmodel=medany (Rust: code-model=medium) so the reference is PC-relative (auipc), or use `lla` instead of `la`/`lui` in assembly",
    pc_relative_reach: 2 << 30,
    linux_module_refusal: riscv64_module_refusal,
};

/// arch/riscv/kernel/module.c (6.12): types with a handler that refuses
/// them print their own message; types without one, "Unknown relocation
/// type".
fn riscv64_module_refusal(typ: u32) -> String {
    match typ {
        // RELATIVE, COPY, JUMP_SLOT, TLS_DTPMOD/DTPREL/TPREL 32/64, IRELATIVE.
        3..=11 | 58 => "Dynamic linking not supported in kernel modules".into(),
        // TLS_GOT_HI20, TLS_GD_HI20, TPREL_HI20/LO12_I/LO12_S/ADD.
        21 | 22 | 29..=32 => "Thread local storage not supported in kernel modules".into(),
        _ => format!("Unknown relocation type {typ}"),
    }
}

/// Every relocation type of the AArch64 ELF psABI, by name.
const AARCH64_RELOCATIONS: &[(&str, u32)] = &[
    ("R_AARCH64_NONE", 0),
    ("R_AARCH64_ABS64", 257),
    ("R_AARCH64_ABS32", 258),
    ("R_AARCH64_ABS16", 259),
    ("R_AARCH64_PREL64", 260),
    ("R_AARCH64_PREL32", 261),
    ("R_AARCH64_PREL16", 262),
    ("R_AARCH64_MOVW_UABS_G0", 263),
    ("R_AARCH64_MOVW_UABS_G0_NC", 264),
    ("R_AARCH64_MOVW_UABS_G1", 265),
    ("R_AARCH64_MOVW_UABS_G1_NC", 266),
    ("R_AARCH64_MOVW_UABS_G2", 267),
    ("R_AARCH64_MOVW_UABS_G2_NC", 268),
    ("R_AARCH64_MOVW_UABS_G3", 269),
    ("R_AARCH64_MOVW_SABS_G0", 270),
    ("R_AARCH64_MOVW_SABS_G1", 271),
    ("R_AARCH64_MOVW_SABS_G2", 272),
    ("R_AARCH64_LD_PREL_LO19", 273),
    ("R_AARCH64_ADR_PREL_LO21", 274),
    ("R_AARCH64_ADR_PREL_PG_HI21", 275),
    ("R_AARCH64_ADR_PREL_PG_HI21_NC", 276),
    ("R_AARCH64_ADD_ABS_LO12_NC", 277),
    ("R_AARCH64_LDST8_ABS_LO12_NC", 278),
    ("R_AARCH64_TSTBR14", 279),
    ("R_AARCH64_CONDBR19", 280),
    ("R_AARCH64_JUMP26", 282),
    ("R_AARCH64_CALL26", 283),
    ("R_AARCH64_LDST16_ABS_LO12_NC", 284),
    ("R_AARCH64_LDST32_ABS_LO12_NC", 285),
    ("R_AARCH64_LDST64_ABS_LO12_NC", 286),
    ("R_AARCH64_MOVW_PREL_G0", 287),
    ("R_AARCH64_MOVW_PREL_G0_NC", 288),
    ("R_AARCH64_MOVW_PREL_G1", 289),
    ("R_AARCH64_MOVW_PREL_G1_NC", 290),
    ("R_AARCH64_MOVW_PREL_G2", 291),
    ("R_AARCH64_MOVW_PREL_G2_NC", 292),
    ("R_AARCH64_MOVW_PREL_G3", 293),
    ("R_AARCH64_LDST128_ABS_LO12_NC", 299),
    ("R_AARCH64_ADR_GOT_PAGE", 311),
    ("R_AARCH64_LD64_GOT_LO12_NC", 312),
    ("R_AARCH64_COPY", 1024),
    ("R_AARCH64_GLOB_DAT", 1025),
    ("R_AARCH64_JUMP_SLOT", 1026),
    ("R_AARCH64_RELATIVE", 1027),
    ("R_AARCH64_IRELATIVE", 1032),
];

pub static AARCH64: ArchFacts = ArchFacts {
    name: "aarch64",
    modes: &[PagingMode::Va39, PagingMode::Va48, PagingMode::Bare],
    output_arch: "aarch64",
    elf_machine: 183, // EM_AARCH64
    mode_register: "TCR_EL1.T1SZ",
    global_pointer: false,
    semi_pic: false,
    dynamic_relocations: &[
        ("R_AARCH64_ABS64", 257),
        ("R_AARCH64_COPY", 1024),
        ("R_AARCH64_GLOB_DAT", 1025),
        ("R_AARCH64_JUMP_SLOT", 1026),
        ("R_AARCH64_RELATIVE", 1027),
        ("R_AARCH64_IRELATIVE", 1032),
    ],
    relative_relocation: 1027,
    none_relocation: 0,
    // arm64's relacheck: absolute addresses built in code (MOVW_UABS_G*).
    // MOVW_UABS_G0 to MOVW_UABS_G3.
    absolute_relocations: entries(AARCH64_RELOCATIONS, 263, 269),
    got_relocations: &[311, 312],
    abs64_relocation: 257,
    gp_relative_relocations: &[],
    other_relocations: &[
        ("R_AARCH64_NONE", 0),
        ("R_AARCH64_ADR_GOT_PAGE", 311),
        ("R_AARCH64_LD64_GOT_LO12_NC", 312),
    ],
    relocations: AARCH64_RELOCATIONS,
    absolute_kind: "MOVW_UABS",
    absolute_help: "build addresses PC-relatively (adrp/add, or `adr_l`), not with movz/movk of an absolute address (arm64's relacheck rejects MOVW_UABS against kernel symbols)",
    pc_relative_reach: 4 << 30,
    linux_module_refusal: aarch64_module_refusal,
};

/// arch/arm64/kernel/module.c (6.12), apply_relocate_add's default case.
fn aarch64_module_refusal(typ: u32) -> String {
    format!("unsupported RELA relocation: {typ}")
}

/// A paging mode a kernel image must run under. On the command line
/// (`--mode`, `--modes`) every architecture's modes are accepted, and a
/// layout that does not list the one asked for says so.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PagingMode {
    /// riscv64, 39-bit virtual addresses (3 levels).
    Sv39,
    /// riscv64, 48-bit virtual addresses (4 levels).
    Sv48,
    /// riscv64, 57-bit virtual addresses (5 levels).
    Sv57,
    /// aarch64, 4 KiB granule, 39-bit virtual addresses (3 levels).
    Va39,
    /// aarch64, 4 KiB granule, 48-bit virtual addresses (4 levels).
    Va48,
    /// No paging (riscv `satp = 0`, aarch64 MMU off): firmware, or a kernel
    /// before it turns paging on. Addresses are physical.
    Bare,
}

/// Width of a physical address layoutgen accepts without paging (riscv64:
/// Sv39/48/57 PTEs hold 44-bit PPNs; aarch64 with 48-bit PAs fits too).
pub const PHYS_ADDR_BITS: u32 = 56;

impl PagingMode {
    pub const ALL: [PagingMode; 6] = [
        PagingMode::Sv39,
        PagingMode::Sv48,
        PagingMode::Sv57,
        PagingMode::Va39,
        PagingMode::Va48,
        PagingMode::Bare,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PagingMode::Sv39 => "sv39",
            PagingMode::Sv48 => "sv48",
            PagingMode::Sv57 => "sv57",
            PagingMode::Va39 => "va39",
            PagingMode::Va48 => "va48",
            PagingMode::Bare => "bare",
        }
    }

    pub fn is_bare(self) -> bool {
        self == PagingMode::Bare
    }

    /// Width of an address: virtual, or physical without paging.
    pub fn va_bits(self) -> u32 {
        match self {
            PagingMode::Sv39 => 39,
            PagingMode::Sv48 => 48,
            PagingMode::Sv57 => 57,
            PagingMode::Va39 => 39,
            PagingMode::Va48 => 48,
            PagingMode::Bare => PHYS_ADDR_BITS,
        }
    }

    /// Page-table levels (each resolves 9 bits with 4 KiB pages); none
    /// without paging.
    pub fn levels(self) -> u32 {
        match self {
            PagingMode::Bare => 0,
            _ => (self.va_bits() - 12).div_ceil(9),
        }
    }

    /// The value that selects the mode in its control register: riscv
    /// `satp.MODE`, aarch64 `TCR_EL1.T1SZ` (64 − VA bits); 0 without paging.
    pub fn mode_register(self) -> u64 {
        match self {
            PagingMode::Sv39 => 8,
            PagingMode::Sv48 => 9,
            PagingMode::Sv57 => 10,
            PagingMode::Va39 | PagingMode::Va48 => 64 - self.va_bits() as u64,
            PagingMode::Bare => 0,
        }
    }

    /// The architectures this mode exists on.
    pub fn arch(self) -> Option<Arch> {
        match self {
            PagingMode::Sv39 | PagingMode::Sv48 | PagingMode::Sv57 => Some(Arch::Riscv64),
            PagingMode::Va39 | PagingMode::Va48 => Some(Arch::Aarch64),
            PagingMode::Bare => None,
        }
    }

    /// Bits of the address the kernel/user split is taken at: riscv splits
    /// the VA_BITS-wide space in two halves; aarch64 gives TTBR0 and TTBR1
    /// 2^VA_BITS each, at the bottom and the top of the 64-bit space.
    fn half_bits(self) -> u32 {
        match self {
            PagingMode::Va39 | PagingMode::Va48 => self.va_bits(),
            _ => self.va_bits() - 1,
        }
    }

    /// First address of the upper (kernel) half: addresses are canonical when
    /// bits 63..va_bits copy bit va_bits-1. Without paging there is no upper
    /// half: every physical address is in the "lower" one.
    pub fn kernel_half_start(self) -> u64 {
        match self {
            PagingMode::Bare => 1u64 << PHYS_ADDR_BITS,
            _ => u64::MAX << self.half_bits(),
        }
    }

    /// One past the last address of the lower (user) half; without paging,
    /// one past the last physical address.
    pub fn user_half_end(self) -> u64 {
        match self {
            PagingMode::Bare => 1u64 << PHYS_ADDR_BITS,
            _ => 1u64 << self.half_bits(),
        }
    }

    /// Whether every address of `[start, start + size)` is canonical and in one half.
    pub fn is_canonical_range(self, start: u64, size: u64) -> bool {
        let end = start as u128 + size as u128;
        let user = end <= self.user_half_end() as u128;
        let kernel = !self.is_bare() && start >= self.kernel_half_start();
        size > 0 && (user || kernel)
    }

    /// Leaf page sizes this mode can map, smallest first: a leaf PTE may sit
    /// at any level (4 KiB, 2 MiB megapage, 1 GiB gigapage, 512 GiB terapage,
    /// 256 TiB petapage). Without paging only the 4 KiB granule is
    /// meaningful (alignment, PMP-friendly boundaries).
    pub fn leaf_sizes(self) -> Vec<u64> {
        // aarch64 with the 4 KiB granule has blocks at levels 1 and 2
        // (1 GiB, 2 MiB) only: no level-0 block without FEAT_LPA2.
        let levels = match self {
            PagingMode::Va39 | PagingMode::Va48 => 3,
            _ => self.levels().max(1),
        };
        (0..levels).map(|level| PAGE_SIZE << (9 * level)).collect()
    }
}

impl fmt::Display for PagingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl ArchFacts {
    /// The name of relocation type `t`, or its number.
    pub fn relocation_name(&self, t: u32) -> String {
        self.relocations
            .iter()
            .chain(self.dynamic_relocations)
            .chain(self.absolute_relocations)
            .chain(self.other_relocations)
            .find(|(_, v)| *v == t)
            .map_or_else(|| format!("relocation type {t}"), |(n, _)| n.to_string())
    }

    /// The number of the relocation type `name`, if the psABI has it.
    pub fn relocation_type(&self, name: &str) -> Option<u32> {
        self.relocations
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.facts().name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{GIB, KIB, MIB, TIB};

    /// Every paging mode against its architecture's specification: the
    /// kernel half's start (riscv: the privileged spec's sign-extended
    /// upper half; arm64: TTBR1 covers the top 2^VA_BITS bytes and
    /// PAGE_OFFSET is its start), the user half's end, the table levels,
    /// the leaf sizes, and what the mode register holds (satp.MODE; T1SZ).
    #[test]
    fn paging_modes_match_their_architecture_specs() {
        type Row = (PagingMode, u64, u64, u32, &'static [u64], u64);
        let rows: [Row; 5] = [
            (
                PagingMode::Sv39,
                0xffff_ffc0_0000_0000,
                1 << 38,
                3,
                &[4 * KIB, 2 * MIB, GIB],
                8,
            ),
            (
                PagingMode::Sv48,
                0xffff_8000_0000_0000,
                1 << 47,
                4,
                &[4 * KIB, 2 * MIB, GIB, 512 * GIB],
                9,
            ),
            (
                PagingMode::Sv57,
                0xff00_0000_0000_0000,
                1 << 56,
                5,
                &[4 * KIB, 2 * MIB, GIB, 512 * GIB, 256 * TIB],
                10,
            ),
            (
                PagingMode::Va39,
                0xffff_ff80_0000_0000,
                1 << 39,
                3,
                &[4 * KIB, 2 * MIB, GIB],
                25,
            ),
            (
                PagingMode::Va48,
                0xffff_0000_0000_0000,
                1 << 48,
                4,
                &[4 * KIB, 2 * MIB, GIB],
                16,
            ),
        ];
        for (mode, half, user_end, levels, leaves, register) in rows {
            assert_eq!(mode.kernel_half_start(), half, "{mode}");
            assert_eq!(mode.user_half_end(), user_end, "{mode}");
            assert_eq!(mode.levels(), levels, "{mode}");
            assert_eq!(mode.leaf_sizes(), leaves, "{mode}");
            assert_eq!(mode.mode_register(), register, "{mode}");
        }
    }

    #[test]
    fn absolute_relocations_are_runs_of_the_psabi_tables() {
        let names = |f: &ArchFacts| {
            f.absolute_relocations
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(&RISCV64),
            ["R_RISCV_HI20", "R_RISCV_LO12_I", "R_RISCV_LO12_S"]
        );
        let uabs = names(&AARCH64);
        assert_eq!(uabs.len(), 7);
        assert!(uabs.iter().all(|n| n.starts_with("R_AARCH64_MOVW_UABS_G")));
    }

    #[test]
    fn every_mode_belongs_to_its_architectures() {
        for arch in [Arch::Riscv64, Arch::Aarch64] {
            for m in arch.facts().modes {
                assert!(m.arch().is_none_or(|a| a == arch), "{m} on {arch}");
            }
        }
    }
}
