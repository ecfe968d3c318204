//! `layoutgen lint --baseline FILE` (docs/lint.md, "Baselines"): only
//! findings not in a previous run's JSON are reported and counted, matched
//! by check, symbol, section and spec key (not addresses); baseline
//! findings no longer found are counted as gone; a baseline lint cannot use
//! is exit 2.

use crate::support::cli::run as cli;
use crate::support::lint_cli::{LintCliFixtures, lint_cli_fixtures};
use serde_json::Value;

impl LintCliFixtures {
    /// `lint --format json FILES` written as baseline `name`.
    fn baseline(&self, name: &str, files: &[&str]) -> String {
        let mut args = vec!["lint", "--spec", &self.spec, "--format", "json"];
        args.extend(files);
        let (code, out, err) = cli(&args);
        assert!(code <= 1, "{err}");
        let p = self.dir.join(name);
        std::fs::write(&p, out).unwrap();
        p.display().to_string()
    }

    /// `lint --baseline B --format FORMAT FILES`: (exit code, stdout, stderr).
    fn lint(&self, baseline: &str, format: &str, files: &[&str]) -> (i32, String, String) {
        let mut args = vec![
            "lint",
            "--spec",
            &self.spec,
            "--baseline",
            baseline,
            "--format",
            format,
        ];
        args.extend(files);
        cli(&args)
    }

    fn json(&self, baseline: &str, files: &[&str]) -> (i32, Value) {
        let (code, out, err) = self.lint(baseline, "json", files);
        (
            code,
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}")),
        )
    }
}

fn ids(v: &Value) -> Vec<String> {
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["findings"].as_array().unwrap())
        .map(|f| format!("{} {}", f["id"].as_str().unwrap(), f["symbol"]))
        .collect()
}

#[test]
fn findings_in_the_baseline_are_left_out_and_do_not_fail_the_run() {
    let f = lint_cli_fixtures();
    // Without a baseline, bad.elf fails.
    assert_eq!(cli(&["lint", "--spec", &f.spec, &f.bad]).0, 1);
    let b = f.baseline("bad.json", &[&f.bad]);
    let (code, out, err) = f.lint(&b, "human", &[&f.bad]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("LG001"), "{out}");
    assert!(
        out.contains(&format!(
            "baseline {b}: 2 unchanged, 0 gone (fixed or no longer found)"
        )),
        "{out}"
    );
    assert!(out.trim_end().ends_with(": clean"), "{out}");
    let (code, v) = f.json(&b, &[&f.bad]);
    assert_eq!(code, 0);
    assert_eq!(ids(&v), Vec::<String>::new());
    assert_eq!(v["summary"]["exit_code"], 0);
    assert_eq!(v["summary"]["counts"]["errors"], 0);
    assert_eq!(v["baseline"]["unchanged"], 2);
    assert_eq!(v["baseline"]["gone"], 0);

    // A build where every address and message moved: the same findings.
    let text = std::fs::read_to_string(&b).unwrap();
    let mut moved: Value = serde_json::from_str(&text).unwrap();
    for x in moved["files"][0]["findings"].as_array_mut().unwrap() {
        x["address"] = "0xdead0000".into();
        x["message"] = "something else, at another address".into();
        x["severity"] = "warning".into();
    }
    moved["files"][0]["path"] = "elsewhere/kernel.elf".into();
    let m = f.dir.join("moved.json");
    std::fs::write(&m, moved.to_string()).unwrap();
    let (code, v) = f.json(m.to_str().unwrap(), &[&f.bad]);
    assert_eq!((code, ids(&v)), (0, vec![]), "{v:#}");

    // Several files are matched by path.
    let b2 = f.baseline("two.json", &[&f.bad, &f.warn]);
    let (code, v) = f.json(&b2, &[&f.warn, &f.bad]);
    assert_eq!((code, ids(&v)), (0, vec![]), "{v:#}");
    assert_eq!(v["baseline"]["unchanged"], 4);
}

#[test]
fn a_new_finding_is_still_reported_and_fails_the_run() {
    let f = lint_cli_fixtures();
    let b = f.baseline("clean.json", &[&f.clean]);
    let (code, v) = f.json(&b, &[&f.bad]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(ids(&v), vec!["LG001 \"buffer\"".to_string()]);
    assert_eq!(v["files"][0]["counts"]["errors"], 1);
    assert_eq!(v["baseline"]["unchanged"], 1, "LG016 was there before");

    // The same symbol in another check, or another symbol, is new too: the
    // baseline of warn.elf (LG010) does not cover bad.elf's LG001, and its
    // LG010 is gone.
    let b = f.baseline("warn.json", &[&f.warn]);
    let (code, out, _) = f.lint(&b, "human", &[&f.bad]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error[LG001 symbol-outside-slot]"), "{out}");
    assert!(out.contains("1 unchanged, 1 gone"), "{out}");

    // --deny warnings counts a new warning, not an old one.
    let (code, _, _) = cli(&[
        "lint",
        "--spec",
        &f.spec,
        "--baseline",
        &b,
        "--deny",
        "warnings",
        &f.warn,
    ]);
    assert_eq!(code, 0);
    let c = f.baseline("clean2.json", &[&f.clean]);
    let (code, _, _) = cli(&[
        "lint",
        "--spec",
        &f.spec,
        "--baseline",
        &c,
        "--deny",
        "warnings",
        &f.warn,
    ]);
    assert_eq!(code, 1);

    // A file the baseline does not hold (several files, no path match).
    let two = f.baseline("two.json", &[&f.clean, &f.warn]);
    let (code, v) = f.json(&two, &[&f.clean, &f.bad]);
    assert_eq!(code, 1);
    assert!(ids(&v).contains(&"LG001 \"buffer\"".to_string()), "{v:#}");
}

#[test]
fn a_fixed_finding_is_counted_as_gone() {
    let f = lint_cli_fixtures();
    let b = f.baseline("bad.json", &[&f.bad]);
    let (code, v) = f.json(&b, &[&f.clean]);
    assert_eq!(code, 0);
    assert_eq!(v["baseline"]["gone"], 1, "{v:#}");
    assert_eq!(v["baseline"]["unchanged"], 1);
    let gone = &v["baseline"]["gone_findings"][0];
    assert_eq!(gone["id"], "LG001");
    assert_eq!(gone["check"], "symbol-outside-slot");
    assert_eq!(gone["symbol"], "buffer");
    assert_eq!(gone["spec_key"], "region.kernel");
    let (_, out, _) = f.lint(&b, "human", &[&f.clean]);
    assert!(
        out.contains("1 unchanged, 1 gone (fixed or no longer found)"),
        "{out}"
    );
    let (_, out, _) = f.lint(&b, "github", &[&f.clean]);
    assert!(
        out.starts_with("::notice title=layoutgen lint baseline::baseline "),
        "{out}"
    );
    let (_, out, _) = f.lint(&b, "sarif", &[&f.clean]);
    let s: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(s["runs"][0]["properties"]["baseline"]["gone"], 1);
    let (_, out, _) = f.lint(&b, "sarif", &[&f.bad, "Cargo.toml"]);
    let s: Value = serde_json::from_str(&out).unwrap();
    for r in s["runs"][0]["results"].as_array().unwrap() {
        assert_eq!(r["baselineState"], "new");
    }
}

#[test]
fn a_baseline_lint_cannot_use_is_exit_2_with_what_is_wrong() {
    let f = lint_cli_fixtures();
    let good = f.baseline("good.json", &[&f.bad]);
    let good: Value = serde_json::from_str(&std::fs::read_to_string(good).unwrap()).unwrap();
    let mut no_id = good.clone();
    no_id["files"][0]["findings"][0]
        .as_object_mut()
        .unwrap()
        .remove("id");
    let mut old_schema = good.clone();
    old_schema["schema"] = "layoutgen-lint/0".into();
    let mut no_files = good.clone();
    no_files.as_object_mut().unwrap().remove("files");
    let cases: [(&str, String, &str); 6] = [
        ("text.json", "not json".into(), "not JSON"),
        (
            "sarif.json",
            r#"{"version": "2.1.0", "runs": []}"#.into(),
            "no `schema` key",
        ),
        (
            "old.json",
            old_schema.to_string(),
            "schema `layoutgen-lint/0`",
        ),
        (
            "no-id.json",
            no_id.to_string(),
            "files[0].findings[0].id is missing",
        ),
        ("no-files.json", no_files.to_string(), "`files` is missing"),
        ("missing.json", String::new(), "cannot read it"),
    ];
    for (name, text, says) in cases {
        let p = f.dir.join(name);
        if name != "missing.json" {
            std::fs::write(&p, text).unwrap();
        }
        let p = p.display().to_string();
        for format in ["human", "json"] {
            let (code, out, err) = f.lint(&p, format, &[&f.bad]);
            assert_eq!(code, 2, "{name}: {out}{err}");
            assert!(out.is_empty(), "{name}: nothing is linted: {out}");
            assert!(
                err.contains(&format!("error: baseline {p}: ")) && err.contains(says),
                "{name}: {err}"
            );
        }
    }
}
