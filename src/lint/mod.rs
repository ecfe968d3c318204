//! `layoutgen lint`: a linked (or relocatable) ELF checked against the
//! resolved [`Layout`] it was built from — the link result cross-checked
//! against the spec after the fact, as arm64's `relacheck` and the emitted
//! linker-script `ASSERT`s do at link time.
//!
//! The file is memory-mapped (the kernel told to read ahead exactly what
//! lint needs and nothing around it) and only the parts a check needs are
//! touched: the ELF header, program and section headers, section names, the
//! symbol table with its strings, and relocation sections whose target is an
//! allocated section. Debug sections (and their relocations) are never read,
//! so time and memory do not grow with them.
//!
//! The house: [`catalog`] declares every check (id, name, severity,
//! description); [`config`] holds levels (the spec's `[lint]` table and the
//! command line); `input.rs` is the entry ([`run`]); `elf.rs` reads the
//! file; `run.rs` drives one pass per family of checks (`symbols.rs`,
//! `segments.rs`, `sections.rs`, `boundaries.rs`, `gp.rs`, `relocations.rs`,
//! `entry.rs`, `source.rs`), which share `context.rs`; [`report`] holds
//! what a run finds, [`render`] every output format.
//! The catalog and the levels are always compiled (every command that reads
//! a spec validates its `[lint]` table); the rest needs the `lint` feature.

pub mod catalog;
pub mod config;

#[cfg(feature = "lint")]
pub mod baseline;
#[cfg(feature = "lint")]
mod boundaries;
#[cfg(feature = "lint")]
mod context;
#[cfg(feature = "lint")]
pub(crate) mod elf;
#[cfg(feature = "lint")]
mod entry;
#[cfg(feature = "lint")]
mod gp;
#[cfg(feature = "lint")]
pub(crate) mod input;
#[cfg(feature = "lint")]
pub mod page_tables;
#[cfg(feature = "lint")]
mod relocations;
#[cfg(feature = "lint")]
pub mod render;
#[cfg(feature = "lint")]
pub mod report;
#[cfg(feature = "lint")]
mod run;
#[cfg(feature = "lint")]
mod sections;
#[cfg(feature = "lint")]
mod segments;
#[cfg(feature = "lint")]
mod source;
#[cfg(feature = "lint")]
mod symbols;

#[cfg(feature = "lint")]
pub use baseline::{Baseline, BaselineSummary};
pub use catalog::{Lint, Severity};
pub use config::{ConfigSource, Level, LintConfig, LintSetting};
#[cfg(feature = "lint")]
pub use input::{Input, Options, linked_end, needed_ranges, run, run_files};
#[cfg(feature = "lint")]
pub use render::{Format, LintRun, Outcome};
#[cfg(feature = "lint")]
pub use report::{
    Counts, ElfKind, Finding, LintError, LintReport, MAX_PER_CHECK, Stats, SymbolSource,
};
