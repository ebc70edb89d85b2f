//! Expressions typed at the prompt: checked against the session's program, evaluated in the
//! session's conversation, printed with their type.

use super::conversation::initial_state;
use super::render::Printer;
use super::session::Session;
use crate::check::{self, CheckedExpr, ExprContext};
use crate::ir::{self, Scope, Value};
use crate::runtime::{Context, ConversationState, EvalError, Evaluator, Limits, Scopes, REDACTED};
use crate::syntax;
use indexmap::IndexMap;
use std::borrow::Cow;

impl Session {
    /// Prints the value, redacted: whole when it is computed from a secret (`lower(..)` or
    /// a slice of one would not match the secret's value), its secrets otherwise (a
    /// service's answer that echoes one).
    pub fn evaluate(&mut self, out: &mut Printer, text: &str) {
        let Some(checked) = self.typed_expression(out, text) else {
            return;
        };
        let redactor = self.live.redactor().clone();
        match self.value(&checked.expr) {
            Ok(_) if checked.carries_secret => {
                let hidden = super::render::show_value(&Value::Text(REDACTED.into()));
                out.value(&hidden, &checked.ty)
            }
            Ok(value) => {
                let shown = super::render::show_value(&value);
                out.value(&redactor.redact(&shown), &checked.ty);
            }
            Err(error) => out.error(redactor.redact(&error.to_string())),
        }
    }

    pub fn type_of(&mut self, out: &mut Printer, text: &str) {
        if text.is_empty() {
            return out.error("`:type` needs an expression: `:type EXPR`");
        }
        if let Some(checked) = self.typed_expression(out, text) {
            out.line(checked.ty);
        }
    }

    /// Parses and checks `text` as an expression in the conversation's scope; prints what is
    /// wrong with it.
    pub(super) fn typed_expression(
        &mut self,
        out: &mut Printer,
        text: &str,
    ) -> Option<CheckedExpr> {
        let file = self.program.add_input(text);
        let (expr, mut diagnostics) = syntax::parse_expr(file, text);
        for d in &mut diagnostics {
            in_the_repls_words(d, text);
        }
        let Some(expr) = expr.filter(|_| !diagnostics.iter().any(|d| d.is_error())) else {
            out.diagnostics(self.program.sources(), &diagnostics);
            return None;
        };
        let (program, _) = self.program.scope();
        let context = ExprContext {
            event: self.live.last_event.as_ref().map(|(name, _)| name.clone()),
            ..ExprContext::default()
        };
        match check::check_expr(&program, &context, &expr) {
            Ok(typed) => Some(typed),
            Err(diagnostics) => {
                out.diagnostics(self.program.sources(), &diagnostics);
                None
            }
        }
    }

    /// Evaluates a checked expression in the conversation as it stands.
    pub(super) fn value(&mut self, expr: &ir::Expr) -> Result<Value, EvalError> {
        let fallback;
        let state = match &self.live.state {
            Some(state) => state,
            None => {
                fallback = initial_state(&self.program.scope().0);
                &fallback
            }
        };
        let scopes = StateScopes {
            state,
            event: self.live.last_event.as_ref().map(|(_, payload)| payload),
        };
        let env = crate::runtime::mock::MockSecrets;
        let now = jiff::Timestamp::now;
        let limits = Limits::default();
        let context = Context {
            env: &env,
            redactor: self.live.redactor(),
            now: &now,
            limits: &limits,
        };
        Evaluator::new(&context).eval_owned(expr, &scopes)
    }
}

/// The names an expression typed at the prompt reads: the conversation's state and the last
/// event's payload.
struct StateScopes<'a> {
    state: &'a ConversationState,
    event: Option<&'a Value>,
}

impl Scopes for StateScopes<'_> {
    fn param(&self, name: &str) -> Option<&Value> {
        self.state.param(name)
    }

    fn scope(&self, scope: &Scope) -> Option<Cow<'_, Value>> {
        match scope {
            Scope::Event => Some(Cow::Owned(
                self.event
                    .cloned()
                    .unwrap_or(Value::Record(IndexMap::new())),
            )),
            _ => self.state.scope(scope),
        }
    }
}

/// An entry that reads as no expression gets help about entries, not about files: a
/// misspelt declaration keyword is named (`acton x {` → `action`).
fn in_the_repls_words(d: &mut crate::diagnostics::Diagnostic, text: &str) {
    let about_files = d
        .help
        .as_deref()
        .is_some_and(|help| help.starts_with("start each declaration"));
    if !about_files {
        return;
    }
    let first = text
        .trim_start()
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
    let keyword = first.take(1).find_map(|word| {
        crate::diagnostics::suggest(word, syntax::DECLARATIONS.iter().map(|(w, _)| *w))
    });
    d.help = Some(match keyword {
        Some(keyword) => {
            format!("did you mean `{keyword}`? An entry is one expression or one declaration")
        }
        None => "an entry is one expression (`order.total * 2`), one declaration (`action …`, \
                 `on …`), or a command (`:help` lists them)"
            .to_string(),
    });
}
