//! lint's machine formats checked against what consumes them
//! (docs/lint.md, "Output formats"): SARIF with the SARIF Multitool and the
//! official SARIF 2.1.0 schema, GitHub annotations with the documented
//! workflow-command grammar. A missing validator fails the test: scripts/test
//! installs the Multitool into `target/npm`.

use crate::support::cli::run as cli;
use crate::support::elf_tools::*;
use crate::support::{root, specs};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Files lint reports on with every kind of result: findings of each
/// severity, an unreadable input, and odd names (`,`, `:`, `%`, `#`, a
/// space) given both relative to the repository and absolute.
struct Inputs {
    _linked: Linked,
    _dir: tempfile::TempDir,
    spec: String,
    files: Vec<String>,
    /// `lint --format json` of bad.elf, for `--baseline`.
    baseline: String,
}

fn inputs() -> Inputs {
    let name = "qemu-virt-sv39";
    let linked = link(name, &LinkOpts::default());
    let (badp, warnp) = bad_and_warn(&linked);
    // Under target/, so it has a relative path from the repository root.
    std::fs::create_dir_all(root().join("target")).unwrap();
    let dir = tempfile::Builder::new()
        .prefix("lint-formats-")
        .tempdir_in(root().join("target"))
        .unwrap();
    let odd_dir = dir.path().join("odd dir");
    std::fs::create_dir(&odd_dir).unwrap();
    let odd = odd_dir.join("a,b:c%d#e.elf");
    std::fs::copy(&badp, &odd).unwrap();
    let odd_rel = odd.strip_prefix(root()).unwrap().to_path_buf();
    let s = |p: &Path| p.display().to_string();
    let spec = specs::path(name).display().to_string();
    let (_, json, _) = cli(&["lint", "--spec", &spec, "--format", "json", &s(&badp)]);
    let baseline = dir.path().join("baseline.json");
    std::fs::write(&baseline, json).unwrap();
    Inputs {
        baseline: s(&baseline),
        spec,
        files: vec![
            s(&linked.elf),
            s(&badp),
            s(&warnp),
            "Cargo.toml".to_string(),
            s(&odd),
            s(&odd_rel),
        ],
        _linked: linked,
        _dir: dir,
    }
}

/// The lint command lines whose output is checked: default levels, and
/// every kind of configured level (allow: suppressions; warn/deny:
/// ruleConfigurationOverrides), and a baseline (baselineState).
fn runs(i: &Inputs, format: &str) -> Vec<(Vec<String>, String)> {
    let configs: [&[&str]; 4] = [
        &[],
        &["--allow", "LG001", "--warn", "LG016", "--deny", "LG010"],
        &["--deny", "warnings"],
        &["--baseline", &i.baseline],
    ];
    configs
        .iter()
        .map(|extra| {
            let mut args: Vec<String> = ["lint", "--spec", &i.spec, "--format", format]
                .iter()
                .map(|s| s.to_string())
                .collect();
            args.extend(extra.iter().map(|s| s.to_string()));
            args.extend(i.files.iter().cloned());
            let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
            let (code, out, err) = cli(&a);
            assert_eq!(code, 2, "{args:?} (an unreadable input is exit 2): {err}");
            (args, out)
        })
        .collect()
}

// ---- SARIF ---------------------------------------------------------------------

/// The Multitool's npm package directory (`target/npm`, scripts/test).
fn multitool_dir() -> PathBuf {
    root().join("target/npm/node_modules/@microsoft")
}

fn missing(what: &str) -> ! {
    panic!(
        "{what} is missing: scripts/test installs it (`npm install --prefix target/npm \
         @microsoft/sarif-multitool`); this test does not skip"
    )
}

/// What the Multitool says of `file` but the warnings we accept
/// ([`ACCEPTED_WARNINGS`]); every error counts.
fn multitool_problems(file: &Path) -> Vec<(String, String, String)> {
    multitool(file)
        .into_iter()
        .filter(|(l, id, _)| !(l != "error" && ACCEPTED_WARNINGS.contains(&id.as_str())))
        .collect()
}

/// `sarif-multitool validate FILE -o OUT`: its exit status is 0 for valid
/// and invalid logs alike (non-zero only when it could not run), so the
/// verdict is read from OUT, a SARIF log whose results are the problems.
/// Returns (level, rule id, message) of each.
fn multitool(file: &Path) -> Vec<(String, String, String)> {
    let bin = root().join("target/npm/node_modules/.bin/sarif-multitool");
    if !bin.exists() {
        missing(&bin.display().to_string());
    }
    let out = file.with_extension("validation.sarif");
    let o = Command::new(&bin)
        .arg("validate")
        .arg(file)
        .arg("-o")
        .arg(&out)
        .args(["--log", "ForceOverwrite"])
        .output()
        .expect("run sarif-multitool");
    let text =
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "sarif-multitool failed to run: {text}");
    let v: Value = serde_json::from_slice(&std::fs::read(&out).expect("its output log"))
        .expect("its output is JSON");
    let run = &v["runs"][0];
    let inv = &run["invocations"][0];
    assert_eq!(inv["executionSuccessful"], true, "{text}");
    assert!(
        inv["toolExecutionNotifications"]
            .as_array()
            .is_none_or(|n| n.is_empty()),
        "{text}"
    );
    run["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["level"].as_str().unwrap_or("warning").to_string(),
                r["ruleId"].as_str().unwrap_or("").to_string(),
                r["message"]["text"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| r["message"].to_string()),
            )
        })
        .collect()
}

/// The official SARIF 2.1.0 schema, as the Multitool ships it.
fn official_schema() -> jsonschema::Validator {
    let found = std::fs::read_dir(multitool_dir())
        .ok()
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("sarif-2.1.0.json"))
        .find(|p| p.exists())
        .unwrap_or_else(|| missing("sarif-2.1.0.json (in @microsoft/sarif-multitool-<os>)"));
    let schema: Value = serde_json::from_slice(&std::fs::read(found).unwrap()).unwrap();
    assert_eq!(
        schema["title"], "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema",
        "the 2.1.0 schema"
    );
    jsonschema::validator_for(&schema).expect("a valid schema")
}

fn schema_errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Warnings the Multitool may give about lint's logs, and why they stay.
const ACCEPTED_WARNINGS: [&str; 2] = [
    // No informationUri: the tool has no canonical web address.
    "SARIF2005",
    // No region: a finding in an ELF has no source line or column.
    "SARIF2017",
];

#[test]
fn sarif_passes_the_sarif_multitool_and_the_official_schema() {
    let schema = official_schema();
    let dir = tempfile::tempdir().unwrap();

    // The validators see a broken log: a test whose validator stopped
    // working would pass anything.
    let broken = serde_json::json!({ "runs": [] });
    let p = dir.path().join("broken.sarif");
    std::fs::write(&p, broken.to_string()).unwrap();
    let problems = multitool(&p);
    assert!(
        problems
            .iter()
            .any(|(l, id, _)| l == "error" && id == "JSON1002"),
        "the Multitool must reject a log without `version`: {problems:?}"
    );
    assert!(!schema_errors(&schema, &broken).is_empty());

    let i = inputs();
    for (n, (args, out)) in runs(&i, "sarif").into_iter().enumerate() {
        let doc: Value = serde_json::from_str(&out).expect("SARIF is JSON");
        let errors = schema_errors(&schema, &doc);
        assert!(errors.is_empty(), "{args:?}: {errors:#?}");
        // The schema check sees what the Multitool silently passes.
        let mut wrong = doc.clone();
        wrong["runs"][0]["results"][0]["level"] = "bogus".into();
        assert!(!schema_errors(&schema, &wrong).is_empty());

        let p = dir.path().join(format!("lint-{n}.sarif"));
        std::fs::write(&p, &out).unwrap();
        let problems = multitool_problems(&p);
        assert!(problems.is_empty(), "{args:?}: {problems:#?}");

        // What the run covers reached the log.
        let run = &doc["runs"][0];
        let uris: Vec<&str> = run["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        assert!(
            uris.iter().any(|u| u.starts_with("target/lint-formats-")
                && u.ends_with("/odd%20dir/a%2Cb%3Ac%25d%23e.elf")),
            "{uris:?}"
        );
        assert!(
            uris.iter()
                .any(|u| u.starts_with("file:///")
                    && u.ends_with("/odd%20dir/a%2Cb%3Ac%25d%23e.elf")),
            "{uris:?}"
        );
        assert_eq!(run["invocations"][0]["executionSuccessful"], false);
        if n == 1 {
            assert!(out.contains("\"suppressions\""), "{out}");
            let overrides = run["invocations"][0]["ruleConfigurationOverrides"]
                .as_array()
                .unwrap();
            assert_eq!(overrides.len(), 2, "{overrides:?}");
        }
    }
}

// ---- GitHub annotations -----------------------------------------------------------

/// GitHub's workflow-command unescaping: `%25 %0D %0A` in data, and also
/// `%3A %2C` in properties. Anything else after `%`, or a raw separator or
/// line break, is not what the documented grammar allows.
fn unescape(s: &str, property: bool) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find(['%', '\r', '\n']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let (c, len) = match tail.get(..3) {
            Some("%25") => ('%', 3),
            Some("%0D") => ('\r', 3),
            Some("%0A") => ('\n', 3),
            Some("%3A") if property => (':', 3),
            Some("%2C") if property => (',', 3),
            _ => return Err(format!("unescaped {:?} in {s:?}", &tail[..1])),
        };
        out.push(c);
        rest = &tail[len..];
    }
    out.push_str(rest);
    Ok(out)
}

/// One annotation: `::LEVEL key=value,...::MESSAGE`.
struct Annotation {
    level: String,
    props: Vec<(String, String)>,
    message: String,
}

fn parse_annotation(line: &str) -> Result<Annotation, String> {
    let rest = line
        .strip_prefix("::")
        .ok_or_else(|| format!("no leading :: in {line:?}"))?;
    let (head, data) = rest
        .split_once("::")
        .ok_or_else(|| format!("no :: before the message in {line:?}"))?;
    let (level, props) = head.split_once(' ').unwrap_or((head, ""));
    if !["error", "warning", "notice"].contains(&level) {
        return Err(format!("unknown command {level:?}"));
    }
    let mut parsed = Vec::new();
    for p in props.split(',').filter(|p| !p.is_empty()) {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| format!("property without = in {line:?}"))?;
        // The documented properties of error/warning/notice.
        if !["title", "file", "col", "endColumn", "line", "endLine"].contains(&k) {
            return Err(format!("undocumented property {k:?}"));
        }
        // A raw `,` would end the property, a raw `:` the list.
        if v.contains([':', ',']) {
            return Err(format!("raw separator in property {v:?}"));
        }
        parsed.push((k.to_string(), unescape(v, true)?));
    }
    Ok(Annotation {
        level: level.to_string(),
        props: parsed,
        message: unescape(data, false)?,
    })
}

#[test]
fn github_annotations_follow_the_workflow_command_grammar() {
    // The grammar check itself rejects what GitHub would misread.
    for bad in [
        "::error file=a,b,title=x::m",
        "::error file=a:b::m",
        "::error file=a%41::m",
        "::error::50%",
        "::error::a\rb",
        "::debug::x",
        "::error file=a,foo=b::m",
        "error::m",
    ] {
        assert!(parse_annotation(bad).is_err(), "{bad:?} accepted");
    }
    let ok = parse_annotation("::warning file=a%2Cb%3Ac%25,title=T::x%0Ay%25").unwrap();
    assert_eq!(ok.props[0].1, "a,b:c%");
    assert_eq!(ok.message, "x\ny%");

    let i = inputs();
    let json = runs(&i, "json");
    for (n, (args, out)) in runs(&i, "github").into_iter().enumerate() {
        let doc: Value = serde_json::from_str(&json[n].1).unwrap();
        let deny_warnings = args.iter().any(|a| a == "warnings");
        // The annotations the JSON output says there should be, in order.
        let mut expected = Vec::new();
        for f in doc["files"].as_array().unwrap() {
            let path = f["path"].as_str().unwrap();
            if !f["error"].is_null() {
                expected.push((
                    "error".to_string(),
                    path.to_string(),
                    format!("layoutgen lint: {}", f["error"]["kind"].as_str().unwrap()),
                    f["error"]["message"].as_str().unwrap().to_string(),
                ));
            }
            for x in f["findings"].as_array().unwrap() {
                if !x["suppressed"].is_null() {
                    continue;
                }
                let level = match x["severity"].as_str().unwrap() {
                    "warning" if deny_warnings => "error",
                    "info" => "notice",
                    s => s,
                };
                let mut msg = x["message"].as_str().unwrap().to_string();
                let key = x["spec_key"].as_str().unwrap();
                if !key.is_empty() {
                    msg += &format!("\nspec key: {key}");
                }
                msg += &format!("\nhelp: {}", x["help"].as_str().unwrap());
                expected.push((
                    level.to_string(),
                    path.to_string(),
                    format!(
                        "{} {}",
                        x["id"].as_str().unwrap(),
                        x["check"].as_str().unwrap()
                    ),
                    msg,
                ));
            }
        }
        let mut lines: Vec<&str> = out.lines().collect();
        if !doc["baseline"].is_null() {
            // The figures of --baseline come first, as a notice.
            let a = parse_annotation(lines.remove(0)).unwrap();
            assert_eq!(a.level, "notice");
            assert_eq!(
                a.props,
                [("title".into(), "layoutgen lint baseline".into())]
            );
            assert!(a.message.starts_with("baseline "), "{}", a.message);
        }
        let got: Vec<_> = lines
            .into_iter()
            .map(|l| {
                let a = parse_annotation(l).unwrap_or_else(|e| panic!("{args:?}: {e}"));
                let prop = |k: &str| {
                    a.props
                        .iter()
                        .find(|(key, _)| key == k)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_else(|| panic!("{l}: no {k}"))
                };
                (
                    a.level.clone(),
                    prop("file"),
                    prop("title"),
                    a.message.clone(),
                )
            })
            .collect();
        assert_eq!(got, expected, "{args:?}");
        assert!(out.contains("file=target/lint-formats-"), "{out}");
        assert!(out.contains("/odd dir/a%2Cb%3Ac%25d#e.elf,"), "{out}");
    }
}

// ---- page-table findings --------------------------------------------------------

/// `lint --page-tables` findings (docs/page-tables.md) in every machine
/// format: a ptdump as Linux prints it with one mapping per rule (a page
/// in a hole, W+X, a user page, a leaf larger than promised, and with
/// --ram the linear map's cost), checked as the ELF findings are.
#[test]
fn page_table_findings_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("kernel_page_tables");
    let flags = |f: &str| format!(".   ..     ..   D A G {f} V");
    std::fs::write(
        &dump,
        [
            "---[ Linear mapping ]---".to_string(),
            format!(
                "0xffffffd600000000-0xffffffd640000000    0x0000000080000000         1G PUD {}",
                flags(". . W R")
            ),
            format!(
                "0xfffffff600001000-0xfffffff600002000    0x0000000080000000         4K PTE {}",
                flags(". . W R")
            ),
            "---[ Kernel mapping ]---".to_string(),
            format!(
                "0xffffffff80000000-0xffffffff80200000    0x0000000080200000         2M PMD {}",
                flags(". X W R")
            ),
            format!(
                "0x0000000000400000-0x0000000000401000    0x0000000080000000         4K PTE {}",
                flags("U . W R")
            ),
        ]
        .join("\n"),
    )
    .unwrap();
    let spec = specs::path("linux-riscv64").display().to_string();
    let dump_s = dump.display().to_string();
    let run = |format: &str| {
        let (code, out, err) = cli(&[
            "lint",
            "--spec",
            &spec,
            "--mode",
            "sv39",
            "--ram",
            "1GiB",
            "--format",
            format,
            "--page-tables",
            &dump_s,
        ]);
        assert_eq!(code, 1, "{format}: {out}{err}");
        out
    };
    let expected = [
        ("LG030", "region.linear_map.leaf", "error"),
        ("LG024", "region", "error"),
        ("LG025", "image.section", "error"),
        ("LG026", "region.user", "error"),
        ("LG031", "region.linear_map.leaf", "warning"),
    ];

    // JSON: each finding with its id, spec key, severity and address.
    let doc: Value = serde_json::from_str(&run("json")).unwrap();
    let findings = doc["files"][0]["findings"].as_array().unwrap();
    let mut got: Vec<(&str, &str, &str)> = findings
        .iter()
        .map(|f| {
            assert!(
                f["address"].as_str().is_some_and(|a| a.starts_with("0x")),
                "{f}"
            );
            (
                f["id"].as_str().unwrap(),
                f["spec_key"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
            )
        })
        .collect();
    got.sort();
    let mut want = expected.to_vec();
    want.sort();
    assert_eq!(got, want, "{doc:#}");

    // SARIF: valid for the Multitool and the official schema, one result
    // per finding with its rule.
    let sarif = run("sarif");
    let doc: Value = serde_json::from_str(&sarif).unwrap();
    assert!(schema_errors(&official_schema(), &doc).is_empty());
    let p = dir.path().join("page-tables.sarif");
    std::fs::write(&p, &sarif).unwrap();
    let problems = multitool_problems(&p);
    assert!(problems.is_empty(), "{problems:#?}");
    let mut rules: Vec<&str> = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    rules.sort();
    let mut want_ids: Vec<&str> = expected.iter().map(|e| e.0).collect();
    want_ids.sort();
    assert_eq!(rules, want_ids);

    // GitHub: one well-formed annotation per finding, on the dump.
    let github = run("github");
    let mut titles = Vec::new();
    for line in github.lines().filter(|l| l.starts_with("::")) {
        let a = parse_annotation(line).unwrap_or_else(|e| panic!("{e}\n{github}"));
        let prop = |k: &str| a.props.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(prop("file").as_deref(), Some(dump_s.as_str()), "{line}");
        let title = prop("title").unwrap();
        let e = expected
            .iter()
            .find(|e| title.starts_with(e.0))
            .unwrap_or_else(|| panic!("{line}"));
        assert_eq!(a.level, e.2, "{line}");
        assert!(!a.message.is_empty());
        titles.push(e.0);
    }
    titles.sort();
    assert_eq!(titles, want_ids, "{github}");
}
