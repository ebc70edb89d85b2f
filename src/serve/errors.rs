//! The errors the API answers with: `{"error":{"code","message"}}` and a 4xx or 5xx status.
//! [`ErrorCode`] is the one list of codes; docs/serve.md lists them all and a test holds the
//! two together.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

macro_rules! codes {
    ($($variant:ident = $code:literal, $status:ident, $doc:literal;)*) => {
        /// A stable error code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum ErrorCode { $($variant,)* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];
            pub fn code(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }
            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status,)* }
            }
            /// When the API answers with it (docs/serve.md's table).
            pub fn doc(self) -> &'static str {
                match self { $(ErrorCode::$variant => $doc,)* }
            }
        }
    };
}

codes! {
    MalformedJson = "malformed_json", BAD_REQUEST,
        "The body is not a JSON object (or gives a key twice).";
    InvalidEvent = "invalid_event", UNPROCESSABLE_ENTITY,
        "A field of the event is missing or of the wrong type (`conversation`, `event`, `id`, `payload`, `channel`), or an id (`conversation`, `id`) is longer than 256 bytes or holds a NUL character.";
    UnknownEvent = "unknown_event", UNPROCESSABLE_ENTITY,
        "`event` is no event of the catalogue; the message suggests the closest.";
    InvalidPayload = "invalid_payload", UNPROCESSABLE_ENTITY,
        "A payload field has the wrong type for its event (`message_received`'s `text` must be a text), or `payload.params` names a param the program does not declare or gives one a value not of its declared type. Nothing is journaled. (`agentc run` ignores such a param and reports it in the trace.)";
    RefusedEvent = "refused_event", UNPROCESSABLE_ENTITY,
        "The program cannot handle the event: a use case or block it lacks, a channel its agent does not speak, or a `wait`.";
    ConversationEnded = "conversation_ended", CONFLICT,
        "The conversation ended; it takes no more events.";
    UnknownConversation = "unknown_conversation", NOT_FOUND,
        "No conversation has this id.";
    NotFound = "not_found", NOT_FOUND,
        "No route has this path.";
    BodyTooLarge = "body_too_large", PAYLOAD_TOO_LARGE,
        "The body is longer than `--max-body`.";
    BodyTimeout = "body_timeout", REQUEST_TIMEOUT,
        "The body did not arrive within `--body-timeout`.";
    Unauthorized = "unauthorized", UNAUTHORIZED,
        "A token is configured and the request has none, or another one.";
    BadSignature = "bad_signature", UNAUTHORIZED,
        "A signing secret is configured and the signature is missing, malformed or wrong.";
    StaleSignature = "stale_signature", UNAUTHORIZED,
        "The signature's timestamp is outside `--signature-tolerance`.";
    Overloaded = "overloaded", SERVICE_UNAVAILABLE,
        "More requests than `--max-concurrent` are being handled; retry after `Retry-After` seconds.";
    ConversationBusy = "conversation_busy", SERVICE_UNAVAILABLE,
        "Another node (sharing a PostgreSQL store) holds the conversation and did not let go within `--lease`; retry.";
    ShuttingDown = "shutting_down", SERVICE_UNAVAILABLE,
        "The server is stopping; send the event to another node or again after it restarts.";
    StoreUnavailable = "store_unavailable", SERVICE_UNAVAILABLE,
        "The store cannot be written: the event was not accepted.";
    NotReady = "not_ready", SERVICE_UNAVAILABLE,
        "`/readyz`: the store does not answer.";
}

#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code.code(), "message": self.message } });
        let mut response = (self.code.status(), axum::Json(body)).into_response();
        if self.code.status() == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
