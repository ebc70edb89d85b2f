//! `agentc fmt [PATHS…] [--check] [--stdin]`: rewrites `.agent` files in the canonical layout.
//! Exit status: 0 all formatted, 1 a file would change (`--check`) or has syntax errors,
//! 2 a file could not be read or written.

use crate::diagnostics::{Code, Diagnostic, SourceMap, Span};
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files or directories (searched for `.agent` files); the current directory if none.
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
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths
    };
    let files = match agent_files(&paths) {
        Ok(files) => files,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let outcomes: Vec<Outcome> = files.iter().map(|f| format_path(f, args.check)).collect();
    let changed = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Changed))
        .count();
    if args.check && changed > 0 {
        let files = if changed == 1 { "file" } else { "files" };
        eprintln!("error: {changed} {files} not formatted; run `agentc fmt` to fix");
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
    if let Err(err) = io::stdin().read_to_end(&mut bytes) {
        eprintln!("error: cannot read standard input: {err}");
        return Outcome::Failed;
    }
    let Some(formatted) = formatted("<stdin>", bytes) else {
        return Outcome::Refused;
    };
    let (source, formatted) = formatted;
    if check {
        return diff("<stdin>", &source, &formatted);
    }
    let mut stdout = io::stdout().lock();
    if let Err(err) = stdout.write_all(formatted.as_bytes()) {
        eprintln!("error: cannot write standard output: {err}");
        return Outcome::Failed;
    }
    Outcome::Unchanged
}

fn format_path(path: &Path, check: bool) -> Outcome {
    let shown = path.display().to_string();
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => {
            eprintln!("error: cannot read {shown}: {err}");
            return Outcome::Failed;
        }
    };
    let Some((source, formatted)) = formatted(&shown, bytes) else {
        return Outcome::Refused;
    };
    if check {
        return diff(&shown, &source, &formatted);
    }
    if source == formatted {
        return Outcome::Unchanged;
    }
    match write_atomically(path, &formatted) {
        Ok(()) => {
            println!("formatted {shown}");
            Outcome::Changed
        }
        Err(err) => {
            eprintln!("error: cannot write {shown}: {err}");
            Outcome::Failed
        }
    }
}

/// The source and its formatted text, or `None` after printing why it cannot be formatted.
fn formatted(shown: &str, bytes: Vec<u8>) -> Option<(String, String)> {
    let mut sources = SourceMap::new();
    let source = match decode(shown, bytes, &mut sources) {
        Ok(source) => source,
        Err(diagnostic) => {
            refuse(shown, &[diagnostic], &sources);
            return None;
        }
    };
    let id = sources.add(shown, source.clone());
    match crate::fmt::format_source(id, &source) {
        Ok(formatted) => Some((source, formatted)),
        Err(diagnostics) => {
            refuse(shown, &diagnostics, &sources);
            None
        }
    }
}

fn refuse(shown: &str, diagnostics: &[Diagnostic], sources: &SourceMap) {
    eprint!("{}", render_diagnostics(diagnostics, sources));
    eprintln!("error: {shown} has syntax errors; it was left as it is");
}

/// `--check`: a unified diff of what formatting would change.
fn diff(shown: &str, source: &str, formatted: &str) -> Outcome {
    if source == formatted {
        return Outcome::Unchanged;
    }
    let diff = similar::TextDiff::from_lines(source, formatted);
    let patch = diff
        .unified_diff()
        .context_radius(3)
        .header(shown, &format!("{shown} (formatted)"))
        .to_string();
    print!("{patch}");
    Outcome::Changed
}

/// Writes a temporary file next to `path`, then renames it over `path`: a crash leaves
/// either the old file or the new one, never half of one. Permissions are kept and a
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
    temp.persist(&path).map_err(|err| err.error)?;
    Ok(())
}

/// The `.agent` files named by `paths`: files as given, directories searched recursively
/// (hidden directories and `target/` skipped), each directory's files in name order.
pub(super) fn agent_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        let metadata =
            fs::metadata(path).map_err(|err| format!("cannot read {}: {err}", path.display()))?;
        if metadata.is_dir() {
            search_dir(path, &mut files)
                .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn search_dir(dir: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            if !name.starts_with('.') && name != "target" {
                search_dir(&path, files)?;
            }
        } else if name.ends_with(".agent") {
            files.push(path);
        }
    }
    Ok(())
}

/// UTF-8 text, or a diagnostic at the first byte that is not (shown on the lossy text).
pub(super) fn decode(
    shown: &str,
    bytes: Vec<u8>,
    sources: &mut SourceMap,
) -> Result<String, Diagnostic> {
    String::from_utf8(bytes).map_err(|err| {
        let at = err.utf8_error().valid_up_to();
        let lossy = String::from_utf8_lossy(err.as_bytes()).into_owned();
        let id = sources.add(shown, lossy);
        Diagnostic::new(
            Code::NotUtf8,
            format!("{shown} is not UTF-8 text"),
            Span::new(id, at, at + char::REPLACEMENT_CHARACTER.len_utf8()),
        )
        .with_label_message("this byte is not valid UTF-8")
        .with_help("save the file as UTF-8")
    })
}

// TEMPORARY until the `clidiag` renderers are merged: then `diagnostics::render::human`.
pub(super) fn render_diagnostics(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let span = d.span();
        let (line, column) = sources.line_col(span.file, span.start as usize);
        let path = &sources.get(span.file).path;
        out.push_str(&format!(
            "error[{}]: {}\n  --> {path}:{line}:{column}\n",
            d.code, d.message
        ));
        if let Some(help) = &d.help {
            out.push_str(&format!("  help: {help}\n"));
        }
    }
    out
}
