//! `layoutgen diff OLD NEW`: small spec pairs, the kinds of change reported,
//! per mode, exit codes (0 identical, 1 different, 2 bad input) and JSON.

use crate::support::cli::layoutgen;
use crate::support::specs;
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

fn replace(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not in the spec");
    text.replacen(from, to, 1)
}

#[test]
fn same_spec_is_identical_and_exits_0() {
    let sv39 = specs::text("qemu-virt-sv39");
    let pair = Pair::new(&sv39, &sv39);
    let out = pair.human(0);
    assert!(out.contains("identical layouts"), "{out}");
    let json = pair.json();
    assert_eq!(json["identical"], true);
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["changes"], serde_json::json!([]));
}

#[test]
fn other_expressions_for_the_same_addresses_are_identical() {
    let sv39 = specs::text("qemu-virt-sv39");
    let rewritten = replace(
        &replace(
            &sv39,
            "start = \"linear_map.start - 64GiB\"",
            "start = \"0xffff_ffc6_0000_0000\"",
        ),
        "end = \"top\"",
        "size = \"2GiB\"",
    );
    Pair::new(&sv39, &rewritten).human(0);
}

#[test]
fn a_region_that_grows_downwards_moves_and_grows() {
    let sv39 = specs::text("qemu-virt-sv39");
    let bigger = replace(
        &sv39,
        "start = \"linear_map.start - 64GiB\"",
        "start = \"linear_map.start - 96GiB\"",
    );
    let pair = Pair::new(&sv39, &bigger);
    let out = pair.human(1);
    assert!(
        out.contains(
            "region.vmalloc.start: moved down 32 GiB: 0xffffffc600000000 → 0xffffffbe00000000"
        ) || out.contains("region.vmalloc.start: moved down 32 GiB"),
        "{out}"
    );
    assert!(
        out.contains("region.vmalloc.size: grew 64 GiB → 96 GiB"),
        "{out}"
    );
    // Everything stacked below vmalloc moves with it.
    for region in ["vmemmap", "pci_io", "fixmap"] {
        assert!(
            out.contains(&format!("region.{region}.start: moved down 32 GiB")),
            "{out}"
        );
    }
    let json = pair.json();
    assert_eq!(json["identical"], false);
    let grew = change(&json, Some("sv39"), "region.vmalloc.size");
    assert_eq!(grew["kind"], "grew");
    // Sizes and addresses are hex strings, exact beyond 2^53.
    assert_eq!(grew["old"], "0x1000000000");
    assert_eq!(grew["new"], "0x1800000000");
    assert_eq!(
        change(&json, Some("sv39"), "region.vmalloc.start")["new"],
        "0xffffffbe00000000"
    );
    assert_eq!(
        change(&json, Some("sv39"), "region.vmalloc.start")["kind"],
        "moved"
    );
}

#[test]
fn shrinking_and_realigning_are_reported() {
    let sv39 = specs::text("qemu-virt-sv39");
    let new = replace(
        &replace(&sv39, "size = \"128GiB\"", "size = \"64GiB\""),
        "align = \"1GiB\"\nleaf = \"1GiB\"",
        "align = \"2MiB\"\nleaf = \"2MiB\"",
    );
    let pair = Pair::new(&sv39, &new);
    let out = pair.human(1);
    assert!(
        out.contains("region.linear_map.size: shrank 128 GiB → 64 GiB"),
        "{out}"
    );
    assert!(
        out.contains("region.linear_map.align: 1 GiB → 2 MiB"),
        "{out}"
    );
    assert!(
        out.contains("region.linear_map.leaf: 1 GiB → 2 MiB"),
        "{out}"
    );
    let json = pair.json();
    assert_eq!(
        change(&json, Some("sv39"), "region.linear_map.leaf")["kind"],
        "realigned"
    );
    assert_eq!(
        change(&json, Some("sv39"), "region.linear_map.size")["kind"],
        "shrank"
    );
}

#[test]
fn regions_added_and_removed() {
    let sv39 = specs::text("qemu-virt-sv39");
    let without_pci = sv39.replace(
        "[region.pci_io]\nstart = \"vmemmap.start - 16MiB\"\nend = \"vmemmap.start\"\ndescription = \"PCI I/O\"\n",
        "[region.kasan]\nstart = \"0xffff_fff8_0000_0000\"\nsize = \"8GiB\"\n",
    );
    let without_pci = replace(
        &without_pci,
        "start = \"pci_io.start - 6MiB\"\nend = \"pci_io.start\"",
        "start = \"vmemmap.start - 6MiB\"\nend = \"vmemmap.start\"",
    );
    let pair = Pair::new(&sv39, &without_pci);
    let out = pair.human(1);
    assert!(
        out.contains("+ region.kasan: added [0xfffffff800000000, 0xfffffffa00000000), 8 GiB"),
        "{out}"
    );
    assert!(
        out.contains(
            "- region.pci_io: removed (was [0xffffffc4ff000000, 0xffffffc500000000), 16 MiB)"
        ),
        "{out}"
    );
    let json = pair.json();
    let added = change(&json, Some("sv39"), "region.kasan");
    assert_eq!(added["kind"], "added");
    assert_eq!(added["old"], serde_json::Value::Null);
    assert_eq!(added["new"]["size"], "0x200000000");
    assert_eq!(added["new"]["start"], "0xfffffff800000000");
    assert_eq!(
        change(&json, Some("sv39"), "region.pci_io")["kind"],
        "removed"
    );
}

#[test]
fn image_link_offset_and_sections() {
    let sv39 = specs::text("qemu-virt-sv39");
    let new = replace(
        &replace(
            &sv39,
            "name = \".rodata\"\nperms = \"r\"",
            "name = \".rodata\"\nperms = \"rx\"",
        ),
        "[[image.section]]\nname = \".bss\"",
        "[[image.section]]\nname = \".tdata\"\nperms = \"rw\"\n\n[[image.section]]\nname = \".bss\"",
    );
    let new = replace(
        &new,
        "link = \"kernel.start + ram.load - ram.base\"",
        "link = \"kernel.start + 4MiB\"",
    );
    let pair = Pair::new(&sv39, &new);
    let out = pair.human(1);
    assert!(
        out.contains("image.section.rodata.perms: \"r--\" → \"r-x\""),
        "{out}"
    );
    assert!(
        out.contains("+ image.section.tdata: added .tdata rw-, segment tdata, aligned to 2 MiB"),
        "{out}"
    );
    assert!(
        out.contains("image.link: moved up 2 MiB: 0xffffffff80200000 → 0xffffffff80400000"),
        "{out}"
    );
    assert!(
        out.contains("image.offset: \"0xffffffff00000000\" → \"0xffffffff00200000\""),
        "{out}"
    );
    // Inserting a section keeps the order of the others.
    assert!(!out.contains("image.section_order"), "{out}");
}

#[test]
fn per_mode_changes_name_their_mode() {
    let multi = specs::text("qemu-virt-multi");
    let new = replace(
        &multi,
        "size = { sv39 = \"64GiB\", sv48 = \"32TiB\", sv57 = \"16PiB\" }",
        "size = { sv39 = \"64GiB\", sv48 = \"16TiB\", sv57 = \"16PiB\" }",
    );
    let pair = Pair::new(&multi, &new);
    let out = pair.human(1);
    let sv48 = out.find("sv48:\n").expect("an sv48 block");
    assert!(
        out[sv48..].contains("region.vmalloc.size: shrank 32 TiB → 16 TiB"),
        "{out}"
    );
    assert!(!out.contains("sv39:") && !out.contains("sv57:"), "{out}");
    let json = pair.json();
    for c in json["changes"].as_array().unwrap() {
        assert_eq!(c["mode"], "sv48", "{c}");
    }
}

#[test]
fn modes_added_and_removed() {
    let multi = specs::text("qemu-virt-multi");
    let fewer = replace(
        &multi,
        "modes = [\"sv39\", \"sv48\", \"sv57\"]",
        "modes = [\"sv39\", \"sv48\"]",
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
    let pair = Pair::new(&multi, &fewer);
    let out = pair.human(1);
    assert!(out.contains("- modes: removed (was mode sv57)"), "{out}");
    let back = Pair::new(&fewer, &multi);
    let out = back.human(1);
    assert!(out.contains("+ modes: added mode sv57"), "{out}");
}

#[test]
fn ram_and_code_model_changes() {
    let sv39 = specs::text("qemu-virt-sv39");
    let new = replace(&sv39, "max_size = \"16GiB\"", "max_size = \"32GiB\"");
    let out = Pair::new(&sv39, &new).human(1);
    assert!(
        out.contains("~ ram.max_size: grew 16 GiB → 32 GiB"),
        "{out}"
    );
    assert!(out.contains("1 difference\n"), "{out}");

    let out = Pair::new(&sv39, &specs::text("qemu-virt-semipic")).human(1);
    assert!(
        out.contains("code_model: \"fixed\" → \"semi-pic\""),
        "{out}"
    );
    assert!(out.contains("+ kaslr: added"), "{out}");
}

#[test]
fn bad_input_exits_2_and_points_at_the_source() {
    let sv39 = specs::text("qemu-virt-sv39");
    let broken = replace(&sv39, "size = \"128GiB\"", "size = \"128GB\"");
    let pair = Pair::new(&sv39, &broken);
    let o = pair.run(&[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("new.toml:") && err.contains("128GB"), "{err}");

    let o = layoutgen(&["diff", "layouts/qemu-virt-sv39.toml", "no/such/spec.toml"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no/such/spec.toml"), "{err}");

    let o = layoutgen(&["diff", "layouts/qemu-virt-sv39.toml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_spec_breaking_invariants_can_still_be_compared() {
    let sv39 = specs::text("qemu-virt-sv39");
    // vmalloc now overlaps the linear map: `check` fails, `diff` still shows it.
    let overlapping = replace(
        &sv39,
        "end = \"linear_map.start\"\nalign = \"2MiB\"",
        "end = \"linear_map.start + 2GiB\"\nalign = \"2MiB\"",
    );
    let out = Pair::new(&sv39, &overlapping).human(1);
    assert!(
        out.contains("region.vmalloc.size: grew 64 GiB → 66 GiB"),
        "{out}"
    );
}

#[test]
fn reordered_sections_are_reported() {
    let sv39 = specs::text("qemu-virt-sv39");
    let data =
        "[[image.section]]\nname = \".data\"\nperms = \"rw\"\ninput = [\".data\", \".data.*\"]\n\n";
    let bss =
        "[[image.section]]\nname = \".bss\"\nperms = \"rw\"\ninput = [\".bss\", \".bss.*\"]\n\n";
    let swapped = replace(&sv39, &format!("{data}{bss}"), &format!("{bss}{data}"));
    let out = Pair::new(&sv39, &swapped).human(1);
    assert!(
        out.contains(
            "image.section_order: [\".text\",\".rodata\",\".data\",\".bss\"] → [\".text\",\".rodata\",\".bss\",\".data\"]"
        ),
        "{out}"
    );
}
