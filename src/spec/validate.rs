//! What can be checked of a spec before anything is resolved: its paging
//! modes (listed once, of its architecture), which values may differ per
//! mode, and the names that reach generated code (the linker script, Rust, C): regions,
//! sections, ids, segments, symbols, input patterns, descriptions. Each must
//! be something every output and both linkers take literally, and nothing
//! the generated script itself owns (the tables in [`super::names`]).
//! Checked before anything is resolved; errors are `identifier` (exit 2).

use super::{SectionSpec, Span, Spec};
use crate::arch::PagingMode;
use crate::diag::{Diagnostic, Label, Rule};
use std::collections::HashMap;

/// Names and text that reach the linker script, Rust or C must not be able to
/// inject anything there.
/// The spec's paging modes, sorted, each once; a mode listed twice, of
/// another architecture, `bare` among paging modes or none at all is a
/// `structure` error.
pub fn modes(spec: &Spec, diags: &mut Vec<Diagnostic>) -> Vec<PagingMode> {
    let mut modes: Vec<PagingMode> = Vec::new();
    for m in spec.modes.get_ref() {
        if modes.contains(m.get_ref()) {
            diags.push(
                Diagnostic::new(
                    Rule::Structure,
                    format!("mode `{}` is listed twice", m.get_ref()),
                )
                .label(Label::primary("modes", m.span(), "duplicate"))
                .help("list each paging mode once"),
            );
        } else {
            modes.push(*m.get_ref());
        }
    }
    let arch = *spec.arch.get_ref();
    if *spec.code_model.get_ref() == crate::spec::CodeModel::SemiPic && !arch.facts().semi_pic {
        diags.push(
            Diagnostic::new(
                Rule::Structure,
                format!("code_model \"semi-pic\" is the riscv medany scheme; {arch} has no such code model"),
            )
            .label(Label::primary("code_model", spec.code_model.span(), "riscv only"))
            .help("use code_model = \"pie\" for a relocatable image (arm64 KASLR links -pie and applies R_AARCH64_RELATIVE at boot), or \"fixed\""),
        );
    }
    for m in spec.modes.get_ref() {
        if !arch.facts().modes.contains(m.get_ref()) {
            diags.push(
                Diagnostic::new(
                    Rule::Structure,
                    format!("mode `{}` is not a paging mode of {arch}", m.get_ref()),
                )
                .label(Label::primary("modes", m.span(), "other architecture"))
                .help(format!(
                    "{arch} modes are {}",
                    arch.facts()
                        .modes
                        .iter()
                        .map(|m| m.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }
    }
    if modes.contains(&PagingMode::Bare) && modes.len() > 1 {
        diags.push(
            Diagnostic::new(Rule::Structure, "`bare` (no paging) is listed with paging modes")
                .label(Label::primary("modes", spec.modes.span(), "bare and paged"))
                .help("one image runs with paging (modes = [\"sv39\", ...]) or without it (modes = [\"bare\"]); describe the two with two specs"),
        );
    }
    if modes.is_empty() {
        diags.push(
            Diagnostic::new(Rule::Structure, "no paging mode listed")
                .label(Label::primary("modes", spec.modes.span(), "empty"))
                .help("list the modes the image must run under, e.g. modes = [\"sv39\"]"),
        );
    }
    modes.sort();
    modes
}

/// Per-mode tables only where a value may differ per mode, and only for
/// modes the spec lists (a value for another mode would be ignored).
pub fn per_mode_values(spec: &Spec, modes: &[PagingMode], diags: &mut Vec<Diagnostic>) {
    for (key, value, may) in spec.values() {
        let super::ModeExprs::PerMode(entries) = &value.exprs else {
            continue;
        };
        if !may {
            diags.push(
                Diagnostic::new(Rule::Resolve, format!("`{key}` cannot differ per paging mode"))
                    .label(Label::primary(&key, value.span.clone(), "per-mode table here"))
                    .help("write one value; only region placement, the image link address and KASLR may be per mode"),
            );
            continue;
        }
        for (mode, span, _) in entries {
            if !modes.contains(mode) {
                diags.push(
                    Diagnostic::new(
                        Rule::Resolve,
                        format!("`{key}` has a value for {mode}, which `modes` does not list"),
                    )
                    .label(Label::primary(&key, span.clone(), "never used"))
                    .help(format!(
                        "remove the {mode} entry, or add \"{mode}\" to `modes`"
                    )),
                );
            }
        }
    }
    // Without paging there are no halves.
    if modes == [PagingMode::Bare] {
        for (name, r) in &spec.region {
            if let Some(h) = &r.get_ref().half {
                let key = format!("region.{}.half", name.get_ref());
                diags.push(
                    Diagnostic::new(
                        Rule::Resolve,
                        format!("`{key}` means nothing without paging"),
                    )
                    .label(Label::primary(&key, h.span(), "ignored in a bare layout"))
                    .help("addresses are physical with modes = [\"bare\"]: remove `half`"),
                );
            }
        }
    }
    // A region limited to modes the spec does not list would vanish.
    for (name, r) in &spec.region {
        let Some(region_modes) = &r.get_ref().modes else {
            continue;
        };
        for m in region_modes.get_ref() {
            if !modes.contains(m.get_ref()) {
                let key = format!("region.{}.modes", name.get_ref());
                diags.push(
                    Diagnostic::new(
                        Rule::Resolve,
                        format!(
                            "`{key}` lists {}, which the spec's `modes` does not",
                            m.get_ref()
                        ),
                    )
                    .label(Label::primary(&key, m.span(), "not a mode of this spec"))
                    .help(format!(
                        "remove it, or add \"{}\" to the top-level `modes`",
                        m.get_ref()
                    )),
                );
            }
        }
        if region_modes.get_ref().is_empty() {
            let key = format!("region.{}.modes", name.get_ref());
            diags.push(
                Diagnostic::new(
                    Rule::Resolve,
                    format!("`{key}` is empty: the region would exist in no mode"),
                )
                .label(Label::primary(&key, region_modes.span(), "empty"))
                .help("remove `modes` to have the region in every mode, or delete the region"),
            );
        }
    }
}

pub fn names(spec: &Spec, diags: &mut Vec<Diagnostic>) {
    let mut bad = |key: String, span: crate::spec::Span, what: &str, rule: &str| {
        diags.push(
            Diagnostic::new(Rule::Identifier, format!("`{key}` {what}"))
                .label(Label::primary(key, span, "reaches generated code"))
                .help(rule.to_string()),
        );
    };
    let name = spec.name.get_ref();
    if !is_spec_name(name) {
        bad(
            "name".into(),
            spec.name.span(),
            "is not a valid layout name",
            "use lower-case letters, digits, `-` and `_`, starting with a letter or digit (at most 64)",
        );
    }
    if !is_safe_text(&spec.description) {
        bad(
            "description".into(),
            spec.name.span(),
            "contains a line break, control character or `*/`",
            "keep descriptions to one line of plain text",
        );
    }
    // Regions, then boot-chain entries (their names reach boot.dtsi's node
    // names, boot.env and boot.cmd's file names): (table, what its names are
    // called, name, description and its span, why the name is reserved).
    let regions = spec.region.iter().map(|(name, r)| {
        let reserved = super::names::reserved_region_name(name.get_ref());
        (
            "region",
            "region",
            name,
            &r.get_ref().description,
            r.span(),
            reserved,
        )
    });
    let boot = (spec.boot.iter()).map(|(name, p)| {
        (
            "boot",
            "boot-chain",
            name,
            &p.get_ref().description,
            p.span(),
            None,
        )
    });
    for (table, noun, name, description, span, reserved) in regions.chain(boot) {
        let key = format!("{table}.{}", name.get_ref());
        if !crate::spec::expr::is_identifier(name.get_ref()) {
            bad(
                key.clone(),
                name.span(),
                &format!("is not a valid {noun} name"),
                &format!(
                    "{noun} names are lower-case identifiers: [a-z_][a-z0-9_]*, at most 64 characters"
                ),
            );
        } else if let Some(why) = reserved {
            bad(
                key.clone(),
                name.span(),
                &format!("is a reserved name: {why}"),
                "rename the region (docs/spec.md, \"Names\", lists the reserved names)",
            );
        }
        if !is_safe_text(description) {
            bad(
                format!("{key}.description"),
                span,
                "contains a line break, control character, `/*` or `*/`",
                "keep descriptions to one line of plain text",
            );
        }
    }
    check_symbol_list(
        "image.entry",
        Some(std::slice::from_ref(&spec.image.entry)),
        false,
        &mut bad,
    );
    check_symbols_unique(spec, &mut bad);
    check_entry_not_redefined(spec, &mut bad);
    let symbol_lists = [
        ("image.start_symbols", &spec.image.start_symbols),
        ("image.end_symbols", &spec.image.end_symbols),
    ];
    for (key, list) in symbol_lists {
        check_symbol_list(key, list.as_deref(), false, &mut bad);
    }
    for s in &spec.image.section {
        let s = s.get_ref();
        section_name(s, &mut bad);
        linker_section(spec, s, &mut bad);
        linker_table_inputs(spec, s, &mut bad);
        section_symbols(s, &mut bad);
        section_input(s, &mut bad);
    }
}

/// `image.section.config`: Kconfig option names, on optional sections only
/// (a section some configurations lack is one lint must not miss).
pub fn section_configs(spec: &Spec, diags: &mut Vec<Diagnostic>) {
    for s in &spec.image.section {
        let s = s.get_ref();
        let key = format!("image.section.{}.config", s.id());
        let mut bad = |span: Span, message: String, label: &str, help: &str| {
            diags.push(
                Diagnostic::new(Rule::Structure, message)
                    .label(Label::primary(&key, span, label))
                    .help(help.to_string()),
            );
        };
        for opt in &s.config {
            let name = opt.get_ref();
            let valid = name.strip_prefix("CONFIG_").is_some_and(|rest| {
                !rest.is_empty()
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            });
            if !valid {
                bad(
                    opt.span(),
                    format!("`{key}` entry \"{name}\" is not a Kconfig option name"),
                    "CONFIG_ and upper-case letters, digits, _",
                    "write the option as .config spells it: config = [\"CONFIG_GENERIC_BUG\"]",
                );
            }
        }
        if let (Some(first), false) = (s.config.first(), s.optional) {
            bad(
                first.span(),
                format!(
                    "`{key}` names the options that bring section {}, but the section is not optional",
                    s.name.get_ref()
                ),
                "only some configurations have it",
                "add `optional = true`: lint must not report the section missing from a kernel built without these options",
            );
        }
    }
}

/// A section's name (a real ELF name, not reserved), id and segment.
fn section_name(s: &SectionSpec, bad: &mut impl FnMut(String, Span, &str, &str)) {
    let sname = s.name.get_ref();
    let id = s.id();
    if !is_section_name(sname) {
        bad(
            format!("image.section.{id}.name"),
            s.name.span(),
            "is not a valid ELF section name",
            "section names use letters, digits and `_ . $ -` only, at most 128 characters (e.g. \".text\", \".data..percpu\", \"__ksymtab\")",
        );
    } else if let Some(why) = super::names::reserved_section_name(sname) {
        bad(
            format!("image.section.{id}.name"),
            s.name.span(),
            &format!("`{sname}` is {why}"),
            "name the output section something else",
        );
    } else if !sname.starts_with(['.', '_']) && (!sname.contains('_') || sname.contains('.')) {
        // The pre-0.2 grammar wrote `text` for `.text`; taking it
        // literally would silently rename the output section. A C
        // identifier with an `_` inside is a real name (Linux arm64's
        // `runtime_shift_d_hash_shift`, reached by __start_/__stop_).
        bad(
            format!("image.section.{id}.name"),
            s.name.span(),
            &format!("`{sname}` has no leading `.` or `_`"),
            &format!("`name` is the output section's real ELF name: write name = \".{sname}\""),
        );
    }
    if !crate::spec::expr::is_identifier(&id) {
        let span = s.id.as_ref().map_or(s.name.span(), |i| i.span());
        bad(
            format!("image.section.{id}.id"),
            span,
            &format!("`{id}` is not a valid identifier for generated code"),
            "set `id` to a lower-case identifier: [a-z_][a-z0-9_]*, at most 64 characters",
        );
    }
    if let Some(seg) = &s.segment
        && !crate::spec::expr::is_identifier(seg.get_ref())
    {
        bad(
            format!("image.section.{id}.segment"),
            seg.span(),
            "is not a valid segment name",
            "segment names are lower-case identifiers: [a-z_][a-z0-9_]*",
        );
    }
}

/// Sections the linker synthesizes or fills after their inputs.
fn linker_section(spec: &Spec, s: &SectionSpec, bad: &mut impl FnMut(String, Span, &str, &str)) {
    let sname = s.name.get_ref();
    let id = s.id();
    // Sections the linker synthesizes: in a relocatable image the
    // generated script places them (together, as lld's RELRO rules
    // want); anywhere, they hold only their own input and no code.
    if super::names::DYNAMIC_SECTIONS.contains(&sname.as_str()) {
        if spec.code_model.get_ref().is_relocatable() {
            bad(
                format!("image.section.{id}.name"),
                s.name.span(),
                &format!("`{sname}` is placed by the generated script in a relocatable image"),
                "remove the section: the script puts the dynamic tables after the read-only and the first writable section",
            );
        }
        let own = |p: &str| {
            p.starts_with(sname.as_str()) || (sname == ".rela.dyn" && p.starts_with(".rela"))
        };
        if let Some(p) = s
            .input
            .iter()
            .flat_map(|i| i.get_ref())
            .find(|p| !own(p.get_ref()))
        {
            bad(
                format!("image.section.{id}.input"),
                p.span(),
                &format!(
                    "`{sname}` is filled by the linker: input `{}` does not belong there",
                    p.get_ref()
                ),
                "leave `input` out (the default is the section's own input)",
            );
        }
        if s.perms.get_ref().contains('x') && sname != ".plt" {
            bad(
                format!("image.section.{id}.perms"),
                s.perms.span(),
                &format!("`{sname}` holds linker tables, not code"),
                "drop `x` from its perms",
            );
        }
    }
    if super::names::LINKER_FILLED_SECTIONS.contains(&sname.as_str()) {
        for (which, list) in [
            ("start_symbols", &s.start_symbols),
            ("end_symbols", &s.end_symbols),
        ] {
            if let Some(sym) = list.iter().flatten().next() {
                bad(
                    format!("image.section.{id}.{which}"),
                    sym.span(),
                    &format!(
                        "`{sname}` is filled by the linker after its inputs: a symbol there would not mark its edge"
                    ),
                    "remove the symbols (its bounds are its section header)",
                );
            }
        }
    }
}

/// Tables the linker writes and the loader relocates: whatever output
/// section holds them is writable in the ELF, whatever the spec says.
const WRITABLE_LINKER_TABLES: [&str; 3] = [".got", ".got.plt", ".dynamic"];

/// Whether input pattern `pattern` (`*` the only wildcard, as section
/// inputs allow) matches section name `name`.
fn input_matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            let Some(tail) = name.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len()).any(|i| tail.is_char_boundary(i) && input_matches(rest, &tail[i..]))
        }
    }
}

/// A section that takes the GOT or `.dynamic` as input must be writable
/// (both linkers make it so: lint would then report the section's
/// permissions and a writable-and-executable segment); in a relocatable
/// image the generated script places every dynamic-linking table itself
/// (rust-lld refuses `.rela.dyn` in a section of program data).
fn linker_table_inputs(
    spec: &Spec,
    s: &SectionSpec,
    bad: &mut impl FnMut(String, Span, &str, &str),
) {
    let id = s.id();
    let relocatable = spec.code_model.get_ref().is_relocatable();
    let writable = s.perms.get_ref().contains('w');
    // In a relocatable image every dynamic-linking table is the script's.
    let tables: &[&str] = if relocatable {
        &super::names::DYNAMIC_SECTIONS
    } else {
        &WRITABLE_LINKER_TABLES
    };
    for p in s.input.iter().flat_map(|i| i.get_ref()) {
        let Some(table) = tables
            .iter()
            .find(|t| input_matches(p.get_ref(), t) && **t != s.name.get_ref().as_str())
        else {
            continue;
        };
        if relocatable {
            bad(
                format!("image.section.{id}.input"),
                p.span(),
                &format!(
                    "input `{}` takes the linker's `{table}`, which the generated script places itself in a relocatable image",
                    p.get_ref()
                ),
                "remove the pattern (or narrow it so it does not match the table)",
            );
        } else if !writable {
            bad(
                format!("image.section.{id}.input"),
                p.span(),
                &format!(
                    "input `{}` takes the linker's `{table}`, which is writable, into a section without `w`",
                    p.get_ref()
                ),
                "move the pattern to a writable section, or narrow it so it does not match the table",
            );
        }
        return;
    }
}

/// A section's boundary symbols and inserts.
fn section_symbols(s: &SectionSpec, bad: &mut impl FnMut(String, Span, &str, &str)) {
    let sname = s.name.get_ref();
    let id = s.id();
    // Only the spec's own .rela.dyn may carry the relocator's bounds.
    let rela_dyn = sname == ".rela.dyn";
    check_symbol_list(
        &format!("image.section.{id}.start_symbols"),
        s.start_symbols.as_deref(),
        rela_dyn,
        bad,
    );
    check_symbol_list(
        &format!("image.section.{id}.end_symbols"),
        s.end_symbols.as_deref(),
        rela_dyn,
        bad,
    );
    for (n, ins) in s.insert.iter().enumerate() {
        let ins = ins.get_ref();
        let key = format!("image.section.{id}.insert.{n}");
        check_symbol_list(
            &format!("{key}.symbol"),
            Some(std::slice::from_ref(&ins.symbol)),
            false,
            bad,
        );
        if ins.input.is_empty() {
            bad(
                format!("{key}.input"),
                ins.symbol.span(),
                "is empty: the insert would place nothing",
                "list the input sections to place, e.g. input = [\"trampsec\"]",
            );
        }
        for pat in &ins.input {
            if !is_input_pattern(pat.get_ref()) {
                bad(
                    format!("{key}.input"),
                    pat.span(),
                    &format!(
                        "pattern `{}` has characters a linker script would misread",
                        pat.get_ref()
                    ),
                    "input patterns may use letters, digits, `_`, `.`, `$`, `-` and `*` only",
                );
            }
        }
    }
}

/// A section's input patterns.
fn section_input(s: &SectionSpec, bad: &mut impl FnMut(String, Span, &str, &str)) {
    let sname = s.name.get_ref();
    let id = s.id();
    let Some(input) = &s.input else { return };
    if input.get_ref().is_empty() {
        bad(
            format!("image.section.{id}.input"),
            input.span(),
            "is empty: the section would collect no input",
            &format!(
                "list the input sections, or leave `input` out for the default [\"{sname}\", \"{sname}.*\"]"
            ),
        );
    }
    for pat in input.get_ref() {
        if super::names::reserved_section_name(pat.get_ref()).is_some() {
            bad(
                format!("image.section.{id}.input"),
                pat.span(),
                &format!(
                    "pattern `{}` names a section the linker writes itself or the generated script discards",
                    pat.get_ref()
                ),
                "leave symbol tables, notes, .eh_frame and debug info to the linker",
            );
        } else if !is_input_pattern(pat.get_ref()) {
            bad(
                format!("image.section.{id}.input"),
                pat.span(),
                &format!(
                    "pattern `{}` has characters a linker script would misread",
                    pat.get_ref()
                ),
                "input patterns may use letters, digits, `_`, `.`, `$`, `-` and `*` only",
            );
        }
    }
}

fn check_symbol_list(
    key: &str,
    list: Option<&[toml::Spanned<String>]>,
    rela_dyn_ok: bool,
    bad: &mut impl FnMut(String, crate::spec::Span, &str, &str),
) {
    for sym in list.unwrap_or_default() {
        let name = sym.get_ref();
        if !is_symbol(name) {
            bad(
                key.to_string(),
                sym.span(),
                &format!("`{name}` is not a valid symbol name"),
                "use a C identifier: [A-Za-z_][A-Za-z0-9_]*",
            );
        } else if super::names::is_script_keyword(name) {
            bad(
                key.to_string(),
                sym.span(),
                &format!("`{name}` is a linker-script keyword"),
                "the script would read it as the command; choose another name",
            );
        } else if name.starts_with(super::names::PRIVATE_PREFIX)
            || (super::names::SCRIPT_SYMBOLS.contains(&name.as_str())
                && !(rela_dyn_ok && name.starts_with("__rela_dyn")))
        {
            bad(
                key.to_string(),
                sym.span(),
                &format!("`{name}` is a symbol the generated linker script defines itself"),
                "choose another name (docs/spec.md, \"Names\")",
            );
        }
    }
}

/// The entry symbol may be a boundary symbol only where the entry is: the
/// image's start, or the start of an executable section (Linux's `_start`).
fn check_entry_not_redefined(
    spec: &Spec,
    bad: &mut impl FnMut(String, crate::spec::Span, &str, &str),
) {
    let entry = spec.image.entry.get_ref();
    for s in &spec.image.section {
        let sec = s.get_ref();
        let executable = sec.perms.get_ref().contains('x');
        let lists = [
            ("start_symbols", &sec.start_symbols, executable),
            ("end_symbols", &sec.end_symbols, false),
        ];
        for (which, list, allowed) in lists {
            for sym in list.iter().flatten() {
                if sym.get_ref() == entry && !allowed {
                    bad(
                        format!("image.section.{}.{which}", sec.id()),
                        sym.span(),
                        &format!("defines the entry symbol `{entry}` where no code can start"),
                        "the script's definition would move the entry: define the entry symbol at the image start or at the start of an executable section, or set image.entry",
                    );
                }
            }
        }
    }
}

/// Every symbol the generated script would define from the spec, once:
/// a second definition breaks the link (lld) or silently moves the first
/// (GNU ld).
fn check_symbols_unique(spec: &Spec, bad: &mut impl FnMut(String, crate::spec::Span, &str, &str)) {
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut define =
        |name: String,
         key: String,
         span: crate::spec::Span,
         bad: &mut dyn FnMut(String, crate::spec::Span, &str, &str)| {
            if let Some(first) = seen.get(&name) {
                bad(
                    key,
                    span,
                    &format!("defines the symbol `{name}` again (first at `{first}`)"),
                    "each boundary symbol names one place: remove one, or rename it",
                );
            } else {
                seen.insert(name, key);
            }
        };
    let im = &spec.image;
    let list = |l: &Option<Vec<toml::Spanned<String>>>,
                default: &str|
     -> Vec<(String, crate::spec::Span)> {
        match l {
            Some(l) => l.iter().map(|s| (s.get_ref().clone(), s.span())).collect(),
            None => vec![(default.to_string(), 0..0)],
        }
    };
    for (name, span) in list(&im.start_symbols, "__image_start") {
        define(name, "image.start_symbols".into(), span, bad);
    }
    for (name, span) in list(&im.end_symbols, "__image_end") {
        define(name, "image.end_symbols".into(), span, bad);
    }
    let mut ids: HashMap<String, String> = HashMap::new();
    for s in &im.section {
        let sec = s.get_ref();
        let id = sec.id();
        // Two sections with one id would also define the same default
        // symbols: say so once, about the ids.
        if let Some(first) = ids.get(&id) {
            bad(
                format!("image.section.{id}.id"),
                sec.id.as_ref().map_or(sec.name.span(), |i| i.span()),
                &format!("is the id of `{first}` too: ids name boundary symbols and spec keys"),
                "set a distinct `id` on one of them",
            );
            continue;
        }
        ids.insert(id.clone(), sec.name.get_ref().clone());
        let at = |span: crate::spec::Span| {
            if span.is_empty() {
                sec.name.span()
            } else {
                span
            }
        };
        let rela = sec.name.get_ref() == ".rela.dyn";
        for (which, l, default) in [
            ("start_symbols", &sec.start_symbols, format!("__{id}_start")),
            ("end_symbols", &sec.end_symbols, format!("__{id}_end")),
        ] {
            for (name, span) in list(l, &default) {
                // A default `__ID_start` may land on the relocator's bounds
                // (explicit names are checked with the others).
                if name.starts_with("__rela_dyn") && !rela && l.is_none() {
                    bad(
                        format!("image.section.{id}.{which}"),
                        at(span),
                        &format!("`{name}` is a symbol the generated linker script defines itself"),
                        "only a section named `.rela.dyn` may define __rela_dyn_start/_end; rename the section's id or its symbols",
                    );
                    continue;
                }
                define(name, format!("image.section.{id}.{which}"), at(span), bad);
            }
        }
        for (n, ins) in sec.insert.iter().enumerate() {
            define(
                ins.get_ref().symbol.get_ref().clone(),
                format!("image.section.{id}.insert.{n}.symbol"),
                ins.get_ref().symbol.span(),
                bad,
            );
        }
    }
}

/// ELF output-section names a linker script can write unquoted.
fn is_section_name(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_alphanumeric())
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$' | '-'))
}

fn is_spec_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn is_symbol(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_input_pattern(s: &str) -> bool {
    !super::names::is_script_keyword(s)
        && !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$' | '*' | '-'))
}

/// One-line text that can sit inside a C/linker-script comment: no
/// comment opener or closer (`-Werror=comment` rejects a nested `/*`).
pub(crate) fn is_safe_text(s: &str) -> bool {
    s.len() <= 200
        && !s.contains("*/")
        && !s.contains("/*")
        && !s.chars().any(crate::format::is_unprintable)
}
