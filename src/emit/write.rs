//! Writing generated files: atomically (temporary file in the same directory,
//! then rename) and only when the content changed, so that a `build.rs`
//! re-run does not touch mtimes and cargo does not rebuild the kernel.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Written,
    Unchanged,
}

/// Writes a set of files all or nothing: every changed file is first
/// written in full to a temporary sibling (so a full disk or a failing
/// write leaves every previous file as it was), then the temporaries are
/// renamed into place in order. Put the file that vouches for the others
/// (`layout.stamp`) last: it is removed before the first rename, so an
/// interruption between renames leaves a set without a stamp, which
/// `layoutgen-build` refuses, never a stamp that vouches for a mixed set.
pub fn write_set(files: &[(PathBuf, Vec<u8>)]) -> Result<Vec<WriteOutcome>, SetError> {
    let changed: Vec<bool> = files
        .iter()
        .map(|(path, bytes)| {
            crate::files::read_capped(path, bytes.len()).map_or(true, |old| old != *bytes)
        })
        .collect();
    let mut staged: Vec<(PathBuf, &Path)> = Vec::new();
    let discard = |staged: &[(PathBuf, &Path)]| {
        for (tmp, _) in staged {
            let _ = fs::remove_file(tmp);
        }
    };
    for ((path, bytes), _) in files.iter().zip(&changed).filter(|(_, c)| **c) {
        match stage(path, bytes) {
            Ok(tmp) => staged.push((tmp, path)),
            Err(source) => {
                discard(&staged);
                return Err(SetError {
                    path: path.clone(),
                    source,
                    replaced: Vec::new(),
                });
            }
        }
    }
    if let Some((last, _)) = files.last()
        && staged.iter().any(|(_, p)| *p != last.as_path())
    {
        // Only when something besides the last file changes: a set whose
        // outputs are unchanged keeps its stamp in place throughout.
        let _ = fs::remove_file(last);
    }
    let mut replaced = Vec::new();
    for (i, (tmp, path)) in staged.iter().enumerate() {
        if let Err(source) = fs::rename(tmp, path) {
            discard(&staged[i..]);
            return Err(SetError {
                path: path.to_path_buf(),
                source,
                replaced,
            });
        }
        replaced.push(path.to_path_buf());
    }
    Ok(changed
        .iter()
        .map(|&c| {
            if c {
                WriteOutcome::Written
            } else {
                WriteOutcome::Unchanged
            }
        })
        .collect())
}

/// Why [`write_set`] failed, and what it had already replaced (nothing
/// when the failure came before the renames).
#[derive(Debug)]
pub struct SetError {
    pub path: PathBuf,
    pub source: io::Error,
    pub replaced: Vec<PathBuf>,
}

/// `contents` written and synced to a temporary sibling of `path`.
fn stage(path: &Path, contents: &[u8]) -> io::Result<PathBuf> {
    let tmp = temporary_for(path)?;
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// The temporary sibling `path` is written through.
fn temporary_for(path: &Path) -> io::Result<PathBuf> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "output path has no file name")
    })?;
    Ok(dir.join(format!(
        ".{}.tmp-{}",
        file_name.to_string_lossy(),
        std::process::id()
    )))
}

/// Writes `contents` to `path` unless it already holds exactly that.
pub fn write_if_changed(path: &Path, contents: &[u8]) -> io::Result<WriteOutcome> {
    // Read through the one guarded path (a FIFO or device in the output's
    // place is not read; the rename below replaces it), and no more than
    // one byte past what would make it equal.
    if let Ok(existing) = crate::files::read_capped(path, contents.len())
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
    let tmp = temporary_for(path)?;
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
