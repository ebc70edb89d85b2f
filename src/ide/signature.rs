//! Signatures of what can be called, as a reader writes a call: a built-in task's
//! (`reply(reply: REPLY?, text: text?)`), a declared task's, a function's. Hover shows
//! them; signature help shows them with the argument being typed.

use super::scan::{self, Kind};
use super::Analysis;
use crate::catalogue::{self, FunctionSpec, TaskSpec};
use crate::check;
use crate::syntax::ast;
use std::ops::Range;

/// A call's signature, with where each parameter is in its label.
#[derive(Clone, Debug, PartialEq)]
pub struct Signature {
    pub label: String,
    pub params: Vec<Range<usize>>,
    /// The parameter the cursor is at.
    pub active: Option<usize>,
    pub doc: String,
}

impl Signature {
    fn new(sig: catalogue::Signature, doc: String) -> Signature {
        Signature {
            label: sig.label,
            params: sig.params,
            active: None,
            doc,
        }
    }
}

pub fn task(spec: &TaskSpec) -> Signature {
    Signature::new(spec.signature(), spec.doc.to_string())
}

pub fn function(spec: &FunctionSpec) -> Signature {
    let mut doc = spec.doc.to_string();
    if let Some((call, shows)) = spec.example {
        doc.push_str(&format!("\n\n`{call}` → `{shows}`"));
    }
    Signature::new(spec.signature(), doc)
}

pub fn declared(decl: &ast::TaskDecl, text: &str) -> Signature {
    Signature::new(
        check::declared_signature(decl, text),
        format!("A task declared on `{}`.", decl.target.name),
    )
}

impl Analysis<'_> {
    /// The signature of the call the cursor is in, with the argument it is at.
    pub fn signature_help(&self, path: &str, offset: usize) -> Option<Signature> {
        let id = self.id(path)?;
        let text = self.text(id);
        let offset = super::floor(text, offset);
        let start = self.entry_start(id, offset);
        let before = &text[start..offset];
        let tokens = scan::tokens(before);
        // The innermost `(` still open, and the commas at its level since.
        let mut open: Vec<(usize, usize)> = Vec::new();
        for (i, t) in tokens.iter().enumerate() {
            match t.kind {
                Kind::Punct('(' | '[' | '{') => open.push((i, 0)),
                Kind::Punct(')' | ']' | '}') => {
                    open.pop();
                }
                Kind::Punct(',') => {
                    if let Some(top) = open.last_mut() {
                        top.1 += 1;
                    }
                }
                _ => {}
            }
        }
        let &(paren, commas) = open
            .iter()
            .rev()
            .find(|(i, _)| tokens[*i].kind == Kind::Punct('('))?;
        if open.last().map(|o| o.0) != Some(paren) {
            return None;
        }
        let callee = tokens.get(paren.checked_sub(1)?)?;
        if callee.kind != Kind::Word {
            return None;
        }
        let name = callee.text(before);
        let target = tokens.windows(3).rev().find_map(|w| {
            (w[0].text(before) == "target" && w[1].kind == Kind::Punct(':'))
                .then(|| w[2].text(before))
        });
        let mut signature = self.callable(id, name, target)?;
        signature.active = Some(commas.min(signature.params.len().saturating_sub(1)));
        Some(signature)
    }

    /// What `name` calls: a task declared in the program, the target's kind's task, a
    /// function.
    pub(super) fn callable(
        &self,
        id: crate::diagnostics::FileId,
        name: &str,
        target: Option<&str>,
    ) -> Option<Signature> {
        for file in self.program_of(id) {
            for item in &self.tree(file).items {
                if let ast::Item::Task(t) = item {
                    if t.name.name == name && target.is_none_or(|target| t.target.name == target) {
                        return Some(declared(t, self.text(file)));
                    }
                }
            }
        }
        let names = self.names(self.path(id));
        let kind = target.and_then(|t| names.target_kind(t));
        let spec = match kind.and_then(catalogue::target_kind) {
            Some(kind) => kind.task(name),
            None => catalogue::TARGET_KINDS.iter().find_map(|k| k.task(name)),
        };
        spec.map(task)
            .or_else(|| catalogue::function(name).map(function))
    }
}
