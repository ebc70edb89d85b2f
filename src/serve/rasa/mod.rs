//! The Rasa action-server protocol, so a Rasa assistant's `endpoints.yml` can point its
//! `action_endpoint` at agentc: plain data and pure functions, no I/O. The host (the HTTP
//! front of `agentc serve`) routes `POST /webhook`, `GET /actions` and `GET /health` here:
//!
//! 1. [`webhook`] reads the body into a [`Call`] (or an [`Answer`] saying what is wrong);
//! 2. the host journals and runs [`Call::event`] (the [`line`] it journals, deduplicated
//!    by [`delivery`]) in the conversation `Call::conversation`;
//! 3. [`Call::answer`] turns what ran ([`Ran::from_answer`]) into Rasa's answer.
//!
//! Shapes follow rasa-sdk (`rasa_sdk/endpoint.py`, `executor.py`, `events.py`), so Rasa
//! reads agentc's answers exactly as it reads rasa-sdk's.

mod answer;
mod call;
mod error;
mod request;
#[cfg(test)]
mod tests;

pub use answer::{actions, health, webhook, Answer, Outcome, Ran, SentReply};
pub use call::{action_names, delivery, line, Call, Run};
pub use error::RasaError;
pub use request::{
    ActiveLoop, Domain, Entity, Intent, LatestMessage, Limits, Request, Tracker, TrackerEvent,
};
