//! What the families of checks share: the per-group context ([`Ctx`]), the
//! capped [`Collector`] and small helpers. A leaf: it calls no check.

use super::elf::{Elf, Section};
use super::{Finding, Lint, MAX_PER_CHECK};
use crate::layout::{Layout, ModeLayout, Region};
use crate::spec::{CodeModel, GpPolicy};
use std::collections::{BTreeMap, HashMap};

pub(super) const SMALL_DATA_PREFIXES: [&str; 3] = [".sdata", ".sbss", ".srodata"];

/// `.sdata`, `.sdata.*`, `.sbss…`, `.srodata…`: small data the linker may
/// reach gp-relatively.
pub(super) fn is_small_data(s: &Section) -> bool {
    SMALL_DATA_PREFIXES.iter().any(|p| {
        s.name
            .strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    })
}

/// Collects findings, keeping at most `MAX_PER_CHECK` per check.
#[derive(Default)]
pub(super) struct Collector {
    pub(super) findings: Vec<Finding>,
    pub(super) kept: HashMap<Lint, usize>,
    pub(super) over: BTreeMap<Lint, u64>,
}

impl Collector {
    /// Adds what another collector gathered after everything here, as if it
    /// had been pushed here in its order: the cap keeps the first findings.
    pub(super) fn absorb(&mut self, other: Collector) {
        for f in other.findings {
            self.push(f);
        }
        for (check, n) in other.over {
            *self.over.entry(check).or_default() += n;
        }
    }

    pub(super) fn push(&mut self, f: Finding) {
        let n = self.kept.entry(f.id).or_default();
        if *n < MAX_PER_CHECK {
            *n += 1;
            self.findings.push(f);
        } else {
            *self.over.entry(f.id).or_default() += 1;
        }
    }
}

/// Everything one group of modes (same slot, link address and offset) shares.
pub(super) struct Ctx<'a> {
    pub(super) layout: &'a Layout,
    pub(super) mode: &'a ModeLayout,
    pub(super) slot: Option<&'a Region>,
    pub(super) elf: &'a Elf<'a>,
    pub(super) relocatable: bool,
    pub(super) linked: bool,
}

pub(super) fn slot_key(ctx: &Ctx) -> String {
    format!("region.{}", ctx.layout.image.slot)
}

pub(super) fn slot_desc(slot: &Region) -> String {
    format!("`{}` [{:#x}, {:#x}]", slot.name, slot.start, slot.last)
}

pub(super) fn code_model_name(layout: &Layout) -> &'static str {
    match layout.code_model {
        CodeModel::Fixed => "fixed",
        CodeModel::SemiPic => "semi-PIC",
        CodeModel::Pie => "PIE",
    }
}

pub(super) fn gp_policy_name(layout: &Layout) -> &'static str {
    match layout.gp.policy {
        GpPolicy::Relax => "relax",
        GpPolicy::Disabled => "disabled",
        GpPolicy::ShadowCallStack => "shadow-call-stack",
    }
}
