//! The JSON Schema of a layout spec, derived from the same structs the parser
//! deserializes into (`spec::Spec` and friends), so a key added to the parser
//! appears in the schema. Editors use it for completion and checking
//! (taplo / Even Better TOML: `#:schema ./docs/spec.schema.json`), and
//! `layoutgen schema` prints it. The committed copy, `docs/spec.schema.json`,
//! is compared with this output by the tests.
//!
//! Draft-07, which every TOML language server understands.

use crate::lint::{Level, Lint};
use crate::spec::{Spec, Value};
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use std::borrow::Cow;

/// One term of the value grammar (docs/spec.md): hex, decimal with an
/// optional binary unit, `top`, `kernel_half`, or a reference.
const TERM: &str = r"(0x[0-9a-fA-F](_?[0-9a-fA-F])*|(0|[1-9](_?[0-9])*)(KiB|MiB|GiB|TiB|PiB)?|top|kernel_half|[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)";

/// Terms joined by `+` and `-`, with optional spaces. The parser is the
/// authority (it also bounds numbers to 64 bits and resolves references);
/// this pattern lets an editor flag `2MB` or `2 MiB` as you type.
pub fn expression_pattern() -> String {
    format!("^ *{TERM}( *[+-] *{TERM})* *$")
}

/// One expression: a string in the grammar or a non-negative integer.
struct Expression;

impl JsonSchema for Expression {
    fn schema_name() -> Cow<'static, str> {
        "Expression".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An address or size: hex with `_` separators (\"0xffff_ffff_8000_0000\"), decimal with a binary unit (\"2MiB\"), `top` (2^64), `kernel_half`, references such as \"linear_map.start\" or \"ram.load\", joined by + and -; or a non-negative integer.",
            "oneOf": [
                {
                    "type": "string",
                    "maxLength": 256,
                    "pattern": expression_pattern(),
                },
                { "type": "integer", "minimum": 0 },
            ]
        })
    }
}

impl JsonSchema for Value {
    fn schema_name() -> Cow<'static, str> {
        "Value".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let expression = generator.subschema_for::<Expression>();
        json_schema!({
            "description": "An expression, or one per paging mode: { sv39 = \"...\", sv48 = \"...\" }.",
            "anyOf": [
                expression,
                {
                    "type": "object",
                    "properties": {
                        "sv39": expression,
                        "sv48": expression,
                        "sv57": expression,
                        "va39": expression,
                        "va48": expression,
                        "bare": expression,
                    },
                    "additionalProperties": false,
                    "minProperties": 1,
                },
            ]
        })
    }
}

/// The `[lint]` table: keys are check ids or names, each entry a level and
/// a required, non-empty reason.
pub struct LintTable;

impl JsonSchema for LintTable {
    fn schema_name() -> Cow<'static, str> {
        "LintTable".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut keys: Vec<&str> = Vec::new();
        for c in Lint::ALL {
            keys.push(c.id());
            keys.push(c.name());
        }
        let levels: Vec<&str> = Level::ALL.iter().map(|l| l.name()).collect();
        json_schema!({
            "description": "`layoutgen lint` levels per check (docs/lint.md), keyed by id (LG006) or name (segment-write-execute).",
            "type": "object",
            "propertyNames": { "enum": keys },
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "level": {
                        "description": "allow: suppress the check's findings (still counted); warn: report them as warnings; deny: as errors.",
                        "enum": levels,
                    },
                    "reason": {
                        "description": "Why the check is configured (required, shown with suppressed findings).",
                        "type": "string",
                        "minLength": 1,
                        "pattern": "\\S",
                    },
                },
                "required": ["level", "reason"],
                "additionalProperties": false,
            },
        })
    }
}

/// The schema as JSON.
pub fn schema() -> serde_json::Value {
    let mut schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<Spec>();
    schema.insert("title".into(), "layoutgen layout spec".into());
    schema.insert(
        "description".into(),
        "A kernel's virtual memory layout (layoutgen). Every key: docs/spec.md.".into(),
    );
    let mut value = schema.to_value();
    drop_null(&mut value);
    value
}

/// TOML has no null: an optional key is one that is left out. Removes the
/// `null` alternatives schemars gives `Option` fields.
fn drop_null(v: &mut serde_json::Value) {
    use serde_json::Value as J;
    match v {
        J::Object(map) => {
            if let Some(J::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            if let Some(J::Array(any)) = map.get_mut("anyOf") {
                any.retain(|s| s.get("type").is_none_or(|t| t != "null"));
                if any.len() == 1 {
                    // Draft-07 ignores the siblings of `$ref` (the
                    // description): keep the reference in an `allOf`.
                    let only = any.remove(0);
                    map.remove("anyOf");
                    map.insert("allOf".into(), J::Array(vec![only]));
                }
            }
            for child in map.values_mut() {
                drop_null(child);
            }
        }
        J::Array(items) => items.iter_mut().for_each(drop_null),
        _ => {}
    }
}

/// The schema as the text of `docs/spec.schema.json` (pretty, newline-terminated).
pub fn schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).expect("a schema serialises");
    text.push('\n');
    text
}
