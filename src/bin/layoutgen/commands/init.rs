//! `layoutgen init`: a checked starting spec (never written over an
//! existing file without --force), and the lines that use it.

use super::usage;
use crate::cli::{ArchDefaultsArg, ShapeArg};
use crate::out::{esay, say, sayln};
use layoutgen::Error;
use layoutgen::arch::PagingMode;
use layoutgen::emit::write::{NewFile, write_new};
use layoutgen::init::{self, InitError, Options};
use std::path::Path;

pub struct Args<'a> {
    pub path: &'a Path,
    pub from_elf: Option<(&'a Path, ArchDefaultsArg)>,
    /// `--shape`: with --from-elf it steers the description; without it,
    /// `from` holds its bundled layout.
    pub shape: Option<ShapeArg>,
    pub from: Option<&'a str>,
    pub name: Option<String>,
    pub modes: &'a [PagingMode],
    pub ram_base: Option<&'a str>,
    pub ram_size: Option<&'a str>,
    pub load: Option<&'a str>,
    pub force: bool,
}

/// A number option: an address or size, or a message naming the flag.
fn number(flag: &str, text: &str) -> Result<u64, String> {
    layoutgen::spec::expr::parse_size(text).map_err(|e| format!("{flag} {e}"))
}

/// What the options say beside `--from-elf`.
fn steering(a: &Args) -> Result<init::from_elf::Steering, String> {
    use init::from_elf::ShapeChoice;
    Ok(init::from_elf::Steering {
        shape: a.shape.map(|s| match s {
            ShapeArg::Bare => ShapeChoice::Bare,
            ShapeArg::Identity => ShapeChoice::Identity,
            ShapeArg::Linux => ShapeChoice::Linux,
        }),
        modes: a.modes.to_vec(),
        ram_base: a.ram_base.map(|t| number("--ram-base", t)).transpose()?,
        load: a.load.map(|t| number("--load-addr", t)).transpose()?,
    })
}

pub fn run(a: Args) -> Result<u8, Error> {
    // A bundled layout keeps its own name unless --name gives one; the
    // generated ones are named after the file.
    let named = || a.name.clone().or_else(|| init::name_from_path(a.path));
    let text = match (a.from_elf, a.from) {
        (Some((elf, defaults)), _) => {
            let defaults = match defaults {
                ArchDefaultsArg::Linux => init::from_elf::ArchDefaults::Linux,
                ArchDefaultsArg::Plain => init::from_elf::ArchDefaults::Plain,
            };
            let steer = match steering(&a) {
                Ok(steer) => steer,
                Err(message) => return usage(&message),
            };
            let name = named().unwrap_or_else(|| Options::default().name);
            init::from_elf::generate_steered(elf, &name, defaults, &steer)
        }
        (None, Some(_)) if a.shape.is_some() => {
            // Without --from-elf a shape is a bundled layout: nothing to steer.
            let given = [
                (!a.modes.is_empty(), "--modes"),
                (a.ram_base.is_some(), "--ram-base"),
                (a.ram_size.is_some(), "--ram-size"),
                (a.load.is_some(), "--load-addr"),
            ];
            if let Some((_, flag)) = given.iter().find(|(on, _)| *on) {
                return usage(&format!(
                    "the argument '--shape' cannot be used with '{flag}' (only with --from-elf, which it then steers)"
                ));
            }
            init::bundled(a.from.unwrap_or_default(), a.name.as_deref())
        }
        (None, Some(from)) => init::bundled(from, a.name.as_deref()),
        (None, None) => {
            let modes = if a.modes.is_empty() {
                &[PagingMode::Sv39][..]
            } else {
                a.modes
            };
            if modes.contains(&PagingMode::Bare) {
                return usage("--modes bare: start a layout without paging with `--shape bare`");
            }
            let riscv = layoutgen::arch::Arch::Riscv64.facts();
            if let Some(m) = modes.iter().find(|m| !riscv.modes.contains(m)) {
                return usage(&format!(
                    "--modes {m}: a generated spec is riscv64 (sv39, sv48, sv57); start an aarch64 layout with `--arch aarch64`"
                ));
            }
            let options = (|| {
                Ok::<_, String>(Options {
                    name: named().unwrap_or_else(|| Options::default().name),
                    modes: modes.to_vec(),
                    ram_base: number("--ram-base", a.ram_base.unwrap_or("0x8000_0000"))?,
                    ram_size: number("--ram-size", a.ram_size.unwrap_or("16GiB"))?,
                    load: a.load.map(|l| number("--load-addr", l)).transpose()?,
                })
            })();
            match options {
                Ok(options) => init::generate(&options),
                Err(message) => return usage(&message),
            }
        }
    };
    let text = match text {
        Ok(text) => text,
        Err(InitError::Check(report)) => {
            esay!("{}", report.render_for_stderr());
            return usage(
                "these options give a layout that fails its checks (above); nothing was written",
            );
        }
        Err(e) => return usage(&e.to_string()),
    };
    match write_new(a.path, text.as_bytes(), a.force) {
        Ok(NewFile::Written) => {}
        Ok(NewFile::Exists) => {
            return usage(&format!(
                "{} exists; pass --force to overwrite it",
                a.path.display()
            ));
        }
        Err(source) => {
            return Err(Error::Write {
                path: a.path.to_path_buf(),
                source,
            });
        }
    }
    sayln!(
        "wrote {}: it passes `layoutgen check {}`; edit it, then use it from the kernel:\n",
        a.path.display(),
        a.path.display()
    );
    if let Ok(layout) = layoutgen::load(
        layoutgen::Source::Text {
            text: &text,
            name: &a.path.display().to_string(),
        },
        &layoutgen::LoadOptions::default(),
    ) {
        sayln!("# {}\n", init::section_align_note(&layout));
    }
    say!("{}", init::build_rs_snippet(&a.path.display().to_string()));
    Ok(0)
}
