//! Where each dotted key of a resolved layout came from in the spec text,
//! so that diagnostics about the layout point at the right line.

use crate::spec::{Span, Spec};
use std::collections::BTreeMap;

/// Dotted key (`region.vmalloc.start`) → its span in the spec text.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    spans: BTreeMap<String, Span>,
}

impl Origins {
    pub fn insert(&mut self, key: impl Into<String>, span: Span) {
        self.spans.insert(key.into(), span);
    }

    /// The span of `key`, or of its closest recorded parent key, or nothing.
    pub fn span(&self, key: &str) -> Span {
        let mut k = key;
        loop {
            if let Some(s) = self.spans.get(k) {
                return s.clone();
            }
            match k.rsplit_once('.') {
                Some((parent, _)) => k = parent,
                None => return 0..0,
            }
        }
    }
}

/// Every key of `spec` the layout and its checks may name.
pub fn collect(spec: &Spec) -> Origins {
    let mut o = Origins::default();
    o.insert("name", spec.name.span());
    o.insert("modes", spec.modes.span());
    o.insert("code_model", spec.code_model.span());
    o.insert("ram.base", spec.ram.base.span.clone());
    o.insert("ram.min_size", spec.ram.min_size.span.clone());
    o.insert("ram.max_size", spec.ram.max_size.span.clone());
    o.insert("ram.load", spec.ram.load.span.clone());
    o.insert("image.slot", spec.image.slot.span());
    if let Some(link) = &spec.image.link {
        o.insert("image.link", link.span.clone());
    }
    o.insert("image.max_size", spec.image.max_size.span.clone());
    o.insert("image.section_align", spec.image.section_align.span.clone());
    o.insert("image.stack_size", spec.image.stack_size.span.clone());
    for key in ["lma", "phys_align", "end_align"] {
        let v = match key {
            "lma" => &spec.image.lma,
            "phys_align" => &spec.image.phys_align,
            _ => &spec.image.end_align,
        };
        if let Some(v) = v {
            o.insert(format!("image.{key}"), v.span.clone());
        }
    }
    if let Some(b) = &spec.image.budget {
        o.insert("image.budget", b.span());
    }
    if let Some(e) = &spec.image.entry_at {
        o.insert("image.entry_at", e.span());
    }
    if let Some(r) = &spec.image.relocator {
        o.insert("image.relocator", r.span());
    }
    // Sections are keyed by id: ELF names contain dots.
    for s in &spec.image.section {
        let sec = s.get_ref();
        let id = sec.id();
        o.insert(format!("image.section.{id}"), s.span());
        o.insert(format!("image.section.{id}.name"), sec.name.span());
        o.insert(format!("image.section.{id}.perms"), sec.perms.span());
        if let Some(seg) = &sec.segment {
            o.insert(format!("image.section.{id}.segment"), seg.span());
        }
        if let Some(a) = &sec.align {
            o.insert(format!("image.section.{id}.align"), a.span.clone());
        }
        if let Some(v) = &sec.max_size {
            o.insert(format!("image.section.{id}.max_size"), v.span.clone());
        }
        if let Some(b) = &sec.budget {
            o.insert(format!("image.section.{id}.budget"), b.span());
        }
        for (n, ins) in sec.insert.iter().enumerate() {
            let key = format!("image.section.{id}.insert.{n}");
            o.insert(key.clone(), ins.span());
            o.insert(format!("{key}.align"), ins.get_ref().align.span.clone());
            o.insert(format!("{key}.size"), ins.get_ref().size.span.clone());
        }
    }
    o.insert("gp.policy", spec.gp.policy.span());
    if let Some(s) = &spec.gp.section {
        o.insert("gp.section", s.span());
    }
    if let Some(v) = &spec.gp.offset {
        o.insert("gp.offset", v.span.clone());
    }
    for (name, p) in &spec.boot {
        let key = format!("boot.{}", name.get_ref());
        o.insert(key.clone(), p.span());
        o.insert(format!("{key}.start"), p.get_ref().start.span.clone());
        o.insert(format!("{key}.size"), p.get_ref().size.span.clone());
    }
    if let Some(m) = &spec.module_loader {
        o.insert("module_loader", m.span());
    }
    if let Some(k) = &spec.kaslr {
        o.insert("kaslr", k.span());
        o.insert("kaslr.start", k.get_ref().start.span.clone());
        o.insert("kaslr.end", k.get_ref().end.span.clone());
        o.insert("kaslr.granule", k.get_ref().granule.span.clone());
    }
    for (name, r) in &spec.region {
        let name = name.get_ref();
        let rs = r.get_ref();
        o.insert(format!("region.{name}"), r.span());
        // A region without `start` is pointed at by the key that placed it.
        let placed_by = rs.start.as_ref().or(rs.end.as_ref()).or(rs.size.as_ref());
        o.insert(
            format!("region.{name}.start"),
            placed_by.map_or(r.span(), |v| v.span.clone()),
        );
        if let Some(v) = &rs.size {
            o.insert(format!("region.{name}.size"), v.span.clone());
        }
        if let Some(v) = &rs.end {
            o.insert(format!("region.{name}.end"), v.span.clone());
        }
        o.insert(format!("region.{name}.align"), rs.align.span.clone());
        if let Some(v) = &rs.leaf {
            o.insert(format!("region.{name}.leaf"), v.span.clone());
        }
    }
    o
}
