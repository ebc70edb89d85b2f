//! Reading a program: the root, then its imports depth-first in the order written. A file
//! imported twice is read once; a cycle (E0102) or a file that cannot be read (E0101) is
//! reported at the `import` that names it.

use super::{resolve_import, Loader};
use crate::diagnostics::{Code, Diagnostic, FileId, SourceMap, Span};
use crate::syntax::{self, ast::Item, Parsed};
use std::collections::HashMap;
use std::sync::Arc;

/// Parsed files, shared by the programs of one workspace so each file is parsed once, and
/// kept across checks by [`super::check_program_cached`].
#[derive(Default)]
pub struct ParseCache {
    /// Each file's parse: it depends only on the file's id (its spans) and its text, so it
    /// stays valid while both are the same. A source map never changes a file's text, so
    /// the text is kept to compare only once the cache serves several maps (`across_maps`);
    /// it is the source map's own, shared, so no second copy of the sources is held.
    parsed: HashMap<FileId, (Option<Arc<str>>, Parsed)>,
    /// Set by [`Self::new_sources`]: the next check may bring another source map.
    across_maps: bool,
    /// Normalized path → file, for every file in the source map.
    by_path: HashMap<String, FileId>,
    known: usize,
}

impl ParseCache {
    pub fn get(&self, id: FileId) -> &Parsed {
        &self.parsed[&id].1
    }

    /// Parses `id` unless it already is, with the same text.
    pub fn parse(&mut self, sources: &SourceMap, id: FileId) -> &Parsed {
        if !self.is_parsed(sources, id) {
            let parsed = syntax::parse(id, &sources.get(id).text);
            self.insert(sources, id, parsed);
        }
        &self.parsed[&id].1
    }

    /// Whether `id` is parsed, with the text it has in `sources`.
    fn is_parsed(&self, sources: &SourceMap, id: FileId) -> bool {
        let text = &sources.get(id).text;
        match self.parsed.get(&id) {
            Some((Some(parsed_text), _)) => Arc::ptr_eq(parsed_text, text) || parsed_text == text,
            Some((None, _)) => !self.across_maps,
            None => false,
        }
    }

    fn insert(&mut self, sources: &SourceMap, id: FileId, parsed: Parsed) {
        let kept = self.across_maps.then(|| sources.get(id).text.clone());
        self.parsed.insert(id, (kept, parsed));
    }

    /// Parses side by side those of `ids` not parsed yet that are too small to be split
    /// themselves, when they are several and large enough in all to pay for the threads (a
    /// program in many small files). The rest are parsed as met.
    fn parse_side_by_side(&mut self, sources: &SourceMap, ids: &[FileId]) {
        let mut todo: Vec<FileId> = ids
            .iter()
            .copied()
            // A large file is parsed in chunks side by side itself, as it is met.
            .filter(|id| sources.get(*id).text.len() < syntax::PARALLEL_MIN_BYTES)
            .filter(|id| !self.is_parsed(sources, *id))
            .collect();
        todo.sort_unstable();
        todo.dedup();
        let size = |id: &FileId| sources.get(*id).text.len();
        let bytes: usize = todo.iter().map(size).sum();
        let threads = super::parallel::cores().min(todo.len());
        if threads < 2 || bytes < syntax::PARALLEL_MIN_BYTES {
            return;
        }
        // Runs of consecutive files of about the same size in all, one per thread.
        let mut runs: Vec<&[FileId]> = Vec::with_capacity(threads);
        let (mut from, mut sum) = (0, 0);
        for (k, id) in todo.iter().enumerate() {
            sum += size(id);
            if sum * threads >= bytes * (runs.len() + 1) || k + 1 == todo.len() {
                runs.push(&todo[from..=k]);
                from = k + 1;
            }
        }
        let parse_run = |k: usize| -> Vec<(FileId, Parsed)> {
            runs[k]
                .iter()
                .map(|&id| (id, syntax::parse(id, &sources.get(id).text)))
                .collect()
        };
        let parsed = syntax::side_by_side(runs.len(), parse_run)
            .into_iter()
            .flatten();
        for (id, parsed) in parsed {
            self.insert(sources, id, parsed);
        }
    }

    /// Forgets which path is which file: the next check may use another source map.
    pub fn new_sources(&mut self) {
        self.across_maps = true;
        self.by_path.clear();
        self.known = 0;
    }

    fn file_for(&mut self, sources: &SourceMap, path: &str) -> Option<FileId> {
        // Files may have been added to the map since we last looked.
        for (id, file) in sources.iter().skip(self.known) {
            self.by_path.entry(normalize(&file.path)).or_insert(id);
        }
        self.known = sources.len();
        self.by_path.get(path).copied()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    InProgress,
    Done,
}

/// The files of one program in order (root first), and the import errors found.
pub struct Loaded {
    pub files: Vec<FileId>,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn load(
    sources: &mut SourceMap,
    root: FileId,
    loader: &mut dyn Loader,
    cache: &mut ParseCache,
) -> Loaded {
    let mut walk = Walk {
        sources,
        loader,
        cache,
        state: HashMap::new(),
        stack: Vec::new(),
        loaded: Loaded {
            files: Vec::new(),
            diagnostics: Vec::new(),
        },
    };
    walk.visit(root);
    walk.loaded
}

struct Walk<'w> {
    sources: &'w mut SourceMap,
    loader: &'w mut dyn Loader,
    cache: &'w mut ParseCache,
    state: HashMap<FileId, State>,
    /// The files being visited, each with the `import` followed out of it.
    stack: Vec<(FileId, Span)>,
    loaded: Loaded,
}

impl Walk<'_> {
    fn visit(&mut self, id: FileId) {
        self.state.insert(id, State::InProgress);
        self.loaded.files.push(id);
        let imports: Vec<(String, Span)> = self
            .cache
            .parse(self.sources, id)
            .file
            .items
            .iter()
            .filter_map(|item| match item {
                Item::Import(i) => Some((i.path.clone(), i.path_span)),
                _ => None,
            })
            .collect();
        let opened: Vec<(Option<FileId>, Span)> = imports
            .into_iter()
            .map(|(path, span)| {
                let resolved = resolve_import(&self.sources.get(id).path, &path);
                (self.open(&resolved, &path, span), span)
            })
            .collect();
        // All read before any is visited, so that they are parsed side by side.
        let unvisited: Vec<FileId> = opened
            .iter()
            .filter_map(|(target, _)| *target)
            .filter(|target| !self.state.contains_key(target))
            .collect();
        self.cache.parse_side_by_side(self.sources, &unvisited);
        for (target, span) in opened {
            let Some(target) = target else {
                continue;
            };
            match self.state.get(&target) {
                Some(State::Done) => {}
                Some(State::InProgress) => self.cycle(id, target, span),
                None => {
                    self.stack.push((id, span));
                    self.visit(target);
                    self.stack.pop();
                }
            }
        }
        self.state.insert(id, State::Done);
    }

    /// The file at `resolved`, from the source map or read through the loader.
    fn open(&mut self, resolved: &str, written: &str, span: Span) -> Option<FileId> {
        if let Some(id) = self.cache.file_for(self.sources, resolved) {
            return Some(id);
        }
        match self.loader.load(resolved) {
            Ok(text) => Some(self.sources.add(resolved, text)),
            Err(error) => {
                self.loaded
                    .diagnostics
                    .push(not_loaded(&error, resolved, written, span));
                None
            }
        }
    }

    /// E0102 at the import closing the cycle, with a label on each import along it.
    fn cycle(&mut self, from: FileId, to: FileId, span: Span) {
        let start = self
            .stack
            .iter()
            .position(|(f, _)| *f == to)
            .unwrap_or(self.stack.len());
        let path = |id: FileId| self.sources.get(id).path.clone();
        let mut chain: Vec<String> = self.stack[start..].iter().map(|(f, _)| path(*f)).collect();
        chain.push(path(from));
        chain.push(path(to));
        let mut d = Diagnostic::new(
            Code::ImportCycle,
            format!("import cycle: {}", chain.join(" → ")),
            span,
        )
        .with_label_message(format!("`{}` is already being imported", path(to)));
        let followed = &self.stack[start..];
        for (k, (file, import)) in followed.iter().enumerate() {
            let next = followed.get(k + 1).map_or(from, |(f, _)| *f);
            d = d.with_secondary(
                *import,
                format!("`{}` imports `{}` here", path(*file), path(next)),
            );
        }
        self.loaded.diagnostics.push(d.with_help(
            "remove one of these imports: move what both files need into a third file that \
             both import",
        ));
    }
}

/// Why an imported file was not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// It cannot be read: why, in words ("no such file or directory", "it is not UTF-8
    /// text (line 3)" …), never its content.
    Unreadable(String),
    /// It lies, once links are followed, outside the directory imports are confined to:
    /// `root`, as the user wrote it (several: "a` or `b").
    OutsideRoot { root: String },
}

/// In words, for where there is no `import` to point at (the REPL's `:load`).
impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Unreadable(reason) => f.write_str(reason),
            LoadError::OutsideRoot { root } => write!(
                f,
                "it is outside the directory `{root}` programs are read from; widen it with \
                 `--import-root DIR`"
            ),
        }
    }
}

impl From<String> for LoadError {
    fn from(reason: String) -> Self {
        LoadError::Unreadable(reason)
    }
}

/// The diagnostic at the `import` of a file that was not read: E0101, or E0107 outside the
/// root.
fn not_loaded(error: &LoadError, resolved: &str, written: &str, span: Span) -> Diagnostic {
    match error {
        LoadError::Unreadable(reason) => Diagnostic::new(
            Code::ImportNotFound,
            format!("cannot read imported file `{written}`: {reason}"),
            span,
        )
        .with_label_message("imported here")
        .with_help(format!(
            "the path is relative to the importing file's directory; it resolved to \
             `{resolved}`"
        )),
        LoadError::OutsideRoot { root } => Diagnostic::new(
            Code::ImportOutsideRoot,
            format!("imported file `{written}` is outside the program's root directory `{root}`"),
            span,
        )
        .with_label_message("imported here")
        .with_help(format!(
            "imports stay inside the root directory, links followed, so that a program \
             cannot read other files on the machine; move the file under `{root}`, or widen \
             the root with `--import-root DIR`"
        )),
    }
}

/// `a/./b/../c.agent` → `a/c.agent`, lexically (the loader resolves links, not us).
pub fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn normalizes_dots() {
        assert_eq!(normalize("a/./b/../c.agent"), "a/c.agent");
        assert_eq!(normalize("./x.agent"), "x.agent");
        assert_eq!(normalize("../x.agent"), "../x.agent");
        assert_eq!(normalize("/r/../x.agent"), "/x.agent");
    }
}
