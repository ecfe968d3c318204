//! Everything address-shaped in this kernel comes from the layout spec:
//! layoutgen writes the linker script and `layout.rs` into OUT_DIR and tells
//! cargo to link with the script. This file only checks that the spec is one
//! this kernel implements and adds the link flags of its code model (`pie`:
//! a self-relocating image, cfg `relocatable`).

use layoutgen::spec::CodeModel;

fn main() {
    // The shared FDT reader (sample-kernel/src/fdt.rs) is cfg(bare)-aware.
    println!("cargo::rustc-check-cfg=cfg(bare)");
    println!("cargo:rerun-if-changed=build.rs");

    let out = layoutgen::Build::new()
        // Relative to this crate's directory, where cargo runs build scripts.
        .spec("../layouts/qemu-virt-aarch64.toml")
        .spec_env("LAYOUTGEN_SPEC")
        .compile();
    let layout = &out.layout;

    println!("cargo::rustc-check-cfg=cfg(relocatable)");
    // Keep the static relocations in the ELF, as the riscv kernel does, so
    // `layoutgen lint` audits the code's references too.
    println!("cargo:rustc-link-arg=--emit-relocs");

    match layout.code_model {
        CodeModel::Fixed => {}
        // The code is PC-relative already (the small code model: `adrp`,
        // `add`, `ldr`); `-pie` turns every absolute data word (vtables,
        // `&'static` pointers) into an R_AARCH64_RELATIVE entry of
        // `.rela.dyn`, `-z notext` accepts those in read-only data,
        // `--apply-dynamic-relocs` writes the link-time value into each word
        // too, and `--no-dynamic-linker` drops `.interp`. The kernel applies
        // the relocations itself at boot (src/reloc.rs), for the run address
        // its KASLR chose.
        CodeModel::Pie => {
            println!("cargo:rustc-cfg=relocatable");
            for arg in [
                "-pie",
                "-znotext",
                "--apply-dynamic-relocs",
                "--no-dynamic-linker",
            ] {
                println!("cargo:rustc-link-arg={arg}");
            }
        }
        CodeModel::SemiPic => panic!(
            "sample-kernel-aarch64 implements code_model = \"fixed\" and \"pie\" \
             (aarch64 has no semi-PIC model)"
        ),
    }
}
