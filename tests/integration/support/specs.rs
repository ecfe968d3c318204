//! The specs tests start from: the bundled layouts (`layouts/*.toml`).

use super::root;
use layoutgen::Layout;
use std::path::PathBuf;

/// `layouts/NAME.toml`.
pub fn path(name: &str) -> PathBuf {
    root().join("layouts").join(format!("{name}.toml"))
}

/// The text of `layouts/NAME.toml`.
pub fn text(name: &str) -> String {
    std::fs::read_to_string(path(name)).unwrap_or_else(|e| panic!("layouts/{name}.toml: {e}"))
}

/// `layouts/NAME.toml`, checked.
pub fn layout(name: &str) -> Layout {
    layoutgen::load_checked(&path(name)).expect("bundled layout is sound")
}

/// Every bundled layout's spec file, sorted.
pub fn bundled() -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(root().join("layouts"))
        .expect("layouts/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    specs.sort();
    specs
}
