//! Property tests over generated specs: random *valid* specs are accepted,
//! their generated Rust compiles and proves the address conversions are
//! inverse at compile time; random *broken* specs (one invariant violated on
//! purpose) are rejected naming that invariant.

use crate::support::specs::check_text;
use layoutgen::Rule;
use layoutgen::arch::PagingMode;
use layoutgen::units::{GIB, MIB};
use proptest::prelude::*;

use crate::support::specs::{self, BASE};
use crate::support::{builds, elf_tools, proptest_cases};

#[derive(Debug, Clone)]
struct Params {
    modes: Vec<PagingMode>,
    ram_base_gib: u64,
    load_steps: u64,
    min_size_mib: u64,
    max_size_gib: u64,
    image_mib: u64,
    linear_gib: u64,
    vmalloc_gib: u64,
    semi_pic: bool,
    gp_relax: bool,
    extra_regions: Vec<u64>,
}

prop_compose! {
    fn params()(
        // riscv64's paging modes (`bare` cannot be listed with them).
        modes in prop::sample::subsequence(
            layoutgen::arch::Arch::Riscv64
                .facts()
                .modes
                .iter()
                .copied()
                .filter(|m| *m != PagingMode::Bare)
                .collect::<Vec<_>>(),
            1..=3,
        ),
        ram_base_gib in 1u64..16,
        load_steps in 0u64..8,
        min_size_mib in prop::sample::select(vec![128u64, 256, 512, 1024]),
        max_size_gib in prop::sample::select(vec![1u64, 2, 4, 16, 32]),
        image_mib in prop::sample::select(vec![16u64, 32, 64]),
        linear_gib in prop::sample::select(vec![32u64, 64, 128]),
        vmalloc_gib in 1u64..64,
        semi_pic in any::<bool>(),
        gp_relax in any::<bool>(),
        extra_regions in prop::collection::vec(1u64..512, 0..4),
    ) -> Params {
        Params {
            modes, ram_base_gib, load_steps, min_size_mib, max_size_gib, image_mib,
            linear_gib, vmalloc_gib, semi_pic, gp_relax, extra_regions,
        }
    }
}

/// A spec that satisfies every invariant by construction.
fn spec(p: &Params) -> String {
    // A semi-PIC slot in the vmalloc area moves with the mode, so such an
    // image serves one mode only (the slot-per-mode rule).
    let modes = if p.semi_pic {
        &p.modes[..1]
    } else {
        &p.modes[..]
    };
    let modes = modes
        .iter()
        .map(|m| format!("\"{m}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let max_size_gib = p.max_size_gib.min(p.linear_gib);
    let model = if p.semi_pic { "semi-pic" } else { "fixed" };
    let gp = if p.gp_relax && !p.semi_pic {
        "relax"
    } else {
        "disabled"
    };
    let load = p.load_steps * 2;
    // BASE up to its regions (the image and its four sections), with this
    // case's values.
    let base = BASE.trim_start();
    let mut s = specs::edits(
        &base[..base.find("[region.").unwrap()],
        &[
            ("name = \"base\"", "name = \"prop\""),
            ("modes = [\"sv39\"]", &format!("modes = [{modes}]")),
            (
                "code_model = \"fixed\"",
                &format!("code_model = \"{model}\""),
            ),
            (
                "base = \"0x8000_0000\"",
                &format!("base = \"{:#x}\"", p.ram_base_gib * GIB),
            ),
            (
                "min_size = \"128MiB\"",
                &format!("min_size = \"{}MiB\"", p.min_size_mib),
            ),
            (
                "max_size = \"4GiB\"",
                &format!("max_size = \"{max_size_gib}GiB\""),
            ),
            (
                "load = \"0x8020_0000\"",
                &format!("load = \"ram.base + {load}MiB\""),
            ),
            (
                "link = \"kernel.start + 0x20_0000\"",
                &format!("link = \"kernel.start + {load}MiB\""),
            ),
            (
                "max_size = \"32MiB\"",
                &format!("max_size = \"{}MiB\"", p.image_mib),
            ),
            ("policy = \"relax\"", &format!("policy = \"{gp}\"")),
        ],
    );
    s += &format!(
        r#"[region.linear_map]
start = "kernel_half + 4GiB"
size = "{linear}GiB"
align = "1GiB"
leaf = "1GiB"

[region.vmalloc]
start = "linear_map.end"
size = "{vmalloc}GiB"
align = "2MiB"
"#,
        linear = p.linear_gib,
        vmalloc = p.vmalloc_gib,
    );
    if p.semi_pic {
        // The slot and modules share one 2 GiB window above vmalloc, far
        // from [-2 GiB, +2 GiB); KASLR spans the slot.
        s += r#"
[region.kernel]
start = "vmalloc.end + 1GiB"
size = "1GiB"
align = "2MiB"
leaf = "2MiB"

[region.modules]
start = "kernel.end - 2GiB"
end = "kernel.start"

[kaslr]
start = "kernel.start"
end = "kernel.end"
granule = "2MiB"
"#;
    } else {
        // BASE's slot at -2 GiB and its modules below.
        s += &format!(
            "\n{}\n{}",
            specs::table(BASE, "region.kernel"),
            specs::table(BASE, "region.modules")
        );
    }
    for (i, size_mib) in p.extra_regions.iter().enumerate() {
        // Stacked below the linear map's start, 512 MiB apart.
        s += &format!(
            "\n[region.extra{i}]\nstart = \"kernel_half + {}MiB\"\nsize = \"{size_mib}MiB\"\n",
            i as u64 * 512
        );
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: proptest_cases(256), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn valid_specs_are_accepted_and_convert_both_ways(p in params()) {
        let text = spec(&p);
        let layout = match check_text(&text, "prop.toml") {
            Ok(l) => l,
            Err(d) => return Err(TestCaseError::fail(format!("rejected:\n{text}\n{d:#?}"))),
        };
        for m in &layout.modes {
            // These specs always declare a linear map.
            let (lin, offset) = (m.linear_map().unwrap(), m.linear_offset.unwrap());
            // The linear map converts every RAM address both ways.
            for pa in [layout.ram.base, layout.ram.base + layout.ram.max_size / 2, layout.ram.base + layout.ram.max_size - 1] {
                let va = pa.wrapping_add(offset);
                prop_assert!(lin.contains(va));
                prop_assert_eq!(va.wrapping_sub(offset), pa);
            }
            // The image converts both ways over its whole window.
            for off in [0, layout.image.max_size / 2, layout.image.max_size - 1] {
                let va = m.image_link + off;
                let pa = va.wrapping_sub(m.image_offset);
                prop_assert_eq!(pa, layout.ram.load + off);
                prop_assert_eq!(pa.wrapping_add(m.image_offset), va);
            }
        }
    }

    #[test]
    fn broken_specs_are_rejected_naming_the_rule(p in params(), which in 0usize..9) {
        let text = spec(&p);
        let (broken, rule) = match which {
            0 => (text.replace("perms = \"rx\"", "perms = \"rwx\""), Rule::WriteXorExecute),
            1 => (text.replace("start = \"linear_map.end\"", "start = \"linear_map.end - 1GiB\""), Rule::Overlap),
            2 => (text.replace("section_align = \"2MiB\"", "section_align = \"3MiB\""), Rule::Align),
            3 => (text.replace("link = \"kernel.start + ", "link = \"kernel.start + 4KiB + "), Rule::Leaf),
            4 => (text.replace("start = \"kernel_half + 4GiB\"", "start = \"kernel_half + 4GiB + 2MiB\""), Rule::Leaf),
            5 => (text.replacen("max_size = \"", "max_size = \"1024GiB + ", 1), Rule::Ram),
            6 => (text.replace("end = \"kernel.start\"", "end = \"kernel.start - 4GiB\"").replace("start = \"image.end - 2GiB\"", "start = \"kernel.start - 6GiB\"").replace("start = \"kernel.end - 2GiB\"", "start = \"kernel.start - 6GiB\""), Rule::ModulesReach),
            7 => (text.replace("start = \"kernel_half + 4GiB\"", "start = \"0x4000_0000\""), Rule::KernelHalf),
            _ => (text.replace("start = \"kernel_half + 4GiB\"", "start = \"kernel_half - 1GiB\""), Rule::Canonical),
        };
        prop_assume!(broken != text);
        match check_text(&broken, "prop.toml") {
            Ok(_) => return Err(TestCaseError::fail(format!("accepted a spec breaking {rule}:\n{broken}"))),
            Err(d) => prop_assert!(d.iter().any(|d| d.rule == rule), "expected {} in {:#?}", rule, d),
        }
    }
}

/// A runner for properties whose every case runs an external tool: at
/// most `max` cases (fewer when PROPTEST_CASES asks), none persisted.
fn slow_case_runner(max: u32) -> proptest::test_runner::TestRunner {
    proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: proptest_cases(256).min(max),
        failure_persistence: None,
        ..ProptestConfig::default()
    })
}

/// The generated Rust of random valid specs compiles, and rustc itself
/// checks the conversions in const context (fewer cases: each runs rustc).
#[test]
fn generated_rust_of_random_specs_compiles() {
    let mut runner = slow_case_runner(12);
    let templates = layoutgen::Templates::new(None).unwrap();
    runner
        .run(&params(), |p| {
            let layout = check_text(&spec(&p), "prop.toml").unwrap();
            let dir = tempfile::tempdir().unwrap();
            let rs = templates.render(&layout, layoutgen::Output::Rust).unwrap();
            std::fs::write(dir.path().join("layout.rs"), rs).unwrap();
            let mut lib = String::from("#![no_std]\n#![deny(warnings)]\n#[allow(dead_code)]\nmod layout { include!(\"layout.rs\"); }\n");
            for m in &layout.modes {
                lib += &format!(
                    "const _: () = {{ let l = layout::{}::LAYOUT; let mut pa = layout::RAM_BASE; \
                     while pa < layout::RAM_BASE + layout::RAM_MAX_SIZE {{ \
                       assert!(l.virt_to_phys(l.phys_to_virt(pa)) == pa); assert!(l.linear_map.contains(l.phys_to_virt(pa))); pa += {step}; }} \
                     assert!(layout::kernel_virt_to_phys(layout::kernel_phys_to_virt(layout::LOAD_ADDRESS)) == layout::LOAD_ADDRESS); \
                     assert!(l.image_slot.contains(layout::kernel_phys_to_virt(layout::LOAD_ADDRESS))); }};\n",
                    m.mode,
                    step = 256 * MIB
                );
            }
            std::fs::write(dir.path().join("lib.rs"), lib).unwrap();
            let out = builds::rustc_metadata(&dir.path().join("lib.rs"), &dir.path().join("out.rmeta"))
                .output()
                .unwrap();
            prop_assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            Ok(())
        })
        .unwrap();
}

/// A tiny riscv64 object linked with the generated script of random valid
/// specs, by rust-lld and by GNU ld, links without a warning and passes
/// `layoutgen lint` against the same spec (a few cases: each runs both).
#[test]
fn objects_linked_with_random_specs_lint_clean() {
    let mut runner = slow_case_runner(16);
    runner
        .run(&params(), |p| {
            let layout = check_text(&spec(&p), "prop.toml").unwrap();
            for linker in elf_tools::Linker::ALL {
                let opts = elf_tools::LinkOpts {
                    linker,
                    ..elf_tools::LinkOpts::default()
                };
                let linked = elf_tools::link_layout(&layout, "prop", &opts);
                prop_assert_eq!(linked.stderr.trim(), "", "{} warned", linker.name());
                let report =
                    layoutgen::lint::run(&layout, &linked.elf, &Default::default()).unwrap();
                prop_assert_eq!(
                    report.counts.errors,
                    0,
                    "{}: {:#?}",
                    linker.name(),
                    report.findings
                );
                prop_assert_eq!(
                    report.counts.warnings,
                    0,
                    "{}: {:#?}",
                    linker.name(),
                    report.findings
                );
            }
            Ok(())
        })
        .unwrap();
}
