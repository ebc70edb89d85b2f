//! What the commands share about files: reading `.agent` sources (UTF-8 through the syntax
//! layer's decoding), finding them under directories, and a [`Loader`] for imports.

use crate::check::{self, LoadError, Loader};
use crate::diagnostics::{Diagnostic, FileId, SourceMap};
use crate::syntax;
use std::collections::HashSet;
use std::fmt;
use std::io::{self, Read as _};
use std::path::{Component, Path, PathBuf};

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
/// directories searched recursively for `*.agent` regular files (hidden directories
/// skipped), in a stable order. No paths means the current directory. A link found in a
/// directory that leads out of it is an error: a pull request cannot make `check DIR` read
/// (and quote) a file elsewhere on the machine.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, PathError> {
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut found = Vec::new();
    let mut visited = HashSet::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| PathError::io(path, &e))?;
        if meta.is_dir() {
            let top = std::fs::canonicalize(path).map_err(|e| PathError::io(path, &e))?;
            let walk = Walk {
                top: path,
                top_canonical: &top,
            };
            walk.walk(path, &mut found, &mut visited)?;
        } else {
            found.push(path.clone());
        }
    }
    // A file named twice (or inside two named directories) is checked once.
    let mut seen = HashSet::new();
    found.retain(|p| seen.insert(display(p)));
    Ok(found)
}

/// One directory named by the user, walked.
struct Walk<'a> {
    top: &'a Path,
    top_canonical: &'a Path,
}

impl Walk<'_> {
    /// `visited` holds the directories already walked (canonical), so that a symbolic link to a
    /// parent directory does not loop forever.
    fn walk(
        &self,
        dir: &Path,
        found: &mut Vec<PathBuf>,
        visited: &mut HashSet<PathBuf>,
    ) -> Result<(), PathError> {
        let canonical = std::fs::canonicalize(dir).map_err(|e| PathError::io(dir, &e))?;
        if !visited.insert(canonical) {
            return Ok(());
        }
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
            // Regular files only: a FIFO would block the walk, a device never end.
            let source = meta.is_file() && path.extension().is_some_and(|e| e == "agent");
            if !(source || meta.is_dir() && !hidden) {
                continue;
            }
            if entry.file_type().is_ok_and(|t| t.is_symlink()) {
                self.stays_inside(&path)?;
            }
            if meta.is_dir() {
                self.walk(&path, found, visited)?;
            } else {
                found.push(path);
            }
        }
        Ok(())
    }

    /// Refuses a link that leads out of the directory walked.
    fn stays_inside(&self, link: &Path) -> Result<(), PathError> {
        let target = std::fs::canonicalize(link).map_err(|e| PathError::io(link, &e))?;
        if target.starts_with(self.top_canonical) {
            return Ok(());
        }
        Err(PathError {
            path: display(link),
            reason: format!(
                "it is a link that leads out of `{}`, so it is not read; name the file \
                 itself to read it",
                display(self.top)
            ),
        })
    }
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
    let bytes = read_source(path).map_err(|error| PathError {
        path: display(path),
        reason: error.to_string(),
    })?;
    Ok(add(sources, display(path), &bytes))
}

/// The largest source file read, in bytes: a program is text written by people, and a
/// link to `/dev/zero` must not exhaust memory.
pub const MAX_SOURCE_FILE: u64 = 16 << 20;

/// Why a source file's bytes were not read.
#[derive(Debug)]
pub enum SourceError {
    Io(io::Error),
    /// Larger than [`MAX_SOURCE_FILE`].
    TooLarge,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceError::Io(error) => f.write_str(&describe(error)),
            SourceError::TooLarge => write!(
                f,
                "it is larger than {} MiB, the limit for a source file; split it into files \
                 that import each other",
                MAX_SOURCE_FILE >> 20
            ),
        }
    }
}

impl std::error::Error for SourceError {}

impl From<SourceError> for LoadError {
    fn from(error: SourceError) -> LoadError {
        LoadError::Unreadable(error.to_string())
    }
}

/// A file's bytes, reading no more than [`MAX_SOURCE_FILE`] (and one byte to know it is
/// past it).
pub fn read_source(path: &Path) -> Result<Vec<u8>, SourceError> {
    let file = std::fs::File::open(path).map_err(SourceError::Io)?;
    // Sized from the file's length, so a large file is not copied as the buffer grows.
    let size = file
        .metadata()
        .map_or(0, |m| m.len().min(MAX_SOURCE_FILE + 1));
    let mut bytes = Vec::with_capacity(size as usize + 1);
    io::Read::take(file, MAX_SOURCE_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(SourceError::Io)?;
    if bytes.len() as u64 > MAX_SOURCE_FILE {
        return Err(SourceError::TooLarge);
    }
    Ok(bytes)
}

/// Adds a file's bytes to `sources`, decoded as the syntax layer does.
pub fn add(sources: &mut SourceMap, name: impl Into<String>, bytes: &[u8]) -> Read {
    match syntax::decoded(bytes) {
        // Straight into the map's shared text: a `String` first would be a second copy.
        Ok(text) => Read::Text(sources.add(name, std::sync::Arc::<str>::from(text))),
        Err(error) => {
            let id = sources.add(name, error.text.clone());
            Read::NotText(id, error.diagnostic(id))
        }
    }
}

/// Checks every program among the files read (see [`check::check_workspace`]): the
/// diagnostics of files that are not text first, then those of each program. For a
/// command that ends once it has reported (`check`, `explain`): the trees are not freed.
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
    let mut parses = check::ParseCache::default();
    diagnostics.extend(check::workspace_diagnostics(
        sources,
        &texts,
        loader,
        &mut parses,
    ));
    // The command ends once it has reported: the trees are left for the process's exit to
    // take back, not freed node by node (an eighth of a large check's time).
    std::mem::forget(parses);
    diagnostics
}

/// Where imports may be read from: `--import-root DIR` widens the directories a program's
/// imports are confined to.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ImportRoots {
    /// A directory imports may also be read from (repeatable). Without it, imports stay
    /// inside the directory given or the directory of the file given.
    #[arg(long = "import-root", value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
}

/// Imports read from the file system; paths are relative to the working directory, as the
/// checker resolves them against the importing file's display path. Only regular files of
/// at most [`MAX_SOURCE_FILE`] bytes inside one of the roots (after following links) are
/// read.
pub struct FsLoader {
    roots: Vec<Root>,
}

/// A directory imports are confined to, in the two forms an import is checked against.
struct Root {
    /// Absolute and lexically normalized: an import is refused before anything is read.
    lexical: PathBuf,
    /// Links followed: a link inside the root that leads out of it is refused too.
    canonical: PathBuf,
    shown: String,
}

impl FsLoader {
    /// Imports confined to the directories among `paths`, the directory of each file among
    /// them (the current directory when there is none), and the `widen` directories.
    pub fn new(paths: &[PathBuf], widen: &ImportRoots) -> Result<Self, PathError> {
        let named = paths.iter().map(|path| {
            if path.is_dir() {
                path.as_path()
            } else {
                path.parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
            }
        });
        let named: Vec<&Path> = if paths.is_empty() {
            vec![Path::new(".")]
        } else {
            named.collect()
        };
        let mut roots = Vec::new();
        for dir in named {
            // A named path that does not exist has its own error where it is read.
            if let Ok(root) = Root::new(dir) {
                roots.push(root);
            }
        }
        for dir in &widen.dirs {
            roots.push(Root::new(dir).map_err(|e| PathError::io(dir, &e))?);
        }
        let mut seen = HashSet::new();
        roots.retain(|root| seen.insert(root.canonical.clone()));
        Ok(FsLoader { roots })
    }

    fn outside(&self) -> LoadError {
        let shown: Vec<String> = self.roots.iter().map(|r| r.shown.clone()).collect();
        LoadError::OutsideRoot {
            root: shown.join("` or `"),
        }
    }
}

impl Root {
    fn new(dir: &Path) -> io::Result<Self> {
        Ok(Root {
            lexical: lexical(dir),
            canonical: std::fs::canonicalize(dir)?,
            shown: display(dir),
        })
    }
}

/// `path` made absolute against the working directory, `.` and `..` resolved lexically.
fn lexical(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for part in std::env::current_dir()
        .unwrap_or_default()
        .join(path)
        .components()
    {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}

impl Loader for FsLoader {
    fn load(&mut self, path: &str) -> Result<String, LoadError> {
        // Never read, so never quoted: an import cannot show a `.env` in a diagnostic.
        if !path.ends_with(".agent") {
            return Err(LoadError::Unreadable(
                "only `.agent` files can be imported".into(),
            ));
        }
        let file = Path::new(path);
        if !self
            .roots
            .iter()
            .any(|r| lexical(file).starts_with(&r.lexical))
        {
            return Err(self.outside());
        }
        let canonical = std::fs::canonicalize(file).map_err(|e| describe(&e))?;
        if !self
            .roots
            .iter()
            .any(|r| canonical.starts_with(&r.canonical))
        {
            return Err(self.outside());
        }
        // Checked before opening: opening a FIFO blocks until something writes to it.
        if !std::fs::metadata(&canonical).is_ok_and(|m| m.is_file()) {
            return Err(LoadError::Unreadable("it is not a regular file".into()));
        }
        let bytes = read_source(&canonical)?;
        syntax::decode(&bytes).map_err(|e| {
            let line = e.text[..e.offset].matches('\n').count() + 1;
            LoadError::Unreadable(format!(
                "it is not UTF-8 text (line {line}); save it as UTF-8"
            ))
        })
    }
}

/// Reports a usage or I/O error on stderr: exit status 2.
pub fn fail(message: &str) -> std::process::ExitCode {
    note!("error: {message}");
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
