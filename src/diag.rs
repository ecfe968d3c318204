//! Diagnostics: errors as values (rule, message, labelled spans, help), and
//! the one place they are rendered, compiler-style, against the spec text.

use crate::arch::PagingMode;
use crate::format::printable;
use crate::spec::Span;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term;
use serde::Serialize;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

pub use crate::check::Rule;

/// A pointer into the spec: the dotted key (`region.vmalloc.start`) and,
/// when it came from the file, its byte span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    pub key: String,
    #[serde(skip)]
    pub span: Span,
    pub message: String,
    pub primary: bool,
}

impl Label {
    pub fn primary(key: impl Into<String>, span: Span, message: impl Into<String>) -> Label {
        Label {
            key: key.into(),
            span,
            message: message.into(),
            primary: true,
        }
    }

    pub fn secondary(key: impl Into<String>, span: Span, message: impl Into<String>) -> Label {
        Label {
            primary: false,
            ..Label::primary(key, span, message)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub rule: Rule,
    pub message: String,
    pub mode: Option<PagingMode>,
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(rule: Rule, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            rule,
            message: message.into(),
            mode: None,
            labels: Vec::new(),
            help: None,
        }
    }

    pub fn label(mut self, label: Label) -> Diagnostic {
        self.labels.push(label);
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn in_mode(mut self, mode: PagingMode) -> Diagnostic {
        self.mode = Some(mode);
        self
    }

    /// The key of the first primary label, the one the error is about.
    pub fn key(&self) -> Option<&str> {
        self.labels
            .iter()
            .find(|l| l.primary)
            .map(|l| l.key.as_str())
    }
}

/// Diagnostics for one spec file, with its text so they can be rendered.
#[derive(Debug, Clone)]
pub struct Report {
    pub path: PathBuf,
    pub text: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub fn new(path: &Path, text: &str, diagnostics: Vec<Diagnostic>) -> Report {
        Report {
            path: path.to_path_buf(),
            text: text.to_string(),
            diagnostics,
        }
    }

    /// Exit code: 2 if any diagnostic is an input error, else 1.
    pub fn exit_code(&self) -> u8 {
        if self.diagnostics.iter().any(|d| d.rule.is_input_error()) {
            2
        } else {
            1
        }
    }

    /// Renders every diagnostic like a compiler: file:line:col, the source
    /// line with a caret under the key, and a `help:` line. Plain text.
    pub fn render(&self) -> String {
        self.render_with(false)
    }

    /// As [`Report::render`], with ANSI colours when `color` is true.
    pub fn render_colored(&self, color: bool) -> String {
        self.render_with(color)
    }

    /// Rendered for standard error: coloured only when stderr is a terminal
    /// and `NO_COLOR` is unset or empty (<https://no-color.org>).
    pub fn render_for_stderr(&self) -> String {
        self.render_with(stderr_wants_color())
    }

    fn render_with(&self, color: bool) -> String {
        let config = term::Config::default();
        let mut out = String::new();
        for d in self.diagnostics.iter().take(MAX_RENDERED) {
            // Very long source lines are shown as a window around the spans.
            let spans: Vec<Span> = d.labels.iter().map(|l| l.span.clone()).collect();
            let shown = Shortened::new(&self.text, &spans);
            let file = ShownFile {
                inner: SimpleFile::new(
                    printable(&self.path.display().to_string()).into_owned(),
                    shown.text.as_str(),
                ),
                shown: &shown,
                original: &self.text,
            };
            let mut cd = cs::Diagnostic::error()
                .with_code(d.rule.id())
                .with_message(printable(&d.message));
            let mut keys_without_span = Vec::new();
            for l in &d.labels {
                if l.span.is_empty() && l.span.start == 0 {
                    if l.key.is_empty() {
                        // About the whole file (a missing top-level key):
                        // point at its start, so the location is still given.
                        cd = cd.with_labels(vec![
                            cs::Label::primary((), 0..0).with_message("in this spec's top level"),
                        ]);
                    } else {
                        keys_without_span.push(
                            printable(&format!("key `{}`: {}", l.key, l.message)).into_owned(),
                        );
                    }
                    continue;
                }
                let span = shown.map(l.span.clone());
                let label = if l.primary {
                    cs::Label::primary((), span)
                } else {
                    cs::Label::secondary((), span)
                };
                let text = printable(&if l.key.is_empty() {
                    l.message.clone()
                } else {
                    format!("`{}`: {}", l.key, l.message)
                })
                .into_owned();
                cd = cd.with_labels(vec![label.with_message(text)]);
            }
            let mut notes = keys_without_span;
            if let Some(help) = &d.help {
                notes.push(format!("help: {}", printable(help)));
            }
            cd = cd.with_notes(notes);
            let rendered = if color {
                let mut buffer = termcolor::Buffer::ansi();
                term::emit_to_write_style(&mut buffer, &config, &file, &cd)
                    .map(|()| String::from_utf8_lossy(buffer.as_slice()).into_owned())
            } else {
                term::emit_into_string(&config, &file, &cd)
            };
            match rendered {
                Ok(s) => out.push_str(&s),
                // A span past the text (cannot happen for spans from the
                // parser) must still not lose the message.
                Err(_) => out.push_str(&format!(
                    "error[{}]: {}\n  in {}\n",
                    d.rule,
                    d.message,
                    self.path.display()
                )),
            }
        }
        if self.diagnostics.len() > MAX_RENDERED {
            out.push_str(&format!(
                "... and {} more errors in {} (`layoutgen check --format json` lists all)\n",
                self.diagnostics.len() - MAX_RENDERED,
                self.path.display()
            ));
        }
        out
    }
}

/// Colour on stderr: only on a terminal, and never when `NO_COLOR` is set
/// to a non-empty value.
pub fn stderr_wants_color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// Past this many, more diagnostics only bury the first (usually the cause).
const MAX_RENDERED: usize = 50;

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// Source lines longer than this are cut to a window around the spans.
const MAX_SHOWN_LINE: usize = 160;

/// The text as rendered: long lines shortened, with the offsets mapped.
struct Shortened {
    text: String,
    /// Kept pieces: (original start, original end, start in `text`).
    pieces: Vec<(usize, usize, usize)>,
}

impl Shortened {
    fn new(text: &str, spans: &[Span]) -> Shortened {
        let mut out = String::with_capacity(text.len().min(1 << 16));
        let mut pieces = Vec::new();
        let mut start = 0;
        for line in text.split_inclusive('\n') {
            let end = start + line.len();
            if line.len() <= MAX_SHOWN_LINE {
                push_shown(&mut out, &mut pieces, text, start, end);
            } else {
                // The window: the spans that start on this line, widened by
                // some context and cut to the limit, on char boundaries.
                let on_line: Vec<&Span> = spans
                    .iter()
                    .filter(|s| s.start >= start && s.start < end)
                    .collect();
                let from = on_line.iter().map(|s| s.start).min().unwrap_or(start);
                let lo = floor_char(text, from.saturating_sub(40).max(start));
                let hi = floor_char(text, (lo + MAX_SHOWN_LINE).min(end));
                if lo > start {
                    out.push_str("… ");
                }
                push_shown(&mut out, &mut pieces, text, lo, hi);
                if hi < end {
                    out.push_str(" …");
                }
                if line.ends_with('\n') {
                    out.push('\n');
                }
            }
            start = end;
        }
        Shortened { text: out, pieces }
    }

    /// An original span in the shortened text (clamped to what is shown).
    fn map(&self, span: Span) -> Span {
        let one = |off: usize| {
            match self.pieces.iter().find(|(a, b, _)| off >= *a && off <= *b) {
                Some((a, _, n)) => n + (off - a),
                // Cut away: the nearest shown position before it.
                None => self
                    .pieces
                    .iter()
                    .rfind(|(a, _, _)| *a <= off)
                    .map_or(0, |(a, b, n)| n + (b - a)),
            }
        };
        let s = one(span.start);
        let e = one(span.end).max(s);
        s..e
    }
}

/// The shortened text for display, but locations (`file:line:col`) in the
/// original file.
struct ShownFile<'a> {
    inner: SimpleFile<String, &'a str>,
    shown: &'a Shortened,
    original: &'a str,
}

impl<'a> codespan_reporting::files::Files<'a> for ShownFile<'a> {
    type FileId = ();
    type Name = String;
    type Source = &'a str;

    fn name(&'a self, id: ()) -> Result<String, codespan_reporting::files::Error> {
        codespan_reporting::files::Files::name(&self.inner, id)
    }

    fn source(&'a self, id: ()) -> Result<&'a str, codespan_reporting::files::Error> {
        codespan_reporting::files::Files::source(&self.inner, id)
    }

    fn line_index(
        &'a self,
        id: (),
        byte: usize,
    ) -> Result<usize, codespan_reporting::files::Error> {
        codespan_reporting::files::Files::line_index(&self.inner, id, byte)
    }

    fn line_range(
        &'a self,
        id: (),
        line: usize,
    ) -> Result<Range<usize>, codespan_reporting::files::Error> {
        codespan_reporting::files::Files::line_range(&self.inner, id, line)
    }

    fn column_number(
        &'a self,
        _id: (),
        _line: usize,
        byte: usize,
    ) -> Result<usize, codespan_reporting::files::Error> {
        // Back to the original offset, then count characters from the
        // start of its line.
        let original = self
            .shown
            .pieces
            .iter()
            .find(|(a, b, n)| byte >= *n && byte <= n + (b - a))
            .map_or(byte, |(a, _, n)| a + (byte - n))
            .min(self.original.len());
        let original = floor_char(self.original, original);
        let line_start = self.original[..original].rfind('\n').map_or(0, |i| i + 1);
        Ok(self.original[line_start..original].chars().count() + 1)
    }
}

/// Appends `text[lo..hi]` to `out` as it may be shown on a terminal: every
/// [`is_unprintable`](crate::format::is_unprintable) character but the
/// line endings (`\n`, `\r\n`) and tabs (which codespan expands) written
/// as `\u{..}` (a spec, or the spec `init --from-elf` generated from a
/// hostile ELF, may hold an ESC or a bidirectional override in a comment or
/// string). `pieces` maps the copied runs back to the original.
fn push_shown(
    out: &mut String,
    pieces: &mut Vec<(usize, usize, usize)>,
    text: &str,
    lo: usize,
    hi: usize,
) {
    let mut run = lo;
    for (i, c) in text[lo..hi].char_indices() {
        let at = lo + i;
        let line_end = c == '\n' || (c == '\r' && text[at + 1..hi].starts_with('\n'));
        if c == '\t' || line_end || !crate::format::is_unprintable(c) {
            continue;
        }
        pieces.push((run, at, out.len()));
        out.push_str(&text[run..at]);
        out.push_str(&crate::format::printable(c.encode_utf8(&mut [0; 4])));
        run = at + c.len_utf8();
    }
    pieces.push((run, hi, out.len()));
    out.push_str(&text[run..hi]);
}

fn floor_char(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// `layoutgen check --format json`: one spec's result.
pub fn check_json(spec: &Path, result: &Result<crate::Layout, crate::Error>) -> serde_json::Value {
    match result {
        Ok(_) => serde_json::json!({ "spec": spec, "ok": true, "diagnostics": [] }),
        Err(crate::Error::Spec(report)) => serde_json::json!({
            "spec": spec, "ok": false, "diagnostics": report.diagnostics,
        }),
        Err(e) => serde_json::json!({
            "spec": spec, "ok": false,
            "diagnostics": [{ "rule": "io", "message": e.to_string() }],
        }),
    }
}
