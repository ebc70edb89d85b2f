//! Values a chat user or a service can make grow: every value a conversation builds or keeps
//! stays within the value bounds (depth 64, 32 MiB; 64 MiB per conversation state), a breach
//! fails that action with a message saying which limit, and the process goes on. Numbers
//! stay finite.

use assert_cmd::Command;
use serde_json::Value as Json;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

const AGENT: &str = r#"
agent hostile {
    channels: [chat]
    params: {
        history: any
        grown: any
        total: number
    }
}
"#;

/// Runs `program` (after [`AGENT`]) on `events` with a JSON trace; the process must exit
/// on its own with status 0 and every conversation must end.
fn run(program: &str, events: &[String]) -> Vec<Json> {
    run_with_status(program, events, 0)
}

/// [`run`], for a run that must exit with `status` (1: an event was refused).
fn run_with_status(program: &str, events: &[String], status: i32) -> Vec<Json> {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "agent.agent", &format!("{AGENT}{program}"));
    write(dir.path(), "events.jsonl", &events.join("\n"));
    let output = Command::cargo_bin("agentc")
        .unwrap()
        .current_dir(dir.path())
        .args([
            "run",
            "agent.agent",
            "--events",
            "events.jsonl",
            "--trace",
            "json",
        ])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(status), "stderr: {stderr}");
    let records: Vec<Json> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert!(
        records.iter().any(|r| r["type"] == "end"),
        "no end record: {stderr}"
    );
    records
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn messages(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(r#"{{"conversation":"c-1","event":"message_received","payload":{{"text":"message {i}"}}}}"#)
        })
        .collect()
}

/// The errors of the failed runs of `action`, in order.
fn failures<'r>(records: &'r [Json], action: &str) -> Vec<&'r str> {
    records
        .iter()
        .filter(|r| r["type"] == "action" && r["action"] == action && r["status"] == "failed")
        .map(|r| r["error"].as_str().unwrap())
        .collect()
}

fn successes(records: &[Json], action: &str) -> usize {
    records
        .iter()
        .filter(|r| r["type"] == "action" && r["action"] == action && r["status"] == "ok")
        .count()
}

#[test]
fn history_nested_across_events_fails_the_set_at_the_depth_limit() {
    // Before: the stack overflowed after about 4,300 messages and the process aborted.
    let program = r#"
action remember {
    target: conversation
    task: set(history: { text: event.text, before: history })
}

on message_received do remember
"#;
    let records = run(program, &messages(10_000));
    assert_eq!(successes(&records, "remember"), 64);
    let failed = failures(&records, "remember");
    assert_eq!(failed.len(), 10_000 - 64);
    assert!(
        failed[0].contains("the value nests more than 64 lists or records deep"),
        "{}",
        failed[0]
    );
}

#[test]
fn a_deep_literal_per_message_stops_at_the_depth_limit() {
    // Before: a 100-deep literal stored per message aborted the process after 43 messages.
    let mut literal = "history".to_string();
    for _ in 0..40 {
        literal = format!("[{literal}]");
    }
    let program = format!(
        "action remember {{\n    target: conversation\n    task: set(history: [event.text, {literal}])\n}}\n\non message_received do remember\n"
    );
    let records = run(&program, &messages(300));
    // 41 levels per message: the first fits, the second would nest 82 deep.
    assert_eq!(successes(&records, "remember"), 1);
    assert_eq!(failures(&records, "remember").len(), 299);
}

#[test]
fn lists_doubled_through_any_stop_at_the_size_limit() {
    // Before: `+` on `any` lists skipped the list limit: 22 events, 940 MB.
    let program = r#"
action double {
    target: conversation
    task: set(grown: (grown ?? ["0123456789abcdef"]) + (grown ?? ["0123456789abcdef"]))
}

on message_received do double
"#;
    let records = run(program, &messages(40));
    let failed = failures(&records, "double");
    assert!(!failed.is_empty());
    assert!(
        failed[0].contains("list longer than 100000 items")
            || failed[0].contains("more than 32 MiB of memory"),
        "{}",
        failed[0]
    );
    assert_eq!(successes(&records, "double") + failed.len(), 40);
}

#[test]
fn records_doubled_through_any_stop_at_the_size_limit() {
    // Before: `{a: r, b: r}` took 1 GB after 20 events.
    let program = r#"
action double {
    target: conversation
    task: set(grown: { a: grown ?? "0123456789abcdef", b: grown ?? "0123456789abcdef" })
}

on message_received do double
"#;
    let records = run(program, &messages(40));
    let failed = failures(&records, "double");
    assert!(!failed.is_empty());
    // Depth grows with size here: whichever bound breaks first is named.
    assert!(
        failed[0].contains("more than 32 MiB of memory")
            || failed[0].contains("more than 64 lists or records deep"),
        "{}",
        failed[0]
    );
}

#[test]
fn a_payload_too_deep_is_reported_and_the_event_skipped() {
    let mut deep = "1".to_string();
    for _ in 0..100 {
        deep = format!("[{deep}]");
    }
    let events = vec![
        format!(
            r#"{{"conversation":"c-1","event":"message_received","payload":{{"text":"x","deep":{deep}}}}}"#
        ),
        messages(1).remove(0),
    ];
    let program = r#"
action count {
    target: conversation
    task: increment(total)
}

on message_received do count
"#;
    // A refused event fails the run, as a malformed line does.
    let records = run_with_status(program, &events, 1);
    let error = records
        .iter()
        .find(|r| r["type"] == "error")
        .expect("an error record");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("event `message_received` ignored")
            && message.contains("more than 64 lists or records deep"),
        "{message}"
    );
    // The next event is handled as usual.
    assert_eq!(successes(&records, "count"), 1);
}

#[test]
fn scopes_and_params_grown_by_events_stop_at_the_value_and_state_limits() {
    // Each event adds 500 kB: first new fields of `user` until it is as large as one value
    // may be, then items of two lists until the state as a whole is as large as it may be.
    let big = "x".repeat(500_000);
    let user = (0..70).map(|i| {
        format!(r#"{{"conversation":"c-1","event":"message_received","payload":{{"user":{{"f{i}":"{big}"}}}}}}"#)
    });
    let texts = (0..40).map(|_| {
        format!(
            r#"{{"conversation":"c-1","event":"message_received","payload":{{"text":"{big}"}}}}"#
        )
    });
    let program = r#"
action keep {
    target: conversation
    task: push(history, event.text)
    when: event.text != null
}

action keep_too {
    target: conversation
    task: push(grown, event.text)
    when: event.text != null
}

on message_received do keep, keep_too
"#;
    let records = run(program, &user.chain(texts).collect::<Vec<_>>());
    let errors: Vec<&str> = records
        .iter()
        .filter(|r| r["type"] == "error")
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert!(!errors.is_empty());
    assert!(
        errors[0].contains("the event's `user` is not kept")
            && errors[0].contains("more than 32 MiB of memory"),
        "{}",
        errors[0]
    );
    let failed = failures(&records, "keep_too");
    assert!(!failed.is_empty());
    assert!(
        failed[0].contains("cannot store it in `grown`")
            && failed[0].contains("the conversation's state would take more than 64 MiB"),
        "{}",
        failed[0]
    );
}

#[test]
fn overflowing_arithmetic_fails_instead_of_becoming_null() {
    // 1e20 to the 16th, and 1e308 written out: the language has no exponents.
    let program = r#"
action overflow {
    target: conversation
    task: set(total: 100000000000000000000 * 100000000000000000000 * 100000000000000000000 * 100000000000000000000 * 100000000000000000000 * 100000000000000000000 * 100000000000000000000 * 100000000000000000000 * 100000000000000000000 * 100000000000000000000 * 100000000000000000000 * 100000000000000000000 * 100000000000000000000 * 100000000000000000000 * 100000000000000000000 * 100000000000000000000)
}

action grow {
    target: conversation
    task: increment(total, by: 100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000)
}

on message_received do overflow
on message_received do grow
"#;
    let records = run(program, &messages(2));
    let overflow = failures(&records, "overflow");
    assert_eq!(overflow.len(), 2);
    assert!(overflow[0].contains("`*` overflows"), "{}", overflow[0]);
    // 1e308 fits; twice that does not.
    assert_eq!(successes(&records, "grow"), 1);
    let grow = failures(&records, "grow");
    assert!(grow[0].contains("`increment` overflows"), "{}", grow[0]);
    let end = records.iter().find(|r| r["type"] == "end").unwrap();
    assert_eq!(end["params"]["total"], 1e308);
}

/// Serves `body` as JSON to every request on a loopback port, in a thread, for `requests`
/// requests.
fn serve_json(body: Vec<u8>, requests: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let Ok(mut stream) = stream else { continue };
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    port
}

fn http_program(port: u16) -> String {
    format!(
        r#"
target api: http {{
    base_url: "http://127.0.0.1:{port}"
    allow_hosts: ["127.0.0.1"]
}}

task fetch() on api {{
    method: GET
    path: "/answer"
}}

action load {{
    target: api
    task: fetch()
    save: grown
}}

on message_received do load
"#
    )
}

#[test]
fn a_huge_json_answer_fails_the_action_within_the_size_limit() {
    // 9.6 MB of small records: before, it became 542 MB resident.
    let item = br#"{"id":12345,"name":"abcdefgh","ok":true},"#;
    let mut body = b"[".to_vec();
    while body.len() < 9_600_000 {
        body.extend_from_slice(item);
    }
    body.extend_from_slice(b"{}]");
    let port = serve_json(body, 1);
    let records = run(&http_program(port), &messages(1));
    let failed = failures(&records, "load");
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].contains("the answer: the value takes more than 32 MiB of memory"),
        "{}",
        failed[0]
    );
}

#[test]
fn a_json_answer_too_deep_or_out_of_range_fails_the_action() {
    let mut deep = "1".to_string();
    for _ in 0..100 {
        deep = format!("[{deep}]");
    }
    for (body, expected) in [
        (deep.as_str(), "more than 64 lists or records deep"),
        (r#"{"amount": 1e400}"#, "number out of range"),
    ] {
        let port = serve_json(body.as_bytes().to_vec(), 1);
        let records = run(&http_program(port), &messages(1));
        let failed = failures(&records, "load");
        assert_eq!(failed.len(), 1, "{body}");
        assert!(failed[0].contains(expected), "{}", failed[0]);
    }
}

#[test]
fn an_infinite_number_from_a_database_fails_the_action() {
    // SQLite reads `9e999` as infinity; it became `null` in the saved value and the trace.
    let program = r#"
target db: sql {
    url: "sqlite://numbers.sqlite"
}

action read {
    target: db
    task: query("SELECT 9e999 AS amount")
    save: grown
}

on message_received do read
"#;
    let records = run(program, &messages(1));
    let failed = failures(&records, "read");
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].contains("column `amount`: the value is not a finite number"),
        "{}",
        failed[0]
    );
}

#[test]
fn operations_on_a_value_as_deep_as_allowed_need_little_stack() {
    use agentc::ir::Value;
    use agentc::runtime::{Limits, Redactor};
    use indexmap::IndexMap;
    let bounds = Limits::default().value;
    // A quarter of a tokio worker's stack: every recursive operation fits with room to spare.
    let worker = std::thread::Builder::new().stack_size(512 * 1024);
    let handle = worker.spawn(move || {
        let mut value = Value::Text("s3cr3t-token".into());
        for level in 0..bounds.max_depth {
            value = if level % 2 == 0 {
                Value::List(vec![value, Value::Number(1.5)])
            } else {
                Value::Record(IndexMap::from([("k".to_string(), value)]))
            };
        }
        assert_eq!(value.measure(&bounds).unwrap().depth, bounds.max_depth);
        let mut copy = value.clone();
        assert_eq!(copy, value);
        let redactor = Redactor::default();
        redactor.register("s3cr3t-token");
        redactor.redact_value(&mut copy);
        assert_ne!(copy, value);
        let shown = value.to_string();
        assert!(shown.contains("s3cr3t-token"));
        assert_eq!(serde_json::to_string(&value.to_json()).unwrap(), shown);
        assert!(serde_json::to_string(&value).is_ok());
        drop(copy);
        drop(value);
    });
    handle.unwrap().join().unwrap();
}
