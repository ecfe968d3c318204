//! The address/size grammar of a spec value.
//!
//! TOML integers are i64, so `0xffff_ffff_8000_0000` cannot be a TOML integer.
//! Spec values that hold addresses or sizes are therefore strings in a small
//! grammar (or plain non-negative TOML integers):
//!
//! ```text
//! expr  := term (("+" | "-") term)*
//! term  := hex | dec unit? | "top" | "kernel_half" | ref
//! hex   := "0x" hexdigit ("_"? hexdigit)*          (at most 64 bits)
//! dec   := "0" | [1-9] ("_"? digit)*
//! unit  := "KiB" | "MiB" | "GiB" | "TiB" | "PiB"   (binary: 2^10 .. 2^50)
//! ref   := name "." field                          (e.g. "vmalloc.end", "ram.base")
//! ```
//!
//! `top` is 2^64 (the end of the address space), `kernel_half` the first
//! address of the kernel half in the paging mode being resolved. Arithmetic is
//! exact (128-bit), so `top - 2GiB` is `0xffff_ffff_8000_0000`; a result outside
//! `[0, 2^64]` is an error rather than a silent wrap. Decimal units such as `MB`,
//! bare suffixes (`2M`), leading zeros (`010`) and a leading sign are rejected as
//! ambiguous.

use std::fmt;

/// One operand of an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    Number(u128),
    /// 2^64, one past the last address.
    Top,
    /// First address of the kernel (upper) half in the mode being resolved.
    KernelHalf,
    /// `object.field`, e.g. `vmalloc.end` or `ram.base`.
    Ref {
        object: String,
        field: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    Plus,
    Minus,
}

/// A parsed expression: a signed sum of terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr {
    pub terms: Vec<(Sign, Term)>,
}

/// A grammar error, with the byte offset inside the expression text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

pub const TOP: u128 = 1 << 64;

const UNITS: [(&str, u32); 5] = [
    ("KiB", 10),
    ("MiB", 20),
    ("GiB", 30),
    ("TiB", 40),
    ("PiB", 50),
];

/// Longest expression text accepted; specs are hand-written, so a longer
/// string is a mistake (and bounding it keeps parsing linear and cheap).
const MAX_EXPR_LEN: usize = 256;

impl Expr {
    pub fn parse(text: &str) -> Result<Expr, ExprError> {
        if text.len() > MAX_EXPR_LEN {
            return Err(ExprError {
                offset: 0,
                message: format!("expression is longer than {MAX_EXPR_LEN} characters"),
            });
        }
        let bytes = text.as_bytes();
        let mut pos = 0;
        let mut terms = Vec::new();
        let mut sign = Sign::Plus;
        let mut expect_term = true;
        loop {
            while pos < bytes.len() && bytes[pos] == b' ' {
                pos += 1;
            }
            if pos >= bytes.len() {
                break;
            }
            let c = bytes[pos];
            if expect_term {
                if c == b'+' || c == b'-' {
                    return Err(ExprError {
                        offset: pos,
                        message: if terms.is_empty() {
                            "a leading sign is ambiguous: write `top - 2GiB` for an address \
                             below the end of the address space"
                                .into()
                        } else {
                            "two operators in a row".into()
                        },
                    });
                }
                let start = pos;
                while pos < bytes.len() && !matches!(bytes[pos], b' ' | b'+' | b'-') {
                    pos += 1;
                }
                let term = parse_term(&text[start..pos], start)?;
                terms.push((sign, term));
                expect_term = false;
            } else {
                sign = match c {
                    b'+' => Sign::Plus,
                    b'-' => Sign::Minus,
                    _ => {
                        return Err(ExprError {
                            offset: pos,
                            message: "expected `+` or `-` between terms (units follow the number directly, as in `2MiB`)".into(),
                        });
                    }
                };
                pos += 1;
                expect_term = true;
            }
        }
        if terms.is_empty() {
            return Err(ExprError {
                offset: 0,
                message: "empty expression".into(),
            });
        }
        if expect_term {
            return Err(ExprError {
                offset: text.len(),
                message: "expression ends with an operator".into(),
            });
        }
        Ok(Expr { terms })
    }

    /// Evaluates with `lookup` resolving `top`, `kernel_half` and references.
    /// Intermediate results are exact; only the caller decides the valid range.
    pub fn eval<E>(&self, mut lookup: impl FnMut(&Term) -> Result<u128, E>) -> Result<i128, E> {
        let mut acc: i128 = 0;
        for (sign, term) in &self.terms {
            let v = lookup(term)? as i128;
            // Terms are at most 2^64 and expressions at most 256 characters
            // (< 128 terms), so i128 cannot overflow here.
            acc = match sign {
                Sign::Plus => acc + v,
                Sign::Minus => acc - v,
            };
        }
        Ok(acc)
    }

    /// The references (`object.field`) this expression reads.
    pub fn refs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.terms.iter().filter_map(|(_, t)| match t {
            Term::Ref { object, field } => Some((object.as_str(), field.as_str())),
            _ => None,
        })
    }
}

/// Parses a plain size such as `2GiB` or `0x8000_0000` (no references),
/// for command-line arguments.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let expr = Expr::parse(text).map_err(|e| e.message)?;
    let value = expr.eval(|t| match t {
        Term::Number(n) => Ok(*n),
        _ => Err(format!(
            "`{text}`: only numbers are allowed here, e.g. 2GiB"
        )),
    })?;
    u64::try_from(value).map_err(|_| format!("`{text}` is not a size in [0, 2^64)"))
}

fn err(offset: usize, message: impl Into<String>) -> ExprError {
    ExprError {
        offset,
        message: message.into(),
    }
}

fn parse_term(tok: &str, offset: usize) -> Result<Term, ExprError> {
    match tok {
        "top" => return Ok(Term::Top),
        "kernel_half" => return Ok(Term::KernelHalf),
        _ => {}
    }
    let first = tok.as_bytes()[0];
    if first.is_ascii_digit() {
        return parse_number(tok, offset).map(Term::Number);
    }
    if let Some((object, field)) = tok.split_once('.')
        && is_identifier(object)
        && is_identifier(field)
    {
        return Ok(Term::Ref {
            object: object.into(),
            field: field.into(),
        });
    }
    Err(err(
        offset,
        format!(
            "`{tok}` is not a number, `top`, `kernel_half` or a reference such as `vmalloc.end`"
        ),
    ))
}

fn parse_number(tok: &str, offset: usize) -> Result<u128, ExprError> {
    if let Some(hex) = tok.strip_prefix("0x") {
        let digits = digits_with_separators(hex, 16).map_err(|m| err(offset, m))?;
        if digits.len() > 16 {
            return Err(err(offset, format!("`{tok}` does not fit in 64 bits")));
        }
        return u128::from_str_radix(&digits, 16)
            .map_err(|_| err(offset, format!("`{tok}` is not a hex number")));
    }
    if tok.starts_with("0X") {
        return Err(err(
            offset,
            "write hex numbers with a lower-case `0x` prefix",
        ));
    }
    let split = tok
        .find(|c: char| !(c.is_ascii_digit() || c == '_'))
        .unwrap_or(tok.len());
    let (num, unit) = tok.split_at(split);
    let digits = digits_with_separators(num, 10).map_err(|m| err(offset, m))?;
    if digits.len() > 1 && digits.starts_with('0') {
        return Err(err(
            offset,
            format!("`{tok}`: a leading zero is ambiguous (octal?); write `0x..` for hex"),
        ));
    }
    if digits.len() > 20 {
        return Err(err(offset, format!("`{tok}` does not fit in 64 bits")));
    }
    let value: u128 = digits
        .parse()
        .map_err(|_| err(offset, format!("`{tok}` is not a number")))?;
    let shift = if unit.is_empty() {
        0
    } else if let Some((_, shift)) = UNITS.iter().find(|(name, _)| *name == unit) {
        *shift
    } else {
        return Err(err(offset + split, unit_hint(unit)));
    };
    let scaled = value << shift;
    if scaled > TOP {
        return Err(err(offset, format!("`{tok}` is larger than 2^64")));
    }
    Ok(scaled)
}

/// Strips `_` separators, rejecting leading, trailing or doubled ones.
fn digits_with_separators(s: &str, radix: u32) -> Result<String, String> {
    if s.is_empty() {
        return Err("a number needs at least one digit".into());
    }
    if s.starts_with('_') || s.ends_with('_') || s.contains("__") {
        return Err(format!(
            "`{s}`: `_` may only separate digits (one at a time)"
        ));
    }
    let digits: String = s.chars().filter(|&c| c != '_').collect();
    if let Some(bad) = digits.chars().find(|c| !c.is_digit(radix)) {
        return Err(format!("`{bad}` is not a base-{radix} digit"));
    }
    Ok(digits)
}

fn unit_hint(unit: &str) -> String {
    let binary = match unit.to_ascii_lowercase().trim_end_matches('b') {
        "k" | "ki" => Some("KiB"),
        "m" | "mi" => Some("MiB"),
        "g" | "gi" => Some("GiB"),
        "t" | "ti" => Some("TiB"),
        "p" | "pi" => Some("PiB"),
        _ => None,
    };
    match binary {
        Some(b) => format!(
            "unit `{unit}` is ambiguous (decimal or binary?): write `{b}` (units are binary, 2^10 steps)"
        ),
        None => format!("unknown unit `{unit}`: use KiB, MiB, GiB, TiB or PiB"),
    }
}

pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> i128 {
        Expr::parse(text)
            .unwrap()
            .eval(|t| match t {
                Term::Number(n) => Ok::<_, ()>(*n),
                Term::Top => Ok(TOP),
                Term::KernelHalf => Ok(TOP - (1 << 38)),
                Term::Ref { .. } => Ok(0x1000),
            })
            .unwrap()
    }

    fn error(text: &str) -> String {
        Expr::parse(text).unwrap_err().message
    }

    #[test]
    fn parses_hex_with_separators() {
        assert_eq!(value("0xffff_ffff_8000_0000"), 0xffff_ffff_8000_0000);
        assert_eq!(value("0x8020_0000"), 0x8020_0000);
    }

    #[test]
    fn parses_units_as_binary() {
        assert_eq!(value("4KiB"), 4096);
        assert_eq!(value("2MiB"), 2 << 20);
        assert_eq!(value("3GiB"), 3 << 30);
        assert_eq!(value("1_024"), 1024);
    }

    #[test]
    fn top_relative_addresses() {
        assert_eq!(value("top - 2GiB"), 0xffff_ffff_8000_0000);
        assert_eq!(value("kernel_half"), 0xffff_ffc0_0000_0000);
        assert_eq!(value("top-4GiB+0x10"), 0xffff_ffff_0000_0010);
        assert_eq!(value("vmalloc.end - 1MiB"), 0x1000 - (1 << 20));
    }

    #[test]
    fn rejects_decimal_units() {
        assert!(error("2MB").contains("write `MiB`"), "{}", error("2MB"));
        assert!(error("2M").contains("write `MiB`"));
        assert!(error("2gb").contains("write `GiB`"));
        assert!(error("2 MiB").contains("units follow the number directly"));
    }

    #[test]
    fn rejects_ambiguous_forms() {
        for (text, says) in [
            ("-2GiB", "leading sign"),
            ("010", "leading zero"),
            ("0X10", "lower-case"),
            ("0x", "at least one digit"),
            ("0x_10", "separate digits"),
            ("1__0", "separate digits"),
            ("0x1_0000_0000_0000_0000", "64 bits"),
            ("top -", "ends with an operator"),
            ("top + - 1", "two operators"),
            ("", "empty"),
            ("Vmalloc.end", "not a number"),
            ("16385PiB", "larger than 2^64"),
        ] {
            let e = error(text);
            assert!(e.contains(says), "{text:?}: {e}");
        }
    }

    #[test]
    fn collects_references() {
        let e = Expr::parse("kernel.start - 2GiB + image.end").unwrap();
        let refs: Vec<_> = e.refs().collect();
        assert_eq!(refs, vec![("kernel", "start"), ("image", "end")]);
    }
}
