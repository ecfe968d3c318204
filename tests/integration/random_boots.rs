//! "check says ok" means "it runs": random specs in the family the sample
//! kernel is written for (paged riscv64 with the four sections `text`,
//! `rodata`, `data`, `bss`), varied in everything else the spec decides,
//! are checked, and every accepted one is built into `sample-kernel/` and
//! booted under QEMU. The kernel's self-checks must pass, and what it
//! reports (mode, page offset, link and run address, RAM, page-table
//! pages and leaves) must agree with the spec and with layoutgen's
//! prediction, as for the bundled layouts in `sample_kernel.rs`.
//!
//! What varies: the paging modes and the one the kernel is told to use,
//! the code model (fixed, semi-PIC, PIE; KASLR for the relocatable ones),
//! the global-pointer policy, the load address, the link address inside
//! its slot (and the slot's place), the output section names, whether
//! `.data` and `.bss` share a segment, the segment alignment (4 KiB or
//! 2 MiB, relocatable images too), the stack size, the linear map's
//! start, size and leaf, and an optional vmalloc region. What does not:
//! QEMU `virt`'s RAM base, and the four section ids the kernel's checks
//! name (`layoutgen_rt::image::SECTION_IDS`).

use crate::adversarial_builds::Rng;
use crate::support::qemu;
use crate::support::specs::check_text;
use crate::support::{proptest_cases, root, sample_kernels};
use layoutgen::units::MIB;
use std::process::Command;
use std::time::Duration;

/// A random spec the riscv sample kernel is written for, from `seed`, and
/// the mode to ask the kernel for (`mode=` on its command line).
fn bootable_riscv_spec(seed: u64) -> (String, &'static str) {
    let mut rng = Rng(seed | 1);
    let all = ["sv39", "sv48", "sv57"];
    let mut modes: Vec<&str> = all.iter().copied().filter(|_| rng.chance(50)).collect();
    if modes.is_empty() {
        modes.push(all[rng.below(3)]);
    }
    let run_mode = modes[rng.below(modes.len())];
    let model = ["fixed", "semi-pic", "pie"][rng.below(3)];
    let relocatable = model != "fixed";
    let load_mib = [2u64, 4, 6, 32][rng.below(4)];
    let max_gib = [1u64, 4, 16][rng.below(3)];
    let name = |rng: &mut Rng, id: &str| {
        if rng.chance(50) {
            format!(".{id}")
        } else {
            format!(".k{id}")
        }
    };
    let (text, rodata, data, bss) = (
        name(&mut rng, "text"),
        name(&mut rng, "rodata"),
        name(&mut rng, "data"),
        name(&mut rng, "bss"),
    );
    let shared_rw = rng.chance(50);
    let segment = |s: &mut String| {
        if shared_rw {
            s.push_str("segment = \"rw\"\n");
        }
    };
    let mut s = format!(
        "name = \"random-{seed:016x}\"\narch = \"riscv64\"\nmodes = {modes:?}\ncode_model = \"{model}\"\n\n\
         [ram]\nbase = \"0x8000_0000\"\nmin_size = \"128MiB\"\nmax_size = \"{max_gib}GiB\"\n\
         load = \"ram.base + {load_mib}MiB\"\n\n"
    );
    let link = match rng.below(3) {
        0 => "kernel.start + ram.load - ram.base".to_string(),
        n => format!("kernel.start + {}MiB", [0, 64][n - 1]),
    };
    s += &format!(
        "[image]\nslot = \"kernel\"\nlink = \"{link}\"\nmax_size = \"32MiB\"\nsection_align = \"{}\"\n\
         stack_size = \"{}\"\nentry = \"_start\"\n",
        ["4KiB", "2MiB"][rng.below(2)],
        ["16KiB", "64KiB", "256KiB"][rng.below(3)]
    );
    s += &format!(
        "\n[[image.section]]\nname = \"{text}\"\nid = \"text\"\nperms = \"rx\"\ninput = [\".text.entry\", \".text\", \".text.*\"]\n\
         \n[[image.section]]\nname = \"{rodata}\"\nid = \"rodata\"\nperms = \"r\"\ninput = [\".rodata\", \".rodata.*\"]\n\
         \n[[image.section]]\nname = \"{data}\"\nid = \"data\"\nperms = \"rw\"\ninput = [\".data\", \".data.*\"]\n"
    );
    segment(&mut s);
    s += &format!(
        "\n[[image.section]]\nname = \"{bss}\"\nid = \"bss\"\nperms = \"rw\"\ninput = [\".bss\", \".bss.*\"]\nnobits = true\n"
    );
    segment(&mut s);
    if model != "pie" && rng.chance(50) {
        s += &format!("\n[gp]\npolicy = \"relax\"\nsection = \"{data}\"\n");
    } else {
        s += "\n[gp]\npolicy = \"disabled\"\n";
    }
    // The linear map in the lower part of the kernel half (sv39's is only
    // 256 GiB), leaves of 1 GiB or 2 MiB.
    let (leaf, lm_start) = (
        ["1GiB", "2MiB"][rng.below(2)],
        ["kernel_half", "kernel_half + 32GiB"][rng.below(2)],
    );
    s += &format!(
        "\n[region.linear_map]\nstart = \"{lm_start}\"\nsize = \"{}\"\nalign = \"1GiB\"\nleaf = \"{leaf}\"\n",
        ["ram.max_size", "64GiB"][rng.below(2)]
    );
    if relocatable {
        // A 1 GiB slot high in the kernel half (below the top 2 GiB, as
        // the semi-PIC layout), KASLR over all of it.
        s += "\n[region.kernel]\nstart = \"kernel_half + 192GiB\"\nsize = \"1GiB\"\nalign = \"2MiB\"\nleaf = \"2MiB\"\n\
              \n[kaslr]\nstart = \"kernel.start\"\nend = \"kernel.end\"\ngranule = \"2MiB\"\n\
              \n[region.modules]\nstart = \"kernel.end - 2GiB\"\nend = \"kernel.start\"\n";
    } else {
        let slot = ["top - 2GiB", "top - 4GiB"][rng.below(2)];
        s += &format!(
            "\n[region.kernel]\nstart = \"{slot}\"\nsize = \"2GiB\"\nalign = \"2MiB\"\nleaf = \"2MiB\"\n\
             \n[region.modules]\nstart = \"kernel.start - 1GiB\"\nend = \"kernel.start\"\n"
        );
    }
    if rng.chance(50) {
        s += "\n[region.vmalloc]\nstart = \"kernel_half + 128GiB\"\nsize = \"32GiB\"\nalign = \"2MiB\"\n";
    }
    (s, run_mode)
}

/// How many accepted specs to boot: `PROPTEST_CASES` raises it; each one
/// is a `layoutgen build`, a kernel build and a boot (a few seconds).
fn boot_cases() -> u32 {
    proptest_cases(6)
}

#[test]
fn accepted_random_specs_boot_the_riscv_sample_kernel() {
    let dir = root().join("target").join("random-boots");
    std::fs::create_dir_all(&dir).unwrap();
    let mut booted = Vec::new();
    let mut rejected = Vec::new();
    // Fixed seeds: CI boots the same specs every time.
    let mut seed = 0x5eed_0000_u64;
    while booted.len() < boot_cases() as usize {
        seed = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(1);
        assert!(
            rejected.len() < 10 * boot_cases() as usize,
            "check rejects nearly every spec of the family; the first rejections:\n{}",
            rejected[..5].join("\n")
        );
        let (text, mode) = bootable_riscv_spec(seed);
        let layout = match check_text(&text, "random.toml") {
            Ok(l) => l,
            Err(d) => {
                rejected.push(format!("{}: {}", d[0].rule, d[0].message));
                continue;
            }
        };
        let spec = dir.join(format!("random-{seed:016x}.toml"));
        std::fs::write(&spec, &text).unwrap();
        let elf = sample_kernels::riscv_spec(&spec, &format!("random-{seed:016x}"));
        let ram = 256 * MIB;
        let mut cmd = Command::new("qemu-system-riscv64");
        cmd.args(["-machine", "virt", "-nographic", "-bios", "default"])
            .arg("-kernel")
            .arg(&elf)
            .args(["-append", &format!("mode={mode}")])
            .args(["-m", &format!("{}M", ram / MIB)]);
        let b = qemu::run(cmd, Duration::from_secs(20), "sample-kernel:");
        let summary = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            sample_kernels::assert_riscv_boot_agrees(&layout, &b, ram)
        }))
        .unwrap_or_else(|_| {
            panic!(
                "check accepts {}, but the kernel built from it fails:\n{text}",
                spec.display()
            )
        });
        assert_eq!(summary.str("mode"), mode, "{}", b.context());
        booted.push(seed);
    }
    eprintln!(
        "booted {} accepted random specs ({} rejected by check on the way)",
        booted.len(),
        rejected.len()
    );
}
