//! Builds `sample-kernel/` for each bundled QEMU layout, boots it under
//! `qemu-system-riscv64 -machine virt -bios default` (the bare layout: as the
//! firmware itself, `-bios <elf>`, in M-mode) and checks what it prints
//! against the layout and against layoutgen's page-table prediction. The
//! self-relocating firmware layout (`qemu-virt-firmware-pie`, a PIE linked
//! at 0 like OpenSBI) boots the same way, at the RAM base, and from a flat
//! binary a first stage jumps to elsewhere in RAM.
//!
//! Every layout is linked with rust-lld (the target's default) and, in the
//! `gnu_ld_*` tests, with GNU ld (`riscv64-linux-gnu-ld`), from the same
//! generated linker script. What GNU ld does differently: it has no
//! `--apply-dynamic-relocs`, so in the semi-PIC image the words listed in
//! `.rela.dyn` hold 0 until the kernel relocates itself (the kernel applies
//! its relocations before it follows any absolute word, so it boots with
//! both); and with `-pie` at a non-zero link address it writes an `ET_EXEC`
//! (with `.dynamic`, `.rela.dyn` and DT_TEXTREL) where lld writes `ET_DYN`.
//!
//! These tests fail (they do not skip) when QEMU, the riscv64 target or GNU
//! ld is missing, and say how to install them.

use crate::support::elf_tools::Linker;
use crate::support::qemu::{self, Boot, Summary};
use crate::support::readelf::Readelf;
use crate::support::{assert_success, root, sample_kernels, specs};
use layoutgen::units::{GIB, MIB};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const QEMU: &str = "qemu-system-riscv64";
const BOOT_TIMEOUT: Duration = Duration::from_secs(20);
/// Where the kernel's own output starts (before it: OpenSBI's).
const BANNER: &str = "sample-kernel:";
/// The fewest `check` lines a passing boot prints.
const MIN_CHECKS: usize = sample_kernels::RISCV_MIN_CHECKS;
/// QEMU `virt` RAM size when `-m` is not given.
const DEFAULT_RAM: u64 = 128 * MIB;

/// The summary line of a paged layout's kernel, key by key.
const SUMMARY: [&str; 11] = sample_kernels::RISCV_SUMMARY;

/// The kernel ELF built from `layout` (None: the crate's default spec and
/// the committed sample-kernel/layout/), linked by rust-lld.
fn kernel(layout: Option<&str>) -> PathBuf {
    sample_kernels::riscv(layout, Linker::Lld)
}

/// Boots `elf` with `ram` bytes and `-append args`; kills QEMU after
/// BOOT_TIMEOUT and fails with what it printed.
fn boot(elf: &Path, ram: u64, args: &str) -> Boot {
    boot_with(elf, ram, args, &[])
}

fn boot_with(elf: &Path, ram: u64, args: &str, extra: &[&str]) -> Boot {
    let mut cmd = Command::new(QEMU);
    cmd.args(["-machine", "virt", "-nographic", "-bios", "default"])
        .arg("-kernel")
        .arg(elf);
    if !args.is_empty() {
        cmd.args(["-append", args]);
    }
    run_qemu(cmd, ram, extra)
}

/// Boots `elf` as the machine's firmware: QEMU loads it at its physical
/// addresses and enters it in M-mode at the RAM base, with no OpenSBI.
/// (QEMU accepts `-append` only with `-kernel`: boot arguments go into a
/// device tree given with `-dtb`, see [`dtb_with_chosen`].)
fn boot_firmware(elf: &Path, ram: u64, extra: &[&str]) -> Boot {
    let mut cmd = Command::new(QEMU);
    cmd.args(["-machine", "virt", "-nographic", "-bios"])
        .arg(elf);
    run_qemu(cmd, ram, extra)
}

/// Runs QEMU (`cmd` names the machine and what to boot) with `ram` bytes.
fn run_qemu(mut cmd: Command, ram: u64, extra: &[&str]) -> Boot {
    cmd.args(["-m", &format!("{}M", ram / MIB)]).args(extra);
    qemu::run(cmd, BOOT_TIMEOUT, BANNER)
}

/// Boots, asserts PASS, and checks the summary line against the layout and
/// layoutgen's page-table prediction for this RAM size and mode.
fn boot_and_check(layout: Option<&str>, ram: u64, args: &str) -> Summary {
    boot_and_check_linked(layout, Linker::Lld, ram, args)
}

fn boot_and_check_linked(layout: Option<&str>, linker: Linker, ram: u64, args: &str) -> Summary {
    let spec = specs::layout(layout.unwrap_or("qemu-virt-sv39"));
    let b = boot(&sample_kernels::riscv(layout, linker), ram, args);
    sample_kernels::assert_riscv_boot_agrees(&spec, &b, ram)
}

// --- Sv39, the default layout ---------------------------------------------------

#[test]
fn sv39_default_layout_boots() {
    let s = boot_and_check(None, DEFAULT_RAM, "");
    assert_eq!(s.str("mode"), "sv39");
    assert_eq!(s.num("kernel_run"), s.num("kernel_link"));
}

#[test]
fn sv39_ram_128mib() {
    boot_and_check(Some("qemu-virt-sv39"), 128 * MIB, "");
}

#[test]
fn sv39_ram_1gib() {
    let s = boot_and_check(Some("qemu-virt-sv39"), GIB, "");
    assert_eq!(s.num("leaves_1g"), 1, "{}", s.line);
}

#[test]
fn sv39_ram_3gib() {
    let s = boot_and_check(Some("qemu-virt-sv39"), 3 * GIB, "");
    assert_eq!(s.num("leaves_1g"), 3, "{}", s.line);
}

/// The sv39 kernel booted with `args` prints each of `printed` and exits
/// non-zero (QEMU reports the kernel's failure through its exit status).
#[track_caller]
fn sv39_fails_printing(args: &str, printed: &[&str]) {
    let b = boot(&kernel(Some("qemu-virt-sv39")), DEFAULT_RAM, args);
    for line in printed {
        b.assert_printed(line);
    }
    assert_ne!(b.status, 0, "{}", b.context());
}

#[test]
fn failure_exits_nonzero() {
    // sv48 is not in the sv39-only spec: the kernel must refuse.
    sv39_fails_printing("mode=sv48", &["RESULT: FAIL"]);
}

#[test]
fn panic_prints_cause_and_exits_nonzero() {
    sv39_fails_printing("fail=panic", &["panic: panicked at", "RESULT: FAIL panic"]);
}

#[test]
fn unexpected_trap_prints_cause_and_exits_nonzero() {
    // A load page fault (scause 13) at the dangling pointer.
    sv39_fails_printing(
        "fail=trap",
        &[
            "unexpected trap: scause=0xd",
            "RESULT: FAIL unexpected trap",
        ],
    );
}

// --- one image, three paging modes ------------------------------------------

fn multi(mode: &str, ram: u64) {
    let s = boot_and_check(Some("qemu-virt-multi"), ram, &format!("mode={mode}"));
    assert_eq!(s.str("mode"), mode, "{}", s.line);
}

#[test]
fn multi_sv39() {
    multi("sv39", DEFAULT_RAM);
}

#[test]
fn multi_sv48() {
    multi("sv48", DEFAULT_RAM);
}

#[test]
fn multi_sv57() {
    multi("sv57", DEFAULT_RAM);
}

#[test]
fn multi_sv48_3gib() {
    multi("sv48", 3 * GIB);
}

#[test]
fn multi_modes_report_their_own_page_offsets() {
    let offsets: Vec<u64> = ["sv39", "sv48", "sv57"]
        .iter()
        .map(|m| boot_and_check(Some("qemu-virt-multi"), DEFAULT_RAM, &format!("mode={m}")))
        .map(|s| s.num("page_offset"))
        .collect();
    assert!(
        offsets[0] != offsets[1] && offsets[1] != offsets[2] && offsets[0] != offsets[2],
        "{offsets:x?}"
    );
}

#[test]
fn multi_without_override_uses_highest_supported_mode() {
    // QEMU 7.2's default hart accepts all three modes.
    let s = boot_and_check(Some("qemu-virt-multi"), DEFAULT_RAM, "");
    assert_eq!(s.str("mode"), "sv57", "{}", s.line);
}

// --- semi-PIC with KASLR ----------------------------------------------------

const SEMIPIC: &str = "qemu-virt-semipic";

fn semipic_run(args: &str, ram: u64) -> u64 {
    let s = boot_and_check(Some(SEMIPIC), ram, args);
    let spec = specs::layout(SEMIPIC);
    let k = spec.modes[0]
        .kaslr
        .clone()
        .expect("semipic has a KASLR range");
    let run = s.num("kernel_run");
    assert!(
        run >= k.start && run + spec.image.max_size <= k.end,
        "{run:#x} outside the KASLR range\n{}",
        s.line
    );
    assert_eq!((run - k.start) % k.granule, 0, "{}", s.line);
    run
}

#[test]
fn semipic_two_seeds_two_addresses() {
    let link = specs::layout(SEMIPIC).modes[0].image_link;
    let a = semipic_run("kaslr_seed=42", DEFAULT_RAM);
    let b = semipic_run("kaslr_seed=0x10", DEFAULT_RAM);
    assert_ne!(a, link, "seed 42 runs at the link address");
    assert_ne!(b, link, "seed 0x10 runs at the link address");
    assert_ne!(a, b, "two seeds, one address");
}

#[test]
fn semipic_same_seed_same_address() {
    let a = semipic_run("kaslr_seed=123456789", DEFAULT_RAM);
    let b = semipic_run("kaslr_seed=123456789", DEFAULT_RAM);
    assert_eq!(a, b);
    assert_ne!(a, specs::layout(SEMIPIC).modes[0].image_link);
}

#[test]
fn semipic_nokaslr_runs_at_link_address() {
    let run = semipic_run("nokaslr", DEFAULT_RAM);
    assert_eq!(run, specs::layout(SEMIPIC).modes[0].image_link);
}

#[test]
fn semipic_without_seed_is_randomised() {
    // No kaslr_seed=: the device tree's kaslr-seed if QEMU provides one,
    // else the time CSR. Either way not the link address.
    let run = semipic_run("", DEFAULT_RAM);
    assert_ne!(run, specs::layout(SEMIPIC).modes[0].image_link);
}

/// QEMU 7.2's `virt` device tree has no `/chosen/kaslr-seed`: dump it, add
/// one, and boot with `-dtb`.
fn dtb_with_kaslr_seed(seed: u64) -> PathBuf {
    dtb_with_chosen("kaslr-seed", &seed.to_be_bytes())
}

/// QEMU's `virt` device tree (128 MiB of RAM) with the property `name` =
/// `value` added to `/chosen`, written to a file for `-dtb`.
fn dtb_with_chosen(name: &str, value: &[u8]) -> PathBuf {
    static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let dir = root().join("target").join("sample-kernel");
    std::fs::create_dir_all(&dir).unwrap();
    // Concurrent tests each dump their own copy.
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let plain = dir.join(format!("virt-{}-{n}.dtb", std::process::id()));
    let out = Command::new(QEMU)
        .args(["-machine"])
        .arg(format!("virt,dumpdtb={}", plain.display()))
        .args(["-nographic", "-bios", "default", "-m", "128M"])
        .stdin(Stdio::null())
        .output()
        .expect("running QEMU to dump its device tree");
    assert_success(&out, "dumpdtb");
    let mut dtb = std::fs::read(&plain).unwrap();
    let _ = std::fs::remove_file(&plain);
    let be32 =
        |dtb: &[u8], off: usize| u32::from_be_bytes(dtb[off..off + 4].try_into().unwrap()) as usize;
    // QEMU pads the dump; the header knows the real size.
    dtb.truncate(be32(&dtb, 4));
    let be32 = |off: usize| be32(&dtb, off);
    let (off_struct, off_strings) = (be32(8), be32(12));
    let (size_strings, size_struct) = (be32(32), be32(36));
    assert!(
        off_strings >= off_struct + size_struct,
        "strings after the structure block"
    );
    // Find `/chosen` (a child of the root) and insert the property right
    // after its name: properties come before subnodes.
    let (mut off, mut depth, mut insert) = (off_struct, 0, None);
    while off < off_struct + size_struct {
        let token = be32(off);
        off += 4;
        match token {
            1 => {
                let name_end = off + dtb[off..].iter().position(|&b| b == 0).unwrap();
                depth += 1;
                let is_chosen = depth == 2 && &dtb[off..name_end] == b"chosen";
                off = (name_end + 1 + 3) & !3;
                if is_chosen {
                    insert = Some(off);
                    break;
                }
            }
            2 => depth -= 1,
            3 => off = (off + 8 + be32(off) + 3) & !3,
            4 => {}
            _ => break,
        }
    }
    let insert = insert.expect("QEMU's device tree has /chosen");
    let mut prop = Vec::new();
    for word in [3u32, value.len() as u32, size_strings as u32] {
        prop.extend_from_slice(&word.to_be_bytes());
    }
    prop.extend_from_slice(value);
    prop.resize(prop.len().next_multiple_of(4), 0);
    let mut out = dtb[..insert].to_vec();
    out.extend_from_slice(&prop);
    out.extend_from_slice(&dtb[insert..off_struct + size_struct]);
    let new_strings = out.len();
    out.extend_from_slice(&dtb[off_strings..off_strings + size_strings]);
    let name0 = format!("{name}\0");
    out.extend_from_slice(name0.as_bytes());
    let set = |out: &mut Vec<u8>, off: usize, v: usize| {
        out[off..off + 4].copy_from_slice(&(v as u32).to_be_bytes())
    };
    let len = out.len();
    set(&mut out, 4, len);
    set(&mut out, 12, new_strings);
    set(&mut out, 32, size_strings + name0.len());
    set(&mut out, 36, size_struct + prop.len());
    let path = dir.join(format!("virt-{name}-{}-{n}.dtb", std::process::id()));
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn semipic_seed_from_device_tree() {
    let seed = 0x5eed_1234_abcd_0042u64;
    let dtb = dtb_with_kaslr_seed(seed);
    let elf = kernel(Some(SEMIPIC));
    let runs: Vec<u64> = (0..2)
        .map(|_| {
            let b = boot_with(&elf, DEFAULT_RAM, "", &["-dtb", dtb.to_str().unwrap()]);
            b.assert_pass(MIN_CHECKS);
            b.assert_printed(&format!("kaslr: seed {seed:#x} from /chosen/kaslr-seed"));
            b.summary_with(&SUMMARY).num("kernel_run")
        })
        .collect();
    let _ = std::fs::remove_file(&dtb);
    assert_eq!(
        runs[0], runs[1],
        "the same device-tree seed moved the kernel"
    );
    // The same seed from bootargs gives the same address.
    assert_eq!(
        runs[0],
        semipic_run(&format!("kaslr_seed={seed:#x}"), DEFAULT_RAM)
    );
    assert_ne!(runs[0], specs::layout(SEMIPIC).modes[0].image_link);
}

#[test]
fn semipic_3gib() {
    semipic_run("kaslr_seed=7", 3 * GIB);
}

// --- the image inside the linear map ------------------------------------------

#[test]
fn in_linear_map_boots() {
    let s = boot_and_check(Some("qemu-virt-in-linear-map"), DEFAULT_RAM, "");
    let spec = specs::layout("qemu-virt-in-linear-map");
    let ml = &spec.modes[0];
    assert!(ml.image_in_linear_map);
    // It runs at the linear-map address of its load address.
    let run = s.num("kernel_run");
    assert_eq!(run, spec.ram.load.wrapping_add(ml.linear_offset.unwrap()));
    assert!(ml.linear_map().unwrap().contains(run));
}

#[test]
fn in_linear_map_costs_more_than_a_separate_slot() {
    // With 1 GiB of RAM the separate-slot design maps RAM with one gigapage
    // and the image window with 2 MiB pages; inside the linear map, the
    // W^X window splits that gigapage, so all of it becomes 2 MiB pages.
    // (With 128 MiB neither design can use a gigapage, so the split costs
    // nothing there: the slot even costs 16 more megapages for its window.)
    let ram = GIB;
    let slot = boot_and_check(Some("qemu-virt-sv39"), ram, "");
    let inside = boot_and_check(Some("qemu-virt-in-linear-map"), ram, "");
    let small = |s: &Summary| s.num("leaves_2m") + s.num("leaves_4k");
    assert!(
        small(&inside) > small(&slot),
        "in-linear-map: {}\nseparate slot: {}",
        inside.line,
        slot.line
    );
    assert!(inside.num("leaves_1g") < slot.num("leaves_1g"));
    assert!(inside.num("pt_pages") >= slot.num("pt_pages"));
}

#[test]
fn in_linear_map_3gib() {
    boot_and_check(Some("qemu-virt-in-linear-map"), 3 * GIB, "");
}

/// Every bundled QEMU layout, each of which the sample kernel boots.
const QEMU_LAYOUTS: [&str; 7] = [
    "qemu-virt-sv39",
    "qemu-virt-multi",
    "qemu-virt-semipic",
    "qemu-virt-in-linear-map",
    IDENTITY,
    BARE,
    FIRMWARE_PIE,
];

/// Every bundled QEMU layout's kernel passes `layoutgen lint` against its
/// own spec with no error and no warning (issue 4: the lint on real links).
#[test]
fn every_layout_kernel_is_lint_clean() {
    lint_clean(Linker::Lld);
}

/// The same, linked by GNU ld.
#[test]
fn every_gnu_ld_kernel_is_lint_clean() {
    lint_clean(Linker::Gnu);
}

fn lint_clean(linker: Linker) {
    for name in QEMU_LAYOUTS {
        let elf = sample_kernels::riscv(Some(name), linker);
        let report = layoutgen::lint::run(&specs::layout(name), &elf, &Default::default())
            .unwrap_or_else(|e| panic!("{name}: lint could not read {}: {e}", elf.display()));
        let bad: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.severity >= layoutgen::lint::Severity::Warning)
            .collect();
        assert!(bad.is_empty(), "{name} ({linker:?}): {bad:#?}");
        // The kernel keeps its static relocations (--emit-relocs), so the
        // relocation audit saw real ones.
        assert!(
            report.stats.static_relocations > 0,
            "{name}: {:?}",
            report.stats
        );
    }
}

// --- identity-mapped (xv6 style): VA = PA with paging on ---------------------

const IDENTITY: &str = "qemu-virt-identity";

/// Boots the identity layout and checks what only an identity-mapped kernel
/// shows: it runs with paging on at the address it was loaded at.
fn identity(linker: Linker, ram: u64) -> Summary {
    let spec = specs::layout(IDENTITY);
    let elf = sample_kernels::riscv(Some(IDENTITY), linker);
    let s = boot_and_check_linked(Some(IDENTITY), linker, ram, "");
    let b = boot(&elf, ram, "");
    let ctx = b.context();
    let load = spec.ram.load;
    // VA = PA: entered with the MMU off at the load address, runs there
    // with paging on, and the linear map is RAM at its own address.
    b.assert_printed(&format!("sample-kernel: entered at {load:#x} (MMU off)"));
    b.assert_printed(&format!(
        "sample-kernel: running at {load:#x} with paging on"
    ));
    assert_eq!(s.num("kernel_run"), load, "{}", s.line);
    assert_eq!(s.num("kernel_link"), load, "{}", s.line);
    assert_eq!(s.num("page_offset"), spec.ram.base, "{}", s.line);
    // Paging is really on: satp holds Sv39 (8) and the root the kernel built.
    let satp_line = b
        .output
        .lines()
        .find(|l| l.starts_with("paging: satp="))
        .unwrap_or_else(|| panic!("no satp line\n{ctx}"));
    let satp = u64::from_str_radix(
        satp_line["paging: satp=0x".len()..]
            .split(' ')
            .next()
            .unwrap(),
        16,
    )
    .unwrap();
    assert_eq!(satp >> 60, 8, "satp mode\n{ctx}");
    assert_ne!(satp & ((1 << 44) - 1), 0, "satp root\n{ctx}");
    // The kernel walked its live tables: image, RAM and the test finisher
    // translate to themselves; the trap entry sits in xv6's trampsec page at
    // `trampoline` (page-aligned, exactly 4 KiB, the end of .text) and stvec
    // points at it.
    for check in ["check identity: ok", "check trampoline: ok"] {
        assert!(b.output.contains(check), "{check}\n{ctx}");
    }
    s
}

#[test]
fn identity_boots_with_paging_on() {
    let s = identity(Linker::Lld, DEFAULT_RAM);
    // 128 MiB: 64 megapages (one of them OpenSBI's, below the image), no
    // gigapage, one device page, as the cost model predicts (asserted in
    // boot_and_check).
    assert_eq!(s.num("leaves_1g"), 0, "{}", s.line);
}

#[test]
fn identity_3gib() {
    identity(Linker::Lld, 3 * GIB);
}

#[test]
fn identity_trampoline_is_page_aligned_in_the_elf() {
    // The linker side of what the kernel checks at run time.
    let elf = kernel(Some(IDENTITY));
    use object::{Object, ObjectSymbol};
    let data = std::fs::read(&elf).unwrap();
    let file = object::File::parse(&*data).expect("the kernel is an ELF");
    let addr = |name: &str| {
        file.symbols()
            .find(|s| s.name() == Ok(name))
            .map(|s| s.address())
            .unwrap_or_else(|| panic!("no symbol {name} in {}", elf.display()))
    };
    let t = addr("trampoline");
    assert_eq!(t % 4096, 0, "trampoline {t:#x}");
    assert_eq!(
        addr("__text_end") - t,
        4096,
        "the trampoline page ends .text"
    );
    let entry = addr("trap_entry");
    assert!((t..t + 4096).contains(&entry), "trap_entry {entry:#x}");
}

// --- no paging: M-mode firmware ----------------------------------------------

const BARE: &str = "qemu-virt-bare";

const BARE_SUMMARY: [&str; 10] = [
    "spec",
    "mode",
    "privilege",
    "kernel_link",
    "kernel_run",
    "ram",
    "uart",
    "test",
    "mhartid",
    "misa",
];

/// Boots the bare layout's kernel as the firmware and checks it passed and
/// what it reports against the spec.
fn bare_firmware(linker: Linker) -> (Boot, Summary) {
    let b = boot_firmware(&sample_kernels::riscv(Some(BARE), linker), DEFAULT_RAM, &[]);
    let s = assert_firmware_agrees(BARE, &b);
    assert_eq!(
        s.num("kernel_run"),
        specs::layout(BARE).ram.load,
        "{}",
        b.context()
    );
    (b, s)
}

/// A firmware boot of `layout`'s kernel passed every M-mode check, with no
/// OpenSBI before it, and its summary agrees with the spec (link address,
/// RAM, devices). Returns the summary; where it ran is the caller's.
fn assert_firmware_agrees(layout: &str, b: &Boot) -> Summary {
    let ctx = b.context();
    assert!(
        b.output.contains("\nRESULT: PASS"),
        "no RESULT: PASS\n{ctx}"
    );
    assert_eq!(b.status, 0, "QEMU exit status\n{ctx}");
    assert_firmware_checks(layout, b)
}

/// Every M-mode check of a firmware boot passed and its summary agrees
/// with the spec (whether it then powered off or started a next stage).
fn assert_firmware_checks(layout: &str, b: &Boot) -> Summary {
    let spec = specs::layout(layout);
    let ctx = b.context();
    let checks: Vec<&str> = b
        .output
        .lines()
        .filter(|l| l.starts_with("check "))
        .collect();
    for name in [
        "m_mode",
        "ram",
        "image_roundtrip",
        "devices",
        "ram_end_traps",
        "symbols",
    ] {
        assert!(
            checks.contains(&format!("check {name}: ok").as_str()),
            "check {name}\n{ctx}"
        );
    }
    assert!(checks.iter().all(|c| c.ends_with(": ok")), "{ctx}");
    // Nothing ran before it: no OpenSBI banner.
    assert!(!b.output.contains("OpenSBI"), "{ctx}");
    let s = b.summary_with(&BARE_SUMMARY);
    let ml = &spec.modes[0];
    assert_eq!(s.str("spec"), spec.name, "{ctx}");
    assert_eq!(s.str("mode"), "bare", "{ctx}");
    assert_eq!(s.num("kernel_link"), ml.image_link, "{ctx}");
    let base = spec.ram.base as u128;
    assert_eq!(s.range("ram"), (base, base + DEFAULT_RAM as u128), "{ctx}");
    // The devices it used are the spec's regions.
    assert_eq!(s.num("uart"), ml.region("uart").unwrap().start, "{ctx}");
    assert_eq!(s.num("test"), ml.region("test").unwrap().start, "{ctx}");
    assert_eq!(s.str("privilege"), "M", "{ctx}");
    assert_eq!(s.num("mhartid"), 0, "{ctx}");
    s
}

#[test]
fn bare_boots_as_m_mode_firmware() {
    let (b, s) = bare_firmware(Linker::Lld);
    let ctx = b.context();
    b.assert_printed("sample-kernel: entered at 0x80000000 (M-mode, no paging)");
    // M-mode: the kernel read mhartid and misa, which trap below M-mode,
    // and took a trap through mtvec (ram_end_traps).
    assert_eq!(s.str("privilege"), "M", "{ctx}");
    assert_eq!(s.num("mhartid"), 0, "{ctx}");
    let misa = s.num("misa");
    assert_eq!(misa >> 62, 2, "misa MXL is not RV64\n{ctx}");
    for ext in [b'i', b'm', b'a', b'c', b's', b'u'] {
        assert_ne!(
            misa & (1 << (ext - b'a')),
            0,
            "misa lacks {}\n{ctx}",
            ext as char
        );
    }
    b.assert_printed("machine: mhartid=0 misa=");
}

#[test]
fn bare_failure_exits_nonzero() {
    // 64 MiB is below the spec's ram.min_size: the `ram` check fails and
    // the finisher reports it.
    let elf = kernel(Some(BARE));
    let b = boot_firmware(&elf, 64 * MIB, &[]);
    b.assert_failed(1, &["check ram: FAIL", "RESULT: FAIL 1 check(s) failed"]);
}

#[test]
fn bare_trap_and_panic_exit_nonzero() {
    // Boot arguments reach M-mode firmware only in the device tree.
    let elf = kernel(Some(BARE));
    let boot_with_bootargs = |bootargs: &[u8]| {
        let dtb = dtb_with_chosen("bootargs", bootargs);
        let b = boot_firmware(&elf, DEFAULT_RAM, &["-dtb", dtb.to_str().unwrap()]);
        let _ = std::fs::remove_file(&dtb);
        b
    };
    let b = boot_with_bootargs(b"fail=trap\0");
    // A load access fault (mcause 5) at the dangling pointer, taken in M-mode.
    b.assert_failed(
        2,
        &[
            "unexpected trap: mcause=0x5",
            "RESULT: FAIL unexpected trap",
        ],
    );

    let b = boot_with_bootargs(b"fail=panic\0");
    b.assert_failed(3, &["panic: panicked at", "RESULT: FAIL panic"]);
}

// --- self-relocating firmware: a PIE linked at 0, OpenSBI style ---------------

const FIRMWARE_PIE: &str = "qemu-virt-firmware-pie";

/// The `relocations=N` the kernel's `bench:` line reports: the
/// R_RISCV_RELATIVE words it fixed up at boot.
fn relocations_applied(b: &Boot) -> u64 {
    b.output
        .lines()
        .find_map(|l| l.strip_prefix("bench: relocations="))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no bench: relocations=N\n{}", b.context()))
}

/// The firmware-pie kernel as QEMU's `-bios`: linked at 0 (`ET_DYN`, entry
/// 0, like OpenSBI's `fw_*.elf`), loaded at its p_paddr, the RAM base, and
/// entered there in M-mode. Every boot runs away from the link address, so
/// passing at all needs the relocation: the checks follow absolute words
/// (`core::fmt`'s vtables, the device and section tables) that hold link
/// addresses near 0 (lld) or 0 (GNU ld) in the file.
fn firmware_pie(linker: Linker) -> (Boot, Summary) {
    let spec = specs::layout(FIRMWARE_PIE);
    let elf = sample_kernels::riscv(Some(FIRMWARE_PIE), linker);
    assert_eq!(elf_type(&elf), 3, "ET_DYN");
    let b = boot_firmware(&elf, DEFAULT_RAM, &[]);
    let ctx = b.context();
    let s = assert_firmware_agrees(FIRMWARE_PIE, &b);
    b.assert_printed("sample-kernel: entered at 0x80000000 (M-mode, no paging)");
    assert_eq!(spec.modes[0].image_link, 0, "linked at 0, as OpenSBI");
    assert_eq!(s.num("kernel_link"), 0, "{ctx}");
    assert_eq!(s.num("kernel_run"), spec.ram.load, "{ctx}");
    assert_ne!(s.num("kernel_run"), s.num("kernel_link"), "{ctx}");
    assert!(relocations_applied(&b) > 0, "{ctx}");
    (b, s)
}

#[test]
fn firmware_pie_relocates_itself_to_the_ram_base() {
    firmware_pie(Linker::Lld);
}

/// The same image placed by a boot loader at other multiples of
/// `image.phys_align`: a 24-byte `-bios` first stage jumps to the flat
/// binary `-device loader` put there. It runs where it landed, reports it
/// as `kernel_run`, and refuses an address off the alignment.
#[test]
fn firmware_pie_runs_wherever_it_is_loaded() {
    let spec = specs::layout(FIRMWARE_PIE);
    let align = spec.image.phys_align.expect("image.phys_align");
    let elf = sample_kernels::riscv(Some(FIRMWARE_PIE), Linker::Lld);
    // OpenSBI's PMP rule where it runs: [image start, .data) is a power of
    // two (pmp_read_only), and every multiple of phys_align is aligned to it.
    let ro = Readelf::of(&elf).section(".data").addr;
    assert!(ro.is_power_of_two() && align.is_multiple_of(ro), "{ro:#x}");
    let bin = sample_kernels::flat_binary(&elf);
    let dir = root().join("target").join("sample-kernel");
    let boot_at = |pa: u64| {
        let mut cmd = Command::new(QEMU);
        cmd.args(["-machine", "virt", "-nographic", "-bios"])
            .arg(sample_kernels::stage0(&dir, pa))
            .arg("-device")
            .arg(format!(
                "loader,file={},addr={pa:#x},force-raw=on",
                bin.display()
            ));
        run_qemu(cmd, DEFAULT_RAM, &[])
    };
    let mut relocations = Vec::new();
    for pa in [0x8008_0000u64, 0x8600_0000] {
        assert_eq!(pa % align, 0);
        let b = boot_at(pa);
        let s = assert_firmware_agrees(FIRMWARE_PIE, &b);
        b.assert_printed(&format!(
            "sample-kernel: entered at {pa:#x} (M-mode, no paging)"
        ));
        assert_eq!(s.num("kernel_run"), pa, "{}", b.context());
        relocations.push(relocations_applied(&b));
    }
    // The same words, whatever the offset.
    assert_eq!(relocations[0], relocations[1]);
    let b = boot_at(0x8001_0000);
    b.assert_failed(
        1,
        &["RESULT: FAIL loaded at an address that is not a multiple of image.phys_align"],
    );
}

/// With QEMU's `-kernel` the firmware has a next stage (QEMU's
/// `fw_dynamic_info` in a2, as OpenSBI's `fw_dynamic` reads it): after its
/// own checks it starts the default-layout kernel in S-mode, which boots
/// and passes on the firmware's SBI console, PMP keeping it out of the
/// firmware's read-only NAPOT range.
#[test]
fn firmware_pie_starts_its_payload_in_s_mode() {
    let fw = sample_kernels::riscv(Some(FIRMWARE_PIE), Linker::Lld);
    let payload = kernel(None);
    let b = boot_firmware(&fw, DEFAULT_RAM, &["-kernel", payload.to_str().unwrap()]);
    let (firmware, next) = b.split_at("firmware: next stage at ");
    let s = assert_firmware_checks(FIRMWARE_PIE, &firmware);
    assert_eq!(s.num("kernel_run"), 0x8000_0000, "{}", b.context());
    assert!(!firmware.output.contains("RESULT:"), "{}", b.context());
    let ro = Readelf::of(&fw).section(".data").addr;
    next.assert_printed(&format!(
        "firmware: next stage at 0x80200000 in S-mode; PMP denies it 0x80000000-{:#x}\n\
         sample-kernel: entered at 0x80200000 (MMU off)",
        0x8000_0000 + ro
    ));
    sample_kernels::assert_riscv_boot_agrees(&specs::layout("qemu-virt-sv39"), &next, DEFAULT_RAM);
}

// --- GNU ld: every layout, linked by riscv64-linux-gnu-ld ---------------------

/// Was `elf` linked by lld? (lld signs `.comment`; GNU ld does not.)
fn linked_by_lld(elf: &Path) -> bool {
    let bytes = std::fs::read(elf).unwrap();
    bytes
        .windows(b"Linker: LLD".len())
        .any(|w| w == b"Linker: LLD")
}

/// The ELF header's e_type: 2 = ET_EXEC, 3 = ET_DYN.
fn elf_type(elf: &Path) -> u16 {
    let bytes = std::fs::read(elf).unwrap();
    u16::from_le_bytes([bytes[16], bytes[17]])
}

fn gnu_ld(layout: &str, ram: u64, args: &str) -> Summary {
    let elf = sample_kernels::riscv(Some(layout), Linker::Gnu);
    assert!(!linked_by_lld(&elf), "{} was linked by lld", elf.display());
    assert!(
        linked_by_lld(&kernel(Some(layout))),
        "the default build is not lld's"
    );
    boot_and_check_linked(Some(layout), Linker::Gnu, ram, args)
}

#[test]
fn gnu_ld_sv39() {
    gnu_ld("qemu-virt-sv39", DEFAULT_RAM, "");
}

#[test]
fn gnu_ld_multi_all_modes() {
    for mode in ["sv39", "sv48", "sv57"] {
        let s = gnu_ld("qemu-virt-multi", DEFAULT_RAM, &format!("mode={mode}"));
        assert_eq!(s.str("mode"), mode, "{}", s.line);
    }
}

#[test]
fn gnu_ld_semipic() {
    // GNU ld links `-pie -z notext` (riscv64-linux-gnu-ld accepts -pie; the
    // notes' riscv64-unknown-elf-ld refuses it), but differs from lld in two
    // ways the kernel copes with: the words it lists in .rela.dyn hold 0 in
    // the file (it has no --apply-dynamic-relocs, so build.rs omits it), and
    // with a non-zero link address it writes ET_EXEC, not ET_DYN.
    let link = specs::layout(SEMIPIC).modes[0].image_link;
    let a = gnu_ld(SEMIPIC, DEFAULT_RAM, "kaslr_seed=42");
    assert_ne!(a.num("kernel_run"), link, "{}", a.line);
    // The same seed gives the same slot whichever linker linked the image.
    let lld = boot_and_check(Some(SEMIPIC), DEFAULT_RAM, "kaslr_seed=42");
    assert_eq!(a.num("kernel_run"), lld.num("kernel_run"));
    let n = gnu_ld(SEMIPIC, DEFAULT_RAM, "nokaslr");
    assert_eq!(n.num("kernel_run"), link, "{}", n.line);
    assert_eq!(
        elf_type(&sample_kernels::riscv(Some(SEMIPIC), Linker::Gnu)),
        2
    );
    assert_eq!(elf_type(&kernel(Some(SEMIPIC))), 3);
}

#[test]
fn gnu_ld_in_linear_map() {
    gnu_ld("qemu-virt-in-linear-map", DEFAULT_RAM, "");
}

#[test]
fn gnu_ld_identity() {
    assert!(!linked_by_lld(&sample_kernels::riscv(
        Some(IDENTITY),
        Linker::Gnu
    )));
    identity(Linker::Gnu, DEFAULT_RAM);
}

#[test]
fn gnu_ld_firmware_pie() {
    let elf = sample_kernels::riscv(Some(FIRMWARE_PIE), Linker::Gnu);
    assert!(!linked_by_lld(&elf), "{} was linked by lld", elf.display());
    firmware_pie(Linker::Gnu);
}

#[test]
fn gnu_ld_bare() {
    let elf = sample_kernels::riscv(Some(BARE), Linker::Gnu);
    assert!(!linked_by_lld(&elf), "{} was linked by lld", elf.display());
    bare_firmware(Linker::Gnu);
}

/// Boot timings, printed with `--nocapture`: each shape's kernel from QEMU
/// start to power-off.
#[test]
fn boot_timings() {
    let mut lines = Vec::new();
    for (name, linker) in [
        ("qemu-virt-sv39", Linker::Lld),
        (IDENTITY, Linker::Lld),
        (BARE, Linker::Lld),
        (IDENTITY, Linker::Gnu),
        (BARE, Linker::Gnu),
    ] {
        let elf = sample_kernels::riscv(Some(name), linker);
        let b = if name == BARE {
            boot_firmware(&elf, DEFAULT_RAM, &[])
        } else {
            boot(&elf, DEFAULT_RAM, "")
        };
        assert_eq!(b.status, 0, "{}", b.context());
        lines.push(format!("{name} ({linker:?}): {:?}", b.elapsed));
    }
    println!("boot timings:\n{}", lines.join("\n"));
}
