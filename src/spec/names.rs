//! The name rules: what a name in a spec may be, what it becomes in each
//! generated output, and which names are reserved because a generated item
//! or the spec grammar already uses them. One table, read by the resolver's
//! checks and rendered into docs/spec.md (a test keeps the two equal).

/// A name in the spec, and where it ends up.
pub struct NameRule {
    /// The spec key family (`region.NAME`).
    pub key: &'static str,
    /// What the name may be.
    pub grammar: &'static str,
    /// What it becomes in the generated outputs.
    pub becomes: &'static str,
}

pub const NAME_RULES: [NameRule; 7] = [
    NameRule {
        key: "`name`",
        grammar: "lower-case letters, digits, `-`, `_`; at most 64",
        becomes: "file headers and comments; `LAYOUT_NAME`",
    },
    NameRule {
        key: "`region.NAME`",
        grammar: "`[a-z_][a-z0-9_]*`, at most 64",
        becomes: "Rust `sv39::NAME` (upper-case const), C `LAYOUTGEN_SV39_NAME_START/_SIZE/_LAST`, linker script `__layoutgen_NAME_start/_last`, spec references `NAME.start`",
    },
    NameRule {
        key: "`image.section.name`",
        grammar: "letters, digits, `_ . $ -`, starting with `.` or `_`, with a letter or digit, at most 128",
        becomes: "the output section in the linker script; `SECTIONS[i].name` in Rust",
    },
    NameRule {
        key: "`image.section.id`",
        grammar: "`[a-z_][a-z0-9_]*`, at most 64; default derived from `name`",
        becomes: "default boundary symbols `__ID_start/_end`; `SECTIONS[i].id`; spec keys `image.section.ID`",
    },
    NameRule {
        key: "`image.section.segment`",
        grammar: "`[a-z_][a-z0-9_]*`",
        becomes: "comments in the linker script; `SECTIONS[i].segment`",
    },
    NameRule {
        key: "boundary and insert symbols, `image.entry`",
        grammar: "C identifiers `[A-Za-z_][A-Za-z0-9_]*`, at most 128; not a linker-script keyword; each defined once",
        becomes: "symbols the linker script defines (`NAME = .;`), `ENTRY(NAME)`",
    },
    NameRule {
        key: "`image.section.input` patterns",
        grammar: "letters, digits, `_ . $ * -`; not a linker-script keyword",
        becomes: "input-section patterns `*(PATTERN)`",
    },
];

/// Region names a generated item or the spec grammar already uses, and why.
pub const RESERVED_REGION_NAMES: [(&str, &str); 10] = [
    ("_", "the Rust const `_` is not a name"),
    ("layout", "the Rust const `LAYOUT` of each mode module"),
    ("regions", "the Rust const `REGIONS` of each mode module"),
    (
        "page_offset",
        "the Rust const `PAGE_OFFSET` of each mode module",
    ),
    (
        "linear_offset",
        "the Rust const `LINEAR_OFFSET` of each mode module",
    ),
    ("kaslr", "the C macros `LAYOUTGEN_<MODE>_KASLR_START`"),
    ("ram", "the spec references `ram.base`, `ram.end`, …"),
    (
        "image",
        "the spec references `image.start`, `image.end`, … and the linker symbol `__layoutgen_image_start`",
    ),
    ("top", "the spec grammar's `top` (2^64)"),
    ("kernel_half", "the spec grammar's `kernel_half`"),
];

/// Symbols the generated linker script defines itself; a spec may not
/// define them again. `__layoutgen_` is a reserved prefix.
pub const SCRIPT_SYMBOLS: [&str; 5] = [
    "__global_pointer$",
    "__stack_bottom",
    "__stack_top",
    "__rela_dyn_start",
    "__rela_dyn_end",
];

/// Prefix of the linker script's private symbols.
pub const PRIVATE_PREFIX: &str = "__layoutgen_";

/// GNU ld / lld linker-script keywords: as a symbol or an input pattern
/// they would be read as the command, not as the name.
pub const SCRIPT_KEYWORDS: [&str; 76] = [
    "ABSOLUTE",
    "ADDR",
    "ALIGN",
    "ALIGNOF",
    "ALIGN_WITH_INPUT",
    "AS_NEEDED",
    "ASSERT",
    "AT",
    "BLOCK",
    "BYTE",
    "CONSTANT",
    "COPY",
    "CREATE_OBJECT_SYMBOLS",
    "DATA_SEGMENT_ALIGN",
    "DATA_SEGMENT_END",
    "DATA_SEGMENT_RELRO_END",
    "DEFINED",
    "DISCARD",
    "DSECT",
    "ENTRY",
    "EXCLUDE_FILE",
    "EXTERN",
    "FILL",
    "FLOAT",
    "FORCE_COMMON_ALLOCATION",
    "GROUP",
    "HIDDEN",
    "INCLUDE",
    "INFO",
    "INHIBIT_COMMON_ALLOCATION",
    "INPUT",
    "INPUT_SECTION_FLAGS",
    "INSERT",
    "KEEP",
    "LD_FEATURE",
    "LENGTH",
    "LOADADDR",
    "LOG2CEIL",
    "LONG",
    "MAP",
    "MAX",
    "MEMORY",
    "MIN",
    "NEXT",
    "NOCROSSREFS",
    "NOCROSSREFS_TO",
    "NOFLOAT",
    "NOLOAD",
    "ONLY_IF_RO",
    "ONLY_IF_RW",
    "ORIGIN",
    "OUTPUT",
    "OUTPUT_ARCH",
    "OUTPUT_FORMAT",
    "OVERLAY",
    "OVERWRITE",
    "PROVIDE",
    "PROVIDE_HIDDEN",
    "QUAD",
    "REGION_ALIAS",
    "SEARCH_DIR",
    "SECTIONS",
    "SEGMENT_START",
    "SHORT",
    "SIZEOF",
    "SIZEOF_HEADERS",
    "SORT",
    "SORT_BY_ALIGNMENT",
    "SORT_BY_INIT_PRIORITY",
    "SORT_BY_NAME",
    "SORT_NONE",
    "SQUAD",
    "STARTUP",
    "SUBALIGN",
    "TARGET",
    "VERSION",
];

/// Output sections the linker makes itself or the generated script
/// discards: a spec section of that name fights the linker.
pub const RESERVED_SECTION_NAMES: [&str; 9] = [
    ".symtab",
    ".strtab",
    ".shstrtab",
    ".symtab_shndx",
    ".comment",
    ".eh_frame",
    ".eh_frame_hdr",
    ".interp",
    ".riscv.attributes",
];

/// Sections the linker fills itself after the script's inputs (GOT and
/// PLT entries): a symbol at their end would not be their end.
pub const LINKER_FILLED_SECTIONS: [&str; 3] = [".got", ".got.plt", ".plt"];

/// Sections the linker synthesizes for a dynamic (PIE) link; a relocatable
/// image's generated script places them itself.
pub const DYNAMIC_SECTIONS: [&str; 11] = [
    ".dynamic",
    ".dynsym",
    ".dynstr",
    ".hash",
    ".gnu.hash",
    ".got",
    ".got.plt",
    ".plt",
    ".rela.dyn",
    ".relr.dyn",
    ".rel.dyn",
];

/// Why `name` cannot be an output section of the image, if it cannot.
pub fn reserved_section_name(name: &str) -> Option<&'static str> {
    if RESERVED_SECTION_NAMES.contains(&name) || name.starts_with(".debug") {
        Some(
            "a section the linker writes itself (symbol table, notes, debug info) or the generated script discards",
        )
    } else {
        None
    }
}

/// Why `name` cannot be a region name, if it cannot.
pub fn reserved_region_name(name: &str) -> Option<&'static str> {
    RESERVED_REGION_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, why)| *why)
}

pub fn is_script_keyword(name: &str) -> bool {
    SCRIPT_KEYWORDS.contains(&name)
}

/// The name rules and reserved names as the Markdown docs/spec.md shows.
pub fn markdown() -> String {
    let mut out = String::from("| name | may be | becomes |\n|---|---|---|\n");
    for r in &NAME_RULES {
        out += &format!("| {} | {} | {} |\n", r.key, r.grammar, r.becomes);
    }
    out += "\nReserved region names:\n\n| name | already used by |\n|---|---|\n";
    for (n, why) in RESERVED_REGION_NAMES {
        out += &format!("| `{n}` | {why} |\n");
    }
    out += &format!(
        "\nSymbols the generated script defines itself (no spec symbol may repeat them): {}, and every name starting with `{PRIVATE_PREFIX}`.\n",
        SCRIPT_SYMBOLS.map(|s| format!("`{s}`")).join(", ")
    );
    out += &format!(
        "\nReserved output-section names (the linker writes them itself, or the script discards them): {}, and `.debug*`.\n",
        RESERVED_SECTION_NAMES.map(|s| format!("`{s}`")).join(", ")
    );
    out += &format!(
        "\nLinker-script keywords, refused as symbols and input patterns: {}.\n",
        SCRIPT_KEYWORDS.map(|s| format!("`{s}`")).join(", ")
    );
    out
}
