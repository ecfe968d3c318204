//! Specs as data, one whole spec per file (slinky's layout): every file in
//! `tests/data/rejected/` must be rejected as its header says, every file
//! in `tests/data/accepted/` must check. A new must-reject case is a new
//! file named for the behaviour, with no code.
//!
//! The header is the file's leading `#` comments; the lines that start
//! `# expect:` are the expectation, other comments say why. In `rejected/`:
//!
//! | line | holds when |
//! | --- | --- |
//! | `rule=ID key=KEY` | a diagnostic has that rule and primary key: *the finding* of the lines below it, until the next `rule=` line (`key=""`: the empty key of a TOML parse error; `key=(none)`: a finding without a label) |
//! | `rule=ID key=KEY mode=MODE` | and the finding is about that paging mode |
//! | `message contains "TEXT"` | the finding's message contains TEXT (`\"` and `\\` escape) |
//! | `help contains "TEXT"` | the finding's help contains TEXT |
//! | `label KEY` | one of the finding's labels is at KEY |
//! | `line N` | the finding's primary label starts on line N of the file |
//! | `span contains "TEXT"` | the spec text under the finding's primary label contains TEXT |
//! | `findings N` | the spec has N diagnostics in all |
//! | `no finding says "TEXT"` | no diagnostic's message contains TEXT |
//! | `exit N` | `layoutgen check FILE` exits N (2: input error, 1: invariant) |
//!
//! Every finding must also carry a help (the fix) and a primary span
//! inside the text. In `accepted/` the one line is `# expect: ok`: the
//! library reports nothing and `layoutgen check FILE` exits 0.

use crate::support::cli::layoutgen;
use crate::support::root;
use crate::support::specs::{check_text, line_of};
use layoutgen::{Diagnostic, Rule};
use std::path::{Path, PathBuf};

/// `tests/data/DIR/*.toml`, sorted.
fn files(dir: &str) -> Vec<PathBuf> {
    let dir = root().join("tests/data").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// What a `rule=` line and the lines after it expect of one diagnostic.
#[derive(Debug, Default)]
struct Finding {
    rule: Option<Rule>,
    /// `None`: the finding has no label.
    key: Option<String>,
    mode: Option<String>,
    message: Vec<String>,
    help: Vec<String>,
    labels: Vec<String>,
    line: Option<usize>,
    span: Vec<String>,
}

/// A file's whole header.
#[derive(Debug, Default)]
struct Expect {
    ok: bool,
    findings: Vec<Finding>,
    count: Option<usize>,
    never_says: Vec<String>,
    exit: Option<i32>,
}

/// `"TEXT"` with `\"` and `\\` unescaped.
fn quoted(s: &str) -> Result<String, String> {
    let inner = s
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or_else(|| format!("`{s}` is not a \"quoted\" string"))?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().ok_or("a `\\` ends the string")?
        } else {
            c
        });
    }
    Ok(out)
}

fn number<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("`{s}` is not a number"))
}

/// `rule=ID key=KEY [mode=MODE]`.
fn finding(line: &str) -> Result<Finding, String> {
    let mut f = Finding::default();
    let mut has_key = false;
    for field in line.split_whitespace() {
        match field.split_once('=') {
            Some(("rule", id)) => {
                f.rule = Some(
                    *Rule::ALL
                        .iter()
                        .find(|r| r.id() == id)
                        .ok_or_else(|| format!("no rule `{id}`"))?,
                );
            }
            Some(("key", "(none)")) => has_key = true,
            Some(("key", key)) => {
                has_key = true;
                f.key = Some(if key == "\"\"" { "" } else { key }.to_string());
            }
            Some(("mode", mode)) => f.mode = Some(mode.to_string()),
            _ => return Err(format!("`{field}` is not rule=, key= or mode=")),
        }
    }
    match (f.rule, has_key) {
        (Some(_), true) => Ok(f),
        _ => Err(format!("`{line}` needs a rule= and a key=")),
    }
}

/// The `# expect:` lines of the file's leading comments.
fn parse(text: &str) -> Result<Expect, String> {
    let mut e = Expect::default();
    let header = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("# expect:"));
    for line in header.map(str::trim) {
        if line == "ok" {
            e.ok = true;
        } else if line.starts_with("rule=") {
            e.findings.push(finding(line)?);
        } else if let Some(n) = line.strip_prefix("findings ") {
            e.count = Some(number(n)?);
        } else if let Some(s) = line.strip_prefix("no finding says ") {
            e.never_says.push(quoted(s)?);
        } else if let Some(n) = line.strip_prefix("exit ") {
            e.exit = Some(number(n)?);
        } else {
            let f = e
                .findings
                .last_mut()
                .ok_or_else(|| format!("`{line}` before any rule= line"))?;
            if let Some(s) = line.strip_prefix("message contains ") {
                f.message.push(quoted(s)?);
            } else if let Some(s) = line.strip_prefix("help contains ") {
                f.help.push(quoted(s)?);
            } else if let Some(s) = line.strip_prefix("span contains ") {
                f.span.push(quoted(s)?);
            } else if let Some(k) = line.strip_prefix("label ") {
                f.labels.push(k.to_string());
            } else if let Some(n) = line.strip_prefix("line ") {
                f.line = Some(number(n)?);
            } else {
                return Err(format!("`# expect: {line}` is not in the grammar"));
            }
        }
    }
    Ok(e)
}

/// `rule key: message` of each diagnostic, for a failure message.
fn listed(errs: &[Diagnostic]) -> String {
    errs.iter()
        .map(|d| format!("\n    {} {:?}: {}", d.rule, d.key(), d.message))
        .collect()
}

/// What `want` finds wrong with `errs`, the diagnostics of `text`.
fn unmet(want: &Finding, text: &str, errs: &[Diagnostic]) -> Vec<String> {
    let rule = want.rule.expect("parsed with a rule");
    let Some(d) = errs
        .iter()
        .find(|d| d.rule == rule && d.key() == want.key.as_deref())
    else {
        return vec![format!(
            "no {rule} finding at {:?}; got:{}",
            want.key,
            listed(errs)
        )];
    };
    let mut unmet = Vec::new();
    let mut check = |holds: bool, what: String| {
        if !holds {
            unmet.push(format!("{rule} at {:?}: {what}", want.key));
        }
    };
    check(d.help.is_some(), "has no help (the fix)".into());
    let primary = d.labels.iter().find(|l| l.primary);
    let under = primary.and_then(|l| text.get(l.span.clone()));
    check(
        primary.is_none() || under.is_some(),
        "its span lies outside the text".into(),
    );
    if let Some(mode) = &want.mode {
        let got = d.mode.map(|m| m.to_string());
        check(
            got.as_ref() == Some(mode),
            format!("mode {got:?}, not {mode}"),
        );
    }
    for m in &want.message {
        check(
            d.message.contains(m),
            format!("message {:?} lacks {m:?}", d.message),
        );
    }
    for h in &want.help {
        let help = d.help.as_deref().unwrap_or_default();
        check(help.contains(h), format!("help {help:?} lacks {h:?}"));
    }
    for k in &want.labels {
        let keys: Vec<&str> = d.labels.iter().map(|l| l.key.as_str()).collect();
        check(
            keys.contains(&k.as_str()),
            format!("no label at {k} in {keys:?}"),
        );
    }
    if let Some(line) = want.line {
        let got = primary
            .filter(|l| !l.span.is_empty())
            .map(|l| line_of(text, l.span.start));
        check(got == Some(line), format!("on line {got:?}, not {line}"));
    }
    for s in &want.span {
        let under = under.unwrap_or_default();
        check(under.contains(s), format!("its span {under:?} lacks {s:?}"));
    }
    unmet
}

/// What is wrong with a file of `rejected/`: its header, its diagnostics,
/// or the exit code of `layoutgen check` on it.
fn rejected_unmet(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let want = match parse(&text) {
        Ok(want) => want,
        Err(e) => return vec![format!("header: {e}")],
    };
    let name = path.file_name().unwrap().to_str().unwrap();
    let errs = match check_text(&text, name) {
        Ok(_) => return vec!["checks without a diagnostic".into()],
        Err(errs) => errs,
    };
    let mut unmet: Vec<String> = want
        .findings
        .iter()
        .flat_map(|f| self::unmet(f, &text, &errs))
        .collect();
    if let Some(n) = want.count.filter(|&n| n != errs.len()) {
        unmet.push(format!(
            "{} findings, not {n}:{}",
            errs.len(),
            listed(&errs)
        ));
    }
    for s in &want.never_says {
        if let Some(d) = errs.iter().find(|d| d.message.contains(s.as_str())) {
            unmet.push(format!("a finding says {s:?}: {}", d.message));
        }
    }
    if let Some(code) = want.exit {
        let got = layoutgen(&["check", path.to_str().unwrap()]).status.code();
        if got != Some(code) {
            unmet.push(format!("`layoutgen check` exits {got:?}, not {code}"));
        }
    }
    unmet
}

/// Panics listing every file with what is wrong with it.
#[track_caller]
fn assert_all_hold(dir: &str, unmet: impl Fn(&Path) -> Vec<String>) {
    let files = files(dir);
    assert!(!files.is_empty(), "tests/data/{dir}/ has no specs");
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let unmet = unmet(path);
            let name = path.file_name().unwrap().to_string_lossy();
            (!unmet.is_empty()).then(|| format!("{dir}/{name}:\n  {}", unmet.join("\n  ")))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} specs in tests/data/{dir}/ do not do as their header says:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn rejected_specs_fail_as_their_header_says() {
    assert_all_hold("rejected", rejected_unmet);
}

#[test]
fn accepted_specs_check() {
    assert_all_hold("accepted", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        let mut unmet = Vec::new();
        if let Err(errs) = check_text(&text, name) {
            unmet.push(format!("rejected:{}", listed(&errs)));
        }
        let code = layoutgen(&["check", path.to_str().unwrap()]).status.code();
        if code != Some(0) {
            unmet.push(format!("`layoutgen check` exits {code:?}, not 0"));
        }
        unmet
    });
}

#[test]
fn every_spec_file_says_what_it_expects() {
    // Without a rule and a key a rejected spec passes for any reason, and
    // without an exit code the command line goes untested.
    assert_all_hold("rejected", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        match parse(&text) {
            Err(e) => vec![e],
            Ok(e) if e.ok => vec!["`ok` in rejected/".into()],
            Ok(e) if e.findings.is_empty() => vec!["no `rule= key=` line".into()],
            Ok(e) if e.exit.is_none() => vec!["no `exit` line".into()],
            Ok(_) => vec![],
        }
    });
    assert_all_hold("accepted", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        match parse(&text) {
            Err(e) => vec![e],
            Ok(Expect {
                ok: true,
                findings,
                count: None,
                exit: None,
                ..
            }) if findings.is_empty() => vec![],
            Ok(_) => vec!["the header of an accepted spec is `# expect: ok`".into()],
        }
    });
}

#[test]
fn every_rule_has_a_rejected_spec() {
    // A rule added without a spec that breaks it fails here. The `[lint]`
    // table's errors are tested through `lint` and `check` together, in
    // lint_config.rs.
    let tested: Vec<Rule> = files("rejected")
        .iter()
        .filter_map(|p| parse(&std::fs::read_to_string(p).unwrap()).ok())
        .flat_map(|e| e.findings)
        .filter_map(|f| f.rule)
        .collect();
    for rule in Rule::ALL {
        if rule != Rule::LintConfig {
            assert!(tested.contains(&rule), "no rejected spec breaks `{rule}`");
        }
    }
}
