//! The layout spec as written: TOML deserialized into typed structs that keep
//! the byte span of every value, so later stages can point at the source.
//! No logic beyond syntax lives here; see `layout` for resolution.

pub mod expr;
pub mod names;
pub mod validate;

use crate::arch::PagingMode;
use crate::diag::{Diagnostic, Label, Rule};
use expr::Expr;
use indexmap::IndexMap;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Range;
use toml::Spanned;

pub type Span = Range<usize>;

/// A whole spec file.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Short identifier; it reaches generated comments and file headers.
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: String,
    #[cfg_attr(feature = "schema", schemars(with = "Arch"))]
    pub arch: Spanned<Arch>,
    /// Paging modes the one image must run under.
    #[cfg_attr(feature = "schema", schemars(with = "Vec<PagingMode>"))]
    pub modes: Spanned<Vec<Spanned<PagingMode>>>,
    #[cfg_attr(feature = "schema", schemars(with = "CodeModel"))]
    pub code_model: Spanned<CodeModel>,
    pub ram: RamSpec,
    pub image: ImageSpec,
    #[serde(default)]
    pub gp: GpSpec,
    #[cfg_attr(feature = "schema", schemars(with = "Option<KaslrSpec>"))]
    pub kaslr: Option<Spanned<KaslrSpec>>,
    /// The physical boot chain: what shares RAM with the kernel.
    #[serde(default)]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "std::collections::BTreeMap<String, PlacementSpec>")
    )]
    pub boot: IndexMap<Spanned<String>, Spanned<PlacementSpec>>,
    /// The kernel's module loader: what a `.ko` may ask of it.
    #[cfg_attr(feature = "schema", schemars(with = "Option<ModuleLoaderSpec>"))]
    pub module_loader: Option<Spanned<ModuleLoaderSpec>>,
    /// Regions by name, in declaration order.
    #[serde(default)]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "std::collections::BTreeMap<String, RegionSpec>")
    )]
    pub region: IndexMap<Spanned<String>, Spanned<RegionSpec>>,
    /// `layoutgen lint` levels per check, keyed by id (`LG006`) or name
    /// (`segment-write-execute`): `{ level = "warn", reason = "..." }`.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "crate::schema::LintTable"))]
    pub lint: IndexMap<Spanned<String>, Spanned<LintSpec>>,
}

/// One `[lint.<check>]` entry. The level is kept as text (and checked when
/// the layout is resolved) so an unknown level is reported with its key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintSpec {
    /// `allow`, `warn` or `deny`.
    pub level: Option<Spanned<String>>,
    /// Why the check is configured; required and non-empty.
    pub reason: Option<Spanned<String>>,
}

pub use crate::arch::Arch;

/// How the image's code addresses itself, which decides where it may run.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CodeModel {
    /// medany code linked and run at one fixed virtual address.
    Fixed,
    /// medany code that may run at any granule-aligned offset inside its slot:
    /// "pretending medany is PIC" (needs no symbol in [-2 GiB, +2 GiB)).
    SemiPic,
    /// Position-independent executable with dynamic relocations.
    Pie,
}

impl CodeModel {
    pub fn is_relocatable(self) -> bool {
        !matches!(self, CodeModel::Fixed)
    }
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RamSpec {
    /// Physical address of the first byte of RAM.
    pub base: Value,
    /// Smallest RAM the image must boot with (the image must fit in it).
    pub min_size: Value,
    /// Largest RAM the linear map must cover.
    pub max_size: Value,
    /// Physical address the loader places the image at.
    pub load: Value,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageSpec {
    /// Name of the region the image is linked into (a `kernel` region, or the
    /// `linear_map` itself for the in-linear-map design).
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub slot: Spanned<String>,
    /// Link (virtual) address of the first byte; default: the slot's start.
    pub link: Option<Value>,
    /// Load address (ELF p_paddr) of the first byte; default `ram.load`.
    pub lma: Option<Value>,
    /// The physical address is chosen at boot, at any multiple of this
    /// inside RAM; without it the image runs at its load address.
    pub phys_align: Option<Value>,
    /// The end-of-image symbols are the last section's end rounded up to
    /// this; default `section_align`.
    pub end_align: Option<Value>,
    /// Symbols at the image's first byte; default `["__image_start"]`.
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<String>>"))]
    pub start_symbols: Option<Vec<Spanned<String>>>,
    /// Symbols at the image's end; default `["__image_end"]`.
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<String>>"))]
    pub end_symbols: Option<Vec<Spanned<String>>>,
    /// Upper bound of the image's size, checked at link time.
    pub max_size: Value,
    /// Alignment of each section start (Linux `SECTION_ALIGN`): the page size
    /// the image is mapped with, so W^X boundaries need no smaller pages.
    pub section_align: Value,
    #[serde(default = "default_stack_size")]
    pub stack_size: Value,
    /// The read-only part of the image (its start to its first writable
    /// section) is one NAPOT PMP range: a naturally aligned power of two
    /// (OpenSBI's `[_fw_start, _fw_rw_start)`).
    #[serde(default)]
    pub pmp_read_only: bool,
    /// Percent of `max_size` above which `lint` warns (LG029): the size
    /// budget a pull request should hear about before the link fails.
    #[cfg_attr(feature = "schema", schemars(with = "Option<u8>"))]
    pub budget: Option<Spanned<u8>>,
    #[serde(default = "default_entry")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub entry: Spanned<String>,
    /// Where the loader jumps: the image's first byte (the default) or the
    /// ELF header's `e_entry`.
    #[cfg_attr(feature = "schema", schemars(with = "Option<EntryAt>"))]
    pub entry_at: Option<Spanned<EntryAt>>,
    /// The boot code's own relocator (Linux: relocate_kernel()).
    #[cfg_attr(feature = "schema", schemars(with = "Option<RelocatorSpec>"))]
    pub relocator: Option<Spanned<RelocatorSpec>>,
    /// Output sections in link order.
    #[cfg_attr(feature = "schema", schemars(with = "Vec<SectionSpec>"))]
    pub section: Vec<Spanned<SectionSpec>>,
}

/// What the kernel's boot code does with the image's dynamic relocations.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelocatorSpec {
    /// Relocation types it applies (`R_RISCV_RELATIVE`); `R_RISCV_NONE` is
    /// always a no-op, every other type is left as linked.
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>"))]
    pub types: Vec<Spanned<String>>,
    /// Entries whose addend is below `image.link` are written without the
    /// load offset (Linux: vDSO symbol offsets).
    #[serde(default)]
    pub unmoved_below_link: bool,
}

/// What lives in a `[boot.NAME]` range.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlacementKind {
    Firmware,
    Fdt,
    Initrd,
    Reserved,
}

/// One range of the physical boot chain (`[boot.NAME]`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementSpec {
    #[cfg_attr(feature = "schema", schemars(with = "PlacementKind"))]
    pub kind: Spanned<PlacementKind>,
    pub start: Value,
    pub size: Value,
    /// Protected by one NAPOT PMP entry: a naturally aligned power of two.
    #[serde(default)]
    pub pmp: bool,
    #[serde(default)]
    pub description: String,
}

/// What the kernel's module loader applies (Linux riscv64:
/// `arch/riscv/kernel/module.c`, `reloc_handlers`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleLoaderSpec {
    /// Relocation types it applies; any other type in a module is refused
    /// at load time ("Unknown relocation type").
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>"))]
    pub types: Vec<Spanned<String>>,
}

fn default_stack_size() -> Value {
    Value::number(64 << 10)
}

fn default_entry() -> Spanned<String> {
    Spanned::new(0..0, "_start".into())
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionSpec {
    /// The ELF output section's name, exactly (`.text`, `.data..percpu`).
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub name: Spanned<String>,
    /// The identifier in generated code; default: derived from `name`.
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub id: Option<Spanned<String>>,
    /// The segment (permission group) the section belongs to; default: its id.
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub segment: Option<Spanned<String>>,
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub perms: Spanned<String>,
    /// Input-section patterns, in order; default `NAME` and `NAME.*`.
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<String>>"))]
    pub input: Option<Spanned<Vec<Spanned<String>>>>,
    /// Alignment of the section start; default `image.section_align` for a
    /// segment's first section, none for the others.
    pub align: Option<Value>,
    pub max_size: Option<Value>,
    /// Percent of `max_size` above which `lint` warns (LG029).
    #[cfg_attr(feature = "schema", schemars(with = "Option<u8>"))]
    pub budget: Option<Spanned<u8>>,
    /// Occupies no file space (like `.bss`); default: true for `.bss`, `.sbss`.
    pub nobits: Option<bool>,
    /// May be absent from a linked ELF (configuration-dependent).
    #[serde(default)]
    pub optional: bool,
    /// The Kconfig options (`CONFIG_GENERIC_BUG`) that bring an optional
    /// section into the kernel's linker script, any one of them; default:
    /// none (documentation: the script names the section in every
    /// configuration, its inputs decide whether it is linked).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>"))]
    pub config: Vec<Spanned<String>>,
    /// Symbols at the section's start; default `["__ID_start"]`.
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<String>>"))]
    pub start_symbols: Option<Vec<Spanned<String>>>,
    /// Symbols at the section's end; default `["__ID_end"]`.
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<String>>"))]
    pub end_symbols: Option<Vec<Spanned<String>>>,
    /// Input sections placed at an aligned spot of exact size at the end of
    /// the section's inputs (xv6's `trampsec`).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<InsertSpec>"))]
    pub insert: Vec<Spanned<InsertSpec>>,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InsertSpec {
    /// Input-section patterns to place there.
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>"))]
    pub input: Vec<Spanned<String>>,
    /// Alignment of the spot.
    pub align: Value,
    /// The exact size the spot occupies; its inputs must fit.
    pub size: Value,
    /// Symbol defined at the spot's start.
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub symbol: Spanned<String>,
}

impl SectionSpec {
    /// The identifier generated code uses: `id`, or one derived from `name`.
    pub fn id(&self) -> String {
        match &self.id {
            Some(id) => id.get_ref().clone(),
            None => derive_id(self.name.get_ref()),
        }
    }
}

/// `.head.text` → `head_text`, `.data..percpu` → `data_percpu`,
/// `__ksymtab` → `ksymtab`: lower-case, runs of anything else become one `_`,
/// no leading or trailing `_`. May come out empty or start with a digit;
/// the identifier check then asks for an explicit `id`.
pub fn derive_id(name: &str) -> String {
    let mut id = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.is_empty() && !id.ends_with('_') {
            id.push('_');
        }
    }
    while id.ends_with('_') {
        id.pop();
    }
    id
}

/// Where the loader starts the image (`image.entry_at`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum EntryAt {
    /// At the image's first byte (OpenSBI, QEMU -bios, booti): the entry
    /// symbol must be there.
    #[default]
    ImageStart,
    /// At the ELF header's `e_entry` (QEMU -kernel with an ELF, multiboot).
    ElfEntry,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum GpPolicy {
    /// The linker may relax accesses within ±2 KiB of `__global_pointer$`
    /// into gp-relative form; startup code must load gp PC-relatively.
    #[default]
    Relax,
    /// No gp relaxation; no `__global_pointer$` is defined.
    Disabled,
    /// gp holds the shadow call stack pointer, so relaxation must be off.
    ShadowCallStack,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpSpec {
    #[serde(default = "default_gp_policy")]
    #[cfg_attr(feature = "schema", schemars(with = "GpPolicy"))]
    pub policy: Spanned<GpPolicy>,
    /// Output section whose start `__global_pointer$` is placed relative to.
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub section: Option<Spanned<String>>,
    /// `__global_pointer$ = section start + offset` (Linux: 0x800).
    pub offset: Option<Value>,
}

impl Default for GpSpec {
    fn default() -> Self {
        GpSpec {
            policy: default_gp_policy(),
            section: None,
            offset: None,
        }
    }
}

fn default_gp_policy() -> Spanned<GpPolicy> {
    Spanned::new(0..0, GpPolicy::Relax)
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KaslrSpec {
    /// Lowest run-time address of the image.
    pub start: Value,
    /// One past the highest run-time address of the image's last byte.
    pub end: Value,
    /// The image moves in steps of this size.
    pub granule: Value,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionSpec {
    /// Default: the region's name when that is a known kind, else `custom`.
    #[cfg_attr(feature = "schema", schemars(with = "Option<RegionKind>"))]
    pub kind: Option<Spanned<RegionKind>>,
    /// Two of `start`, `size` and `end` (exclusive) place the region.
    pub start: Option<Value>,
    pub size: Option<Value>,
    pub end: Option<Value>,
    #[serde(default = "default_align")]
    pub align: Value,
    /// Largest leaf page the region is mapped with.
    pub leaf: Option<Value>,
    #[serde(default)]
    pub description: String,
    /// Modes the region exists in; default: all of the spec's modes.
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<PagingMode>>"))]
    pub modes: Option<Spanned<Vec<Spanned<PagingMode>>>>,
    /// The half of the address space it lives in; default `lower` for kind
    /// `user`, `upper` otherwise.
    #[cfg_attr(feature = "schema", schemars(with = "Option<Half>"))]
    pub half: Option<Spanned<Half>>,
}

/// A half of a paging mode's address space.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Half {
    /// From 0: user space, or an identity-mapped/lower-half kernel.
    Lower,
    /// The kernel half, up to 2^64.
    Upper,
}

fn default_align() -> Value {
    Value::number(4096)
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionKind {
    LinearMap,
    Vmalloc,
    Vmemmap,
    PciIo,
    Fixmap,
    Modules,
    Kernel,
    Kasan,
    User,
    Custom,
}

impl RegionKind {
    pub fn from_name(name: &str) -> RegionKind {
        match name {
            "linear_map" => RegionKind::LinearMap,
            "vmalloc" => RegionKind::Vmalloc,
            "vmemmap" => RegionKind::Vmemmap,
            "pci_io" => RegionKind::PciIo,
            "fixmap" => RegionKind::Fixmap,
            "modules" => RegionKind::Modules,
            "kernel" => RegionKind::Kernel,
            "kasan" => RegionKind::Kasan,
            "user" => RegionKind::User,
            _ => RegionKind::Custom,
        }
    }
}

/// An address or size: one expression, or one per paging mode
/// (`{ sv39 = "...", sv48 = "..." }`).
#[derive(Debug, Clone)]
pub struct Value {
    pub span: Span,
    pub exprs: ModeExprs,
}

#[derive(Debug, Clone)]
pub enum ModeExprs {
    Same(Expr),
    PerMode(Vec<(PagingMode, Span, Expr)>),
}

impl Value {
    pub fn number(n: u64) -> Value {
        Value {
            span: 0..0,
            exprs: ModeExprs::Same(Expr {
                terms: vec![(expr::Sign::Plus, expr::Term::Number(n as u128))],
            }),
        }
    }

    /// The expression for `mode` and its span, or `None` when a per-mode
    /// value does not list that mode.
    pub fn for_mode(&self, mode: PagingMode) -> Option<(&Expr, &Span)> {
        match &self.exprs {
            ModeExprs::Same(e) => Some((e, &self.span)),
            ModeExprs::PerMode(entries) => entries
                .iter()
                .find(|(m, _, _)| *m == mode)
                .map(|(_, span, e)| (e, span)),
        }
    }

    pub fn is_per_mode(&self) -> bool {
        matches!(self.exprs, ModeExprs::PerMode(_))
    }
}

/// One expression, written as a string in the grammar or a non-negative integer.
struct ExprValue(Expr);

struct ExprVisitor;

impl<'de> Visitor<'de> for ExprVisitor {
    type Value = ExprValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an address or size: a string such as \"0xffff_ffff_8000_0000\", \"2MiB\" or \"top - 2GiB\", or a non-negative integer")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<ExprValue, E> {
        Expr::parse(s)
            .map(ExprValue)
            .map_err(|e| E::custom(format!("in \"{s}\": {e}")))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<ExprValue, E> {
        if n < 0 {
            return Err(E::custom(
                "negative integers are not addresses: write \"top - N\" for an address below the end of the address space",
            ));
        }
        self.visit_u64(n as u64)
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<ExprValue, E> {
        Ok(ExprValue(Value::number(n).exprs_same()))
    }
}

impl Value {
    fn exprs_same(self) -> Expr {
        match self.exprs {
            ModeExprs::Same(e) => e,
            ModeExprs::PerMode(_) => unreachable!("Value::number is never per-mode"),
        }
    }
}

impl<'de> Deserialize<'de> for ExprValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ExprVisitor)
    }
}

struct ModeExprsVisitor;

impl<'de> Visitor<'de> for ModeExprsVisitor {
    type Value = ModeExprs;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an address or size (a string, an integer, or a table keyed by paging mode such as { sv39 = \"...\", sv48 = \"...\" })")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<ModeExprs, E> {
        ExprVisitor.visit_str(s).map(|e| ModeExprs::Same(e.0))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<ModeExprs, E> {
        ExprVisitor.visit_i64(n).map(|e| ModeExprs::Same(e.0))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<ModeExprs, E> {
        ExprVisitor.visit_u64(n).map(|e| ModeExprs::Same(e.0))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ModeExprs, A::Error> {
        let mut entries: Vec<(PagingMode, Span, Expr)> = Vec::new();
        while let Some(mode) = map.next_key::<PagingMode>()? {
            let value: Spanned<ExprValue> = map.next_value()?;
            if entries.iter().any(|(m, _, _)| *m == mode) {
                return Err(de::Error::custom(format!("mode `{mode}` is listed twice")));
            }
            let span = value.span();
            entries.push((mode, span, value.into_inner().0));
        }
        if entries.is_empty() {
            return Err(de::Error::custom(
                "a per-mode table needs at least one mode",
            ));
        }
        Ok(ModeExprs::PerMode(entries))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Inner(ModeExprs);
        impl<'de> Deserialize<'de> for Inner {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(ModeExprsVisitor).map(Inner)
            }
        }
        let spanned = Spanned::<Inner>::deserialize(d)?;
        Ok(Value {
            span: spanned.span(),
            exprs: spanned.into_inner().0,
        })
    }
}

/// Largest spec file accepted. Real specs are a few KiB; the bound keeps a
/// wrong path (a disk image, a vmlinux) from being parsed as TOML.
pub const MAX_SPEC_BYTES: usize = 1 << 20;

/// Parses spec text. Syntax errors come back as one diagnostic with a span.
pub fn parse(text: &str) -> Result<Spec, Diagnostic> {
    if text.len() > MAX_SPEC_BYTES {
        return Err(Diagnostic::new(
            Rule::Syntax,
            format!("spec is larger than {} KiB", MAX_SPEC_BYTES >> 10),
        )
        .help("a layout spec is a small TOML file; check the path"));
    }
    toml::from_str::<Spec>(text).map_err(|e| {
        let mut message = e.message().trim_end().to_string();
        if let Some(span) = e.span()
            && message == "duplicate key"
        {
            // Name the key and the table it is repeated in.
            let key = text.get(span.clone()).unwrap_or("").trim();
            let table = enclosing_table(text, span.start);
            message = format!("duplicate key `{key}` in {table}");
        }
        // serde names the Rust type it wanted; say what the spec wants.
        let mut help = "see docs/spec.md for every key, its type and an example".to_string();
        if let Some((wanted, example)) = STRUCT_WORDING
            .iter()
            .find(|(name, _)| message.ends_with(&format!("expected struct {name}")))
            .map(|(_, w)| *w)
        {
            let cut = message.rfind("expected struct").expect("found above");
            message = format!("{}expected {wanted}", &message[..cut]);
            help = format!("write it as {example} (docs/spec.md)");
        }
        let mut d = Diagnostic::new(Rule::Syntax, message);
        if let Some(span) = e.span() {
            d = d.label(Label::primary("", span, "here"));
        }
        d.help(help)
    })
}

/// What each spec struct is, in the spec's words, and how to write one:
/// for the messages of values of the wrong type.
const STRUCT_WORDING: [(&str, (&str, &str)); 12] = [
    (
        "PlacementSpec",
        (
            "a `[boot.NAME]` table",
            "`[boot.fdt]` with `kind`, `start`, `size`",
        ),
    ),
    (
        "ModuleLoaderSpec",
        (
            "the table `[module_loader]`",
            "`[module_loader]` with `types = [\"R_RISCV_64\", ...]`",
        ),
    ),
    (
        "Spec",
        (
            "a TOML document of tables",
            "`name = \"...\"`, `[ram]`, `[image]`, `[region.NAME]`",
        ),
    ),
    (
        "LintSpec",
        (
            "a table with `level` and `reason`",
            "`LG006 = { level = \"allow\", reason = \"why\" }`",
        ),
    ),
    (
        "RamSpec",
        (
            "the table `[ram]`",
            "`[ram]` with `base`, `min_size`, `max_size`, `load`",
        ),
    ),
    (
        "ImageSpec",
        (
            "the table `[image]`",
            "`[image]` with `slot`, `link`, `max_size`, `section_align`",
        ),
    ),
    (
        "RelocatorSpec",
        (
            "the table `[image.relocator]`",
            "`[image.relocator]` with `types = [\"R_RISCV_RELATIVE\"]`",
        ),
    ),
    (
        "SectionSpec",
        (
            "a section table",
            "`[[image.section]]` with `name` and `perms`",
        ),
    ),
    (
        "InsertSpec",
        (
            "an insert table",
            "`[[image.section.insert]]` with `input`, `align`, `size`, `symbol`",
        ),
    ),
    (
        "GpSpec",
        (
            "the table `[gp]`",
            "`[gp]` with `policy = \"relax\"` or `\"disabled\"`",
        ),
    ),
    (
        "KaslrSpec",
        (
            "the table `[kaslr]`",
            "`[kaslr]` with `start`, `end`, `granule`",
        ),
    ),
    (
        "RegionSpec",
        (
            "a region table",
            "`[region.NAME]` with two of `start`, `size`, `end`",
        ),
    ),
];

/// The `[table]` header a byte offset lies under (`the top level` if none).
fn enclosing_table(text: &str, offset: usize) -> String {
    text.get(..offset)
        .unwrap_or("")
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.split('#').next().unwrap_or(l).trim().to_string())
        .unwrap_or_else(|| "the top level".into())
}

impl Spec {
    /// Every value of the spec with its dotted key, and whether it may
    /// differ per paging mode (region placement, the link address and
    /// KASLR may).
    pub fn values(&self) -> Vec<(String, &Value, bool)> {
        let spec = self;
        let mut v: Vec<(String, &Value, bool)> = vec![
            ("ram.base".into(), &spec.ram.base, false),
            ("ram.min_size".into(), &spec.ram.min_size, false),
            ("ram.max_size".into(), &spec.ram.max_size, false),
            ("ram.load".into(), &spec.ram.load, false),
            ("image.max_size".into(), &spec.image.max_size, false),
            (
                "image.section_align".into(),
                &spec.image.section_align,
                false,
            ),
            ("image.stack_size".into(), &spec.image.stack_size, false),
        ];
        let im = &spec.image;
        let optional = [
            ("image.link", &im.link, true),
            ("image.lma", &im.lma, false),
            ("image.phys_align", &im.phys_align, false),
            ("image.end_align", &im.end_align, false),
            ("gp.offset", &spec.gp.offset, false),
        ];
        for (key, value, per_mode) in optional {
            if let Some(value) = value {
                v.push((key.into(), value, per_mode));
            }
        }
        for s in &im.section {
            let sec = s.get_ref();
            let id = sec.id();
            for (field, value) in [("align", &sec.align), ("max_size", &sec.max_size)] {
                if let Some(value) = value {
                    v.push((format!("image.section.{id}.{field}"), value, false));
                }
            }
            for (n, ins) in sec.insert.iter().enumerate() {
                let ins = ins.get_ref();
                v.push((
                    format!("image.section.{id}.insert.{n}.align"),
                    &ins.align,
                    false,
                ));
                v.push((
                    format!("image.section.{id}.insert.{n}.size"),
                    &ins.size,
                    false,
                ));
            }
        }
        if let Some(k) = &spec.kaslr {
            let k = k.get_ref();
            v.push(("kaslr.start".into(), &k.start, true));
            v.push(("kaslr.end".into(), &k.end, true));
            v.push(("kaslr.granule".into(), &k.granule, true));
        }
        for (name, r) in &spec.region {
            let r = r.get_ref();
            let name = name.get_ref();
            for (field, value) in [
                ("start", &r.start),
                ("size", &r.size),
                ("end", &r.end),
                ("leaf", &r.leaf),
            ] {
                if let Some(value) = value {
                    v.push((format!("region.{name}.{field}"), value, true));
                }
            }
            v.push((format!("region.{name}.align"), &r.align, true));
        }
        v
    }
}
