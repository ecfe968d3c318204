//! One benchmark report (`cargo bench --bench report`, or `scripts/bench`
//! which also saves it to docs/benchmarks.md). Medians of repeated runs, and
//! ratios against named baselines; nothing here asserts a time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_runs(n: usize, mut f: impl FnMut()) -> Duration {
    f(); // warm the page cache
    median(
        (0..n)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn bundled_layouts() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("layouts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

fn generation() {
    println!(
        "## layoutgen build, per bundled layout (median of 30 process runs; target < 10 ms)\n"
    );
    println!("| layout | process wall time | in-process (load+check+render, median of 200) |");
    println!("|---|---|---|");
    let exe = env!("CARGO_BIN_EXE_layoutgen");
    let out = tempfile_dir("gen");
    let templates = layoutgen::Templates::new(None).unwrap();
    for spec in bundled_layouts() {
        let process = time_runs(30, || {
            run(Command::new(exe)
                .args(["build", "--spec"])
                .arg(&spec)
                .arg("--out-dir")
                .arg(&out));
        });
        let in_process = time_runs(200, || {
            let layout = layoutgen::load_checked(&spec).unwrap();
            for o in layoutgen::Output::ALL {
                std::hint::black_box(templates.render(&layout, o).unwrap());
            }
        });
        println!(
            "| {} | {} | {:.1} µs |",
            spec.file_name().unwrap().to_string_lossy(),
            ms(process),
            in_process.as_secs_f64() * 1e6
        );
    }
    println!();
}

fn tempfile_dir(name: &str) -> PathBuf {
    let d = root().join("target").join("bench").join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A no-op `cargo build` of a crate that uses the build.rs API, against the
/// same crate without it: once with no build script at all, and once with a
/// hand-written build script that passes a committed linker script (what a
/// kernel does without layoutgen).
fn build_rs_overhead() {
    println!(
        "## build.rs no-op overhead (median of 15 no-op `cargo build`s; target ratio <= 1.05)\n"
    );
    let base = tempfile_dir("noop");
    let spec = root().join("layouts/qemu-virt-sv39.toml");
    let make = |name: &str, build_rs: Option<String>, dep: bool| -> PathBuf {
        let dir = base.join(name);
        let _ = std::fs::remove_dir_all(dir.join("src"));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let mut manifest = format!(
            "[package]\nname = \"noop-{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n"
        );
        if dep {
            manifest += &format!(
                "\n[build-dependencies]\nlayoutgen = {{ path = {:?}, default-features = false }}\n",
                root().display().to_string()
            );
        }
        let _ = std::fs::remove_file(dir.join("build.rs"));
        if let Some(code) = build_rs {
            std::fs::write(dir.join("build.rs"), code).unwrap();
        }
        std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        std::fs::write(dir.join("src/lib.rs"), "pub fn f() -> u32 { 1 }\n").unwrap();
        std::fs::write(dir.join("link.ld"), "/* hand-kept */\n").unwrap();
        // Share the repository's lock file so the build is offline and pinned.
        std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        dir
    };
    let by_hand = "fn main() {\n    println!(\"cargo:rerun-if-changed=link.ld\");\n    println!(\"cargo:rustc-link-arg=-Tlink.ld\");\n}\n".to_string();
    let with_layoutgen = format!(
        "fn main() {{ layoutgen::Build::new().spec({:?}).compile(); }}\n",
        spec.display().to_string()
    );
    let variants = [
        ("none", "no build script", None, false),
        (
            "by-hand",
            "hand-written build.rs + committed linker script",
            Some(by_hand),
            false,
        ),
        (
            "layoutgen",
            "layoutgen::Build (default-features = false)",
            Some(with_layoutgen),
            true,
        ),
    ];
    let mut noop = Vec::new();
    for (name, what, code, dep) in variants {
        let dir = make(name, code, dep);
        let cargo = || {
            let mut c = Command::new(env!("CARGO"));
            c.args(["build", "-q", "--offline"]).current_dir(&dir);
            c
        };
        let cold = Instant::now();
        run(&mut cargo());
        let cold = cold.elapsed();
        let t = time_runs(15, || run(&mut cargo()));
        println!("- {what}: first build {}, no-op build {}", ms(cold), ms(t));
        noop.push(t);
    }
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!(
        "- ratio layoutgen / hand-written build.rs: {:.3}\n- ratio layoutgen / no build script: {:.3}\n",
        ratio(noop[2], noop[1]),
        ratio(noop[2], noop[0])
    );
}

/// Other parts of the report live in their own scripts (kernel, lint).
fn external(script: &str, title: &str) {
    let path = root().join("scripts").join(script);
    println!("## {title} (`scripts/{script}`)\n");
    println!("```text");
    if path.exists() {
        let status = Command::new("bash")
            .arg(&path)
            .current_dir(root())
            .status()
            .expect("run script");
        assert!(status.success(), "{script} failed");
        println!("```\n");
    } else {
        panic!("scripts/{script} is missing");
    }
}

/// A script that prints its own markdown sections (headings included).
fn external_markdown(script: &str, args: &[&str]) {
    let path = root().join("scripts").join(script);
    assert!(path.exists(), "scripts/{script} is missing");
    let status = Command::new("bash")
        .arg(&path)
        .args(args)
        .current_dir(root())
        .status()
        .expect("run script");
    assert!(status.success(), "{script} failed");
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not run this.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    generation();
    build_rs_overhead();
    external(
        "bench-kernel",
        "Sample kernel: cold and no-op build, QEMU boot to RESULT (medians)",
    );
    external(
        "bench-lint",
        "layoutgen lint on a distro-sized synthetic vmlinux vs nm -n",
    );
    external_markdown("bench-code-models", &[]);
}
