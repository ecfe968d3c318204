//! What to lint and how: [`Input`] (a file or bytes), [`Options`] (mode and
//! levels), and [`run`], the one entry ([`run_files`] runs it over many
//! files on every core). Small files are read; large ones memory-mapped
//! with the kernel told exactly which ranges lint will read.

use super::config::LintConfig;
use super::report::{LintError, LintReport};
use super::{elf, run as families};
use crate::arch::PagingMode;
use crate::layout::Layout;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// What to lint: a file (memory-mapped), or an image already in memory
/// (`name` only names it in messages).
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    File(&'a Path),
    Bytes { name: &'a Path, data: &'a [u8] },
}

/// Any path (`&Path`, `&PathBuf`, `&str`, …) names a file to read.
impl<'a, P: AsRef<Path> + ?Sized> From<&'a P> for Input<'a> {
    fn from(path: &'a P) -> Input<'a> {
        Input::File(path.as_ref())
    }
}

/// How to lint: the paging mode (`None`: every mode the layout lists) and
/// the levels (`None`: the layout's `[lint]` table).
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    pub mode: Option<PagingMode>,
    pub config: Option<&'a LintConfig>,
}

/// Lints `input` against `layout`. Never panics, whatever the bytes.
pub fn run<'a>(
    layout: &Layout,
    input: impl Into<Input<'a>>,
    options: &Options,
) -> Result<LintReport, LintError> {
    let modes = modes(layout, options.mode)?;
    let config = options.config.unwrap_or(&layout.lint);
    match input.into() {
        Input::File(path) => {
            let bytes = map_needed(path)?;
            lint_bytes(layout, config, &modes, path, &bytes)
        }
        Input::Bytes { name, data } => lint_bytes(layout, config, &modes, name, data),
    }
}

/// [`run`] on every file of `paths`, on as many threads as the machine has
/// cores (a distribution's module tree is thousands of files, each
/// independent); the outcomes come back in the order of `paths`.
pub fn run_files(layout: &Layout, paths: &[PathBuf], options: &Options) -> Vec<super::Outcome> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(paths.len());
    let outcome = |path: &PathBuf| super::Outcome {
        path: path.clone(),
        result: run(layout, path, options),
    };
    if threads <= 1 {
        return paths.iter().map(outcome).collect();
    }
    // Each worker takes the next file until none is left, so one large
    // file (a vmlinux among modules) does not hold up a fixed share.
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, super::Outcome)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = paths.get(i) else { break };
                        mine.push((i, outcome(path)));
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, o)| o).collect()
}

fn lint_bytes(
    layout: &Layout,
    config: &LintConfig,
    modes: &[PagingMode],
    path: &Path,
    data: &[u8],
) -> Result<LintReport, LintError> {
    let elf = elf::Elf::parse(data, layout.arch).map_err(|e| e.with_path(path))?;
    families::run(layout, config, modes, path, &elf)
}

/// The modes to check: the one asked for (which the layout must list), or all.
pub(crate) fn modes(
    layout: &Layout,
    mode: Option<PagingMode>,
) -> Result<Vec<PagingMode>, LintError> {
    Ok(match mode {
        Some(m) => {
            if layout.mode(m).is_none() {
                return Err(LintError::UnknownMode {
                    layout: layout.name.clone(),
                    mode: m,
                    listed: layout
                        .modes
                        .iter()
                        .map(|m| m.mode.name())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            vec![m]
        }
        None => layout.modes.iter().map(|m| m.mode).collect(),
    })
}

/// Memory-maps the file at `path` for lint (`None` for an empty file), with
/// the kernel told what lint will read: random access everywhere (no
/// read-around: a cold page cache would otherwise pull in megabytes of the
/// debug sections around each page touched), and read-ahead of exactly the
/// ranges lint needs ([`elf::needed_ranges`]), so a cold run reads little
/// more than those bytes, in large requests.
fn map_needed(path: &Path) -> Result<Bytes, LintError> {
    let read_error = |source| LintError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = crate::files::open_regular(path).map_err(read_error)?;
    let len = file.metadata().map_err(read_error)?.len();
    if len <= SMALL_FILE {
        // A module-sized file: one read costs less than mapping it, faulting
        // its pages in and unmapping it again (with an IPI to every other
        // lint thread to flush their TLBs): on a distribution's module tree
        // that was most of lint's time (docs/benchmarks.md).
        use std::io::Read as _;
        let mut data = Vec::with_capacity(len as usize);
        file.read_to_end(&mut data).map_err(read_error)?;
        return Ok(Bytes::Read(data));
    }
    let map = map_regular(path).map_err(read_error)?;
    if let Some(map) = &map {
        advise(map);
    }
    Ok(map.map_or(Bytes::Read(Vec::new()), Bytes::Map))
}

/// Files up to this size are read, larger ones mapped (see [`map_needed`]).
const SMALL_FILE: u64 = 1 << 20;

/// A file's bytes, read or mapped.
enum Bytes {
    Read(Vec<u8>),
    Map(memmap2::Mmap),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Read(v) => v,
            Bytes::Map(m) => m,
        }
    }
}

/// Memory-maps the regular file `path` read-only (`None` when it is empty):
/// how lint and `init --from-elf` read an ELF without reading a
/// hundreds-of-megabytes vmlinux (mostly debug info) into memory.
pub(crate) fn map_regular(path: &Path) -> std::io::Result<Option<memmap2::Mmap>> {
    let file = crate::files::open_regular(path)?;
    if file.metadata()?.len() == 0 {
        return Ok(None);
    }
    // SAFETY: the map is read-only and private to this call. If another
    // process truncates the file while we read it, accesses past the new end
    // fault (SIGBUS); that is the accepted cost of not copying the file.
    unsafe { memmap2::Mmap::map(&file) }.map(Some)
}

/// Tells the kernel how lint reads `map` (see [`map_needed`]).
#[cfg(unix)]
fn advise(map: &memmap2::Mmap) {
    // Advice only steers the page cache: failing to give it changes nothing
    // else, so errors are ignored.
    let _ = map.advise(memmap2::Advice::Random);
    let ehdr = &map[..map.len().min(64)];
    let (off, len) = elf::shdr_range(ehdr);
    let shdrs = usize::try_from(off)
        .ok()
        .and_then(|off| map.get(off..off.saturating_add(len as usize).min(map.len())))
        .unwrap_or(&[]);
    match elf::needed_ranges(ehdr, shdrs, map.len() as u64) {
        Some(ranges) => {
            for (off, len) in ranges {
                // Read in and mapped in one call (Linux 5.14+): with
                // MADV_RANDOM every page would otherwise fault on its own,
                // which costs more than reading it on a module tree (the
                // files are small and mostly needed).
                #[cfg(target_os = "linux")]
                if map
                    .advise_range(memmap2::Advice::PopulateRead, off as usize, len as usize)
                    .is_ok()
                {
                    continue;
                }
                // The kernel reads at most its read-ahead window (128 KiB by
                // default) per MADV_WILLNEED call: one call per window.
                const WINDOW: u64 = 128 << 10;
                let end = off + len;
                let mut at = off;
                while at < end {
                    let n = WINDOW.min(end - at);
                    let _ = map.advise_range(memmap2::Advice::WillNeed, at as usize, n as usize);
                    at += n;
                }
            }
        }
        None => {
            let _ = map.advise(memmap2::Advice::Normal);
        }
    }
}

#[cfg(not(unix))]
fn advise(_: &memmap2::Mmap) {}

/// The byte ranges `layoutgen lint` reads from the ELF file at `path`, as
/// `(offset, length)`, sorted and disjoint; `None` when they cannot be told
/// from the headers alone. For `scripts/bench-lint`'s floor
/// (`examples/lint-floor.rs`), which reads exactly these bytes and nothing
/// else; not a stable interface.
#[doc(hidden)]
#[cfg(unix)]
pub fn needed_ranges(path: &Path) -> std::io::Result<Option<Vec<(u64, u64)>>> {
    use std::os::unix::fs::FileExt;
    let file = crate::files::open_regular(path)?;
    let file_len = file.metadata()?.len();
    let mut ehdr = [0u8; 64];
    let n = read_at_most(&file, &mut ehdr, 0)?;
    let ehdr = &ehdr[..n];
    let (off, len) = elf::shdr_range(ehdr);
    let len = len.min(file_len.saturating_sub(off));
    let mut shdrs = vec![0u8; usize::try_from(len).unwrap_or(0)];
    file.read_exact_at(&mut shdrs, off)?;
    Ok(elf::needed_ranges(ehdr, &shdrs, file_len))
}

#[cfg(unix)]
fn read_at_most(file: &std::fs::File, buf: &mut [u8], off: u64) -> std::io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], off + done as u64)? {
            0 => break,
            n => done += n,
        }
    }
    Ok(done)
}

/// The real end of the image linked into the ELF at `path`: the value of
/// the spec's first end-of-image symbol, or else the end of the highest
/// allocated section. `None` when the file has neither. `image.end` in a
/// spec resolved against this file is this rounded up to 4 KiB.
pub fn linked_end(layout: &Layout, path: &Path) -> Result<Option<u64>, LintError> {
    let bytes = map_needed(path)?;
    let elf = elf::Elf::parse(&bytes, layout.arch).map_err(|e| e.with_path(path))?;
    let wanted = layout.image.end_symbols.first().map(|s| s.as_bytes());
    let by_symbol = wanted.and_then(|w| {
        elf.symbols()
            .find(|s| !s.is_undefined() && s.name_bytes(&elf) == w)
            .map(|s| s.value)
    });
    let by_sections = elf
        .sections
        .iter()
        .filter(|s| s.alloc() && s.size > 0)
        .map(|s| s.end().min(u64::MAX as u128) as u64)
        .max();
    Ok(by_symbol.or(by_sections))
}
