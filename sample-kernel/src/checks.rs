//! Self-checks, run at the virtual address with paging on (M-mode firmware:
//! at its physical address, no paging). Each prints `check <name>: ok` or
//! `check <name>: FAIL <detail>`; then the summary line.
//!
//! Shared by every shape: `symbols` (and `trampoline` when the layout has
//! xv6's trampsec). With paging (`paged` below): translation round trips, the
//! identity map when VA = PA, W^X in the tables and for real. Without
//! (`machine` below): M-mode, RAM and devices against the layout.

use crate::early::{Boot, Kaslr};
use crate::layout::{
    self, CODE_MODEL, CodeModel, GP_POLICY, GpPolicy, IMAGE_LINK_ADDRESS, IMAGE_MAX_SIZE,
    LAYOUT_NAME, LOAD_ADDRESS, ModeLayout, SECTIONS, STACK_SIZE,
};
use crate::{TrapFrame, println, sym};
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

const CAUSE_FETCH_PAGE_FAULT: u64 = 12;

static EXPECT_CAUSE: AtomicU64 = AtomicU64::new(0);
static EXPECT_ADDR: AtomicU64 = AtomicU64::new(0);
static SEEN_CAUSE: AtomicU64 = AtomicU64::new(0);

/// Read-only data a check tries to write.
static RO_PROBE: [u8; 16] = [0x5a; 16];
/// Data written through one mapping and read through the other.
static mut ALIAS_PROBE: u64 = 1;
/// A BSS object, for the address round trips.
static mut BSS_PROBE: u64 = 0;

/// Called by the trap handler: consumes a fault a check asked for.
pub fn expected_fault(f: &mut TrapFrame, cause: u64, tval: u64) -> bool {
    let want = EXPECT_CAUSE.load(Ordering::Relaxed);
    if want == 0 || cause != want || tval != EXPECT_ADDR.load(Ordering::Relaxed) {
        return false;
    }
    EXPECT_CAUSE.store(0, Ordering::Relaxed);
    SEEN_CAUSE.store(cause, Ordering::Relaxed);
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

/// Runs `f`, which must raise `cause` at `addr`; did it?
fn expect_fault(cause: u64, addr: u64, f: impl FnOnce()) -> bool {
    SEEN_CAUSE.store(0, Ordering::Relaxed);
    EXPECT_ADDR.store(addr, Ordering::Relaxed);
    EXPECT_CAUSE.store(cause, Ordering::Relaxed);
    f();
    EXPECT_CAUSE.store(0, Ordering::Relaxed);
    SEEN_CAUSE.load(Ordering::Relaxed) == cause
}

/// The image's symbols the address checks look at: (name, address).
fn probe_symbols() -> [(&'static str, u64); 6] {
    [
        ("_start", sym!("_start")),
        ("kmain", crate::kmain as *const () as u64),
        ("rodata", (&raw const RO_PROBE) as u64),
        ("data", (&raw const ALIAS_PROBE) as u64),
        ("bss", (&raw const BSS_PROBE) as u64),
        ("stack", sym!("__stack_top") - 8),
    ]
}

/// The image's section starts, in `SECTIONS` order, then the image end.
fn section_bounds() -> [u64; 5] {
    [
        sym!("__text_start"),
        sym!("__rodata_start"),
        sym!("__data_start"),
        sym!("__bss_start"),
        sym!("__image_end"),
    ]
}

/// RAM from the device tree: lowest start, highest end.
fn ram_span(boot: &Boot) -> (u64, u64) {
    let ram = &boot.info.ram[..boot.info.ram_count];
    let lo = ram.iter().map(|r| r.0).min().unwrap_or(0);
    let hi = ram.iter().map(|r| r.0 + r.1).max().unwrap_or(0);
    (lo, hi)
}

pub fn run(boot: &Boot) -> u32 {
    let ml = layout::layout_for(boot.mode).expect("early boot chose a listed mode");
    let mut c = Checks { failures: 0 };
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
    c.failures
}

/// The image, its sections, `kmain`, the stack and gp where the spec says.
fn symbols(c: &mut Checks, boot: &Boot, ml: &ModeLayout) {
    let run = boot.run;
    let bounds = section_bounds();
    let (image_start, image_end) = (sym!("__image_start"), sym!("__image_end"));
    let kmain = crate::kmain as *const () as u64;
    let sections_ok = (0..SECTIONS.len())
        .all(|i| bounds[i].is_multiple_of(SECTIONS[i].align) && bounds[i] <= bounds[i + 1]);
    let slot = ml.image_slot;
    let placement_ok = match (CODE_MODEL, boot.kaslr, ml.kaslr) {
        (CodeModel::Fixed, _, _) | (_, Kaslr::None | Kaslr::Disabled, _) => {
            run == IMAGE_LINK_ADDRESS
        }
        (_, Kaslr::Physical, Some(k)) => {
            crate::placement::runs_at_its_linear_address(ml, run)
                && run >= k.start
                && (run - k.start).is_multiple_of(k.granule)
                && run + IMAGE_MAX_SIZE <= k.end
        }
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
        && slot.contains(run)
        && slot.contains(run + IMAGE_MAX_SIZE - 1)
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
mod paged {
    //! Checks that need paging on.

    use super::*;
    use crate::early::SeedSource;
    use crate::layout::{IMAGE_OFFSET, SECTION_ALIGN};
    use crate::paging::{PTE_R, PTE_V, PTE_W, PTE_X, walk};

    const CAUSE_STORE_PAGE_FAULT: u64 = 15;

    /// Data a check tries to execute: `ret; ret`, so a missing W^X returns
    /// harmlessly instead of crashing.
    static mut DATA_PROBE: [u32; 2] = [0x0000_8067, 0x0000_8067];

    /// Physical address of `va` by walking the live page tables.
    fn translate(boot: &Boot, ml: &ModeLayout, va: u64) -> Option<u64> {
        let (pte, size) = walk(boot.root_pa, boot.mode.levels(), va, |pa| {
            ml.phys_to_virt(pa) as *const u64
        })?;
        Some(((pte >> 10) << 12) + (va & (size - 1)))
    }

    /// Every leaf of the tree: calls `f(va, pte, size)`; returns tables seen.
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
            let pte = unsafe { entries.add(i as usize).read_volatile() };
            if pte & PTE_V == 0 {
                continue;
            }
            let shift = 12 + 9 * level;
            let mut va = va_base | (i << shift);
            if level == boot_levels(ml) - 1 && i >= 256 {
                // Sign-extend the top-level index into a canonical address.
                va |= !0u64 << (shift + 9);
            }
            if pte & (PTE_R | PTE_W | PTE_X) != 0 {
                f(va, pte, 1u64 << shift);
            } else {
                tables += each_leaf(ml, (pte >> 10) << 12, level - 1, va, f);
            }
        }
        tables
    }

    fn boot_levels(ml: &ModeLayout) -> u32 {
        ml.mode.levels()
    }

    pub(super) fn translations(c: &mut Checks, boot: &Boot, ml: &ModeLayout) {
        let run = boot.run;
        let shift = run.wrapping_sub(IMAGE_LINK_ADDRESS); // KASLR offset
        let load = crate::placement::load_pa();
        let va_to_pa = |va: u64| va.wrapping_sub(run).wrapping_add(load);

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
            ModeList
        );
        let args = core::str::from_utf8(boot.info.bootargs()).unwrap_or("<not utf-8>");
        println!("bootargs: \"{args}\"");
        match boot.kaslr {
            Kaslr::None => println!("kaslr: none (code model {CODE_MODEL:?})"),
            Kaslr::Disabled => println!("kaslr: disabled by nokaslr"),
            Kaslr::Physical => println!(
                "kaslr: from the physical address: pa {:#x} -> va {run:#x} (offset {shift:#x})",
                crate::placement::load_pa()
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

        let mut ok = true;
        let mut bad = "";
        for (name, va) in probe_symbols() {
            let pa = va_to_pa(va);
            let good = (load..load + IMAGE_MAX_SIZE).contains(&pa)
                && layout::kernel_virt_to_phys(va.wrapping_sub(shift))
                    .wrapping_sub(LOAD_ADDRESS)
                    .wrapping_add(load)
                    == pa
                && layout::kernel_phys_to_virt(pa.wrapping_sub(load).wrapping_add(LOAD_ADDRESS))
                    .wrapping_add(shift)
                    == va
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
                    ((va + i) as *const u8).read_volatile()
                        == ((lin + i) as *const u8).read_volatile()
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

        // An identity-mapped kernel (xv6): VA = PA for the image, for RAM
        // and for the devices, in the live tables.
        if IMAGE_OFFSET == 0 && ml.linear_offset == 0 {
            let (lo, hi) = ram_span(boot);
            let image_ok = probe_symbols()
                .iter()
                .all(|&(_, va)| translate(boot, ml, va) == Some(va) && va_to_pa(va) == va);
            let ram_ok = [lo, (lo + (hi - lo) / 2) & !7, hi - 8]
                .iter()
                .all(|&pa| ml.phys_to_virt(pa) == pa && translate(boot, ml, pa) == Some(pa));
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

    pub(super) fn wx(c: &mut Checks, boot: &Boot, ml: &ModeLayout) {
        let run = boot.run;
        let load = crate::placement::load_pa();
        let va_to_pa = |va: u64| va.wrapping_sub(run).wrapping_add(load);
        let bounds = section_bounds();
        // --- W^X in the page tables -------------------------------------------
        let mut wx_leaves = 0;
        let mut wrong_perm = 0u64;
        let mut leaves = [0u64; 5];
        let levels = boot.mode.levels();
        let tables = each_leaf(ml, boot.root_pa, levels - 1, 0, &mut |va, pte, size| {
            leaves[((size.trailing_zeros() - 12) / 9) as usize] += 1;
            if pte & PTE_W != 0 && pte & PTE_X != 0 {
                wx_leaves += 1;
            }
            // Inside the image: exactly the section's permissions.
            if va >= run && va < run + IMAGE_MAX_SIZE && wrong_perm == 0 {
                let pa = va_to_pa(va);
                let i = (0..SECTIONS.len())
                    .find(|&i| pa >= va_to_pa(bounds[i]) && pa < va_to_pa(bounds[i + 1]));
                let want = match i {
                    Some(i) => {
                        let p = SECTIONS[i].perms;
                        (if p.read { PTE_R } else { 0 })
                            | (if p.write { PTE_W } else { 0 })
                            | (if p.execute { PTE_X } else { 0 })
                    }
                    None => PTE_R | PTE_W,
                };
                if pte & (PTE_R | PTE_W | PTE_X) != want || size > SECTION_ALIGN {
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

        // --- W^X for real: these must trap ------------------------------------
        let ro = (&raw const RO_PROBE) as u64;
        let seen = expect_fault(CAUSE_STORE_PAGE_FAULT, ro, || {
            // SAFETY: expected to fault; the trap handler skips the store.
            unsafe { core::arch::asm!("sd zero, 0({0})", in(reg) ro) };
        });
        // SAFETY: reading our own static.
        let intact = unsafe { (ro as *const u8).read_volatile() } == 0x5a;
        c.report(
            "wx_rodata_write",
            seen && intact,
            format_args!("store to rodata {ro:#x} did not trap"),
        );

        let text = sym!("__text_end") - 8;
        let seen = expect_fault(CAUSE_STORE_PAGE_FAULT, text, || {
            // SAFETY: expected to fault; the trap handler skips the store.
            unsafe { core::arch::asm!("sw zero, 0({0})", in(reg) text) };
        });
        c.report(
            "wx_text_write",
            seen,
            format_args!("store to text {text:#x} did not trap"),
        );

        let data = (&raw const DATA_PROBE) as u64;
        let seen = expect_fault(CAUSE_FETCH_PAGE_FAULT, data, || {
            // SAFETY: expected to fault; the handler resumes at `ra`. Without
            // W^X the probe is `ret` and comes back here too.
            unsafe { core::arch::asm!("jalr ra, 0({0})", in(reg) data, out("ra") _) };
        });
        c.report(
            "wx_data_exec",
            seen,
            format_args!("executing data at {data:#x} did not trap"),
        );
    }

    pub(super) fn summary(boot: &Boot, ml: &ModeLayout) {
        let run = boot.run;
        let (ram_lo, ram_hi) = ram_span(boot);
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
    }

    /// `MODES`, space-separated.
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
}

#[cfg(bare)]
mod machine {
    //! M-mode firmware, no paging: the checks that make sense there.

    use super::*;
    use crate::layout::{IMAGE_OFFSET, RAM_BASE, RAM_MAX_SIZE, RAM_MIN_SIZE, bare};

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
        let (lo, hi) = ram_span(boot);
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

        // --- the image runs where it is linked and loaded ------------------
        let mut ok = IMAGE_OFFSET == 0 && run == LOAD_ADDRESS && run == IMAGE_LINK_ADDRESS;
        let mut bad = "";
        for (name, va) in probe_symbols() {
            let good = (LOAD_ADDRESS..LOAD_ADDRESS + IMAGE_MAX_SIZE).contains(&va)
                && layout::kernel_virt_to_phys(va) == va
                && layout::kernel_phys_to_virt(va) == va
                && ml.image_slot.contains(va);
            if !good && ok {
                bad = name;
            }
            ok &= good;
        }
        c.report(
            "image_roundtrip",
            ok,
            format_args!("symbol {bad} is not at its physical address in the image slot"),
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
        let seen = expect_fault(CAUSE_LOAD_ACCESS_FAULT, hi, || {
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
        let (ram_lo, ram_hi) = ram_span(boot);
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
