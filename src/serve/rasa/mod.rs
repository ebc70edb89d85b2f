//! The Rasa action-server protocol, so a Rasa assistant's `endpoints.yml` can point its
//! `action_endpoint` at agentc: plain data and pure functions, no I/O. The host (the HTTP
//! front of `agentc serve`) routes `POST /webhook`, `GET /actions` and `GET /health` here:
//!
//! 1. [`webhook`] reads the body into a [`Call`] (or an [`Answer`] saying what is wrong);
//! 2. the host runs it in the conversation `Call::conversation`: [`Call::event`] for a use
//!    case or block, the action by name for [`Run::Action`];
//! 3. [`Call::answer`] turns what ran ([`Ran::from_step`]) into Rasa's answer.
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
pub use call::{action_names, Call, Run};
pub use error::RasaError;
pub use request::{
    ActiveLoop, Domain, Entity, Intent, LatestMessage, Limits, Request, Tracker, TrackerEvent,
};
