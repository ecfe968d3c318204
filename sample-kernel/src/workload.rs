//! A fixed workload over globals, counted in retired instructions, for
//! `scripts/bench-code-models`: the same source built as fixed, semi-PIC,
//! PIE and PIC code shows what each code model costs per global access.
//!
//! The data are `#[no_mangle] pub` statics, as a C kernel's non-`static`
//! globals are: what a `-fPIC` build must assume another module could
//! interpose, so it reaches them through the GOT. Tables of `&'static`
//! references are absolute words: relocatable images carry one
//! `R_RISCV_RELATIVE` relocation per word and apply it at boot.
//!
//! Under QEMU with `-icount shift=0` the `instret` counts are
//! deterministic (without it they still count, but include nothing
//! else: `instret` counts this hart's retired instructions only).

use core::sync::atomic::{AtomicU64, Ordering};

/// Retired instructions so far (`instret`; OpenSBI lets S-mode read it).
#[inline(always)]
pub fn instret() -> u64 {
    let n: u64;
    // SAFETY: reads a counter CSR, no side effects.
    unsafe { core::arch::asm!("rdinstret {0}", out(reg) n, options(nomem, nostack)) };
    n
}

#[repr(C)]
pub struct Node {
    pub key: u64,
    pub weight: u64,
    pub next: Option<&'static Node>,
}

macro_rules! ring {
    ($($name:ident = ($key:expr, $weight:expr, $next:ident);)*) => {
        $(#[unsafe(no_mangle)] pub static $name: Node = Node { key: $key, weight: $weight, next: Some(&$next) };)*
    };
}

ring! {
    WL_NODE0 = (3, 5, WL_NODE1);
    WL_NODE1 = (7, 11, WL_NODE2);
    WL_NODE2 = (13, 17, WL_NODE3);
    WL_NODE3 = (19, 23, WL_NODE4);
    WL_NODE4 = (29, 31, WL_NODE5);
    WL_NODE5 = (37, 41, WL_NODE6);
    WL_NODE6 = (43, 47, WL_NODE7);
    WL_NODE7 = (53, 59, WL_NODE0);
}

#[unsafe(no_mangle)]
pub static WL_PRIMES: [u64; 16] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53];
#[unsafe(no_mangle)]
pub static WL_SQUARES: [u64; 16] = [
    0, 1, 4, 9, 16, 25, 36, 49, 64, 81, 100, 121, 144, 169, 196, 225,
];
#[unsafe(no_mangle)]
pub static WL_TABLES: [&[u64; 16]; 2] = [&WL_PRIMES, &WL_SQUARES];
#[unsafe(no_mangle)]
pub static WL_HEADS: [&Node; 2] = [&WL_NODE0, &WL_NODE4];
#[unsafe(no_mangle)]
pub static WL_COUNTERS: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];
#[unsafe(no_mangle)]
pub static WL_TOTAL: AtomicU64 = AtomicU64::new(0);

/// One step: touches a table through its reference, a node through the
/// ring, a counter and the total. Not inlined, so every call materialises
/// the globals' addresses again, as a kernel function called from many
/// places does.
#[inline(never)]
#[unsafe(no_mangle)]
pub extern "C" fn workload_step(i: u64) -> u64 {
    let i = core::hint::black_box(i);
    let table = WL_TABLES[(i & 1) as usize];
    let mut node = WL_HEADS[((i >> 1) & 1) as usize];
    let mut acc = table[(i & 15) as usize];
    let mut hops = i & 3;
    while hops > 0 {
        node = node.next.unwrap_or(node);
        hops -= 1;
    }
    acc = acc.wrapping_mul(node.key).wrapping_add(node.weight);
    WL_COUNTERS[(i & 7) as usize].fetch_add(acc, Ordering::Relaxed);
    WL_TOTAL.fetch_add(acc, Ordering::Relaxed);
    acc
}

/// Iterations of [`workload_step`].
pub const ROUNDS: u64 = 10_000;

/// Runs the workload; returns (instructions retired, checksum).
pub fn run() -> (u64, u64) {
    let start = instret();
    let mut sum = 0u64;
    let mut i = 0;
    while i < ROUNDS {
        sum = sum.wrapping_add(workload_step(i));
        i += 1;
    }
    let spent = instret().wrapping_sub(start);
    (spent, sum)
}

/// Prints the `bench:` line the benchmark script parses; the runtime
/// counted the relocations and the instructions their loop retired.
pub fn report(relocations: u64, reloc_instret: u64) {
    let (spent, sum) = run();
    crate::println!(
        "bench: relocations={relocations} reloc_instret={reloc_instret} workload_instret={spent} workload_rounds={ROUNDS} checksum={sum:#x}"
    );
}
