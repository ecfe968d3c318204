//! `layoutgen lint`: linked ELF files checked against a spec.

use super::{render_error, usage};
use crate::cli::DenyArg;
use crate::out::{esay, say};
use layoutgen::arch::PagingMode;
use layoutgen::lint::{self, Format, Lint, LintRun, Options, Outcome};
use layoutgen::{Error, LoadOptions, load};
use std::path::{Path, PathBuf};

/// `--page-tables DUMP` and what it knows besides the dump (`--ram`,
/// `--root`, `--memory-base`), as given.
#[derive(Default)]
pub struct DumpArgs<'a> {
    pub page_tables: Option<&'a Path>,
    pub ram: Option<&'a str>,
    pub root: Option<&'a str>,
    pub memory_base: Option<&'a str>,
}

pub fn run(
    spec: &Path,
    mode: Option<PagingMode>,
    format: Format,
    (allow, warn, deny): (&[Lint], &[Lint], &[DenyArg]),
    baseline: Option<&Path>,
    files: &[PathBuf],
    dump: DumpArgs,
) -> Result<u8, Error> {
    let deny_warnings = deny.contains(&DenyArg::Warnings);
    let denied: Vec<Lint> = deny
        .iter()
        .filter_map(|d| match d {
            DenyArg::Check(c) => Some(*c),
            DenyArg::Warnings => None,
        })
        .collect();
    // Contradicting levels are a usage error before anything is read.
    let levels = match lint::config::command_line(allow, warn, &denied) {
        Ok(levels) => levels,
        Err(message) => return usage(&message),
    };
    // A baseline lint cannot use is bad input: nothing is linted (exit 2).
    let baseline = match baseline.map(|p| lint::Baseline::read(p).map_err(|e| (p, e))) {
        None => None,
        Some(Ok(b)) => Some(b),
        Some(Err((p, e))) => return usage(&format!("baseline {}: {e}", p.display())),
    };
    // A spec that cannot be loaded or breaks invariants is bad input here:
    // there is nothing sound to lint against (exit 2, not 1).
    let layout = match load(spec, &LoadOptions::default()) {
        Ok(layout) => layout,
        Err(e) => {
            esay!("{}", render_error(&e));
            return Ok(2);
        }
    };
    let config = layout.lint.clone().with_command_line(&levels);
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
    let options = Options {
        mode,
        config: Some(&config),
    };
    let outcomes = match dump.page_tables {
        Some(dump_path) => {
            // One mode: the one the kernel ran in.
            let mode = match (mode, layout.modes.as_slice()) {
                (Some(m), _) => m,
                (None, [only]) => only.mode,
                (None, _) => {
                    return usage(
                        "--page-tables needs --mode: the spec lists several modes, and the dump is of one",
                    );
                }
            };
            let ram = match dump.ram.map(layoutgen::spec::expr::parse_size) {
                None => None,
                Some(Ok(v)) if v > 0 => Some(v),
                Some(Ok(_)) => return usage("--ram must be larger than zero"),
                Some(Err(e)) => return usage(&format!("--ram {e}")),
            };
            let address =
                |flag: &str, v: Option<&str>| match v.map(layoutgen::spec::expr::parse_size) {
                    None => Ok(None),
                    Some(Ok(a)) => Ok(Some(a)),
                    Some(Err(e)) => Err(format!("{flag} {e}")),
                };
            let (root, memory_base) = match (
                address("--root", dump.root),
                address("--memory-base", dump.memory_base),
            ) {
                (Ok(r), Ok(b)) => (r, b),
                (Err(e), _) | (_, Err(e)) => return usage(&e),
            };
            if files.len() > 1 {
                return usage(
                    "--page-tables takes at most one ELF file: the kernel the dump is of",
                );
            }
            vec![Outcome {
                path: dump_path.to_path_buf(),
                result: lint::page_tables::run(
                    &layout,
                    &config,
                    mode,
                    dump_path,
                    &lint::page_tables::DumpOptions {
                        elf: files.first().map(PathBuf::as_path),
                        ram,
                        root,
                        memory_base,
                    },
                ),
            }]
        }
        None => lint::run_files(&layout, files, &options),
    };
    let mut run = LintRun {
        spec,
        layout: &layout,
        config: &config,
        outcomes,
        deny_warnings,
    };
    let summary = baseline.map(|b| b.apply(&mut run.outcomes));
    say!("{}", run.render_with(format, summary.as_ref()));
    Ok(run.exit_code())
}
