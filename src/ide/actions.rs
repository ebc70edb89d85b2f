//! Code actions: edits offered where the program is wrong or incomplete. Applying a "did
//! you mean" the checker suggested, declaring a param an expression reads, adding the `mock`
//! a test's `expect request` asks for.

use super::{Analysis, TextEdit, WorkspaceEdit};
use crate::diagnostics::{Code, Diagnostic, FileId};
use crate::syntax::ast::{self, Item};
use crate::syntax::lexer;
use std::ops::Range;

#[derive(Clone, Debug, PartialEq)]
pub struct CodeAction {
    pub title: String,
    pub edit: WorkspaceEdit,
    /// The diagnostic it fixes, if any.
    pub fixes: Option<Diagnostic>,
}

/// The text between backquotes after `lead` in `text`.
fn quoted_after<'t>(text: &'t str, lead: &str) -> Option<&'t str> {
    let rest = &text[text.find(lead)? + lead.len()..];
    rest.split('`').next()
}

fn edit(path: &str, range: Range<usize>, text: String) -> WorkspaceEdit {
    WorkspaceEdit::from([(path.to_string(), vec![TextEdit { range, text }])])
}

/// The whitespace a line starts with, for the line holding `offset`.
fn indent_at(text: &str, offset: usize) -> &str {
    let line = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let rest = &text[line..];
    &rest[..rest.len() - rest.trim_start_matches([' ', '\t']).len()]
}

impl Analysis<'_> {
    /// The actions for `range` of `path`, given the file's diagnostics.
    pub fn code_actions(
        &self,
        path: &str,
        range: Range<usize>,
        diagnostics: &[Diagnostic],
    ) -> Vec<CodeAction> {
        let Some(id) = self.id(path) else {
            return Vec::new();
        };
        let mut actions = Vec::new();
        for d in diagnostics {
            let span = d.span().range();
            if span.end < range.start || range.end < span.start {
                continue;
            }
            if let Some(action) = self.did_you_mean(id, d) {
                actions.push(action);
            }
            if let Some(action) = self.declare_param(id, d) {
                actions.push(action);
            }
        }
        actions.extend(self.missing_mocks(id, range));
        actions
    }

    fn did_you_mean(&self, id: FileId, d: &Diagnostic) -> Option<CodeAction> {
        let close = quoted_after(d.help.as_deref()?, "did you mean `")?;
        let span = d.span().range();
        let written = self.text(id).get(span.clone())?;
        if written.is_empty() || lexer::word_len(written.as_bytes(), 0) != written.len() {
            return None;
        }
        Some(CodeAction {
            title: format!("Replace `{written}` with `{close}`"),
            edit: edit(self.path(id), span, close.to_string()),
            fixes: Some(d.clone()),
        })
    }

    /// `unknown name `x`` where the agent's params are readable: declare `x: any` there.
    fn declare_param(&self, id: FileId, d: &Diagnostic) -> Option<CodeAction> {
        if d.code != Code::UnknownName || !d.help.as_deref()?.contains("agent's `params`") {
            return None;
        }
        let name = quoted_after(&d.message, "unknown name `")?;
        let (file, agent) = self.program_of(id).into_iter().find_map(|file| {
            self.tree(file).items.iter().find_map(|item| match item {
                Item::Agent(a) => Some((file, a)),
                _ => None,
            })
        })?;
        let text = self.text(file);
        let params = agent.entries.iter().find_map(|e| match e {
            ast::AgentEntry::Params { params, span } => Some((params, *span)),
            ast::AgentEntry::Field(_) => None,
        });
        let (at, insert) = match params {
            Some((params, _)) if !params.is_empty() => {
                let last = params.last().expect("not empty").span;
                let indent = indent_at(text, last.start as usize);
                (last.end as usize, format!("\n{indent}{name}: any"))
            }
            Some((_, span)) => (span.end as usize - 1, format!(" {name}: any ")),
            None => {
                let end = agent.span.end as usize - 1;
                (end, format!("    params: {{ {name}: any }}\n"))
            }
        };
        Some(CodeAction {
            title: format!("Declare `{name}` in the agent's params"),
            edit: edit(self.path(file), at..at, insert),
            fixes: Some(d.clone()),
        })
    }

    /// For each `expect request T M "P"` in a test at `range` that no `mock T M "P"` of the
    /// test answers: add one before the test's first step.
    fn missing_mocks(&self, id: FileId, range: Range<usize>) -> Vec<CodeAction> {
        let text = self.text(id);
        let mut actions = Vec::new();
        for item in &self.tree(id).items {
            let Item::Test(test) = item else { continue };
            let span = test.span.range();
            if span.end < range.start || range.end < span.start {
                continue;
            }
            let Some(first) = test.steps.first() else {
                continue;
            };
            let mocked: Vec<(String, String, Option<String>)> = test
                .steps
                .iter()
                .filter_map(|s| match s {
                    ast::TestStep::Mock(m) => Some((
                        m.target.name.clone(),
                        m.method.name.to_uppercase(),
                        plain(&m.path),
                    )),
                    _ => None,
                })
                .collect();
            for step in &test.steps {
                let ast::TestStep::Expect(ast::Expect {
                    negated: false,
                    what:
                        ast::Expectation::Request {
                            target,
                            method,
                            path,
                            ..
                        },
                    ..
                }) = step
                else {
                    continue;
                };
                let key = (target.name.clone(), method.name.to_uppercase(), plain(path));
                if mocked.contains(&key) {
                    continue;
                }
                let at = step_start(first);
                let indent = indent_at(text, at);
                let path_text = text.get(path.span.range()).unwrap_or("\"/\"");
                let mock = format!(
                    "mock {} {} {path_text} -> 200 {{}}",
                    target.name, method.name
                );
                actions.push(CodeAction {
                    title: format!("Add `{mock}` to the test"),
                    edit: edit(self.path(id), at..at, format!("{mock}\n{indent}")),
                    fixes: None,
                });
            }
        }
        actions
    }
}

fn plain(expr: &ast::Expr) -> Option<String> {
    match &expr.kind {
        ast::ExprKind::Str(s, _) => s.as_plain(),
        _ => None,
    }
}

fn step_start(step: &ast::TestStep) -> usize {
    let span = match step {
        ast::TestStep::Mock(m) => m.span,
        ast::TestStep::Send(s) => s.span,
        ast::TestStep::Expect(e) => e.span,
    };
    span.start as usize
}
