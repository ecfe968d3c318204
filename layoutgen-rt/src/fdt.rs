//! A minimal flattened-device-tree reader, enough for the sample kernels:
//! the RAM ranges, `/chosen/bootargs`, `/chosen/kaslr-seed`, the riscv test
//! finisher, the UART (riscv `ns16550a`, aarch64 PL011) and the aarch64 PSCI
//! conduit; and the command-line helpers ([`arg`], [`flag`], [`parse_u64`]).
//!
//! Architecture-neutral: each kernel reads the fields of its own machine.
//!
//! It runs before paging, at the physical load address, so it is written to
//! need no absolute pointers: no `&str` from tables, no `core::str`, no
//! formatting; just byte loops over the blob (built with `-C
//! jump-tables=no`, see the crate documentation).

pub use crate::Error;

pub const MAX_RAM_RANGES: usize = 8;
pub const MAX_BOOTARGS: usize = 256;

/// How PSCI calls reach the firmware (`/psci` `method`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PsciConduit {
    Hvc,
    Smc,
}

/// What the kernel needs from the device tree, copied out of it.
pub struct BootInfo {
    pub ram: [(u64, u64); MAX_RAM_RANGES],
    pub ram_count: usize,
    pub bootargs: [u8; MAX_BOOTARGS],
    pub bootargs_len: usize,
    pub kaslr_seed: Option<u64>,
    /// Physical address of a `sifive,test0`/`sifive,test1` finisher.
    pub finisher: Option<u64>,
    /// Physical address of the UART: `ns16550a` (riscv) or `arm,pl011`.
    pub uart: Option<u64>,
    /// The `/psci` node's `method`.
    pub psci: Option<PsciConduit>,
}

impl BootInfo {
    pub const fn empty() -> BootInfo {
        BootInfo {
            ram: [(0, 0); MAX_RAM_RANGES],
            ram_count: 0,
            bootargs: [0; MAX_BOOTARGS],
            bootargs_len: 0,
            kaslr_seed: None,
            finisher: None,
            uart: None,
            psci: None,
        }
    }

    pub fn bootargs(&self) -> &[u8] {
        &self.bootargs[..self.bootargs_len]
    }

    /// The RAM ranges, `(start, size)`, in device-tree order.
    pub fn ram(&self) -> &[(u64, u64)] {
        &self.ram[..self.ram_count]
    }

    /// Lowest RAM address and highest RAM end (exclusive); `(0, 0)` before
    /// any RAM was found.
    pub fn ram_span(&self) -> (u64, u64) {
        let ram = self.ram();
        let lo = ram.iter().map(|r| r.0).min().unwrap_or(0);
        let hi = ram.iter().map(|r| r.0 + r.1).max().unwrap_or(0);
        (lo, hi)
    }
}

const MAGIC: u32 = 0xd00d_feed;
const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
const NOP: u32 = 4;
const END: u32 = 9;
const MAX_DEPTH: usize = 16;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Node {
    Other,
    Memory,
    Chosen,
    Psci,
}

/// [`parse`] on a blob in a slice (a test, or a copy the kernel made).
pub fn parse_bytes(blob: &[u8], info: &mut BootInfo) -> Result<(), Error> {
    if blob.len() < 40 {
        return Err(b"device tree header out of bounds");
    }
    let total = u32::from_be_bytes([blob[4], blob[5], blob[6], blob[7]]) as usize;
    if total > blob.len() {
        return Err(b"device tree header out of bounds");
    }
    // SAFETY: `parse` reads only below the header's `totalsize`, which lies
    // inside the slice.
    unsafe { parse(blob.as_ptr() as u64, info) }
}

/// Reads the device tree at `dtb` into `info` (which should start out as
/// [`BootInfo::empty`]); fails when it is not one or lists no RAM.
///
/// # Safety
/// `dtb` must point to a flattened device tree in memory readable as is:
/// at least its 40-byte header, and `totalsize` bytes if the magic is right.
pub unsafe fn parse(dtb: u64, info: &mut BootInfo) -> Result<(), Error> {
    // The caller vouches for the 40-byte header.
    let header = Blob {
        base: dtb as *const u8,
        total: 40,
    };
    if dtb == 0 || !dtb.is_multiple_of(4) || header.be32(0) != MAGIC {
        return Err(b"no device tree at the boot address (bad magic)");
    }
    let total = header.be32(4) as usize;
    let struct_off = header.be32(8) as usize;
    let strings_off = header.be32(12) as usize;
    let struct_end = struct_off.saturating_add(header.be32(36) as usize);
    if total < 40 || struct_end > total || strings_off > total {
        return Err(b"device tree header out of bounds");
    }
    // With the magic right, the caller vouches for `totalsize` bytes; from
    // here on, every offset read is bounded by the header's sizes.
    let blob = Blob { total, ..header };
    let mut walk = Walk::new();
    let mut off = struct_off;
    while off + 4 <= struct_end {
        let token = blob.be32(off);
        off += 4;
        if token == BEGIN_NODE {
            let name = off;
            while off < struct_end && blob.byte(off) != 0 {
                off += 1;
            }
            off = (off + 1 + 3) & !3;
            walk.begin_node(&blob, name)?;
        } else if token == END_NODE {
            walk.end_node(info)?;
        } else if token == PROP {
            if walk.depth == 0 {
                return Err(b"device tree: property outside a node");
            }
            if off + 8 > struct_end {
                return Err(b"device tree property out of bounds");
            }
            let len = blob.be32(off) as usize;
            let name = strings_off + blob.be32(off + 4) as usize;
            let val = off + 8;
            off = val.saturating_add(len).saturating_add(3) & !3;
            if off > struct_end {
                return Err(b"device tree property out of bounds");
            }
            walk.property(&blob, info, name, val, len);
        } else if token == NOP {
        } else if token == END {
            break;
        } else {
            return Err(b"device tree: unknown token");
        }
    }
    if info.ram_count == 0 {
        return Err(b"device tree has no /memory node");
    }
    Ok(())
}

/// The device tree in memory: its base and how many bytes of it may be
/// read (the header's 40 until its `totalsize` is checked).
///
/// The reads are raw and unchecked against `total` (but for [`Blob::str_is`],
/// which stops there): [`parse`] builds a `Blob` only from its caller's
/// pointer and bounds every offset it passes by the header's sizes.
#[derive(Clone, Copy)]
struct Blob {
    base: *const u8,
    total: usize,
}

impl Blob {
    /// The big-endian word at `off`.
    fn be32(&self, off: usize) -> u32 {
        // SAFETY: `off + 4` is within the blob (bounded by the header's
        // sizes, see the type's documentation); the read is unaligned.
        unsafe { u32::from_be(self.base.add(off).cast::<u32>().read_unaligned()) }
    }

    fn byte(&self, off: usize) -> u8 {
        // SAFETY: `off` is within the blob (bounded by the header's sizes,
        // see the type's documentation).
        unsafe { self.base.add(off).read() }
    }

    /// Is the NUL-terminated string at `off` equal to `lit` (or, with
    /// `prefix`, does it start with `lit` followed by NUL or '@')?
    fn str_is(&self, off: usize, lit: &[u8], prefix: bool) -> bool {
        let mut i = 0;
        while i < lit.len() {
            if off + i >= self.total || self.byte(off + i) != lit[i] {
                return false;
            }
            i += 1;
        }
        let next = if off + i < self.total {
            self.byte(off + i)
        } else {
            0
        };
        next == 0 || (prefix && next == b'@')
    }

    /// The big-endian number of `cells` words at `off`.
    fn read_cells(&self, off: usize, cells: u32) -> u64 {
        let mut v = 0u64;
        let mut i = 0;
        while i < cells as usize {
            v = (v << 32) | self.be32(off + 4 * i) as u64;
            i += 1;
        }
        v
    }
}

/// Where [`parse`]'s walk of the structure block is.
struct Walk {
    /// `#address-cells`/`#size-cells` that apply to the children of each
    /// depth.
    addr_cells: [u32; MAX_DEPTH],
    size_cells: [u32; MAX_DEPTH],
    /// Depth of the node whose properties follow.
    depth: usize,
    kind: Node,
    /// Per innermost node: is it a test finisher, a UART, and its first
    /// reg address.
    is_finisher: bool,
    is_uart: bool,
    first_reg: Option<u64>,
}

impl Walk {
    fn new() -> Walk {
        Walk {
            addr_cells: [2; MAX_DEPTH],
            size_cells: [1; MAX_DEPTH],
            depth: 0,
            kind: Node::Other,
            is_finisher: false,
            is_uart: false,
            first_reg: None,
        }
    }

    /// BEGIN_NODE, its name at `name`: one level down.
    fn begin_node(&mut self, blob: &Blob, name: usize) -> Result<(), Error> {
        self.depth += 1;
        if self.depth >= MAX_DEPTH {
            return Err(b"device tree nested too deeply");
        }
        self.addr_cells[self.depth] = 2;
        self.size_cells[self.depth] = 1;
        self.kind = Node::Other;
        if self.depth == 2 && blob.str_is(name, b"memory", true) {
            self.kind = Node::Memory;
        } else if self.depth == 2 && blob.str_is(name, b"chosen", false) {
            self.kind = Node::Chosen;
        } else if self.depth == 2 && blob.str_is(name, b"psci", false) {
            self.kind = Node::Psci;
        }
        self.is_finisher = false;
        self.is_uart = false;
        self.first_reg = None;
        Ok(())
    }

    /// END_NODE: a finisher or UART node ending gives `info` its address;
    /// one level up.
    fn end_node(&mut self, info: &mut BootInfo) -> Result<(), Error> {
        if self.is_finisher && info.finisher.is_none() {
            info.finisher = self.first_reg;
        }
        if self.is_uart && info.uart.is_none() {
            info.uart = self.first_reg;
        }
        self.is_finisher = false;
        self.is_uart = false;
        self.first_reg = None;
        self.kind = Node::Other;
        if self.depth == 0 {
            return Err(b"device tree: unbalanced END_NODE");
        }
        self.depth -= 1;
        Ok(())
    }

    /// A property of the node at `depth` (at least 1): its name at `name`
    /// (in the strings block), its `len`-byte value at `val` (inside the
    /// structure block).
    fn property(&mut self, blob: &Blob, info: &mut BootInfo, name: usize, val: usize, len: usize) {
        let depth = self.depth;
        if blob.str_is(name, b"#address-cells", false) && len == 4 {
            self.addr_cells[depth] = blob.be32(val);
        } else if blob.str_is(name, b"#size-cells", false) && len == 4 {
            self.size_cells[depth] = blob.be32(val);
        } else if blob.str_is(name, b"reg", false) {
            self.reg(blob, info, val, len);
        } else if blob.str_is(name, b"compatible", false) {
            self.compatible(blob, val, len);
        } else if self.kind == Node::Chosen && blob.str_is(name, b"bootargs", false) {
            let mut n = 0;
            while n < len && n < MAX_BOOTARGS && blob.byte(val + n) != 0 {
                info.bootargs[n] = blob.byte(val + n);
                n += 1;
            }
            info.bootargs_len = n;
        } else if self.kind == Node::Psci && blob.str_is(name, b"method", false) {
            if blob.str_is(val, b"hvc", false) {
                info.psci = Some(PsciConduit::Hvc);
            } else if blob.str_is(val, b"smc", false) {
                info.psci = Some(PsciConduit::Smc);
            }
        } else if self.kind == Node::Chosen && blob.str_is(name, b"kaslr-seed", false) {
            if len == 8 {
                info.kaslr_seed = Some(blob.read_cells(val, 2));
            } else if len == 4 {
                info.kaslr_seed = Some(blob.be32(val) as u64);
            }
        }
    }

    /// `reg`: the node's first address; and, in a memory node, its RAM
    /// ranges.
    fn reg(&mut self, blob: &Blob, info: &mut BootInfo, val: usize, len: usize) {
        // The parent's cell sizes describe this node's `reg`.
        let (ac, sc) = (
            self.addr_cells[self.depth - 1],
            self.size_cells[self.depth - 1],
        );
        if (1..=2).contains(&ac) && len >= 4 * ac as usize {
            self.first_reg = Some(blob.read_cells(val, ac));
        }
        if self.kind == Node::Memory && (1..=2).contains(&ac) && (1..=2).contains(&sc) {
            let entry = 4 * (ac + sc) as usize;
            let mut e = 0;
            while e + entry <= len {
                let start = blob.read_cells(val + e, ac);
                let size = blob.read_cells(val + e + 4 * ac as usize, sc);
                if size > 0 && info.ram_count < MAX_RAM_RANGES {
                    info.ram[info.ram_count] = (start, size);
                    info.ram_count += 1;
                }
                e += entry;
            }
        }
    }

    /// `compatible`, a list of NUL-terminated strings: is the node a test
    /// finisher, a UART?
    fn compatible(&mut self, blob: &Blob, val: usize, len: usize) {
        let mut s = val;
        while s < val + len {
            if blob.str_is(s, b"sifive,test0", false) || blob.str_is(s, b"sifive,test1", false) {
                self.is_finisher = true;
            }
            if blob.str_is(s, b"ns16550a", false) || blob.str_is(s, b"arm,pl011", false) {
                self.is_uart = true;
            }
            while s < val + len && blob.byte(s) != 0 {
                s += 1;
            }
            s += 1;
        }
    }
}

/// The next word of a space-separated command line from `*i` on (empty
/// when only spaces are left), with `*i` moved past it.
fn next_word<'a>(cmdline: &'a [u8], i: &mut usize) -> &'a [u8] {
    while *i < cmdline.len() && cmdline[*i] == b' ' {
        *i += 1;
    }
    let start = *i;
    while *i < cmdline.len() && cmdline[*i] != b' ' {
        *i += 1;
    }
    &cmdline[start..*i]
}

/// The value of `key=` in a space-separated command line, if present.
pub fn arg<'a>(cmdline: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let mut i = 0;
    while i < cmdline.len() {
        let word = next_word(cmdline, &mut i);
        if word.len() > key.len() && word[..key.len()] == *key && word[key.len()] == b'=' {
            return Some(&word[key.len() + 1..]);
        }
    }
    None
}

/// Is the bare word `flag` on the command line?
pub fn flag(cmdline: &[u8], flag: &[u8]) -> bool {
    let mut i = 0;
    while i < cmdline.len() {
        if next_word(cmdline, &mut i) == flag {
            return true;
        }
    }
    false
}

/// Decimal or 0x-hex; `None` on anything else or on overflow.
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    let (digits, radix) = if s.len() > 2 && s[0] == b'0' && (s[1] == b'x' || s[1] == b'X') {
        (&s[2..], 16u64)
    } else {
        (s, 10u64)
    };
    if digits.is_empty() {
        return None;
    }
    let mut v = 0u64;
    for &c in digits {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        } as u64;
        if d >= radix {
            return None;
        }
        v = v.checked_mul(radix)?.checked_add(d)?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `bytes` copied to 8-byte aligned memory, as a device tree is in RAM.
    fn aligned(bytes: &[u8]) -> Vec<u64> {
        let word = |c: &[u8]| {
            let mut w = [0; 8];
            w[..c.len()].copy_from_slice(c);
            u64::from_ne_bytes(w)
        };
        bytes.chunks(8).map(word).collect()
    }

    fn read(bytes: &[u8]) -> Result<BootInfo, Error> {
        let words = aligned(bytes);
        // SAFETY: the words hold `bytes.len()` initialised bytes.
        let blob = unsafe { core::slice::from_raw_parts(words.as_ptr().cast::<u8>(), bytes.len()) };
        let mut info = BootInfo::empty();
        parse_bytes(blob, &mut info).map(|()| info)
    }

    /// A device tree built token by token.
    #[derive(Default)]
    struct Blob {
        structs: Vec<u8>,
        strings: Vec<u8>,
    }

    impl Blob {
        fn token(&mut self, t: u32) -> &mut Self {
            self.structs.extend_from_slice(&t.to_be_bytes());
            self
        }
        fn pad(&mut self) {
            while !self.structs.len().is_multiple_of(4) {
                self.structs.push(0);
            }
        }
        fn begin(&mut self, name: &str) -> &mut Self {
            self.token(BEGIN_NODE);
            self.structs.extend_from_slice(name.as_bytes());
            self.structs.push(0);
            self.pad();
            self
        }
        fn end(&mut self) -> &mut Self {
            self.token(END_NODE)
        }
        fn prop(&mut self, name: &str, value: &[u8]) -> &mut Self {
            let off = self.strings.len() as u32;
            self.strings.extend_from_slice(name.as_bytes());
            self.strings.push(0);
            self.token(PROP).token(value.len() as u32).token(off);
            self.structs.extend_from_slice(value);
            self.pad();
            self
        }
        fn cells(&mut self, name: &str, cells: &[u32]) -> &mut Self {
            let v: Vec<u8> = cells.iter().flat_map(|c| c.to_be_bytes()).collect();
            self.prop(name, &v)
        }
        fn build(&mut self) -> Vec<u8> {
            self.token(END);
            let (rsv, structs) = (40u32, 56u32);
            let strings = structs + self.structs.len() as u32;
            let total = strings + self.strings.len() as u32;
            let mut out = Vec::new();
            for v in [
                MAGIC,
                total,
                structs,
                strings,
                rsv,
                17,
                16,
                0,
                self.strings.len() as u32,
                self.structs.len() as u32,
            ] {
                out.extend_from_slice(&v.to_be_bytes());
            }
            out.extend_from_slice(&[0; 16]); // the empty reservation map
            out.extend_from_slice(&self.structs);
            out.extend_from_slice(&self.strings);
            out
        }
    }

    /// A root with 1-cell addresses and sizes, two memory nodes (one with
    /// two ranges), /chosen, /psci and a finisher whose second compatible
    /// string matches.
    fn sample() -> Vec<u8> {
        Blob::default()
            .begin("")
            .cells("#address-cells", &[1])
            .cells("#size-cells", &[1])
            .begin("memory@40000000")
            .prop("device_type", b"memory\0")
            .cells("reg", &[0x4000_0000, 0x1000_0000, 0x6000_0000, 0x0800_0000])
            .end()
            .begin("memoryless")
            .cells("reg", &[0x9000_0000, 0x1000])
            .end()
            .begin("memory@a0000000")
            .cells("reg", &[0xa000_0000, 0, 0xb000_0000, 0x2000])
            .end()
            .begin("chosen")
            .prop("bootargs", b"console=ttyS0 kaslr_seed=0x10 nokaslr\0")
            .cells("kaslr-seed", &[0x1234_5678])
            .end()
            .begin("psci")
            .prop("method", b"smc\0")
            .end()
            .begin("soc")
            .cells("#address-cells", &[2])
            .cells("#size-cells", &[2])
            .begin("test@100000")
            .prop("compatible", b"vendor,other\0sifive,test0\0")
            .cells("reg", &[0, 0x10_0000, 0, 0x1000])
            .end()
            .begin("serial@10000000")
            .prop("compatible", b"ns16550a\0")
            .cells("reg", &[0, 0x1000_0000, 0, 0x100])
            .end()
            .end()
            .end()
            .build()
    }

    #[test]
    fn hand_built_tree() {
        let info = read(&sample()).unwrap();
        // Zero-sized ranges are dropped; `memoryless` is not a memory node.
        assert_eq!(
            info.ram(),
            [
                (0x4000_0000, 0x1000_0000),
                (0x6000_0000, 0x0800_0000),
                (0xb000_0000, 0x2000)
            ]
        );
        assert_eq!(info.ram_span(), (0x4000_0000, 0xb000_2000));
        assert_eq!(info.bootargs(), b"console=ttyS0 kaslr_seed=0x10 nokaslr");
        assert_eq!(info.kaslr_seed, Some(0x1234_5678));
        assert!(info.psci == Some(PsciConduit::Smc));
        // 2-cell addresses from the parent's #address-cells.
        assert_eq!(info.finisher, Some(0x10_0000));
        assert_eq!(info.uart, Some(0x1000_0000));
    }

    #[test]
    fn qemu_riscv64_virt() {
        // qemu-system-riscv64 7.2 -machine virt -append "..." -machine dumpdtb=...
        let info = read(include_bytes!("../testdata/qemu-virt-riscv64.dtb")).unwrap();
        assert_eq!(info.ram(), [(0x8000_0000, 128 << 20)]);
        assert_eq!(info.bootargs(), b"mode=sv48 kaslr_seed=0x2a nokaslr");
        assert_eq!(info.finisher, Some(0x10_0000));
        assert_eq!(info.uart, Some(0x1000_0000));
        assert!(info.psci.is_none());
        assert_eq!(info.kaslr_seed, None);
    }

    #[test]
    fn qemu_riscv64_virt_two_numa_nodes() {
        // -m 2G -smp 2 -numa node,mem=1G,cpus=0 -numa node,mem=1G,cpus=1
        let info = read(include_bytes!("../testdata/qemu-virt-riscv64-numa.dtb")).unwrap();
        let mut ram = info.ram().to_vec();
        ram.sort();
        assert_eq!(ram, [(0x8000_0000, 1 << 30), (0xc000_0000, 1 << 30)]);
        assert_eq!(info.ram_span(), (0x8000_0000, 0x1_0000_0000));
        assert_eq!(info.bootargs(), b"");
    }

    #[test]
    fn qemu_aarch64_virt() {
        // qemu-system-aarch64 7.2 -machine virt -cpu cortex-a72 -append "..."
        let info = read(include_bytes!("../testdata/qemu-virt-aarch64.dtb")).unwrap();
        assert_eq!(info.ram(), [(0x4000_0000, 128 << 20)]);
        assert_eq!(info.bootargs(), b"mode=va39 kaslr=3");
        assert_eq!(info.uart, Some(0x900_0000));
        assert!(info.psci == Some(PsciConduit::Hvc));
        assert!(info.kaslr_seed.is_some());
        assert_eq!(info.finisher, None);
    }

    #[test]
    fn eight_byte_kaslr_seed_and_long_bootargs() {
        let long = [b'a'; MAX_BOOTARGS + 10];
        let blob = Blob::default()
            .begin("")
            .begin("memory")
            .cells("reg", &[0, 0x8000_0000, 0x1000_0000])
            .end()
            .begin("chosen")
            .prop("bootargs", &long)
            .cells("kaslr-seed", &[0xdead_beef, 0x0bad_f00d])
            .end()
            .end()
            .build();
        let info = read(&blob).unwrap();
        assert_eq!(info.ram(), [(0x8000_0000, 0x1000_0000)]);
        assert_eq!(info.bootargs().len(), MAX_BOOTARGS);
        assert_eq!(info.kaslr_seed, Some(0xdead_beef_0bad_f00d));
    }

    #[test]
    fn ram_ranges_beyond_the_table_are_dropped() {
        let mut blob = Blob::default();
        blob.begin("")
            .cells("#address-cells", &[2])
            .cells("#size-cells", &[2])
            .begin("memory@0");
        let cells: Vec<u32> = (0..10).flat_map(|i| [0, i << 28, 0, 0x1000]).collect();
        blob.cells("reg", &cells).end().end();
        let info = read(&blob.build()).unwrap();
        assert_eq!(info.ram_count, MAX_RAM_RANGES);
        assert_eq!(info.ram()[7], (7 << 28, 0x1000));
    }

    #[test]
    fn malformed_trees_are_errors() {
        let err = |bytes: &[u8]| core::str::from_utf8(read(bytes).err().unwrap()).unwrap();
        let good = sample();
        assert!(err(&good[..30]).contains("header out of bounds"));
        assert!(err(&good[..good.len() - 1]).contains("header out of bounds"));
        let mut bad = good.clone();
        bad[0] = 0;
        assert!(err(&bad).contains("bad magic"));
        assert!(err(&Blob::default().begin("").end().build()).contains("no /memory node"));
        assert!(err(&Blob::default().end().build()).contains("unbalanced"));
        assert!(err(&Blob::default().token(7).build()).contains("unknown token"));
        assert!(err(&Blob::default().cells("reg", &[1]).build()).contains("outside a node"));
        let mut deep = Blob::default();
        for _ in 0..MAX_DEPTH {
            deep.begin("n");
        }
        assert!(err(&deep.build()).contains("nested too deeply"));
        // A property whose length runs past the structure block.
        let mut long = Blob::default();
        long.begin("").token(PROP).token(0xffff_fff0).token(0);
        assert!(err(&long.build()).contains("property out of bounds"));
        // Misaligned: not where a device tree can be.
        let words = aligned(&good);
        let misaligned = unsafe { words.as_ptr().cast::<u8>().add(1) } as u64;
        let mut info = BootInfo::empty();
        // SAFETY: the magic check fails before anything past the pointer
        // is read.
        assert!(unsafe { parse(misaligned, &mut info) }.is_err());
    }

    #[test]
    fn command_line() {
        let cmdline = b"  mode=sv48 nokaslr kaslr_seed=0x2A  fail= mode2=x";
        assert_eq!(arg(cmdline, b"mode"), Some(&b"sv48"[..]));
        assert_eq!(arg(cmdline, b"kaslr_seed"), Some(&b"0x2A"[..]));
        assert_eq!(arg(cmdline, b"fail"), Some(&b""[..]));
        assert_eq!(arg(cmdline, b"nokaslr"), None);
        assert_eq!(arg(cmdline, b"mod"), None);
        assert_eq!(arg(b"", b"mode"), None);
        assert!(flag(cmdline, b"nokaslr"));
        assert!(!flag(cmdline, b"mode"));
        assert!(!flag(cmdline, b"kaslr"));
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64(b"42"), Some(42));
        assert_eq!(parse_u64(b"0x2A"), Some(42));
        assert_eq!(parse_u64(b"0Xff"), Some(255));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"0x1_0000_0000_0000_0000"), None);
        assert_eq!(parse_u64(b"0x10000000000000000"), None);
        assert_eq!(parse_u64(b"0x"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"12a"), None);
        assert_eq!(parse_u64(b"-1"), None);
    }
}
