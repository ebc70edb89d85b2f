//! One lowering of a `mock` step wherever it is written — a `test` block, a `--mocks` file
//! (`agentc run`), the REPL's `:mock` — so the same mistake gets the same code in all three.
//! How the step's values are checked and evaluated is the caller's: a test block allows
//! constants only, a mocks file and the REPL also `secret(..)` and `env(..)`.

use super::unknown_help;
use crate::catalogue::{self, Protocol, TargetKind};
use crate::diagnostics::{Code, Diagnostic, Span};
use crate::ir::{self, Value};
use crate::syntax::ast;

const HTTP_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

/// The program as a mock step sees it.
pub(crate) struct Targets<'s> {
    /// Each declared target's name and kind (`None`: its kind is itself an error).
    pub declared: Vec<(&'s str, Option<&'static TargetKind>)>,
    /// What a declared name that is not a target is ("an action").
    pub other: &'s dyn Fn(&str) -> Option<&'static str>,
    /// A file that did not parse may declare any name (a broken `import`): none is unknown.
    pub any_may_be_declared: bool,
}

/// Checks and evaluates one value of a step (its path, status or body).
pub type Evaluate<'e> = dyn FnMut(&ast::Expr) -> Result<Value, Vec<Diagnostic>> + 'e;

/// `mock TARGET METHOD "PATH" [-> STATUS [BODY]]` as an IR step spanning `span`, or `None`
/// with the reasons in `diags`.
pub(crate) fn lower(
    targets: &Targets,
    mock: &ast::Mock,
    span: Span,
    value: &mut Evaluate,
    diags: &mut Vec<Diagnostic>,
) -> Option<ir::TestStep> {
    let kind = external_target(targets, &mock.target, diags)?;
    if kind.protocol == Protocol::Sql {
        sql_statement_only(mock, diags)?;
    }
    let method = method(kind, &mock.method, diags);
    let mut evaluate = |expr: &ast::Expr, diags: &mut Vec<Diagnostic>| {
        value(expr).map_err(|found| diags.extend(found)).ok()
    };
    let path = match evaluate(&with_pattern_segments(&mock.path), diags)? {
        Value::Text(path) => Some(path),
        _ => {
            diags.push(bad_step(mock.path.span, "a mock's path must be a text"));
            None
        }
    };
    let status = match &mock.status {
        None => Some(None),
        Some(expr) => match evaluate(expr, diags)? {
            Value::Number(n) if (100.0..=599.0).contains(&n) && n.fract() == 0.0 => {
                Some(Some(n as u16))
            }
            _ => {
                diags.push(bad_step(
                    expr.span,
                    "a status must be a whole number from 100 to 599",
                ));
                None
            }
        },
    };
    let body = match &mock.body {
        None => None,
        Some(expr) => Some(evaluate(expr, diags)?),
    };
    Some(ir::TestStep::Mock {
        target: mock.target.name.clone(),
        method: method?,
        path: path?,
        status: status?,
        body,
        span,
    })
}

/// A sql target's mock is a statement, `mock DB SQL "…"`: it has no other method, and no
/// status or body.
fn sql_statement_only(mock: &ast::Mock, diags: &mut Vec<Diagnostic>) -> Option<()> {
    let answer = mock.status.as_ref().or(mock.body.as_ref());
    let wrong = match answer {
        Some(expr) => expr.span,
        None if mock.method.name.eq_ignore_ascii_case("SQL") => return Some(()),
        None => mock.method.span,
    };
    let target = &mock.target.name;
    diags.push(
        Diagnostic::new(
            Code::BadTestStep,
            format!("`{target}` is a sql target: its mock is a statement run on its database"),
            wrong,
        )
        .with_help(format!("write `mock {target} SQL \"INSERT …\"`")),
    );
    None
}

/// A mock's path with each `{name}` kept as written: in a path it is a segment that
/// matches any one segment (`"/orders/{id}"`), not an interpolation. Other `{expr}`
/// (`{env("SHOP")}` in a mocks file) are still evaluated.
fn with_pattern_segments(path: &ast::Expr) -> ast::Expr {
    let ast::ExprKind::Str(lit, triple) = &path.kind else {
        return path.clone();
    };
    let parts = lit
        .parts
        .iter()
        .map(|part| match part {
            ast::StrPart::Interp(ast::Expr {
                kind: ast::ExprKind::Name(name),
                ..
            }) => ast::StrPart::Lit(format!("{{{name}}}")),
            other => other.clone(),
        })
        .collect();
    ast::Expr {
        kind: ast::ExprKind::Str(ast::StrLit { parts }, *triple),
        span: path.span,
        parens: path.parens,
    }
}

/// A declared target that has a service to mock or inspect (not `conversation` or `call`).
pub(crate) fn external_target(
    targets: &Targets,
    name: &ast::Ident,
    diags: &mut Vec<Diagnostic>,
) -> Option<&'static TargetKind> {
    let builtin = catalogue::target_kind(&name.name).is_some_and(|k| k.builtin);
    if builtin {
        diags.push(
            Diagnostic::new(
                Code::BadTestStep,
                format!("`{}` is built in: it has no service to mock or inspect", name.name),
                name.span,
            )
            .with_help("check its effects with `expect say`, `expect transfer`, `expect label`, `expect reply`, `expect param` or `expect status`"),
        );
        return None;
    }
    match targets.declared.iter().find(|(n, _)| *n == name.name) {
        Some((_, kind)) => *kind,
        None if targets.any_may_be_declared => None,
        None => {
            let help = match (targets.other)(&name.name) {
                Some(what) => format!("`{}` is {what}, not a target", name.name),
                None => unknown_help(
                    &name.name,
                    targets.declared.iter().map(|(n, _)| *n),
                    "name one of the program's declared targets".into(),
                ),
            };
            diags.push(
                Diagnostic::new(
                    Code::UnknownTarget,
                    format!("unknown target `{}`", name.name),
                    name.span,
                )
                .with_help(help),
            );
            None
        }
    }
}

/// The method of a mock or expected request: an HTTP method for services spoken over
/// HTTP; any word for SMTP and SQL.
pub(crate) fn method(
    kind: &TargetKind,
    method: &ast::Ident,
    diags: &mut Vec<Diagnostic>,
) -> Option<String> {
    let http = matches!(kind.protocol, Protocol::Http { .. });
    if !http || HTTP_METHODS.contains(&method.name.as_str()) {
        return Some(method.name.clone());
    }
    diags.push(
        Diagnostic::new(
            Code::UnknownWord,
            format!("`{}` is not an HTTP method", method.name),
            method.span,
        )
        .with_label_message("expected one of GET | POST | PUT | PATCH | DELETE")
        .with_help(unknown_help(
            &method.name,
            HTTP_METHODS.iter().copied(),
            "write one of: GET, POST, PUT, PATCH, DELETE".into(),
        )),
    );
    None
}

pub(crate) fn bad_step(span: Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(Code::BadTestStep, message, span)
        .with_help("see `agentc explain E0501` for the forms of test steps")
}
