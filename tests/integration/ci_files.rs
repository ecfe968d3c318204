//! `docs/ci/`: the GitHub Actions workflow and the GitLab CI job a user
//! copies, executed from the files themselves on the sample kernel, so they
//! cannot drift from the tool (docs/ci/README.md, "How the test keeps these
//! files honest").
//!
//! Each run lays out a user's repository in a scratch directory (the sample
//! kernel, `layoutgen-rt`, `layoutgen-build` and the file's spec, a git
//! repository with a base commit and a request commit on top), then runs
//! the file: the workflow's `run:` steps one by one as GitHub runs `shell:
//! bash`, the GitLab job's `before_script` and `script` as one shell
//! script. What is not shell is checked instead: the checkout's history,
//! the SARIF file `upload-sarif` would receive, the GitLab artifacts. `gh`
//! and `curl` are fakes that record what they would have posted.
//!
//! Two requests: one that lints clean (the job passes) and one that adds a
//! section the spec does not list (the job publishes everything, then fails
//! in its last step with lint's status 1).
//!
//! It fails, not skips, when git, cargo, rustup or the riscv64 target is
//! missing, and says how to install it.

use crate::support::{assert_contains, assert_lacks, root, sample_kernels::RISCV_TARGET};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use yaml_rust2::{Yaml, YamlLoader};

const WORKFLOW: &str = "docs/ci/github-actions.yml";
const GITLAB: &str = "docs/ci/gitlab-ci.yml";
const PR_NUMBER: &str = "17";
const MR_IID: &str = "23";
const GITLAB_API: &str = "https://gitlab.example.com/api/v4";
const GITLAB_PROJECT: &str = "42";

/// What the test changes of a file's own variables, and everything it adds
/// to the environment a CI service would give, in one place. Install
/// layoutgen from this checkout (sharing the docs tests' target directory,
/// so it is built once) into the scratch `CARGO_INSTALL_ROOT`, which is
/// first on `PATH` after the fake `gh` and `curl`.
fn overrides(s: &Sandbox) -> Vec<(String, String)> {
    let checkout = root().to_str().expect("a UTF-8 checkout path");
    assert!(
        !checkout.contains(char::is_whitespace),
        "LAYOUTGEN_INSTALL is split on spaces by the CI files: the checkout path {checkout:?} must have none"
    );
    let path = format!(
        "{}:{}:{}",
        s.fakes.display(),
        s.install_root.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut v = vec![
        (
            "LAYOUTGEN_INSTALL".to_string(),
            format!("--path {checkout} --target-dir {checkout}/target/docs-cargo"),
        ),
        (
            "CARGO_INSTALL_ROOT".into(),
            s.install_root.display().to_string(),
        ),
        ("PATH".into(), path),
        ("FAKE_CI_LOG".into(), s.log.display().to_string()),
        ("CI".into(), "true".into()),
        ("TMPDIR".into(), s.temp.display().to_string()),
    ];
    // What the toolchain needs from the test's own environment; nothing
    // else of it (RUSTFLAGS, CARGO_* of this test build) reaches the job.
    for keep in ["HOME", "CARGO_HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN"] {
        if let Ok(value) = std::env::var(keep) {
            v.push((keep.into(), value));
        }
    }
    v
}

/// The change a request makes to the sample kernel.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Request {
    /// A read-only table: the ELF changes, lint stays clean.
    Clean,
    /// A table in a section of its own, which the spec does not list:
    /// LG021 orphan-section, a warning the files deny.
    Finding,
}

impl Request {
    fn source(self) -> &'static str {
        match self {
            Request::Clean => {
                "\n/// Added by the request: a read-only table.\n#[used]\nstatic CI_TABLE: [u8; 4096] = [0x5a; 4096];\n"
            }
            Request::Finding => {
                "\n/// Added by the request: a table in a section the spec does not list.\n#[used]\n#[unsafe(link_section = \".ci_demo\")]\nstatic CI_DEMO: [u8; 64] = [0x5a; 64];\n"
            }
        }
    }
}

/// A user's repository and the scratch directories around it.
struct Sandbox {
    _dir: tempfile::TempDir,
    /// The checkout the job runs in (the request commit, whole history).
    work: PathBuf,
    /// The runner's temporary directory (`RUNNER_TEMP`).
    temp: PathBuf,
    install_root: PathBuf,
    /// The fake `gh` and `curl`.
    fakes: PathBuf,
    /// What the fakes recorded.
    log: PathBuf,
    base: String,
}

fn preflight() {
    let have = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let mut missing = Vec::new();
    if !have("git", &["--version"]) {
        missing.push("git not found: install it with `apt-get install -y git`");
    }
    if !have("bash", &["--version"]) {
        missing.push("bash not found: install it with `apt-get install -y bash`");
    }
    if !have("rustup", &["--version"]) || !have("cargo", &["--version"]) {
        missing.push("rustup or cargo not found: install them from https://rustup.rs");
    }
    if !crate::support::sample_kernels::rust_target_installed(RISCV_TARGET) {
        missing.push(
            "Rust target riscv64gc-unknown-none-elf not installed: install it with `rustup target add riscv64gc-unknown-none-elf` (the CI files' own `rustup target add` would download it, which a test must not)",
        );
    }
    assert!(
        missing.is_empty(),
        "the CI-file tests need:\n{}",
        missing.join("\n")
    );
}

fn git(dir: &Path, args: &[&str]) -> String {
    crate::support::run_ok(
        Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "CI test")
            .env("GIT_AUTHOR_EMAIL", "ci@example.com")
            .env("GIT_COMMITTER_NAME", "CI test")
            .env("GIT_COMMITTER_EMAIL", "ci@example.com"),
    )
    .trim()
    .to_string()
}

/// Copies `from` to `to`, skipping `target/` directories.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            if e.file_name() != "target" {
                copy_tree(&src, &dst);
            }
        } else {
            std::fs::copy(&src, &dst).unwrap_or_else(|err| panic!("copy {src:?}: {err}"));
        }
    }
}

impl Sandbox {
    /// The sample kernel's repository with `spec` (the file's
    /// `LAYOUTGEN_SPEC`, which must be the kernel's default spec), a base
    /// commit, and `request` committed on top.
    fn new(spec: &str, request: Request) -> Sandbox {
        preflight();
        let stamp = std::fs::read_to_string(root().join("sample-kernel/layout/layout.stamp"))
            .expect("sample-kernel/layout/layout.stamp");
        assert!(
            stamp.contains(&format!("spec = ../../{spec}\n")),
            "LAYOUTGEN_SPEC={spec} is not the sample kernel's spec (sample-kernel/layout/layout.stamp):\n{stamp}"
        );
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("repo");
        for tree in ["sample-kernel", "layoutgen-rt", "layoutgen-build"] {
            copy_tree(&root().join(tree), &work.join(tree));
        }
        std::fs::create_dir_all(work.join(spec).parent().unwrap()).unwrap();
        std::fs::copy(root().join(spec), work.join(spec)).unwrap();
        std::fs::write(work.join(".gitignore"), "target/\n").unwrap();
        git(&work, &["init", "-q", "-b", "main"]);
        git(&work, &["add", "."]);
        git(&work, &["commit", "-q", "-m", "base"]);
        let base = git(&work, &["rev-parse", "HEAD"]);
        let main_rs = work.join("sample-kernel/src/main.rs");
        let mut src = std::fs::read_to_string(&main_rs).unwrap();
        src.push_str(request.source());
        std::fs::write(&main_rs, src).unwrap();
        git(&work, &["commit", "-q", "-am", "request"]);
        let s = Sandbox {
            temp: dir.path().join("runner-temp"),
            install_root: dir.path().join("cargo-root"),
            fakes: dir.path().join("fake-bin"),
            log: dir.path().join("fake-log"),
            work,
            base,
            _dir: dir,
        };
        for d in [&s.temp, &s.fakes, &s.log] {
            std::fs::create_dir_all(d).unwrap();
        }
        s.write_fakes();
        s
    }

    fn write_fakes(&self) {
        use std::os::unix::fs::PermissionsExt;
        // gh: records each call's arguments (one per line) and the
        // --body-file it was given; `--edit-last` fails while no comment has
        // been posted, as the real gh does on a pull request the workflow
        // has not commented on yet. Like the real one in Actions, it wants
        // GH_TOKEN.
        let gh = r#"#!/usr/bin/env bash
set -eu
[ -n "${GH_TOKEN:-}" ] || { echo "gh: set the GH_TOKEN environment variable" >&2; exit 4; }
n=$(( $(find "$FAKE_CI_LOG" -name 'gh-*.args' | wc -l) + 1 ))
printf '%s\n' "$@" > "$FAKE_CI_LOG/gh-$n.args"
body= prev=
for a in "$@"; do [ "$prev" = --body-file ] && body=$a; prev=$a; done
case " $* " in
  *" --edit-last "*) [ -e "$FAKE_CI_LOG/comment" ] || { echo "no comments found for current user" >&2; exit 1; } ;;
esac
cp "$body" "$FAKE_CI_LOG/comment"
"#;
        // curl: records its arguments and the note body of
        // `--data-urlencode body@FILE`.
        let curl = r#"#!/usr/bin/env bash
set -eu
n=$(( $(find "$FAKE_CI_LOG" -name 'curl-*.args' | wc -l) + 1 ))
printf '%s\n' "$@" > "$FAKE_CI_LOG/curl-$n.args"
prev=
for a in "$@"; do
  if [ "$prev" = --data-urlencode ]; then case "$a" in body@*) cp "${a#body@}" "$FAKE_CI_LOG/note" ;; esac; fi
  prev=$a
done
echo '{"id": 1}'
"#;
        for (name, text) in [("gh", gh), ("curl", curl)] {
            let p = self.fakes.join(name);
            std::fs::write(&p, text).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    fn recorded(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.log.join(name)).ok()
    }

    /// The calls a fake recorded, each as its argument list, in order.
    fn calls(&self, tool: &str) -> Vec<Vec<String>> {
        (1..)
            .map_while(|n| self.recorded(&format!("{tool}-{n}.args")))
            .map(|a| a.lines().map(str::to_string).collect())
            .collect()
    }

    /// Runs `script` with bash (`args` before it) in the checkout with
    /// exactly `env`.
    fn bash(&self, args: &[&str], script: &str, env: &BTreeMap<String, String>) -> Outcome {
        let file = self.temp.join("step.sh");
        std::fs::write(&file, script).unwrap();
        let o = Command::new("bash")
            .args(args)
            .arg(&file)
            .current_dir(&self.work)
            .env_clear()
            .envs(env)
            .output()
            .expect("run bash");
        Outcome {
            status: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

struct Outcome {
    status: i32,
    stdout: String,
    stderr: String,
}

fn load(path: &str) -> Yaml {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    let mut docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(docs.len(), 1, "{path}: one YAML document");
    docs.remove(0)
}

/// A scalar as the CI service reads it: a string, or a number or boolean
/// as written.
fn scalar(y: &Yaml, what: &str) -> String {
    match y {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        other => panic!("{what}: a scalar expected, found {other:?}"),
    }
}

/// A mapping of scalars (`env:`, `variables:`, `with:`); absent is empty.
fn scalars(y: &Yaml, what: &str) -> BTreeMap<String, String> {
    match y {
        Yaml::BadValue => BTreeMap::new(),
        Yaml::Hash(h) => h
            .iter()
            .map(|(k, v)| (scalar(k, what), scalar(v, what)))
            .collect(),
        other => panic!("{what}: a mapping expected, found {other:?}"),
    }
}

fn sarif(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("the SARIF log {} is missing: {e}", path.display()));
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}\n{text}", path.display()));
    assert_eq!(v["version"], "2.1.0", "SARIF version");
    assert!(
        v["$schema"].as_str().is_some_and(|s| s.contains("sarif")),
        "SARIF $schema: {}",
        v["$schema"]
    );
    assert_eq!(v["runs"][0]["tool"]["driver"]["name"], "layoutgen-lint");
    v
}

/// The rule ids of a SARIF log's results.
fn sarif_rules(v: &Value) -> Vec<String> {
    v["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap().to_string())
        .collect()
}

/// A Markdown table: a header row, then a delimiter row of `---` cells.
#[track_caller]
fn assert_markdown_table(md: &str) {
    let lines: Vec<&str> = md.lines().map(str::trim).collect();
    let delimiter = |l: &str| {
        l.starts_with('|')
            && l.trim_matches('|').split('|').all(|c| {
                c.trim().trim_matches(':').chars().all(|ch| ch == '-') && c.contains("---")
            })
    };
    assert!(
        lines
            .windows(2)
            .any(|w| w[0].starts_with('|') && delimiter(w[1])),
        "no Markdown table in the diff:\n{md}"
    );
}

// ---------------------------------------------------------------- GitHub

/// What the workflow's `${{ }}` expressions stand for in a `pull_request`
/// (or `push`) event; an expression not listed fails the test.
struct GithubContext<'a> {
    event: &'a str,
    base: &'a str,
    env: &'a BTreeMap<String, String>,
}

impl GithubContext<'_> {
    fn expression(&self, e: &str) -> String {
        let e = e.trim();
        if let Some(name) = e.strip_prefix("env.") {
            return self
                .env
                .get(name)
                .unwrap_or_else(|| panic!("${{{{ {e} }}}}: no such env"))
                .clone();
        }
        match e {
            "github.event_name" => self.event.into(),
            "github.event.pull_request.base.sha" => self.base.into(),
            "github.event.pull_request.number" => PR_NUMBER.into(),
            "github.token" => "fake-token".into(),
            _ => panic!(
                "the test does not know the expression ${{{{ {e} }}}}: add it to GithubContext"
            ),
        }
    }

    /// `text` with every `${{ ... }}` replaced.
    fn substitute(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("an unclosed ${{") + start;
            out.push_str(&self.expression(&rest[start + 3..end]));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    /// Whether a step with `if: cond` runs, after a failure or not.
    fn runs(&self, cond: Option<&str>, failed: bool) -> bool {
        match cond.map(str::trim) {
            None => !failed,
            Some("always()") => true,
            Some("github.event_name == 'pull_request'") => !failed && self.event == "pull_request",
            Some(c) => panic!(
                "the test does not know the condition `if: {c}`: add it to GithubContext::runs"
            ),
        }
    }
}

struct StepResult {
    name: String,
    /// None: skipped, or an action (`uses:`) checked instead of run.
    outcome: Option<Outcome>,
    /// An action checked (`uses:`), not skipped.
    checked: bool,
}

struct GithubJob {
    steps: Vec<StepResult>,
    /// The SARIF log upload-sarif received.
    uploaded: Option<Value>,
    summary: String,
}

impl GithubJob {
    fn step(&self, name_part: &str) -> &StepResult {
        self.steps
            .iter()
            .find(|s| s.name.contains(name_part))
            .unwrap_or_else(|| panic!("no step named like {name_part:?}"))
    }

    fn ran(&self, name_part: &str) -> &Outcome {
        self.step(name_part)
            .outcome
            .as_ref()
            .unwrap_or_else(|| panic!("step {name_part:?} was skipped"))
    }

    fn failed(&self) -> Option<&StepResult> {
        self.steps
            .iter()
            .find(|s| s.outcome.as_ref().is_some_and(|o| o.status != 0))
    }

    fn transcript(&self) -> String {
        let mut t = String::new();
        for s in &self.steps {
            match &s.outcome {
                None if s.checked => t.push_str(&format!("== {} (action: checked)\n", s.name)),
                None => t.push_str(&format!("== {} (skipped)\n", s.name)),
                Some(o) => t.push_str(&format!(
                    "== {} (exit {})\n{}{}",
                    s.name, o.status, o.stdout, o.stderr
                )),
            }
        }
        t
    }
}

/// Runs the workflow's one job for `event` in `s`, as a GitHub runner
/// would: `run:` steps with `bash --noprofile --norc -eo pipefail`,
/// `uses:` steps checked against what they would receive.
fn run_workflow(s: &Sandbox, event: &str) -> GithubJob {
    let wf = load(WORKFLOW);
    let on = &wf["on"];
    assert!(
        !on[event].is_badvalue(),
        "{WORKFLOW}: not triggered by {event}"
    );
    let perms = scalars(&wf["permissions"], "permissions");
    for (scope, level) in [
        ("contents", "read"),
        ("security-events", "write"),
        ("pull-requests", "write"),
    ] {
        assert_eq!(
            perms.get(scope).map(String::as_str),
            Some(level),
            "{WORKFLOW}: permissions.{scope}"
        );
    }
    assert_eq!(
        wf["defaults"]["run"]["shell"].as_str(),
        Some("bash"),
        "{WORKFLOW}: defaults.run.shell (the test runs steps as `shell: bash`)"
    );
    let jobs = wf["jobs"].as_hash().expect("jobs");
    assert_eq!(jobs.len(), 1, "{WORKFLOW}: one job");
    let job = jobs.values().next().unwrap();

    let mut env = scalars(&wf["env"], "env");
    env.extend(scalars(&job["env"], "job env"));
    let file_env = env.clone();
    let summary = s.temp.join("step-summary.md");
    std::fs::write(&summary, "").unwrap();
    env.extend(overrides(s));
    for (k, v) in [
        ("GITHUB_ACTIONS", "true".to_string()),
        ("GITHUB_EVENT_NAME", event.to_string()),
        ("GITHUB_WORKSPACE", s.work.display().to_string()),
        ("RUNNER_TEMP", s.temp.display().to_string()),
        ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
    ] {
        env.insert(k.into(), v);
    }
    let ctx = GithubContext {
        event,
        base: &s.base,
        env: &file_env,
    };

    let mut results = Vec::new();
    let mut uploaded = None;
    let mut failed = false;
    for (i, step) in job["steps"].as_vec().expect("steps").iter().enumerate() {
        let name = step["name"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("step {}", i + 1));
        if !ctx.runs(step["if"].as_str(), failed) {
            results.push(StepResult {
                name,
                outcome: None,
                checked: false,
            });
            continue;
        }
        let with: BTreeMap<String, String> = scalars(&step["with"], "with")
            .into_iter()
            .map(|(k, v)| (k, ctx.substitute(&v)))
            .collect();
        let outcome = if let Some(action) = step["uses"].as_str() {
            let (repo, _version) = action.split_once('@').expect("uses: OWNER/NAME@VERSION");
            match repo {
                // The repository the steps run in is this commit with its
                // whole history: what fetch-depth 0 gives.
                "actions/checkout" => assert_eq!(
                    with.get("fetch-depth").map(String::as_str),
                    Some("0"),
                    "{name}: the base build needs the whole history"
                ),
                "github/codeql-action/upload-sarif" => {
                    let file = with.get("sarif_file").expect("upload-sarif: sarif_file");
                    uploaded = Some(sarif(&s.work.join(file)));
                    assert!(with.contains_key("category"), "{name}: a category");
                }
                _ => panic!("{name}: the test does not know what {action} receives: add a check"),
            }
            None
        } else {
            let script = step["run"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: neither uses: nor run:"));
            assert!(
                !script.contains("${{"),
                "{name}: an expression in run: (pass it through env:)"
            );
            let mut step_env = env.clone();
            for (k, v) in scalars(&step["env"], "step env") {
                step_env.insert(k, ctx.substitute(&v));
            }
            let o = s.bash(
                &["--noprofile", "--norc", "-eo", "pipefail"],
                script,
                &step_env,
            );
            failed |= o.status != 0;
            Some(o)
        };
        let checked = outcome.is_none();
        results.push(StepResult {
            name,
            outcome,
            checked,
        });
    }
    GithubJob {
        steps: results,
        uploaded,
        summary: std::fs::read_to_string(&summary).unwrap(),
    }
}

/// The workflow on a pull request making `request`: every step runs, the
/// annotations and SARIF are there, the Markdown diff is posted as the
/// comment and written to the summary, and the job ends with lint's status.
fn github_pull_request(request: Request) {
    let wf_env = scalars(&load(WORKFLOW)["env"], "env");
    let s = Sandbox::new(&wf_env["LAYOUTGEN_SPEC"], request);
    let job = run_workflow(&s, "pull_request");
    let t = job.transcript();
    assert!(
        s.install_root.join("bin/layoutgen").is_file(),
        "the install step put no layoutgen in CARGO_INSTALL_ROOT\n{t}"
    );
    let elf = &wf_env["KERNEL_ELF"];
    let lint = job.ran("Lint");
    assert_eq!(lint.status, 0, "the lint step itself never fails\n{t}");
    let sarif = job.uploaded.as_ref().expect("upload-sarif ran");
    let diff = job.ran("Compare");
    assert_eq!(diff.status, 0, "the diff step\n{t}");
    let md = std::fs::read_to_string(s.work.join(&wf_env["LINT_OUT"]).join("diff.md")).unwrap();
    assert_markdown_table(&md);
    assert_eq!(
        s.recorded("comment").as_deref(),
        Some(md.as_str()),
        "the posted comment is the diff\n{t}"
    );
    let gh = s.calls("gh");
    assert_eq!(gh.len(), 2, "--edit-last, then a new comment: {gh:?}");
    assert_eq!(gh[0][..3], ["pr", "comment", PR_NUMBER], "{gh:?}");
    assert!(gh[0].contains(&"--edit-last".to_string()), "{gh:?}");
    assert!(!gh[1].contains(&"--edit-last".to_string()), "{gh:?}");
    assert!(job.summary.contains(&md), "the job summary holds the diff");
    let last = job.steps.last().unwrap();
    match request {
        Request::Clean => {
            assert_contains(&lint.stdout, &[&format!("::notice file={elf},title=LG016")]);
            assert_lacks(&lint.stdout, &["::error", "::warning"]);
            assert!(job.failed().is_none(), "a clean kernel passes\n{t}");
            let rules = sarif_rules(sarif);
            assert_eq!(rules, ["LG016"], "{t}");
        }
        Request::Finding => {
            // --deny warnings: the warning is an error annotation.
            assert_contains(
                &lint.stdout,
                &[&format!(
                    "::error file={elf},title=LG021 orphan-section::allocated section .ci_demo"
                )],
            );
            assert!(sarif_rules(sarif).contains(&"LG021".to_string()));
            // The base build has no such section: the finding is new.
            assert_contains(&md, &["LG021"]);
            let failed = job.failed().expect("the job fails");
            assert!(
                std::ptr::eq(failed, last),
                "only the last step fails, after the upload and the comment; {:?} failed\n{t}",
                failed.name
            );
            assert_eq!(
                last.outcome.as_ref().unwrap().status,
                1,
                "lint's status\n{t}"
            );
            assert_contains(
                &last.outcome.as_ref().unwrap().stdout,
                &["::error::layoutgen lint exited 1"],
            );
        }
    }
}

/// A clean pull request passes and gets the diff posted; one with a
/// finding uploads SARIF, gets the diff posted, then fails.
#[test]
fn github_workflow_on_pull_requests_clean_and_with_a_finding() {
    for request in [Request::Clean, Request::Finding] {
        eprintln!("pull request: {request:?}");
        github_pull_request(request);
    }
}

/// On a push there is no base build and no comment, and the rest runs.
#[test]
fn github_workflow_on_push_lints_without_the_diff() {
    let wf_env = scalars(&load(WORKFLOW)["env"], "env");
    let s = Sandbox::new(&wf_env["LAYOUTGEN_SPEC"], Request::Finding);
    let job = run_workflow(&s, "push");
    let t = job.transcript();
    for step in ["Build the base", "Compare", "Post the diff"] {
        assert!(
            job.step(step).outcome.is_none(),
            "{step} runs only in a pull request\n{t}"
        );
    }
    assert!(s.calls("gh").is_empty(), "no comment on a push");
    assert!(job.uploaded.is_some(), "the SARIF upload runs");
    assert_eq!(
        job.steps.last().unwrap().outcome.as_ref().unwrap().status,
        1,
        "{t}"
    );
}

// ---------------------------------------------------------------- GitLab

/// Runs the GitLab job in `s` as a merge-request pipeline: variables
/// exported, `before_script` and `script` as one bash script with `set -eo
/// pipefail` (how GitLab's shell executor runs them). Returns the job's
/// outcome and its variables.
fn run_gitlab(s: &Sandbox) -> (Outcome, BTreeMap<String, String>) {
    let ci = load(GITLAB);
    let job = &ci["layoutgen"];
    assert!(!job.is_badvalue(), "{GITLAB}: no job `layoutgen`");
    let rules = job["rules"].as_vec().expect("rules");
    assert!(
        rules.iter().any(|r| r["if"]
            .as_str()
            .is_some_and(|c| c.contains("merge_request_event"))),
        "{GITLAB}: the job must run in merge-request pipelines"
    );
    let mut vars = scalars(&ci["variables"], "variables");
    vars.extend(scalars(&job["variables"], "job variables"));
    assert_eq!(
        vars.get("GIT_DEPTH").map(String::as_str),
        Some("0"),
        "{GITLAB}: the base build needs the whole history"
    );
    let file_vars = vars.clone();
    vars.extend(overrides(s));
    for (k, v) in [
        ("GITLAB_CI", "true".to_string()),
        ("CI_PROJECT_DIR", s.work.display().to_string()),
        ("CI_PIPELINE_SOURCE", "merge_request_event".into()),
        ("CI_MERGE_REQUEST_DIFF_BASE_SHA", s.base.clone()),
        ("CI_MERGE_REQUEST_IID", MR_IID.into()),
        ("CI_PROJECT_ID", GITLAB_PROJECT.into()),
        ("CI_API_V4_URL", GITLAB_API.into()),
        ("LAYOUTGEN_NOTE_TOKEN", "fake-token".into()),
    ] {
        vars.insert(k.into(), v);
    }
    let lines = |key: &str| -> Vec<String> {
        match &job[key] {
            Yaml::BadValue => Vec::new(),
            Yaml::Array(a) => a.iter().map(|l| scalar(l, key)).collect(),
            other => panic!("{GITLAB}: {key} must be a list, found {other:?}"),
        }
    };
    let mut script = lines("before_script");
    script.extend(lines("script"));
    let o = s.bash(&["-eo", "pipefail"], &(script.join("\n") + "\n"), &vars);

    // The artifacts are uploaded whatever the job's status.
    let artifacts = &job["artifacts"];
    assert_eq!(
        artifacts["when"].as_str(),
        Some("always"),
        "{GITLAB}: artifacts.when"
    );
    let paths: Vec<String> = artifacts["paths"]
        .as_vec()
        .expect("artifacts.paths")
        .iter()
        .map(|p| scalar(p, "paths"))
        .collect();
    let out = &file_vars["LINT_OUT"];
    assert!(
        paths.iter().any(|p| p.trim_end_matches('/') == out),
        "{GITLAB}: artifacts.paths {paths:?} must hold LINT_OUT={out}"
    );
    for p in &paths {
        assert!(
            s.work.join(p).exists(),
            "artifact {p} missing after the job:\n{}{}",
            o.stdout,
            o.stderr
        );
    }
    (o, file_vars)
}

fn gitlab_merge_request(request: Request) {
    let vars = scalars(&load(GITLAB)["variables"], "variables");
    let s = Sandbox::new(&vars["LAYOUTGEN_SPEC"], request);
    let (o, vars) = run_gitlab(&s);
    let log = format!("{}{}", o.stdout, o.stderr);
    let out = s.work.join(&vars["LINT_OUT"]);
    let sarif = sarif(&out.join("layoutgen-lint.sarif"));
    let md = std::fs::read_to_string(out.join("diff.md"))
        .unwrap_or_else(|e| panic!("diff.md: {e}\n{log}"));
    assert_markdown_table(&md);
    assert_eq!(
        s.recorded("note").as_deref(),
        Some(md.as_str()),
        "the note is the diff\n{log}"
    );
    let curl = s.calls("curl");
    assert_eq!(curl.len(), 1, "{curl:?}");
    assert!(
        curl[0].contains(&format!(
            "{GITLAB_API}/projects/{GITLAB_PROJECT}/merge_requests/{MR_IID}/notes"
        )),
        "{curl:?}"
    );
    assert!(
        curl[0].contains(&"PRIVATE-TOKEN: fake-token".to_string()),
        "{curl:?}"
    );
    assert!(s.install_root.join("bin/layoutgen").is_file(), "{log}");
    match request {
        Request::Clean => {
            assert_eq!(o.status, 0, "a clean kernel passes\n{log}");
            assert_contains(&o.stdout, &["layoutgen lint: 1 file, 0 errors, 0 warnings"]);
            assert_eq!(sarif_rules(&sarif), ["LG016"]);
        }
        Request::Finding => {
            assert_eq!(
                o.status, 1,
                "lint's status, after the artifacts and the note\n{log}"
            );
            assert_contains(
                &o.stdout,
                &["warning[LG021 orphan-section]", "layoutgen lint exited 1"],
            );
            assert!(sarif_rules(&sarif).contains(&"LG021".to_string()));
            assert_contains(&md, &["LG021"]);
        }
    }
    assert_eq!(
        std::fs::read_to_string(out.join("lint-status"))
            .unwrap()
            .trim(),
        o.status.to_string()
    );
}

/// A clean merge request passes and gets the diff posted; one with a
/// finding keeps the artifacts, gets the diff posted, then fails.
#[test]
fn gitlab_job_on_merge_requests_clean_and_with_a_finding() {
    for request in [Request::Clean, Request::Finding] {
        eprintln!("merge request: {request:?}");
        gitlab_merge_request(request);
    }
}

/// Both files set the same variables to the same values, so what the
/// README says a user sets holds for either.
#[test]
fn both_files_set_the_same_variables() {
    let gh = scalars(&load(WORKFLOW)["env"], "env");
    let gl = scalars(&load(GITLAB)["variables"], "variables");
    assert_eq!(gh, gl);
    let readme = std::fs::read_to_string(root().join("docs/ci/README.md")).unwrap();
    for (k, v) in &gh {
        assert_contains(&readme, &[&format!("| `{k}` |"), &format!("`{v}`")]);
    }
}
