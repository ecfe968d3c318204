//! Step 4: the boundary symbols (the image's and each section's start and
//! end symbols, and `end_align`), the entry symbol and the stack size.

use super::facts::Facts;
use super::image::ImageSection;
use super::{PAGE_SIZE, PRIVATE_PREFIX, SCRIPT_SYMBOLS, is_script_keyword, round_up};

/// The image's own boundary symbols, and where its end is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounds {
    /// The last section's end is rounded up to this to give the image end.
    pub end_align: u64,
    pub start_symbols: Vec<String>,
    pub end_symbols: Vec<String>,
}

/// The start and end symbols of the image and of each of `sections` (filled
/// in): a linker-script symbol at the first byte or end of the image, or at
/// a section's start or end. Where two sections touch, end-like names
/// ([`end_like`]) end the first, the others start the second.
pub fn boundaries(facts: &Facts, sections: &mut [ImageSection], section_align: u64) -> Bounds {
    let edge = edge_symbols(facts);
    let link = facts.link();
    let last_end = facts.last_end();
    let (image_end, end_align) = image_end(&edge, last_end, section_align);
    let mut bounds = Bounds {
        end_align,
        start_symbols: Vec::new(),
        end_symbols: Vec::new(),
    };
    for (n, v) in edge {
        // At the first byte: the image's own names (`_start`,
        // `__image_start`) are the image's, the rest (`__text_start`) the
        // first section's.
        if v == link
            && matches!(
                n.trim_start_matches('_'),
                "start" | "image_start" | "kernel_start"
            )
        {
            bounds.start_symbols.push(n);
            continue;
        }
        if Some(v as u128) == image_end && (v as u128 > last_end || image_end_like(&n)) {
            bounds.end_symbols.push(n);
            continue;
        }
        let starts = sections.iter().position(|o| o.sec.addr == v);
        let ends = sections.iter().rposition(|o| o.sec.end() == v as u128);
        // The relocator's bounds belong to `.rela.dyn` only; elsewhere (an
        // empty, discarded one) they are the script's business.
        let on_rela = |i: Option<usize>| i.is_some_and(|i| sections[i].sec.name == ".rela.dyn");
        if n.starts_with("__rela_dyn") && !on_rela(starts) && !on_rela(ends) {
            continue;
        }
        match (starts, ends) {
            (Some(_), Some(e)) if end_like(&n) => sections[e].end_symbols.push(n),
            (Some(s), _) => sections[s].start_symbols.push(n),
            (None, Some(e)) => sections[e].end_symbols.push(n),
            (None, None) => {}
        }
    }
    bounds
}

/// Symbols that can mark a boundary, sorted: linker-script symbols
/// (STT_NOTYPE, in a section or absolute) the spec can name, defined once
/// (names defined more than once, static labels, cannot be named
/// unambiguously). `__global_pointer$` is not nameable.
fn edge_symbols(facts: &Facts) -> Vec<(String, u64)> {
    let mut edge: Vec<(String, u64)> = facts
        .symbols
        .iter()
        .filter(|s| s.notype && (s.in_section || s.absolute) && s.unique && nameable(&s.name))
        .map(|s| (s.name.clone(), s.value))
        .collect();
    edge.sort();
    edge
}

/// The image end and `end_align`: the last section's end rounded up to the
/// smallest power of two (a page up to `section_align`) that reaches a
/// symbol named like the image end, else any symbol past the last section;
/// with none, the end is unknown and `end_align` a page.
fn image_end(edge: &[(String, u64)], last_end: u128, section_align: u64) -> (Option<u128>, u64) {
    let bits = PAGE_SIZE.trailing_zeros()..=section_align.trailing_zeros();
    let candidates: Vec<u128> = bits.clone().map(|b| round_up(last_end, 1 << b)).collect();
    let at = |v: u128| -> Vec<&String> {
        edge.iter()
            .filter(|(n, x)| *x as u128 == v && (v > last_end || image_end_like(n)))
            .map(|(n, _)| n)
            .collect()
    };
    let image_end = candidates
        .iter()
        .copied()
        .find(|&v| at(v).iter().any(|n| image_end_like(n)))
        .or_else(|| candidates.iter().copied().find(|&v| !at(v).is_empty()));
    let end_align = match image_end {
        Some(v) => bits
            .rev()
            .map(|b| 1u64 << b)
            .find(|&a| round_up(last_end, a) == v)
            .unwrap_or(PAGE_SIZE),
        None => PAGE_SIZE,
    };
    (image_end, end_align)
}

/// The symbol to name as `entry`: one defined once in a section at
/// `e_entry`, `_start` first, then globals, then by name.
pub fn entry(facts: &Facts) -> Option<String> {
    let mut at_entry: Vec<_> = facts
        .symbols
        .iter()
        .filter(|s| s.value == facts.entry && s.in_section && s.unique && nameable(&s.name))
        .collect();
    // arm64 Linux doubles symbols its early code uses with a `__pi_`
    // prefix (arch/arm64/kernel/pi/Makefile): the plain name reads better.
    at_entry.sort_by_key(|s| {
        (
            s.name != "_start",
            !s.global,
            s.name.starts_with("__pi_"),
            s.name.clone(),
        )
    });
    at_entry.first().map(|s| s.name.clone())
}

/// `__stack_top - __stack_bottom`, or 0.
pub fn stack_size(facts: &Facts) -> u64 {
    match (facts.symbol("__stack_bottom"), facts.symbol("__stack_top")) {
        (Some(b), Some(t)) if t.value > b.value => t.value - b.value,
        _ => 0,
    }
}

/// `_etext`, `__bss_stop`, `__init_end`, `__stop___param`, `__end_rodata`:
/// names linker scripts give to the end of something.
fn end_like(name: &str) -> bool {
    let t = name.trim_start_matches('_');
    t == "end"
        || t.starts_with("end_")
        || name.ends_with("_end")
        || name.ends_with("_stop")
        || name.starts_with("__stop_")
        || (name.starts_with("_e") && !name.starts_with("__"))
}

/// Names a linker script gives the end of the whole image.
fn image_end_like(name: &str) -> bool {
    matches!(
        name.trim_start_matches('_'),
        "end" | "image_end" | "kernel_end"
    )
}

/// C-identifier symbols the spec can name.
fn nameable(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !is_script_keyword(name)
        && !name.starts_with(PRIVATE_PREFIX)
        // The generated script defines these itself (the relocator's
        // bounds are kept only on a `.rela.dyn` section, below).
        && (!SCRIPT_SYMBOLS.contains(&name) || name.starts_with("__rela_dyn"))
}

#[cfg(test)]
mod tests {
    use super::super::facts::Symbol;
    use super::super::fixture::*;
    use super::super::image;
    use super::*;

    const BASE: u64 = 0xffff_ffff_8000_0000;
    const G: u64 = 2 << 20;

    /// `.text` [BASE, +0x1000) touching `.rodata` [+0x1000, +0x1800), then
    /// `.data` [+2 MiB, +2 MiB + 4 KiB).
    fn touching(symbols: &[(&str, u64)]) -> (Bounds, Vec<ImageSection>) {
        let mut f = facts(
            vec![
                section(".text", BASE, 0x1000, 4, X),
                section(".rodata", BASE + 0x1000, 0x800, 8, R),
                section(".data", BASE + G, 0x1000, 8, W),
            ],
            vec![load(BASE, 0x8020_0000, X), load(BASE + G, 0x8040_0000, W)],
        );
        f.symbols = symbols.iter().map(|&(n, v)| sym(n, v)).collect();
        let mut s = image::sections(&f, G).unwrap();
        let b = boundaries(&f, &mut s, G);
        (b, s)
    }

    fn starts_ends(s: &ImageSection) -> (Vec<&str>, Vec<&str>) {
        (
            s.start_symbols.iter().map(String::as_str).collect(),
            s.end_symbols.iter().map(String::as_str).collect(),
        )
    }

    #[test]
    fn where_two_sections_touch_end_like_names_end_the_first() {
        let at = BASE + 0x1000;
        let (_, s) = touching(&[
            ("_etext", at),
            ("__text_end", at),
            ("__stop___ex_table", at),
            ("__end_text", at),
            ("__rodata_start", at),
            ("__start_rodata", at),
        ]);
        assert_eq!(
            starts_ends(&s[0]).1,
            ["__end_text", "__stop___ex_table", "__text_end", "_etext"]
        );
        assert_eq!(starts_ends(&s[1]).0, ["__rodata_start", "__start_rodata"]);
        assert!(s[1].end_symbols.is_empty());
    }

    #[test]
    fn the_image_start_and_the_first_section_share_the_first_byte() {
        let (b, s) = touching(&[
            ("_start", BASE),
            ("__image_start", BASE),
            ("__text_start", BASE),
        ]);
        assert_eq!(b.start_symbols, ["__image_start", "_start"]);
        assert_eq!(starts_ends(&s[0]).0, ["__text_start"]);
    }

    #[test]
    fn the_image_end_gives_end_align() {
        let last = BASE + G + 0x1000;
        // `_end` exactly at the last section's end is the image's, with a
        // page end_align; `__data_end` there ends the last section.
        let (b, s) = touching(&[("_end", last), ("__data_end", last)]);
        assert_eq!(
            (b.end_align, b.end_symbols),
            (PAGE_SIZE, vec!["_end".into()])
        );
        assert_eq!(starts_ends(&s[2]).1, ["__data_end"]);
        // Past the end, at the end rounded up to 64 KiB: every name there
        // is the image's, and end_align is 64 KiB.
        let (b, _) = touching(&[("__kernel_end", last + 0xf000), ("z", last + 0xf000)]);
        assert_eq!(b.end_align, 64 << 10);
        assert_eq!(b.end_symbols, ["__kernel_end", "z"]);
        // An image-end name wins over a nearer symbol of another name.
        let (b, s) = touching(&[("__pad", last + 0x1000), ("_end", last + 0x3000)]);
        assert_eq!(
            (b.end_align, b.end_symbols),
            (16 << 10, vec!["_end".into()])
        );
        assert!(s.iter().all(|s| s.end_symbols.is_empty()));
        // None: a page, and no end symbols.
        let (b, _) = touching(&[]);
        assert_eq!((b.end_align, b.end_symbols.len()), (PAGE_SIZE, 0));
    }

    #[test]
    fn only_unique_nameable_linker_script_symbols_mark_boundaries() {
        let mut f = kernel();
        let text_end = f.sections[0].end() as u64;
        f.symbols = vec![
            // A function (STT_FUNC) at the end of .text.
            Symbol {
                notype: false,
                ..sym("func_end", text_end)
            },
            // A name defined twice.
            Symbol {
                unique: false,
                ..sym("label_end", text_end)
            },
            // Undefined.
            Symbol {
                in_section: false,
                ..sym("ext_end", text_end)
            },
            // Absolute: counts.
            Symbol {
                in_section: false,
                absolute: true,
                ..sym("abs_end", text_end)
            },
            sym("has.dot_end", text_end),
            sym("__layoutgen_end", text_end),
            // The relocator's bounds only on a .rela.dyn section.
            sym("__rela_dyn_start", text_end),
        ];
        let mut s = image::sections(&f, G).unwrap();
        boundaries(&f, &mut s, G);
        assert_eq!(starts_ends(&s[0]).1, ["abs_end"]);
    }

    #[test]
    fn the_entry_prefers_start_then_globals() {
        let mut f = kernel();
        let e = f.entry;
        f.symbols = vec![sym("b_local", e), sym("a_local", e)];
        assert_eq!(entry(&f).as_deref(), Some("a_local"));
        f.symbols.push(Symbol {
            global: true,
            ..sym("z_global", e)
        });
        assert_eq!(entry(&f).as_deref(), Some("z_global"));
        f.symbols.push(sym("_start", e));
        assert_eq!(entry(&f).as_deref(), Some("_start"));
        // arm64's `__pi_` doubles give way to the plain name.
        f.symbols = vec![sym("__pi__text", e), sym("_text", e)];
        assert_eq!(entry(&f).as_deref(), Some("_text"));
        // Not at e_entry, or defined twice: no entry symbol.
        f.symbols = vec![
            sym("elsewhere", e + 4),
            Symbol {
                unique: false,
                ..sym("twice", e)
            },
        ];
        assert_eq!(entry(&f), None);
    }

    #[test]
    fn the_stack_is_between_its_symbols() {
        assert_eq!(stack_size(&kernel()), 64 << 10);
        let mut f = kernel();
        f.symbols.retain(|s| s.name != "__stack_top");
        assert_eq!(stack_size(&f), 0);
    }
}
