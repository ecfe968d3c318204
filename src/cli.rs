//! Command-line definitions (clap only; the work is in `main.rs`).

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// The layout every command uses when no spec is given.
pub const DEFAULT_SPEC: &str = "layouts/qemu-virt-sv39.toml";

#[derive(Debug, Parser)]
#[command(
    name = "layoutgen",
    version,
    about = "Kernel virtual-memory layouts from one TOML spec: checked, and rendered into a linker script and constants",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a spec and generate its linker script, Rust constants, C header and JSON.
    Build {
        /// Layout spec (default: layouts/qemu-virt-sv39.toml).
        #[arg(long, default_value = DEFAULT_SPEC)]
        spec: PathBuf,
        /// Output directory (default: target/layoutgen/<layout name>).
        #[arg(long)]
        out_dir: Option<PathBuf>,
        /// Outputs to generate, comma-separated.
        #[arg(long, value_delimiter = ',', default_values = ["ld", "rs", "h", "json"])]
        emit: Vec<EmitKind>,
        /// Directory of templates that replace the built-in ones of the same name.
        #[arg(long)]
        templates: Option<PathBuf>,
    },
    /// Check specs against every invariant, without generating anything.
    Check {
        /// Layout specs (default: layouts/qemu-virt-sv39.toml).
        specs: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Show the memory map per paging mode, like Linux's vm-layout.rst.
    Show {
        /// Layout spec (default: layouts/qemu-virt-sv39.toml).
        #[arg(long, default_value = DEFAULT_SPEC)]
        spec: PathBuf,
        /// Only this paging mode.
        #[arg(long, value_enum)]
        mode: Option<ModeArg>,
        /// Also show the page-table cost of mapping this much RAM (e.g. 2GiB).
        #[arg(long)]
        ram: Option<String>,
        /// 4 KiB device pages mapped in the fixmap (the sample kernel maps 1).
        #[arg(long, default_value_t = 0)]
        device_pages: u64,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Lint linked riscv64 ELF files (kernels, PIEs, objects, modules) against a spec.
    ///
    /// Exit status: 0 clean, 1 findings at or above the failing severity
    /// (errors; warnings too with --deny warnings), 2 bad usage or unreadable input.
    /// Checks and output formats are documented in docs/lint.md.
    Lint {
        /// Layout spec the ELF was built from (default: layouts/qemu-virt-sv39.toml).
        #[arg(long, default_value = DEFAULT_SPEC)]
        spec: PathBuf,
        /// Check against this paging mode only (default: every mode the spec lists).
        #[arg(long, value_enum)]
        mode: Option<ModeArg>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = LintFormat::Human)]
        format: LintFormat,
        /// Treat warnings as failures (`--deny warnings`).
        #[arg(long, value_enum)]
        deny: Vec<DenyLevel>,
        /// ELF files to lint.
        #[arg(required = true)]
        elf: Vec<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// Findings grouped by severity, with a one-line summary.
    Human,
    /// A stable JSON document (schema layoutgen-lint/1).
    Json,
    /// GitHub Actions workflow commands (::error/::warning/::notice).
    Github,
    /// SARIF 2.1.0, for code-scanning uploads.
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DenyLevel {
    /// Warnings fail the run (exit 1).
    Warnings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmitKind {
    Ld,
    Rs,
    H,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    Sv39,
    Sv48,
    Sv57,
}
