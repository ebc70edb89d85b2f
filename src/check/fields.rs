//! `key: value` blocks checked against a catalogue field list: unknown fields (E0204),
//! fields given twice (E0106) and missing required fields (E0205).

use super::unknown_help;
use crate::catalogue::FieldSpec;
use crate::diagnostics::{Code, Diagnostic, Span};
use crate::syntax::ast::{Expr, ExprKind, Field};

/// The fields of one block, by their spec.
pub struct Fields<'f> {
    specs: &'static [FieldSpec],
    given: Vec<Option<&'f Field>>,
}

impl<'f> Fields<'f> {
    /// `owner` names the block in messages ("action `check_order`", "an http target").
    pub fn index(
        fields: &'f [Field],
        specs: &'static [FieldSpec],
        owner: &str,
        owner_span: Span,
        diags: &mut Vec<Diagnostic>,
    ) -> Self {
        let mut given: Vec<Option<&'f Field>> = vec![None; specs.len()];
        for field in fields {
            let key = field.key.name.as_str();
            let Some(i) = specs.iter().position(|s| s.name == key) else {
                if is_broken(&field.value) {
                    // A key half written before a syntax error: the error is the report.
                    continue;
                }
                let known: Vec<&str> = specs.iter().map(|s| s.name).collect();
                diags.push(
                    Diagnostic::new(
                        Code::UnknownField,
                        format!("{owner} has no field `{key}`"),
                        field.key.span,
                    )
                    .with_help(unknown_help(
                        key,
                        known.iter().copied(),
                        format!("its fields are: {}", known.join(", ")),
                    )),
                );
                continue;
            };
            match given[i] {
                // One of them did not parse: it may not be this field at all.
                Some(first) if is_broken(&first.value) || is_broken(&field.value) => {}
                Some(first) => diags.push(
                    Diagnostic::new(
                        Code::DuplicateField,
                        format!("field `{key}` is given twice"),
                        field.key.span,
                    )
                    .with_secondary(first.key.span, "first given here")
                    .with_help("remove one of them"),
                ),
                None => given[i] = Some(field),
            }
        }
        let fields = Fields { specs, given };
        for (spec, field) in specs.iter().zip(&fields.given) {
            if spec.required && field.is_none() {
                diags.push(missing(owner, owner_span, spec.name, spec.doc));
            }
        }
        fields
    }

    /// The field as given, its value broken or not (a broken field counts as written).
    pub fn get(&self, name: &str) -> Option<&'f Field> {
        let i = self.specs.iter().position(|s| s.name == name)?;
        self.given[i]
    }

    /// The field's value, unless it did not parse (its syntax error is the report, so
    /// nothing is checked about it).
    pub fn value(&self, name: &str) -> Option<&'f Expr> {
        self.get(name).map(|f| &f.value).filter(|v| !is_broken(v))
    }

    /// The given fields whose values parsed, with their specs, in the catalogue's order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static FieldSpec, &'f Field)> + '_ {
        self.specs
            .iter()
            .zip(&self.given)
            .filter_map(|(s, f)| f.map(|f| (s, f)))
            .filter(|(_, f)| !is_broken(&f.value))
    }
}

fn is_broken(value: &Expr) -> bool {
    matches!(value.kind, ExprKind::Error)
}

/// E0205 for a required field that is absent.
pub fn missing(owner: &str, owner_span: Span, name: &str, doc: &str) -> Diagnostic {
    Diagnostic::new(
        Code::MissingField,
        format!("{owner} has no `{name}` field"),
        owner_span,
    )
    .with_label_message(format!("`{name}` is required"))
    .with_help(format!("add `{name}: …` ({})", doc.trim_end_matches('.')))
}
