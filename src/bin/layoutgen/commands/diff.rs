//! `layoutgen diff`: 0 identical, 1 different; a spec that cannot be
//! resolved is an input error (2). Invariant violations do not stop a
//! spec diff. With `--elf`, two builds against one spec: an unreadable file
//! or one that is not an ELF of the spec's architecture is an input error
//! (2), and the spec must be sound, as for lint.

use super::{render_error, usage};
use crate::cli::DiffFormat;
use crate::out::{esay, say, sayln};
use layoutgen::arch::PagingMode;
use layoutgen::diff::elf::{Options, diff_elfs};
use layoutgen::{Error, Layout, LoadOptions, load};
use std::path::Path;

pub fn run(old: &Path, new: &Path, format: DiffFormat) -> Result<u8, Error> {
    if format == DiffFormat::Markdown {
        return usage("--format markdown compares builds: it needs --elf and --spec");
    }
    let (a, b) = (
        load(old, &LoadOptions::UNCHECKED)?,
        load(new, &LoadOptions::UNCHECKED)?,
    );
    let changes = layoutgen::diff::diff(&a, &b);
    let name = |p: &Path, l: &Layout| format!("{} ({})", p.display(), l.name);
    match format {
        DiffFormat::Json => sayln!(
            "{}",
            serde_json::to_string_pretty(&layoutgen::diff::to_json(
                &old.display().to_string(),
                &new.display().to_string(),
                &changes
            ))
            .expect("JSON")
        ),
        DiffFormat::Human | DiffFormat::Markdown => say!(
            "{}",
            layoutgen::diff::render(&name(old, &a), &name(new, &b), &changes)
        ),
    }
    Ok(u8::from(!changes.is_empty()))
}

/// `diff --spec SPEC --elf OLD NEW`.
pub fn run_elf(
    spec: &Path,
    old: &Path,
    new: &Path,
    mode: Option<PagingMode>,
    format: DiffFormat,
) -> Result<u8, Error> {
    // Nothing sound to measure against: exit 2, as lint does.
    let layout = match load(spec, &LoadOptions::default()) {
        Ok(layout) => layout,
        Err(e) => {
            esay!("{}", render_error(&e));
            return Ok(2);
        }
    };
    let d = match diff_elfs(&layout, old, new, &Options { mode, config: None }) {
        Ok(d) => d,
        Err(e) => return usage(&e.to_string()),
    };
    match format {
        DiffFormat::Human => say!("{}", d.render_human()),
        DiffFormat::Markdown => say!("{}", d.render_markdown()),
        DiffFormat::Json => sayln!(
            "{}",
            serde_json::to_string_pretty(&d.to_json(&spec.display().to_string())).expect("JSON")
        ),
    }
    Ok(u8::from(d.changed()))
}
