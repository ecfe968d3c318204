//! Reading the files a user names (specs, device trees, templates, ELF
//! files, earlier outputs): one path for all of them. A file is checked to
//! be a regular file before it is opened (opening a FIFO for reading blocks
//! until a writer comes; a device such as `/dev/zero` never ends) and again
//! once open, and what is read into memory is capped, so no input can make
//! the tool hang or read without end.

use std::fs::{File, Metadata};
use std::io;
use std::path::Path;

/// Opens `path` for reading if, and only if, it is a regular file (symbolic
/// links are followed). The open itself cannot block: it is non-blocking,
/// and the opened file is checked again, in case another file was put in
/// its place between the check and the open.
pub fn open_regular(path: &Path) -> io::Result<File> {
    refuse_unless_regular(&std::fs::metadata(path)?)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // For a regular file O_NONBLOCK changes nothing about the reads.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    refuse_unless_regular(&file.metadata()?)?;
    Ok(file)
}

/// The error for anything that is not a regular file, saying what it is.
fn refuse_unless_regular(meta: &Metadata) -> io::Result<()> {
    if meta.is_file() {
        return Ok(());
    }
    let what = if meta.is_dir() {
        "a directory"
    } else {
        file_type_name(meta)
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("is {what}, not a regular file (name the file itself)"),
    ))
}

#[cfg(unix)]
fn file_type_name(meta: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

#[cfg(not(unix))]
fn file_type_name(_: &Metadata) -> &'static str {
    "not a file"
}

/// Reads at most `limit` bytes of the regular file `path`, whatever its
/// reported size: a file that grows while it is read is cut off at the cap
/// with an error instead of filling memory.
pub fn read_capped(path: &Path, limit: usize) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {} KiB (stopped reading there)", limit >> 10),
        ));
    }
    Ok(bytes)
}
