//! `layoutgen schema`, `completions` and `man`: documents generated from
//! the spec's structs and the command-line definitions.

use crate::cli::Cli;
use crate::out::say;
use clap::CommandFactory;
use layoutgen::Error;
use std::path::Path;

pub fn schema() -> Result<u8, Error> {
    say!("{}", layoutgen::schema::schema_text());
    Ok(0)
}

pub fn completions(shell: clap_complete::Shell) -> Result<u8, Error> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "layoutgen", &mut script);
    say!("{}", String::from_utf8_lossy(&script));
    Ok(0)
}

/// The top-level page on stdout, or every page into a directory.
pub fn man(out_dir: Option<&Path>) -> Result<u8, Error> {
    let command = Cli::command();
    match out_dir {
        None => {
            // As generate_to does, so the page equals the committed layoutgen.1.
            let mut command = command.disable_help_subcommand(true);
            command.build();
            let mut page = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut page)
                .expect("rendering into memory");
            say!("{}", String::from_utf8_lossy(&page));
        }
        Some(dir) => {
            let write_err = |source| Error::Write {
                path: dir.to_path_buf(),
                source,
            };
            std::fs::create_dir_all(dir).map_err(write_err)?;
            clap_mangen::generate_to(command, dir).map_err(write_err)?;
        }
    }
    Ok(0)
}
