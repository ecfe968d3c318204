//! Every rule a spec can break, declared once: its stable id (tests, JSON
//! and `docs/spec.md` refer to it), what it means, and, for an invariant of
//! a resolved layout, the function that checks it. Input errors (the spec
//! cannot be understood or turned into outputs) exit 2; invariant
//! violations of a well-formed spec exit 1. Adding an invariant is one entry
//! here plus its function in `regions.rs`, `image.rs`, `code_model.rs` or
//! `machine.rs`.

use super::{Findings, code_model, image, machine, regions};
use crate::layout::Layout;
use serde::Serialize;
use std::fmt;

macro_rules! declare_rules {
    (
        input: $( $(#[doc = $idoc:literal])+ $ivariant:ident = $iid:literal; )+
        invariants: $( $(#[doc = $doc:literal])+ $variant:ident = $id:literal => $check:path; )+
    ) => {
        /// Every rule a spec can break.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Rule {
            $( $(#[doc = $idoc])+ $ivariant, )+
            $( $(#[doc = $doc])+ $variant, )+
        }

        impl Rule {
            pub const ALL: [Rule; [$(stringify!($ivariant),)+ $(stringify!($variant),)+].len()] =
                [$(Rule::$ivariant,)+ $(Rule::$variant,)+];

            pub fn id(self) -> &'static str {
                match self { $(Rule::$ivariant => $iid,)+ $(Rule::$variant => $id,)+ }
            }

            /// One sentence: what the rule asks of a spec.
            pub fn description(self) -> &'static str {
                match self {
                    $(Rule::$ivariant => concat!($($idoc),+).trim_ascii(),)+
                    $(Rule::$variant => concat!($($doc),+).trim_ascii(),)+
                }
            }

            /// Input errors exit 2: the spec cannot be understood or turned
            /// into outputs. Invariant violations of a well-formed spec
            /// (where things are) exit 1.
            pub fn is_input_error(self) -> bool {
                matches!(self, $(Rule::$ivariant)|+)
            }
        }

        /// The invariants, in the order their findings are reported.
        pub(super) const INVARIANTS: &[fn(&Layout, &mut Findings)] = &[$($check),+];
    };
}

declare_rules! {
    input:
    /// TOML syntax, unknown keys, wrong types, bad expressions.
    Syntax = "syntax";
    /// Expressions that cannot be evaluated (unknown reference, cycle, range).
    Resolve = "resolve";
    /// A region missing, duplicated or of the wrong kind for its role.
    Structure = "structure";
    /// Names that reach generated code must be plain identifiers.
    Identifier = "identifier";
    /// The `[lint]` table: known checks, known levels, a reason for each.
    LintConfig = "lint-config";
    invariants:
    /// Addresses canonical in every listed mode.
    Canonical = "canonical" => regions::canonical;
    /// Kernel regions inside the kernel half (user regions inside the user half).
    KernelHalf = "kernel-half" => regions::kernel_half;
    /// Regions do not overlap.
    Overlap = "overlap" => regions::overlap;
    /// No region or value wraps past 2^64.
    Wrap = "wrap" => regions::wrap;
    /// Starts and sizes aligned to what they declare.
    Align = "align" => regions::align;
    /// Mappable with the declared leaf: VA ≡ PA modulo the leaf size.
    Leaf = "leaf" => regions::leaf;
    /// The kernel slot and link address are the same in every mode.
    SlotPerMode = "slot-per-mode" => image::slot_per_mode;
    /// Modules within PC-relative reach (±2 GiB) of the image.
    ModulesReach = "modules-reach" => code_model::modules_reach;
    /// Semi-PIC: nothing in [-2 GiB, +2 GiB).
    SemiPicWindow = "semi-pic-window" => code_model::semi_pic_window;
    /// GP policy consistent with the code model.
    GpPolicy = "gp-policy" => code_model::gp_policy;
    /// KASLR range inside the slot, granule-aligned, relocatable model.
    Kaslr = "kaslr" => code_model::kaslr;
    /// The image (and its sections) fit the slot; RAM holds the image.
    ImageFits = "image-fits" => image::image_fits;
    /// RAM, load address and linear map consistent.
    Ram = "ram" => machine::ram;
    /// No image section is both writable and executable.
    WriteXorExecute = "w-xor-x" => image::write_xor_execute;
    /// Segments: contiguous, start on a mapping boundary; section names and ids unique.
    Segment = "segment" => image::segments;
    /// The load rule: where the image's bytes are physically.
    Load = "load" => image::load;
    /// Sections without file contents (`nobits`) hold only zero-initialised data.
    Nobits = "nobits" => image::nobits;
    /// The physical boot chain: placements inside RAM, apart, PMP ranges naturally aligned.
    BootChain = "boot-chain" => machine::boot_chain;
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}
