//! Everything address-shaped in this kernel comes from the layout spec.
//! `layoutgen build` wrote the linker script and `layout.rs` into `layout/`
//! ahead of time (committed, like sources); this script only checks them
//! against the spec with the dependency-free `layoutgen-build` crate, which
//! fails the build with the `layoutgen build` command to run when the spec
//! changed, and tells cargo to link with the script. It then adds the link
//! flags of the layout's code model (`pie`: a self-relocating image, cfg
//! `relocatable`), read from the facts in `layout/layout.stamp`.
//!
//! Another layout: `layoutgen build --spec ../layouts/X.toml --out-dir DIR
//! --emit ld,rs`, then `LAYOUTGEN_OUT=DIR cargo build --release`.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(relocatable)");
    println!("cargo:rerun-if-changed=build.rs");

    // Relative to this crate's directory, where cargo runs build scripts.
    let layout = layoutgen_build::Outputs::new("layout")
        .spec("../layouts/qemu-virt-aarch64.toml")
        .dir_env("LAYOUTGEN_OUT")
        .verify();
    let fact = |key: &str| layout.required_fact(key);
    if fact("arch") != "aarch64" {
        panic!(
            "sample-kernel-aarch64 needs an aarch64 layout; {} is {}",
            fact("name"),
            fact("arch")
        );
    }

    // Keep the static relocations in the ELF, as the riscv kernel does, so
    // `layoutgen lint` audits the code's references too.
    println!("cargo:rustc-link-arg=--emit-relocs");

    match fact("code_model") {
        "fixed" => {}
        // The code is PC-relative already (the small code model: `adrp`,
        // `add`, `ldr`); `-pie` turns every absolute data word (vtables,
        // `&'static` pointers) into an R_AARCH64_RELATIVE entry of
        // `.rela.dyn`, `-z notext` accepts those in read-only data,
        // `--apply-dynamic-relocs` writes the link-time value into each word
        // too, and `--no-dynamic-linker` drops `.interp`. The kernel applies
        // the relocations itself at boot (layoutgen-rt's runtime, with
        // Kernel::rela_dyn), for the run address its KASLR chose.
        "pie" => {
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
        other => panic!(
            "sample-kernel-aarch64 implements code_model = \"fixed\" and \"pie\", not \"{other}\" \
             (aarch64 has no semi-PIC model)"
        ),
    }
}
