//! Boots the `fixed` Linux 6.12 kernel built by `scripts/linux-kernel` under
//! `qemu-system-riscv64 -machine virt -m 1G` in Sv39 (`no4lvl`), Sv48
//! (`no5lvl`) and Sv57 (no option), reads the "Virtual kernel memory layout:"
//! report that CONFIG_DEBUG_VM makes `mem_init()` print (arch/riscv/mm/init.c,
//! `print_vm_layout`), and compares every line with
//! `layoutgen show --spec layouts/linux-riscv64.toml --format json`.
//!
//! The kernels come from `$LAYOUTGEN_LINUX_DIR` (the cache directory of
//! `scripts/linux-kernel`; default `target/linux`). When they or QEMU are
//! missing these tests fail, they do not skip.
//!
//! What Linux prints, per line (all `start - end`, end exclusive unless said):
//!   fixmap   FIXADDR_START - FIXADDR_TOP
//!   pci io   PCI_IO_START - PCI_IO_END
//!   vmemmap  VMEMMAP_START - VMEMMAP_END
//!   vmalloc  VMALLOC_START - VMALLOC_END
//!   modules  MODULES_VADDR - MODULES_END = PFN_ALIGN(_end) - 2 GiB - PFN_ALIGN(_start)
//!   lowmem   PAGE_OFFSET - high_memory (depends on the RAM given)
//!   kasan    KASAN_SHADOW_START - KASAN_SHADOW_END (CONFIG_KASAN only)
//!   kernel   kernel_map.virt_addr - ADDRESS_SPACE_END (inclusive: UL(-1))

use crate::support::{assert_success, linux};

use linux::kernel_file;
use object::{Object, ObjectSymbol};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const QEMU: &str = "qemu-system-riscv64";
/// A guard only: the kernel reaches its panic in a few seconds.
const BOOT_TIMEOUT: Duration = Duration::from_secs(120);
const GIB: u64 = 1 << 30;
/// `-m 1G`.
const RAM: u64 = GIB;
const PAGE: u64 = 4096;
const REPORT_HEADER: &str = "Virtual kernel memory layout:";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// An address in `show --format json`: a JSON number, or a string "0x…"
/// (hex, `_` separators allowed).
fn json_addr(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n
            .as_u64()
            .unwrap_or_else(|| panic!("address {n} is not a u64")),
        Value::String(s) => {
            let hex = s
                .strip_prefix("0x")
                .unwrap_or_else(|| panic!("address {s:?} is not 0x-prefixed hex"));
            u64::from_str_radix(&hex.replace('_', ""), 16)
                .unwrap_or_else(|e| panic!("address {s:?}: {e}"))
        }
        other => panic!("address {other} is neither a number nor a string"),
    }
}

/// A region of the spec as `show` resolves it: first and last address.
#[derive(Clone, Copy, Debug)]
struct SpecRegion {
    start: u64,
    last: u64,
}

impl std::fmt::Display for SpecRegion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#018x} ..= {:#018x}", self.start, self.last)
    }
}

struct Spec {
    regions: BTreeMap<String, SpecRegion>,
    image_link: u64,
}

impl Spec {
    fn region(&self, name: &str) -> SpecRegion {
        *self
            .regions
            .get(name)
            .unwrap_or_else(|| panic!("the spec has no region {name}"))
    }
}

/// `layoutgen show --spec layouts/linux-riscv64.toml --mode MODE --elf VMLINUX
/// --format json`: the layout resolved against that kernel's real `_end`.
fn show(mode: &str, vmlinux: &Path) -> Spec {
    let out = Command::new(env!("CARGO_BIN_EXE_layoutgen"))
        .current_dir(root())
        .args([
            "show",
            "--spec",
            "layouts/linux-riscv64.toml",
            "--mode",
            mode,
        ])
        .arg("--elf")
        .arg(vmlinux)
        .args(["--format", "json"])
        .output()
        .expect("run layoutgen");
    assert_success(&out, "layoutgen show failed");
    let json: Value = serde_json::from_slice(&out.stdout).expect("show prints JSON");
    let modes = json["modes"].as_array().expect("modes array");
    assert_eq!(modes.len(), 1, "show --mode {mode}: one mode");
    let layout = &modes[0]["layout"];
    assert_eq!(layout["mode"], mode, "show --mode {mode}");
    let regions = layout["regions"]
        .as_array()
        .expect("regions array")
        .iter()
        .map(|r| {
            let name = r["name"].as_str().expect("region name").to_string();
            let region = SpecRegion {
                start: json_addr(&r["start"]),
                last: json_addr(&r["last"]),
            };
            (name, region)
        })
        .collect();
    Spec {
        regions,
        image_link: json_addr(&layout["image_link"]),
    }
}

/// The value of a symbol in an ELF file.
fn symbol(elf: &Path, name: &str) -> u64 {
    let data = std::fs::read(elf).unwrap_or_else(|e| panic!("{}: {e}", elf.display()));
    let file = object::File::parse(&*data).unwrap_or_else(|e| panic!("{}: {e}", elf.display()));
    file.symbol_by_name(name)
        .unwrap_or_else(|| panic!("{}: no symbol {name}", elf.display()))
        .address()
}

fn pfn_align(addr: u64) -> u64 {
    addr.div_ceil(PAGE) * PAGE
}

/// The modules window Linux computes for this vmlinux (asm/pgtable.h):
/// [PFN_ALIGN(_end) - 2 GiB, PFN_ALIGN(_start)), as (start, exclusive end).
/// An independent cross-check of what `show --elf` resolves, from the symbols.
fn expected_modules_window(vmlinux: &Path) -> (u64, u64) {
    let start = symbol(vmlinux, "_start");
    let end = symbol(vmlinux, "_end");
    (pfn_align(end) - 2 * GIB, pfn_align(start))
}

/// One line of the report: `name : 0xSTART - 0xEND   (size unit)`.
#[derive(Debug)]
struct ReportLine {
    name: String,
    start: u64,
    end: u64,
    text: String,
}

fn parse_report_line(line: &str) -> Option<ReportLine> {
    // A printk timestamp "[    0.000000] " may come first.
    let body = match line.trim_start().strip_prefix('[') {
        Some(rest) => rest.split_once(']')?.1,
        None => line,
    };
    let (name, range) = body.split_once(" : ")?;
    let (start, rest) = range.trim().split_once(" - ")?;
    let end = rest.split_whitespace().next()?;
    let hex = |s: &str| u64::from_str_radix(s.strip_prefix("0x")?, 16).ok();
    Some(ReportLine {
        name: name.trim().to_string(),
        start: hex(start.trim())?,
        end: hex(end)?,
        text: line.trim().to_string(),
    })
}

/// Kills QEMU when a boot ends, however it ends.
struct Qemu(Child);

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Boots `fixed`'s Image with `-append "earlycon=sbi console=hvc0 EXTRA"`,
/// reads the console until the panic that follows the layout report (no
/// init), kills QEMU and returns the report's lines and the whole output.
fn boot(extra: &str) -> (Vec<ReportLine>, String) {
    let image = kernel_file("fixed", "Image");
    let append = format!("earlycon=sbi console=hvc0 {extra}")
        .trim()
        .to_string();
    let command = format!(
        "{QEMU} -machine virt -cpu rv64 -m 1G -nographic -kernel {} -append {append:?}",
        image.display()
    );
    let child = Command::new(QEMU)
        .args(["-machine", "virt", "-cpu", "rv64", "-m", "1G", "-nographic"])
        .arg("-kernel")
        .arg(&image)
        .args(["-append", &append])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {QEMU} ({e}): install it with `apt-get install -y qemu-system-misc`")
        });
    let mut qemu = Qemu(child);
    let stdout = qemu.0.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).split(b'\n') {
            let Ok(line) = line else { break };
            let line = String::from_utf8_lossy(&line).trim_end().to_string();
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + BOOT_TIMEOUT;
    let mut output = String::new();
    let mut seen_header = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                output.push_str(&line);
                output.push('\n');
                seen_header |= line.contains(REPORT_HEADER);
                if seen_header && line.contains("Kernel panic") {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "no panic after the layout report within {BOOT_TIMEOUT:?} (QEMU killed)\n\
                 {command}\noutput so far:\n{output}"
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!(
                "QEMU exited before the panic that follows the layout report\n\
                 {command}\noutput:\n{output}"
            ),
        }
    }
    drop(qemu);
    // The first report only: a console registered later may replay the log.
    let report: Vec<ReportLine> = output
        .lines()
        .skip_while(|l| !l.contains(REPORT_HEADER))
        .skip(1)
        .map_while(parse_report_line)
        .collect();
    assert!(
        !report.is_empty(),
        "no lines after {REPORT_HEADER:?}\n{command}\n{output}"
    );
    (report, output)
}

/// Boots in `mode` and compares every report line with the spec; collects
/// every mismatch before failing.
fn check_mode(mode: &str, extra: &str) {
    let vmlinux = kernel_file("fixed", "vmlinux");
    let spec = show(mode, &vmlinux);
    let (report, output) = boot(extra);
    let mut mismatches = Vec::new();
    let mut mismatch = |name: &str, line: &str, spec: String| {
        mismatches.push(format!("{name}: report `{line}`, spec {spec}"));
    };
    let mut seen = Vec::new();
    for line in &report {
        seen.push(line.name.as_str());
        let text = line.text.as_str();
        match line.name.as_str() {
            "fixmap" | "pci io" | "vmemmap" | "vmalloc" | "kasan" => {
                let name = line.name.replace(' ', "_");
                let r = spec.region(&name);
                // End exclusive: FIXADDR_TOP, PCI_IO_END, VMEMMAP_END,
                // VMALLOC_END, KASAN_SHADOW_END.
                if (line.start, line.end) != (r.start, r.last.wrapping_add(1)) {
                    mismatch(&name, text, r.to_string());
                }
            }
            "modules" => {
                let (start, end) = expected_modules_window(&vmlinux);
                if (line.start, line.end) != (start, end) {
                    mismatch(
                        "modules",
                        text,
                        format!(
                            "{start:#018x} - {end:#018x} (from {}'s _start/_end)",
                            vmlinux.display()
                        ),
                    );
                }
                // The spec's window, resolved by `show --elf` from the same
                // _end, is exactly what this kernel printed.
                let r = spec.region("modules");
                if (line.start, line.end) != (r.start, r.last.wrapping_add(1)) {
                    mismatch("modules (show --elf)", text, r.to_string());
                }
            }
            "lowmem" => {
                // PAGE_OFFSET - high_memory = __va(end of RAM): 1 GiB here.
                let r = spec.region("linear_map");
                if line.start != r.start || line.end != r.start + RAM || line.end - 1 > r.last {
                    mismatch(
                        "linear_map",
                        text,
                        format!("{r} (with 1 GiB of RAM: ends at start + 1 GiB)"),
                    );
                }
            }
            "kernel" => {
                // kernel_map.virt_addr (no KASLR in `fixed`) - ADDRESS_SPACE_END.
                let r = spec.region("kernel");
                if (line.start, line.end) != (spec.image_link, r.last) || r.start != line.start {
                    mismatch(
                        "kernel",
                        text,
                        format!("slot {r}, image link {:#018x}", spec.image_link),
                    );
                }
            }
            other => mismatch(other, text, "no such line expected".into()),
        }
    }
    for name in [
        "fixmap", "pci io", "vmemmap", "vmalloc", "modules", "lowmem", "kernel",
    ] {
        if !seen.contains(&name) {
            mismatches.push(format!("{name}: missing from the report"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{mode}: the Linux report differs from layouts/linux-riscv64.toml:\n  {}\n\nconsole:\n{output}",
        mismatches.join("\n  ")
    );
}

#[test]
fn sv39_report_matches_spec() {
    check_mode("sv39", "no4lvl");
}

#[test]
fn sv48_report_matches_spec() {
    check_mode("sv48", "no5lvl");
}

#[test]
fn sv57_report_matches_spec() {
    check_mode("sv57", "");
}

#[test]
fn report_lines_parse() {
    let l = parse_report_line(
        "[    0.000000]       fixmap : 0xffffffc4fea00000 - 0xffffffc4ff000000   (6144 kB)",
    )
    .expect("parses");
    assert_eq!(
        (l.name.as_str(), l.start, l.end),
        ("fixmap", 0xffff_ffc4_fea0_0000, 0xffff_ffc4_ff00_0000)
    );
    let l = parse_report_line("      pci io : 0xffffffc4ff000000 - 0xffffffc500000000   (  16 MB)")
        .expect("parses");
    assert_eq!(l.name, "pci io");
    assert!(parse_report_line("Kernel panic - not syncing: No working init found.").is_none());
}

#[test]
fn json_addresses_are_numbers_or_hex_strings() {
    assert_eq!(
        json_addr(&serde_json::json!(18446744071562067968u64)),
        0xffff_ffff_8000_0000
    );
    assert_eq!(
        json_addr(&serde_json::json!("0xffffffff80000000")),
        0xffff_ffff_8000_0000
    );
    assert_eq!(
        json_addr(&serde_json::json!("0xffff_ffff_8000_0000")),
        0xffff_ffff_8000_0000
    );
}
