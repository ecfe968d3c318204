//! `scripts/apt-install` (the package step of `scripts/test`) on a machine
//! state that plain `apt-get install` cannot resolve: the machine image's
//! backported `qemu-utils` 1:10.x (`Breaks: qemu-system-common (<< 1:8.0)`)
//! beside stable's QEMU 7.2. The state is reproduced with a dpkg status file
//! of our own (this machine's packages, minus every package built from the
//! `qemu` source, plus the backport's real status stanza), and apt simulates
//! against it with the machine's real package lists (`apt-get -s`).

use crate::support::root;
use std::path::Path;
use std::process::{Command, Output};

/// A dpkg admin directory whose status is this machine's without any `qemu`
/// binary package, plus `extra` (status stanzas).
fn machine_state(extra: &str) -> tempfile::TempDir {
    let status = std::fs::read_to_string("/var/lib/dpkg/status")
        .expect("a Debian machine: /var/lib/dpkg/status");
    let kept: Vec<&str> = status
        .split("\n\n")
        .filter(|stanza| {
            let from_qemu = stanza
                .lines()
                .any(|l| l == "Source: qemu" || l.starts_with("Source: qemu ("));
            let named_qemu = stanza.lines().any(|l| l.starts_with("Package: qemu-"));
            !(from_qemu || named_qemu || stanza.trim().is_empty())
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut text = kept.join("\n\n");
    text.push_str("\n\n");
    text.push_str(extra.trim_end());
    text.push('\n');
    std::fs::write(dir.path().join("status"), text).unwrap();
    for sub in ["info", "updates"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
    }
    dir
}

fn backport_stanza() -> String {
    std::fs::read_to_string(root().join("tests/data/apt/qemu-utils-backport.status")).unwrap()
}

fn run(cmd: &mut Command) -> (Output, String) {
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

fn status_opt(admin: &Path) -> String {
    format!("Dir::State::status={}", admin.join("status").display())
}

fn plan(admin: &Path, packages: &[&str]) -> (Output, String) {
    run(Command::new(root().join("scripts/apt-install"))
        .arg("--plan")
        .arg("--admindir")
        .arg(admin)
        .args(packages))
}

/// The version of `package` that apt would install, and the source version
/// it is built from (`Source: qemu (V)` or, without a binNMU, its own).
fn candidate_and_source_version(admin: &Path, package: &str) -> (String, String) {
    let (_, policy) =
        run(Command::new("apt-cache").args(["-o", &status_opt(admin), "policy", package]));
    let candidate = policy
        .lines()
        .find_map(|l| l.trim().strip_prefix("Candidate: "))
        .unwrap_or_else(|| panic!("apt knows {package} (apt-get update ran?): {policy}"))
        .to_string();
    (
        candidate.clone(),
        source_version(admin, package, &candidate),
    )
}

fn source_version(admin: &Path, package: &str, version: &str) -> String {
    let (_, show) = run(Command::new("apt-cache").args([
        "-o",
        &status_opt(admin),
        "show",
        &format!("{package}={version}"),
    ]));
    show.lines()
        .find_map(|l| l.strip_prefix("Source: "))
        .and_then(|s| s.split_once(" ("))
        .map(|(_, v)| v.trim_end_matches(')').to_string())
        .unwrap_or_else(|| version.to_string())
}

const QEMU: [&str; 2] = ["qemu-system-misc", "qemu-system-arm"];

#[test]
fn plain_apt_get_cannot_install_qemu_beside_the_backported_qemu_utils() {
    // The premise: without the plan, apt refuses (this is the state a fresh
    // machine image is in).
    let admin = machine_state(&backport_stanza());
    let (out, text) = run(Command::new("apt-get")
        .args(["-s", "-o", &status_opt(admin.path()), "install"])
        .args(QEMU));
    assert!(
        !out.status.success(),
        "apt-get -s resolved it alone:\n{text}"
    );
    assert!(text.contains("Breaks: qemu-system-common"), "{text}");
}

#[test]
fn install_plan_names_the_qemu_utils_built_with_the_qemu_it_installs() {
    let admin = machine_state(&backport_stanza());
    let (out, text) = plan(admin.path(), &QEMU);
    assert!(out.status.success(), "the plan does not resolve:\n{text}");
    let plan_line =
        crate::support::line_starting(&text, "scripts/apt-install: plan: apt-get install");
    // Every package is named with its version, and the backport is brought
    // down to the build from the same source version as the new QEMU.
    let (misc, misc_source) = candidate_and_source_version(admin.path(), "qemu-system-misc");
    assert!(
        plan_line.contains(&format!("qemu-system-misc={misc}")),
        "{plan_line}"
    );
    let utils = plan_line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("qemu-utils="))
        .unwrap_or_else(|| panic!("qemu-utils is not in the plan: {plan_line}"));
    assert_eq!(
        source_version(admin.path(), "qemu-utils", utils),
        misc_source,
        "qemu-utils={utils} is not built from the source of qemu-system-misc={misc}"
    );
    assert!(plan_line.contains("--allow-downgrades"), "{plan_line}");
    // What apt-get -s says it would do: downgrade, then configure QEMU.
    assert!(
        text.contains("Inst qemu-utils [1:10.0.2"),
        "no downgrade simulated:\n{text}"
    );
    assert!(text.contains("Inst qemu-system-misc"), "{text}");
    assert!(text.contains("Inst qemu-system-arm"), "{text}");
}

#[test]
fn install_plan_fails_with_apts_message_when_no_consistent_set_exists() {
    // The same backport, held by the administrator: the plan would have to
    // change a hold, which apt refuses; the script shows apt's reason.
    let held =
        backport_stanza().replace("Status: install ok installed", "Status: hold ok installed");
    let admin = machine_state(&held);
    let (out, text) = plan(admin.path(), &QEMU);
    assert!(!out.status.success(), "a held package was changed:\n{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("E: ") && l.contains("eld")),
        "apt's message is not shown:\n{text}"
    );
}

#[test]
fn install_plan_installs_nothing_when_everything_is_there() {
    let admin = machine_state("");
    // dpkg itself is installed on every Debian machine.
    let (out, text) = plan(admin.path(), &["dpkg"]);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("already installed: dpkg"), "{text}");
}

#[test]
fn install_plan_refuses_a_package_no_source_offers() {
    let admin = machine_state("");
    let (out, text) = plan(admin.path(), &["layoutgen-no-such-package"]);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("no installable version of layoutgen-no-such-package"),
        "{text}"
    );
}
