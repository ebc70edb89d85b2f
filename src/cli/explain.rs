//! `agentc explain` (not built yet).

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> ExitCode {
    eprintln!("agentc explain: not built yet");
    ExitCode::from(2)
}
