//! `layoutgen init`: a starting spec, from a bundled layout or from a few
//! facts about the machine (RAM base and size, load address, paging modes),
//! and the `build.rs` lines that use it. Every spec it produces has passed
//! `layoutgen::load` before it is returned, so a new spec always starts sound.

use crate::arch::PagingMode;
use crate::units::{GIB, MIB, PAGE_SIZE};
use crate::{Error, LoadOptions, Report, Source, load};
use std::fmt::Write;
use std::path::Path;

#[cfg(feature = "lint")]
pub mod from_elf;

/// The bundled layouts, by name, compiled into the binary.
pub const BUNDLED: [(&str, &str); 10] = [
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
pub const BUNDLED_NAMES: [&str; 10] = [
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
        "no bundled layout `{0}`; bundled: qemu-virt-sv39, qemu-virt-multi, qemu-virt-semipic, qemu-virt-in-linear-map, linux-riscv64, qemu-virt-identity, qemu-virt-bare, qemu-virt-multi-onemap, qemu-virt-aarch64, linux-arm64"
    )]
    UnknownBundled(String),
    #[error("{0}")]
    Options(String),
    /// The ELF given to `--from-elf` cannot be read or described.
    #[error("{0}")]
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

/// A value that is the same in every mode, or a per-mode table.
fn per_mode(modes: &[PagingMode], f: impl Fn(PagingMode) -> String) -> String {
    let values: Vec<String> = modes.iter().map(|&m| f(m)).collect();
    if values.iter().all(|v| *v == values[0]) {
        return values[0].clone();
    }
    let entries: Vec<String> = modes
        .iter()
        .zip(&values)
        .map(|(m, v)| format!("{m} = {v}"))
        .collect();
    format!("{{ {} }}", entries.join(", "))
}

/// Linux's per-mode linear map, vmalloc and vmemmap (vm-layout.rst).
fn linear_start(m: PagingMode) -> u64 {
    match m {
        PagingMode::Sv39 => 0xffff_ffd6_0000_0000,
        PagingMode::Sv48 => 0xffff_af80_0000_0000,
        PagingMode::Sv57 => 0xff60_0000_0000_0000,
        // Never reached: `init` generates riscv64 paged layouts only
        // (`--shape bare` starts a bare one).
        PagingMode::Bare | PagingMode::Va39 | PagingMode::Va48 => 0,
    }
}

fn linear_size(m: PagingMode) -> u64 {
    match m {
        PagingMode::Sv39 => 128 * GIB,
        PagingMode::Sv48 => 64 << 40,
        PagingMode::Sv57 => 32 << 50,
        PagingMode::Bare | PagingMode::Va39 | PagingMode::Va48 => 0,
    }
}

/// The spec text for `options`, checked.
pub fn generate(options: &Options) -> Result<String, InitError> {
    let o = options;
    if o.modes.is_empty() {
        return Err(InitError::Options("--modes lists no paging mode".into()));
    }
    let mut modes = o.modes.clone();
    modes.sort();
    modes.dedup();
    if o.ram_size == 0 {
        return Err(InitError::Options(
            "--ram-size must be larger than zero".into(),
        ));
    }
    if let Some(m) = modes.iter().find(|&&m| o.ram_size > linear_size(m)) {
        return Err(InitError::Options(format!(
            "--ram-size {} does not fit the {m} linear map ({}); choose a larger paging mode or less RAM",
            crate::format::human_size(o.ram_size as u128),
            crate::format::human_size(linear_size(*m) as u128)
        )));
    }
    let section_align = 2 * MIB;
    if !o.ram_base.is_multiple_of(PAGE_SIZE) {
        return Err(InitError::Options(format!(
            "--ram-base {:#x} is not 4 KiB-aligned: RAM starts on a page boundary",
            o.ram_base
        )));
    }
    let load = match o.load {
        Some(load) => load,
        None => (o.ram_base.saturating_add(2 * MIB)).next_multiple_of(section_align),
    };
    if !load.is_multiple_of(section_align) {
        return Err(InitError::Options(format!(
            "--load-addr {load:#x} is not a multiple of 2 MiB, the image's section alignment \
             (the image is mapped with 2 MiB pages); e.g. {:#x}",
            load.next_multiple_of(section_align)
        )));
    }
    if load < o.ram_base || load - o.ram_base >= o.ram_size {
        return Err(InitError::Options(format!(
            "--load-addr {load:#x} is outside RAM [{:#x}, {:#x})",
            o.ram_base,
            o.ram_base as u128 + o.ram_size as u128
        )));
    }
    // The linear map maps ram.base at its (1 GiB-aligned) start, so its
    // leaves can be no larger than the alignment of ram.base.
    let leaf = [GIB, 2 * MIB, PAGE_SIZE]
        .into_iter()
        .find(|&l| o.ram_base.is_multiple_of(l))
        .unwrap_or(PAGE_SIZE);
    let min_size = (128 * MIB).min(o.ram_size);
    let mode_list: Vec<String> = modes.iter().map(|m| format!("\"{m}\"")).collect();
    let quoted_modes = mode_list.join(", ");

    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Generated by `layoutgen init`: a starting point to edit."
    );
    let _ = writeln!(
        s,
        "# Every key is described in docs/spec.md; `layoutgen check` verifies it."
    );
    let _ = writeln!(s, "name = \"{}\"", o.name);
    let _ = writeln!(
        s,
        "description = \"kernel at the top 2 GiB (fixed address), {}\"",
        modes.iter().map(|m| m.name()).collect::<Vec<_>>().join("/")
    );
    let _ = writeln!(s, "arch = \"riscv64\"");
    let _ = writeln!(s, "modes = [{quoted_modes}]");
    let _ = writeln!(s, "code_model = \"fixed\"");
    let _ = writeln!(s);
    let _ = writeln!(s, "[ram]");
    let _ = writeln!(s, "base = {}", hex(o.ram_base));
    let _ = writeln!(s, "min_size = {}", size(min_size));
    let _ = writeln!(s, "max_size = {}", size(o.ram_size));
    let _ = writeln!(s, "load = {}", hex(load));
    s.push_str(
        r#"
[image]
slot = "kernel"
# Linked into the slot at the offset it is loaded into RAM, so that VA - PA is
# a multiple of the slot's leaf size.
link = "kernel.start + ram.load - ram.base"
max_size = "32MiB"
section_align = "2MiB"
stack_size = "64KiB"
entry = "_start"

[[image.section]]
name = ".text"
perms = "rx"
input = [".text.entry", ".text", ".text.*"]

[[image.section]]
name = ".rodata"
perms = "r"
input = [".rodata", ".rodata.*"]

[[image.section]]
name = ".data"
perms = "rw"
input = [".data", ".data.*"]

[[image.section]]
name = ".bss"
perms = "rw"
input = [".bss", ".bss.*"]

[gp]
policy = "relax"
section = ".data"

[region.kernel]
start = "top - 2GiB"
end = "top"
align = "2MiB"
leaf = "2MiB"
description = "kernel image slot"

[region.modules]
start = "image.end - 2GiB"
end = "kernel.start"
description = "modules (within 2 GiB of the image)"

"#,
    );
    let _ = writeln!(s, "[region.linear_map]");
    let _ = writeln!(s, "start = {}", per_mode(&modes, |m| hex(linear_start(m))));
    let _ = writeln!(s, "size = {}", per_mode(&modes, |m| size(linear_size(m))));
    let _ = writeln!(s, "align = \"1GiB\"");
    let _ = writeln!(s, "leaf = {}", size(leaf));
    let _ = writeln!(s, "description = \"direct mapping of all physical memory\"");
    let _ = writeln!(s);
    let _ = writeln!(s, "[region.vmalloc]");
    let _ = writeln!(
        s,
        "size = {}",
        per_mode(&modes, |m| size(linear_size(m) / 2))
    );
    let _ = writeln!(s, "end = \"linear_map.start\"");
    let _ = writeln!(s, "align = \"2MiB\"");
    let _ = writeln!(s, "description = \"vmalloc/ioremap space\"");
    let _ = writeln!(s);
    let _ = writeln!(s, "[region.vmemmap]");
    let _ = writeln!(
        s,
        "size = {}",
        per_mode(&modes, |m| size(linear_size(m) / 32))
    );
    let _ = writeln!(s, "end = \"vmalloc.start\"");
    let _ = writeln!(s, "align = \"2MiB\"");
    let _ = writeln!(s, "description = \"vmemmap (struct page array)\"");
    s.push_str(
        r#"
[region.pci_io]
size = "16MiB"
end = "vmemmap.start"
description = "PCI I/O"

[region.fixmap]
size = "6MiB"
end = "pci_io.start"
description = "fixmap"
"#,
    );
    checked(s)
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
    fn per_mode_tables_only_when_values_differ() {
        let one = per_mode(&[PagingMode::Sv39], |_| "\"1\"".into());
        assert_eq!(one, "\"1\"");
        let two = per_mode(&[PagingMode::Sv39, PagingMode::Sv48], |m| {
            format!("\"{m}\"")
        });
        assert_eq!(two, "{ sv39 = \"sv39\", sv48 = \"sv48\" }");
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
