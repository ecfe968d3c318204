//! The arm64 vmlinux of `scripts/linux-kernel arm64` linted against
//! `layouts/linux-arm64.toml`: only true findings, computed from the file
//! (readelf) and the spec, each explained in docs/linux-arm64.md ("The
//! built kernel against the bundled spec").

use crate::support::findings;
use crate::support::readelf::Readelf;
use crate::support::{linux, specs};
use layoutgen::lint::Lint;

#[test]
fn arm64_vmlinux_has_only_its_true_findings_against_linux_arm64() {
    let file = linux::kernel_file("arm64", "vmlinux");
    let layout = specs::layout("linux-arm64");
    let report = layoutgen::lint::run(&layout, &file, &Default::default()).unwrap();
    let (got, _infos) = findings::split(&report);

    let readelf = Readelf::of(&file);
    let mut want = readelf.rwe_loads();
    let mut segments_seen = Vec::new();
    let mut present: Vec<_> = readelf
        .sections
        .iter()
        .filter(|s| s.alloc() && s.size > 0)
        .collect();
    present.sort_by_key(|s| s.addr);
    for s in present {
        let spec = layout
            .image
            .sections
            .iter()
            .find(|x| x.name == s.name)
            .unwrap_or_else(|| panic!("{} is not in linux-arm64.toml", s.name));
        // Flags the spec does not grant: .rodata is WA (.data..ro_after_init)
        // and .rodata.text AX (idmap code), both mapped `r` by Linux.
        let more =
            (s.flags.contains('W') && !spec.write) || (s.flags.contains('X') && !spec.execute);
        // A segment's first section off SEGMENT_ALIGN: .init.data follows
        // init_idmap_pg_dir, which starts the segment but is no section.
        let first = !segments_seen.contains(&spec.segment);
        segments_seen.push(spec.segment.clone());
        let off = first && s.addr % layout.image.section_align != 0;
        if more || off {
            want.push((Lint::SectionPlacement, s.name.clone()));
        }
    }
    want.sort();
    assert_eq!(
        want.iter()
            .map(|(_, s)| s.as_str())
            .filter(|s| s.starts_with('.'))
            .collect::<Vec<_>>(),
        [".init.data", ".rodata", ".rodata.text"],
        "the findings docs/linux-arm64.md explains"
    );
    assert_eq!(got, want);
}
