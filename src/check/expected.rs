//! The fields an `expect` step compares: constants, in which a call of the catalogue's
//! `contains` or `matches` with its first argument left out stands for the value compared
//! (`body: { note: contains("refund") }` is a text that contains "refund"). A call with
//! both arguments is an ordinary call, which a constant cannot hold, so the two never mix.

use super::decls::constant;
use super::expr::invalid_pattern;
use super::types::Type;
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{Expected, Value};
use crate::syntax::ast::{Expr, ExprKind};
use indexmap::IndexMap;

/// The catalogue functions that, given one argument, match a text.
const MATCHERS: [&str; 2] = ["contains", "matches"];

/// Lowers expected fields (`what` names them in diagnostics); `want` is what the step takes
/// (a record, or anything inside one).
pub fn lower(expr: &Expr, want: Type, what: &str, diags: &mut Vec<Diagnostic>) -> Option<Expected> {
    if !holds_matcher(expr) {
        let before = diags.len();
        let value = constant(expr, want, what, diags).map(Expected::Value);
        for diagnostic in &mut diags[before..] {
            if diagnostic.code == Code::NotConstant {
                *diagnostic = diagnostic.clone().with_help(
                    "write a literal value here, or `contains(\"…\")` / `matches(\"…\")` for a \
                     text that contains or matches it",
                );
            }
        }
        return value;
    }
    match &expr.kind {
        ExprKind::Record(entries) => {
            let mut fields = IndexMap::new();
            let mut ok = true;
            for entry in entries {
                match lower(&entry.value, Type::Any, what, diags) {
                    Some(value) => {
                        fields.insert(entry.key.name.clone(), value);
                    }
                    None => ok = false,
                }
            }
            ok.then_some(Expected::Record(fields))
        }
        ExprKind::List(items) => {
            let lowered: Vec<Option<Expected>> = items
                .iter()
                .map(|item| lower(item, Type::Any, what, diags))
                .collect();
            lowered
                .into_iter()
                .collect::<Option<_>>()
                .map(Expected::List)
        }
        _ if !want.accepts(Type::Text) => {
            diags.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    format!("{what} should be {}, but this matches a text", want.name()),
                    expr.span,
                )
                .with_help("put the matcher in the record, as the value of the field it checks"),
            );
            None
        }
        _ => matcher(expr, diags),
    }
}

/// `contains("…")` or `matches("…")`, as it stands in expected fields.
pub fn is_matcher(expr: &Expr) -> bool {
    matches!(&expr.kind, ExprKind::Call(call)
        if MATCHERS.contains(&call.callee.name.as_str()) && call.args.len() == 1 && call.args[0].name.is_none())
}

fn holds_matcher(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Record(entries) => entries.iter().any(|e| holds_matcher(&e.value)),
        ExprKind::List(items) => items.iter().any(holds_matcher),
        _ => is_matcher(expr),
    }
}

fn matcher(expr: &Expr, diags: &mut Vec<Diagnostic>) -> Option<Expected> {
    let ExprKind::Call(call) = &expr.kind else {
        return None;
    };
    let (callee, args) = (&call.callee, &call.args);
    let arg = &args[0].value;
    let what = format!("what `{}` looks for", callee.name);
    let Value::Text(text) = constant(arg, Type::Text, &what, diags)? else {
        return None;
    };
    if callee.name == "contains" {
        return Some(Expected::Contains(text));
    }
    if let Some(diagnostic) = invalid_pattern(&text, arg.span) {
        diags.push(diagnostic);
        return None;
    }
    Some(Expected::Matches(text))
}
