//! `agentc compile FILE [-o OUT.json] [--with-tests]`: check a program, then write its IR as
//! JSON (pretty, deterministic, with a trailing newline; `test` blocks only when asked). Diagnostics go to stderr; with errors
//! nothing is written and the exit status is 1.

use super::files::{self, FsLoader, Read};
use crate::check;
use crate::diagnostics::render::{self, Counts, HumanOptions};
use crate::diagnostics::SourceMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The program's root file (the one with the `agent` block).
    pub file: PathBuf,
    /// Where to write the IR (default: standard output).
    #[arg(short, long, value_name = "OUT.json")]
    pub output: Option<PathBuf>,
    /// Keep the program's `test` blocks in the IR (left out by default: a deployed program
    /// does not need them).
    #[arg(long)]
    pub with_tests: bool,
    #[command(flatten)]
    pub imports: files::ImportRoots,
}

pub fn run(args: Args) -> ExitCode {
    let mut sources = SourceMap::new();
    let (diagnostics, program) = match files::read(&mut sources, &args.file) {
        Err(error) => return files::fail(&error.to_string()),
        Ok(Read::NotText(_, diagnostic)) => (vec![diagnostic], None),
        Ok(Read::Text(root)) => {
            let mut loader = match FsLoader::new(std::slice::from_ref(&args.file), &args.imports) {
                Ok(loader) => loader,
                Err(error) => return files::fail(&error.to_string()),
            };
            let checked = check::check_program(&mut sources, root, &mut loader);
            (checked.diagnostics, checked.program)
        }
    };

    if !diagnostics.is_empty() {
        let stderr = std::io::stderr();
        let options = HumanOptions {
            color: files::use_color(stderr.is_terminal()),
            width: files::width(),
        };
        let mut text = render::human(&diagnostics, &sources, options);
        let subject = format!("`{}`", files::display(&args.file));
        text.push_str(&render::summary(
            Counts::of(&diagnostics),
            &subject,
            false,
            options,
        ));
        let _ = stderr.lock().write_all(text.as_bytes());
    }
    let Some(mut program) = program.filter(|_| Counts::of(&diagnostics).errors == 0) else {
        return ExitCode::from(1);
    };
    if !args.with_tests {
        program.tests.clear();
    }

    let mut json = serde_json::to_string_pretty(&program).expect("the IR is plain data");
    json.push('\n');
    match &args.output {
        Some(path) => {
            if let Err(error) = std::fs::write(path, json) {
                let message = format!(
                    "cannot write `{}`: {}",
                    files::display(path),
                    files::describe(&error)
                );
                return files::fail(&message);
            }
        }
        None => {
            let _ = std::io::stdout().lock().write_all(json.as_bytes());
        }
    }
    ExitCode::SUCCESS
}
