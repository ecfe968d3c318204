//! The output sections a preprocessed GNU ld script names (Linux's
//! `vmlinux.lds` after `make arch/<arch>/kernel/vmlinux.lds`), and the
//! preprocessed scripts `scripts/linux-lds` leaves under
//! `target/linux-lds/<arch>-<config>/`.

use super::root;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// One output section statement of a `SECTIONS` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSection {
    pub name: String,
    /// False for metadata sections the script places at address 0 (DWARF,
    /// `.comment`, `.symtab`: `NAME 0 : { ... }`) or types `INFO`/`COPY`:
    /// they are not part of the loaded image.
    pub allocated: bool,
}

/// Statements of the `SECTIONS` body that are calls, which may end
/// without `;` (arm64: `.got.plt : { ... } ASSERT(...)` then the next
/// output section).
const CALLS: [&str; 4] = ["ASSERT", "PROVIDE", "PROVIDE_HIDDEN", "HIDDEN"];

/// The output sections of `script`'s `SECTIONS` command, in order,
/// `/DISCARD/` included. Errors when the script has no `SECTIONS` or its
/// braces do not balance.
pub fn output_sections(script: &str) -> Result<Vec<OutputSection>, String> {
    let text = strip_comments(script);
    let at = find_word(&text, "SECTIONS").ok_or("no SECTIONS command")?;
    let open = at + text[at..].find('{').ok_or("SECTIONS without `{`")?;
    let mut out = Vec::new();
    let (mut depth, mut paren, mut stmt) = (0usize, 0usize, String::new());
    let mut chars = text[open + 1..].chars();
    while let Some(c) = chars.next() {
        if c == '"' {
            // Strings (ASSERT messages) may hold any punctuation.
            let mut s = String::from('"');
            for d in chars.by_ref() {
                s.push(d);
                if d == '"' {
                    break;
                }
            }
            if depth == 0 {
                stmt.push_str(&s);
            }
            continue;
        }
        if depth > 0 {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            continue;
        }
        match c {
            '(' => {
                paren += 1;
                stmt.push(c);
            }
            ')' => {
                paren = paren.saturating_sub(1);
                stmt.push(c);
                if paren == 0 && is_call(&stmt) {
                    stmt.clear();
                }
            }
            ';' if paren == 0 => stmt.clear(),
            '{' if paren == 0 => {
                out.push(header(&stmt)?);
                stmt.clear();
                depth = 1;
            }
            '}' if paren == 0 => return Ok(out),
            _ => stmt.push(c),
        }
    }
    Err("SECTIONS is not closed".into())
}

/// `/* ... */` comments removed (cpp keeps none, but a hand-written
/// script may have them).
fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        rest = rest[i + 2..]
            .find("*/")
            .map_or("", |j| &rest[i + 2 + j + 2..]);
    }
    out.push_str(rest);
    out
}

/// The offset of `word` standing alone (not part of a longer name).
fn find_word(text: &str, word: &str) -> Option<usize> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word)
        .map(|(i, _)| i)
        .find(|&i| !text[..i].ends_with(ident) && !text[i + word.len()..].starts_with(ident))
}

fn is_call(stmt: &str) -> bool {
    let s = stmt.trim_start();
    CALLS.iter().any(|c| {
        s.strip_prefix(c)
            .is_some_and(|r| r.trim_start().starts_with('('))
    })
}

/// The output section a statement header (`NAME [ADDR] [(TYPE)] : ...`)
/// opens. What may follow the previous section's `}` (`>REGION`, `AT>LMA`,
/// `:PHDR`, `=FILL`) is skipped.
fn header(stmt: &str) -> Result<OutputSection, String> {
    let colon = stmt
        .find(':')
        .ok_or_else(|| format!("a `{{` after `{}` opens no output section", stmt.trim()))?;
    let mut before: Vec<&str> = stmt[..colon].split_whitespace().collect();
    // `} :text .next : {`: the colon found may be the previous section's
    // phdr; then the name follows it.
    if before.is_empty() {
        return header(
            stmt[colon + 1..].trim_start_matches(|c: char| c.is_alphanumeric() || c == '_'),
        );
    }
    while before.len() > 1 && [">", "AT>", "="].iter().any(|p| before[0].starts_with(p)) {
        before.remove(0);
    }
    let name = before[0].to_string();
    let rest = before[1..].join(" ");
    let metadata = rest == "0"
        || ["(INFO)", "(COPY)", "(DSECT)"]
            .iter()
            .any(|t| rest.contains(t));
    Ok(OutputSection {
        name,
        allocated: !metadata,
    })
}

/// One configuration `scripts/linux-lds` preprocessed the script for.
pub struct Configured {
    /// `riscv64 tinyconfig`, `arm64 debian`, ...
    pub label: String,
    pub dir: PathBuf,
    /// The allocated output sections its script names (`/DISCARD/` not).
    pub sections: BTreeSet<String>,
    /// The options `#ifdef` sees: every `CONFIG_X=` of `.config` but `=m`.
    pub options: BTreeSet<String>,
    /// For Debian's configuration, the same of the file as Debian ships it.
    pub given: Option<BTreeSet<String>>,
}

/// The configurations of `arch` (`riscv64`, `arm64`), in the order
/// `scripts/linux-lds` makes them; panics, naming the script, when one is
/// missing.
pub fn configurations(arch: &str) -> Vec<Configured> {
    ["tinyconfig", "defconfig", "debian"]
        .iter()
        .map(|config| {
            let dir = root()
                .join("target/linux-lds")
                .join(format!("{arch}-{config}"));
            let read = |file: &str| {
                std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| {
                    panic!(
                        "{}/{file}: {e}: run scripts/linux-lds (scripts/test does)",
                        dir.display()
                    )
                })
            };
            let script = read("vmlinux.lds");
            let sections = output_sections(&script)
                .unwrap_or_else(|e| panic!("{}/vmlinux.lds: {e}", dir.display()))
                .into_iter()
                .filter(|s| s.allocated && s.name != "/DISCARD/")
                .map(|s| s.name)
                .collect();
            let given = (*config == "debian").then(|| options(&read("config.given")));
            Configured {
                label: format!("{arch} {config}"),
                sections,
                options: options(&read(".config")),
                given,
                dir,
            }
        })
        .collect()
}

/// The options a `.config` sets in a way `#ifdef CONFIG_X` sees (a `=m`
/// option defines only `CONFIG_X_MODULE`).
pub fn options(config: &str) -> BTreeSet<String> {
    config
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, v)| k.starts_with("CONFIG_") && *v != "m" && *v != "n")
        .map(|(k, _)| k.to_string())
        .collect()
}

/// The riscv64 kernels `scripts/linux-kernel` links (`fixed`, `reloc`):
/// their allocated sections (readelf) and `.config` options. GNU ld adds
/// sections no script names to a relocatable link (`.dynamic`, `.dynsym`,
/// ...: orphans it places itself); these kernels show which.
pub fn linked_riscv64_kernels() -> Vec<Configured> {
    ["fixed", "reloc"]
        .iter()
        .map(|kernel| {
            let vmlinux = super::linux::kernel_file(kernel, "vmlinux");
            let config = super::linux::kernel_file(kernel, ".config");
            let sections = super::readelf::Readelf::of(&vmlinux)
                .sections
                .into_iter()
                .filter(|s| s.alloc())
                .map(|s| s.name)
                .collect();
            Configured {
                label: format!("riscv64 kernel {kernel} (scripts/linux-kernel)"),
                dir: vmlinux.parent().unwrap().to_path_buf(),
                sections,
                options: options(&std::fs::read_to_string(&config).unwrap()),
                given: None,
            }
        })
        .collect()
}
