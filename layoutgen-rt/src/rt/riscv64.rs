//! The riscv64 boot path: [`entry!`](crate::entry!)'s assembly calls
//! [`early`] with the MMU off; it decides the mode and the run address,
//! builds the page tables and turns paging on; then [`main`] calls the
//! kernel's. docs/runtime.md has the whole path.
//!
//! Everything in [`early`] runs at the physical load address: the rules of
//! the crate's "Before paging" section hold (no `core::fmt`, no `dyn`, no
//! pointers read from the image's data; [`Layout`](super::Layout) is plain numbers).

use super::{Boot, Kernel, ModeMap, TrapFrame, check_placement, fail, place_image};
use crate::fdt;
use crate::paging::riscv64::{self, Sv};
use crate::paging::{Flags, Table};
use crate::reloc;
use crate::sym;
use crate::text::{put_hex, puts};

/// `satp.MODE` of Sv39, Sv48, Sv57: [`Boot::accepted`]'s order.
const SV: [u64; 3] = [8, 9, 10];

/// `satp.MODE` of a mode with `va_bits` (0: none).
const fn satp_mode(va_bits: u32) -> u64 {
    match va_bits {
        39 => 8,
        48 => 9,
        57 => 10,
        _ => 0,
    }
}

/// Page-table pages (root included): enough for every bundled layout in
/// every mode with up to `fdt::MAX_RAM_RANGES` RAM ranges.
pub const POOL_PAGES: usize = 64;

static mut POOL: [Table; POOL_PAGES] = [Table::EMPTY; POOL_PAGES];
static mut PROBE: [Table; 3] = [Table::EMPTY; 3];

/// The pool's address. The generic code that uses it is compiled in the
/// kernel's crate, with the kernel's flags: under `-C
/// relocation-model=pie` a static of another crate is reached through the
/// GOT there, an absolute address, wrong before paging. This crate's own
/// functions (not inlined into the kernel) reach it PC-relatively.
#[inline(never)]
fn pool() -> *mut [Table; POOL_PAGES] {
    &raw mut POOL
}

unsafe extern "C" {
    /// `entry!`'s: `satp`, then the jump to `va - pa` above, then `main`.
    fn __layoutgen_rt_enter_virtual(satp: u64, va_minus_pa: u64, boot: u64) -> !;
}

/// Retired instructions so far (`instret`: OpenSBI lets S-mode read it).
#[inline(always)]
pub fn instret() -> u64 {
    let n: u64;
    // SAFETY: reads a counter CSR, no side effects.
    unsafe { core::arch::asm!("rdinstret {0}", out(reg) n, options(nomem, nostack)) };
    n
}

/// Called by `_start` with the MMU off, BSS cleared and a stack: a0 = hart
/// id, a1 = device tree, a2 = the kernel's `Boot` (`entry!`'s static), a3 =
/// the loader's a2.
///
/// # Safety
/// Only from `entry!`'s `_start`, once.
pub unsafe extern "C" fn early<K: Kernel>(
    hartid: u64,
    dtb: u64,
    boot: *mut Boot<K::Mode>,
    loader_arg: u64,
) -> ! {
    // SAFETY: `entry!`'s static, ours alone until `main`.
    let boot = unsafe { &mut *boot };
    let l = &K::LAYOUT;
    boot.hartid = hartid;
    boot.dtb = dtb;
    boot.loader_arg = loader_arg;
    boot.load = sym!("_start");
    boot.finisher_pa = K::EXIT_DEVICE;
    K::exit_device(boot.finisher_pa);
    if l.machine && l.relocatable {
        // Self-relocating firmware (OpenSBI's fw_base.S `_relocate`): no
        // paging, so it runs where it was loaded; the words `.rela.dyn`
        // lists are fixed up for that address first, before anything can
        // follow one (only the exit device is known, to fail with).
        boot.run = boot.load;
        relocate_here::<K>(boot);
    }
    puts::<K::Console>(K::NAME);
    puts::<K::Console>(b": entered at ");
    put_hex::<K::Console>(boot.load);
    puts::<K::Console>(if l.machine {
        b" (M-mode, no paging), dtb "
    } else {
        b" (MMU off), dtb "
    });
    put_hex::<K::Console>(dtb);
    puts::<K::Console>(b"\n");
    // SAFETY: the loader passes the device tree's physical address in a1.
    if let Err(e) = unsafe { fdt::parse(dtb, &mut boot.info) } {
        fail::<K>(e);
    }
    K::devices(&boot.info);
    if l.machine {
        // Where it was loaded is where it runs: `ram.load`, or with
        // `image.phys_align` any multiple of it in RAM.
        check_placement::<K>(l, boot.load, boot.info.ram());
        boot.run = boot.load;
        boot.finisher_va = boot.finisher_pa;
        K::record(boot);
        K::main(boot)
    }
    if let Some(f) = boot.info.finisher {
        boot.finisher_pa = f;
    }
    K::exit_device(boot.finisher_pa);
    check_placement::<K>(l, boot.load, boot.info.ram());
    let m = choose_mode::<K>(boot);
    place_image::<K>(boot, &m, || {
        let t: u64;
        // SAFETY: reading the time CSR has no side effects.
        unsafe { core::arch::asm!("rdtime {0}", out(reg) t) };
        t
    });
    if l.relocatable {
        // Before anything follows an absolute word of the image (GNU ld
        // leaves them zero, lld writes the link address).
        relocate_here::<K>(boot);
    }
    build_page_tables::<K>(boot, &m);
    let satp = riscv64::satp(satp_mode(m.va_bits), boot.root_pa);
    let offset = boot.run.wrapping_sub(boot.load);
    // SAFETY: the tables map the image at `run`, the stack and `boot` with it.
    unsafe { __layoutgen_rt_enter_virtual(satp, offset, boot as *mut _ as u64) }
}

/// Applies `.rela.dyn` for running at `boot.run` (the image is at
/// `boot.load`), recording the count and its cost in retired instructions.
fn relocate_here<K: Kernel>(boot: &mut Boot<K::Mode>) {
    let t0 = instret();
    let unsupported = b"unsupported dynamic relocation (only R_RISCV_RELATIVE is handled)";
    boot.relocations = super::relocate::<K>(reloc::RISCV64, unsupported, boot.load, boot.run);
    boot.relocation_cost = instret().wrapping_sub(t0);
}

/// The next stage QEMU's reset vector describes to M-mode firmware in a2:
/// its `fw_dynamic_info` (OpenSBI's `include/sbi/fw_dynamic.h`: magic
/// "OSBI", version, `next_addr`, `next_mode`, ...). QEMU fills it with the
/// `-kernel` image's entry and S-mode; without `-kernel` the address is 0.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct NextStage {
    pub addr: u64,
    /// 0: U-mode, 1: S-mode, 3: M-mode (OpenSBI's `next_mode`).
    pub mode: u64,
}

const FW_DYNAMIC_INFO_MAGIC: u64 = 0x4942_534f;

/// The next stage `info` (a2 at entry, [`Boot::loader_arg`]) names, if it
/// is a `fw_dynamic_info` with a non-zero address.
///
/// # Safety
/// `info`, when non-zero and 8-aligned, must be readable for 32 bytes.
pub unsafe fn next_stage(info: u64) -> Option<NextStage> {
    if info == 0 || !info.is_multiple_of(8) {
        return None;
    }
    let word = |i: u64| {
        // SAFETY: the caller's contract.
        unsafe { ((info + 8 * i) as *const u64).read_volatile() }
    };
    let (magic, addr, mode) = (word(0), word(2), word(3));
    (magic == FW_DYNAMIC_INFO_MAGIC && addr != 0).then_some(NextStage { addr, mode })
}

/// Leaves M-mode for an S-mode next stage at `next` (a0 = `hartid`, a1 =
/// `dtb`), set up as OpenSBI's `sbi_hart_switch_mode` and
/// `sbi_hart_pmp_configure` leave a hart: PMP entry 0 keeps S-mode out of
/// the NAPOT range `[fw_start, fw_start + fw_size)` (the firmware; M-mode
/// is not bound by an unlocked entry), entry 1 lets it at everything else;
/// page faults, breakpoints, misaligned fetches and U-mode ecalls, and the
/// supervisor interrupts, are delegated to S-mode; the counters are
/// readable; `mscratch` is `m_stack`, the stack `entry!`'s trap entry
/// switches to for traps from S-mode (its ecalls: the kernel's SBI).
///
/// # Safety
/// M-mode only; `fw_size` a power of two that `fw_start` is a multiple of;
/// nothing of the firmware's may be needed on the current stack again.
pub unsafe fn enter_supervisor(
    next: u64,
    hartid: u64,
    dtb: u64,
    fw_start: u64,
    fw_size: u64,
    m_stack: u64,
) -> ! {
    const NAPOT: u64 = 3 << 3;
    const RWX: u64 = 7;
    let pmpaddr0 = (fw_start | (fw_size / 2 - 1)) >> 2;
    let pmpcfg0 = NAPOT | ((NAPOT | RWX) << 8);
    // mstatus.MPP = S (01), mstatus.MPIE off.
    const MPP: u64 = 3 << 11;
    const MPP_S: u64 = 1 << 11;
    const MPIE: u64 = 1 << 7;
    // SAFETY: M-mode CSR writes; the caller's contract for the rest.
    unsafe {
        core::arch::asm!(
            "csrw pmpaddr0, {pa0}",
            "csrw pmpaddr1, {all}",
            "csrw pmpcfg0, {cfg}",
            "sfence.vma",
            "csrw medeleg, {medeleg}",
            "csrw mideleg, {mideleg}",
            "csrw mcounteren, {counters}",
            "csrw satp, zero",
            "csrc mstatus, {clear}",
            "csrs mstatus, {mpp_s}",
            "csrw mscratch, {m_stack}",
            "csrw mepc, {next}",
            "mret",
            pa0 = in(reg) pmpaddr0,
            all = in(reg) u64::MAX,
            cfg = in(reg) pmpcfg0,
            // Misaligned fetch, breakpoint, U-mode ecall, page faults.
            medeleg = in(reg) (1u64 << 0) | (1 << 3) | (1 << 8) | (1 << 12) | (1 << 13) | (1 << 15),
            // SSIP, STIP, SEIP.
            mideleg = in(reg) (1u64 << 1) | (1 << 5) | (1 << 9),
            counters = in(reg) 7u64,
            clear = in(reg) MPP | MPIE,
            mpp_s = in(reg) MPP_S,
            m_stack = in(reg) m_stack,
            next = in(reg) next,
            in("a0") hartid,
            in("a1") dtb,
            options(noreturn),
        )
    }
}

/// `entry!`'s trap entry calls this with the saved registers.
///
/// # Safety
/// Only from `entry!`'s `trap_entry`.
pub unsafe extern "C" fn trap<K: Kernel>(frame: &mut TrapFrame) {
    let (cause, tval): (u64, u64);
    // SAFETY: reading the trap CSRs of the mode the kernel runs in.
    unsafe {
        if K::LAYOUT.machine {
            core::arch::asm!("csrr {0}, mcause", "csrr {1}, mtval", out(reg) cause, out(reg) tval);
        } else {
            core::arch::asm!("csrr {0}, scause", "csrr {1}, stval", out(reg) cause, out(reg) tval);
        }
    }
    K::trap(frame, cause, tval)
}

/// Does the hart accept `satp.MODE` `mode`? (WARL: an unsupported mode
/// leaves `satp` unchanged.) The probe tables map the 1 GiB around this
/// code to itself in every mode, so the instructions after the write
/// still fetch. Not inlined: see [`pool`].
#[inline(never)]
fn probe(mode: u64) -> bool {
    let here = sym!("_start") & !((1 << 30) - 1);
    let p = (&raw mut PROBE).cast::<[u64; 512]>();
    // SAFETY: the probe tables are ours alone; an Sv39 root is p[0], an
    // Sv48 root p[1] -> p[0], an Sv57 root p[2] -> p[1] -> p[0].
    unsafe {
        let (t0, t1, t2) = (p as u64, p.add(1) as u64, p.add(2) as u64);
        (*p)[((here >> 30) & 511) as usize] = ((here >> 12) << 10) | 0xcf; // VRWXAD
        (*p.add(1))[((here >> 39) & 511) as usize] = ((t0 >> 12) << 10) | 1;
        (*p.add(2))[((here >> 48) & 511) as usize] = ((t1 >> 12) << 10) | 1;
        let root = [t0, t1, t2][(mode - 8) as usize];
        let satp = riscv64::satp(mode, root);
        let read: u64;
        core::arch::asm!(
            "sfence.vma",
            "csrw satp, {v}",
            "csrr {r}, satp",
            "csrw satp, zero",
            "sfence.vma",
            v = in(reg) satp, r = out(reg) read,
        );
        read == satp
    }
}

/// The layout's highest mode the hart accepts, or `mode=` from bootargs.
fn choose_mode<K: Kernel>(boot: &mut Boot<K::Mode>) -> ModeMap<K::Mode> {
    let mut i = 0;
    while i < SV.len() {
        boot.accepted[i] = probe(SV[i]);
        i += 1;
    }
    let modes = &K::LAYOUT.modes;
    let find = |satp: u64| {
        let mut i = 0;
        while i < modes.len() {
            if let Some(m) = modes[i]
                && satp_mode(m.va_bits) == satp
            {
                return Some(m);
            }
            i += 1;
        }
        None
    };
    if let Some(v) = fdt::arg(boot.info.bootargs(), b"mode") {
        let satp = if v == b"sv39" {
            8
        } else if v == b"sv48" {
            9
        } else if v == b"sv57" {
            10
        } else {
            fail::<K>(b"bootargs: mode= must be sv39, sv48 or sv57")
        };
        let Some(m) = find(satp) else {
            fail::<K>(b"bootargs: mode= names a mode the layout spec does not list")
        };
        if !boot.accepted[(satp - 8) as usize] {
            fail::<K>(b"bootargs: mode= names a mode this hart does not support");
        }
        boot.mode = m.mode;
        boot.mode_forced = true;
        return m;
    }
    let mut i = modes.len();
    while i > 0 {
        i -= 1;
        if let Some(m) = modes[i]
            && satp_mode(m.va_bits) >= 8
            && boot.accepted[(satp_mode(m.va_bits) - 8) as usize]
        {
            boot.mode = m.mode;
            return m;
        }
    }
    fail::<K>(b"the hart supports none of the layout's paging modes")
}

/// The linear map of all RAM, the image window at `run` (or inside the
/// linear map) with each section's flags, and the exit device's page at
/// the start of the fixmap.
fn build_page_tables<K: Kernel>(boot: &mut Boot<K::Mode>, m: &ModeMap<K::Mode>) {
    // SAFETY: the pool is ours alone, used only here; its address is its
    // physical address (the MMU is off).
    let pool = unsafe { &mut *pool() };
    let finisher = boot.finisher_pa;
    let va = super::build_page_tables::<K, Sv>(boot, m, pool, finisher, Flags::R | Flags::W);
    boot.finisher_va = va.unwrap_or(finisher);
}

/// The entry from the boot loader for kernel type `$k` (a
/// [`Kernel`](crate::rt::Kernel)): `_start` in `.text.entry`, the trap
/// entry `trap_entry` (in `.text`, or the section named by a second
/// argument, e.g. xv6's `"trampsec"`), the switch to the virtual address,
/// and the static the early boot records into. Once per kernel.
#[macro_export]
macro_rules! entry {
    ($k:ty) => {
        $crate::entry!($k, ".text");
    };
    ($k:ty, $trap_section:literal) => {
        static mut __LAYOUTGEN_RT_BOOT: $crate::rt::Boot<<$k as $crate::rt::Kernel>::Mode> =
            $crate::rt::Boot::new(<$k as $crate::rt::Kernel>::LAYOUT.first_mode());
        core::arch::global_asm!(
                // The image's first byte: OpenSBI (or QEMU's reset vector,
                // for M-mode firmware) enters here, a0 = hart id, a1 = DTB.
                ".section .text.entry, \"ax\"",
                ".globl _start",
                "_start:",
                // A kernel: Linux's riscv Image header (Documentation/arch/
                // riscv/boot-image-header.rst), so U-Boot's `booti` takes
                // the flat image like Linux's; code0 jumps over it, so any
                // loader that just jumps to the first byte still works.
                ".if {machine} == 0",
                ".option push",
                ".option norvc",
                "j 9f",
                ".option pop",
                ".word 0",
                ".dword {text_offset}",
                // image_size: the memory footprint, .bss and stack included.
                ".dword __image_end - _start",
                ".dword 0",
                ".word 2",
                ".word 0",
                ".dword 0",
                ".ascii \"RISCV\\0\\0\\0\"",
                ".ascii \"RSC\\x05\"",
                ".word 0",
                "9:",
                ".endif",
                // Firmware: every hart starts here; park all but hart 0,
                // and turn the FPU on (mstatus.FS = Initial).
                ".if {machine}",
                "bnez a0, 3f",
                "li t0, 0x2000",
                "csrs mstatus, t0",
                ".endif",
                ".if {gp}",
                ".option push",
                ".option norelax",
                "lla gp, __global_pointer$",
                ".option pop",
                ".else",
                "li gp, 0",
                ".endif",
                ".if {machine}",
                "csrw mie, zero",
                // mscratch 0: traps come from M-mode (see trap_entry).
                "csrw mscratch, zero",
                ".else",
                "csrw sie, zero",
                ".endif",
                "lla sp, __stack_top",
                "lla t0, __bss_start",
                "lla t1, __bss_end",
                "1: bgeu t0, t1, 2f",
                "sd zero, 0(t0)",
                "addi t0, t0, 8",
                "j 1b",
                "2: lla t0, trap_entry",
                ".if {machine}",
                "csrw mtvec, t0",
                ".else",
                "csrw stvec, t0",
                ".endif",
                "mv a3, a2",
                "lla a2, {boot}",
                "call {early}",
                "3: wfi",
                "j 3b",
                "",
                // Save every register, let the kernel look at the trap,
                // restore (epc as it left it), return.
                concat!(".section ", $trap_section, ", \"ax\""),
                ".balign 4",
                ".globl trap_entry",
                "trap_entry:",
                // Firmware that started a next stage (`enter_supervisor`)
                // keeps its own stack in mscratch: a trap from below
                // swaps to it (mscratch then holds the interrupted sp); a
                // trap from M-mode finds mscratch 0 and swaps back.
                ".if {machine}",
                "csrrw sp, mscratch, sp",
                "bnez sp, 4f",
                "csrrw sp, mscratch, sp",
                "4:",
                ".endif",
                "addi sp, sp, -272",
                ".irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
                "sd x\\n, \\n*8(sp)",
                ".endr",
                "addi t0, sp, 272",
                ".if {machine}",
                "csrr t1, mscratch",
                "beqz t1, 5f",
                "mv t0, t1",
                "5:",
                ".endif",
                "sd t0, 16(sp)",
                ".if {machine}",
                "csrr t0, mepc",
                ".else",
                "csrr t0, sepc",
                ".endif",
                "sd t0, 256(sp)",
                "sd zero, 264(sp)",
                "mv a0, sp",
                "call {trap}",
                "ld t0, 256(sp)",
                ".if {machine}",
                "csrw mepc, t0",
                ".else",
                "csrw sepc, t0",
                ".endif",
                ".irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
                "ld x\\n, \\n*8(sp)",
                ".endr",
                "addi sp, sp, 272",
                ".if {machine}",
                "csrrw sp, mscratch, sp",
                "bnez sp, 6f",
                "csrrw sp, mscratch, sp",
                "6:",
                "mret",
                ".else",
                "sret",
                ".endif",
                "",
                // enter_virtual(satp, va - pa, boot): paging on, and on at
                // the virtual address. The fetch after the satp write
                // faults (the physical address is not mapped) and the trap
                // lands on `1f` at its virtual address; the `jr` gets there
                // too if it does not (an identity-mapped kernel: VA = PA).
                ".section .text",
                ".globl __layoutgen_rt_enter_virtual",
                ".balign 4",
                "__layoutgen_rt_enter_virtual:",
                "lla t0, 1f",
                "add t0, t0, a1",
                "csrw stvec, t0",
                "sfence.vma",
                "csrw satp, a0",
                "sfence.vma",
                "jr t0",
                ".balign 4",
                "1: add sp, sp, a1",
                "add a0, a2, a1",
                ".if {gp}",
                ".option push",
                ".option norelax",
                "lla gp, __global_pointer$",
                ".option pop",
                ".endif",
                "lla t0, trap_entry",
                "csrw stvec, t0",
                "call {main}",
                machine = const <$k as $crate::rt::Kernel>::LAYOUT.machine as u8,
                text_offset = const <$k as $crate::rt::Kernel>::LAYOUT.load_address
                    .wrapping_sub(<$k as $crate::rt::Kernel>::LAYOUT.ram_base),
                gp = const <$k as $crate::rt::Kernel>::LAYOUT.gp_relax as u8,
                boot = sym __LAYOUTGEN_RT_BOOT,
                early = sym $crate::rt::riscv64::early::<$k>,
                trap = sym $crate::rt::riscv64::trap::<$k>,
                main = sym $crate::rt::main::<$k>,
        );
    };
}
