//! Which conversations have ended, so that an event for one is reported instead of quietly
//! starting a new conversation under the same id.
//!
//! A running program sees an endless stream of conversations, so this memory is bounded: it
//! holds a keyed hash of each of the last [`REMEMBERED`] ended ids (a few megabytes, however
//! long the ids), not the ids nor their states. An id that ended longer ago than that is
//! forgotten, and an event for it starts a new conversation.

use super::conversation::ConversationState;
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;

/// How many ended conversations are remembered.
pub(super) const REMEMBERED: usize = 100_000;

#[derive(Default)]
pub(super) struct Ended {
    /// Keyed per run, so ids cannot be chosen to collide.
    hasher: RandomState,
    ids: HashSet<u64>,
    /// The same hashes, oldest first, to forget the oldest.
    order: VecDeque<u64>,
    /// Final states by id, kept only when the runtime was asked to (a test, the REPL: one
    /// conversation each, whose state is still looked at after it ended).
    states: Option<HashMap<String, ConversationState>>,
}

impl Ended {
    pub fn keeping_states() -> Self {
        Ended {
            states: Some(HashMap::new()),
            ..Ended::default()
        }
    }

    pub fn remember(&mut self, state: ConversationState) {
        let hash = self.hasher.hash_one(state.id.as_str());
        if self.ids.insert(hash) {
            self.order.push_back(hash);
        }
        if self.order.len() > REMEMBERED {
            if let Some(oldest) = self.order.pop_front() {
                self.ids.remove(&oldest);
            }
        }
        if let Some(states) = &mut self.states {
            states.insert(state.id.clone(), state);
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains(&self.hasher.hash_one(id))
    }

    /// The final state of an ended conversation, when states are kept.
    pub fn state(&self, id: &str) -> Option<&ConversationState> {
        self.states.as_ref()?.get(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir;

    fn state(id: &str) -> ConversationState {
        let agent = ir::Agent {
            name: "a".into(),
            display_name: None,
            channels: vec![],
            language: None,
            inactivity_ms: None,
            params: vec![],
        };
        ConversationState::initial(id, &agent)
    }

    #[test]
    fn remembers_the_most_recent_ended_ids_only() {
        let mut ended = Ended::default();
        for n in 0..=REMEMBERED {
            ended.remember(state(&format!("c-{n}")));
        }
        assert!(!ended.contains("c-0"), "the oldest is forgotten");
        assert!(ended.contains("c-1"));
        assert!(ended.contains(&format!("c-{REMEMBERED}")));
        assert!(!ended.contains("c-never"));
        assert_eq!(ended.order.len(), REMEMBERED);
        assert!(
            ended.state("c-1").is_none(),
            "states are not kept by default"
        );
        let mut kept = Ended::keeping_states();
        kept.remember(state("t"));
        assert_eq!(kept.state("t").map(|s| s.id.as_str()), Some("t"));
    }
}
