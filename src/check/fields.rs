//! `key: value` blocks checked against a catalogue field list: unknown fields (E0204),
//! fields given twice (E0106) and missing required fields (E0205).

use super::unknown_help;
use crate::catalogue::FieldSpec;
use crate::diagnostics::{Code, Diagnostic, Span};
use crate::syntax::ast::{Expr, Field};

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
        skip: &[&str],
        diags: &mut Vec<Diagnostic>,
    ) -> Self {
        let mut given: Vec<Option<&'f Field>> = vec![None; specs.len()];
        for field in fields {
            let key = field.key.name.as_str();
            let Some(i) = specs.iter().position(|s| s.name == key) else {
                if skip.contains(&key) {
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

    pub fn get(&self, name: &str) -> Option<&'f Field> {
        let i = self.specs.iter().position(|s| s.name == name)?;
        self.given[i]
    }

    pub fn value(&self, name: &str) -> Option<&'f Expr> {
        self.get(name).map(|f| &f.value)
    }

    /// The given fields with their specs, in the catalogue's order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static FieldSpec, &'f Field)> + '_ {
        self.specs
            .iter()
            .zip(&self.given)
            .filter_map(|(s, f)| f.map(|f| (s, f)))
    }
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
