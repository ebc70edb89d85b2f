//! Trace records: what the runtime did, for people (the timeline), machines (`--trace json`)
//! and platform adapters (replies, labels, escalations, transfers to act on). The schema is
//! documented in `docs/trace.md`. Every record passes through the [`Redactor`] before it
//! reaches a sink.

use super::secrets::Redactor;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::sync::{Arc, Mutex};

/// How an action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Ok,
    Skipped,
    Failed,
}

/// A failure a program or a platform must tell apart from the others, in an action
/// record's `error_kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request of an unsafe task may have been processed (a timeout or a lost
    /// connection after it was written, a 5xx): it was not tried again.
    OutcomeUnknown,
}

/// Where a conversation stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    #[default]
    Active,
    /// Handed over to a human (`conversation.escalate`).
    Escalated,
    /// The call was transferred cold: the agent is out of it.
    Transferred,
    /// `conversation.end`, `call.hangup`, or an event that comes after the end
    /// (`conversation_ended`, `session_ended`, `ticket_processed`, `call_ended`).
    Ended,
}

impl ConversationStatus {
    pub fn name(self) -> &'static str {
        match self {
            ConversationStatus::Active => "active",
            ConversationStatus::Escalated => "escalated",
            ConversationStatus::Transferred => "transferred",
            ConversationStatus::Ended => "ended",
        }
    }
}

fn is_false(b: &bool) -> bool {
    !b
}

/// One line of the trace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TraceRecord {
    /// An event started being handled. `seq` counts a conversation's events from 1.
    Event {
        conversation: String,
        seq: u64,
        event: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usecase: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        block: Option<String>,
        /// The action (`start_usecase`, `goto_block`) that started this use case or block.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        started_by: Option<String>,
        #[serde(default, skip_serializing_if = "Json::is_null")]
        payload: Json,
    },
    Action {
        conversation: String,
        seq: u64,
        action: String,
        target: String,
        task: String,
        status: ActionStatus,
        /// Tries made (0 when skipped or failed before the first try).
        attempts: u32,
        duration_ms: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_kind: Option<ErrorKind>,
        /// One-line summary of what was sent (`POST https://…/tickets`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request: Option<String>,
        /// The parameter the result was saved into, and the value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        saved: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<Json>,
        /// Runs because this action failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_failure_of: Option<String>,
        /// Described, not sent (`--dry-run`).
        #[serde(default, skip_serializing_if = "is_false")]
        dry_run: bool,
    },
    Reply {
        conversation: String,
        seq: u64,
        /// The declared reply; absent for a one-off text (`reply("…")`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply: Option<String>,
        text: String,
        /// Quick replies offered with it (chat only).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        choices: Vec<ChoiceRecord>,
    },
    Label {
        conversation: String,
        seq: u64,
        label: String,
        /// `true` when added, `false` when removed.
        added: bool,
    },
    Escalation {
        conversation: String,
        seq: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        queue: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    Transfer {
        conversation: String,
        seq: u64,
        to: String,
        mode: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        whisper: Option<String>,
    },
    Hangup {
        conversation: String,
        seq: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    Dtmf {
        conversation: String,
        seq: u64,
        digits: String,
    },
    Hold {
        conversation: String,
        seq: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        /// The URL of what plays while the caller waits.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        music: Option<String>,
    },
    Say {
        conversation: String,
        seq: u64,
        text: String,
    },
    Language {
        conversation: String,
        seq: u64,
        language: String,
    },
    /// `conversation.end(..)`: the platform should close the conversation.
    Close {
        conversation: String,
        seq: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Input that could not be used (a malformed event line), or a problem outside any
    /// action (a target whose fields could not be evaluated).
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conversation: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        line: Option<u64>,
        message: String,
    },
    /// The conversation's input ended: its final state.
    End {
        conversation: String,
        params: Json,
        labels: Vec<String>,
        status: ConversationStatus,
    },
}

/// A quick reply as the platform shows it: the button's label, and the id it sends back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceRecord {
    pub id: String,
    pub label: String,
}

impl TraceRecord {
    pub fn conversation(&self) -> Option<&str> {
        match self {
            TraceRecord::Event { conversation, .. }
            | TraceRecord::Action { conversation, .. }
            | TraceRecord::Reply { conversation, .. }
            | TraceRecord::Label { conversation, .. }
            | TraceRecord::Escalation { conversation, .. }
            | TraceRecord::Transfer { conversation, .. }
            | TraceRecord::Hangup { conversation, .. }
            | TraceRecord::Dtmf { conversation, .. }
            | TraceRecord::Hold { conversation, .. }
            | TraceRecord::Say { conversation, .. }
            | TraceRecord::Language { conversation, .. }
            | TraceRecord::Close { conversation, .. }
            | TraceRecord::End { conversation, .. } => Some(conversation),
            TraceRecord::Error { conversation, .. } => conversation.as_deref(),
        }
    }

    /// One JSON line, safe on a terminal ([`crate::printable::escape_json`]).
    pub fn to_json_line(&self) -> String {
        let line = serde_json::to_string(self)
            .unwrap_or_else(|e| format!("{{\"type\":\"error\",\"message\":\"{e}\"}}"));
        match crate::printable::escape_json(&line) {
            std::borrow::Cow::Borrowed(_) => line,
            std::borrow::Cow::Owned(safe) => safe,
        }
    }

    /// Replaces every secret in every text and value of the record. A record that cannot
    /// be rebuilt once redacted is withheld, never shown as it was.
    fn redact(&mut self, redactor: &Redactor) {
        let mut json = serde_json::to_value(&*self).unwrap_or(Json::Null);
        let Json::Object(fields) = &mut json else {
            return;
        };
        let mut changed = false;
        for (name, value) in fields.iter_mut() {
            if !OWN_FIELDS.contains(&name.as_str()) {
                changed |= redact_json(value, redactor);
            }
        }
        if changed {
            *self = serde_json::from_value(json).unwrap_or_else(|e| TraceRecord::Error {
                conversation: None,
                line: None,
                message: format!(
                    "a trace record was withheld: once redacted it is not valid ({e})"
                ),
            });
        }
    }
}

/// The fields of records whose values the runtime itself computes: the kind, statuses and
/// counters are never a secret, and must keep their form (a short secret `t` would turn
/// `"action"` into something that is no record).
const OWN_FIELDS: [&str; 7] = [
    "type",
    "status",
    "error_kind",
    "seq",
    "attempts",
    "duration_ms",
    "line",
];

/// Redacts the texts of a JSON value in place (a number that holds a secret becomes the
/// text `[redacted]`); tells whether anything changed.
pub fn redact_json(json: &mut Json, redactor: &Redactor) -> bool {
    match json {
        Json::String(s) => redactor.redact_string(s),
        Json::Number(n) if redactor.number_is_secret(&n.to_string()) => {
            *json = Json::String(super::secrets::REDACTED.to_string());
            true
        }
        Json::Array(items) => items
            .iter_mut()
            .fold(false, |c, v| redact_json(v, redactor) | c),
        Json::Object(map) => {
            let mut changed = false;
            let keys_dirty = map.keys().any(|k| redactor.redact(k) != k.as_str());
            if keys_dirty {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (redactor.redact(&k).into_owned(), v))
                    .collect();
                changed = true;
            }
            map.values_mut()
                .fold(changed, |c, v| redact_json(v, redactor) | c)
        }
        _ => false,
    }
}

/// Receives trace records, already redacted.
pub trait TraceSink: Send + Sync {
    fn record(&self, record: TraceRecord);
}

/// Keeps every record in memory: for tests, the test runner and the REPL.
#[derive(Clone, Default)]
pub struct TraceBuffer(Arc<Mutex<Vec<TraceRecord>>>);

impl TraceBuffer {
    pub fn new() -> Self {
        Self::default()
    }
    /// A copy of the records so far.
    pub fn records(&self) -> Vec<TraceRecord> {
        self.0.lock().map(|r| r.clone()).unwrap_or_default()
    }
    /// Takes the records so far, leaving the buffer empty.
    pub fn take(&self) -> Vec<TraceRecord> {
        self.0
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
    }
}

impl TraceSink for TraceBuffer {
    fn record(&self, record: TraceRecord) {
        if let Ok(mut records) = self.0.lock() {
            records.push(record);
        }
    }
}

/// Sends records to a sink after redaction; costs nothing when there is no sink.
#[derive(Clone)]
pub(crate) struct Tracer {
    sink: Option<Arc<dyn TraceSink>>,
    redactor: Redactor,
}

impl Tracer {
    pub fn new(sink: Option<Arc<dyn TraceSink>>, redactor: Redactor) -> Self {
        Tracer { sink, redactor }
    }

    pub fn enabled(&self) -> bool {
        self.sink.is_some()
    }

    /// Builds and emits a record only when tracing is on.
    pub fn emit(&self, build: impl FnOnce() -> TraceRecord) {
        if let Some(sink) = &self.sink {
            let mut record = build();
            record.redact(&self.redactor);
            sink.record(record);
        }
    }
}
