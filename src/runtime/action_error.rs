//! Why an action failed: one variant per kind of failure, whose text is the action record's
//! `error` and whose [`ActionError::kind`] is its `error_kind`.

use super::builtin::BuiltinError;
use super::clock::show_duration as show;
use super::dispatch::DispatchError;
use super::effects::TaskError;
use super::eval::EvalError;
use super::param_error::ParamError;
use super::starts::TooManyStarts;
use super::trace::ErrorKind;
use std::fmt;
use std::time::Duration;

#[derive(Debug, PartialEq)]
pub(super) enum ActionError {
    /// A task of the `conversation` or `call` target failed.
    Builtin(BuiltinError),
    /// `start_usecase` / `goto_block` past the limit of starts per event.
    Start(TooManyStarts),
    /// An argument, a declared task's field or the idempotency key could not be computed,
    /// or holds what cannot be sent: nothing was sent.
    NotSent(DispatchError),
    /// The target could not be set up: nothing was sent.
    Unavailable(String),
    /// The plan gave an external action another kind of task (a bug).
    NotExternal,
    /// The last try failed with the executor's error.
    Task(TaskError),
    /// The last try took longer than the action's timeout.
    TimedOut(Duration),
    /// The executor panicked.
    Crashed,
    /// An unsafe task's try failed after its request may have been processed: it is not
    /// tried again, as a second try could mean `twice`.
    OutcomeUnknown {
        cause: Box<ActionError>,
        twice: &'static str,
    },
    /// The service asks to retry after `wait`, longer than the `max` allowed.
    RetryAfterTooLong {
        cause: Box<ActionError>,
        wait: Duration,
        max: Duration,
    },
    /// A declared task's `result` failed on the answer.
    Result(EvalError),
    /// The result could not be saved into its parameter.
    Save(ParamError),
}

impl ActionError {
    /// What the trace tells apart from other failures, in the action record's `error_kind`.
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            ActionError::OutcomeUnknown { .. } => Some(ErrorKind::OutcomeUnknown),
            _ => None,
        }
    }

    /// How long the service asked to wait before the next try (`Retry-After`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ActionError::Task(error) => error.retry_after,
            _ => None,
        }
    }
}

impl fmt::Display for ActionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActionError::Builtin(error) => write!(f, "{error}"),
            ActionError::Start(error) => write!(f, "{error}"),
            ActionError::NotSent(error) => write!(f, "{error}"),
            ActionError::Unavailable(reason) => f.write_str(reason),
            ActionError::NotExternal => f.write_str("internal error: not an external action"),
            ActionError::Task(error) => f.write_str(&error.message),
            ActionError::TimedOut(timeout) => write!(f, "timed out after {}", show(*timeout)),
            ActionError::Crashed => f.write_str("the executor crashed"),
            ActionError::OutcomeUnknown { cause, twice } => write!(
                f,
                "outcome unknown: the request may have been processed ({cause}); it is not \
                 tried again, as a second try could mean {twice}"
            ),
            ActionError::RetryAfterTooLong { cause, wait, max } => write!(
                f,
                "{cause} (the service asks to retry after {}, more than the {} allowed)",
                show(*wait),
                show(*max)
            ),
            ActionError::Result(error) => write!(f, "the task's `result` failed: {error}"),
            ActionError::Save(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for ActionError {}

impl From<BuiltinError> for ActionError {
    fn from(error: BuiltinError) -> Self {
        ActionError::Builtin(error)
    }
}

impl From<TooManyStarts> for ActionError {
    fn from(error: TooManyStarts) -> Self {
        ActionError::Start(error)
    }
}

impl From<DispatchError> for ActionError {
    fn from(error: DispatchError) -> Self {
        ActionError::NotSent(error)
    }
}

impl From<ParamError> for ActionError {
    fn from(error: ParamError) -> Self {
        ActionError::Save(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only an unknown outcome has a kind of its own, whatever caused it, and it reads as
    /// it always did.
    #[test]
    fn an_unknown_outcome_is_the_one_failure_with_a_kind() {
        let timed_out = ActionError::TimedOut(Duration::from_secs(5));
        assert_eq!(timed_out.kind(), None);
        assert_eq!(timed_out.to_string(), "timed out after 5s");
        let unknown = ActionError::OutcomeUnknown {
            cause: Box::new(timed_out),
            twice: "a second SMS",
        };
        assert!(matches!(
            &unknown,
            ActionError::OutcomeUnknown { cause, .. } if matches!(**cause, ActionError::TimedOut(_))
        ));
        assert_eq!(unknown.kind(), Some(ErrorKind::OutcomeUnknown));
        assert_eq!(
            unknown.to_string(),
            "outcome unknown: the request may have been processed (timed out after 5s); it is \
             not tried again, as a second try could mean a second SMS"
        );
        let failed = ActionError::Task(TaskError::fatal("GET /x answered 404 Not Found"));
        assert_eq!(failed.kind(), None);
        assert_eq!(failed.to_string(), "GET /x answered 404 Not Found");
    }
}
