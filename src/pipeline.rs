//! The one way from a spec to a layout: read (capped, UTF-8) → parse →
//! resolve per paging mode → check the invariants (and, with a device tree,
//! the machine's RAM), with [`LoadOptions`] saying which of these to do.

use crate::diag::{self, Diagnostic, Report};
use crate::layout::{self, Layout};
use crate::{Error, check, dtb, spec, units};
use std::path::Path;

/// Where a spec comes from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// A file, read at most [`spec::MAX_SPEC_BYTES`].
    File(&'a Path),
    /// Text already in memory; `name` stands for the file in messages and
    /// generated headers.
    Text { text: &'a str, name: &'a str },
}

/// Any path (`&Path`, `&PathBuf`, `&str`, …) names a file to read.
impl<'a, P: AsRef<Path> + ?Sized> From<&'a P> for Source<'a> {
    fn from(path: &'a P) -> Source<'a> {
        Source::File(path.as_ref())
    }
}

/// What [`load`] does besides parsing and resolving.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions<'a> {
    /// Skip the invariants (`show` and `diff` present a layout even when it
    /// breaks them; everything that generates or lints checks them).
    pub unchecked: bool,
    /// The real end of a linked image: `image.end` in the spec then means
    /// it, rounded up to 4 KiB (Linux's `PFN_ALIGN(_end)`), so windows
    /// relative to it are the ones that kernel gets.
    pub linked_end: Option<u64>,
    /// A flattened device tree whose RAM the layout must fit (checked only
    /// when the invariants are).
    pub dtb: Option<&'a Path>,
    /// Boot-chain artifacts (`kernel` or a `[boot.NAME]`, and a file) whose
    /// memory footprints must fit their ranges (checked only when the
    /// invariants are).
    pub artifacts: &'a [(String, std::path::PathBuf)],
}

impl LoadOptions<'_> {
    /// Parse and resolve only.
    pub const UNCHECKED: LoadOptions<'static> = LoadOptions {
        unchecked: true,
        linked_end: None,
        dtb: None,
        artifacts: &[],
    };
}

/// Reads, parses and resolves a spec, then checks it as `options` says:
/// the layout is returned only when everything asked for holds.
pub fn load<'a>(source: impl Into<Source<'a>>, options: &LoadOptions) -> Result<Layout, Error> {
    let source = source.into();
    let owned;
    let (text, name, path): (&str, String, &Path) = match source {
        Source::File(path) => {
            owned = read_spec(path)?;
            (&owned, source_name(path), path)
        }
        Source::Text { text, name } => (text, name.to_string(), Path::new(name)),
    };
    let report = |d: Vec<Diagnostic>| Error::Spec(Report::new(path, text, d));
    let spec = spec::parse(text).map_err(|d| report(vec![d]))?;
    // Rounded up to a page, unless that would wrap past 2^64: the resolver
    // then reports the end as the ELF has it.
    let linked_end = options.linked_end.map(|end| {
        end.checked_next_multiple_of(units::PAGE_SIZE)
            .unwrap_or(end)
    });
    let layout = layout::resolve(&spec, &name, linked_end).map_err(report)?;
    if options.unchecked {
        return Ok(layout);
    }
    let findings = check::run(&layout);
    if !findings.is_empty() {
        return Err(report(findings));
    }
    // The machine only once the spec itself is sound.
    if let Some(dtb_path) = options.dtb {
        let ranges = dtb::read(dtb_path)?;
        let findings = dtb::check(&layout, &ranges, &dtb_path.display().to_string());
        if !findings.is_empty() {
            return Err(report(findings));
        }
    }
    let findings = crate::boot::check_artifacts(&layout, options.artifacts)?;
    if !findings.is_empty() {
        return Err(report(findings));
    }
    Ok(layout)
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
    let bytes = crate::files::read_capped(path, spec::MAX_SPEC_BYTES).map_err(read_err)?;
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
    crate::files::read_capped(path, spec::MAX_SPEC_BYTES)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}
