//! layoutgen: one declarative TOML spec of a kernel's virtual memory layout,
//! checked, and rendered into the linker script and constants a kernel uses.
//!
//! One direction of flow: [`spec`] (TOML with spans, names validated) →
//! [`layout`] (resolved per paging mode) → [`check`] (invariants) → [`emit`]
//! (templates, tables, JSON); [`lint`] compares a linked ELF with the same
//! [`Layout`]. [`load`] is the one entry from a spec to a layout;
//! [`generate`] writes the outputs; [`Build`] wraps both for a kernel's
//! `build.rs`:
//!
//! ```no_run
//! // build.rs
//! fn main() {
//!     layoutgen::Build::new()
//!         .spec("../layouts/qemu-virt-sv39.toml")
//!         .compile();
//! }
//! ```

// The example shows a build script, whose `fn main` is the point.
#![allow(clippy::needless_doctest_main)]

pub mod arch;
pub mod boot;
pub mod build_script;
pub mod check;
pub mod diag;
pub mod diff;
pub mod dtb;
pub mod emit;
pub mod files;
pub mod format;
pub mod init;
pub mod json;
pub mod layout;
pub mod lint;
pub mod pipeline;
#[cfg(feature = "schema")]
pub mod schema;
pub mod spec;
pub mod stamp;
pub mod units;

pub use build_script::Build;
pub use diag::{Diagnostic, Report, Rule};
pub use emit::{Generated, Output, Templates, generate};
pub use layout::Layout;
pub use pipeline::{LoadOptions, Source, load};

use std::path::PathBuf;

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
    /// A `--artifact` that cannot be read or measured.
    #[error(transparent)]
    Artifact(#[from] boot::ArtifactError),
    #[error(
        "cannot write {path}: {source}\nhelp: check that the output directory exists and is writable; previous outputs are untouched"
    )]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A rename failed after others of the set had replaced their files.
    #[error(
        "cannot replace {path}: {source}\n{} of the output set were replaced before it ({}); the stamp was not written, so layoutgen-build refuses this directory until `layoutgen build` succeeds",
        replaced.len(),
        replaced.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    WriteInterrupted {
        path: PathBuf,
        source: std::io::Error,
        replaced: Vec<PathBuf>,
    },
}

impl From<emit::write::SetError> for Error {
    fn from(e: emit::write::SetError) -> Error {
        if e.replaced.is_empty() {
            Error::Write {
                path: e.path,
                source: e.source,
            }
        } else {
            Error::WriteInterrupted {
                path: e.path,
                source: e.source,
                replaced: e.replaced,
            }
        }
    }
}

impl Error {
    /// 1 for invariant violations, 2 for unreadable or invalid input.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Spec(report) => report.exit_code(),
            _ => 2,
        }
    }

    /// The diagnostics, when the spec was read but is wrong.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Error::Spec(report) => &report.diagnostics,
            _ => &[],
        }
    }
}
