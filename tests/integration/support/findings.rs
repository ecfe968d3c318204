//! What `layoutgen lint` reported, in the shapes tests compare and print:
//! sorted (check, subject) lists, and one line per finding.

use layoutgen::lint::{Finding, Lint, LintReport, Severity};

/// The section a finding names, else its symbol.
pub fn subject(f: &Finding) -> String {
    f.section
        .clone()
        .or_else(|| f.symbol.clone())
        .unwrap_or_default()
}

/// (check, subject) of every error and warning, sorted; the checks of the
/// info findings, sorted.
pub fn split(report: &LintReport) -> (Vec<(Lint, String)>, Vec<Lint>) {
    let mut findings: Vec<(Lint, String)> = report
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
        .map(|f| (f.id, subject(f)))
        .collect();
    findings.sort();
    let mut infos: Vec<Lint> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Info)
        .map(|f| f.id)
        .collect();
    infos.sort();
    (findings, infos)
}

/// The finding's message says `text`.
#[track_caller]
pub fn assert_says(f: &Finding, text: &str) {
    assert!(f.message.contains(text), "{}", f.message);
}

/// `SEVERITY ID SPEC_KEY: MESSAGE`, one line per finding.
pub fn describe<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> String {
    findings
        .into_iter()
        .map(|f| format!("{} {} {}: {}", f.severity, f.id.id(), f.spec_key, f.message))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One thing a finding must have ([`assert_finding`]).
#[derive(Clone, Copy, Debug)]
pub enum Field<'a> {
    Symbol(&'a str),
    Section(&'a str),
    /// Its spec key.
    Key(&'a str),
    /// Its address.
    At(u64),
    /// Text its message contains ([`assert_says`]).
    Says(&'a str),
    /// Its severity.
    Is(Severity),
}

/// `f` has every field of `want`.
#[track_caller]
pub fn assert_finding(f: &Finding, want: &[Field]) {
    for field in want {
        match *field {
            Field::Symbol(s) => assert_eq!(f.symbol.as_deref(), Some(s)),
            Field::Section(s) => assert_eq!(f.section.as_deref(), Some(s)),
            Field::Key(key) => assert_eq!(f.spec_key, key),
            Field::At(address) => assert_eq!(f.address, Some(address)),
            Field::Says(text) => assert_says(f, text),
            Field::Is(severity) => assert_eq!(f.severity, severity),
        }
    }
}

/// The message of the first finding of `check`, which must have one.
#[track_caller]
pub fn message_of(report: &LintReport, check: Lint) -> &str {
    &report
        .by_check(check)
        .next()
        .unwrap_or_else(|| panic!("no {} finding", check.id()))
        .message
}

/// `out`, lint's human report, has an `error[ID name]` line for each of
/// `expected` and no other error.
#[track_caller]
pub fn assert_only_errors(out: &str, expected: &[&str]) {
    for e in expected {
        assert!(out.contains(&format!("error[{e}]")), "expected {e}:\n{out}");
    }
    let count = match expected.len() {
        1 => "1 error,".to_string(),
        n => format!("{n} errors,"),
    };
    assert!(out.contains(&count), "only {expected:?}:\n{out}");
}
