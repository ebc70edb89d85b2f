//! What the action server answers, in rasa-sdk's shapes (`rasa_sdk/endpoint.py`,
//! `executor.py`, `events.py`): `{"events": […], "responses": […]}` for a call that ran,
//! `{"error", "action_name"}` for one that did not, `[{"name"}]` for `GET /actions` and
//! `{"status": "ok"}` for `GET /health`.

use super::call::{action_names, Call};
use super::RasaError;
use crate::ir;
use crate::runtime::ChoiceRecord;
use serde_json::{json, Value as Json};

/// An HTTP answer: the host sends `body` as JSON with `status`. `code` names the error
/// (for logs and metrics) and is not part of the body, which keeps rasa-sdk's shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Json,
    pub code: Option<&'static str>,
}

impl Answer {
    fn ok(body: Json) -> Answer {
        Answer {
            status: 200,
            body,
            code: None,
        }
    }

    /// An error answer. Rasa reads `action_name` from every 400 (as a rejection), so it
    /// is always there, `null` when the body named none.
    pub fn error(error: &RasaError, action: Option<&str>) -> Answer {
        Answer {
            status: error.status(),
            body: json!({ "error": error.to_string(), "action_name": action }),
            code: Some(error.code()),
        }
    }
}

/// What the host gives back once the call ran.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Ran(Ran),
    /// It could not run: the message says why (the conversation has ended, …).
    Refused(String),
    /// It runs on past the host's deadline: the message says so.
    Unfinished(String),
}

/// What the run produced that Rasa can carry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ran {
    /// What was said to the user, in order.
    pub replies: Vec<SentReply>,
    /// The parameters after the run, as plain JSON, secrets redacted.
    pub params: Vec<(String, Json)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SentReply {
    pub text: String,
    pub choices: Vec<ChoiceRecord>,
}

impl Ran {
    /// From the answer `agentc serve` gives an event (docs/serve.md, "The answer"; it is
    /// redacted already, and it is what a call sent again gets back from the journal):
    /// its replies, then what it `say`s, and the params after the event.
    pub fn from_answer(answer: &Json) -> Ran {
        let list = |key: &str| answer[key].as_array().map_or(&[][..], Vec::as_slice);
        let replies = list("replies").iter().map(|reply| SentReply {
            text: reply["text"].as_str().unwrap_or_default().to_string(),
            choices: serde_json::from_value(reply["choices"].clone()).unwrap_or_default(),
        });
        let says = list("commands")
            .iter()
            .filter(|command| command["type"] == "say")
            .map(|say| SentReply {
                text: say["text"].as_str().unwrap_or_default().to_string(),
                choices: Vec::new(),
            });
        let params = answer["params"]
            .as_object()
            .map(|params| params.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Ran {
            replies: replies.chain(says).collect(),
            params,
        }
    }
}

impl Call {
    /// The webhook's answer to this call once it ran.
    pub fn answer(&self, outcome: &Outcome) -> Answer {
        let ran = match outcome {
            Outcome::Ran(ran) => ran,
            Outcome::Refused(why) => {
                return Answer::error(&RasaError::Refused(why.clone()), Some(&self.action))
            }
            Outcome::Unfinished(why) => {
                return Answer::error(&RasaError::Deadline(why.clone()), Some(&self.action))
            }
        };
        let events: Vec<Json> = ran
            .params
            .iter()
            .filter(|(name, _)| self.domain_slots.as_ref().is_none_or(|s| s.contains(name)))
            .filter(|(name, value)| self.tracker_slots.get(name) != Some(value))
            // A parameter unset, for which Rasa holds nothing, tells Rasa nothing.
            .filter(|(name, value)| !value.is_null() || self.tracker_slots.contains_key(name))
            .map(|(name, value)| slot_set(name, value))
            .collect();
        let responses: Vec<Json> = ran.replies.iter().map(response).collect();
        Answer::ok(json!({ "events": events, "responses": responses }))
    }
}

/// `rasa_sdk.events.SlotSet`.
fn slot_set(name: &str, value: &Json) -> Json {
    json!({ "event": "slot", "timestamp": null, "name": name, "value": value })
}

/// A message as `CollectingDispatcher.utter_message` builds it: every key present, so Rasa
/// reads it exactly as one from rasa-sdk. Quick replies are Rasa's buttons.
fn response(reply: &SentReply) -> Json {
    let buttons: Vec<Json> = reply
        .choices
        .iter()
        .map(|c| json!({ "title": c.label, "payload": c.id }))
        .collect();
    json!({
        "text": reply.text,
        "buttons": buttons,
        "elements": [],
        "custom": {},
        "template": null,
        "response": null,
        "image": null,
        "attachment": null,
    })
}

/// `POST /webhook`, up to the run: the call to make, or the answer when there is none.
pub fn webhook(
    body: &[u8],
    content_encoding: Option<&str>,
    limits: &super::Limits,
    program: &ir::Program,
) -> Result<Call, Answer> {
    let request = super::Request::parse(body, content_encoding, limits)
        .map_err(|error| Answer::error(&error, None))?;
    let action = request.next_action.clone();
    Call::new(request, program).map_err(|error| Answer::error(&error, action.as_deref()))
}

/// `GET /actions`: every name `next_action` may take.
pub fn actions(program: &ir::Program) -> Answer {
    let names = action_names(program);
    Answer::ok(names.iter().map(|name| json!({ "name": name })).collect())
}

/// `GET /health`.
pub fn health() -> Answer {
    Answer::ok(json!({ "status": "ok" }))
}
