//! Every JSON document layoutgen writes reads back exactly in a reader that
//! holds numbers as doubles (jq 1.6, JavaScript): addresses, sizes,
//! alignments and offsets are hex strings, and only counts are numbers.
//!
//! The reading is done by Python's `json.loads(text, parse_int=float)`, a
//! double-based parser, compared with its exact parse. Besides that, a
//! number is accepted only under a key that names a count, so a field
//! reverted to a number fails here even when its value is small.

use crate::support::cli::{ok_stdout, stdout};
use crate::support::{assert_success, specs, stdout_lines};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn bundled_layouts() -> Vec<PathBuf> {
    let bundled = specs::bundled();
    assert!(
        bundled.len() >= 5,
        "expected the bundled layouts: {bundled:?}"
    );
    bundled
}

/// Reads a JSON document from stdin twice, exactly and with doubles, and
/// prints one line per problem: a number that does not survive the double
/// reading, or a number under a key that is not a count. Diff changes are
/// judged by the last part of their `key` (`region.kernel.start` → `start`).
const CHECKER: &str = r#"
import json, sys

COUNTS = {"format_version", "va_bits", "levels", "mode_register", "slots", "pt_pages"}
text = sys.stdin.read()
exact = json.loads(text)
lossy = json.loads(text, parse_int=float)
problems = []

def number(e, l, path, key):
    if int(l) != e:
        problems.append(f"{path}: {e} reads as {int(l)} in a double-based parser")
    if abs(e) > 2**53:
        problems.append(f"{path}: {e} is above 2^53")
    if key not in COUNTS:
        problems.append(f"{path}: `{key}` is not a count but holds the number {e}; write it as a hex string")

def walk(e, l, path, key):
    if isinstance(e, bool) or e is None or isinstance(e, str):
        return
    if isinstance(e, (int, float)):
        number(e, l, path, key)
    elif isinstance(e, dict):
        change_key = e.get("key") if isinstance(e.get("key"), str) and "old" in e else None
        for k in e:
            name = change_key.rsplit(".", 1)[-1] if change_key and k in ("old", "new") else k
            walk(e[k], l[k], f"{path}.{k}", name)
    elif isinstance(e, list):
        for i, (x, y) in enumerate(zip(e, l)):
            # Page-table leaves: [leaf size, count] pairs.
            if key == "leaves" and isinstance(x, list) and len(x) == 2:
                walk(x[0], y[0], f"{path}[{i}][0]", "leaf size")
                walk(x[1], y[1], f"{path}[{i}][1]", "pt_pages")
            else:
                walk(x, y, f"{path}[{i}]", key)

walk(exact, lossy, "$", "")

def back(v):
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, dict):
        return {k: back(x) for k, x in v.items()}
    if isinstance(v, list):
        return [back(x) for x in v]
    return v

if json.dumps(back(lossy), sort_keys=True) != json.dumps(exact, sort_keys=True):
    problems.append("$: the double-based reading re-serialises differently from the exact one")
for p in problems:
    print(p)
"#;

/// The checker's complaints about `json` (empty: lossless).
fn problems(json: &str) -> Vec<String> {
    let mut child = Command::new("python3")
        .args(["-c", CHECKER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (it is installed on developer machines and in CI)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_success(&o, "the checker failed");
    stdout_lines(&o)
}

fn assert_lossless(what: &str, json: &str) {
    let found = problems(json);
    assert!(
        found.is_empty(),
        "{what} is not lossless:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_checker_catches_numbers_that_are_not_counts() {
    assert_eq!(
        problems(r#"{"format_version": 1, "levels": 3, "start": "0x1000"}"#),
        Vec::<String>::new()
    );
    // 0xffffffff7fffffff: 64 significant bits, more than a double holds.
    let found = problems(r#"{"a": [{"start": 4096}], "levels": 18446744071562067967}"#);
    assert_eq!(
        found,
        [
            "$.a[0].start: `start` is not a count but holds the number 4096; write it as a hex string",
            "$.levels: 18446744071562067967 reads as 18446744071562067968 in a double-based parser",
            "$.levels: 18446744071562067967 is above 2^53",
            "$: the double-based reading re-serialises differently from the exact one",
        ]
    );
    // A diff change is judged by its key; a leaf size by its place in the pair.
    let found = problems(
        r#"{"changes": [{"key": "kaslr.slots", "old": 1, "new": 2},
                       {"key": "region.kernel.size", "old": 1, "new": "0x2"}],
            "leaves": [[4096, 1]]}"#,
    );
    assert_eq!(
        found,
        [
            "$.changes[1].old: `size` is not a count but holds the number 1; write it as a hex string",
            "$.leaves[0][0]: `leaf size` is not a count but holds the number 4096; write it as a hex string",
        ]
    );
}

#[test]
fn layout_json_of_every_bundled_layout_is_lossless() {
    let out = tempfile::tempdir().unwrap();
    for spec in bundled_layouts() {
        let dir = out.path().join(spec.file_stem().unwrap());
        let (spec_arg, dir_arg) = (spec.to_str().unwrap(), dir.to_str().unwrap());
        ok_stdout(&[
            "build",
            "--spec",
            spec_arg,
            "--out-dir",
            dir_arg,
            "--emit",
            "json",
        ]);
        let json = std::fs::read_to_string(dir.join("layout.json")).unwrap();
        assert_lossless(&format!("layout.json of {}", spec.display()), &json);
    }
}

#[test]
fn show_json_of_every_bundled_layout_is_lossless() {
    for spec in bundled_layouts() {
        let spec = spec.to_str().unwrap();
        let plain = stdout(&["show", "--spec", spec, "--format", "json"], &[0]);
        assert_lossless(&format!("show --format json --spec {spec}"), &plain);
        let with_ram = stdout(
            &[
                "show",
                "--spec",
                spec,
                "--format",
                "json",
                "--ram",
                "3GiB",
                "--device-pages",
                "1",
            ],
            &[0],
        );
        assert!(with_ram.contains("\"pt_pages\""), "{with_ram}");
        assert_lossless(
            &format!("show --format json --ram --spec {spec}"),
            &with_ram,
        );
    }
}

#[test]
fn diff_json_between_bundled_layouts_is_lossless() {
    let specs = bundled_layouts();
    for old in &specs {
        for new in &specs {
            let (old, new) = (old.to_str().unwrap(), new.to_str().unwrap());
            let json = stdout(&["diff", old, new, "--format", "json"], &[0, 1]);
            assert_lossless(&format!("diff --format json {old} {new}"), &json);
        }
    }
}

#[test]
fn check_json_is_lossless() {
    let specs = bundled_layouts();
    let mut args = vec!["check", "--format", "json"];
    args.extend(specs.iter().map(|s| s.to_str().unwrap()));
    assert_lossless("check --format json", &stdout(&args, &[0]));
}

#[test]
fn layout_json_writes_the_kernel_slot_as_a_hex_string() {
    let out = tempfile::tempdir().unwrap();
    stdout(
        &[
            "build",
            "--spec",
            "layouts/qemu-virt-sv39.toml",
            "--out-dir",
            out.path().to_str().unwrap(),
            "--emit",
            "json",
        ],
        &[0],
    );
    let text = std::fs::read_to_string(out.path().join("layout.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["format_version"], 1);
    let sv39 = &v["modes"][0];
    assert_eq!(sv39["mode"], "sv39");
    let region = |name: &str| {
        sv39["regions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no region {name} in {text}"))
            .clone()
    };
    assert_eq!(region("kernel")["start"], "0xffffffff80000000");
    assert_eq!(region("kernel")["last"], "0xffffffffffffffff");
    // The value JavaScript read a page off.
    assert_eq!(region("fixmap")["last"], "0xffffffc4feffffff");
    assert_eq!(sv39["image_link"], "0xffffffff80200000");
    assert_eq!(v["ram"]["load"], "0x80200000");
    // Counts stay numbers.
    assert_eq!(sv39["va_bits"], 39);
    assert_eq!(sv39["levels"], 3);
    assert_eq!(sv39["mode_register"], 8);
}
