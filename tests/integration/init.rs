//! `layoutgen init`: every spec it writes passes `layoutgen check`, for the
//! bundled layouts and for combinations of flags; it never overwrites a file
//! without --force and writes nothing when the options do not make a sound
//! layout.

use crate::support::cli::{init_overwrites_only_when_forced, layoutgen_in, text};
use crate::support::specs;

/// Runs `init ARGS` in a fresh directory, asserts success and that
/// `layoutgen check` accepts the spec; returns the spec text and stdout.
fn init_ok(args: &[&str], file: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut argv = vec!["init", file];
    argv.extend_from_slice(args);
    let o = layoutgen_in(&argv, dir.path());
    assert_eq!(o.status.code(), Some(0), "{argv:?}: {}", text(&o.stderr));
    let check = layoutgen_in(&["check", file], dir.path());
    assert_eq!(
        check.status.code(),
        Some(0),
        "{argv:?} wrote a spec that fails check:\n{}",
        text(&check.stderr)
    );
    let spec = std::fs::read_to_string(dir.path().join(file)).unwrap();
    (spec, text(&o.stdout))
}

#[test]
fn default_spec_passes_check_and_build_rs_lines_are_printed() {
    let dir = tempfile::tempdir().unwrap();
    let o = layoutgen_in(&["init"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.starts_with("wrote layout.toml"), "{out}");
    // What the 2 MiB section_align it starts from costs, and the way out.
    assert!(
        out.contains("image.section_align = 2 MiB: each of the 4 segments")
            && out.contains("at least 6 MiB")
            && out.contains("\"4KiB\" makes a small kernel small"),
        "{out}"
    );
    // The runtime crate is named, with the one line a kernel writes.
    assert!(out.contains("layoutgen_rt::entry!(Kernel)"), "{out}");
    // The ahead-of-time path comes first, layoutgen::Build after it.
    let aot = out
        .find("layoutgen_build::Outputs::new(\"layout\")")
        .expect("the layoutgen-build check is printed");
    let alternative = out
        .find("layoutgen::Build::new()")
        .expect("the alternative is printed");
    assert!(aot < alternative, "{out}");
    assert!(out.contains(".spec(\"layout.toml\")"), "{out}");
    assert!(
        out.contains("include!(concat!(env!(\"LAYOUTGEN_DIR\"), \"/layout.rs\"))"),
        "{out}"
    );
    // The printed command writes what the build.rs lines check.
    let command = crate::support::line_starting(&out, "layoutgen build ");
    let argv: Vec<&str> = command.split_whitespace().skip(1).collect();
    let build = layoutgen_in(&argv, dir.path());
    assert_eq!(build.status.code(), Some(0), "{}", text(&build.stderr));
    for file in ["layout.ld", "layout.rs", "layout.stamp"] {
        assert!(dir.path().join("layout").join(file).is_file(), "{file}");
    }
    let check = layoutgen_in(&["check", "layout.toml"], dir.path());
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    assert!(text(&check.stdout).contains("ok (my-kernel: sv39)"));
    // And it generates.
    let build = layoutgen_in(
        &["build", "--spec", "layout.toml", "--out-dir", "out"],
        dir.path(),
    );
    assert_eq!(build.status.code(), Some(0), "{}", text(&build.stderr));
    assert!(dir.path().join("out/layout.ld").exists());
}

#[test]
fn flag_combinations_pass_check() {
    let cases: &[&[&str]] = &[
        &["--modes", "sv39"],
        &["--modes", "sv48"],
        &["--modes", "sv57"],
        &["--modes", "sv39,sv48"],
        &["--modes", "sv48,sv57"],
        &["--modes", "sv57,sv39,sv48"],
        &["--ram-base", "0x4000_0000"],
        &["--ram-base", "0x1_0000_0000", "--modes", "sv48"],
        // Only 2 MiB-aligned: the linear map falls back to 2 MiB leaves.
        &["--ram-base", "0x8020_0000"],
        &["--ram-size", "2GiB"],
        &["--ram-size", "128GiB"],
        &["--ram-size", "1TiB", "--modes", "sv48,sv57"],
        &["--load-addr", "0x8040_0000"],
        &["--load-addr", "0x8000_0000", "--ram-size", "1GiB"],
        &[
            "--ram-base",
            "0x2000_0000",
            "--ram-size",
            "512MiB",
            "--load-addr",
            "0x2020_0000",
            "--modes",
            "sv39,sv48,sv57",
            "--name",
            "board-7",
        ],
    ];
    for args in cases {
        let (spec, _) = init_ok(args, "spec.toml");
        assert!(spec.contains("name = \""), "{args:?}");
    }
}

#[test]
fn flags_reach_the_spec() {
    let (spec, _) = init_ok(
        &[
            "--ram-base",
            "0x4000_0000",
            "--ram-size",
            "64GiB",
            "--modes",
            "sv48,sv39",
        ],
        "board.toml",
    );
    assert!(spec.contains("name = \"board\""), "{spec}");
    assert!(spec.contains("modes = [\"sv39\", \"sv48\"]"), "{spec}");
    assert!(spec.contains("base = \"0x4000_0000\""), "{spec}");
    assert!(spec.contains("max_size = \"64GiB\""), "{spec}");
    assert!(spec.contains("load = \"0x4020_0000\""), "{spec}");
    assert!(
        spec.contains("size = { sv39 = \"128GiB\", sv48 = \"64TiB\" }"),
        "{spec}"
    );
    let (spec, _) = init_ok(&["--ram-base", "0x8020_0000"], "spec.toml");
    assert!(
        spec.contains("leaf = \"2MiB\"\ndescription = \"direct mapping"),
        "{spec}"
    );
}

#[test]
fn every_bundled_layout_can_start_a_spec() {
    for name in [
        "qemu-virt-sv39",
        "qemu-virt-multi",
        "qemu-virt-semipic",
        "qemu-virt-in-linear-map",
        "linux-riscv64",
    ] {
        let (spec, _) = init_ok(&["--from", name], "spec.toml");
        assert_eq!(spec, specs::text(name), "{name}");
        let (renamed, _) = init_ok(&["--from", name, "--name", "mine"], "spec.toml");
        assert!(renamed.contains("\nname = \"mine\"\n"), "{name}");
    }
}

#[test]
fn existing_files_are_kept_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let spec = init_overwrites_only_when_forced(
        &["init"],
        dir.path(),
        "# mine\n",
        "layout.toml exists; pass --force",
    );
    assert!(
        spec.starts_with("# Generated by `layoutgen init`"),
        "{spec}"
    );
}

#[test]
fn unsound_options_write_nothing_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["--ram-size", "1TiB"], "does not fit the sv39 linear map"),
        (&["--load-addr", "0x8010_0000"], "not a multiple of 2 MiB"),
        (
            &["--load-addr", "0x1_8000_0000", "--ram-size", "1GiB"],
            "outside RAM",
        ),
        (&["--ram-base", "0x8000_0800"], "not 4 KiB-aligned"),
        (&["--ram-size", "16GB"], "--ram-size"),
        (&["--ram-base", "vmalloc.start"], "--ram-base"),
        (&["--ram-size", "0"], "larger than zero"),
        // The name reaches generated code: the checks reject it, pointing into the spec.
        (&["--name", "My Kernel"], "<generated spec>:"),
        (&["--modes", "sv64"], "sv64"),
        (
            &["--from", "qemu-virt-sv39", "--modes", "sv48"],
            "cannot be used with",
        ),
        (&["--from", "no-such-layout"], "qemu-virt-sv39"),
    ];
    for (args, message) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut argv = vec!["init"];
        argv.extend_from_slice(args);
        let o = layoutgen_in(&argv, dir.path());
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{argv:?}: {err}");
        assert!(err.contains(message), "{argv:?}: {err}");
        assert!(
            !dir.path().join("layout.toml").exists(),
            "{argv:?} wrote a file"
        );
    }
}

#[test]
fn missing_directories_are_created() {
    let dir = tempfile::tempdir().unwrap();
    let o = layoutgen_in(&["init", "boards/virt/board.toml"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let spec = std::fs::read_to_string(dir.path().join("boards/virt/board.toml")).unwrap();
    assert!(spec.contains("name = \"board\""), "{spec}");
}

#[test]
fn an_unwritable_path_is_reported_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), "").unwrap();
    let o = layoutgen_in(&["init", "file/layout.toml"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("cannot write file"), "{err}");
}

#[test]
fn every_shape_starts_a_sound_spec_of_that_shape() {
    let layout_of = |spec: &str| crate::support::specs::check_text(spec, "s.toml").unwrap();

    let (spec, _) = init_ok(&["--shape", "bare"], "fw.toml");
    let l = layout_of(&spec);
    assert_eq!(l.modes.len(), 1);
    assert!(l.modes[0].mode.is_bare(), "bare: no paging");
    assert_eq!(l.modes[0].page_offset, None, "bare: no linear map");
    assert_eq!(l.modes[0].image_link, l.ram.load, "bare: runs where loaded");

    let (spec, _) = init_ok(&["--shape", "identity"], "xv6.toml");
    let l = layout_of(&spec);
    let m = &l.modes[0];
    assert_eq!(m.image_offset, 0, "identity: VA = PA");
    assert!(
        m.image_link < m.mode.user_half_end(),
        "identity: lower half"
    );
    assert_eq!(m.page_offset, Some(l.ram.base), "identity map of RAM");

    let (spec, _) = init_ok(&["--shape", "linux"], "vmlinux.toml");
    let l = layout_of(&spec);
    assert!(
        l.modes
            .iter()
            .all(|m| m.image_link == 0xffff_ffff_8000_0000)
    );
    assert_eq!(l.image.phys_align, Some(2 << 20));
}

/// Without --from-elf a shape is a bundled layout, with nothing to steer
/// (with --from-elf the options steer it: init_from_elf.rs).
#[test]
fn shape_conflicts_with_the_other_sources() {
    let dir = tempfile::tempdir().unwrap();
    for extra in [
        &["--from", "qemu-virt-sv39"][..],
        &["--modes", "sv48"],
        &["--ram-base", "0x8000_0000"],
        &["--load-addr", "0x8020_0000"],
        &["--ram-size", "1GiB"],
    ] {
        let mut argv = vec!["init", "x.toml", "--shape", "bare"];
        argv.extend_from_slice(extra);
        let o = layoutgen_in(&argv, dir.path());
        assert_eq!(o.status.code(), Some(2), "{argv:?}");
        assert!(text(&o.stderr).contains("cannot be used with"), "{argv:?}");
    }
    assert!(!dir.path().join("x.toml").exists());
}

#[test]
fn arch_aarch64_starts_an_aarch64_spec() {
    let (spec, _) = init_ok(&["--arch", "aarch64"], "a64.toml");
    let l = crate::support::specs::check_text(&spec, "a64.toml").unwrap();
    assert_eq!(l.arch, layoutgen::arch::Arch::Aarch64);
    assert!(
        l.modes
            .iter()
            .all(|m| m.mode.arch() == Some(layoutgen::arch::Arch::Aarch64))
    );
    let dir = tempfile::tempdir().unwrap();
    let o = layoutgen_in(
        &["init", "x.toml", "--arch", "aarch64", "--shape", "bare"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
}
