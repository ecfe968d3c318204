//! `layout.stamp`: what `layoutgen build` writes next to its outputs so that
//! a kernel's build.rs can check them with the dependency-free
//! `layoutgen-build` crate (the ahead-of-time mode). The hash and the file
//! format live in that crate, so the CLI and the build script agree by
//! construction; this module only gathers the inputs and the layout's facts.

use crate::spec::{CodeModel, GpPolicy};
use crate::{Error, Layout, Output};
use layoutgen_build::{Stamp, file_hash, inputs_hash, template_files};
use std::path::Path;

/// `layoutgen <version>`, hashed into every stamp: outputs made by another
/// version do not pass as fresh.
pub fn generator() -> String {
    format!("layoutgen {}", env!("CARGO_PKG_VERSION"))
}

/// Facts a build script may need without parsing the spec: the layout's
/// name, code model, gp policy, paging modes, whether the image lies inside
/// the linear map in every mode, the image's physical alignment when the
/// boot loader picks its address, the linear-map offset when all modes
/// share one, and each section insert.
pub fn facts(layout: &Layout) -> Vec<(String, String)> {
    let mut facts = vec![
        ("name".to_string(), layout.name.clone()),
        ("arch".to_string(), layout.arch.to_string()),
        (
            "code_model".to_string(),
            match layout.code_model {
                CodeModel::Fixed => "fixed",
                CodeModel::SemiPic => "semi-pic",
                CodeModel::Pie => "pie",
            }
            .to_string(),
        ),
        (
            "gp_policy".to_string(),
            match layout.gp.policy {
                GpPolicy::Relax => "relax",
                GpPolicy::Disabled => "disabled",
                GpPolicy::ShadowCallStack => "shadow-call-stack",
            }
            .to_string(),
        ),
        (
            "modes".to_string(),
            layout
                .modes
                .iter()
                .map(|m| m.mode.name())
                .collect::<Vec<_>>()
                .join(","),
        ),
    ];
    facts.push((
        "image_in_linear_map".to_string(),
        layout
            .modes
            .iter()
            .all(|m| m.image_in_linear_map)
            .to_string(),
    ));
    if let Some(align) = layout.image.phys_align {
        facts.push(("phys_align".to_string(), format!("{align:#x}")));
    }
    if let Some(offset) = crate::layout::conversions::common_linear_offset(layout) {
        facts.push(("common_linear_offset".to_string(), format!("{offset:#x}")));
    }
    for section in &layout.image.sections {
        for insert in &section.inserts {
            facts.push((
                "insert".to_string(),
                format!(
                    "{} {} align={:#x} size={:#x} input={}",
                    section.name,
                    insert.symbol,
                    insert.align,
                    insert.size,
                    insert.input.join(",")
                ),
            ));
        }
    }
    facts
}

/// The stamp of outputs just written to `out_dir` from `spec` (the path as
/// the user gave it) and the override templates in `templates`.
pub fn stamp(
    layout: &Layout,
    spec: &Path,
    templates: Option<&Path>,
    out_dir: &Path,
    rendered: &[(Output, String)],
) -> Result<Stamp, Error> {
    let read = |path: &Path| {
        crate::files::read_capped(path, crate::spec::MAX_SPEC_BYTES).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })
    };
    let spec_bytes = read(spec)?;
    let template_bytes = match templates {
        Some(dir) => template_files(dir).map_err(|source| Error::Read {
            path: dir.to_path_buf(),
            source,
        })?,
        None => Vec::new(),
    };
    let generator = generator();
    let files = rendered
        .iter()
        .map(|(o, text)| (o.file_name().to_string(), file_hash(text.as_bytes())))
        .collect();
    Ok(Stamp {
        inputs: inputs_hash(&generator, &spec_bytes, &template_bytes),
        generator,
        spec: relative_to(spec, out_dir).to_string_lossy().into_owned(),
        templates: templates.map(|t| relative_to(t, out_dir).to_string_lossy().into_owned()),
        outputs: files,
        facts: facts(layout),
    })
}

/// `path` relative to the directory `base` (both exist), so that a stamp
/// names its spec wherever the tree is checked out; absolute when they share
/// nothing below the root.
fn relative_to(path: &Path, base: &Path) -> std::path::PathBuf {
    let (Ok(path_abs), Ok(base_abs)) = (path.canonicalize(), base.canonicalize()) else {
        return path.to_path_buf();
    };
    let p: Vec<_> = path_abs.components().collect();
    let b: Vec<_> = base_abs.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common <= 1 {
        return path_abs;
    }
    let mut rel = std::path::PathBuf::new();
    for _ in common..b.len() {
        rel.push("..");
    }
    for c in &p[common..] {
        rel.push(c);
    }
    rel
}
