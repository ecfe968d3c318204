//! The build-script half of layoutgen's ahead-of-time mode, with no
//! dependencies.
//!
//! `layoutgen build --spec SPEC --out-dir DIR` writes the linker script, the
//! Rust constants and a `layout.stamp` into the kernel's tree, where they are
//! committed like any other source. The kernel's `build.rs` then only checks
//! that they are still what the spec says:
//!
//! ```no_run
//! // build.rs of a kernel crate
//! fn main() {
//!     let layout = layoutgen_build::Outputs::new("layout")
//!         .spec("../layouts/qemu-virt-sv39.toml")
//!         // `LAYOUTGEN_OUT=dir cargo build` uses outputs generated elsewhere.
//!         .dir_env("LAYOUTGEN_OUT")
//!         .verify();
//!     // `include!(concat!(env!("LAYOUTGEN_DIR"), "/layout.rs"))` in the kernel.
//!     assert_eq!(layout.fact("code_model"), Some("fixed"));
//! }
//! ```
//!
//! The check hashes the spec text (and the override templates, if any) and
//! compares it with the stamp; it also hashes each generated file, so a
//! hand-edited output is caught too. On a mismatch the build fails with the
//! exact `layoutgen build` command that brings the files up to date. This
//! crate never parses the spec: diagnostics for it come from `layoutgen
//! build`/`layoutgen check`.
//!
//! The hash is FNV-1a 64: change detection, not security. `layoutgen` itself
//! uses this crate to write the stamp, so both sides hash the same way.

#![forbid(unsafe_code)]
// The examples are build scripts: their `main` is the point.
#![allow(clippy::needless_doctest_main)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The stamp's file name, next to the generated files.
pub const STAMP_FILE: &str = "layout.stamp";

/// Version of the stamp format (the first hashed field, and a stamp line).
pub const STAMP_FORMAT: u32 = 1;

/// The generated files `layoutgen build --emit` can write, by `--emit` id.
pub const OUTPUTS: [(&str, &str); 6] = [
    ("ld", "layout.ld"),
    ("rs", "layout.rs"),
    ("h", "layout.h"),
    ("json", "layout.json"),
    ("boot", "boot.env"),
    ("dts", "boot.dtsi"),
];

/// The most `layoutgen-build` reads of any one file (stamp, spec, template,
/// generated output): far above any real one, low enough that a stamp line
/// naming a device cannot fill memory.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// Reads the regular file `path`, at most [`MAX_FILE_BYTES`]. Anything else
/// (a FIFO would block the build, a device would never end) is refused
/// before it is opened, and checked again once open. (The `layoutgen` CLI
/// also opens non-blocking; this crate has no dependencies, so the window
/// between the check and the open is left to the two checks.)
pub fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind, Read};
    let refuse = |meta: std::fs::Metadata| {
        if meta.is_file() {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::InvalidInput,
                "not a regular file".to_string(),
            ))
        }
    };
    refuse(std::fs::metadata(path)?)?;
    let file = std::fs::File::open(path)?;
    refuse(file.metadata()?)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::new(
            ErrorKind::InvalidData,
            format!("larger than {} MiB", MAX_FILE_BYTES >> 20),
        ));
    }
    Ok(bytes)
}

/// Characters that would act on a terminal or a CI log rather than be
/// shown: control characters (C0 with line breaks and ESC, DEL, C1) and the
/// invisible or reordering ones (bidirectional overrides and isolates,
/// zero-width characters, the byte-order mark). The one definition:
/// `layoutgen::format::is_unprintable` is this function.
pub fn is_unprintable(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// A string from a stamp, a path or the environment as it may appear in a
/// message (cargo prints a failing build script's stderr as it is, and CI
/// logs take `::` lines as commands): every [`is_unprintable`] character
/// written as `\u{..}`, so no escape sequence or line break gets through.
pub fn shown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_unprintable(c) {
            write!(out, "\\u{{{:x}}}", c as u32).unwrap();
        } else {
            out.push(c);
        }
    }
    out
}

/// FNV-1a, 64 bits, over a sequence of length-prefixed fields (so that
/// moving bytes from one field to the next changes the hash).
#[derive(Debug, Clone)]
pub struct Hasher(u64);

impl Default for Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Hasher {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    pub fn new() -> Hasher {
        Hasher(Self::OFFSET)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    /// Adds one field: its length (u64, little endian), then its bytes.
    pub fn field(&mut self, bytes: &[u8]) -> &mut Hasher {
        self.bytes(&(bytes.len() as u64).to_le_bytes());
        self.bytes(bytes);
        self
    }

    pub fn finish(&self) -> u64 {
        self.0
    }

    /// `fnv1a64:` and 16 hex digits, as stamps write hashes.
    pub fn hex(&self) -> String {
        format!("fnv1a64:{:016x}", self.0)
    }
}

/// The hash of one generated file's bytes.
pub fn file_hash(bytes: &[u8]) -> String {
    Hasher::new().field(bytes).hex()
}

/// The inputs of a generation: the generator (`layoutgen <version>`), the
/// spec's bytes and the override templates (name and bytes, sorted by name).
pub fn inputs_hash(generator: &str, spec: &[u8], templates: &[(String, Vec<u8>)]) -> String {
    let mut h = Hasher::new();
    h.field(format!("layoutgen-stamp/{STAMP_FORMAT}").as_bytes())
        .field(generator.as_bytes())
        .field(spec);
    for (name, bytes) in templates {
        h.field(name.as_bytes()).field(bytes);
    }
    h.hex()
}

/// The override templates in `dir` that a generation may read: every
/// regular file whose name ends in `.j2`, sorted by name.
pub fn template_files(dir: &Path) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".j2") && entry.file_type()?.is_file() {
            files.push((name, read_regular(&entry.path())?));
        }
    }
    files.sort();
    Ok(files)
}

/// The contents of `layout.stamp`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stamp {
    /// `layoutgen <version>`: hashed into `inputs`.
    pub generator: String,
    /// The spec, relative to the stamp's directory (checked when the
    /// directory comes from [`Outputs::dir_env`]).
    pub spec: String,
    /// The templates directory, relative to the stamp's directory, if any.
    pub templates: Option<String>,
    /// [`inputs_hash`] of the spec text and templates.
    pub inputs: String,
    /// Generated file name and its [`file_hash`].
    pub outputs: Vec<(String, String)>,
    /// Facts about the layout a build script may need without parsing the
    /// spec (`code_model`, `gp_policy`, `modes`, `insert`, ...), in order;
    /// a key may repeat.
    pub facts: Vec<(String, String)>,
}

impl Stamp {
    pub fn render(&self) -> String {
        let mut s = String::new();
        s.push_str(
            "# Written by `layoutgen build`; checked by layoutgen-build in build.rs.\n\
             # Do not edit: regenerate with `layoutgen build`.\n",
        );
        let mut line = |k: &str, v: &str| writeln!(s, "{k} = {v}").unwrap();
        line("format", &STAMP_FORMAT.to_string());
        line("generator", &self.generator);
        line("spec", &self.spec);
        if let Some(t) = &self.templates {
            line("templates", t);
        }
        line("inputs", &self.inputs);
        for (file, hash) in &self.outputs {
            line(&format!("output {file}"), hash);
        }
        for (key, value) in &self.facts {
            line(&format!("fact {key}"), value);
        }
        s
    }

    pub fn parse(text: &str) -> Result<Stamp, String> {
        let mut stamp = Stamp::default();
        let mut format = None;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once(" = ") else {
                return Err(format!("line {}: expected `key = value`", n + 1));
            };
            let value = value.to_string();
            match key.split_once(' ') {
                Some(("output", file)) => {
                    // Only the generated files, by bare name: a stamp must
                    // not make the build read outside its directory or a
                    // device (`output ../spec.toml`, `output /dev/zero`).
                    if !OUTPUTS.iter().any(|(_, f)| *f == file) {
                        return Err(format!(
                            "line {}: `output {}` is not one of the generated files ({})",
                            n + 1,
                            shown(file),
                            OUTPUTS.map(|(_, f)| f).join(", ")
                        ));
                    }
                    if stamp.outputs.iter().any(|(f, _)| f == file) {
                        return Err(format!("line {}: `output {file}` appears twice", n + 1));
                    }
                    stamp.outputs.push((file.to_string(), value))
                }
                Some(("fact", fact)) => stamp.facts.push((fact.to_string(), value)),
                _ => match key {
                    "format" => format = Some(value),
                    "generator" => stamp.generator = value,
                    "spec" => stamp.spec = value,
                    "templates" => stamp.templates = Some(value),
                    "inputs" => stamp.inputs = value,
                    _ => return Err(format!("line {}: unknown key `{}`", n + 1, shown(key))),
                },
            }
        }
        let missing = [
            ("generator", stamp.generator.is_empty()),
            ("inputs", stamp.inputs.is_empty()),
        ];
        match format {
            Some(f) if f == STAMP_FORMAT.to_string() => {
                if let Some((key, _)) = missing.iter().find(|(_, gone)| *gone) {
                    return Err(format!(
                        "no `{key}` line (the stamp is cut short or edited)"
                    ));
                }
                Ok(stamp)
            }
            Some(f) => Err(format!(
                "stamp format {}, this layoutgen-build reads format {STAMP_FORMAT}",
                shown(&f)
            )),
            None => Err("no `format` line".to_string()),
        }
    }

    /// The first value of a fact.
    pub fn fact(&self, key: &str) -> Option<&str> {
        self.facts
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a fact, in order.
    pub fn facts_named<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.facts
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The command that (re)generates the outputs.
pub fn command(
    spec: &str,
    out_dir: &str,
    templates: Option<&str>,
    emit: Option<&[&str]>,
) -> String {
    let quote = |s: &str| {
        if !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/._-+=:,@".contains(&b))
        {
            s.to_string()
        } else {
            format!("'{}'", s.replace('\'', r"'\''"))
        }
    };
    let mut cmd = format!(
        "layoutgen build --spec {} --out-dir {}",
        quote(spec),
        quote(out_dir)
    );
    if let Some(t) = templates {
        write!(cmd, " --templates {}", quote(t)).unwrap();
    }
    // `layoutgen build`'s default set needs no --emit.
    if let Some(e) = emit.filter(|e| *e != ["ld", "rs", "h", "json"]) {
        write!(cmd, " --emit {}", e.join(",")).unwrap();
    }
    cmd
}

/// Checks a kernel's committed layoutgen outputs from its `build.rs`.
#[derive(Debug, Clone)]
pub struct Outputs {
    dir: PathBuf,
    dir_env: Option<String>,
    spec: Option<PathBuf>,
    templates: Option<PathBuf>,
    emit: Vec<&'static str>,
    cargo_metadata: bool,
    link_script: bool,
    gp_flag: bool,
}

/// The linker flag `gp.policy = "relax"` needs, if any: rust-lld (what
/// cargo links riscv targets with unless told otherwise) relaxes nothing
/// against `__global_pointer$` without `--relax-gp`; GNU ld relaxes by
/// default. `target` is cargo's `TARGET`, `linker` its `RUSTC_LINKER`.
pub fn gp_linker_flag(gp_policy: &str, target: &str, linker: Option<&str>) -> Option<&'static str> {
    let lld = linker.is_none_or(|l| {
        Path::new(l)
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains("lld"))
    });
    (gp_policy == "relax" && target.starts_with("riscv") && lld).then_some("--relax-gp")
}

/// What a successful check found.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The directory of the generated files (absolute).
    pub dir: PathBuf,
    pub linker_script: PathBuf,
    pub rust: PathBuf,
    pub stamp: Stamp,
}

impl Verified {
    /// The first value of a fact about the layout (see [`Stamp::facts`]).
    pub fn fact(&self, key: &str) -> Option<&str> {
        self.stamp.fact(key)
    }

    /// As [`fact`](Self::fact), for a fact the build cannot go on without:
    /// panics (failing the build script) when the stamp has none.
    #[track_caller]
    pub fn required_fact(&self, key: &str) -> &str {
        let Some(value) = self.fact(key) else {
            panic!("layout.stamp has no fact `{key}`")
        };
        value
    }
}

/// Why the check failed; `Display` says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    pub reason: String,
    /// The `layoutgen build` command that fixes it.
    pub command: String,
    /// Where to run the command.
    pub cwd: PathBuf,
}

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Every part may hold a name from the stamp, a path or the
        // environment: shown, never raw.
        write!(
            f,
            "{}\nregenerate the layout files, in {}:\n\n    {}\n",
            shown(&self.reason),
            shown(&self.cwd.display().to_string()),
            shown(&self.command)
        )
    }
}

impl std::error::Error for Stale {}

impl Outputs {
    /// `dir`: where `layoutgen build --out-dir` wrote the outputs, relative
    /// to the crate root (where cargo runs build scripts).
    pub fn new(dir: impl AsRef<Path>) -> Outputs {
        Outputs {
            dir: dir.as_ref().to_path_buf(),
            dir_env: None,
            spec: None,
            templates: None,
            emit: vec!["ld", "rs"],
            cargo_metadata: true,
            link_script: true,
            gp_flag: true,
        }
    }

    /// The layout spec the outputs must come from (relative to the crate
    /// root). Required unless the directory comes from `dir_env`, where the
    /// stamp's own spec path is checked.
    pub fn spec(&mut self, path: impl AsRef<Path>) -> &mut Outputs {
        self.spec = Some(path.as_ref().to_path_buf());
        self
    }

    /// An environment variable that, when set and not empty, names another
    /// directory of outputs (made by `layoutgen build --out-dir`), checked
    /// against the spec its stamp names. Emits `cargo:rerun-if-env-changed`.
    pub fn dir_env(&mut self, var: &str) -> &mut Outputs {
        self.dir_env = Some(var.to_string());
        self
    }

    /// The templates directory passed to `layoutgen build --templates`.
    pub fn templates(&mut self, dir: impl AsRef<Path>) -> &mut Outputs {
        self.templates = Some(dir.as_ref().to_path_buf());
        self
    }

    /// The `--emit` ids the fix command should name (default `ld`, `rs`:
    /// what a Rust kernel needs). `ld` and `rs` must be among them.
    pub fn emit(&mut self, ids: &[&'static str]) -> &mut Outputs {
        self.emit = ids.to_vec();
        self
    }

    /// Print `cargo:` lines (default true).
    pub fn cargo_metadata(&mut self, on: bool) -> &mut Outputs {
        self.cargo_metadata = on;
        self
    }

    /// Pass the linker script with `cargo:rustc-link-arg=-T...` (default true).
    pub fn link_script(&mut self, on: bool) -> &mut Outputs {
        self.link_script = on;
        self
    }

    /// With the linker script, pass the flag the spec's gp policy needs
    /// ([`gp_linker_flag`]: `--relax-gp` for rust-lld; default true).
    pub fn gp_linker_flag(&mut self, on: bool) -> &mut Outputs {
        self.gp_flag = on;
        self
    }

    /// Checks, or prints why not and the command that fixes it to stderr and
    /// exits the build script with a failure.
    pub fn verify(&self) -> Verified {
        match self.try_verify() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: layoutgen outputs are out of date\n{e}");
                std::process::exit(1);
            }
        }
    }

    pub fn try_verify(&self) -> Result<Verified, Stale> {
        let cwd = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default();
        let meta = |line: std::fmt::Arguments| {
            if self.cargo_metadata {
                println!("cargo:{line}");
            }
        };
        let mut from_env = None;
        if let Some(var) = &self.dir_env {
            meta(format_args!("rerun-if-env-changed={var}"));
            from_env = std::env::var_os(var).filter(|v| !v.is_empty());
        }
        let dir_arg = from_env
            .map(PathBuf::from)
            .unwrap_or_else(|| self.dir.clone());
        let by_env = dir_arg != self.dir;
        let dir = cwd.join(&dir_arg);
        let stamp_path = dir.join(STAMP_FILE);
        meta(format_args!("rerun-if-changed={}", stamp_path.display()));

        let text = |p: &Path| p.to_string_lossy().into_owned();
        let read = read_regular(&stamp_path).and_then(|b| {
            String::from_utf8(b)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        });
        let stamp = read.as_ref().ok().map(|t| Stamp::parse(t));
        let spec_arg = match (&self.spec, &stamp) {
            (Some(s), _) if !by_env => s.clone(),
            (_, Some(Ok(st))) if !st.spec.is_empty() => dir_arg.join(&st.spec),
            (Some(s), _) => s.clone(),
            (None, _) => PathBuf::from("<spec.toml>"),
        };
        let templates_arg = if by_env {
            stamp
                .as_ref()
                .and_then(|s| s.as_ref().ok())
                .and_then(|s| s.templates.as_ref())
                .map(|t| dir_arg.join(t))
        } else {
            self.templates.clone()
        };
        let emit: Vec<&str> = match &stamp {
            Some(Ok(st)) if by_env => OUTPUTS
                .iter()
                .filter(|(_, f)| st.outputs.iter().any(|(o, _)| o == f))
                .map(|(id, _)| *id)
                .collect(),
            _ => self.emit.clone(),
        };
        let stale = |reason: String| Stale {
            reason,
            command: command(
                &text(&spec_arg),
                &text(&dir_arg),
                templates_arg.as_deref().map(text).as_deref(),
                Some(&emit),
            ),
            cwd: cwd.clone(),
        };

        let stamp = match (read, stamp) {
            (Err(e), _) => {
                return Err(stale(format!("cannot read {}: {e}", stamp_path.display())));
            }
            (_, Some(Err(e))) => {
                return Err(stale(format!("{}: {e}", stamp_path.display())));
            }
            (_, Some(Ok(s))) => s,
            (Ok(_), None) => unreachable!("a read stamp is parsed"),
        };

        let spec_path = cwd.join(&spec_arg);
        meta(format_args!("rerun-if-changed={}", spec_path.display()));
        let spec = read_regular(&spec_path)
            .map_err(|e| stale(format!("cannot read the spec {}: {e}", spec_path.display())))?;
        let templates = match &templates_arg {
            Some(t) => {
                let t = cwd.join(t);
                meta(format_args!("rerun-if-changed={}", t.display()));
                let files = template_files(&t).map_err(|e| {
                    stale(format!("cannot read the templates {}: {e}", t.display()))
                })?;
                for (name, _) in &files {
                    meta(format_args!("rerun-if-changed={}", t.join(name).display()));
                }
                files
            }
            None => Vec::new(),
        };
        if inputs_hash(&stamp.generator, &spec, &templates) != stamp.inputs {
            let what = if templates_arg.is_some() || stamp.templates.is_some() {
                "the spec or the templates changed"
            } else {
                "the spec changed"
            };
            return Err(stale(format!(
                "{} is out of date: {what} since `layoutgen build` wrote it (spec {}, stamp {})",
                dir_arg.display(),
                spec_path.display(),
                stamp_path.display()
            )));
        }
        for required in ["layout.ld", "layout.rs"] {
            if !stamp.outputs.iter().any(|(f, _)| f == required) {
                return Err(stale(format!(
                    "{} has no {required}: generate it with `--emit ld,rs`",
                    dir.display()
                )));
            }
        }
        for (file, hash) in &stamp.outputs {
            let path = dir.join(file);
            meta(format_args!("rerun-if-changed={}", path.display()));
            let bytes = read_regular(&path)
                .map_err(|e| stale(format!("cannot read {}: {e}", path.display())))?;
            if &file_hash(&bytes) != hash {
                return Err(stale(format!(
                    "{} is not what `layoutgen build` wrote (edited by hand?)",
                    path.display()
                )));
            }
        }
        let linker_script = dir.join("layout.ld");
        if self.link_script {
            meta(format_args!("rustc-link-arg=-T{}", linker_script.display()));
            let target = std::env::var("TARGET").unwrap_or_default();
            let linker = std::env::var("RUSTC_LINKER").ok();
            if self.gp_flag
                && let Some(flag) = gp_linker_flag(
                    stamp.fact("gp_policy").unwrap_or(""),
                    &target,
                    linker.as_deref(),
                )
            {
                meta(format_args!("rustc-link-arg={flag}"));
            }
        }
        meta(format_args!("rustc-env=LAYOUTGEN_DIR={}", dir.display()));
        Ok(Verified {
            rust: dir.join("layout.rs"),
            linker_script,
            dir,
            stamp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_reference_values() {
        // The published FNV-1a 64 test vectors (raw bytes, no length prefix).
        let raw = |s: &str| {
            let mut h = Hasher::new();
            h.bytes(s.as_bytes());
            h.finish()
        };
        assert_eq!(raw(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(raw("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(raw("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn fields_are_length_prefixed() {
        let a = Hasher::new().field(b"ab").field(b"c").finish();
        let b = Hasher::new().field(b"a").field(b"bc").finish();
        assert_ne!(a, b);
    }

    #[test]
    fn inputs_hash_covers_generator_spec_and_templates() {
        let t = vec![("linker.ld.j2".to_string(), b"x".to_vec())];
        let base = inputs_hash("layoutgen 0.1.0", b"spec", &[]);
        assert_ne!(base, inputs_hash("layoutgen 0.2.0", b"spec", &[]));
        assert_ne!(base, inputs_hash("layoutgen 0.1.0", b"spec ", &[]));
        assert_ne!(base, inputs_hash("layoutgen 0.1.0", b"spec", &t));
        assert_eq!(base, inputs_hash("layoutgen 0.1.0", b"spec", &[]));
    }

    #[test]
    fn gp_relaxation_asks_rust_lld_for_it_and_nobody_else() {
        let t = "riscv64gc-unknown-none-elf";
        assert_eq!(gp_linker_flag("relax", t, None), Some("--relax-gp"));
        assert_eq!(
            gp_linker_flag("relax", t, Some("/x/rust-lld")),
            Some("--relax-gp")
        );
        assert_eq!(
            gp_linker_flag("relax", t, Some("riscv64-linux-gnu-ld")),
            None
        );
        assert_eq!(gp_linker_flag("disabled", t, None), None);
        assert_eq!(gp_linker_flag("relax", "aarch64-unknown-none", None), None);
    }

    #[test]
    fn stamp_round_trips() {
        let stamp = Stamp {
            generator: "layoutgen 0.1.0".into(),
            spec: "../layouts/a b.toml".into(),
            templates: Some("tmpl".into()),
            inputs: "fnv1a64:0123456789abcdef".into(),
            outputs: vec![("layout.ld".into(), file_hash(b"ld"))],
            facts: vec![
                ("code_model".into(), "fixed".into()),
                ("insert".into(), ".text a".into()),
                ("insert".into(), ".text b".into()),
            ],
        };
        let parsed = Stamp::parse(&stamp.render()).unwrap();
        assert_eq!(parsed, stamp);
        assert_eq!(
            parsed.facts_named("insert").collect::<Vec<_>>(),
            [".text a", ".text b"]
        );
        assert!(
            Stamp::parse("format = 2\n")
                .unwrap_err()
                .contains("format 2")
        );
        assert!(Stamp::parse("nonsense\n").is_err());
    }

    #[test]
    fn command_quotes_only_when_needed() {
        assert_eq!(
            command("../l/x.toml", "layout", None, Some(&["ld", "rs"])),
            "layoutgen build --spec ../l/x.toml --out-dir layout --emit ld,rs"
        );
        assert_eq!(
            command(
                "my spec.toml",
                "out",
                Some("t"),
                Some(&["ld", "rs", "h", "json"])
            ),
            "layoutgen build --spec 'my spec.toml' --out-dir out --templates t"
        );
    }
}
