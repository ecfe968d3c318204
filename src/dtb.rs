//! RAM from a flattened device tree (`.dtb`), and the layout checked against
//! it: the machine's memory must lie in `[ram.base, ram.base + ram.max_size)`
//! (so the linear map covers it), the image must be loaded inside RAM, and
//! the linear map must be large enough in every mode.
//!
//! A small reader of the devicetree specification's flattened format
//! (v17, backwards-compatible to v16): header, structure block, strings
//! block. Only what RAM needs is read: the root's `#address-cells` and
//! `#size-cells`, and the `reg` of the root's children whose `device_type`
//! is `"memory"`. Every read is bounds-checked; a malformed blob is an
//! error naming the byte offset, never a panic.

use crate::diag::{Diagnostic, Label, Rule};
use crate::format::human_size;
use crate::layout::Layout;
use std::path::Path;

const MAGIC: u32 = 0xd00d_feed;
const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
const NOP: u32 = 4;
const END: u32 = 9;
/// Larger blobs are not device trees (QEMU's is 1 MiB, padded).
const MAX_DTB_BYTES: usize = 16 << 20;

/// One range of RAM: `[start, start + size)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RamRange {
    pub start: u64,
    pub size: u64,
}

impl RamRange {
    pub fn end(&self) -> u128 {
        self.start as u128 + self.size as u128
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DtbError {
    #[error("cannot read device tree {path}: {message}")]
    Read { path: String, message: String },
    #[error("not a flattened device tree: {message} at byte {offset:#x}")]
    Malformed { offset: usize, message: String },
    #[error(
        "the device tree has no memory node (a child of / with device_type = \"memory\" and a reg)"
    )]
    NoMemory,
}

fn malformed(offset: usize, message: impl Into<String>) -> DtbError {
    DtbError::Malformed {
        offset,
        message: message.into(),
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn u32(&self, at: usize) -> Result<u32, DtbError> {
        let b = self
            .bytes
            .get(
                at..at
                    .checked_add(4)
                    .ok_or_else(|| malformed(at, "offset overflows"))?,
            )
            .ok_or_else(|| malformed(at, "truncated"))?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A NUL-terminated string starting at `at`, not beyond `limit`.
    fn cstr(&self, at: usize, limit: usize) -> Result<&'a str, DtbError> {
        let end = limit.min(self.bytes.len());
        let tail = self
            .bytes
            .get(at..end)
            .ok_or_else(|| malformed(at, "string outside its block"))?;
        let len = tail
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| malformed(at, "unterminated string"))?;
        let s =
            std::str::from_utf8(&tail[..len]).map_err(|_| malformed(at, "string is not UTF-8"))?;
        // Names and string properties are printable (Devicetree Spec 2.2.1);
        // anything else would reach the terminal in messages.
        if s.chars().any(crate::format::is_unprintable) {
            return Err(malformed(at, "string holds a control character"));
        }
        Ok(s)
    }
}

/// A property of a node while walking the structure block.
struct Node<'a> {
    name: &'a str,
    depth: usize,
    device_type: Option<&'a [u8]>,
    reg: Option<&'a [u8]>,
}

/// The RAM ranges a device tree describes, in address order.
pub fn parse(bytes: &[u8]) -> Result<Vec<RamRange>, DtbError> {
    let blocks = header(bytes)?;
    let tree = walk(bytes, &blocks)?;
    ram_ranges(&tree, blocks.off_struct)
}

/// Where the header says the structure and strings blocks are.
#[derive(Clone, Copy)]
struct Blocks {
    off_struct: usize,
    struct_end: usize,
    off_strings: usize,
    strings_end: usize,
}

/// What the structure block says about RAM: the root's cell sizes and the
/// `reg` of each memory node (with the offset of its end, for messages).
struct Tree<'a> {
    address_cells: u32,
    size_cells: u32,
    memory: Vec<(&'a [u8], usize)>,
}

fn header(bytes: &[u8]) -> Result<Blocks, DtbError> {
    if bytes.len() > MAX_DTB_BYTES {
        return Err(malformed(0, "larger than 16 MiB"));
    }
    let r = Reader { bytes };
    let magic = r.u32(0)?;
    if magic != MAGIC {
        return Err(malformed(
            0,
            format!("magic {magic:#010x}, expected {MAGIC:#010x}"),
        ));
    }
    let total = r.u32(4)? as usize;
    let off_struct = r.u32(8)? as usize;
    let off_strings = r.u32(12)? as usize;
    let version = r.u32(20)?;
    let last_compatible = r.u32(24)?;
    if total > bytes.len() {
        return Err(malformed(
            4,
            format!("totalsize {total} beyond the file's {} bytes", bytes.len()),
        ));
    }
    if last_compatible > 17 || version < 16 {
        return Err(malformed(
            20,
            format!(
                "version {version} (compatible with {last_compatible}); versions 16 and 17 are read"
            ),
        ));
    }
    let size_strings = r.u32(32)? as usize;
    let size_struct = r.u32(36)? as usize;
    let strings_end = off_strings
        .checked_add(size_strings)
        .filter(|&e| e <= total)
        .ok_or_else(|| malformed(32, "strings block outside the blob"))?;
    let struct_end = off_struct
        .checked_add(size_struct)
        .filter(|&e| e <= total)
        .ok_or_else(|| malformed(36, "structure block outside the blob"))?;

    Ok(Blocks {
        off_struct,
        struct_end,
        off_strings,
        strings_end,
    })
}

fn walk<'a>(bytes: &'a [u8], b: &Blocks) -> Result<Tree<'a>, DtbError> {
    let r = Reader { bytes };
    let Blocks {
        off_struct,
        struct_end,
        off_strings,
        strings_end,
    } = *b;
    let mut at = off_struct;
    let mut depth = 0usize;
    let mut address_cells = 2u32;
    let mut size_cells = 1u32;
    let mut nodes: Vec<Node> = Vec::new();
    let mut memory: Vec<(&[u8], usize)> = Vec::new();
    loop {
        if at + 4 > struct_end {
            return Err(malformed(at, "structure block ends without FDT_END"));
        }
        let token = r.u32(at)?;
        let token_at = at;
        at += 4;
        match token {
            BEGIN_NODE => {
                let name = r.cstr(at, struct_end)?;
                at = (at + name.len() + 1).next_multiple_of(4);
                depth += 1;
                if depth > 64 {
                    return Err(malformed(token_at, "nodes nested deeper than 64"));
                }
                nodes.push(Node {
                    name,
                    depth,
                    device_type: None,
                    reg: None,
                });
            }
            END_NODE => {
                let node = nodes
                    .pop()
                    .ok_or_else(|| malformed(token_at, "FDT_END_NODE without a node"))?;
                let is_memory = node.device_type == Some(b"memory\0")
                    || (node.device_type.is_none()
                        && (node.name == "memory" || node.name.starts_with("memory@")));
                if node.depth == 2
                    && is_memory
                    && let Some(reg) = node.reg
                {
                    memory.push((reg, token_at));
                }
                depth -= 1;
            }
            PROP => {
                let len = r.u32(at)? as usize;
                let name_off = r.u32(at + 4)? as usize;
                let value_at = at + 8;
                let value = value_at
                    .checked_add(len)
                    .filter(|&end| end <= struct_end)
                    .and_then(|end| bytes.get(value_at..end))
                    .ok_or_else(|| malformed(at, "property value outside the structure block"))?;
                let name = r.cstr(
                    off_strings
                        .checked_add(name_off)
                        .ok_or_else(|| malformed(at + 4, "name offset overflows"))?,
                    strings_end,
                )?;
                at = (value_at + len).next_multiple_of(4);
                let node = nodes
                    .last_mut()
                    .ok_or_else(|| malformed(token_at, "property outside any node"))?;
                let cells = |v: &[u8]| -> Result<u32, DtbError> {
                    if v.len() != 4 {
                        return Err(malformed(value_at, format!("{name} is not one cell")));
                    }
                    Ok(u32::from_be_bytes([v[0], v[1], v[2], v[3]]))
                };
                match (node.depth, name) {
                    (1, "#address-cells") => address_cells = cells(value)?,
                    (1, "#size-cells") => size_cells = cells(value)?,
                    (_, "device_type") => node.device_type = Some(value),
                    (_, "reg") => node.reg = Some(value),
                    _ => {}
                }
            }
            NOP => {}
            END => break,
            other => return Err(malformed(token_at, format!("unknown token {other:#x}"))),
        }
    }
    if !nodes.is_empty() {
        return Err(malformed(at, "FDT_END inside a node"));
    }
    if !nodes.is_empty() {
        return Err(malformed(at, "FDT_END inside a node"));
    }
    Ok(Tree {
        address_cells,
        size_cells,
        memory,
    })
}

fn ram_ranges(tree: &Tree, off_struct: usize) -> Result<Vec<RamRange>, DtbError> {
    let Tree {
        address_cells,
        size_cells,
        ..
    } = *tree;
    if !(1..=2).contains(&address_cells) || !(1..=2).contains(&size_cells) {
        return Err(malformed(
            off_struct,
            format!(
                "#address-cells = {address_cells}, #size-cells = {size_cells}: RAM needs 1 or 2 cells"
            ),
        ));
    }
    let entry = (address_cells + size_cells) as usize * 4;
    let mut ranges = Vec::new();
    for &(reg, at) in &tree.memory {
        if reg.len() % entry != 0 {
            return Err(malformed(
                at,
                format!(
                    "memory reg of {} bytes is not a multiple of {entry}",
                    reg.len()
                ),
            ));
        }
        for chunk in reg.chunks(entry) {
            let read = |cells: &[u8]| {
                cells.chunks(4).fold(0u64, |acc, c| {
                    (acc << 32) | u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as u64
                })
            };
            let split = address_cells as usize * 4;
            let range = RamRange {
                start: read(&chunk[..split]),
                size: read(&chunk[split..]),
            };
            if range.size > 0 {
                ranges.push(range);
            }
        }
    }
    if ranges.is_empty() {
        return Err(DtbError::NoMemory);
    }
    ranges.sort_by_key(|r| r.start);
    Ok(ranges)
}

/// Reads and parses a `.dtb` file.
pub fn read(path: &Path) -> Result<Vec<RamRange>, DtbError> {
    let read_err = |message: String| DtbError::Read {
        path: path.display().to_string(),
        message,
    };
    let bytes = crate::files::read_capped(path, MAX_DTB_BYTES).map_err(|e| {
        read_err(if e.kind() == std::io::ErrorKind::InvalidData {
            "larger than 16 MiB: not a device tree".into()
        } else {
            e.to_string()
        })
    })?;
    parse(&bytes).map_err(|e| read_err(e.to_string()))
}

/// Total RAM of the ranges.
pub fn total(ranges: &[RamRange]) -> u64 {
    ranges
        .iter()
        .fold(0u64, |acc, r| acc.saturating_add(r.size))
}

fn range_text(r: &RamRange) -> String {
    format!(
        "[{:#x}, {:#x}) ({})",
        r.start,
        r.end(),
        human_size(r.size as u128)
    )
}

/// The layout against the machine's RAM: findings (rule `ram`) pointing at
/// the spec keys that disagree with the device tree `dtb` (named in messages).
pub fn check(layout: &Layout, ranges: &[RamRange], dtb: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let span = |key: &str| layout.origins.span(key);
    let ram = &layout.ram;
    let window_end = ram.base as u128 + ram.max_size as u128;
    for r in ranges {
        if (r.start as u128) < ram.base as u128 || r.end() > window_end {
            out.push(
                Diagnostic::new(
                    Rule::Ram,
                    format!(
                        "{dtb}: RAM {} lies outside [ram.base, ram.base + ram.max_size) = [{:#x}, {:#x}): the linear map does not cover it",
                        range_text(r),
                        ram.base,
                        window_end
                    ),
                )
                .label(Label::primary(
                    "ram.base",
                    span("ram.base"),
                    "RAM starts here in the spec",
                ))
                .label(Label::secondary(
                    "ram.max_size",
                    span("ram.max_size"),
                    "and is at most this large",
                ))
                .help(if (r.start as u128) < ram.base as u128 {
                    format!("lower ram.base to {:#x} or below", r.start)
                } else {
                    format!(
                        "raise ram.max_size to at least {} (and the linear map with it)",
                        human_size((r.end() - ram.base as u128).next_power_of_two())
                    )
                }),
            );
        }
    }
    let image_end = ram.load as u128 + layout.image.max_size as u128;
    let holding = ranges
        .iter()
        .find(|r| r.start <= ram.load && image_end <= r.end());
    if holding.is_none() {
        let listed: Vec<String> = ranges.iter().map(range_text).collect();
        out.push(
            Diagnostic::new(
                Rule::Ram,
                format!(
                    "{dtb}: the image [{:#x}, {:#x}) (ram.load + image.max_size) is not inside the machine's RAM: {}",
                    ram.load,
                    image_end,
                    listed.join(", ")
                ),
            )
            .label(Label::primary(
                "ram.load",
                span("ram.load"),
                "the loader puts the image here",
            ))
            .help(format!(
                "load the image inside RAM, e.g. at {:#x} (2 MiB into the first range)",
                ranges[0].start.saturating_add(2 << 20)
            )),
        );
    }
    let first = ranges.iter().map(|r| r.start).min().unwrap_or(ram.base);
    let last = ranges.iter().map(|r| r.end()).max().unwrap_or(0);
    let needed = last.saturating_sub(first.min(ram.base) as u128);
    for mode in &layout.modes {
        let Some(linear) = mode.linear_map() else {
            continue;
        };
        if needed > linear.size as u128 {
            out.push(
                Diagnostic::new(
                    Rule::Ram,
                    format!(
                        "{dtb}: the linear map ({}) is smaller than the machine's RAM span from ram.base ({}) in {}",
                        human_size(linear.size as u128),
                        human_size(needed),
                        mode.mode
                    ),
                )
                .in_mode(mode.mode)
                .label(Label::primary(
                    format!("region.{}.size", linear.name),
                    span(&format!("region.{}.size", linear.name)),
                    "the linear map's size",
                ))
                .help("enlarge the linear map, or use a paging mode with more address space"),
            );
        }
    }
    if total(ranges) < ram.min_size {
        out.push(
            Diagnostic::new(
                Rule::Ram,
                format!(
                    "{dtb}: the machine has {} of RAM, less than ram.min_size ({})",
                    human_size(total(ranges) as u128),
                    human_size(ram.min_size as u128)
                ),
            )
            .label(Label::primary(
                "ram.min_size",
                span("ram.min_size"),
                "the smallest RAM the image is built for",
            ))
            .help("lower ram.min_size, or give the machine more memory"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal blob: root with the given cells and one memory node.
    fn blob(address_cells: u32, size_cells: u32, reg: &[u32]) -> Vec<u8> {
        let mut strings = Vec::new();
        let mut name = |s: &str| {
            let off = strings.len() as u32;
            strings.extend_from_slice(s.as_bytes());
            strings.push(0);
            off
        };
        let (ac, sc, dt, rg) = (
            name("#address-cells"),
            name("#size-cells"),
            name("device_type"),
            name("reg"),
        );
        let mut st: Vec<u8> = Vec::new();
        let word = |st: &mut Vec<u8>, w: u32| st.extend_from_slice(&w.to_be_bytes());
        let prop = |st: &mut Vec<u8>, nameoff: u32, value: &[u8]| {
            word(st, PROP);
            word(st, value.len() as u32);
            word(st, nameoff);
            st.extend_from_slice(value);
            while !st.len().is_multiple_of(4) {
                st.push(0);
            }
        };
        word(&mut st, BEGIN_NODE);
        st.extend_from_slice(&[0, 0, 0, 0]);
        prop(&mut st, ac, &address_cells.to_be_bytes());
        prop(&mut st, sc, &size_cells.to_be_bytes());
        word(&mut st, BEGIN_NODE);
        st.extend_from_slice(b"memory@80000000\0");
        prop(&mut st, dt, b"memory\0");
        let reg: Vec<u8> = reg.iter().flat_map(|w| w.to_be_bytes()).collect();
        prop(&mut st, rg, &reg);
        word(&mut st, END_NODE);
        word(&mut st, END_NODE);
        word(&mut st, END);
        let off_struct = 40 + 16;
        let off_strings = off_struct + st.len();
        let total = off_strings + strings.len();
        let mut out = Vec::new();
        for w in [
            MAGIC,
            total as u32,
            off_struct as u32,
            off_strings as u32,
            40,
            17,
            16,
            0,
            strings.len() as u32,
            st.len() as u32,
        ] {
            out.extend_from_slice(&w.to_be_bytes());
        }
        out.extend_from_slice(&[0; 16]); // empty reservation map
        out.extend_from_slice(&st);
        out.extend_from_slice(&strings);
        out
    }

    #[test]
    fn reads_two_cell_memory() {
        let b = blob(2, 2, &[0, 0x8000_0000, 0, 0x4000_0000]);
        assert_eq!(
            parse(&b).unwrap(),
            vec![RamRange {
                start: 0x8000_0000,
                size: 0x4000_0000
            }]
        );
    }

    #[test]
    fn reads_one_cell_memory_with_two_ranges() {
        let b = blob(1, 1, &[0x9000_0000, 0x1000_0000, 0x8000_0000, 0x1000_0000]);
        let r = parse(&b).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].start, 0x8000_0000);
        assert_eq!(total(&r), 0x2000_0000);
    }

    #[test]
    fn malformed_blobs_are_errors_not_panics() {
        let good = blob(2, 2, &[0, 0x8000_0000, 0, 0x4000_0000]);
        assert!(matches!(parse(&[]), Err(DtbError::Malformed { .. })));
        assert!(parse(b"not a device tree at all").is_err());
        // Every truncation and every single-byte corruption.
        for len in 0..good.len() {
            let _ = parse(&good[..len]);
        }
        for i in 0..good.len() {
            for v in [0u8, 0xff, 0x7f, 3] {
                let mut b = good.clone();
                b[i] = v;
                let _ = parse(&b);
            }
        }
        let bad_reg = blob(2, 2, &[0, 0x8000_0000, 0]);
        assert!(matches!(parse(&bad_reg), Err(DtbError::Malformed { .. })));
        let empty = blob(2, 2, &[]);
        assert_eq!(parse(&empty), Err(DtbError::NoMemory));
    }

    #[test]
    fn zero_size_cells_is_malformed_not_a_missing_memory_node() {
        let b = blob(2, 0, &[0, 0x8000_0000]);
        match parse(&b) {
            Err(DtbError::Malformed { message, .. }) => {
                assert!(message.contains("#size-cells = 0"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }
}
