//! What the `layoutgen lint` CLI tests run on: the clean fixture of the
//! default layout and its two faulty variants, as command-line arguments.

use super::elf_tools::{LinkOpts, Linked, bad_and_warn, link};
use super::specs;
use std::path::{Path, PathBuf};

/// The linked `qemu-virt-sv39` fixture and its variants (see
/// [`bad_and_warn`]), kept on disk while this lives.
pub struct LintCliFixtures {
    _linked: Linked,
    /// The directory the files are in.
    pub dir: PathBuf,
    /// The spec the fixture was linked with.
    pub spec: String,
    pub clean: String,
    /// `buffer` moved out of the slot: LG001 (and LG016, an info).
    pub bad: String,
    /// `__stack_top` missing: LG010 (and LG016).
    pub warn: String,
}

pub fn lint_cli_fixtures() -> LintCliFixtures {
    let name = "qemu-virt-sv39";
    let linked = link(name, &LinkOpts::default());
    let (badp, warnp) = bad_and_warn(&linked);
    let s = |p: &Path| p.display().to_string();
    LintCliFixtures {
        dir: linked.dir.path().to_path_buf(),
        spec: specs::path(name).display().to_string(),
        clean: s(&linked.elf),
        bad: s(&badp),
        warn: s(&warnp),
        _linked: linked,
    }
}
