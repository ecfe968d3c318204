//! Writes a synthetic distro-sized riscv64 kernel ELF for `scripts/bench-lint`:
//! linked for `layouts/qemu-virt-sv39.toml` (so `layoutgen lint` runs every
//! check and finds it clean), with many symbols, `--emit-relocs`-style
//! relocations, and a large non-allocated `.debug_info` that lint must not
//! read. Never committed: it is generated under `target/`.
//!
//! ```text
//! cargo run --release --example gen-big-elf -- OUT [SYMBOLS] [DEBUG_MIB] [RELOCS]
//! ```
//! Defaults: 320,000 symbols, 320 MiB of debug info, 400,000 relocations.
//!
//! The ELF is written by hand (it is simple, and streaming 300 MB through a
//! buffered file keeps the generator's memory small).

use std::fs::File;
use std::io::{BufWriter, Seek, Write};

const LINK: u64 = 0xffff_ffff_8020_0000; // qemu-virt-sv39 image.link
const LOAD: u64 = 0x8020_0000; // ram.load
const MIB: u64 = 1 << 20;
const PAGE: u64 = 0x1000;
const STACK: u64 = 64 << 10;

const SHF_WRITE: u64 = 1;
const SHF_ALLOC: u64 = 2;
const SHF_EXECINSTR: u64 = 4;
const SHF_INFO_LINK: u64 = 0x40;

struct Sec {
    name: &'static str,
    sh_type: u32,
    flags: u64,
    addr: u64,
    offset: u64,
    size: u64,
    link: u32,
    info: u32,
    align: u64,
    entsize: u64,
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(out) = args.get(1) else {
        eprintln!("usage: gen-big-elf OUT [SYMBOLS] [DEBUG_MIB] [RELOCS]");
        std::process::exit(2);
    };
    let nsyms: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(320_000);
    let debug_mib: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(320);
    let nrelocs: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(400_000);

    // Image sections, each 2 MiB-aligned (image.section_align).
    let text = (LINK, 10 * MIB);
    let rodata = (LINK + 10 * MIB, 4 * MIB);
    let data = (LINK + 14 * MIB, 2 * MIB);
    let bss = (LINK + 16 * MIB, 2 * MIB + STACK);
    let image_end = (bss.0 + bss.1).div_ceil(2 * MIB) * 2 * MIB;

    // File layout: headers, then the three PROGBITS sections page-aligned so
    // p_offset ≡ p_vaddr (mod 4 KiB), then debug info, relocations, symbols.
    let phnum = 4u64;
    let text_off = PAGE;
    let rodata_off = text_off + text.1;
    let data_off = rodata_off + rodata.1;
    let debug_off = data_off + data.1;
    let debug_size = debug_mib * MIB;
    let rela_off = debug_off + debug_size;
    let rela_size = nrelocs * 24;

    // Symbols: (name, value, size, info, shndx). Section indices below.
    const TEXT: u16 = 1;
    const RODATA: u16 = 2;
    const DATA: u16 = 3;
    const BSS: u16 = 4;
    let mut strtab: Vec<u8> = vec![0];
    let mut syms: Vec<(u32, u64, u64, u8, u16)> = Vec::with_capacity(nsyms as usize + 32);
    let mut add =
        |strtab: &mut Vec<u8>, name: &str, value: u64, size: u64, info: u8, shndx: u16| {
            let off = strtab.len() as u32;
            strtab.extend_from_slice(name.as_bytes());
            strtab.push(0);
            syms.push((off, value, size, info, shndx));
        };
    const GLOBAL_FUNC: u8 = 0x12;
    const GLOBAL_OBJECT: u8 = 0x11;
    const GLOBAL_NOTYPE: u8 = 0x10;
    const LOCAL_FUNC: u8 = 0x02;
    let words = [
        "sched", "irq", "mm", "vfs", "net", "tcp", "blk", "dev", "pci", "virtio", "ext4", "page",
        "slab", "rcu", "timer", "sbi", "plic", "uart", "dma", "cgroup",
    ];
    let verbs = [
        "init", "exit", "alloc", "free", "lookup", "insert", "remove", "handle", "update", "flush",
        "map", "unmap", "read", "write", "probe",
    ];
    let boundary: [(&str, u64, u16); 15] = [
        ("__image_start", LINK, TEXT),
        ("__text_start", text.0, TEXT),
        ("__text_end", text.0 + text.1, TEXT),
        ("__rodata_start", rodata.0, RODATA),
        ("__rodata_end", rodata.0 + rodata.1, RODATA),
        ("__data_start", data.0, DATA),
        ("__global_pointer$", data.0 + 0x800, DATA),
        ("__data_end", data.0 + data.1, DATA),
        ("__bss_start", bss.0, BSS),
        ("__stack_bottom", bss.0 + bss.1 - STACK, BSS),
        ("__stack_top", bss.0 + bss.1, BSS),
        ("__bss_end", bss.0 + bss.1, BSS),
        ("__image_end", image_end, BSS),
        ("_start", LINK, TEXT),
        ("kernel_main", LINK + 0x100, TEXT),
    ];
    for (name, value, shndx) in boundary {
        add(&mut strtab, name, value, 0, GLOBAL_NOTYPE, shndx);
    }
    let n = nsyms.saturating_sub(boundary.len() as u64);
    for i in 0..n {
        let w = words[(i % 20) as usize];
        let v = verbs[((i / 20) % 15) as usize];
        // 60% functions in .text, 20% .rodata, 15% .data, 5% .bss.
        let (sec, start, size, info, sym_size) = match i % 20 {
            0..=11 => (
                TEXT,
                text.0,
                text.1,
                if i % 7 == 0 { LOCAL_FUNC } else { GLOBAL_FUNC },
                64,
            ),
            12..=15 => (RODATA, rodata.0, rodata.1, GLOBAL_OBJECT, 16),
            16..=18 => (DATA, data.0, data.1, GLOBAL_OBJECT, 8),
            _ => (BSS, bss.0, bss.1 - STACK, GLOBAL_OBJECT, 8),
        };
        let value = (start + (i.wrapping_mul(2_654_435_761) % (size - sym_size))) & !7;
        let name = format!(
            "{w}_{v}_{:x}_{}",
            i,
            if info == LOCAL_FUNC { "local" } else { "sym" }
        );
        add(&mut strtab, &name, value, sym_size, info, sec);
    }
    // Locals must come first in .symtab: stable-partition them.
    let (mut locals, globals): (Vec<_>, Vec<_>) = syms.into_iter().partition(|s| s.3 >> 4 == 0);
    let first_global = locals.len() as u32 + 1;
    locals.extend(globals);
    let syms = locals;

    let symtab_off = (rela_off + rela_size).div_ceil(8) * 8;
    let symtab_size = (syms.len() as u64 + 1) * 24;
    let strtab_off = symtab_off + symtab_size;
    let shstrtab: Vec<u8> =
        b"\0.text\0.rodata\0.data\0.bss\0.debug_info\0.rela.text\0.symtab\0.strtab\0.shstrtab\0"
            .to_vec();
    let name_off = |n: &str| -> u32 {
        let pat = format!("\0{n}\0");
        shstrtab
            .windows(pat.len())
            .position(|w| w == pat.as_bytes())
            .expect("section name") as u32
            + 1
    };
    let shstrtab_off = strtab_off + strtab.len() as u64;
    let shoff = (shstrtab_off + shstrtab.len() as u64).div_ceil(8) * 8;

    let secs = [
        Sec {
            name: "",
            sh_type: 0,
            flags: 0,
            addr: 0,
            offset: 0,
            size: 0,
            link: 0,
            info: 0,
            align: 0,
            entsize: 0,
        },
        Sec {
            name: ".text",
            sh_type: 1,
            flags: SHF_ALLOC | SHF_EXECINSTR,
            addr: text.0,
            offset: text_off,
            size: text.1,
            link: 0,
            info: 0,
            align: 4,
            entsize: 0,
        },
        Sec {
            name: ".rodata",
            sh_type: 1,
            flags: SHF_ALLOC,
            addr: rodata.0,
            offset: rodata_off,
            size: rodata.1,
            link: 0,
            info: 0,
            align: 8,
            entsize: 0,
        },
        Sec {
            name: ".data",
            sh_type: 1,
            flags: SHF_ALLOC | SHF_WRITE,
            addr: data.0,
            offset: data_off,
            size: data.1,
            link: 0,
            info: 0,
            align: 8,
            entsize: 0,
        },
        Sec {
            name: ".bss",
            sh_type: 8,
            flags: SHF_ALLOC | SHF_WRITE,
            addr: bss.0,
            offset: debug_off,
            size: bss.1,
            link: 0,
            info: 0,
            align: 8,
            entsize: 0,
        },
        Sec {
            name: ".debug_info",
            sh_type: 1,
            flags: 0,
            addr: 0,
            offset: debug_off,
            size: debug_size,
            link: 0,
            info: 0,
            align: 1,
            entsize: 0,
        },
        Sec {
            name: ".rela.text",
            sh_type: 4,
            flags: SHF_INFO_LINK,
            addr: 0,
            offset: rela_off,
            size: rela_size,
            link: 7,
            info: 1,
            align: 8,
            entsize: 24,
        },
        Sec {
            name: ".symtab",
            sh_type: 2,
            flags: 0,
            addr: 0,
            offset: symtab_off,
            size: symtab_size,
            link: 8,
            info: first_global,
            align: 8,
            entsize: 24,
        },
        Sec {
            name: ".strtab",
            sh_type: 3,
            flags: 0,
            addr: 0,
            offset: strtab_off,
            size: strtab.len() as u64,
            link: 0,
            info: 0,
            align: 1,
            entsize: 0,
        },
        Sec {
            name: ".shstrtab",
            sh_type: 3,
            flags: 0,
            addr: 0,
            offset: shstrtab_off,
            size: shstrtab.len() as u64,
            link: 0,
            info: 0,
            align: 1,
            entsize: 0,
        },
    ];

    let mut w = BufWriter::with_capacity(4 * MIB as usize, File::create(out)?);
    // ELF header.
    let mut eh = Vec::with_capacity(64);
    eh.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    eh.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    eh.extend_from_slice(&243u16.to_le_bytes()); // EM_RISCV
    eh.extend_from_slice(&1u32.to_le_bytes());
    eh.extend_from_slice(&LINK.to_le_bytes()); // e_entry = _start
    eh.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
    eh.extend_from_slice(&shoff.to_le_bytes());
    eh.extend_from_slice(&5u32.to_le_bytes()); // RVC | float ABI double
    eh.extend_from_slice(&64u16.to_le_bytes());
    eh.extend_from_slice(&56u16.to_le_bytes());
    eh.extend_from_slice(&(phnum as u16).to_le_bytes());
    eh.extend_from_slice(&64u16.to_le_bytes());
    eh.extend_from_slice(&(secs.len() as u16).to_le_bytes());
    eh.extend_from_slice(&9u16.to_le_bytes()); // e_shstrndx
    w.write_all(&eh)?;
    // Program headers: one PT_LOAD per section, AT() = VA - LINK + LOAD.
    let ph = |w: &mut BufWriter<File>, flags: u32, off: u64, va: u64, filesz: u64, memsz: u64| {
        let mut p = Vec::with_capacity(56);
        p.extend_from_slice(&1u32.to_le_bytes());
        p.extend_from_slice(&flags.to_le_bytes());
        p.extend_from_slice(&off.to_le_bytes());
        p.extend_from_slice(&va.to_le_bytes());
        p.extend_from_slice(&(va - LINK + LOAD).to_le_bytes());
        p.extend_from_slice(&filesz.to_le_bytes());
        p.extend_from_slice(&memsz.to_le_bytes());
        p.extend_from_slice(&PAGE.to_le_bytes());
        w.write_all(&p)
    };
    ph(&mut w, 5, text_off, text.0, text.1, text.1)?;
    ph(&mut w, 4, rodata_off, rodata.0, rodata.1, rodata.1)?;
    ph(&mut w, 6, data_off, data.0, data.1, data.1)?;
    ph(&mut w, 6, debug_off, bss.0, 0, bss.1)?;
    let pos = w.stream_position()?;
    w.write_all(&vec![0u8; (text_off - pos) as usize])?;
    // Loadable contents, then the debug section: a repeating non-zero
    // pattern, written in 1 MiB chunks.
    let chunk: Vec<u8> = (0..MIB).map(|i| (i * 31 % 251) as u8).collect();
    for _ in 0..(text.1 + rodata.1 + data.1 + debug_size) / MIB {
        w.write_all(&chunk)?;
    }
    // .rela.text: auipc/addi pairs against symbols, PC-relative (clean).
    let nsym = syms.len() as u64;
    for i in 0..nrelocs {
        let off = text.0 + (i * 8) % text.1;
        let sym = 1 + (i * 7919) % nsym;
        let ty: u64 = if i % 2 == 0 { 23 } else { 24 }; // PCREL_HI20 / PCREL_LO12_I
        w.write_all(&off.to_le_bytes())?;
        w.write_all(&((sym << 32) | ty).to_le_bytes())?;
        w.write_all(&0i64.to_le_bytes())?;
    }
    let pos = w.stream_position()?;
    w.write_all(&vec![0u8; (symtab_off - pos) as usize])?;
    w.write_all(&[0u8; 24])?;
    for (name, value, size, info, shndx) in &syms {
        w.write_all(&name.to_le_bytes())?;
        w.write_all(&[*info, 0])?;
        w.write_all(&shndx.to_le_bytes())?;
        w.write_all(&value.to_le_bytes())?;
        w.write_all(&size.to_le_bytes())?;
    }
    w.write_all(&strtab)?;
    w.write_all(&shstrtab)?;
    let pos = w.stream_position()?;
    w.write_all(&vec![0u8; (shoff - pos) as usize])?;
    for s in &secs {
        w.write_all(
            &(if s.name.is_empty() {
                0
            } else {
                name_off(s.name)
            })
            .to_le_bytes(),
        )?;
        w.write_all(&s.sh_type.to_le_bytes())?;
        w.write_all(&s.flags.to_le_bytes())?;
        w.write_all(&s.addr.to_le_bytes())?;
        w.write_all(&s.offset.to_le_bytes())?;
        w.write_all(&s.size.to_le_bytes())?;
        w.write_all(&s.link.to_le_bytes())?;
        w.write_all(&s.info.to_le_bytes())?;
        w.write_all(&s.align.to_le_bytes())?;
        w.write_all(&s.entsize.to_le_bytes())?;
    }
    w.flush()?;
    let len = w.get_ref().metadata()?.len();
    eprintln!(
        "wrote {out}: {} symbols, {nrelocs} relocations, {debug_mib} MiB .debug_info, {:.1} MB",
        syms.len(),
        len as f64 / 1e6
    );
    Ok(())
}
