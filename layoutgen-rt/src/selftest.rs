//! Self-checks and their report: each check prints `check NAME: ok` or
//! `check NAME: FAIL detail`, the boot ends with `RESULT: PASS` or
//! `RESULT: FAIL ...` and an exit status the test harness reads.
//!
//! [`fail`] works before paging (byte strings only); everything else here
//! formats with `core::fmt`, so it runs once the kernel is at its virtual
//! address. The checks both kernels run after paging ([`linear_roundtrip`],
//! [`image_roundtrip`], [`same_bytes`], [`tables`], [`wx_faults`], the
//! [`Summary`] line) compare the layout's numbers ([`View`]) with the
//! live page tables and the linker's symbols; each kernel adds its own.

use crate::paging::{self, Encoding, Flags, MAX_LEVELS, Tables};
use crate::text::{self, Putc};
use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU64, Ordering};

/// The way out of the machine: power off with `code` as the exit status
/// (0 for success) where the platform can report one.
pub trait Exit {
    fn exit(code: u16) -> !;

    /// [`fail`](fn@fail) on this console, as `Console::fail(b"...")`: a
    /// kernel's way to stop a boot that cannot go on (safe before paging).
    fn fail(msg: &[u8]) -> !
    where
        Self: Putc + Sized,
    {
        fail::<Self>(msg)
    }
}

/// `RESULT: FAIL msg` and exit status 1: the boot cannot go on. Safe
/// before paging.
pub fn fail<C: Putc + Exit>(msg: &[u8]) -> ! {
    text::puts::<C>(b"RESULT: FAIL ");
    text::puts::<C>(msg);
    text::puts::<C>(b"\n");
    C::exit(1)
}

/// What a panic handler prints (the message only once `core::fmt` is
/// usable, `fmt_ready`), then exit status 3.
pub fn panic<C: Putc + Exit>(info: &core::panic::PanicInfo, fmt_ready: bool) -> ! {
    if fmt_ready {
        text::println::<C>(format_args!("panic: {info}"));
    } else {
        text::puts::<C>(b"panic before paging\n");
    }
    text::puts::<C>(b"RESULT: FAIL panic\n");
    C::exit(3)
}

/// A trap nothing expected: `unexpected trap:` with each of `registers` as
/// ` NAME=0xHEX`, then `RESULT: FAIL unexpected trap` and status 2. Plain
/// byte output: a trap can come before paging.
pub fn unexpected_trap<C: Putc + Exit>(registers: &[(&str, u64)]) -> ! {
    text::puts::<C>(b"\nunexpected trap:");
    for (name, value) in registers {
        text::puts::<C>(b" ");
        text::puts::<C>(name.as_bytes());
        text::puts::<C>(b"=");
        text::put_hex::<C>(*value);
    }
    text::puts::<C>(b"\nRESULT: FAIL unexpected trap\n");
    C::exit(2)
}

/// The verdict: `RESULT: PASS` and status 0 without failures, else
/// `RESULT: FAIL N check(s) failed` and status 1.
pub fn finish<C: Putc + Exit>(failures: u32) -> ! {
    if failures == 0 {
        text::puts::<C>(b"RESULT: PASS\n");
        C::exit(0)
    } else {
        text::println::<C>(format_args!("RESULT: FAIL {failures} check(s) failed"));
        C::exit(1)
    }
}

/// As [`finish`], but stays up instead of exiting: the `hold` boot argument,
/// so a test can read the running kernel's page tables through QEMU's
/// monitor after the checks.
pub fn hold<C: Putc>(failures: u32) -> ! {
    if failures == 0 {
        text::puts::<C>(b"RESULT: PASS (holding)\n");
    } else {
        text::println::<C>(format_args!(
            "RESULT: FAIL {failures} check(s) failed (holding)"
        ));
    }
    loop {
        core::hint::spin_loop();
    }
}

/// The failure paths, on request from the command line `bootargs` (the
/// tests use these): `fail=panic` panics (reported at the caller's
/// location), `fail=trap` loads from address 8, where nothing is mapped
/// (nor, without paging, any memory or device): an unexpected trap.
/// Anything else does nothing.
#[track_caller]
pub fn fail_on_request<C: Putc>(bootargs: &[u8]) {
    match crate::fdt::arg(bootargs, b"fail") {
        Some(b"panic") => panic!("requested by bootargs fail=panic"),
        Some(b"trap") => {
            // SAFETY: not safe at all: that is the point.
            let v = unsafe { core::ptr::read_volatile(core::ptr::dangling::<u64>()) };
            text::println::<C>(format_args!("read {v:#x} from an unmapped address"));
        }
        _ => {}
    }
}

/// The `check NAME: ...` lines on console `C`, and how many failed.
pub struct Checks<C> {
    failures: u32,
    console: PhantomData<C>,
}

impl<C: Putc> Checks<C> {
    pub const fn new() -> Self {
        Checks {
            failures: 0,
            console: PhantomData,
        }
    }

    /// `check NAME: ok`, or `check NAME: FAIL detail` and one failure more.
    pub fn report(&mut self, name: &str, ok: bool, detail: fmt::Arguments) {
        if ok {
            text::println::<C>(format_args!("check {name}: ok"));
        } else {
            self.failures += 1;
            text::println::<C>(format_args!("check {name}: FAIL {detail}"));
        }
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }
}

impl<C: Putc> Default for Checks<C> {
    fn default() -> Self {
        Self::new()
    }
}

/// A fault a check provokes on purpose, told to the trap handler: the
/// check calls [`expect`](Self::expect), the handler [`take`](Self::take)
/// (and, if that says yes, resumes past the faulting access). `kind` is the
/// architecture's fault class (riscv `scause`, aarch64 `ESR_EL1.EC`), never
/// 0; `addr` the faulting address (`stval`, `FAR_EL1`).
pub struct ExpectedFault {
    kind: AtomicU64,
    addr: AtomicU64,
    seen: AtomicU64,
}

impl ExpectedFault {
    pub const fn new() -> Self {
        ExpectedFault {
            kind: AtomicU64::new(0),
            addr: AtomicU64::new(0),
            seen: AtomicU64::new(0),
        }
    }

    /// Runs `f`, which must fault with `kind` at `addr`; did it?
    pub fn expect(&self, kind: u64, addr: u64, f: impl FnOnce()) -> bool {
        self.seen.store(0, Ordering::Relaxed);
        self.addr.store(addr, Ordering::Relaxed);
        self.kind.store(kind, Ordering::Relaxed);
        f();
        self.kind.store(0, Ordering::Relaxed);
        self.seen.load(Ordering::Relaxed) == kind
    }

    /// From the trap handler: is this the fault a check is waiting for?
    /// Consumes it if so.
    pub fn take(&self, kind: u64, addr: u64) -> bool {
        let want = self.kind.load(Ordering::Relaxed);
        if want == 0 || kind != want || addr != self.addr.load(Ordering::Relaxed) {
            return false;
        }
        self.kind.store(0, Ordering::Relaxed);
        self.seen.store(kind, Ordering::Relaxed);
        true
    }
}

impl Default for ExpectedFault {
    fn default() -> Self {
        Self::new()
    }
}

/// What the shared checks compare, as plain values: the generated layout's
/// numbers for the running mode, and where the boot put the image.
#[derive(Clone, Copy)]
pub struct View<'a> {
    /// RAM ranges from the device tree.
    pub ram: &'a [(u64, u64)],
    /// `virt = phys + linear_offset` in the linear map region, which is
    /// `[linear_start, linear_start + linear_size)`.
    pub linear_offset: u64,
    pub linear_start: u64,
    pub linear_size: u64,
    /// `IMAGE_LINK_ADDRESS`, `LOAD_ADDRESS`, `IMAGE_OFFSET` (`virt = phys +
    /// image_offset` at the link address) and `IMAGE_MAX_SIZE`.
    pub link: u64,
    pub load_address: u64,
    pub image_offset: u64,
    pub image_size: u64,
    /// Where the image runs (virtual) and is (physical) now.
    pub run: u64,
    pub load: u64,
    /// The sections' starts as the running image sees them (virtual), then
    /// its end; each section's flags; their alignment (`SECTION_ALIGN`, the
    /// largest leaf the image may be mapped with).
    pub bounds: &'a [u64],
    pub sections: &'a [Flags],
    pub section_align: u64,
}

/// The [`View`] of a kernel on [`rt`](crate::rt):
/// `selftest_view!(layout, ml, boot, &bounds, &SECTION_FLAGS)`, from the
/// kernel's generated `layout.rs` module, the running mode's
/// `layout::layout_for(boot.mode)`, its [`rt::Boot`](crate::rt::Boot), and
/// the image's [`section_bounds`](crate::image::section_bounds) and their
/// flags.
#[macro_export]
macro_rules! selftest_view {
    ($($l:ident)::+, $ml:expr, $boot:expr, $bounds:expr, $sections:expr $(,)?) => {{
        let (ml, boot) = ($ml, $boot);
        $crate::selftest::View {
            ram: boot.info.ram(),
            linear_offset: ml.linear_offset,
            linear_start: ml.linear_map.start,
            linear_size: ml.linear_map.size,
            link: $($l)::+::IMAGE_LINK_ADDRESS,
            load_address: $($l)::+::LOAD_ADDRESS,
            image_offset: $($l)::+::IMAGE_OFFSET,
            image_size: $($l)::+::IMAGE_MAX_SIZE,
            run: boot.run,
            load: boot.load,
            bounds: $bounds,
            sections: $sections,
            section_align: $($l)::+::SECTION_ALIGN,
        }
    }};
}

impl View<'_> {
    pub fn phys_to_virt(&self, pa: u64) -> u64 {
        pa.wrapping_add(self.linear_offset)
    }

    pub fn virt_to_phys(&self, va: u64) -> u64 {
        va.wrapping_sub(self.linear_offset)
    }

    /// Physical address of an address in the running image.
    pub fn image_pa(&self, va: u64) -> u64 {
        va.wrapping_sub(self.run).wrapping_add(self.load)
    }

    fn in_linear_map(&self, va: u64) -> bool {
        va.wrapping_sub(self.linear_start) < self.linear_size
    }
}

/// The first of `items` for which `good` does not hold, if any (`good`
/// sees every item: the checks read the live tables for each).
pub fn first_failing<T: Copy>(
    items: impl IntoIterator<Item = T>,
    mut good: impl FnMut(T) -> bool,
) -> Option<T> {
    let mut first = None;
    for item in items {
        if !good(item) && first.is_none() {
            first = Some(item);
        }
    }
    first
}

/// `linear_roundtrip`: the start, middle and last word of every RAM range
/// are in the linear map and translate back, in the layout and in the live
/// tables (`translate`).
pub fn linear_roundtrip<C: Putc>(
    c: &mut Checks<C>,
    r: &View,
    translate: impl Fn(u64) -> Option<u64>,
) {
    let pas = (r.ram.iter())
        .flat_map(|&(start, size)| [start, (start + size / 2) & !7, start + size - 8]);
    let bad = first_failing(pas, |pa| {
        let va = r.phys_to_virt(pa);
        r.in_linear_map(va) && r.virt_to_phys(va) == pa && translate(va) == Some(pa)
    });
    c.report(
        "linear_roundtrip",
        bad.is_none(),
        format_args!(
            "pa {:#x} does not round-trip through the linear map",
            bad.unwrap_or(0)
        ),
    );
}

/// `image_roundtrip`: each of the image's `symbols` (name, address) lies in
/// the loaded image, converts to its physical address and back as the
/// layout says (shifted by the distance from the link address), and the
/// live tables map it and its linear-map alias there.
pub fn image_roundtrip<C: Putc>(
    c: &mut Checks<C>,
    r: &View,
    symbols: &[(&str, u64)],
    translate: impl Fn(u64) -> Option<u64>,
) {
    let shift = r.run.wrapping_sub(r.link); // KASLR offset
    let (load, at_link) = (r.load, r.load_address);
    let bad = first_failing(symbols, |&(_, va)| {
        let pa = r.image_pa(va);
        // The layout's conversions for the image at its link address and
        // load address, moved to where it is.
        let layout_pa = va
            .wrapping_sub(shift)
            .wrapping_sub(r.image_offset)
            .wrapping_sub(at_link)
            .wrapping_add(load);
        let layout_va = pa
            .wrapping_sub(load)
            .wrapping_add(at_link)
            .wrapping_add(r.image_offset)
            .wrapping_add(shift);
        (load..load + r.image_size).contains(&pa)
            && layout_pa == pa
            && layout_va == va
            && translate(va) == Some(pa)
            && r.virt_to_phys(r.phys_to_virt(pa)) == pa
            && translate(r.phys_to_virt(pa)) == Some(pa)
    });
    let name = bad.map_or("", |&(name, _)| name);
    c.report(
        "image_roundtrip",
        bad.is_none(),
        format_args!("symbol {name} does not round-trip"),
    );
}

/// `same_bytes`: 256 bytes of text at `text` and 16 of rodata at `rodata`
/// read the same through the image's mapping and the linear map's, and a
/// word written through one (`alias`) reads back through the other.
///
/// # Safety
/// Both mappings of `text`, `rodata` and `alias` must be readable (the
/// round-trip checks found them), `alias` writable through both, and
/// nothing else may use `*alias` meanwhile.
pub unsafe fn same_bytes<C: Putc>(
    c: &mut Checks<C>,
    r: &View,
    text: u64,
    rodata: u64,
    alias: *mut u64,
) {
    let same = |va: u64, len: u64| -> bool {
        let lin = r.phys_to_virt(r.image_pa(va));
        (0..len).all(|i| {
            // SAFETY: the caller's contract.
            unsafe {
                ((va + i) as *const u8).read_volatile() == ((lin + i) as *const u8).read_volatile()
            }
        })
    };
    let text_ok = same(text, 256);
    let ro_ok = same(rodata, 16);
    let alias_lin = r.phys_to_virt(r.image_pa(alias as u64)) as *mut u64;
    // SAFETY: the caller's contract.
    let rw_ok = unsafe {
        alias.write_volatile(0x1234_5678_9abc_def0);
        let a = alias_lin.read_volatile() == 0x1234_5678_9abc_def0;
        alias_lin.write_volatile(0x0fed_cba9_8765_4321);
        a && alias.read_volatile() == 0x0fed_cba9_8765_4321
    };
    c.report(
        "same_bytes",
        text_ok && ro_ok && rw_ok,
        format_args!("text {text_ok} rodata {ro_ok} data write/read {rw_ok}"),
    );
}

/// A live tree and what its builder said it cost.
pub struct Tree<'a> {
    pub root: u64,
    pub levels: u32,
    /// Tables and leaves per level, as built.
    pub pt_pages: u64,
    pub leaves: &'a [u64; MAX_LEVELS],
}

/// `wx_tables` and `pt_counts`: no leaf of the live tree is both writable
/// and executable; inside the image every leaf has exactly its section's
/// permissions and is at most the sections' alignment; and walking the
/// tree finds the tables and leaves the builder counted. `canonical` turns
/// the index bits of a leaf's address into the address (riscv64:
/// [`paging::sign_extend`]; aarch64 TTBR1: the high bits set).
pub fn tables<C: Putc, E: Encoding>(
    c: &mut Checks<C>,
    r: &View,
    tree: &Tree,
    mem: &impl Tables,
    canonical: impl Fn(u64) -> u64,
) {
    let mut wx_leaves = 0;
    let mut wrong_perm = 0u64;
    let mut leaves = [0u64; MAX_LEVELS];
    let tables = paging::for_each_leaf::<E>(mem, tree.root, tree.levels, &mut |va, leaf| {
        let va = canonical(va);
        leaves[((leaf.size.trailing_zeros() - 12) / 9) as usize] += 1;
        let p = E::flags(leaf.entry).perms();
        if p.contains(Flags::W | Flags::X) {
            wx_leaves += 1;
        }
        // Inside the image: exactly the section's permissions.
        if va.wrapping_sub(r.run) < r.image_size && wrong_perm == 0 {
            let want = crate::paging::flags_at(r.bounds, r.sections, va).perms();
            if p != want || leaf.size > r.section_align {
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
    // As many levels as the encoding has leaf sizes.
    let n = E::top_leaf_level(MAX_LEVELS as u32) as usize + 1;
    c.report(
        "pt_counts",
        tables == tree.pt_pages && leaves == *tree.leaves,
        format_args!(
            "walked {tables} tables {:?}, built {} {:?}",
            &leaves[..n],
            tree.pt_pages,
            &tree.leaves[..n]
        ),
    );
}

/// Read-only data a check tries to write.
static RO_PROBE: [u8; 16] = [0x5a; 16];
/// Data a check tries to execute: `ret; ret`, so a missing W^X returns
/// harmlessly instead of crashing.
#[cfg(target_arch = "riscv64")]
static mut DATA_PROBE: [u32; 2] = [0x0000_8067, 0x0000_8067];
#[cfg(target_arch = "aarch64")]
static mut DATA_PROBE: [u32; 2] = [0xd65f_03c0, 0xd65f_03c0];
#[cfg(not(any(target_arch = "riscv64", target_arch = "aarch64")))]
static mut DATA_PROBE: [u32; 2] = [0; 2];
/// Data written through one mapping and read through the other.
static mut ALIAS_PROBE: u64 = 1;
/// A BSS object, for the address round trips.
static mut BSS_PROBE: u64 = 0;

/// This crate's probe objects, in the image's rodata, data and bss.
pub fn probe_rodata() -> u64 {
    (&raw const RO_PROBE) as u64
}

pub fn probe_data() -> *mut u64 {
    &raw mut ALIAS_PROBE
}

pub fn probe_bss() -> u64 {
    (&raw const BSS_PROBE) as u64
}

/// The image's addresses the round-trip checks look at, (name, address):
/// `_start`, the kernel's main function `kmain`, an object in each of
/// rodata, data and bss, and the top word of the stack.
#[cfg(any(target_arch = "riscv64", target_arch = "aarch64"))]
pub fn probe_symbols(kmain: u64) -> [(&'static str, u64); 6] {
    [
        ("_start", crate::sym!("_start")),
        ("kmain", kmain),
        ("rodata", probe_rodata()),
        ("data", probe_data() as u64),
        ("bss", probe_bss()),
        ("stack", crate::sym!("__stack_top") - 8),
    ]
}

/// The architecture's side of [`wx_faults`]: the fault classes it reports
/// and the accesses that provoke them.
pub trait Probe {
    /// The `kind` of a store to a read-only page, and of an instruction
    /// fetch from a non-executable one (see [`ExpectedFault`]).
    const STORE_FAULT: u64;
    const FETCH_FAULT: u64;
    /// Stores zero to the 8 bytes at `addr`, or to the 4 bytes.
    fn store64(addr: u64);
    fn store32(addr: u64);
    /// Calls `addr` with the return address in the link register (the
    /// trap handler resumes there after a fetch fault).
    fn call(addr: u64);
}

/// W^X for real: a store to rodata (which must stay intact), a store to
/// the text word at `text`, and a call into data must each fault as `P`
/// says (`wx_rodata_write`, `wx_text_write`, `wx_data_exec`).
pub fn wx_faults<C: Putc, P: Probe>(c: &mut Checks<C>, fault: &ExpectedFault, text: u64) {
    let ro = probe_rodata();
    let seen = fault.expect(P::STORE_FAULT, ro, || P::store64(ro));
    // SAFETY: reading our own static.
    let intact = unsafe { (ro as *const u8).read_volatile() } == 0x5a;
    c.report(
        "wx_rodata_write",
        seen && intact,
        format_args!("store to rodata {ro:#x} did not trap"),
    );

    let seen = fault.expect(P::STORE_FAULT, text, || P::store32(text));
    c.report(
        "wx_text_write",
        seen,
        format_args!("store to text {text:#x} did not trap"),
    );

    let data = (&raw const DATA_PROBE) as u64;
    let seen = fault.expect(P::FETCH_FAULT, data, || P::call(data));
    c.report(
        "wx_data_exec",
        seen,
        format_args!("executing data at {data:#x} did not trap"),
    );
}

/// The summary line the tests parse:
/// `layout: spec=... mode=... page_offset=... linear_map=START-END
/// kernel_link=... kernel_run=... ram=LO-HI pt_pages=N leaves_1g=N
/// leaves_2m=N leaves_4k=N`.
pub struct Summary<'a> {
    pub spec: &'a str,
    pub mode: &'a str,
    pub page_offset: u64,
    pub linear_start: u64,
    pub linear_size: u64,
    pub link: u64,
    pub run: u64,
    /// Lowest RAM address, highest RAM end.
    pub ram: (u64, u64),
    pub pt_pages: u64,
    pub leaves: &'a [u64; MAX_LEVELS],
}

/// The [`Summary`] of a kernel on [`rt`](crate::rt):
/// `selftest_summary!(layout, ml, boot)`, from the kernel's generated
/// `layout.rs` module, the running mode's `layout::layout_for(boot.mode)`
/// and its [`rt::Boot`](crate::rt::Boot).
#[macro_export]
macro_rules! selftest_summary {
    ($($l:ident)::+, $ml:expr, $boot:expr $(,)?) => {{
        let (ml, boot) = ($ml, $boot);
        $crate::selftest::Summary {
            spec: $($l)::+::LAYOUT_NAME,
            mode: boot.mode.name(),
            page_offset: ml.page_offset,
            linear_start: ml.linear_map.start,
            linear_size: ml.linear_map.size,
            link: $($l)::+::IMAGE_LINK_ADDRESS,
            run: boot.run,
            ram: boot.info.ram_span(),
            pt_pages: boot.pt_pages,
            leaves: &boot.leaves,
        }
    }};
}

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "layout: spec={} mode={} page_offset={:#x} linear_map={:#x}-{:#x} kernel_link={:#x} \
             kernel_run={:#x} ram={:#x}-{:#x} pt_pages={} leaves_1g={} leaves_2m={} leaves_4k={}",
            self.spec,
            self.mode,
            self.page_offset,
            self.linear_start,
            // Exclusive end; a region ending at 2^64 prints as 0x10000000000000000.
            self.linear_start as u128 + self.linear_size as u128,
            self.link,
            self.run,
            self.ram.0,
            self.ram.1,
            self.pt_pages,
            self.leaves[2],
            self.leaves[1],
            self.leaves[0],
        )
    }
}

#[cfg(test)]
mod tests;
