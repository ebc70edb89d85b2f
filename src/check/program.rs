//! The declarations of a whole program gathered from its files, and the one namespace they
//! share (every name is unique across the program: docs/language.md, "Programs and files").
//! Parameters have a namespace of their own: a bare word in an expression is always a
//! parameter, and a field or argument that names a declaration (`target:`, `on_failure:`,
//! `reply(..)`, a task call) never reads a parameter, so the two cannot be confused.

use super::scope::root_names;
use crate::diagnostics::{suggest, Code, Diagnostic, FileId, Span};
use crate::syntax::ast::{self, AgentEntry, Item};
use std::collections::HashMap;

/// What a declared name stands for: the index into the matching list of [`Program`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decl {
    Target(usize),
    Task(usize),
    Action(usize),
    Reply(usize),
    Usecase(usize),
    Param,
}

impl Decl {
    pub fn describe(self) -> &'static str {
        match self {
            Decl::Target(_) => "a target",
            Decl::Task(_) => "a task",
            Decl::Action(_) => "an action",
            Decl::Reply(_) => "a reply",
            Decl::Usecase(_) => "a use case",
            Decl::Param => "a parameter",
        }
    }
}

/// Every declaration, in program order (files root first, then imports; source order within).
#[derive(Default)]
pub struct Program<'a> {
    pub agents: Vec<&'a ast::Agent>,
    /// An `agent` block that did not parse, or its `params`: its params are unknown.
    pub broken_agent: bool,
    /// The names of declarations that did not parse (`action greet` with a broken
    /// header): not reported unknown where they are used.
    pub unparsed: std::collections::HashSet<&'a str>,
    /// An `import` did not parse or could not be read: the names of the file it would
    /// read are unknown.
    pub broken_import: bool,
    /// Something in the program did not parse: what it would have used is unknown, so
    /// nothing is reported unused.
    pub incomplete: bool,
    /// The declarations that parsed without one of their members: what they lack or have
    /// too many of (fields, arguments) may be the syntax error's doing.
    pub incomplete_declarations: Vec<Span>,
    pub params: Vec<&'a ast::ParamDecl>,
    pub targets: Vec<&'a ast::Target>,
    pub tasks: Vec<&'a ast::TaskDecl>,
    pub actions: Vec<&'a ast::Action>,
    pub replies: Vec<&'a ast::Reply>,
    pub usecases: Vec<&'a ast::Usecase>,
    pub bindings: Vec<&'a ast::Binding>,
    pub tests: Vec<&'a ast::Test>,
    /// The first declaration of each name (parameters aside).
    pub names: HashMap<&'a str, (Decl, Span)>,
    /// The first declaration of each parameter.
    pub param_spans: HashMap<&'a str, Span>,
}

impl<'a> Program<'a> {
    /// Gathers the declarations of `files` and reports duplicate names (E0105), missing or
    /// extra agents (E0103/E0104).
    pub fn collect(files: &[&'a ast::File], root: FileId, diags: &mut Vec<Diagnostic>) -> Self {
        let mut p = Program::default();
        // One name per declaring item: the namespace is sized once, not rehashed as it
        // grows, nor sized for the bindings and tests, which declare none (half the items of
        // a program of many bindings, and a table that is twice as large).
        p.names.reserve(
            files
                .iter()
                .flat_map(|file| &file.items)
                .filter(|item| declares_a_name(item))
                .count(),
        );
        for file in files {
            for broken in &file.unparsed {
                p.incomplete = true;
                // A parameter that did not parse is kept, of no type; a broken `params`
                // entry or agent leaves the params unknown.
                let params = broken.name.as_ref().is_some_and(|n| n.name == "params");
                p.broken_agent |= broken.keyword.name == "agent" && (!broken.member || params);
                if let (false, Some(name)) = (broken.member, &broken.name) {
                    p.unparsed.insert(&name.name);
                }
                let keyword = broken.keyword.name.as_str();
                p.broken_import |= !broken.member
                    && (keyword == "import" || suggest(keyword, ["import"]).is_some());
            }
            let members = file.unparsed.iter().filter(|u| u.member);
            for broken in members {
                let within = |item: &&Item| {
                    let span = item.span();
                    span.start <= broken.span.start && broken.span.end <= span.end
                };
                p.incomplete_declarations
                    .extend(file.items.iter().find(within).map(Item::span));
            }
            for item in &file.items {
                match item {
                    Item::Import(_) => {}
                    Item::Agent(a) => {
                        p.agents.push(a);
                        for entry in &a.entries {
                            if let AgentEntry::Params { params, .. } = entry {
                                p.param_spans.reserve(params.len());
                                for param in params {
                                    p.declare(&param.name, Decl::Param, diags);
                                    p.params.push(param);
                                }
                            }
                        }
                    }
                    Item::Target(t) => {
                        p.declare(&t.name, Decl::Target(p.targets.len()), diags);
                        p.targets.push(t);
                    }
                    Item::Task(t) => {
                        p.declare(&t.name, Decl::Task(p.tasks.len()), diags);
                        p.tasks.push(t);
                    }
                    Item::Action(a) => {
                        p.declare(&a.name, Decl::Action(p.actions.len()), diags);
                        p.actions.push(a);
                    }
                    Item::Reply(r) => {
                        p.declare(&r.name, Decl::Reply(p.replies.len()), diags);
                        p.replies.push(r);
                    }
                    Item::Usecase(u) => {
                        p.declare(&u.name, Decl::Usecase(p.usecases.len()), diags);
                        p.usecases.push(u);
                    }
                    Item::Binding(b) => p.bindings.push(b),
                    Item::Test(t) => p.tests.push(t),
                }
            }
        }
        p.check_agent_count(root, diags);
        p
    }

    fn declare(&mut self, name: &'a ast::Ident, decl: Decl, diags: &mut Vec<Diagnostic>) {
        if let Some(message) = reserved(&name.name, decl) {
            diags.push(
                Diagnostic::new(Code::DuplicateName, message, name.span)
                    .with_help("choose another name"),
            );
            return;
        }
        let first = if decl == Decl::Param {
            self.param_spans
                .get(name.name.as_str())
                .map(|s| (Decl::Param, *s))
        } else {
            self.names.get(name.name.as_str()).copied()
        };
        match first {
            Some((first, first_span)) => diags.push(
                Diagnostic::new(
                    Code::DuplicateName,
                    format!("the name `{}` is declared twice", name.name),
                    name.span,
                )
                .with_label_message(format!("declared again here as {}", decl.describe()))
                .with_secondary(
                    first_span,
                    format!("first declared here as {}", first.describe()),
                )
                .with_help(if decl == Decl::Param {
                    "rename one of them: each parameter has one name"
                } else {
                    "rename one of them: targets, tasks, actions, replies and use cases share \
                     one namespace across all files of the program (parameters have their own)"
                }),
            ),
            None if decl == Decl::Param => {
                self.param_spans.insert(&name.name, name.span);
            }
            None => {
                self.names.insert(&name.name, (decl, name.span));
            }
        }
    }

    fn check_agent_count(&self, root: FileId, diags: &mut Vec<Diagnostic>) {
        match self.agents.as_slice() {
            // Its syntax error says what is wrong; "no agent block" would be a second report.
            [] if self.broken_agent => {}
            [] => diags.push(
                Diagnostic::new(
                    Code::NoAgent,
                    "this program has no `agent` block",
                    Span::new(root, 0, 0),
                )
                .with_help(
                    "add one to the root file, e.g. `agent support { channels: [chat] }`, \
                     or check the file that holds it and imports this one",
                ),
            ),
            [first, rest @ ..] => {
                for extra in rest {
                    diags.push(
                        Diagnostic::new(
                            Code::MultipleAgents,
                            format!(
                                "a second `agent` block (`{}`): a program has exactly one",
                                extra.name.name
                            ),
                            extra.name.span,
                        )
                        .with_secondary(first.name.span, "the program's agent is declared here")
                        .with_help(
                            "keep one `agent` block per program; a second agent needs its own \
                             root file",
                        ),
                    );
                }
            }
        }
    }

    /// Whether `name` may be declared by something that did not parse, so that it is not
    /// reported unknown.
    pub fn maybe_declared(&self, name: &str) -> bool {
        self.broken_import || self.unparsed.contains(name)
    }

    pub fn action(&self, name: &str) -> Option<usize> {
        match self.names.get(name) {
            Some((Decl::Action(i), _)) => Some(*i),
            _ => None,
        }
    }
    pub fn reply(&self, name: &str) -> Option<usize> {
        match self.names.get(name) {
            Some((Decl::Reply(i), _)) => Some(*i),
            _ => None,
        }
    }
    pub fn target(&self, name: &str) -> Option<usize> {
        match self.names.get(name) {
            Some((Decl::Target(i), _)) => Some(*i),
            _ => None,
        }
    }
    pub fn usecase(&self, name: &str) -> Option<usize> {
        match self.names.get(name) {
            Some((Decl::Usecase(i), _)) => Some(*i),
            _ => None,
        }
    }
    pub fn task(&self, name: &str) -> Option<usize> {
        match self.names.get(name) {
            Some((Decl::Task(i), _)) => Some(*i),
            _ => None,
        }
    }

    /// The declared names of one kind, for "did you mean".
    pub fn names_of(&self, kind: fn(Decl) -> bool) -> impl Iterator<Item = &'a str> + '_ {
        self.names
            .iter()
            .filter(move |(_, (d, _))| kind(*d))
            .map(|(n, _)| *n)
    }
}

/// Whether the item declares a name of the program's namespace (parameters aside).
fn declares_a_name(item: &Item) -> bool {
    !matches!(
        item,
        Item::Import(_) | Item::Agent(_) | Item::Binding(_) | Item::Test(_)
    )
}

/// Names a declaration may not take: the built-in targets, and for parameters the roots
/// (docs/language.md, "Names in scope"; a parameter `event` could never be read).
fn reserved(name: &str, decl: Decl) -> Option<String> {
    if matches!(name, "conversation" | "call") && !matches!(decl, Decl::Param) {
        return Some(format!("`{name}` is the name of a built-in target"));
    }
    if decl == Decl::Param && root_names().any(|root| root == name) {
        return Some(format!(
            "a parameter cannot be called `{name}`: that name is built in"
        ));
    }
    None
}
