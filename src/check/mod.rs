//! Invariants of a resolved layout: one function per rule, declared in
//! [`rules`] (ids, meanings, the function that checks each). Each finding
//! names the spec key it breaks and says how to fix it. Names that reach
//! generated code are validated earlier, with the spec
//! (`Rule::Identifier`, `spec::validate`).

mod code_model;
mod image;
mod machine;
mod regions;
pub mod rules;

pub use rules::Rule;

use crate::diag::{Diagnostic, Label};
use crate::layout::{Layout, Region};

/// Runs every invariant; an empty result means the layout is sound.
pub fn run(layout: &Layout) -> Vec<Diagnostic> {
    let mut f = Findings {
        layout,
        out: Vec::new(),
    };
    for rule in rules::INVARIANTS {
        rule(layout, &mut f);
    }
    // A mode-independent mistake is found once per mode; say it once.
    let mut seen = std::collections::HashSet::new();
    f.out
        .retain(|d| seen.insert((d.rule, d.message.clone(), d.key().map(str::to_owned))));
    f.out
}

pub(crate) struct Findings<'a> {
    layout: &'a Layout,
    out: Vec<Diagnostic>,
}

impl Findings<'_> {
    /// A finding about `key`, pointing at its span.
    pub(super) fn at(
        &mut self,
        rule: Rule,
        key: &str,
        note: &str,
        message: String,
        help: String,
    ) -> &mut Diagnostic {
        let span = self.layout.origins.span(key);
        self.out.push(
            Diagnostic::new(rule, message)
                .label(Label::primary(key, span, note))
                .help(help),
        );
        self.out.last_mut().expect("just pushed")
    }

    pub(super) fn also(d: &mut Diagnostic, layout: &Layout, key: &str, note: &str) {
        d.labels
            .push(Label::secondary(key, layout.origins.span(key), note));
    }
}

pub(super) use crate::format::hex;

pub(super) fn region_key(r: &Region) -> String {
    format!("region.{}.start", r.name)
}

pub(super) fn is_pow2(v: u64) -> bool {
    v.is_power_of_two()
}
