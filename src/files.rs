//! Reading the files a user names (specs, device trees, templates): one
//! path for all of them, with a cap on what is read, so no input can make
//! the tool read without end.

use std::path::Path;

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
