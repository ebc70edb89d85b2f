//! The command line: argument parsing, reading files, printing. The only layer that knows
//! about the terminal.

/// `println!` and `eprintln!` that never panic: a reader that went away (`agentc fmt --check
/// 2>&1 | head`) ends what it reads, not the process.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod check;
mod compile;
mod events;
pub mod explain;
pub mod files;
mod fmt;
mod lsp;
mod repl;
mod run;
mod serve;
mod shutdown;
mod test;

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::time::Duration;

/// A duration option's value (`10s`, `500ms`). The error has one cause and clap only
/// prints it, after naming the option: a sentence is all it needs.
fn duration_arg(text: &str) -> Result<Duration, String> {
    crate::runtime::parse_duration(text)
        .ok_or_else(|| format!("`{text}` is not a duration such as 10s or 500ms"))
}

#[derive(Parser, Debug)]
#[command(
    name = "agentc",
    version,
    about = "Check, compile, run, test and format .agent programs"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check programs and report diagnostics.
    Check(check::Args),
    /// Explain a diagnostic code, with a wrong and a fixed example.
    Explain(explain::Args),
    /// Lower a checked program to its JSON IR.
    Compile(compile::Args),
    /// Run a program against a stream of events.
    Run(run::Args),
    /// Run the `test` blocks of programs.
    Test(test::Args),
    /// Run a program behind a durable HTTP API.
    Serve(serve::Args),
    /// Format .agent files in the canonical layout.
    Fmt(fmt::Args),
    /// Explore a program interactively.
    Repl(repl::Args),
    /// Serve editors over the Language Server Protocol on standard input and output.
    Lsp(lsp::Args),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Compile(args) => compile::run(args),
        Command::Run(args) => run::run(args),
        Command::Test(args) => test::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Repl(args) => repl::run(args),
        Command::Lsp(args) => lsp::run(args),
    }
}
