//! The floor `scripts/bench-lint` compares `layoutgen lint` with: a process
//! that reads exactly the bytes lint needs from the ELF file and does
//! nothing with them. The ranges are lint's own
//! ([`layoutgen::elf::needed_ranges`]: the ELF header, program and section
//! headers, section names, the symbol table and its strings, and the
//! relocation sections of allocated sections), each read with one `pread`
//! into a reused buffer.
//!
//! ```text
//! lint-floor FILE           # read the bytes; print nothing
//! lint-floor --bytes FILE   # print how many bytes that is
//! ```

use std::os::unix::fs::FileExt;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (count_only, path) = match args.as_slice() {
        [flag, path] if flag == "--bytes" => (true, path),
        [path] => (false, path),
        _ => {
            eprintln!("usage: lint-floor [--bytes] FILE");
            std::process::exit(2);
        }
    };
    let path = std::path::Path::new(path);
    let ranges = match layoutgen::elf::needed_ranges(path) {
        Ok(Some(r)) => r,
        Ok(None) => {
            eprintln!("{}: extended section numbering: no floor", path.display());
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            std::process::exit(1);
        }
    };
    if count_only {
        println!("{}", ranges.iter().map(|r| r.1).sum::<u64>());
        return;
    }
    let file = std::fs::File::open(path).unwrap_or_else(|e| {
        eprintln!("{}: {e}", path.display());
        std::process::exit(1);
    });
    let largest = ranges.iter().map(|r| r.1).max().unwrap_or(0);
    let mut buf = vec![0u8; largest as usize];
    for (off, len) in ranges {
        if let Err(e) = file.read_exact_at(&mut buf[..len as usize], off) {
            eprintln!("{}: {e}", path.display());
            std::process::exit(1);
        }
    }
}
