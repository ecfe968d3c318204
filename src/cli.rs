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
