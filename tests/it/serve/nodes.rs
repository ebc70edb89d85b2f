//! Several `agentc serve` nodes on one PostgreSQL database: one conversation handled by one
//! node at a time, in order, and taken over when its node dies.

use super::support::{
    client, counting_service, fresh_postgres, get, in_flight, post, program, Server,
};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const STARTED: &str = r#"{"id":"d-1","conversation":"c-1","event":"conversation_started","payload":{"user":{"name":"Ana"}}}"#;
const MESSAGE: &str = r#"{"id":"d-2","conversation":"c-1","event":"message_received","payload":{"text":"my order is late"}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_events_are_journaled_answered_and_deduplicated() {
    let Some(store) = fresh_postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (service, counts, _) = counting_service();
    program(dir.path(), service, "Hello");
    let http = client();
    let server = Server::start_on(dir.path(), &store, &[], &[]);
    let (status, answer) = post(&http, &server.url, STARTED).await.unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["replies"],
        json!([{"name": "hello", "text": "Hello Ana"}])
    );
    let (status, opened) = post(&http, &server.url, MESSAGE).await.unwrap();
    assert_eq!(status, 200, "{opened}");
    assert_eq!(opened["actions"][0]["status"], "ok", "{opened}");
    // A restart (the schema is there already) answers a delivery seen before from the store.
    drop(server);
    let server = Server::start_on(dir.path(), &store, &[], &[]);
    let (status, again) = post(&http, &server.url, MESSAGE).await.unwrap();
    assert_eq!((status, &again), (200, &opened));
    assert_eq!(counts.all().values().sum::<u32>(), 1, "{:?}", counts.all());
    let (status, conversation) = get(&http, &format!("{}/v1/conversations/c-1", server.url)).await;
    assert_eq!((status, &conversation["seq"]), (200, &json!(2)));
    let (_, trace) = get(&http, &format!("{}/v1/conversations/c-1/trace", server.url)).await;
    assert_eq!(trace["records"].as_array().unwrap().len(), 4, "{trace}");
    let (status, _) = get(&http, &format!("{}/readyz", server.url)).await;
    assert_eq!(status, 200);
}

fn message(m: usize) -> String {
    format!(
        r#"{{"id":"m-{m}","conversation":"shared","event":"message_received","payload":{{"text":"m{m}"}}}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_a_conversation_in_order_and_one_killed_mid_way_is_taken_over() {
    const MESSAGES: usize = 12;
    const KILLED_AT: usize = 6;
    let Some(store) = fresh_postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (service, counts, behaviour) = counting_service();
    program(dir.path(), service, "Hello");
    let http = client();
    let lease = ["--lease", "1s"];
    let mut nodes = [
        Server::start_on(dir.path(), &store, &lease, &[]),
        Server::start_on(dir.path(), &store, &lease, &[]),
    ];
    let started = r#"{"id":"m-0","conversation":"shared","event":"conversation_started"}"#;
    assert_eq!(post(&http, &nodes[0].url, started).await.unwrap().0, 200);
    let mut tickets = Vec::new();
    for m in 1..=MESSAGES {
        let node = m % 2;
        if m == KILLED_AT {
            // This event is journaled and its ticket is being opened when its node dies.
            let cut = in_flight(&behaviour, &counts, &nodes[node].url, &message(m), m as u32).await;
            let _ = nodes[node].child.kill(); // SIGKILL
            let _ = nodes[node].child.wait();
            assert!(cut.await.unwrap().is_err(), "no answer was given");
            behaviour.hang.store(false, Ordering::SeqCst);
            // The platform re-sends it to the node alive; that one waits out the lease,
            // finishes what the dead node accepted, and answers.
            let other = &nodes[1 - node];
            let began = Instant::now();
            let (status, answer) = post(&http, &other.url, &message(m)).await.unwrap();
            assert_eq!(status, 200, "{answer}");
            assert!(
                began.elapsed() < Duration::from_secs(5),
                "{:?}",
                began.elapsed()
            );
            let error = answer["actions"][0]["error"].as_str().unwrap_or_default();
            assert!(error.starts_with("outcome unknown"), "{answer}");
            // A new node replaces the dead one.
            nodes[node] = Server::start_on(dir.path(), &store, &lease, &[]);
            continue;
        }
        let (status, answer) = post(&http, &nodes[node].url, &message(m)).await.unwrap();
        assert_eq!(status, 200, "m{m} at node {node}: {answer}");
        assert_eq!(answer["actions"][0]["status"], "ok", "{answer}");
        tickets.push(answer["params"]["ticket"]["body"]["id"].clone());
    }
    // Every event handled once, in the order sent, whichever node ran it.
    let (_, trace) = get(
        &http,
        &format!("{}/v1/conversations/shared/trace", nodes[0].url),
    )
    .await;
    let records = trace["records"].as_array().unwrap();
    let seqs: Vec<u64> = records
        .iter()
        .filter(|r| r["type"] == "event")
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (1..=MESSAGES as u64 + 1).collect::<Vec<_>>(),
        "{records:?}"
    );
    // The journal holds each event once, numbered in the order sent, each answered.
    use sqlx::Connection;
    let mut db = sqlx::PgConnection::connect(&store).await.unwrap();
    let journaled: Vec<(i64, String, bool)> = sqlx::query_as(
        "SELECT n, body, answer IS NOT NULL FROM events WHERE conversation = 'shared' ORDER BY n",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    let texts: Vec<String> = journaled
        .iter()
        .skip(1)
        .map(|(_, body, _)| {
            let body: serde_json::Value = serde_json::from_str(body).unwrap();
            body["payload"]["text"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    let sent: Vec<String> = (1..=MESSAGES).map(|m| format!("m{m}")).collect();
    assert_eq!(texts, sent);
    let numbers: Vec<i64> = journaled.iter().map(|(n, _, _)| *n).collect();
    assert_eq!(numbers, (1..=MESSAGES as i64 + 1).collect::<Vec<_>>());
    assert!(journaled.iter().all(|(_, _, answered)| *answered));
    // One request per idempotency key, and one per event (the cut-off one was not re-sent).
    let all = counts.all();
    assert!(all.values().all(|&n| n == 1), "{all:?}");
    assert_eq!(all.len(), MESSAGES, "{all:?}");
    // Each node's answer saw the tickets the other opened: one state, passed along.
    let (_, conversation) = get(&http, &format!("{}/v1/conversations/shared", nodes[1].url)).await;
    assert_eq!(conversation["seq"], MESSAGES as u64 + 1);
    assert_eq!(
        &conversation["params"]["ticket"]["body"]["id"],
        tickets.last().unwrap()
    );
}

/// A program whose `conversation_inactive`, a second after the last message, sends a nudge
/// (a POST with a side effect) to the counting service.
fn nudging(dir: &std::path::Path, service: std::net::SocketAddr) {
    let source = format!(
        r#"agent desk {{
  channels: [chat]
  inactivity: 1s
  params: {{ nudge: record }}
}}

target api: http {{
  base_url: "http://{service}"
  allow_hosts: ["127.0.0.1"]
}}

reply hello {{ text: "Hello" }}

on conversation_started reply hello
on conversation_inactive do nudge

action nudge {{
  target: api
  task: post("/nudges", body: {{ text: "Still there?" }})
  save: nudge
}}
"#
    );
    std::fs::write(dir.join("desk.agent"), source).unwrap();
}

/// How many times `conversation` fired `conversation_inactive`, as journaled.
async fn inactive_events(http: &reqwest::Client, node: &Server, conversation: &str) -> usize {
    let url = format!("{}/v1/conversations/{conversation}/trace", node.url);
    let (_, trace) = get(http, &url).await;
    let records = trace["records"].as_array().cloned().unwrap_or_default();
    records
        .iter()
        .filter(|r| r["type"] == "event" && r["event"] == "conversation_inactive")
        .count()
}

/// Waits (bounded) for the service's first request; how long it took.
async fn first_request(counts: &super::support::Counts, within: Duration) -> Duration {
    let began = Instant::now();
    while counts.all().is_empty() {
        assert!(began.elapsed() < within, "no request within {within:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    began.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_of_two_nodes_that_both_ran_the_conversation_fires_once() {
    let Some(store) = fresh_postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (service, counts, _) = counting_service();
    nudging(dir.path(), service);
    let http = client();
    let lease = ["--lease", "1s"];
    let nodes = [
        Server::start_on(dir.path(), &store, &lease, &[]),
        Server::start_on(dir.path(), &store, &lease, &[]),
    ];
    // Each node holds the conversation in memory, each with the timer it armed.
    let started = r#"{"id":"t-1","conversation":"idle","event":"conversation_started"}"#;
    let message =
        r#"{"id":"t-2","conversation":"idle","event":"message_received","payload":{"text":"hi"}}"#;
    assert_eq!(post(&http, &nodes[0].url, started).await.unwrap().0, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(post(&http, &nodes[1].url, message).await.unwrap().0, 200);
    first_request(&counts, Duration::from_secs(5)).await;
    // Both nodes' timers are long past due, and sweeps have run.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all = counts.all();
    assert_eq!(all.values().sum::<u32>(), 1, "{all:?}");
    assert_eq!(inactive_events(&http, &nodes[0], "idle").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_whose_node_died_fires_once_on_another_node() {
    let Some(store) = fresh_postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (service, counts, _) = counting_service();
    nudging(dir.path(), service);
    let http = client();
    let lease = ["--lease", "1s"];
    let mut dying = Server::start_on(dir.path(), &store, &lease, &[]);
    let alive = Server::start_on(dir.path(), &store, &lease, &[]);
    let started = r#"{"id":"t-1","conversation":"idle","event":"conversation_started"}"#;
    assert_eq!(post(&http, &dying.url, started).await.unwrap().0, 200);
    // Killed before its timer is due: only the store knows the timer now.
    let _ = dying.child.kill(); // SIGKILL
    let _ = dying.child.wait();
    let took = first_request(&counts, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let all = counts.all();
    assert_eq!(all.values().sum::<u32>(), 1, "{all:?}, after {took:?}");
    assert_eq!(inactive_events(&http, &alive, "idle").await, 1);
    let (_, conversation) = get(&http, &format!("{}/v1/conversations/idle", alive.url)).await;
    assert!(
        conversation["params"]["nudge"]["body"]["id"].is_string(),
        "{conversation}"
    );
}

/// A conversation journaled before the store kept a due time (`due_at` NULL, as before
/// migration 2 or under a program without inactivity) whose node died: the node that starts
/// dates its timer, and its sweep fires it once the dead node's lease passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_journaled_without_a_due_time_fires_on_another_node_after_its_node_died() {
    let Some(store) = fresh_postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("desk.agent"),
        "agent idle {\n  channels: [chat]\n  inactivity: 2s\n}\n\nreply nudge { text: \"Still \
         there?\" }\n\non conversation_inactive reply nudge\n",
    )
    .unwrap();
    let http = client();
    let lease = ["--lease", "1s"];
    let first = Server::start_on(dir.path(), &store, &lease, &[]);
    let started = r#"{"conversation":"c-1","event":"conversation_started"}"#;
    assert_eq!(post(&http, &first.url, started).await.unwrap().0, 200);
    drop(first); // SIGKILL before the timer is due
    {
        use sqlx::Connection;
        let mut db = sqlx::PgConnection::connect(&store).await.unwrap();
        // As an agentc of before journaled it, and still held by the node that died.
        sqlx::query("UPDATE conversations SET due_at = NULL")
            .execute(&mut db)
            .await
            .unwrap();
        sqlx::query("UPDATE leases SET expires_at = now() + interval '1500 milliseconds'")
            .execute(&mut db)
            .await
            .unwrap();
    }
    let second = Server::start_on(dir.path(), &store, &lease, &[]);
    let trace = format!("{}/v1/conversations/c-1/trace", second.url);
    let began = Instant::now();
    loop {
        let (_, page) = get(&http, &trace).await;
        let records = page["records"].as_array().cloned().unwrap_or_default();
        if records.iter().any(|r| r["text"] == "Still there?") {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(8),
            "the timer did not fire: {records:?}\n{}",
            second.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
