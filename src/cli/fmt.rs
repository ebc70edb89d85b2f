//! `agentc fmt [PATHS…] [--check] [--stdin]`: rewrites `.agent` files in the canonical layout
//! (docs/fmt.md). Exit status: 0 all formatted, 1 a file would change (`--check`) or has
//! syntax errors, 2 a path could not be read or a file could not be written.

use super::files::{self, Read};
use crate::diagnostics::render::{self, HumanOptions};
use crate::diagnostics::{Diagnostic, FileId, SourceMap};
use std::fs;
use std::io::{self, IsTerminal, Read as _, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files, or directories searched recursively for `*.agent` (default: the current
    /// directory).
    pub paths: Vec<PathBuf>,
    /// Change nothing: print a diff of what would change and exit 1 if anything would.
    #[arg(long)]
    pub check: bool,
    /// Format standard input to standard output.
    #[arg(long, conflicts_with = "paths")]
    pub stdin: bool,
}

/// What happened to one file.
enum Outcome {
    Unchanged,
    /// Rewritten, or (with `--check`) would be.
    Changed,
    /// Syntax errors: left untouched.
    Refused,
    /// Could not be read or written.
    Failed,
}

pub fn run(args: Args) -> ExitCode {
    if args.stdin {
        return exit_code(&[format_stdin(args.check)], args.check);
    }
    let paths = match files::discover(&args.paths) {
        Ok(paths) => paths,
        Err(error) => return files::fail(&error.to_string()),
    };
    let outcomes: Vec<Outcome> = paths.iter().map(|p| format_path(p, args.check)).collect();
    let changed = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Changed))
        .count();
    if args.check && changed > 0 {
        let noun = if changed == 1 { "file is" } else { "files are" };
        note!("error: {changed} {noun} not formatted; run `agentc fmt` to fix");
    }
    exit_code(&outcomes, args.check)
}

fn exit_code(outcomes: &[Outcome], check: bool) -> ExitCode {
    let any = |wanted: fn(&Outcome) -> bool| outcomes.iter().any(wanted);
    if any(|o| matches!(o, Outcome::Failed)) {
        ExitCode::from(2)
    } else if any(|o| matches!(o, Outcome::Refused))
        || (check && any(|o| matches!(o, Outcome::Changed)))
    {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn format_stdin(check: bool) -> Outcome {
    let mut bytes = Vec::new();
    if let Err(error) = io::stdin().read_to_end(&mut bytes) {
        note!(
            "error: cannot read standard input: {}",
            files::describe(&error)
        );
        return Outcome::Failed;
    }
    let Some((source, formatted)) = formatted("<stdin>", &bytes) else {
        return Outcome::Refused;
    };
    if check {
        return diff("<stdin>", &bytes, &source, &formatted);
    }
    // A closed pipe is not worth a panic.
    let _ = io::stdout().lock().write_all(formatted.as_bytes());
    Outcome::Unchanged
}

fn format_path(path: &Path, check: bool) -> Outcome {
    let shown = files::display(path);
    let bytes = match files::read_source(path) {
        Ok(bytes) => bytes,
        Err(reason) => {
            note!("error: cannot read `{shown}`: {reason}");
            return Outcome::Failed;
        }
    };
    let Some((source, formatted)) = formatted(&shown, &bytes) else {
        return Outcome::Refused;
    };
    if check {
        return diff(&shown, &bytes, &source, &formatted);
    }
    if bytes == formatted.as_bytes() {
        return Outcome::Unchanged;
    }
    match write_atomically(path, &formatted) {
        Ok(()) => {
            out!("formatted {shown}");
            Outcome::Changed
        }
        Err(error) => {
            note!("error: cannot write `{shown}`: {}", files::describe(&error));
            Outcome::Failed
        }
    }
}

/// The source text and its formatted text, or `None` after reporting why the file cannot
/// be formatted (not UTF-8, syntax errors).
fn formatted(shown: &str, bytes: &[u8]) -> Option<(String, String)> {
    let mut sources = SourceMap::new();
    let id: FileId = match files::add(&mut sources, shown, bytes) {
        Read::Text(id) => id,
        Read::NotText(_, diagnostic) => {
            refuse(shown, &[diagnostic], &sources);
            return None;
        }
    };
    let source = sources.get(id).text.to_string();
    match crate::fmt::format_source(id, &source) {
        Ok(formatted) => Some((source, formatted)),
        Err(diagnostics) => {
            refuse(shown, &diagnostics, &sources);
            None
        }
    }
}

fn refuse(shown: &str, diagnostics: &[Diagnostic], sources: &SourceMap) {
    let options = HumanOptions {
        color: files::use_color(io::stderr().is_terminal()),
        width: files::width(),
    };
    let mut text = render::human(diagnostics, sources, options);
    text.push_str(&format!(
        "error: `{shown}` was not formatted: it has syntax errors\n"
    ));
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

/// `--check`: a unified diff of what formatting would change. Bytes are compared, so a
/// byte-order mark or `\r\n` line ends alone count as a change.
fn diff(shown: &str, bytes: &[u8], source: &str, formatted: &str) -> Outcome {
    if bytes == formatted.as_bytes() {
        return Outcome::Unchanged;
    }
    let patch = similar::TextDiff::from_lines(source, formatted)
        .unified_diff()
        .context_radius(3)
        .header(shown, &format!("{shown} (formatted)"))
        .to_string();
    let _ = io::stdout().lock().write_all(patch.as_bytes());
    Outcome::Changed
}

/// Writes a temporary file next to `path`, then renames it over `path`: a crash leaves
/// either the old file or the new one, never half of one. Permissions are kept, and a
/// symbolic link keeps pointing at the file it named.
fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let path = fs::canonicalize(path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let permissions = fs::metadata(&path)?.permissions();
    let mut temp = tempfile::Builder::new()
        .prefix(".agentc-fmt-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.write_all(text.as_bytes())?;
    temp.as_file().set_permissions(permissions)?;
    temp.as_file().sync_all()?;
    temp.persist(&path).map_err(|error| error.error)?;
    Ok(())
}
