//! `expect` steps: each one looks at what the world recorded (the trace, the conversation's
//! state, the requests and emails the mocks received, the rows of a database) and, when it
//! does not hold, says what was expected and what happened instead.

use super::matching::{matches, show};
use super::world::{describe_request, start_time, World, CONVERSATION};
use super::Failure;
use crate::diagnostics::Span;
use crate::ir::{BinOp, Effect, Expectation, Expected, Expr, Value};
use crate::runtime::mock::{api_prefix, path_matches, RecordedRequest};
use crate::runtime::{
    ActionStatus, Context, ConversationState, EvalError, Evaluator, Limits, Redactor, RunTaskError,
    TraceRecord,
};
use indexmap::IndexMap;
use std::fmt;

/// Why an expectation could not be looked at: the test fails with it.
#[derive(Debug)]
enum ExpectError {
    /// `expect param`'s condition does not evaluate.
    Condition(EvalError),
    /// `expect row`'s table could not be read.
    Table {
        target: String,
        table: String,
        error: RunTaskError,
    },
}

impl fmt::Display for ExpectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectError::Condition(error) => {
                write!(f, "the condition cannot be evaluated: {error}")
            }
            ExpectError::Table {
                target,
                table,
                error,
            } => write!(f, "cannot read table {table:?} of `{target}`: {error}"),
        }
    }
}

/// What an expectation found: whether it holds, and the words for a failure either way.
struct Finding {
    holds: bool,
    /// The failure's message when the expectation was `expect …` (it does not hold).
    missing: String,
    /// The failure's message when it was `expect not …` (it holds).
    present: String,
    expected: Option<String>,
    actual: Option<String>,
    /// Neither `expect …` nor `expect not …` holds (`expect not ran` of an action that ran
    /// and failed): both fail, each with its own message.
    neither: bool,
}

impl Finding {
    fn new(holds: bool, missing: String, present: String) -> Self {
        Finding {
            holds,
            missing,
            present,
            expected: None,
            actual: None,
            neither: false,
        }
    }
    fn expected(mut self, text: impl Into<String>) -> Self {
        self.expected = Some(text.into());
        self
    }
    fn actual(mut self, text: impl Into<String>) -> Self {
        self.actual = Some(text.into());
        self
    }
}

pub(super) async fn check(
    world: &World<'_>,
    expectation: &Expectation,
    negated: bool,
    span: Span,
) -> Option<Failure> {
    let finding = match find(world, expectation).await {
        Ok(finding) => finding,
        Err(error) => return Some(Failure::new(span, error.to_string())),
    };
    if finding.holds != negated && !finding.neither {
        return None;
    }
    let message = if negated {
        finding.present
    } else {
        finding.missing
    };
    let mut failure = Failure::new(span, message);
    failure.expected = finding.expected;
    failure.actual = finding.actual;
    Some(failure)
}

async fn find(world: &World<'_>, expectation: &Expectation) -> Result<Finding, ExpectError> {
    let trace = || world.recent_trace();
    Ok(match expectation {
        Expectation::Ran { action } => outcome(&trace(), action, ActionStatus::Ok),
        Expectation::Failed { action } => outcome(&trace(), action, ActionStatus::Failed),
        Expectation::Skipped { action } => outcome(&trace(), action, ActionStatus::Skipped),
        Expectation::Effect { effect, fields } => had_effect(&trace(), *effect, fields.as_ref()),
        Expectation::Label { label } => {
            let labels = world.state().await.map(|s| s.labels).unwrap_or_default();
            let shown: Vec<String> = labels.iter().map(|l| format!("{l:?}")).collect();
            Finding::new(
                labels.contains(label),
                format!("the conversation has no label {label:?}"),
                format!("the conversation has the label {label:?}"),
            )
            .actual(format!("labels: [{}]", shown.join(", ")))
        }
        Expectation::Param { check } => param(world, check).await?,
        Expectation::Reply { reply, fields } => {
            replied(&trace(), reply.as_deref(), fields.as_ref())
        }
        Expectation::Status { status } => {
            let actual = world
                .state()
                .await
                .map_or("active", |s| s.status.name())
                .to_string();
            Finding::new(
                actual == *status,
                format!("the conversation is not {status}"),
                format!("the conversation is {status}"),
            )
            .expected(format!("status {status}"))
            .actual(format!("status {actual}"))
        }
        Expectation::Request {
            target,
            method,
            path,
            fields,
        } => {
            let received = recent_requests_to(world, target, method, path);
            let wanted = format!("{method} {path}");
            requests(
                world,
                target,
                &wanted,
                &received,
                fields.as_ref(),
                request_value,
            )
        }
        Expectation::Sms { target, fields } => {
            let sent = recent_requests_to(world, target, "POST", "/Messages.json");
            requests(world, target, "SMS", &sent, fields.as_ref(), sms_value)
        }
        Expectation::Email { target, fields } => email(world, target, fields.as_ref()),
        Expectation::Row {
            target,
            table,
            fields,
        } => row(world, target, table, fields.as_ref()).await?,
    })
}

/// `expect ran|failed|skipped ACTION`: how the action's runs in the window ended.
fn outcome(trace: &[TraceRecord], action: &str, wanted: ActionStatus) -> Finding {
    let mut runs = [0usize; 3]; // ok, failed, skipped
    let mut failure = None;
    let mut skip = None;
    let mut ran_names = Vec::new();
    for record in trace {
        let TraceRecord::Action {
            action: name,
            status,
            error,
            ..
        } = record
        else {
            continue;
        };
        if name != action {
            if *status == ActionStatus::Ok && !ran_names.contains(name) {
                ran_names.push(name.clone());
            }
            continue;
        }
        runs[index(*status)] += 1;
        let reason = error.clone();
        match status {
            ActionStatus::Ok => {}
            ActionStatus::Failed => failure = reason.or(Some("no reason given".into())),
            ActionStatus::Skipped => {
                skip = skip.or(reason).or(Some("its `when` was false".into()));
            }
        }
    }
    let mut seen = Vec::new();
    if runs[0] > 0 {
        seen.push(format!("it ran {}", times(runs[0])));
    }
    if let Some(reason) = &failure {
        seen.push(format!("it failed{}: {reason}", again(runs[1])));
    }
    if let Some(reason) = &skip {
        seen.push(format!("it was skipped{}: {reason}", again(runs[2])));
    }
    let actual = match (seen.is_empty(), ran_names.is_empty()) {
        (false, _) => seen.join("; "),
        (true, true) => "nothing ran it; no action ran".to_string(),
        (true, false) => format!("nothing ran it; what ran: {}", ran_names.join(", ")),
    };
    let (did, did_not) = match wanted {
        ActionStatus::Ok => ("ran", "did not run"),
        ActionStatus::Failed => ("failed", "did not fail"),
        ActionStatus::Skipped => ("was skipped", "was not skipped"),
    };
    let mut finding = Finding::new(
        runs[index(wanted)] > 0,
        format!("`{action}` {did_not}"),
        format!("`{action}` {did}"),
    )
    .actual(actual);
    // An action that ran and failed did run: `expect not ran` must not pass quietly.
    if wanted == ActionStatus::Ok && runs[0] == 0 && runs[1] > 0 {
        finding.neither = true;
        finding.present = format!(
            "`{action}` ran and failed; write `expect failed {action}` if that is expected"
        );
    }
    finding
}

fn index(status: ActionStatus) -> usize {
    match status {
        ActionStatus::Ok => 0,
        ActionStatus::Failed => 1,
        ActionStatus::Skipped => 2,
    }
}

/// `expect say "…"`, `expect transfer { … }`, …: one such effect in the window has `fields`.
fn had_effect(trace: &[TraceRecord], effect: Effect, fields: Option<&Expected>) -> Finding {
    let found: Vec<Value> = trace
        .iter()
        .filter_map(|record| effect_value(record, effect))
        .collect();
    let holds = found
        .iter()
        .any(|value| fields.is_none_or(|f| matches(f, value)));
    let name = effect.name();
    let expected = match fields {
        Some(fields) => format!("{name} {fields}"),
        None => name.to_string(),
    };
    let actual = if found.is_empty() {
        format!("no {name} happened")
    } else {
        let shown: Vec<String> = found
            .iter()
            .map(|v| format!("{name} {}", show(v)))
            .collect();
        shown.join("\n")
    };
    Finding::new(
        holds,
        format!("no {name} like this happened"),
        format!("a {name} like this happened"),
    )
    .expected(expected)
    .actual(actual)
}

/// The fields of a trace record (`Effect::fields`) when it is that effect.
fn effect_value(record: &TraceRecord, effect: Effect) -> Option<Value> {
    let text = |s: &str| Value::Text(s.to_string());
    let optional = |s: &Option<String>| s.as_deref().map_or(Value::Null, text);
    let values = match (effect, record) {
        (Effect::Say, TraceRecord::Say { text: said, .. }) => vec![text(said)],
        (
            Effect::Transfer,
            TraceRecord::Transfer {
                to, mode, whisper, ..
            },
        ) => vec![text(to), text(mode), optional(whisper)],
        (Effect::Hold, TraceRecord::Hold { message, music, .. }) => {
            vec![optional(message), optional(music)]
        }
        (Effect::Hangup, TraceRecord::Hangup { reason, .. })
        | (Effect::Ended, TraceRecord::Close { reason, .. }) => vec![optional(reason)],
        (Effect::Dtmf, TraceRecord::Dtmf { digits, .. }) => vec![text(digits)],
        (Effect::Escalation, TraceRecord::Escalation { queue, reason, .. }) => {
            vec![optional(queue), optional(reason)]
        }
        (
            Effect::Start,
            TraceRecord::Event {
                usecase: Some(usecase),
                block,
                started_by: Some(by),
                ..
            },
        ) => {
            let name = block
                .as_ref()
                .map_or_else(|| usecase.clone(), |b| format!("{usecase}.{b}"));
            vec![text(&name), text(by)]
        }
        _ => return None,
    };
    let names = effect.fields().iter().map(|n| n.to_string());
    Some(Value::Record(names.zip(values).collect()))
}

/// ` 3 times` after a verb, nothing for once.
fn again(n: usize) -> String {
    if n == 1 {
        String::new()
    } else {
        format!(" {}", times(n))
    }
}

fn times(n: usize) -> String {
    if n == 1 {
        "once".into()
    } else {
        format!("{n} times")
    }
}

/// `expect reply welcome`, `expect reply "text"`, `expect reply { text, choices }`: a reply
/// with that name or text, or with at least those fields, was sent.
fn replied(trace: &[TraceRecord], reply: Option<&str>, fields: Option<&Expected>) -> Finding {
    let sent: Vec<(Option<&str>, &str, Value)> = trace
        .iter()
        .filter_map(|record| match record {
            TraceRecord::Reply { reply, text, .. } => {
                Some((reply.as_deref(), text.as_str(), reply_value(record)))
            }
            _ => None,
        })
        .collect();
    let holds = sent.iter().any(|(name, text, value)| {
        reply.is_none_or(|r| *name == Some(r) || *text == r)
            && fields.is_none_or(|f| matches(f, value))
    });
    let actual = if sent.is_empty() {
        "no reply was sent".to_string()
    } else {
        let shown: Vec<String> = sent
            .iter()
            .map(|(name, text, value)| match (fields, name) {
                (Some(_), _) => show(value),
                (None, Some(name)) => format!("{name}: {text:?}"),
                (None, None) => format!("{text:?}"),
            })
            .collect();
        format!("replies sent:\n{}", shown.join("\n"))
    };
    let wanted = match (reply, fields) {
        (Some(reply), _) => format!("`{reply}`"),
        (None, Some(fields)) => fields.to_string(),
        (None, None) => String::new(),
    };
    Finding::new(
        holds,
        format!("the reply {wanted} was not sent"),
        format!("the reply {wanted} was sent"),
    )
    .actual(actual)
}

/// A reply record's fields as `expect reply { … }` matches them (docs/trace.md).
fn reply_value(record: &TraceRecord) -> Value {
    let TraceRecord::Reply {
        reply,
        text,
        choices,
        ..
    } = record
    else {
        return Value::Null;
    };
    let text_of = |s: &str| Value::Text(s.to_string());
    let choices = choices
        .iter()
        .map(|c| {
            let fields = [("id", text_of(&c.id)), ("label", text_of(&c.label))];
            Value::Record(
                fields
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
            )
        })
        .collect();
    let fields = [
        ("reply", reply.as_deref().map_or(Value::Null, text_of)),
        ("text", text_of(text)),
        ("choices", Value::List(choices)),
    ];
    Value::Record(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// `expect param`: the condition, evaluated on the conversation's state.
async fn param(world: &World<'_>, check: &Expr) -> Result<Finding, ExpectError> {
    let state = world
        .state()
        .await
        .unwrap_or_else(|| ConversationState::initial(CONVERSATION, &world.program.agent));
    let eval = |expr: &Expr| evaluate(expr, &state);
    let value = eval(check).map_err(ExpectError::Condition)?;
    // For a comparison, show both sides: that is what the reader needs to fix the test.
    let actual = match check {
        Expr::Binary(op, left, right) if is_comparison(*op) => match (eval(left), eval(right)) {
            (Ok(l), Ok(r)) => format!("left side {}, right side {}", show(&l), show(&r)),
            _ => format!("the condition is {}", show(&value)),
        },
        _ => format!("the condition is {}", show(&value)),
    };
    Ok(Finding::new(
        value == Value::Bool(true),
        "the condition is false".into(),
        "the condition is true".into(),
    )
    .actual(actual))
}

fn is_comparison(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::In
    )
}

fn evaluate(expr: &Expr, state: &ConversationState) -> Result<Value, EvalError> {
    let env = crate::runtime::MapEnv::default();
    let redactor = Redactor::default();
    let now = start_time;
    let limits = Limits::default();
    let context = Context {
        env: &env,
        redactor: &redactor,
        now: &now,
        limits: &limits,
    };
    Evaluator::new(&context).eval_owned(expr, state)
}

/// What was received, cut down to the keys the test gave (a request's headers and the
/// mocks' port are noise when the test is about its body).
fn project(actual: &Value, fields: Option<&Expected>) -> Value {
    match (actual, fields.and_then(Expected::keys)) {
        (Value::Record(got), Some(wanted)) => Value::Record(
            got.iter()
                .filter(|(key, _)| wanted.contains(&key.as_str()))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
        ),
        _ => actual.clone(),
    }
}

/// The requests of the current window that a `mock target METHOD "path"` would answer.
fn recent_requests_to(
    world: &World<'_>,
    target: &str,
    method: &str,
    path: &str,
) -> Vec<RecordedRequest> {
    let prefix = world.program.targets.get(target).map_or("", api_prefix);
    world
        .recent_requests()
        .into_iter()
        .filter(|r| {
            r.target == target
                && r.method.eq_ignore_ascii_case(method)
                && path_matches(prefix, path, &r.path, &r.query)
        })
        .collect()
}

/// `{ query, body, headers }` of a request, for `expect request … { … }`.
fn request_value(request: &RecordedRequest) -> Value {
    request.to_value()
}

/// `{ to, from, body }` of a Twilio message (its form fields, names lower-cased).
fn sms_value(request: &RecordedRequest) -> Value {
    match &request.body {
        Value::Record(form) => Value::Record(
            form.iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Requests to one target (already filtered by method and path): one must have `fields`.
fn requests(
    world: &World<'_>,
    target: &str,
    wanted: &str,
    candidates: &[RecordedRequest],
    fields: Option<&Expected>,
    value: fn(&RecordedRequest) -> Value,
) -> Finding {
    let matching = candidates
        .iter()
        .filter(|r| fields.is_none_or(|f| matches(f, &value(r))))
        .count();
    let expected = match fields {
        Some(fields) => format!("{wanted} with {fields}"),
        None => wanted.to_string(),
    };
    let actual = if candidates.is_empty() {
        let all: Vec<String> = world
            .recent_requests()
            .iter()
            .filter(|r| r.target == target)
            .map(describe_request)
            .collect();
        if all.is_empty() {
            format!("`{target}` received no request after these events")
        } else {
            format!("`{target}` received:\n{}", all.join("\n"))
        }
    } else {
        let shown: Vec<String> = candidates
            .iter()
            .map(|r| show(&project(&value(r), fields)))
            .collect();
        format!(
            "{wanted} received {}:\n{}",
            times(candidates.len()),
            shown.join("\n")
        )
    };
    Finding::new(
        matching > 0,
        format!("`{target}` did not receive the expected {wanted}"),
        format!("`{target}` received {wanted}"),
    )
    .expected(expected)
    .actual(actual)
}

fn email(world: &World<'_>, target: &str, fields: Option<&Expected>) -> Finding {
    let sent: Vec<Value> = world
        .recent_emails()
        .iter()
        .filter(|e| e.target == target)
        .map(|e| e.to_value())
        .collect();
    let holds = sent.iter().any(|e| fields.is_none_or(|f| matches(f, e)));
    let actual = if sent.is_empty() {
        format!("`{target}` sent no email after these events")
    } else {
        let shown: Vec<String> = sent.iter().map(|e| show(&project(e, fields))).collect();
        format!("`{target}` sent:\n{}", shown.join("\n"))
    };
    let mut finding = Finding::new(
        holds,
        format!("`{target}` sent no such email"),
        format!("`{target}` sent such an email"),
    )
    .actual(actual);
    if let Some(fields) = fields {
        finding = finding.expected(format!("an email with {fields}"));
    }
    finding
}

async fn row(
    world: &World<'_>,
    target: &str,
    table: &str,
    fields: Option<&Expected>,
) -> Result<Finding, ExpectError> {
    let statement = format!("SELECT * FROM \"{}\"", table.replace('"', "\"\""));
    let args = IndexMap::from([("statement".to_string(), Value::Text(statement))]);
    let rows = world
        .runtime
        .run_task(target, "query", args, Vec::new())
        .await
        .map_err(|error| ExpectError::Table {
            target: target.to_string(),
            table: table.to_string(),
            error,
        })?;
    let rows = match rows {
        Value::List(rows) => rows,
        other => vec![other],
    };
    let holds = rows.iter().any(|r| fields.is_none_or(|f| matches(f, r)));
    let actual = if rows.is_empty() {
        format!("table {table:?} is empty")
    } else {
        let shown: Vec<String> = rows.iter().map(show).collect();
        format!("rows of {table:?}:\n{}", shown.join("\n"))
    };
    let mut finding = Finding::new(
        holds,
        format!("table {table:?} of `{target}` has no such row"),
        format!("table {table:?} of `{target}` has such a row"),
    )
    .actual(actual);
    if let Some(fields) = fields {
        finding = finding.expected(format!("a row with {fields}"));
    }
    Ok(finding)
}
