//! `salesforce.query(soql, values)`: the query is a fixed text whose `:name` placeholders
//! take their values from `values` (bound and escaped by `catalogue::soql`, never spliced).
//! What is cheap to see is reported here: a query built at run time (E0405), a placeholder
//! without a value (E0208), a value without a placeholder (E0207).

use super::checker::Checker;
use crate::catalogue::soql;
use crate::diagnostics::{Code, Diagnostic, Span};
use crate::syntax::ast::{self, ExprKind, StrPart};

impl Checker<'_> {
    /// Checks a `query` call's `soql` and `values`; false when it cannot run as written.
    pub(super) fn soql_query(
        &mut self,
        soql: &ast::Expr,
        values: Option<&ast::Expr>,
        call_span: Span,
    ) -> bool {
        let text = match &soql.kind {
            ExprKind::Str(s, _) => match s.as_plain() {
                Some(text) => text,
                None => return self.built_query(soql, Some(&s.parts)),
            },
            _ if super::actions::built_at_run_time(soql) => return self.built_query(soql, None),
            _ => return true,
        };
        let Ok(placeholders) = soql::placeholders(&text) else {
            // The run fails saying why; the misplaced `%` is not worth a code of its own.
            return true;
        };
        let entries = match values.map(|v| &v.kind) {
            None => Some(&[][..]),
            Some(ExprKind::Record(entries)) => Some(entries.as_slice()),
            // Computed values: only the run can tell.
            Some(_) => None,
        };
        let Some(entries) = entries else {
            return true;
        };
        let mut ok = true;
        for p in &placeholders {
            if !entries.iter().any(|e| e.key.name == p.name) {
                self.diags.push(
                    Diagnostic::new(
                        Code::MissingArgument,
                        format!("placeholder `:{}` of the query has no value", p.name),
                        values.map_or(call_span, |v| v.span),
                    )
                    .with_secondary(soql.span, "the query")
                    .with_help(format!(
                        "give it in the values: query(\"…\", {{ {}: … }})",
                        p.name
                    )),
                );
                ok = false;
            }
        }
        for entry in entries {
            if !placeholders.iter().any(|p| p.name == entry.key.name) {
                self.diags.push(
                    Diagnostic::new(
                        Code::UnknownArgument,
                        format!("the query has no placeholder `:{}`", entry.key.name),
                        entry.key.span,
                    )
                    .with_secondary(soql.span, "the query")
                    .with_help(format!(
                        "write `:{}` where the value goes, or leave the value out",
                        entry.key.name
                    )),
                );
                ok = false;
            }
        }
        ok
    }

    /// E0405 for a query built at run time, with the call written with placeholders.
    fn built_query(&mut self, soql: &ast::Expr, parts: Option<&[StrPart]>) -> bool {
        let help = match parts {
            Some(parts) => {
                let mut values = Vec::new();
                let text = super::actions::with_placeholders(parts, |e, n| {
                    let name = placeholder_name(e, n);
                    values.push(format!("{name}: {}", super::actions::show(e)));
                    format!(":{name}")
                });
                format!(
                    "pass the values bound: query(\"{}\", {{ {} }})",
                    text.replace('"', "\\\""),
                    values.join(", ")
                )
            }
            None => "write the query as one string with `:name` placeholders and pass the values: \
                     query(\"SELECT Id FROM Case WHERE SuppliedEmail = :email\", \
                     { email: user.email })"
                .into(),
        };
        self.diags.push(
            Diagnostic::new(
                Code::InterpolatedSql,
                "this SOQL query is built at run time: `query` takes a fixed query",
                soql.span,
            )
            .with_label_message("values spliced into SOQL allow SOQL injection")
            .with_help(help),
        );
        false
    }
}

/// The name a spliced value gets as a placeholder: its last field (`user.email` →
/// `email`), or `vN`.
fn placeholder_name(expr: &ast::Expr, n: usize) -> String {
    match &expr.kind {
        ExprKind::Name(name) => name.to_string(),
        ExprKind::Field(field) => field.1.name.to_string(),
        _ => format!("v{n}"),
    }
}
