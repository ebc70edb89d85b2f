//! The seam between the interpreter and the outside world. Every side effect goes through an
//! [`Executor`]; the interpreter owns ordering, `when`, retries, timeouts and tracing.

use crate::catalogue::BuiltinTask;
use crate::ir::Value;
use futures::future::BoxFuture;
use indexmap::IndexMap;
use std::time::Duration;

/// One task to run on an external target, arguments already evaluated.
#[derive(Clone, Debug)]
pub struct TaskRequest {
    /// The declared target's name (`orders`).
    pub target: String,
    pub task: ExecutorTask,
    pub args: IndexMap<String, Value>,
    /// Extra positional arguments of variadic tasks.
    pub rest: Vec<Value>,
    /// Derived from (conversation, event sequence, action) unless the action sets one.
    pub idempotency_key: String,
    /// The time one attempt may take.
    pub timeout: Duration,
    /// The conversation it runs for (empty for a target's setup): what a journal shared
    /// out by conversation files its attempts under.
    pub conversation: String,
}

/// What an executor is asked to run: a catalogue task, or the generic `request` a declared
/// task is sent as (`{ method, path, query?, body?, headers? }`). An executor matches the
/// tasks of its kind exhaustively and refuses another kind's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecutorTask {
    Builtin(BuiltinTask),
    Request,
}

impl ExecutorTask {
    pub fn name(self) -> &'static str {
        match self {
            ExecutorTask::Builtin(task) => task.name(),
            ExecutorTask::Request => "request",
        }
    }
}

impl std::fmt::Display for ExecutorTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a task failed, whether trying again may help, and whether the request may have
/// reached the service (which decides whether an unsafe task may be tried again).
#[derive(Clone, Debug, PartialEq)]
pub struct TaskError {
    pub message: String,
    pub retryable: bool,
    pub delivery: Delivery,
    /// From a `Retry-After` header.
    pub retry_after: Option<Duration>,
    /// The service's HTTP status, when it answered with an error (a 409 is a conflict
    /// the executor may resolve itself).
    pub status: Option<u16>,
}

/// Whether a failed try may have been acted on by the service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Provably not: the connection was refused, the name did not resolve, the TLS handshake
    /// failed before the request was written, or the service answered that it did nothing
    /// (429, 503 with `Retry-After`, an SMTP 4xx reply, a rolled-back transaction).
    NotSent,
    /// Perhaps: a timeout or a lost connection after the request was written, a 5xx.
    MaybeSent,
}

impl TaskError {
    pub fn fatal(message: impl Into<String>) -> Self {
        TaskError {
            message: message.into(),
            retryable: false,
            delivery: Delivery::MaybeSent,
            retry_after: None,
            status: None,
        }
    }
    /// A failure that may pass, after which the request may have been processed.
    pub fn retryable(message: impl Into<String>) -> Self {
        TaskError {
            retryable: true,
            ..TaskError::fatal(message)
        }
    }
    /// A failure that may pass, before anything reached the service.
    pub fn not_sent(message: impl Into<String>) -> Self {
        TaskError {
            delivery: Delivery::NotSent,
            ..TaskError::retryable(message)
        }
    }
}

/// Runs the tasks of one declared target. One executor per target, built when the program
/// starts (it owns the target's HTTP client or connection pool).
pub trait Executor: Send + Sync {
    /// One attempt. Retries and timeouts are the interpreter's business.
    fn execute<'a>(&'a self, request: &'a TaskRequest) -> BoxFuture<'a, Result<Value, TaskError>>;
    /// A one-line summary of what `execute` would send (`POST https://…/orders`), for traces
    /// and dry runs. Never contains a secret.
    fn describe(&self, request: &TaskRequest) -> String;
    /// What a dry run holds back, on one line: [`Self::describe`] and what the request
    /// carries (a body, an email's subject and body, an SMS's text). It may hold a secret's
    /// value: the trace redacts it, as it redacts every record.
    fn preview(&self, request: &TaskRequest) -> String {
        self.describe(request)
    }
    /// Why this executor can send nothing at all (its target could not be set up): its
    /// actions then fail before any try. `None` for an executor that works.
    fn unavailable(&self) -> Option<&str> {
        None
    }
}
