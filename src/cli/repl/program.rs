//! The session's program: the files loaded, the declarations typed in, and how they are put
//! together for the checker.
//!
//! Every text (a file, or one typed entry named `<repl:N>`) is kept with its parsed items.
//! A typed declaration replaces an earlier one of the same kind and name: the checker is
//! given the earlier text with that declaration blanked out (same length, so every span in
//! that text still points at the right place). The checker starts from a generated root
//! that imports the loaded files, then the typed entries, in order.

use crate::check::{self, Checked, LoadError, Loader};
use crate::diagnostics::{Diagnostic, FileId, SourceMap};
use crate::ide::Names;
use crate::ir;
use crate::syntax::{self, ast};
use indexmap::IndexMap;
use std::collections::HashMap;
use std::rc::Rc;

/// The name of the generated root file.
pub const ROOT: &str = "<session>";

/// The agent a session without one runs as, so expressions and events work on an empty
/// session too.
const DEFAULT_AGENT: &str = "agent repl { channels: [chat, voice, email] }\n";

struct Source {
    text: String,
    /// Where each line starts, so a declaration's line costs a binary search.
    line_starts: Vec<usize>,
    items: Vec<ast::Item>,
    /// `None` for a file, the entry's number for typed text.
    entry: Option<usize>,
}

/// A file `:load` or `:reload` named that cannot be read.
#[derive(Debug)]
pub struct Unreadable {
    pub path: String,
    pub error: LoadError,
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot read `{}`: {}", self.path, self.error)
    }
}

impl std::error::Error for Unreadable {}

/// What makes two declarations the same one: typing it again is a redefinition.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub kind: &'static str,
    /// Empty for the agent: a program has one, and a new one replaces it whatever its name.
    pub name: String,
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            "agent" => f.write_str("agent"),
            "test" => write!(f, "test {:?}", self.name),
            kind => write!(f, "{kind} {}", self.name),
        }
    }
}

pub fn key(item: &ast::Item) -> Option<Key> {
    let (kind, name) = match item {
        ast::Item::Agent(_) => ("agent", ""),
        ast::Item::Target(t) => ("target", t.name.name.as_str()),
        ast::Item::Task(t) => ("task", t.name.name.as_str()),
        ast::Item::Action(a) => ("action", a.name.name.as_str()),
        ast::Item::Reply(r) => ("reply", r.name.name.as_str()),
        ast::Item::Usecase(u) => ("usecase", u.name.name.as_str()),
        ast::Item::Test(t) => ("test", t.name.as_str()),
        ast::Item::Import(_) | ast::Item::Binding(_) => return None,
    };
    Some(Key {
        kind,
        name: name.to_string(),
    })
}

/// One declaration of the program as it stands.
pub struct Decl<'a> {
    pub item: &'a ast::Item,
    pub path: &'a str,
    /// Its source text.
    pub text: &'a str,
    /// 1-based line where it starts.
    pub line: usize,
}

impl Decl<'_> {
    /// The source text of `span`, which lies inside this declaration.
    pub fn slice(&self, span: crate::diagnostics::Span) -> &str {
        let start = self.item.span().start;
        let range = (span.start - start) as usize..(span.end - start) as usize;
        self.text.get(range).unwrap_or("")
    }
}

/// The name a declaration is known by (`:show NAME`); the agent by its own name.
pub fn name(item: &ast::Item) -> Option<&str> {
    match item {
        ast::Item::Agent(a) => Some(&a.name.name),
        ast::Item::Test(t) => Some(&t.name),
        ast::Item::Target(t) => Some(&t.name.name),
        ast::Item::Task(t) => Some(&t.name.name),
        ast::Item::Action(a) => Some(&a.name.name),
        ast::Item::Reply(r) => Some(&r.name.name),
        ast::Item::Usecase(u) => Some(&u.name.name),
        ast::Item::Import(_) | ast::Item::Binding(_) => None,
    }
}

/// The checker's verdict on the whole program, with the sources its spans point into.
pub struct Compiled {
    pub sources: SourceMap,
    pub checked: Checked,
}

impl Compiled {
    pub fn errors(&self) -> usize {
        self.checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .count()
    }
}

/// What a typed entry did to the program.
pub enum Declared {
    /// It joined the program; one line per declaration (`added action x`).
    Joined(Vec<String>),
    /// It was not added: it, or a file it imports, has these syntax errors (they point into
    /// [`Program::sources`]).
    Syntax(Vec<Diagnostic>),
    /// It was not added: it brings these errors into the program (they point into the
    /// attached [`Compiled`]'s sources).
    Rejected(Rc<Compiled>, Vec<Diagnostic>),
}

pub struct Program {
    /// Every text read or typed, for diagnostics of single texts and for `:show`.
    map: SourceMap,
    /// The current text of every file and entry, by path.
    sources: IndexMap<String, Source>,
    /// The files the user loaded, in order.
    roots: Vec<String>,
    entries: usize,
    files: Box<dyn Loader>,
    names: Rc<Names>,
    compiled: Option<Rc<Compiled>>,
    /// The parses of the last check: files that did not change are not parsed again.
    parses: check::ParseCache,
    /// What [`Program::scope`] answers, until the program changes.
    scope: Option<(Rc<ir::Program>, bool)>,
}

impl Program {
    /// An empty program that reads files through `files`.
    pub fn new(files: Box<dyn Loader>) -> Self {
        Program {
            map: SourceMap::new(),
            sources: IndexMap::new(),
            roots: Vec::new(),
            entries: 0,
            files,
            names: Rc::default(),
            compiled: None,
            parses: check::ParseCache::default(),
            scope: None,
        }
    }

    pub fn sources(&self) -> &SourceMap {
        &self.map
    }

    pub fn names(&self) -> Rc<Names> {
        self.names.clone()
    }

    pub fn roots(&self) -> &[String] {
        &self.roots
    }

    /// Registers typed text that is not a declaration (an expression, a command's argument)
    /// so its diagnostics can be shown against it.
    pub fn add_input(&mut self, text: &str) -> FileId {
        self.entries += 1;
        self.map.add(format!("<repl:{}>", self.entries), text)
    }

    /// Reads `path` and the files it imports. Syntax errors are returned (the file is kept:
    /// what parsed joins the program); a file that cannot be read is an `Err`.
    pub fn load(&mut self, path: &str) -> Result<Vec<Diagnostic>, Unreadable> {
        let text = self.files.load(path).map_err(|error| Unreadable {
            path: path.to_string(),
            error,
        })?;
        let mut diagnostics = self.add_file(path, text);
        if !self.roots.iter().any(|r| r == path) {
            self.roots.push(path.to_string());
        }
        diagnostics.extend(self.read_imports_of(path));
        self.changed();
        Ok(diagnostics)
    }

    /// Reads every file again. Typed declarations stay, and still replace what they replaced.
    pub fn reload(&mut self) -> (Vec<Diagnostic>, Vec<Unreadable>) {
        let files: Vec<String> = self
            .sources
            .iter()
            .filter(|(_, s)| s.entry.is_none())
            .map(|(p, _)| p.clone())
            .collect();
        let (mut diagnostics, mut failures) = (Vec::new(), Vec::new());
        for path in files {
            match self.files.load(&path) {
                Ok(text) if text == self.sources[&path].text => {}
                Ok(text) => diagnostics.extend(self.add_file(&path, text)),
                Err(error) => failures.push(Unreadable { path, error }),
            }
        }
        let paths: Vec<String> = self.sources.keys().cloned().collect();
        for path in paths {
            diagnostics.extend(self.read_imports_of(&path));
        }
        self.changed();
        (diagnostics, failures)
    }

    /// Adds typed text (one or more declarations) to the program, unless it has syntax errors
    /// or brings new errors into the program.
    pub fn declare(&mut self, text: &str) -> Declared {
        self.entries += 1;
        let path = format!("<repl:{}>", self.entries);
        let id = self.map.add(path.clone(), text);
        let parsed = syntax::parse(id, text);
        if parsed.diagnostics.iter().any(Diagnostic::is_error) {
            return Declared::Syntax(parsed.diagnostics);
        }
        let notes = self.describe(&parsed.file.items);
        let before = self.compiled();
        let snapshot = self.sources.len();
        self.sources.insert(
            path.clone(),
            Source {
                line_starts: line_starts(text),
                text: text.to_string(),
                items: parsed.file.items,
                entry: Some(self.entries),
            },
        );
        let imported = self.read_imports_of(&path);
        self.changed();
        let after = self.compiled();
        if !imported.is_empty() || after.errors() > before.errors() {
            // Undo: the entry and any file it pulled in leave; the program is as it was.
            self.sources.truncate(snapshot);
            self.names = Rc::new(Names::of(self.decls().iter().map(|d| d.item)));
            self.compiled = Some(before.clone());
            if !imported.is_empty() {
                return Declared::Syntax(imported);
            }
            let mut diagnostics = new_errors(&before, &after);
            if diagnostics.is_empty() {
                diagnostics = after.checked.diagnostics.clone();
            }
            return Declared::Rejected(after, diagnostics);
        }
        Declared::Joined(notes)
    }

    /// The checker's verdict on the current program (cached until the program changes).
    pub fn compiled(&mut self) -> Rc<Compiled> {
        if let Some(compiled) = &self.compiled {
            return compiled.clone();
        }
        let mut sources = SourceMap::new();
        let root = sources.add(ROOT, self.root_text());
        let mut parses = std::mem::take(&mut self.parses);
        let mut loader = Blanked { program: self };
        let checked = check::check_program_cached(&mut sources, root, &mut loader, &mut parses);
        self.parses = parses;
        let compiled = Rc::new(Compiled { sources, checked });
        self.compiled = Some(compiled.clone());
        compiled
    }

    /// The program expressions are checked against and conversations run: the session's
    /// own, or, while it has errors, its agent alone (else the default agent), so
    /// expressions over the params still work. `None` when the program cannot run.
    pub fn scope(&mut self) -> (Rc<ir::Program>, bool) {
        if let Some(scope) = &self.scope {
            return scope.clone();
        }
        let compiled = self.compiled();
        let scope = match &compiled.checked.program {
            Some(program) => (Rc::new(program.clone()), true),
            None => (Rc::new(self.agent_alone()), false),
        };
        self.scope = Some(scope.clone());
        scope
    }

    /// The program's agent checked alone, or the default agent when it does not check.
    fn agent_alone(&self) -> ir::Program {
        let agent = self
            .decls()
            .iter()
            .find(|d| matches!(d.item, ast::Item::Agent(_)))
            .map(|d| d.text.to_string());
        agent
            .into_iter()
            .chain([DEFAULT_AGENT.to_string()])
            .find_map(|text| {
                let mut sources = SourceMap::new();
                let root = sources.add(ROOT, text);
                check::check_program(&mut sources, root, &mut check::MemoryLoader::new()).program
            })
            .expect("the default agent checks")
    }

    /// The program's declarations as they stand (replaced ones left out), in program order.
    pub fn decls(&self) -> Vec<Decl<'_>> {
        let holders = self.holders();
        let mut out = Vec::new();
        for path in self.order() {
            let source = &self.sources[path.as_str()];
            for item in &source.items {
                if replaced(item, source.entry, &holders) {
                    continue;
                }
                let span = item.span();
                let line = source
                    .line_starts
                    .partition_point(|&s| s <= span.start as usize);
                out.push(Decl {
                    item,
                    path: self.sources.get_key_value(path.as_str()).expect("listed").0,
                    text: &source.text[span.range()],
                    line,
                });
            }
        }
        out
    }

    /// One line per declaration of `items`: added, or what it replaces.
    fn describe(&self, items: &[ast::Item]) -> Vec<String> {
        let decls = self.decls();
        items
            .iter()
            .map(|item| match (key(item), item) {
                (None, ast::Item::Import(i)) => format!("imported {}", i.path),
                (None, _) => "added binding".to_string(),
                (Some(new), _) => match decls.iter().find(|d| key(d.item).as_ref() == Some(&new)) {
                    Some(d) => format!("replaced {new} (was {}:{})", d.path, d.line),
                    None => format!("added {new}"),
                },
            })
            .collect()
    }

    fn changed(&mut self) {
        self.compiled = None;
        self.scope = None;
        self.names = Rc::new(Names::of(self.decls().iter().map(|d| d.item)));
    }

    /// Parses `text` as the current version of the file `path`.
    fn add_file(&mut self, path: &str, text: String) -> Vec<Diagnostic> {
        let id = self.map.add(path, text.clone());
        let parsed = syntax::parse(id, &text);
        self.sources.insert(
            path.to_string(),
            Source {
                line_starts: line_starts(&text),
                text,
                items: parsed.file.items,
                entry: None,
            },
        );
        parsed.diagnostics
    }

    /// Reads the files `path` imports that are not read yet, and theirs. A missing file is
    /// left for the checker to report, with the import's span.
    fn read_imports_of(&mut self, path: &str) -> Vec<Diagnostic> {
        let mut diagnostics = Vec::new();
        let mut pending = vec![path.to_string()];
        while let Some(path) = pending.pop() {
            let imports: Vec<String> = imports(&self.sources[path.as_str()].items)
                .map(|i| check::resolve_import(&path, i))
                .filter(|p| !self.sources.contains_key(p.as_str()))
                .collect();
            for import in imports {
                if let Ok(text) = self.files.load(&import) {
                    diagnostics.extend(self.add_file(&import, text));
                    pending.push(import);
                }
            }
        }
        diagnostics
    }

    fn root_text(&self) -> String {
        let mut text: String = self
            .roots
            .iter()
            .cloned()
            .chain(self.entry_paths())
            .map(|path| format!("import {}\n", quote(&path)))
            .collect();
        if !self
            .decls()
            .iter()
            .any(|d| matches!(d.item, ast::Item::Agent(_)))
        {
            text.push_str(DEFAULT_AGENT);
        }
        text
    }

    fn entry_paths(&self) -> impl Iterator<Item = String> + '_ {
        self.sources
            .iter()
            .filter(|(_, s)| s.entry.is_some())
            .map(|(p, _)| p.clone())
    }

    /// The texts of the program, each once, in import order: the loaded files and what they
    /// import, then the typed entries.
    fn order(&self) -> Vec<String> {
        let mut seen: IndexMap<String, ()> = IndexMap::new();
        let starts: Vec<String> = self
            .roots
            .iter()
            .cloned()
            .chain(self.entry_paths())
            .collect();
        for start in starts {
            self.visit(&start, &mut seen);
        }
        seen.into_keys().collect()
    }

    fn visit(&self, path: &str, seen: &mut IndexMap<String, ()>) {
        let Some(source) = self.sources.get(path) else {
            return;
        };
        if seen.insert(path.to_string(), ()).is_some() {
            return;
        }
        for import in imports(&source.items) {
            self.visit(&check::resolve_import(path, import), seen);
        }
    }

    /// For every declared key, the latest typed entry that declares it.
    fn holders(&self) -> HashMap<Key, usize> {
        let mut holders = HashMap::new();
        for source in self.sources.values() {
            let Some(entry) = source.entry else { continue };
            for key in source.items.iter().filter_map(key) {
                let latest = holders.entry(key).or_insert(entry);
                *latest = (*latest).max(entry);
            }
        }
        holders
    }
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// Whether a typed entry later than `entry` declares the same thing as `item`.
fn replaced(item: &ast::Item, entry: Option<usize>, holders: &HashMap<Key, usize>) -> bool {
    key(item)
        .and_then(|k| holders.get(&k))
        .is_some_and(|&latest| entry.is_none_or(|e| latest > e))
}

fn imports(items: &[ast::Item]) -> impl Iterator<Item = &str> {
    items.iter().filter_map(|item| match item {
        ast::Item::Import(i) => Some(i.path.as_str()),
        _ => None,
    })
}

/// `path` as a string literal of the language (`{` would start an interpolation).
fn quote(path: &str) -> String {
    let mut out = String::from('"');
    for c in path.chars() {
        if matches!(c, '"' | '\\' | '{') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The errors of `after` that `before` did not have, compared by code, message and place.
fn new_errors(before: &Compiled, after: &Compiled) -> Vec<Diagnostic> {
    let place = |c: &Compiled, d: &Diagnostic| {
        let span = d.span();
        let path = (span.file.0 as usize) < c.sources.len();
        let path = path.then(|| c.sources.get(span.file).path.clone());
        (d.code, d.message.clone(), path, span.start, span.end)
    };
    let old: Vec<_> = before
        .checked
        .diagnostics
        .iter()
        .map(|d| place(before, d))
        .collect();
    after
        .checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error() && !old.contains(&place(after, d)))
        .cloned()
        .collect()
}

/// Serves the checker the program's texts, with replaced declarations blanked out.
struct Blanked<'a> {
    program: &'a mut Program,
}

impl Loader for Blanked<'_> {
    fn load(&mut self, path: &str) -> Result<String, LoadError> {
        let Some(source) = self.program.sources.get(path) else {
            return self.program.files.load(path);
        };
        let holders = self.program.holders();
        let mut text = source.text.clone().into_bytes();
        for item in &source.items {
            if replaced(item, source.entry, &holders) {
                for byte in &mut text[item.span().range()] {
                    if *byte != b'\n' {
                        *byte = b' ';
                    }
                }
            }
        }
        // Whole UTF-8 sequences were replaced, so the text is still UTF-8.
        String::from_utf8(text).map_err(|e| e.to_string().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::MemoryLoader;

    const MAIN: &str = "agent a { channels: [chat] }\n\
        action tag { target: conversation, task: add_label(\"old\") }\n\
        on conversation_started do tag\n";

    fn program() -> Program {
        let files = MemoryLoader::new()
            .with("main.agent", MAIN)
            .with("lib/replies.agent", "reply hi { text: \"hi\" }\n")
            .with("lib/broken.agent", "reply { }\n");
        let mut program = Program::new(Box::new(files));
        assert!(program.load("main.agent").expect("readable").is_empty());
        program
    }

    fn action_label(program: &mut Program) -> String {
        let compiled = program.compiled();
        let ir = compiled
            .checked
            .program
            .as_ref()
            .expect("the program checks");
        format!("{:?}", ir.actions["tag"].task.args)
    }

    #[test]
    fn a_typed_declaration_replaces_the_file_one() {
        let mut program = program();
        assert!(action_label(&mut program).contains("old"));
        let Declared::Joined(notes) =
            program.declare("action tag { target: conversation, task: add_label(\"new\") }")
        else {
            panic!("the declaration is refused");
        };
        assert_eq!(notes, ["replaced action tag (was main.agent:2)"]);
        assert!(action_label(&mut program).contains("new"));
        // The file's own text is untouched: only the checker's copy is blanked.
        let decls = program.decls();
        let tags: Vec<&str> = decls
            .iter()
            .filter(|d| name(d.item) == Some("tag"))
            .map(|d| d.path)
            .collect();
        assert_eq!(tags, ["<repl:1>"]);
    }

    #[test]
    fn a_declaration_that_brings_errors_is_refused_and_undone() {
        let mut program = program();
        let before = program.decls().len();
        match program.declare("action tag { target: nowhere, task: add_label(\"x\") }") {
            Declared::Rejected(_, diagnostics) => {
                assert_eq!(diagnostics.len(), 1);
                assert_eq!(diagnostics[0].code.as_str(), "E0202");
            }
            _ => panic!("the declaration is accepted"),
        }
        assert_eq!(program.decls().len(), before);
        assert!(action_label(&mut program).contains("old"));
        assert!(matches!(program.declare("action {"), Declared::Syntax(_)));
    }

    #[test]
    fn typed_imports_join_and_broken_ones_are_refused() {
        let mut program = program();
        assert!(matches!(
            program.declare("import \"lib/replies.agent\""),
            Declared::Joined(_)
        ));
        assert_eq!(program.names().replies, ["hi"]);
        assert!(matches!(
            program.declare("import \"lib/broken.agent\""),
            Declared::Syntax(_)
        ));
        assert_eq!(program.names().replies, ["hi"]);
    }

    #[test]
    fn a_session_without_an_agent_runs_as_the_default_one() {
        let mut program = Program::new(Box::new(MemoryLoader::new()));
        let (scope, whole) = program.scope();
        assert!(whole);
        assert_eq!(scope.agent.name, "repl");
        assert!(matches!(
            program.declare("agent mine { channels: [voice] }"),
            Declared::Joined(_)
        ));
        assert_eq!(program.scope().0.agent.name, "mine");
    }

    #[test]
    fn quoting_keeps_paths_literal() {
        assert_eq!(quote(r#"a{b}"c\d"#), r#""a\{b}\"c\\d""#);
    }
}
