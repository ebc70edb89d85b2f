//! Resolution, types and domain rules over a whole program, then lowering to the IR.
//! No I/O here: imported files come through a [`Loader`].
//!
//! - [`check_program`]: one program (a root file and everything it imports);
//!   [`check_program_cached`] keeps the parses of unchanged files across calls.
//! - [`check_workspace`]: every program among a set of files (`agentc check DIR`), with
//!   warnings for files no program imports; [`check_workspace_cached`] keeps parses.
//! - [`check_expr`]: one expression against a checked program's scope (the REPL).
//! - [`type_at`]: the type of the expression at a position of a program (hover).
//!
//! Choices where the spec is silent:
//! - Program order is the root, then its imports depth-first in the order written; bindings
//!   run in that order of files, source order within each.
//! - Diagnostics are sorted by file (program order) then position.
//! - Secrets are traced through expressions (`lower(secret(..))` still carries one; a
//!   comparison does not). They may go into target fields, `auth`, http headers and bodies
//!   and `send_dtmf`; a URL path or query string is E0406, anything shown or stored (replies,
//!   labels, params, messages, tickets, rows, idempotency keys) is E0407.
//! - A declared task's fields see only its own parameters (and `response` in `result`), so
//!   it can run from any binding.
//! - When `channels` is missing or broken (already an error), channel rules are skipped.
//! - Retry defaults: see [`DEFAULT_ATTEMPTS`], [`DEFAULT_BACKOFF_MS`], [`DEFAULT_MAX_BACKOFF_MS`].

mod actions;
mod bindings;
mod checker;
mod compiled;
mod consts;
mod decls;
mod expected;
mod expr;
mod fields;
mod load;
mod mocks;
mod ops;
mod parallel;
mod program;
mod replies;
mod scope;
pub(crate) mod security;
mod soql;
mod starts;
mod test_blocks;
mod types;
mod unused;

#[cfg(test)]
mod tests;

use crate::catalogue;
use crate::diagnostics::{suggest, Code, Diagnostic, FileId, SourceMap, Span};
use crate::ir;
use crate::syntax::ast::{self, Item};
pub use compiled::{check_compiled, Breach};
pub use load::{LoadError, ParseCache};
pub use mocks::Evaluate;
use std::collections::{HashMap, HashSet};

pub use decls::{declared_signature, DEFAULT_ATTEMPTS, DEFAULT_BACKOFF_MS, DEFAULT_MAX_BACKOFF_MS};
pub use types::Type;

/// Reads imported files. The CLI implements it on the file system; tests and the REPL in
/// memory. `path` is already resolved against the importing file (see [`resolve_import`]).
pub trait Loader {
    fn load(&mut self, path: &str) -> Result<String, LoadError>;
}

/// A [`Loader`] over files held in memory, by path (tests, the REPL, benchmarks). Its root
/// is the top of those paths: a path that leaves it (`../x.agent`, `/x.agent`) is refused.
#[derive(Clone, Debug, Default)]
pub struct MemoryLoader {
    pub files: HashMap<String, String>,
}

impl MemoryLoader {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn with(mut self, path: &str, text: &str) -> Self {
        self.files.insert(load::normalize(path), text.to_string());
        self
    }
}

impl Loader for MemoryLoader {
    fn load(&mut self, path: &str) -> Result<String, LoadError> {
        let path = load::normalize(path);
        if path.starts_with('/') || path == ".." || path.starts_with("../") {
            return Err(LoadError::OutsideRoot { root: ".".into() });
        }
        self.files
            .get(&path)
            .cloned()
            .ok_or_else(|| LoadError::Unreadable("no such file".into()))
    }
}

/// The path an `import` names, relative to the importing file's directory, with `.` and
/// `..` resolved lexically (so a file reached by two spellings is read once).
pub fn resolve_import(importer: &str, import: &str) -> String {
    if import.starts_with('/') {
        return load::normalize(import);
    }
    let dir = importer.rfind('/').map_or("", |i| &importer[..=i]);
    load::normalize(&format!("{dir}{import}"))
}

/// The outcome of checking one program (a root and everything it imports).
#[derive(Debug, Default)]
pub struct Checked {
    /// Present when there are no errors.
    pub program: Option<ir::Program>,
    /// Syntax, import and checker diagnostics, ordered by file (program order) and position.
    pub diagnostics: Vec<Diagnostic>,
}

/// Checks the program whose root file is `root` (already in `sources`): parses it and,
/// recursively, its imports (added to `sources` through `loader`), checks the whole, and
/// lowers it to the IR when there is no error.
pub fn check_program(sources: &mut SourceMap, root: FileId, loader: &mut dyn Loader) -> Checked {
    check_with_cache(
        sources,
        root,
        loader,
        &mut ParseCache::default(),
        Tests::Checked,
        Keep::Program,
    )
    .0
}

/// [`check_program`] for what `agentc run` runs: the `test` blocks are left out (not
/// checked, not lowered, their syntax errors not reported), so a mistake in a test does
/// not stop the program; `agentc test` and `agentc check` still report it.
pub fn check_program_to_run(
    sources: &mut SourceMap,
    root: FileId,
    loader: &mut dyn Loader,
) -> Checked {
    check_with_cache(
        sources,
        root,
        loader,
        &mut ParseCache::default(),
        Tests::Left,
        Keep::Program,
    )
    .0
}

/// Whether a check covers the program's `test` blocks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tests {
    Checked,
    Left,
}

/// What a check keeps besides its diagnostics.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    /// The lowered program ([`Checked::program`]), for what runs, tests or writes it.
    Program,
    /// Only the diagnostics (`agentc check`): each declaration's IR is dropped as soon as it
    /// is lowered, so the whole IR is never held beside the whole tree (a third of the
    /// peak memory of a large check, and the time the kernel takes to hand out its pages).
    Diagnostics,
}

/// [`check_program`] keeping parses in `cache` across calls (the REPL checks the program
/// again after each declaration): a file whose id and text did not change is not parsed
/// again. `sources` may be a new map each time.
pub fn check_program_cached(
    sources: &mut SourceMap,
    root: FileId,
    loader: &mut dyn Loader,
    cache: &mut ParseCache,
) -> Checked {
    cache.new_sources();
    check_with_cache(sources, root, loader, cache, Tests::Checked, Keep::Program).0
}

/// Also returns the program's files, root first.
fn check_with_cache(
    sources: &mut SourceMap,
    root: FileId,
    loader: &mut dyn Loader,
    cache: &mut ParseCache,
    tests: Tests,
    keep: Keep,
) -> (Checked, Vec<FileId>) {
    let loaded = load::load(sources, root, loader, cache);
    let mut diagnostics = Vec::new();
    for id in &loaded.files {
        let parsed = cache.get(*id);
        if tests == Tests::Checked || parsed.diagnostics.is_empty() {
            diagnostics.extend(parsed.diagnostics.iter().cloned());
            continue;
        }
        let broken = crate::syntax::test_block_ranges(&sources.get(*id).text);
        let in_a_test = |d: &Diagnostic| {
            let at = d.span().start as usize;
            broken.iter().any(|range| range.contains(&at))
                || parsed.file.items.iter().any(|item| match item {
                    Item::Test(t) => t.span.start <= d.span().start && d.span().end <= t.span.end,
                    _ => false,
                })
        };
        diagnostics.extend(parsed.diagnostics.iter().filter(|d| !in_a_test(d)).cloned());
    }
    diagnostics.extend(loaded.diagnostics);
    let files: Vec<&ast::File> = loaded.files.iter().map(|id| &cache.get(*id).file).collect();
    let mut program = program::Program::collect(&files, root, &mut diagnostics);
    // An import that could not be read declares names nobody knows: none is unknown.
    program.broken_import |= diagnostics.iter().any(|d| d.code == Code::ImportNotFound);
    program.incomplete |= program.broken_import;
    if tests == Tests::Left {
        program.tests.clear();
    }
    let lowered =
        checker::check_and_lower(&program, &loaded.files, sources, &mut diagnostics, keep);
    sort(&mut diagnostics, &loaded.files);
    let checked = Checked {
        program: lowered,
        diagnostics,
    };
    (checked, loaded.files)
}

/// Program order of files, then position; the sort is stable.
fn sort(diagnostics: &mut [Diagnostic], files: &[FileId]) {
    let rank: HashMap<FileId, usize> = files.iter().enumerate().map(|(i, f)| (*f, i)).collect();
    diagnostics.sort_by_key(|d| {
        let span = d.span();
        (
            rank.get(&span.file).copied().unwrap_or(usize::MAX),
            span.start,
        )
    });
}

/// The outcome of `agentc check` over a set of files.
#[derive(Debug, Default)]
pub struct Workspace {
    /// One entry per root (a file with an `agent` block, in the order the files were given,
    /// then each test file that imports one). A diagnostic already reported for an earlier root (a shared import's) is not repeated.
    pub programs: Vec<(FileId, Checked)>,
    /// About files no program imports: W0605 and their syntax errors; when no file has an
    /// `agent` block at all, E0103 for each file instead.
    pub diagnostics: Vec<Diagnostic>,
}

impl Workspace {
    /// Every diagnostic, programs first.
    pub fn all_diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.programs
            .iter()
            .flat_map(|(_, c)| &c.diagnostics)
            .chain(&self.diagnostics)
    }
}

/// Checks every program among `files` (all already in `sources`): each file with an `agent`
/// block is a root, checked with what it imports. A file no such program reaches whose
/// imports lead to an `agent` block (a test file, `main_test.agent` importing `main.agent`)
/// is a root too, so its `test` blocks run and its mistakes are reported.
pub fn check_workspace(
    sources: &mut SourceMap,
    files: &[FileId],
    loader: &mut dyn Loader,
) -> Workspace {
    workspace(
        sources,
        files,
        loader,
        &mut ParseCache::default(),
        Keep::Program,
    )
}

/// [`check_workspace`] keeping parses in `cache` across calls (the language server checks
/// again after each edit): only files whose text changed are parsed again. No program's IR
/// is kept, only diagnostics: an editor needs nothing else, and holding the IR of a large
/// program beside its trees would be most of the check's time and memory peak.
pub fn check_workspace_cached(
    sources: &mut SourceMap,
    files: &[FileId],
    loader: &mut dyn Loader,
    cache: &mut ParseCache,
) -> Workspace {
    cache.new_sources();
    workspace(sources, files, loader, cache, Keep::Diagnostics)
}

/// The diagnostics of [`check_workspace`] (programs first), without keeping any program's
/// IR: what `agentc check` reports. The files' trees stay in `parses`, whose owner decides
/// when they are freed.
pub fn workspace_diagnostics(
    sources: &mut SourceMap,
    files: &[FileId],
    loader: &mut dyn Loader,
    parses: &mut ParseCache,
) -> Vec<Diagnostic> {
    let workspace = workspace(sources, files, loader, parses, Keep::Diagnostics);
    workspace.all_diagnostics().cloned().collect()
}

fn workspace(
    sources: &mut SourceMap,
    files: &[FileId],
    loader: &mut dyn Loader,
    cache: &mut ParseCache,
    keep: Keep,
) -> Workspace {
    let roots: Vec<FileId> = files
        .iter()
        .copied()
        .filter(|id| has_agent(cache, sources, *id))
        .collect();
    let mut found = Found {
        keep,
        workspace: Workspace::default(),
        reached: HashSet::new(),
        reported: HashSet::new(),
    };
    for root in &roots {
        found.add(sources, *root, loader, cache);
    }
    for id in files {
        if found.reached.contains(id) {
            continue;
        }
        let imported = load::load(sources, *id, loader, cache).files;
        if imported[1..]
            .iter()
            .any(|file| has_agent(cache, sources, *file))
        {
            found.add(sources, *id, loader, cache);
        }
    }
    let Found {
        mut workspace,
        reached,
        ..
    } = found;
    for id in files.iter().filter(|id| !reached.contains(id)) {
        let path = &sources.get(*id).path;
        let at = Span::new(*id, 0, 0);
        workspace
            .diagnostics
            .push(if workspace.programs.is_empty() {
                Diagnostic::new(
                    Code::NoAgent,
                    format!("`{path}` has no `agent` block, and no checked file has one"),
                    at,
                )
                .with_help(
                    "a program's root file holds its `agent` block: add one (`agent support { \
                 channels: [chat] }`), import the file that has one, or check the directory \
                 that holds the root",
                )
            } else {
                Diagnostic::new(
                    Code::OrphanFile,
                    format!("`{path}` is not imported by any program"),
                    at,
                )
                .with_help("import it from a program's root (`import \"…\"`), or delete it")
            });
        workspace
            .diagnostics
            .extend(cache.parse(sources, *id).diagnostics.iter().cloned());
    }
    workspace
}

/// The programs of a workspace as they are checked.
struct Found {
    keep: Keep,
    workspace: Workspace,
    /// Every file of a program checked so far.
    reached: HashSet<FileId>,
    /// A diagnostic already reported for an earlier root (a shared import's).
    reported: HashSet<(Code, Span, String)>,
}

impl Found {
    fn add(
        &mut self,
        sources: &mut SourceMap,
        root: FileId,
        loader: &mut dyn Loader,
        cache: &mut ParseCache,
    ) {
        let (mut checked, program_files) =
            check_with_cache(sources, root, loader, cache, Tests::Checked, self.keep);
        self.reached.extend(program_files);
        checked
            .diagnostics
            .retain(|d| self.reported.insert((d.code, d.span(), d.message.clone())));
        self.workspace.programs.push((root, checked));
    }
}

/// Whether the file holds an `agent` block ([`ast::File::has_agent`]).
fn has_agent(cache: &mut ParseCache, sources: &SourceMap, id: FileId) -> bool {
    cache.parse(sources, id).file.has_agent()
}

/// A `mock` step outside a `test` block (a `--mocks` file, the REPL's `:mock`), checked
/// against a checked program by the same rules as in a test block; `value` checks and
/// evaluates its path, status and body. The step spans `mock.span`.
pub fn check_mock(
    program: &ir::Program,
    mock: &ast::Mock,
    value: &mut mocks::Evaluate,
) -> Result<ir::TestStep, Vec<Diagnostic>> {
    let other = |name: &str| {
        let has = |found: bool, what| found.then_some(what);
        has(program.actions.contains_key(name), "an action")
            .or(has(program.replies.contains_key(name), "a reply"))
            .or(has(program.usecases.contains_key(name), "a use case"))
            .or(has(program.tasks.contains_key(name), "a task"))
    };
    let targets = mocks::Targets {
        declared: program
            .targets
            .iter()
            .map(|(name, t)| (name.as_str(), Some(t.kind.spec())))
            .collect(),
        other: &other,
        any_may_be_declared: false,
    };
    let mut diagnostics = Vec::new();
    mocks::lower(&targets, mock, mock.span, value, &mut diagnostics).ok_or(diagnostics)
}

/// Where an expression typed at the REPL is evaluated: which built-in names it may read.
/// The agent's params, `user`, `caller` (voice agents) and `conversation` are always in scope.
#[derive(Clone, Debug, Default)]
pub struct ExprContext {
    /// The event whose payload `event` holds (its fields are then checked);
    /// `None`: `event` is the last event, any record.
    pub event: Option<String>,
    /// `usecase` is readable, as in `in usecase` bindings.
    pub usecase: bool,
    /// `block` is readable (and `usecase`), as in `at block` bindings.
    pub block: bool,
}

/// An expression checked on its own (typed at the REPL, a value in a mocks file).
#[derive(Debug)]
pub struct CheckedExpr {
    pub expr: ir::Expr,
    /// Its type's name: `text`, `number`, `bool`, `duration`, `list`, `record`, `any`,
    /// `null`, `auth`.
    pub ty: String,
    /// Its value is computed from a `secret(..)` read (the rule E0407 applies to
    /// programs), so it is never shown.
    pub carries_secret: bool,
}

/// Checks one expression against `program`'s scope, or returns the errors found. Spans in
/// the diagnostics are those of `expr`.
pub fn check_expr(
    program: &ir::Program,
    context: &ExprContext,
    expr: &ast::Expr,
) -> Result<CheckedExpr, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let event = match &context.event {
        Some(name) => match catalogue::event(name) {
            Some(spec) => scope::EventScope::Known(spec),
            None => {
                let help = unknown_help(
                    name,
                    catalogue::EVENTS.iter().map(|e| e.name),
                    "see `agentc explain E0209` for the list of events".into(),
                );
                return Err(vec![Diagnostic::new(
                    Code::UnknownEvent,
                    format!("unknown event `{name}`"),
                    expr.span,
                )
                .with_help(help)]);
            }
        },
        None => scope::EventScope::Any,
    };
    let params: HashMap<&str, Type> = program
        .agent
        .params
        .iter()
        .map(|p| (p.name.as_str(), Type::from_ir(p.ty)))
        .collect();
    let access = |on: bool| {
        if on {
            scope::Access::Yes
        } else {
            scope::Access::No
        }
    };
    let scope = scope::Scope {
        usecase: access(context.usecase || context.block),
        block: access(context.block),
        ..scope::Scope::conversation(
            "this expression",
            &params,
            program.agent.channels.contains(&catalogue::Channel::Voice),
            event,
        )
    };
    let typed = expr::ExprChecker::new(scope, &mut diags).check(expr);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(diags);
    }
    Ok(CheckedExpr {
        expr: typed.expr,
        ty: typed.ty.name().to_string(),
        carries_secret: typed.secret.is_some(),
    })
}

/// The type the checker gives an expression of a program (hover): the smallest expression
/// around a position and what checking it found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExprType {
    /// The smallest expression holding the position asked about.
    pub span: Span,
    /// `None` when checking it found a mistake: its type would only stand in for it.
    pub ty: Option<Type>,
}

/// The type of the smallest expression around `offset` in `file`, checked as part of the
/// program of `files` (root first, every one parsed in `parses`); `None` when no
/// expression the checker types holds `offset`.
pub fn type_at(
    sources: &SourceMap,
    parses: &ParseCache,
    files: &[FileId],
    file: FileId,
    offset: usize,
) -> Option<ExprType> {
    let at = Span::new(file, offset, offset);
    // Where no expression is written (a field's key, a keyword), nothing is checked.
    let values = |fields: &[ast::Field]| fields.iter().any(|f| f.value.span.holds(at));
    let item = parses
        .get(file)
        .file
        .items
        .iter()
        .find(|i| i.span().holds(at))?;
    let written = match item {
        Item::Target(t) => values(&t.fields),
        Item::Task(t) => values(&t.fields),
        Item::Action(a) => values(&a.fields),
        Item::Reply(r) => values(&r.fields),
        Item::Usecase(u) => values(&u.fields),
        Item::Binding(b) => b.when.as_ref().is_some_and(|w| w.span.holds(at)),
        Item::Test(_) => true,
        // Defaults and the agent's fields are constants, not typed expressions.
        Item::Import(_) | Item::Agent(_) => false,
    };
    if !written {
        return None;
    }
    let trees: Vec<&ast::File> = files.iter().map(|id| &parses.get(*id).file).collect();
    let program = program::Program::collect(&trees, *files.first()?, &mut Vec::new());
    checker::type_at(&program, files, sources, at)
}

/// The help line of an unknown name: "did you mean `x`?" when one is close, else `fallback`.
pub(crate) fn unknown_help<'c>(
    name: &str,
    candidates: impl IntoIterator<Item = &'c str>,
    fallback: String,
) -> String {
    // Sorted so that ties between equally close names resolve the same way on every run.
    let mut candidates: Vec<&str> = candidates.into_iter().collect();
    candidates.sort_unstable();
    match suggest(name, candidates) {
        Some(close) => format!("did you mean `{close}`?"),
        None => fallback,
    }
}
