//! The one hook a host (`agentc serve`) has into a conversation's steps: after each event it
//! handled, or each timer that fired, it is handed the conversation's state, so it can
//! journal the state and the records the step emitted, in order, before the next step; and
//! it may fire a due timer itself, once it is sure it should.

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

    /// The conversation's `conversation_inactive` timer is due: `true` fires it now; `false`
    /// leaves it to the host, which fires it with `Runtime::fire` once it may (a host sharing
    /// conversations with other processes first makes sure it holds this one). Called like
    /// [`Self::stepped`]; it must not block.
    fn timer_due(&self, _conversation: &str) -> bool {
        true
    }
}
