//! Payloads as Rasa sends them (`testdata/order_status_call.json` is a Rasa 3.6 tracker
//! dump; the short ones are the bodies rasa-sdk's own endpoint tests post), answers as
//! rasa-sdk gives them.

use super::*;
use crate::check::{check_program, MemoryLoader};
use crate::diagnostics::SourceMap;
use crate::ir::{self, Value};
use crate::runtime::{ChoiceRecord, Runtime, TraceBuffer, REDACTED};
use indexmap::IndexMap;
use serde_json::{json, Value as Json};
use std::sync::Arc;

const PROGRAM: &str = r#"
agent desk {
    channels: [chat]
    params: {
        order_id: text
        wants_sms: bool = false
        lookups: number = 0
        status: text
        eta: text
        wait_for: duration
        extra: any
    }
}

usecase order_status {
    blocks: [show_status]
}

in usecase order_status do count_lookup, note_status, tell

at block order_status.show_status do tell

action count_lookup {
    target: conversation
    task: increment(lookups)
}

action note_status {
    target: conversation
    task: set(status: "shipped", eta: "today")
}

action tell {
    target: conversation
    task: reply(found)
}

reply found {
    text: "Order {order_id} is {status}."
    choices: ["Track it", { id: "human", label: "Talk to a person" }]
}
"#;

const CALL: &str = include_str!("testdata/order_status_call.json");

fn program() -> ir::Program {
    let mut sources = SourceMap::new();
    let root = sources.add("desk.agent", PROGRAM);
    let checked = check_program(&mut sources, root, &mut MemoryLoader::new());
    checked
        .program
        .unwrap_or_else(|| panic!("{:?}", checked.diagnostics))
}

fn call(body: &Json) -> Result<Call, Answer> {
    webhook(
        body.to_string().as_bytes(),
        None,
        &Limits::default(),
        &program(),
    )
}

/// The full call with `edit` applied to its JSON.
fn edited(edit: impl FnOnce(&mut Json)) -> Json {
    let mut body: Json = serde_json::from_str(CALL).unwrap();
    edit(&mut body);
    body
}

fn refused(body: &Json) -> Answer {
    call(body).expect_err("the call is refused")
}

#[test]
fn a_rasa_call_becomes_a_use_case_run_in_the_senders_conversation() {
    let call = webhook(CALL.as_bytes(), None, &Limits::default(), &program()).unwrap();
    assert_eq!(call.conversation, "c-42");
    assert_eq!(call.action, "order_status");
    assert_eq!(call.run, Run::Usecase("order_status".into()));
    // `status` is unset (null) and `requested_slot` is Rasa's own: neither fills anything.
    let params: IndexMap<String, Value> = [
        ("order_id".to_string(), Value::Text("A-1001".into())),
        ("wants_sms".to_string(), Value::Bool(true)),
    ]
    .into_iter()
    .collect();
    assert_eq!(call.params, params);
    assert_eq!(call.text.as_deref(), Some("where is my A-1001?"));
    let event = call.event();
    assert_eq!(event.conversation, "c-42");
    assert_eq!(
        event.payload.to_json(),
        json!({
            "name": "order_status",
            "text": "where is my A-1001?",
            "params": { "order_id": "A-1001", "wants_sms": true },
        })
    );
}

#[test]
fn the_typed_request_keeps_what_rasa_sent() {
    let request = Request::parse(CALL.as_bytes(), None, &Limits::default()).unwrap();
    assert_eq!(request.version.as_deref(), Some("3.6.20"));
    assert_eq!(request.domain_digest.as_deref(), Some("a8b3c0e4f1d2"));
    let tracker = &request.tracker;
    let events: Vec<&str> = tracker.events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        events,
        [
            "action",
            "session_started",
            "action",
            "user",
            "slot",
            "user_featurization"
        ]
    );
    let message = tracker.latest_message.as_ref().unwrap();
    let intent = message.intent.as_ref().unwrap();
    assert_eq!(intent.name.as_deref(), Some("ask_order_status"));
    assert_eq!(message.entities[0].entity, "order_id");
    assert_eq!(message.entities[0].value, json!("A-1001"));
    assert_eq!(tracker.latest_input_channel.as_deref(), Some("rest"));
    assert_eq!(tracker.active_loop, Some(ActiveLoop { name: None }));
    let domain = request.domain.as_ref().unwrap();
    assert_eq!(domain.actions, ["order_status"]);
    assert!(domain.slots.contains_key("eta"));
}

#[test]
fn rasa_sdks_minimal_test_bodies_are_read() {
    // tests/test_endpoint.py posts the tracker with only its sender and no domain.
    let call = call(&json!({
        "next_action": "tell",
        "tracker": { "sender_id": "1", "conversation_id": "default" },
    }))
    .unwrap();
    assert_eq!(call.conversation, "1");
    assert_eq!(call.run, Run::Action("tell".into()));
    assert!(call.params.is_empty());
    let event = call.event();
    assert_eq!(event.kind, crate::runtime::EventKind::Action("tell".into()));
    // The line the journal keeps is the event again.
    let line = line(&event).to_string();
    assert_eq!(crate::runtime::Event::parse_line(&line), Ok(event));
}

/// `next_action` naming an action runs that action alone, with its `on_failure`.
#[tokio::test]
async fn an_action_named_runs_alone() {
    let program = program();
    let body = edited(|b| b["next_action"] = json!("note_status"));
    let call = webhook(
        body.to_string().as_bytes(),
        None,
        &Limits::default(),
        &program,
    )
    .unwrap();
    let answer = run_call(&program, &call).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["responses"], json!([]));
    let names: Vec<&str> = answer.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["status", "eta"]);
}

#[test]
fn the_same_body_is_the_same_delivery() {
    let other = edited(|b| b["tracker"]["latest_event_time"] = json!(1.5)).to_string();
    assert_eq!(delivery(CALL.as_bytes()), delivery(CALL.as_bytes()));
    assert_ne!(delivery(CALL.as_bytes()), delivery(other.as_bytes()));
    assert!(delivery(b"").len() <= crate::serve::inbound::MAX_ID_BYTES);
}

#[test]
fn next_action_may_name_a_block() {
    let body = edited(|b| b["next_action"] = json!("order_status.show_status"));
    let call = call(&body).unwrap();
    assert_eq!(
        call.run,
        Run::Block {
            usecase: "order_status".into(),
            block: "show_status".into()
        }
    );
    let payload = call.event().payload.to_json();
    assert_eq!(payload["usecase"], "order_status");
    assert_eq!(payload["block"], "show_status");
}

#[test]
fn an_unknown_action_gets_rasa_sdks_404() {
    // rasa-sdk's ActionNotFoundException handler: exactly `error` and `action_name`.
    let answer = refused(&json!({
        "next_action": "test_action_1",
        "tracker": { "sender_id": "1", "conversation_id": "default" },
    }));
    assert_eq!(answer.status, 404);
    assert_eq!(
        answer.body,
        json!({
            "error": "No registered action found for name 'test_action_1'.",
            "action_name": "test_action_1",
        })
    );
    assert_eq!(answer.code, Some("rasa_unknown_action"));
    // A close name is suggested; a block of another use case is no block.
    let answer = refused(&edited(|b| b["next_action"] = json!("order_stats")));
    assert_eq!(
        answer.body["error"],
        "No registered action found for name 'order_stats'. Did you mean 'order_status'?"
    );
    let answer = refused(&edited(|b| b["next_action"] = json!("order_status.tell")));
    assert_eq!(answer.status, 404);
}

#[test]
fn a_slot_of_the_wrong_type_is_refused_with_what_to_do() {
    let answer = refused(&edited(|b| b["tracker"]["slots"]["order_id"] = json!(1001)));
    assert_eq!(answer.status, 400);
    assert_eq!(answer.code, Some("rasa_slot_type"));
    assert_eq!(
        answer.body,
        json!({
            "error": "slot `order_id` holds a number, but the parameter `order_id` is a text: \
                      set the slot to a text, or declare the parameter `order_id: any`",
            "action_name": "order_status",
        })
    );
    for (slot, value) in [
        ("wants_sms", json!("yes")),
        ("lookups", json!(true)),
        ("wait_for", json!("soon")),
        ("wait_for", json!(-5)),
        ("wait_for", json!(1.5)),
        ("status", json!(["shipped"])),
    ] {
        let answer = refused(&edited(|b| b["tracker"]["slots"][slot] = value.clone()));
        assert_eq!(answer.code, Some("rasa_slot_type"), "{slot}: {value}");
    }
}

#[test]
fn slots_are_typed_as_their_parameters() {
    let body = edited(|b| {
        let slots = &mut b["tracker"]["slots"];
        slots["lookups"] = json!(3);
        slots["wait_for"] = json!("5m");
        slots["extra"] = json!({ "anything": [1, "two"] });
    });
    let params = call(&body).unwrap().params;
    assert_eq!(params["lookups"], Value::Number(3.0));
    assert_eq!(params["wait_for"], Value::Duration(300_000));
    assert_eq!(params["extra"].to_json(), json!({ "anything": [1, "two"] }));
    let body = edited(|b| b["tracker"]["slots"]["wait_for"] = json!(250));
    assert_eq!(
        call(&body).unwrap().params["wait_for"],
        Value::Duration(250)
    );
}

#[test]
fn malformed_bodies_are_refused_with_a_reason() {
    let program = program();
    let limits = Limits::default();
    let answer = |body: &[u8]| webhook(body, None, &limits, &program).unwrap_err();
    for (body, code, says) in [
        (&b"{"[..], "rasa_malformed", "Invalid body request: EOF"),
        (b"[]", "rasa_malformed", "the body must be a JSON object"),
        (b" null", "rasa_malformed", "the body must be a JSON object"),
        (
            br#"{"next_action":"tell"}"#,
            "rasa_malformed",
            "missing field `tracker`",
        ),
        (
            br#"{"next_action":"tell","tracker":{"sender_id":"1","slots":[]}}"#,
            "rasa_malformed",
            "invalid type: sequence",
        ),
        (
            br#"{"tracker":{"sender_id":"1"}}"#,
            "rasa_no_action",
            "`next_action` is missing",
        ),
        (
            br#"{"next_action":"tell","tracker":{}}"#,
            "rasa_no_sender",
            "`sender_id` is missing",
        ),
        (
            br#"{"next_action":"tell","sender_id":"","tracker":{}}"#,
            "rasa_no_sender",
            "missing or empty",
        ),
        (
            br#"{"next_action":"tell","sender_id":"a\u0000b","tracker":{}}"#,
            "rasa_bad_sender",
            "without a NUL character",
        ),
        (
            br#"{"next_action":"tell","sender_id":"a","tracker":{"sender_id":"b"}}"#,
            "rasa_sender_mismatch",
            "differ",
        ),
    ] {
        let answer = answer(body);
        let text = String::from_utf8_lossy(body);
        assert_eq!(answer.status, 400, "{text}");
        assert_eq!(answer.code, Some(code), "{text}");
        let error = answer.body["error"].as_str().unwrap();
        assert!(error.contains(says), "{text}: {error}");
        // Rasa reads every 400 as a rejection and looks up `action_name`.
        assert!(answer.body.get("action_name").is_some(), "{text}");
    }
    // Nesting past serde_json's limit is an error, not a stack overflow.
    let deep = format!(
        r#"{{"next_action":"tell","tracker":{{"sender_id":"1","slots":{{"extra":{}1{}}}}}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let answer = webhook(deep.as_bytes(), None, &Limits::default(), &program).unwrap_err();
    assert_eq!(answer.code, Some("rasa_malformed"));
    assert!(answer.body["error"]
        .as_str()
        .unwrap()
        .contains("recursion limit"));
}

#[test]
fn sizes_and_encodings_are_bounded() {
    let program = program();
    let small = Limits {
        body_bytes: 1_000,
        slots: 2,
        events: 3,
    };
    let answer = webhook(CALL.as_bytes(), None, &small, &program).unwrap_err();
    assert_eq!((answer.status, answer.code), (413, Some("rasa_too_large")));
    let roomy = Limits {
        body_bytes: CALL.len(),
        ..small
    };
    let answer = webhook(CALL.as_bytes(), None, &roomy, &program).unwrap_err();
    assert_eq!(answer.code, Some("rasa_too_many"));
    assert_eq!(
        answer.body["error"],
        "the tracker holds 5 slots, more than the 2 accepted"
    );
    let answer = webhook(CALL.as_bytes(), Some("gzip"), &Limits::default(), &program).unwrap_err();
    assert_eq!((answer.status, answer.code), (415, Some("rasa_encoding")));
    assert!(webhook(
        CALL.as_bytes(),
        Some("identity"),
        &Limits::default(),
        &program
    )
    .is_ok());
}

fn ran() -> Ran {
    Ran {
        replies: vec![SentReply {
            text: "Order A-1001 is shipped.".into(),
            choices: vec![ChoiceRecord {
                id: "human".into(),
                label: "Talk to a person".into(),
            }],
        }],
        params: vec![
            // What Rasa holds already, what its domain has no slot for, then two new values.
            ("order_id".into(), json!("A-1001")),
            ("lookups".into(), json!(1)),
            ("status".into(), json!("shipped")),
            ("eta".into(), json!("today")),
        ],
    }
}

#[test]
fn what_ran_becomes_slot_events_and_responses_as_rasa_sdk_writes_them() {
    let call = webhook(CALL.as_bytes(), None, &Limits::default(), &program()).unwrap();
    let answer = call.answer(&Outcome::Ran(ran()));
    assert_eq!(answer.status, 200);
    assert_eq!(answer.code, None);
    assert_eq!(
        answer.body,
        json!({
            "events": [
                { "event": "slot", "timestamp": null, "name": "status", "value": "shipped" },
                { "event": "slot", "timestamp": null, "name": "eta", "value": "today" },
            ],
            "responses": [{
                "text": "Order A-1001 is shipped.",
                "buttons": [{ "title": "Talk to a person", "payload": "human" }],
                "elements": [],
                "custom": {},
                "template": null,
                "response": null,
                "image": null,
                "attachment": null,
            }],
        })
    );
}

#[test]
fn without_the_domain_every_changed_parameter_is_sent() {
    // Rasa sends only `domain_digest` once the action server has seen its domain.
    let body = edited(|b| {
        b.as_object_mut().unwrap().remove("domain");
    });
    let answer = call(&body).unwrap().answer(&Outcome::Ran(ran()));
    let names: Vec<&str> = answer.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["lookups", "status", "eta"]);
}

#[test]
fn a_refused_run_is_a_rejection() {
    let call = webhook(CALL.as_bytes(), None, &Limits::default(), &program()).unwrap();
    let answer = call.answer(&Outcome::Refused("the conversation has ended".into()));
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body,
        json!({ "error": "the conversation has ended", "action_name": "order_status" })
    );
    assert_eq!(answer.code, Some("rasa_refused"));
}

#[test]
fn health_and_the_action_list() {
    assert_eq!(health().body, json!({ "status": "ok" }));
    let answer = actions(&program());
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body,
        json!([
            { "name": "order_status" },
            { "name": "order_status.show_status" },
            { "name": "count_lookup" },
            { "name": "note_status" },
            { "name": "tell" },
        ])
    );
    // Every name listed is one `next_action` may take.
    for name in action_names(&program()) {
        let body = edited(|b| b["next_action"] = json!(name));
        assert!(call(&body).is_ok(), "{name}");
    }
}

#[test]
fn the_answer_of_an_event_gives_its_replies_its_says_and_the_params() {
    let answer = json!({
        "replies": [
            { "name": "found", "text": "Order A-1001 is shipped.",
              "choices": [{ "id": "human", "label": "Talk to a person" }] },
        ],
        "commands": [
            { "type": "hold", "message": null, "music": null },
            { "type": "say", "text": "One moment." },
        ],
        "params": { "status": "shipped", "extra": format!("token {REDACTED}") },
    });
    let ran = Ran::from_answer(&answer);
    let texts: Vec<&str> = ran.replies.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(texts, ["Order A-1001 is shipped.", "One moment."]);
    assert_eq!(
        ran.replies[0].choices,
        [ChoiceRecord {
            id: "human".into(),
            label: "Talk to a person".into()
        }]
    );
    assert_eq!(
        ran.params,
        [
            ("status".to_string(), json!("shipped")),
            ("extra".to_string(), json!(format!("token {REDACTED}"))),
        ]
    );
    // An answer of another shape gives nothing rather than failing.
    assert_eq!(Ran::from_answer(&json!(null)), Ran::default());
}

/// The whole path through the real runtime: the call's event runs with the slots in its
/// params, the step's answer is what `agentc serve` gives, and that is Rasa's answer.
async fn run_call(program: &ir::Program, call: &Call) -> Answer {
    let trace = TraceBuffer::new();
    let runtime = Runtime::builder(program.clone())
        .trace(Arc::new(trace.clone()))
        .build()
        .unwrap();
    runtime.send(call.event());
    runtime.settle().await;
    let stepped = crate::serve::journal::Stepped {
        state: runtime.snapshot(&call.conversation).await.unwrap(),
        records: trace.take(),
        retired: false,
    };
    let answer = crate::serve::answer::answer(&call.conversation, &stepped);
    call.answer(&Outcome::Ran(Ran::from_answer(&answer)))
}

#[tokio::test]
async fn a_call_runs_through_the_runtime_and_answers_what_it_did() {
    let program = program();
    let call = webhook(CALL.as_bytes(), None, &Limits::default(), &program).unwrap();
    let answer = run_call(&program, &call).await;
    assert_eq!(
        answer.body["events"],
        json!([
            { "event": "slot", "timestamp": null, "name": "status", "value": "shipped" },
            { "event": "slot", "timestamp": null, "name": "eta", "value": "today" },
        ])
    );
    assert_eq!(
        answer.body["responses"][0]["text"],
        "Order A-1001 is shipped."
    );
    assert_eq!(
        answer.body["responses"][0]["buttons"],
        json!([
            { "title": "Track it", "payload": "Track it" },
            { "title": "Talk to a person", "payload": "human" },
        ])
    );
}

#[test]
fn a_deflated_body_is_read_as_rasa_sends_it_within_the_limit() {
    // Python's `zlib.compress` of the call, as Rasa's COMPRESS_ACTION_SERVER_REQUEST sends.
    let deflated = include_bytes!("testdata/order_status_call.json.zlib");
    let program = program();
    let limits = Limits::default();
    let call = webhook(deflated, Some("deflate"), &limits, &program).unwrap();
    let plain = webhook(CALL.as_bytes(), None, &limits, &program).unwrap();
    assert_eq!(call, plain);
    // It inflates within the body limit: a small body may not swell past it.
    let snug = Limits {
        body_bytes: CALL.len() - 1,
        ..limits
    };
    let answer = webhook(deflated, Some("deflate"), &snug, &program).unwrap_err();
    assert_eq!((answer.status, answer.code), (413, Some("rasa_too_large")));
    let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&vec![b' '; 4 << 20], 6);
    assert!(bomb.len() < 64 << 10, "{}", bomb.len());
    let roomy = Limits {
        body_bytes: 1 << 20,
        ..limits
    };
    let answer = webhook(&bomb, Some("deflate"), &roomy, &program).unwrap_err();
    assert_eq!(answer.code, Some("rasa_too_large"));
    // Plain JSON marked deflate is no zlib stream.
    let answer = webhook(CALL.as_bytes(), Some("deflate"), &limits, &program).unwrap_err();
    assert_eq!(answer.code, Some("rasa_malformed"));
    assert!(answer.body["error"]
        .as_str()
        .unwrap()
        .contains("is no zlib stream"));
}
