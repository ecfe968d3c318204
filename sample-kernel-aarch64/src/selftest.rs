//! Self-checks, run at the virtual address with paging on. Each prints
//! `check <name>: ok` or `check <name>: FAIL <detail>`; then the summary line.
//!
//! The report and the checks both sample kernels run (round trips, same
//! bytes, the table census, the W^X faults, the summary line) are
//! `layoutgen_rt::selftest`; this module adds the aarch64 side (exception
//! classes, the accesses that provoke them, TCR_EL1) and this kernel's own.

use crate::Boot;
use crate::console::Console;
use crate::layout::{
    self, CODE_MODEL, IMAGE_LINK_ADDRESS, IMAGE_MAX_SIZE, ModeLayout, SECTIONS, STACK_SIZE,
};
use crate::println;
use layoutgen_rt::kaslr::SeedSource;
use layoutgen_rt::paging::aarch64::Granule4K;
use layoutgen_rt::paging::{self, Mapped};
use layoutgen_rt::rt::{Kaslr, TrapFrame};
use layoutgen_rt::selftest::{self, ExpectedFault, Probe, Tree, View, probe_symbols};
use layoutgen_rt::text::Joined;
use layoutgen_rt::{image, sym};

type Checks = selftest::Checks<Console>;

/// ESR_EL1.EC: instruction abort / data abort taken without a change in EL.
const EC_IABT_CUR: u64 = 0x21;
const EC_DABT_CUR: u64 = 0x25;

/// The fault a check is provoking, for the trap handler.
static FAULT: ExpectedFault = ExpectedFault::new();

/// Called by the trap handler: consumes a permission fault a W^X check
/// asked for.
pub fn expected_fault(f: &mut TrapFrame, esr: u64, far: u64) -> bool {
    let ec = esr >> 26 & 0x3f;
    // DFSC/IFSC 0b0011xx: a permission fault (not translation, not access).
    let permission = esr & 0x3c == 0x0c;
    if !permission || !FAULT.take(ec, far) {
        return false;
    }
    if ec == EC_IABT_CUR {
        // The probe was entered with `blr`: resume at the return address.
        f.epc = f.x[30];
    } else {
        f.epc += 4;
    }
    true
}

/// The aarch64 accesses the W^X checks provoke faults with.
struct Aarch64;

impl Probe for Aarch64 {
    const STORE_FAULT: u64 = EC_DABT_CUR;
    const FETCH_FAULT: u64 = EC_IABT_CUR;

    fn store64(addr: u64) {
        // SAFETY: expected to fault; the trap handler skips the store.
        unsafe { core::arch::asm!("str xzr, [{0}]", in(reg) addr) };
    }

    fn store32(addr: u64) {
        // SAFETY: expected to fault; the trap handler skips the store.
        unsafe { core::arch::asm!("str wzr, [{0}]", in(reg) addr) };
    }

    fn call(addr: u64) {
        // SAFETY: expected to fault; the handler resumes at x30. Without
        // W^X the probe is `ret` and comes back here too.
        unsafe { core::arch::asm!("blr {0}", in(reg) addr, out("x30") _) };
    }
}

fn sp() -> u64 {
    let v: u64;
    // SAFETY: reads a register.
    unsafe { core::arch::asm!("mov {0}, sp", out(reg) v) };
    v
}

fn kmain() -> u64 {
    crate::kmain as *const () as u64
}

pub fn run(boot: &Boot) -> u32 {
    let ml = layout::layout_for(boot.mode).expect("early boot chose a listed mode");
    let mut c = Checks::new();
    banner(boot, ml);

    // The shared checks, against the live TTBR1 tables (read through the
    // linear map, which maps all RAM).
    let bounds = image::section_bounds();
    let r = view(boot, ml, &bounds);
    translations(&mut c, boot, ml, &r);

    // --- symbols where the spec says --------------------------------------
    symbols(&mut c, boot, ml, &bounds);

    // --- W^X and the cost, in the tables ----------------------------------
    tables(&mut c, boot, ml, &r);

    // --- W^X for real: these must trap ------------------------------------
    selftest::wx_faults::<_, Aarch64>(&mut c, &FAULT, sym!("__text_end") - 8);

    // --- the summary line ---------------------------------------------------
    println!("{}", layoutgen_rt::selftest_summary!(layout, ml, boot));
    c.failures()
}

/// What the boot found and chose: the CPU, the paging mode, bootargs,
/// KASLR, the identity map.
fn banner(boot: &Boot, ml: &ModeLayout) {
    let run = boot.run;
    println!("sample-kernel-aarch64: running at {run:#x} with paging on");
    println!(
        "cpu: entered at EL{}, {}-bit physical addresses; dtb {:#x} ({})",
        boot.aarch64.entry_el,
        boot.aarch64.pa_bits,
        boot.dtb,
        if boot.aarch64.dtb_from_x0 {
            "from x0"
        } else {
            "start of RAM"
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
        boot.aarch64.tcr,
        Joined(&layout::MODES.map(|m| m.name()), ",")
    );
    let args = core::str::from_utf8(boot.info.bootargs()).unwrap_or("<not utf-8>");
    println!("bootargs: \"{args}\"");
    kaslr(boot, ml);
    println!(
        "ttbr0: identity map, {} x 1 GiB block(s), off since the switch",
        boot.aarch64.idmap_blocks
    );
}

/// Where KASLR put the image and why, and the relocations applied.
fn kaslr(boot: &Boot, ml: &ModeLayout) {
    let run = boot.run;
    // The image's distance from its link address.
    let shift = run.wrapping_sub(IMAGE_LINK_ADDRESS);
    let slots = ml.kaslr.map_or(0, |k| k.slots);
    match boot.kaslr {
        Kaslr::None => println!("kaslr: none (code model {CODE_MODEL:?})"),
        Kaslr::Disabled => println!("kaslr: disabled by nokaslr"),
        Kaslr::Slot { slot } => {
            println!("kaslr: slot {slot} of {slots} from bootargs kaslr=, offset {shift:#x}")
        }
        Kaslr::Physical => println!(
            "kaslr: from the physical address: pa {:#x} -> va {run:#x}",
            boot.load
        ),
        Kaslr::Random { seed, source, slot } => println!(
            "kaslr: seed {seed:#x} from {}, slot {} of {slots}, offset {shift:#x}",
            match source {
                SeedSource::Bootargs => "bootargs kaslr_seed",
                SeedSource::DeviceTree => "/chosen/kaslr-seed",
                SeedSource::Timer => "the counter",
            },
            slot
        ),
    }
    if boot.kaslr != Kaslr::None {
        println!(
            "relocations: {} R_AARCH64_RELATIVE applied",
            boot.relocations
        );
    }
}

/// The live TTBR1 tables, read through the linear map.
fn live(ml: &ModeLayout) -> Mapped {
    // SAFETY: the linear map maps every page-table page for good.
    unsafe { Mapped::new(ml.linear_offset) }
}

/// The shared checks' view of this boot.
fn view<'a>(boot: &'a Boot, ml: &ModeLayout, bounds: &'a [u64]) -> View<'a> {
    layoutgen_rt::selftest_view!(layout, ml, boot, bounds, &crate::SECTION_FLAGS)
}

/// The round trips through the live tables (the linear map, the image) and
/// the image's two mappings holding the same bytes.
fn translations(c: &mut Checks, boot: &Boot, ml: &ModeLayout, r: &View) {
    let live = live(ml);
    let levels = boot.mode.levels();
    let translate = |va| paging::translate::<Granule4K>(&live, boot.root_pa, levels, va);
    selftest::linear_roundtrip(c, r, translate);
    selftest::image_roundtrip(c, r, &probe_symbols(kmain()), translate);
    // SAFETY: the round trips found both mappings of the probes; the data
    // probe is layoutgen-rt's, used by this check alone.
    unsafe {
        selftest::same_bytes(
            c,
            r,
            sym!("_start"),
            selftest::probe_rodata(),
            selftest::probe_data(),
        )
    };
}

/// The image, its sections and its placement, `kmain` and the stack where
/// the spec says.
fn symbols(c: &mut Checks, boot: &Boot, ml: &ModeLayout, bounds: &[u64]) {
    let run = boot.run;
    let kmain = kmain();
    let (image_start, image_end) = (sym!("__image_start"), sym!("__image_end"));
    let sections_ok = (0..SECTIONS.len())
        .all(|i| bounds[i].is_multiple_of(SECTIONS[i].align) && bounds[i] <= bounds[i + 1]);
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
}

/// W^X and the cost in the live tables (the shared census), and TCR_EL1
/// as the mode says.
fn tables(c: &mut Checks, boot: &Boot, ml: &ModeLayout, r: &View) {
    let tree = Tree {
        root: boot.root_pa,
        levels: boot.mode.levels(),
        pt_pages: boot.pt_pages,
        leaves: &boot.leaves,
    };
    // TTBR1 addresses: every bit above VA_BITS set.
    let top = !0u64 << boot.mode.va_bits();
    selftest::tables::<_, Granule4K>(c, r, &tree, &live(ml), |va| va | top);
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
}
