//! Self-checks, run at the virtual address with paging on (M-mode firmware:
//! at its physical address, no paging). Each prints `check <name>: ok` or
//! `check <name>: FAIL <detail>`; then the summary line.
//!
//! Shared by every shape: `symbols` (and `trampoline` when the layout has
//! xv6's trampsec). With paging (`paged` below): translation round trips, the
//! identity map when VA = PA, W^X in the tables and for real. Without
//! (`machine` below): M-mode, RAM and devices against the layout.
//!
//! The report and the checks both sample kernels run (round trips, same
//! bytes, the table census, the W^X faults, the summary line) are
//! `layoutgen_rt::selftest`; this module adds the riscv side (fault causes,
//! the accesses that provoke them, `gp`, the CSRs) and this kernel's own.

use crate::Boot;
use crate::console::Console;
use crate::layout::{
    self, CODE_MODEL, CodeModel, GP_POLICY, GpPolicy, IMAGE_LINK_ADDRESS, IMAGE_MAX_SIZE,
    LOAD_ADDRESS, ModeLayout, PHYS_ALIGN, SECTIONS, STACK_SIZE,
};
use crate::println;
use layoutgen_rt::rt::Kaslr;
use layoutgen_rt::rt::TrapFrame;
use layoutgen_rt::selftest::{ExpectedFault, probe_symbols};
use layoutgen_rt::{image, sym};

type Checks = layoutgen_rt::selftest::Checks<Console>;

const CAUSE_FETCH_PAGE_FAULT: u64 = 12;

/// The fault a check is provoking, for the trap handler.
static FAULT: ExpectedFault = ExpectedFault::new();

/// Called by the trap handler: consumes a fault a check asked for.
pub fn expected_fault(f: &mut TrapFrame, cause: u64, tval: u64) -> bool {
    if !FAULT.take(cause, tval) {
        return false;
    }
    if cause == CAUSE_FETCH_PAGE_FAULT {
        // The probe was entered with `jalr ra`: resume at the return address.
        f.epc = f.x[1];
    } else {
        // Skip the faulting instruction (2 or 4 bytes).
        // SAFETY: epc points at text, which is readable.
        let low = unsafe { (f.epc as *const u16).read_volatile() };
        f.epc += if low & 3 == 3 { 4 } else { 2 };
    }
    true
}

fn gp() -> u64 {
    let v: u64;
    // SAFETY: reads a register.
    unsafe { core::arch::asm!("mv {0}, gp", out(reg) v) };
    v
}

fn sp() -> u64 {
    let v: u64;
    // SAFETY: reads a register.
    unsafe { core::arch::asm!("mv {0}, sp", out(reg) v) };
    v
}

fn kmain() -> u64 {
    crate::kmain as *const () as u64
}

pub fn run(boot: &Boot) -> u32 {
    let ml = layout::layout_for(boot.mode).expect("early boot chose a listed mode");
    let mut c = Checks::new();
    #[cfg(not(bare))]
    paged::translations(&mut c, boot, ml);
    #[cfg(bare)]
    machine::checks(&mut c, boot, ml);
    symbols(&mut c, boot, ml);
    #[cfg(trampoline)]
    trampoline(&mut c);
    #[cfg(not(bare))]
    {
        paged::wx(&mut c, boot, ml);
        paged::summary(boot, ml);
    }
    #[cfg(bare)]
    machine::summary(boot);
    c.failures()
}

/// The image, its sections, `kmain`, the stack and gp where the spec says.
fn symbols(c: &mut Checks, boot: &Boot, ml: &ModeLayout) {
    let run = boot.run;
    let bounds = image::section_bounds();
    let (image_start, image_end) = (sym!("__image_start"), sym!("__image_end"));
    let kmain = kmain();
    let sections_ok = (0..SECTIONS.len())
        .all(|i| bounds[i].is_multiple_of(SECTIONS[i].align) && bounds[i] <= bounds[i + 1]);
    let slot = ml.image_slot;
    // The slot holds the image as linked; without paging a self-relocating
    // image runs where it was loaded instead (run - link is its offset).
    let in_slot = |a: u64| {
        let linked = if cfg!(bare) {
            a.wrapping_sub(run).wrapping_add(IMAGE_LINK_ADDRESS)
        } else {
            a
        };
        slot.contains(linked)
    };
    let placement_ok = match (CODE_MODEL, boot.kaslr, ml.kaslr) {
        (CodeModel::Fixed, _, _) => run == IMAGE_LINK_ADDRESS,
        // Self-relocating firmware: where it was loaded, by the load rule.
        _ if cfg!(bare) => {
            run == boot.load
                && match PHYS_ALIGN {
                    None => run == LOAD_ADDRESS,
                    Some(a) => run.is_multiple_of(a),
                }
        }
        (_, Kaslr::None | Kaslr::Disabled, _) => run == IMAGE_LINK_ADDRESS,
        (_, Kaslr::Physical, Some(k)) => {
            runs_at_its_linear_address(boot, ml)
                && run >= k.start
                && (run - k.start).is_multiple_of(k.granule)
                && run + IMAGE_MAX_SIZE <= k.end
        }
        (_, Kaslr::Slot { slot }, Some(k)) => run == k.start + slot * k.granule,
        (_, Kaslr::Random { .. }, Some(k)) => {
            run != IMAGE_LINK_ADDRESS
                && run >= k.start
                && (run - k.start).is_multiple_of(k.granule)
                && run + IMAGE_MAX_SIZE <= k.end
        }
        _ => false,
    };
    let stack_ok = sym!("__stack_top") - sym!("__stack_bottom") == STACK_SIZE
        && sp() > sym!("__stack_bottom")
        && sp() <= sym!("__stack_top");
    let gp_ok = match GP_POLICY {
        GpPolicy::Relax => gp() == sym!("__global_pointer$"),
        _ => gp() == 0,
    };
    let symbols_ok = image_start == run
        && sym!("_start") == run
        && bounds[0] == run
        && sections_ok
        && image_end - image_start <= IMAGE_MAX_SIZE
        && in_slot(run)
        && in_slot(run + IMAGE_MAX_SIZE - 1)
        && placement_ok
        && kmain >= bounds[0]
        && kmain < sym!("__text_end")
        && stack_ok
        && gp_ok;
    c.report(
        "symbols",
        symbols_ok,
        format_args!(
            "image {image_start:#x}-{image_end:#x} run {run:#x} sections_aligned={sections_ok} \
             placement={placement_ok} kmain={kmain:#x} stack={stack_ok} gp={gp_ok}"
        ),
    );
}

/// `run` is where the linear map maps the image's physical address (an
/// image linked inside the linear map whose physical address the boot
/// loader chose).
fn runs_at_its_linear_address(boot: &Boot, ml: &ModeLayout) -> bool {
    #[cfg(not(bare))]
    return ml.image_in_linear_map && boot.run == ml.phys_to_virt(boot.load);
    #[cfg(bare)]
    {
        let _ = (boot, ml);
        false
    }
}

/// xv6's trampoline: the spot the spec promised (aligned, exactly its size,
/// the end of `.text`) holds the trap entry, and the trap vector points
/// there: every trap the W^X checks take runs through it.
#[cfg(trampoline)]
fn trampoline(c: &mut Checks) {
    use crate::shape::{TRAMPOLINE_ALIGN, TRAMPOLINE_SIZE};
    let t = sym!("trampoline");
    let entry = sym!("trap_entry");
    let tvec: u64;
    // SAFETY: reads a CSR.
    unsafe { core::arch::asm!("csrr {0}, stvec", out(reg) tvec) };
    let aligned = t.is_multiple_of(TRAMPOLINE_ALIGN) && t.is_multiple_of(layout::PAGE_SIZE);
    let sized = sym!("__text_end") - t == TRAMPOLINE_SIZE;
    let holds = entry >= t && entry < t + TRAMPOLINE_SIZE && tvec == entry;
    c.report(
        "trampoline",
        aligned && sized && holds,
        format_args!(
            "trampoline {t:#x} (align {TRAMPOLINE_ALIGN:#x}: {aligned}), __text_end - trampoline \
             == {TRAMPOLINE_SIZE:#x}: {sized}, trap_entry {entry:#x} stvec {tvec:#x}"
        ),
    );
}

#[cfg(not(bare))]
pub(crate) use paged::translate;

#[cfg(not(bare))]
mod paged {
    //! Checks that need paging on.

    use super::*;
    use crate::layout::IMAGE_OFFSET;
    use layoutgen_rt::kaslr::SeedSource;
    use layoutgen_rt::paging::riscv64::Sv;
    use layoutgen_rt::paging::{self, Mapped};
    use layoutgen_rt::selftest::{self, Probe, Tree, View};
    use layoutgen_rt::text::Joined;

    const CAUSE_STORE_PAGE_FAULT: u64 = 15;

    /// The live tables, read through the linear map.
    fn live(ml: &ModeLayout) -> Mapped {
        // SAFETY: the linear map maps all RAM, page tables included, for
        // as long as the kernel runs.
        unsafe { Mapped::new(ml.linear_offset) }
    }

    /// Physical address of `va` by walking the live page tables.
    pub(crate) fn translate(boot: &Boot, ml: &ModeLayout, va: u64) -> Option<u64> {
        paging::translate::<Sv>(&live(ml), boot.root_pa, boot.mode.levels(), va)
    }

    /// The shared checks' view of this boot.
    fn view<'a>(boot: &'a Boot, ml: &ModeLayout, bounds: &'a [u64]) -> View<'a> {
        layoutgen_rt::selftest_view!(layout, ml, boot, bounds, &crate::SECTION_FLAGS)
    }

    pub(super) fn translations(c: &mut Checks, boot: &Boot, ml: &ModeLayout) {
        let run = boot.run;
        let shift = run.wrapping_sub(IMAGE_LINK_ADDRESS); // KASLR offset

        println!("sample-kernel: running at {run:#x} with paging on");
        let satp: u64;
        // SAFETY: reads a CSR.
        unsafe { core::arch::asm!("csrr {0}, satp", out(reg) satp) };
        println!("paging: satp={satp:#x} root={:#x}", boot.root_pa);
        let accepted = |i: usize| if boot.accepted[i] { "yes" } else { "no" };
        println!(
            "mode: {} ({}; hart accepts sv39={} sv48={} sv57={}; spec lists {})",
            boot.mode.name(),
            if boot.mode_forced {
                "from bootargs"
            } else {
                "highest supported"
            },
            accepted(0),
            accepted(1),
            accepted(2),
            Joined(&layout::MODES.map(|m| m.name()), ",")
        );
        let args = core::str::from_utf8(boot.info.bootargs()).unwrap_or("<not utf-8>");
        println!("bootargs: \"{args}\"");
        match boot.kaslr {
            Kaslr::None => println!("kaslr: none (code model {CODE_MODEL:?})"),
            Kaslr::Disabled => println!("kaslr: disabled by nokaslr"),
            Kaslr::Physical => println!(
                "kaslr: from the physical address: pa {:#x} -> va {run:#x} (offset {shift:#x})",
                boot.load
            ),
            Kaslr::Slot { slot } => println!(
                "kaslr: slot {slot} of {} from bootargs kaslr=, offset {shift:#x}",
                ml.kaslr.map_or(0, |k| k.slots)
            ),
            Kaslr::Random { seed, source, slot } => {
                let from = match source {
                    SeedSource::Bootargs => "bootargs kaslr_seed",
                    SeedSource::DeviceTree => "/chosen/kaslr-seed",
                    SeedSource::Timer => "time CSR",
                };
                let slots = ml.kaslr.map_or(0, |k| k.slots);
                println!(
                    "kaslr: seed {seed:#x} from {from}, slot {slot} of {slots}, offset {shift:#x}"
                );
            }
        }
        #[cfg(relocatable)]
        println!("relocations: {} R_RISCV_RELATIVE applied", boot.relocations);

        let bounds = image::section_bounds();
        let r = view(boot, ml, &bounds);
        let t = |va| translate(boot, ml, va);
        selftest::linear_roundtrip(c, &r, t);
        selftest::image_roundtrip(c, &r, &probe_symbols(kmain()), t);
        // SAFETY: the round trips found both mappings of the probes; the
        // data probe is layoutgen-rt's, used by this check alone.
        unsafe {
            selftest::same_bytes(
                c,
                &r,
                sym!("_start"),
                selftest::probe_rodata(),
                selftest::probe_data(),
            )
        };

        // An identity-mapped kernel (xv6): VA = PA for the image, for RAM
        // and for the devices, in the live tables.
        if IMAGE_OFFSET == 0 && ml.linear_offset == 0 {
            let (lo, hi) = boot.info.ram_span();
            let image_ok = probe_symbols(kmain())
                .iter()
                .all(|&(_, va)| t(va) == Some(va) && r.image_pa(va) == va);
            let ram_ok = [lo, (lo + (hi - lo) / 2) & !7, hi - 8]
                .iter()
                .all(|&pa| ml.phys_to_virt(pa) == pa && t(pa) == Some(pa));
            let dev_ok = boot.finisher_va == boot.finisher_pa
                && translate(boot, ml, boot.finisher_va) == Some(boot.finisher_pa);
            c.report(
                "identity",
                run == LOAD_ADDRESS && image_ok && ram_ok && dev_ok,
                format_args!(
                    "run {run:#x} load {LOAD_ADDRESS:#x} image={image_ok} ram={ram_ok} \
                     finisher={dev_ok}"
                ),
            );
        }
    }

    /// The riscv accesses the W^X checks provoke faults with.
    struct Riscv;

    impl Probe for Riscv {
        const STORE_FAULT: u64 = CAUSE_STORE_PAGE_FAULT;
        const FETCH_FAULT: u64 = CAUSE_FETCH_PAGE_FAULT;

        fn store64(addr: u64) {
            // SAFETY: expected to fault; the trap handler skips the store.
            unsafe { core::arch::asm!("sd zero, 0({0})", in(reg) addr) };
        }

        fn store32(addr: u64) {
            // SAFETY: expected to fault; the trap handler skips the store.
            unsafe { core::arch::asm!("sw zero, 0({0})", in(reg) addr) };
        }

        fn call(addr: u64) {
            // SAFETY: expected to fault; the handler resumes at `ra`. Without
            // W^X the probe is `ret` and comes back here too.
            unsafe { core::arch::asm!("jalr ra, 0({0})", in(reg) addr, out("ra") _) };
        }
    }

    pub(super) fn wx(c: &mut Checks, boot: &Boot, ml: &ModeLayout) {
        let bounds = image::section_bounds();
        let levels = boot.mode.levels();
        let tree = Tree {
            root: boot.root_pa,
            levels,
            pt_pages: boot.pt_pages,
            leaves: &boot.leaves,
        };
        // Index bits to a canonical address: bit 38 (47, 56) copied up.
        let canonical = |va| paging::sign_extend(va, 12 + 9 * levels);
        selftest::tables::<_, Sv>(c, &view(boot, ml, &bounds), &tree, &live(ml), canonical);
        selftest::wx_faults::<_, Riscv>(c, &FAULT, sym!("__text_end") - 8);
    }

    pub(super) fn summary(boot: &Boot, ml: &ModeLayout) {
        println!("{}", layoutgen_rt::selftest_summary!(layout, ml, boot));
    }
}

#[cfg(bare)]
mod machine {
    //! M-mode firmware, no paging: the checks that make sense there.

    use super::*;
    use crate::layout::{LAYOUT_NAME, RAM_BASE, RAM_MAX_SIZE, RAM_MIN_SIZE, bare};
    use core::fmt;
    use layoutgen_rt::selftest;

    /// A load from where there is no memory and no device.
    const CAUSE_LOAD_ACCESS_FAULT: u64 = 5;

    fn csr_mhartid() -> u64 {
        let v: u64;
        // SAFETY: reads a CSR (an illegal instruction below M-mode).
        unsafe { core::arch::asm!("csrr {0}, mhartid", out(reg) v) };
        v
    }

    fn csr_misa() -> u64 {
        let v: u64;
        // SAFETY: reads a CSR (an illegal instruction below M-mode).
        unsafe { core::arch::asm!("csrr {0}, misa", out(reg) v) };
        v
    }

    /// `misa` extension letters, e.g. "acdfhimsu".
    struct Extensions(u64);

    impl fmt::Display for Extensions {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            for (i, letter) in ('a'..='z').enumerate() {
                if self.0 & (1 << i) != 0 {
                    f.write_fmt(format_args!("{letter}"))?;
                }
            }
            Ok(())
        }
    }

    pub(super) fn checks(c: &mut Checks, boot: &Boot, ml: &ModeLayout) {
        let run = boot.run;
        println!("sample-kernel: running at {run:#x} in M-mode, no paging");
        let args = core::str::from_utf8(boot.info.bootargs()).unwrap_or("<not utf-8>");
        println!("bootargs: \"{args}\"");

        // --- M-mode: mhartid and misa exist only there --------------------
        let (hart, misa) = (csr_mhartid(), csr_misa());
        let mtvec: u64;
        // SAFETY: reads a CSR.
        unsafe { core::arch::asm!("csrr {0}, mtvec", out(reg) mtvec) };
        println!(
            "machine: mhartid={hart} misa={misa:#x} ({}) mtvec={mtvec:#x}",
            Extensions(misa)
        );
        let has = |l: u8| misa & (1 << (l - b'a')) != 0;
        let rv64 = misa >> 62 == 2;
        c.report(
            "m_mode",
            hart == boot.hartid && rv64 && has(b'i') && has(b's') && mtvec == sym!("trap_entry"),
            format_args!(
                "mhartid {hart} (a0 {}), misa {misa:#x}, mtvec {mtvec:#x}",
                boot.hartid
            ),
        );

        // --- RAM from the device tree against the spec ---------------------
        let (lo, hi) = boot.info.ram_span();
        let size = hi - lo;
        let (image_start, image_end) = (sym!("__image_start"), sym!("__image_end"));
        let ram_ok = lo == RAM_BASE
            && (RAM_MIN_SIZE..=RAM_MAX_SIZE).contains(&size)
            && image_start >= lo
            && image_end <= hi;
        c.report(
            "ram",
            ram_ok,
            format_args!(
                "device tree RAM {lo:#x}-{hi:#x} ({size:#x} bytes), spec: base {RAM_BASE:#x} \
                 size {RAM_MIN_SIZE:#x}..={RAM_MAX_SIZE:#x}, image {image_start:#x}-{image_end:#x}"
            ),
        );

        // --- the image runs where it is loaded (and, unless it relocates
        // itself, where it is linked) ----------------------------------------
        #[cfg(not(relocatable))]
        let (placed, to_phys, to_virt) = (
            layout::IMAGE_OFFSET == 0 && run == LOAD_ADDRESS && run == IMAGE_LINK_ADDRESS,
            layout::kernel_virt_to_phys,
            layout::kernel_phys_to_virt,
        );
        // The conversions of the running image: the offset recorded at
        // boot (run - load, 0 without paging), not the link-time one.
        #[cfg(relocatable)]
        let (placed, to_phys, to_virt) = {
            let r = layout::Running::get();
            (
                run == boot.load,
                move |va| r.kernel_virt_to_phys(va),
                move |pa| r.kernel_phys_to_virt(pa),
            )
        };
        let bad = selftest::first_failing(probe_symbols(kmain()), |(_, va)| {
            (run..run + IMAGE_MAX_SIZE).contains(&va)
                && to_phys(va) == va
                && to_virt(va) == va
                && ml
                    .image_slot
                    .contains(va.wrapping_sub(run).wrapping_add(IMAGE_LINK_ADDRESS))
        });
        // The symbol named is the first that fails once the image is placed.
        let name = bad.filter(|_| placed).map_or("", |(name, _)| name);
        c.report(
            "image_roundtrip",
            placed && bad.is_none(),
            format_args!("symbol {name} is not at its physical address in the image slot"),
        );

        // --- the layout's device regions are where the device tree says ----
        let uart_ok = boot.info.uart == Some(bare::UART.start);
        let test_ok = boot.info.finisher == Some(bare::TEST.start);
        c.report(
            "devices",
            uart_ok && test_ok,
            format_args!(
                "device tree: uart {:#x?} finisher {:#x?}; layout: uart {:#x} test {:#x}",
                boot.info.uart,
                boot.info.finisher,
                bare::UART.start,
                bare::TEST.start
            ),
        );

        // --- past the end of RAM there is nothing: an M-mode trap ----------
        let seen = FAULT.expect(CAUSE_LOAD_ACCESS_FAULT, hi, || {
            // SAFETY: expected to fault; the trap handler skips the load.
            unsafe { core::arch::asm!("ld zero, 0({0})", in(reg) hi) };
        });
        c.report(
            "ram_end_traps",
            seen,
            format_args!("a load from {hi:#x} (end of RAM) did not trap"),
        );
    }

    pub(super) fn summary(boot: &Boot) {
        let (ram_lo, ram_hi) = boot.info.ram_span();
        println!(
            "layout: spec={} mode=bare privilege=M kernel_link={:#x} kernel_run={:#x} \
             ram={:#x}-{:#x} uart={:#x} test={:#x} mhartid={} misa={:#x}",
            LAYOUT_NAME,
            IMAGE_LINK_ADDRESS,
            boot.run,
            ram_lo,
            ram_hi,
            bare::UART.start,
            bare::TEST.start,
            csr_mhartid(),
            csr_misa(),
        );
    }
}
