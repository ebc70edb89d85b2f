//! The body Rasa POSTs to an action server's `/webhook`, as Rasa's `RemoteAction` writes it
//! and rasa-sdk reads it (`rasa_sdk/types.py`: `ActionCall`, `TrackerState`, `DomainDict`).
//! Fields Rasa adds in later versions are ignored; a field of the wrong shape is an error.

use super::RasaError;
use crate::serve::inbound::usable_id;
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value as Json;

/// How much one webhook body may hold. Rasa sends the whole tracker, every event of the
/// conversation included, on every call: the body limit is generous, the counts bound what
/// a hostile body can make the server hold once parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub body_bytes: usize,
    pub slots: usize,
    pub events: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: 8 * 1024 * 1024,
            slots: 1_000,
            events: 100_000,
        }
    }
}

/// `ActionCall`: which action to run, for whom, with the conversation so far.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Request {
    pub next_action: Option<String>,
    /// Rasa sends it both here and in the tracker; rasa-sdk reads the tracker's.
    pub sender_id: Option<String>,
    pub tracker: Tracker,
    /// Left out when Rasa sends only `domain_digest` of a domain it sent before.
    pub domain: Option<Domain>,
    pub domain_digest: Option<String>,
    /// Rasa's version (`3.6.2`).
    pub version: Option<String>,
}

/// `TrackerState`: the conversation as Rasa holds it.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Tracker {
    pub sender_id: Option<String>,
    /// Every slot of the domain, `null` when unset.
    pub slots: IndexMap<String, Json>,
    pub latest_message: Option<LatestMessage>,
    pub latest_event_time: Option<f64>,
    pub followup_action: Option<String>,
    pub paused: bool,
    pub events: Vec<TrackerEvent>,
    pub latest_input_channel: Option<String>,
    pub latest_action_name: Option<String>,
    /// The form or loop running (`{"name": "order_form"}`), `{}` when none.
    pub active_loop: Option<ActiveLoop>,
}

/// The user's latest message as the NLU parsed it (`parse_data`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct LatestMessage {
    pub text: Option<String>,
    pub intent: Option<Intent>,
    pub entities: Vec<Entity>,
    pub message_id: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Intent {
    pub name: Option<String>,
    pub confidence: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Entity {
    pub entity: String,
    pub value: Json,
    pub role: Option<String>,
    pub group: Option<String>,
}

/// One event of the tracker's history (`{"event": "user", "timestamp": …, …}`); its other
/// fields depend on the event and are not read.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct TrackerEvent {
    pub event: String,
    #[serde(default)]
    pub timestamp: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ActiveLoop {
    pub name: Option<String>,
}

/// `DomainDict`, as far as an action server needs it: which slots exist.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Domain {
    /// Slot name to its definition (`{"type": "text", …}`).
    pub slots: IndexMap<String, Json>,
    pub actions: Vec<String>,
}

impl Request {
    /// Reads a webhook body. `content_encoding` is the request's header: `deflate` is a
    /// zlib stream, as Rasa sends with `COMPRESS_ACTION_SERVER_REQUEST` and rasa-sdk reads,
    /// inflated within the same body limit.
    pub fn parse(
        body: &[u8],
        content_encoding: Option<&str>,
        limits: &Limits,
    ) -> Result<Request, RasaError> {
        let too_large = RasaError::TooLarge {
            limit: limits.body_bytes,
        };
        if body.len() > limits.body_bytes {
            return Err(too_large);
        }
        let inflated;
        let body = match content_encoding.map(str::trim) {
            None | Some("") => body,
            Some(e) if e.eq_ignore_ascii_case("identity") => body,
            Some(e) if e.eq_ignore_ascii_case("deflate") => {
                inflated = inflate(body, limits.body_bytes).ok_or(too_large)??;
                &inflated[..]
            }
            Some(other) => return Err(RasaError::Encoding(other.chars().take(40).collect())),
        };
        // serde reads a struct from an array too, by position: not what Rasa sends.
        if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(RasaError::Malformed(
                "the body must be a JSON object".into(),
            ));
        }
        // serde_json's own recursion limit (128) bounds how deep the body may nest.
        let request: Request =
            serde_json::from_slice(body).map_err(|e| RasaError::Malformed(e.to_string()))?;
        let tracker = &request.tracker;
        for (what, count, limit) in [
            ("slots", tracker.slots.len(), limits.slots),
            ("events", tracker.events.len(), limits.events),
        ] {
            if count > limit {
                return Err(RasaError::TooMany { what, count, limit });
            }
        }
        Ok(request)
    }

    /// The conversation: `sender_id`, from the tracker or the top level (Rasa sends both,
    /// and they must agree).
    pub fn sender(&self) -> Result<&str, RasaError> {
        let given = [self.sender_id.as_deref(), self.tracker.sender_id.as_deref()];
        match given {
            [Some(top), Some(tracker)] if top != tracker => Err(RasaError::SenderMismatch),
            [Some(id), _] | [None, Some(id)] if id.is_empty() => Err(RasaError::NoSender),
            [Some(id), _] | [None, Some(id)] if !usable_id(id) => Err(RasaError::BadSender),
            [Some(id), _] | [None, Some(id)] => Ok(id),
            _ => Err(RasaError::NoSender),
        }
    }

    /// The action Rasa asks for: `next_action`.
    pub fn action(&self) -> Result<&str, RasaError> {
        match self.next_action.as_deref() {
            Some(name) if !name.is_empty() => Ok(name),
            _ => Err(RasaError::NoAction),
        }
    }
}

/// A zlib stream inflated to at most `limit` bytes: `None` past it (a small body may
/// inflate to gigabytes), an error when it is no zlib stream.
fn inflate(body: &[u8], limit: usize) -> Option<Result<Vec<u8>, RasaError>> {
    use miniz_oxide::inflate::{decompress_to_vec_zlib_with_limit, TINFLStatus};
    match decompress_to_vec_zlib_with_limit(body, limit) {
        Ok(bytes) => Some(Ok(bytes)),
        Err(e) if e.status == TINFLStatus::HasMoreOutput => None,
        Err(e) => Some(Err(RasaError::Malformed(format!(
            "the body is marked `Content-Encoding: deflate` but is no zlib stream ({e})"
        )))),
    }
}
