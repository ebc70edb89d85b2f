//! `test` blocks (docs/testing.md): what they mock, send and expect must exist; values are constant.

use super::checker::Checker;
use super::decls::constant;
use super::expected;
use super::mocks;
use super::scope::{EventScope, Scope};
use super::types::Type;
use super::unknown_help;
use crate::catalogue::{self, Kind, TargetKind};
use crate::diagnostics::{Code, Diagnostic, Span};
use crate::ir::{self, Value};
use crate::syntax::ast::{self, Expectation, ExprKind, SendWhat, TestStep};

/// Payload keys every sent event accepts: they fill these scopes.
const PAYLOAD_SCOPES: [&str; 3] = ["user", "caller", "params"];
/// The payload key that says which channel a sent event came on.
const CHANNEL_KEY: &str = "channel";

impl<'a> Checker<'a> {
    pub fn test(&mut self, i: usize) -> Option<ir::Test> {
        let t = self.p.tests[i];
        let mut steps = Vec::with_capacity(t.steps.len());
        let mut ok = true;
        for step in &t.steps {
            match self.test_step(step) {
                Some(s) => steps.push(s),
                None => ok = false,
            }
        }
        ok.then(|| ir::Test {
            name: t.name.clone(),
            steps,
            span: self.ir_span(t.span),
        })
    }

    fn test_step(&mut self, step: &TestStep) -> Option<ir::TestStep> {
        match step {
            TestStep::Mock(m) if m.target.name == "call" => self.fail_transfer(m),
            TestStep::Mock(m) => {
                let span = self.ir_span(m.span);
                let p = self.p;
                let other = |name: &str| p.names.get(name).map(|(d, _)| d.describe());
                let targets = self.mock_targets(&other);
                let mut value = |expr: &ast::Expr| {
                    let mut found = Vec::new();
                    constant(expr, Type::Any, "a mock's value", &mut found).ok_or(found)
                };
                mocks::lower(&targets, m, span, &mut value, &mut self.diags)
            }
            TestStep::Send(s) => {
                let event = match &s.what {
                    SendWhat::Event(e) => {
                        let spec = self.event_ref(&e.name, e.span)?;
                        if let Some(payload) = &s.payload {
                            self.payload_keys(spec, payload);
                        }
                        ir::SendEvent::Event {
                            event: spec.name.to_string(),
                        }
                    }
                    SendWhat::Usecase(u) => ir::SendEvent::Usecase {
                        usecase: self.p.usecases[self.usecase_ref(u)?].name.name.clone(),
                    },
                    SendWhat::Block { usecase, block } => {
                        let j = self.usecase_ref(usecase)?;
                        self.block_ref(j, block)?;
                        ir::SendEvent::Block {
                            usecase: usecase.name.clone(),
                            block: block.name.clone(),
                        }
                    }
                    SendWhat::Wait(d) => {
                        match constant(d, Type::Duration, "`send wait`", &mut self.diags)? {
                            Value::Duration(ms) => ir::SendEvent::Wait { ms },
                            _ => return None,
                        }
                    }
                };
                let payload = match &s.payload {
                    Some(p) => Some(constant(
                        p,
                        Type::Record,
                        "an event's payload",
                        &mut self.diags,
                    )?),
                    None => None,
                };
                Some(ir::TestStep::Send {
                    event,
                    payload,
                    span: self.ir_span(s.span),
                })
            }
            TestStep::Expect(e) => Some(ir::TestStep::Expect {
                negated: e.negated,
                expectation: self.expectation(&e.what)?,
                span: self.ir_span(e.span),
            }),
        }
    }

    fn expectation(&mut self, what: &Expectation) -> Option<ir::Expectation> {
        Some(match what {
            Expectation::Action(outcome, a) => {
                // Naming an action in a test does not count as using it.
                if self.p.action(&a.name).is_none() {
                    self.action_by_name(&a.name, a.span)?;
                }
                let action = a.name.clone();
                match outcome {
                    ast::Outcome::Ran => ir::Expectation::Ran { action },
                    ast::Outcome::Failed => ir::Expectation::Failed { action },
                    ast::Outcome::Skipped => ir::Expectation::Skipped { action },
                }
            }
            Expectation::Effect { effect, fields } => {
                let effect = ir::Effect::ALL
                    .into_iter()
                    .find(|e| e.name() == effect.name)?;
                ir::Expectation::Effect {
                    effect,
                    fields: self.effect_fields(effect, fields.as_ref())?,
                }
            }
            Expectation::Label(l) => ir::Expectation::Label {
                label: self.step_text(l, "a label")?,
            },
            Expectation::Param(check) => {
                let scope = Scope {
                    params_unknown: self.p.broken_agent,
                    ..Scope::conversation(
                        "an `expect param`",
                        &self.env.params,
                        self.env.voice(),
                        EventScope::None,
                    )
                };
                let (typed, _) =
                    self.with_expr(scope, |ex| ex.expect(check, Type::Bool, "`expect param`"));
                ir::Expectation::Param { check: typed.expr }
            }
            Expectation::Reply(r) if expected::is_matcher(r) => {
                let text = expected::lower(r, Type::Text, "an expected reply", &mut self.diags)?;
                ir::Expectation::Reply {
                    reply: None,
                    fields: Some(ir::Expected::Record([("text".to_string(), text)].into())),
                }
            }
            Expectation::Reply(r) => {
                let reply = match &r.kind {
                    ExprKind::Name(name) => {
                        if self.p.reply(name).is_none() {
                            self.reply_by_name(name, r.span)?;
                        }
                        name.to_string()
                    }
                    ExprKind::Record(entries) => {
                        return Some(ir::Expectation::Reply {
                            reply: None,
                            fields: Some(self.reply_fields(r, entries)?),
                        })
                    }
                    _ => self.step_text(r, "an expected reply")?,
                };
                ir::Expectation::Reply {
                    reply: Some(reply),
                    fields: None,
                }
            }
            Expectation::Request {
                target,
                method,
                path,
                fields,
            } => {
                let kind = self.external_target(target)?;
                ir::Expectation::Request {
                    target: target.name.clone(),
                    method: self.method(kind, method)?,
                    path: self.step_text(path, "an expected request's path")?,
                    fields: self.step_fields(fields)?.map(lowercase_header_names),
                }
            }
            Expectation::Email { target, fields } => {
                self.target_of_kind(target, Kind::Smtp, "expect email")?;
                ir::Expectation::Email {
                    target: target.name.clone(),
                    fields: self.step_fields(fields)?,
                }
            }
            Expectation::Sms { target, fields } => {
                self.target_of_kind(target, Kind::Sms, "expect sms")?;
                ir::Expectation::Sms {
                    target: target.name.clone(),
                    fields: self.step_fields(fields)?,
                }
            }
            Expectation::Row {
                target,
                table,
                fields,
            } => {
                self.target_of_kind(target, Kind::Sql, "expect row")?;
                ir::Expectation::Row {
                    target: target.name.clone(),
                    table: self.step_text(table, "a table name")?,
                    fields: self.step_fields(fields)?,
                }
            }
            Expectation::Status(s) => ir::Expectation::Status {
                status: self.step_text(s, "an expected status")?,
            },
        })
    }

    /// The keys of a sent event's payload: the event's own fields, plus `user`, `caller`
    /// and `params`, which fill those scopes.
    fn payload_keys(&mut self, spec: &catalogue::EventSpec, payload: &ast::Expr) {
        let ExprKind::Record(entries) = &payload.kind else {
            return;
        };
        let mut known: Vec<&str> = spec.payload.iter().map(|(n, _)| *n).collect();
        for key in PAYLOAD_SCOPES.into_iter().chain([CHANNEL_KEY]) {
            // `message_received` has its own `params`: name it once.
            if !known.contains(&key) {
                known.push(key);
            }
        }
        for entry in entries {
            if entry.key.name == CHANNEL_KEY {
                self.sent_channel(&entry.value);
                continue;
            }
            if known.contains(&entry.key.name.as_str()) {
                continue;
            }
            self.diags.push(
                Diagnostic::new(
                    Code::UnknownField,
                    format!("`{}` has no payload field `{}`", spec.name, entry.key.name),
                    entry.key.span,
                )
                .with_help(unknown_help(
                    &entry.key.name,
                    known.iter().copied(),
                    format!("its payload fields are: {}", known.join(", ")),
                )),
            );
        }
    }

    /// A sent event's `channel` says which channel the conversation is on: one of the
    /// agent's, as `agentc run` requires of an event that says where it came from.
    fn sent_channel(&mut self, value: &ast::Expr) {
        let written = match &value.kind {
            ExprKind::Str(lit, _) => lit.as_plain(),
            _ => None,
        };
        let Some(written) = written else {
            self.bad_step(
                value.span,
                "a payload's `channel` is a text: \"chat\", \"voice\" or \"email\"".into(),
            );
            return;
        };
        let agent: Vec<&str> = self.env.channels.iter().map(|c| c.name()).collect();
        match catalogue::Channel::parse(&written) {
            Some(channel) if self.env.channels.contains(&channel) => {}
            Some(_) => {
                let mut d = Diagnostic::new(
                    Code::ChannelMismatch,
                    format!(
                        "the agent does not talk on {written}: its channels are {}",
                        agent.join(", ")
                    ),
                    value.span,
                )
                .with_help(format!(
                    "add `{written}` to the agent's `channels`, or send on one of them"
                ));
                if let Some(channels) = self.env.channels_span {
                    d = d.with_secondary(channels, "the agent's channels");
                }
                self.diags.push(d);
            }
            None => self.diags.push(
                Diagnostic::new(
                    Code::UnknownWord,
                    format!("`{written}` is not a channel"),
                    value.span,
                )
                .with_help(unknown_help(
                    &written,
                    agent.iter().copied(),
                    format!("the agent's channels are: {}", agent.join(", ")),
                )),
            ),
        }
    }

    /// `mock call transfer "TO" -> fail ["REASON"]`: the one call effect a test can make fail.
    fn fail_transfer(&mut self, m: &ast::Mock) -> Option<ir::TestStep> {
        let fails = matches!(&m.status, Some(ast::Expr { kind: ExprKind::Name(word), .. }) if word == "fail");
        if m.method.name != "transfer" || !fails {
            self.bad_step(
                m.span,
                "on `call` a mock makes a transfer fail: `mock call transfer \"+15550123\" -> fail \"busy\"`".into(),
            );
            return None;
        }
        let reason = match &m.body {
            Some(body) => self.step_text(body, "the reason a transfer fails")?,
            None => "busy".into(),
        };
        Some(ir::TestStep::FailTransfer {
            to: self.step_text(&m.path, "the number a transfer fails to")?,
            reason,
            span: self.ir_span(m.span),
        })
    }

    /// The program's targets as a mock step sees them.
    fn mock_targets<'s>(
        &self,
        other: &'s dyn Fn(&str) -> Option<&'static str>,
    ) -> mocks::Targets<'s>
    where
        'a: 's,
    {
        let declared = self
            .p
            .targets
            .iter()
            .zip(self.targets.iter())
            .map(|(t, info)| (t.name.name.as_str(), info.kind))
            // A declaration that did not parse may be the target named: of unknown kind.
            .chain(self.p.unparsed.iter().map(|name| (*name, None)))
            .collect();
        mocks::Targets {
            declared,
            other,
            any_may_be_declared: self.p.broken_import,
        }
    }

    /// A declared target (the built-in ones have no service to mock).
    fn external_target(&mut self, name: &ast::Ident) -> Option<&'static TargetKind> {
        let p = self.p;
        let other = |name: &str| p.names.get(name).map(|(d, _)| d.describe());
        let targets = self.mock_targets(&other);
        mocks::external_target(&targets, name, &mut self.diags)
    }

    fn target_of_kind(&mut self, name: &ast::Ident, kind: Kind, step: &str) -> Option<()> {
        let found = self.external_target(name)?;
        if found.kind == kind {
            return Some(());
        }
        self.diags.push(
            Diagnostic::new(
                Code::BadTestStep,
                format!(
                    "`{step}` needs a {kind} target, but `{}` is {}",
                    name.name,
                    found.name()
                ),
                name.span,
            )
            .with_help(format!("name one of the program's {kind} targets")),
        );
        None
    }

    fn method(&mut self, kind: &TargetKind, method: &ast::Ident) -> Option<String> {
        mocks::method(kind, method, &mut self.diags)
    }

    fn step_text(&mut self, expr: &ast::Expr, what: &str) -> Option<String> {
        match constant(expr, Type::Text, what, &mut self.diags)? {
            Value::Text(t) => Some(t),
            _ => {
                self.bad_step(expr.span, format!("{what} must be a text"));
                None
            }
        }
    }

    fn step_fields(&mut self, fields: &Option<ast::Expr>) -> Option<Option<ir::Expected>> {
        match fields {
            Some(f) => Some(Some(expected::lower(
                f,
                Type::Record,
                "the expected fields",
                &mut self.diags,
            )?)),
            None => Some(None),
        }
    }

    /// An expected effect's fields: a record of its fields, or a text (or a matcher of
    /// texts) for the first one.
    fn effect_fields(
        &mut self,
        effect: ir::Effect,
        fields: Option<&ast::Expr>,
    ) -> Option<Option<ir::Expected>> {
        let Some(fields) = fields else {
            return Some(None);
        };
        let known = effect.fields();
        if let ExprKind::Record(entries) = &fields.kind {
            for entry in entries {
                if !known.contains(&entry.key.name.as_str()) {
                    let help = unknown_help(
                        &entry.key.name,
                        known.iter().copied(),
                        format!("its fields are: {}", known.join(", ")),
                    );
                    self.diags.push(
                        Diagnostic::new(
                            Code::UnknownField,
                            format!(
                                "`expect {}` has no field `{}`",
                                effect.name(),
                                entry.key.name
                            ),
                            entry.key.span,
                        )
                        .with_help(help),
                    );
                }
            }
            let what = "the expected fields";
            return expected::lower(fields, Type::Record, what, &mut self.diags).map(Some);
        }
        let first = known[0].to_string();
        if expected::is_matcher(fields) {
            let what = "an expected effect's text";
            let matcher = expected::lower(fields, Type::Text, what, &mut self.diags)?;
            return Some(Some(ir::Expected::Record([(first, matcher)].into())));
        }
        let text = self.step_text(fields, "an expected effect's text")?;
        let record = [(first, Value::Text(text))].into();
        Some(Some(ir::Expected::Value(Value::Record(record))))
    }

    /// `expect reply { text: "…", choices: ["Returns", …] }`: the fields of a reply record
    /// (docs/trace.md); a choice written as a text is its label.
    fn reply_fields(
        &mut self,
        r: &ast::Expr,
        entries: &[ast::RecordEntry],
    ) -> Option<ir::Expected> {
        const KNOWN: [&str; 3] = ["reply", "text", "choices"];
        for entry in entries
            .iter()
            .filter(|e| !KNOWN.contains(&e.key.name.as_str()))
        {
            let help = unknown_help(
                &entry.key.name,
                KNOWN,
                format!("its fields are: {}", KNOWN.join(", ")),
            );
            self.diags.push(
                Diagnostic::new(
                    Code::UnknownField,
                    format!("`expect reply` has no field `{}`", entry.key.name),
                    entry.key.span,
                )
                .with_help(help),
            );
        }
        let mut fields = expected::lower(r, Type::Record, "the expected reply", &mut self.diags)?;
        match &mut fields {
            ir::Expected::Value(Value::Record(fields)) => {
                if let Some(Value::List(choices)) = fields.get_mut("choices") {
                    choices.iter_mut().for_each(label_alone);
                }
            }
            ir::Expected::Record(fields) => match fields.get_mut("choices") {
                Some(ir::Expected::Value(Value::List(choices))) => {
                    choices.iter_mut().for_each(label_alone);
                }
                Some(ir::Expected::List(choices)) => {
                    for choice in choices {
                        if let ir::Expected::Value(value) = choice {
                            label_alone(value);
                        }
                    }
                }
                _ => {}
            },
            _ => {}
        }
        Some(fields)
    }

    fn bad_step(&mut self, span: Span, message: String) {
        self.diags.push(mocks::bad_step(span, message));
    }
}

/// An expected choice written as a text is a choice with that label.
fn label_alone(choice: &mut Value) {
    if let Value::Text(label) = choice {
        let label = Value::Text(std::mem::take(label));
        *choice = Value::Record([("label".to_string(), label)].into_iter().collect());
    }
}

/// HTTP header names are case-insensitive; the mocks record them lower-cased.
fn lowercase_header_names(mut fields: ir::Expected) -> ir::Expected {
    use ir::Expected;
    fn lower<V>(entries: indexmap::IndexMap<String, V>) -> indexmap::IndexMap<String, V> {
        entries
            .into_iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value))
            .collect()
    }
    match &mut fields {
        Expected::Value(Value::Record(fields)) => {
            if let Some(Value::Record(headers)) = fields.get_mut("headers") {
                *headers = lower(std::mem::take(headers));
            }
        }
        Expected::Record(fields) => match fields.get_mut("headers") {
            Some(Expected::Value(Value::Record(headers))) => {
                *headers = lower(std::mem::take(headers))
            }
            Some(Expected::Record(headers)) => *headers = lower(std::mem::take(headers)),
            _ => {}
        },
        _ => {}
    }
    fields
}
