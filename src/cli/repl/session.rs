//! A REPL session: the program being explored and the conversation events are fired at.
//! Every entry — a declaration, an expression or a `:command` — comes through
//! [`Session::enter`]; whatever goes wrong is printed, never raised.

use super::commands::{self, Flow, LIST_KINDS};
use super::conversation::Live;
use super::program::{self, Declared, Program};
use super::render::{palette, Printer};
use crate::catalogue;
use crate::check::Loader;
use crate::diagnostics::{suggest, FileId};
use crate::ide::names::field;
use crate::ide::scan;
use crate::syntax::{self, ast};

/// What an entry is, by its first token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Command,
    Declaration,
    Expression,
}

/// What `text` is; `None` when it holds nothing but blanks and comments.
pub fn kind_of(text: &str) -> Option<Kind> {
    let tokens = scan::tokens(text);
    let first = tokens.iter().find(|t| t.kind != scan::Kind::Comment)?;
    Some(match first.kind {
        scan::Kind::Command => Kind::Command,
        scan::Kind::Word if syntax::starts_declaration(first.text(text)) => Kind::Declaration,
        _ => Kind::Expression,
    })
}

pub struct Session {
    pub program: Program,
    pub(super) live: Live,
}

impl Session {
    pub fn new(files: Box<dyn Loader>) -> std::io::Result<Self> {
        Ok(Session {
            program: Program::new(files),
            live: Live::new()?,
        })
    }

    /// Handles one complete entry.
    pub fn enter(&mut self, out: &mut Printer, text: &str) -> Flow {
        match kind_of(text) {
            None => {}
            Some(Kind::Command) => return commands::run(self, out, text),
            Some(Kind::Declaration) => self.declare(out, text),
            Some(Kind::Expression) => self.evaluate(out, text),
        }
        Flow::Continue
    }

    fn declare(&mut self, out: &mut Printer, text: &str) {
        match self.program.declare(text) {
            Declared::Joined(notes) => notes.iter().for_each(|n| out.note(n)),
            Declared::Syntax(diagnostics) => out.diagnostics(self.program.sources(), &diagnostics),
            Declared::Rejected(compiled, diagnostics) => {
                out.diagnostics(&compiled.sources, &diagnostics);
                out.note("not added: the program keeps its previous version");
            }
        }
    }

    pub fn load(&mut self, out: &mut Printer, path: &str) {
        if path.is_empty() {
            return out.error("`:load` needs a file: `:load FILE`");
        }
        let path = &display(path);
        match self.program.load(path) {
            Ok(diagnostics) => {
                out.diagnostics(self.program.sources(), &diagnostics);
                let compiled = self.program.compiled();
                let errors: Vec<_> = compiled
                    .checked
                    .diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .cloned()
                    .collect();
                if diagnostics.is_empty() {
                    out.diagnostics(&compiled.sources, &errors);
                }
                out.note(format!("loaded {path}"));
            }
            Err(error) => out.error(error.to_string()),
        }
    }

    pub fn reload(&mut self, out: &mut Printer) {
        let (diagnostics, failures) = self.program.reload();
        out.diagnostics(self.program.sources(), &diagnostics);
        failures.iter().for_each(|f| out.error(f.to_string()));
        let compiled = self.program.compiled();
        let errors = compiled.errors();
        out.note(match errors {
            0 => format!("reloaded {} file(s)", self.program.roots().len()),
            n => format!("reloaded; the program has {n} error(s): `:check` shows them"),
        });
    }

    pub fn check(&mut self, out: &mut Printer) {
        let compiled = self.program.compiled();
        out.diagnostics(&compiled.sources, &compiled.checked.diagnostics);
        let (errors, warnings) = compiled
            .checked
            .diagnostics
            .iter()
            .fold(
                (0, 0),
                |(e, w), d| if d.is_error() { (e + 1, w) } else { (e, w + 1) },
            );
        out.note(format!("{errors} error(s), {warnings} warning(s)"));
    }

    pub fn list(&mut self, out: &mut Printer, kind: &str) {
        let kinds: Vec<&str> = match kind {
            "" => LIST_KINDS
                .iter()
                .copied()
                .filter(|k| *k != "events")
                .collect(),
            k if LIST_KINDS.contains(&k) => vec![k],
            k => {
                let hint = suggest(k, LIST_KINDS.iter().copied())
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_else(|| format!("; one of {}", LIST_KINDS.join(", ")));
                return out.error(format!("`:list` knows no `{k}`{hint}"));
            }
        };
        for kind in kinds {
            let lines = self.listing(kind);
            let heading = out.paint(palette::KEYWORD, kind);
            out.line(format!("{heading} ({})", lines.len()));
            for (text, note) in lines {
                let note = out.paint(palette::NOTE, &note);
                out.line(format!("  {text}  {note}").trim_end());
            }
        }
    }

    /// One line per entry of a `:list` kind, with a remark (where it is declared).
    fn listing(&self, kind: &str) -> Vec<(String, String)> {
        if kind == "events" {
            return self.events();
        }
        let decls = self.program.decls();
        let mut lines = Vec::new();
        for decl in &decls {
            let at = format!("{}:{}", decl.path, decl.line);
            let line = match (kind, decl.item) {
                ("actions", ast::Item::Action(a)) => {
                    let target = field(&a.fields, "target").map(|e| decl.slice(e.span));
                    let task = field(&a.fields, "task").map(|e| decl.slice(e.span));
                    let run = format!("{}.{}", target.unwrap_or("?"), task.unwrap_or("?"));
                    format!("{}  {run}", a.name.name)
                }
                ("targets", ast::Item::Target(t)) => format!("{}: {}", t.name.name, t.kind.name),
                ("tasks", ast::Item::Task(t)) => {
                    let params: Vec<&str> = t.params.iter().map(|p| decl.slice(p.span)).collect();
                    format!(
                        "{}({}) on {}",
                        t.name.name,
                        params.join(", "),
                        t.target.name
                    )
                }
                ("replies", ast::Item::Reply(r)) => {
                    let text = field(&r.fields, "text").map_or("", |e| decl.slice(e.span));
                    format!("{}  {}", r.name.name, text)
                }
                ("usecases", ast::Item::Usecase(u)) => {
                    let blocks = field(&u.fields, "blocks").map_or("[]", |e| decl.slice(e.span));
                    format!("{}  {}", u.name.name, blocks)
                }
                ("bindings", ast::Item::Binding(_)) => one_line(decl.text),
                _ => continue,
            };
            lines.push((line, at));
        }
        lines
    }

    /// The catalogue's events the agent's channels allow, with their payload and whether a
    /// binding of the program listens to them.
    fn events(&self) -> Vec<(String, String)> {
        let names = self.program.names();
        let channels: Vec<catalogue::Channel> = names
            .channels
            .iter()
            .filter_map(|c| catalogue::Channel::parse(c))
            .collect();
        let bound = self.bound_events();
        catalogue::EVENTS
            .iter()
            .filter(|e| channels.is_empty() || channels.iter().any(|&c| e.allows(c)))
            .map(|e| {
                let payload: Vec<&str> = e.payload.iter().map(|(n, _)| *n).collect();
                let payload = match payload.is_empty() {
                    true => String::new(),
                    false => format!(" {{ {} }}", payload.join(", ")),
                };
                let mark = if bound.contains(&e.name) { "bound" } else { "" };
                (format!("{}{payload}", e.name), mark.to_string())
            })
            .collect()
    }

    fn bound_events(&self) -> Vec<&'static str> {
        let decls = self.program.decls();
        let triggers = decls.iter().flat_map(|d| match d.item {
            ast::Item::Binding(b) => match &b.trigger {
                ast::Trigger::Events(events) => events.iter().map(|e| e.name.as_str()).collect(),
                ast::Trigger::BeforeCall(_) => vec!["call_ringing"],
                ast::Trigger::AfterCall(_) => vec!["call_ended"],
                _ => Vec::new(),
            },
            _ => Vec::new(),
        });
        let triggers: Vec<&str> = triggers.collect();
        catalogue::EVENTS
            .iter()
            .map(|e| e.name)
            .filter(|n| triggers.contains(n))
            .collect()
    }

    pub fn show(&mut self, out: &mut Printer, name: &str) {
        if name.is_empty() {
            return out.error("`:show` needs a name: `:show NAME`");
        }
        let decls = self.program.decls();
        let found = decls.iter().find(|d| program::name(d.item) == Some(name));
        match found {
            // Formatted in the canonical layout; the text as written if the formatter
            // refuses it (it parsed once, so it should not).
            Some(decl) => match crate::fmt::format_source(FileId::default(), decl.text) {
                Ok(formatted) => out.line(formatted.trim_end()),
                Err(_) => out.line(decl.text),
            },
            None => {
                let names = decls.iter().filter_map(|d| program::name(d.item));
                let hint = suggest(name, names)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                out.error(format!("nothing is declared as `{name}`{hint}"));
            }
        }
    }

    pub fn explain(&mut self, out: &mut Printer, code: &str) {
        use super::super::explain;
        if code.is_empty() {
            return out.error("`:explain` needs a code: `:explain E0201`");
        }
        match explain::parse(code).and_then(crate::diagnostics::explain::lookup) {
            Some(entry) => {
                let options = crate::diagnostics::render::HumanOptions {
                    color: out.color,
                    width: super::super::files::width(),
                };
                out.line(explain::page(entry, options).trim_end());
            }
            None => out.error(explain::unknown(code)),
        }
    }

    pub fn dry_run(&mut self, out: &mut Printer, switch: &str) {
        match switch {
            "on" => self.live.set_dry_run(true),
            "off" => self.live.set_dry_run(false),
            "" => {}
            other => return out.error(format!("`:dry-run` takes `on` or `off`, not `{other}`")),
        }
        out.note(match self.live.dry_run {
            true => "dry run is on: side-effecting tasks are described, not run",
            false => "dry run is off",
        });
    }
}

/// A declaration's text on one line, for listings.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Session {
    /// Loads the files named on the command line. Their diagnostics are shown; the session
    /// opens whatever they say.
    pub fn open(&mut self, out: &mut Printer, files: &[String]) {
        let mut syntax_errors = false;
        for file in files {
            match self.program.load(&display(file)) {
                Ok(diagnostics) => {
                    syntax_errors |= !diagnostics.is_empty();
                    out.diagnostics(self.program.sources(), &diagnostics);
                }
                Err(error) => out.error(error.to_string()),
            }
        }
        let compiled = self.program.compiled();
        if !syntax_errors {
            out.diagnostics(&compiled.sources, &compiled.checked.diagnostics);
        }
    }
}

/// A path as diagnostics show it (`./a.agent` is `a.agent`).
fn display(path: &str) -> String {
    super::super::files::display(std::path::Path::new(path))
}
