#![no_main]
//! Spec front end: any bytes as spec text through parse, resolve and check;
//! every accepted spec is rendered into every output. Nothing may panic.

use layoutgen::{Output, Templates};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn templates() -> &'static Templates {
    static T: OnceLock<Templates> = OnceLock::new();
    T.get_or_init(|| Templates::new(None).expect("built-in templates load"))
}

fn run(text: &str) {
    let source = layoutgen::Source::Text {
        text,
        name: "fuzz.toml",
    };
    if let Ok(layout) = layoutgen::load(source, &Default::default()) {
        for output in Output::ALL {
            // An accepted spec may still fail to render (an error, not a
            // panic); only a panic is a finding.
            let _ = templates().render(&layout, output);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    match std::str::from_utf8(data) {
        Ok(text) => run(text),
        // Invalid UTF-8: the lossy text still reaches the TOML parser.
        Err(_) => run(&String::from_utf8_lossy(data)),
    }
});
