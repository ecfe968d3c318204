//! The README's example outputs are real: each block marked
//! `<!-- example: layoutgen ARGS -->` must equal what `layoutgen ARGS` prints
//! from the repository root. `UPDATE_README=1 cargo test --test readme`
//! rewrites the blocks.

use std::path::Path;
use std::process::Command;

fn run(args: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let argv: Vec<&str> = args.split_whitespace().collect();
    if argv.first() == Some(&"build") {
        // Start from nothing, so the output says "wrote" every time.
        if let Some(i) = argv.iter().position(|a| *a == "--out-dir") {
            let _ = std::fs::remove_dir_all(root.join(argv[i + 1]));
        }
    }
    let out = Command::new(env!("CARGO_BIN_EXE_layoutgen"))
        .args(&argv)
        .current_dir(root)
        .output()
        .unwrap();
    // `diff` exits 1 when the specs differ, which is what its example shows.
    let differ = argv.first() == Some(&"diff") && out.status.code() == Some(1);
    assert!(
        out.status.success() || differ,
        "layoutgen {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn readme_examples_are_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let marker = "<!-- example: layoutgen ";
    let mut updated = String::new();
    let mut rest = readme.as_str();
    let mut stale = Vec::new();
    let mut examples = 0;
    while let Some(i) = rest.find(marker) {
        let (before, from_marker) = rest.split_at(i);
        updated += before;
        let end_marker = from_marker.find(" -->\n").expect("marker ends with -->");
        let args = &from_marker[marker.len()..end_marker];
        let after_marker = &from_marker[end_marker + 5..];
        let body = after_marker
            .strip_prefix("```text\n")
            .expect("a ```text block follows the marker");
        let close = body.find("```\n").expect("the block is closed");
        let expected = run(args);
        if body[..close] != expected {
            stale.push(args.to_string());
        }
        updated += &from_marker[..end_marker + 5];
        updated += "```text\n";
        updated += &expected;
        updated += "```\n";
        rest = &body[close + 4..];
        examples += 1;
    }
    updated += rest;
    assert!(examples >= 3, "README lost its examples");
    if std::env::var_os("UPDATE_README").is_some() {
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert!(
        stale.is_empty(),
        "README examples are stale for: {stale:?}; run UPDATE_README=1 cargo test --test readme"
    );
}
