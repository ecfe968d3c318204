//! LG030–LG031: the leaves of a dump that shows them (Linux's ptdump),
//! against the regions' `leaf` and against the page-table cost that
//! `layoutgen show --ram` predicts for the linear map (docs/page-tables.md).

use super::Mapping;
use crate::format::human_size;
use crate::layout::pagetable::{self, Cost};
use crate::layout::{Layout, ModeLayout};
use crate::lint::context::Collector;
use crate::lint::{Finding, Lint};

/// LG030: no leaf larger than the `leaf` its region promises.
pub(super) fn check_sizes(ml: &ModeLayout, mappings: &[Mapping], c: &mut Collector) {
    for m in mappings {
        let Some(level) = m.level else { continue };
        let leaf = level.leaf_size(ml.levels);
        let Some(r) = ml
            .regions
            .iter()
            .find(|r| r.start <= m.va && (m.va as u128) < r.end())
        else {
            continue; // LG024's finding.
        };
        if leaf > r.leaf {
            c.push(
                Finding::new(
                    Lint::PageLeafSize,
                    format!("region.{}.leaf", r.name),
                    format!(
                        "[{:#x}, {:#x}) in `{}` is mapped with {} leaves ({level:?}); the spec promises at most {}",
                        m.va,
                        m.end(),
                        r.name,
                        human_size(leaf as u128),
                        human_size(r.leaf as u128),
                    ),
                    "raise the region's `leaf` to what the kernel really maps with, or make the kernel map with smaller leaves",
                )
                .address(m.va),
            );
        }
    }
}

/// LG031: the linear map's leaves and the page-table pages they need, as
/// dumped, equal what `show --ram RAM` predicts for the linear map (the
/// same [`pagetable`] functions, applied to the dump's leaves).
pub(super) fn check_cost(
    layout: &Layout,
    ml: &ModeLayout,
    mappings: &[Mapping],
    ram: u64,
    c: &mut Collector,
) {
    let Some(linear) = ml.linear_map() else {
        return;
    };
    let inside = |va: u64| linear.start <= va && (va as u128) < linear.end();
    let predicted: Vec<pagetable::Mapping> = pagetable::plan(layout, ml, ram, ml.image_link, 0)
        .into_iter()
        .filter(|m| inside(m.va))
        .collect();
    let dumped: Vec<pagetable::Mapping> = mappings
        .iter()
        .filter(|m| inside(m.va))
        .filter_map(|m| {
            Some(pagetable::Mapping {
                va: m.va,
                // arm64's ptdump prints no PA: the linear map's own rule.
                pa: m.pa.unwrap_or(layout.ram.base + (m.va - linear.start)),
                size: m.size,
                max_leaf: m.level?.leaf_size(ml.levels),
            })
        })
        .collect();
    let predicted = pagetable::cost_of(ml, &predicted, ram);
    let dumped = pagetable::cost_of(ml, &dumped, ram);
    if predicted == dumped {
        return;
    }
    c.push(
        Finding::new(
            Lint::PageTableCost,
            format!("region.{}.leaf", linear.name),
            format!(
                "`{}` with {} of RAM is mapped with {}; `layoutgen show --ram {} --mode {}` predicts {}",
                linear.name,
                human_size(ram as u128),
                describe(&dumped),
                human_size(ram as u128).replace(' ', ""),
                ml.mode,
                describe(&predicted),
            ),
            "a kernel that maps RAM with smaller leaves than it could (holes, an alias split for W^X) pays in page-table pages and TLB reach: map with the largest leaves, or take the difference into the spec's RAM and leaf promises",
        )
        .address(linear.start),
    );
}

/// `384 × 4 KiB + 511 × 2 MiB leaves in 3 page-table pages`.
fn describe(cost: &Cost) -> String {
    let leaves: Vec<String> = cost
        .leaves
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(size, n)| format!("{n} × {}", human_size(*size as u128)))
        .collect();
    let leaves = if leaves.is_empty() {
        "no".to_string()
    } else {
        leaves.join(" + ")
    };
    format!("{leaves} leaves in {} page-table pages", cost.pt_pages)
}
