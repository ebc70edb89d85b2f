//! `agentc repl` (not built yet).

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> ExitCode {
    eprintln!("agentc repl: not built yet");
    ExitCode::from(2)
}

mod history;
mod names;
mod program;
mod render;
mod scan;
