//! Events fed to the runtime, and their JSON Lines form:
//! `{"conversation":"c-42","event":"call_ringing","payload":{"from":"+336…"}}`.

use super::clock::parse_duration;
use crate::catalogue::{self, Channel};
use crate::ir::{SendEvent, Value};
use serde_json::Value as Json;
use std::time::Duration;

/// One event for one conversation.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub conversation: String,
    pub kind: EventKind,
    /// The payload record (`event.*`); its `user`, `caller` and `params` keys also fill
    /// those scopes. `Null` when the line had none.
    pub payload: Value,
    /// The channel, when the platform says (`"channel":"voice"`); otherwise it is inferred
    /// from the agent's channels and the first event.
    pub channel: Option<Channel>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum EventKind {
    /// An agent-level event of the catalogue.
    Named(String),
    Usecase(String),
    Block {
        usecase: String,
        block: String,
    },
    /// Moves the conversation's clock forward.
    Wait(Duration),
}

impl EventKind {
    /// How the event is named in traces: `call_ringing`, `usecase`, `block`, `wait`.
    pub fn name(&self) -> &str {
        match self {
            EventKind::Named(name) => name,
            EventKind::Usecase(_) => "usecase",
            EventKind::Block { .. } => "block",
            EventKind::Wait(_) => "wait",
        }
    }
}

impl Event {
    pub fn new(conversation: impl Into<String>, kind: EventKind, payload: Value) -> Self {
        Event {
            conversation: conversation.into(),
            kind,
            payload,
            channel: None,
        }
    }

    /// The event a test's `send` step describes.
    pub fn from_send(conversation: &str, send: &SendEvent, payload: Option<Value>) -> Self {
        let kind = match send {
            SendEvent::Event { event } => EventKind::Named(event.clone()),
            SendEvent::Usecase { usecase } => EventKind::Usecase(usecase.clone()),
            SendEvent::Block { usecase, block } => EventKind::Block {
                usecase: usecase.clone(),
                block: block.clone(),
            },
            SendEvent::Wait { ms } => EventKind::Wait(Duration::from_millis(*ms)),
        };
        Event::new(conversation, kind, payload.unwrap_or_default())
    }

    /// Parses one JSON Lines event. The error says what is wrong, without the line number
    /// (the caller knows it).
    pub fn parse_line(line: &str) -> Result<Event, String> {
        let json: Json = serde_json::from_str(line).map_err(|e| format!("not valid JSON: {e}"))?;
        let Json::Object(fields) = &json else {
            return Err("an event must be a JSON object".into());
        };
        let text_field = |name: &str| -> Result<&str, String> {
            match fields.get(name) {
                Some(Json::String(s)) if !s.is_empty() => Ok(s),
                Some(_) => Err(format!("`{name}` must be a non-empty string")),
                None => Err(format!("missing `{name}`")),
            }
        };
        let conversation = text_field("conversation")?;
        let name = text_field("event")?;
        let payload = match fields.get("payload") {
            None | Some(Json::Null) => Json::Null,
            Some(p @ Json::Object(_)) => p.clone(),
            Some(_) => return Err("`payload` must be a JSON object".into()),
        };
        let payload_text = |key: &str| -> Result<String, String> {
            match payload.get(key) {
                Some(Json::String(s)) if !s.is_empty() => Ok(s.clone()),
                _ => Err(format!("a `{name}` event needs a string `payload.{key}`")),
            }
        };
        let kind = match name {
            "usecase" => EventKind::Usecase(payload_text("name")?),
            "block" => EventKind::Block {
                usecase: payload_text("usecase")?,
                block: payload_text("block")?,
            },
            "wait" => EventKind::Wait(match payload.get("for") {
                Some(Json::String(s)) => parse_duration(s).ok_or_else(|| {
                    format!("`payload.for` is not a duration: {s:?} (write 5m, 30s, 250ms)")
                })?,
                Some(Json::Number(ms)) => ms.as_u64().map(Duration::from_millis).ok_or(
                    "`payload.for` must be a duration such as \"5m\" or whole milliseconds",
                )?,
                _ => return Err("a `wait` event needs `payload.for`, such as \"5m\"".into()),
            }),
            _ if catalogue::event(name).is_some() => EventKind::Named(name.to_string()),
            _ => {
                let known = catalogue::EVENTS
                    .iter()
                    .map(|e| e.name)
                    .chain(["usecase", "block", "wait"]);
                let hint = crate::diagnostics::suggest(name, known)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(format!("unknown event `{name}`{hint}"));
            }
        };
        let channel = match fields.get("channel").or_else(|| payload.get("channel")) {
            None => None,
            Some(Json::String(c)) => Some(
                Channel::parse(c)
                    .ok_or_else(|| format!("unknown channel `{c}` (chat, voice or email)"))?,
            ),
            Some(_) => return Err("`channel` must be a string".into()),
        };
        Ok(Event {
            conversation: conversation.to_string(),
            kind,
            payload: Value::from_json(&payload),
            channel,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_kind_of_line() {
        let e = Event::parse_line(
            r#"{"conversation":"c-1","event":"call_ringing","payload":{"from":"+1"}}"#,
        )
        .unwrap();
        assert_eq!(e.kind, EventKind::Named("call_ringing".into()));
        assert_eq!(e.payload.to_json(), serde_json::json!({"from": "+1"}));
        let e = Event::parse_line(
            r#"{"conversation":"c","event":"usecase","payload":{"name":"order_status"}}"#,
        )
        .unwrap();
        assert_eq!(e.kind, EventKind::Usecase("order_status".into()));
        let e = Event::parse_line(
            r#"{"conversation":"c","event":"block","payload":{"usecase":"u","block":"b"}}"#,
        )
        .unwrap();
        assert_eq!(
            e.kind,
            EventKind::Block {
                usecase: "u".into(),
                block: "b".into()
            }
        );
        let e = Event::parse_line(r#"{"conversation":"c","event":"wait","payload":{"for":"5m"}}"#)
            .unwrap();
        assert_eq!(e.kind, EventKind::Wait(Duration::from_secs(300)));
        let e = Event::parse_line(
            r#"{"conversation":"c","event":"conversation_started","channel":"voice"}"#,
        )
        .unwrap();
        assert_eq!(e.channel, Some(Channel::Voice));
    }

    #[test]
    fn explains_malformed_lines() {
        let cases = [
            ("{", "not valid JSON"),
            ("[]", "must be a JSON object"),
            (r#"{"event":"call_ringing"}"#, "missing `conversation`"),
            (
                r#"{"conversation":"c","event":"call_ringin"}"#,
                "did you mean `call_ringing`",
            ),
            (
                r#"{"conversation":"c","event":"wait","payload":{"for":"soon"}}"#,
                "not a duration",
            ),
            (r#"{"conversation":"c","event":"usecase"}"#, "payload.name"),
            (
                r#"{"conversation":"c","event":"call_ended","payload":3}"#,
                "`payload` must be",
            ),
        ];
        for (line, expected) in cases {
            let error = Event::parse_line(line).unwrap_err();
            assert!(error.contains(expected), "{line}: {error}");
        }
    }
}
