//! `layoutgen build`: check the spec, write the outputs and the stamp.

use crate::cli::EmitKind;
use crate::out::say;
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
            .flat_map(|k| match k {
                EmitKind::Ld => &[Output::LinkerScript][..],
                EmitKind::Rs => &[Output::Rust],
                EmitKind::H => &[Output::CHeader],
                EmitKind::Json => &[Output::Json],
                // The variables and the script that uses them.
                EmitKind::Boot => &[Output::BootEnv, Output::BootScript],
                EmitKind::Dts => &[Output::BootDts],
            })
            .copied()
            .collect(),
    };
    if layout.boot.is_empty() && set.outputs.iter().any(|o| Output::BOOT.contains(o)) {
        return super::usage(&format!(
            "--emit boot/dts writes the physical boot chain, but {} has no [boot.NAME] range (docs/spec.md)",
            spec.display()
        ));
    }
    // The set is written before anything is printed: a reader that goes
    // away (`| head -1`) cannot cut the set short.
    let written = set.write(&layout)?;
    let modes: Vec<&str> = layout.modes.iter().map(|m| m.mode.name()).collect();
    let mut report = format!(
        "layoutgen: {} ({}) is sound for {}\n",
        layout.name,
        spec.display(),
        modes.join(", ")
    );
    let what = |o: WriteOutcome| match o {
        WriteOutcome::Written => "wrote    ",
        WriteOutcome::Unchanged => "unchanged",
    };
    for (outcome, path) in written
        .files
        .iter()
        .map(|g| (g.outcome, &g.path))
        .chain([(written.stamp.1, &written.stamp.0)])
    {
        report.push_str(&format!("  {} {}\n", what(outcome), path.display()));
    }
    say!("{report}");
    Ok(0)
}
