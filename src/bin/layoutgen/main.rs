//! The `layoutgen` command: parse the arguments (`cli.rs`), run the one
//! command asked for (`commands/`), print, exit with its status
//! (0 ok, 1 findings, 2 usage or unreadable/invalid input).

use clap::Parser;
use std::process::ExitCode;

mod cli;
mod commands;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprint!("{}", commands::render_error(&e));
            ExitCode::from(e.exit_code())
        }
    }
}
