//! Idle conversations leave memory and come back from the store; what one costs in memory;
//! how fast a server with 10,000 live conversations serves again after `kill -9`.

use super::support::{
    client, counting_service, fresh_postgres, get, metrics, post, program, Server,
};
use serde_json::json;
use std::time::{Duration, Instant};

const STARTED: &str = r#"{"id":"d-1","conversation":"c-1","event":"conversation_started","payload":{"user":{"name":"Ana"}}}"#;
const MESSAGE: &str =
    r#"{"id":"d-2","conversation":"c-1","event":"message_received","payload":{"text":"late"}}"#;
const LOOKUP: &str =
    r#"{"id":"d-3","conversation":"c-1","event":"usecase","payload":{"name":"lookup"}}"#;

/// The `agentc_conversation_workers` gauge: conversations held in memory.
async fn in_memory(http: &reqwest::Client, server: &Server) -> u64 {
    let text = metrics(http, &server.url).await;
    text.lines()
        .find_map(|l| l.strip_prefix("agentc_conversation_workers "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no gauge in {text}"))
}

/// Waits (bounded) until no conversation is held in memory.
async fn until_evicted(http: &reqwest::Client, server: &Server) {
    for _ in 0..200 {
        if in_memory(http, server).await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("still in memory: {}", server.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_conversation_leaves_memory_and_its_next_event_reads_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let (service, counts, _) = counting_service();
    program(dir.path(), service, "Hello");
    let server = Server::start(dir.path(), &["--evict-after", "200ms"]);
    let http = client();
    post(&http, &server.url, STARTED).await.unwrap();
    let (_, opened) = post(&http, &server.url, MESSAGE).await.unwrap();
    assert_eq!(in_memory(&http, &server).await, 1);
    until_evicted(&http, &server).await;
    let (status, answer) = post(&http, &server.url, LOOKUP).await.unwrap();
    assert_eq!(status, 200, "{answer}");
    // It went on from its journaled state: the ticket it opened, its third event.
    assert_eq!(answer["params"]["ticket"], opened["params"]["ticket"]);
    let (_, conversation) = get(&http, &format!("{}/v1/conversations/c-1", server.url)).await;
    assert_eq!(conversation["seq"], 3);
    assert_eq!(in_memory(&http, &server).await, 1);
    // A delivery seen before is still answered from the store, the service not called.
    until_evicted(&http, &server).await;
    assert_eq!(post(&http, &server.url, MESSAGE).await.unwrap().1, opened);
    assert_eq!(counts.get("GET /tickets/T-1"), 1, "{:?}", counts.all());
    assert_eq!(counts.all().len(), 2, "{:?}", counts.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evicted_conversation_comes_back_when_its_inactivity_timer_is_due() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("desk.agent"),
        r#"agent desk {
  channels: [chat]
  inactivity: 1s
}

reply hello { text: "Hello" }
reply bye { text: "Still there?" }

on conversation_started reply hello
on conversation_inactive reply bye
"#,
    )
    .unwrap();
    let server = Server::start(dir.path(), &["--evict-after", "100ms"]);
    let http = client();
    let started = r#"{"conversation":"c-1","event":"conversation_started"}"#;
    assert_eq!(post(&http, &server.url, started).await.unwrap().0, 200);
    until_evicted(&http, &server).await;
    let began = Instant::now();
    let replies = loop {
        let (_, trace) = get(&http, &format!("{}/v1/conversations/c-1/trace", server.url)).await;
        let replies: Vec<_> = trace["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["type"] == "reply")
            .map(|r| r["reply"].clone())
            .collect();
        if replies.len() == 2 || began.elapsed() > Duration::from_secs(10) {
            break replies;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        replies,
        [json!("hello"), json!("bye")],
        "{}",
        server.stderr()
    );
}

/// Resident memory of a process, in bytes.
fn resident(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

/// Starts `count` conversations, `concurrency` at a time.
async fn start_conversations(server: &Server, count: usize, concurrency: usize) {
    let http = client();
    let mut senders = Vec::new();
    for lane in 0..concurrency {
        let (http, url) = (http.clone(), server.url.clone());
        senders.push(tokio::spawn(async move {
            for c in (lane..count).step_by(concurrency) {
                let event = format!(
                    r#"{{"conversation":"idle-{c}","event":"conversation_started","payload":{{"user":{{"name":"U{c}"}}}}}}"#
                );
                let (status, answer) = post(&http, &url, &event).await.unwrap();
                assert_eq!(status, 200, "{answer}");
            }
        }));
    }
    for sender in senders {
        sender.await.unwrap();
    }
}

/// ≤ 10 KB per idle conversation held in memory: the server's resident memory with 5,000
/// more (each greeted once, so with a user, a reply and a state), over 5,000.
/// `cargo test --release --test it serve::memory -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run it on a quiet machine (see the doc comment)"]
async fn an_idle_conversation_in_memory_costs_at_most_10_kb() {
    const MORE: usize = 5_000;
    let dir = tempfile::tempdir().unwrap();
    let (service, _, _) = counting_service();
    program(dir.path(), service, "Hello");
    let server = Server::start(dir.path(), &["--evict-after", "1h"]);
    // Warm up: allocator arenas, the store's caches, the HTTP connections.
    start_conversations(&server, 1_000, 16).await;
    let before = resident(server.child.id());
    start_conversations(&server, 1_000 + MORE, 16).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = resident(server.child.id());
    assert_eq!(in_memory(&client(), &server).await, (1_000 + MORE) as u64);
    let each = after.saturating_sub(before) / MORE as u64;
    eprintln!("{each} bytes per idle conversation in memory ({before} → {after} bytes resident)");
    assert!(each <= 10 * 1024, "{each} bytes");
}

/// Writes `count` live conversations into a SQLite journal, each a copy of `c-1`'s state.
async fn seed_sqlite(path: &std::path::Path, count: usize) {
    use sqlx::Connection;
    let mut db = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query(
        "WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < ?)
         INSERT INTO conversations (id, state, status, retired, updated_at)
         SELECT 'live-' || n, json_set(state, '$.id', 'live-' || n,
                '$.instance', printf('%032x', n)), status, 0, updated_at
         FROM i, conversations WHERE id = 'c-1'",
    )
    .bind(count as i64)
    .execute(&mut db)
    .await
    .unwrap();
}

async fn seed_postgres(url: &str, count: usize) {
    use sqlx::Connection;
    let mut db = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query(
        "INSERT INTO conversations (id, state, status, retired, updated_at)
         SELECT 'live-' || n, jsonb_set(jsonb_set(state::jsonb, '{id}', to_jsonb('live-' || n)),
                '{instance}', to_jsonb(lpad(to_hex(n), 32, '0')))::text, status, FALSE, updated_at
         FROM generate_series(1, $1) AS n, conversations WHERE id = 'c-1'",
    )
    .bind(count as i32)
    .execute(&mut db)
    .await
    .unwrap();
}

/// Starts a server on `store`, kills it with SIGKILL, and times the restart: from the
/// process spawned to a seeded conversation's event answered.
async fn restart_time(dir: &std::path::Path, store: &str) -> Duration {
    let http = client();
    let server = Server::start_on(dir, store, &[], &[]);
    drop(server); // SIGKILL, with every conversation loaded
    let began = Instant::now();
    let server = Server::start_on(dir, store, &[], &[]);
    let event =
        r#"{"conversation":"live-777","event":"message_received","payload":{"text":"back"}}"#;
    let (status, answer) = post(&http, &server.url, event).await.unwrap();
    let took = began.elapsed();
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["params"]["ticket"]["body"]["id"].as_str().is_some(),
        "{answer}"
    );
    took
}

/// Restart after `kill -9` with 10,000 live conversations: serving again in < 2 s.
/// `cargo test --release --test it serve::memory -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run it on a quiet machine (see the doc comment)"]
async fn a_restart_with_10000_live_conversations_serves_again_within_2_s() {
    const LIVE: usize = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let (service, _, _) = counting_service();
    program(dir.path(), service, "Hello");
    let http = client();
    let mut stores = vec![("sqlite", "sqlite://journal.sqlite".to_string())];
    stores.extend(fresh_postgres().await.map(|url| ("postgres", url)));
    for (name, store) in stores {
        let server = Server::start_on(dir.path(), &store, &[], &[]);
        assert_eq!(post(&http, &server.url, STARTED).await.unwrap().0, 200);
        drop(server);
        match name {
            "sqlite" => seed_sqlite(&dir.path().join("journal.sqlite"), LIVE).await,
            _ => seed_postgres(&store, LIVE).await,
        }
        let took = restart_time(dir.path(), &store).await;
        eprintln!("{name}: serving again {took:?} after kill -9 with {LIVE} live conversations");
        assert!(took < Duration::from_secs(2), "{name}: {took:?}");
    }
}
