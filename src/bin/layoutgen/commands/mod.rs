//! One file per command. Each parses what clap gave it, calls one library
//! function and prints the result; the work is in the library.

use crate::out::esayln;
mod build;
mod check;
mod diff;
mod docs;
mod init;
mod lint;
mod show;

use crate::cli::{ArchArg, Command, ShapeArg};
use layoutgen::Error;

pub fn run(command: Command) -> Result<u8, Error> {
    match command {
        Command::Build {
            spec,
            out_dir,
            emit,
            templates,
            dtb,
        } => build::run(&spec, out_dir, &emit, templates.as_deref(), dtb.as_deref()),
        Command::Check {
            specs,
            format,
            dtb,
            artifact,
        } => Ok(check::run(specs, format, dtb.as_deref(), &artifact)),
        Command::Show {
            spec,
            mode,
            ram,
            device_pages,
            format,
            dtb,
            elf,
        } => show::run(show::Args {
            spec: &spec,
            mode,
            ram: ram.as_deref(),
            device_pages,
            format,
            dtb: dtb.as_deref(),
            elf: elf.as_deref(),
        }),
        Command::Diff {
            old,
            new,
            elf,
            spec,
            mode,
            format,
        } => match spec.filter(|_| elf) {
            Some(spec) => diff::run_elf(&spec, &old, &new, mode, format),
            None => diff::run(&old, &new, format),
        },
        Command::Schema => docs::schema(),
        Command::Completions { shell } => docs::completions(shell),
        Command::Man { out_dir } => docs::man(out_dir.as_deref()),
        Command::Init {
            path,
            from_elf,
            arch_defaults,
            from,
            arch,
            shape,
            name,
            modes,
            ram_base,
            ram_size,
            load_addr,
            force,
        } => init::run(init::Args {
            path: &path,
            from_elf: from_elf.as_deref().map(|e| (e, arch_defaults)),
            shape,
            from: from
                .as_deref()
                .or(shape.filter(|_| from_elf.is_none()).map(ShapeArg::bundled))
                .or(match arch {
                    // The aarch64 starting point is the bundled QEMU virt layout.
                    ArchArg::Aarch64 => Some("qemu-virt-aarch64"),
                    ArchArg::Riscv64 => None,
                }),
            name,
            modes: &modes,
            ram_base: ram_base.as_deref(),
            ram_size: ram_size.as_deref(),
            load: load_addr.as_deref(),
            force,
        }),
        Command::Lint {
            spec,
            mode,
            format,
            allow,
            warn,
            deny,
            page_tables,
            ram,
            root,
            memory_base,
            baseline,
            elf,
        } => lint::run(
            &spec,
            mode,
            format,
            (&allow, &warn, &deny),
            baseline.as_deref(),
            &elf,
            lint::DumpArgs {
                page_tables: page_tables.as_deref(),
                ram: ram.as_deref(),
                root: root.as_deref(),
                memory_base: memory_base.as_deref(),
            },
        ),
    }
}

pub fn render_error(e: &Error) -> String {
    match e {
        Error::Spec(report) => report.render_for_stderr(),
        other => format!("{}: {other}\n", error_label()),
    }
}

/// `error`, in bold red when stderr is a terminal and NO_COLOR is unset, as
/// codespan-reporting colours it in diagnostics.
fn error_label() -> &'static str {
    if layoutgen::diag::stderr_wants_color() {
        "\x1b[1;31merror\x1b[0m"
    } else {
        "error"
    }
}

/// A usage error: the message, exit status 2.
pub(super) fn usage(message: &str) -> Result<u8, Error> {
    esayln!("{}: {message}", error_label());
    Ok(2)
}
