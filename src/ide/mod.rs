//! Language services on plain data: what an editor asks about `.agent` files (diagnostics,
//! completion, hover, definitions, references, rename, symbols, highlighting, signature
//! help, code actions, formatting), answered from texts held in memory. Positions are byte
//! offsets; nothing here does I/O or knows the terminal or the Language Server Protocol.
//! The REPL completes and highlights by it, `agentc lsp` (`cli/lsp`) speaks it to editors.
//!
//! A [`World`] holds every file of a workspace by path, as the editor has it (saved or
//! not). Checking is the checker's ([`check::check_workspace_cached`]: a file whose text did
//! not change is not parsed again); each file's names are indexed from its tree
//! ([`index`]), and a name is resolved against the files of the programs the file is part
//! of.

mod actions;
pub mod completion;
pub mod highlight;
mod hover;
pub mod index;
pub mod names;
mod navigate;
pub mod scan;
mod signature;

pub use actions::CodeAction;
pub use completion::Offer;
pub use hover::Hover;
pub use names::Names;
pub use navigate::{Location, RenameError};
pub use signature::Signature;

use crate::check::{self, LoadError, Loader, ParseCache};
use crate::diagnostics::{Diagnostic, FileId, SourceMap};
use crate::syntax::ast;
use index::FileIndex;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

/// Replace `range` of a file with `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextEdit {
    pub range: Range<usize>,
    pub text: String,
}

/// Edits to several files, by path.
pub type WorkspaceEdit = BTreeMap<String, Vec<TextEdit>>;

/// The files of a workspace and what is known about them.
pub struct World {
    /// Directories whose files form one workspace each (checked together, so a file no
    /// program imports is reported); a file under none is checked with the others under none.
    roots: Vec<String>,
    /// By [`FileId`]: ids stay the same while the world lives, so parses are reused.
    files: Vec<Slot>,
    ids: HashMap<String, FileId>,
    /// Reads an import that is not among the files (the language server reads the disk).
    loader: Box<dyn Loader>,
    cache: ParseCache,
    sources: SourceMap,
    /// Each file's index, kept until its text changes.
    indexes: HashMap<FileId, FileIndex>,
    /// A text changed since the source map was built.
    stale: bool,
    /// The diagnostics of the last check, by file; `None` once anything changed.
    checked: Option<HashMap<FileId, Vec<Diagnostic>>>,
}

struct Slot {
    path: String,
    /// `None` once removed.
    text: Option<Arc<str>>,
}

/// A loader that has no files: every import must be among the world's.
pub struct NoFiles;

impl Loader for NoFiles {
    fn load(&mut self, _path: &str) -> Result<String, LoadError> {
        Err(LoadError::Unreadable("no such file".into()))
    }
}

impl Default for World {
    fn default() -> Self {
        World::new(Box::new(NoFiles))
    }
}

impl World {
    pub fn new(loader: Box<dyn Loader>) -> World {
        World {
            roots: Vec::new(),
            files: Vec::new(),
            ids: HashMap::new(),
            loader,
            cache: ParseCache::default(),
            sources: SourceMap::new(),
            indexes: HashMap::new(),
            stale: true,
            checked: None,
        }
    }

    /// The workspace directories (no trailing `/`).
    pub fn set_roots(&mut self, roots: Vec<String>) {
        self.roots = roots;
        self.checked = None;
    }

    /// Sets the text of `path`, adding the file if it is new.
    pub fn set_file(&mut self, path: &str, text: String) {
        match self.ids.get(path) {
            Some(id) => {
                let slot = &mut self.files[id.0 as usize];
                if slot.text.as_deref() == Some(text.as_str()) {
                    return;
                }
                slot.text = Some(text.into());
                self.indexes.remove(id);
            }
            None => {
                let id = FileId(self.files.len() as u32);
                self.files.push(Slot {
                    path: path.to_string(),
                    text: Some(text.into()),
                });
                self.ids.insert(path.to_string(), id);
            }
        }
        self.changed();
    }

    pub fn remove_file(&mut self, path: &str) {
        if let Some(id) = self.ids.get(path) {
            self.files[id.0 as usize].text = None;
            self.indexes.remove(id);
            self.changed();
        }
    }

    fn changed(&mut self) {
        self.stale = true;
        self.checked = None;
    }

    pub fn text(&self, path: &str) -> Option<&str> {
        let id = self.ids.get(path)?;
        self.files[id.0 as usize].text.as_deref()
    }

    /// The path and text of a file the world holds (diagnostics name files by id).
    pub fn file(&self, id: FileId) -> Option<(&str, &str)> {
        let slot = self.files.get(id.0 as usize)?;
        Some((slot.path.as_str(), slot.text.as_deref()?))
    }

    /// Every file's path, in the order they were added.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files
            .iter()
            .filter(|s| s.text.is_some())
            .map(|s| s.path.as_str())
    }

    /// The source map of the current texts.
    fn refresh(&mut self) {
        if !self.stale {
            return;
        }
        let mut sources = SourceMap::new();
        for slot in &self.files {
            // A removed file keeps its id under a path no import resolves to.
            match &slot.text {
                Some(text) => sources.add(slot.path.clone(), text.clone()),
                None => sources.add("", ""),
            };
        }
        self.sources = sources;
        self.stale = false;
    }

    /// Every file parsed and indexed (only those changed since are done again).
    fn index(&mut self) {
        self.refresh();
        for (i, slot) in self.files.iter().enumerate() {
            let id = FileId(i as u32);
            if slot.text.is_none() || self.indexes.contains_key(&id) {
                continue;
            }
            let parsed = self.cache.parse(&self.sources, id);
            let text = &self.sources.get(id).text;
            self.indexes
                .insert(id, FileIndex::of(&slot.path, text, &parsed.file));
        }
    }

    /// Every file's diagnostics, by path (an empty list for a file that has none), checked
    /// again only when something changed.
    pub fn diagnostics(&mut self) -> Vec<(String, Vec<Diagnostic>)> {
        self.refresh();
        if self.checked.is_none() {
            self.check();
        }
        let checked = self.checked.as_ref().expect("just checked");
        self.files
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.text.is_some())
            .map(|(i, slot)| {
                let found = checked.get(&FileId(i as u32)).cloned().unwrap_or_default();
                (slot.path.clone(), found)
            })
            .collect()
    }

    fn check(&mut self) {
        let mut groups: BTreeMap<Option<usize>, Vec<FileId>> = BTreeMap::new();
        for (i, slot) in self.files.iter().enumerate() {
            if slot.text.is_some() {
                groups
                    .entry(self.root_of(&slot.path))
                    .or_default()
                    .push(FileId(i as u32));
            }
        }
        let mut sources = self.sources.clone();
        let mut found: HashMap<FileId, Vec<Diagnostic>> = HashMap::new();
        let mut seen = HashSet::new();
        for files in groups.values() {
            let workspace = check::check_workspace_cached(
                &mut sources,
                files,
                self.loader.as_mut(),
                &mut self.cache,
            );
            for d in workspace.all_diagnostics() {
                if seen.insert((d.code, d.span(), d.message.clone())) {
                    found.entry(d.span().file).or_default().push(d.clone());
                }
            }
        }
        // Files the loader read join the world, so their ids stay the same.
        let loaded: Vec<(String, Arc<str>)> = sources
            .iter()
            .skip(self.files.len())
            .map(|(_, f)| (f.path.clone(), f.text.clone()))
            .collect();
        for (path, text) in loaded {
            let id = FileId(self.files.len() as u32);
            self.ids.insert(path.clone(), id);
            self.files.push(Slot {
                path,
                text: Some(text),
            });
        }
        if self.sources.len() != self.files.len() {
            self.stale = true;
        }
        self.checked = Some(found);
    }

    /// The workspace directory `path` is in (the innermost).
    fn root_of(&self, path: &str) -> Option<usize> {
        self.roots
            .iter()
            .enumerate()
            .filter(|(_, root)| {
                path.strip_prefix(root.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
            })
            .max_by_key(|(_, root)| root.len())
            .map(|(i, _)| i)
    }

    /// What the language services read: the current texts, parsed and indexed.
    pub fn analysis(&mut self) -> Analysis<'_> {
        self.index();
        Analysis { world: self }
    }
}

/// A view of the world with every file parsed and indexed; every query is a method.
pub struct Analysis<'w> {
    world: &'w World,
}

impl<'w> Analysis<'w> {
    fn id(&self, path: &str) -> Option<FileId> {
        let id = *self.world.ids.get(path)?;
        self.world.files[id.0 as usize].text.as_ref().map(|_| id)
    }

    fn path(&self, id: FileId) -> &'w str {
        &self.world.files[id.0 as usize].path
    }

    fn text(&self, id: FileId) -> &'w str {
        &self.world.sources.get(id).text
    }

    fn tree(&self, id: FileId) -> &'w ast::File {
        &self.world.cache.get(id).file
    }

    fn index(&self, id: FileId) -> &'w FileIndex {
        &self.world.indexes[&id]
    }

    fn live(&self) -> impl Iterator<Item = FileId> + 'w {
        let world = self.world;
        (0..world.files.len())
            .map(|i| FileId(i as u32))
            .filter(|id| world.files[id.0 as usize].text.is_some())
    }

    /// The files whose declarations `id` sees: those of every program it is part of (a root
    /// with an `agent` block and what it imports), or itself and its imports when no
    /// program reaches it.
    fn program_of(&self, id: FileId) -> Vec<FileId> {
        let mut files = Vec::new();
        for root in self.live().filter(|r| self.index(*r).has_agent) {
            let reached = self.reach(root);
            if reached.contains(&id) {
                files.extend(reached);
            }
        }
        if files.is_empty() {
            files = self.reach(id);
        }
        let mut seen = HashSet::new();
        files.retain(|f| seen.insert(*f));
        files
    }

    /// `id` and every file it imports, transitively.
    fn reach(&self, id: FileId) -> Vec<FileId> {
        let mut order = vec![id];
        let mut i = 0;
        while let Some(&file) = order.get(i) {
            for import in &self.index(file).imports {
                if let Some(next) = self.id(import) {
                    if !order.contains(&next) {
                        order.push(next);
                    }
                }
            }
            i += 1;
        }
        order
    }

    /// The names the program of `id` declares, for completion and highlighting.
    pub fn names(&self, path: &str) -> Names {
        let Some(id) = self.id(path) else {
            return Names::default();
        };
        let files = self.program_of(id);
        Names::of(files.iter().flat_map(|f| &self.tree(*f).items))
    }

    /// Completion at `offset`: from the start of the declaration the cursor is in.
    pub fn completion(&self, path: &str, offset: usize) -> Option<Offer> {
        let id = self.id(path)?;
        let text = self.text(id);
        let offset = floor(text, offset);
        let start = self.entry_start(id, offset);
        let offer = completion::complete(&self.names(path), &text[start..offset]);
        Some(Offer {
            start: start + offer.start,
            words: offer.words,
        })
    }

    /// Where the declaration holding `offset` starts (parsed or not).
    fn entry_start(&self, id: FileId, offset: usize) -> usize {
        let file = self.tree(id);
        let parsed = file.items.iter().map(|i| i.span().start as usize);
        let unparsed = file.unparsed.iter().map(|w| w.span.start as usize);
        parsed
            .chain(unparsed)
            .filter(|&start| start <= offset)
            .max()
            .unwrap_or(0)
    }

    /// The highlighted stretches of the file (semantic tokens).
    pub fn highlight(&self, path: &str) -> Vec<(Range<usize>, highlight::Class)> {
        match self.id(path) {
            Some(id) => highlight::highlight(&self.names(path), self.text(id)),
            None => Vec::new(),
        }
    }

    /// The file in the canonical layout, when it parses.
    pub fn format(&self, path: &str) -> Option<String> {
        let id = self.id(path)?;
        crate::fmt::format_source(id, self.text(id)).ok()
    }
}

/// `offset` within `text`, moved back to a character boundary.
fn floor(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests;
