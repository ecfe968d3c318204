//! Checks shared by the fuzz harnesses (fuzz/harness/*.rs): text that may
//! reach a terminal or a CI log.

use layoutgen::format::is_unprintable;

/// Panics when `text` (what `what` names) holds a character that would act
/// on a terminal or a CI log rather than be shown: anything
/// [`is_unprintable`] but the `\n` that separates lines, or a line that
/// GitHub Actions would take as a workflow command (`::` first, after
/// leading white space, which the runner trims).
pub fn assert_shown_safely(what: &str, text: &str) {
    if let Some(c) = text.chars().find(|&c| c != '\n' && is_unprintable(c)) {
        panic!("{what}: {c:?} (U+{:04X}) survives in {text:?}", c as u32);
    }
    if let Some(line) = text.lines().find(|l| l.trim_start().starts_with("::")) {
        panic!("{what}: a line starts a workflow command: {line:?}");
    }
}
