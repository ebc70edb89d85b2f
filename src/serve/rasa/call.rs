//! From a webhook request to what agentc runs: the conversation is Rasa's `sender_id`,
//! `next_action` names a use case, a block (`usecase.block`) or an action of the program,
//! and the tracker's slots fill the parameters of the same name.

use super::request::Request;
use super::RasaError;
use crate::ir::{self, Type, Value};
use crate::runtime::{parse_duration, Event, EventKind};
use indexmap::IndexMap;
use serde_json::{json, Value as Json};
use std::collections::HashSet;

/// What `next_action` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Run {
    Usecase(String),
    Block {
        usecase: String,
        block: String,
    },
    /// One action, run by name (the `action` event).
    Action(String),
}

/// A webhook call, checked against the program.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub conversation: String,
    /// `next_action` as Rasa wrote it: the answer's errors name it.
    pub action: String,
    pub run: Run,
    /// Typed values for the program's parameters, from the slots that are set (a `null`
    /// slot is Rasa's "unset": the parameter keeps what it holds).
    pub params: IndexMap<String, Value>,
    /// The user's latest message, when the tracker has one.
    pub text: Option<String>,
    /// The slots Rasa's domain declares, when the request carried the domain: a parameter
    /// Rasa has no slot for is not sent back.
    pub(super) domain_slots: Option<HashSet<String>>,
    /// The slots as the tracker holds them, so values Rasa already has are not sent back.
    pub(super) tracker_slots: IndexMap<String, Json>,
}

impl Call {
    pub fn new(request: Request, program: &ir::Program) -> Result<Call, RasaError> {
        let action = request.action()?.to_string();
        let conversation = request.sender()?.to_string();
        let run = resolve(program, &action)?;
        let params = params_from_slots(&program.agent.params, &request.tracker.slots)?;
        let tracker = request.tracker;
        Ok(Call {
            conversation,
            action,
            run,
            params,
            text: tracker.latest_message.and_then(|m| m.text),
            domain_slots: request
                .domain
                .map(|domain| domain.slots.into_keys().collect()),
            tracker_slots: tracker.slots,
        })
    }

    /// The agentc event that runs the use case, block or action, its payload carrying the
    /// params and the user's text (`event.text`).
    pub fn event(&self) -> Event {
        let mut payload = IndexMap::new();
        let kind = match &self.run {
            Run::Usecase(usecase) => {
                payload.insert("name".to_string(), Value::Text(usecase.clone()));
                EventKind::Usecase(usecase.clone())
            }
            Run::Block { usecase, block } => {
                payload.insert("usecase".to_string(), Value::Text(usecase.clone()));
                payload.insert("block".to_string(), Value::Text(block.clone()));
                EventKind::Block {
                    usecase: usecase.clone(),
                    block: block.clone(),
                }
            }
            Run::Action(action) => {
                payload.insert("name".to_string(), Value::Text(action.clone()));
                EventKind::Action(action.clone())
            }
        };
        if let Some(text) = &self.text {
            payload.insert("text".to_string(), Value::Text(text.clone()));
        }
        payload.insert("params".to_string(), Value::Record(self.params.clone()));
        Event::new(self.conversation.clone(), kind, Value::Record(payload))
    }
}

/// The event as an `agentc run` line: what the journal keeps, and replays after a crash.
pub fn line(event: &Event) -> Json {
    json!({
        "conversation": event.conversation,
        "event": event.kind.name(),
        "payload": event.payload.to_json(),
    })
}

/// The delivery id of a call: Rasa sends none, but every call carries the whole tracker,
/// which grows with each event, so the same body again is the same call sent again.
pub fn delivery(body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(body);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("rasa-{hex}")
}

/// Every name `next_action` may take, in the order `GET /actions` lists them: use cases,
/// their blocks, actions (each by name).
pub fn action_names(program: &ir::Program) -> Vec<String> {
    let usecases = program.usecases.values();
    let blocks = program
        .usecases
        .values()
        .flat_map(|u| u.blocks.iter().map(move |b| format!("{}.{b}", u.name)));
    usecases
        .map(|u| u.name.clone())
        .chain(blocks)
        .chain(program.actions.keys().cloned())
        .collect()
}

/// Declarations share one namespace, so a name is at most one of a use case or an action.
fn resolve(program: &ir::Program, name: &str) -> Result<Run, RasaError> {
    if program.usecases.contains_key(name) {
        return Ok(Run::Usecase(name.to_string()));
    }
    if program.actions.contains_key(name) {
        return Ok(Run::Action(name.to_string()));
    }
    if let Some((usecase, block)) = name.split_once('.') {
        if program
            .usecases
            .get(usecase)
            .is_some_and(|u| u.blocks.iter().any(|b| b == block))
        {
            return Ok(Run::Block {
                usecase: usecase.to_string(),
                block: block.to_string(),
            });
        }
    }
    let known = action_names(program);
    let suggestion =
        crate::diagnostics::suggest(name, known.iter().map(String::as_str)).map(str::to_string);
    Err(RasaError::UnknownAction {
        name: name.to_string(),
        suggestion,
    })
}

/// The slots that name a parameter, typed as it is declared. Slots of Rasa's own (no
/// parameter of that name) are not the program's business and are left alone.
fn params_from_slots(
    params: &[ir::Param],
    slots: &IndexMap<String, Json>,
) -> Result<IndexMap<String, Value>, RasaError> {
    let mut values = IndexMap::new();
    for (slot, json) in slots {
        let Some(param) = params.iter().find(|p| &p.name == slot) else {
            continue;
        };
        if json.is_null() {
            continue;
        }
        let value = slot_value(param.ty, json).ok_or_else(|| RasaError::SlotType {
            slot: slot.clone(),
            found: json_type(json),
            expected: param.ty.name(),
        })?;
        values.insert(slot.clone(), value);
    }
    Ok(values)
}

/// A slot's JSON as a value of type `ty`; JSON has no durations, so a duration is written
/// `"5m"` or in whole milliseconds, as in an event's `params`.
fn slot_value(ty: Type, json: &Json) -> Option<Value> {
    let value = match (ty, json) {
        (Type::Duration, Json::String(text)) => {
            Value::Duration(u64::try_from(parse_duration(text)?.as_millis()).ok()?)
        }
        (Type::Duration, Json::Number(ms)) => Value::Duration(ms.as_u64()?),
        (Type::Text, Json::String(_))
        | (Type::Number, Json::Number(_))
        | (Type::Bool, Json::Bool(_))
        | (Type::List, Json::Array(_))
        | (Type::Record, Json::Object(_))
        | (Type::Any, _) => Value::from_json(json),
        _ => return None,
    };
    Some(value)
}

/// A JSON value's type in the language's words.
fn json_type(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "text",
        Json::Array(_) => "list",
        Json::Object(_) => "record",
    }
}
