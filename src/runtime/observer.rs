//! The one hook a host (`agentc serve`) has into a conversation's steps: after each event it
//! handled, or each timer that fired, it is handed the conversation's state, so it can
//! journal the state and the records the step emitted, in order, before the next step.

use super::conversation::ConversationState;

/// What ran: an event sent with `Runtime::send`, or a due timer (`conversation_inactive`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepCause {
    Event,
    Timer,
}

/// Called in the conversation's own task, after the step's last trace record was emitted
/// and before its next command is read; it must not block.
pub trait StepObserver: Send + Sync {
    /// `retired`: the conversation ended with this step and left the runtime (its `end`
    /// record was emitted); a later event for it is refused.
    fn stepped(&self, state: &ConversationState, cause: StepCause, retired: bool);
}
