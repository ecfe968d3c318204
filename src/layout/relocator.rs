//! `[image.relocator]` and `[module_loader]`: the relocation types the
//! kernel's boot code and its module loader apply, resolved against the
//! architecture's names.

use crate::diag::{Diagnostic, Label, Rule};
use crate::spec::Spec;
use toml::Spanned;

/// A list of relocation type names at `key`, resolved against `known`:
/// (numbers, names). An empty list is an error (`empty` says why), and so
/// is every unknown name, named with the known ones.
fn resolve_types(
    key: &str,
    list: &Spanned<Vec<Spanned<String>>>,
    known: &[(&str, u32)],
    kind: &str,
    empty: &str,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<u32>, Vec<String>) {
    if list.get_ref().is_empty() {
        diags.push(
            Diagnostic::new(Rule::Structure, format!("`{key}` is empty: {empty}"))
                .label(Label::primary(key, list.span(), "no types"))
                .help(format!("list the types, e.g. types = [\"{}\"]", known[0].0)),
        );
    }
    let mut types = Vec::new();
    let mut names = Vec::new();
    for name in list.get_ref() {
        match known.iter().find(|(n, _)| n == name.get_ref()) {
            Some((n, v)) => {
                types.push(*v);
                names.push(n.to_string());
            }
            None => diags.push(
                Diagnostic::new(
                    Rule::Syntax,
                    format!("`{}` is not a {kind} relocation type", name.get_ref()),
                )
                .label(Label::primary(key, name.span(), "unknown type"))
                .help(format!(
                    "use one of {}",
                    known.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                )),
            ),
        }
    }
    (types, names)
}

/// `[image.relocator]`, or for a relocatable image without one, the
/// architecture's RELATIVE type (what a kernel's boot code applies).
pub(super) fn relocator(spec: &Spec, diags: &mut Vec<Diagnostic>) -> Option<super::Relocator> {
    let facts = spec.arch.get_ref().facts();
    match &spec.image.relocator {
        Some(r) => {
            let list = Spanned::new(r.span(), r.get_ref().types.clone());
            let (types, type_names) = resolve_types(
                "image.relocator.types",
                &list,
                facts.dynamic_relocations,
                "dynamic",
                "a relocator that applies no type leaves every dynamic relocation unapplied",
                diags,
            );
            Some(super::Relocator {
                types,
                type_names,
                unmoved_below_link: r.get_ref().unmoved_below_link,
            })
        }
        // A relocatable image's boot code applies R_RISCV_RELATIVE.
        None if spec.code_model.get_ref().is_relocatable() => Some(super::Relocator {
            types: vec![facts.relative_relocation],
            type_names: facts
                .dynamic_relocations
                .iter()
                .filter(|(_, v)| *v == facts.relative_relocation)
                .map(|(n, _)| n.to_string())
                .collect(),
            unmoved_below_link: false,
        }),
        None => None,
    }
}

/// `[module_loader]`: its types by number.
pub(super) fn module_loader(
    spec: &Spec,
    diags: &mut Vec<Diagnostic>,
) -> Option<super::ModuleLoader> {
    let ml = spec.module_loader.as_ref()?;
    let facts = spec.arch.get_ref().facts();
    let list = Spanned::new(ml.span(), ml.get_ref().types.clone());
    let (types, type_names) = resolve_types(
        "module_loader.types",
        &list,
        facts.relocations,
        facts.name,
        "a loader that applies no relocation loads no module",
        diags,
    );
    Some(super::ModuleLoader { types, type_names })
}
