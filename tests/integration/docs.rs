//! Every documented example is executed: each fenced block of `README.md`
//! and `docs/**/*.md` carries a directive on the line before it saying how
//! this test runs it, and a block without one fails the test. So the
//! documentation cannot drift from the tool.
//!
//! Directives (`<!-- docs: ... -->`, or the older `<!-- example: ... -->`):
//!
//! | directive | block | what is done |
//! |---|---|---|
//! | `example: layoutgen ARGS` | text | run from the repository root; stdout must equal the block |
//! | `spec` | toml | a whole spec: `check` must accept it |
//! | `spec-part [at=TABLE] BASE` | toml | merged into spec BASE (at TABLE): `check` must accept the result |
//! | `file PATH` / `append PATH` | any | written to (appended to) PATH in the document's scratch tree |
//! | `run [in=DIR] [exit=N]` | sh | run with `bash -euo pipefail` in DIR; must exit N (0) |
//! | `output` | text | stdout and stderr of the `run` before it |
//! | `transcript [in=DIR]` | text | `$ command` lines run in DIR, each followed by its output |
//! | `json-shape [in=DIR] [excerpt=yes] COMMAND` | jsonc | COMMAND's JSON has exactly the keys shown, recursively (an excerpt: at least those) |
//! | `rust-in [run=A,B] [exit=N] FILE` | rust | the lines appear in FILE, an example this suite builds; it runs with arguments A B and must exit N |
//! | `run-by-ci` | sh | each command is one `.ci/run` runs |
//! | `not-an-example: WHY` | text or plain | not run (a grammar, a picture of the source tree, a measurement) |
//! | `long-running: WHY` | sh | not run: only `scripts/fuzz` (minutes of fuzzing) and `scripts/bench*` runs qualify |
//!
//! DIR is relative to the repository, or to the document's scratch tree
//! with a leading `@` (`$TMPDIR/layoutgen-docs-<document>-XXXXXX/`, this run's own,
//! outside any cargo workspace; it holds `layoutgen` and `layouts`, links to
//! this repository, so a kernel written there finds both as a user's kernel
//! beside a checkout would). Commands find what `cargo install` put in the
//! scratch tree (`CARGO_INSTALL_ROOT`) first on PATH, then this build's
//! `layoutgen`. Blocks run in the repository share `target/docs-cargo` as
//! cargo's target directory, so `cargo install --path .` is incremental;
//! in the scratch tree each crate builds into its own `target/`. The scratch
//! path is shown as `/src` in outputs. In expected outputs a line `...` stands
//! for any number of lines and a line ending in ` ...` for any ending.
//! `UPDATE_DOCS=1` rewrites `example` blocks and `output`/`transcript`
//! blocks without elisions from what the commands print now.

use crate::support::cli::{LAYOUTGEN, layoutgen};
use crate::support::root;
use crate::support::sample_kernels::without_host_flags;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone)]
enum Directive {
    Example(String),
    Spec,
    SpecPart {
        base: String,
        at: Option<String>,
    },
    File {
        path: String,
        append: bool,
    },
    Run {
        dir: String,
        exit: i32,
    },
    Output,
    Transcript {
        dir: String,
    },
    JsonShape {
        dir: String,
        command: String,
        excerpt: bool,
    },
    RustIn {
        file: String,
        run: Option<String>,
        exit: i32,
    },
    RunByCi,
    NotAnExample,
    LongRunning,
}

struct Block {
    line: usize,
    directive: Directive,
    lang: String,
    body: String,
    /// Byte range of the body in the document, for UPDATE_DOCS.
    body_range: std::ops::Range<usize>,
}

/// `key=value` options, then the rest of the directive.
fn options(rest: &str) -> (Vec<(String, String)>, String) {
    let mut opts = Vec::new();
    let mut words = rest.split_whitespace().peekable();
    while let Some(w) = words.peek() {
        match w.split_once('=') {
            Some((k, v)) if !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase()) => {
                opts.push((k.to_string(), v.to_string()));
                words.next();
            }
            _ => break,
        }
    }
    (opts, words.collect::<Vec<_>>().join(" "))
}

fn opt(opts: &[(String, String)], key: &str) -> Option<String> {
    opts.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

fn parse_directive(comment: &str) -> Result<Directive, String> {
    if let Some(args) = comment.strip_prefix("example: layoutgen ") {
        return Ok(Directive::Example(args.to_string()));
    }
    let Some(d) = comment.strip_prefix("docs: ") else {
        return Err(format!("not a directive: <!-- {comment} -->"));
    };
    let (kind, rest) = d.split_once(' ').unwrap_or((d, ""));
    let (opts, rest) = options(rest);
    let dir = opt(&opts, "in").unwrap_or_else(|| ".".into());
    Ok(match kind {
        "spec" => Directive::Spec,
        "spec-part" => Directive::SpecPart {
            base: rest,
            at: opt(&opts, "at"),
        },
        "file" | "append" => Directive::File {
            path: rest,
            append: kind == "append",
        },
        "run" => Directive::Run {
            dir,
            exit: opt(&opts, "exit").map_or(0, |e| e.parse().expect("exit=N")),
        },
        "output" => Directive::Output,
        "transcript" => Directive::Transcript { dir },
        "json-shape" => Directive::JsonShape {
            dir,
            command: rest,
            excerpt: opt(&opts, "excerpt").is_some_and(|v| v == "yes"),
        },
        "rust-in" => Directive::RustIn {
            file: rest,
            run: opt(&opts, "run").map(|r| r.replace(',', " ")),
            exit: opt(&opts, "exit").map_or(0, |e| e.parse().expect("exit=N")),
        },
        "run-by-ci" => Directive::RunByCi,
        "not-an-example:" => Directive::NotAnExample,
        "long-running:" => Directive::LongRunning,
        other => return Err(format!("unknown directive `{other}`")),
    })
}

/// The fenced blocks of a Markdown document with their directives; a block
/// without one is an error naming its line.
fn blocks(text: &str) -> Result<Vec<Block>, Vec<String>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut offset = 0;
    let mut lines = text.split_inclusive('\n').enumerate().peekable();
    let mut previous = "";
    while let Some((i, line)) = lines.next() {
        offset += line.len();
        let trimmed = line.trim_end();
        if let Some(lang) = trimmed.strip_prefix("```") {
            let body_start = offset;
            let mut body_end = offset;
            for (_, l) in lines.by_ref() {
                offset += l.len();
                if l.trim_end() == "```" {
                    break;
                }
                body_end = offset;
            }
            let body = text[body_start..body_end].to_string();
            let directive = previous
                .trim()
                .strip_prefix("<!-- ")
                .and_then(|c| c.strip_suffix(" -->"))
                .ok_or_else(|| "no <!-- docs: ... --> directive on the line before".to_string())
                .and_then(parse_directive);
            match directive {
                Ok(directive) => out.push(Block {
                    line: i + 1,
                    directive,
                    lang: lang.to_string(),
                    body,
                    body_range: body_start..body_end,
                }),
                Err(e) => errors.push(format!("line {}: {e}", i + 1)),
            }
        }
        previous = trimmed;
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Expected output `want` (with `...` elisions) against `got`.
fn matches(want: &str, got: &str) -> bool {
    fn go(want: &[&str], got: &[&str]) -> bool {
        match want.split_first() {
            None => got.is_empty(),
            Some((&"...", rest)) => (0..=got.len()).any(|skip| go(rest, &got[skip..])),
            Some((w, rest)) => match got.split_first() {
                None => false,
                Some((g, grest)) => {
                    let line_ok = match w.strip_suffix(" ...") {
                        Some(prefix) => g.starts_with(prefix),
                        None => w == g,
                    };
                    line_ok && go(rest, grest)
                }
            },
        }
    }
    let want: Vec<&str> = want.lines().collect();
    let got: Vec<&str> = got.lines().collect();
    go(&want, &got)
}

fn has_elision(text: &str) -> bool {
    text.lines().any(|l| l == "..." || l.ends_with(" ..."))
}

struct Scenario {
    name: String,
    scratch: PathBuf,
    /// Removes the scratch tree when the document is done.
    _scratch_dir: tempfile::TempDir,
    last_output: Option<String>,
    failures: Vec<String>,
    /// (body range, new body) for UPDATE_DOCS.
    updates: Vec<(std::ops::Range<usize>, String)>,
}

impl Scenario {
    fn new(doc: &Path) -> Scenario {
        let name = doc
            .strip_prefix(root())
            .unwrap()
            .to_string_lossy()
            .replace(['/', '.'], "_");
        // A directory of this run's own: two runs at once (CI beside a
        // developer's run) must not share a kernel crate.
        let scratch_dir = tempfile::Builder::new()
            .prefix(&format!("layoutgen-docs-{name}-"))
            .tempdir()
            .unwrap();
        let scratch = scratch_dir.path().to_path_buf();
        for link in ["layoutgen", "layouts"] {
            let target = if link == "layoutgen" {
                root().to_path_buf()
            } else {
                root().join(link)
            };
            std::os::unix::fs::symlink(target, scratch.join(link)).unwrap();
        }
        Scenario {
            name,
            scratch,
            _scratch_dir: scratch_dir,
            last_output: None,
            failures: Vec::new(),
            updates: Vec::new(),
        }
    }

    fn dir(&self, dir: &str) -> PathBuf {
        match dir.strip_prefix('@') {
            Some(rest) => self.scratch.join(rest),
            None => root().join(dir),
        }
    }

    fn fail(&mut self, block: &Block, message: String) {
        self.failures
            .push(format!("{} line {}: {message}", self.name, block.line));
    }

    /// Runs `script` with bash in `dir`: (exit status, stdout+stderr with
    /// the scratch path shown as /src).
    fn bash(&self, dir: &Path, script: &str) -> (i32, String) {
        let bin = Path::new(LAYOUTGEN).parent().unwrap();
        let install = self.scratch.join("install");
        let path = format!(
            "{}:{}:{}",
            install.join("bin").display(),
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        std::fs::create_dir_all(dir).unwrap();
        let mut cmd = Command::new("bash");
        cmd.args(["-euo", "pipefail", "-c"])
            .arg(format!("exec 2>&1\n{script}"))
            .current_dir(dir)
            .env("PATH", path)
            .env("NO_COLOR", "1")
            .env("CARGO_INSTALL_ROOT", &install)
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("LAYOUTGEN_OUT");
        // Kernels built by the examples use their own .cargo/config.toml.
        without_host_flags(&mut cmd);
        if !dir.starts_with(&self.scratch) {
            cmd.env("CARGO_TARGET_DIR", root().join("target/docs-cargo"));
        }
        let out = cmd.output().expect("bash runs");
        let text = String::from_utf8_lossy(&out.stdout)
            .replace(&self.scratch.display().to_string(), "/src");
        (out.status.code().unwrap_or(-1), text)
    }

    fn run(&mut self, b: &Block) {
        match b.directive.clone() {
            Directive::Example(args) => {
                let argv: Vec<&str> = args.split_whitespace().collect();
                if argv.first() == Some(&"build") {
                    // Start from nothing, so the output says "wrote" every time.
                    if let Some(i) = argv.iter().position(|a| *a == "--out-dir") {
                        let _ = std::fs::remove_dir_all(root().join(argv[i + 1]));
                    }
                }
                let out = layoutgen(&argv);
                // `diff` exits 1 when the specs differ, which its example shows.
                let differ = argv.first() == Some(&"diff") && out.status.code() == Some(1);
                if !(out.status.success() || differ) {
                    let e = format!("layoutgen {args}: {}", String::from_utf8_lossy(&out.stderr));
                    self.fail(b, e);
                    return;
                }
                let got = String::from_utf8(out.stdout).unwrap();
                self.compare(b, got);
            }
            Directive::Spec => {
                if let Err(d) = crate::support::specs::check_text(&b.body, "README spec") {
                    self.fail(b, format!("the spec fails check: {d:#?}"));
                }
            }
            Directive::SpecPart { base, at } => {
                let merged = merge_spec(&root().join(&base), at.as_deref(), &b.body);
                match merged {
                    Err(e) => self.fail(b, e),
                    Ok(text) => {
                        if let Err(d) = crate::support::specs::check_text(&text, &base) {
                            self.fail(b, format!("merged into {base}, check fails: {d:#?}"));
                        }
                    }
                }
            }
            Directive::File { path, append } => {
                if !path.starts_with('@') {
                    return self.fail(
                        b,
                        format!("{path}: files are written in the scratch tree (@...)"),
                    );
                }
                let path = self.dir(&path);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                let mut text = if append {
                    std::fs::read_to_string(&path).unwrap_or_default()
                } else {
                    String::new()
                };
                text.push_str(&b.body);
                std::fs::write(&path, text).unwrap();
            }
            Directive::Run { dir, exit } => {
                let (status, text) = self.bash(&self.dir(&dir), &b.body);
                if status != exit {
                    self.fail(b, format!("exit status {status}, not {exit}:\n{text}"));
                }
                self.last_output = Some(text);
            }
            Directive::Output => match self.last_output.take() {
                None => self.fail(b, "an `output` block with no `run` before it".into()),
                Some(got) => self.compare(b, got),
            },
            Directive::Transcript { dir } => {
                let dir = self.dir(&dir);
                let mut got = String::new();
                for line in b.body.lines() {
                    if let Some(command) = line.strip_prefix("$ ") {
                        got.push_str(line);
                        got.push('\n');
                        got.push_str(&self.bash(&dir, command).1);
                    }
                }
                self.compare(b, got);
            }
            Directive::JsonShape {
                dir,
                command,
                excerpt,
            } => {
                let (_, text) = self.bash(&self.dir(&dir), &format!("{command} 2>/dev/null"));
                let want = match serde_json::from_str(&strip_json_comments(&b.body)) {
                    Ok(v) => v,
                    Err(e) => return self.fail(b, format!("the block is not JSON(C): {e}")),
                };
                match serde_json::from_str::<serde_json::Value>(&text) {
                    Err(e) => self.fail(b, format!("`{command}` printed no JSON ({e}):\n{text}")),
                    Ok(got) => {
                        let mut diffs = Vec::new();
                        same_shape(&want, &got, "$", excerpt, &mut diffs);
                        if !diffs.is_empty() {
                            self.fail(b, format!("`{command}`: {}", diffs.join("; ")));
                        }
                    }
                }
            }
            Directive::RustIn { file, run, exit } => {
                let source = std::fs::read_to_string(root().join(&file)).unwrap_or_default();
                let source: Vec<&str> = source.lines().map(str::trim).collect();
                let want: Vec<&str> = b.body.lines().map(str::trim).collect();
                if !source.windows(want.len()).any(|w| w == want.as_slice()) {
                    return self.fail(b, format!("these lines are not in {file}"));
                }
                if let Some(args) = run {
                    // Examples are built by `cargo test` beside the test binaries.
                    let exe = std::env::current_exe().unwrap();
                    let stem = Path::new(&file).file_stem().unwrap();
                    let example = exe
                        .parent()
                        .unwrap()
                        .parent()
                        .unwrap()
                        .join("examples")
                        .join(stem);
                    let out = Command::new(&example)
                        .args(args.split_whitespace())
                        .current_dir(root())
                        .output();
                    match out {
                        Ok(o) if o.status.code() == Some(exit) => {}
                        Ok(o) => self.fail(
                            b,
                            format!(
                                "{} {args}: {}",
                                example.display(),
                                String::from_utf8_lossy(&o.stderr)
                            ),
                        ),
                        Err(e) => self.fail(b, format!("{}: {e}", example.display())),
                    }
                }
            }
            Directive::RunByCi => {
                let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
                for command in b.body.lines() {
                    let command = command.split('#').next().unwrap().trim();
                    if !command.is_empty() && !ci.contains(command) {
                        self.fail(b, format!("`{command}` is not what .ci/run runs"));
                    }
                }
            }
            Directive::LongRunning => {
                // Fuzzing and benchmarks run for minutes by design; anything
                // else must run here.
                for command in b.body.lines().map(str::trim).filter(|c| !c.is_empty()) {
                    let long = ["scripts/fuzz ", "scripts/bench", "cd fuzz && "]
                        .iter()
                        .any(|p| command.starts_with(p));
                    if !long {
                        self.fail(b, format!("`{command}` is not a long run: run it"));
                    }
                }
            }
            Directive::NotAnExample => {
                if !matches!(b.lang.as_str(), "" | "text") {
                    self.fail(
                        b,
                        format!(
                            "a ```{} block is an example: give it a directive that runs it",
                            b.lang
                        ),
                    );
                }
            }
        }
    }

    fn compare(&mut self, b: &Block, got: String) {
        if matches(&b.body, &got) {
            return;
        }
        if std::env::var_os("UPDATE_DOCS").is_some() && !has_elision(&b.body) {
            self.updates.push((b.body_range.clone(), got));
            return;
        }
        self.fail(
            b,
            format!(
                "the output differs (UPDATE_DOCS=1 rewrites blocks without `...`)\n--- documented\n{}--- now\n{got}",
                b.body
            ),
        );
    }
}

/// BASE (a spec file) with `part` merged in at table `at`: tables merge
/// key by key; an array of tables whose entries all have a `name` (like
/// `[[image.section]]`) merges entry by entry, by name, in place (so "the
/// start of an image" replaces those sections and keeps the rest); anything
/// else replaces.
fn merge_spec(base: &Path, at: Option<&str>, part: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(base).map_err(|e| format!("{}: {e}", base.display()))?;
    let mut doc: toml::Table = text.parse().map_err(|e| format!("{e}"))?;
    let part: toml::Table = part
        .parse()
        .map_err(|e| format!("the block is not TOML: {e}"))?;
    let mut target = &mut doc;
    for key in at.into_iter().flat_map(|a| a.split('.')) {
        target = target
            .entry(key)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| format!("{key} is not a table in the base spec"))?;
    }
    fn name(v: &toml::Value) -> Option<&str> {
        v.as_table()?.get("name")?.as_str()
    }
    fn merge(into: &mut toml::Table, from: toml::Table) {
        for (k, v) in from {
            match (into.get_mut(&k), v) {
                (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge(a, b),
                (Some(toml::Value::Array(a)), toml::Value::Array(b))
                    if a.iter().chain(&b).all(|e| name(e).is_some()) =>
                {
                    for entry in b {
                        match a.iter().position(|e| name(e) == name(&entry)) {
                            Some(i) => a[i] = entry,
                            None => a.push(entry),
                        }
                    }
                }
                (_, v) => {
                    into.insert(k, v);
                }
            }
        }
    }
    merge(target, part);
    toml::to_string(&doc).map_err(|e| e.to_string())
}

/// JSONC to JSON: `//` comments outside strings removed.
fn strip_json_comments(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut in_string = false;
        let mut escaped = false;
        let mut cut = line.len();
        let bytes = line.as_bytes();
        for (i, &c) in bytes.iter().enumerate() {
            match c {
                _ if escaped => escaped = false,
                b'\\' if in_string => escaped = true,
                b'"' => in_string = !in_string,
                b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => {
                    cut = i;
                    break;
                }
                _ => {}
            }
        }
        out.push_str(&line[..cut]);
        out.push('\n');
    }
    out
}

/// The documented JSON `want` has the keys of `got`, recursively (arrays:
/// their first elements); `null` in the documentation stands for "or a
/// value" and matches anything.
fn same_shape(
    want: &serde_json::Value,
    got: &serde_json::Value,
    at: &str,
    excerpt: bool,
    diffs: &mut Vec<String>,
) {
    use serde_json::Value;
    match (want, got) {
        // `null` on either side: "or a value" in the documentation, or a
        // field the printed instance happens not to fill.
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(w), Value::Object(g)) => {
            let wk: BTreeSet<&String> = w.keys().collect();
            let gk: BTreeSet<&String> = g.keys().collect();
            for k in wk.difference(&gk) {
                diffs.push(format!("{at}.{k} is documented but not printed"));
            }
            if !excerpt {
                for k in gk.difference(&wk) {
                    diffs.push(format!("{at}.{k} is printed but not documented"));
                }
            }
            for k in wk.intersection(&gk) {
                same_shape(&w[*k], &g[*k], &format!("{at}.{k}"), excerpt, diffs);
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            if let (Some(w0), Some(g0)) = (w.first(), g.first()) {
                same_shape(w0, g0, &format!("{at}[0]"), excerpt, diffs);
            } else if !w.is_empty() {
                diffs.push(format!("{at} is documented with elements, printed empty"));
            }
        }
        (Value::String(_), Value::String(_))
        | (Value::Number(_), Value::Number(_))
        | (Value::Bool(_), Value::Bool(_)) => {}
        (w, g) => diffs.push(format!("{at}: documented as {w}, printed as {g}")),
    }
}

fn documents() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    let mut docs = vec![root().join("README.md")];
    walk(&root().join("docs"), &mut docs);
    docs
}

fn run_document(doc: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(doc).unwrap();
    let blocks = match blocks(&text) {
        Ok(b) => b,
        Err(errors) => {
            return errors
                .into_iter()
                .map(|e| format!("{}: {e}", doc.display()))
                .collect();
        }
    };
    let mut s = Scenario::new(doc);
    for b in &blocks {
        s.run(b);
    }
    if !s.updates.is_empty() {
        let mut text = text;
        s.updates.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
        for (range, body) in s.updates.drain(..) {
            text.replace_range(range, &body);
        }
        std::fs::write(doc, text).unwrap();
    }
    s.failures
}

#[test]
fn every_documented_example_runs_as_shown() {
    let docs = documents();
    assert!(docs.len() >= 5, "documents: {docs:?}");
    let failures: Vec<String> = docs.iter().flat_map(|d| run_document(d)).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_harness_matches_elisions_and_finds_undirected_blocks() {
    assert!(matches("a\n...\nd\n", "a\nb\nc\nd\n"));
    assert!(matches("a ...\n", "abc\n"));
    assert!(!matches("a\nd\n", "a\nb\nd\n"));
    assert!(!matches("a ...\n", "b\n"));
    let errors = blocks("text\n\n```sh\nrm -rf /\n```\n").err().unwrap();
    assert!(errors[0].contains("line 3: no <!-- docs"), "{errors:?}");
    let ok = blocks("<!-- docs: run -->\n```sh\ntrue\n```\n").unwrap();
    assert!(matches!(ok[0].directive, Directive::Run { exit: 0, .. }));
}
