//! Events fed to the runtime, and their JSON Lines form:
//! `{"conversation":"c-42","event":"call_ringing","payload":{"from":"+336…"}}`.

mod unique_keys;

pub use unique_keys::JsonError;

use super::clock::parse_duration;
use crate::catalogue::{self, Channel, Ty};
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
    /// Runs one action of the program by name (with its `on_failure`), as a platform that
    /// picks the action itself asks (Rasa's `next_action`).
    Action(String),
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
            EventKind::Action(_) => "action",
            EventKind::Wait(_) => "wait",
        }
    }
}

/// What is wrong with an event (a JSON Lines event or a test's `send`). Its `Display` is a
/// sentence without the line number (the caller knows it).
#[derive(Clone, Debug, PartialEq)]
pub enum EventError {
    /// Not JSON, or a key named twice.
    Json(JsonError),
    NotAnObject,
    /// `conversation` or `event` is missing.
    Missing(&'static str),
    /// `conversation` or `event` is not a non-empty string.
    NotText(&'static str),
    PayloadNotAnObject,
    /// A `usecase` or `block` event without its names in the payload.
    PayloadNeedsText {
        event: &'static str,
        key: &'static str,
    },
    WaitNeedsFor,
    UnknownEvent {
        name: String,
        close: Option<&'static str>,
    },
    UnknownChannel(String),
    ChannelNotText,
    /// A payload field the catalogue types as a duration holds something else (as JSON).
    NotADuration {
        key: String,
        value: String,
    },
}

impl std::error::Error for EventError {}

impl std::fmt::Display for EventError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EventError::Json(error) => write!(f, "{error}"),
            EventError::NotAnObject => f.write_str("an event must be a JSON object"),
            EventError::Missing(field) => write!(f, "missing `{field}`"),
            EventError::NotText(field) => write!(f, "`{field}` must be a non-empty string"),
            EventError::PayloadNotAnObject => f.write_str("`payload` must be a JSON object"),
            EventError::PayloadNeedsText { event, key } => {
                write!(f, "a `{event}` event needs a string `payload.{key}`")
            }
            EventError::WaitNeedsFor => {
                f.write_str("a `wait` event needs `payload.for`, such as \"5m\"")
            }
            EventError::UnknownEvent { name, close } => {
                write!(f, "unknown event `{name}`")?;
                match close {
                    Some(close) => write!(f, " (did you mean `{close}`?)"),
                    None => Ok(()),
                }
            }
            EventError::UnknownChannel(channel) => {
                write!(f, "unknown channel `{channel}` (chat, voice or email)")
            }
            EventError::ChannelNotText => f.write_str("`channel` must be a string"),
            EventError::NotADuration { key, value } => write!(
                f,
                "`payload.{key}` is not a duration: {value} (write \"4m\", \"30s\", \"250ms\" or whole milliseconds)"
            ),
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

    /// The event a test's `send` step describes; its duration fields may be written as
    /// text or milliseconds too, as in JSON events (an error says which is malformed).
    pub fn from_send(
        conversation: &str,
        send: &SendEvent,
        payload: Option<Value>,
    ) -> Result<Self, EventError> {
        let kind = match send {
            SendEvent::Event { event } => EventKind::Named(event.clone()),
            SendEvent::Usecase { usecase } => EventKind::Usecase(usecase.clone()),
            SendEvent::Block { usecase, block } => EventKind::Block {
                usecase: usecase.clone(),
                block: block.clone(),
            },
            SendEvent::Wait { ms } => EventKind::Wait(Duration::from_millis(*ms)),
        };
        let mut payload = payload.unwrap_or_default();
        type_durations(&kind, &mut payload)?;
        Ok(Event::new(conversation, kind, payload))
    }

    /// Parses one JSON Lines event. The error says what is wrong, without the line number
    /// (the caller knows it).
    pub fn parse_line(line: &str) -> Result<Event, EventError> {
        let json = unique_keys::parse(line).map_err(EventError::Json)?;
        let Json::Object(fields) = &json else {
            return Err(EventError::NotAnObject);
        };
        let text_field = |name: &'static str| -> Result<&str, EventError> {
            match fields.get(name) {
                Some(Json::String(s)) if !s.is_empty() => Ok(s),
                Some(_) => Err(EventError::NotText(name)),
                None => Err(EventError::Missing(name)),
            }
        };
        let conversation = text_field("conversation")?;
        let name = text_field("event")?;
        let payload = match fields.get("payload") {
            None | Some(Json::Null) => Json::Null,
            Some(p @ Json::Object(_)) => p.clone(),
            Some(_) => return Err(EventError::PayloadNotAnObject),
        };
        let payload_text = |event: &'static str, key: &'static str| -> Result<String, EventError> {
            match payload.get(key) {
                Some(Json::String(s)) if !s.is_empty() => Ok(s.clone()),
                _ => Err(EventError::PayloadNeedsText { event, key }),
            }
        };
        let kind = match name {
            "usecase" => EventKind::Usecase(payload_text("usecase", "name")?),
            "block" => EventKind::Block {
                usecase: payload_text("block", "usecase")?,
                block: payload_text("block", "block")?,
            },
            "action" => EventKind::Action(payload_text("action", "name")?),
            "wait" => EventKind::Wait(match payload.get("for") {
                Some(json) => Duration::from_millis(duration("for", &Value::from_json(json))?),
                None => return Err(EventError::WaitNeedsFor),
            }),
            _ if catalogue::event(name).is_some() => EventKind::Named(name.to_string()),
            _ => {
                let known = catalogue::EVENTS
                    .iter()
                    .map(|e| e.name)
                    .chain(["usecase", "block", "action", "wait"]);
                return Err(EventError::UnknownEvent {
                    name: name.to_string(),
                    close: crate::diagnostics::suggest(name, known),
                });
            }
        };
        let channel = match fields.get("channel").or_else(|| payload.get("channel")) {
            None => None,
            Some(Json::String(c)) => {
                Some(Channel::parse(c).ok_or_else(|| EventError::UnknownChannel(c.clone()))?)
            }
            Some(_) => return Err(EventError::ChannelNotText),
        };
        let mut payload = Value::from_json(&payload);
        type_durations(&kind, &mut payload)?;
        Ok(Event {
            conversation: conversation.to_string(),
            kind,
            payload,
            channel,
        })
    }
}

/// Turns the payload fields the catalogue types as durations (`call_ended`'s `duration`,
/// `idle`), given as text ("4m") or milliseconds, into duration values.
fn type_durations(kind: &EventKind, payload: &mut Value) -> Result<(), EventError> {
    let (EventKind::Named(name), Value::Record(fields)) = (kind, payload) else {
        return Ok(());
    };
    let Some(spec) = catalogue::event(name) else {
        return Ok(());
    };
    for (key, _) in spec.payload.iter().filter(|(_, ty)| *ty == Ty::Duration) {
        if let Some(value) = fields.get_mut(*key) {
            if !matches!(value, Value::Null | Value::Duration(_)) {
                *value = Value::Duration(duration(key, value)?);
            }
        }
    }
    Ok(())
}

/// Milliseconds from a duration written as text ("4m", "250ms") or whole milliseconds.
fn duration(key: &str, value: &Value) -> Result<u64, EventError> {
    let parsed = match value {
        Value::Duration(ms) => Some(*ms),
        Value::Text(text) => parse_duration(text).and_then(|d| u64::try_from(d.as_millis()).ok()),
        // Whole and within u64 (f64 holds integers exactly up to 2^53).
        Value::Number(n) if *n >= 0.0 && n.fract() == 0.0 && *n < 2f64.powi(53) => Some(*n as u64),
        _ => None,
    };
    parsed.ok_or_else(|| EventError::NotADuration {
        key: key.to_string(),
        value: value.to_json().to_string(),
    })
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

    /// The payload field `key` of the event on `line`.
    fn field(line: &str, key: &str) -> Value {
        match Event::parse_line(line).unwrap().payload {
            Value::Record(mut fields) => fields.swap_remove(key).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn duration_fields_become_durations() {
        let ended = r#"{"conversation":"c","event":"call_ended","payload":{"reason":"hangup","duration":"4m"}}"#;
        assert_eq!(field(ended, "duration"), Value::Duration(240_000));
        assert_eq!(field(ended, "reason"), Value::Text("hangup".into()));
        assert_eq!(
            field(
                r#"{"conversation":"c","event":"conversation_inactive","payload":{"idle":250}}"#,
                "idle"
            ),
            Value::Duration(250)
        );
        assert_eq!(
            field(
                r#"{"conversation":"c","event":"silence_timeout","payload":{"idle":"250ms"}}"#,
                "idle"
            ),
            Value::Duration(250)
        );
        // A test's or the REPL's `send` goes through the same conversion.
        let send = SendEvent::Event {
            event: "call_ended".into(),
        };
        let payload = Value::from_json(&serde_json::json!({"duration": "90s"}));
        let e = Event::from_send("c", &send, Some(payload)).unwrap();
        assert_eq!(
            e.payload,
            Value::Record(
                [("duration".to_string(), Value::Duration(90_000))]
                    .into_iter()
                    .collect()
            )
        );
        let bad = Value::from_json(&serde_json::json!({"duration": "long"}));
        let error = Event::from_send("c", &send, Some(bad)).unwrap_err();
        assert!(
            matches!(&error, EventError::NotADuration { key, .. } if key == "duration"),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .contains("`payload.duration` is not a duration"),
            "{error}"
        );
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
                r#"{"conversation":"c","event":"call_ended","payload":{"duration":"4 minutes"}}"#,
                "`payload.duration` is not a duration: \"4 minutes\"",
            ),
            (
                r#"{"conversation":"c","event":"silence_timeout","payload":{"idle":-3}}"#,
                "`payload.idle` is not a duration",
            ),
            (
                r#"{"conversation":"c","event":"call_ended","payload":3}"#,
                "`payload` must be",
            ),
        ];
        for (line, expected) in cases {
            let error = Event::parse_line(line).unwrap_err().to_string();
            assert!(error.contains(expected), "{line}: {error}");
        }
    }
}
