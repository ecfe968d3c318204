//! How layoutgen writes numbers in its JSON documents (`layout.json`,
//! `show --format json`, `diff --format json`).
//!
//! The rule: a value that is an address, a size, an alignment or an offset
//! is a lower-case hex string (`"0xffffffff80000000"`); a count (bits,
//! levels, slots, pages, the satp mode number) is a plain JSON number.
//! Most JSON readers (jq 1.6, JavaScript, Python with `parse_int=float`)
//! hold numbers as IEEE doubles, exact only up to 2^53, while kernel
//! addresses are near 2^64: `0xffffffff80000000` as a number reads back as
//! 18446744071562068000.
//!
//! The helpers below are `#[serde(serialize_with = ...)]` functions for the
//! u64 fields of the resolved layout. Templates see the same structs through
//! minijinja, where the numbers must stay numbers (filters like `hex` take a
//! u64), so when minijinja is the serializer they write the plain number.

use serde::Serializer;
use serde::ser::SerializeSeq;

/// The `format_version` of every JSON document above. Bumped when a field is
/// renamed, removed or changes type; adding a field does not bump it.
/// Version 1: addresses, sizes, alignments and offsets became hex strings.
pub const FORMAT_VERSION: u32 = 1;

pub use crate::format::hex;

fn for_templates() -> bool {
    minijinja::value::serializing_for_value()
}

/// An address, size, alignment or offset.
pub fn hex_u64<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    if for_templates() {
        s.serialize_u64(*v)
    } else {
        s.serialize_str(&hex(*v))
    }
}

/// An end that may be 2^64 (an exclusive end at the top of the address
/// space), as a hex string.
pub fn hex_u128<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{v:#x}"))
}

/// An optional address, size, alignment or offset (`null` when absent).
pub fn hex_opt_u64<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => hex_u64(v, s),
        None => s.serialize_none(),
    }
}

/// `(size, count)` pairs, such as page-table leaves per leaf size:
/// `[["0x1000", 3], ["0x200000", 80]]`.
pub fn hex_size_counts<S: Serializer>(v: &[(u64, u64)], s: S) -> Result<S::Ok, S::Error> {
    if for_templates() {
        return s.collect_seq(v);
    }
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for &(size, count) in v {
        seq.serialize_element(&(hex(size), count))?;
    }
    seq.end()
}

#[cfg(test)]
mod tests {
    use serde::Serialize;

    #[derive(Serialize)]
    struct Sample {
        #[serde(serialize_with = "super::hex_u64")]
        addr: u64,
        #[serde(serialize_with = "super::hex_opt_u64")]
        some: Option<u64>,
        #[serde(serialize_with = "super::hex_opt_u64")]
        none: Option<u64>,
        #[serde(serialize_with = "super::hex_size_counts")]
        leaves: Vec<(u64, u64)>,
        count: u64,
    }

    fn sample() -> Sample {
        Sample {
            addr: 0xffff_ffff_8000_0000,
            some: Some(0x20_0000),
            none: None,
            leaves: vec![(0x1000, 3)],
            count: 7,
        }
    }

    #[test]
    fn json_gets_hex_strings_and_counts_stay_numbers() {
        assert_eq!(
            serde_json::to_string(&sample()).unwrap(),
            r#"{"addr":"0xffffffff80000000","some":"0x200000","none":null,"leaves":[["0x1000",3]],"count":7}"#
        );
    }

    #[test]
    fn templates_get_numbers() {
        let v = minijinja::Value::from(minijinja::value::Serde(sample()));
        let env = minijinja::Environment::new();
        let out = env
            .render_str(
                "{{ v.addr }} {{ v.some }} {{ v.none }} {{ v.leaves[0][0] + 1 }}",
                minijinja::context! { v },
            )
            .unwrap();
        assert_eq!(out, "18446744071562067968 2097152 None 4097");
    }
}
