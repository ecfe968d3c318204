//! The JSON Schema (`docs/spec.schema.json`, `layoutgen schema`) and the
//! parser agree: the committed file is what the code derives, every bundled
//! and `init`-generated spec validates, and specs with unknown keys, wrong
//! types or bad values are rejected by both. `UPDATE_DOCS=1 cargo test --test
//! integration schema::` rewrites the committed schema.

use crate::support::cli::layoutgen;
use crate::support::{committed_file_is_current, root, specs};

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&layoutgen::schema::schema()).expect("the schema is a valid schema")
}

/// The spec text as the JSON a TOML language server validates.
fn as_json(toml_text: &str) -> serde_json::Value {
    toml::from_str(toml_text).expect("TOML")
}

fn schema_errors(text: &str) -> Vec<String> {
    validator()
        .iter_errors(&as_json(text))
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn parser_accepts(text: &str) -> bool {
    layoutgen::spec::parse(text).is_ok()
}

#[test]
fn committed_schema_is_current() {
    let out = layoutgen(&["schema"]);
    assert_eq!(out.status.code(), Some(0));
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(printed, layoutgen::schema::schema_text());
    assert!(
        committed_file_is_current(&root().join("docs/spec.schema.json"), &printed),
        "docs/spec.schema.json is stale: the spec structs changed. \
         Run UPDATE_DOCS=1 cargo test --test integration schema:: and commit it"
    );
}

#[test]
fn every_bundled_layout_validates() {
    let mut n = 0;
    for path in specs::bundled() {
        let text = std::fs::read_to_string(&path).unwrap();
        let errors = schema_errors(&text);
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        n += 1;
    }
    assert!(n >= 5);
}

#[test]
fn init_specs_validate() {
    use layoutgen::arch::PagingMode::*;
    use layoutgen::init::{Options, generate};
    for modes in [vec![Sv39], vec![Sv48], vec![Sv39, Sv48, Sv57]] {
        let text = generate(&Options {
            modes,
            ..Options::default()
        })
        .unwrap();
        assert_eq!(schema_errors(&text), Vec::<String>::new(), "{text}");
    }
}

/// Small changes to the default layout that the parser rejects: the schema
/// must reject each of them too.
#[test]
fn unknown_keys_and_wrong_types_are_rejected_by_both() {
    let sv39 = specs::text("qemu-virt-sv39");
    let cases: &[(&str, &str, &str)] = &[
        (
            "unknown top-level key",
            "code_model = \"fixed\"",
            "code_model = \"fixed\"\ncodemodel = \"fixed\"",
        ),
        (
            "unknown [ram] key",
            "load = \"0x8020_0000\"",
            "load = \"0x8020_0000\"\nloaded = \"0x8020_0000\"",
        ),
        (
            "unknown [image] key",
            "entry = \"_start\"",
            "entry = \"_start\"\nentry_point = \"_start\"",
        ),
        (
            "unknown section key",
            "name = \".text\"\nperms = \"rx\"",
            "name = \".text\"\nperms = \"rx\"\nflags = \"ax\"",
        ),
        (
            "unknown [gp] key",
            "offset = \"0x800\"",
            "offset = \"0x800\"\nregister = \"gp\"",
        ),
        (
            "unknown region key",
            "description = \"fixmap\"",
            "description = \"fixmap\"\nalignment = \"4KiB\"",
        ),
        (
            "unknown mode in a per-mode table",
            "size = \"128GiB\"",
            "size = { sv39 = \"128GiB\", sv40 = \"1GiB\" }",
        ),
        ("empty per-mode table", "size = \"128GiB\"", "size = {}"),
        (
            "modes is not an array",
            "modes = [\"sv39\"]",
            "modes = \"sv39\"",
        ),
        (
            "unknown paging mode",
            "modes = [\"sv39\"]",
            "modes = [\"sv32\"]",
        ),
        (
            "unknown code model",
            "code_model = \"fixed\"",
            "code_model = \"pic\"",
        ),
        ("unknown arch", "arch = \"riscv64\"", "arch = \"riscv32\""),
        (
            "unknown gp policy",
            "policy = \"relax\"",
            "policy = \"off\"",
        ),
        (
            "unknown region kind",
            "description = \"fixmap\"",
            "description = \"fixmap\"\nkind = \"mmio\"",
        ),
        ("name is a number", "name = \"qemu-virt-sv39\"", "name = 39"),
        // (A float with no fractional part, `2147483648.0`, is an integer to
        // JSON Schema; only the parser can reject it.)
        ("address is a float", "base = \"0x8000_0000\"", "base = 0.5"),
        (
            "address is a boolean",
            "base = \"0x8000_0000\"",
            "base = true",
        ),
        ("negative integer", "base = \"0x8000_0000\"", "base = -1"),
        ("decimal unit", "size = \"128GiB\"", "size = \"128GB\""),
        (
            "unit after a space",
            "size = \"128GiB\"",
            "size = \"128 GiB\"",
        ),
        (
            "leading sign",
            "start = \"top - 2GiB\"",
            "start = \"-2GiB\"",
        ),
        (
            "dangling operator",
            "start = \"top - 2GiB\"",
            "start = \"top - \"",
        ),
        (
            "perms is an array",
            "perms = \"rx\"",
            "perms = [\"r\", \"x\"]",
        ),
        (
            "nobits is a string",
            "name = \".bss\"\nperms = \"rw\"",
            "name = \".bss\"\nperms = \"rw\"\nnobits = \"yes\"",
        ),
        (
            "input is a string",
            "input = [\".text.entry\", \".text\", \".text.*\"]",
            "input = \".text\"",
        ),
        ("region is an array", "[region.fixmap]", "[[region.fixmap]]"),
        (
            "description is a number",
            "description = \"fixmap\"",
            "description = 7",
        ),
    ];
    for (what, from, to) in cases {
        assert!(sv39.contains(from), "{what}: {from:?} not in the spec");
        let text = sv39.replacen(from, to, 1);
        assert!(!parser_accepts(&text), "{what}: the parser accepts it");
        assert!(
            !schema_errors(&text).is_empty(),
            "{what}: the schema accepts what the parser rejects"
        );
    }
    // A missing required key.
    let without_ram = sv39.replace("[ram]\n", "[ramx]\n");
    assert!(!parser_accepts(&without_ram));
    assert!(!schema_errors(&without_ram).is_empty());
}

/// What the parser accepts, the schema accepts.
#[test]
fn valid_variations_are_accepted_by_both() {
    let sv39 = specs::text("qemu-virt-sv39");
    let cases: &[(&str, &str)] = &[
        ("base = \"0x8000_0000\"", "base = 2147483648"),
        ("size = \"128GiB\"", "size = { sv39 = \"128GiB\" }"),
        ("size = \"128GiB\"", "size = \"0x20_0000_0000\""),
        ("start = \"top - 2GiB\"", "start = \"top-2GiB\""),
        (
            "start = \"top - 2GiB\"",
            "start = \"kernel_half + 256GiB - 2GiB\"",
        ),
        (
            "[gp]\npolicy = \"relax\"\nsection = \".data\"\noffset = \"0x800\"\n",
            "",
        ),
        (
            "description = \"fixmap\"",
            "description = \"fixmap\"\nkind = \"fixmap\"\nmodes = [\"sv39\"]",
        ),
        (
            "name = \".bss\"\nperms = \"rw\"",
            "name = \".bss\"\nperms = \"rw\"\nnobits = true\nmax_size = \"1MiB\"",
        ),
    ];
    for (from, to) in cases {
        assert!(sv39.contains(from), "{from:?} not in the spec");
        let text = sv39.replacen(from, to, 1);
        assert!(parser_accepts(&text), "{to}: the parser rejects it");
        let errors = schema_errors(&text);
        assert!(errors.is_empty(), "{to}: {errors:#?}");
    }
}

/// The expression pattern editors check as you type agrees with the parser.
#[test]
fn expression_pattern_agrees_with_the_parser() {
    let pattern = jsonschema::validator_for(&serde_json::json!({
        "type": "string",
        "pattern": layoutgen::schema::expression_pattern(),
    }))
    .unwrap();
    for text in [
        "0x8000_0000",
        "0xffff_ffff_8000_0000",
        "0xABCD",
        "2MiB",
        "4096",
        "0",
        "1_000",
        "top",
        "top - 2GiB",
        "top-2GiB",
        "kernel_half",
        "linear_map.start",
        "image.end - 2GiB",
        "kernel.start + ram.load - ram.base",
        "  top - 2GiB  ",
        "vm_2.end+4KiB",
    ] {
        let expr = layoutgen::spec::expr::Expr::parse(text);
        assert!(expr.is_ok(), "{text}: {expr:?}");
        assert!(
            pattern.is_valid(&serde_json::json!(text)),
            "pattern rejects {text:?}"
        );
    }
    for text in [
        "",
        "2MB",
        "2M",
        "2gb",
        "2 MiB",
        "-2GiB",
        "010",
        "0X10",
        "0x_10",
        "1__0",
        "top -",
        "+ top",
        "top + + 1",
        "Linear.start",
        "start",
        "2MiB2",
    ] {
        assert!(
            layoutgen::spec::expr::Expr::parse(text).is_err(),
            "the parser accepts {text:?}"
        );
        assert!(
            !pattern.is_valid(&serde_json::json!(text)),
            "pattern accepts {text:?}"
        );
    }
}

/// Every key the schema knows is documented in docs/spec.md.
#[test]
fn every_schema_key_is_documented() {
    let doc = std::fs::read_to_string(root().join("docs/spec.md")).unwrap();
    let schema = layoutgen::schema::schema();
    let mut keys: Vec<String> = Vec::new();
    let mut collect = |props: &serde_json::Value| {
        if let Some(map) = props.as_object() {
            keys.extend(map.keys().cloned());
        }
    };
    collect(&schema["properties"]);
    for def in schema["definitions"].as_object().unwrap().values() {
        collect(&def["properties"]);
    }
    keys.sort();
    keys.dedup();
    for key in ["sv39", "sv48", "sv57"] {
        keys.retain(|k| k != key);
    }
    for key in keys {
        // A key in a table row (`key`) or a table heading ([key], [x.key]).
        assert!(
            doc.contains(&format!("`{key}`"))
                || doc.contains(&format!("`[{key}"))
                || doc.contains(&format!(".{key}]`")),
            "docs/spec.md does not document `{key}`"
        );
    }
}
