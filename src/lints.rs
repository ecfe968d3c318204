//! The catalog of `layoutgen lint` checks (ids, names, default severities)
//! and their configuration levels. Always compiled, unlike the ELF reader
//! (`lint` feature): the spec's `[lint]` table is validated against this
//! catalog by every command that reads a spec.

use serde::Serialize;
use std::collections::BTreeMap;
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

/// Every check the lint runs. Ids are stable: JSON, SARIF, tests and
/// `docs/lint.md` refer to them. Each check has one severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    SymbolOutsideSlot,
    SymbolInAbs32Window,
    SegmentOutsideSlot,
    SegmentVaPaCongruence,
    SegmentLoadAddress,
    SegmentWriteExecute,
    SectionMissing,
    SectionPlacement,
    BoundarySymbol,
    BoundarySymbolMissing,
    GpMissing,
    GpPlacement,
    GpSmallDataWindow,
    GpForbidden,
    AbsoluteRelocation,
    RelocationAudit,
    DynamicRelocationType,
    TextRelocation,
    GotUse,
    SymbolSource,
    OrphanSection,
    Entry,
}

impl Check {
    pub const ALL: [Check; 22] = [
        Check::SymbolOutsideSlot,
        Check::SymbolInAbs32Window,
        Check::SegmentOutsideSlot,
        Check::SegmentVaPaCongruence,
        Check::SegmentLoadAddress,
        Check::SegmentWriteExecute,
        Check::SectionMissing,
        Check::SectionPlacement,
        Check::BoundarySymbol,
        Check::BoundarySymbolMissing,
        Check::GpMissing,
        Check::GpPlacement,
        Check::GpSmallDataWindow,
        Check::GpForbidden,
        Check::AbsoluteRelocation,
        Check::RelocationAudit,
        Check::DynamicRelocationType,
        Check::TextRelocation,
        Check::GotUse,
        Check::SymbolSource,
        Check::OrphanSection,
        Check::Entry,
    ];

    /// `LG001`…: the stable id.
    pub fn id(self) -> &'static str {
        match self {
            Check::SymbolOutsideSlot => "LG001",
            Check::SymbolInAbs32Window => "LG002",
            Check::SegmentOutsideSlot => "LG003",
            Check::SegmentVaPaCongruence => "LG004",
            Check::SegmentLoadAddress => "LG005",
            Check::SegmentWriteExecute => "LG006",
            Check::SectionMissing => "LG007",
            Check::SectionPlacement => "LG008",
            Check::BoundarySymbol => "LG009",
            Check::BoundarySymbolMissing => "LG010",
            Check::GpMissing => "LG011",
            Check::GpPlacement => "LG012",
            Check::GpSmallDataWindow => "LG013",
            Check::GpForbidden => "LG014",
            Check::AbsoluteRelocation => "LG015",
            Check::RelocationAudit => "LG016",
            Check::DynamicRelocationType => "LG017",
            Check::TextRelocation => "LG018",
            Check::GotUse => "LG019",
            Check::SymbolSource => "LG020",
            Check::OrphanSection => "LG021",
            Check::Entry => "LG022",
        }
    }

    /// A short kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Check::SymbolOutsideSlot => "symbol-outside-slot",
            Check::SymbolInAbs32Window => "symbol-in-abs32-window",
            Check::SegmentOutsideSlot => "segment-outside-slot",
            Check::SegmentVaPaCongruence => "segment-va-pa-congruence",
            Check::SegmentLoadAddress => "segment-load-address",
            Check::SegmentWriteExecute => "segment-write-execute",
            Check::SectionMissing => "section-missing",
            Check::SectionPlacement => "section-placement",
            Check::BoundarySymbol => "boundary-symbol",
            Check::BoundarySymbolMissing => "boundary-symbol-missing",
            Check::GpMissing => "gp-missing",
            Check::GpPlacement => "gp-placement",
            Check::GpSmallDataWindow => "gp-small-data-window",
            Check::GpForbidden => "gp-forbidden",
            Check::AbsoluteRelocation => "absolute-relocation",
            Check::RelocationAudit => "relocation-audit",
            Check::DynamicRelocationType => "dynamic-relocation-type",
            Check::TextRelocation => "text-relocation",
            Check::GotUse => "got-use",
            Check::SymbolSource => "symbol-source",
            Check::OrphanSection => "orphan-section",
            Check::Entry => "entry",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Check::SectionMissing
            | Check::BoundarySymbolMissing
            | Check::TextRelocation
            | Check::OrphanSection => Severity::Warning,
            Check::GpSmallDataWindow
            | Check::RelocationAudit
            | Check::GotUse
            | Check::SymbolSource => Severity::Info,
            _ => Severity::Error,
        }
    }

    /// One sentence: what the check enforces.
    pub fn description(self) -> &'static str {
        match self {
            Check::SymbolOutsideSlot => {
                "Every defined, non-absolute symbol in an allocated section lies inside the image's slot and inside the image (image.link + image.max_size)."
            }
            Check::SymbolInAbs32Window => {
                "Semi-PIC/PIE: no symbol lies in [-2 GiB, +2 GiB), where absolute lui/HI20 addressing reaches."
            }
            Check::SegmentOutsideSlot => "Every PT_LOAD segment lies inside the image's slot.",
            Check::SegmentVaPaCongruence => {
                "Every PT_LOAD segment has VA ≡ PA modulo image.section_align (the hugepage the image is mapped with)."
            }
            Check::SegmentLoadAddress => {
                "PT_LOAD physical addresses are the spec's: p_vaddr - p_paddr is the image offset, the first segment is at ram.load."
            }
            Check::SegmentWriteExecute => "No PT_LOAD segment is both writable and executable.",
            Check::SectionMissing => "Every section the spec lists is in the ELF.",
            Check::SectionPlacement => {
                "Sections are in spec order, aligned, inside the image, with the spec's permissions, type and size."
            }
            Check::BoundarySymbol => {
                "Symbols the generated linker script defines agree with the generated constants and the section headers."
            }
            Check::BoundarySymbolMissing => {
                "Symbols the generated linker script defines are present (else the image was not linked with it)."
            }
            Check::GpMissing => "gp.policy = relax: __global_pointer$ is defined.",
            Check::GpPlacement => {
                "gp.policy = relax: __global_pointer$ is at gp.section + gp.offset, inside the image."
            }
            Check::GpSmallDataWindow => {
                "gp.policy = relax: how many small-data symbols lie outside __global_pointer$ ± 2 KiB (a figure, not an error)."
            }
            Check::GpForbidden => {
                "gp.policy = disabled/shadow-call-stack: no __global_pointer$ and no gp-relative relocation."
            }
            Check::AbsoluteRelocation => {
                "Semi-PIC/PIE: no absolute R_RISCV_HI20/LO12_I/LO12_S relocation against an image symbol."
            }
            Check::RelocationAudit => {
                "Counts of the relocations found (--emit-relocs sections and .rela.dyn) by kind."
            }
            Check::DynamicRelocationType => "Semi-PIC/PIE: .rela.dyn holds only R_RISCV_RELATIVE.",
            Check::TextRelocation => {
                "Dynamic relocations that patch executable sections (text relocations)."
            }
            Check::GotUse => "GOT use: a .got section or GOT-indirect relocations.",
            Check::SymbolSource => {
                "Where symbols came from (.symtab, .dynsym of a stripped file, none) and which checks that limits."
            }
            Check::OrphanSection => {
                "Allocated sections that the spec does not list (placed by the linker on its own)."
            }
            Check::Entry => {
                "The ELF entry point is image.entry and lies in an executable section of the image."
            }
        }
    }

    pub fn from_id(id: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.id() == id)
    }
}

impl Serialize for Check {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl Check {
    /// A check by id (`LG006`) or name (`segment-write-execute`).
    pub fn parse(s: &str) -> Option<Check> {
        Check::ALL
            .into_iter()
            .find(|c| c.id() == s || c.name() == s)
    }
}

/// A configured level, as in clippy: `allow` suppresses a check's findings
/// (they are still counted), `warn` makes them warnings, `deny` errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Allow, Level::Warn, Level::Deny];

    pub fn name(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.name() == s)
    }

    /// The severity a finding gets at this level (`None`: suppressed).
    pub fn severity(self) -> Option<Severity> {
        match self {
            Level::Allow => None,
            Level::Warn => Some(Severity::Warning),
            Level::Deny => Some(Severity::Error),
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a check's level was configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigSource {
    /// The spec's `[lint]` table.
    Spec,
    /// `--allow`/`--warn`/`--deny` on the command line (overrides the spec).
    CommandLine,
}

impl ConfigSource {
    pub fn name(self) -> &'static str {
        match self {
            ConfigSource::Spec => "spec",
            ConfigSource::CommandLine => "command line",
        }
    }
}

impl Serialize for ConfigSource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// One check's configured level, why, and where that was said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LintSetting {
    pub level: Level,
    pub reason: String,
    pub source: ConfigSource,
}

/// Levels per check; checks not listed keep their default severity.
/// Built from the layout's `[lint]` table, then command-line levels
/// override it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintConfig {
    pub settings: BTreeMap<Check, LintSetting>,
}

impl LintConfig {
    /// The spec's `[lint]` table, as resolved into the layout.
    pub fn from_layout(layout: &crate::layout::Layout) -> LintConfig {
        LintConfig {
            settings: layout
                .lint
                .iter()
                .map(|(&c, (level, reason))| {
                    (
                        c,
                        LintSetting {
                            level: *level,
                            reason: reason.clone(),
                            source: ConfigSource::Spec,
                        },
                    )
                })
                .collect(),
        }
    }

    /// Sets `check` to `level` from the command line, replacing what the
    /// spec said.
    pub fn set_from_command_line(&mut self, check: Check, level: Level) {
        let flag = format!("--{} {}", level.name(), check.id());
        let reason = match self.settings.get(&check) {
            Some(old) if old.source == ConfigSource::Spec => format!(
                "{flag} on the command line (the spec says {}: {})",
                old.level, old.reason
            ),
            _ => format!("{flag} on the command line"),
        };
        self.settings.insert(
            check,
            LintSetting {
                level,
                reason,
                source: ConfigSource::CommandLine,
            },
        );
    }

    pub fn get(&self, check: Check) -> Option<&LintSetting> {
        self.settings.get(&check)
    }
}
