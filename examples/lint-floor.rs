//! The floor `scripts/bench-lint` and `scripts/bench-modules` compare
//! `layoutgen lint` with: a process that reads exactly the bytes lint needs
//! from each ELF file and does nothing with them. The ranges are lint's own
//! ([`layoutgen::lint::needed_ranges`]: the ELF header, program and section
//! headers, section names, the symbol table and its strings, and the
//! relocation sections of allocated sections).
//!
//! By default each file is memory-mapped, as lint maps it, and every 8-byte
//! word of the ranges is read (summed); with `--pread` each range is instead
//! copied with one `pread` into a reused buffer. Several files are read on
//! as many threads as lint uses for them (one per core), each thread taking
//! the next file.
//!
//! ```text
//! lint-floor [--pread] FILE...   # read the bytes; print nothing
//! lint-floor --bytes FILE...     # print how many bytes that is
//! ```

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

fn fail(path: &Path, e: impl std::fmt::Display) -> ! {
    eprintln!("{}: {e}", path.display());
    std::process::exit(1);
}

fn ranges(path: &Path) -> Vec<(u64, u64)> {
    match layoutgen::lint::needed_ranges(path) {
        Ok(Some(r)) => r,
        Ok(None) => fail(path, "extended section numbering: no floor"),
        Err(e) => fail(path, e),
    }
}

/// Reads the needed bytes of `path` with `pread` into `buf`.
fn pread(path: &Path, buf: &mut Vec<u8>) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| fail(path, e));
    for (off, len) in ranges(path) {
        buf.resize(buf.len().max(len as usize), 0);
        if let Err(e) = file.read_exact_at(&mut buf[..len as usize], off) {
            fail(path, e);
        }
    }
}

/// Reads every word of the needed bytes of `path` through a memory map.
fn mapped(path: &Path) -> u64 {
    let ranges = ranges(path);
    let file = std::fs::File::open(path).unwrap_or_else(|e| fail(path, e));
    // SAFETY: read-only map of a file nobody truncates during the benchmark.
    let map = unsafe { memmap2::Mmap::map(&file) }.unwrap_or_else(|e| fail(path, e));
    let mut sum = 0u64;
    for (off, len) in ranges {
        let bytes = &map[off as usize..(off + len) as usize];
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            sum = sum.wrapping_add(u64::from_le_bytes(w.try_into().unwrap_or([0; 8])));
        }
        for &b in words.remainder() {
            sum = sum.wrapping_add(b as u64);
        }
    }
    sum
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, files) = match args.split_first() {
        Some((flag, files)) if flag == "--bytes" || flag == "--pread" => (flag.as_str(), files),
        Some(_) => ("--mmap", args.as_slice()),
        None => {
            eprintln!("usage: lint-floor [--pread|--bytes] FILE...");
            std::process::exit(2);
        }
    };
    let files: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
    if files.is_empty() {
        eprintln!("usage: lint-floor [--pread|--bytes] FILE...");
        std::process::exit(2);
    }
    if mode == "--bytes" {
        let total: u64 = files
            .iter()
            .map(|f| ranges(f).iter().map(|r| r.1).sum::<u64>())
            .sum();
        println!("{total}");
        return;
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len());
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut buf = Vec::new();
                let mut sum = 0u64;
                while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if mode == "--pread" {
                        pread(path, &mut buf);
                    } else {
                        sum = sum.wrapping_add(mapped(path));
                    }
                }
                std::hint::black_box(sum);
            });
        }
    });
}
