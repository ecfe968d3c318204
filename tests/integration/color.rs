//! Diagnostics are coloured only on a terminal and never with NO_COLOR set;
//! piped output stays plain (what the other tests assert on). A terminal is
//! provided by util-linux `script`, which allocates a pseudo-terminal.

use crate::support::cli::LAYOUTGEN;
use crate::support::specs;
use std::path::Path;
use std::process::Command;

const ESC: &str = "\x1b[";

fn bad_spec(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("bad.toml");
    let text = specs::text("qemu-virt-sv39").replace("size = \"128GiB\"", "size = \"128GB\"");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `layoutgen ARGS` with stdout and stderr on a pseudo-terminal.
fn on_a_terminal(args: &str, no_color: Option<&str>) -> String {
    let mut cmd = Command::new("script");
    cmd.arg("-qec")
        .arg(format!("'{}' {args}", LAYOUTGEN))
        .arg("/dev/null")
        .env_remove("NO_COLOR");
    if let Some(v) = no_color {
        cmd.env("NO_COLOR", v);
    }
    let out = cmd
        .output()
        .expect("`script` (util-linux) runs commands on a pseudo-terminal");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn colour_on_a_terminal_only_without_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let spec = bad_spec(dir.path());
    let args = format!("check '{}'", spec.display());

    let coloured = on_a_terminal(&args, None);
    assert!(coloured.contains("error[syntax]"), "{coloured}");
    assert!(
        coloured.contains(ESC),
        "no colour on a terminal: {coloured:?}"
    );

    let plain = on_a_terminal(&args, Some("1"));
    assert!(plain.contains("error[syntax]"), "{plain}");
    assert!(!plain.contains(ESC), "colour despite NO_COLOR: {plain:?}");

    // An empty NO_COLOR does not count (no-color.org).
    assert!(on_a_terminal(&args, Some("")).contains(ESC));

    // Other errors too.
    let usage = on_a_terminal("show --ram 0", None);
    assert!(usage.contains(ESC) && usage.contains("error"), "{usage:?}");
    assert!(!on_a_terminal("show --ram 0", Some("1")).contains(ESC));
}

#[test]
fn piped_output_is_plain_even_without_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let spec = bad_spec(dir.path());
    let out = Command::new(LAYOUTGEN)
        .args(["check", spec.to_str().unwrap()])
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error[syntax]") && !err.contains(ESC),
        "{err:?}"
    );
}

#[test]
fn coloured_and_plain_renderings_say_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let spec = bad_spec(dir.path());
    let Err(layoutgen::Error::Spec(report)) = layoutgen::load(&spec, &Default::default()) else {
        panic!("the spec is broken");
    };
    let plain = report.render_colored(false);
    let coloured = report.render_colored(true);
    assert_eq!(plain, report.render());
    assert!(coloured.contains(ESC) && !plain.contains(ESC));
    // Strip the escape sequences: the text is identical.
    let mut stripped = String::new();
    let mut rest = coloured.as_str();
    while let Some(i) = rest.find('\x1b') {
        stripped.push_str(&rest[..i]);
        let m = rest[i..].find('m').expect("SGR sequences end with m");
        rest = &rest[i + m + 1..];
    }
    stripped.push_str(rest);
    assert_eq!(stripped, plain);
}

#[test]
fn a_missing_top_level_key_still_has_a_location() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("partial.toml");
    std::fs::write(&path, "name = \"x\"\narch = \"riscv64\"\n").unwrap();
    let out = Command::new(LAYOUTGEN)
        .args(["check", path.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing field `modes`"), "{err}");
    assert!(
        err.contains(&format!("{}:1:1", path.display())),
        "no location: {err}"
    );
}
