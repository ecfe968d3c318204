//! Spec → `Layout`: evaluates every expression once per paging mode.
//!
//! References between values (`vmalloc.end`, `image.end`, `ram.base`) are
//! resolved on demand with memoisation and cycle detection, so a spec may
//! write its values in any order. Only what is needed to *compute* the layout
//! is reported here (syntax-level and evaluation errors); the layout's
//! invariants are the `check` module's job.

use super::{Gp, Image, Kaslr, Layout, ModeLayout, Ram, Region, Section};
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
    let origins = super::origins::collect(spec);

    let modes = crate::spec::validate::modes(spec, &mut diags);
    crate::spec::validate::names(spec, &mut diags);
    crate::spec::validate::section_configs(spec, &mut diags);
    let lint = crate::lint::config::from_spec(spec, &mut diags);
    let module_loader = super::relocator::module_loader(spec, &mut diags);
    crate::spec::validate::per_mode_values(spec, &modes, &mut diags);
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
    // Physical ranges: the same in every mode, evaluated in the first.
    let mut boot = Vec::new();
    let mut cx = ModeContext::new(spec, modes[0]);
    cx.linked_end = linked_end;
    for (name, p) in &spec.boot {
        let key = format!("boot.{}", name.get_ref());
        let q = p.get_ref();
        let start = cx.eval(&format!("{key}.start"), &q.start, Quantity::Address);
        let size = cx.eval(&format!("{key}.size"), &q.size, Quantity::Size);
        match (start, size) {
            (Ok(start), Ok(size)) => boot.push(super::Placement {
                name: name.get_ref().clone(),
                kind: *q.kind.get_ref(),
                start: start as u64,
                size: size as u64,
                pmp: q.pmp,
                description: q.description.clone(),
            }),
            (a, b) => {
                diags.extend(a.err());
                diags.extend(b.err());
            }
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
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
        boot,
        module_loader,
        lint,
        origins,
    })
}

/// The same mistake found in every mode is reported once.
fn dedup(diags: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::HashSet::new();
    diags.retain(|d| seen.insert((d.rule, d.message.clone(), d.key().map(str::to_owned))));
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
            // Without paging there is no kernel half: a silent 2^56 would
            // place a region past the physical address space.
            Term::KernelHalf if mode.is_bare() => Err(Diagnostic::new(
                Rule::Resolve,
                format!("`{key}` refers to `kernel_half`, which does not exist without paging"),
            )
            .label(Label::primary(key, span.clone(), "no kernel half in bare"))
            .help("without paging addresses are physical: write the address itself (e.g. \"ram.base\" or \"0x1000_0000\")")),
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
                    // From a linked ELF (`show --elf`): its end symbol, which
                    // must lie in the image's room, or every window derived
                    // from image.end is off (past 2^64, below the image).
                    Some(end) => {
                        let start = self.image_link()?;
                        let max = self.reference("image", "max_size")?;
                        let end = end as u128;
                        if end < start || end - start > max {
                            let symbol = spec
                                .image
                                .end_symbols
                                .as_ref()
                                .and_then(|v| v.first())
                                .map_or("__image_end".to_string(), |s| s.get_ref().clone());
                            return Err(Diagnostic::new(
                                Rule::Resolve,
                                format!(
                                    "the linked image ends at {end:#x} (its end symbol `{symbol}`), outside [image.start {start:#x}, image.start + image.max_size {:#x}]",
                                    start + max
                                ),
                            )
                            .help(format!("the ELF was not linked from this spec, or `{symbol}` is wrong: `layoutgen lint` it to see where")));
                        }
                        Ok(end)
                    }
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
        let mode = self.mode;
        let (regions, mut diags) = self.regions();
        self.check_structure(&regions, &mut diags);
        let ram = self.ram();
        let image_link = self.image_link();
        let image = self.image();
        let gp = self.gp();
        let kaslr = match &spec.kaslr {
            None => Ok(None),
            Some(k) => self.kaslr(k.get_ref()).map(Some),
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
        let linear = regions.iter().find(|r| r.kind == RegionKind::LinearMap);
        let page_offset = linear.map(|l| l.start);
        let linear_offset = linear.map(|l| l.start.wrapping_sub(ram.base));
        let in_linear_map = regions
            .iter()
            .any(|r| &r.name == spec.image.slot.get_ref() && r.kind == RegionKind::LinearMap);
        Ok((
            ModeLayout {
                mode,
                va_bits: mode.va_bits(),
                levels: mode.levels(),
                mode_register: mode.mode_register(),
                kernel_half: mode.kernel_half_start(),
                page_offset,
                linear_offset,
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

    /// The regions of this mode, sorted by address, and what failed.
    fn regions(&mut self) -> (Vec<Region>, Vec<Diagnostic>) {
        let spec = self.spec;
        let mut regions = Vec::new();
        let mut diags = Vec::new();
        for (name, r) in &spec.region {
            let name = name.get_ref();
            if self.region_in_mode(name).is_none() {
                continue;
            }
            match self.region(name, r) {
                Ok(r) => regions.push(r),
                Err(d) => diags.push(d.in_mode(self.mode)),
            }
        }
        regions.sort_by_key(|r| (r.start, r.name.clone()));
        (regions, diags)
    }

    fn region(&mut self, name: &str, r: &toml::Spanned<RegionSpec>) -> Result<Region, Diagnostic> {
        let rs = r.get_ref();
        let mode = self.mode;
        let key = format!("region.{name}");
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
            .help("shrink the region or move it down: `end = \"top\"` is the highest end"));
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
            name: name.to_string(),
            kind,
            half,
            start,
            size: size as u64,
            last: (end - 1) as u64,
            align,
            leaf,
            description: rs.description.clone(),
        })
    }

    /// At most one linear map (none without paging), and `image.slot` a
    /// region of a kind that can hold the image.
    fn check_structure(&self, regions: &[Region], diags: &mut Vec<Diagnostic>) {
        let spec = self.spec;
        let mode = self.mode;
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
    }

    fn ram(&mut self) -> Result<Ram, Diagnostic> {
        let spec = self.spec;
        let scalar = |cx: &mut Self, key: &str, v: &Value, q| cx.eval(key, v, q).map(|x| x as u64);
        Ok(Ram {
            base: scalar(self, "ram.base", &spec.ram.base, Quantity::Address)?,
            min_size: scalar(self, "ram.min_size", &spec.ram.min_size, Quantity::Size)?,
            max_size: scalar(self, "ram.max_size", &spec.ram.max_size, Quantity::Size)?,
            load: scalar(self, "ram.load", &spec.ram.load, Quantity::Address)?,
        })
    }

    fn kaslr(&mut self, k: &crate::spec::KaslrSpec) -> Result<Kaslr, Diagnostic> {
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
        Ok(Kaslr {
            start: start as u64,
            end: end.min(TOP - 1) as u64,
            granule: granule as u64,
            slots: slots as u64,
        })
    }

    fn image(&mut self) -> Result<Image, Vec<Diagnostic>> {
        let spec = self.spec;
        let im = &spec.image;
        let mut diags = Vec::new();
        let max_size = self.size(&mut diags, "image.max_size", &im.max_size);
        let section_align = self.size(&mut diags, "image.section_align", &im.section_align);
        let stack_size = self.size(&mut diags, "image.stack_size", &im.stack_size);
        let end_align = match &im.end_align {
            Some(v) => self.size(&mut diags, "image.end_align", v),
            None => section_align,
        };
        let phys_align = im
            .phys_align
            .as_ref()
            .map(|v| self.size(&mut diags, "image.phys_align", v));
        let lma = match &im.lma {
            Some(v) => self.eval("image.lma", v, Quantity::Address),
            None => self.reference("ram", "load"),
        };
        let lma = lma.map_or_else(
            |d| {
                diags.push(d);
                0
            },
            |x| x as u64,
        );
        let mut sections: Vec<Section> = Vec::new();
        for s in &im.section {
            let section = self.section(s.get_ref(), sections.last(), section_align, &mut diags);
            sections.push(section);
        }
        let relocator = super::relocator::relocator(self.spec, &mut diags);
        let image_budget = budget(&mut diags, "image.budget", im.budget.as_ref());
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
            pmp_read_only: im.pmp_read_only,
            budget: image_budget,
            entry: im.entry.get_ref().clone(),
            entry_at: im
                .entry_at
                .as_ref()
                .map(|e| *e.get_ref())
                .unwrap_or_default(),
            start_symbols: symbol_list(&im.start_symbols, "__image_start".into()),
            end_symbols: symbol_list(&im.end_symbols, "__image_end".into()),
            sections,
            linked_end: self.linked_end,
        })
    }

    /// A size; on error 0, with the diagnostic kept.
    fn size(&mut self, diags: &mut Vec<Diagnostic>, key: &str, v: &Value) -> u64 {
        match self.eval(key, v, Quantity::Size) {
            Ok(x) => x as u64,
            Err(d) => {
                diags.push(d);
                0
            }
        }
    }

    /// One image section; `prev` is the one before it (a segment starts
    /// where the segment name changes).
    fn section(
        &mut self,
        s: &crate::spec::SectionSpec,
        prev: Option<&Section>,
        section_align: u64,
        diags: &mut Vec<Diagnostic>,
    ) -> Section {
        let name = s.name.get_ref().clone();
        let id = s.id();
        let segment = s
            .segment
            .as_ref()
            .map_or(id.clone(), |g| g.get_ref().clone());
        let segment_start = prev.is_none_or(|p| p.segment != segment);
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
            Some(v) => self.size(diags, &format!("image.section.{id}.align"), v),
            None if segment_start => section_align,
            None => 1,
        };
        let max_size = s
            .max_size
            .as_ref()
            .map(|v| self.size(diags, &format!("image.section.{id}.max_size"), v));
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
                align: self.size(diags, &format!("{key}.align"), &ins.align),
                size: self.size(diags, &format!("{key}.size"), &ins.size),
                symbol: ins.symbol.get_ref().clone(),
            });
        }
        // The linker appends to these: no default edge symbols.
        let filled = crate::spec::names::LINKER_FILLED_SECTIONS.contains(&name.as_str());
        let symbols = |list: &Option<Vec<toml::Spanned<String>>>, default: String| {
            if filled {
                Vec::new()
            } else {
                symbol_list(list, default)
            }
        };
        Section {
            budget: budget(
                diags,
                &format!("image.section.{id}.budget"),
                s.budget.as_ref(),
            ),
            inserts,
            nobits: s.nobits.unwrap_or(name == ".bss" || name == ".sbss"),
            start_symbols: symbols(&s.start_symbols, format!("__{id}_start")),
            end_symbols: symbols(&s.end_symbols, format!("__{id}_end")),
            optional: s.optional,
            config: s.config.iter().map(|o| o.get_ref().clone()).collect(),
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
        }
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

/// A list of symbols from the spec, or the default one.
fn symbol_list(list: &Option<Vec<toml::Spanned<String>>>, default: String) -> Vec<String> {
    match list {
        Some(list) => list.iter().map(|s| s.get_ref().clone()).collect(),
        None => vec![default],
    }
}

/// A size budget in percent of `max_size`: 1 to 100.
fn budget(diags: &mut Vec<Diagnostic>, key: &str, v: Option<&toml::Spanned<u8>>) -> Option<u8> {
    let v = v?;
    let pct = *v.get_ref();
    if !(1..=100).contains(&pct) {
        diags.push(
            Diagnostic::new(
                Rule::Structure,
                format!("`{key}` = {pct} is not a percentage of max_size from 1 to 100"),
            )
            .label(Label::primary(key, v.span(), "1 to 100"))
            .help("budget = 90 warns once the size passes 90 % of max_size"),
        );
    }
    Some(pct)
}
