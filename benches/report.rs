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
            let layout = layoutgen::load(&spec, &Default::default()).unwrap();
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

/// What a kernel's build script costs, against the same crate with a
/// hand-written build.rs that passes a committed linker script (what a kernel
/// does without layoutgen, and about what riscv-rt/cortex-m-rt cost): cold
/// builds (fresh target dir) and no-op `cargo build`s, in paired rounds that
/// run every variant once each, in a rotating order, so that load from other
/// processes hits all of them alike. Medians, and the median of the paired
/// ratios.
fn build_rs_overhead() {
    const COLD_ROUNDS: usize = 3;
    const NOOP_ROUNDS: usize = 41;
    println!(
        "## build.rs cost: ahead-of-time (layoutgen-build) and layoutgen::Build against a hand-written build.rs\n"
    );
    println!(
        "Paired, interleaved rounds: {COLD_ROUNDS} cold builds (fresh target dir) and {NOOP_ROUNDS} no-op `cargo build`s per variant, \
         in a rotating order; medians. Targets: AOT no-op <= 1.10x hand-written, AOT cold build <= 4 s.\n"
    );
    let base = tempfile_dir("noop");
    let spec = root().join("layouts/qemu-virt-sv39.toml");
    let make = |name: &str, build_rs: Option<String>, deps: &str| -> PathBuf {
        let dir = base.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let mut manifest = format!(
            "[package]\nname = \"noop-{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n"
        );
        if !deps.is_empty() {
            manifest += &format!("\n[build-dependencies]\n{deps}\n");
        }
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
    let path_of = |p: &Path| format!("{:?}", p.display().to_string());
    let by_hand = "fn main() {\n    println!(\"cargo:rerun-if-changed=link.ld\");\n    println!(\"cargo:rustc-link-arg=-Tlink.ld\");\n}\n".to_string();
    let aot = format!(
        "fn main() {{\n    layoutgen_build::Outputs::new(\"layout\")\n        .spec({})\n        .dir_env(\"LAYOUTGEN_OUT\")\n        .verify();\n}}\n",
        path_of(&spec)
    );
    let with_layoutgen = format!(
        "fn main() {{ layoutgen::Build::new().spec({}).compile(); }}\n",
        path_of(&spec)
    );
    struct Variant {
        what: &'static str,
        dir: PathBuf,
        cold: Vec<Duration>,
        noop: Vec<Duration>,
        noop_cpu: Vec<Duration>,
    }
    let mut variants: Vec<Variant> = [
        ("none", "no build script", None, String::new()),
        (
            "by-hand",
            "hand-written build.rs + committed linker script (baseline)",
            Some(by_hand),
            String::new(),
        ),
        (
            "aot",
            "ahead-of-time: committed `layoutgen build` outputs + layoutgen-build check",
            Some(aot),
            format!(
                "layoutgen-build = {{ path = {} }}",
                path_of(&root().join("layoutgen-build"))
            ),
        ),
        (
            "layoutgen",
            "layoutgen::Build (default-features = false)",
            Some(with_layoutgen),
            format!(
                "layoutgen = {{ path = {}, default-features = false }}",
                path_of(root())
            ),
        ),
    ]
    .into_iter()
    .map(|(name, what, code, deps)| Variant {
        what,
        dir: make(name, code, &deps),
        cold: Vec::new(),
        noop: Vec::new(),
        noop_cpu: Vec::new(),
    })
    .collect();
    // The AOT crate's committed outputs, as its README says to make them.
    run(Command::new(env!("CARGO_BIN_EXE_layoutgen"))
        .args(["build", "--spec"])
        .arg(&spec)
        .args(["--out-dir", "layout", "--emit", "ld,rs"])
        .current_dir(&variants[2].dir));

    let cargo = |dir: &Path| {
        let mut c = Command::new(env!("CARGO"));
        c.args(["build", "-q", "--offline"])
            .current_dir(dir)
            .env_remove("LAYOUTGEN_OUT")
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS");
        c
    };
    let n = variants.len();
    for round in 0..COLD_ROUNDS {
        for k in 0..n {
            let v = &mut variants[(round + k) % n];
            let _ = std::fs::remove_dir_all(v.dir.join("target"));
            let t = Instant::now();
            run(&mut cargo(&v.dir));
            v.cold.push(t.elapsed());
        }
    }
    for round in 0..NOOP_ROUNDS {
        for k in 0..n {
            let v = &mut variants[(round + k) % n];
            let (wall, cpu) = run_timed(&mut cargo(&v.dir));
            v.noop.push(wall);
            v.noop_cpu.push(cpu);
        }
    }
    let s = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    let paired = |a: &[Duration], b: &[Duration]| {
        median_f64(
            a.iter()
                .zip(b)
                .map(|(x, y)| x.as_secs_f64() / y.as_secs_f64())
                .collect(),
        )
    };
    println!(
        "| build script | cold build | no-op build, wall | no-op / hand-written, wall | no-op build, CPU | no-op / hand-written, CPU |"
    );
    println!("|---|---|---|---|---|---|");
    let (base_wall, base_cpu) = (variants[1].noop.clone(), variants[1].noop_cpu.clone());
    for v in &variants {
        println!(
            "| {} | {} | {} | {:.3} | {} | {:.3} |",
            v.what,
            s(median(v.cold.clone())),
            ms(median(v.noop.clone())),
            paired(&v.noop, &base_wall),
            ms(median(v.noop_cpu.clone())),
            paired(&v.noop_cpu, &base_cpu),
        );
    }
    println!(
        "\nRatios are medians of the paired per-round ratios. CPU: user + system time of cargo and the processes it waited for (wait4), which other load on the machine does not inflate.\n"
    );
    println!(
        "- no-op build, ahead-of-time / hand-written: wall {:.3}, CPU {:.3} (target <= 1.10); layoutgen::Build / hand-written: wall {:.3}, CPU {:.3}",
        paired(&variants[2].noop, &base_wall),
        paired(&variants[2].noop_cpu, &base_cpu),
        paired(&variants[3].noop, &base_wall),
        paired(&variants[3].noop_cpu, &base_cpu),
    );
    println!(
        "- cold build, ahead-of-time crate (layoutgen-build compiled + check run): {} (target <= 4 s); layoutgen::Build: {}; hand-written: {}",
        s(median(variants[2].cold.clone())),
        s(median(variants[3].cold.clone())),
        s(median(variants[1].cold.clone()))
    );
    let packages = |dir: &Path| {
        let out = Command::new(env!("CARGO"))
            .args([
                "tree",
                "-q",
                "--offline",
                "-e",
                "normal,build",
                "--prefix",
                "none",
            ])
            .current_dir(dir)
            .output()
            .expect("cargo tree");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut names: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        names.sort();
        names.dedup();
        names.len().saturating_sub(1) // the crate itself
    };
    println!(
        "- build-dependency packages (`cargo tree -e normal,build`, the crate itself not counted): ahead-of-time {}, layoutgen::Build {}, hand-written 0\n",
        packages(&variants[2].dir),
        packages(&variants[3].dir)
    );
}

/// Runs `cmd` to completion: its wall time, and the CPU time (user + system)
/// of it and the children it waited for, which load from other processes
/// on the machine does not inflate.
#[allow(clippy::zombie_processes)] // reaped by wait4, not Child::wait
fn run_timed(cmd: &mut Command) -> (Duration, Duration) {
    let t = Instant::now();
    let child = cmd
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 writes it for our child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: plain syscall on our own child's pid with valid out pointers.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let wall = t.elapsed();
    assert_eq!(pid, child.id() as libc::pid_t, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed"
    );
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (wall, tv(usage.ru_utime) + tv(usage.ru_stime))
}

fn median_f64(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
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
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    // `cargo bench --bench report -- build-rs` runs one section (while
    // working on it); scripts/bench runs them all.
    let only: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(String::as_str)
        .collect();
    let on = |name: &str| only.is_empty() || only.contains(&name);
    if on("generation") {
        generation();
    }
    if on("build-rs") {
        build_rs_overhead();
    }
    if on("kernel") {
        external(
            "bench-kernel",
            "Sample kernel: cold and no-op build, QEMU boot to RESULT (medians)",
        );
    }
    if on("lint") {
        external(
            "bench-lint",
            "layoutgen lint on a distro-sized synthetic vmlinux vs nm -n",
        );
    }
    if on("code-models") {
        external_markdown("bench-code-models", &[]);
    }
}
