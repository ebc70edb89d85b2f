//! The body of `POST /v1/events`: one `agentc run` event line plus an optional delivery
//! `id`, read as hostile input. Each way it can be wrong has its own error code.

use super::errors::{ApiError, ErrorCode};
use crate::catalogue::{self, Ty};
use crate::runtime::{Event, EventError, EventKind};
use serde_json::Value as Json;

/// The longest conversation or delivery id accepted, in bytes.
pub const MAX_ID_BYTES: usize = 256;

/// Whether a conversation or delivery id can be journaled by every store: at most
/// [`MAX_ID_BYTES`], and no NUL, the one character a PostgreSQL text cannot hold (there it
/// would fail as the store failing, `503`, which a platform retries for ever).
pub fn usable_id(id: &str) -> bool {
    id.len() <= MAX_ID_BYTES && !id.contains('\0')
}

#[derive(Debug)]
pub struct Inbound {
    pub delivery: Option<String>,
    pub event: Event,
    /// The line as journaled and replayed: the body without its `id`.
    pub body: Json,
}

pub fn parse(bytes: &[u8]) -> Result<Inbound, ApiError> {
    let malformed = |message: String| ApiError::new(ErrorCode::MalformedJson, message);
    let invalid = |message: String| ApiError::new(ErrorCode::InvalidEvent, message);
    let text =
        std::str::from_utf8(bytes).map_err(|_| malformed("the body is not UTF-8 text".into()))?;
    let mut json: Json = serde_json::from_str(text)
        .map_err(|e| malformed(format!("the body is not valid JSON: {e}")))?;
    let Json::Object(fields) = &mut json else {
        return Err(malformed("the body must be a JSON object".into()));
    };
    let delivery = match fields.remove("id") {
        None | Some(Json::Null) => None,
        Some(Json::String(id)) if !id.is_empty() && usable_id(&id) => Some(id),
        Some(_) => {
            return Err(invalid(format!(
                "`id` must be a non-empty string of at most {MAX_ID_BYTES} bytes, without a \
                 NUL character"
            )))
        }
    };
    if let Some(Json::String(id)) = fields.get("conversation") {
        if !usable_id(id) {
            return Err(invalid(format!(
                "`conversation` must be at most {MAX_ID_BYTES} bytes, without a NUL character"
            )));
        }
    }
    let name = fields.get("event").and_then(Json::as_str).unwrap_or("");
    let known =
        matches!(name, "usecase" | "block" | "action" | "wait") || catalogue::event(name).is_some();
    if name == "wait" {
        return Err(ApiError::new(
            ErrorCode::RefusedEvent,
            "`wait` moves a simulated clock (`agentc run`, tests); the server runs on real time",
        ));
    }
    if let Some(spec) = catalogue::event(name) {
        check_payload(spec, fields.get("payload"))?;
    }
    let event = Event::parse_line(text).map_err(|error| {
        let code = match &error {
            EventError::Json(_) => ErrorCode::MalformedJson,
            EventError::UnknownEvent { .. } => ErrorCode::UnknownEvent,
            EventError::PayloadNotAnObject
            | EventError::PayloadNeedsText { .. }
            | EventError::NotADuration { .. } => ErrorCode::InvalidPayload,
            _ if !name.is_empty() && !known => ErrorCode::UnknownEvent,
            _ => ErrorCode::InvalidEvent,
        };
        ApiError::new(code, error.to_string())
    })?;
    debug_assert!(!matches!(event.kind, EventKind::Wait(_)));
    Ok(Inbound {
        delivery,
        event,
        body: json,
    })
}

/// `payload.params` against the program's declared params, as the runtime would store
/// them: a wrong type or an unknown name is refused before anything is journaled.
pub fn check_params(program: &crate::ir::Program, event: &Event) -> Result<(), ApiError> {
    let crate::ir::Value::Record(fields) = &event.payload else {
        return Ok(());
    };
    let Some(crate::ir::Value::Record(params)) = fields.get("params") else {
        return Ok(());
    };
    for (name, value) in params {
        crate::runtime::payload_param(&program.agent.params, name, value).map_err(|error| {
            ApiError::new(
                ErrorCode::InvalidPayload,
                format!("`payload.params.{name}`: {error}"),
            )
        })?;
    }
    Ok(())
}

/// The payload fields the catalogue types, each of its type (durations are read, and
/// reported, by the event parser).
fn check_payload(spec: &catalogue::EventSpec, payload: Option<&Json>) -> Result<(), ApiError> {
    let Some(Json::Object(payload)) = payload else {
        return Ok(());
    };
    let declared = spec.payload.iter().copied();
    let scopes = [("user", Ty::Record)].into_iter();
    for (key, ty) in declared.chain(scopes) {
        let Some(value) = payload.get(key).filter(|v| !v.is_null()) else {
            continue;
        };
        let fits = match ty {
            Ty::Text => value.is_string(),
            Ty::Number => value.is_number(),
            Ty::Bool => value.is_boolean(),
            Ty::Record => value.is_object(),
            Ty::List => value.is_array(),
            _ => true,
        };
        if !fits {
            return Err(ApiError::new(
                ErrorCode::InvalidPayload,
                format!(
                    "`payload.{key}` of a `{}` event must be a {}, found {}",
                    spec.name,
                    ty.describe(),
                    json_type(value)
                ),
            ));
        }
    }
    Ok(())
}

fn json_type(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a bool",
        Json::Number(_) => "a number",
        Json::String(_) => "a text",
        Json::Array(_) => "a list",
        Json::Object(_) => "a record",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(body: &str) -> ErrorCode {
        parse(body.as_bytes()).unwrap_err().code
    }

    #[test]
    fn each_kind_of_bad_body_has_its_code() {
        assert_eq!(code("{"), ErrorCode::MalformedJson);
        assert_eq!(code("[]"), ErrorCode::MalformedJson);
        assert_eq!(
            code(r#"{"conversation":"c","conversation":"d","event":"message_received"}"#),
            ErrorCode::MalformedJson
        );
        assert_eq!(
            code(r#"{"event":"message_received"}"#),
            ErrorCode::InvalidEvent
        );
        // A NUL would fail as the store failing on PostgreSQL: refused as input, everywhere.
        assert_eq!(
            code(r#"{"conversation":"a\u0000b","event":"message_received"}"#),
            ErrorCode::InvalidEvent
        );
        assert_eq!(
            code(r#"{"id":"d\u0000","conversation":"c","event":"message_received"}"#),
            ErrorCode::InvalidEvent
        );
        assert_eq!(
            code(r#"{"conversation":"c","event":"mesage_received"}"#),
            ErrorCode::UnknownEvent
        );
        assert_eq!(
            code(r#"{"conversation":"c","event":"message_received","payload":{"text":3}}"#),
            ErrorCode::InvalidPayload
        );
        assert_eq!(
            code(r#"{"conversation":"c","event":"call_ended","payload":{"duration":"long"}}"#),
            ErrorCode::InvalidPayload
        );
        assert_eq!(
            code(r#"{"conversation":"c","event":"wait","payload":{"for":"1s"}}"#),
            ErrorCode::RefusedEvent
        );
        assert_eq!(
            code(r#"{"id":7,"conversation":"c","event":"message_received"}"#),
            ErrorCode::InvalidEvent
        );
        let unknown = parse(br#"{"conversation":"c","event":"mesage_received"}"#).unwrap_err();
        assert!(
            unknown.message.contains("did you mean `message_received`"),
            "{}",
            unknown.message
        );
    }

    #[test]
    fn the_delivery_id_is_taken_out_of_the_line() {
        let inbound =
            parse(br#"{"id":"d-1","conversation":"c","event":"message_received"}"#).unwrap();
        assert_eq!(inbound.delivery.as_deref(), Some("d-1"));
        assert!(inbound.body.get("id").is_none());
        assert_eq!(inbound.event.conversation, "c");
    }
}
