//! What the code-model table and the conversion table in docs/benchmarks.md
//! rely on (`scripts/bench-code-models` prints them), and the layout whose
//! boot loader picks both addresses (`qemu-virt-bootpick`).
//!
//! Asserts behaviour only: relocation and GOT facts read from the built
//! ELFs, instruction/load/branch counts of the conversion probes, and what
//! the kernel prints at boot. Never timings or instret values.
//!
//! Like `sample_kernel` these fail (they do not skip) when QEMU, the riscv64
//! target or riscv64-linux-gnu binutils are missing.

use crate::support::readelf::Readelf;
use crate::support::sample_kernels::{self, Builds, RISCV_TARGET, build_once};
use crate::support::{qemu, root, specs};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

const QEMU: &str = "qemu-system-riscv64";
const OBJDUMP: &str = "riscv64-linux-gnu-objdump";
const READELF: &str = "riscv64-linux-gnu-readelf";
const OBJCOPY: &str = "riscv64-linux-gnu-objcopy";
const BOOT_TIMEOUT: Duration = Duration::from_secs(30);

/// `layouts/NAME.toml`, or the sample kernel's own variants in
/// `sample-kernel/layouts/`.
fn spec(name: &str) -> PathBuf {
    let bundled = specs::path(name);
    if bundled.exists() {
        bundled
    } else {
        root()
            .join("sample-kernel")
            .join("layouts")
            .join(format!("{name}.toml"))
    }
}

fn work_dir() -> PathBuf {
    root().join("target").join("code-models")
}

fn tool(name: &str, args: &[&str]) -> String {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {name} (apt-get install -y binutils-riscv64-linux-gnu qemu-system-misc): {e}"));
    assert!(
        out.status.success(),
        "{name} {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The kernel built for `layout` with extra rustc flags for the kernel
/// crate (`cargo rustc -- FLAGS`), copied to its own file. Builds share one
/// target dir and run one at a time; each variant is built once.
fn kernel(name: &str, layout: &str, flags: &[&str]) -> PathBuf {
    static BUILDS: Builds = OnceLock::new();
    static CARGO: Mutex<()> = Mutex::new(());
    build_once(&BUILDS, name, || {
        let _serial = CARGO.lock().unwrap_or_else(|e| e.into_inner());
        let target_dir = work_dir().join("cargo");
        sample_kernels::run_build(
            sample_kernels::cargo(
                &root().join("sample-kernel"),
                &["rustc", "--release", "--quiet", "--"],
            )
            .args(flags)
            .env("CARGO_TARGET_DIR", &target_dir)
            .env(
                "LAYOUTGEN_OUT",
                sample_kernels::kernel_layout_of(&spec(layout)),
            ),
            &format!(
                "sample-kernel ({name}: {layout} {flags:?}; it needs `rustup target add {RISCV_TARGET}`)"
            ),
        )?;
        let elf_dir = work_dir().join("elf");
        std::fs::create_dir_all(&elf_dir).map_err(|e| e.to_string())?;
        let dst = elf_dir.join(name);
        std::fs::copy(
            target_dir
                .join(RISCV_TARGET)
                .join("release")
                .join("sample-kernel"),
            &dst,
        )
        .map_err(|e| e.to_string())?;
        Ok(dst)
    })
}

fn fixed() -> PathBuf {
    kernel("fixed", "qemu-virt-semipic-fixed", &[])
}
fn semi_pic() -> PathBuf {
    kernel("semi-pic", "qemu-virt-semipic", &[])
}
fn pie() -> PathBuf {
    kernel("pie", "qemu-virt-pie", &["-C", "relocation-model=pie"])
}
fn pic() -> PathBuf {
    kernel("pic", "qemu-virt-pie", &["-C", "relocation-model=pic"])
}

/// Runs QEMU with `args`; returns (console output, exit status).
fn boot_qemu(args: &[String]) -> (String, i32) {
    let mut cmd = Command::new(QEMU);
    cmd.args(["-machine", "virt", "-nographic", "-bios", "default"])
        .args(args);
    let b = qemu::run(cmd, BOOT_TIMEOUT, "sample-kernel:");
    (b.output, b.status)
}

fn passes(out: &str, status: i32, what: &str) {
    assert!(
        status == 0 && out.lines().any(|l| l == "RESULT: PASS"),
        "{what}: status {status}, output:\n{out}"
    );
}

/// `key=value` from the line starting with `prefix`.
fn field<'a>(out: &'a str, prefix: &str, key: &str) -> &'a str {
    let line = crate::support::line_starting(out, prefix);
    line.split(' ')
        .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {key}= in `{line}`"))
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or_else(|_| panic!("not hex: {s}"))
}

/// (address, size) of a section, if present.
fn section(elf: &Path, name: &str) -> Option<(u64, u64)> {
    Readelf::of(elf)
        .sections
        .iter()
        .find(|s| s.name == name)
        .map(|s| (s.addr, s.size))
}

/// Relocation types in one relocation section, in order.
fn relocs(elf: &Path, rela: &str) -> Vec<String> {
    Readelf::of(elf)
        .relocations_in(rela)
        .map(|r| r.kind.clone())
        .collect()
}

/// One disassembled instruction: mnemonic and the address in objdump's
/// `# <addr>` comment (the PC-relative target), if any.
struct Insn {
    op: String,
    target: Option<u64>,
}

/// (address, size) of a function symbol, from the symbol table.
fn symbol(elf: &Path, name: &str) -> (u64, u64) {
    let out = tool(READELF, &["-sW", elf.to_str().unwrap()]);
    out.lines()
        .find_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() >= 8 && w[3] == "FUNC" && w[7] == name)
                .then(|| (hex(w[1]), w[2].parse().unwrap()))
        })
        .unwrap_or_else(|| panic!("no function {name} in {}", elf.display()))
}

/// The instructions of `symbol` (or of all code when None). A function is
/// disassembled by its address range: LLVM merges identical functions, and
/// objdump names such code after only one of the symbols at its address.
fn disassemble(elf: &Path, symbol_name: Option<&str>) -> Vec<Insn> {
    let mut args = vec!["-d".to_string(), "--no-show-raw-insn".to_string()];
    if let Some(s) = symbol_name {
        let (addr, size) = symbol(elf, s);
        args.push(format!("--start-address={addr:#x}"));
        args.push(format!("--stop-address={:#x}", addr + size));
    }
    args.push(elf.to_str().unwrap().to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    tool(OBJDUMP, &args)
        .lines()
        .filter_map(|l| {
            let (addr, rest) = l.split_once(":\t")?;
            if addr.trim().is_empty() || !addr.trim().chars().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            let op = rest.split_whitespace().next()?.to_string();
            let target = rest
                .split_once("# ")
                .and_then(|(_, c)| c.split_whitespace().next())
                .and_then(|a| u64::from_str_radix(a, 16).ok());
            Some(Insn { op, target })
        })
        .collect()
}

fn is_load(op: &str) -> bool {
    let op = op.strip_prefix("c.").unwrap_or(op);
    matches!(
        op,
        "lb" | "lh" | "lw" | "ld" | "lbu" | "lhu" | "lwu" | "flw" | "fld" | "lwsp" | "ldsp"
    )
}

fn is_branch(op: &str) -> bool {
    let op = op.strip_prefix("c.").unwrap_or(op);
    matches!(
        op,
        "beq"
            | "bne"
            | "blt"
            | "bge"
            | "bltu"
            | "bgeu"
            | "beqz"
            | "bnez"
            | "blez"
            | "bgez"
            | "bltz"
            | "bgtz"
            | "bgt"
            | "ble"
            | "bgtu"
            | "bleu"
    )
}

/// `ld`s whose PC-relative target lies in `.got`.
fn got_loads(elf: &Path, symbol: Option<&str>) -> usize {
    let Some((got, size)) = section(elf, ".got") else {
        return 0;
    };
    disassemble(elf, symbol)
        .iter()
        .filter(|i| i.op == "ld" && i.target.is_some_and(|t| t >= got && t < got + size))
        .count()
}

/// Boots a code-model variant with a fixed seed; returns the output.
fn boot_variant(elf: &Path) -> String {
    let (out, status) = boot_qemu(&[
        "-icount".into(),
        "shift=0".into(),
        "-append".into(),
        "kaslr_seed=1".into(),
        "-kernel".into(),
        elf.display().to_string(),
    ]);
    passes(&out, status, &elf.display().to_string());
    out
}

#[test]
fn fixed_image_has_no_dynamic_relocations_and_no_got() {
    let elf = fixed();
    assert!(relocs(&elf, ".rela.dyn").is_empty());
    assert!(
        !relocs(&elf, ".rela.text")
            .iter()
            .any(|t| t == "R_RISCV_GOT_HI20")
    );
    assert_eq!(got_loads(&elf, None), 0);
    let out = boot_variant(&elf);
    assert_eq!(field(&out, "bench:", "relocations"), "0");
}

#[test]
fn semi_pic_image_has_no_got_loads_and_only_relative_relocations() {
    let elf = semi_pic();
    let dynamic = relocs(&elf, ".rela.dyn");
    assert!(
        !dynamic.is_empty(),
        "a semi-PIC image has absolute words to fix"
    );
    assert!(
        dynamic.iter().all(|t| t == "R_RISCV_RELATIVE"),
        "only R_RISCV_RELATIVE: {dynamic:?}"
    );
    let text = relocs(&elf, ".rela.text");
    assert!(!text.is_empty(), "--emit-relocs keeps .rela.text");
    assert!(
        !text.iter().any(|t| t.starts_with("R_RISCV_GOT")),
        "no GOT-relative relocation in the code"
    );
    assert_eq!(section(&elf, ".got").map_or(0, |g| g.1), 0, "empty .got");
    assert_eq!(got_loads(&elf, None), 0);
    // The workload reaches its globals PC-relatively (auipc + addi).
    let step = disassemble(&elf, Some("workload_step"));
    assert!(step.iter().any(|i| i.op == "auipc"));
    boot_applies_every_relocation(&elf, &dynamic);
}

/// `elf` boots, and its kernel reports applying every relocation the link
/// lists (`dynamic`, its .rela.dyn).
#[track_caller]
fn boot_applies_every_relocation(elf: &Path, dynamic: &[String]) {
    let out = boot_variant(elf);
    assert_eq!(
        field(&out, "bench:", "relocations"),
        dynamic.len().to_string()
    );
}

#[test]
fn pie_and_pic_images_load_globals_through_the_got() {
    for (name, elf) in [("pie", pie()), ("pic", pic())] {
        let got_relocs = relocs(&elf, ".rela.text")
            .iter()
            .filter(|t| *t == "R_RISCV_GOT_HI20")
            .count();
        assert!(got_relocs > 0, "{name}: GOT-relative code");
        // Every R_RISCV_GOT_HI20 pairs with one `ld` from .got (lld does not
        // relax them: Rust objects carry no R_RISCV_RELAX).
        assert_eq!(got_loads(&elf, None), got_relocs, "{name}");
        assert!(got_loads(&elf, Some("workload_step")) > 0, "{name}");
        let (_, got_size) = section(&elf, ".got").expect(".got");
        assert!(got_size > 0);
        // The GOT's words are fixed up like every other absolute word.
        let dynamic = relocs(&elf, ".rela.dyn");
        assert!(
            dynamic.iter().all(|t| t == "R_RISCV_RELATIVE"),
            "{name}: {dynamic:?}"
        );
        assert!(dynamic.len() > relocs(&semi_pic(), ".rela.dyn").len());
        boot_applies_every_relocation(&elf, &dynamic);
    }
}

#[test]
fn every_code_model_computes_the_same_workload() {
    let sums: Vec<String> = [fixed(), semi_pic(), pie(), pic()]
        .iter()
        .map(|e| field(&boot_variant(e), "bench:", "checksum").to_string())
        .collect();
    assert!(sums.windows(2).all(|w| w[0] == w[1]), "{sums:?}");
}

/// (instructions, loads, branches) of a conversion probe.
fn counts(elf: &Path, probe: &str) -> (usize, usize, usize) {
    let insns = disassemble(elf, Some(probe));
    assert!(
        insns.last().is_some_and(|i| i.op == "ret"),
        "{probe} is one straight function ending in ret"
    );
    (
        insns.len(),
        insns.iter().filter(|i| is_load(&i.op)).count(),
        insns.iter().filter(|i| is_branch(&i.op)).count(),
    )
}

#[test]
fn conversions_in_the_disassembly() {
    // A mode-free conversion is materialise-a-constant, add, ret: no load,
    // no branch. (The constant takes 1-2 instructions: li + sll here.)
    let constant = |elf: &Path, probe: &str| {
        let (n, loads, branches) = counts(elf, probe);
        assert!(n <= 4, "{probe}: {n} instructions");
        assert_eq!((loads, branches), (0, 0), "{probe}");
    };
    for layout in ["qemu-virt-sv39", "qemu-virt-multi-onemap"] {
        let elf = kernel(&format!("conv-{layout}"), layout, &[]);
        for p in [
            "probe_phys_to_virt",
            "probe_virt_to_phys",
            "probe_kernel_virt_to_phys",
        ] {
            constant(&elf, p);
        }
    }

    // Per-mode linear maps: the offset the boot code recorded once
    // (`Running::record`) is one load, with no branch, as Linux's `__va`
    // reads `kernel_map.va_pa_offset`.
    let multi = kernel("conv-qemu-virt-multi", "qemu-virt-multi", &[]);
    for p in ["probe_phys_to_virt", "probe_virt_to_phys"] {
        let (_, loads, branches) = counts(&multi, p);
        assert_eq!((loads, branches), (1, 0), "{p}");
    }
    constant(&multi, "probe_kernel_virt_to_phys");
    constant(&multi, "probe_kernel_phys_to_virt");

    // Semi-PIC: the linear map is constant, the image's offset is chosen at
    // boot and loaded.
    let semipic = semi_pic();
    constant(&semipic, "probe_phys_to_virt");
    constant(&semipic, "probe_virt_to_phys");
    for p in ["probe_kernel_virt_to_phys", "probe_kernel_phys_to_virt"] {
        let (_, loads, branches) = counts(&semipic, p);
        assert_eq!((loads, branches), (1, 0), "{p}");
    }

    // The image inside the linear map at the loader's address: its own
    // addresses convert like the linear map's, a constant again.
    let bootpick = kernel("bootpick", BOOTPICK, &[]);
    for p in [
        "probe_phys_to_virt",
        "probe_virt_to_phys",
        "probe_kernel_virt_to_phys",
    ] {
        constant(&bootpick, p);
    }
}

// --- the boot loader picks both addresses -----------------------------------

const BOOTPICK: &str = "qemu-virt-bootpick";
const BOOTPICK_RAM: &str = "512M";

/// A flat binary of the bootpick kernel (what a boot loader places).
fn bootpick_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let elf = kernel("bootpick", BOOTPICK, &[]);
        let bin = elf.with_extension("bin");
        tool(
            OBJCOPY,
            &["-O", "binary", elf.to_str().unwrap(), bin.to_str().unwrap()],
        );
        bin
    })
    .clone()
}

/// The first stage OpenSBI enters at 0x80200000, which jumps to the
/// kernel's physical address (a0 and a1 untouched).
fn stage0(pa: u64) -> PathBuf {
    sample_kernels::stage0(&work_dir(), pa)
}

fn boot_at(pa: u64) -> (String, i32) {
    let bin = bootpick_bin();
    boot_qemu(&[
        "-m".into(),
        BOOTPICK_RAM.into(),
        "-kernel".into(),
        stage0(pa).display().to_string(),
        "-device".into(),
        format!("loader,file={},addr={pa:#x},force-raw=on", bin.display()),
    ])
}

#[test]
fn bootpick_runs_where_the_linear_map_maps_its_physical_address() {
    let layout = layoutgen::load(&spec(BOOTPICK), &Default::default()).expect("valid layout");
    let mode = &layout.modes[0];
    let offset = mode.linear_offset.expect("a linear map");
    assert!(mode.image_in_linear_map);
    let align = layout.image.phys_align.expect("phys_align");
    let mut seen = Vec::new();
    for pa in [0x8040_0000u64, 0x8600_0000, 0x9a20_0000] {
        assert_eq!(pa % align, 0);
        let (out, status) = boot_at(pa);
        passes(&out, status, &format!("bootpick at {pa:#x}"));
        let va = pa.wrapping_add(offset);
        assert!(
            out.contains(&format!("sample-kernel: entered at {pa:#x} (MMU off)")),
            "{out}"
        );
        assert!(
            out.contains(&format!(
                "kaslr: from the physical address: pa {pa:#x} -> va {va:#x}"
            )),
            "{out}"
        );
        assert_eq!(hex(field(&out, "layout:", "kernel_run")), va);
        assert_eq!(
            hex(field(&out, "layout:", "kernel_link")),
            layout.modes[0].image_link
        );
        seen.push(va);
    }
    seen.dedup();
    assert_eq!(seen.len(), 3, "three placements, three virtual addresses");
}

#[test]
fn bootpick_refuses_a_placement_off_its_alignment() {
    let (out, status) = boot_at(0x8060_1000);
    assert_ne!(status, 0, "{out}");
    assert!(
        out.contains(
            "RESULT: FAIL loaded at an address that is not a multiple of image.phys_align"
        ),
        "{out}"
    );
}
