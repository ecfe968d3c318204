//! A minimal flattened-device-tree reader, enough for the sample kernels:
//! the RAM ranges, `/chosen/bootargs`, `/chosen/kaslr-seed`, the riscv test
//! finisher, the UART (riscv `ns16550a`, aarch64 PL011) and the aarch64 PSCI
//! conduit.
//!
//! Architecture-neutral: shared by `sample-kernel` (riscv64) and
//! `sample-kernel-aarch64` (included there with `#[path]`); each kernel
//! reads the fields of its own machine.
//!
//! It runs before paging, at the physical load address, so it is written to
//! need no absolute pointers: no `&str` from tables, no `core::str`, no
//! formatting; just byte loops over the blob (the crate is built with
//! `-C jump-tables=no`, see .cargo/config.toml).

pub const MAX_RAM_RANGES: usize = 8;
pub const MAX_BOOTARGS: usize = 256;

/// How PSCI calls reach the firmware (`/psci` `method`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PsciConduit {
    Hvc,
    Smc,
}

/// What the kernel needs from the device tree, copied out of it.
#[allow(dead_code)] // each kernel reads the fields of its own machine
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

/// Errors are static byte strings, printable before paging.
pub type Error = &'static [u8];

/// # Safety
/// `dtb` must point to a flattened device tree in memory readable as is.
pub unsafe fn parse(dtb: u64, info: &mut BootInfo) -> Result<(), Error> {
    let base = dtb as *const u8;
    // SAFETY (whole function): offsets are bounded by the header's sizes.
    let be32 = |off: usize| -> u32 {
        unsafe { u32::from_be(base.add(off).cast::<u32>().read_unaligned()) }
    };
    if dtb == 0 || !dtb.is_multiple_of(4) || be32(0) != MAGIC {
        return Err(b"no device tree at the boot address (bad magic)");
    }
    let total = be32(4) as usize;
    let struct_off = be32(8) as usize;
    let strings_off = be32(12) as usize;
    let struct_end = struct_off + be32(36) as usize;
    if struct_end > total || strings_off > total {
        return Err(b"device tree header out of bounds");
    }
    let byte = |off: usize| -> u8 { unsafe { base.add(off).read() } };
    // Is the NUL-terminated string at `off` equal to `lit` (or, with
    // `prefix`, does it start with `lit` followed by NUL or '@')?
    let str_is = |off: usize, lit: &[u8], prefix: bool| -> bool {
        let mut i = 0;
        while i < lit.len() {
            if off + i >= total || byte(off + i) != lit[i] {
                return false;
            }
            i += 1;
        }
        let next = byte(off + i);
        next == 0 || (prefix && next == b'@')
    };
    let read_cells = |off: usize, cells: u32| -> u64 {
        let mut v = 0u64;
        let mut i = 0;
        while i < cells as usize {
            v = (v << 32) | be32(off + 4 * i) as u64;
            i += 1;
        }
        v
    };

    // #address-cells/#size-cells that apply to the children of each depth.
    let mut addr_cells = [2u32; MAX_DEPTH];
    let mut size_cells = [1u32; MAX_DEPTH];
    let mut depth = 0usize; // depth of the node whose properties follow
    let mut kind = Node::Other;
    // Per innermost node: is it a test finisher, and its first reg address.
    let mut is_finisher = false;
    let mut is_uart = false;
    let mut first_reg: Option<u64> = None;

    let mut off = struct_off;
    while off + 4 <= struct_end {
        let token = be32(off);
        off += 4;
        if token == BEGIN_NODE {
            let name = off;
            while off < struct_end && byte(off) != 0 {
                off += 1;
            }
            off = (off + 1 + 3) & !3;
            depth += 1;
            if depth >= MAX_DEPTH {
                return Err(b"device tree nested too deeply");
            }
            addr_cells[depth] = 2;
            size_cells[depth] = 1;
            kind = Node::Other;
            if depth == 2 && str_is(name, b"memory", true) {
                kind = Node::Memory;
            } else if depth == 2 && str_is(name, b"chosen", false) {
                kind = Node::Chosen;
            } else if depth == 2 && str_is(name, b"psci", false) {
                kind = Node::Psci;
            }
            is_finisher = false;
            is_uart = false;
            first_reg = None;
        } else if token == END_NODE {
            if is_finisher && info.finisher.is_none() {
                info.finisher = first_reg;
            }
            if is_uart && info.uart.is_none() {
                info.uart = first_reg;
            }
            is_finisher = false;
            is_uart = false;
            first_reg = None;
            kind = Node::Other;
            if depth == 0 {
                return Err(b"device tree: unbalanced END_NODE");
            }
            depth -= 1;
        } else if token == PROP {
            let len = be32(off) as usize;
            let name = strings_off + be32(off + 4) as usize;
            let val = off + 8;
            off = (val + len + 3) & !3;
            if off > struct_end {
                return Err(b"device tree property out of bounds");
            }
            // The parent's cell sizes describe this node's `reg`.
            let (ac, sc) = (addr_cells[depth - 1], size_cells[depth - 1]);
            if str_is(name, b"#address-cells", false) && len == 4 {
                addr_cells[depth] = be32(val);
            } else if str_is(name, b"#size-cells", false) && len == 4 {
                size_cells[depth] = be32(val);
            } else if str_is(name, b"reg", false) {
                if (1..=2).contains(&ac) && len >= 4 * ac as usize {
                    first_reg = Some(read_cells(val, ac));
                }
                if kind == Node::Memory && (1..=2).contains(&ac) && (1..=2).contains(&sc) {
                    let entry = 4 * (ac + sc) as usize;
                    let mut e = 0;
                    while e + entry <= len {
                        let start = read_cells(val + e, ac);
                        let size = read_cells(val + e + 4 * ac as usize, sc);
                        if size > 0 && info.ram_count < MAX_RAM_RANGES {
                            info.ram[info.ram_count] = (start, size);
                            info.ram_count += 1;
                        }
                        e += entry;
                    }
                }
            } else if str_is(name, b"compatible", false) {
                // A list of NUL-terminated strings.
                let mut s = val;
                while s < val + len {
                    if str_is(s, b"sifive,test0", false) || str_is(s, b"sifive,test1", false) {
                        is_finisher = true;
                    }
                    if str_is(s, b"ns16550a", false) || str_is(s, b"arm,pl011", false) {
                        is_uart = true;
                    }
                    while s < val + len && byte(s) != 0 {
                        s += 1;
                    }
                    s += 1;
                }
            } else if kind == Node::Chosen && str_is(name, b"bootargs", false) {
                let mut n = 0;
                while n < len && n < MAX_BOOTARGS && byte(val + n) != 0 {
                    info.bootargs[n] = byte(val + n);
                    n += 1;
                }
                info.bootargs_len = n;
            } else if kind == Node::Psci && str_is(name, b"method", false) {
                if str_is(val, b"hvc", false) {
                    info.psci = Some(PsciConduit::Hvc);
                } else if str_is(val, b"smc", false) {
                    info.psci = Some(PsciConduit::Smc);
                }
            } else if kind == Node::Chosen && str_is(name, b"kaslr-seed", false) {
                if len == 8 {
                    info.kaslr_seed = Some(read_cells(val, 2));
                } else if len == 4 {
                    info.kaslr_seed = Some(be32(val) as u64);
                }
            }
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

/// The value of `key=` in a space-separated command line, if present.
pub fn arg<'a>(cmdline: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let mut i = 0;
    while i < cmdline.len() {
        while i < cmdline.len() && cmdline[i] == b' ' {
            i += 1;
        }
        let start = i;
        while i < cmdline.len() && cmdline[i] != b' ' {
            i += 1;
        }
        let word = &cmdline[start..i];
        if word.len() > key.len() && word[..key.len()] == *key && word[key.len()] == b'=' {
            return Some(&word[key.len() + 1..]);
        }
    }
    None
}

/// Is the bare word `flag` on the command line?
#[cfg_attr(bare, allow(dead_code))] // KASLR's `nokaslr`
pub fn flag(cmdline: &[u8], flag: &[u8]) -> bool {
    let mut i = 0;
    while i < cmdline.len() {
        while i < cmdline.len() && cmdline[i] == b' ' {
            i += 1;
        }
        let start = i;
        while i < cmdline.len() && cmdline[i] != b' ' {
            i += 1;
        }
        if cmdline[start..i] == *flag {
            return true;
        }
    }
    false
}

/// Decimal or 0x-hex; `None` on anything else or on overflow.
#[cfg_attr(bare, allow(dead_code))] // KASLR's `kaslr_seed=`
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
