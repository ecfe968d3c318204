//! `layoutgen build`: check the spec, write the outputs and the stamp.

use crate::cli::EmitKind;
use layoutgen::emit::OutputSet;
use layoutgen::emit::write::WriteOutcome;
use layoutgen::{Error, LoadOptions, Output, load};
use std::path::{Path, PathBuf};

pub fn run(
    spec: &Path,
    out_dir: Option<PathBuf>,
    emit: &[EmitKind],
    templates: Option<&Path>,
    dtb: Option<&Path>,
) -> Result<u8, Error> {
    let layout = load(
        spec,
        &LoadOptions {
            dtb,
            ..Default::default()
        },
    )?;
    let out_dir =
        out_dir.unwrap_or_else(|| Path::new("target").join("layoutgen").join(&layout.name));
    let set = OutputSet {
        spec,
        templates_dir: templates,
        out_dir: &out_dir,
        outputs: emit
            .iter()
            .map(|k| match k {
                EmitKind::Ld => Output::LinkerScript,
                EmitKind::Rs => Output::Rust,
                EmitKind::H => Output::CHeader,
                EmitKind::Json => Output::Json,
            })
            .collect(),
    };
    let modes: Vec<&str> = layout.modes.iter().map(|m| m.mode.name()).collect();
    println!(
        "layoutgen: {} ({}) is sound for {}",
        layout.name,
        spec.display(),
        modes.join(", ")
    );
    let written = set.write(&layout)?;
    let what = |o: WriteOutcome| match o {
        WriteOutcome::Written => "wrote    ",
        WriteOutcome::Unchanged => "unchanged",
    };
    for g in &written.files {
        println!("  {} {}", what(g.outcome), g.path.display());
    }
    println!("  {} {}", what(written.stamp.1), written.stamp.0.display());
    Ok(0)
}
