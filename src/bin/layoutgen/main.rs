//! The `layoutgen` command: parse the arguments (`cli.rs`), run the one
//! command asked for (`commands/`), print, exit with its status
//! (0 ok, 1 findings, 2 usage or unreadable/invalid input).

use clap::Parser;
use std::process::ExitCode;

mod cli;
mod commands;
mod out;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let code = match commands::run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            out::eprint(&commands::render_error(&e));
            e.exit_code()
        }
    };
    ExitCode::from(out::finish(code))
}
