//! `layoutgen show`: the memory map of chosen paging modes in one format,
//! with the page-table cost of mapping some RAM (computed once per mode),
//! and for a spec with `[boot.NAME]` the physical boot chain after them.

use super::{physical, svg, table};
use crate::diag::Diagnostic;
use crate::layout::pagetable::{self, Cost};
use crate::layout::{Layout, ModeLayout};

/// `layoutgen show --format`.
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowFormat {
    /// A terminal table in the columns of Linux's vm-layout.rst.
    Human,
    /// The resolved layout (and page-table cost) as JSON.
    Json,
    /// A Markdown section per mode, to paste into documentation.
    Markdown,
    /// A reStructuredText section per mode (Sphinx, kernel-doc).
    Rst,
    /// An SVG memory-map picture, one column per mode.
    Svg,
}

/// What to show.
pub struct Show<'a> {
    pub layout: &'a Layout,
    /// The modes to show (in the layout's order).
    pub modes: Vec<&'a ModeLayout>,
    /// RAM to cost the page tables for, and 4 KiB device pages in the fixmap.
    pub ram: Option<u64>,
    pub device_pages: u64,
    /// Invariant (and device-tree) findings: listed in the JSON document.
    pub findings: &'a [Diagnostic],
}

impl Show<'_> {
    /// The page-table cost per shown mode (empty without `ram`).
    fn costs(&self) -> Vec<Cost> {
        match self.ram {
            Some(ram) => self
                .modes
                .iter()
                .map(|m| pagetable::cost(self.layout, m, ram, self.device_pages))
                .collect(),
            None => Vec::new(),
        }
    }

    pub fn render(&self, format: ShowFormat) -> String {
        let costs = self.costs();
        let per_mode = |table: fn(&Layout, &ModeLayout) -> String, cost: fn(&Cost) -> String| {
            let mut out = String::new();
            for (i, m) in self.modes.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                out.push_str(&table(self.layout, m));
                if let Some(c) = costs.get(i) {
                    out.push_str(&cost(c));
                }
            }
            out
        };
        // The physical map follows the virtual one, in the same format.
        let with_physical = |mut out: String, physical: fn(&Layout) -> String| {
            if !self.layout.boot.is_empty() {
                out.push('\n');
                out.push_str(&physical(self.layout));
            }
            out
        };
        match format {
            ShowFormat::Human => with_physical(
                per_mode(table::render, table::render_cost),
                physical::render,
            ),
            ShowFormat::Markdown => with_physical(
                per_mode(table::render_markdown, table::render_cost_markdown),
                physical::render_markdown,
            ),
            ShowFormat::Rst => with_physical(
                per_mode(table::render_rst, table::render_cost_rst),
                physical::render_rst,
            ),
            ShowFormat::Svg => svg::render(self.layout, &self.modes, &costs),
            ShowFormat::Json => {
                let modes: Vec<_> = self
                    .modes
                    .iter()
                    .enumerate()
                    .map(|(i, m)| serde_json::json!({ "layout": m, "page_tables": costs.get(i) }))
                    .collect();
                let mut doc = serde_json::json!({
                    "format_version": crate::json::FORMAT_VERSION,
                    "name": self.layout.name,
                    "modes": modes,
                    "conversions": crate::layout::conversions::summary(self.layout),
                    "findings": self.findings,
                });
                if !self.layout.boot.is_empty() {
                    doc["physical"] = serde_json::json!(physical::rows(self.layout));
                }
                serde_json::to_string_pretty(&doc).expect("JSON") + "\n"
            }
        }
    }
}
