//! `layoutgen lint` under bounded mutation fuzzing of the reader: every
//! clean fixture and an ET_REL object, mutated, must give findings or a
//! clean error, never a panic or a hang.

use crate::support::elf_tools::*;
use crate::support::specs;
use layoutgen::Layout;
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The clean fixtures (one per bundled layout) plus an ET_REL object:
/// the seeds every mutation starts from.
fn seeds() -> &'static Vec<(Layout, Vec<u8>)> {
    static SEEDS: OnceLock<Vec<(Layout, Vec<u8>)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut v: Vec<(Layout, Vec<u8>)> = LAYOUTS
            .iter()
            .map(|name| {
                (
                    specs::layout(name),
                    link(name, &LinkOpts::default()).bytes(),
                )
            })
            .collect();
        v.push((
            specs::layout("qemu-virt-semipic"),
            object(&ObjOpts::default()),
        ));
        v
    })
}

/// Lints `data` and checks the result is a value, never a panic.
fn lint_any(l: &Layout, data: &[u8]) -> bool {
    lint_and_render(l, data, false)
}

fn lint_and_render(l: &Layout, data: &[u8], render: bool) -> bool {
    let r = layoutgen::lint::run(
        l,
        layoutgen::lint::Input::Bytes {
            name: Path::new("fuzz.elf"),
            data,
        },
        &Default::default(),
    );
    if render && let Ok(r) = &r {
        // Rendering must not panic either.
        let run = layoutgen::lint::LintRun {
            spec: Path::new("spec.toml"),
            layout: l,
            config: &l.lint,
            outcomes: vec![layoutgen::lint::Outcome {
                path: PathBuf::from("fuzz.elf"),
                result: Ok(r.clone()),
            }],
            deny_warnings: true,
        };
        for f in [
            layoutgen::lint::Format::Human,
            layoutgen::lint::Format::Json,
            layoutgen::lint::Format::Github,
            layoutgen::lint::Format::Sarif,
        ] {
            let _ = run.render(f);
        }
    }
    r.is_ok()
}

/// Values that break parsers: zero, one, the file size and around it,
/// sign bits, all ones.
fn nasty(len: usize, pick: u8, random: u64) -> u64 {
    match pick % 8 {
        0 => 0,
        1 => 1,
        2 => len as u64,
        3 => len as u64 + 1,
        4 => 0x7fff_ffff,
        5 => u64::MAX,
        6 => 0x8000_0000_0000_0000,
        _ => random,
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(u32),
    Byte(u32, u8),
    /// A header field: (which ELF-header field, value choice, random).
    Header(u8, u8, u64),
    /// A section-header field: (section, field, value choice, random).
    Section(u16, u8, u8, u64),
    /// A program-header field.
    Program(u16, u8, u8, u64),
    /// Point one section's data at another's (overlapping tables).
    Overlap(u16, u16),
}

fn put(d: &mut [u8], at: usize, width: usize, v: u64) {
    if at.checked_add(width).is_some_and(|end| end <= d.len()) {
        d[at..at + width].copy_from_slice(&v.to_le_bytes()[..width]);
    }
}

fn get(d: &[u8], at: usize, width: usize) -> u64 {
    let mut b = [0u8; 8];
    if at.checked_add(width).is_some_and(|end| end <= d.len()) {
        b[..width].copy_from_slice(&d[at..at + width]);
    }
    u64::from_le_bytes(b)
}

fn apply(d: &mut Vec<u8>, m: &Mutation) {
    let len = d.len();
    let shoff = get(d, 40, 8) as usize;
    let shnum = get(d, 60, 2) as usize;
    let phoff = get(d, 32, 8) as usize;
    let phnum = get(d, 56, 2) as usize;
    match *m {
        Mutation::Truncate(n) => d.truncate(n as usize % (len + 1)),
        Mutation::Byte(at, v) => {
            if len > 0 {
                d[at as usize % len] = v;
            }
        }
        Mutation::Header(field, pick, r) => {
            // e_entry, e_phoff, e_shoff, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx, e_type, e_machine
            let (at, w) = [
                (24, 8),
                (32, 8),
                (40, 8),
                (54, 2),
                (56, 2),
                (58, 2),
                (60, 2),
                (62, 2),
                (16, 2),
                (18, 2),
            ][field as usize % 10];
            put(d, at, w, nasty(len, pick, r));
        }
        Mutation::Section(i, field, pick, r) => {
            if shnum > 0 {
                let base = shoff.saturating_add((i as usize % shnum) * 64);
                // sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info, sh_entsize
                let (at, w) = [
                    (0, 4),
                    (4, 4),
                    (8, 8),
                    (16, 8),
                    (24, 8),
                    (32, 8),
                    (40, 4),
                    (44, 4),
                    (56, 8),
                ][field as usize % 9];
                put(d, base.saturating_add(at), w, nasty(len, pick, r));
            }
        }
        Mutation::Program(i, field, pick, r) => {
            if phnum > 0 {
                let base = phoff.saturating_add((i as usize % phnum) * 56);
                let (at, w) = [(0, 4), (4, 4), (8, 8), (16, 8), (24, 8), (32, 8), (40, 8)]
                    [field as usize % 7];
                put(d, base.saturating_add(at), w, nasty(len, pick, r));
            }
        }
        Mutation::Overlap(a, b) => {
            if shnum > 0 {
                let sa = shoff.saturating_add((a as usize % shnum) * 64);
                let sb = shoff.saturating_add((b as usize % shnum) * 64);
                let off = get(d, sb.saturating_add(24), 8);
                let size = get(d, sb.saturating_add(32), 8);
                put(d, sa.saturating_add(24), 8, off);
                put(d, sa.saturating_add(32), 8, size);
            }
        }
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<u32>().prop_map(Mutation::Truncate),
        (any::<u32>(), any::<u8>()).prop_map(|(a, v)| Mutation::Byte(a, v)),
        (any::<u8>(), any::<u8>(), any::<u64>()).prop_map(|(f, p, r)| Mutation::Header(f, p, r)),
        (any::<u16>(), any::<u8>(), any::<u8>(), any::<u64>())
            .prop_map(|(i, f, p, r)| Mutation::Section(i, f, p, r)),
        (any::<u16>(), any::<u8>(), any::<u8>(), any::<u64>())
            .prop_map(|(i, f, p, r)| Mutation::Program(i, f, p, r)),
        (any::<u16>(), any::<u16>()).prop_map(|(a, b)| Mutation::Overlap(a, b)),
    ]
}

static TRIED: AtomicU64 = AtomicU64::new(0);

proptest! {
    #![proptest_config(ProptestConfig {
        // PROPTEST_CASES=N runs a longer campaign.
        cases: crate::support::proptest_cases(3000),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Random stacks of 1–6 mutations of a real ELF: lint returns a value
    /// (report or error) and never panics.
    #[test]
    fn fuzz_mutated_elfs_never_panic(
        seed in 0usize..5,
        muts in proptest::collection::vec(mutation(), 1..6),
    ) {
        let (l, base) = &seeds()[seed % seeds().len()];
        let mut d = base.clone();
        for m in &muts {
            apply(&mut d, m);
        }
        lint_and_render(l, &d, true);
        TRIED.fetch_add(1, Ordering::Relaxed);
    }
}

/// Systematic: every fifth prefix length and every header byte set to
/// 0x00, 0xff and 0x80, for each seed. Prints how many inputs were tried.
#[test]
fn fuzz_truncations_and_header_bytes_never_panic() {
    let mut tried = 0u64;
    let mut parsed = 0u64;
    for (l, base) in seeds() {
        for n in (0..base.len()).step_by(5) {
            parsed += lint_any(l, &base[..n]) as u64;
            tried += 1;
        }
        let shoff = get(base, 40, 8) as usize;
        let phoff = get(base, 32, 8) as usize;
        let phnum = get(base, 56, 2) as usize;
        let mut spots: Vec<usize> = (0..64).collect();
        spots.extend(phoff..(phoff + phnum * 56).min(base.len()));
        spots.extend(shoff..base.len());
        for at in spots {
            for v in [0x00u8, 0xff, 0x80] {
                let mut d = base.clone();
                d[at] = v;
                parsed += lint_any(l, &d) as u64;
                tried += 1;
            }
        }
    }
    eprintln!("fuzz: {tried} systematic inputs tried, {parsed} parsed to a report, none panicked");
    assert!(tried > 10_000);
}

#[test]
fn fuzz_huge_counts_and_overlaps_never_panic() {
    let mut tried = 0u64;
    for (l, base) in seeds() {
        let len = base.len();
        for field in 0..10u8 {
            for pick in 0..8u8 {
                let mut d = base.clone();
                apply(&mut d, &Mutation::Header(field, pick, 0xdead_beef_1234));
                lint_any(l, &d);
                tried += 1;
            }
        }
        let shnum = get(base, 60, 2) as u16;
        for i in 0..shnum {
            for field in 0..9u8 {
                for pick in 0..8u8 {
                    let mut d = base.clone();
                    apply(&mut d, &Mutation::Section(i, field, pick, len as u64 / 2));
                    lint_any(l, &d);
                    tried += 1;
                }
            }
            for j in 0..shnum {
                let mut d = base.clone();
                apply(&mut d, &Mutation::Overlap(i, j));
                lint_any(l, &d);
                tried += 1;
            }
        }
    }
    eprintln!("fuzz: {tried} header/section-table inputs tried, none panicked");
    let _ = TRIED.load(Ordering::Relaxed);
}
