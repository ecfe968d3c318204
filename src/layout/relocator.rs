//! `[image.relocator]`: the dynamic relocation types the kernel's boot
//! code applies, resolved against the architecture's names.

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
