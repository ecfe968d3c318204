//! `layoutgen diff`: 0 identical, 1 different; a spec that cannot be
//! resolved is an input error (2). Invariant violations do not stop a diff.

use crate::cli::Format;
use crate::out::{say, sayln};
use layoutgen::{Error, Layout, LoadOptions, load};
use std::path::Path;

pub fn run(old: &Path, new: &Path, format: Format) -> Result<u8, Error> {
    let (a, b) = (
        load(old, &LoadOptions::UNCHECKED)?,
        load(new, &LoadOptions::UNCHECKED)?,
    );
    let changes = layoutgen::diff::diff(&a, &b);
    let name = |p: &Path, l: &Layout| format!("{} ({})", p.display(), l.name);
    match format {
        Format::Human => say!(
            "{}",
            layoutgen::diff::render(&name(old, &a), &name(new, &b), &changes)
        ),
        Format::Json => sayln!(
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
