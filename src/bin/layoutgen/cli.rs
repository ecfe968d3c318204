//! Command-line definitions (clap only; each command is in `commands/`).

use clap::{Parser, Subcommand, ValueEnum};
use layoutgen::arch::PagingMode;
use layoutgen::emit::show::ShowFormat;
use layoutgen::lint::{Format as LintFormat, Lint};
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
        /// Outputs to generate, comma-separated (`boot` and `dts` for a spec
        /// with [boot.NAME] ranges).
        #[arg(long, value_delimiter = ',', default_values = ["ld", "rs", "h", "json"])]
        emit: Vec<EmitKind>,
        /// Directory of templates that replace the built-in ones of the same name.
        #[arg(long)]
        templates: Option<PathBuf>,
        /// Also check the layout against the RAM of this flattened device tree (.dtb).
        #[arg(long)]
        dtb: Option<PathBuf>,
    },
    /// Check specs against every invariant, without generating anything.
    Check {
        /// Layout specs (default: layouts/qemu-virt-sv39.toml).
        specs: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Also check against the RAM of this flattened device tree (.dtb).
        #[arg(long)]
        dtb: Option<PathBuf>,
        /// A boot-chain artifact whose memory footprint must fit its range:
        /// `kernel=Image` (or the ELF), or `NAME=FILE` for a [boot.NAME]
        /// (e.g. `fdt=virt.dtb`, `initrd=initrd.img`). Repeatable.
        #[arg(long, value_name = "NAME=FILE", value_parser = parse_artifact)]
        artifact: Vec<(String, PathBuf)>,
    },
    /// Show the memory map per paging mode, like Linux's vm-layout.rst.
    Show {
        /// Layout spec (default: layouts/qemu-virt-sv39.toml).
        #[arg(long, default_value = DEFAULT_SPEC)]
        spec: PathBuf,
        /// Only this paging mode.
        #[arg(long, value_enum)]
        mode: Option<PagingMode>,
        /// Also show the page-table cost of mapping this much RAM (e.g. 2GiB).
        #[arg(long)]
        ram: Option<String>,
        /// 4 KiB device pages mapped in the fixmap (the sample kernel maps 1).
        #[arg(long, default_value_t = 0)]
        device_pages: u64,
        #[arg(long, value_enum, default_value_t = ShowFormat::Human)]
        format: ShowFormat,
        /// Check against the RAM of this flattened device tree (.dtb); its RAM
        /// size is the default for --ram.
        #[arg(long)]
        dtb: Option<PathBuf>,
        /// Resolve against this linked kernel: `image.end` becomes its real end
        /// (rounded up to 4 KiB), so windows such as Linux's modules area
        /// (`PFN_ALIGN(_end) - 2 GiB`) are the ones it really gets.
        #[arg(long)]
        elf: Option<PathBuf>,
    },
    /// Compare two specs, or with --elf two builds of one kernel against a spec.
    ///
    /// `layoutgen diff OLD NEW [--format human|json]`: OLD and NEW are specs;
    /// regions moved, grown, shrunk, realigned, added or removed, per mode.
    ///
    /// `layoutgen diff --spec SPEC --elf OLD NEW [--mode M] [--format
    /// human|json|markdown]`: OLD and NEW are linked ELF files; per spec
    /// section, PT_LOAD segment and region the image lies in, start and size
    /// before and after, growth and share of its budget; symbols that changed
    /// region; lint findings new and fixed (docs/diff.md).
    ///
    /// Exit status: 0 nothing changed, 1 something changed, 2 bad usage or
    /// input (a spec that does not resolve; with --elf, an unreadable file or
    /// one that is not an ELF of the spec's architecture).
    Diff {
        /// The spec before the change (with --elf: the ELF file before).
        old: PathBuf,
        /// The spec after the change (with --elf: the ELF file after).
        new: PathBuf,
        /// OLD and NEW are linked ELF files of one kernel, compared against --spec.
        #[arg(long, requires = "spec")]
        elf: bool,
        /// With --elf: the spec both builds were linked with.
        #[arg(long, requires = "elf")]
        spec: Option<PathBuf>,
        /// With --elf: the paging mode whose regions are used (default: the
        /// spec's first); lint runs in it too (default: every mode).
        #[arg(long, value_enum, requires = "elf")]
        mode: Option<PagingMode>,
        /// Output format; `markdown` (a pull-request comment) needs --elf.
        #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
        format: DiffFormat,
    },
    /// Write a starting spec that passes `layoutgen check`, and print the build.rs lines that use it.
    ///
    /// Either copies a bundled layout (--from, --shape) or generates one from the
    /// machine's RAM and paging modes (Linux's arrangement, kernel in the top 2 GiB),
    /// or describes a linked ELF (--from-elf; --shape, --modes, --ram-base and
    /// --load-addr then steer it, and are refused where they contradict the ELF).
    /// Existing files are kept unless --force.
    Init {
        /// Where to write the spec.
        #[arg(default_value = "layout.toml")]
        path: PathBuf,
        /// Describe this linked riscv64 or aarch64 ELF (sections, segments, load rule,
        /// boundary symbols, gp), so `layoutgen lint --spec` reports only its true defects.
        /// Its shape comes from the ELF (VA = PA in physical RAM, or a PIE at 0: bare);
        /// --shape, --modes, --ram-base and --load-addr steer it.
        #[arg(long, value_name = "ELF", conflicts_with_all = ["from", "ram_size"])]
        from_elf: Option<PathBuf>,
        /// With --from-elf: whose conventions fill in what the ELF does not say.
        #[arg(long, value_enum, default_value_t = ArchDefaultsArg::Plain, requires = "from_elf")]
        arch_defaults: ArchDefaultsArg,
        /// Start from this bundled layout.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(layoutgen::init::BUNDLED_NAMES))]
        from: Option<String>,
        /// The architecture: `aarch64` starts from the bundled qemu-virt-aarch64
        /// layout (QEMU virt, 39/48-bit VA, 4 KiB granule).
        #[arg(long, value_enum, default_value_t = ArchArg::Riscv64, conflicts_with_all = ["from", "shape", "from_elf", "modes", "ram_base", "ram_size", "load_addr"])]
        arch: ArchArg,
        /// Start from the bundled layout of a kernel shape: `identity` (S-mode,
        /// paging on, VA = PA), `bare` (no paging: firmware), `linux` (higher half).
        /// With --from-elf: describe the ELF as that shape (refused if the ELF contradicts it).
        #[arg(long, value_enum, conflicts_with = "from")]
        shape: Option<ShapeArg>,
        /// Layout name (default: the file name, or `my-kernel`; with --from, the bundled name).
        #[arg(long)]
        name: Option<String>,
        /// Paging modes the image must run under, comma-separated (default: sv39;
        /// with --from-elf: as the ELF says).
        #[arg(long, value_enum, value_delimiter = ',', conflicts_with = "from")]
        modes: Vec<PagingMode>,
        /// Physical address of the first byte of RAM (default: 0x8000_0000;
        /// with --from-elf: the image's GiB).
        #[arg(long, conflicts_with = "from")]
        ram_base: Option<String>,
        /// The most RAM the linear map must cover (default: 16GiB).
        #[arg(long, conflicts_with = "from")]
        ram_size: Option<String>,
        /// Physical address the loader puts the image at (default: 2 MiB into RAM;
        /// with --from-elf: its LMA, or the RAM base for a PIE).
        #[arg(long, conflicts_with = "from")]
        load_addr: Option<String>,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print the JSON Schema of the spec (the one in docs/spec.schema.json), for editors.
    Schema,
    /// Print a shell completion script.
    ///
    /// bash: `layoutgen completions bash > ~/.local/share/bash-completion/completions/layoutgen`;
    /// zsh: into a directory on $fpath as `_layoutgen`; fish: `~/.config/fish/completions/layoutgen.fish`.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per command into a directory.
    Man {
        /// Write layoutgen.1 and layoutgen-<command>.1 here instead of printing layoutgen.1.
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
    /// Lint linked riscv64 or aarch64 ELF files (kernels, PIEs, objects, modules) against a spec.
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
        mode: Option<PagingMode>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = LintFormat::Human)]
        format: LintFormat,
        /// Suppress a check's findings (still counted): a check id (LG006) or name. Repeatable; overrides the spec's [lint] table.
        #[arg(long, value_name = "CHECK", value_parser = parse_check)]
        allow: Vec<Lint>,
        /// Report a check's findings as warnings: a check id or name. Repeatable; overrides the spec.
        #[arg(long, value_name = "CHECK", value_parser = parse_check)]
        warn: Vec<Lint>,
        /// Report a check's findings as errors (a check id or name), or `warnings`: treat every warning as a failure. Repeatable; overrides the spec.
        #[arg(long, value_name = "CHECK|warnings", value_parser = parse_deny)]
        deny: Vec<DenyArg>,
        /// Report only findings not in FILE, a previous `lint --format json` output (matched by check, symbol, section and spec key), and how many of its findings are gone; the exit status counts only new findings.
        #[arg(long, value_name = "FILE")]
        baseline: Option<PathBuf>,
        /// A running kernel's page-table dump (QEMU `info mem`, Linux riscv64
        /// kernel_page_tables) to check against the spec in --mode instead of
        /// ELF files; the kernel's ELF, if given, adds the image's segment
        /// permissions (docs/page-tables.md).
        #[arg(long, value_name = "DUMP")]
        page_tables: Option<PathBuf>,
        /// With --page-tables: the RAM the kernel ran with (e.g. 1GiB); the
        /// linear map's leaves and page-table pages are compared with what
        /// `show --ram` predicts (needs a dump with levels: Linux's ptdump).
        #[arg(long, value_name = "SIZE", requires = "page_tables")]
        ram: Option<String>,
        /// With --page-tables: the dump is a physical memory image (QEMU's
        /// `pmemsave`) and this is the root table's physical address
        /// (riscv64: satp's PPN << 12; aarch64: TTBR1_EL1); layoutgen walks
        /// the tables itself.
        #[arg(long, value_name = "PA", requires = "page_tables")]
        root: Option<String>,
        /// With --root: the physical address of the image's first byte
        /// (default: the spec's ram.base).
        #[arg(long, value_name = "PA", requires = "root")]
        memory_base: Option<String>,
        /// ELF files to lint (with --page-tables: at most one, the kernel).
        #[arg(required_unless_present = "page_tables")]
        elf: Vec<PathBuf>,
    },
}

/// `layoutgen init --arch-defaults`.
/// `init --arch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArchArg {
    Riscv64,
    Aarch64,
}

/// `init --shape`: a kernel shape (docs/spec.md, "Kernel shapes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShapeArg {
    Identity,
    Bare,
    Linux,
}

impl ShapeArg {
    /// The bundled layout that starts this shape.
    pub fn bundled(self) -> &'static str {
        let name = match self {
            ShapeArg::Identity => "identity",
            ShapeArg::Bare => "bare",
            ShapeArg::Linux => "linux",
        };
        layoutgen::init::SHAPES
            .iter()
            .find(|(shape, _)| *shape == name)
            .map(|(_, layout)| *layout)
            .expect("every shape has a bundled layout")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArchDefaultsArg {
    /// Linux riscv64 on QEMU virt: Linux's regions, QEMU's RAM, a 2 MiB physical alignment.
    Linux,
    /// Only what the ELF says; everything else is marked TODO.
    Plain,
}

/// One `--deny` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyArg {
    /// `--deny warnings`: warnings fail the run (exit 1).
    Warnings,
    /// `--deny LG006`: the check's findings are errors.
    Check(Lint),
}

fn parse_artifact(s: &str) -> Result<(String, PathBuf), String> {
    match s.split_once('=') {
        Some((name, file)) if !name.is_empty() && !file.is_empty() => {
            Ok((name.to_string(), PathBuf::from(file)))
        }
        _ => Err(format!(
            "`{s}` is not NAME=FILE (e.g. kernel=Image, fdt=virt.dtb)"
        )),
    }
}

fn parse_check(s: &str) -> Result<Lint, String> {
    Lint::parse(s).ok_or_else(|| {
        format!(
            "unknown lint check `{s}`: use an id (LG001…LG022) or a name such as segment-write-execute (docs/lint.md lists them)"
        )
    })
}

fn parse_deny(s: &str) -> Result<DenyArg, String> {
    if s == "warnings" {
        Ok(DenyArg::Warnings)
    } else {
        parse_check(s).map(DenyArg::Check)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmitKind {
    Ld,
    Rs,
    H,
    Json,
    /// boot.env: U-Boot and OpenSBI variables of the spec's [boot.NAME] ranges.
    Boot,
    /// boot.dtsi: the reserved ranges as a device-tree fragment.
    Dts,
}

/// `diff --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Human,
    Json,
    /// A pull-request comment: the verdict line and a table (with --elf).
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}
