//! `layoutgen show`: the memory map per paging mode, with the page-table
//! cost of some RAM. It shows a layout even when it breaks invariants, then
//! reports them (exit 1).

use super::usage;
use crate::out::{esay, esayln, say};
use layoutgen::arch::PagingMode;
use layoutgen::emit::show::Show;
use layoutgen::emit::show::ShowFormat;
use layoutgen::{Error, LoadOptions, Report, load};
use std::path::Path;

pub struct Args<'a> {
    pub spec: &'a Path,
    pub mode: Option<PagingMode>,
    pub ram: Option<&'a str>,
    pub device_pages: u64,
    pub format: ShowFormat,
    pub dtb: Option<&'a Path>,
    pub elf: Option<&'a Path>,
}

pub fn run(a: Args) -> Result<u8, Error> {
    let mut layout = load(a.spec, &LoadOptions::UNCHECKED)?;
    if let Some(elf) = a.elf {
        let linked_end = match layoutgen::lint::linked_end(&layout, elf) {
            Ok(end) => end,
            Err(e) => {
                esayln!("error: {e}");
                return Ok(2);
            }
        };
        layout = load(
            a.spec,
            &LoadOptions {
                linked_end,
                ..LoadOptions::UNCHECKED
            },
        )?;
    }
    let mut findings = layoutgen::check::run(&layout);
    let machine = a.dtb.map(layoutgen::dtb::read).transpose()?;
    if let (Some(dtb), Some(ranges)) = (a.dtb, &machine) {
        findings.extend(layoutgen::dtb::check(
            &layout,
            ranges,
            &dtb.display().to_string(),
        ));
    }
    let ram = match a.ram {
        // The machine's RAM, when a device tree says how much.
        None => machine.as_deref().map(layoutgen::dtb::total),
        Some(text) => match layoutgen::spec::expr::parse_size(text) {
            Ok(v) if v > 0 => Some(v),
            Ok(_) => return usage("--ram must be larger than zero"),
            Err(e) => return usage(&format!("--ram {e}")),
        },
    };
    let want = a.mode;
    let modes: Vec<_> = layout
        .modes
        .iter()
        .filter(|m| want.is_none_or(|w| w == m.mode))
        .collect();
    if modes.is_empty() {
        let listed: Vec<&str> = layout.modes.iter().map(|m| m.mode.name()).collect();
        return usage(&format!(
            "{} does not support {}; it lists {}",
            a.spec.display(),
            want.map_or("that mode", PagingMode::name),
            listed.join(", ")
        ));
    }
    let shown = Show {
        layout: &layout,
        modes,
        ram,
        device_pages: a.device_pages,
        findings: &findings,
    };
    say!("{}", shown.render(a.format));
    if !findings.is_empty() {
        let text = layoutgen::pipeline::spec_text_for_report(a.spec);
        esay!(
            "{}",
            Report::new(a.spec, &text, findings).render_for_stderr()
        );
        return Ok(1);
    }
    Ok(0)
}
