//! What a client cannot make the server do: hold it with a slow request, take more than
//! its share, or send to a conversation that ended; and what a restart keeps: timers.

use super::support::{client, counting_service, get, post, program, Server};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const STARTED: &str = r#"{"conversation":"c-1","event":"conversation_started"}"#;
const MESSAGE: &str =
    r#"{"conversation":"c-1","event":"message_received","payload":{"text":"late"}}"#;

fn address(server: &Server) -> String {
    server.url.trim_start_matches("http://").to_string()
}

/// Sends `bytes`, then reads what comes back until the server closes (bounded).
fn exchange(server: &Server, bytes: &[u8]) -> (String, Duration) {
    let mut stream = TcpStream::connect(address(server)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    stream.write_all(bytes).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn a_slow_client_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    program(dir.path(), "127.0.0.1:9".parse().unwrap(), "Hello");
    let server = Server::start(
        dir.path(),
        &["--header-timeout", "300ms", "--body-timeout", "300ms"],
    );
    let (answer, took) = exchange(&server, b"POST /v1/events HTTP/1.1\r\nHost: x\r\n");
    assert!(
        !answer.contains("200 OK") && took < Duration::from_secs(5),
        "{answer} {took:?}"
    );
    let (answer, took) = exchange(
        &server,
        b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{",
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_concurrency_limit_a_request_gets_503_and_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let (service, counts, behaviour) = counting_service();
    program(dir.path(), service, "Hello");
    let server = Server::start(dir.path(), &["--max-concurrent", "1"]);
    let http = client();
    post(&http, &server.url, STARTED).await.unwrap();
    *behaviour.delay.lock().unwrap() = Duration::from_millis(1000);
    let url = server.url.clone();
    let slow = tokio::spawn(async move { post(&client(), &url, MESSAGE).await });
    counts.wait_for(1).await; // the request is in flight at the service
    let response = http
        .post(format!("{}/v1/events", server.url))
        .body(r#"{"conversation":"c-2","event":"conversation_started"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["error"]["code"], "overloaded");
    assert_eq!(slow.await.unwrap().unwrap().0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_that_ended_takes_no_more_events_but_its_last_is_answered_again() {
    let dir = tempfile::tempdir().unwrap();
    let (service, _, _) = counting_service();
    program(dir.path(), service, "Hello");
    let mut server = Server::start(dir.path(), &[]);
    let http = client();
    post(&http, &server.url, STARTED).await.unwrap();
    let end = r#"{"id":"e-1","conversation":"c-1","event":"conversation_ended","payload":{"reason":"done"}}"#;
    let (status, first) = post(&http, &server.url, end).await.unwrap();
    assert_eq!(
        (status, &first["ended"]),
        (200, &serde_json::json!(true)),
        "{first}"
    );
    // After a restart too: the store knows it ended.
    drop(server);
    server = Server::start(dir.path(), &[]);
    let (status, answer) = post(&http, &server.url, MESSAGE).await.unwrap();
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("conversation_ended"))
    );
    assert_eq!(post(&http, &server.url, end).await.unwrap(), (200, first));
}

/// A program that nudges a conversation idle for `inactivity`.
fn nudging(dir: &std::path::Path, inactivity: &str) {
    let source = format!(
        r#"agent idle {{
  channels: [chat]
  inactivity: {inactivity}
}}

reply nudge {{ text: "Still there?" }}

on conversation_inactive reply nudge
"#
    );
    std::fs::write(dir.join("desk.agent"), source).unwrap();
}

/// Whether `conversation_inactive` fired in `c-1`.
async fn inactive(http: &reqwest::Client, server: &Server) -> bool {
    let trace = format!("{}/v1/conversations/c-1/trace", server.url);
    let (_, page) = get(http, &trace).await;
    let records = page["records"].as_array().cloned().unwrap_or_default();
    records
        .iter()
        .any(|r| r["event"] == "conversation_inactive")
}

/// Waits (bounded) until `conversation_inactive` fired; how long that took.
async fn until_inactive(http: &reqwest::Client, server: &Server, within: Duration) -> Duration {
    let began = Instant::now();
    while began.elapsed() < within {
        if inactive(http, server).await {
            return began.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("conversation_inactive did not fire within {within:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inactivity_timer_that_fell_due_while_the_server_was_down_fires_as_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    nudging(dir.path(), "3s");
    let server = Server::start(dir.path(), &[]);
    let http = client();
    assert_eq!(post(&http, &server.url, STARTED).await.unwrap().0, 200);
    drop(server); // SIGKILL before the timer is due
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let server = Server::start(dir.path(), &[]);
    let took = until_inactive(&http, &server, Duration::from_secs(10)).await;
    assert!(took < Duration::from_millis(1500), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inactivity_timer_survives_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    nudging(dir.path(), "1s");
    let server = Server::start(dir.path(), &[]);
    let http = client();
    assert_eq!(post(&http, &server.url, STARTED).await.unwrap().0, 200);
    drop(server); // SIGKILL before the timer is due
    let server = Server::start(dir.path(), &[]);
    until_inactive(&http, &server, Duration::from_secs(5)).await;
    let (_, page) = get(&http, &format!("{}/v1/conversations/c-1/trace", server.url)).await;
    let records = page["records"].as_array().cloned().unwrap_or_default();
    assert!(
        records.iter().any(|r| r["text"] == "Still there?"),
        "{records:?}"
    );
}

/// A program that nudges after 1s idle and listens for `conversation_ended`, which keeps a
/// conversation after `session_ended`.
fn nudging_to_the_end(dir: &std::path::Path) {
    nudging(dir, "1s");
    let program = dir.join("desk.agent");
    let source = std::fs::read_to_string(&program).unwrap()
        + r#"
action mark {
  target: conversation
  task: add_label("closed")
}

on conversation_ended do mark
"#;
    std::fs::write(&program, source).unwrap();
}

/// Starts `c-1` and ends its session.
async fn end_the_session(http: &reqwest::Client, server: &Server) {
    assert_eq!(post(http, &server.url, STARTED).await.unwrap().0, 200);
    let session = r#"{"conversation":"c-1","event":"session_ended","payload":{"resolved":true}}"#;
    let (status, answer) = post(http, &server.url, session).await.unwrap();
    assert_eq!(
        (status, &answer["status"]),
        (200, &"ended".into()),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_session_has_no_inactivity_timer_evicted_or_restarted() {
    let dir = tempfile::tempdir().unwrap();
    nudging_to_the_end(dir.path());
    let server = Server::start(dir.path(), &["--evict-after", "100ms"]);
    let http = client();
    end_the_session(&http, &server).await;
    // Evicted meanwhile, and past the time its timer was due.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!inactive(&http, &server).await);
    drop(server);
    let server = Server::start(dir.path(), &[]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!inactive(&http, &server).await);
    let (_, state) = get(&http, &format!("{}/v1/conversations/c-1", server.url)).await;
    assert_eq!(state["status"], "ended", "{state}");
    // Still over when read back: a message is not handled.
    let (_, answer) = post(&http, &server.url, MESSAGE).await.unwrap();
    assert!(
        answer["errors"]
            .to_string()
            .contains("came after the conversation ended"),
        "{answer}"
    );
}

/// A state journaled before an after-the-end event made the status `ended` still says
/// `active`: read back, it is `ended` all the same, and its inactivity timer does not fire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ended_before_ended_was_journaled_fires_no_timer_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    nudging_to_the_end(dir.path());
    let server = Server::start(dir.path(), &[]);
    let http = client();
    end_the_session(&http, &server).await;
    drop(server);
    // As the agentc of before wrote it: still active, idle since it started.
    {
        use sqlx::Connection;
        let path = dir.path().join("journal.sqlite");
        let mut db = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let old: (String, String) = sqlx::query_as(
            "UPDATE conversations SET state = json_set(state, '$.status', 'active'),
             status = 'active' WHERE id = 'c-1' RETURNING state, status",
        )
        .fetch_one(&mut db)
        .await
        .unwrap();
        let state: serde_json::Value = serde_json::from_str(&old.0).unwrap();
        assert!(!state["idle_since"].is_null(), "{state}");
        assert_eq!(state["after_end"], serde_json::json!(["session_ended"]));
    }
    let server = Server::start(dir.path(), &[]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!inactive(&http, &server).await);
    let (_, state) = get(&http, &format!("{}/v1/conversations/c-1", server.url)).await;
    assert_eq!(state["status"], "ended", "{state}");
}
