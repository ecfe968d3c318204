//! Writing generated files: atomically (temporary file in the same directory,
//! then rename) and only when the content changed, so that a `build.rs`
//! re-run does not touch mtimes and cargo does not rebuild the kernel.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Written,
    Unchanged,
}

/// Writes `contents` to `path` unless it already holds exactly that.
pub fn write_if_changed(path: &Path, contents: &[u8]) -> io::Result<WriteOutcome> {
    if let Ok(existing) = fs::read(path)
        && existing == contents
    {
        return Ok(WriteOutcome::Unchanged);
    }
    write_atomically(path, contents, |_| Ok(()))?;
    Ok(WriteOutcome::Written)
}

/// Writes to a temporary sibling and renames it over `path`, so readers see
/// the old file or the new one, never a truncated one. `before_rename` runs
/// between the two steps (tests inject failures there).
pub fn write_atomically(
    path: &Path,
    contents: &[u8],
    before_rename: impl FnOnce(&Path) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "output path has no file name")
    })?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        drop(f);
        before_rename(&tmp)?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
