//! What changed between two resolved layouts: regions that moved, grew,
//! shrank, changed alignment or leaf size, appeared or disappeared, per
//! paging mode; and the image, RAM, gp and code-model settings they share.
//!
//! Layouts are compared after resolution, so a spec rewritten with other
//! expressions that place everything at the same addresses is identical.

use crate::arch::PagingMode;
use crate::format::human_size;
use crate::json::hex;
use crate::layout::{Layout, ModeLayout, Region, Section};
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write;

#[cfg(feature = "lint")]
pub mod elf;
#[cfg(feature = "lint")]
mod elf_render;

/// How something changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    Added,
    Removed,
    /// A region's or the image's start address changed.
    Moved,
    Grew,
    Shrank,
    /// An alignment or leaf size changed.
    Realigned,
    /// Anything else (a name, a permission, a policy).
    Changed,
}

impl ChangeKind {
    pub fn id(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Moved => "moved",
            ChangeKind::Grew => "grew",
            ChangeKind::Shrank => "shrank",
            ChangeKind::Realigned => "realigned",
            ChangeKind::Changed => "changed",
        }
    }
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The paging mode, for what depends on it; `None` for mode-independent settings.
    pub mode: Option<PagingMode>,
    /// Dotted key in the layout: `region.vmalloc.start`, `ram.max_size`,
    /// `image.section.text.perms`, `modes`.
    pub key: String,
    pub kind: ChangeKind,
    pub old: Value,
    pub new: Value,
    /// One line for people: `moved down 64 GiB: 0x… → 0x…`.
    pub summary: String,
}

fn size(v: u64) -> String {
    human_size(v as u128)
}

/// A distance: exact when that is short (`2014 MiB`), else rounded to a
/// tenth of the largest unit (`≈166 GiB`).
pub(crate) fn distance(v: u64) -> String {
    let exact = size(v);
    if exact.split(' ').next().is_some_and(|n| n.len() <= 4) {
        return exact;
    }
    let rounded = crate::emit::table::short_size(v as u128);
    match rounded.strip_suffix('B') {
        Some(n) if n.ends_with(|c: char| c.is_ascii_alphabetic()) => format!("≈{n}iB"),
        _ => format!("≈{rounded}"),
    }
}

/// `up 64 GiB` / `down 2 MiB`.
fn direction(old: u64, new: u64) -> String {
    if new >= old {
        format!("up {}", distance(new - old))
    } else {
        format!("down {}", distance(old - new))
    }
}

struct Differ {
    changes: Vec<Change>,
    mode: Option<PagingMode>,
}

impl Differ {
    fn push(&mut self, key: String, kind: ChangeKind, old: Value, new: Value, summary: String) {
        self.changes.push(Change {
            mode: self.mode,
            key,
            kind,
            old,
            new,
            summary,
        });
    }

    /// A number that changed, shown in hex in the JSON.
    fn number(&mut self, key: &str, kind: ChangeKind, old: u64, new: u64, summary: String) {
        self.push(key.into(), kind, json!(hex(old)), json!(hex(new)), summary);
    }

    /// An address: moved.
    fn address(&mut self, key: &str, old: u64, new: u64) {
        if old != new {
            let way = direction(old, new);
            let summary = format!("{key}: moved {way}: {} → {}", hex(old), hex(new));
            self.number(key, ChangeKind::Moved, old, new, summary);
        }
    }

    /// A size: grew or shrank.
    fn size(&mut self, key: &str, old: u64, new: u64) {
        if old != new {
            let kind = if new > old {
                ChangeKind::Grew
            } else {
                ChangeKind::Shrank
            };
            let summary = format!("{key}: {} {} → {}", kind.id(), size(old), size(new));
            self.number(key, kind, old, new, summary);
        }
    }

    /// An alignment or leaf size.
    fn alignment(&mut self, key: &str, old: u64, new: u64) {
        if old != new {
            let summary = format!("{key}: {} → {}", size(old), size(new));
            self.number(key, ChangeKind::Realigned, old, new, summary);
        }
    }

    /// Anything else that serialises.
    fn other<T: Serialize + PartialEq + std::fmt::Debug>(&mut self, key: &str, old: &T, new: &T) {
        if old != new {
            let (o, n) = (json!(old), json!(new));
            let show = |v: &Value| match v {
                Value::String(s) => format!("{s:?}"),
                Value::Null => "none".to_string(),
                v => v.to_string(),
            };
            let summary = format!("{key}: {} → {}", show(&o), show(&n));
            self.push(key.into(), ChangeKind::Changed, o, n, summary);
        }
    }

    fn added(&mut self, key: &str, what: String, value: Value) {
        self.push(
            key.into(),
            ChangeKind::Added,
            Value::Null,
            value,
            format!("{key}: added {what}"),
        );
    }

    fn removed(&mut self, key: &str, what: String, value: Value) {
        self.push(
            key.into(),
            ChangeKind::Removed,
            value,
            Value::Null,
            format!("{key}: removed (was {what})"),
        );
    }
}

fn region_text(r: &Region) -> String {
    format!(
        "[{}, {:#x}), {}",
        hex(r.start),
        r.end(),
        human_size(r.size as u128)
    )
}

fn section_text(s: &Section) -> String {
    format!(
        "{} {}, segment {}, aligned to {}",
        s.name,
        s.perms(),
        s.segment,
        size(s.align)
    )
}

/// Every difference from `old` to `new`, mode-independent ones first, then
/// per mode (in mode order), regions in address order.
pub fn diff(old: &Layout, new: &Layout) -> Vec<Change> {
    let mut d = Differ {
        changes: Vec::new(),
        mode: None,
    };
    d.other("name", &old.name, &new.name);
    d.other("description", &old.description, &new.description);
    d.other("arch", &old.arch, &new.arch);
    let modes = |l: &Layout| l.modes.iter().map(|m| m.mode).collect::<Vec<_>>();
    for m in modes(new).into_iter().filter(|m| old.mode(*m).is_none()) {
        d.added("modes", format!("mode {m}"), json!(m));
    }
    for m in modes(old).into_iter().filter(|m| new.mode(*m).is_none()) {
        d.removed("modes", format!("mode {m}"), json!(m));
    }
    d.other("code_model", &old.code_model, &new.code_model);

    d.address("ram.base", old.ram.base, new.ram.base);
    d.size("ram.min_size", old.ram.min_size, new.ram.min_size);
    d.size("ram.max_size", old.ram.max_size, new.ram.max_size);
    d.address("ram.load", old.ram.load, new.ram.load);

    let (oi, ni) = (&old.image, &new.image);
    d.other("image.slot", &oi.slot, &ni.slot);
    d.size("image.max_size", oi.max_size, ni.max_size);
    d.alignment("image.section_align", oi.section_align, ni.section_align);
    d.size("image.stack_size", oi.stack_size, ni.stack_size);
    d.other("image.entry", &oi.entry, &ni.entry);
    d.address("image.lma", oi.lma, ni.lma);
    d.other(
        "image.phys_align",
        &oi.phys_align.map(crate::json::hex),
        &ni.phys_align.map(crate::json::hex),
    );
    d.alignment("image.end_align", oi.end_align, ni.end_align);
    d.other("image.start_symbols", &oi.start_symbols, &ni.start_symbols);
    d.other("image.end_symbols", &oi.end_symbols, &ni.end_symbols);
    // Sections are matched by their ELF name and reported by id (ELF
    // names contain dots, which would blur the dotted key).
    for s in &ni.sections {
        let key = format!("image.section.{}", s.id);
        match oi.sections.iter().find(|o| o.name == s.name) {
            None => d.added(&key, section_text(s), json!(s)),
            Some(o) => {
                d.other(&format!("{key}.segment"), &o.segment, &s.segment);
                d.other(
                    &format!("{key}.start_symbols"),
                    &o.start_symbols,
                    &s.start_symbols,
                );
                d.other(
                    &format!("{key}.end_symbols"),
                    &o.end_symbols,
                    &s.end_symbols,
                );
                d.other(&format!("{key}.optional"), &o.optional, &s.optional);
                d.other(&format!("{key}.config"), &o.config, &s.config);
                d.other(&format!("{key}.perms"), &o.perms(), &s.perms());
                d.other(&format!("{key}.input"), &o.input, &s.input);
                d.alignment(&format!("{key}.align"), o.align, s.align);
                d.other(
                    &format!("{key}.max_size"),
                    &o.max_size.map(hex),
                    &s.max_size.map(hex),
                );
                d.other(&format!("{key}.nobits"), &o.nobits, &s.nobits);
            }
        }
    }
    for o in &oi.sections {
        if !ni.sections.iter().any(|s| s.name == o.name) {
            d.removed(
                &format!("image.section.{}", o.id),
                section_text(o),
                json!(o),
            );
        }
    }
    let order = |l: &Layout, other: &Layout| -> Vec<String> {
        l.image
            .sections
            .iter()
            .filter(|s| other.image.sections.iter().any(|o| o.name == s.name))
            .map(|s| s.name.clone())
            .collect()
    };
    d.other("image.section_order", &order(old, new), &order(new, old));

    d.other("gp.policy", &old.gp.policy, &new.gp.policy);
    d.other("gp.section", &old.gp.section, &new.gp.section);
    if old.gp.offset != new.gp.offset {
        d.other("gp.offset", &hex(old.gp.offset), &hex(new.gp.offset));
    }

    for nm in &new.modes {
        if let Some(om) = old.mode(nm.mode) {
            d.mode = Some(nm.mode);
            diff_mode(&mut d, om, nm);
        }
    }
    d.changes
}

fn diff_mode(d: &mut Differ, old: &ModeLayout, new: &ModeLayout) {
    d.address("image.link", old.image_link, new.image_link);
    if old.image_offset != new.image_offset {
        d.other(
            "image.offset",
            &hex(old.image_offset),
            &hex(new.image_offset),
        );
    }
    d.other(
        "image.in_linear_map",
        &old.image_in_linear_map,
        &new.image_in_linear_map,
    );
    match (&old.kaslr, &new.kaslr) {
        (None, None) => {}
        (None, Some(k)) => d.added(
            "kaslr",
            format!("[{}, {}), {} positions", hex(k.start), hex(k.end), k.slots),
            json!(k),
        ),
        (Some(k), None) => d.removed(
            "kaslr",
            format!("[{}, {}), {} positions", hex(k.start), hex(k.end), k.slots),
            json!(k),
        ),
        (Some(o), Some(n)) => {
            d.address("kaslr.start", o.start, n.start);
            d.address("kaslr.end", o.end, n.end);
            d.alignment("kaslr.granule", o.granule, n.granule);
            d.other("kaslr.slots", &o.slots, &n.slots);
        }
    }
    // Regions in address order of the new layout, then the removed ones.
    for r in &new.regions {
        let key = format!("region.{}", r.name);
        let Some(o) = old.region(&r.name) else {
            d.added(&key, region_text(r), json!(r));
            continue;
        };
        d.other(&format!("{key}.kind"), &o.kind, &r.kind);
        d.address(&format!("{key}.start"), o.start, r.start);
        d.size(&format!("{key}.size"), o.size, r.size);
        d.alignment(&format!("{key}.align"), o.align, r.align);
        d.alignment(&format!("{key}.leaf"), o.leaf, r.leaf);
        d.other(
            &format!("{key}.description"),
            &o.description,
            &r.description,
        );
    }
    for o in &old.regions {
        if new.region(&o.name).is_none() {
            d.removed(&format!("region.{}", o.name), region_text(o), json!(o));
        }
    }
}

/// The changes for people: mode-independent ones, then a block per mode.
pub fn render(old_name: &str, new_name: &str, changes: &[Change]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "--- {old_name}");
    let _ = writeln!(out, "+++ {new_name}");
    if changes.is_empty() {
        let _ = writeln!(out, "identical layouts");
        return out;
    }
    let mut current: Option<Option<PagingMode>> = None;
    for c in changes {
        if current != Some(c.mode) {
            if let Some(m) = c.mode {
                let _ = writeln!(out, "{m}:");
            }
            current = Some(c.mode);
        }
        let sign = match c.kind {
            ChangeKind::Added => '+',
            ChangeKind::Removed => '-',
            _ => '~',
        };
        let indent = if c.mode.is_some() { "  " } else { "" };
        let _ = writeln!(out, "{indent}{sign} {}", c.summary);
    }
    let _ = writeln!(
        out,
        "{} difference{}",
        changes.len(),
        if changes.len() == 1 { "" } else { "s" }
    );
    out
}

/// The changes as one JSON document (`layoutgen diff --format json`).
pub fn to_json(old_name: &str, new_name: &str, changes: &[Change]) -> Value {
    json!({
        "format_version": crate::json::FORMAT_VERSION,
        "old": old_name,
        "new": new_name,
        "identical": changes.is_empty(),
        "changes": changes,
    })
}
