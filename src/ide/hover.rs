//! What hovering a name shows, as Markdown: a declaration as written, a param's
//! declaration and type, a task's signature and docs, an event's payload, a function's
//! signature and example, a scope field's type. Built-ins come from the catalogue.

use super::index::{Key, Symbol};
use super::signature;
use super::Analysis;
use crate::catalogue;
use crate::diagnostics::FileId;
use std::ops::Range;

#[derive(Clone, Debug, PartialEq)]
pub struct Hover {
    /// The name hovered.
    pub range: Range<usize>,
    pub markdown: String,
}

/// How many lines of a declaration hover shows.
const SHOWN_LINES: usize = 12;

fn code(text: &str) -> String {
    format!("```agent\n{text}\n```")
}

impl Analysis<'_> {
    pub fn hover(&self, path: &str, offset: usize) -> Option<Hover> {
        let (id, at) = self.occurrence(path, offset)?;
        let markdown = self.describe(id, &at.key)?;
        Some(Hover {
            range: at.range.clone(),
            markdown,
        })
    }

    fn describe(&self, id: FileId, key: &Key) -> Option<String> {
        Some(match key {
            Key::Decl(_) | Key::Param(_) | Key::TaskParam(..) | Key::Block(..) => {
                self.declared_text(id, key)?
            }
            Key::TaskCall { target, task } => match self.declared_text(id, key) {
                Some(text) => text,
                None => {
                    let sig =
                        self.callable(id, task, Some(target.as_str()).filter(|t| !t.is_empty()))?;
                    format!("{}\n\n{}", code(&sig.label), sig.doc)
                }
            },
            Key::Event(name) => {
                let spec = catalogue::event(name)?;
                let payload: Vec<String> = spec
                    .payload
                    .iter()
                    .map(|(field, ty)| format!("- `event.{field}`: {}", ty.written()))
                    .collect();
                let channels = match spec.channels {
                    [] => "every channel".to_string(),
                    list => list.iter().map(|c| c.name()).collect::<Vec<_>>().join(", "),
                };
                let payload = match payload.is_empty() {
                    true => "No payload.".to_string(),
                    false => format!("Payload:\n{}", payload.join("\n")),
                };
                format!(
                    "{}\n\n{}\n\nOn {channels}.\n\n{payload}",
                    code(&format!("event {name}")),
                    spec.doc
                )
            }
            Key::Function(name) => {
                let sig = signature::function(catalogue::function(name)?);
                format!("{}\n\n{}", code(&sig.label), sig.doc)
            }
            Key::Kind(name) => {
                let kind = catalogue::target_kind(name)?;
                let what = if kind.builtin {
                    "built-in target"
                } else {
                    "target kind"
                };
                let tasks: Vec<&str> = kind.tasks.iter().map(|t| t.name()).collect();
                format!(
                    "{}\n\n{}\n\nTasks: {}",
                    code(&format!("{what} {name}")),
                    kind.doc,
                    tasks.join(", ")
                )
            }
            Key::Root(name) => {
                let root = catalogue::scope::scope_root(name)?;
                let fields = match root.fields {
                    Some(fields) => fields
                        .iter()
                        .map(|(f, ty)| format!("- `{name}.{f}`: {}", ty.written()))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    None => "The payload of the event being handled.".to_string(),
                };
                format!("{}\n\n{fields}", code(name))
            }
            Key::Field(root, field) => {
                let ty = match catalogue::scope::scope_root(root)?.fields {
                    Some(fields) => fields.iter().find(|(f, _)| f == field).map(|(_, ty)| *ty)?,
                    None => catalogue::EVENTS
                        .iter()
                        .find_map(|e| e.payload.iter().find(|(f, _)| f == field))
                        .map(|(_, ty)| *ty)?,
                };
                code(&format!("{root}.{field}: {}", ty.written()))
            }
            Key::Import(target) => {
                let found = match self.id(target) {
                    Some(_) => "",
                    None => " (not found)",
                };
                format!("Imports `{target}`{found}.")
            }
        })
    }

    /// The declaration of `key` as written (its first lines), with the kind's docs for a
    /// target.
    fn declared_text(&self, id: FileId, key: &Key) -> Option<String> {
        let identity = key.identity();
        for file in self.program_of(id) {
            let index = self.index(file);
            let Some(def) = index
                .occurrences
                .iter()
                .find(|o| o.def && o.key == identity)
            else {
                continue;
            };
            let symbol = find_symbol(&index.symbols, &def.range)?;
            let text = self.text(file).get(symbol.range.clone())?;
            let mut lines: Vec<&str> = text.lines().take(SHOWN_LINES + 1).collect();
            if lines.len() > SHOWN_LINES {
                lines.truncate(SHOWN_LINES);
                lines.push("…");
            }
            let mut shown = code(&lines.join("\n"));
            match key {
                Key::Param(_) => shown.push_str("\n\nA parameter of the agent."),
                Key::Block(usecase, _) => {
                    shown = code(&format!("block {usecase}.{}", symbol.name));
                }
                _ => {}
            }
            if let Some(kind) = self.kind_of_target(file, symbol) {
                shown.push_str("\n\n");
                shown.push_str(kind.doc);
            }
            return Some(shown);
        }
        None
    }

    fn kind_of_target(
        &self,
        file: FileId,
        symbol: &Symbol,
    ) -> Option<&'static catalogue::TargetKind> {
        if symbol.kind != super::index::SymbolKind::Target {
            return None;
        }
        self.tree(file).items.iter().find_map(|item| match item {
            crate::syntax::ast::Item::Target(t) if t.name.span.range() == symbol.selection => {
                catalogue::target_kind(&t.kind.name)
            }
            _ => None,
        })
    }
}

/// The symbol (or child) whose name is at `range`.
fn find_symbol<'s>(symbols: &'s [Symbol], range: &Range<usize>) -> Option<&'s Symbol> {
    symbols.iter().find_map(|s| {
        if &s.selection == range {
            Some(s)
        } else {
            find_symbol(&s.children, range)
        }
    })
}
