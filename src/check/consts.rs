//! Values known before the program runs: literals, lists and records of literals, negated
//! numbers. Used where the IR holds a [`Value`] (defaults, test steps) or a plain number
//! (timeouts, retries).

use crate::ir::Value;
use crate::syntax::ast::{Expr, ExprKind, UnOp};

/// The value of a constant expression, or the span of the first part that is not constant.
pub fn value(expr: &Expr) -> Result<Value, crate::diagnostics::Span> {
    Ok(match &expr.kind {
        ExprKind::Null => Value::Null,
        ExprKind::Bool(b) => Value::Bool(*b),
        ExprKind::Number(n) => Value::Number(*n),
        ExprKind::Duration(ms) => Value::Duration(*ms),
        ExprKind::Str(s, _) => Value::Text(s.as_plain().ok_or(expr.span)?),
        ExprKind::List(items) => Value::List(items.iter().map(value).collect::<Result<_, _>>()?),
        ExprKind::Record(entries) => Value::Record(
            entries
                .iter()
                .map(|e| Ok((e.key.name.clone(), value(&e.value)?)))
                .collect::<Result<_, _>>()?,
        ),
        ExprKind::Unary(UnOp::Neg, inner) => match value(inner)? {
            Value::Number(n) => Value::Number(-n),
            _ => return Err(expr.span),
        },
        _ => return Err(expr.span),
    })
}

/// The text of a plain string literal.
pub fn text(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Str(s, _) => s.as_plain(),
        _ => None,
    }
}
