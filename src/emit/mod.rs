//! Emitters: the resolved `Layout` rendered through minijinja templates
//! (linker script, Rust constants, C header) and serde (JSON).
//!
//! Templates are embedded so an installed binary works anywhere; a user
//! directory may override any of them by file name.

pub mod physical;
pub mod show;
pub mod svg;
pub mod table;
pub mod write;

use crate::layout::{Layout, Region};
use crate::spec::{CodeModel, GpPolicy};
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use std::path::{Path, PathBuf};
use write::WriteOutcome;

/// One kind of generated file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Output {
    LinkerScript,
    Rust,
    CHeader,
    Json,
    /// The boot chain's U-Boot and OpenSBI variables (`[boot.NAME]`).
    BootEnv,
    /// The boot chain's reserved ranges as a device-tree fragment.
    BootDts,
    /// The U-Boot script that loads the files at the spec's addresses
    /// (written with `BootEnv`: `--emit boot`).
    BootScript,
}

impl Output {
    pub const ALL: [Output; 4] = [
        Output::LinkerScript,
        Output::Rust,
        Output::CHeader,
        Output::Json,
    ];

    /// What the boot chain consumes (only for a spec with `[boot.NAME]`).
    pub const BOOT: [Output; 3] = [Output::BootEnv, Output::BootScript, Output::BootDts];

    /// The `--emit` name.
    pub fn id(self) -> &'static str {
        match self {
            Output::LinkerScript => "ld",
            Output::Rust => "rs",
            Output::CHeader => "h",
            Output::Json => "json",
            Output::BootEnv | Output::BootScript => "boot",
            Output::BootDts => "dts",
        }
    }

    pub fn from_id(id: &str) -> Option<Output> {
        Output::ALL
            .into_iter()
            .chain(Output::BOOT)
            .find(|o| o.id() == id)
    }

    pub fn file_name(self) -> &'static str {
        match self {
            Output::LinkerScript => "layout.ld",
            Output::Rust => "layout.rs",
            Output::CHeader => "layout.h",
            Output::Json => "layout.json",
            Output::BootEnv => "boot.env",
            Output::BootDts => "boot.dtsi",
            Output::BootScript => "boot.cmd",
        }
    }

    /// The template that renders it (JSON is serialised directly).
    pub fn template(self) -> Option<&'static str> {
        match self {
            Output::LinkerScript => Some("linker.ld.j2"),
            Output::Rust => Some("layout.rs.j2"),
            Output::CHeader => Some("layout.h.j2"),
            Output::Json => None,
            Output::BootEnv => Some("boot.env.j2"),
            Output::BootDts => Some("boot.dtsi.j2"),
            Output::BootScript => Some("boot.cmd.j2"),
        }
    }
}

/// Largest template file read from an override directory.
pub const MAX_TEMPLATE_BYTES: usize = 1 << 20;

/// Templates compiled into the binary, by file name.
pub const BUILTIN_TEMPLATES: [(&str, &str); 6] = [
    ("linker.ld.j2", include_str!("../../templates/linker.ld.j2")),
    ("layout.rs.j2", include_str!("../../templates/layout.rs.j2")),
    ("layout.h.j2", include_str!("../../templates/layout.h.j2")),
    ("boot.env.j2", include_str!("../../templates/boot.env.j2")),
    ("boot.dtsi.j2", include_str!("../../templates/boot.dtsi.j2")),
    ("boot.cmd.j2", include_str!("../../templates/boot.cmd.j2")),
];

#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error("cannot read template {path}: {source}")]
    ReadTemplate {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    #[error(
        "templates directory {path}: {problem}\nhelp: --templates names a directory holding linker.ld.j2, layout.rs.j2, layout.h.j2, boot.env.j2, boot.cmd.j2 and/or boot.dtsi.j2"
    )]
    TemplatesDir { path: PathBuf, problem: String },
}

impl EmitError {
    fn template(name: &str, e: minijinja::Error) -> EmitError {
        let mut message = e.to_string();
        if let Some(line) = e.line() {
            message = format!("line {line}: {message}");
        }
        EmitError::Template {
            name: name.to_string(),
            message,
        }
    }
}

/// The templates in use: the built-in ones, each replaced by a file of the
/// same name in `override_dir` when there is one.
pub struct Templates {
    env: Environment<'static>,
    /// Files read from the override directory (for `rerun-if-changed`).
    pub overrides: Vec<PathBuf>,
}

impl Templates {
    pub fn new(override_dir: Option<&Path>) -> Result<Templates, EmitError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .keep_trailing_newline(true)
                .build()
                .expect("default delimiters are valid"),
        );
        env.add_filter("hex", |v: u64| format!("{v:#x}"));
        env.add_filter("rust_hex", rust_hex);
        env.add_filter("size", |v: u64| crate::format::human_size(v as u128));
        if let Some(dir) = override_dir {
            // A mistyped `--templates` must not fall back to the built-in
            // templates without a word.
            match std::fs::metadata(dir) {
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => {
                    return Err(EmitError::TemplatesDir {
                        path: dir.to_path_buf(),
                        problem: "is not a directory".into(),
                    });
                }
                Err(e) => {
                    return Err(EmitError::TemplatesDir {
                        path: dir.to_path_buf(),
                        problem: e.to_string(),
                    });
                }
            }
        }
        let mut overrides = Vec::new();
        for (name, builtin) in BUILTIN_TEMPLATES {
            let source = match override_dir.map(|d| d.join(name)) {
                Some(path) if path.exists() => {
                    let read_err = |source| EmitError::ReadTemplate {
                        path: path.clone(),
                        source,
                    };
                    let bytes =
                        crate::files::read_capped(&path, MAX_TEMPLATE_BYTES).map_err(read_err)?;
                    let text = String::from_utf8(bytes).map_err(|e| {
                        read_err(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
                    })?;
                    overrides.push(path);
                    text
                }
                _ => builtin.to_string(),
            };
            env.add_template_owned(name, source)
                .map_err(|e| EmitError::template(name, e))?;
        }
        Ok(Templates { env, overrides })
    }

    /// Renders one output for a checked layout.
    pub fn render(&self, layout: &Layout, output: Output) -> Result<String, EmitError> {
        let Some(name) = output.template() else {
            let document = JsonDocument {
                format_version: crate::json::FORMAT_VERSION,
                layout,
            };
            let mut json = serde_json::to_string_pretty(&document).expect("Layout serialises");
            json.push('\n');
            return Ok(json);
        };
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| EmitError::template(name, e))?;
        tmpl.render(minijinja::value::Serde(Context::new(layout)))
            .map_err(|e| EmitError::template(name, e))
    }
}

/// `layout.json`: the resolved layout, its format version first.
#[derive(Serialize)]
struct JsonDocument<'a> {
    format_version: u32,
    #[serde(flatten)]
    layout: &'a Layout,
}

/// `0xffff_ffff_8000_0000`: hex grouped by 16 bits, as Rust literals and
/// the spec grammar write it.
pub(crate) fn rust_hex(v: u64) -> String {
    crate::format::grouped_hex(v)
}

/// What templates see: the layout plus values derived from it once, here,
/// so that templates compute no addresses themselves.
#[derive(Serialize)]
struct Context<'a> {
    layout: &'a Layout,
    /// Header line every generated file starts with.
    generated_by: String,
    /// Link address and VA−PA offset; identical in every mode (checked).
    image_link: u64,
    image_offset: u64,
    relocatable: bool,
    semi_pic: bool,
    gp_relax: bool,
    /// `image.link - image.lma`: VA minus LMA for every section.
    lma_offset: u64,
    /// Symbols at the image's start and end; the first of each is what the
    /// `ASSERT`s use, so a spec that lists none gets a private one.
    image_start_symbols: Vec<String>,
    image_end_symbols: Vec<String>,
    /// The section small data is folded into, unless the spec places it
    /// itself: `gp.section` under relax, else the first writable section
    /// with file contents.
    small_data_section: Option<String>,
    /// Section after which read-only / writable dynamic-linking tables go,
    /// and the tables the spec does not place itself.
    ro_tables_after: Option<String>,
    rw_tables_after: Option<String>,
    ro_tables: Vec<&'static str>,
    rw_tables: Vec<&'static str>,
    /// Section the stack is placed at the end of.
    stack_section: Option<String>,
    /// With `image.pmp_read_only`: the first writable section, where the
    /// read-only part ends.
    pmp_rw_start: Option<String>,
    /// Regions whose address is the same in every mode.
    common_regions: Vec<&'a Region>,
    single_mode: Option<&'static str>,
    /// Every mode has a linear map (the generated `phys_to_virt` exists).
    linear_map: bool,
    /// The linear map's VA−PA offset when it is the same in every mode:
    /// then the conversions are emitted mode-free.
    common_linear_offset: Option<u64>,
    /// `OUTPUT_ARCH` of the linker script.
    output_arch: &'static str,
    /// The generated `PagingMode` enum: the architecture's modes.
    arch_modes: Vec<ArchMode>,
    /// What the mode register value is, and the generated fn reading it.
    mode_register: &'static str,
    mode_register_fn: &'static str,
    abs32_window: (u64, u64),
}

impl<'a> Context<'a> {
    fn new(layout: &'a Layout) -> Context<'a> {
        let first = &layout.modes[0];
        let sections = &layout.image.sections;
        let ro_tables_after = sections
            .iter()
            .rfind(|s| !s.write && !s.execute)
            .or_else(|| sections.iter().rfind(|s| !s.write))
            .map(|s| s.name.clone());
        let rw_tables_after = sections
            .iter()
            .find(|s| s.write && !s.nobits)
            .map(|s| s.name.clone());
        let stack_section = sections
            .iter()
            .rfind(|s| s.write && s.nobits)
            .or_else(|| sections.iter().rfind(|s| s.write))
            .filter(|_| layout.image.stack_size > 0)
            .map(|s| s.name.clone());
        let or_private = |list: &[String], private: &str| {
            if list.is_empty() {
                vec![private.to_string()]
            } else {
                list.to_vec()
            }
        };
        let undeclared = |tables: &[&'static str]| {
            tables
                .iter()
                .copied()
                .filter(|t| layout.image.section(t).is_none())
                .collect::<Vec<_>>()
        };
        let common_regions = first
            .regions
            .iter()
            .filter(|r| {
                layout.modes.iter().all(|m| {
                    m.region(&r.name)
                        .is_some_and(|o| o.start == r.start && o.size == r.size)
                })
            })
            .collect();
        Context {
            layout,
            generated_by: format!(
                "generated by layoutgen {} from {} (layout `{}`), do not edit",
                env!("CARGO_PKG_VERSION"),
                layout.source,
                layout.name
            ),
            image_link: first.image_link,
            image_offset: first.image_offset,
            relocatable: layout.code_model.is_relocatable(),
            semi_pic: layout.code_model == CodeModel::SemiPic,
            gp_relax: layout.gp.policy == GpPolicy::Relax,
            lma_offset: first.image_link.wrapping_sub(layout.image.lma),
            image_start_symbols: or_private(&layout.image.start_symbols, "__layoutgen_image_start"),
            image_end_symbols: or_private(&layout.image.end_symbols, "__layoutgen_image_end"),
            // Small data is a riscv ABI matter (.sdata/.sbss/.srodata).
            small_data_section: layout
                .image
                .small_data_section(layout)
                .map(|s| s.name.clone()),
            ro_tables_after,
            rw_tables_after,
            ro_tables: undeclared(&[".dynsym", ".dynstr", ".hash", ".gnu.hash", ".rela.dyn"]),
            rw_tables: undeclared(&[".dynamic", ".got"]),
            stack_section,
            pmp_rw_start: layout
                .image
                .sections
                .iter()
                .find(|s| layout.image.pmp_read_only && s.write)
                .map(|s| s.name.clone()),
            common_regions,
            single_mode: (layout.modes.len() == 1).then(|| first.mode.name()),
            linear_map: layout.modes.iter().all(|m| m.page_offset.is_some()),
            common_linear_offset: crate::layout::conversions::common_linear_offset(layout),
            output_arch: layout.arch.facts().output_arch,
            arch_modes: ArchMode::for_layout(layout),
            mode_register: layout.arch.facts().mode_register,
            mode_register_fn: match layout.arch {
                crate::arch::Arch::Riscv64 => "satp_mode",
                crate::arch::Arch::Aarch64 => "t1sz",
            },
            abs32_window: (
                crate::arch::riscv64::ABS32_WINDOW_HIGH_START,
                crate::arch::riscv64::ABS32_WINDOW_LOW_END,
            ),
        }
    }
}

/// One variant of the generated `PagingMode`.
#[derive(Serialize)]
struct ArchMode {
    variant: String,
    name: &'static str,
    doc: &'static str,
    register: u64,
    va_bits: u32,
    levels: u32,
}

impl ArchMode {
    /// The architecture's paging modes; `Bare` only in a layout without
    /// paging, so paged layouts' generated code stays as it was.
    fn for_layout(layout: &Layout) -> Vec<ArchMode> {
        let bare = layout.modes.iter().any(|m| m.mode.is_bare());
        layout
            .arch
            .facts()
            .modes
            .iter()
            .filter(|m| !m.is_bare() || bare)
            .map(|&m| {
                let name = m.name();
                ArchMode {
                    variant: name[..1].to_uppercase() + &name[1..],
                    name,
                    doc: if m.is_bare() {
                        "No paging: addresses are physical."
                    } else {
                        ""
                    },
                    register: m.mode_register(),
                    va_bits: m.va_bits(),
                    levels: m.levels(),
                }
            })
            .collect()
    }
}

/// One generated file and whether it was (re)written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub output: Output,
    pub path: PathBuf,
    pub outcome: WriteOutcome,
}

/// Renders `outputs` for a checked layout into `out_dir`, all or nothing:
/// everything is rendered before anything is written, and the files are
/// written as one set ([`write::write_set`]), so a template error or a
/// failed write leaves the previous outputs as they were.
pub fn generate(
    layout: &Layout,
    templates: &Templates,
    out_dir: &Path,
    outputs: &[Output],
) -> Result<Vec<Generated>, crate::Error> {
    let files = in_dir(out_dir, render_set(layout, templates, outputs)?);
    let outcomes = write::write_set(&files)?;
    Ok(generated(outputs, files, outcomes))
}

/// Rendered outputs as the files they become in `out_dir`.
fn in_dir(out_dir: &Path, rendered: Vec<(Output, String)>) -> Vec<(PathBuf, Vec<u8>)> {
    rendered
        .into_iter()
        .map(|(o, text)| (out_dir.join(o.file_name()), text.into_bytes()))
        .collect()
}

/// What writing `files` (one per output, in order) did.
fn generated(
    outputs: &[Output],
    files: Vec<(PathBuf, Vec<u8>)>,
    outcomes: Vec<WriteOutcome>,
) -> Vec<Generated> {
    outputs
        .iter()
        .zip(files)
        .zip(outcomes)
        .map(|((&output, (path, _)), outcome)| Generated {
            output,
            path,
            outcome,
        })
        .collect()
}

fn render_set(
    layout: &Layout,
    templates: &Templates,
    outputs: &[Output],
) -> Result<Vec<(Output, String)>, EmitError> {
    outputs
        .iter()
        .map(|&o| templates.render(layout, o).map(|text| (o, text)))
        .collect()
}

/// What `layoutgen build` writes into one directory: the outputs, then
/// the `layout.stamp` that records them (for the kernel's build.rs).
pub struct OutputSet<'a> {
    /// The spec the layout came from, as given (the stamp names it).
    pub spec: &'a Path,
    /// `--templates`: overrides of the built-in templates.
    pub templates_dir: Option<&'a Path>,
    pub out_dir: &'a Path,
    pub outputs: Vec<Output>,
}

/// What writing an [`OutputSet`] did to each file.
pub struct WrittenSet {
    pub files: Vec<Generated>,
    /// The stamp, written last.
    pub stamp: (PathBuf, WriteOutcome),
}

impl OutputSet<'_> {
    /// Renders the outputs and computes their stamp (reading the spec and
    /// templates) before writing anything, then writes outputs and stamp
    /// as one set, the stamp last: all or nothing.
    pub fn write(&self, layout: &Layout) -> Result<WrittenSet, crate::Error> {
        let templates = Templates::new(self.templates_dir)?;
        let mut outputs = self.outputs.clone();
        outputs.sort();
        outputs.dedup();
        let rendered = render_set(layout, &templates, &outputs)?;
        std::fs::create_dir_all(self.out_dir).map_err(|source| crate::Error::Write {
            path: self.out_dir.to_path_buf(),
            source,
        })?;
        let stamp = crate::stamp::stamp(
            layout,
            self.spec,
            self.templates_dir,
            self.out_dir,
            &rendered,
        )?;
        let stamp_path = self.out_dir.join(layoutgen_build::STAMP_FILE);
        let mut files = in_dir(self.out_dir, rendered);
        files.push((stamp_path.clone(), stamp.render().into_bytes()));
        let mut outcomes = write::write_set(&files)?;
        let stamp_outcome = outcomes.pop().expect("the stamp is in the set");
        Ok(WrittenSet {
            files: generated(&outputs, files, outcomes),
            stamp: (stamp_path, stamp_outcome),
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rust_hex_groups_by_16_bits() {
        assert_eq!(
            super::rust_hex(0xffff_ffff_8000_0000),
            "0xffff_ffff_8000_0000"
        );
        assert_eq!(super::rust_hex(0x8020_0000), "0x8020_0000");
        assert_eq!(super::rust_hex(0x1000), "0x1000");
        assert_eq!(super::rust_hex(0x10000), "0x1_0000");
        assert_eq!(super::rust_hex(0), "0x0");
    }
}
