//! What can be wrong with a webhook call, each with a stable code (for logs and metrics)
//! and the HTTP status rasa-sdk would answer it with.

use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum RasaError {
    /// Not JSON, or JSON of the wrong shape (serde's message says where).
    Malformed(String),
    TooLarge {
        limit: usize,
    },
    /// A `Content-Encoding` other than identity and deflate.
    Encoding(String),
    TooMany {
        what: &'static str,
        count: usize,
        limit: usize,
    },
    NoAction,
    NoSender,
    /// A `sender_id` no store can journal as a conversation id (`inbound::usable_id`).
    BadSender,
    /// The top-level `sender_id` and the tracker's differ.
    SenderMismatch,
    /// `next_action` is no use case, block or action of the program.
    UnknownAction {
        name: String,
        suggestion: Option<String>,
    },
    /// A tracker slot fills a parameter of another type.
    SlotType {
        slot: String,
        found: &'static str,
        expected: &'static str,
    },
    /// The call was understood but not run (the conversation has ended, …).
    Refused(String),
    /// The run is journaled and goes on, but did not finish within the server's deadline.
    Deadline(String),
}

impl RasaError {
    /// Stable: operators match on it.
    pub fn code(&self) -> &'static str {
        match self {
            RasaError::Malformed(_) => "rasa_malformed",
            RasaError::TooLarge { .. } => "rasa_too_large",
            RasaError::Encoding(_) => "rasa_encoding",
            RasaError::TooMany { .. } => "rasa_too_many",
            RasaError::NoAction => "rasa_no_action",
            RasaError::NoSender => "rasa_no_sender",
            RasaError::BadSender => "rasa_bad_sender",
            RasaError::SenderMismatch => "rasa_sender_mismatch",
            RasaError::UnknownAction { .. } => "rasa_unknown_action",
            RasaError::SlotType { .. } => "rasa_slot_type",
            RasaError::Refused(_) => "rasa_refused",
            RasaError::Deadline(_) => "rasa_deadline",
        }
    }

    /// As rasa-sdk answers: 404 for an unknown action, 400 (Rasa reads it as the action
    /// rejecting the call, and predicts another) for a call that cannot run; 504 when the
    /// run outlasts the deadline (Rasa reports the action as failed and goes on).
    pub fn status(&self) -> u16 {
        match self {
            RasaError::UnknownAction { .. } => 404,
            RasaError::TooLarge { .. } => 413,
            RasaError::Encoding(_) => 415,
            RasaError::Deadline(_) => 504,
            _ => 400,
        }
    }
}

impl fmt::Display for RasaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RasaError::Malformed(why) => write!(f, "Invalid body request: {why}"),
            RasaError::TooLarge { limit } => {
                write!(f, "the request body is larger than {limit} bytes")
            }
            RasaError::Encoding(encoding) => write!(
                f,
                "Content-Encoding `{encoding}` is not accepted: send the JSON as it is or \
                 `deflate` (zlib), as Rasa does"
            ),
            RasaError::TooMany { what, count, limit } => write!(
                f,
                "the tracker holds {count} {what}, more than the {limit} accepted"
            ),
            RasaError::NoAction => {
                write!(f, "the request names no action: `next_action` is missing")
            }
            RasaError::NoSender => write!(
                f,
                "the request names no conversation: `sender_id` is missing or empty"
            ),
            RasaError::BadSender => write!(
                f,
                "`sender_id` must be at most {} bytes, without a NUL character",
                crate::serve::inbound::MAX_ID_BYTES
            ),
            RasaError::SenderMismatch => write!(
                f,
                "`sender_id` and `tracker.sender_id` differ: which conversation is meant?"
            ),
            // rasa-sdk's own sentence (ActionNotFoundException), then a hint.
            RasaError::UnknownAction { name, suggestion } => {
                write!(f, "No registered action found for name '{name}'.")?;
                match suggestion {
                    Some(s) => write!(f, " Did you mean '{s}'?"),
                    None => Ok(()),
                }
            }
            RasaError::SlotType {
                slot,
                found,
                expected,
            } => write!(
                f,
                "slot `{slot}` holds a {found}, but the parameter `{slot}` is a {expected}: \
                 set the slot to a {expected}, or declare the parameter `{slot}: any`"
            ),
            RasaError::Refused(why) | RasaError::Deadline(why) => write!(f, "{why}"),
        }
    }
}
