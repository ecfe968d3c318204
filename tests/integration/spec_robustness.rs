//! The spec front end never panics, hangs or grows without bound: hostile
//! inputs, and a mutation fuzzer over the bundled layouts (a bounded run
//! in every `cargo test`; raise PROPTEST_CASES for a longer one).

use crate::support::specs::check_text;
use crate::support::{proptest_cases, specs};
use layoutgen::{Output, Templates};
use proptest::prelude::*;
use std::path::Path;

fn base_spec() -> String {
    specs::text("qemu-virt-sv39")
}

/// Rejected with at least one diagnostic, and without a panic.
#[track_caller]
fn rejected(text: &str) -> Vec<layoutgen::Diagnostic> {
    match check_text(text, "hostile.toml") {
        Ok(_) => panic!("hostile spec accepted"),
        Err(d) => {
            assert!(!d.is_empty());
            d
        }
    }
}

#[test]
fn deeply_nested_values_are_rejected() {
    let n = 200_000;
    rejected(&format!("a = {}{}\n", "[".repeat(n), "]".repeat(n)));
    rejected(&format!(
        "a = {}1{}\n",
        "{ b = ".repeat(20_000),
        " }".repeat(20_000)
    ));
    rejected(&format!("[x]\n[x.y{}]\n", ".z".repeat(50_000)));
}

#[test]
fn ten_thousand_overlapping_regions_report_linearly() {
    let mut text = base_spec();
    for i in 0..10_000 {
        text += &format!("[region.r{i}]\nstart = \"kernel_half + {i}\"\nsize = \"4KiB\"\n");
    }
    let d = rejected(&text);
    // One overlap finding per region at most, not one per pair.
    let overlaps = d
        .iter()
        .filter(|d| d.rule == layoutgen::Rule::Overlap)
        .count();
    assert!(overlaps < 10_001, "{overlaps} overlap findings");
}

#[test]
fn long_reference_chains_stop_with_an_error_not_a_stack_overflow() {
    let mut text = base_spec();
    text += "[region.r0]\nstart = \"kernel_half\"\nsize = \"4KiB\"\n";
    for i in 1..10_000 {
        text += &format!(
            "[region.r{i}]\nstart = \"r{}.end\"\nsize = \"4KiB\"\n",
            i - 1
        );
    }
    let d = rejected(&text);
    assert!(
        d.iter()
            .any(|d| d.message.contains("references nest deeper")),
        "{:?}",
        &d[..1]
    );
}

#[test]
fn huge_and_wrapping_numbers_are_errors() {
    for value in [
        "top + top + top",
        "0xffff_ffff_ffff_ffff + 0xffff_ffff_ffff_ffff",
        "0 - top",
        "16384PiB + 1",
        "99999999999999999999999",
        "top + ".repeat(40).trim_end_matches("+ "),
    ] {
        let text = base_spec().replace("start = \"top - 2GiB\"", &format!("start = \"{value}\""));
        rejected(&text);
    }
    let text = base_spec().replace("max_size = \"32MiB\"", "max_size = 9223372036854775807");
    rejected(&text);
    let text = base_spec().replace("max_size = \"32MiB\"", "max_size = -1");
    rejected(&text);
}

#[test]
fn unicode_and_control_characters_in_names_are_rejected() {
    for name in ["\"régión\"", "\"ker\\u0000nel\"", "\"a\\nb\"", "\"🦀\""] {
        let text = format!(
            "{}\n[region.{name}]\nstart = \"kernel_half\"\nsize = \"4KiB\"\n",
            base_spec()
        );
        let d = rejected(&text);
        assert!(
            d.iter().any(|d| d.rule == layoutgen::Rule::Identifier),
            "{name}: {d:?}"
        );
    }
}

/// Values worth trying where an expression goes.
const INTERESTING: &[&str] = &[
    "\"0\"",
    "\"top\"",
    "\"top - 1\"",
    "\"kernel_half\"",
    "\"0xffff_ffff_ffff_ffff\"",
    "\"1\"",
    "\"4KiB\"",
    "\"2MiB\"",
    "\"1GiB\"",
    "\"512GiB\"",
    "\"16PiB\"",
    "\"0x8000_0000\"",
    "\"kernel.end\"",
    "\"linear_map.start - 1\"",
    "\"image.end + top\"",
    "\"ram.end\"",
    "\"nosuch.start\"",
    "\"a.b.c\"",
    "\"\"",
    "\"+\"",
    "0",
    "-1",
    "9223372036854775807",
    "{ sv39 = \"top\" }",
    "{ sv48 = \"1\" }",
    "{}",
    "[]",
    "true",
    "\"2MB\"",
    "\"0x\"",
    "\"rx\"",
    "\"rwx\"",
    "\"sv57\"",
    "\"semi-pic\"",
    "\"pie\"",
    "\"disabled\"",
];

#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    ReplaceValue(usize, usize),
    FlipByte(usize, u8),
    Insert(usize, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), 0..INTERESTING.len()).prop_map(|(l, v)| Mutation::ReplaceValue(l, v)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::FlipByte(i, b)),
        (any::<usize>(), "[\\[\\]{}=\",.a-z0-9_ \n-]{0,24}")
            .prop_map(|(i, s)| Mutation::Insert(i, s)),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let n = lines.len().max(1);
    match m {
        Mutation::DeleteLine(i) => {
            lines.remove(i % n);
        }
        Mutation::DuplicateLine(i) => {
            let l = lines[i % n].clone();
            lines.insert(i % n, l);
        }
        Mutation::ReplaceValue(i, v) => {
            let l = &mut lines[i % n];
            if let Some(eq) = l.find('=') {
                *l = format!("{} = {}", &l[..eq].trim_end(), INTERESTING[*v]);
            }
        }
        Mutation::FlipByte(i, b) => {
            let mut bytes = lines.join("\n").into_bytes();
            let len = bytes.len();
            bytes[i % len] = *b;
            return String::from_utf8_lossy(&bytes).into_owned();
        }
        Mutation::Insert(i, s) => {
            let text = lines.join("\n");
            let mut at = i % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            return format!("{}{}{}", &text[..at], s, &text[at..]);
        }
    }
    lines.join("\n") + "\n"
}

fn bundled() -> Vec<String> {
    specs::bundled()
        .into_iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

proptest! {
    // 512 cases per `cargo test`; PROPTEST_CASES=N for a longer run.
    #![proptest_config(ProptestConfig { cases: proptest_cases(512), ..ProptestConfig::default() })]

    /// Any mutation of a bundled layout is either rejected with diagnostics
    /// or accepted and then generates every output, deterministically.
    #[test]
    fn mutated_specs_never_panic(which in 0usize..5, mutations in prop::collection::vec(mutation(), 1..6)) {
        let specs = bundled();
        let mut text = specs[which % specs.len()].clone();
        for m in &mutations {
            text = apply(&text, m);
        }
        match check_text(&text, "fuzz.toml") {
            Err(d) => {
                prop_assert!(!d.is_empty());
                // Rendering never panics either, whatever the spans.
                let _ = layoutgen::Report::new(Path::new("fuzz.toml"), &text, d).render();
            }
            Ok(layout) => {
                let t = Templates::new(None).unwrap();
                for o in Output::ALL {
                    let a = t.render(&layout, o).unwrap();
                    let b = t.render(&layout, o).unwrap();
                    prop_assert_eq!(a, b);
                }
            }
        }
    }
}
