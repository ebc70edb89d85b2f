//! Actions on declared targets: arguments evaluated into a [`TaskRequest`], one executor
//! call per try with a timeout, retries with back-off, `Retry-After` honoured, and a declared
//! task's `result` computed from the response.

use super::action_error::ActionError;
use super::conversation::{Conversation, EventCtx, Outcome};
use super::effects::{Delivery, ExecutorTask, TaskRequest};
use super::eval::EvalError;
use super::plan::{ActionKind, ExternalTask};
use super::retry::{self, Stop};
use crate::catalogue::{self, tasks, ArgSpec, BuiltinTask, Kind, Ty};
use crate::ir::{self, Expr, TaskDef, Value};
use futures::FutureExt;
use indexmap::IndexMap;
use percent_encoding::{AsciiSet, CONTROLS};
use std::fmt::Write;
use std::panic::AssertUnwindSafe;

/// What a task sends: the task's name, its arguments by name, its extra positional
/// arguments, and a declared task's own arguments (for its `result` mapping).
type TaskParts = (
    ExecutorTask,
    IndexMap<String, Value>,
    Vec<Value>,
    Option<IndexMap<String, Value>>,
);

/// Why a task was not sent: an argument, a declared task's field or the idempotency key
/// could not be computed, or holds what cannot be sent.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum DispatchError {
    /// An argument failed to evaluate; `None` for a positional one.
    Argument {
        name: Option<String>,
        error: EvalError,
    },
    NullArgument {
        name: String,
        task: String,
    },
    NotAWord {
        name: &'static str,
        task: String,
        text: String,
        words: &'static [&'static str],
    },
    Soql(catalogue::soql::SoqlError),
    ArgumentType {
        name: String,
        task: String,
        found: &'static str,
    },
    TaskField {
        field: String,
        error: EvalError,
    },
    NullPlaceholder {
        placeholder: String,
        task: String,
    },
    IdempotencyKey(EvalError),
    IdempotencyKeyNotText(&'static str),
}

impl std::error::Error for DispatchError {}

impl std::fmt::Display for DispatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DispatchError::Argument { name: Some(name), error } => {
                write!(f, "argument `{name}`: {error}")
            }
            DispatchError::Argument { name: None, error } => write!(f, "argument: {error}"),
            DispatchError::NullArgument { name, task } => {
                write!(f, "argument `{name}` of `{task}` is null: nothing was sent")
            }
            DispatchError::NotAWord { name, task, text, words } => write!(
                f,
                "argument `{name}` of `{task}` is {text:?}, which is not one of {}: nothing was sent",
                words.join(" | ")
            ),
            DispatchError::Soql(error) => write!(f, "`query`: {error}: nothing was sent"),
            DispatchError::ArgumentType { name, task, found } => {
                write!(f, "argument `{name}` of task `{task}` cannot be a {found}")
            }
            DispatchError::TaskField { field, error } => {
                write!(f, "the task's `{field}` failed: {error}")
            }
            DispatchError::NullPlaceholder { placeholder, task } => write!(
                f,
                "`{{{placeholder}}}` in the path of `{task}` is null: nothing was sent"
            ),
            DispatchError::IdempotencyKey(error) => {
                write!(f, "`idempotency_key` failed: {error}")
            }
            DispatchError::IdempotencyKeyNotText(found) => write!(
                f,
                "`idempotency_key` must be a non-empty text, found {found}"
            ),
        }
    }
}

/// Fails before any try: the arguments could not be evaluated.
fn not_sent(error: impl Into<ActionError>) -> Outcome {
    Outcome {
        result: Err(error.into()),
        attempts: 0,
        request: None,
        dry_run: false,
    }
}

impl Conversation {
    pub(super) async fn external(&mut self, index: usize, ev: &mut EventCtx) -> Outcome {
        let shared = self.shared.clone();
        let action = &shared.plan.actions[index];
        let ActionKind::External {
            target,
            task: planned,
            args,
            rest,
        } = &action.kind
        else {
            return not_sent(ActionError::NotExternal);
        };
        let prepared = match planned {
            ExternalTask::Declared(task) => self.declared_request(task, args, ev),
            ExternalTask::Builtin(task) => self.catalogue_request(*task, args, rest, ev),
        };
        let (task, args, rest, task_args) = match prepared {
            Ok(prepared) => prepared,
            Err(error) => return not_sent(error),
        };
        let idempotency_key = match self.idempotency_key(index, ev) {
            Ok(key) => key,
            Err(error) => return not_sent(error),
        };
        let request = TaskRequest {
            target: action.target.clone(),
            task,
            args,
            rest,
            idempotency_key,
            timeout: action.timeout,
            conversation: self.state.id.clone(),
        };
        let executor = shared.executors[*target].clone();
        let side_effect = match planned {
            ExternalTask::Declared(task) => catalogue::method_has_side_effect(&task.method),
            ExternalTask::Builtin(task) => task.spec().side_effect,
        };
        if shared.dry_run && (side_effect || !shared.in_process[*target]) {
            return Outcome {
                result: Ok(Value::Null),
                attempts: 0,
                request: Some(executor.preview(&request)),
                dry_run: true,
            };
        }
        let described = shared.tracer.enabled().then(|| executor.describe(&request));
        if let Some(reason) = executor.unavailable() {
            return not_sent(ActionError::Unavailable(reason.to_string()));
        }

        let rule = planned.retry_rule();
        let max_attempts = action.retry.attempts.max(1);
        let mut attempts = 0;
        let result = loop {
            attempts += 1;
            let attempt = AssertUnwindSafe(executor.execute(&request)).catch_unwind();
            // How the try failed, and what that says of retrying it.
            let (retryable, delivery, error) = match tokio::time::timeout(action.timeout, attempt)
                .await
            {
                Ok(Ok(Ok(value))) => break Ok(value),
                Ok(Ok(Err(error))) => (error.retryable, error.delivery, ActionError::Task(error)),
                Ok(Err(_panic)) => (false, Delivery::MaybeSent, ActionError::Crashed),
                Err(_elapsed) => (
                    true,
                    Delivery::MaybeSent,
                    ActionError::TimedOut(action.timeout),
                ),
            };
            match retry::stop(retryable, delivery, &rule, attempts, max_attempts) {
                Some(Stop::Failed) => break Err(error),
                Some(Stop::OutcomeUnknown { twice }) => {
                    break Err(ActionError::OutcomeUnknown {
                        cause: Box::new(error),
                        twice,
                    })
                }
                None => {}
            }
            let delay = match error.retry_after() {
                Some(wait) if wait > shared.max_retry_after => {
                    break Err(ActionError::RetryAfterTooLong {
                        cause: Box::new(error),
                        wait,
                        max: shared.max_retry_after,
                    })
                }
                Some(wait) => wait,
                None => {
                    let manual = shared.clock.mode() == super::clock::ClockMode::Manual;
                    let mut rng = rand::thread_rng();
                    retry::backoff_delay(&action.retry, attempts, (!manual).then_some(&mut rng))
                }
            };
            self.sleep(delay).await;
        };
        let mapping = match planned {
            ExternalTask::Declared(task) => task.result.as_ref(),
            ExternalTask::Builtin(_) => None,
        };
        let result = match (result, mapping) {
            (Ok(response), Some(mapping)) => self
                .eval_in(mapping, ev, Some(&response), task_args.as_ref())
                .map_err(ActionError::Result),
            (result, _) => result,
        };
        Outcome {
            result,
            attempts,
            request: described,
            dry_run: false,
        }
    }

    /// A catalogue task: its arguments by name, each checked against the catalogue (see
    /// [`sendable`]), plus variadic ones (an `http` task's `path` read by [`eval_path`]).
    fn catalogue_request(
        &self,
        builtin: BuiltinTask,
        args: &[(String, Expr)],
        rest: &[Expr],
        ev: &EventCtx,
    ) -> Result<TaskParts, DispatchError> {
        let (spec, task) = (builtin.spec(), builtin.name());
        let mut values = IndexMap::with_capacity(args.len());
        for (name, expr) in args {
            let eval = |expr: &Expr| {
                self.eval(expr, ev)
                    .map_err(|error| DispatchError::Argument {
                        name: Some(name.clone()),
                        error,
                    })
            };
            let value = if builtin.kind() == Kind::Http && name == "path" {
                eval_path(expr, task, eval)?
            } else {
                eval(expr)?
            };
            if let Some(arg) = spec.args.iter().find(|a| a.name == name) {
                sendable(arg, task, &value)?;
            }
            values.insert(name.clone(), value);
        }
        if builtin == BuiltinTask::Salesforce(tasks::Salesforce::Query) {
            soql_bindable(&values)?;
        }
        let rest = rest
            .iter()
            .map(|expr| {
                self.eval(expr, ev)
                    .map_err(|error| DispatchError::Argument { name: None, error })
            })
            .collect::<Result<_, _>>()?;
        Ok((ExecutorTask::Builtin(builtin), values, rest, None))
    }

    /// A declared task becomes the agreed `request` task:
    /// `{ method, path, query, body, headers }`, computed with the task's arguments in scope.
    fn declared_request(
        &self,
        task: &TaskDef,
        args: &[(String, Expr)],
        ev: &EventCtx,
    ) -> Result<TaskParts, DispatchError> {
        let mut task_args = IndexMap::with_capacity(task.params.len());
        for param in &task.params {
            let value = match args.iter().find(|(n, _)| *n == param.name) {
                Some((_, expr)) => {
                    self.eval(expr, ev)
                        .map_err(|error| DispatchError::Argument {
                            name: Some(param.name.clone()),
                            error,
                        })?
                }
                None => param.default.clone().unwrap_or_default(),
            };
            if value == Value::Null && !param.optional && param.default.is_none() {
                return Err(null_argument(&param.name, &task.name));
            }
            if !super::conversation::fits(param.ty, &value) {
                return Err(DispatchError::ArgumentType {
                    name: param.name.clone(),
                    task: task.name.clone(),
                    found: value.type_name(),
                });
            }
            task_args.insert(param.name.clone(), value);
        }
        let field = |name: &str, expr: &Expr| {
            self.eval_in(expr, ev, None, Some(&task_args))
                .map_err(|error| DispatchError::TaskField {
                    field: name.to_string(),
                    error,
                })
        };
        let mut request = IndexMap::new();
        request.insert(
            "method".to_string(),
            Value::Text(task.method.to_ascii_uppercase()),
        );
        let path = eval_path(&task.path, &task.name, |expr| field("path", expr))?;
        request.insert("path".to_string(), path);
        for (name, expr) in [
            ("query", &task.query),
            ("body", &task.body),
            ("headers", &task.headers),
        ] {
            if let Some(expr) = expr {
                request.insert(name.to_string(), field(name, expr)?);
            }
        }
        Ok((ExecutorTask::Request, request, Vec::new(), Some(task_args)))
    }

    /// `conversation/instance/seq/action`, with `#n` when the action runs again for the same
    /// event; or the action's own `idempotency_key`. Always ASCII (a header value).
    fn idempotency_key(&self, index: usize, ev: &mut EventCtx) -> Result<String, DispatchError> {
        let action = &self.shared.plan.actions[index];
        if let Some(expr) = &action.idempotency_key {
            return match self.eval(expr, ev).map_err(DispatchError::IdempotencyKey)? {
                Value::Text(key) if !key.is_empty() => Ok(key_text(&key, KEY_TEXT).into()),
                other => Err(DispatchError::IdempotencyKeyNotText(other.type_name())),
            };
        }
        let runs = match ev.runs.iter_mut().find(|(a, _)| *a == index) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                ev.runs.push((index, 1));
                1
            }
        };
        let (id, instance) = (&self.state.id, &self.state.instance);
        let mut key = String::with_capacity(id.len() + instance.len() + action.name.len() + 32);
        key.push_str(&key_text(id, KEY_SEGMENT));
        // Writing to a `String` cannot fail.
        let _ = write!(key, "/{instance}/{}/{}", ev.seq, action.name);
        if runs > 1 {
            let _ = write!(key, "#{runs}");
        }
        Ok(key)
    }
}

/// What an idempotency key may hold as written: visible ASCII but `%` (a header value is
/// ASCII; a control character would fail every write, raw UTF-8 is not portable).
const KEY_TEXT: &AsciiSet = &CONTROLS.add(b' ').add(b'%');
/// In one `/`-separated segment of a derived key (the conversation id), `/` is encoded too.
const KEY_SEGMENT: &AsciiSet = &KEY_TEXT.add(b'/');

/// `text` percent-encoded where `set` says (and wherever it is not ASCII).
fn key_text<'t>(text: &'t str, set: &'static AsciiSet) -> std::borrow::Cow<'t, str> {
    percent_encoding::utf8_percent_encode(text, set).into()
}

/// Whether a catalogue argument's value can be sent: a required one is not null (it would
/// go out as `null`: `GET /bookings/null`), a word of a fixed set is one of the set (a
/// computed `priority` the checker could not see). Nothing is sent otherwise.
fn sendable(arg: &ArgSpec, task: &str, value: &Value) -> Result<(), DispatchError> {
    match (arg.ty, value) {
        (_, Value::Null) if arg.required => Err(null_argument(arg.name, task)),
        (Ty::Word(words), Value::Text(text)) if !words.contains(&text.as_str()) => {
            Err(DispatchError::NotAWord {
                name: arg.name,
                task: task.to_string(),
                text: text.clone(),
                words,
            })
        }
        _ => Ok(()),
    }
}

/// Whether `salesforce.query`'s values bind to its placeholders (each given, none null,
/// none left over), so a query that cannot be sent fails before the first try.
fn soql_bindable(values: &IndexMap<String, Value>) -> Result<(), DispatchError> {
    let Some(Value::Text(soql)) = values.get("soql") else {
        return Ok(());
    };
    let bound = match values.get("values") {
        Some(Value::Record(bound)) => bound.clone(),
        _ => IndexMap::new(),
    };
    catalogue::soql::bind(soql, &bound)
        .map(drop)
        .map_err(DispatchError::Soql)
}

fn null_argument(name: &str, task: &str) -> DispatchError {
    DispatchError::NullArgument {
        name: name.to_string(),
        task: task.to_string(),
    }
}

/// An http path: each value interpolated into a path string (`"/orders/{id}"`) is
/// percent-encoded as one path segment or query value, so a customer's `../admin?x#` stays
/// inside its slot, and a null one fails the task (it would read `/orders/null`); a path
/// computed any other way (`"/files/" + name`) is sent as it is.
fn eval_path(
    path: &Expr,
    task: &str,
    eval: impl Fn(&Expr) -> Result<Value, DispatchError>,
) -> Result<Value, DispatchError> {
    let Expr::Interp(parts) = path else {
        return eval(path);
    };
    let mut out = String::new();
    for part in parts {
        match part {
            Expr::Lit(Value::Text(literal)) => out.push_str(literal),
            value => match eval(value)? {
                Value::Null => {
                    return Err(DispatchError::NullPlaceholder {
                        placeholder: placeholder_name(value),
                        task: task.to_string(),
                    })
                }
                value => out.push_str(&super::executors::encode_interpolated(&value)),
            },
        }
    }
    Ok(Value::Text(out))
}

/// How a path placeholder reads in a message: `pnr`, `user.id`, or `…` when computed.
fn placeholder_name(expr: &Expr) -> String {
    match expr {
        Expr::Var(scope) => match scope {
            ir::Scope::Param(name) => name,
            ir::Scope::Event => "event",
            ir::Scope::User => "user",
            ir::Scope::Caller => "caller",
            ir::Scope::Conversation => "conversation",
            ir::Scope::Usecase => "usecase",
            ir::Scope::Block => "block",
            ir::Scope::Response => "response",
        }
        .to_string(),
        Expr::Field(base, field) => format!("{}.{field}", placeholder_name(base)),
        _ => "…".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A null placeholder is told apart by variant, and reads as it always did.
    #[test]
    fn a_null_path_placeholder_is_a_typed_error() {
        let path = Expr::Interp(vec![
            Expr::Lit(Value::Text("/orders/".into())),
            Expr::Var(ir::Scope::Param("pnr".into())),
        ]);
        let error = eval_path(&path, "get", |_| Ok(Value::Null)).unwrap_err();
        assert_eq!(
            error,
            DispatchError::NullPlaceholder {
                placeholder: "pnr".into(),
                task: "get".into(),
            }
        );
        assert_eq!(
            error.to_string(),
            "`{pnr}` in the path of `get` is null: nothing was sent"
        );
    }
}
