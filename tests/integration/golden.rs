//! Golden files: every bundled layout × every output, so that a template or
//! resolver change shows up as a reviewable snapshot diff
//! (`cargo insta review`, or INSTA_UPDATE=always to accept).

use crate::support::{assert_snapshot, specs};
use layoutgen::{Output, Templates};

#[test]
fn bundled_layouts_pass_their_checks() {
    let bundled = specs::bundled();
    assert!(
        bundled.len() >= 4,
        "expected the bundled layouts, found {bundled:?}"
    );
    for spec in bundled {
        if let Err(e) = layoutgen::load(&spec, &Default::default()) {
            panic!("{} fails its own checks:\n{e}", spec.display());
        }
    }
}

#[test]
fn generated_outputs_match_snapshots() {
    let templates = Templates::new(None).unwrap();
    for spec in specs::bundled() {
        let layout = layoutgen::load(&spec, &Default::default()).unwrap();
        for output in Output::ALL {
            let text = templates.render(&layout, output).unwrap();
            let name = format!(
                "{}__{}",
                spec.file_stem().unwrap().to_string_lossy(),
                output.file_name()
            );
            assert_snapshot!(name, text);
        }
    }
}

#[test]
fn show_tables_match_snapshots() {
    for spec in specs::bundled() {
        let layout = layoutgen::load(&spec, &Default::default()).unwrap();
        let mut text = String::new();
        for mode in &layout.modes {
            text += &layoutgen::emit::table::render(&layout, mode);
            let cost = layoutgen::layout::pagetable::cost(&layout, mode, 1 << 30, 1);
            text += &layoutgen::emit::table::render_cost(&cost);
        }
        let name = format!("{}__show", spec.file_stem().unwrap().to_string_lossy());
        assert_snapshot!(name, text);
    }
}
