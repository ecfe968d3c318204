//! The library API of docs/lint.md ("Library"): lint a linked kernel from
//! Rust and print its findings. `cargo run --example lint_library -- SPEC ELF`;
//! exits as `layoutgen lint` does (0 clean, 1 findings).

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(spec), Some(elf)) = (args.next(), args.next()) else {
        eprintln!("usage: lint_library SPEC ELF");
        std::process::exit(2);
    };
    let layout = layoutgen::load(Path::new(&spec), &Default::default())?;
    let report = layoutgen::lint::run(&layout, Path::new(&elf), &Default::default())?;
    for f in &report.findings {
        println!("{} {}: {}", f.id.id(), f.id.name(), f.message);
    }
    std::process::exit(report.exit_code(/* deny_warnings */ false).into());
}
