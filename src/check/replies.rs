//! Reply declarations: texts written once or per language, and quick-reply choices.

use super::checker::Checker;
use super::decls::constant;
use super::fields::Fields;
use super::scope::{EventScope, Scope};
use super::security;
use super::types::Type;
use super::unknown_help;
use crate::catalogue::{self, locales, Channel};
use crate::diagnostics::{Code, Diagnostic, Span};
use crate::ir::{self, Value};
use crate::syntax::ast::{self, ExprKind};
use std::collections::HashMap;

impl<'a> Checker<'a> {
    pub fn reply(&mut self, i: usize) -> Option<ir::Reply> {
        let r = self.p.replies[i];
        let owner = format!("reply `{}`", r.name.name);
        let fields = Fields::index(
            &r.fields,
            catalogue::REPLY_FIELDS,
            &owner,
            r.name.span,
            &mut self.diags,
        );
        let scope = self.conversation_scope("a reply", EventScope::Any);
        let text = fields
            .value("text")
            .map(|v| self.reply_text(v, scope, "a reply's `text`"));
        let voice = fields
            .value("voice")
            .map(|v| self.reply_text(v, scope, "a reply's `voice`"));
        let choices = match fields.value("choices") {
            Some(value) => self.choices(value, scope)?,
            None => Vec::new(),
        };
        Some(ir::Reply {
            name: r.name.name.clone(),
            text: text??,
            voice: match voice {
                Some(voice) => Some(voice?),
                None => None,
            },
            choices,
        })
    }

    /// A text, or a record of texts by language tag (`{ en: "Hello", fr: "Bonjour" }`).
    fn reply_text(&mut self, value: &ast::Expr, scope: Scope<'a>, what: &str) -> Option<ir::Text> {
        let ExprKind::Record(entries) = &value.kind else {
            return self.shown_text(value, scope, what).map(ir::Text::One);
        };
        if entries.is_empty() {
            self.diags.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    format!("{what} has no text in any language"),
                    value.span,
                )
                .with_help("write a text, or one per language: { en: \"Hello\", fr: \"Bonjour\" }"),
            );
            return None;
        }
        let mut texts = Vec::with_capacity(entries.len());
        let mut ok = true;
        for entry in entries {
            let tag = &entry.key;
            if !locales::language_tag_known(&tag.name) {
                let help = unknown_help(
                    &tag.name,
                    locales::language_tags(),
                    format!(
                        "the languages known are: {}",
                        locales::language_tags().collect::<Vec<_>>().join(", ")
                    ),
                );
                self.diags.push(
                    Diagnostic::new(
                        Code::UnknownWord,
                        format!("`{}` is not a language tag agentc knows", tag.name),
                        tag.span,
                    )
                    .with_help(help),
                );
                ok = false;
            }
            let what = format!("{what} in `{}`", tag.name);
            match self.shown_text(&entry.value, scope, &what) {
                Some(expr) => texts.push((tag.name.clone(), expr)),
                None => ok = false,
            }
        }
        ok.then_some(ir::Text::ByLanguage(texts))
    }

    /// A text a person will see: no secret in it.
    fn shown_text(&mut self, value: &ast::Expr, scope: Scope<'a>, what: &str) -> Option<ir::Expr> {
        let (typed, _) = self.with_expr(scope, |ex| ex.expect(value, Type::Text, what));
        if let Some(secret) = typed.secret {
            self.diags.push(security::secret_shown(secret, "a reply"));
        }
        Some(typed.expr)
    }

    /// `choices: ["Order status", { id: "returns", label: "Returns" }]`.
    fn choices(&mut self, value: &ast::Expr, scope: Scope<'a>) -> Option<Vec<ir::Choice>> {
        let ExprKind::List(items) = &value.kind else {
            self.diags.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    "`choices` must be a list of choices",
                    value.span,
                )
                .with_help(CHOICES_EXAMPLE),
            );
            return None;
        };
        if items.is_empty() {
            self.diags.push(
                Diagnostic::new(Code::TypeMismatch, "`choices` offers no choice", value.span)
                    .with_help(format!(
                        "offer at least one, or leave `choices` out: {CHOICES_EXAMPLE}"
                    )),
            );
            return None;
        }
        if !self.env.allows(&[Channel::Chat]) {
            let mut d = Diagnostic::new(
                Code::ChannelMismatch,
                "quick-reply choices need the `chat` channel, which the agent lacks",
                value.span,
            )
            .with_help(
                "add `chat` to the agent's `channels`, or say the options in the reply's text",
            );
            if let Some(span) = self.env.channels_span {
                d = d.with_secondary(span, "the agent's channels");
            }
            self.diags.push(d);
            return None;
        }
        let mut choices = Vec::with_capacity(items.len());
        let mut seen: HashMap<String, Span> = HashMap::new();
        let mut ok = true;
        for item in items {
            let Some((choice, id)) = self.choice(item, scope) else {
                ok = false;
                continue;
            };
            if let Some((id, span)) = id {
                if let Some(&first) = seen.get(&id) {
                    self.diags.push(
                        Diagnostic::new(
                            Code::DuplicateName,
                            format!("the choice `{id}` is offered twice"),
                            span,
                        )
                        .with_secondary(first, "first offered here")
                        .with_help("offer each choice once; give choices with the same label different `id`s"),
                    );
                    ok = false;
                }
                seen.entry(id).or_insert(span);
            }
            choices.push(choice);
        }
        ok.then_some(choices)
    }

    /// One choice, and its id when known before the program runs (to find duplicates).
    fn choice(
        &mut self,
        item: &ast::Expr,
        scope: Scope<'a>,
    ) -> Option<(ir::Choice, Option<(String, Span)>)> {
        let ExprKind::Record(entries) = &item.kind else {
            let label = self.shown_text(item, scope, "a choice")?;
            let id = match &label {
                ir::Expr::Lit(Value::Text(text)) => Some((text.clone(), item.span)),
                _ => None,
            };
            let label = ir::Text::One(label);
            return Some((ir::Choice { id: None, label }, id));
        };
        let mut id_value = None;
        let mut label_value = None;
        for entry in entries {
            let slot = match entry.key.name.as_str() {
                "id" => &mut id_value,
                "label" => &mut label_value,
                other => {
                    self.diags.push(
                        Diagnostic::new(
                            Code::UnknownField,
                            format!("a choice has no field `{other}`"),
                            entry.key.span,
                        )
                        .with_help(unknown_help(
                            other,
                            ["id", "label"],
                            "a choice has an `id` and a `label`".into(),
                        )),
                    );
                    return None;
                }
            };
            *slot = Some(&entry.value);
        }
        let Some(label_value) = label_value else {
            self.diags.push(
                Diagnostic::new(Code::MissingField, "a choice needs a `label`", item.span)
                    .with_help(CHOICES_EXAMPLE),
            );
            return None;
        };
        let id = match id_value {
            Some(v) => match constant(v, Type::Text, "a choice's `id`", &mut self.diags)? {
                Value::Text(id) => Some(id),
                _ => None,
            },
            None => None,
        };
        let label = self.reply_text(label_value, scope, "a choice's `label`")?;
        let key = match (&id, &label) {
            (Some(id), _) => Some((id.clone(), id_value.map_or(item.span, |v| v.span))),
            (None, ir::Text::One(ir::Expr::Lit(Value::Text(text)))) => {
                Some((text.clone(), label_value.span))
            }
            _ => None,
        };
        Some((ir::Choice { id, label }, key))
    }
}

const CHOICES_EXAMPLE: &str =
    "e.g. choices: [\"Order status\", { id: \"human\", label: \"Talk to a person\" }]";
