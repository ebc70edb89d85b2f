//! A conversation's life from outside (issue 9, points 6, 10, 14 and part of 15): time that
//! cannot overflow, a panic that fails loudly, an ended conversation freed at once and any
//! later event for it reported, use cases and blocks the program lacks reported, and a run
//! that stops cleanly on SIGINT/SIGTERM or when the reader of its trace goes away.

use agentc::check::{check_program, MemoryLoader};
use agentc::diagnostics::SourceMap;
use agentc::ir;
use agentc::ir::Value;
use agentc::runtime::effects::{Executor, TaskError, TaskRequest};
use agentc::runtime::{Environment, Event, Runtime, TraceBuffer, TraceRecord};
use futures::future::BoxFuture;
use serde_json::Value as Json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tempfile::TempDir;

use crate::support::{exit_within, signal};

const CHAT: &str = r#"
agent shop {
    channels: [chat]
    inactivity: 5m
}

reply hello {
    text: "hello"
}

reply still_there {
    text: "still there?"
}

usecase order_status {
    blocks: [ask_order_id, show_status]
}

action greet {
    target: conversation
    task: reply(hello)
}

action nudge {
    target: conversation
    task: reply(still_there)
}

action mark {
    target: conversation
    task: add_label("closed")
}

action label_from_env {
    target: conversation
    task: add_label(env("LABEL"))
}

on message_received do greet
on conversation_inactive do nudge
in usecase order_status do greet
"#;

/// A program that POSTs to `port` on every message.
fn posting(port: u16) -> String {
    format!(
        r#"
agent shop {{
    channels: [chat]
}}

target api: http {{
    base_url: "http://127.0.0.1:{port}"
    allow_hosts: ["127.0.0.1"]
}}

action hit {{
    target: api
    task: post("/hit")
}}

on message_received do hit
"#
    )
}

fn program_dir(source: &str) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("agent.agent"), source).unwrap();
    dir
}

fn line(conversation: &str, event: &str, payload: Json) -> String {
    serde_json::json!({"conversation": conversation, "event": event, "payload": payload})
        .to_string()
        + "\n"
}

fn records(stdout: &[u8]) -> Vec<Json> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn of_type<'a>(records: &'a [Json], kind: &str) -> Vec<&'a Json> {
    records.iter().filter(|r| r["type"] == kind).collect()
}

/// `agentc run DIR --events - --trace json` on `events`.
fn run(dir: &Path, events: String) -> (Vec<Json>, i32) {
    let output = assert_cmd::Command::cargo_bin("agentc")
        .unwrap()
        .args(["run", "--trace", "json", "--events", "-"])
        .arg(dir)
        .write_stdin(events)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    (records(&output.stdout), output.status.code().unwrap_or(-1))
}

// ---------- point 6: time, panics ----------

#[test]
fn a_thousand_maximal_waits_do_not_overflow_the_clock() {
    let dir = program_dir(CHAT);
    let mut events = line("c-1", "conversation_started", Json::Null);
    // The longest wait the input takes: 1,100 of them overflowed a `Duration`.
    let longest = serde_json::json!({"for": "200000000000d"});
    for _ in 0..1_100 {
        events += &line("c-1", "wait", longest.clone());
    }
    events += &line("c-1", "message_received", serde_json::json!({"text": "hi"}));
    let (records, status) = run(dir.path(), events);
    assert_eq!(of_type(&records, "error"), Vec::<&Json>::new());
    let replies = of_type(&records, "reply");
    assert_eq!(replies.last().unwrap()["reply"], "hello");
    assert_eq!(of_type(&records, "end").len(), 1);
    assert_eq!(status, 0);
}

/// An environment with a bug: it panics when `name` is read.
struct Panics(&'static str);

impl Environment for Panics {
    fn var(&self, name: &str) -> Option<String> {
        assert_ne!(name, self.0, "a bug in the environment");
        None
    }
}

fn compile(source: &str) -> ir::Program {
    let mut sources = SourceMap::new();
    let root = sources.add("a.agent", source);
    let checked = check_program(&mut sources, root, &mut MemoryLoader::new());
    checked
        .program
        .unwrap_or_else(|| panic!("{:#?}", checked.diagnostics))
}

fn event(conversation: &str, line: &str) -> Event {
    let json = serde_json::json!({"conversation": conversation, "event": line});
    Event::parse_line(&json.to_string()).unwrap()
}

#[tokio::test]
async fn a_panic_in_a_conversation_is_reported_and_counted_as_a_fault() {
    let trace = TraceBuffer::new();
    let source = CHAT.to_string() + "on conversation_started do label_from_env\n";
    let runtime = Runtime::builder(compile(&source))
        .env(Panics("LABEL"))
        .trace(Arc::new(trace.clone()))
        .build()
        .unwrap();
    runtime.send(event("c-1", "conversation_started"));
    runtime.settle().await;
    assert_eq!(runtime.faults(), 1, "the run fails");
    let errors: Vec<String> = trace
        .records()
        .into_iter()
        .filter_map(|r| match r {
            TraceRecord::Error { message, .. } => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("internal error while handling event #1: assertion"),
        "{}",
        errors[0]
    );
    assert!(
        errors[0].contains("a bug in the environment"),
        "{}",
        errors[0]
    );
    // The conversation goes on.
    runtime.send(event("c-1", "message_received"));
    runtime.settle().await;
    assert_eq!(runtime.snapshot("c-1").await.unwrap().seq, 2);
}

// ---------- points 10 and 15: ended conversations, unknown names ----------

#[tokio::test]
async fn an_ended_conversation_is_freed_at_once_and_later_events_are_reported() {
    let trace = TraceBuffer::new();
    let runtime = Runtime::builder(compile(CHAT))
        .trace(Arc::new(trace.clone()))
        .build()
        .unwrap();
    runtime.send(event("c-1", "conversation_started"));
    runtime.send(event("c-1", "conversation_ended"));
    runtime.settle().await;
    assert_eq!(runtime.conversation_ids(), Vec::<String>::new(), "freed");
    assert!(matches!(
        trace.records().last(),
        Some(TraceRecord::End { .. })
    ));
    assert_eq!(runtime.faults(), 0);
    runtime.send(event("c-1", "message_received"));
    runtime.settle().await;
    assert_eq!(runtime.faults(), 1);
    assert_eq!(
        runtime.conversation_ids(),
        Vec::<String>::new(),
        "not restarted"
    );
    match trace.records().last() {
        Some(TraceRecord::Error {
            conversation,
            message,
            ..
        }) => {
            assert_eq!(conversation.as_deref(), Some("c-1"));
            assert!(
                message.contains("came after the conversation ended"),
                "{message}"
            );
            assert!(message.contains("message_received"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(runtime.finish().await.is_empty(), "no second end record");
}

/// A service that never answers.
struct Hangs;

impl Executor for Hangs {
    fn execute<'a>(&'a self, _: &'a TaskRequest) -> BoxFuture<'a, Result<Value, TaskError>> {
        Box::pin(futures::future::pending())
    }
    fn describe(&self, _: &TaskRequest) -> String {
        "hangs".into()
    }
}

#[tokio::test]
async fn input_read_faster_than_it_is_handled_waits_for_room() {
    let runtime = Runtime::builder(compile(&posting(9)))
        .executor("api", Arc::new(Hangs))
        .build()
        .unwrap();
    let room = || tokio::time::timeout(Duration::from_millis(200), runtime.room());
    for _ in 0..9_999 {
        runtime.send(event("c-1", "message_received"));
    }
    assert!(room().await.is_ok());
    runtime.send(event("c-1", "message_received"));
    assert!(
        room().await.is_err(),
        "10,000 queued events: the reader waits"
    );
}

#[test]
fn events_after_the_end_and_unknown_names_are_errors_of_the_run() {
    let dir = program_dir(CHAT);
    let events = [
        line("c-1", "conversation_started", Json::Null),
        line("c-1", "usecase", serde_json::json!({"name": "order_statu"})),
        line(
            "c-1",
            "block",
            serde_json::json!({"usecase": "order_status", "block": "show_statsu"}),
        ),
        line(
            "c-1",
            "block",
            serde_json::json!({"usecase": "returns", "block": "x"}),
        ),
        line("c-1", "conversation_ended", Json::Null),
        line("c-1", "message_received", serde_json::json!({"text": "hi"})),
    ]
    .concat();
    let (records, status) = run(dir.path(), events);
    let errors: Vec<&str> = of_type(&records, "error")
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert!(errors[0].contains("no use case `order_statu` (did you mean `order_status`?)"));
    assert!(errors[1].contains("no block `show_statsu` (did you mean `show_status`?)"));
    assert!(errors[2].contains("no use case `returns`"));
    assert!(errors[3].contains("`message_received`"), "{}", errors[3]);
    // Refused events are not numbered or run: only the start and the end were.
    assert_eq!(of_type(&records, "event").len(), 2);
    assert!(of_type(&records, "reply").is_empty());
    assert_eq!(status, 1);
}

#[test]
fn after_the_end_a_conversation_still_takes_the_after_the_end_events_it_listens_to() {
    let source = CHAT.to_string() + "on session_ended do mark\n";
    let dir = program_dir(&source);
    let events = [
        line("c-1", "conversation_started", Json::Null),
        line("c-1", "conversation_ended", Json::Null),
        line("c-1", "message_received", serde_json::json!({"text": "hi"})),
        line(
            "c-1",
            "session_ended",
            serde_json::json!({"resolved": true}),
        ),
        line(
            "c-1",
            "session_ended",
            serde_json::json!({"resolved": true}),
        ),
    ]
    .concat();
    let (records, status) = run(dir.path(), events);
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    // The message is refused while the conversation waits for `session_ended`, which runs;
    // then it ends, and the second `session_ended` is refused.
    assert_eq!(
        kinds,
        ["event", "event", "error", "event", "action", "label", "end", "error"]
    );
    assert_eq!(status, 1);
}

#[test]
fn a_conversation_over_says_so_and_only_chat_and_voice_go_inactive() {
    let source = CHAT.replace("channels: [chat]", "channels: [chat, email]")
        + "on session_ended, conversation_ended do mark\n";
    let dir = program_dir(&source);
    let wait = serde_json::json!({"for": "10m"});
    let events = [
        line("c-1", "message_received", serde_json::json!({"text": "hi"})),
        line("c-1", "wait", wait.clone()),
        line(
            "c-1",
            "session_ended",
            serde_json::json!({"resolved": true}),
        ),
        line(
            "e-1",
            "ticket_received",
            serde_json::json!({"ticket_id": "T-1"}),
        ),
        line("e-1", "wait", wait),
        line(
            "e-1",
            "ticket_processed",
            serde_json::json!({"ticket_id": "T-1"}),
        ),
    ]
    .concat();
    let (records, status) = run(dir.path(), events);
    let inactive: Vec<&Json> = records
        .iter()
        .filter(|r| r["event"] == "conversation_inactive")
        .collect();
    // The chat went idle before its session ended; an email conversation never does.
    assert_eq!(inactive.len(), 1, "{records:#?}");
    assert_eq!(inactive[0]["conversation"], "c-1");
    let ends: Vec<(&str, &str)> = of_type(&records, "end")
        .iter()
        .map(|r| {
            (
                r["conversation"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(ends, [("c-1", "ended"), ("e-1", "ended")], "{records:#?}");
    assert_eq!(status, 0, "{records:#?}");
}

#[test]
fn a_test_that_sends_an_event_after_the_end_fails() {
    let source = CHAT.to_string()
        + r#"
test "talks after the end" {
    send conversation_started
    send conversation_ended
    send message_received { text: "still here?" }
    expect reply hello
}
"#;
    let dir = program_dir(&source);
    let output = assert_cmd::Command::cargo_bin("agentc")
        .unwrap()
        .arg("test")
        .arg(dir.path())
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("the runtime could not handle this event"),
        "{text}"
    );
    assert!(text.contains("came after the conversation ended"), "{text}");
}

// ---------- point 14: signals, a reader that goes away ----------

/// A loopback HTTP server that counts requests and answers each after `delay` (never,
/// with `None`: it holds the connection for 30 s).
fn server(delay: Option<Duration>) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let counted = counted.clone();
            std::thread::spawn(move || answer(stream, &counted, delay));
        }
    });
    (port, count)
}

fn answer(mut stream: TcpStream, count: &AtomicUsize, delay: Option<Duration>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut length = 0;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 {
            return;
        }
        let lower = header.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        if header == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    count.fetch_add(1, Ordering::SeqCst);
    std::thread::sleep(delay.unwrap_or(Duration::from_secs(30)));
    let _ = stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
}

fn spawn_run(dir: &Path, extra: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("agentc"))
        .args(["run", "--trace", "json", "--events", "-"])
        .args(extra)
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_until(what: &str, limit: Duration, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for the run to exit (killing it past `limit`), and returns how, with its output
/// (its records: none if the test took its standard output).
fn exit_of(mut child: Child, limit: Duration) -> (ExitStatus, Vec<Json>, String) {
    let Some(status) = exit_within(&mut child, limit) else {
        let _ = child.kill();
        panic!("the run did not stop within {limit:?}");
    };
    let mut stdout = Vec::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_end(&mut stdout).unwrap();
    }
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status, records(&stdout), stderr)
}

#[test]
fn sigterm_lets_the_running_action_finish_then_ends_every_conversation() {
    let (port, requests) = server(Some(Duration::from_millis(600)));
    let dir = program_dir(&posting(port));
    let mut child = spawn_run(dir.path(), &[]);
    let mut stdin = child.stdin.take().unwrap();
    let message = line("c-1", "message_received", serde_json::json!({"text": "hi"}));
    // The second message waits behind the first, whose request the server holds.
    stdin.write_all(message.repeat(2).as_bytes()).unwrap();
    stdin.flush().unwrap();
    wait_until("the first request", Duration::from_secs(30), || {
        requests.load(Ordering::SeqCst) == 1
    });
    signal(&child, "TERM");
    // Standard input stays open: the run must stop reading by itself.
    let (status, records, stderr) = exit_of(child, Duration::from_secs(20));
    drop(stdin);
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("terminated (SIGTERM)"), "{stderr}");
    let actions = of_type(&records, "action");
    assert_eq!(actions.len(), 1, "{records:?}");
    assert_eq!(actions[0]["status"], "ok", "the running action finished");
    let errors = of_type(&records, "error");
    assert_eq!(errors.len(), 1, "{records:?}");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.contains("1 queued event was not handled"),
        "{message}"
    );
    assert_eq!(records.last().unwrap()["type"], "end");
    assert_eq!(requests.load(Ordering::SeqCst), 1);
}

#[test]
fn an_action_still_running_after_the_grace_period_is_abandoned() {
    let (port, requests) = server(None);
    let dir = program_dir(&posting(port));
    let mut child = spawn_run(dir.path(), &["--grace", "300ms"]);
    let mut stdin = child.stdin.take().unwrap();
    let message = line("c-1", "message_received", serde_json::json!({"text": "hi"}));
    stdin.write_all(message.as_bytes()).unwrap();
    stdin.flush().unwrap();
    wait_until("the request", Duration::from_secs(30), || {
        requests.load(Ordering::SeqCst) == 1
    });
    let sent = Instant::now();
    signal(&child, "TERM");
    let (status, records, stderr) = exit_of(child, Duration::from_secs(20));
    drop(stdin);
    assert!(
        sent.elapsed() < Duration::from_secs(8),
        "bounded by the grace"
    );
    assert_eq!(status.code(), Some(143), "{stderr}");
    let errors = of_type(&records, "error");
    assert_eq!(errors.len(), 1, "{records:?}");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(message.contains("event #1 was abandoned"), "{message}");
    assert_eq!(records.last().unwrap()["type"], "end");
}

#[test]
fn a_reader_that_goes_away_stops_the_run() {
    let (port, requests) = server(Some(Duration::ZERO));
    let dir = program_dir(&posting(port));
    let mut child = spawn_run(dir.path(), &[]);
    let mut stdin = child.stdin.take().unwrap();
    let message = line("c-1", "message_received", serde_json::json!({"text": "hi"}));
    stdin.write_all(message.repeat(2_000).as_bytes()).unwrap();
    drop(stdin);
    // The reader takes one line and leaves.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    drop(stdout);
    let (status, _, stderr) = exit_of(child, Duration::from_secs(60));
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("standard output was closed"), "{stderr}");
    let sent = requests.load(Ordering::SeqCst);
    assert!(
        sent < 100,
        "{sent} of 2000 requests sent after the reader left"
    );
}
