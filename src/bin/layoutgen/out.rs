//! Standard output and error for the commands. Printing never panics: a
//! reader that went away (`layoutgen lint … | head -1`) ends the report
//! quietly and the command keeps its exit status (its work, e.g. a written
//! output set, is done before anything is printed); any other failure to
//! write the report (a full disk, `>/dev/full`) is said on stderr and the
//! command exits 2, since its result could not be delivered.

use std::io::{self, Write};
use std::sync::Mutex;

/// The first error writing stdout, if any; after it nothing more is tried.
static FAILED: Mutex<Option<io::Error>> = Mutex::new(None);

/// Writes `text` to stdout (and flushes, so a failure is seen here).
pub fn print(text: &str) {
    let mut failed = FAILED.lock().unwrap_or_else(|e| e.into_inner());
    if failed.is_some() {
        return;
    }
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        *failed = Some(e);
    }
}

/// Writes `text` to stderr; a failure there has nowhere to be reported.
pub fn eprint(text: &str) {
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

/// The exit status, given the command's: unchanged unless stdout failed for
/// another reason than a closed pipe.
pub fn finish(code: u8) -> u8 {
    let failed = FAILED.lock().unwrap_or_else(|e| e.into_inner());
    match failed.as_ref() {
        None => code,
        Some(e) if e.kind() == io::ErrorKind::BrokenPipe => code,
        Some(e) => {
            eprint(&format!(
                "layoutgen: cannot write to standard output: {e}\n"
            ));
            2
        }
    }
}

/// `print!` that cannot panic.
macro_rules! say {
    ($($arg:tt)*) => { $crate::out::print(&format!($($arg)*)) };
}

/// `println!` that cannot panic.
macro_rules! sayln {
    ($($arg:tt)*) => { $crate::out::print(&format!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!` that cannot panic.
macro_rules! esay {
    ($($arg:tt)*) => { $crate::out::eprint(&format!($($arg)*)) };
}

/// `eprintln!` that cannot panic.
macro_rules! esayln {
    ($($arg:tt)*) => { $crate::out::eprint(&format!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {esay, esayln, say, sayln};
