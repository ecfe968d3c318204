//! `layoutgen init` from options: a fresh spec in Linux's arrangement (the
//! kernel in the top 2 GiB, the linear map and the regions below it). The
//! options are checked into a [`Plan`] (numbers), the plan becomes a
//! [`FreshSpec`] (TOML values), and `templates/init.toml.j2` places them.

use super::{InitError, Options, hex, size};
use crate::arch::PagingMode;
use crate::format::human_size;
use crate::units::{GIB, MIB, PAGE_SIZE};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

const TEMPLATE: (&str, &str) = ("init.toml.j2", include_str!("../../templates/init.toml.j2"));

/// The image's section alignment: it is mapped with 2 MiB pages.
const SECTION_ALIGN: u64 = 2 * MIB;

/// The options, checked, as numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Plan {
    /// Sorted, without repeats.
    pub modes: Vec<PagingMode>,
    pub ram_base: u64,
    pub min_size: u64,
    pub max_size: u64,
    pub load: u64,
    /// The linear map's leaf size.
    pub leaf: u64,
}

/// The plan for `o`, or why the options make no sound layout.
pub(super) fn plan(o: &Options) -> Result<Plan, InitError> {
    if o.modes.is_empty() {
        return Err(InitError::Options("--modes lists no paging mode".into()));
    }
    let mut modes = o.modes.clone();
    modes.sort();
    modes.dedup();
    if o.ram_size == 0 {
        return Err(InitError::Options(
            "--ram-size must be larger than zero".into(),
        ));
    }
    if let Some(m) = modes.iter().find(|&&m| o.ram_size > linear_size(m)) {
        return Err(InitError::Options(format!(
            "--ram-size {} does not fit the {m} linear map ({}); choose a larger paging mode or less RAM",
            human_size(o.ram_size as u128),
            human_size(linear_size(*m) as u128)
        )));
    }
    if !o.ram_base.is_multiple_of(PAGE_SIZE) {
        return Err(InitError::Options(format!(
            "--ram-base {:#x} is not 4 KiB-aligned: RAM starts on a page boundary",
            o.ram_base
        )));
    }
    let load = load_address(o)?;
    Ok(Plan {
        modes,
        ram_base: o.ram_base,
        min_size: (128 * MIB).min(o.ram_size),
        max_size: o.ram_size,
        load,
        // The linear map maps ram.base at its (1 GiB-aligned) start, so its
        // leaves can be no larger than the alignment of ram.base.
        leaf: [GIB, 2 * MIB, PAGE_SIZE]
            .into_iter()
            .find(|&l| o.ram_base.is_multiple_of(l))
            .unwrap_or(PAGE_SIZE),
    })
}

/// `--load-addr`, by default 2 MiB into RAM (OpenSBI's `fw_dynamic`): on a
/// 2 MiB boundary, inside RAM.
fn load_address(o: &Options) -> Result<u64, InitError> {
    if o.ram_base as u128 + o.ram_size as u128 > 1u128 << 64 {
        return Err(InitError::Options(format!(
            "--ram-base {:#x} with --ram-size {:#x} runs past the top of the address space",
            o.ram_base, o.ram_size
        )));
    }
    let load = match o.load {
        Some(load) => load,
        None => o
            .ram_base
            .checked_add(2 * MIB)
            .and_then(|a| a.checked_next_multiple_of(SECTION_ALIGN))
            .ok_or_else(|| {
                InitError::Options(format!(
                    "no 2 MiB-aligned load address fits above --ram-base {:#x}; give --load-addr",
                    o.ram_base
                ))
            })?,
    };
    if !load.is_multiple_of(SECTION_ALIGN) {
        return Err(InitError::Options(format!(
            "--load-addr {load:#x} is not a multiple of 2 MiB, the image's section alignment \
             (the image is mapped with 2 MiB pages); e.g. {:#x}",
            load.next_multiple_of(SECTION_ALIGN)
        )));
    }
    if load < o.ram_base || load - o.ram_base >= o.ram_size {
        return Err(InitError::Options(format!(
            "--load-addr {load:#x} is outside RAM [{:#x}, {:#x})",
            o.ram_base,
            o.ram_base as u128 + o.ram_size as u128
        )));
    }
    Ok(load)
}

/// The values `templates/init.toml.j2` places, each a TOML value (a value
/// that differs between modes is a per-mode table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct FreshSpec {
    pub name: String,
    /// `sv39/sv48`, for the description.
    pub mode_names: String,
    /// The items of `modes = [...]`.
    pub modes: String,
    pub ram: Ram,
    pub linear_map: LinearMap,
    pub vmalloc: RegionSize,
    pub vmemmap: RegionSize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct Ram {
    pub base: String,
    pub min_size: String,
    pub max_size: String,
    pub load: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct LinearMap {
    pub start: String,
    pub size: String,
    pub leaf: String,
}

/// A region placed below another, of its own size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct RegionSize {
    pub size: String,
}

/// The spec's values for `plan`: Linux's per-mode linear map, vmalloc
/// (half of it) and vmemmap (1/32 of it).
pub(super) fn values(name: &str, plan: &Plan) -> FreshSpec {
    let modes = &plan.modes;
    let names: Vec<&str> = modes.iter().map(|m| m.name()).collect();
    let quoted: Vec<String> = modes.iter().map(|m| format!("\"{m}\"")).collect();
    FreshSpec {
        name: name.to_string(),
        mode_names: names.join("/"),
        modes: quoted.join(", "),
        ram: Ram {
            base: hex(plan.ram_base),
            min_size: size(plan.min_size),
            max_size: size(plan.max_size),
            load: hex(plan.load),
        },
        linear_map: LinearMap {
            start: per_mode(modes, |m| hex(linear_start(m))),
            size: per_mode(modes, |m| size(linear_size(m))),
            leaf: size(plan.leaf),
        },
        vmalloc: RegionSize {
            size: per_mode(modes, |m| size(linear_size(m) / 2)),
        },
        vmemmap: RegionSize {
            size: per_mode(modes, |m| size(linear_size(m) / 32)),
        },
    }
}

/// The spec's text: the values placed in `templates/init.toml.j2`.
pub(super) fn render(spec: &FreshSpec) -> String {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
            .expect("default delimiters are valid"),
    );
    let (name, source) = TEMPLATE;
    env.add_template(name, source)
        .and_then(|()| {
            env.get_template(name)?
                .render(minijinja::value::Serde(spec))
        })
        .expect("the built-in init template renders every FreshSpec")
}

/// A value that is the same in every mode, or a per-mode table.
fn per_mode(modes: &[PagingMode], f: impl Fn(PagingMode) -> String) -> String {
    let values: Vec<String> = modes.iter().map(|&m| f(m)).collect();
    if values.iter().all(|v| *v == values[0]) {
        return values[0].clone();
    }
    let entries: Vec<String> = modes
        .iter()
        .zip(&values)
        .map(|(m, v)| format!("{m} = {v}"))
        .collect();
    format!("{{ {} }}", entries.join(", "))
}

/// Linux's per-mode linear map, vmalloc and vmemmap (vm-layout.rst).
fn linear_start(m: PagingMode) -> u64 {
    match m {
        PagingMode::Sv39 => 0xffff_ffd6_0000_0000,
        PagingMode::Sv48 => 0xffff_af80_0000_0000,
        PagingMode::Sv57 => 0xff60_0000_0000_0000,
        // Never reached: `init` generates riscv64 paged layouts only
        // (`--shape bare` starts a bare one).
        PagingMode::Bare | PagingMode::Va39 | PagingMode::Va48 => 0,
    }
}

fn linear_size(m: PagingMode) -> u64 {
    match m {
        PagingMode::Sv39 => 128 * GIB,
        PagingMode::Sv48 => 64 << 40,
        PagingMode::Sv57 => 32 << 50,
        PagingMode::Bare | PagingMode::Va39 | PagingMode::Va48 => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(f: impl FnOnce(&mut Options)) -> Options {
        let mut o = Options::default();
        f(&mut o);
        o
    }

    fn options_error(o: &Options) -> String {
        match plan(o) {
            Err(InitError::Options(e)) => e,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_default_plan_is_qemu_virt_under_opensbi() {
        let p = plan(&Options::default()).unwrap();
        assert_eq!(
            p,
            Plan {
                modes: vec![PagingMode::Sv39],
                ram_base: 0x8000_0000,
                min_size: 128 * MIB,
                max_size: 16 * GIB,
                load: 0x8020_0000,
                leaf: GIB,
            }
        );
    }

    #[test]
    fn modes_are_sorted_once_each() {
        use PagingMode::*;
        let o = options(|o| o.modes = vec![Sv57, Sv39, Sv57, Sv48]);
        assert_eq!(plan(&o).unwrap().modes, [Sv39, Sv48, Sv57]);
    }

    #[test]
    fn the_load_address_defaults_to_2mib_into_ram_and_must_be_in_it() {
        let at = |base, size, load| {
            plan(&options(|o| {
                o.ram_base = base;
                o.ram_size = size;
                o.load = load;
            }))
        };
        assert_eq!(at(0x4000_0000, GIB, None).unwrap().load, 0x4020_0000);
        // A 4 KiB-aligned base: the next 2 MiB boundary 2 MiB on.
        assert_eq!(at(0x8000_1000, GIB, None).unwrap().load, 0x8040_0000);
        assert_eq!(
            at(0x8000_0000, GIB, Some(0x8000_0000)).unwrap().load,
            0x8000_0000
        );
        let e = |r: Result<Plan, InitError>| match r {
            Err(InitError::Options(e)) => e,
            other => panic!("{other:?}"),
        };
        assert!(e(at(0x8000_0000, GIB, Some(0x8010_0000))).contains("e.g. 0x80200000"));
        assert!(
            e(at(0x8000_0000, GIB, Some(0xc000_0000)))
                .contains("outside RAM [0x80000000, 0xc0000000)")
        );
        assert!(e(at(0x8000_0000, GIB, Some(0x7fe0_0000))).contains("outside RAM"));
    }

    #[test]
    fn options_that_make_no_sound_layout_say_why() {
        let e = options_error(&options(|o| o.modes.clear()));
        assert!(e.contains("no paging mode"), "{e}");
        let e = options_error(&options(|o| o.ram_size = 0));
        assert!(e.contains("larger than zero"), "{e}");
        let e = options_error(&options(|o| o.ram_size = 256 * GIB));
        assert_eq!(
            e,
            "--ram-size 256 GiB does not fit the sv39 linear map (128 GiB); choose a larger paging mode or less RAM"
        );
        let e = options_error(&options(|o| o.ram_base = 0x8000_0800));
        assert!(e.contains("not 4 KiB-aligned"), "{e}");
    }

    #[test]
    fn the_linear_maps_leaf_is_what_ram_base_allows() {
        let leaf = |base| plan(&options(|o| o.ram_base = base)).unwrap().leaf;
        assert_eq!(leaf(0x4000_0000), GIB);
        assert_eq!(leaf(0x8020_0000), 2 * MIB);
        assert_eq!(leaf(0x8000_1000), PAGE_SIZE);
        // Less RAM than 128 MiB: min_size is all of it.
        let p = plan(&options(|o| o.ram_size = 64 * MIB)).unwrap();
        assert_eq!((p.min_size, p.max_size), (64 * MIB, 64 * MIB));
    }

    #[test]
    fn per_mode_tables_only_when_values_differ() {
        let one = per_mode(&[PagingMode::Sv39], |_| "\"1\"".into());
        assert_eq!(one, "\"1\"");
        let two = per_mode(&[PagingMode::Sv39, PagingMode::Sv48], |m| {
            format!("\"{m}\"")
        });
        assert_eq!(two, "{ sv39 = \"sv39\", sv48 = \"sv48\" }");
    }

    #[test]
    fn values_differ_per_mode_only_for_the_linear_map_and_below() {
        use PagingMode::*;
        let p = plan(&options(|o| o.modes = vec![Sv39, Sv48])).unwrap();
        let v = values("k", &p);
        assert_eq!(
            (v.mode_names.as_str(), v.modes.as_str()),
            ("sv39/sv48", "\"sv39\", \"sv48\"")
        );
        assert_eq!(v.ram.base, "\"0x8000_0000\"");
        assert_eq!(v.linear_map.size, "{ sv39 = \"128GiB\", sv48 = \"64TiB\" }");
        assert_eq!(v.vmalloc.size, "{ sv39 = \"64GiB\", sv48 = \"32TiB\" }");
        assert_eq!(v.vmemmap.size, "{ sv39 = \"4GiB\", sv48 = \"2TiB\" }");
        assert_eq!(v.linear_map.leaf, "\"1GiB\"");
    }

    #[test]
    fn the_default_spec_is_rendered_exactly() {
        let text = render(&values("my-kernel", &plan(&Options::default()).unwrap()));
        // `layoutgen init`'s spec for the default options, as it has always
        // been: a change to it shows as a snapshot diff to review.
        insta::assert_snapshot!("default_spec", text);
    }
}
