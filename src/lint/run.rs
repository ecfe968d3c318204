//! The driver of the checks, which live one file per family beside this
//! one: one pass over the symbols, one over the program headers and section
//! headers, one over relocation sections that target allocated sections.
//! [`run`] groups modes, calls each family and merges their findings, then
//! applies the configured levels.

use super::context::{Collector, Ctx};
use super::elf::Elf;
use super::{Counts, Finding, Lint, LintConfig, LintError, LintReport, MAX_PER_CHECK, Stats};
use super::{boundaries, entry, gp, relocations, sections, segments, source, symbols};
use crate::arch::PagingMode;
use crate::layout::{Layout, ModeLayout};
use std::collections::BTreeMap;
use std::path::Path;

pub(crate) fn run(
    layout: &Layout,
    config: &LintConfig,
    modes: &[PagingMode],
    path: &Path,
    elf: &Elf<'_>,
) -> Result<LintReport, LintError> {
    let malformed = |what: String| LintError::Malformed {
        path: path.to_path_buf(),
        what,
    };
    let linked = matches!(elf.kind, super::ElfKind::Exec | super::ElfKind::Dyn);
    if linked && let Some(e) = &elf.segment_error {
        return Err(malformed(format!("program headers: {e}")));
    }
    let groups = mode_groups(layout, modes);
    let mut merged: Vec<Finding> = Vec::new();
    let mut over: BTreeMap<Lint, u64> = BTreeMap::new();
    let mut stats = Stats::default();
    let several = groups.len() > 1;
    for (mode, ms) in &groups {
        let ctx = Ctx {
            layout,
            mode,
            slot: mode.region(&layout.image.slot),
            elf,
            relocatable: layout.code_model.is_relocatable(),
            linked,
        };
        let (c, group_stats) = check_group(&ctx).map_err(malformed)?;
        stats = group_stats;
        for (k, n) in c.over {
            let e = over.entry(k).or_default();
            *e = (*e).max(n);
        }
        merge(&mut merged, c.findings, several.then_some(ms.as_slice()));
    }
    // A finding seen in every group applies to every mode: say nothing.
    if several {
        for f in &mut merged {
            if f.modes.len() == modes.len() {
                f.modes.clear();
            }
        }
    }
    let (findings, counts, by_check) = finish(merged, &over, config);
    Ok(LintReport {
        path: path.to_path_buf(),
        elf_kind: elf.kind,
        symbols_from: elf.symbols_from,
        modes: modes.to_vec(),
        findings,
        counts,
        stats,
        by_check,
    })
}

/// Modes whose slot, link address and offset agree are checked once.
fn mode_groups<'l>(
    layout: &'l Layout,
    modes: &[PagingMode],
) -> Vec<(&'l ModeLayout, Vec<PagingMode>)> {
    let mut groups: Vec<(&ModeLayout, Vec<PagingMode>)> = Vec::new();
    for &m in modes {
        let Some(ml) = layout.mode(m) else { continue };
        let key = |x: &ModeLayout| {
            let slot = x.region(&layout.image.slot).map(|r| (r.start, r.size));
            (slot, x.image_link, x.image_offset)
        };
        match groups.iter_mut().find(|(g, _)| key(g) == key(ml)) {
            Some((_, ms)) => ms.push(m),
            None => groups.push((ml, vec![m])),
        }
    }
    groups
}

/// Every family of checks for one group of modes.
fn check_group(ctx: &Ctx) -> Result<(Collector, Stats), String> {
    let (layout, mode, elf) = (ctx.layout, ctx.mode, ctx.elf);
    let mut c = Collector::default();
    let mut stats = Stats {
        sections: elf.sections.len() as u64,
        load_segments: elf.segments.len() as u64,
        ..Stats::default()
    };
    source::check_source(ctx, &mut c);
    // The two big passes, the symbols and the relocations, are independent:
    // on a distro kernel they run on both cores, each with its own collector
    // and figures, merged below in the order a single pass would give. A
    // small file (a module: `run_files` already keeps every core busy with
    // other files) runs them in turn: a thread per file cost more than the
    // pass.
    let relocation_pass = || {
        let mut c = Collector::default();
        let mut stats = Stats::default();
        relocations::check_relocations(ctx, &mut c, &mut stats).map(|()| (c, stats))
    };
    let (wanted, relocations) = if elf.symtab.symbols().len() < symbols::PARALLEL_SYMBOLS {
        let wanted = symbols::check_symbols(ctx, &mut c, &mut stats);
        (wanted, relocation_pass())
    } else {
        std::thread::scope(|scope| {
            let relocations = scope.spawn(relocation_pass);
            let wanted = symbols::check_symbols(ctx, &mut c, &mut stats);
            let relocations = relocations
                .join()
                .expect("the relocation pass does not panic");
            (wanted, relocations)
        })
    };
    if ctx.linked {
        // The image's real extent: its end symbol, else its last section.
        stats.image_start = Some(mode.image_link);
        stats.image_end = layout
            .image
            .end_symbols
            .first()
            .and_then(|n| wanted.get(n))
            .map(|s| s.value)
            .or_else(|| {
                elf.sections
                    .iter()
                    .filter(|s| s.alloc() && s.size > 0)
                    .map(|s| s.end().min(u64::MAX as u128) as u64)
                    .max()
            });
        segments::check_segments(ctx, &mut c);
        let provenance = boundaries::check_boundaries(ctx, &wanted, &mut c);
        sections::check_sections(ctx, &provenance, &mut c);
        sections::check_pmp_range(ctx, &mut c);
        let image_size = stats
            .image_end
            .zip(stats.image_start)
            .map(|(e, s)| e.wrapping_sub(s));
        sections::check_budgets(ctx, image_size, &mut c);
        entry::check_entry(ctx, &wanted, &mut c);
    }
    gp::check_gp(ctx, &wanted, &mut c, &mut stats);
    let (rc, rstats) = relocations?;
    c.absorb(rc);
    stats.static_relocations += rstats.static_relocations;
    stats.dynamic_relocations += rstats.dynamic_relocations;
    stats.relative_relocations += rstats.relative_relocations;
    Ok((c, stats))
}

/// Adds one group's findings; the same finding in several groups is kept
/// once with the union of their modes (`modes`: the group's, when there
/// are several groups).
fn merge(merged: &mut Vec<Finding>, findings: Vec<Finding>, modes: Option<&[PagingMode]>) {
    for mut f in findings {
        match merged
            .iter_mut()
            .find(|g| g.id == f.id && g.message == f.message)
        {
            Some(g) => {
                if let Some(ms) = modes {
                    g.modes.extend(ms.iter().copied());
                }
            }
            None => {
                if let Some(ms) = modes {
                    f.modes = ms.to_vec();
                }
                merged.push(f);
            }
        }
    }
}

/// The "N more" findings, the configured levels, the counts and the order.
pub(super) fn finish(
    mut merged: Vec<Finding>,
    over: &BTreeMap<Lint, u64>,
    config: &LintConfig,
) -> (Vec<Finding>, Counts, BTreeMap<Lint, u64>) {
    // Every finding per check, before any is suppressed.
    let mut by_check: BTreeMap<Lint, u64> = BTreeMap::new();
    for f in &merged {
        *by_check.entry(f.id).or_default() += 1;
    }
    for (&check, &n) in over {
        *by_check.entry(check).or_default() += n;
        merged.push(Finding::new(
            check,
            "",
            format!(
                "{n} more {} finding(s) like the ones above are not shown",
                check.id()
            ),
            format!(
                "at most {MAX_PER_CHECK} findings per check are listed; fix those and run lint again"
            ),
        ));
    }
    // The configured levels: `warn`/`deny` change the severity, `allow`
    // suppresses (the finding stays, counted apart).
    for f in &mut merged {
        if let Some(setting) = config.get(f.id) {
            match setting.level.severity() {
                Some(severity) => f.severity = severity,
                None => f.suppressed = Some(setting.clone()),
            }
        }
    }
    let mut counts = Counts::default();
    for f in &merged {
        // An "N more" finding stands for the `over` count of its check.
        let n = if f.spec_key.is_empty() {
            over.get(&f.id).copied().unwrap_or(1)
        } else {
            1
        };
        if f.suppressed.is_some() {
            counts.suppressed += n;
        } else {
            counts.add(f.severity, n);
        }
    }
    // Most severe first, suppressed last, stable within a severity (check
    // order, then address).
    merged.sort_by(|a, b| {
        a.suppressed
            .is_some()
            .cmp(&b.suppressed.is_some())
            .then(b.severity.cmp(&a.severity))
            .then(a.id.cmp(&b.id))
    });
    (merged, counts, by_check)
}
