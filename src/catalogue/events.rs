//! The events (docs/language.md, "Events"): their channels, payloads and moments.

use super::{Channel, Ty};

/// When in a conversation an event happens. The checker uses it for moment rules
/// (`call.say` before the call is answered, `escalate` after the conversation ended).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Moment {
    /// Before the conversation, e.g. an email ticket arriving.
    Before,
    /// The phone is ringing: the call is not answered yet.
    BeforeCall,
    Start,
    During,
    /// After the conversation ended.
    After,
    /// After the call ended.
    AfterCall,
}

#[derive(Debug)]
pub struct EventSpec {
    pub name: &'static str,
    /// Empty means every channel.
    pub channels: &'static [Channel],
    pub payload: &'static [(&'static str, Ty)],
    pub moment: Moment,
    pub doc: &'static str,
}

impl EventSpec {
    pub fn allows(&self, channel: Channel) -> bool {
        self.channels.is_empty() || self.channels.contains(&channel)
    }
}

const ALL: &[Channel] = &[];
const VOICE: &[Channel] = &[Channel::Voice];

pub const EVENTS: &[EventSpec] = &[
    EventSpec {
        name: "conversation_started",
        channels: ALL,
        payload: &[],
        moment: Moment::Start,
        doc: "A conversation begins.",
    },
    EventSpec {
        name: "message_received",
        channels: ALL,
        payload: &[("text", Ty::Text), ("params", Ty::Record)],
        moment: Moment::During,
        doc: "The user sent a message.",
    },
    EventSpec {
        name: "conversation_inactive",
        channels: &[Channel::Chat, Channel::Voice],
        payload: &[("idle", Ty::Duration)],
        moment: Moment::During,
        doc: "No message for the agent's `inactivity` time.",
    },
    EventSpec {
        name: "escalation_attempted",
        channels: ALL,
        payload: &[("queue", Ty::Text)],
        moment: Moment::During,
        doc: "A hand-over to a human was attempted.",
    },
    EventSpec {
        name: "escalated",
        channels: ALL,
        payload: &[("queue", Ty::Text), ("agent", Ty::Text)],
        moment: Moment::During,
        doc: "A human took the conversation over.",
    },
    EventSpec {
        name: "escalation_failed",
        channels: ALL,
        payload: &[("queue", Ty::Text), ("reason", Ty::Text)],
        moment: Moment::During,
        doc: "The hand-over to a human failed.",
    },
    EventSpec {
        name: "conversation_ended",
        channels: ALL,
        payload: &[("reason", Ty::Text)],
        moment: Moment::After,
        doc: "The conversation ended.",
    },
    EventSpec {
        name: "session_ended",
        channels: ALL,
        payload: &[("resolved", Ty::Bool)],
        moment: Moment::After,
        doc: "The session closed, resolved or not.",
    },
    EventSpec {
        name: "ticket_received",
        channels: &[Channel::Email],
        payload: &[("ticket_id", Ty::Text), ("subject", Ty::Text)],
        moment: Moment::Before,
        doc: "An email ticket arrived.",
    },
    EventSpec {
        name: "ticket_processed",
        channels: &[Channel::Email],
        payload: &[("ticket_id", Ty::Text)],
        moment: Moment::After,
        doc: "An email ticket was processed.",
    },
    EventSpec {
        name: "call_ringing",
        channels: VOICE,
        payload: &[("from", Ty::Text), ("to", Ty::Text)],
        moment: Moment::BeforeCall,
        doc: "The phone rings; the call is not answered yet.",
    },
    EventSpec {
        name: "call_started",
        channels: VOICE,
        payload: &[],
        moment: Moment::During,
        doc: "The call was answered.",
    },
    EventSpec {
        name: "dtmf_received",
        channels: VOICE,
        payload: &[("digits", Ty::Text)],
        moment: Moment::During,
        doc: "The caller pressed keys.",
    },
    EventSpec {
        name: "silence_timeout",
        channels: VOICE,
        payload: &[("idle", Ty::Duration)],
        moment: Moment::During,
        doc: "The caller was silent too long.",
    },
    EventSpec {
        name: "ivr_detected",
        channels: VOICE,
        payload: &[],
        moment: Moment::During,
        doc: "An automated answering system was detected.",
    },
    EventSpec {
        name: "hold_started",
        channels: VOICE,
        payload: &[],
        moment: Moment::During,
        doc: "The call was put on hold.",
    },
    EventSpec {
        name: "call_transferred",
        channels: VOICE,
        payload: &[("to", Ty::Text)],
        moment: Moment::During,
        doc: "The call was transferred.",
    },
    EventSpec {
        name: "call_ended",
        channels: VOICE,
        payload: &[("reason", Ty::Text), ("duration", Ty::Duration)],
        moment: Moment::AfterCall,
        doc: "The call ended.",
    },
];
