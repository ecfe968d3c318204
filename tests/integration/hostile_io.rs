//! Hostile inputs and outputs around the files and streams (issue:
//! hostile inputs on the new surface), one test per class: every file
//! input refuses what is not a regular file before opening it (no hang on a
//! FIFO, no endless read of a device); a stamp cannot make layoutgen-build
//! read outside its directory; an output set is written all or nothing;
//! a closed or full stdout ends a command cleanly; no untrusted string
//! reaches the terminal or a CI log with a control character in it.

use crate::support::cli::{LAYOUTGEN, layoutgen, stderr, text};
use crate::support::elf_tools::{self, LinkOpts};
use crate::support::specs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `layoutgen ARGS` (exit code, stdout and stderr together), killed (and
/// the test failed) if it runs past 20 s: a hang is the failure these tests
/// look for.
fn run_bounded(args: &[&str]) -> (i32, String) {
    let mut child = Command::new(LAYOUTGEN)
        .args(args)
        .current_dir(crate::support::root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            let mut out = child.stdout.take().unwrap();
            out.read_to_string(&mut err).unwrap();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return (status.code().unwrap_or(-1), err);
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("layoutgen {args:?} still running after 20 s: it blocked on its input");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn every_file_input_refuses_a_fifo_or_a_device_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let fifo = fifo.to_str().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    let spec = "layouts/qemu-virt-sv39.toml";
    let elf = elf_tools::link("qemu-virt-sv39", &LinkOpts::default());
    let elf = elf.elf.to_str().unwrap().to_string();
    let new_spec = dir.path().join("new.toml");
    let new_spec = new_spec.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["check", fifo], "FIFO"),
        (vec!["check", "/dev/zero"], "character device"),
        (vec!["build", "--spec", fifo, "--out-dir", out], "FIFO"),
        (
            vec!["build", "--spec", spec, "--dtb", fifo, "--out-dir", out],
            "FIFO",
        ),
        (
            vec![
                "build",
                "--spec",
                spec,
                "--dtb",
                "/dev/zero",
                "--out-dir",
                out,
            ],
            "character device",
        ),
        (vec!["diff", spec, fifo], "FIFO"),
        (vec!["lint", "--spec", spec, fifo], "FIFO"),
        (
            vec!["lint", "--spec", spec, "/dev/zero"],
            "character device",
        ),
        (vec!["lint", "--spec", fifo, &elf], "FIFO"),
        (vec!["init", "--from-elf", fifo, new_spec], "FIFO"),
        (
            vec!["init", "--from-elf", "/dev/zero", new_spec],
            "character device",
        ),
    ];
    for (args, what) in cases {
        let (code, err) = run_bounded(&args);
        assert_eq!(code, 2, "layoutgen {args:?}: {err}");
        assert!(
            err.contains(what) && err.contains("not a regular file"),
            "layoutgen {args:?} (exit {code}) should say the input is {what}, not a regular file:\n{err:?}"
        );
    }
    assert!(
        !Path::new(out).exists(),
        "nothing is written for a refused input"
    );
}

#[test]
fn a_stamp_cannot_make_the_build_script_read_outside_its_outputs() {
    let good = layoutgen_build::Stamp {
        generator: "layoutgen 0.1.0".into(),
        spec: "../spec.toml".into(),
        inputs: "fnv1a64:0".into(),
        ..Default::default()
    }
    .render();
    for (line, says) in [
        (
            "output /dev/zero = fnv1a64:0",
            "`output /dev/zero` is not one of the generated files",
        ),
        (
            "output ../spec.toml = fnv1a64:0",
            "`output ../spec.toml` is not one of the generated files",
        ),
        (
            "output layout.ld = a\noutput layout.ld = b",
            "`output layout.ld` appears twice",
        ),
    ] {
        let err = layoutgen_build::Stamp::parse(&format!("{good}{line}\n")).unwrap_err();
        assert!(err.contains(says), "{line}: {err}");
    }
    // A line cut away is named as such, not taken for a changed spec.
    let cut = good.replace("inputs = fnv1a64:0\n", "");
    let err = layoutgen_build::Stamp::parse(&cut).unwrap_err();
    assert!(err.contains("no `inputs` line"), "{err}");
    // The files themselves are read only if regular.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("layout.stamp");
    mkfifo(&fifo);
    let start = Instant::now();
    let err = layoutgen_build::read_regular(&fifo).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(err.to_string().contains("not a regular file"), "{err}");
}

/// The files of an output directory, name → bytes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let bytes = std::fs::read(e.path()).unwrap_or_default();
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn an_output_set_is_written_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    let build = |spec: &str| layoutgen(&["build", "--spec", spec, "--out-dir", out_s]);
    assert!(build("layouts/qemu-virt-sv39.toml").status.success());
    let before = snapshot(&out);

    // A templates directory that is not there: refused before anything is
    // written, and named as the templates directory.
    let err = stderr(
        &[
            "build",
            "--spec",
            "layouts/qemu-virt-multi.toml",
            "--out-dir",
            out_s,
            "--templates",
            "nope",
        ],
        2,
    );
    assert!(err.contains("templates directory nope"), "{err}");
    assert_eq!(
        snapshot(&out),
        before,
        "a refused --templates left the set as it was"
    );

    // A write that fails part-way (layout.rs cannot be staged: a directory
    // holds its temporary's name) changes no file of the previous set.
    let layout = specs::layout("qemu-virt-multi");
    let set = layoutgen::emit::OutputSet {
        spec: &crate::support::root().join("layouts/qemu-virt-multi.toml"),
        templates_dir: None,
        out_dir: &out,
        outputs: layoutgen::Output::ALL.to_vec(),
    };
    let blocker = out.join(format!(".layout.rs.tmp-{}", std::process::id()));
    std::fs::create_dir(&blocker).unwrap();
    let err = set.write(&layout).err().expect("staging layout.rs fails");
    std::fs::remove_dir(&blocker).unwrap();
    assert!(matches!(err, layoutgen::Error::Write { .. }), "{err}");
    assert!(
        err.to_string().contains("previous outputs are untouched"),
        "{err}"
    );
    assert_eq!(snapshot(&out), before, "nothing of the new set was written");

    // A rename that fails after others succeeded (layout.rs is a non-empty
    // directory): the message says what was replaced, and there is no stamp
    // vouching for the mixed set.
    std::fs::remove_file(out.join("layout.rs")).unwrap();
    std::fs::create_dir_all(out.join("layout.rs/x")).unwrap();
    let err = set.write(&layout).err().expect("replacing layout.rs fails");
    assert!(
        matches!(err, layoutgen::Error::WriteInterrupted { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("the stamp was not written"),
        "{err}"
    );
    assert!(
        !out.join("layout.stamp").exists(),
        "no stamp for a mixed set"
    );
    std::fs::remove_dir_all(out.join("layout.rs")).unwrap();
    assert!(set.write(&layout).is_ok(), "the next build repairs the set");
    assert!(out.join("layout.stamp").exists());
}

#[test]
fn a_closed_or_full_stdout_ends_every_command_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    let elf = elf_tools::link("qemu-virt-sv39", &LinkOpts::default());
    let elf = elf.elf.to_str().unwrap().to_string();
    let spec = "layouts/qemu-virt-sv39.toml";
    let commands: Vec<(Vec<&str>, i32)> = vec![
        (vec!["build", "--spec", spec, "--out-dir", out_s], 0),
        (vec!["check", spec], 0),
        (vec!["show", "--spec", spec], 0),
        (vec!["lint", "--spec", spec, &elf], 0),
        (vec!["diff", spec, "layouts/qemu-virt-multi.toml"], 1),
        (vec!["schema"], 0),
        (vec!["completions", "bash"], 0),
    ];
    for (args, code) in &commands {
        // A reader that has gone: the command keeps its status, no panic.
        let mut child = Command::new(LAYOUTGEN)
            .args(args)
            .current_dir(crate::support::root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(*code),
            "{args:?} | (closed): {}",
            text(&o.stderr)
        );
        assert!(
            !text(&o.stderr).contains("panicked"),
            "{args:?}: {}",
            text(&o.stderr)
        );
        // A full stdout: said, exit 2.
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let o = Command::new(LAYOUTGEN)
            .args(args)
            .current_dir(crate::support::root())
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?} >/dev/full: {}",
            text(&o.stderr)
        );
        assert!(
            text(&o.stderr).contains("cannot write to standard output"),
            "{args:?}: {}",
            text(&o.stderr)
        );
    }
    // The set was written in full, stamp included, however stdout ended.
    for f in [
        "layout.ld",
        "layout.rs",
        "layout.h",
        "layout.json",
        "layout.stamp",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
}

/// What lint's human and GitHub renderings of `elf` may not contain: a
/// control character other than the line breaks between lines, or a line
/// that GitHub Actions would run as a workflow command and we did not
/// write.
fn assert_no_injection(output: &str, ours: &[&str]) {
    for c in output.chars() {
        assert!(
            c == '\n' || !layoutgen::format::is_unprintable(c),
            "control character {c:?} reached the output:\n{output}"
        );
    }
    for line in output.lines().filter(|l| l.starts_with("::")) {
        assert!(
            ours.iter().any(|o| line.starts_with(o)),
            "a workflow command we did not write: {line}"
        );
    }
}

#[test]
fn no_untrusted_string_reaches_a_terminal_or_a_ci_log_raw() {
    let linked = elf_tools::link("qemu-virt-sv39", &LinkOpts::default());
    // A section renamed (same length) to an ESC sequence and a forged
    // workflow command.
    let mut data = linked.bytes();
    elf_tools::replace_in_section(&mut data, ".shstrtab", b".rodata", b"\x1b[2J\n::");
    let hostile = linked.write_variant("hostile.elf", &data);
    let hostile = hostile.to_str().unwrap();
    let spec = "layouts/qemu-virt-sv39.toml";
    for format in ["human", "github"] {
        let o = layoutgen(&["lint", "--spec", spec, "--format", format, hostile]);
        let out = text(&o.stdout);
        assert!(
            out.contains("\\u{1b}[2J\\u{a}::"),
            "{format}: the name is shown escaped:\n{out}"
        );
        assert_no_injection(
            &out,
            &["::error file=", "::warning file=", "::notice file="],
        );
    }
    // init --from-elf says it in its errors the same way.
    let dir = tempfile::tempdir().unwrap();
    let o = layoutgen(&[
        "init",
        "--from-elf",
        hostile,
        dir.path().join("s.toml").to_str().unwrap(),
    ]);
    assert_no_injection(&text(&o.stderr), &[]);
    assert_no_injection(&text(&o.stdout), &[]);

    // A lint reason with a line break or ESC in the spec is refused.
    for reason in [
        r#"ok\n::error file=x::owned"#,
        r#"red \u001b[31m"#,
        r#"\u202e"#,
    ] {
        let spec = format!(
            "{}\n[lint.LG006]\nlevel = \"allow\"\nreason = \"{reason}\"\n",
            specs::BASE
        );
        let err = specs::check_text(&spec, "reason.toml").expect_err(reason);
        assert!(
            err.iter().any(|d| d
                .message
                .contains("LG006.reason` holds a line break or control character")),
            "{reason}: {err:?}"
        );
    }
}
