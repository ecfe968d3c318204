//! Step 6: how the kernel's code addresses itself: `code_model`, the gp
//! register's section (`[gp]`), and `[image.relocator]`.

use super::facts::{Facts, Kind};
use super::image::ImageSection;
use super::{ArchDefaults, Conventions};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeModel {
    Fixed,
    SemiPic,
    Pie,
}

impl CodeModel {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeModel::Fixed => "fixed",
            CodeModel::SemiPic => "semi-pic",
            CodeModel::Pie => "pie",
        }
    }
}

/// ET_DYN is taken to be semi-PIC where the architecture has that scheme
/// (riscv medany; a TODO says "pie" may be meant), else a PIE (aarch64);
/// Linux's relocatable vmlinux is still linked at KERNEL_LINK_ADDR: fixed.
pub fn code_model(kind: Kind, defaults: ArchDefaults, semi_pic: bool) -> CodeModel {
    match (kind, defaults) {
        (Kind::Dyn, ArchDefaults::Plain) if semi_pic => CodeModel::SemiPic,
        (Kind::Dyn, ArchDefaults::Plain) => CodeModel::Pie,
        _ => CodeModel::Fixed,
    }
}

/// `[gp]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gp {
    /// gp relaxation against `section`, gp = its start + `offset`.
    Relax { section: String, offset: u64 },
    /// The gp symbol lies below every section: described as disabled.
    BelowImage,
    /// No gp symbol: the kernel does not use gp relaxation.
    Absent,
    /// A PIE: linkers do not relax to gp in PIE links, whatever symbol
    /// their default script defines.
    Pie,
}

/// The section gp points into: the one whose start is 0x800 below the gp
/// symbol (the usual `. + 0x800`), else the last `.sdata` below it, else the
/// last writable one, else the nearest below it.
pub fn gp(facts: &Facts, sections: &[ImageSection], conv: &Conventions) -> Gp {
    let Some(gp) = conv.gp_symbol.and_then(|name| facts.symbol(name)) else {
        return Gp::Absent;
    };
    let below: Vec<&ImageSection> = sections.iter().filter(|o| o.sec.addr <= gp.value).collect();
    let pick = below
        .iter()
        .find(|o| gp.value - o.sec.addr == 0x800)
        .or_else(|| below.iter().rfind(|o| o.sec.name == ".sdata"))
        .or_else(|| below.iter().rfind(|o| o.sec.write))
        .or(below.last());
    match pick {
        Some(o) => Gp::Relax {
            section: o.sec.name.clone(),
            offset: gp.value - o.sec.addr,
        },
        None => Gp::BelowImage,
    }
}

/// `[image.relocator]`, written when the ELF has a `.rela.dyn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relocator {
    pub types: &'static str,
    /// Linux's relocate_kernel() leaves addends below the link address
    /// (vDSO offsets) unmoved.
    pub unmoved_below_link: bool,
}

pub fn relocator(facts: &Facts, defaults: ArchDefaults, conv: &Conventions) -> Option<Relocator> {
    facts.has_rela_dyn.then_some(Relocator {
        types: conv.relative_reloc,
        unmoved_below_link: defaults == ArchDefaults::Linux,
    })
}

#[cfg(test)]
mod tests {
    use super::super::RISCV64;
    use super::super::facts::Symbol;
    use super::super::fixture::*;
    use super::super::image;
    use super::*;

    const BASE: u64 = 0xffff_ffff_8000_0000;

    fn gp_at(sections: Vec<super::super::facts::Section>, gp_value: u64) -> Gp {
        let mut f = facts(sections, vec![]);
        f.symbols.push(Symbol {
            notype: false,
            ..sym("__global_pointer$", gp_value)
        });
        let s = image::sections(&f, 2 << 20).unwrap();
        gp(&f, &s, &RISCV64)
    }

    #[test]
    fn gp_is_found_0x800_into_its_section_else_in_sdata_else_writable() {
        let secs = || {
            vec![
                section(".text", BASE, 0x1000, 4, X),
                section(".data", BASE + 0x1000, 0x1000, 8, W),
                section(".sdata", BASE + 0x2000, 0x100, 8, W),
                section(".sbss", BASE + 0x2100, 0x100, 8, W | NOBITS),
                section(".rodata", BASE + 0x3000, 0x100, 8, R),
            ]
        };
        let relax = |s: &str, offset| Gp::Relax {
            section: s.into(),
            offset,
        };
        assert_eq!(gp_at(secs(), BASE + 0x1800), relax(".data", 0x800));
        assert_eq!(gp_at(secs(), BASE + 0x2400), relax(".sdata", 0x400));
        let no_sdata = |mut v: Vec<_>| {
            v.remove(2);
            v
        };
        assert_eq!(
            gp_at(no_sdata(secs()), BASE + 0x3400),
            relax(".sbss", 0x1300)
        );
        let read_only = vec![section(".text", BASE, 0x1000, 4, X)];
        assert_eq!(gp_at(read_only, BASE + 0x100), relax(".text", 0x100));
        assert_eq!(gp_at(secs(), BASE - 1), Gp::BelowImage);
        assert_eq!(gp(&kernel(), &[], &RISCV64), Gp::BelowImage);
        let mut f = kernel();
        f.symbols.retain(|s| !s.name.starts_with("__global"));
        assert_eq!(gp(&f, &[], &RISCV64), Gp::Absent);
    }

    #[test]
    fn et_dyn_is_semi_pic_unless_it_is_linux() {
        assert_eq!(code_model(Kind::Dyn, PLAIN, true), CodeModel::SemiPic);
        assert_eq!(code_model(Kind::Dyn, PLAIN, false), CodeModel::Pie);
        assert_eq!(code_model(Kind::Dyn, LINUX, true), CodeModel::Fixed);
        assert_eq!(code_model(Kind::Exec, PLAIN, true), CodeModel::Fixed);
    }

    #[test]
    fn a_rela_dyn_gets_a_relocator() {
        let mut f = kernel();
        assert_eq!(relocator(&f, PLAIN, &RISCV64), None);
        f.has_rela_dyn = true;
        let r = relocator(&f, LINUX, &RISCV64).unwrap();
        assert_eq!((r.types, r.unmoved_below_link), ("R_RISCV_RELATIVE", true));
        assert!(!relocator(&f, PLAIN, &RISCV64).unwrap().unmoved_below_link);
    }
}
