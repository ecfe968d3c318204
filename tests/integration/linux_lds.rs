//! `layouts/linux-riscv64.toml` and `layouts/linux-arm64.toml` describe
//! what each architecture's `vmlinux.lds.S` can produce, not what one build
//! produced: `scripts/linux-lds` preprocesses the script under tinyconfig,
//! defconfig and Debian's configuration, and every allocated output section
//! a script names must be in the spec, every spec section must be named by
//! at least one script, and a section the spec says an option brings
//! (`image.section.config`) must be named exactly by the configurations
//! that set one of its options.

use crate::support::lds::{
    Configured, OutputSection, configurations, linked_riscv64_kernels, options, output_sections,
};
use crate::support::specs;
use layoutgen::Layout;

/// What disagrees between `layout`'s sections and the preprocessed
/// `scripts`, and for sections no script names (GNU ld's orphans) the
/// `linked` kernels; each line names the configuration and the section.
fn coverage(layout: &Layout, scripts: &[Configured], linked: &[Configured]) -> Vec<String> {
    let spec = &layout.source;
    let sections = &layout.image.sections;
    let mut problems = Vec::new();
    for c in scripts {
        for name in &c.sections {
            if !sections.iter().any(|s| &s.name == name) {
                problems.push(format!(
                    "{}: vmlinux.lds names output section {name}, which {spec} does not describe",
                    c.label
                ));
            }
        }
    }
    for s in sections {
        let named = labels(scripts, &s.name);
        if !named.is_empty() {
            problems.extend(claims(s, scripts, &named, spec));
            continue;
        }
        // An orphan: no script names it, the linker may still add it.
        let in_linked = labels(linked, &s.name);
        if in_linked.is_empty() {
            let all: Vec<&str> = scripts
                .iter()
                .chain(linked)
                .map(|c| c.label.as_str())
                .collect();
            problems.push(format!(
                "section {} of {spec} is named by none of the scripts and linked into none of the kernels ({})",
                s.name,
                all.join(", ")
            ));
        } else {
            problems.extend(claims(s, linked, &in_linked, spec));
        }
    }
    problems
}

/// The labels of the configurations whose sections include `name`.
fn labels<'c>(configs: &'c [Configured], name: &str) -> Vec<&'c str> {
    configs
        .iter()
        .filter(|c| c.sections.contains(name))
        .map(|c| c.label.as_str())
        .collect()
}

/// Section `s`, which the configurations `having` of `configs` have:
/// without `config` it must be in all of them; with it, exactly in those
/// that set one of its options.
fn claims(
    s: &layoutgen::layout::Section,
    configs: &[Configured],
    having: &[&str],
    spec: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    if s.config.is_empty() {
        if having.len() < configs.len() {
            problems.push(format!(
                "section {} is only in {}: {spec} must say which option brings it (config = [\"CONFIG_...\"])",
                s.name,
                having.join(", ")
            ));
        }
        return problems;
    }
    for c in configs {
        let set: Vec<&String> = s.config.iter().filter(|o| c.options.contains(*o)).collect();
        let has = c.sections.contains(&s.name);
        if has == set.is_empty() {
            problems.push(format!(
                "{}: section {} is {}, but its options {:?} are {}",
                c.label,
                s.name,
                if has { "there" } else { "not there" },
                s.config,
                if set.is_empty() {
                    "all unset".to_string()
                } else {
                    format!("set ({set:?})")
                }
            ));
        }
        // olddefconfig with this toolchain must not have dropped an option
        // Debian's own file sets: the script would lack a section Debian's
        // kernel has.
        if let Some(given) = &c.given {
            for o in s
                .config
                .iter()
                .filter(|o| given.contains(*o) && !c.options.contains(*o))
            {
                problems.push(format!(
                    "{}: {o} (section {}) is set in Debian's config but not after olddefconfig here ({}): this toolchain lacks what the option needs",
                    c.label,
                    s.name,
                    c.dir.display()
                ));
            }
        }
    }
    problems
}

#[track_caller]
fn assert_covers(spec: &str, arch: &str) {
    let scripts = configurations(arch);
    // Only riscv64 kernels are linked here; arm64's spec has no orphans.
    let linked = if arch == "riscv64" {
        linked_riscv64_kernels()
    } else {
        Vec::new()
    };
    let problems = coverage(&specs::layout(spec), &scripts, &linked);
    assert!(
        problems.is_empty(),
        "layouts/{spec}.toml against {arch}'s vmlinux.lds.S:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn riscv64_spec_describes_every_section_of_each_configurations_vmlinux_lds() {
    assert_covers("linux-riscv64", "riscv64");
}

#[test]
fn arm64_spec_describes_every_section_of_each_configurations_vmlinux_lds() {
    assert_covers("linux-arm64", "arm64");
}

/// The configurations differ where the spec says they do: tinyconfig has
/// no `CONFIG_GENERIC_BUG`, so no `__bug_table`, the others have both (if
/// the scripts were all the same, the test above would prove little).
#[test]
fn configurations_differ_in_the_sections_their_options_bring() {
    for arch in ["riscv64", "arm64"] {
        let scripts = configurations(arch);
        for c in &scripts {
            let bug = c.options.contains("CONFIG_GENERIC_BUG");
            assert_eq!(
                c.sections.contains("__bug_table"),
                bug,
                "{}: __bug_table with CONFIG_GENERIC_BUG {}",
                c.label,
                if bug { "set" } else { "unset" }
            );
            assert_eq!(bug, !c.label.ends_with("tinyconfig"), "{}", c.label);
        }
    }
}

/// A spec without one section is told which configurations name it.
#[test]
fn a_missing_section_is_reported_with_the_configurations_that_produce_it() {
    let scripts = configurations("riscv64");
    let linked = linked_riscv64_kernels();
    let mut layout = specs::layout("linux-riscv64");
    layout.image.sections.retain(|s| s.name != "__bug_table");
    let problems = coverage(&layout, &scripts, &linked);
    let about: Vec<&String> = problems
        .iter()
        .filter(|p| p.contains("__bug_table"))
        .collect();
    let producing: Vec<&str> = scripts
        .iter()
        .filter(|c| c.sections.contains("__bug_table"))
        .map(|c| c.label.as_str())
        .collect();
    assert_eq!(producing, ["riscv64 defconfig", "riscv64 debian"]);
    assert_eq!(about.len(), producing.len(), "{problems:#?}");
    for (p, label) in about.iter().zip(&producing) {
        assert!(
            p.starts_with(&format!(
                "{label}: vmlinux.lds names output section __bug_table"
            )),
            "{p}"
        );
    }
    assert_eq!(problems.len(), about.len(), "{problems:#?}");
}

/// A section no configuration's script names, a wrong option, and an
/// option missing from a section only some configurations have.
#[test]
fn wrong_claims_of_the_spec_are_reported_by_section_and_configuration() {
    let scripts = configurations("riscv64");
    let linked = linked_riscv64_kernels();
    let base = specs::layout("linux-riscv64");

    let mut extra = base.clone();
    let mut bogus = extra.image.sections[0].clone();
    bogus.name = ".tracedata".into();
    extra.image.sections.push(bogus);
    let problems = coverage(&extra, &scripts, &linked);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].starts_with("section .tracedata of ")
            && problems[0].ends_with(
                "is named by none of the scripts and linked into none of the kernels (riscv64 tinyconfig, riscv64 defconfig, riscv64 debian, riscv64 kernel fixed (scripts/linux-kernel), riscv64 kernel reloc (scripts/linux-kernel))"
            ),
        "{}",
        problems[0]
    );

    let mut wrong = base.clone();
    let bug = wrong
        .image
        .sections
        .iter_mut()
        .find(|s| s.name == "__bug_table")
        .unwrap();
    bug.config = vec!["CONFIG_EFI".into()];
    let problems = coverage(&wrong, &scripts, &linked);
    // EFI is set in all three; tinyconfig's script lacks __bug_table.
    assert_eq!(
        problems,
        [
            "riscv64 tinyconfig: section __bug_table is not there, but its options [\"CONFIG_EFI\"] are set ([\"CONFIG_EFI\"])"
        ]
    );

    let mut unsaid = base.clone();
    unsaid
        .image
        .sections
        .iter_mut()
        .find(|s| s.name == "__bug_table")
        .unwrap()
        .config
        .clear();
    let problems = coverage(&unsaid, &scripts, &linked);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0]
            .starts_with("section __bug_table is only in riscv64 defconfig, riscv64 debian:"),
        "{}",
        problems[0]
    );
}

fn names(script: &str) -> Vec<(String, bool)> {
    output_sections(script)
        .unwrap()
        .into_iter()
        .map(|OutputSection { name, allocated }| (name, allocated))
        .collect()
}

/// The statement forms Linux's scripts use: several sections on one line,
/// `ASSERT(...)` without `;` before the next section, strings with braces,
/// `/DISCARD/`, metadata at address 0, `(NOLOAD)`, a phdr after `}`.
#[test]
fn output_sections_are_read_from_every_statement_form() {
    let script = r#"
OUTPUT_ARCH(riscv)
jiffies = jiffies_64;
SECTIONS
{
 . = 0xffffffff80000000; _start = .;
 .head.text : AT(ADDR(.head.text) - 0) { KEEP(*(.head.text)) }
 . = ALIGN(8); __bug_table : AT(ADDR(__bug_table) - 0) { __start = .; *(__bug_table) } . = ALIGN(8); runtime_x : { KEEP(*(runtime_x)) }
 .got.plt : { *(.got.plt) }
 ASSERT(SIZEOF(.got.plt) == 0 || SIZEOF(.got.plt) == 0x18,
        "Unexpected { GOT/PLT ; entries")
 .rodata.text : { *(.rodata.text) } :text
 .bss (NOLOAD) : ALIGN(4096) { *(.bss) }
 /* .commented : { } */
 .comment 0 : { *(.comment) }
 .info (INFO) : { *(.info) }
 /DISCARD/ : { *(.exit.text) }
}
ASSERT(_end - _start < 0x1000000, "too big")
"#;
    assert_eq!(
        names(script),
        [
            (".head.text".to_string(), true),
            ("__bug_table".into(), true),
            ("runtime_x".into(), true),
            (".got.plt".into(), true),
            (".rodata.text".into(), true),
            (".bss".into(), true),
            (".comment".into(), false),
            (".info".into(), false),
            ("/DISCARD/".into(), true),
        ]
    );
    assert!(output_sections("SECTIONS { .text : { *(.text) }").is_err());
    assert!(output_sections(".text : { }").is_err());
}

/// `#ifdef CONFIG_X` sees `=y` and valued options, not `=m`.
#[test]
fn options_are_those_ifdef_sees() {
    let o =
        options("CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_D=\"x\"\nCONFIG_E=0x10\n");
    assert_eq!(
        o.into_iter().collect::<Vec<_>>(),
        ["CONFIG_A", "CONFIG_D", "CONFIG_E"]
    );
}
