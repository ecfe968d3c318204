//! Everything address-shaped in this kernel comes from the layout spec:
//! layoutgen writes the linker script and `layout.rs` into OUT_DIR and tells
//! cargo to link with the script. This file only checks that the spec is one
//! this kernel implements.

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

    if layout.code_model != CodeModel::Fixed {
        panic!(
            "sample-kernel-aarch64 implements code_model = \"fixed\" only (no self-relocation); \
             the spec says {:?}",
            layout.code_model
        );
    }

    // Keep the static relocations in the ELF, as the riscv kernel does, for
    // `layoutgen lint` (which reads riscv64 ELF files only so far).
    println!("cargo:rustc-link-arg=--emit-relocs");
}
