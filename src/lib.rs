//! layoutgen: one declarative TOML spec of a kernel's virtual memory layout,
//! checked, and rendered into the linker script and constants a kernel uses.
//!
//! The flow is one direction: [`spec`] (TOML with spans) → [`layout`]
//! (resolved per paging mode) → [`check`] (invariants) → [`emit`]
//! (templates). [`Build`] wraps it for a kernel's `build.rs`:
//!
//! ```no_run
//! // build.rs
//! fn main() {
//!     layoutgen::Build::new()
//!         .spec("../layouts/qemu-virt-sv39.toml")
//!         .compile();
//! }
//! ```
//! and in the kernel:
//! ```text
//! #[allow(dead_code)]
//! mod layout {
//!     include!(concat!(env!("OUT_DIR"), "/layout.rs"));
//! }
//! ```

// The examples show a build script, whose `fn main` is the point.
#![allow(clippy::needless_doctest_main)]

pub mod arch;
pub mod builder;
pub mod check;
pub mod diag;
pub mod diff;
pub mod dtb;
#[cfg(feature = "lint")]
pub mod elf;
pub mod emit;
pub mod format;
pub mod init;
pub mod json;
pub mod layout;
pub mod lints;
pub mod names;
#[cfg(feature = "schema")]
pub mod schema;
pub mod spec;
pub mod stamp;
pub mod units;

pub use builder::Build;
pub use diag::{Diagnostic, Report, Rule};
pub use emit::{Output, Templates};
pub use layout::Layout;

use emit::write::{WriteOutcome, write_if_changed};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "cannot read spec {path}: {source}\nhelp: check the path; bundled layouts are in layouts/"
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The spec has errors or breaks invariants; render the report to show them.
    #[error("{0}")]
    Spec(Report),
    #[error(transparent)]
    Emit(#[from] emit::EmitError),
    /// A `--dtb` file that cannot be read or parsed.
    #[error(transparent)]
    Dtb(#[from] dtb::DtbError),
    #[error(
        "cannot write {path}: {source}\nhelp: check that the output directory exists and is writable; previous outputs are untouched"
    )]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    /// 1 for invariant violations, 2 for unreadable or invalid input.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Spec(report) => report.exit_code(),
            _ => 2,
        }
    }
}

/// Reads, parses and resolves a spec file without checking its invariants.
pub fn load(path: &Path) -> Result<Layout, Error> {
    load_linked(path, None)
}

/// `load`, resolved against a linked image whose real end is `linked_end`
/// (see `load_checked_linked`).
pub fn load_linked(path: &Path, linked_end: Option<u64>) -> Result<Layout, Error> {
    let text = read_spec(path)?;
    let end = linked_end.map(units::page_align_up);
    spec::parse(&text)
        .map_err(|d| vec![d])
        .and_then(|spec| layout::resolve_linked(&spec, &source_name(path), end))
        .map_err(|d| Error::Spec(Report::new(path, &text, d)))
}

/// Reads a spec file and checks every invariant: the layout is returned only
/// when it is sound.
pub fn load_checked(path: &Path) -> Result<Layout, Error> {
    let text = read_spec(path)?;
    check_text(&text, &source_name(path)).map_err(|d| Error::Spec(Report::new(path, &text, d)))
}

/// Like `load_checked`, but resolved against a linked image whose real end
/// is `linked_end` (rounded up to 4 KiB here): `image.end` in the spec then
/// means that address (Linux's `PFN_ALIGN(_end)`).
pub fn load_checked_linked(path: &Path, linked_end: Option<u64>) -> Result<Layout, Error> {
    let text = read_spec(path)?;
    let end = linked_end.map(units::page_align_up);
    check_text_linked(&text, &source_name(path), end)
        .map_err(|d| Error::Spec(Report::new(path, &text, d)))
}

/// Parses and resolves spec text; `source` names it in generated headers.
pub fn resolve_text(text: &str, source: &str) -> Result<Layout, Vec<Diagnostic>> {
    let spec = spec::parse(text).map_err(|d| vec![d])?;
    layout::resolve(&spec, source)
}

/// Parses, resolves and checks spec text: every diagnostic, or a sound layout.
pub fn check_text(text: &str, source: &str) -> Result<Layout, Vec<Diagnostic>> {
    check_text_linked(text, source, None)
}

fn check_text_linked(
    text: &str,
    source: &str,
    linked_end: Option<u64>,
) -> Result<Layout, Vec<Diagnostic>> {
    let spec = spec::parse(text).map_err(|d| vec![d])?;
    let layout = layout::resolve_linked(&spec, source, linked_end)?;
    let findings = check::check(&layout);
    if findings.is_empty() {
        Ok(layout)
    } else {
        Err(findings)
    }
}

/// The spec's file name: generated files name their source without the
/// directory, so they do not depend on where the spec lives.
fn source_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "spec".into())
}

fn read_spec(path: &Path) -> Result<String, Error> {
    let read_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let bytes = read_capped(path, spec::MAX_SPEC_BYTES).map_err(read_err)?;
    String::from_utf8(bytes).map_err(|e| {
        // Point at the first bad byte in a lossy copy of the text.
        let at = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
        let d = Diagnostic::new(
            diag::Rule::Syntax,
            format!("the spec is not UTF-8: invalid byte at offset {at}"),
        )
        .label(diag::Label::primary("", at..at + 1, "not UTF-8"))
        .help("a spec is UTF-8 text; check the path, or re-save the file as UTF-8");
        Error::Spec(Report::new(path, &text, vec![d]))
    })
}

/// The spec's text for rendering diagnostics against (capped, lossy):
/// empty when it cannot be read again.
pub fn spec_text_for_report(path: &Path) -> String {
    read_capped(path, spec::MAX_SPEC_BYTES)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Reads at most `limit` bytes of `path`, whatever its reported size: a
/// device, a pipe or a file that grows is cut off at the cap with an error
/// instead of filling memory.
pub fn read_capped(path: &Path, limit: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "larger than {} KiB: not a layout spec (stopped reading there)",
                limit >> 10
            ),
        ));
    }
    Ok(bytes)
}

/// One generated file and whether it was (re)written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub output: Output,
    pub path: PathBuf,
    pub outcome: WriteOutcome,
}

/// Renders `outputs` for a checked layout into `out_dir`. Everything is
/// rendered before anything is written, so a template error leaves the
/// previous outputs as they were.
pub fn generate(
    layout: &Layout,
    templates: &Templates,
    out_dir: &Path,
    outputs: &[Output],
) -> Result<Vec<Generated>, Error> {
    let rendered = outputs
        .iter()
        .map(|&o| templates.render(layout, o).map(|text| (o, text)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut done = Vec::new();
    for (output, text) in rendered {
        let path = out_dir.join(output.file_name());
        let outcome = write_if_changed(&path, text.as_bytes()).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        done.push(Generated {
            output,
            path,
            outcome,
        });
    }
    Ok(done)
}
