use clap::Parser;
use layoutgen::arch::PagingMode;
use layoutgen::emit::table;
use layoutgen::emit::write::WriteOutcome;
use layoutgen::layout::pagetable;
use layoutgen::lints::{Check, Level, LintConfig};
use layoutgen::{Error, Output, Templates, check, generate, load, load_checked};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod cli;
use cli::{
    ArchArg, ArchDefaultsArg, Cli, Command, DenyArg, EmitKind, Format, LintFormat, ModeArg,
    ShapeArg, ShowFormat,
};

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

fn run(command: Command) -> Result<u8, Error> {
    match command {
        Command::Build {
            spec,
            out_dir,
            emit,
            templates,
            dtb,
        } => build(&spec, out_dir, &emit, templates.as_deref(), dtb.as_deref()),
        Command::Check { specs, format, dtb } => Ok(check_specs(specs, format, dtb.as_deref())),
        Command::Show {
            spec,
            mode,
            ram,
            device_pages,
            format,
            dtb,
            elf,
        } => show(
            &spec,
            mode,
            ram.as_deref(),
            device_pages,
            format,
            dtb.as_deref(),
            elf.as_deref(),
        ),
        Command::Diff { old, new, format } => diff(&old, &new, format),
        Command::Schema => {
            print!("{}", layoutgen::schema::schema_text());
            Ok(0)
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "layoutgen",
                &mut std::io::stdout(),
            );
            Ok(0)
        }
        Command::Man { out_dir } => man(out_dir.as_deref()),
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
        } => init(
            &path,
            from_elf.as_deref().map(|e| (e, arch_defaults)),
            from.as_deref()
                .or(shape.map(ShapeArg::bundled))
                .or(match arch {
                    // The aarch64 starting point is the bundled QEMU virt layout.
                    ArchArg::Aarch64 => Some("qemu-virt-aarch64"),
                    ArchArg::Riscv64 => None,
                }),
            name,
            &modes,
            (&ram_base, &ram_size, load_addr.as_deref()),
            force,
        ),
        Command::Lint {
            spec,
            mode,
            format,
            allow,
            warn,
            deny,
            elf,
        } => lint(&spec, mode, format, (&allow, &warn, &deny), &elf),
    }
}

fn lint(
    spec: &Path,
    mode: Option<ModeArg>,
    format: LintFormat,
    (allow, warn, deny): (&[Check], &[Check], &[DenyArg]),
    files: &[PathBuf],
) -> Result<u8, Error> {
    use layoutgen::elf::{self, render::Outcome};
    let deny_warnings = deny.contains(&DenyArg::Warnings);
    // Command-line levels, checked for contradictions before anything runs.
    let mut levels: Vec<(Check, Level)> = Vec::new();
    let denied = deny.iter().filter_map(|d| match d {
        DenyArg::Check(c) => Some(*c),
        DenyArg::Warnings => None,
    });
    let given = allow
        .iter()
        .map(|&c| (c, Level::Allow))
        .chain(warn.iter().map(|&c| (c, Level::Warn)))
        .chain(denied.map(|c| (c, Level::Deny)));
    for (check, level) in given {
        match levels.iter().find(|(c, _)| *c == check) {
            Some((_, other)) if *other != level => {
                return usage(&format!(
                    "{} {} is given both --{other} and --{level}; give one level per check",
                    check.id(),
                    check.name()
                ));
            }
            Some(_) => {}
            None => levels.push((check, level)),
        }
    }
    // A spec that cannot be loaded or breaks invariants is bad input here:
    // there is nothing sound to lint against (exit 2, not 1).
    let layout = match load_checked(spec) {
        Ok(layout) => layout,
        Err(e) => {
            eprint!("{}", render_error(&e));
            return Ok(2);
        }
    };
    let mode = mode.map(PagingMode::from);
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
    let mut config = LintConfig::from_layout(&layout);
    for (check, level) in levels {
        config.set_from_command_line(check, level);
    }
    let outcomes: Vec<Outcome> = files
        .iter()
        .map(|path| Outcome {
            path: path.clone(),
            result: elf::lint_with(&layout, &config, mode, path),
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
        elf::render::render_with(format, spec, &layout, &config, &outcomes, deny_warnings)
    );
    Ok(elf::render::exit_code(&outcomes, deny_warnings))
}

fn build(
    spec: &Path,
    out_dir: Option<PathBuf>,
    emit: &[EmitKind],
    templates: Option<&Path>,
    dtb: Option<&Path>,
) -> Result<u8, Error> {
    let layout = load_checked_with_dtb(spec, dtb)?;
    let templates_dir = templates;
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
    let what = |o: WriteOutcome| match o {
        WriteOutcome::Written => "wrote    ",
        WriteOutcome::Unchanged => "unchanged",
    };
    for g in generate(&layout, &templates, &out_dir, &outputs)? {
        println!("  {} {}", what(g.outcome), g.path.display());
    }
    // The stamp the dependency-free layoutgen-build crate checks in a
    // kernel's build.rs (ahead-of-time mode: the outputs live in its tree).
    let stamp = layoutgen::stamp::stamp(&layout, spec, templates_dir, &out_dir, &outputs)?;
    let outcome = layoutgen::stamp::write(&out_dir, &stamp)?;
    println!(
        "  {} {}",
        what(outcome),
        out_dir.join(layoutgen_build::STAMP_FILE).display()
    );
    Ok(0)
}

fn check_specs(mut specs: Vec<PathBuf>, format: Format, dtb: Option<&Path>) -> u8 {
    if specs.is_empty() {
        specs.push(PathBuf::from(cli::DEFAULT_SPEC));
    }
    let mut worst = 0u8;
    let mut json = Vec::new();
    for spec in &specs {
        let result = load_checked_with_dtb(spec, dtb);
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
    format: ShowFormat,
    dtb: Option<&Path>,
    elf: Option<&Path>,
) -> Result<u8, Error> {
    let mut layout = load(spec)?;
    if let Some(elf) = elf {
        let end = match layoutgen::elf::linked_end(&layout, elf) {
            Ok(end) => end,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(2);
            }
        };
        layout = layoutgen::load_linked(spec, end)?;
    }
    // Show what is there even when invariants fail, but say so.
    let mut findings = check::check(&layout);
    let machine = dtb.map(layoutgen::dtb::read).transpose()?;
    if let (Some(dtb), Some(ranges)) = (dtb, &machine) {
        findings.extend(layoutgen::dtb::check(
            &layout,
            ranges,
            &dtb.display().to_string(),
        ));
    }
    let ram = match ram {
        // The machine's RAM, when a device tree says how much.
        None => machine.as_deref().map(layoutgen::dtb::total),
        Some(text) => match layoutgen::spec::expr::parse_size(text) {
            Ok(v) if v > 0 => Some(v),
            Ok(_) => return usage("--ram must be larger than zero"),
            Err(e) => return usage(&format!("--ram {e}")),
        },
    };
    let want = mode.map(PagingMode::from);
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
    let costs: Vec<_> = match ram {
        Some(r) => modes
            .iter()
            .map(|m| pagetable::cost(&layout, m, r, device_pages))
            .collect(),
        None => Vec::new(),
    };
    match format {
        ShowFormat::Markdown | ShowFormat::Rst => {
            let markdown = format == ShowFormat::Markdown;
            for (i, m) in modes.iter().enumerate() {
                if i > 0 {
                    println!();
                }
                if markdown {
                    print!("{}", table::render_markdown(&layout, m));
                } else {
                    print!("{}", table::render_rst(&layout, m));
                }
                if let Some(cost) = costs.get(i) {
                    if markdown {
                        print!("{}", table::render_cost_markdown(cost));
                    } else {
                        print!("{}", table::render_cost_rst(cost));
                    }
                }
            }
        }
        ShowFormat::Svg => print!("{}", layoutgen::emit::svg::render(&layout, &modes, &costs)),
        ShowFormat::Human => {
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
        ShowFormat::Json => {
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
                    "format_version": layoutgen::json::FORMAT_VERSION,
                    "name": layout.name,
                    "modes": out,
                    "conversions": layoutgen::layout::conversions::summary(&layout),
                    "findings": findings,
                }))
                .expect("JSON")
            );
        }
    }
    if !findings.is_empty() {
        let text = layoutgen::spec_text_for_report(spec);
        eprint!(
            "{}",
            layoutgen::Report::new(spec, &text, findings).render_for_stderr()
        );
        return Ok(1);
    }
    Ok(0)
}

/// `layoutgen diff`: 0 identical, 1 different; a spec that cannot be
/// resolved is an input error (2). Invariant violations do not stop a diff.
fn diff(old: &Path, new: &Path, format: Format) -> Result<u8, Error> {
    let (a, b) = (load(old)?, load(new)?);
    let changes = layoutgen::diff::diff(&a, &b);
    let name = |p: &Path, l: &layoutgen::Layout| format!("{} ({})", p.display(), l.name);
    let (old_name, new_name) = (name(old, &a), name(new, &b));
    match format {
        Format::Human => print!(
            "{}",
            layoutgen::diff::render(&old_name, &new_name, &changes)
        ),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&layoutgen::diff::to_json(
                &old.display().to_string(),
                &new.display().to_string(),
                &changes
            ))
            .expect("JSON")
        ),
    }
    Ok(u8::from(!changes.is_empty()))
}

/// `layoutgen init`: writes a checked starting spec (never over an existing
/// file without --force) and prints the build.rs lines that use it.
fn init(
    path: &Path,
    from_elf: Option<(&Path, ArchDefaultsArg)>,
    from: Option<&str>,
    name: Option<String>,
    modes: &[ModeArg],
    (ram_base, ram_size, load): (&str, &str, Option<&str>),
    force: bool,
) -> Result<u8, Error> {
    use layoutgen::init::{self, InitError, Options};
    let number = |flag: &str, text: &str| {
        layoutgen::spec::expr::parse_size(text).map_err(|e| format!("{flag} {e}"))
    };
    let text = match (from_elf, from) {
        (Some((elf, defaults)), _) => {
            let name = name
                .or_else(|| init::name_from_path(path))
                .unwrap_or_else(|| Options::default().name);
            let defaults = match defaults {
                ArchDefaultsArg::Linux => init::from_elf::ArchDefaults::Linux,
                ArchDefaultsArg::Plain => init::from_elf::ArchDefaults::Plain,
            };
            init::from_elf::generate(elf, &name, defaults)
        }
        (None, Some(from)) => init::bundled(from, name.as_deref()),
        (None, None) => {
            if modes.contains(&ModeArg::Bare) {
                return usage("--modes bare: start a layout without paging with `--shape bare`");
            }
            let options = (|| {
                Ok::<_, String>(Options {
                    name: name
                        .or_else(|| init::name_from_path(path))
                        .unwrap_or_else(|| Options::default().name),
                    modes: modes.iter().map(|&m| PagingMode::from(m)).collect(),
                    ram_base: number("--ram-base", ram_base)?,
                    ram_size: number("--ram-size", ram_size)?,
                    load: load.map(|l| number("--load-addr", l)).transpose()?,
                })
            })();
            match options {
                Ok(options) => init::generate(&options),
                Err(message) => return usage(&message),
            }
        }
    };
    let text = match text {
        Ok(text) => text,
        Err(InitError::Check(report)) => {
            eprint!("{}", report.render_for_stderr());
            return usage(
                "these options give a layout that fails its checks (above); nothing was written",
            );
        }
        Err(e) => return usage(&e.to_string()),
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| Error::Write {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    let mut file = std::fs::OpenOptions::new();
    file.write(true);
    if force {
        file.create(true).truncate(true);
    } else {
        file.create_new(true);
    }
    let written = file.open(path).and_then(|mut f| {
        use std::io::Write;
        f.write_all(text.as_bytes())
    });
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return usage(&format!(
                "{} exists; pass --force to overwrite it",
                path.display()
            ));
        }
        Err(source) => {
            return Err(Error::Write {
                path: path.to_path_buf(),
                source,
            });
        }
    }
    println!(
        "wrote {}: it passes `layoutgen check {}`; edit it, then use it from the kernel:\n",
        path.display(),
        path.display()
    );
    print!("{}", init::build_rs_snippet(&path.display().to_string()));
    Ok(0)
}

/// `layoutgen man`: the top-level page on stdout, or every page into a directory.
fn man(out_dir: Option<&Path>) -> Result<u8, Error> {
    use clap::CommandFactory;
    let command = Cli::command();
    match out_dir {
        None => {
            // As generate_to does, so the page equals the committed layoutgen.1.
            let mut command = command.disable_help_subcommand(true);
            command.build();
            let mut page = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut page)
                .expect("rendering into memory");
            use std::io::Write;
            let _ = std::io::stdout().write_all(&page);
        }
        Some(dir) => {
            let write_err = |source| Error::Write {
                path: dir.to_path_buf(),
                source,
            };
            std::fs::create_dir_all(dir).map_err(write_err)?;
            clap_mangen::generate_to(command, dir).map_err(write_err)?;
        }
    }
    Ok(0)
}

/// `load_checked`, and with `--dtb` the layout checked against the
/// machine's RAM too; findings are reported like the spec's own (exit 1).
fn load_checked_with_dtb(spec: &Path, dtb: Option<&Path>) -> Result<layoutgen::Layout, Error> {
    let layout = load_checked(spec)?;
    let Some(dtb) = dtb else {
        return Ok(layout);
    };
    let ranges = layoutgen::dtb::read(dtb)?;
    let findings = layoutgen::dtb::check(&layout, &ranges, &dtb.display().to_string());
    if findings.is_empty() {
        return Ok(layout);
    }
    let text = layoutgen::spec_text_for_report(spec);
    Err(Error::Spec(layoutgen::Report::new(spec, &text, findings)))
}

fn usage(message: &str) -> Result<u8, Error> {
    eprintln!("{}: {message}", error_label());
    Ok(2)
}
