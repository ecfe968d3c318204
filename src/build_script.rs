//! The `build.rs` API, in the style of `cc` and `prost-build`: validate
//! everything, then write only into `OUT_DIR`, and tell cargo what to track.

use crate::emit::write::WriteOutcome;
use crate::{Error, Layout, LoadOptions, Output, Templates, generate, load};
use std::path::{Path, PathBuf};

/// Generates a kernel's linker script and constants from a layout spec.
///
/// ```no_run
/// // build.rs of a kernel crate
/// fn main() {
///     let out = layoutgen::Build::new()
///         .spec("../layouts/qemu-virt-sv39.toml")
///         // `LAYOUTGEN_SPEC=path cargo build` picks another layout.
///         .spec_env("LAYOUTGEN_SPEC")
///         .compile();
///     println!("cargo:warning=layout {}", out.layout.name);
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Build {
    spec: Option<PathBuf>,
    spec_env: Option<String>,
    templates: Option<PathBuf>,
    out_dir: Option<PathBuf>,
    outputs: Vec<Output>,
    cargo_metadata: bool,
    link_script: bool,
}

/// What `compile` produced.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub layout: Layout,
    pub spec: PathBuf,
    pub linker_script: PathBuf,
    pub rust: PathBuf,
    /// Files that were rewritten (unchanged files keep their mtime).
    pub written: Vec<PathBuf>,
}

impl Default for Build {
    fn default() -> Self {
        Self::new()
    }
}

impl Build {
    pub fn new() -> Build {
        Build {
            spec: None,
            spec_env: None,
            templates: None,
            out_dir: None,
            outputs: Output::ALL.to_vec(),
            cargo_metadata: true,
            link_script: true,
        }
    }

    /// The layout spec (relative paths are relative to the crate root, where
    /// cargo runs build scripts).
    pub fn spec(&mut self, path: impl AsRef<Path>) -> &mut Build {
        self.spec = Some(path.as_ref().to_path_buf());
        self
    }

    /// An environment variable that, when set, overrides the spec path.
    /// Emits `cargo:rerun-if-env-changed`.
    pub fn spec_env(&mut self, var: &str) -> &mut Build {
        self.spec_env = Some(var.to_string());
        self
    }

    /// A directory whose templates replace the built-in ones of the same name.
    pub fn templates(&mut self, dir: impl AsRef<Path>) -> &mut Build {
        self.templates = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Where to write; default `OUT_DIR`.
    pub fn out_dir(&mut self, dir: impl AsRef<Path>) -> &mut Build {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Which files to generate; default all. The linker script and the Rust
    /// constants are always generated, since `compile` returns their paths.
    pub fn outputs(&mut self, outputs: &[Output]) -> &mut Build {
        self.outputs = outputs.to_vec();
        for required in [Output::LinkerScript, Output::Rust] {
            if !self.outputs.contains(&required) {
                self.outputs.push(required);
            }
        }
        self.outputs.sort();
        self
    }

    /// Print `cargo:` lines (default true). Off for use outside build scripts.
    pub fn cargo_metadata(&mut self, on: bool) -> &mut Build {
        self.cargo_metadata = on;
        self
    }

    /// Pass the linker script with `cargo:rustc-link-arg=-T...` (default true).
    pub fn link_script(&mut self, on: bool) -> &mut Build {
        self.link_script = on;
        self
    }

    /// Generates, or prints the same readable errors as the CLI to stderr and
    /// exits the build script with a failure.
    pub fn compile(&self) -> Compiled {
        match self.try_compile() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: layoutgen failed\n{e}");
                std::process::exit(1);
            }
        }
    }

    pub fn try_compile(&self) -> Result<Compiled, Error> {
        let spec = self.resolved_spec_path()?;
        if self.cargo_metadata {
            println!("cargo:rerun-if-changed={}", spec.display());
            if let Some(dir) = &self.templates {
                println!("cargo:rerun-if-changed={}", dir.display());
            }
        }
        let layout = load(&spec, &LoadOptions::default())?;
        let templates = Templates::new(self.templates.as_deref())?;
        if self.cargo_metadata {
            for path in &templates.overrides {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
        let out_dir = match &self.out_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or_else(|| Error::Write {
                    path: PathBuf::from("$OUT_DIR"),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "OUT_DIR is not set: call Build from a build script, or set .out_dir()",
                    ),
                })?,
        };
        let generated = generate(&layout, &templates, &out_dir, &self.outputs)?;
        let path_of = |o: Output| out_dir.join(o.file_name());
        let linker_script = path_of(Output::LinkerScript);
        if self.cargo_metadata && self.link_script {
            println!("cargo:rustc-link-arg=-T{}", linker_script.display());
        }
        Ok(Compiled {
            layout,
            spec,
            rust: path_of(Output::Rust),
            linker_script,
            written: generated
                .into_iter()
                .filter(|g| g.outcome == WriteOutcome::Written)
                .map(|g| g.path)
                .collect(),
        })
    }

    fn resolved_spec_path(&self) -> Result<PathBuf, Error> {
        if let Some(var) = &self.spec_env {
            if self.cargo_metadata {
                println!("cargo:rerun-if-env-changed={var}");
            }
            if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
                return Ok(PathBuf::from(v));
            }
        }
        self.spec.clone().ok_or_else(|| Error::Read {
            path: PathBuf::from("<no spec>"),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "no spec given: call .spec(\"layouts/....toml\")",
            ),
        })
    }
}
