use clap::Parser;
use layoutgen::emit::table;
use layoutgen::emit::write::WriteOutcome;
use layoutgen::layout::pagetable;
use layoutgen::riscv::PagingMode;
use layoutgen::{Error, Output, Templates, check, generate, load, load_checked};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod cli;
use cli::{Cli, Command, EmitKind, Format, LintFormat, ModeArg};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprint!("{}", render_error(&e));
            ExitCode::from(e.exit_code())
        }
    }
}

fn render_error(e: &Error) -> String {
    match e {
        Error::Spec(report) => report.render(),
        other => format!("error: {other}\n"),
    }
}

fn run(command: Command) -> Result<u8, Error> {
    match command {
        Command::Build {
            spec,
            out_dir,
            emit,
            templates,
        } => build(&spec, out_dir, &emit, templates.as_deref()),
        Command::Check { specs, format } => Ok(check_specs(specs, format)),
        Command::Show {
            spec,
            mode,
            ram,
            device_pages,
            format,
        } => show(&spec, mode, ram.as_deref(), device_pages, format),
        Command::Lint {
            spec,
            mode,
            format,
            deny,
            elf,
        } => lint(&spec, mode, format, !deny.is_empty(), &elf),
    }
}

fn lint(
    spec: &Path,
    mode: Option<ModeArg>,
    format: LintFormat,
    deny_warnings: bool,
    files: &[PathBuf],
) -> Result<u8, Error> {
    use layoutgen::elf::{self, render::Outcome};
    // A spec that cannot be loaded or breaks invariants is bad input here:
    // there is nothing sound to lint against (exit 2, not 1).
    let layout = match load_checked(spec) {
        Ok(layout) => layout,
        Err(e) => {
            eprint!("{}", render_error(&e));
            return Ok(2);
        }
    };
    let mode = mode.map(|m| match m {
        ModeArg::Sv39 => PagingMode::Sv39,
        ModeArg::Sv48 => PagingMode::Sv48,
        ModeArg::Sv57 => PagingMode::Sv57,
    });
    if let Some(m) = mode
        && layout.mode(m).is_none()
    {
        let listed: Vec<&str> = layout.modes.iter().map(|m| m.mode.name()).collect();
        return usage(&format!(
            "{} does not support {m}; it lists {}",
            spec.display(),
            listed.join(", ")
        ));
    }
    let outcomes: Vec<Outcome> = files
        .iter()
        .map(|path| Outcome {
            path: path.clone(),
            result: elf::lint(&layout, mode, path),
        })
        .collect();
    let format = match format {
        LintFormat::Human => elf::Format::Human,
        LintFormat::Json => elf::Format::Json,
        LintFormat::Github => elf::Format::Github,
        LintFormat::Sarif => elf::Format::Sarif,
    };
    print!(
        "{}",
        elf::render(format, spec, &layout, &outcomes, deny_warnings)
    );
    Ok(elf::render::exit_code(&outcomes, deny_warnings))
}

fn build(
    spec: &Path,
    out_dir: Option<PathBuf>,
    emit: &[EmitKind],
    templates: Option<&Path>,
) -> Result<u8, Error> {
    let layout = load_checked(spec)?;
    let templates = Templates::new(templates)?;
    let out_dir =
        out_dir.unwrap_or_else(|| Path::new("target").join("layoutgen").join(&layout.name));
    std::fs::create_dir_all(&out_dir).map_err(|source| Error::Write {
        path: out_dir.clone(),
        source,
    })?;
    let mut outputs: Vec<Output> = emit
        .iter()
        .map(|k| match k {
            EmitKind::Ld => Output::LinkerScript,
            EmitKind::Rs => Output::Rust,
            EmitKind::H => Output::CHeader,
            EmitKind::Json => Output::Json,
        })
        .collect();
    outputs.sort();
    outputs.dedup();
    let modes: Vec<&str> = layout.modes.iter().map(|m| m.mode.name()).collect();
    println!(
        "layoutgen: {} ({}) is sound for {}",
        layout.name,
        spec.display(),
        modes.join(", ")
    );
    for g in generate(&layout, &templates, &out_dir, &outputs)? {
        let what = match g.outcome {
            WriteOutcome::Written => "wrote    ",
            WriteOutcome::Unchanged => "unchanged",
        };
        println!("  {what} {}", g.path.display());
    }
    Ok(0)
}

fn check_specs(mut specs: Vec<PathBuf>, format: Format) -> u8 {
    if specs.is_empty() {
        specs.push(PathBuf::from(cli::DEFAULT_SPEC));
    }
    let mut worst = 0u8;
    let mut json = Vec::new();
    for spec in &specs {
        let result = load_checked(spec);
        let code = result.as_ref().map_or_else(|e| e.exit_code(), |_| 0);
        worst = worst.max(code);
        match format {
            Format::Human => match &result {
                Ok(l) => {
                    let modes: Vec<&str> = l.modes.iter().map(|m| m.mode.name()).collect();
                    println!("{}: ok ({}: {})", spec.display(), l.name, modes.join(", "));
                }
                Err(e) => eprint!("{}", render_error(e)),
            },
            Format::Json => json.push(match &result {
                Ok(_) => serde_json::json!({ "spec": spec, "ok": true, "diagnostics": [] }),
                Err(Error::Spec(report)) => serde_json::json!({
                    "spec": spec, "ok": false, "diagnostics": report.diagnostics,
                }),
                Err(e) => serde_json::json!({
                    "spec": spec, "ok": false,
                    "diagnostics": [{ "rule": "io", "message": e.to_string() }],
                }),
            }),
        }
    }
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&json).expect("JSON"));
    }
    worst
}

fn show(
    spec: &Path,
    mode: Option<ModeArg>,
    ram: Option<&str>,
    device_pages: u64,
    format: Format,
) -> Result<u8, Error> {
    let layout = load(spec)?;
    // Show what is there even when invariants fail, but say so.
    let findings = check::check(&layout);
    let ram = match ram {
        None => None,
        Some(text) => match layoutgen::spec::expr::parse_size(text) {
            Ok(v) if v > 0 => Some(v),
            Ok(_) => return usage("--ram must be larger than zero"),
            Err(e) => return usage(&format!("--ram {e}")),
        },
    };
    let want = mode.map(|m| match m {
        ModeArg::Sv39 => PagingMode::Sv39,
        ModeArg::Sv48 => PagingMode::Sv48,
        ModeArg::Sv57 => PagingMode::Sv57,
    });
    let modes: Vec<_> = layout
        .modes
        .iter()
        .filter(|m| want.is_none_or(|w| w == m.mode))
        .collect();
    if modes.is_empty() {
        let listed: Vec<&str> = layout.modes.iter().map(|m| m.mode.name()).collect();
        return usage(&format!(
            "{} does not support {}; it lists {}",
            spec.display(),
            want.map_or("that mode", PagingMode::name),
            listed.join(", ")
        ));
    }
    match format {
        Format::Human => {
            for (i, m) in modes.iter().enumerate() {
                if i > 0 {
                    println!();
                }
                print!("{}", table::render(&layout, m));
                if let Some(ram) = ram {
                    print!(
                        "{}",
                        table::render_cost(&pagetable::cost(&layout, m, ram, device_pages))
                    );
                }
            }
        }
        Format::Json => {
            let out: Vec<_> = modes
                .iter()
                .map(|m| {
                    let cost = ram.map(|r| pagetable::cost(&layout, m, r, device_pages));
                    serde_json::json!({ "layout": m, "page_tables": cost })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "name": layout.name,
                    "modes": out,
                    "findings": findings,
                }))
                .expect("JSON")
            );
        }
    }
    if !findings.is_empty() {
        let text = std::fs::read_to_string(spec).unwrap_or_default();
        eprint!("{}", layoutgen::Report::new(spec, &text, findings).render());
        return Ok(1);
    }
    Ok(0)
}

fn usage(message: &str) -> Result<u8, Error> {
    eprintln!("error: {message}");
    Ok(2)
}
