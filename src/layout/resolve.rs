//! Spec → `Layout`: evaluates every expression once per paging mode.
//!
//! References between values (`vmalloc.end`, `image.end`, `ram.base`) are
//! resolved on demand with memoisation and cycle detection, so a spec may
//! write its values in any order. Only what is needed to *compute* the layout
//! is reported here (syntax-level and evaluation errors); the layout's
//! invariants are the `check` module's job.

use super::{Gp, Image, Kaslr, Layout, ModeLayout, Origins, Ram, Region, Section};
use crate::arch::PagingMode;
use crate::diag::{Diagnostic, Label, Rule};
use crate::spec::expr::{TOP, Term};
use crate::spec::{GpPolicy, RegionKind, RegionSpec, Spec, Value};
use crate::units::PAGE_SIZE;
use std::collections::HashMap;

/// Resolves a parsed spec. `source` is the spec's file name, recorded in
/// generated headers.
/// Resolves a spec against a linked image whose real end (rounded up to
/// 4 KiB) is `linked_end`: `image.end` then means that address, so windows
/// relative to it (Linux's modules area) are the ones that kernel gets.
pub fn resolve(
    spec: &Spec,
    source: &str,
    linked_end: Option<u64>,
) -> Result<Layout, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let origins = collect_origins(spec);

    let modes = spec_modes(spec, &mut diags);
    crate::spec::validate::names(spec, &mut diags);
    let lint = crate::lint::config::from_spec(spec, &mut diags);
    check_per_mode_values(spec, &modes, &mut diags);
    if !diags.is_empty() || modes.is_empty() {
        return Err(diags);
    }

    let mut mode_layouts = Vec::new();
    let mut scalars: Option<(Ram, Image, Gp)> = None;
    for &mode in &modes {
        let mut cx = ModeContext::new(spec, mode);
        cx.linked_end = linked_end;
        match cx.resolve_mode() {
            Ok((ml, ram, image, gp)) => {
                mode_layouts.push(ml);
                scalars.get_or_insert((ram, image, gp));
            }
            Err(mut d) => diags.append(&mut d),
        }
    }
    if !diags.is_empty() {
        dedup(&mut diags);
        return Err(diags);
    }
    let (ram, image, gp) = scalars.expect("at least one mode resolved");
    Ok(Layout {
        name: spec.name.get_ref().clone(),
        description: spec.description.clone(),
        source: source.to_string(),
        arch: *spec.arch.get_ref(),
        code_model: *spec.code_model.get_ref(),
        gp,
        ram,
        image,
        modes: mode_layouts,
        lint,
        origins,
    })
}

/// The same mistake found in every mode is reported once.
fn dedup(diags: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::HashSet::new();
    diags.retain(|d| seen.insert((d.rule, d.message.clone(), d.key().map(str::to_owned))));
}

fn spec_modes(spec: &Spec, diags: &mut Vec<Diagnostic>) -> Vec<PagingMode> {
    let mut modes: Vec<PagingMode> = Vec::new();
    for m in spec.modes.get_ref() {
        if modes.contains(m.get_ref()) {
            diags.push(
                Diagnostic::new(
                    Rule::Structure,
                    format!("mode `{}` is listed twice", m.get_ref()),
                )
                .label(Label::primary("modes", m.span(), "duplicate"))
                .help("list each paging mode once"),
            );
        } else {
            modes.push(*m.get_ref());
        }
    }
    let arch = *spec.arch.get_ref();
    if *spec.code_model.get_ref() == crate::spec::CodeModel::SemiPic && !arch.facts().semi_pic {
        diags.push(
            Diagnostic::new(
                Rule::Structure,
                format!("code_model \"semi-pic\" is the riscv medany scheme; {arch} has no such code model"),
            )
            .label(Label::primary("code_model", spec.code_model.span(), "riscv only"))
            .help("use code_model = \"pie\" for a relocatable image (arm64 KASLR links -pie and applies R_AARCH64_RELATIVE at boot), or \"fixed\""),
        );
    }
    for m in spec.modes.get_ref() {
        if !arch.facts().modes.contains(m.get_ref()) {
            diags.push(
                Diagnostic::new(
                    Rule::Structure,
                    format!("mode `{}` is not a paging mode of {arch}", m.get_ref()),
                )
                .label(Label::primary("modes", m.span(), "other architecture"))
                .help(format!(
                    "{arch} modes are {}",
                    arch.facts()
                        .modes
                        .iter()
                        .map(|m| m.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }
    }
    if modes.contains(&PagingMode::Bare) && modes.len() > 1 {
        diags.push(
            Diagnostic::new(Rule::Structure, "`bare` (no paging) is listed with paging modes")
                .label(Label::primary("modes", spec.modes.span(), "bare and paged"))
                .help("one image runs with paging (modes = [\"sv39\", ...]) or without it (modes = [\"bare\"]); describe the two with two specs"),
        );
    }
    if modes.is_empty() {
        diags.push(
            Diagnostic::new(Rule::Structure, "no paging mode listed")
                .label(Label::primary("modes", spec.modes.span(), "empty"))
                .help("list the modes the image must run under, e.g. modes = [\"sv39\"]"),
        );
    }
    modes.sort();
    modes
}

fn collect_origins(spec: &Spec) -> Origins {
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

/// Every value of the spec with its dotted key, and whether it may differ
/// per paging mode (region placement, the link address and KASLR may).
fn all_values(spec: &Spec) -> Vec<(String, &Value, bool)> {
    let mut v: Vec<(String, &Value, bool)> = vec![
        ("ram.base".into(), &spec.ram.base, false),
        ("ram.min_size".into(), &spec.ram.min_size, false),
        ("ram.max_size".into(), &spec.ram.max_size, false),
        ("ram.load".into(), &spec.ram.load, false),
        ("image.max_size".into(), &spec.image.max_size, false),
        (
            "image.section_align".into(),
            &spec.image.section_align,
            false,
        ),
        ("image.stack_size".into(), &spec.image.stack_size, false),
    ];
    let im = &spec.image;
    let optional = [
        ("image.link", &im.link, true),
        ("image.lma", &im.lma, false),
        ("image.phys_align", &im.phys_align, false),
        ("image.end_align", &im.end_align, false),
        ("gp.offset", &spec.gp.offset, false),
    ];
    for (key, value, per_mode) in optional {
        if let Some(value) = value {
            v.push((key.into(), value, per_mode));
        }
    }
    for s in &im.section {
        let sec = s.get_ref();
        let id = sec.id();
        for (field, value) in [("align", &sec.align), ("max_size", &sec.max_size)] {
            if let Some(value) = value {
                v.push((format!("image.section.{id}.{field}"), value, false));
            }
        }
        for (n, ins) in sec.insert.iter().enumerate() {
            let ins = ins.get_ref();
            v.push((
                format!("image.section.{id}.insert.{n}.align"),
                &ins.align,
                false,
            ));
            v.push((
                format!("image.section.{id}.insert.{n}.size"),
                &ins.size,
                false,
            ));
        }
    }
    if let Some(k) = &spec.kaslr {
        let k = k.get_ref();
        v.push(("kaslr.start".into(), &k.start, true));
        v.push(("kaslr.end".into(), &k.end, true));
        v.push(("kaslr.granule".into(), &k.granule, true));
    }
    for (name, r) in &spec.region {
        let r = r.get_ref();
        let name = name.get_ref();
        for (field, value) in [
            ("start", &r.start),
            ("size", &r.size),
            ("end", &r.end),
            ("leaf", &r.leaf),
        ] {
            if let Some(value) = value {
                v.push((format!("region.{name}.{field}"), value, true));
            }
        }
        v.push((format!("region.{name}.align"), &r.align, true));
    }
    v
}

/// Per-mode tables only where a value may differ per mode, and only for
/// modes the spec lists (a value for another mode would be ignored).
fn check_per_mode_values(spec: &Spec, modes: &[PagingMode], diags: &mut Vec<Diagnostic>) {
    for (key, value, may) in all_values(spec) {
        let crate::spec::ModeExprs::PerMode(entries) = &value.exprs else {
            continue;
        };
        if !may {
            diags.push(
                Diagnostic::new(Rule::Resolve, format!("`{key}` cannot differ per paging mode"))
                    .label(Label::primary(&key, value.span.clone(), "per-mode table here"))
                    .help("write one value; only region placement, the image link address and KASLR may be per mode"),
            );
            continue;
        }
        for (mode, span, _) in entries {
            if !modes.contains(mode) {
                diags.push(
                    Diagnostic::new(
                        Rule::Resolve,
                        format!("`{key}` has a value for {mode}, which `modes` does not list"),
                    )
                    .label(Label::primary(&key, span.clone(), "never used"))
                    .help(format!(
                        "remove the {mode} entry, or add \"{mode}\" to `modes`"
                    )),
                );
            }
        }
    }
    // Without paging there are no halves.
    if modes == [PagingMode::Bare] {
        for (name, r) in &spec.region {
            if let Some(h) = &r.get_ref().half {
                let key = format!("region.{}.half", name.get_ref());
                diags.push(
                    Diagnostic::new(
                        Rule::Resolve,
                        format!("`{key}` means nothing without paging"),
                    )
                    .label(Label::primary(&key, h.span(), "ignored in a bare layout"))
                    .help("addresses are physical with modes = [\"bare\"]: remove `half`"),
                );
            }
        }
    }
    // A region limited to modes the spec does not list would vanish.
    for (name, r) in &spec.region {
        let Some(region_modes) = &r.get_ref().modes else {
            continue;
        };
        for m in region_modes.get_ref() {
            if !modes.contains(m.get_ref()) {
                let key = format!("region.{}.modes", name.get_ref());
                diags.push(
                    Diagnostic::new(
                        Rule::Resolve,
                        format!(
                            "`{key}` lists {}, which the spec's `modes` does not",
                            m.get_ref()
                        ),
                    )
                    .label(Label::primary(&key, m.span(), "not a mode of this spec"))
                    .help(format!(
                        "remove it, or add \"{}\" to the top-level `modes`",
                        m.get_ref()
                    )),
                );
            }
        }
        if region_modes.get_ref().is_empty() {
            let key = format!("region.{}.modes", name.get_ref());
            diags.push(
                Diagnostic::new(
                    Rule::Resolve,
                    format!("`{key}` is empty: the region would exist in no mode"),
                )
                .label(Label::primary(&key, region_modes.span(), "empty"))
                .help("remove `modes` to have the region in every mode, or delete the region"),
            );
        }
    }
}

/// Real specs chain a handful of references; the bound keeps evaluation
/// (which recurses) far from the stack limit on hostile input.
const MAX_REFERENCE_DEPTH: usize = 64;

/// Evaluation state for one paging mode.
struct ModeContext<'s> {
    spec: &'s Spec,
    mode: PagingMode,
    memo: HashMap<(String, String), u128>,
    /// References being evaluated, to detect cycles.
    active: Vec<(String, String)>,
    /// The real end of a linked image, when resolving against one.
    linked_end: Option<u64>,
}

/// What a value means, which decides its valid range.
#[derive(Clone, Copy, PartialEq)]
enum Quantity {
    /// An address: `[0, 2^64)`.
    Address,
    /// An exclusive end: `[0, 2^64]`.
    End,
    /// A size or alignment: `[0, 2^64)`.
    Size,
}

impl<'s> ModeContext<'s> {
    fn new(spec: &'s Spec, mode: PagingMode) -> Self {
        ModeContext {
            spec,
            mode,
            memo: HashMap::new(),
            active: Vec::new(),
            linked_end: None,
        }
    }

    fn region_spec(&self, name: &str) -> Option<&'s RegionSpec> {
        self.spec.region.get(name).map(|v| v.get_ref())
    }

    fn region_in_mode(&self, name: &str) -> Option<&'s RegionSpec> {
        self.region_spec(name).filter(|r| match &r.modes {
            None => true,
            Some(modes) => modes.get_ref().iter().any(|m| *m.get_ref() == self.mode),
        })
    }

    /// Evaluates `value` (at `key`) in this mode and checks its range.
    fn eval(&mut self, key: &str, value: &Value, q: Quantity) -> Result<u128, Diagnostic> {
        let mode = self.mode;
        let Some((expr, span)) = value.for_mode(mode) else {
            return Err(Diagnostic::new(
                Rule::Resolve,
                format!("`{key}` has no value for {mode}"),
            )
            .label(Label::primary(key, value.span.clone(), format!("no `{mode}` entry")))
            .help(format!("add `{mode} = \"...\"` to the per-mode table, or write one value for all modes")));
        };
        let span = span.clone();
        let raw = expr.eval(|term| match term {
            Term::Number(n) => Ok(*n),
            Term::Top => Ok(TOP),
            Term::KernelHalf => Ok(mode.kernel_half_start() as u128),
            Term::Ref { object, field } => self.reference(object, field).map_err(|mut d| {
                if d.labels.is_empty() {
                    d = d.label(Label::primary(key, span.clone(), "in this expression"));
                }
                d
            }),
        })?;
        let max: i128 = if q == Quantity::End {
            TOP as i128
        } else {
            TOP as i128 - 1
        };
        if raw < 0 || raw > max {
            let what = if raw < 0 {
                format!("is {} below zero", hex_i128(-raw))
            } else {
                format!(
                    "is {} past the last address (it wraps around 2^64)",
                    hex_i128(raw - TOP as i128)
                )
            };
            return Err(Diagnostic::new(Rule::Wrap, format!("`{key}` {what}"))
                .in_mode(mode)
                .label(Label::primary(key, span, "evaluates out of range"))
                .help("addresses are in [0, 2^64): use `top - N` for addresses near the end of the address space"));
        }
        Ok(raw as u128)
    }

    fn reference(&mut self, object: &str, field: &str) -> Result<u128, Diagnostic> {
        let memo_key = (object.to_string(), field.to_string());
        if let Some(v) = self.memo.get(&memo_key) {
            return Ok(*v);
        }
        if self.active.len() >= MAX_REFERENCE_DEPTH {
            return Err(Diagnostic::new(
                Rule::Resolve,
                format!(
                    "references nest deeper than {MAX_REFERENCE_DEPTH} (at `{object}.{field}`)"
                ),
            )
            .help(
                "refer to fewer values in a chain, e.g. place regions relative to a common anchor",
            ));
        }
        if self.active.contains(&memo_key) {
            let chain: Vec<String> = self
                .active
                .iter()
                .chain(std::iter::once(&memo_key))
                .map(|(o, f)| format!("{o}.{f}"))
                .collect();
            return Err(Diagnostic::new(
                Rule::Resolve,
                format!("circular reference: {}", chain.join(" → ")),
            )
            .help("define one of these values without referring back to the others"));
        }
        self.active.push(memo_key.clone());
        let result = self.reference_uncached(object, field);
        self.active.pop();
        let v = result?;
        self.memo.insert(memo_key, v);
        Ok(v)
    }

    fn reference_uncached(&mut self, object: &str, field: &str) -> Result<u128, Diagnostic> {
        let spec = self.spec;
        let unknown_field = |valid: &str| {
            Diagnostic::new(
                Rule::Resolve,
                format!("`{object}.{field}`: `{object}` has no field `{field}`"),
            )
            .help(format!("`{object}` has {valid}"))
        };
        match object {
            "ram" => match field {
                "base" => self.eval("ram.base", &spec.ram.base, Quantity::Address),
                "load" => self.eval("ram.load", &spec.ram.load, Quantity::Address),
                "min_size" => self.eval("ram.min_size", &spec.ram.min_size, Quantity::Size),
                "max_size" => self.eval("ram.max_size", &spec.ram.max_size, Quantity::Size),
                "end" => Ok(self.reference("ram", "base")? + self.reference("ram", "max_size")?),
                _ => Err(unknown_field(
                    "`base`, `load`, `min_size`, `max_size` and `end`",
                )),
            },
            "image" => match field {
                "start" => self.image_link(),
                "max_size" => self.eval("image.max_size", &spec.image.max_size, Quantity::Size),
                "end" => match self.linked_end {
                    Some(end) => Ok(end as u128),
                    None => Ok(self.image_link()? + self.reference("image", "max_size")?),
                },
                _ => Err(unknown_field("`start`, `end` and `max_size`")),
            },
            name => {
                let Some(region) = self.region_spec(name) else {
                    let known: Vec<&str> =
                        spec.region.keys().map(|k| k.get_ref().as_str()).collect();
                    return Err(Diagnostic::new(
                        Rule::Resolve,
                        format!("`{name}.{field}` refers to no region `{name}`"),
                    )
                    .help(format!(
                        "references are `ram.*`, `image.*` or a region: {}",
                        known.join(", ")
                    )));
                };
                if self.region_in_mode(name).is_none() {
                    return Err(Diagnostic::new(
                        Rule::Resolve,
                        format!("`{name}.{field}` refers to region `{name}`, which does not exist in {}", self.mode),
                    )
                    .help(format!("add {} to `region.{name}.modes`, or use a per-mode value", self.mode)));
                }
                match field {
                    "start" => self.region_start(name, region),
                    "size" => self.region_size(name, region),
                    "end" => Ok(self.reference(name, "start")? + self.region_size(name, region)?),
                    _ => Err(unknown_field("`start`, `end` and `size`")),
                }
            }
        }
    }

    /// Exactly two of `start`, `size` and `end` place a region.
    fn placement_error(&self, name: &str) -> Diagnostic {
        let span = self
            .spec
            .region
            .iter()
            .find(|(k, _)| k.get_ref() == name)
            .map_or(0..0, |(k, _)| k.span());
        Diagnostic::new(
            Rule::Syntax,
            format!("`region.{name}` needs exactly two of `start`, `size` and `end`"),
        )
        .label(Label::primary(format!("region.{name}"), span, "placed here"))
        .help("e.g. start = \"top - 2GiB\" and size = \"2GiB\", or size = \"64GiB\" and end = \"linear_map.start\"")
    }

    fn region_start(&mut self, name: &str, region: &RegionSpec) -> Result<u128, Diagnostic> {
        let key = format!("region.{name}");
        match (&region.start, &region.size, &region.end) {
            (Some(start), _, _) if region.size.is_some() != region.end.is_some() => {
                self.eval(&format!("{key}.start"), start, Quantity::Address)
            }
            (None, Some(size), Some(end)) => {
                let size = self.eval(&format!("{key}.size"), size, Quantity::Size)?;
                let end_v = self.eval(&format!("{key}.end"), end, Quantity::End)?;
                end_v.checked_sub(size).ok_or_else(|| {
                    Diagnostic::new(
                        Rule::Wrap,
                        format!("`{key}` ends at {end_v:#x} but is {size:#x} long: it would start below zero"),
                    )
                    .in_mode(self.mode)
                    .label(Label::primary(format!("{key}.size"), region.size.as_ref().map_or(0..0, |v| v.span.clone()), "too large"))
                    .help("regions may not wrap around 2^64")
                })
            }
            _ => Err(self.placement_error(name)),
        }
    }

    fn region_size(&mut self, name: &str, region: &RegionSpec) -> Result<u128, Diagnostic> {
        let key = format!("region.{name}");
        match (&region.start, &region.size, &region.end) {
            (_, Some(size), None) | (None, Some(size), Some(_)) => {
                self.eval(&format!("{key}.size"), size, Quantity::Size)
            }
            (Some(_), None, Some(end)) => {
                let end_span = end.span.clone();
                let end = self.eval(&format!("{key}.end"), end, Quantity::End)?;
                let start = self.reference(name, "start")?;
                if end < start {
                    return Err(Diagnostic::new(
                        Rule::Wrap,
                        format!("`{key}.end` ({end:#x}) is below its start ({start:#x})"),
                    )
                    .in_mode(self.mode)
                    .label(Label::primary(
                        format!("{key}.end"),
                        end_span,
                        "ends before it starts",
                    ))
                    .help(
                        "a region's end must be above its start: regions may not wrap around 2^64",
                    ));
                }
                Ok(end - start)
            }
            _ => Err(self.placement_error(name)),
        }
    }

    fn image_link(&mut self) -> Result<u128, Diagnostic> {
        let spec = self.spec;
        match &spec.image.link {
            Some(link) => self.eval("image.link", link, Quantity::Address),
            None => {
                let slot = spec.image.slot.get_ref().clone();
                self.reference(&slot, "start").map_err(|d| {
                    d.label(Label::primary(
                        "image.slot",
                        spec.image.slot.span(),
                        "the image is linked at this region's start",
                    ))
                })
            }
        }
    }

    fn resolve_mode(&mut self) -> Result<(ModeLayout, Ram, Image, Gp), Vec<Diagnostic>> {
        let spec = self.spec;
        let mut diags = Vec::new();
        let mode = self.mode;

        let mut regions = Vec::new();
        for (name, r) in &spec.region {
            let name = name.get_ref();
            let rs = r.get_ref();
            if self.region_in_mode(name).is_none() {
                continue;
            }
            let key = format!("region.{name}");
            let region = (|| -> Result<Region, Diagnostic> {
                let start = self.reference(name, "start")? as u64;
                let size = self.reference(name, "size")?;
                if size == 0 {
                    return Err(
                        Diagnostic::new(Rule::Structure, format!("`{key}` is empty"))
                            .label(Label::primary(key.clone(), r.span(), "size 0"))
                            .help("give the region a non-zero size, or remove it"),
                    );
                }
                let end = start as u128 + size;
                if end > TOP {
                    return Err(Diagnostic::new(
                        Rule::Wrap,
                        format!("`{key}` ends {:#x} past 2^64 (it wraps around)", end - TOP),
                    )
                    .in_mode(mode)
                    .label(Label::primary(
                        format!("{key}.start"),
                        rs.start
                            .as_ref()
                            .or(rs.size.as_ref())
                            .map_or(r.span(), |v| v.span.clone()),
                        "starts here",
                    ))
                    .help(
                        "shrink the region or move it down: `end = \"top\"` is the highest end",
                    ));
                }
                let align = self.eval(&format!("{key}.align"), &rs.align, Quantity::Size)? as u64;
                let leaf = match &rs.leaf {
                    Some(v) => self.eval(&format!("{key}.leaf"), v, Quantity::Size)? as u64,
                    None => PAGE_SIZE,
                };
                let kind = rs
                    .kind
                    .as_ref()
                    .map(|k| *k.get_ref())
                    .unwrap_or_else(|| RegionKind::from_name(name));
                let half = match (&rs.half, kind) {
                    (Some(h), _) => *h.get_ref(),
                    (None, RegionKind::User) => crate::spec::Half::Lower,
                    (None, _) => crate::spec::Half::Upper,
                };
                Ok(Region {
                    name: name.clone(),
                    kind,
                    half,
                    start,
                    size: size as u64,
                    last: (end - 1) as u64,
                    align,
                    leaf,
                    description: rs.description.clone(),
                })
            })();
            match region {
                Ok(r) => regions.push(r),
                Err(d) => diags.push(d.in_mode(mode)),
            }
        }
        regions.sort_by_key(|r| (r.start, r.name.clone()));

        let linear: Vec<&Region> = regions
            .iter()
            .filter(|r| r.kind == RegionKind::LinearMap)
            .collect();
        if linear.len() > 1 {
            diags.push(
                Diagnostic::new(
                    Rule::Structure,
                    format!(
                        "a layout has at most one `linear_map` region, found {}",
                        linear.len()
                    ),
                )
                .in_mode(mode)
                .help("keep one direct map of all RAM (Linux PAGE_OFFSET); give the others another kind"),
            );
        }
        if mode.is_bare() && !linear.is_empty() {
            diags.push(
                Diagnostic::new(
                    Rule::Structure,
                    "a layout without paging (`bare`) has no linear map",
                )
                .in_mode(mode)
                .help("addresses are physical without paging: remove the linear_map region"),
            );
        }
        let slot_name = spec.image.slot.get_ref();
        let slot = regions.iter().find(|r| &r.name == slot_name);
        match slot {
            Some(s) if matches!(s.kind, RegionKind::Kernel | RegionKind::LinearMap) => {}
            Some(s) => diags.push(
                Diagnostic::new(
                    Rule::Structure,
                    format!(
                        "`image.slot` names region `{slot_name}` of kind `{:?}`",
                        s.kind
                    ),
                )
                .label(Label::primary(
                    "image.slot",
                    spec.image.slot.span(),
                    "not a kernel slot",
                ))
                .help("the image goes into a region of kind `kernel`, or into `linear_map` itself"),
            ),
            // A declared slot that failed to resolve is already reported.
            None if self.region_in_mode(slot_name).is_some() && !diags.is_empty() => {}
            None => diags.push(
                Diagnostic::new(
                    Rule::Structure,
                    format!("`image.slot` names no region `{slot_name}` in {mode}"),
                )
                .label(Label::primary(
                    "image.slot",
                    spec.image.slot.span(),
                    "unknown region",
                ))
                .help("declare the slot, e.g. [region.kernel] with kind = \"kernel\""),
            ),
        }

        let scalar = |cx: &mut Self, key: &str, v: &Value, q| cx.eval(key, v, q).map(|x| x as u64);
        let ram = (|| -> Result<Ram, Diagnostic> {
            Ok(Ram {
                base: scalar(self, "ram.base", &spec.ram.base, Quantity::Address)?,
                min_size: scalar(self, "ram.min_size", &spec.ram.min_size, Quantity::Size)?,
                max_size: scalar(self, "ram.max_size", &spec.ram.max_size, Quantity::Size)?,
                load: scalar(self, "ram.load", &spec.ram.load, Quantity::Address)?,
            })
        })();
        let image_link = self.image_link();
        let image = self.image();
        let gp = self.gp();
        let kaslr = match &spec.kaslr {
            None => Ok(None),
            Some(k) => {
                let k = k.get_ref();
                (|| -> Result<Option<Kaslr>, Diagnostic> {
                    let start = self.eval("kaslr.start", &k.start, Quantity::Address)?;
                    let end = self.eval("kaslr.end", &k.end, Quantity::End)?;
                    let granule = self.eval("kaslr.granule", &k.granule, Quantity::Size)?;
                    let max = self.reference("image", "max_size")?;
                    // Positions p = start + i * granule with p + max <= end.
                    let slots = if granule == 0 || end < start + max {
                        0
                    } else {
                        (end - start - max) / granule + 1
                    };
                    Ok(Some(Kaslr {
                        start: start as u64,
                        end: end.min(TOP - 1) as u64,
                        granule: granule as u64,
                        slots: slots as u64,
                    }))
                })()
            }
        };

        let (ram, image_link, image, gp, kaslr) = match (ram, image_link, image, gp, kaslr) {
            (Ok(a), Ok(b), Ok(c), Ok(d), Ok(e)) if diags.is_empty() => (a, b as u64, c, d, e),
            (a, b, c, d, e) => {
                diags.extend(a.err());
                diags.extend(b.err());
                diags.extend(c.err().into_iter().flatten());
                diags.extend(d.err());
                diags.extend(e.err());
                return Err(diags
                    .into_iter()
                    .map(|d| {
                        if d.mode.is_none() && d.rule == Rule::Wrap {
                            d.in_mode(mode)
                        } else {
                            d
                        }
                    })
                    .collect());
            }
        };
        let linear = linear.first().copied();
        let in_linear_map = slot.is_some_and(|s| s.kind == RegionKind::LinearMap);
        Ok((
            ModeLayout {
                mode,
                va_bits: mode.va_bits(),
                levels: mode.levels(),
                mode_register: mode.mode_register(),
                kernel_half: mode.kernel_half_start(),
                page_offset: linear.map(|l| l.start),
                linear_offset: linear.map(|l| l.start.wrapping_sub(ram.base)),
                image_link,
                image_offset: image_link.wrapping_sub(ram.load),
                image_in_linear_map: in_linear_map,
                kaslr,
                regions,
            },
            ram,
            image,
            gp,
        ))
    }

    fn image(&mut self) -> Result<Image, Vec<Diagnostic>> {
        let spec = self.spec;
        let im = &spec.image;
        let mut diags = Vec::new();
        let get = |cx: &mut Self, diags: &mut Vec<Diagnostic>, key: &str, v: &Value| match cx.eval(
            key,
            v,
            Quantity::Size,
        ) {
            Ok(x) => x as u64,
            Err(d) => {
                diags.push(d);
                0
            }
        };
        let max_size = get(self, &mut diags, "image.max_size", &im.max_size);
        let section_align = get(self, &mut diags, "image.section_align", &im.section_align);
        let stack_size = get(self, &mut diags, "image.stack_size", &im.stack_size);
        let end_align = match &im.end_align {
            Some(v) => get(self, &mut diags, "image.end_align", v),
            None => section_align,
        };
        let phys_align = im
            .phys_align
            .as_ref()
            .map(|v| get(self, &mut diags, "image.phys_align", v));
        let lma = match &im.lma {
            Some(v) => match self.eval("image.lma", v, Quantity::Address) {
                Ok(x) => x as u64,
                Err(d) => {
                    diags.push(d);
                    0
                }
            },
            None => match self.reference("ram", "load") {
                Ok(x) => x as u64,
                Err(d) => {
                    diags.push(d);
                    0
                }
            },
        };
        let symbols = |list: &Option<Vec<toml::Spanned<String>>>, default: String| match list {
            Some(list) => list.iter().map(|s| s.get_ref().clone()).collect(),
            None => vec![default],
        };
        let mut sections: Vec<Section> = Vec::new();
        for s in &im.section {
            let s = s.get_ref();
            let name = s.name.get_ref().clone();
            let id = s.id();
            let segment = s
                .segment
                .as_ref()
                .map_or(id.clone(), |g| g.get_ref().clone());
            let segment_start = sections.last().is_none_or(|p| p.segment != segment);
            let perms = s.perms.get_ref();
            let valid = !perms.is_empty()
                && perms.chars().all(|c| matches!(c, 'r' | 'w' | 'x'))
                && perms
                    .chars()
                    .collect::<std::collections::HashSet<_>>()
                    .len()
                    == perms.len();
            if !valid {
                diags.push(
                    Diagnostic::new(
                        Rule::Syntax,
                        format!("`image.section.{id}.perms` = \"{perms}\" is not a permission set"),
                    )
                    .label(Label::primary(
                        format!("image.section.{id}.perms"),
                        s.perms.span(),
                        "expected letters from `rwx`",
                    ))
                    .help("write e.g. \"rx\" for text, \"r\" for rodata, \"rw\" for data and bss"),
                );
            }
            let align = match &s.align {
                Some(v) => get(self, &mut diags, &format!("image.section.{id}.align"), v),
                None if segment_start => section_align,
                None => 1,
            };
            let max_size = s
                .max_size
                .as_ref()
                .map(|v| get(self, &mut diags, &format!("image.section.{id}.max_size"), v));
            let input = match &s.input {
                Some(list) => list.get_ref().iter().map(|p| p.get_ref().clone()).collect(),
                None => vec![name.clone(), format!("{name}.*")],
            };
            let mut inserts = Vec::new();
            for (n, ins) in s.insert.iter().enumerate() {
                let ins = ins.get_ref();
                let key = format!("image.section.{id}.insert.{n}");
                inserts.push(super::Insert {
                    input: ins.input.iter().map(|p| p.get_ref().clone()).collect(),
                    align: get(self, &mut diags, &format!("{key}.align"), &ins.align),
                    size: get(self, &mut diags, &format!("{key}.size"), &ins.size),
                    symbol: ins.symbol.get_ref().clone(),
                });
            }
            // The linker appends to these: no default edge symbols.
            let filled = crate::spec::names::LINKER_FILLED_SECTIONS.contains(&name.as_str());
            let symbols = |list: &Option<Vec<toml::Spanned<String>>>, default: String| {
                if filled {
                    Vec::new()
                } else {
                    symbols(list, default)
                }
            };
            sections.push(Section {
                inserts,
                nobits: s.nobits.unwrap_or(name == ".bss" || name == ".sbss"),
                start_symbols: symbols(&s.start_symbols, format!("__{id}_start")),
                end_symbols: symbols(&s.end_symbols, format!("__{id}_end")),
                optional: s.optional,
                read: perms.contains('r'),
                write: perms.contains('w'),
                execute: perms.contains('x'),
                name,
                id,
                segment,
                segment_start,
                input,
                align,
                max_size,
            });
        }
        let facts = spec.arch.get_ref().facts();
        let relocator = match &im.relocator {
            Some(r) => {
                let mut types = Vec::new();
                let mut type_names = Vec::new();
                for name in &r.get_ref().types {
                    match spec
                        .arch
                        .get_ref()
                        .facts()
                        .dynamic_relocations
                        .iter()
                        .find(|(n, _)| n == name.get_ref())
                    {
                        Some((n, v)) => {
                            types.push(*v);
                            type_names.push(n.to_string());
                        }
                        None => diags.push(
                            Diagnostic::new(
                                Rule::Syntax,
                                format!("`{}` is not a dynamic relocation type", name.get_ref()),
                            )
                            .label(Label::primary(
                                "image.relocator.types",
                                name.span(),
                                "unknown type",
                            ))
                            .help(format!(
                                "use one of {}",
                                spec.arch
                                    .get_ref()
                                    .facts()
                                    .dynamic_relocations
                                    .iter()
                                    .map(|(n, _)| *n)
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )),
                        ),
                    }
                }
                Some(super::Relocator {
                    types,
                    type_names,
                    unmoved_below_link: r.get_ref().unmoved_below_link,
                })
            }
            // A relocatable image's boot code applies R_RISCV_RELATIVE.
            None if spec.code_model.get_ref().is_relocatable() => Some(super::Relocator {
                types: vec![facts.relative_relocation],
                type_names: facts
                    .dynamic_relocations
                    .iter()
                    .filter(|(_, v)| *v == facts.relative_relocation)
                    .map(|(n, _)| n.to_string())
                    .collect(),
                unmoved_below_link: false,
            }),
            None => None,
        };
        if !diags.is_empty() {
            return Err(diags);
        }
        Ok(Image {
            relocator,
            slot: im.slot.get_ref().clone(),
            max_size,
            section_align,
            lma,
            phys_align,
            end_align,
            stack_size,
            entry: im.entry.get_ref().clone(),
            start_symbols: symbols(&im.start_symbols, "__image_start".into()),
            end_symbols: symbols(&im.end_symbols, "__image_end".into()),
            sections,
            linked_end: self.linked_end,
        })
    }

    fn gp(&mut self) -> Result<Gp, Diagnostic> {
        let spec = self.spec;
        let arch = *spec.arch.get_ref();
        if !arch.facts().global_pointer {
            // No global pointer in this ABI: `[gp]` may only say so.
            let explicit = !spec.gp.policy.span().is_empty();
            if (explicit && *spec.gp.policy.get_ref() != GpPolicy::Disabled)
                || spec.gp.section.is_some()
                || spec.gp.offset.is_some()
            {
                return Err(Diagnostic::new(
                    Rule::Structure,
                    format!("{arch} has no global pointer: `[gp]` means nothing here"),
                )
                .label(Label::primary(
                    "gp.policy",
                    spec.gp.policy.span(),
                    "riscv only",
                ))
                .help("remove the [gp] table (or write policy = \"disabled\")"));
            }
            return Ok(Gp {
                policy: GpPolicy::Disabled,
                section: None,
                offset: 0,
            });
        }
        let policy = *spec.gp.policy.get_ref();
        let offset = match &spec.gp.offset {
            Some(v) => self.eval("gp.offset", v, Quantity::Size)? as u64,
            None => 0x800,
        };
        let section = match (&spec.gp.section, policy) {
            (Some(s), _) => Some(s.get_ref().clone()),
            // Linux puts small data at the start of .data's neighbourhood;
            // default to the first writable section.
            (None, GpPolicy::Relax) => spec
                .image
                .section
                .iter()
                .find(|s| s.get_ref().perms.get_ref().contains('w'))
                .map(|s| s.get_ref().name.get_ref().clone()),
            (None, _) => None,
        };
        Ok(Gp {
            policy,
            section,
            offset,
        })
    }
}

fn hex_i128(v: i128) -> String {
    format!("{v:#x}")
}
