//! `layoutgen diff OLD NEW`: small spec pairs, the kinds of change reported,
//! per mode, exit codes (0 identical, 1 different, 2 bad input) and JSON.

use crate::support::cli::layoutgen;
use crate::support::{assert_contains, assert_lacks, specs};
use std::path::PathBuf;
use std::process::Output;

/// Writes `old` and `new` specs into a temporary directory.
struct Pair {
    dir: tempfile::TempDir,
}

impl Pair {
    fn new(old: &str, new: &str) -> Pair {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("old.toml"), old).unwrap();
        std::fs::write(dir.path().join("new.toml"), new).unwrap();
        Pair { dir }
    }

    /// The bundled layout `name` and that layout with `edits` made.
    fn edited(name: &str, edits: &[(&str, &str)]) -> Pair {
        let old = specs::text(name);
        Pair::new(&old, &edited(&old, edits))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, extra: &[&str]) -> Output {
        let (old, new) = (self.path("old.toml"), self.path("new.toml"));
        let mut args = vec!["diff", old.to_str().unwrap(), new.to_str().unwrap()];
        args.extend_from_slice(extra);
        layoutgen(&args)
    }

    /// Human output, asserting the exit code.
    fn human(&self, code: i32) -> String {
        let o = self.run(&[]);
        assert_eq!(
            o.status.code(),
            Some(code),
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    fn json(&self) -> serde_json::Value {
        let o = self.run(&["--format", "json"]);
        serde_json::from_slice(&o.stdout).expect("JSON output")
    }
}

/// The one change with `key` (and `mode`, when given).
fn change<'a>(json: &'a serde_json::Value, mode: Option<&str>, key: &str) -> &'a serde_json::Value {
    let found: Vec<_> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["key"] == key && mode.is_none_or(|m| c["mode"] == m))
        .collect();
    assert_eq!(found.len(), 1, "{key} in {json:#}");
    found[0]
}

/// The `kind` of the one sv39 change at `key`.
fn sv39_kind<'a>(json: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    &change(json, Some("sv39"), key)["kind"]
}

/// `text` with each `(from, to)` made in turn (`from` must occur; its first
/// occurrence is replaced).
fn edited(text: &str, edits: &[(&str, &str)]) -> String {
    edits.iter().fold(text.to_string(), |text, (from, to)| {
        assert!(text.contains(from), "{from:?} not in the spec");
        text.replacen(from, to, 1)
    })
}

#[test]
fn same_spec_is_identical_and_exits_0() {
    let pair = Pair::edited("qemu-virt-sv39", &[]);
    assert_contains(&pair.human(0), &["identical layouts"]);
    let json = pair.json();
    assert_eq!(json["identical"], true);
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["changes"], serde_json::json!([]));
}

#[test]
fn other_expressions_for_the_same_addresses_are_identical() {
    let rewritten = [
        (
            "start = \"linear_map.start - 64GiB\"",
            "start = \"0xffff_ffc6_0000_0000\"",
        ),
        ("end = \"top\"", "size = \"2GiB\""),
    ];
    Pair::edited("qemu-virt-sv39", &rewritten).human(0);
}

#[test]
fn a_region_that_grows_downwards_moves_and_grows() {
    let pair = Pair::edited(
        "qemu-virt-sv39",
        &[(
            "start = \"linear_map.start - 64GiB\"",
            "start = \"linear_map.start - 96GiB\"",
        )],
    );
    assert_contains(
        &pair.human(1),
        &[
            "region.vmalloc.start: moved down 32 GiB",
            "region.vmalloc.size: grew 64 GiB → 96 GiB",
            // Everything stacked below vmalloc moves with it.
            "region.vmemmap.start: moved down 32 GiB",
            "region.pci_io.start: moved down 32 GiB",
            "region.fixmap.start: moved down 32 GiB",
        ],
    );
    let json = pair.json();
    assert_eq!(json["identical"], false);
    let grew = change(&json, Some("sv39"), "region.vmalloc.size");
    assert_eq!(grew["kind"], "grew");
    // Sizes and addresses are hex strings, exact beyond 2^53.
    assert_eq!(grew["old"], "0x1000000000");
    assert_eq!(grew["new"], "0x1800000000");
    let moved = change(&json, Some("sv39"), "region.vmalloc.start");
    assert_eq!(moved["new"], "0xffffffbe00000000");
    assert_eq!(moved["kind"], "moved");
}

#[test]
fn shrinking_and_realigning_are_reported() {
    let pair = Pair::edited(
        "qemu-virt-sv39",
        &[
            ("size = \"128GiB\"", "size = \"64GiB\""),
            (
                "align = \"1GiB\"\nleaf = \"1GiB\"",
                "align = \"2MiB\"\nleaf = \"2MiB\"",
            ),
        ],
    );
    assert_contains(
        &pair.human(1),
        &[
            "region.linear_map.size: shrank 128 GiB → 64 GiB",
            "region.linear_map.align: 1 GiB → 2 MiB",
            "region.linear_map.leaf: 1 GiB → 2 MiB",
        ],
    );
    let json = pair.json();
    assert_eq!(sv39_kind(&json, "region.linear_map.leaf"), "realigned");
    assert_eq!(sv39_kind(&json, "region.linear_map.size"), "shrank");
}

#[test]
fn regions_added_and_removed() {
    let pair = Pair::edited(
        "qemu-virt-sv39",
        &[
            (
                "[region.pci_io]\nstart = \"vmemmap.start - 16MiB\"\nend = \"vmemmap.start\"\ndescription = \"PCI I/O\"\n",
                "[region.kasan]\nstart = \"0xffff_fff8_0000_0000\"\nsize = \"8GiB\"\n",
            ),
            (
                "start = \"pci_io.start - 6MiB\"\nend = \"pci_io.start\"",
                "start = \"vmemmap.start - 6MiB\"\nend = \"vmemmap.start\"",
            ),
        ],
    );
    assert_contains(
        &pair.human(1),
        &[
            "+ region.kasan: added [0xfffffff800000000, 0xfffffffa00000000), 8 GiB",
            "- region.pci_io: removed (was [0xffffffc4ff000000, 0xffffffc500000000), 16 MiB)",
        ],
    );
    let json = pair.json();
    let added = change(&json, Some("sv39"), "region.kasan");
    assert_eq!(added["kind"], "added");
    assert_eq!(added["old"], serde_json::Value::Null);
    assert_eq!(added["new"]["size"], "0x200000000");
    assert_eq!(added["new"]["start"], "0xfffffff800000000");
    assert_eq!(sv39_kind(&json, "region.pci_io"), "removed");
}

#[test]
fn image_link_offset_and_sections() {
    let pair = Pair::edited(
        "qemu-virt-sv39",
        &[
            (
                "name = \".rodata\"\nperms = \"r\"",
                "name = \".rodata\"\nperms = \"rx\"",
            ),
            (
                "[[image.section]]\nname = \".bss\"",
                "[[image.section]]\nname = \".tdata\"\nperms = \"rw\"\n\n[[image.section]]\nname = \".bss\"",
            ),
            (
                "link = \"kernel.start + ram.load - ram.base\"",
                "link = \"kernel.start + 4MiB\"",
            ),
        ],
    );
    let out = pair.human(1);
    assert_contains(
        &out,
        &[
            "image.section.rodata.perms: \"r--\" → \"r-x\"",
            "+ image.section.tdata: added .tdata rw-, segment tdata, aligned to 2 MiB",
            "image.link: moved up 2 MiB: 0xffffffff80200000 → 0xffffffff80400000",
            "image.offset: \"0xffffffff00000000\" → \"0xffffffff00200000\"",
        ],
    );
    // Inserting a section keeps the order of the others.
    assert_lacks(&out, &["image.section_order"]);
}

/// A section's Kconfig options (`image.section.config`) are part of what it
/// says, so changing them is a change.
#[test]
fn section_config_options_are_compared() {
    let pair = Pair::edited(
        "linux-riscv64",
        &[(
            "config = [\"CONFIG_GENERIC_BUG\"]",
            "config = [\"CONFIG_GENERIC_BUG\", \"CONFIG_BUG\"]",
        )],
    );
    assert_contains(
        &pair.human(1),
        &[
            "image.section.bug_table.config: [\"CONFIG_GENERIC_BUG\"] → [\"CONFIG_GENERIC_BUG\",\"CONFIG_BUG\"]",
        ],
    );
}

#[test]
fn per_mode_changes_name_their_mode() {
    let pair = Pair::edited(
        "qemu-virt-multi",
        &[(
            "size = { sv39 = \"64GiB\", sv48 = \"32TiB\", sv57 = \"16PiB\" }",
            "size = { sv39 = \"64GiB\", sv48 = \"16TiB\", sv57 = \"16PiB\" }",
        )],
    );
    let out = pair.human(1);
    let sv48 = out.find("sv48:\n").expect("an sv48 block");
    assert_contains(
        &out[sv48..],
        &["region.vmalloc.size: shrank 32 TiB → 16 TiB"],
    );
    assert_lacks(&out, &["sv39:", "sv57:"]);
    let json = pair.json();
    for c in json["changes"].as_array().unwrap() {
        assert_eq!(c["mode"], "sv48", "{c}");
    }
}

#[test]
fn modes_added_and_removed() {
    let multi = specs::text("qemu-virt-multi");
    let fewer = edited(
        &multi,
        &[(
            "modes = [\"sv39\", \"sv48\", \"sv57\"]",
            "modes = [\"sv39\", \"sv48\"]",
        )],
    );
    // Per-mode values for a mode the spec no longer lists are an error, not
    // ignored: drop the sv57 entries as well.
    let fewer: String = fewer
        .lines()
        .map(|l| match l.find(", sv57 = ") {
            Some(i) => format!("{} }}", &l[..i]),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let out = Pair::new(&multi, &fewer).human(1);
    assert_contains(&out, &["- modes: removed (was mode sv57)"]);
    let out = Pair::new(&fewer, &multi).human(1);
    assert_contains(&out, &["+ modes: added mode sv57"]);
}

#[test]
fn ram_and_code_model_changes() {
    let more_ram = [("max_size = \"16GiB\"", "max_size = \"32GiB\"")];
    let out = Pair::edited("qemu-virt-sv39", &more_ram).human(1);
    assert_contains(
        &out,
        &["~ ram.max_size: grew 16 GiB → 32 GiB", "1 difference\n"],
    );

    let sv39 = specs::text("qemu-virt-sv39");
    let out = Pair::new(&sv39, &specs::text("qemu-virt-semipic")).human(1);
    assert_contains(
        &out,
        &["code_model: \"fixed\" → \"semi-pic\"", "+ kaslr: added"],
    );
}

#[test]
fn bad_input_exits_2_and_points_at_the_source() {
    let broken = [("size = \"128GiB\"", "size = \"128GB\"")];
    let o = Pair::edited("qemu-virt-sv39", &broken).run(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert_contains(&String::from_utf8_lossy(&o.stderr), &["new.toml:", "128GB"]);

    let o = layoutgen(&["diff", "layouts/qemu-virt-sv39.toml", "no/such/spec.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert_contains(&String::from_utf8_lossy(&o.stderr), &["no/such/spec.toml"]);

    let o = layoutgen(&["diff", "layouts/qemu-virt-sv39.toml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_spec_breaking_invariants_can_still_be_compared() {
    // vmalloc now overlaps the linear map: `check` fails, `diff` still shows it.
    let overlapping = [(
        "end = \"linear_map.start\"\nalign = \"2MiB\"",
        "end = \"linear_map.start + 2GiB\"\nalign = \"2MiB\"",
    )];
    let out = Pair::edited("qemu-virt-sv39", &overlapping).human(1);
    assert_contains(&out, &["region.vmalloc.size: grew 64 GiB → 66 GiB"]);
}

#[test]
fn reordered_sections_are_reported() {
    let data =
        "[[image.section]]\nname = \".data\"\nperms = \"rw\"\ninput = [\".data\", \".data.*\"]\n\n";
    let bss =
        "[[image.section]]\nname = \".bss\"\nperms = \"rw\"\ninput = [\".bss\", \".bss.*\"]\n\n";
    let swapped = [(&*format!("{data}{bss}"), &*format!("{bss}{data}"))];
    let out = Pair::edited("qemu-virt-sv39", &swapped).human(1);
    assert_contains(
        &out,
        &[
            "image.section_order: [\".text\",\".rodata\",\".data\",\".bss\"] → [\".text\",\".rodata\",\".bss\",\".data\"]",
        ],
    );
}
