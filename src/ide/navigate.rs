//! Go to definition, find references, rename, and the symbol lists: all by the names each
//! file's index holds, resolved within the program the file is part of.

use super::index::{Key, Occurrence, Symbol, SymbolKind};
use super::{Analysis, TextEdit, WorkspaceEdit};
use crate::diagnostics::FileId;
use crate::syntax::{lexer, KEYWORDS};
use std::ops::Range;

/// Why a name cannot be renamed (the editor shows it instead of renaming).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenameError {
    /// The cursor is on no name.
    NoName,
    /// A name of the language or the catalogue, not of the program.
    BuiltIn,
    /// The new name is not one word.
    NotAName(String),
    Keyword(String),
    /// Nothing in the program declares or writes the name.
    DeclaredNowhere,
}

impl std::fmt::Display for RenameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RenameError::NoName => f.write_str("there is no name here to rename"),
            RenameError::BuiltIn => {
                f.write_str("only what the program declares can be renamed: this is built in")
            }
            RenameError::NotAName(name) => {
                write!(f, "`{name}` is not a name: use letters, digits and `_`")
            }
            RenameError::Keyword(name) => write!(f, "`{name}` is a keyword"),
            RenameError::DeclaredNowhere => {
                f.write_str("this name is declared nowhere in the program")
            }
        }
    }
}

impl std::error::Error for RenameError {}

/// A stretch of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub path: String,
    pub range: Range<usize>,
}

impl Analysis<'_> {
    /// The name at `offset` in `path`, with its file.
    pub(super) fn occurrence(&self, path: &str, offset: usize) -> Option<(FileId, &Occurrence)> {
        let id = self.id(path)?;
        Some((id, self.index(id).at(offset)?))
    }

    /// Every occurrence of `key` in the files `id` sees.
    fn occurrences_of(&self, id: FileId, key: &Key) -> Vec<(FileId, &Occurrence)> {
        let identity = key.identity();
        let mut found = Vec::new();
        for file in self.program_of(id) {
            for o in &self.index(file).occurrences {
                if o.key.identity() == identity {
                    found.push((file, o));
                }
            }
        }
        found
    }

    fn location(&self, id: FileId, range: Range<usize>) -> Location {
        Location {
            path: self.path(id).to_string(),
            range,
        }
    }

    /// Where the name at `offset` is declared: a declaration, a param, a block, a task's
    /// parameter, or the file an import names.
    pub fn definition(&self, path: &str, offset: usize) -> Vec<Location> {
        let Some((id, at)) = self.occurrence(path, offset) else {
            return Vec::new();
        };
        if let Key::Import(target) = &at.key {
            return match self.id(target) {
                Some(file) => vec![self.location(file, 0..0)],
                None => Vec::new(),
            };
        }
        self.occurrences_of(id, &at.key)
            .into_iter()
            .filter(|(_, o)| o.def)
            .map(|(file, o)| self.location(file, o.range.clone()))
            .collect()
    }

    /// Every place the name at `offset` is written, its declaration first when asked for.
    pub fn references(&self, path: &str, offset: usize, declaration: bool) -> Vec<Location> {
        let Some((id, at)) = self.occurrence(path, offset) else {
            return Vec::new();
        };
        let mut found: Vec<(bool, Location)> = self
            .occurrences_of(id, &at.key)
            .into_iter()
            .filter(|(_, o)| declaration || !o.def)
            .map(|(file, o)| (!o.def, self.location(file, o.range.clone())))
            .collect();
        found.sort_by_key(|(r, l)| (*r, l.path.clone(), l.range.start, l.range.end));
        found.dedup();
        found.into_iter().map(|(_, l)| l).collect()
    }

    /// The name at `offset`, if it can be renamed (what an editor selects before it asks
    /// for the new name), or why not.
    pub fn renamable(&self, path: &str, offset: usize) -> Result<Range<usize>, RenameError> {
        let Some((_, at)) = self.occurrence(path, offset) else {
            return Err(RenameError::NoName);
        };
        if !at.key.is_declared() {
            return Err(RenameError::BuiltIn);
        }
        Ok(at.range.clone())
    }

    /// The edits that rename the name at `offset` to `new_name` everywhere the program
    /// writes it; an error says why it cannot be.
    pub fn rename(
        &self,
        path: &str,
        offset: usize,
        new_name: &str,
    ) -> Result<WorkspaceEdit, RenameError> {
        self.renamable(path, offset)?;
        let word = lexer::word_len(new_name.as_bytes(), 0);
        if new_name.is_empty() || word != new_name.len() {
            return Err(RenameError::NotAName(new_name.to_string()));
        }
        if KEYWORDS.contains(&new_name) {
            return Err(RenameError::Keyword(new_name.to_string()));
        }
        let mut edits = WorkspaceEdit::new();
        for location in self.references(path, offset, true) {
            edits.entry(location.path).or_default().push(TextEdit {
                range: location.range,
                text: new_name.to_string(),
            });
        }
        if edits.is_empty() {
            return Err(RenameError::DeclaredNowhere);
        }
        Ok(edits)
    }

    /// The outline of a file: its declarations, with params and blocks inside.
    pub fn document_symbols(&self, path: &str) -> Vec<Symbol> {
        match self.id(path) {
            Some(id) => self.index(id).symbols.clone(),
            None => Vec::new(),
        }
    }

    /// The declarations of every file whose name contains `query` (case ignored).
    pub fn workspace_symbols(&self, query: &str) -> Vec<(Location, Symbol)> {
        let query = query.to_lowercase();
        let mut found = Vec::new();
        for id in self.live() {
            let mut stack: Vec<&Symbol> = self.index(id).symbols.iter().collect();
            while let Some(symbol) = stack.pop() {
                stack.extend(&symbol.children);
                if matches!(symbol.kind, SymbolKind::Binding | SymbolKind::Import) {
                    continue;
                }
                if symbol.name.to_lowercase().contains(&query) {
                    let location = self.location(id, symbol.selection.clone());
                    found.push((location, symbol.clone()));
                }
            }
        }
        found.sort_by_key(|(l, _)| (l.path.clone(), l.range.start));
        found
    }
}
