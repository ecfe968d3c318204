//! `layoutgen show --format markdown|rst|svg`: golden text, well-formed SVG
//! for every bundled layout, and the committed pictures in `docs/` kept in
//! step with the renderer (`UPDATE_DOCS=1 cargo test --test integration
//! show_formats::` rewrites them).

use crate::support::cli::{layoutgen, ok_stdout};
use crate::support::{assert_snapshot, committed_file_is_current, root, specs};

/// The pictures the README embeds: (file, the layout it draws, the modes
/// it shows; none: all).
const DOC_PICTURES: [(&str, &str, &[&str]); 3] = [
    ("docs/layout-qemu-virt-sv39.svg", "qemu-virt-sv39", &[]),
    ("docs/layout-qemu-virt-multi.svg", "qemu-virt-multi", &[]),
    // The physical boot chain next to one mode's virtual map.
    (
        "docs/layout-linux-riscv64-boot.svg",
        "linux-riscv64",
        &["sv39"],
    ),
];

#[test]
fn committed_pictures_are_current() {
    let mut stale = Vec::new();
    for (file, layout, modes) in DOC_PICTURES {
        let spec = format!("layouts/{layout}.toml");
        let mut args = vec![
            "show",
            "--spec",
            &spec,
            "--format",
            "svg",
            "--ram",
            "2GiB",
            "--device-pages",
            "1",
        ];
        for mode in modes {
            args.extend(["--mode", mode]);
        }
        let fresh = ok_stdout(&args);
        if !committed_file_is_current(&root().join(file), &fresh) {
            stale.push(file);
        }
    }
    assert!(
        stale.is_empty(),
        "{stale:?} differ from what `layoutgen show --format svg` draws now; \
         run UPDATE_DOCS=1 cargo test --test integration show_formats:: and look at them"
    );
}

#[test]
fn readme_embeds_the_pictures() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for (file, _, _) in DOC_PICTURES {
        assert!(
            readme.contains(&format!("]({file})")),
            "README.md does not embed {file}"
        );
    }
}

/// Every text element of the picture, in document order.
fn svg_texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn every_bundled_layout_draws_a_well_formed_picture_with_every_region() {
    for spec in specs::bundled() {
        let spec_arg = spec.to_str().unwrap();
        let svg = ok_stdout(&[
            "show", "--spec", spec_arg, "--format", "svg", "--ram", "1GiB",
        ]);
        let texts = svg_texts(&svg);
        let layout = layoutgen::load(&spec, &Default::default()).unwrap();
        for mode in &layout.modes {
            assert!(
                texts.iter().any(|t| t == mode.mode.name()),
                "{}: no column for {}",
                spec.display(),
                mode.mode
            );
            for region in &mode.regions {
                assert!(
                    texts.iter().any(|t| t == &region.name),
                    "{}: region {} not labelled in {}",
                    spec.display(),
                    region.name,
                    mode.mode
                );
            }
        }
        assert!(
            texts.iter().any(|t| t == "page tables for 1 GiB of RAM"),
            "{}: no page-table cost",
            spec.display()
        );
        // Nothing that depends on where the spec lives.
        assert!(
            !svg.contains(root().to_str().unwrap()),
            "{}",
            spec.display()
        );
    }
}

#[test]
fn svg_labels_boundaries_sizes_and_the_image() {
    let svg = ok_stdout(&["show", "--format", "svg"]);
    let texts = svg_texts(&svg);
    for want in [
        "2^64 (top)",
        "0xffff_ffff_8000_0000",
        "0xffff_ffd6_0000_0000",
        "128 GiB",
        "6 MiB",
        "▸ image at 0xffff_ffff_8020_0000",
        "PAGE_OFFSET 0xffff_ffd6_0000_0000",
    ] {
        assert!(texts.iter().any(|t| t == want), "no {want:?} in {texts:?}");
    }
    assert!(!texts.iter().any(|t| t.starts_with("page tables")));
}

#[test]
fn svg_is_deterministic_and_escapes_spec_text() {
    let dir = tempfile::tempdir().unwrap();
    let spec = specs::write_edited(
        dir.path(),
        "qemu-virt-sv39",
        "description = \"fixmap\"",
        "description = \"fixmap <temporary> & \\\"early\\\" mappings\"",
    );
    let args = ["show", "--spec", spec.to_str().unwrap(), "--format", "svg"];
    let a = ok_stdout(&args);
    assert_eq!(a, ok_stdout(&args));
    // The band shows what fits; its tooltip has the whole description.
    let doc = roxmltree::Document::parse(&a).expect("well-formed SVG");
    let titles: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("title"))
        .filter_map(|n| n.text())
        .collect();
    assert!(
        titles
            .iter()
            .any(|t| t.ends_with(": fixmap <temporary> & \"early\" mappings")),
        "{titles:?}"
    );
    let texts = svg_texts(&a);
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("fixmap <temporary> & \"early")),
        "{texts:?}"
    );
    assert!(!a.contains(dir.path().to_str().unwrap()));
}

#[test]
fn markdown_matches_snapshot() {
    let md = ok_stdout(&[
        "show",
        "--spec",
        "layouts/qemu-virt-multi.toml",
        "--format",
        "markdown",
        "--ram",
        "2GiB",
        "--device-pages",
        "1",
    ]);
    assert_snapshot!("qemu-virt-multi.md", md);
}

#[test]
fn markdown_tables_have_five_cells_per_row() {
    for spec in specs::bundled() {
        let md = ok_stdout(&[
            "show",
            "--spec",
            spec.to_str().unwrap(),
            "--format",
            "markdown",
        ]);
        let mut rows = 0;
        for line in md.lines().filter(|l| l.starts_with('|')) {
            // Cells are separated by `|` that is not escaped.
            let mut cells = 0;
            let mut prev = ' ';
            for c in line.chars() {
                if c == '|' && prev != '\\' {
                    cells += 1;
                }
                prev = c;
            }
            assert_eq!(cells, 6, "{}: {line}", spec.display());
            rows += 1;
        }
        assert!(rows > 3, "{}: {md}", spec.display());
    }
}

#[test]
fn rst_matches_snapshot() {
    let rst = ok_stdout(&[
        "show",
        "--spec",
        "layouts/qemu-virt-semipic.toml",
        "--format",
        "rst",
        "--ram",
        "1GiB",
    ]);
    assert_snapshot!("qemu-virt-semipic.rst", rst);
}

#[test]
fn rst_simple_tables_are_aligned_to_their_rules() {
    let rst = ok_stdout(&[
        "show",
        "--spec",
        "layouts/linux-riscv64.toml",
        "--format",
        "rst",
        "--ram",
        "1GiB",
    ]);
    let mut rule: Option<Vec<usize>> = None;
    for line in rst.lines() {
        if line.starts_with("==") {
            // Column starts: where a run of `=` begins.
            let starts: Vec<usize> = line
                .char_indices()
                .filter(|&(i, c)| c == '=' && (i == 0 || line.as_bytes()[i - 1] == b' '))
                .map(|(i, _)| i)
                .collect();
            rule = Some(starts);
        } else if line.is_empty() {
            rule = None;
        } else if let Some(starts) = &rule {
            // Every cell but the last starts at its column and leaves the
            // gap before the next column blank.
            let chars: Vec<char> = line.chars().collect();
            for &s in &starts[1..] {
                assert!(
                    s < chars.len() && chars[s - 1] == ' ' && chars[s] != ' ',
                    "misaligned: {line}"
                );
            }
        }
    }
}

#[test]
fn show_one_mode_in_every_format() {
    for format in ["human", "json", "markdown", "rst", "svg"] {
        let out = ok_stdout(&[
            "show",
            "--spec",
            "layouts/qemu-virt-multi.toml",
            "--mode",
            "sv48",
            "--format",
            format,
        ]);
        assert!(
            out.contains("sv48") && !out.contains("sv57"),
            "{format}: {out}"
        );
    }
}

#[test]
fn unknown_format_is_a_usage_error() {
    let o = layoutgen(&["show", "--format", "png"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("svg") && err.contains("markdown"), "{err}");
}

#[test]
fn a_layout_with_overlapping_regions_is_drawn_with_the_overlap_marked() {
    let dir = tempfile::tempdir().unwrap();
    let text = specs::text("qemu-virt-sv39")
        .replace("end = \"pci_io.start\"", "end = \"pci_io.start + 2MiB\"");
    let spec = dir.path().join("overlap.toml");
    std::fs::write(&spec, text).unwrap();
    let o = layoutgen(&["show", "--spec", spec.to_str().unwrap(), "--format", "svg"]);
    // Drawn, and the findings are reported with exit 1.
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("error[overlap]"));
    let texts = svg_texts(&String::from_utf8(o.stdout).unwrap());
    assert!(texts.iter().any(|t| t == "overlap: 2 MiB"), "{texts:?}");
}

/// A spec with `[boot.NAME]`: every format shows the physical boot chain
/// after the virtual map, a row per placement and one for the kernel's
/// room at the spec's addresses; a spec without has none.
#[test]
fn the_physical_boot_chain_follows_the_virtual_map() {
    let layout = specs::layout("linux-riscv64");
    let spec = "layouts/linux-riscv64.toml";
    let show =
        |format: &str| ok_stdout(&["show", "--spec", spec, "--mode", "sv39", "--format", format]);
    let kernel_end = layout.ram.load as u128 + layout.image.max_size as u128;
    let human = show("human");
    let (virt, phys) = human.split_once("physical boot chain").expect(&human);
    assert!(virt.contains("VM area description"), "{human}");
    // start | end (inclusive) | size | spec key | what
    let row = |start: u64, end: u128, key: &str| {
        let line = phys
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{start:016x} |")))
            .unwrap_or_else(|| panic!("no row at {start:#x} in\n{phys}"));
        assert!(line.contains(&format!("{:016x} |", end - 1)), "{line}");
        assert!(line.contains(&format!("| {key:<26} |")), "{line}");
    };
    row(layout.ram.load, kernel_end, "ram.load, image.max_size");
    for p in &layout.boot {
        row(p.start, p.end(), &format!("boot.{}", p.name));
    }
    for p in &layout.boot {
        let key = format!("boot.{}", p.name);
        let markdown = show("markdown");
        assert!(
            markdown.contains(&format!("| `{:#x}` | `{:#x}` |", p.start, p.end()))
                && markdown.contains(&format!("`{key}`")),
            "{key} missing from\n{markdown}"
        );
        assert!(show("rst").contains(&format!("``{key}``")), "{key}");
        let svg = show("svg");
        assert!(
            svg.contains(&format!("{} [{}", p.name, grouped(p.start))) && svg.contains(&key),
            "{key} missing from the SVG"
        );
    }
    let json: serde_json::Value = serde_json::from_str(&show("json")).unwrap();
    let rows = json["physical"].as_array().expect("a physical array");
    for p in &layout.boot {
        let row = rows.iter().find(|r| r["name"] == p.name.as_str()).unwrap();
        assert_eq!(row["start"], format!("{:#x}", p.start));
        assert_eq!(row["end"], format!("{:#x}", p.end()));
        assert_eq!(row["key"], format!("boot.{}", p.name));
    }
    // Free RAM rows and placements tile the minimum RAM from ram.base.
    assert_eq!(rows[0]["start"], format!("{:#x}", layout.ram.base));
    let ram_end = layout.ram.base as u128 + layout.ram.min_size as u128;
    assert_eq!(rows.last().unwrap()["end"], format!("{ram_end:#x}"));

    // Without [boot.NAME]: no physical map in any format.
    let plain = "layouts/qemu-virt-sv39.toml";
    for format in ["human", "markdown", "rst", "svg"] {
        let out = ok_stdout(&["show", "--spec", plain, "--format", format]);
        assert!(!out.contains("physical boot chain"), "{format}");
    }
    let json = ok_stdout(&["show", "--spec", plain, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(json.get("physical").is_none());
}

/// `0x0000_0000_8000_0000`: the SVG's address style.
fn grouped(v: u64) -> String {
    let g = |shift: u32| format!("{:04x}", (v >> shift) & 0xffff);
    format!("0x{}_{}_{}_{}", g(48), g(32), g(16), g(0))
}
