//! Evaluates [`ir::Expr`] against a conversation's scopes.
//!
//! The checker typed every expression, but `any` values (API bodies, event payloads) are
//! only known at run time, so every operation checks its operands and reports a type error
//! instead of panicking. Evaluation is bounded by [`Limits`]: nesting depth, text size and
//! operation count; breaking one is an [`EvalError`], never a hang.
//!
//! Navigation is null-safe: a field or index of `null` is `null`, as is a missing record key
//! or an index past the end, so `order.items[0].sku ?? "none"` reads naturally. Reading a
//! field of a number (or indexing a text) is a type error.

use super::functions;
use super::secrets::{Environment, Redactor};
use crate::ir::{BinOp, Expr, Measure, Scope, UnOp, Value, ValueBounds};
use std::borrow::Cow;
use std::fmt;

/// Bounds on one evaluation, and on every value a conversation builds or keeps: the one
/// place these numbers are chosen.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Nesting depth of the expression tree.
    pub max_depth: usize,
    /// Bytes in any text the evaluation builds.
    pub max_text_bytes: usize,
    /// Items in any list the evaluation builds.
    pub max_list_items: usize,
    /// Nodes evaluated, function calls included.
    pub max_operations: u64,
    /// Depth and memory of any one value: built by an expression, stored in a param, sent
    /// in an event's payload or answered by a service.
    pub value: ValueBounds,
    /// Memory of a conversation's whole state: its params, `user` and `caller` together.
    pub max_state_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 128,
            max_text_bytes: 1 << 20,
            max_list_items: 100_000,
            max_operations: 100_000,
            // Deeper than any real answer or record (a history kept as a list stays 1 deep
            // however long it grows), shallow enough that no operation on a value can
            // exhaust a stack.
            value: ValueBounds {
                max_depth: 64,
                max_bytes: 32 << 20,
            },
            max_state_bytes: 64 << 20,
        }
    }
}

/// Why an expression could not be evaluated.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalError(pub String);

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EvalError {}

pub type EvalResult<T> = Result<T, EvalError>;

pub(crate) fn err<T>(message: impl Into<String>) -> EvalResult<T> {
    Err(EvalError(message.into()))
}

/// Where the names of an expression come from.
pub trait Scopes {
    /// A conversation parameter (or, inside a declared task, one of its parameters).
    fn param(&self, name: &str) -> Option<&Value>;
    /// Any other root scope; `None` when it is not available here (`response` outside a
    /// task's `result`). Built on demand, so scopes nobody reads cost nothing.
    fn scope(&self, scope: &Scope) -> Option<Cow<'_, Value>>;
}

/// What an evaluation may read besides its scopes.
pub struct Context<'a> {
    pub env: &'a dyn Environment,
    pub redactor: &'a Redactor,
    /// The conversation's current time, for `now()` and `today()`; read only when called.
    pub now: &'a dyn Fn() -> jiff::Timestamp,
    pub limits: &'a Limits,
}

/// One evaluation's budget. Create one per expression evaluated (or per action).
pub struct Evaluator<'a> {
    pub(crate) ctx: &'a Context<'a>,
    depth: usize,
    operations: u64,
}

impl<'a> Evaluator<'a> {
    pub fn new(ctx: &'a Context<'a>) -> Self {
        Evaluator {
            ctx,
            depth: 0,
            operations: 0,
        }
    }

    /// Evaluates `expr`; the result borrows from the expression or the scopes when it can.
    pub fn eval<'s>(
        &mut self,
        expr: &'s Expr,
        scopes: &'s dyn Scopes,
    ) -> EvalResult<Cow<'s, Value>> {
        self.operations += 1;
        if self.operations > self.ctx.limits.max_operations {
            return err(format!(
                "the expression needs more than {} operations",
                self.ctx.limits.max_operations
            ));
        }
        if self.depth >= self.ctx.limits.max_depth {
            return err(format!(
                "the expression is nested more than {} levels deep",
                self.ctx.limits.max_depth
            ));
        }
        self.depth += 1;
        let result = self.eval_inner(expr, scopes);
        self.depth -= 1;
        result
    }

    /// Evaluates to an owned value.
    pub fn eval_owned(&mut self, expr: &Expr, scopes: &dyn Scopes) -> EvalResult<Value> {
        self.eval(expr, scopes).map(Cow::into_owned)
    }

    fn eval_inner<'s>(
        &mut self,
        expr: &'s Expr,
        scopes: &'s dyn Scopes,
    ) -> EvalResult<Cow<'s, Value>> {
        Ok(match expr {
            Expr::Lit(value) => Cow::Borrowed(value),
            Expr::Interp(parts) => {
                let mut out = String::new();
                for part in parts {
                    let value = self.eval(part, scopes)?;
                    match &*value {
                        Value::Text(s) => out.push_str(s),
                        other => out.push_str(&other.to_string()),
                    }
                    self.check_text(&out)?;
                }
                Cow::Owned(Value::Text(out))
            }
            Expr::List(items) => {
                self.check_list(items.len())?;
                let mut out = Vec::with_capacity(items.len());
                let mut measure = Measure::container();
                for item in items {
                    let item = self.eval(item, scopes)?;
                    self.count(&mut measure, &item, None)?;
                    out.push(item.into_owned());
                }
                Cow::Owned(Value::List(out))
            }
            Expr::Record(fields) => {
                let mut out = indexmap::IndexMap::with_capacity(fields.len());
                let mut measure = Measure::container();
                for (key, value) in fields {
                    let value = self.eval(value, scopes)?;
                    self.count(&mut measure, &value, Some(key))?;
                    out.insert(key.clone(), value.into_owned());
                }
                Cow::Owned(Value::Record(out))
            }
            Expr::Var(Scope::Param(name)) => match scopes.param(name) {
                Some(value) => Cow::Borrowed(value),
                None => return err(format!("`{name}` is not a parameter of this program")),
            },
            Expr::Var(scope) => match scopes.scope(scope) {
                Some(value) => value,
                None => return err(format!("`{}` is not available here", scope_name(scope))),
            },
            Expr::Field(base, name) => {
                let base = self.eval(base, scopes)?;
                field(base, name)?
            }
            Expr::Index(base, index) => {
                let base = self.eval(base, scopes)?;
                let index = self.eval(index, scopes)?;
                self.index(base, &index)?
            }
            Expr::Unary(op, operand) => {
                let value = self.eval(operand, scopes)?;
                Cow::Owned(unary(*op, &value)?)
            }
            Expr::Binary(BinOp::And, left, right) => {
                let bool_of = |v: &Value, side| match v {
                    Value::Bool(b) => Ok(*b),
                    other => err(format!(
                        "`and` needs a bool on the {side}, found {}",
                        other.type_name()
                    )),
                };
                let left = bool_of(&*self.eval(left, scopes)?, "left")?;
                Cow::Owned(Value::Bool(
                    left && bool_of(&*self.eval(right, scopes)?, "right")?,
                ))
            }
            Expr::Binary(BinOp::Or, left, right) => {
                let bool_of = |v: &Value, side| match v {
                    Value::Bool(b) => Ok(*b),
                    other => err(format!(
                        "`or` needs a bool on the {side}, found {}",
                        other.type_name()
                    )),
                };
                let left = bool_of(&*self.eval(left, scopes)?, "left")?;
                Cow::Owned(Value::Bool(
                    left || bool_of(&*self.eval(right, scopes)?, "right")?,
                ))
            }
            Expr::Binary(BinOp::Coalesce, left, right) => {
                let left = self.eval(left, scopes)?;
                if matches!(*left, Value::Null) {
                    self.eval(right, scopes)?
                } else {
                    left
                }
            }
            Expr::Binary(op, left, right) => {
                let left = self.eval(left, scopes)?;
                let right = self.eval(right, scopes)?;
                if let (BinOp::Add, Value::List(a), Value::List(b)) = (op, &*left, &*right) {
                    self.check_concat(a, b)?;
                }
                let value = binary(*op, &left, &right)?;
                if let Value::Text(s) = &value {
                    self.check_text(s)?;
                }
                Cow::Owned(value)
            }
            Expr::If(cond, then, otherwise) => match &*self.eval(cond, scopes)? {
                Value::Bool(true) => self.eval(then, scopes)?,
                Value::Bool(false) => self.eval(otherwise, scopes)?,
                other => {
                    return err(format!(
                        "`if` needs a bool condition, found {}",
                        other.type_name()
                    ))
                }
            },
            Expr::Call(name, args) => {
                let mut values = Vec::with_capacity(args.len());
                for arg in args {
                    values.push(self.eval(arg, scopes)?);
                }
                let value = functions::call(self, name, &values)?;
                match &value {
                    Value::Text(s) => self.check_text(s)?,
                    Value::List(items) => self.check_list(items.len())?,
                    _ => {}
                }
                Cow::Owned(value)
            }
        })
    }

    fn index<'s>(&self, base: Cow<'s, Value>, index: &Value) -> EvalResult<Cow<'s, Value>> {
        match (&*base, index) {
            (Value::Null, _) => Ok(Cow::Owned(Value::Null)),
            (Value::List(items), Value::Number(n)) => {
                if n.fract() != 0.0 {
                    return err(format!("a list index must be a whole number, found {n}"));
                }
                // Negative indexes count from the end, as in most scripting languages.
                let len = items.len() as f64;
                let at = if *n < 0.0 { len + n } else { *n };
                if at < 0.0 || at >= len {
                    return Ok(Cow::Owned(Value::Null));
                }
                let at = at as usize;
                Ok(match base {
                    Cow::Borrowed(Value::List(items)) => Cow::Borrowed(&items[at]),
                    Cow::Owned(Value::List(mut items)) => Cow::Owned(items.swap_remove(at)),
                    _ => Cow::Owned(Value::Null),
                })
            }
            (Value::Record(_), Value::Text(key)) => field(base, key),
            (Value::List(_), other) => err(format!(
                "a list index must be a number, found {}",
                other.type_name()
            )),
            (Value::Record(_), other) => err(format!(
                "a record key must be a text, found {}",
                other.type_name()
            )),
            (other, _) => err(format!("cannot index a {}", other.type_name())),
        }
    }

    pub(crate) fn check_text(&self, text: &str) -> EvalResult<()> {
        self.check_text_size(text.len())
    }

    /// Checks the size of a text before it is built.
    pub(crate) fn check_text_size(&self, bytes: usize) -> EvalResult<()> {
        if bytes > self.ctx.limits.max_text_bytes {
            return err(format!(
                "the expression builds a text longer than {} bytes",
                self.ctx.limits.max_text_bytes
            ));
        }
        Ok(())
    }

    /// Counts one more item of a list or record being built, failing as soon as the whole
    /// breaks the value bounds (before the item is copied into it).
    fn count(&self, measure: &mut Measure, item: &Value, key: Option<&str>) -> EvalResult<()> {
        let bounds = &self.ctx.limits.value;
        item.measure(bounds)
            .and_then(|item| measure.add(item, key, bounds))
            .or_else(|breach| err(breach.to_string()))
    }

    /// `a + b` on lists, checked before it is built: `+` on `any` lists must not double a
    /// value past the bounds.
    fn check_concat(&self, a: &[Value], b: &[Value]) -> EvalResult<()> {
        self.check_list(a.len() + b.len())?;
        let mut measure = Measure::container();
        for item in a.iter().chain(b) {
            self.count(&mut measure, item, None)?;
        }
        Ok(())
    }

    pub(crate) fn check_list(&self, len: usize) -> EvalResult<()> {
        if len > self.ctx.limits.max_list_items {
            return err(format!(
                "the expression builds a list longer than {} items",
                self.ctx.limits.max_list_items
            ));
        }
        Ok(())
    }
}

/// Evaluates an expression that reads no conversation (a target's fields, a mock's body):
/// only literals, built-in functions, `secret(..)` and `env(..)`.
pub fn eval_constant(expr: &Expr, env: &dyn Environment, redactor: &Redactor) -> EvalResult<Value> {
    struct NoScopes;
    impl Scopes for NoScopes {
        fn param(&self, _: &str) -> Option<&Value> {
            None
        }
        fn scope(&self, _: &Scope) -> Option<Cow<'_, Value>> {
            None
        }
    }
    let now = jiff::Timestamp::now;
    let limits = Limits::default();
    let ctx = Context {
        env,
        redactor,
        now: &now,
        limits: &limits,
    };
    Evaluator::new(&ctx).eval_owned(expr, &NoScopes)
}

fn scope_name(scope: &Scope) -> &str {
    match scope {
        Scope::Param(name) => name,
        Scope::Event => "event",
        Scope::User => "user",
        Scope::Caller => "caller",
        Scope::Conversation => "conversation",
        Scope::Usecase => "usecase",
        Scope::Block => "block",
        Scope::Response => "response",
    }
}

fn field<'s>(base: Cow<'s, Value>, name: &str) -> EvalResult<Cow<'s, Value>> {
    match base {
        Cow::Borrowed(Value::Record(map)) => {
            Ok(map.get(name).map_or(Cow::Owned(Value::Null), Cow::Borrowed))
        }
        Cow::Owned(Value::Record(mut map)) => {
            Ok(Cow::Owned(map.swap_remove(name).unwrap_or(Value::Null)))
        }
        Cow::Borrowed(Value::Null) | Cow::Owned(Value::Null) => Ok(Cow::Owned(Value::Null)),
        other => err(format!(
            "cannot read field `{name}` of a {}",
            other.type_name()
        )),
    }
}

fn unary(op: UnOp, value: &Value) -> EvalResult<Value> {
    match (op, value) {
        (UnOp::Neg, Value::Number(n)) => Ok(Value::Number(-n)),
        (UnOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
        (UnOp::Neg, other) => err(format!("cannot negate a {}", other.type_name())),
        (UnOp::Not, other) => err(format!("`not` needs a bool, found {}", other.type_name())),
    }
}

fn binary(op: BinOp, left: &Value, right: &Value) -> EvalResult<Value> {
    use Value::{Bool, Duration, List, Number, Record, Text};
    let mismatch = || {
        err(format!(
            "cannot apply `{}` to {} and {}",
            op.symbol(),
            left.type_name(),
            right.type_name()
        ))
    };
    Ok(match (op, left, right) {
        (BinOp::Add, Number(a), Number(b)) => Number(finite(op.symbol(), a + b)?),
        (BinOp::Add, Text(a), Text(b)) => {
            let mut out = String::with_capacity(a.len() + b.len());
            out.push_str(a);
            out.push_str(b);
            Text(out)
        }
        (BinOp::Add, Duration(a), Duration(b)) => Duration(a.saturating_add(*b)),
        (BinOp::Add | BinOp::Sub, Text(date), Duration(ms)) => {
            Text(functions::moved_date(date, *ms, op == BinOp::Add)?)
        }
        (BinOp::Add, List(a), List(b)) => List(a.iter().chain(b).cloned().collect()),
        (BinOp::Sub, Number(a), Number(b)) => Number(finite(op.symbol(), a - b)?),
        (BinOp::Sub, Duration(a), Duration(b)) => Duration(a.saturating_sub(*b)),
        (BinOp::Mul, Number(a), Number(b)) => Number(finite(op.symbol(), a * b)?),
        (BinOp::Mul, Duration(d), Number(n)) | (BinOp::Mul, Number(n), Duration(d)) => {
            Duration(scale_duration(*d, *n)?)
        }
        (BinOp::Div | BinOp::Rem, Number(_), Number(b)) if *b == 0.0 => {
            return err(format!("`{}` by zero", op.symbol()))
        }
        (BinOp::Div, Number(a), Number(b)) => Number(finite(op.symbol(), a / b)?),
        (BinOp::Rem, Number(a), Number(b)) => Number(a % b),
        (BinOp::Div, Duration(d), Number(n)) if *n != 0.0 => Duration(scale_duration(*d, 1.0 / n)?),
        (BinOp::Eq, a, b) => Bool(a == b),
        (BinOp::Ne, a, b) => Bool(a != b),
        (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge, a, b) => {
            let ordering = match (a, b) {
                (Number(a), Number(b)) => a.partial_cmp(b),
                (Text(a), Text(b)) => Some(a.cmp(b)),
                (Duration(a), Duration(b)) => Some(a.cmp(b)),
                _ => return mismatch(),
            };
            let Some(ordering) = ordering else {
                return Ok(Bool(false));
            };
            Bool(match op {
                BinOp::Lt => ordering.is_lt(),
                BinOp::Le => ordering.is_le(),
                BinOp::Gt => ordering.is_gt(),
                _ => ordering.is_ge(),
            })
        }
        (BinOp::In, item, List(items)) => Bool(items.contains(item)),
        (BinOp::In, Text(key), Record(map)) => Bool(map.contains_key(key.as_str())),
        (BinOp::In, Text(needle), Text(hay)) => Bool(hay.contains(needle.as_str())),
        (BinOp::In, _, Value::Null) => Bool(false),
        _ => return mismatch(),
    })
}

/// A number result, which must be finite: JSON has no NaN or infinity, and a service or a
/// comparison must never see one.
pub(crate) fn finite(what: &str, n: f64) -> EvalResult<f64> {
    if n.is_finite() {
        Ok(n)
    } else {
        err(format!(
            "`{what}` overflows: the result is beyond the largest number (about 1.8e308)"
        ))
    }
}

fn scale_duration(ms: u64, factor: f64) -> EvalResult<u64> {
    let scaled = ms as f64 * factor;
    if !scaled.is_finite() || scaled < 0.0 || scaled > u64::MAX as f64 {
        return err("the duration is out of range");
    }
    Ok(scaled.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::secrets::MapEnv;
    use indexmap::IndexMap;

    struct TestScopes {
        params: IndexMap<String, Value>,
        event: Value,
    }

    impl Scopes for TestScopes {
        fn param(&self, name: &str) -> Option<&Value> {
            self.params.get(name)
        }
        fn scope(&self, scope: &Scope) -> Option<Cow<'_, Value>> {
            match scope {
                Scope::Event => Some(Cow::Borrowed(&self.event)),
                _ => None,
            }
        }
    }

    fn num(n: f64) -> Expr {
        Expr::Lit(Value::Number(n))
    }
    fn boolean(b: bool) -> Expr {
        Expr::Lit(Value::Bool(b))
    }
    fn text(s: &str) -> Expr {
        Expr::Lit(Value::Text(s.into()))
    }
    fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
        Expr::Binary(op, Box::new(a), Box::new(b))
    }
    fn call(name: &str, args: Vec<Expr>) -> Expr {
        Expr::Call(name.into(), args)
    }

    fn eval_with(expr: &Expr, limits: &Limits) -> EvalResult<Value> {
        let env = MapEnv::new([("TOKEN", "s3cr3t"), ("REGION", "eu")]);
        let redactor = Redactor::default();
        let now = || "2026-11-21T13:00:00Z".parse().unwrap();
        let ctx = Context {
            env: &env,
            redactor: &redactor,
            now: &now,
            limits,
        };
        let scopes = TestScopes {
            params: [
                ("order_id".to_string(), Value::Text("A1".into())),
                ("missing".to_string(), Value::Null),
            ]
            .into_iter()
            .collect(),
            event: Value::from_json(&serde_json::json!({
                "text": "I want a REFUND", "items": [{"sku": "x1"}], "n": 3
            })),
        };
        Evaluator::new(&ctx).eval_owned(expr, &scopes)
    }

    fn eval(expr: &Expr) -> EvalResult<Value> {
        eval_with(expr, &Limits::default())
    }

    fn event(path: &[&str]) -> Expr {
        path.iter().fold(Expr::Var(Scope::Event), |base, name| {
            Expr::Field(Box::new(base), name.to_string())
        })
    }

    #[test]
    fn arithmetic_text_and_comparison() {
        assert_eq!(
            eval(&bin(BinOp::Add, num(2.0), num(3.0))),
            Ok(Value::Number(5.0))
        );
        assert_eq!(
            eval(&bin(BinOp::Add, text("a"), text("b"))),
            Ok(Value::Text("ab".into()))
        );
        assert_eq!(
            eval(&bin(BinOp::Lt, num(2.0), num(3.0))),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            eval(&bin(BinOp::Div, num(1.0), num(0.0))),
            err("`/` by zero")
        );
        assert!(eval(&bin(BinOp::Add, text("a"), num(1.0)))
            .unwrap_err()
            .0
            .contains("cannot apply `+` to text and number"));
    }

    #[test]
    fn coalesce_in_and_null_safe_paths() {
        let missing = Expr::Var(Scope::Param("missing".into()));
        assert_eq!(
            eval(&bin(BinOp::Coalesce, missing.clone(), text("there"))),
            Ok(Value::Text("there".into()))
        );
        let deep = Expr::Field(Box::new(missing), "name".into());
        assert_eq!(eval(&deep), Ok(Value::Null));
        let sku = Expr::Field(
            Box::new(Expr::Index(Box::new(event(&["items"])), Box::new(num(0.0)))),
            "sku".into(),
        );
        assert_eq!(eval(&sku), Ok(Value::Text("x1".into())));
        let past_end = Expr::Index(Box::new(event(&["items"])), Box::new(num(5.0)));
        assert_eq!(eval(&past_end), Ok(Value::Null));
        let list = Expr::List(vec![text("a"), text("b")]);
        assert_eq!(
            eval(&bin(BinOp::In, text("b"), list)),
            Ok(Value::Bool(true))
        );
        assert!(eval(&Expr::Field(Box::new(event(&["n"])), "x".into()))
            .unwrap_err()
            .0
            .contains("cannot read field `x` of a number"));
        assert!(eval(&Expr::Var(Scope::Response)).is_err());
    }

    #[test]
    fn interpolation_and_if() {
        let interp = Expr::Interp(vec![
            text("order "),
            Expr::Var(Scope::Param("order_id".into())),
            text(" / "),
            num(2.0),
        ]);
        assert_eq!(eval(&interp), Ok(Value::Text("order A1 / 2".into())));
        let cond = Expr::If(
            Box::new(boolean(false)),
            Box::new(text("a")),
            Box::new(text("b")),
        );
        assert_eq!(eval(&cond), Ok(Value::Text("b".into())));
        let bad = Expr::If(Box::new(num(1.0)), Box::new(text("a")), Box::new(text("b")));
        assert!(eval(&bad).is_err());
    }

    #[test]
    fn functions_over_event_text() {
        let refund = call(
            "contains",
            vec![call("lower", vec![event(&["text"])]), text("refund")],
        );
        assert_eq!(eval(&refund), Ok(Value::Bool(true)));
        assert_eq!(
            eval(&call("matches", vec![text("A-123"), text(r"^[A-Z]-\d+$")])),
            Ok(Value::Bool(true))
        );
        assert!(eval(&call("matches", vec![text("x"), text("(")]))
            .unwrap_err()
            .0
            .contains("regular expression"));
        assert_eq!(
            eval(&call("round", vec![num(2.345), num(2.0)])),
            Ok(Value::Number(2.35))
        );
        assert_eq!(
            eval(&call("today", vec![])),
            Ok(Value::Text("2026-11-21".into()))
        );
        assert_eq!(
            eval(&call("now", vec![])),
            Ok(Value::Text("2026-11-21T13:00:00Z".into()))
        );
        assert_eq!(
            eval(&call(
                "days_between",
                vec![text("2026-11-01"), text("2026-11-21T10:00:00Z")]
            )),
            Ok(Value::Number(20.0))
        );
        assert_eq!(
            eval(&call(
                "format_date",
                vec![text("2026-11-21"), text("%d/%m/%Y")]
            )),
            Ok(Value::Text("21/11/2026".into()))
        );
        assert_eq!(
            eval(&call("number", vec![text(" 42.5 ")])),
            Ok(Value::Number(42.5))
        );
        assert!(eval(&call("number", vec![text("forty")])).is_err());
        assert_eq!(
            eval(&call("env", vec![text("REGION")])),
            Ok(Value::Text("eu".into()))
        );
        assert!(eval(&call("secret", vec![text("NOPE")]))
            .unwrap_err()
            .0
            .contains("NOPE"));
    }

    #[test]
    fn limits_stop_runaway_expressions() {
        let limits = Limits {
            max_depth: 10,
            max_text_bytes: 16,
            max_list_items: 4,
            max_operations: 50,
            ..Limits::default()
        };
        let mut deep = num(1.0);
        for _ in 0..20 {
            deep = bin(BinOp::Add, deep, num(1.0));
        }
        assert!(eval_with(&deep, &limits).unwrap_err().0.contains("nested"));
        let long = bin(BinOp::Add, text("0123456789"), text("0123456789"));
        assert!(eval_with(&long, &limits)
            .unwrap_err()
            .0
            .contains("longer than 16 bytes"));
        let wide = Expr::List((0..30).map(|_| num(1.0)).collect());
        assert!(eval_with(&wide, &limits).is_err());
        let many = Expr::Record((0..60).map(|i| (format!("k{i}"), num(1.0))).collect());
        assert!(eval_with(&many, &limits)
            .unwrap_err()
            .0
            .contains("operations"));
    }

    #[test]
    fn built_values_stay_within_the_value_bounds() {
        let limits = Limits {
            value: ValueBounds {
                max_depth: 3,
                max_bytes: 4096,
            },
            ..Limits::default()
        };
        let mut deep = num(1.0);
        for _ in 0..4 {
            deep = Expr::List(vec![deep]);
        }
        assert!(eval_with(&deep, &limits)
            .unwrap_err()
            .0
            .contains("more than 3 lists or records deep"));
        let items = Expr::List((0..30).map(|_| num(1.0)).collect());
        assert!(eval_with(&items, &limits).is_ok());
        // Each side fits; together they do not, in a list or a record.
        let doubled = bin(BinOp::Add, items.clone(), items.clone());
        let paired = Expr::Record(vec![("a".into(), items.clone()), ("b".into(), items)]);
        for expr in [doubled, paired] {
            assert!(eval_with(&expr, &limits)
                .unwrap_err()
                .0
                .contains("more than 4096 bytes of memory"));
        }
    }

    #[test]
    fn numbers_stay_finite() {
        for (op, a, b) in [
            (BinOp::Mul, 1e200, 1e200),
            (BinOp::Add, 1.7e308, 1.7e308),
            (BinOp::Sub, -1.7e308, 1.7e308),
            (BinOp::Div, 1e300, 1e-300),
        ] {
            let error = eval(&bin(op, num(a), num(b))).unwrap_err().0;
            assert!(
                error.contains(&format!("`{}` overflows", op.symbol())),
                "{error}"
            );
        }
        assert_eq!(
            eval(&call("round", vec![num(1e308), num(2.0)])),
            Ok(Value::Number(1e308))
        );
    }
}
