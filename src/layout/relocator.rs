//! `[image.relocator]` and `[module_loader]`: the relocation types the
//! kernel's boot code and its module loader apply, resolved against the
//! architecture's names.

use crate::diag::{Diagnostic, Label, Rule};
use crate::spec::Spec;

/// `[image.relocator]`, or for a relocatable image without one, the
/// architecture's RELATIVE type (what a kernel's boot code applies).
pub(super) fn relocator(spec: &Spec, diags: &mut Vec<Diagnostic>) -> Option<super::Relocator> {
    let im = &spec.image;
    let facts = spec.arch.get_ref().facts();
    match &im.relocator {
        Some(r) => {
            if r.get_ref().types.is_empty() {
                diags.push(
                    Diagnostic::new(
                        Rule::Structure,
                        "`image.relocator.types` is empty: a relocator that applies no type leaves every dynamic relocation unapplied",
                    )
                    .label(Label::primary("image.relocator.types", r.span(), "no types"))
                    .help(format!(
                        "list the types the boot code applies, e.g. types = [\"{}\"]",
                        facts.dynamic_relocations.first().map_or("R_RISCV_RELATIVE", |(n, _)| *n)
                    )),
                );
            }
            let mut types = Vec::new();
            let mut type_names = Vec::new();
            for name in &r.get_ref().types {
                match spec
                    .arch
                    .get_ref()
                    .facts()
                    .dynamic_relocations
                    .iter()
                    .find(|(n, _)| n == name.get_ref())
                {
                    Some((n, v)) => {
                        types.push(*v);
                        type_names.push(n.to_string());
                    }
                    None => diags.push(
                        Diagnostic::new(
                            Rule::Syntax,
                            format!("`{}` is not a dynamic relocation type", name.get_ref()),
                        )
                        .label(Label::primary(
                            "image.relocator.types",
                            name.span(),
                            "unknown type",
                        ))
                        .help(format!(
                            "use one of {}",
                            spec.arch
                                .get_ref()
                                .facts()
                                .dynamic_relocations
                                .iter()
                                .map(|(n, _)| *n)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    ),
                }
            }
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

/// `[module_loader]`: its types by number (an unknown name is an error
/// naming the key; an empty list would refuse every module, so it is one too).
pub(super) fn module_loader(
    spec: &Spec,
    diags: &mut Vec<Diagnostic>,
) -> Option<super::ModuleLoader> {
    let ml = spec.module_loader.as_ref()?;
    let facts = spec.arch.get_ref().facts();
    if ml.get_ref().types.is_empty() {
        diags.push(
            Diagnostic::new(
                Rule::Structure,
                "`module_loader.types` is empty: a loader that applies no relocation loads no module",
            )
            .label(Label::primary("module_loader.types", ml.span(), "no types"))
            .help("list the types the kernel's module loader applies (Linux riscv64: arch/riscv/kernel/module.c, reloc_handlers)"),
        );
    }
    let mut loader = super::ModuleLoader {
        types: Vec::new(),
        type_names: Vec::new(),
    };
    for name in &ml.get_ref().types {
        match facts.relocation_type(name.get_ref()) {
            Some(t) => {
                loader.types.push(t);
                loader.type_names.push(name.get_ref().clone());
            }
            None => diags.push(
                Diagnostic::new(
                    Rule::Syntax,
                    format!(
                        "`{}` is not a {} relocation type",
                        name.get_ref(),
                        facts.name
                    ),
                )
                .label(Label::primary(
                    "module_loader.types",
                    name.span(),
                    "unknown type",
                ))
                .help(format!(
                    "use the psABI's names, e.g. {}",
                    facts
                        .relocations
                        .iter()
                        .take(4)
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            ),
        }
    }
    Some(loader)
}
