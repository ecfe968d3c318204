use super::*;
use crate::paging::riscv64::Sv;
use crate::paging::{Builder, KernelMap, Table};
use crate::text::tests::Buffer;
use std::panic::{AssertUnwindSafe, catch_unwind};

impl Exit for Buffer {
    fn exit(code: u16) -> ! {
        std::panic::panic_any(code)
    }
}

/// What `f` printed and the status it exited with.
fn exits(f: impl FnOnce()) -> (String, u16) {
    Buffer::take();
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("exits");
    (Buffer::take(), *payload.downcast::<u16>().unwrap())
}

#[test]
fn check_lines_and_the_verdict() {
    Buffer::take();
    let mut c = Checks::<Buffer>::new();
    c.report("symbols", true, format_args!("unused"));
    c.report("wx_tables", false, format_args!("{} leaves", 2));
    c.report("pt_counts", false, format_args!(""));
    assert_eq!(c.failures(), 2);
    assert_eq!(
        Buffer::take(),
        "check symbols: ok\ncheck wx_tables: FAIL 2 leaves\ncheck pt_counts: FAIL \n"
    );
    assert_eq!(exits(|| finish::<Buffer>(0)), ("RESULT: PASS\n".into(), 0));
    assert_eq!(
        exits(|| finish::<Buffer>(2)),
        ("RESULT: FAIL 2 check(s) failed\n".into(), 1)
    );
    assert_eq!(
        exits(|| fail::<Buffer>(b"no layout for mode")),
        ("RESULT: FAIL no layout for mode\n".into(), 1)
    );
    // The same as the console's own method, as the kernels call it.
    assert_eq!(
        exits(|| Buffer::fail(b"no layout for mode")),
        ("RESULT: FAIL no layout for mode\n".into(), 1)
    );
}

#[test]
fn failures_on_request() {
    Buffer::take();
    fail_on_request::<Buffer>(b"mode=sv48 fail=other failure=panic");
    assert_eq!(Buffer::take(), "");
    let panic = catch_unwind(|| fail_on_request::<Buffer>(b"nokaslr fail=panic"));
    let payload = panic.expect_err("fail=panic panics");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"requested by bootargs fail=panic")
    );
}

#[test]
fn expected_faults_are_consumed_once() {
    let fault = ExpectedFault::new();
    assert!(!fault.take(15, 0x1000), "nothing expected");
    // The trap handler runs inside `f`: it sees the right fault.
    assert!(fault.expect(15, 0x1000, || assert!(fault.take(15, 0x1000))));
    assert!(!fault.take(15, 0x1000), "consumed");
    // Another class or address is not the one expected: no trap seen.
    assert!(!fault.expect(15, 0x1000, || assert!(!fault.take(12, 0x1000))));
    assert!(!fault.expect(15, 0x1000, || assert!(!fault.take(15, 0x1008))));
    assert!(!fault.expect(15, 0x1000, || {}));
}

/// The line `sample-kernel` prints for `layouts/qemu-virt-sv39.toml` on
/// QEMU's default 128 MiB.
#[test]
fn summary_line() {
    let leaves = [1, 80, 0, 0, 0];
    let s = Summary {
        spec: "qemu-virt-sv39",
        mode: "sv39",
        page_offset: 0xffff_ffd6_0000_0000,
        linear_start: 0xffff_ffd6_0000_0000,
        linear_size: 0x20_0000_0000,
        link: 0xffff_ffff_8020_0000,
        run: 0xffff_ffff_8020_0000,
        ram: (0x8000_0000, 0x8800_0000),
        pt_pages: 5,
        leaves: &leaves,
    };
    assert_eq!(
        s.to_string(),
        "layout: spec=qemu-virt-sv39 mode=sv39 page_offset=0xffffffd600000000 \
         linear_map=0xffffffd600000000-0xfffffff600000000 kernel_link=0xffffffff80200000 \
         kernel_run=0xffffffff80200000 ram=0x80000000-0x88000000 pt_pages=5 leaves_1g=0 \
         leaves_2m=80 leaves_4k=1"
    );
    let top = Summary {
        linear_start: 0xffff_ff00_0000_0000,
        linear_size: 0x100_0000_0000,
        ..s
    };
    assert!(
        top.to_string()
            .contains("linear_map=0xffffff0000000000-0x10000000000000000 ")
    );
}

const MIB: u64 = 1 << 20;
const POOL_PA: u64 = 0x8080_4000;
const RX: Flags = Flags::R.union(Flags::X);
const RW: Flags = Flags::R.union(Flags::W);
const SECTIONS: [Flags; 4] = [RX, Flags::R, RW, RW];
const RUN: u64 = 0xffff_ffff_8020_0000;
const LOAD: u64 = 0x8020_0000;
const OFFSET: u64 = 0xffff_ffd5_8000_0000;

/// The section starts as the running image sees them, then the end.
fn bounds() -> [u64; 5] {
    [0, 1, 2, 3, 4].map(|i| RUN + i * 2 * MIB)
}

fn view<'a>(bounds: &'a [u64], ram: &'a [(u64, u64)]) -> View<'a> {
    View {
        ram,
        linear_offset: OFFSET,
        linear_start: 0xffff_ffd6_0000_0000,
        linear_size: 0x20_0000_0000,
        link: RUN,
        load_address: LOAD,
        image_offset: RUN - LOAD,
        image_size: 32 * MIB,
        run: RUN,
        load: LOAD,
        bounds,
        sections: &SECTIONS,
        section_align: 2 * MIB,
    }
}

/// The sample kernel's default tree (see paging's tests), with `image`'s
/// flags for the image window.
fn sample_tree(pool: &mut [Table], sections: &[Flags]) -> (u64, [u64; 5]) {
    let phys = [0, 1, 2, 3, 4].map(|i| LOAD + i * 2 * MIB);
    let mut b = Builder::<Sv>::new(3, pool, POOL_PA);
    b.map_kernel(&KernelMap {
        ram: &[(0x8000_0000, 128 * MIB)],
        ram_base: 0x8000_0000,
        linear_offset: OFFSET,
        linear_size: 0x20_0000_0000,
        linear_leaf: 1 << 30,
        image_pa: LOAD,
        image_va: RUN,
        image_size: 32 * MIB,
        image_leaf: 2 * MIB,
        image_in_linear_map: false,
        bounds: &phys,
        sections,
    })
    .unwrap();
    (b.pt_pages(), b.leaves())
}

struct Pool<'a>(&'a [Table]);

impl Tables for Pool<'_> {
    fn entry(&self, table: u64, index: usize) -> u64 {
        self.0[((table - POOL_PA) / 4096) as usize].0[index]
    }
}

#[test]
fn table_census() {
    let (b, ram) = (bounds(), [(0x8000_0000, 128 * MIB)]);
    let r = view(&b, &ram);
    let canonical = |va| paging::sign_extend(va, 39);
    let mut pool = vec![Table::EMPTY; 8];
    let (pt_pages, leaves) = sample_tree(&mut pool, &SECTIONS);
    let mem = Pool(&pool);
    let mut c = Checks::<Buffer>::new();
    Buffer::take();
    let tree = Tree {
        root: POOL_PA,
        levels: 3,
        pt_pages,
        leaves: &leaves,
    };
    tables::<_, Sv>(&mut c, &r, &tree, &mem, canonical);
    assert_eq!(Buffer::take(), "check wx_tables: ok\ncheck pt_counts: ok\n");

    // A builder that counted differently; rodata mapped writable and
    // executable.
    let mut other = leaves;
    other[0] += 1;
    let off = Tree {
        pt_pages: 6,
        leaves: &other,
        ..tree
    };
    tables::<_, Sv>(&mut c, &r, &off, &mem, canonical);
    let mut pool = vec![Table::EMPTY; 8];
    sample_tree(&mut pool, &[RX, RW | Flags::X, RW, RW]);
    tables::<_, Sv>(&mut c, &r, &tree, &Pool(&pool), canonical);
    assert_eq!(
        Buffer::take(),
        "check wx_tables: ok\n\
         check pt_counts: FAIL walked 3 tables [0, 80, 0, 0, 0], built 6 [1, 80, 0, 0, 0]\n\
         check wx_tables: FAIL 1 writable+executable leaves; wrong permissions at \
         0xffffffff80400000\n\
         check pt_counts: ok\n"
    );
    assert_eq!(c.failures(), 2);
}

#[test]
fn round_trips_against_the_live_tree() {
    let (b, ram) = (bounds(), [(0x8000_0000, 128 * MIB)]);
    let r = view(&b, &ram);
    let mut pool = vec![Table::EMPTY; 8];
    sample_tree(&mut pool, &SECTIONS);
    let mem = Pool(&pool);
    let translate = |va| paging::translate::<Sv>(&mem, POOL_PA, 3, va);
    let symbols = [
        ("_start", RUN),
        ("data", RUN + 4 * MIB + 8),
        ("stack", RUN + 7 * MIB),
    ];
    let mut c = Checks::<Buffer>::new();
    Buffer::take();
    linear_roundtrip(&mut c, &r, translate);
    image_roundtrip(&mut c, &r, &symbols, translate);
    assert_eq!(
        Buffer::take(),
        "check linear_roundtrip: ok\ncheck image_roundtrip: ok\n"
    );

    // RAM the tree does not map; a symbol outside the image; a tree that
    // maps the image one page off.
    let more = [(0x8000_0000, 128 * MIB), (0x9000_0000, MIB)];
    linear_roundtrip(&mut c, &view(&b, &more), translate);
    let outside = [("_start", RUN), ("far", RUN + 32 * MIB)];
    image_roundtrip(&mut c, &r, &outside, translate);
    image_roundtrip(&mut c, &r, &symbols, |va| translate(va).map(|pa| pa + 4096));
    assert_eq!(
        Buffer::take(),
        "check linear_roundtrip: FAIL pa 0x90000000 does not round-trip through the linear map\n\
         check image_roundtrip: FAIL symbol far does not round-trip\n\
         check image_roundtrip: FAIL symbol _start does not round-trip\n"
    );
}

#[test]
fn two_mappings_of_the_same_bytes() {
    // The image at `a`, its "linear map" alias at `b`: another copy, so
    // reads agree and a write through one is not seen through the other.
    let mut a: Vec<u64> = (0..64).collect();
    let mut b = a.clone();
    let (a_at, b_at) = (a.as_mut_ptr() as u64, b.as_mut_ptr() as u64);
    let r = View {
        linear_offset: b_at.wrapping_sub(a_at),
        run: 0,
        load: 0,
        ..view(&[], &[])
    };
    let mut c = Checks::<Buffer>::new();
    Buffer::take();
    // SAFETY: all of it is in `a` and `b`, which nothing else uses.
    unsafe { same_bytes(&mut c, &r, a_at, a_at + 256, a_at as *mut u64) };
    assert_eq!(
        Buffer::take(),
        "check same_bytes: FAIL text true rodata true data write/read false\n"
    );
    // One memory, two names: everything agrees.
    let r = View {
        linear_offset: 0,
        ..r
    };
    // SAFETY: as above.
    unsafe { same_bytes(&mut c, &r, b_at, b_at + 256, b_at as *mut u64) };
    assert_eq!(Buffer::take(), "check same_bytes: ok\n");
}

static FAULT: ExpectedFault = ExpectedFault::new();

/// A machine whose stores to rodata and text and calls into data trap.
struct Strict;
/// One where nothing traps.
struct Lax;

impl Probe for Strict {
    const STORE_FAULT: u64 = 15;
    const FETCH_FAULT: u64 = 12;
    fn store64(addr: u64) {
        assert!(FAULT.take(15, addr));
    }
    fn store32(addr: u64) {
        assert!(FAULT.take(15, addr));
    }
    fn call(addr: u64) {
        assert!(FAULT.take(12, addr));
    }
}

impl Probe for Lax {
    const STORE_FAULT: u64 = 15;
    const FETCH_FAULT: u64 = 12;
    fn store64(_: u64) {}
    fn store32(_: u64) {}
    fn call(_: u64) {}
}

#[test]
fn wx_faults_are_provoked() {
    let mut c = Checks::<Buffer>::new();
    Buffer::take();
    wx_faults::<_, Strict>(&mut c, &FAULT, 0x1000);
    assert_eq!(
        Buffer::take(),
        "check wx_rodata_write: ok\ncheck wx_text_write: ok\ncheck wx_data_exec: ok\n"
    );
    wx_faults::<_, Lax>(&mut c, &FAULT, 0x1000);
    let out = Buffer::take();
    assert!(
        out.contains("check wx_rodata_write: FAIL store to rodata 0x"),
        "{out}"
    );
    assert!(out.contains("check wx_text_write: FAIL store to text 0x1000 did not trap"));
    assert!(out.contains("check wx_data_exec: FAIL executing data at 0x"));
    assert_eq!(c.failures(), 3);
}

#[test]
fn first_failing_names_the_first_and_sees_every_item() {
    let mut seen = 0;
    let odd = |x: u32| {
        seen += 1;
        x % 2 == 1
    };
    assert_eq!(first_failing([1, 2, 3, 4], odd), Some(2));
    assert_eq!(seen, 4);
    assert_eq!(first_failing([1, 3], |x: u32| x % 2 == 1), None);
}
