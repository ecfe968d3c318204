//! The floor `scripts/bench-lint` compares `layoutgen lint` with: a process
//! that reads exactly the bytes lint needs from the ELF file and does
//! nothing with them. The ranges are lint's own
//! ([`layoutgen::elf::needed_ranges`]: the ELF header, program and section
//! headers, section names, the symbol table and its strings, and the
//! relocation sections of allocated sections).
//!
//! By default the file is memory-mapped, as lint maps it, and every 8-byte
//! word of the ranges is read (summed); with `--pread` each range is instead
//! copied with one `pread` into a reused buffer.
//!
//! ```text
//! lint-floor [--pread] FILE   # read the bytes; print nothing
//! lint-floor --bytes FILE     # print how many bytes that is
//! ```

use std::os::unix::fs::FileExt;

fn fail(path: &std::path::Path, e: impl std::fmt::Display) -> ! {
    eprintln!("{}: {e}", path.display());
    std::process::exit(1);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, path) = match args.as_slice() {
        [flag, path] if flag == "--bytes" || flag == "--pread" => (flag.as_str(), path),
        [path] => ("--mmap", path),
        _ => {
            eprintln!("usage: lint-floor [--pread|--bytes] FILE");
            std::process::exit(2);
        }
    };
    let path = std::path::Path::new(path);
    let ranges = match layoutgen::lint::needed_ranges(path) {
        Ok(Some(r)) => r,
        Ok(None) => fail(path, "extended section numbering: no floor"),
        Err(e) => fail(path, e),
    };
    if mode == "--bytes" {
        println!("{}", ranges.iter().map(|r| r.1).sum::<u64>());
        return;
    }
    let file = std::fs::File::open(path).unwrap_or_else(|e| fail(path, e));
    if mode == "--pread" {
        let largest = ranges.iter().map(|r| r.1).max().unwrap_or(0);
        let mut buf = vec![0u8; largest as usize];
        for (off, len) in ranges {
            if let Err(e) = file.read_exact_at(&mut buf[..len as usize], off) {
                fail(path, e);
            }
        }
        return;
    }
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
    std::hint::black_box(sum);
}
