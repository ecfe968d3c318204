//! Builds `sample-kernel-aarch64/` from `layouts/qemu-virt-aarch64.toml`,
//! boots it under `qemu-system-aarch64 -machine virt -cpu cortex-a72` in
//! both VA sizes and with two RAM sizes, and checks what it prints against
//! the layout and against layoutgen's page-table prediction.
//!
//! The PIE variant (`sample-kernel-aarch64/layouts/qemu-virt-aarch64-pie.toml`)
//! relocates itself and runs at a KASLR slot; the `pie_*` tests boot it at
//! several and check where it ran.
//!
//! These tests fail (they do not skip) when QEMU or the aarch64 target is
//! missing, and say how to install them.

use crate::support::qemu::{self, Boot, Summary};
use crate::support::{root, sample_kernels, specs};
use layoutgen::Layout;
use layoutgen::arch::PagingMode;
use layoutgen::layout::pagetable;
use layoutgen::units::{GIB, MIB};
use std::path::{Path, PathBuf};
use std::time::Duration;

const LAYOUT: &str = "qemu-virt-aarch64";
const BOOT_TIMEOUT: Duration = Duration::from_secs(20);
/// Where the kernel's own output starts.
const BANNER: &str = "sample-kernel-aarch64:";
/// The fewest `check` lines a passing boot prints.
const MIN_CHECKS: usize = 10;

fn spec() -> Layout {
    specs::layout(LAYOUT)
}

/// The kernel ELF, built once (with LAYOUTGEN_OUT pointing at the outputs
/// `layoutgen build` wrote for the bundled layout).
fn kernel() -> PathBuf {
    sample_kernels::aarch64(&specs::path(LAYOUT), LAYOUT)
}

/// The PIE variant, built once likewise.
fn pie_kernel() -> PathBuf {
    sample_kernels::aarch64(&pie_spec_path(), PIE)
}

const PIE: &str = "qemu-virt-aarch64-pie";

fn pie_spec_path() -> PathBuf {
    root()
        .join("sample-kernel-aarch64")
        .join("layouts")
        .join(format!("{PIE}.toml"))
}

fn pie_spec() -> Layout {
    layoutgen::load(&pie_spec_path(), &Default::default()).expect("the PIE layout is valid")
}

/// Boots the kernel with `ram` bytes and `-append args` (and `extra` QEMU
/// options); kills QEMU after BOOT_TIMEOUT and fails with what it printed.
fn boot(ram: u64, args: &str, extra: &[&str]) -> Boot {
    boot_elf(&kernel(), ram, args, extra)
}

/// [`boot`] for a given kernel ELF.
fn boot_elf(elf: &Path, ram: u64, args: &str, extra: &[&str]) -> Boot {
    let mut cmd = qemu::aarch64_virt();
    cmd.args(extra)
        .args(["-m", &format!("{}M", ram / MIB)])
        .arg("-kernel")
        .arg(elf);
    if !args.is_empty() {
        cmd.args(["-append", args]);
    }
    qemu::run(cmd, BOOT_TIMEOUT, BANNER)
}

/// What the tests boot with: `-semihosting`, so a failure's exit status
/// reaches QEMU's.
fn boot_semihosting(ram: u64, args: &str) -> Boot {
    boot(ram, args, &["-semihosting"])
}

fn hex(v: &str) -> u128 {
    u128::from_str_radix(v.strip_prefix("0x").expect("0x-prefixed hex"), 16).unwrap()
}

/// Boots in `mode` with `ram` bytes, asserts PASS and the exact summary
/// line: every address from the spec, the page-table counts from
/// `layoutgen::layout::pagetable::cost` for this RAM size.
fn boot_and_check(mode: PagingMode, ram: u64) -> Summary {
    let spec = spec();
    let ml = spec
        .mode(mode)
        .unwrap_or_else(|| panic!("{LAYOUT} does not list {mode}"));
    let b = boot_semihosting(ram, &format!("mode={mode}"));
    b.assert_pass(MIN_CHECKS);
    let lm = ml.linear_map().expect("a linear map");
    let cost = pagetable::cost(&spec, ml, ram, 1);
    let base = spec.ram.base as u128;
    let expected = format!(
        "layout: spec={} mode={mode} page_offset={:#x} linear_map={:#x}-{:#x} kernel_link={:#x} \
         kernel_run={:#x} ram={:#x}-{:#x} pt_pages={} leaves_1g={} leaves_2m={} leaves_4k={}",
        spec.name,
        lm.start,
        lm.start,
        lm.end(),
        ml.image_link,
        ml.image_link,
        base,
        base + ram as u128,
        cost.pt_pages,
        cost.leaves_of(GIB),
        cost.leaves_of(2 * MIB),
        cost.leaves_of(4096),
    );
    let line = b.summary_line();
    assert_eq!(
        line,
        expected,
        "summary line vs spec and cost model\n{}",
        b.context()
    );
    let s = b.summary();
    assert_eq!(hex(&s["page_offset"]), mode.kernel_half_start() as u128);
    // The mode line reports the generated T1SZ.
    b.assert_printed(&format!("T1SZ={} ", 64 - mode.va_bits()));
    s
}

/// A test per row, named by it: `boot_and_check` in MODE with RAM bytes,
/// and the summary counts LEAVES 1 GiB leaves. (Tests, not a loop: each
/// row boots QEMU, and the test harness runs them side by side.)
macro_rules! boots_with_1g_leaves {
    ($($test:ident: $mode:ident, $ram:expr, $leaves:literal;)*) => {$(
        #[test]
        fn $test() {
            let s = boot_and_check(PagingMode::$mode, $ram);
            assert_eq!(s["leaves_1g"], $leaves, stringify!($test));
        }
    )*};
}

boots_with_1g_leaves! {
    va39_128mib: Va39, 128 * MIB, "0";
    va39_1gib: Va39, GIB, "1";
    va48_1gib: Va48, GIB, "1";
    va48_3gib: Va48, 3 * GIB, "3";
}

#[test]
fn va48_128mib() {
    boot_and_check(PagingMode::Va48, 128 * MIB);
}

#[test]
fn va48_needs_one_more_table_level_than_va39() {
    let a = boot_and_check(PagingMode::Va39, GIB);
    let b = boot_and_check(PagingMode::Va48, GIB);
    let pages = |s: &Summary| s["pt_pages"].parse::<u64>().unwrap();
    assert!(pages(&b) > pages(&a), "va39 {a:?}\nva48 {b:?}");
    assert_ne!(a["page_offset"], b["page_offset"]);
}

#[test]
fn default_mode_is_the_largest_listed() {
    let b = boot_semihosting(128 * MIB, "");
    b.assert_pass(MIN_CHECKS);
    assert_eq!(b.summary()["mode"], "va48", "{}", b.context());
    b.assert_printed("dtb 0x40000000");
}

#[test]
fn failure_exits_nonzero() {
    // An unknown mode: the early boot refuses, before paging.
    let b = boot_semihosting(128 * MIB, "mode=va52");
    b.assert_failed(1, &["RESULT: FAIL bootargs: mode= must be va39 or va48"]);
}

#[test]
fn panic_prints_cause_and_exits_nonzero() {
    let b = boot_semihosting(128 * MIB, "mode=va39 fail=panic");
    b.assert_failed(3, &["panic: panicked at", "RESULT: FAIL panic"]);
}

#[test]
fn unexpected_trap_prints_cause_and_exits_nonzero() {
    // A data abort (EC 0x25) at the dangling pointer: TTBR0 is off.
    let b = boot_semihosting(128 * MIB, "fail=trap");
    b.assert_failed(
        2,
        &[
            "unexpected trap: vector=0x4 ec=0x25",
            "far=0x8\n",
            "RESULT: FAIL unexpected trap",
        ],
    );
}

#[test]
fn boots_from_el2_too() {
    // With virtualization on, QEMU enters at EL2; the kernel drops to EL1
    // and PSCI goes through the device tree's conduit.
    let b = boot(
        128 * MIB,
        "",
        &["-semihosting", "-machine", "virtualization=on"],
    );
    b.assert_pass(MIN_CHECKS);
    b.assert_printed("entered at EL2");
}

#[test]
fn kernel_is_lint_clean_against_its_spec() {
    // The aarch64 kernel is linked with --emit-relocs, so the relocation
    // audit sees its code references too.
    lint_clean_in_both_modes(&spec(), &kernel());
}

/// `layoutgen lint` finds no error or warning in `elf` against `layout`,
/// checked in va39 and va48; the report.
#[track_caller]
fn lint_clean_in_both_modes(layout: &Layout, elf: &Path) -> layoutgen::lint::LintReport {
    let report = layoutgen::lint::run(layout, elf, &Default::default()).unwrap();
    assert_eq!(
        report.counts.errors + report.counts.warnings,
        0,
        "{:#?}",
        report.findings
    );
    assert_eq!(report.modes.len(), 2, "checked in va39 and va48");
    report
}

// --- the PIE variant with KASLR ------------------------------------------

/// Boots the PIE kernel with `-append args`, asserts PASS and returns the
/// run address, after checking it against the spec's KASLR range.
fn pie_run(args: &str) -> u64 {
    let spec = pie_spec();
    let b = boot_elf(&pie_kernel(), 128 * MIB, args, &["-semihosting"]);
    b.assert_pass(MIN_CHECKS);
    let s = b.summary();
    let mode = match s["mode"].as_str() {
        "va39" => PagingMode::Va39,
        "va48" => PagingMode::Va48,
        other => panic!("unknown mode {other}"),
    };
    let ml = spec.mode(mode).expect("the mode the kernel ran in");
    let k = ml.kaslr.as_ref().expect("the PIE layout has a KASLR range");
    let run = hex(&s["kernel_run"]) as u64;
    let ctx = b.context();
    assert_eq!(hex(&s["kernel_link"]), ml.image_link as u128, "{ctx}");
    assert!(run >= k.start, "{run:#x} below the KASLR range\n{ctx}");
    assert_eq!((run - k.start) % k.granule, 0, "not granule-aligned\n{ctx}");
    assert!(
        (run - k.start) / k.granule < k.slots,
        "{run:#x} beyond the KASLR range's {} slots\n{ctx}",
        k.slots
    );
    assert!(
        b.output.contains("R_AARCH64_RELATIVE applied"),
        "relocations not reported\n{ctx}"
    );
    run
}

#[test]
fn pie_two_offsets_two_run_addresses() {
    let spec = pie_spec();
    let k = spec.modes[0].kaslr.clone().expect("a KASLR range");
    let a = pie_run("kaslr=5");
    let b = pie_run("kaslr=300 mode=va39");
    assert_ne!(a, b);
    assert_eq!(a, k.start + 5 * k.granule);
    assert_eq!(b, k.start + 300 * k.granule);
    for run in [a, b] {
        assert_ne!(run, spec.modes[0].image_link, "KASLR moved the image");
    }
}

#[test]
fn pie_last_slot_ends_at_the_top() {
    let spec = pie_spec();
    let k = spec.modes[0].kaslr.clone().expect("a KASLR range");
    let run = pie_run(&format!("kaslr={}", k.slots - 1));
    assert_eq!(run.wrapping_add(spec.image.max_size), 0, "{run:#x}");
}

#[test]
fn pie_nokaslr_runs_at_link_address() {
    let link = pie_spec().modes[0].image_link;
    assert_eq!(pie_run("nokaslr"), link);
    assert_eq!(pie_run("nokaslr mode=va39"), link);
}

#[test]
fn pie_seed_from_bootargs_is_deterministic() {
    let a = pie_run("kaslr_seed=42");
    assert_eq!(a, pie_run("kaslr_seed=42"));
    assert_ne!(a, pie_spec().modes[0].image_link);
}

#[test]
fn pie_seed_from_device_tree() {
    // QEMU 7.2's aarch64 `virt` puts a random /chosen/kaslr-seed in its
    // device tree (machine option dtb-kaslr-seed, on by default).
    let b = boot_elf(&pie_kernel(), 128 * MIB, "", &["-semihosting"]);
    b.assert_pass(MIN_CHECKS);
    b.assert_printed("from /chosen/kaslr-seed");
    pie_run("");
}

#[test]
fn pie_bad_slot_fails_before_paging() {
    let slots = pie_spec().modes[0].kaslr.clone().unwrap().slots;
    let b = boot_elf(
        &pie_kernel(),
        128 * MIB,
        &format!("kaslr={slots}"),
        &["-semihosting"],
    );
    b.assert_failed(1, &["RESULT: FAIL bootargs: kaslr= names a slot"]);
}

#[test]
fn pie_kernel_is_lint_clean_against_its_spec() {
    let report = lint_clean_in_both_modes(&pie_spec(), &pie_kernel());
    // Only R_AARCH64_RELATIVE dynamic relocations, and some of them.
    assert!(report.stats.relative_relocations > 0, "{:?}", report.stats);
    assert_eq!(
        report.stats.dynamic_relocations, report.stats.relative_relocations,
        "{:?}",
        report.stats
    );
}
