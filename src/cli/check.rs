//! `agentc check [PATHS…]`: check every program found and report, in the chosen format.
//! Exit status: 0 no error, 1 errors (or warnings with `--deny-warnings`), 2 usage or I/O.

use super::files::{self, FsLoader};
use crate::diagnostics::render::{self, Counts, HumanOptions};
use crate::diagnostics::{Diagnostic, SourceMap};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files, or directories searched recursively for `*.agent` (default: the current
    /// directory).
    pub paths: Vec<PathBuf>,
    /// Fail (exit status 1) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    #[command(flatten)]
    pub imports: files::ImportRoots,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// For people: source snippets with labels, and a summary line.
    Human,
    /// One versioned JSON document (see docs/diagnostics.md).
    Json,
    /// GitHub Actions workflow commands (annotations on pull requests).
    Github,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
}

pub fn run(args: Args) -> ExitCode {
    let paths = match files::discover(&args.paths) {
        Ok(paths) => paths,
        Err(error) => return files::fail(&error.to_string()),
    };
    // Most likely the wrong directory: say so rather than report success on nothing.
    if paths.is_empty() {
        let named: Vec<String> = args.paths.iter().map(|p| files::display(p)).collect();
        let place = if named.is_empty() {
            "the current directory".into()
        } else {
            format!("`{}`", named.join("`, `"))
        };
        return files::fail(&format!("no `.agent` files found in {place}"));
    }
    let mut sources = SourceMap::new();
    let mut reads = Vec::new();
    for path in &paths {
        match files::read(&mut sources, path) {
            Ok(read) => reads.push(read),
            Err(error) => return files::fail(&error.to_string()),
        }
    }
    let mut loader = match FsLoader::new(&args.paths, &args.imports) {
        Ok(loader) => loader,
        Err(error) => return files::fail(&error.to_string()),
    };
    let diagnostics = files::check_all(&mut sources, reads, &mut loader);

    let stdout = std::io::stdout();
    let options = HumanOptions {
        color: files::use_color(stdout.is_terminal()),
        width: files::width(),
    };
    let subject = subject(&sources, &paths);
    let text = report(
        &diagnostics,
        &sources,
        args.format,
        &subject,
        args.deny_warnings,
        options,
    );
    // A closed pipe (`agentc check | head`) is not worth a panic.
    let _ = stdout.lock().write_all(text.as_bytes());

    let counts = Counts::of(&diagnostics);
    if counts.errors > 0 || (args.deny_warnings && counts.warnings > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The whole output of a run in one format.
fn report(
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    format: Format,
    subject: &str,
    deny_warnings: bool,
    options: HumanOptions,
) -> String {
    match format {
        Format::Human => {
            let mut text = render::human(diagnostics, sources, options);
            let counts = Counts::of(diagnostics);
            text.push_str(&render::summary(counts, subject, deny_warnings, options));
            text
        }
        Format::Json => render::json(diagnostics, sources),
        Format::Github => render::github(diagnostics, sources),
        Format::Sarif => render::sarif(diagnostics, sources),
    }
}

/// What the summary line names: the one file, or how many files (imports included).
fn subject(sources: &SourceMap, paths: &[PathBuf]) -> String {
    match (paths, sources.len()) {
        ([one], 1) => format!("`{}`", files::display(one)),
        (_, 1) => "1 file".into(),
        (_, n) => format!("{n} files"),
    }
}
