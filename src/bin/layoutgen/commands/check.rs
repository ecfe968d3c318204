//! `layoutgen check`: every invariant of each spec, nothing generated.

use super::render_error;
use crate::cli::{DEFAULT_SPEC, Format};
use crate::out::{esay, sayln};
use layoutgen::{LoadOptions, load};
use std::path::{Path, PathBuf};

pub fn run(
    mut specs: Vec<PathBuf>,
    format: Format,
    dtb: Option<&Path>,
    artifacts: &[(String, PathBuf)],
) -> u8 {
    if specs.is_empty() {
        specs.push(PathBuf::from(DEFAULT_SPEC));
    }
    if !artifacts.is_empty() && specs.len() > 1 {
        esay!("error: --artifact belongs to one spec; give one spec with it\n");
        return 2;
    }
    let options = LoadOptions {
        dtb,
        artifacts,
        ..Default::default()
    };
    let mut worst = 0u8;
    let mut json = Vec::new();
    for spec in &specs {
        let result = load(spec, &options);
        worst = worst.max(result.as_ref().map_or_else(|e| e.exit_code(), |_| 0));
        match format {
            Format::Human => match &result {
                Ok(l) => {
                    let modes: Vec<&str> = l.modes.iter().map(|m| m.mode.name()).collect();
                    sayln!("{}: ok ({}: {})", spec.display(), l.name, modes.join(", "));
                }
                Err(e) => esay!("{}", render_error(e)),
            },
            Format::Json => json.push(layoutgen::diag::check_json(spec, &result)),
        }
    }
    if format == Format::Json {
        sayln!("{}", serde_json::to_string_pretty(&json).expect("JSON"));
    }
    worst
}
