//! What the commands share about files: reading `.agent` sources (UTF-8 through the syntax
//! layer's decoding), finding them under directories, and a [`Loader`] for imports.

use crate::check::{self, Loader};
use crate::diagnostics::{Diagnostic, FileId, SourceMap};
use crate::syntax;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A path the user named that cannot be used: the command stops with exit status 2.
#[derive(Debug)]
pub struct PathError {
    pub path: String,
    pub reason: String,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read `{}`: {}", self.path, self.reason)
    }
}

impl PathError {
    fn io(path: &Path, error: &io::Error) -> Self {
        PathError {
            path: display(path),
            reason: describe(error),
        }
    }
}

/// An I/O error in words, without Rust's "(os error 2)" suffix.
pub fn describe(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "no such file or directory".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::IsADirectory => "it is a directory".into(),
        _ => {
            let text = error.to_string();
            match text.find(" (os error") {
                Some(at) => text[..at].to_string(),
                None => text,
            }
        }
    }
}

/// How a path is shown in diagnostics: as given, `/`-separated, without a leading `./`.
pub fn display(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let mut rest = text.as_str();
    while let Some(stripped) = rest.strip_prefix("./") {
        rest = stripped;
    }
    if rest.is_empty() {
        ".".into()
    } else {
        rest.to_string()
    }
}

/// The `.agent` files the user means by `paths`: files as named (whatever their extension),
/// directories searched recursively for `*.agent` (hidden directories skipped), in a stable
/// order. No paths means the current directory.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, PathError> {
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut found = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| PathError::io(path, &e))?;
        if meta.is_dir() {
            walk(path, &mut found)?;
        } else {
            found.push(path.clone());
        }
    }
    // A file named twice (or inside two named directories) is checked once.
    let mut seen = std::collections::HashSet::new();
    found.retain(|p| seen.insert(display(p)));
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), PathError> {
    let entries = std::fs::read_dir(dir).map_err(|e| PathError::io(dir, &e))?;
    let mut entries: Vec<_> = entries
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PathError::io(dir, &e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        let hidden = name.to_string_lossy().starts_with('.');
        // `file_type` does not follow symlinks; `metadata` does, so linked folders count.
        let Ok(meta) = std::fs::metadata(&path) else {
            continue; // a dangling link is not a source file
        };
        if meta.is_dir() {
            if !hidden {
                walk(&path, found)?;
            }
        } else if path.extension().is_some_and(|e| e == "agent") {
            found.push(path);
        }
    }
    Ok(())
}

/// The result of reading one source file into a [`SourceMap`].
pub enum Read {
    /// UTF-8 text, ready to parse.
    Text(FileId),
    /// Not UTF-8 (or binary): the file is in the map (undecodable bytes shown as U+FFFD, so
    /// the span is exact) with its E0008 diagnostic, and must not be parsed.
    NotText(FileId, Diagnostic),
}

/// Reads `path` into `sources` under its display name.
pub fn read(sources: &mut SourceMap, path: &Path) -> Result<Read, PathError> {
    let bytes = std::fs::read(path).map_err(|e| PathError::io(path, &e))?;
    Ok(add(sources, display(path), &bytes))
}

/// Adds a file's bytes to `sources`, decoded as the syntax layer does.
pub fn add(sources: &mut SourceMap, name: impl Into<String>, bytes: &[u8]) -> Read {
    match syntax::decode(bytes) {
        Ok(text) => Read::Text(sources.add(name, text)),
        Err(error) => {
            let id = sources.add(name, error.text.clone());
            Read::NotText(id, error.diagnostic(id))
        }
    }
}

/// Checks every program among the files read (see [`check::check_workspace`]): the
/// diagnostics of files that are not text first, then those of each program.
pub fn check_all(
    sources: &mut SourceMap,
    reads: Vec<Read>,
    loader: &mut dyn Loader,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut texts = Vec::new();
    for read in reads {
        match read {
            Read::Text(id) => texts.push(id),
            Read::NotText(_, diagnostic) => diagnostics.push(diagnostic),
        }
    }
    let workspace = check::check_workspace(sources, &texts, loader);
    diagnostics.extend(workspace.all_diagnostics().cloned());
    diagnostics
}

/// Imports read from the file system; paths are relative to the working directory, as the
/// checker resolves them against the importing file's display path.
pub struct FsLoader;

impl Loader for FsLoader {
    fn load(&mut self, path: &str) -> Result<String, String> {
        let bytes = std::fs::read(path).map_err(|e| describe(&e))?;
        syntax::decode(&bytes).map_err(|e| {
            let line = e.text[..e.offset].matches('\n').count() + 1;
            format!("it is not UTF-8 text (line {line}); save it as UTF-8")
        })
    }
}

/// Reports a usage or I/O error on stderr: exit status 2.
pub fn fail(message: &str) -> std::process::ExitCode {
    eprintln!("error: {message}");
    std::process::ExitCode::from(2)
}

/// Whether human output may be coloured: a terminal, and `NO_COLOR` unset or empty
/// (<https://no-color.org>).
pub fn use_color(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The width to wrap human output to: `COLUMNS` when set, else 100.
pub fn width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|&c: &usize| c >= 40)
        .unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_paths_drop_the_leading_dot() {
        assert_eq!(display(Path::new("./a/b.agent")), "a/b.agent");
        assert_eq!(display(Path::new(".")), ".");
        assert_eq!(display(Path::new("../x.agent")), "../x.agent");
    }

    #[test]
    fn io_errors_read_as_words() {
        let e = io::Error::from(io::ErrorKind::NotFound);
        assert_eq!(describe(&e), "no such file or directory");
        let e = io::Error::from_raw_os_error(21);
        assert!(!describe(&e).contains("os error"));
    }
}
