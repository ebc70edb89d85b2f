//! `agentc serve`: the real binary, a real SQLite journal and a counting local service.

mod crash;
mod limits;
mod memory;
mod nodes;
mod outage;
mod rasa;
mod retain;
pub mod support;

use serde_json::json;
use std::time::Duration;
use support::{client, counting_service, get, metrics, post, program, Server};

const STARTED: &str = r#"{"id":"d-1","conversation":"c-1","event":"conversation_started","payload":{"user":{"name":"Ana"}}}"#;
const MESSAGE: &str = r#"{"id":"d-2","conversation":"c-1","event":"message_received","payload":{"text":"my order is late"}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_is_answered_with_what_it_produced_and_a_delivery_seen_before_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (service, counts, _) = counting_service();
    program(dir.path(), service, "Hello");
    let server = Server::start(dir.path(), &[]);
    let http = client();
    let (status, answer) = post(&http, &server.url, STARTED).await.unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["replies"],
        json!([{"name": "hello", "text": "Hello Ana"}])
    );
    assert_eq!(answer["status"], "active");
    let (status, answer) = post(&http, &server.url, MESSAGE).await.unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["actions"],
        json!([{"name": "open_ticket", "status": "ok", "attempts": 1, "error": null}])
    );
    assert_eq!(answer["params"]["ticket"]["body"]["id"], "T-1");
    // Sent again: the first answer, and the service sees nothing more.
    let (status, again) = post(&http, &server.url, MESSAGE).await.unwrap();
    assert_eq!((status, &again), (200, &answer));
    assert_eq!(counts.all().values().sum::<u32>(), 1, "{:?}", counts.all());

    let (status, conversation) = get(&http, &format!("{}/v1/conversations/c-1", server.url)).await;
    assert_eq!(status, 200);
    assert_eq!(conversation["params"]["ticket"], answer["params"]["ticket"]);
    assert_eq!(conversation["seq"], 2);
    let (_, trace) = get(&http, &format!("{}/v1/conversations/c-1/trace", server.url)).await;
    let kinds: Vec<_> = trace["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["event", "reply", "event", "action"]);
    let (status, health) = get(&http, &format!("{}/readyz", server.url)).await;
    assert_eq!((status, health), (200, json!({"status": "ready"})));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_a_coded_error_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (service, counts, _) = counting_service();
    program(dir.path(), service, "Hello");
    let server = Server::start(dir.path(), &["--max-body", "2000"]);
    let http = client();
    let long = format!(
        r#"{{"conversation":"c-9","event":"message_received","payload":{{"text":"{}"}}}}"#,
        "x".repeat(3000)
    );
    let cases = [
        ("{", 400, "malformed_json"),
        (
            r#"{"conversation":"c-9","conversation":"c-8","event":"message_received"}"#,
            400,
            "malformed_json",
        ),
        (r#"{"event":"message_received"}"#, 422, "invalid_event"),
        (
            r#"{"conversation":"c-9","event":"mesage_received"}"#,
            422,
            "unknown_event",
        ),
        (
            r#"{"conversation":"c-9","event":"message_received","payload":{"text":42}}"#,
            422,
            "invalid_payload",
        ),
        (
            r#"{"conversation":"c-9","event":"message_received","payload":{"params":{"ticket":"abc"}}}"#,
            422,
            "invalid_payload",
        ),
        (
            r#"{"conversation":"c-9","event":"message_received","payload":{"params":{"tickt":{}}}}"#,
            422,
            "invalid_payload",
        ),
        (
            r#"{"conversation":"c-9","event":"usecase","payload":{"name":"refunds"}}"#,
            422,
            "refused_event",
        ),
        (&long, 413, "body_too_large"),
    ];
    for (body, status, code) in cases {
        let (got, answer) = post(&http, &server.url, body).await.unwrap();
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{body:.80}: {answer}"
        );
        assert!(answer["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    let (_, unknown) = post(
        &http,
        &server.url,
        r#"{"conversation":"c","event":"mesage_received"}"#,
    )
    .await
    .unwrap();
    assert!(unknown["error"]["message"]
        .as_str()
        .unwrap()
        .contains("did you mean `message_received`"));
    let (_, wrong) = post(
        &http,
        &server.url,
        r#"{"conversation":"c","event":"message_received","payload":{"params":{"ticket":"abc"}}}"#,
    )
    .await
    .unwrap();
    assert_eq!(
        wrong["error"]["message"],
        "`payload.params.ticket`: cannot store a text in `ticket`, a record parameter"
    );
    let (_, unknown) = post(
        &http,
        &server.url,
        r#"{"conversation":"c","event":"message_received","payload":{"params":{"tickt":{}}}}"#,
    )
    .await
    .unwrap();
    assert!(unknown["error"]["message"]
        .as_str()
        .unwrap()
        .contains("did you mean `ticket`"));
    let (status, answer) = get(&http, &format!("{}/v1/conversations/c-9", server.url)).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (404, Some("unknown_conversation"))
    );
    let (status, answer) = get(&http, &format!("{}/v2/nothing", server.url)).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    assert!(counts.all().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_token_or_signature_is_required_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let (service, _, _) = counting_service();
    program(dir.path(), service, "Hello");
    let token = "tok-5ecret-77";
    let secret = "sign-5ecret-88";
    let server = Server::start(dir.path(), &["--token", token, "--signing-secret", secret]);
    let http = client();
    let send = |headers: Vec<(&'static str, String)>, body: &'static str| {
        let mut request = http.post(format!("{}/v1/events", server.url)).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, answer) = send(vec![], STARTED).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (401, Some("bad_signature"))
    );
    let (status, answer) = send(vec![("authorization", "Bearer nope".into())], STARTED).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, _) = send(vec![("authorization", format!("Bearer {token}"))], STARTED).await;
    assert_eq!(status, 200);
    let now = jiff::Timestamp::now().as_second().to_string();
    let signed = agentc::serve::signature(secret, &now, MESSAGE.as_bytes());
    let (status, answer) = send(
        vec![
            ("x-agentc-timestamp", now.clone()),
            ("x-agentc-signature", signed.clone()),
        ],
        MESSAGE,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = send(
        vec![("x-agentc-timestamp", now), ("x-agentc-signature", signed)],
        STARTED,
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (401, Some("bad_signature"))
    );
    let old = (jiff::Timestamp::now().as_second() - 3600).to_string();
    let stale = agentc::serve::signature(secret, &old, STARTED.as_bytes());
    let (status, answer) = send(
        vec![("x-agentc-timestamp", old), ("x-agentc-signature", stale)],
        STARTED,
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (401, Some("stale_signature"))
    );
    // Health needs no token.
    assert_eq!(get(&http, &format!("{}/healthz", server.url)).await.0, 200);
    let journal = std::fs::read(dir.path().join("journal.sqlite")).unwrap_or_default();
    let text = String::from_utf8_lossy(&journal).into_owned() + &server.stderr();
    assert!(!text.contains(token) && !text.contains(secret));
}

#[test]
fn off_loopback_it_needs_a_token_and_check_validates_without_serving() {
    let dir = tempfile::tempdir().unwrap();
    program(dir.path(), "127.0.0.1:9".parse().unwrap(), "Hello");
    let run = |args: &[&str]| {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("agentc"))
            .current_dir(dir.path())
            .args(["serve", "desk.agent"])
            .args(args)
            .output()
            .unwrap()
    };
    let refused = run(&["--listen", "0.0.0.0:0", "--store", "sqlite://j.sqlite"]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("refusing to listen on 0.0.0.0:0 without a token"),
        "{stderr}"
    );
    let checked = run(&["--check", "--store", "sqlite://j.sqlite"]);
    assert_eq!(
        checked.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let postgres = run(&["--check", "--store", "postgres://localhost/x"]);
    assert_eq!(postgres.status.code(), Some(1));
    // Flags come from AGENTC_* variables too.
    let env = std::process::Command::new(assert_cmd::cargo::cargo_bin("agentc"))
        .current_dir(dir.path())
        .args(["serve", "desk.agent", "--check"])
        .env("AGENTC_LISTEN", "0.0.0.0:0")
        .output()
        .unwrap();
    assert_eq!(env.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_deadline_the_answer_says_what_still_runs_and_the_event_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (service, _, behaviour) = counting_service();
    *behaviour.delay.lock().unwrap() = Duration::from_millis(1500);
    program(dir.path(), service, "Hello");
    let server = Server::start(dir.path(), &["--deadline", "200ms"]);
    let http = client();
    post(&http, &server.url, STARTED).await.unwrap();
    let (status, answer) = post(&http, &server.url, MESSAGE).await.unwrap();
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["done"], false);
    assert_eq!(answer["running"][0]["task"], "post", "{answer}");
    // Asked again once it finished: its answer.
    for _ in 0..100 {
        let (status, again) = post(&http, &server.url, MESSAGE).await.unwrap();
        if status == 200 {
            assert_eq!(again["params"]["ticket"]["body"]["id"], "T-1");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the event never finished");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_request_in_flight_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let (service, counts, behaviour) = counting_service();
    program(dir.path(), service, "Hello");
    let mut server = Server::start(dir.path(), &[]);
    let http = client();
    post(&http, &server.url, STARTED).await.unwrap();
    *behaviour.delay.lock().unwrap() = Duration::from_millis(800);
    let url = server.url.clone();
    let in_flight = tokio::spawn(async move { post(&client(), &url, MESSAGE).await });
    counts.wait_for(1).await; // the request is in flight at the service
    server.signal("TERM");
    let (status, answer) = in_flight.await.unwrap().unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["params"]["ticket"]["body"]["id"], "T-1");
    assert_eq!(
        server.wait(Duration::from_secs(10)),
        Some(0),
        "{}",
        server.stderr()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_a_program_that_checks_and_keeps_the_old_one_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let (service, _, _) = counting_service();
    program(dir.path(), service, "Hello");
    let server = Server::start(dir.path(), &[]);
    let http = client();
    let started = |c: &str| {
        format!(
            r#"{{"conversation":"{c}","event":"conversation_started","payload":{{"user":{{"name":"Ana"}}}}}}"#
        )
    };
    let reply =
        |answer: serde_json::Value| answer["replies"][0]["text"].as_str().unwrap().to_string();
    assert_eq!(
        reply(post(&http, &server.url, &started("a")).await.unwrap().1),
        "Hello Ana"
    );
    program(dir.path(), service, "Welcome");
    server.signal("HUP");
    let mut reloaded = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if server.stderr().contains("reloaded the program") {
            reloaded = true;
            break;
        }
    }
    assert!(reloaded, "{}", server.stderr());
    assert_eq!(
        reply(post(&http, &server.url, &started("b")).await.unwrap().1),
        "Welcome Ana"
    );
    // Conversation `a` moved to the new program with its state.
    let (status, _) = post(
        &http,
        &server.url,
        r#"{"conversation":"a","event":"message_received","payload":{"text":"hi"}}"#,
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    std::fs::write(dir.path().join("desk.agent"), "agent broken {").unwrap();
    server.signal("HUP");
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if server.stderr().contains("reload refused") {
            break;
        }
    }
    assert!(
        server.stderr().contains("reload refused"),
        "{}",
        server.stderr()
    );
    assert_eq!(
        reply(post(&http, &server.url, &started("c")).await.unwrap().1),
        "Welcome Ana"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_json_lines_with_log_format_json() {
    let dir = tempfile::tempdir().unwrap();
    let (service, _, _) = counting_service();
    program(dir.path(), service, "Hello");
    let mut server = Server::start(dir.path(), &["--log-format", "json"]);
    server.signal("TERM");
    assert_eq!(server.wait(Duration::from_secs(10)), Some(0));
    let logs = server.stderr();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("open"))),
        "{logs}"
    );
    assert!(
        lines.iter().any(|l| l["fields"]["message"] == "listening"),
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_a_service_echoes_reaches_no_answer_log_or_stored_row() {
    const CANARY: &str = "canary-5ecret-4417";
    let dir = tempfile::tempdir().unwrap();
    let (service, _, _) = counting_service();
    let source = format!(
        r#"agent desk {{
  channels: [chat]
  params: {{ ticket: record }}
}}

target api: http {{
  base_url: "http://{service}"
  allow_hosts: ["127.0.0.1"]
  auth: bearer(secret("API_TOKEN"))
}}

on message_received do open_ticket

action open_ticket {{
  target: api
  task: post("/tickets", body: {{ subject: event.text }})
  save: ticket
}}
"#
    );
    std::fs::write(dir.path().join("desk.agent"), source).unwrap();
    let server = Server::start_with_env(dir.path(), &[], &[("API_TOKEN", CANARY)]);
    let http = client();
    let typed = format!(
        r#"{{"conversation":"c-1","event":"message_received","payload":{{"text":"my key is {CANARY}"}}}}"#
    );
    let (status, answer) = post(&http, &server.url, &typed).await.unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["params"]["ticket"]["body"]["echo"],
        "Bearer [redacted]"
    );
    let (_, trace) = get(&http, &format!("{}/v1/conversations/c-1/trace", server.url)).await;
    let (_, state) = get(&http, &format!("{}/v1/conversations/c-1", server.url)).await;
    let logs = server.stderr();
    drop(server);
    let mut seen = answer.to_string() + &trace.to_string() + &state.to_string() + &logs;
    for file in ["journal.sqlite", "journal.sqlite-wal"] {
        let bytes = std::fs::read(dir.path().join(file)).unwrap_or_default();
        seen += &String::from_utf8_lossy(&bytes);
    }
    assert!(seen.contains("[redacted]"));
    assert!(!seen.contains(CANARY), "the secret was stored or shown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_events_actions_and_commits() {
    let dir = tempfile::tempdir().unwrap();
    let (service, _, _) = counting_service();
    program(dir.path(), service, "Hello");
    let server = Server::start(dir.path(), &[]);
    let http = client();
    post(&http, &server.url, STARTED).await.unwrap();
    post(&http, &server.url, MESSAGE).await.unwrap();
    post(&http, &server.url, MESSAGE).await.unwrap();
    post(&http, &server.url, "{").await.unwrap();
    let text = metrics(&http, &server.url).await;
    for line in [
        "agentc_http_requests_total{route=\"/v1/events\",status=\"200\"} 3",
        "agentc_http_requests_total{route=\"/v1/events\",status=\"400\"} 1",
        "agentc_events_total{outcome=\"done\"} 2",
        "agentc_events_total{outcome=\"duplicate\"} 1",
        "agentc_actions_total{status=\"ok\"} 1",
        "agentc_event_duration_seconds_count 3",
        "agentc_events_in_flight 0",
        "agentc_conversation_workers 1",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
    }
    let commits = text
        .lines()
        .find_map(|l| l.strip_prefix("agentc_store_commit_duration_seconds_count "))
        .unwrap();
    assert!(commits.parse::<u64>().unwrap() >= 2, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_streams_the_trace_as_server_sent_events_until_the_end() {
    use futures::StreamExt;
    let dir = tempfile::tempdir().unwrap();
    let (service, _, _) = counting_service();
    program(dir.path(), service, "Hello");
    let server = Server::start(dir.path(), &[]);
    let http = client();
    post(&http, &server.url, STARTED).await.unwrap();
    let response = http
        .get(format!(
            "{}/v1/conversations/c-1/trace?follow=true",
            server.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let reading = tokio::spawn(async move {
        let mut text = String::new();
        let mut stream = response.bytes_stream();
        while let Some(Ok(chunk)) = stream.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
        text
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let end = r#"{"conversation":"c-1","event":"conversation_ended","payload":{"reason":"bye"}}"#;
    assert_eq!(post(&http, &server.url, end).await.unwrap().0, 200);
    let text = tokio::time::timeout(Duration::from_secs(10), reading)
        .await
        .expect("the stream ends after the end record")
        .unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["event", "reply", "event", "end"], "{text}");
    assert!(
        text.contains("event: record\n") && text.contains("id: 1\n"),
        "{text}"
    );
}
