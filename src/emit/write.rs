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

/// What [`write_new`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewFile {
    Written,
    /// The file exists and `overwrite` was not given: nothing was written.
    Exists,
}

/// Writes a file the user asked for by name (`layoutgen init PATH`),
/// creating its directory; an existing file is kept unless `overwrite`.
pub fn write_new(path: &Path, contents: &[u8], overwrite: bool) -> io::Result<NewFile> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    let mut file = fs::OpenOptions::new();
    file.write(true);
    if overwrite {
        file.create(true).truncate(true);
    } else {
        file.create_new(true);
    }
    match file.open(path).and_then(|mut f| f.write_all(contents)) {
        Ok(()) => Ok(NewFile::Written),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(NewFile::Exists),
        Err(e) => Err(e),
    }
}
