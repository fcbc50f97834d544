//! The `ebpfc` command line: reads a program (file, `-e`, stdin) or a compiled object,
//! then compiles, dumps, writes or runs it. All logic lives in the library crates; this
//! file only wires them together and maps failures to exit codes.

mod cli;
mod list;
mod verifier;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match cli::run(&args) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprint!("{failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}
