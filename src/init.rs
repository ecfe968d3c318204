//! `layoutgen init`: a starting spec, from a bundled layout or from a few
//! facts about the machine (RAM base and size, load address, paging modes),
//! and the `build.rs` lines that use it. Every spec it produces has passed
//! `layoutgen::load` before it is returned, so a new spec always starts sound.

use crate::arch::PagingMode;
use crate::units::GIB;
use crate::{Error, LoadOptions, Report, Source, load};
use std::fmt::Write;
use std::path::Path;

mod fresh;
#[cfg(feature = "lint")]
pub mod from_elf;

/// The bundled layouts, by name, compiled into the binary.
pub const BUNDLED: [(&str, &str); 11] = [
    (
        "qemu-virt-sv39",
        include_str!("../layouts/qemu-virt-sv39.toml"),
    ),
    (
        "qemu-virt-multi",
        include_str!("../layouts/qemu-virt-multi.toml"),
    ),
    (
        "qemu-virt-semipic",
        include_str!("../layouts/qemu-virt-semipic.toml"),
    ),
    (
        "qemu-virt-in-linear-map",
        include_str!("../layouts/qemu-virt-in-linear-map.toml"),
    ),
    (
        "linux-riscv64",
        include_str!("../layouts/linux-riscv64.toml"),
    ),
    (
        "qemu-virt-identity",
        include_str!("../layouts/qemu-virt-identity.toml"),
    ),
    (
        "qemu-virt-bare",
        include_str!("../layouts/qemu-virt-bare.toml"),
    ),
    (
        "qemu-virt-firmware-pie",
        include_str!("../layouts/qemu-virt-firmware-pie.toml"),
    ),
    (
        "qemu-virt-multi-onemap",
        include_str!("../layouts/qemu-virt-multi-onemap.toml"),
    ),
    (
        "qemu-virt-aarch64",
        include_str!("../layouts/qemu-virt-aarch64.toml"),
    ),
    ("linux-arm64", include_str!("../layouts/linux-arm64.toml")),
];

/// Names `--from` accepts.
pub const BUNDLED_NAMES: [&str; 11] = [
    BUNDLED[0].0,
    BUNDLED[1].0,
    BUNDLED[2].0,
    BUNDLED[3].0,
    BUNDLED[4].0,
    BUNDLED[5].0,
    BUNDLED[6].0,
    BUNDLED[7].0,
    BUNDLED[8].0,
    BUNDLED[9].0,
    BUNDLED[10].0,
];

/// The kernel shapes `init --shape` starts from (docs/spec.md, "Kernel
/// shapes"), each with the bundled layout that shows it.
pub const SHAPES: [(&str, &str); 3] = [
    // S-mode, paging on, VA = PA (xv6-riscv, rCore-Tutorial).
    ("identity", "qemu-virt-identity"),
    // No paging: M-mode firmware, or a kernel before paging.
    ("bare", "qemu-virt-bare"),
    // Higher half, Linux's own layout and image.
    ("linux", "linux-riscv64"),
];

/// What a spec is generated from when it is not copied from a bundled one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub name: String,
    pub modes: Vec<PagingMode>,
    /// Physical address of the first byte of RAM.
    pub ram_base: u64,
    /// The most RAM the linear map must cover.
    pub ram_size: u64,
    /// Physical load address; default: 2 MiB into RAM (OpenSBI's `fw_dynamic`).
    pub load: Option<u64>,
}

impl Default for Options {
    /// QEMU `virt` under OpenSBI, Sv39.
    fn default() -> Options {
        Options {
            name: "my-kernel".into(),
            modes: vec![PagingMode::Sv39],
            ram_base: 0x8000_0000,
            ram_size: 16 * GIB,
            load: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(
        "no bundled layout `{}`; bundled: qemu-virt-sv39, qemu-virt-multi, qemu-virt-semipic, qemu-virt-in-linear-map, linux-riscv64, qemu-virt-identity, qemu-virt-bare, qemu-virt-firmware-pie, qemu-virt-multi-onemap, qemu-virt-aarch64, linux-arm64", crate::format::printable(.0)
    )]
    UnknownBundled(String),
    // The messages carry what the user or the file gave (option values, a
    // file name, names from the ELF): shown escaped, one line each.
    #[error("{}", crate::format::printable(.0))]
    Options(String),
    /// The ELF given to `--from-elf` cannot be read or described.
    #[error("{}", crate::format::printable(.0))]
    Elf(String),
    /// The generated spec fails its checks: the report points into it.
    #[error("{0}")]
    Check(Report),
}

/// `"0x8000_0000"`: a quoted spec value, grouped as the bundled specs write it.
fn hex(v: u64) -> String {
    format!("\"{}\"", crate::emit::rust_hex(v))
}

/// `"16GiB"` when exact, else hex.
fn size(v: u64) -> String {
    for (unit, shift) in [
        ("PiB", 50),
        ("TiB", 40),
        ("GiB", 30),
        ("MiB", 20),
        ("KiB", 10),
    ] {
        if v >= 1 << shift && v.is_multiple_of(1 << shift) {
            return format!("\"{}{unit}\"", v >> shift);
        }
    }
    hex(v)
}

/// The spec text for `options`, checked.
pub fn generate(options: &Options) -> Result<String, InitError> {
    let plan = fresh::plan(options)?;
    checked(fresh::render(&fresh::values(&options.name, &plan)))
}

/// A bundled layout's text, renamed when `name` is given.
pub fn bundled(from: &str, name: Option<&str>) -> Result<String, InitError> {
    let (_, text) = BUNDLED
        .iter()
        .find(|(n, _)| *n == from)
        .ok_or_else(|| InitError::UnknownBundled(from.to_string()))?;
    let text = match name {
        None => text.to_string(),
        Some(name) => {
            let mut out = String::new();
            let mut done = false;
            for line in text.lines() {
                if !done && line.starts_with("name = ") {
                    let _ = writeln!(out, "name = \"{}\"", name.replace(['"', '\\'], ""));
                    done = true;
                } else {
                    let _ = writeln!(out, "{line}");
                }
            }
            out
        }
    };
    checked(text)
}

fn checked(text: String) -> Result<String, InitError> {
    let source = Source::Text {
        text: &text,
        name: "layout.toml",
    };
    match load(source, &LoadOptions::default()) {
        Ok(_) => Ok(text),
        Err(Error::Spec(r)) => Err(InitError::Check(Report::new(
            Path::new("<generated spec>"),
            &text,
            r.diagnostics,
        ))),
        Err(e) => unreachable!("text needs no I/O: {e}"),
    }
}

/// A name for the layout from the file name: `boards/my_board.toml` →
/// `my_board`, when that is a valid layout name.
pub fn name_from_path(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    let ok = !stem.is_empty()
        && stem.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && stem
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    (ok && stem != "layout").then(|| stem.to_string())
}

/// What the layout's `image.section_align` costs in image size: every
/// segment starts on a multiple of it, so the image spans at least
/// (segments - 1) × section_align plus its last segment, whatever the code.
pub fn section_align_note(layout: &crate::Layout) -> String {
    let align = layout.image.section_align;
    let mut segments: Vec<&str> = layout
        .image
        .sections
        .iter()
        .map(|s| s.segment.as_str())
        .collect();
    segments.dedup();
    let n = segments.len() as u128;
    let least = (n.saturating_sub(1)) * align as u128;
    let size = crate::format::human_size;
    let mut note = format!(
        "image.section_align = {}: each of the {n} segments ({}) starts on a {} boundary, so the image spans at least {} before its last segment, however small the code",
        size(align as u128),
        segments.join(", "),
        size(align as u128),
        size(least)
    );
    if align > 4096 {
        note.push_str(
            "; \"4KiB\" makes a small kernel small, with the kernel slot mapped by 4 KiB leaves",
        );
    }
    note
}

/// The lines a kernel crate needs to use `spec_path`: the recommended
/// ahead-of-time path first (`layoutgen build` into the kernel's tree, checked
/// by the dependency-free `layoutgen-build` in build.rs), then
/// `layoutgen::Build` in build.rs as the alternative, with its measured cost.
pub fn build_rs_snippet(spec_path: &str) -> String {
    format!(
        r#"# 1. Generate the linker script and constants into the kernel's tree, from
#    the kernel crate's directory, and commit them like sources:
layoutgen build --spec {spec_path} --out-dir layout --emit ld,rs

# Cargo.toml of the kernel
[build-dependencies]
layoutgen-build = "{version}"  # no dependencies; or a path/git dependency

// build.rs: checks layout/ against the spec (a stale one fails the build with
// the command above) and links with layout/layout.ld
fn main() {{
    layoutgen_build::Outputs::new("layout")
        .spec("{spec_path}")
        .dir_env("LAYOUTGEN_OUT") // LAYOUTGEN_OUT=dir: outputs generated elsewhere
        .verify();
}}

// src/main.rs
#[allow(dead_code)]
mod layout {{
    include!(concat!(env!("LAYOUTGEN_DIR"), "/layout.rs"));
}}
// No boot code of your own: layoutgen-rt gives the entry, BSS, stack, trap
// hook and early page tables from this layout (`impl rt::Kernel`, then
// `layoutgen_rt::entry!(Kernel)`; README, "A paged kernel with the runtime crate").

# Alternative: generate in build.rs with `layoutgen::Build` (nothing committed;
# costs 27 build-dependency packages, about 2x the no-op `cargo build` and
# ~22 s more on a cold build: docs/benchmarks.md):
#   [build-dependencies] layoutgen = {{ version = "{version}", default-features = false }}
#   build.rs: layoutgen::Build::new().spec("{spec_path}").compile();
#   src/main.rs: include!(concat!(env!("OUT_DIR"), "/layout.rs"));
"#,
        version = env!("CARGO_PKG_VERSION"),
        spec_path = spec_path.replace('\\', "/").replace('"', "\\\"")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_layout_is_embedded_and_sound() {
        for name in BUNDLED_NAMES {
            bundled(name, None).unwrap();
        }
        // Every file in layouts/ is embedded.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("layouts");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
            assert!(
                BUNDLED_NAMES.contains(&stem.as_str()),
                "{stem} is not in BUNDLED"
            );
        }
        assert!(matches!(
            bundled("nope", None),
            Err(InitError::UnknownBundled(_))
        ));
    }

    #[test]
    fn defaults_pass_the_checks() {
        generate(&Options::default()).unwrap();
    }

    #[test]
    fn names_from_paths() {
        assert_eq!(
            name_from_path(Path::new("boards/my_board.toml")).as_deref(),
            Some("my_board")
        );
        assert_eq!(name_from_path(Path::new("layout.toml")), None);
        assert_eq!(name_from_path(Path::new("My Board.toml")), None);
    }
}
