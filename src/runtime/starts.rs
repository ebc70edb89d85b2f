//! Use cases and blocks started by an action (`start_usecase(U)`, `goto_block(U.B)`). Each
//! runs as an event of its own, as `send usecase` / `send block` would, right after the
//! event whose action started it (its trace record names that action); what it starts runs
//! after it. A chain of starts within one event is bounded.

use super::conversation::Conversation;
use super::event::{Event, EventKind};
use super::plan::started_name;
use crate::ir::Value;
use std::collections::VecDeque;
use std::fmt;

/// How many use cases and blocks the handling of one event may start, through every chain.
pub(super) const MAX_STARTS_PER_EVENT: usize = 8;

#[derive(Default)]
pub(super) struct Starts {
    /// Started, not yet run: the event, and the action that started it.
    queue: VecDeque<(EventKind, String)>,
    /// Started since the event from outside began.
    made: usize,
    /// The action that started the event being begun, for its trace record.
    pub by: Option<String>,
}

/// Why a use case or block was not started: this event already started as many as it may.
#[derive(Debug, PartialEq)]
pub(super) struct TooManyStarts(pub EventKind);

impl fmt::Display for TooManyStarts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} was not started: this event already started {MAX_STARTS_PER_EVENT} use \
             cases or blocks, the limit (does a use case start itself?)",
            started_name(&self.0)
        )
    }
}

impl std::error::Error for TooManyStarts {}

impl Conversation {
    /// `start_usecase` / `goto_block`: queues the use case or block, or fails the action
    /// when this event has started as many as it may.
    pub(super) fn start(
        &mut self,
        event: &EventKind,
        action: usize,
    ) -> Result<Value, TooManyStarts> {
        if self.starts.made >= MAX_STARTS_PER_EVENT {
            return Err(TooManyStarts(event.clone()));
        }
        self.starts.made += 1;
        let name = self.shared.plan.actions[action].name.clone();
        self.starts.queue.push_back((event.clone(), name));
        Ok(Value::Null)
    }

    /// Runs what the event's actions started, in the order started.
    pub(super) async fn run_started(&mut self) {
        while let Some((kind, by)) = self.starts.queue.pop_front() {
            if self.shared.stopping() {
                self.starts.queue.clear();
                break;
            }
            let event = Event::new(self.state.id.clone(), kind, Value::Null);
            self.starts.by = Some(by);
            self.dispatch(&event).await;
        }
        self.starts.made = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_start_past_the_limit_is_a_typed_error() {
        let mut conversation = crate::runtime::engine::test_conversation(Vec::new());
        conversation.starts.made = MAX_STARTS_PER_EVENT;
        let usecase = EventKind::Usecase("billing".into());
        let error = conversation.start(&usecase, 0).unwrap_err();
        assert_eq!(error, TooManyStarts(usecase));
        assert_eq!(
            error.to_string(),
            "use case `billing` was not started: this event already started 8 use cases or \
             blocks, the limit (does a use case start itself?)"
        );
    }
}
