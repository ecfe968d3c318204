//! The `lint_render` fuzz target's work, shared with `cargo test`
//! (tests/integration/fuzz_regressions.rs): `layoutgen lint`'s human and
//! GitHub reports of hostile inputs must show every untrusted string (the
//! file name, ELF section and symbol names, messages made from them) as
//! text: no character that `layoutgen::format::is_unprintable` holds for
//! survives (but the `\n` between lines), and no line is a GitHub workflow
//! command (`::` first) unless it is one of ours: `::error file=`,
//! `::warning file=`, `::notice file=`, with escaped properties. JSON and
//! SARIF are rendered too (they must not panic; serde escapes them).
//!
//! Input:
//! - byte 0, flags: bit 0 picks the ELF (0: the rest of the input is the
//!   image; 1: a real linked fixture whose names the rest of the input
//!   overwrites, so hostile names reach the findings of an ELF that still
//!   parses); bits 1-2 the layout linted against; bit 3 `--deny warnings`;
//!   bits 4-5 the fixture.
//! - byte 1: the length of the file name, then its bytes (lossily UTF-8;
//!   empty: `kernel.elf`), the name a CI job's glob might give.
//! - the rest: the image (bit 0 clear) or edits to the fixture's string
//!   tables (bit 0 set): repeated `offset (2 bytes, big endian, modulo the
//!   tables' total size), length (1 byte), bytes`, written over the
//!   concatenated `SHT_STRTAB` sections (`.strtab`, `.shstrtab`).

use super::common::assert_shown_safely;
use layoutgen::Layout;
use layoutgen::lint::{self, Format, Input, LintRun, Options, Outcome};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const SV39: &str = include_str!("../../layouts/qemu-virt-sv39.toml");

/// qemu-virt-sv39 with checks allowed, so suppressed findings and their
/// reasons are rendered too.
const LINT_TABLE: &str = r#"
[lint.symbol-outside-slot]
level = "allow"
reason = "fuzz: suppressed findings are rendered with their reason"

[lint.section-missing]
level = "deny"
reason = "fuzz: a warning raised to an error"
"#;

fn layouts() -> &'static [(String, Layout)] {
    static L: OnceLock<Vec<(String, Layout)>> = OnceLock::new();
    L.get_or_init(|| {
        let sv39_lint = format!("{SV39}{LINT_TABLE}");
        [
            (
                "qemu-virt-multi.toml",
                include_str!("../../layouts/qemu-virt-multi.toml"),
            ),
            (
                "qemu-virt-semipic.toml",
                include_str!("../../layouts/qemu-virt-semipic.toml"),
            ),
            (
                "linux-riscv64.toml",
                include_str!("../../layouts/linux-riscv64.toml"),
            ),
            ("qemu-virt-sv39-lint.toml", sv39_lint.as_str()),
        ]
        .into_iter()
        .map(|(name, text)| {
            let source = layoutgen::Source::Text { text, name };
            let layout =
                layoutgen::load(source, &Default::default()).expect("bundled layout is sound");
            (name.to_string(), layout)
        })
        .collect()
    })
}

/// Linked lint fixtures (fuzz/corpus/elf, written by
/// `fuzz_regressions::write_elf_seed_corpus`).
const FIXTURES: [&[u8]; 4] = [
    include_bytes!("../corpus/elf/qemu-virt-sv39.elf"),
    include_bytes!("../corpus/elf/qemu-virt-semipic.elf"),
    include_bytes!("../corpus/elf/qemu-virt-sv39-small-data-gp.elf"),
    include_bytes!("../corpus/elf/qemu-virt-multi.elf"),
];

/// The byte ranges of a little-endian ELF64's `SHT_STRTAB` sections.
fn string_tables(elf: &[u8]) -> Vec<std::ops::Range<usize>> {
    let u16_at = |at: usize| u16::from_le_bytes([elf[at], elf[at + 1]]) as usize;
    let u64_at = |at: usize| {
        let mut b = [0; 8];
        b.copy_from_slice(&elf[at..at + 8]);
        u64::from_le_bytes(b) as usize
    };
    let (shoff, shentsize, shnum) = (u64_at(0x28), u16_at(0x3a), u16_at(0x3c));
    (0..shnum)
        .map(|i| shoff + i * shentsize)
        .filter(|&sh| u32::from_le_bytes(elf[sh + 4..sh + 8].try_into().unwrap()) == 3)
        .map(|sh| u64_at(sh + 0x18)..u64_at(sh + 0x18) + u64_at(sh + 0x20))
        .collect()
}

/// `fixture` with `edits` written over its string tables.
fn edited(fixture: &[u8], mut edits: &[u8]) -> Vec<u8> {
    let mut elf = fixture.to_vec();
    let tables = string_tables(fixture);
    let positions: Vec<usize> = tables.into_iter().flatten().collect();
    if positions.is_empty() {
        return elf;
    }
    while let [hi, lo, len, rest @ ..] = edits {
        let start = usize::from(u16::from_be_bytes([*hi, *lo])) % positions.len();
        let len = usize::from(*len).min(rest.len());
        for (i, &b) in rest[..len].iter().enumerate() {
            if let Some(&at) = positions.get(start + i) {
                elf[at] = b;
            }
        }
        edits = &rest[len..];
    }
    elf
}

pub fn run(data: &[u8]) {
    let [flags, name_len, rest @ ..] = data else {
        return;
    };
    let name_len = usize::from(*name_len).min(rest.len());
    let (name, rest) = rest.split_at(name_len);
    let name = match String::from_utf8_lossy(name) {
        n if n.is_empty() => "kernel.elf".to_string(),
        n => n.into_owned(),
    };
    let elf = if flags & 1 == 0 {
        rest.to_vec()
    } else {
        edited(FIXTURES[usize::from(flags >> 4 & 3)], rest)
    };
    let (spec, layout) = &layouts()[usize::from(flags >> 1 & 3)];
    let deny_warnings = flags & 8 != 0;

    let path = PathBuf::from(&name);
    let result = lint::run(
        layout,
        Input::Bytes {
            name: &path,
            data: &elf,
        },
        &Options::default(),
    );
    let run = LintRun {
        spec: Path::new(spec),
        layout,
        config: &layout.lint,
        outcomes: vec![Outcome { path, result }],
        deny_warnings,
    };
    let human = run.render(Format::Human);
    assert_shown_safely("human report", &human);
    let github = run.render(Format::Github);
    check_github(&github);
    let _ = run.render(Format::Json);
    let _ = run.render(Format::Sarif);
}

/// Every line one of our workflow commands, its properties escaped.
fn check_github(out: &str) {
    if let Some(c) = out
        .chars()
        .find(|&c| c != '\n' && layoutgen::format::is_unprintable(c))
    {
        panic!("github report: {c:?} survives in {out:?}");
    }
    for line in out.lines() {
        let command = ["::error ", "::warning ", "::notice "]
            .iter()
            .find_map(|p| line.strip_prefix(p));
        let Some(command) = command else {
            panic!("github report: a line that is not one of our commands: {line:?}");
        };
        let Some((props, _message)) = command.split_once("::") else {
            panic!("github report: a command with no message: {line:?}");
        };
        let props: Vec<&str> = props.split(',').collect();
        assert!(
            matches!(props.as_slice(), [f, t] if f.starts_with("file=") && t.starts_with("title=")),
            "github report: properties other than file= and title=: {line:?}"
        );
    }
}
