//! Debian's riscv64 module tree (`scripts/debian-kernel`: the modules of
//! the `linux-image-*-riscv64` package Debian ships, thousands of `.ko`
//! files nobody here built) linted against `layouts/linux-riscv64.toml`,
//! whose `[module_loader]` describes 6.12's loader. Every expectation is
//! computed from the files: lint's LG023 verdict must agree, module by
//! module and type by type, with the relocation types an independent
//! reading (the `object` crate) finds in each module's relocation sections.

use crate::support::{debian, specs};
use layoutgen::lint::{Lint, Options, Severity};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The relocation types of `module`'s relocation sections that patch an
/// allocated section (what the module loader applies), read straight from
/// the ELF64 section headers and `Elf64_Rela` entries.
pub(crate) fn relocation_types(module: &PathBuf) -> BTreeSet<u32> {
    const SHT_RELA: u32 = 4;
    const SHF_ALLOC: u64 = 2;
    let d = std::fs::read(module).unwrap();
    let u16_at = |o: usize| u16::from_le_bytes(d[o..o + 2].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(d[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(d[o..o + 8].try_into().unwrap());
    let (shoff, shnum) = (u64_at(0x28) as usize, u16_at(0x3c));
    let header = |i: usize| shoff + 64 * i;
    let mut types = BTreeSet::new();
    for i in 0..shnum {
        let h = header(i);
        let target = u32_at(h + 44) as usize;
        if u32_at(h + 4) != SHT_RELA
            || target >= shnum
            || u64_at(header(target) + 8) & SHF_ALLOC == 0
        {
            continue;
        }
        let (off, size) = (u64_at(h + 24) as usize, u64_at(h + 32) as usize);
        for e in (off..off + size).step_by(24) {
            // Type 0 as well: riscv's loader refuses R_RISCV_NONE.
            types.insert(u64_at(e + 8) as u32);
        }
    }
    types
}

/// LG023's types per module, from lint over the whole tree.
pub(crate) fn lint_verdicts(
    layout: &layoutgen::Layout,
    files: &[PathBuf],
) -> BTreeMap<PathBuf, BTreeSet<u32>> {
    let mut verdicts = BTreeMap::new();
    for o in layoutgen::lint::run_files(layout, files, &Options::default()) {
        let report = o
            .result
            .unwrap_or_else(|e| panic!("{}: {e}", o.path.display()));
        let mut types = BTreeSet::new();
        for f in &report.findings {
            match (f.id, f.severity) {
                (Lint::ModuleRelocation, _) => {
                    let typ = f
                        .message
                        .split("(type ")
                        .nth(1)
                        .and_then(|t| t.split(')').next());
                    types.insert(
                        typ.and_then(|t| t.parse().ok())
                            .unwrap_or_else(|| panic!("{}", f.message)),
                    );
                }
                // The audit figure and the symbol source are the only other
                // findings a module has: neither is a defect.
                (Lint::RelocationAudit | Lint::SymbolSource, Severity::Info) => {}
                _ => panic!(
                    "{}: unexpected {} {}: {}",
                    o.path.display(),
                    f.id.id(),
                    f.severity,
                    f.message
                ),
            }
        }
        verdicts.insert(o.path, types);
    }
    verdicts
}

#[test]
fn debian_module_tree_lints_clean_against_the_6_12_loader_and_agrees_with_an_older_one() {
    let files = debian::modules();
    let text = specs::text("linux-riscv64");
    let layout = specs::check_text(&text, "linux-riscv64.toml").unwrap();
    let loader: BTreeSet<u32> = layout
        .module_loader
        .as_ref()
        .expect("[module_loader]")
        .types
        .iter()
        .copied()
        .collect();
    let used: BTreeMap<PathBuf, BTreeSet<u32>> = files
        .iter()
        .map(|f| (f.clone(), relocation_types(f)))
        .collect();

    // 6.12's loader applies every type Debian's modules use: no LG023, and
    // nothing else but the two informational figures.
    let verdicts = lint_verdicts(&layout, &files);
    assert_eq!(verdicts.len(), files.len());
    for (module, types) in &used {
        let missing: BTreeSet<u32> = types.difference(&loader).copied().collect();
        assert_eq!(&verdicts[module], &missing, "{}", module.display());
    }

    // An older loader, described the documented way (the table without
    // the types a kernel lacks): here one without the 16-bit label
    // differences ADD16/SUB16, which Debian's compiler emits in some
    // modules. Those modules, and only those, are reported, each with
    // exactly the types the reading above finds.
    let dropped = ["R_RISCV_ADD16", "R_RISCV_SUB16"];
    let mut older = text.clone();
    for name in dropped {
        let entry = format!("\"{name}\",");
        assert!(older.contains(&entry), "{name} is not in the 6.12 table");
        older = older.replacen(&entry, "", 1);
    }
    let older = specs::check_text(&older, "older-loader.toml").unwrap();
    let older_types: BTreeSet<u32> = older
        .module_loader
        .as_ref()
        .unwrap()
        .types
        .iter()
        .copied()
        .collect();
    assert_eq!(loader.len() - older_types.len(), dropped.len());
    let verdicts = lint_verdicts(&older, &files);
    let mut refused = 0;
    for (module, types) in &used {
        let expected: BTreeSet<u32> = types.difference(&older_types).copied().collect();
        refused += usize::from(!expected.is_empty());
        assert_eq!(&verdicts[module], &expected, "{}", module.display());
    }
    // The older loader really refuses part of the tree (else the
    // comparison above proves nothing about LG023).
    assert!(
        refused > 0 && refused < files.len(),
        "{refused} of {} refused",
        files.len()
    );
    eprintln!(
        "{} Debian modules: clean against 6.12's loader; {refused} refused by the older one",
        files.len()
    );
}
