//! The program prepared for running: names resolved to indexes once, so handling an event
//! does no look-up by name and no allocation it can avoid.

use super::event::EventKind;
use crate::catalogue::{self, tasks, BuiltinTask, Kind, RetryRule};
use crate::ir::{self, Expr, Program, Scope, TaskRef, Value};
use std::collections::HashMap;
use std::time::Duration;

/// Used when neither the action nor its target sets a timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a program cannot be prepared: an IR file names something it does not declare.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanError {
    BindingRunsUnknown(String),
    BindingReplyUnknown(String),
    OnFailureUnknown {
        action: String,
        other: String,
    },
    UnknownTarget {
        action: String,
        target: String,
    },
    UnknownTask {
        action: String,
        task: String,
    },
    /// A kind paired with another kind's task, or a built-in target with a declared task.
    NoSuchTask {
        action: String,
        kind: Kind,
        task: String,
    },
    NotAParameter {
        action: String,
        param: String,
    },
    MissingArgument {
        action: String,
        task: String,
        arg: String,
    },
    NotABareName {
        action: String,
        task: String,
        arg: String,
    },
    NotUsecaseBlock {
        action: String,
        path: String,
    },
    StartsUndeclared {
        action: String,
        started: EventKind,
    },
    ReplyUnknown {
        action: String,
        reply: String,
    },
}

impl std::error::Error for PlanError {}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanError::BindingRunsUnknown(n) => {
                write!(f, "a binding runs `{n}`, which is not an action")
            }
            PlanError::BindingReplyUnknown(reply) => {
                write!(f, "a binding sends reply `{reply}`, which is not declared")
            }
            PlanError::OnFailureUnknown { action, other } => write!(
                f,
                "action `{action}`: on_failure names `{other}`, which is not an action"
            ),
            PlanError::UnknownTarget { action, target } => {
                write!(f, "action `{action}`: target `{target}` is not declared")
            }
            PlanError::UnknownTask { action, task } => {
                write!(f, "action `{action}`: task `{task}` is not declared")
            }
            PlanError::NoSuchTask { action, kind, task } => {
                write!(
                    f,
                    "action `{action}`: `{kind}` targets have no task `{task}`"
                )
            }
            PlanError::NotAParameter { action, param } => {
                write!(
                    f,
                    "action `{action}` uses `{param}`, which is not a parameter"
                )
            }
            PlanError::MissingArgument { action, task, arg } => {
                write!(
                    f,
                    "action `{action}`: task `{task}` needs the argument `{arg}`"
                )
            }
            PlanError::NotABareName { action, task, arg } => {
                write!(
                    f,
                    "action `{action}`: the `{arg}` of `{task}` must be a bare name"
                )
            }
            PlanError::NotUsecaseBlock { action, path } => write!(
                f,
                "action `{action}`: `goto_block` names `{path}`, not USECASE.BLOCK"
            ),
            PlanError::StartsUndeclared { action, started } => write!(
                f,
                "action `{action}` starts {}, which the program does not declare",
                started_name(started)
            ),
            PlanError::ReplyUnknown { action, reply } => {
                write!(
                    f,
                    "action `{action}` sends reply `{reply}`, which is not declared"
                )
            }
        }
    }
}

pub(crate) struct Plan {
    pub program: Program,
    pub actions: Vec<ActionPlan>,
    pub bindings: Vec<BindingPlan>,
    by_event: HashMap<String, Vec<usize>>,
    by_usecase: HashMap<String, Vec<usize>>,
    by_block: HashMap<String, HashMap<String, Vec<usize>>>,
    /// Declared targets by name, in the order of `Shared::executors`.
    pub targets: Vec<String>,
}

pub(crate) struct ActionPlan {
    pub name: String,
    pub target: String,
    pub task: String,
    pub when: Option<Expr>,
    /// Index into the agent's params.
    pub save: Option<usize>,
    pub on_failure: Vec<usize>,
    pub idempotency_key: Option<Expr>,
    pub kind: ActionKind,
    pub retry: ir::Retry,
    pub timeout: Duration,
}

/// The task of an external action.
pub(crate) enum ExternalTask {
    Builtin(BuiltinTask),
    /// A declared task (`task get_order(..) on orders`).
    Declared(Box<ir::TaskDef>),
}

impl ExternalTask {
    /// How the task may be tried again: a built-in task's catalogue rule, a declared task's
    /// by its method.
    pub fn retry_rule(&self) -> RetryRule {
        match self {
            // An in-process task has no rule, and never reaches an executor.
            ExternalTask::Builtin(task) => catalogue::retry::task_rule(*task)
                .unwrap_or_else(|| catalogue::retry::method_rule("GET")),
            ExternalTask::Declared(task) => catalogue::retry::method_rule(&task.method),
        }
    }
}

pub(crate) enum ActionKind {
    Conversation(ConversationTask),
    /// `conversation.start_usecase(U)` or `goto_block(U.B)`: the use case or block event it
    /// starts.
    Start(EventKind),
    Call(CallTask),
    External {
        /// Index into `Plan::targets`.
        target: usize,
        task: ExternalTask,
        args: Vec<(String, Expr)>,
        rest: Vec<Expr>,
    },
}

/// The `conversation` target's tasks; parameters are resolved to their index.
pub(crate) enum ConversationTask {
    Set(Vec<(usize, Expr)>),
    Unset(usize),
    Increment(usize, Expr),
    Push(usize, Expr),
    AddLabel(Expr),
    RemoveLabel(Expr),
    Reply(String),
    /// `reply("…")`: a one-off text.
    ReplyText(Expr),
    Escalate {
        queue: Option<Expr>,
        reason: Option<Expr>,
    },
    End {
        reason: Option<Expr>,
    },
    SetLanguage(Expr),
    Verify {
        condition: Expr,
        message: Option<Expr>,
    },
}

/// The `call` target's tasks.
pub(crate) enum CallTask {
    Transfer {
        to: Expr,
        mode: Option<Expr>,
        whisper: Option<Expr>,
    },
    Hangup {
        reason: Option<Expr>,
    },
    SendDtmf(Expr),
    Hold {
        message: Option<Expr>,
        music: Option<Expr>,
    },
    Say(Expr),
}

pub(crate) struct BindingPlan {
    pub when: Option<Expr>,
    pub body: BindingBody,
}

pub(crate) enum BindingBody {
    Actions(Vec<usize>),
    Reply(String),
}

/// What an event triggers.
pub(crate) enum TriggerKey<'a> {
    Event(&'a str),
    Usecase(&'a str),
    Block(&'a str, &'a str),
}

impl Plan {
    /// Prepares a program. A compiled IR file may have been edited by hand, so every name is
    /// checked again: an inconsistent program is an error here, never a panic later.
    pub fn new(program: Program) -> Result<Plan, PlanError> {
        let action_index: HashMap<&str, usize> = program
            .actions
            .keys()
            .enumerate()
            .map(|(i, name)| (name.as_str(), i))
            .collect();
        let targets: Vec<String> = program.targets.keys().cloned().collect();
        let mut actions = Vec::with_capacity(program.actions.len());
        for action in program.actions.values() {
            actions.push(plan_action(&program, action, &action_index, &targets)?);
        }
        let mut bindings = Vec::with_capacity(program.bindings.len());
        let mut by_event: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_usecase: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_block: HashMap<String, HashMap<String, Vec<usize>>> = HashMap::new();
        for (i, binding) in program.bindings.iter().enumerate() {
            let body = match &binding.body {
                ir::BindingBody::Actions(names) => BindingBody::Actions(
                    names
                        .iter()
                        .map(|n| {
                            action_index
                                .get(n.as_str())
                                .copied()
                                .ok_or_else(|| PlanError::BindingRunsUnknown(n.clone()))
                        })
                        .collect::<Result<_, _>>()?,
                ),
                ir::BindingBody::Reply(reply) => {
                    if !program.replies.contains_key(reply) {
                        return Err(PlanError::BindingReplyUnknown(reply.clone()));
                    }
                    BindingBody::Reply(reply.clone())
                }
            };
            bindings.push(BindingPlan {
                when: binding.when.clone(),
                body,
            });
            match &binding.trigger {
                ir::Trigger::Event { event } => by_event.entry(event.clone()).or_default().push(i),
                ir::Trigger::Usecase { usecase } => {
                    by_usecase.entry(usecase.clone()).or_default().push(i)
                }
                ir::Trigger::Block { usecase, block } => by_block
                    .entry(usecase.clone())
                    .or_default()
                    .entry(block.clone())
                    .or_default()
                    .push(i),
            }
        }
        drop(action_index);
        Ok(Plan {
            program,
            actions,
            bindings,
            by_event,
            by_usecase,
            by_block,
            targets,
        })
    }

    /// The bindings an event triggers, in source order.
    pub fn bindings_for(&self, key: TriggerKey<'_>) -> &[usize] {
        let found = match key {
            TriggerKey::Event(event) => self.by_event.get(event),
            TriggerKey::Usecase(usecase) => self.by_usecase.get(usecase),
            TriggerKey::Block(usecase, block) => {
                self.by_block.get(usecase).and_then(|b| b.get(block))
            }
        };
        found.map_or(&[], Vec::as_slice)
    }

    /// Where the action `name` is in [`Plan::actions`] (the program's order of actions).
    pub fn action_index(&self, name: &str) -> Option<usize> {
        self.program.actions.keys().position(|known| known == name)
    }

    pub fn params(&self) -> &[ir::Param] {
        &self.program.agent.params
    }
}

fn plan_action(
    program: &Program,
    action: &ir::Action,
    action_index: &HashMap<&str, usize>,
    targets: &[String],
) -> Result<ActionPlan, PlanError> {
    let name = &action.name;
    let on_failure = action
        .on_failure
        .iter()
        .map(|other| {
            action_index
                .get(other.as_str())
                .copied()
                .ok_or_else(|| PlanError::OnFailureUnknown {
                    action: name.clone(),
                    other: other.clone(),
                })
        })
        .collect::<Result<_, _>>()?;
    let save = match &action.save {
        Some(param) => Some(param_index(program, name, param)?),
        None => None,
    };
    let target = program.targets.get(&action.target);
    let kind = match (action.target_kind, &action.task.task) {
        (Kind::Conversation, TaskRef::Builtin(BuiltinTask::Conversation(task))) => {
            conversation_action(program, action, *task)?
        }
        (Kind::Call, TaskRef::Builtin(BuiltinTask::Call(task))) => {
            ActionKind::Call(call_task(action, *task)?)
        }
        (
            kind @ (Kind::Http
            | Kind::Zendesk
            | Kind::Salesforce
            | Kind::Smtp
            | Kind::Sms
            | Kind::Sql),
            task,
        ) => {
            let index = targets
                .iter()
                .position(|t| *t == action.target)
                .ok_or_else(|| PlanError::UnknownTarget {
                    action: name.clone(),
                    target: action.target.clone(),
                })?;
            let task = match task {
                TaskRef::Declared(task) => {
                    let found = program
                        .tasks
                        .get(task)
                        .ok_or_else(|| PlanError::UnknownTask {
                            action: name.clone(),
                            task: task.clone(),
                        })?;
                    ExternalTask::Declared(Box::new(found.clone()))
                }
                TaskRef::Builtin(task) if task.kind() == kind => ExternalTask::Builtin(*task),
                TaskRef::Builtin(task) => return Err(no_such_task(name, kind, task.name())),
            };
            ActionKind::External {
                target: index,
                task,
                args: action.task.args.clone(),
                rest: action.task.rest.clone(),
            }
        }
        (kind, task) => return Err(no_such_task(name, kind, task.name())),
    };
    let retry = action
        .retry
        .clone()
        .or_else(|| target.and_then(|t| t.retry.clone()))
        .unwrap_or(ir::Retry {
            attempts: 1,
            backoff_ms: 200,
            max_backoff_ms: 5_000,
        });
    let timeout = action
        .timeout_ms
        .or_else(|| target.and_then(|t| t.timeout_ms))
        .map_or(DEFAULT_TIMEOUT, Duration::from_millis);
    Ok(ActionPlan {
        name: name.clone(),
        target: action.target.clone(),
        task: action.task.task.name().to_string(),
        when: action.when.clone(),
        save,
        on_failure,
        idempotency_key: action.idempotency_key.clone(),
        kind,
        retry,
        timeout,
    })
}

fn no_such_task(action: &str, kind: Kind, task: &str) -> PlanError {
    PlanError::NoSuchTask {
        action: action.to_string(),
        kind,
        task: task.to_string(),
    }
}

fn param_index(program: &Program, action: &str, param: &str) -> Result<usize, PlanError> {
    program
        .agent
        .params
        .iter()
        .position(|p| p.name == param)
        .ok_or_else(|| PlanError::NotAParameter {
            action: action.to_string(),
            param: param.to_string(),
        })
}

/// The argument `name` of an action's task.
fn arg<'a>(action: &'a ir::Action, name: &str) -> Option<&'a Expr> {
    action
        .task
        .args
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, e)| e)
}

fn required<'a>(action: &'a ir::Action, name: &str) -> Result<&'a Expr, PlanError> {
    arg(action, name).ok_or_else(|| PlanError::MissingArgument {
        action: action.name.clone(),
        task: action.task.task.name().to_string(),
        arg: name.to_string(),
    })
}

/// A bare name the checker lowered to a text literal (`increment(attempts)`).
fn bare_name<'a>(action: &'a ir::Action, arg_name: &str) -> Result<&'a str, PlanError> {
    match required(action, arg_name)? {
        Expr::Lit(Value::Text(name)) => Ok(name),
        // A param written as a variable also names it.
        Expr::Var(Scope::Param(name)) => Ok(name),
        _ => Err(PlanError::NotABareName {
            action: action.name.clone(),
            task: action.task.task.name().to_string(),
            arg: arg_name.to_string(),
        }),
    }
}

/// The use case (`start_usecase`) or block (`goto_block`) an action starts, checked against
/// the program (an IR file may name one it lacks).
fn started(
    program: &Program,
    action: &ir::Action,
    task: tasks::Conversation,
) -> Result<EventKind, PlanError> {
    let (usecase, block) = match task {
        tasks::Conversation::GotoBlock => {
            let path = bare_name(action, "block")?;
            let (usecase, block) =
                path.split_once('.')
                    .ok_or_else(|| PlanError::NotUsecaseBlock {
                        action: action.name.clone(),
                        path: path.to_string(),
                    })?;
            (usecase, Some(block))
        }
        _ => (bare_name(action, "usecase")?, None),
    };
    let known = program
        .usecases
        .get(usecase)
        .is_some_and(|u| block.is_none_or(|b| u.blocks.iter().any(|known| known == b)));
    let event = match block {
        Some(block) => EventKind::Block {
            usecase: usecase.to_string(),
            block: block.to_string(),
        },
        None => EventKind::Usecase(usecase.to_string()),
    };
    if !known {
        return Err(PlanError::StartsUndeclared {
            action: action.name.clone(),
            started: event,
        });
    }
    Ok(event)
}

/// `use case `u`` or `block `u.b``, for messages.
pub(crate) fn started_name(event: &EventKind) -> String {
    match event {
        EventKind::Block { usecase, block } => format!("block `{usecase}.{block}`"),
        EventKind::Usecase(usecase) => format!("use case `{usecase}`"),
        other => format!("`{}`", other.name()),
    }
}

fn conversation_action(
    program: &Program,
    action: &ir::Action,
    task: tasks::Conversation,
) -> Result<ActionKind, PlanError> {
    use tasks::Conversation as T;
    let param = |arg_name| param_index(program, &action.name, bare_name(action, arg_name)?);
    let opt = |n| arg(action, n).cloned();
    let task = match task {
        T::StartUsecase | T::GotoBlock => {
            return Ok(ActionKind::Start(started(program, action, task)?))
        }
        T::Set => ConversationTask::Set(
            action
                .task
                .args
                .iter()
                .map(|(p, e)| Ok((param_index(program, &action.name, p)?, e.clone())))
                .collect::<Result<_, PlanError>>()?,
        ),
        T::Unset => ConversationTask::Unset(param("name")?),
        T::Increment => ConversationTask::Increment(
            param("name")?,
            opt("by").unwrap_or(Expr::Lit(Value::Number(1.0))),
        ),
        T::Push => ConversationTask::Push(param("name")?, required(action, "value")?.clone()),
        T::AddLabel => ConversationTask::AddLabel(required(action, "label")?.clone()),
        T::RemoveLabel => ConversationTask::RemoveLabel(required(action, "label")?.clone()),
        T::Reply if arg(action, "text").is_some() => {
            ConversationTask::ReplyText(required(action, "text")?.clone())
        }
        T::Reply => {
            let reply = bare_name(action, "reply")?;
            if !program.replies.contains_key(reply) {
                return Err(PlanError::ReplyUnknown {
                    action: action.name.clone(),
                    reply: reply.to_string(),
                });
            }
            ConversationTask::Reply(reply.to_string())
        }
        T::Escalate => ConversationTask::Escalate {
            queue: opt("queue"),
            reason: opt("reason"),
        },
        T::End => ConversationTask::End {
            reason: opt("reason"),
        },
        T::SetLanguage => ConversationTask::SetLanguage(required(action, "code")?.clone()),
        T::Verify => ConversationTask::Verify {
            condition: required(action, "condition")?.clone(),
            message: opt("message"),
        },
    };
    Ok(ActionKind::Conversation(task))
}

fn call_task(action: &ir::Action, task: tasks::Call) -> Result<CallTask, PlanError> {
    use tasks::Call as T;
    let opt = |n| arg(action, n).cloned();
    Ok(match task {
        T::Transfer => CallTask::Transfer {
            to: required(action, "to")?.clone(),
            mode: opt("mode"),
            whisper: opt("whisper"),
        },
        T::Hangup => CallTask::Hangup {
            reason: opt("reason"),
        },
        T::SendDtmf => CallTask::SendDtmf(required(action, "digits")?.clone()),
        T::Hold => CallTask::Hold {
            message: opt("message"),
            music: opt("music"),
        },
        T::Say => CallTask::Say(required(action, "text")?.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn program(bindings: Vec<ir::Binding>) -> Program {
        Program {
            version: ir::IR_VERSION,
            files: vec!["main.agent".into()],
            agent: ir::Agent {
                name: "acme".into(),
                display_name: None,
                channels: vec![catalogue::Channel::Chat],
                language: None,
                inactivity_ms: None,
                params: Vec::new(),
            },
            targets: BTreeMap::new(),
            tasks: BTreeMap::new(),
            actions: BTreeMap::new(),
            replies: BTreeMap::new(),
            usecases: BTreeMap::new(),
            bindings,
            tests: Vec::new(),
        }
    }

    /// Callers tell the cases apart by variant; the sentence stays the one users saw.
    #[test]
    fn an_undeclared_name_is_a_typed_error() {
        let binding = |body| ir::Binding {
            trigger: ir::Trigger::Event {
                event: "conversation_started".into(),
            },
            when: None,
            body,
            span: Default::default(),
        };
        let ghost = binding(ir::BindingBody::Actions(vec!["ghost".into()]));
        let error = Plan::new(program(vec![ghost])).err().unwrap();
        assert_eq!(error, PlanError::BindingRunsUnknown("ghost".into()));
        let hello = binding(ir::BindingBody::Reply("hello".into()));
        let error = Plan::new(program(vec![hello])).err().unwrap();
        assert_eq!(error, PlanError::BindingReplyUnknown("hello".into()));
        assert_eq!(
            error.to_string(),
            "a binding sends reply `hello`, which is not declared"
        );
    }
}
