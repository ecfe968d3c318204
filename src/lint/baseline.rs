//! `layoutgen lint --baseline FILE`: findings already recorded in a
//! previous run's JSON (schema `layoutgen-lint/1`) are left out, so only new
//! ones are reported and counted (docs/lint.md, "Baselines").
//!
//! A finding's identity is its check, symbol, section and spec key — not its
//! address or message, which move with every build. Matching is one-to-one
//! per file; the "N more" finding of a check is compared by number.

use super::render::{JSON_SCHEMA, Outcome};
use super::{Counts, Finding};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The stable part of a finding's location.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    id: String,
    symbol: Option<String>,
    section: Option<String>,
    spec_key: String,
}

impl Key {
    fn of(f: &Finding) -> Key {
        Key {
            id: f.id.id().to_string(),
            symbol: f.symbol.clone(),
            section: f.section.clone(),
            spec_key: f.spec_key.clone(),
        }
    }
}

/// The findings of `of` that `against` does not hold, matched one-to-one
/// by the same stable key a baseline uses (check, symbol, section, spec
/// key), so a finding that only moved is matched. An "N more" finding is
/// compared by number: N more of a check in `of` against M in `against`
/// is N − M unmatched (the finding returned says so). Suppressed
/// (`allow`ed) findings are left out of both sides.
pub fn unmatched(of: &[Finding], against: &[Finding]) -> Vec<Finding> {
    let live = |f: &&Finding| f.suppressed.is_none();
    let mut left: BTreeMap<Key, u64> = BTreeMap::new();
    let mut more: BTreeMap<String, u64> = BTreeMap::new();
    for f in against.iter().filter(live) {
        if f.spec_key.is_empty() {
            *more.entry(f.id.id().to_string()).or_default() += more_count(&f.message);
        } else {
            *left.entry(Key::of(f)).or_default() += 1;
        }
    }
    let mut out = Vec::new();
    for f in of.iter().filter(live) {
        if f.spec_key.is_empty() {
            let now = more_count(&f.message);
            let before = more.remove(f.id.id()).unwrap_or(0);
            let extra = now.saturating_sub(before);
            if extra > 0 {
                let mut f = f.clone();
                if extra != now {
                    f.message = f.message.replacen(&now.to_string(), &extra.to_string(), 1);
                }
                out.push(f);
            }
        } else if let Some(k) = left.get_mut(&Key::of(f)).filter(|k| **k > 0) {
            *k -= 1;
        } else {
            out.push(f.clone());
        }
    }
    out
}

/// One file of the baseline: its findings (a multiset) and, per check, how
/// many were over the cap.
#[derive(Debug, Clone)]
struct File {
    path: String,
    findings: BTreeMap<Key, u64>,
    more: BTreeMap<String, u64>,
}

/// A parsed baseline.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// The baseline file, as given.
    pub path: PathBuf,
    files: Vec<File>,
}

/// A finding of the baseline that this run no longer has.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Gone {
    pub path: String,
    pub id: String,
    pub check: String,
    pub symbol: Option<String>,
    pub section: Option<String>,
    pub spec_key: String,
}

/// What applying a baseline did.
#[derive(Debug, Clone, Default)]
pub struct BaselineSummary {
    /// The baseline file, as given.
    pub file: PathBuf,
    /// Findings (over-the-cap ones included) that were in the baseline.
    pub unchanged: u64,
    /// Baseline findings of the files linted that this run did not find.
    pub gone: u64,
    /// Those of them that were listed (not over the cap).
    pub gone_findings: Vec<Gone>,
}

/// The leading number of an "N more LGxxx finding(s)" message.
fn more_count(message: &str) -> u64 {
    message
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn opt_str(v: &Value, key: &str, at: &str) -> Result<Option<String>, String> {
    match &v[key] {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(format!("{at}.{key} is not a string or null")),
    }
}

fn req_str(v: &Value, key: &str, at: &str) -> Result<String, String> {
    v[key]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{at}.{key} is missing or not a string"))
}

impl Baseline {
    /// Reads a baseline; the error says what is wrong, for
    /// `error: baseline FILE: ...`.
    pub fn read(path: &Path) -> Result<Baseline, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
        Baseline::parse(path, &text)
    }

    /// Parses the text of a `lint --format json` output.
    pub fn parse(path: &Path, text: &str) -> Result<Baseline, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| {
            format!("not JSON ({e}); a baseline is the output of `layoutgen lint --format json`")
        })?;
        match v.get("schema").and_then(Value::as_str) {
            Some(JSON_SCHEMA) => {}
            Some(other) => {
                return Err(format!(
                    "schema `{other}`, this lint reads `{JSON_SCHEMA}`; write the baseline again with this version's `lint --format json`"
                ));
            }
            None => {
                return Err(format!(
                    "no `schema` key: not a `layoutgen lint --format json` output (schema `{JSON_SCHEMA}`)"
                ));
            }
        }
        let files = v["files"]
            .as_array()
            .ok_or("`files` is missing or not an array")?;
        let mut out = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let at = format!("files[{i}]");
            let path = req_str(f, "path", &at)?;
            let findings = f["findings"]
                .as_array()
                .ok_or_else(|| format!("{at}.findings is missing or not an array"))?;
            let mut file = File {
                path,
                findings: BTreeMap::new(),
                more: BTreeMap::new(),
            };
            for (j, x) in findings.iter().enumerate() {
                let at = format!("{at}.findings[{j}]");
                let key = Key {
                    id: req_str(x, "id", &at)?,
                    symbol: opt_str(x, "symbol", &at)?,
                    section: opt_str(x, "section", &at)?,
                    spec_key: req_str(x, "spec_key", &at)?,
                };
                if key.spec_key.is_empty() {
                    let n = more_count(&req_str(x, "message", &at)?);
                    *file.more.entry(key.id).or_default() += n;
                } else {
                    *file.findings.entry(key).or_default() += 1;
                }
            }
            out.push(file);
        }
        Ok(Baseline {
            path: path.to_path_buf(),
            files: out,
        })
    }

    /// Leaves out of each report the findings the baseline holds and counts
    /// again what is left, so exit codes count only new findings.
    pub fn apply(&self, outcomes: &mut [Outcome]) -> BaselineSummary {
        let mut summary = BaselineSummary {
            file: self.path.clone(),
            ..Default::default()
        };
        let single = self.files.len() == 1 && outcomes.len() == 1;
        for o in outcomes.iter_mut() {
            let Ok(report) = &mut o.result else { continue };
            let path = o.path.display().to_string();
            let Some(base) = self.files.iter().find(|f| f.path == path).or(if single {
                self.files.first()
            } else {
                None
            }) else {
                continue;
            };
            let mut left = base.findings.clone();
            let mut more = base.more.clone();
            let mut kept = Vec::new();
            let mut counts = Counts::default();
            for mut f in std::mem::take(&mut report.findings) {
                let n = if f.spec_key.is_empty() {
                    // Over the cap: compared by number.
                    let now = more_count(&f.message);
                    let before = more.remove(f.id.id()).unwrap_or(0);
                    summary.unchanged += now.min(before);
                    summary.gone += before.saturating_sub(now);
                    let new = now.saturating_sub(before);
                    if new == 0 {
                        continue;
                    }
                    if new != now {
                        f.message = f.message.replacen(&now.to_string(), &new.to_string(), 1);
                        f.message.push_str(" (new since the baseline)");
                    }
                    new
                } else {
                    let key = Key::of(&f);
                    if let Some(k) = left.get_mut(&key).filter(|k| **k > 0) {
                        *k -= 1;
                        summary.unchanged += 1;
                        continue;
                    }
                    1
                };
                if f.suppressed.is_some() {
                    counts.suppressed += n;
                } else {
                    counts.add(f.severity, n);
                }
                kept.push(f);
            }
            summary.gone += more.values().sum::<u64>();
            for (key, n) in left {
                for _ in 0..n {
                    summary.gone += 1;
                    summary.gone_findings.push(Gone {
                        path: path.clone(),
                        check: super::Lint::from_id(&key.id)
                            .map(|c| c.name().to_string())
                            .unwrap_or_default(),
                        id: key.id.clone(),
                        symbol: key.symbol.clone(),
                        section: key.section.clone(),
                        spec_key: key.spec_key.clone(),
                    });
                }
            }
            report.findings = kept;
            report.counts = counts;
        }
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::unmatched;
    use crate::lint::{Finding, Lint};

    fn at(symbol: &str, addr: u64) -> Finding {
        Finding::new(
            Lint::SymbolOutsideSlot,
            "region.kernel",
            format!("symbol `{symbol}` at {addr:#x}"),
            "",
        )
        .symbol(symbol)
        .address(addr)
    }

    fn more(n: u64) -> Finding {
        Finding::new(
            Lint::SymbolOutsideSlot,
            "",
            format!("{n} more LG001 finding(s)"),
            "",
        )
    }

    #[test]
    fn a_finding_that_only_moved_is_matched() {
        let old = [at("buffer", 0x1000), at("stack", 0x2000)];
        let new = [at("buffer", 0x5000), at("heap", 0x3000)];
        let added: Vec<_> = unmatched(&new, &old)
            .into_iter()
            .map(|f| f.symbol)
            .collect();
        assert_eq!(added, [Some("heap".to_string())]);
        let gone: Vec<_> = unmatched(&old, &new)
            .into_iter()
            .map(|f| f.symbol)
            .collect();
        assert_eq!(gone, [Some("stack".to_string())]);
    }

    #[test]
    fn matching_is_one_to_one_and_more_findings_count_by_number() {
        let old = [at("x", 1), more(3)];
        let new = [at("x", 2), at("x", 3), more(5)];
        let added = unmatched(&new, &old);
        assert_eq!(added.len(), 2);
        assert_eq!(added[1].message, "2 more LG001 finding(s)");
        assert!(unmatched(&old, &new).is_empty());
    }
}
