//! The physical boot chain against the real artifacts (`check --artifact
//! NAME=FILE`, docs/spec.md "[boot.NAME]"): each file's *memory* footprint
//! (a kernel Image's header `image_size`, an ELF's PT_LOAD extent, a device
//! tree's `totalsize`, else the length) must fit the range the spec gives
//! it; a file size is never taken for a kernel's footprint (opensbi#291).

use crate::diag::{Diagnostic, Label, Rule};
use crate::format::human_size;
use crate::layout::Layout;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Why an artifact could not be measured (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("artifact {name}={path}: {problem}")]
pub struct ArtifactError {
    pub name: String,
    pub path: PathBuf,
    pub problem: String,
}

/// A file's memory footprint and how it was measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footprint {
    pub bytes: u64,
    /// `image_size in its header`, `PT_LOAD extent`, `totalsize`, `length`.
    pub how: &'static str,
    pub file_len: u64,
}

/// Measures the artifact at `path`; `kernel` refuses a raw file whose
/// footprint cannot be told (its length is not its memory size).
pub fn footprint(path: &Path, kernel: bool) -> Result<Footprint, String> {
    let mut file = crate::files::open_regular(path).map_err(|e| e.to_string())?;
    let file_len = file.metadata().map_err(|e| e.to_string())?.len();
    let mut head = vec![0u8; 4096.min(file_len as usize)];
    file.read_exact(&mut head).map_err(|e| e.to_string())?;
    let le64 = |b: &[u8], at: usize| {
        b.get(at..at + 8)
            .map(|s| u64::from_le_bytes(s.try_into().unwrap()))
    };
    let le32 = |b: &[u8], at: usize| {
        b.get(at..at + 4)
            .map(|s| u32::from_le_bytes(s.try_into().unwrap()))
    };
    let le16 = |b: &[u8], at: usize| {
        b.get(at..at + 2)
            .map(|s| u16::from_le_bytes(s.try_into().unwrap()))
    };
    // Linux's riscv64 ("RSC\x05") and arm64 ("ARM\x64") Image headers both
    // keep the in-memory size at offset 16.
    if matches!(head.get(56..60), Some(b"RSC\x05") | Some(b"ARM\x64")) {
        let bytes = le64(&head, 16).ok_or("truncated Image header")?;
        return Ok(Footprint {
            bytes,
            how: "image_size in its header",
            file_len,
        });
    }
    if head.starts_with(b"\x7fELF") {
        if head.get(4) != Some(&2) || head.get(5) != Some(&1) {
            return Err("not a 64-bit little-endian ELF".into());
        }
        let phoff = le64(&head, 0x20).ok_or("truncated ELF header")?;
        let phentsize = le16(&head, 0x36).ok_or("truncated ELF header")? as u64;
        let phnum = le16(&head, 0x38).ok_or("truncated ELF header")? as u64;
        if phentsize < 56 || phnum == 0 {
            return Err("an ELF without program headers has no memory footprint".into());
        }
        let mut table = vec![0u8; (phentsize * phnum) as usize];
        file.seek(SeekFrom::Start(phoff))
            .and_then(|_| file.read_exact(&mut table))
            .map_err(|e| format!("program headers: {e}"))?;
        let (mut lo, mut hi) = (u128::MAX, 0u128);
        for ph in table.chunks(phentsize as usize) {
            if le32(ph, 0) == Some(1) {
                let (paddr, memsz) = (le64(ph, 0x18).unwrap_or(0), le64(ph, 0x28).unwrap_or(0));
                lo = lo.min(paddr as u128);
                hi = hi.max(paddr as u128 + memsz as u128);
            }
        }
        if hi <= lo {
            return Err("an ELF without a PT_LOAD has no memory footprint".into());
        }
        let bytes = u64::try_from(hi - lo).map_err(|_| "PT_LOADs span more than 2^64")?;
        return Ok(Footprint {
            bytes,
            how: "PT_LOAD extent",
            file_len,
        });
    }
    if head.starts_with(&[0xd0, 0x0d, 0xfe, 0xed]) {
        let total = head.get(4..8).ok_or("truncated device tree header")?;
        let bytes = u32::from_be_bytes(total.try_into().unwrap()) as u64;
        return Ok(Footprint {
            bytes,
            how: "totalsize in its header",
            file_len,
        });
    }
    if kernel {
        return Err("neither an ELF nor an Image with a header: its memory footprint (with .bss) cannot be told from its length; pass the ELF or the Image".into());
    }
    Ok(Footprint {
        bytes: file_len,
        how: "length",
        file_len,
    })
}

/// Each `(name, file)` against its range: `kernel` against
/// `[ram.load, ram.load + image.max_size)`, any other name against the
/// `[boot.NAME]` it names. A footprint past its range is a diagnostic that
/// says what it runs into.
pub fn check_artifacts(
    layout: &Layout,
    artifacts: &[(String, PathBuf)],
) -> Result<Vec<Diagnostic>, ArtifactError> {
    let ranges: Vec<(String, String, u128, u128)> = std::iter::once((
        "the kernel image".to_string(),
        "image.max_size".to_string(),
        layout.ram.load as u128,
        layout.ram.load as u128 + layout.image.max_size as u128,
    ))
    .chain(layout.boot.iter().map(|p| {
        (
            format!("`{}`", p.name),
            format!("boot.{}.size", p.name),
            p.start as u128,
            p.end(),
        )
    }))
    .collect();
    let mut out = Vec::new();
    for (name, path) in artifacts {
        let err = |problem: String| ArtifactError {
            name: name.clone(),
            path: path.clone(),
            problem,
        };
        let index = if name == "kernel" {
            0
        } else {
            1 + layout
                .boot
                .iter()
                .position(|p| &p.name == name)
                .ok_or_else(|| {
                    let names: Vec<&str> = layout.boot.iter().map(|p| p.name.as_str()).collect();
                    err(format!(
                        "no [boot.{name}] in the spec (artifacts are `kernel` or one of: {})",
                        names.join(", ")
                    ))
                })?
        };
        let fp = footprint(path, name == "kernel").map_err(err)?;
        let (what, key, start, end) = &ranges[index];
        let fp_end = start + fp.bytes as u128;
        if fp_end <= *end {
            continue;
        }
        let into: Vec<String> = ranges
            .iter()
            .enumerate()
            .filter(|(i, (_, _, s, e))| *i != index && *s < fp_end && start < e)
            .map(|(_, (w, _, s, _))| format!("{w} at {s:#x}"))
            .collect();
        out.push(
            Diagnostic::new(
                Rule::BootChain,
                format!(
                    "{name} ({}) needs {} ({}; the file is {}): [{start:#x}, {fp_end:#x}) is past {what} [{start:#x}, {end:#x}){}",
                    crate::format::printable(&path.display().to_string()),
                    human_size(fp.bytes as u128),
                    fp.how,
                    human_size(fp.file_len as u128),
                    if into.is_empty() {
                        String::new()
                    } else {
                        format!(" and runs into {}", into.join(", "))
                    }
                ),
            )
            .label(Label::primary(key.clone(), layout.origins.span(key), "too small for the artifact"))
            .help(format!(
                "raise {key} to at least {} and move what follows, or shrink the artifact",
                human_size(fp.bytes as u128)
            )),
        );
    }
    Ok(out)
}
