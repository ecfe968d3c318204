//! Everything address-shaped in this kernel comes from the layout spec:
//! layoutgen writes the linker script and `layout.rs` into OUT_DIR and tells
//! cargo to link with the script. This file only adds the link flags the
//! spec's code model needs.

use layoutgen::spec::{CodeModel, GpPolicy};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(gp_relax)");
    println!("cargo::rustc-check-cfg=cfg(relocatable)");

    let out = layoutgen::Build::new()
        // Relative to this crate's directory, where cargo runs build scripts.
        .spec("../layouts/qemu-virt-sv39.toml")
        .spec_env("LAYOUTGEN_SPEC")
        .compile();
    let layout = &out.layout;

    match layout.gp.policy {
        // The entry code loads gp from `__global_pointer$`.
        GpPolicy::Relax => println!("cargo:rustc-cfg=gp_relax"),
        GpPolicy::Disabled => {}
        GpPolicy::ShadowCallStack => {
            panic!("the sample kernel does not implement a shadow call stack (gp policy)")
        }
    }

    // Keep the static relocations in the ELF (as Linux does for its
    // relocatable builds) so `layoutgen lint` can audit absolute references.
    println!("cargo:rustc-link-arg=--emit-relocs");

    match layout.code_model {
        CodeModel::Fixed => {}
        // "medany pretending to be PIC": the code stays PC-relative; `-pie`
        // makes the linker emit R_RISCV_RELATIVE for every absolute data word
        // (vtables, &'static pointers), `-z notext` accepts them in the
        // non-PIC libcore's read-only data, `--apply-dynamic-relocs` writes
        // the link-time value into each word too (lld leaves zeros
        // otherwise), and `--no-dynamic-linker` drops `.interp`. The kernel
        // applies the relocations itself at boot (src/reloc.rs).
        CodeModel::SemiPic | CodeModel::Pie => {
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
    }
}
