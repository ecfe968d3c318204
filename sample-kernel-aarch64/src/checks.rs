//! Self-checks, run at the virtual address with paging on. Each prints
//! `check <name>: ok` or `check <name>: FAIL <detail>`; then the summary line.

use crate::early::{Boot, DtbSource, Kaslr, SeedSource};
use crate::layout::{
    self, CODE_MODEL, IMAGE_LINK_ADDRESS, IMAGE_MAX_SIZE, LAYOUT_NAME, LOAD_ADDRESS, ModeLayout,
    SECTION_ALIGN, SECTIONS, STACK_SIZE,
};
use crate::paging::{DESC_ADDR, DESC_TABLE, DESC_VALID, R, W, X, perms_of, walk};
use crate::{TrapFrame, println, sym};
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

/// ESR_EL1.EC: instruction abort / data abort taken without a change in EL.
const EC_IABT_CUR: u64 = 0x21;
const EC_DABT_CUR: u64 = 0x25;

static EXPECT_EC: AtomicU64 = AtomicU64::new(0);
static EXPECT_ADDR: AtomicU64 = AtomicU64::new(0);
static SEEN_EC: AtomicU64 = AtomicU64::new(0);

/// Read-only data a check tries to write.
static RO_PROBE: [u8; 16] = [0x5a; 16];
/// Data a check tries to execute: `ret; ret`, so a missing W^X returns
/// harmlessly instead of crashing.
static mut DATA_PROBE: [u32; 2] = [0xd65f_03c0, 0xd65f_03c0];
/// Data written through one mapping and read through the other.
static mut ALIAS_PROBE: u64 = 1;
/// A BSS object, for the address round trips.
static mut BSS_PROBE: u64 = 0;

/// Called by the trap handler: consumes a permission fault a W^X check
/// asked for.
pub fn expected_fault(f: &mut TrapFrame, esr: u64, far: u64) -> bool {
    let ec = esr >> 26 & 0x3f;
    // DFSC/IFSC 0b0011xx: a permission fault (not translation, not access).
    let permission = esr & 0x3c == 0x0c;
    let want = EXPECT_EC.load(Ordering::Relaxed);
    if want == 0 || ec != want || !permission || far != EXPECT_ADDR.load(Ordering::Relaxed) {
        return false;
    }
    EXPECT_EC.store(0, Ordering::Relaxed);
    SEEN_EC.store(ec, Ordering::Relaxed);
    if ec == EC_IABT_CUR {
        // The probe was entered with `blr`: resume at the return address.
        f.elr = f.x[30];
    } else {
        f.elr += 4;
    }
    true
}

struct Checks {
    failures: u32,
}

impl Checks {
    fn report(&mut self, name: &str, ok: bool, detail: fmt::Arguments) {
        if ok {
            println!("check {name}: ok");
        } else {
            self.failures += 1;
            println!("check {name}: FAIL {detail}");
        }
    }
}

fn sp() -> u64 {
    let v: u64;
    // SAFETY: reads a register.
    unsafe { core::arch::asm!("mov {0}, sp", out(reg) v) };
    v
}

/// Physical address of `va` by walking the live TTBR1 tables.
fn translate(boot: &Boot, ml: &ModeLayout, va: u64) -> Option<u64> {
    let (desc, size) = walk(boot.root_pa, boot.mode.levels(), va, |pa| {
        ml.phys_to_virt(pa) as *const u64
    })?;
    Some((desc & DESC_ADDR & !(size - 1)) + (va & (size - 1)))
}

/// Every leaf of the TTBR1 tree: calls `f(va, desc, size)`; returns tables
/// seen.
fn each_leaf(
    ml: &ModeLayout,
    table: u64,
    level: u32,
    va_base: u64,
    f: &mut impl FnMut(u64, u64, u64),
) -> u64 {
    let mut tables = 1;
    let entries = ml.phys_to_virt(table) as *const u64;
    for i in 0..512u64 {
        // SAFETY: a page-table page, mapped by the linear map.
        let desc = unsafe { entries.add(i as usize).read_volatile() };
        if desc & DESC_VALID == 0 {
            continue;
        }
        let shift = 12 + 9 * level;
        let va = va_base | (i << shift);
        if level == 0 || desc & DESC_TABLE == 0 {
            f(va, desc, 1u64 << shift);
        } else {
            tables += each_leaf(ml, desc & DESC_ADDR, level - 1, va, f);
        }
    }
    tables
}

pub fn run(boot: &Boot) -> u32 {
    let ml = layout::layout_for(boot.mode).expect("early boot chose a listed mode");
    let mut c = Checks { failures: 0 };
    let run = boot.run;
    let va_to_pa = |va: u64| va.wrapping_sub(run).wrapping_add(LOAD_ADDRESS);

    println!("sample-kernel-aarch64: running at {run:#x} with paging on");
    println!(
        "cpu: entered at EL{}, {}-bit physical addresses; dtb {:#x} ({})",
        boot.entry_el,
        boot.pa_bits,
        boot.dtb,
        match boot.dtb_source {
            DtbSource::X0 => "from x0",
            DtbSource::RamStart => "start of RAM",
        }
    );
    println!(
        "mode: {} ({}; T1SZ={} TCR_EL1={:#x}; spec lists {})",
        boot.mode.name(),
        if boot.mode_forced {
            "from bootargs"
        } else {
            "largest listed"
        },
        boot.mode.t1sz(),
        boot.tcr,
        ModeList
    );
    let args = core::str::from_utf8(boot.info.bootargs()).unwrap_or("<not utf-8>");
    println!("bootargs: \"{args}\"");
    // The image's distance from its link address.
    let shift = run.wrapping_sub(IMAGE_LINK_ADDRESS);
    let slots = ml.kaslr.map_or(0, |k| k.slots);
    match boot.kaslr {
        Kaslr::None => println!("kaslr: none (code model {CODE_MODEL:?})"),
        Kaslr::Disabled => println!("kaslr: disabled by nokaslr"),
        Kaslr::Slot => println!(
            "kaslr: slot {} of {slots} from bootargs kaslr=, offset {shift:#x}",
            boot.slot
        ),
        Kaslr::Random { seed, source } => println!(
            "kaslr: seed {seed:#x} from {}, slot {} of {slots}, offset {shift:#x}",
            match source {
                SeedSource::Bootargs => "bootargs kaslr_seed",
                SeedSource::DeviceTree => "/chosen/kaslr-seed",
                SeedSource::Timer => "the counter",
            },
            boot.slot
        ),
    }
    if boot.kaslr != Kaslr::None {
        println!(
            "relocations: {} R_AARCH64_RELATIVE applied",
            boot.relocations
        );
    }
    println!(
        "ttbr0: identity map, {} x 1 GiB block(s), off since the switch",
        boot.idmap_blocks
    );

    // --- address translation round trips ---------------------------------
    let mut ok = true;
    let mut bad = 0;
    for &(start, size) in &boot.info.ram[..boot.info.ram_count] {
        for pa in [start, (start + size / 2) & !7, start + size - 8] {
            let va = ml.phys_to_virt(pa);
            let good = ml.linear_map.contains(va)
                && ml.virt_to_phys(va) == pa
                && translate(boot, ml, va) == Some(pa);
            if !good && ok {
                bad = pa;
            }
            ok &= good;
        }
    }
    c.report(
        "linear_roundtrip",
        ok,
        format_args!("pa {bad:#x} does not round-trip through the linear map"),
    );

    let symbols: [(&str, u64); 6] = [
        ("_start", sym!("_start")),
        ("kmain", crate::kmain as *const () as u64),
        ("rodata", (&raw const RO_PROBE) as u64),
        ("data", (&raw const ALIAS_PROBE) as u64),
        ("bss", (&raw const BSS_PROBE) as u64),
        ("stack", sym!("__stack_top") - 8),
    ];
    let mut ok = true;
    let mut bad = "";
    for (name, va) in symbols {
        let pa = va_to_pa(va);
        let good = (LOAD_ADDRESS..LOAD_ADDRESS + IMAGE_MAX_SIZE).contains(&pa)
            && layout::kernel_virt_to_phys(va.wrapping_sub(shift)) == pa
            && layout::kernel_phys_to_virt(pa).wrapping_add(shift) == va
            && translate(boot, ml, va) == Some(pa)
            && ml.virt_to_phys(ml.phys_to_virt(pa)) == pa
            && translate(boot, ml, ml.phys_to_virt(pa)) == Some(pa);
        if !good && ok {
            bad = name;
        }
        ok &= good;
    }
    c.report(
        "image_roundtrip",
        ok,
        format_args!("symbol {bad} does not round-trip"),
    );

    // --- the same bytes through both mappings -----------------------------
    let same_bytes = |va: u64, len: u64| -> bool {
        let lin = ml.phys_to_virt(va_to_pa(va));
        (0..len).all(|i| {
            // SAFETY: both addresses are mapped and readable (checked above).
            unsafe {
                ((va + i) as *const u8).read_volatile() == ((lin + i) as *const u8).read_volatile()
            }
        })
    };
    let text_ok = same_bytes(sym!("_start"), 256);
    let ro_ok = same_bytes((&raw const RO_PROBE) as u64, 16);
    let alias = (&raw mut ALIAS_PROBE) as u64;
    let alias_lin = ml.phys_to_virt(va_to_pa(alias)) as *mut u64;
    // SAFETY: ALIAS_PROBE is ours; both addresses map it read-write.
    let rw_ok = unsafe {
        (alias as *mut u64).write_volatile(0x1234_5678_9abc_def0);
        let a = alias_lin.read_volatile() == 0x1234_5678_9abc_def0;
        alias_lin.write_volatile(0x0fed_cba9_8765_4321);
        a && (alias as *const u64).read_volatile() == 0x0fed_cba9_8765_4321
    };
    c.report(
        "same_bytes",
        text_ok && ro_ok && rw_ok,
        format_args!("text {text_ok} rodata {ro_ok} data write/read {rw_ok}"),
    );

    // --- symbols where the spec says --------------------------------------
    let bounds = [
        sym!("__text_start"),
        sym!("__rodata_start"),
        sym!("__data_start"),
        sym!("__bss_start"),
        sym!("__image_end"),
    ];
    let (image_start, image_end) = (sym!("__image_start"), sym!("__image_end"));
    let kmain = crate::kmain as *const () as u64;
    let sections_ok = (0..SECTIONS.len())
        .all(|i| bounds[i] % SECTIONS[i].align == 0 && bounds[i] <= bounds[i + 1]);
    let slot = ml.image_slot;
    let stack_ok = sym!("__stack_top") - sym!("__stack_bottom") == STACK_SIZE
        && sp() > sym!("__stack_bottom")
        && sp() <= sym!("__stack_top");
    // Fixed or `nokaslr`: the link address; otherwise a granule-aligned
    // position of the KASLR range.
    let placement_ok = match (boot.kaslr, ml.kaslr) {
        (Kaslr::None | Kaslr::Disabled, _) => run == IMAGE_LINK_ADDRESS,
        (_, Some(k)) => {
            run >= k.start
                && (run - k.start).is_multiple_of(k.granule)
                && (run - k.start) / k.granule < k.slots
                // A range reaching 2^64 has `end` saturated at u64::MAX.
                && run as u128 + IMAGE_MAX_SIZE as u128
                    <= if k.end == u64::MAX { 1 << 64 } else { k.end as u128 }
        }
        (_, None) => false,
    };
    let symbols_ok = image_start == run
        && placement_ok
        && sym!("_start") == run
        && bounds[0] == run
        && sections_ok
        && image_end - image_start <= IMAGE_MAX_SIZE
        && slot.contains(run)
        && slot.contains(run.wrapping_add(IMAGE_MAX_SIZE - 1))
        && kmain >= bounds[0]
        && kmain < sym!("__text_end")
        && stack_ok;
    c.report(
        "symbols",
        symbols_ok,
        format_args!(
            "image {image_start:#x}-{image_end:#x} run {run:#x} placement={placement_ok} \
             sections_aligned={sections_ok} \
             kmain={kmain:#x} stack={stack_ok}"
        ),
    );

    // --- W^X in the page tables -------------------------------------------
    let mut wx_leaves = 0;
    let mut wrong_perm = 0u64;
    let mut leaves = [0u64; 3];
    let levels = boot.mode.levels();
    // TTBR1 addresses: every bit above VA_BITS set.
    let top = !0u64 << boot.mode.va_bits();
    let tables = each_leaf(ml, boot.root_pa, levels - 1, top, &mut |va, desc, size| {
        leaves[((size.trailing_zeros() - 12) / 9) as usize] += 1;
        let p = perms_of(desc);
        if p & W != 0 && p & X != 0 {
            wx_leaves += 1;
        }
        // Inside the image: exactly the section's permissions.
        if va.wrapping_sub(run) < IMAGE_MAX_SIZE && wrong_perm == 0 {
            let pa = va_to_pa(va);
            let i = (0..SECTIONS.len())
                .find(|&i| pa >= va_to_pa(bounds[i]) && pa < va_to_pa(bounds[i + 1]));
            let want = match i {
                Some(i) => {
                    let s = SECTIONS[i].perms;
                    (if s.read { R } else { 0 })
                        | (if s.write { W } else { 0 })
                        | (if s.execute { X } else { 0 })
                }
                None => R | W,
            };
            if p != want || size > SECTION_ALIGN {
                wrong_perm = va;
            }
        }
    });
    c.report(
        "wx_tables",
        wx_leaves == 0 && wrong_perm == 0,
        format_args!(
            "{wx_leaves} writable+executable leaves; wrong permissions at {wrong_perm:#x}"
        ),
    );
    c.report(
        "pt_counts",
        tables == boot.pt_pages && leaves == boot.leaves,
        format_args!(
            "walked {tables} tables {leaves:?}, built {} {:?}",
            boot.pt_pages, boot.leaves
        ),
    );
    let tcr: u64;
    // SAFETY: reads a register.
    unsafe { core::arch::asm!("mrs {0}, tcr_el1", out(reg) tcr) };
    c.report(
        "tcr",
        tcr >> 16 & 0x3f == ml.mode.t1sz() && tcr & (1 << 7) != 0,
        format_args!(
            "TCR_EL1 {tcr:#x}: T1SZ is not {} or TTBR0 walks are on",
            ml.mode.t1sz()
        ),
    );

    // --- W^X for real: these must trap ------------------------------------
    let ro = (&raw const RO_PROBE) as u64;
    let seen = expect_fault(EC_DABT_CUR, ro, || {
        // SAFETY: expected to fault; the trap handler skips the store.
        unsafe { core::arch::asm!("str xzr, [{0}]", in(reg) ro) };
    });
    // SAFETY: reading our own static.
    let intact = unsafe { (ro as *const u8).read_volatile() } == 0x5a;
    c.report(
        "wx_rodata_write",
        seen && intact,
        format_args!("store to rodata {ro:#x} did not trap"),
    );

    let text = sym!("__text_end") - 8;
    let seen = expect_fault(EC_DABT_CUR, text, || {
        // SAFETY: expected to fault; the trap handler skips the store.
        unsafe { core::arch::asm!("str wzr, [{0}]", in(reg) text) };
    });
    c.report(
        "wx_text_write",
        seen,
        format_args!("store to text {text:#x} did not trap"),
    );

    let data = (&raw const DATA_PROBE) as u64;
    let seen = expect_fault(EC_IABT_CUR, data, || {
        // SAFETY: expected to fault; the handler resumes at x30. Without
        // W^X the probe is `ret` and comes back here too.
        unsafe { core::arch::asm!("blr {0}", in(reg) data, out("x30") _) };
    });
    c.report(
        "wx_data_exec",
        seen,
        format_args!("executing data at {data:#x} did not trap"),
    );

    // --- the summary line ---------------------------------------------------
    let ram_lo = boot.info.ram[..boot.info.ram_count]
        .iter()
        .map(|r| r.0)
        .min()
        .unwrap_or(0);
    let ram_hi = boot.info.ram[..boot.info.ram_count]
        .iter()
        .map(|r| r.0 + r.1)
        .max()
        .unwrap_or(0);
    println!(
        "layout: spec={} mode={} page_offset={:#x} linear_map={:#x}-{:#x} kernel_link={:#x} \
         kernel_run={:#x} ram={:#x}-{:#x} pt_pages={} leaves_1g={} leaves_2m={} leaves_4k={}",
        LAYOUT_NAME,
        boot.mode.name(),
        ml.page_offset,
        ml.linear_map.start,
        // Exclusive end; a region ending at 2^64 prints as 0x10000000000000000.
        ml.linear_map.start as u128 + ml.linear_map.size as u128,
        IMAGE_LINK_ADDRESS,
        run,
        ram_lo,
        ram_hi,
        boot.pt_pages,
        boot.leaves[2],
        boot.leaves[1],
        boot.leaves[0],
    );
    c.failures
}

/// Runs `f`, which must raise a permission fault of class `ec` at `addr`.
fn expect_fault(ec: u64, addr: u64, f: impl FnOnce()) -> bool {
    SEEN_EC.store(0, Ordering::Relaxed);
    EXPECT_ADDR.store(addr, Ordering::Relaxed);
    EXPECT_EC.store(ec, Ordering::Relaxed);
    f();
    EXPECT_EC.store(0, Ordering::Relaxed);
    SEEN_EC.load(Ordering::Relaxed) == ec
}

/// `MODES`, comma-separated.
struct ModeList;

impl fmt::Display for ModeList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in layout::MODES.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(m.name())?;
        }
        Ok(())
    }
}
