//! The generated Rust module and C header compile, and the Rust one works
//! in const context (conversions round-trip at compile time).

use crate::support::{assert_success, builds, specs};
use layoutgen::{Output, Templates};
use std::path::Path;

fn render_all(dir: &Path, spec: &str) -> layoutgen::Layout {
    let layout = specs::layout(spec);
    let templates = Templates::new(None).unwrap();
    layoutgen::generate(&layout, &templates, dir, &Output::ALL).unwrap();
    layout
}

const SPECS: [&str; 9] = [
    "qemu-virt-sv39",
    "qemu-virt-multi",
    "qemu-virt-semipic",
    "qemu-virt-in-linear-map",
    "qemu-virt-identity",
    "qemu-virt-bare",
    "qemu-virt-firmware-pie",
    "qemu-virt-multi-onemap",
    "qemu-virt-aarch64",
];

#[test]
fn rust_constants_compile_no_std_and_work_in_const_context() {
    for spec in SPECS {
        let dir = tempfile::tempdir().unwrap();
        let layout = render_all(dir.path(), spec);
        let mut checks = String::new();
        for m in &layout.modes {
            let name = m.mode.name();
            // The identity on the linear map and the image, evaluated by rustc.
            let cap = name[..1].to_uppercase() + &name[1..];
            // The identity on the linear map, when the layout has one.
            let linear = match m.page_offset {
                Some(po) => format!(
                    "assert!(l.virt_to_phys(l.phys_to_virt(layout::RAM_BASE)) == layout::RAM_BASE);
                    assert!(layout::{name}::phys_to_virt(layout::RAM_BASE) == layout::{name}::PAGE_OFFSET);
                    assert!(l.linear_map.contains(l.page_offset));
                    assert!(l.page_offset == {po:#x});"
                ),
                None => String::new(),
            };
            // ... and on the image, evaluated by rustc.
            checks += &format!(
                "const _: () = {{
                    let l = layout::layout_for(layout::PagingMode::{cap}).unwrap();
                    {linear}
                    assert!(layout::kernel_virt_to_phys(layout::IMAGE_LINK_ADDRESS) == layout::LOAD_ADDRESS);
                    assert!(l.image_slot.contains(layout::IMAGE_LINK_ADDRESS));
                    assert!(l.mode.levels() == {levels});
                }};\n",
                levels = m.levels,
            );
        }
        // Where the linear map is at one address in every mode, the
        // conversions exist without a mode, and agree with every mode's.
        if let Some(off) = layoutgen::layout::conversions::common_linear_offset(&layout) {
            checks += &format!(
                "const _: () = {{
                    assert!(layout::LINEAR_OFFSET == {off:#x});
                    assert!(layout::phys_to_virt(layout::RAM_BASE) == layout::PAGE_OFFSET);
                    assert!(layout::virt_to_phys(layout::PAGE_OFFSET) == layout::RAM_BASE);
                }};\n"
            );
            for m in &layout.modes {
                checks += &format!(
                    "const _: () = assert!(layout::{0}::phys_to_virt(0x1234_5000) == layout::phys_to_virt(0x1234_5000));\n",
                    m.mode.name()
                );
            }
        } else {
            // ... and do not exist where it moves: a mode is needed.
            let rs = std::fs::read_to_string(dir.path().join("layout.rs")).unwrap();
            assert!(
                !rs.lines()
                    .any(|l| l.starts_with("pub const fn phys_to_virt")),
                "{spec}: a mode-free phys_to_virt where the linear map moves"
            );
        }
        let lib = format!(
            "#![no_std]\n#![deny(warnings)]\n#[allow(dead_code)]\nmod layout {{ include!(\"layout.rs\"); }}\n{checks}"
        );
        std::fs::write(dir.path().join("lib.rs"), lib).unwrap();
        let out = builds::rustc_metadata(&dir.path().join("lib.rs"), &dir.path().join("out.rmeta"))
            .output()
            .expect("run rustc");
        assert_success(
            &out,
            format!("{spec}: generated layout.rs does not compile"),
        );
    }
}

#[test]
fn c_header_compiles_for_c_and_assembly() {
    for spec in SPECS {
        let dir = tempfile::tempdir().unwrap();
        let layout = render_all(dir.path(), spec);
        let m = &layout.modes[0];
        let mode = m.mode.name().to_uppercase();
        // Without a linear map the header must not define one.
        let linear = match m.page_offset {
            Some(po) => format!(
                "_Static_assert(LAYOUTGEN_{mode}_PAGE_OFFSET == {po:#x}ULL, \"page offset\");\n"
            ),
            None => format!("#ifdef LAYOUTGEN_{mode}_PAGE_OFFSET\n#error no linear map\n#endif\n"),
        };
        let c = format!(
            "#include \"layout.h\"\n{linear}\
             _Static_assert(LAYOUTGEN_LOAD_ADDRESS == {load:#x}ULL, \"load\");\n\
             unsigned long long f(void) {{ return LAYOUTGEN_IMAGE_LINK_ADDRESS; }}\n",
            load = layout.ram.load
        );
        header_compiles_in_c_and_assembly(dir.path(), &c, spec);
    }
}

/// `c` (written as `t.c`) and `builds::HEADER_ASM` (as `t.S`) compile with
/// the `layout.h` in `dir`; a failure names `what` and the language.
#[track_caller]
fn header_compiles_in_c_and_assembly(dir: &Path, c: &str, what: impl std::fmt::Display) {
    std::fs::write(dir.join("t.c"), c).unwrap();
    std::fs::write(dir.join("t.S"), builds::HEADER_ASM).unwrap();
    for (file, lang) in [("t.c", "c"), ("t.S", "assembler-with-cpp")] {
        let out = builds::cc(&dir.join(file), lang)
            .output()
            .expect("cc is needed for this test (gcc is on the CI machine)");
        assert_success(&out, format!("{what}: layout.h fails as {lang}"));
    }
}

/// `LAYOUTGEN_SECTIONS(X)` expands to one `X(...)` per section with both
/// boundary symbols, and stays a well-formed (empty) macro when there is
/// none: a spec where every section dropped its start symbol once left the
/// macro's last backslash continuing into `#endif`.
#[test]
fn section_x_macro_is_well_formed_with_any_number_of_sections() {
    let none = specs::BASE.replace(
        "[[image.section]]\n",
        "[[image.section]]\nstart_symbols = []\n",
    );
    for (spec, expected) in [(specs::BASE.to_string(), 4), (none, 0)] {
        let dir = tempfile::tempdir().unwrap();
        let layout = specs::check_text(&spec, "sections.toml").unwrap();
        let templates = Templates::new(None).unwrap();
        layoutgen::generate(&layout, &templates, dir.path(), &Output::ALL).unwrap();
        let c = format!(
            "#include \"layout.h\"\n\
             #define ONE(id, start, end, r, w, x) + 1\n\
             _Static_assert(0 LAYOUTGEN_SECTIONS(ONE) == {expected}, \"sections\");\n"
        );
        header_compiles_in_c_and_assembly(dir.path(), &c, format!("{expected} sections"));
    }
}
