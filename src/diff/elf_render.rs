//! The outputs of `layoutgen diff --elf`: human text, JSON and a Markdown
//! pull-request comment (docs/diff.md). Each starts from the same verdict
//! line.

use super::distance;
use super::elf::{ElfDiff, Extent, MovedSymbol, Row};
use crate::format::hex;
use crate::lint::Finding;
use serde_json::{Value, json};
use std::fmt::Write;

/// The JSON document's schema id: fields are only added within it; renames
/// or removals bump it (and `format_version`).
pub const JSON_SCHEMA: &str = "layoutgen-elf-diff/1";

/// Symbols and findings listed in human and Markdown output; JSON lists all.
const LISTED: usize = 20;

/// `+4 KiB`, `-512 B`, `±0`.
fn signed(g: i128) -> String {
    let mag = distance(g.unsigned_abs().min(u64::MAX as u128) as u64);
    match g.signum() {
        1 => format!("+{mag}"),
        -1 => format!("-{mag}"),
        _ => "±0".into(),
    }
}

/// A share of a budget: whole percents from 10 up, one decimal below.
fn percent(p: f64) -> String {
    if p >= 10.0 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `old → new`, or the one value when both are the same; a missing side
/// is `absent`.
fn pair(old: Option<String>, new: Option<String>) -> String {
    let show = |v: Option<String>| v.unwrap_or_else(|| "absent".into());
    if old == new {
        show(old)
    } else {
        format!("{} → {}", show(old), show(new))
    }
}

fn starts(r: &Row) -> String {
    let s = |e: &Option<Extent>| e.as_ref().map(|e| hex(e.start));
    pair(s(&r.old), s(&r.new))
}

fn sizes(r: &Row) -> String {
    let s = |e: &Option<Extent>| e.as_ref().map(|e| distance(e.size));
    pair(s(&r.old), s(&r.new))
}

fn perms(r: &Row) -> Option<String> {
    let p = |e: &Option<Extent>| e.as_ref().and_then(|e| e.perms.clone());
    let (old, new) = (p(&r.old), p(&r.new));
    (old.is_some() || new.is_some()).then(|| pair(old, new))
}

/// `0.6% → 0.8% of image.max_size (2 MiB)`; `None` without a budget.
fn shares(r: &Row) -> Option<String> {
    let b = r.budget.as_ref()?;
    let s = |e: &Option<Extent>| r.share(e.as_ref()).map(percent);
    Some(format!(
        "{} of {} ({})",
        pair(s(&r.old), s(&r.new)),
        b.key,
        distance(b.size)
    ))
}

fn region_of(r: &Option<String>) -> &str {
    r.as_deref().unwrap_or("no region")
}

impl ElfDiff {
    /// One line: the image's growth and share of `image.max_size`, then
    /// the counts of what else changed. `no changes: ...` when nothing did.
    pub fn verdict(&self) -> String {
        let share = self
            .image
            .share(self.image.new.as_ref())
            .map(|p| format!(" ({} of image.max_size)", percent(p)))
            .unwrap_or_default();
        if !self.changed() {
            // An object file (ET_REL) has no linked image to size.
            let image = self
                .image
                .new
                .as_ref()
                .map(|e| format!("image {}{share}, ", distance(e.size)))
                .unwrap_or_default();
            return format!("no changes: {image}{}", self.findings_now());
        }
        let g = self.image.growth();
        let mut parts = vec![if self.image.changed() && g == 0 {
            format!("image moved{share}")
        } else if g == 0 {
            format!("image unchanged{share}")
        } else {
            format!("image {}{share}", signed(g))
        }];
        let changed = |rows: &[Row]| rows.iter().filter(|r| r.changed()).count();
        let sections = changed(&self.sections);
        if sections > 0 {
            parts.push(format!(
                "{} changed",
                plural(sections, "section", "sections")
            ));
        }
        if !self.moved_symbols.is_empty() {
            parts.push(format!(
                "{} changed region",
                plural(self.moved_symbols.len(), "symbol", "symbols")
            ));
        }
        parts.push(plural(
            self.new_findings.len(),
            "new finding",
            "new findings",
        ));
        if !self.fixed_findings.is_empty() {
            parts.push(format!("{} fixed", self.fixed_findings.len()));
        }
        parts.join(", ")
    }

    fn findings_now(&self) -> String {
        let n = self
            .new
            .report
            .findings
            .iter()
            .filter(|f| f.suppressed.is_none())
            .count();
        format!("{} in both", plural(n, "lint finding", "lint findings"))
    }

    /// The human report: what changed, group by group, then the verdict.
    pub fn render_human(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "--- {}", self.old.path.display());
        let _ = writeln!(out, "+++ {}", self.new.path.display());
        let _ = writeln!(
            out,
            "against {} (regions of {}, slot {})",
            self.layout, self.mode, self.slot
        );
        let _ = writeln!(out, "{}", human_row(&self.image, "image"));
        for (title, rows) in [
            ("sections", &self.sections),
            ("segments", &self.segments),
            ("regions", &self.regions),
        ] {
            let changed: Vec<&Row> = rows.iter().filter(|r| r.changed()).collect();
            if changed.is_empty() {
                continue;
            }
            let _ = writeln!(out, "{title}:");
            for r in changed {
                let _ = writeln!(out, "  {}", human_row(r, &self.label(r)));
            }
        }
        if !self.moved_symbols.is_empty() {
            let _ = writeln!(out, "symbols that changed region:");
            for s in self.moved_symbols.iter().take(LISTED) {
                let _ = writeln!(out, "  {}", moved_text(s));
            }
            more(&mut out, self.moved_symbols.len(), "  ");
        }
        for (title, list) in [
            ("new lint findings", &self.new_findings),
            ("fixed lint findings", &self.fixed_findings),
        ] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(out, "{title}:");
            for f in list.iter().take(LISTED) {
                let _ = writeln!(out, "  {}", finding_text(f));
            }
            more(&mut out, list.len(), "  ");
        }
        let _ = writeln!(out, "{}", self.verdict());
        out
    }

    /// How a row is named: sections and regions by kind, segments by the
    /// spec segment they hold, the slot marked.
    fn label(&self, r: &Row) -> String {
        if r.key == "image" {
            "image".into()
        } else if r.key.starts_with("image.section.") {
            format!("section {}", r.name)
        } else if r.key.starts_with("segment ") {
            r.key.clone()
        } else if r.name == self.slot {
            format!("region {} (the slot)", r.name)
        } else {
            format!("region {}", r.name)
        }
    }

    /// A pull-request comment: the verdict line, then a table of what
    /// changed and short lists of moved symbols and findings.
    pub fn render_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.verdict());
        let _ = writeln!(
            out,
            "\n{} → {}, against {} (regions of {})",
            code(&self.old.path.display().to_string()),
            code(&self.new.path.display().to_string()),
            code(&self.layout),
            self.mode
        );
        if !self.changed() {
            return out;
        }
        let _ = writeln!(out, "\n| | start | size | growth | share of budget |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        let rows = std::iter::once(&self.image).chain(
            self.sections
                .iter()
                .chain(&self.segments)
                .chain(&self.regions)
                .filter(|r| r.changed()),
        );
        for r in rows {
            let mut size = sizes(r);
            if let Some(p) = perms(r) {
                size = format!("{size}, {p}");
            }
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&self.label(r)),
                cell(&starts(r)),
                cell(&size),
                signed(r.growth()),
                cell(&shares(r).unwrap_or_else(|| "—".into()))
            );
        }
        let lists: [(&str, Vec<String>); 3] = [
            (
                "Symbols that changed region",
                self.moved_symbols.iter().map(moved_text).collect(),
            ),
            (
                "New lint findings",
                self.new_findings.iter().map(finding_text).collect(),
            ),
            (
                "Fixed lint findings",
                self.fixed_findings.iter().map(finding_text).collect(),
            ),
        ];
        for (title, items) in lists {
            if items.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n**{title}** ({})\n", items.len());
            for i in items.iter().take(LISTED) {
                let _ = writeln!(out, "- {}", cell(i));
            }
            more(&mut out, items.len(), "- ");
        }
        out
    }

    /// Every figure, exact (docs/diff.md, "JSON").
    pub fn to_json(&self, spec: &str) -> Value {
        let build = |b: &super::elf::Build| {
            json!({
                "path": b.path.display().to_string(),
                "elf_kind": b.report.elf_kind,
                "counts": b.report.counts,
            })
        };
        let rows = |rows: &[Row]| rows.iter().map(row_json).collect::<Vec<_>>();
        json!({
            "schema": JSON_SCHEMA,
            "format_version": 1,
            "spec": spec,
            "layout": self.layout,
            "mode": self.mode,
            "slot": self.slot,
            "old": build(&self.old),
            "new": build(&self.new),
            "changed": self.changed(),
            "verdict": self.verdict(),
            "image": row_json(&self.image),
            "sections": rows(&self.sections),
            "segments": rows(&self.segments),
            "regions": rows(&self.regions),
            "moved_symbols": self.moved_symbols.iter().map(|s| json!({
                "name": s.name,
                "old_region": s.old_region,
                "new_region": s.new_region,
                "old_address": hex(s.old_address),
                "new_address": hex(s.new_address),
            })).collect::<Vec<_>>(),
            "findings": { "new": self.new_findings, "fixed": self.fixed_findings },
        })
    }
}

fn human_row(r: &Row, label: &str) -> String {
    let mut line = format!(
        "{label}: {}, {} ({})",
        starts(r),
        sizes(r),
        signed(r.growth())
    );
    if let Some(p) = perms(r) {
        let _ = write!(line, ", {p}");
    }
    if let Some(s) = shares(r) {
        let _ = write!(line, ", {s}");
    }
    line
}

fn moved_text(s: &MovedSymbol) -> String {
    format!(
        "{}: {} {} → {} {}",
        s.name,
        region_of(&s.old_region),
        hex(s.old_address),
        region_of(&s.new_region),
        hex(s.new_address)
    )
}

fn finding_text(f: &Finding) -> String {
    format!("{}[{} {}]: {}", f.severity, f.id.id(), f.check, f.message)
}

fn more(out: &mut String, n: usize, lead: &str) {
    if n > LISTED {
        let _ = writeln!(
            out,
            "{lead}… and {} more (all in --format json)",
            n - LISTED
        );
    }
}

fn extent_json(e: &Option<Extent>) -> Value {
    match e {
        None => Value::Null,
        Some(e) => {
            let mut v = json!({ "start": hex(e.start), "size": hex(e.size) });
            if let Some(p) = &e.perms {
                v["perms"] = json!(p);
            }
            v
        }
    }
}

fn row_json(r: &Row) -> Value {
    // Two decimals: a share is a figure for people; the sizes are exact.
    let share = |e: &Option<Extent>| r.share(e.as_ref()).map(|p| (p * 100.0).round() / 100.0);
    json!({
        "name": r.name,
        "key": r.key,
        "old": extent_json(&r.old),
        "new": extent_json(&r.new),
        // Bytes, a plain number (a count, not an address); the sizes are
        // exact in `old`/`new`.
        "growth": i64::try_from(r.growth()).unwrap_or(if r.growth() < 0 { i64::MIN } else { i64::MAX }),
        "budget": r.budget.as_ref().map(|b| json!({ "key": b.key, "size": hex(b.size) })),
        "share_old": share(&r.old),
        "share_new": share(&r.new),
        "changed": r.changed(),
    })
}

/// Markdown inline code, for names from the files.
fn code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'"))
}

/// A table cell or list item: a `|` would end the cell, markup in a name
/// would render.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('*', "\\*")
        .replace('_', "\\_")
        .replace('<', "&lt;")
}
