//! The store going away and coming back: `agentc serve` reaches PostgreSQL through a proxy
//! the test cuts, or another process locks its SQLite file. Meanwhile nothing hangs and
//! nothing is accepted; once back, every event acknowledged is there and its side effect
//! was done once.

use super::support::{
    address_of, client, counting_service, fresh_postgres, get, post, program, Proxy, Server,
};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Longer than a few of the store's 2 s timeouts, shorter than a hang.
const PROMPT: Duration = Duration::from_secs(6);

fn message(id: &str, text: &str) -> String {
    format!(
        r#"{{"id":"{id}","conversation":"c-1","event":"message_received","payload":{{"text":"{text}"}}}}"#
    )
}

/// Asks `/readyz` until it is ready (bounded).
async fn ready_again(http: &reqwest::Client, server: &str) {
    let began = Instant::now();
    loop {
        let (got, answer) = get(http, &format!("{server}/readyz")).await;
        if got == 200 {
            return;
        }
        assert!(began.elapsed() < PROMPT, "/readyz still {got}: {answer}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_cut_off_refuses_events_at_once_and_once_back_nothing_acknowledged_is_lost() {
    let Some(store) = fresh_postgres().await else {
        return;
    };
    let proxy = Proxy::start(address_of(&store)).await;
    let dir = tempfile::tempdir().unwrap();
    let (service, counts, behaviour) = counting_service();
    program(dir.path(), service, "Hello");
    let http = client();
    let server = Server::start_on(dir.path(), &proxy.url(&store), &["--deadline", "3s"], &[]);
    let started = r#"{"id":"d-1","conversation":"c-1","event":"conversation_started"}"#;
    assert_eq!(post(&http, &server.url, started).await.unwrap().0, 200);
    let (status, first) = post(&http, &server.url, &message("d-2", "one"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{first}");

    // An event is journaled and its ticket is being opened when the store goes away.
    *behaviour.delay.lock().unwrap() = Duration::from_secs(1);
    let url = server.url.clone();
    let in_flight =
        tokio::spawn(async move { post(&client(), &url, &message("d-3", "two")).await });
    counts.wait_for(2).await;
    proxy.cut();
    let began = Instant::now();
    let (status, ready) = get(&http, &format!("{}/readyz", server.url)).await;
    assert_eq!(
        (status, &ready["error"]["code"]),
        (503, &json!("not_ready"))
    );
    assert!(began.elapsed() < PROMPT, "{:?}", began.elapsed());
    // Its answer waits for its step to be journaled: past the deadline, it is still running.
    let (status, running) = in_flight.await.unwrap().unwrap();
    assert_eq!(
        (status, &running["done"]),
        (202, &json!(false)),
        "{running}"
    );
    // New events, of that conversation or another, are refused promptly: not accepted.
    let new = r#"{"id":"e-1","conversation":"c-2","event":"conversation_started"}"#;
    for event in [message("d-4", "three").as_str(), new] {
        let began = Instant::now();
        let (status, refused) = post(&http, &server.url, event).await.unwrap();
        assert_eq!(
            (status, &refused["error"]["code"]),
            (503, &json!("store_unavailable")),
            "{refused}"
        );
        assert!(began.elapsed() < PROMPT, "{:?}", began.elapsed());
    }
    assert_eq!(counts.all().values().sum::<u32>(), 2, "{:?}", counts.all());

    proxy.restore();
    ready_again(&http, &server.url).await;
    *behaviour.delay.lock().unwrap() = Duration::ZERO;
    // The event in flight was acknowledged (202): its answer is there, its ticket opened once.
    let (status, answer) = post(&http, &server.url, &message("d-3", "two"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["actions"][0]["status"], "ok", "{answer}");
    assert_eq!(answer["params"]["ticket"]["body"]["id"], "T-2", "{answer}");
    // The events refused were not journaled: sent again, they run now.
    let (status, third) = post(&http, &server.url, &message("d-4", "three"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{third}");
    assert_eq!(third["params"]["ticket"]["body"]["id"], "T-3", "{third}");
    assert_eq!(post(&http, &server.url, new).await.unwrap().0, 200);
    // What was answered before the cut is kept.
    assert_eq!(
        post(&http, &server.url, &message("d-2", "one"))
            .await
            .unwrap(),
        (200, first)
    );

    // A cut while nothing is written (as a database restarting) costs no event: the
    // connections it closed are opened again.
    proxy.cut();
    tokio::time::sleep(Duration::from_millis(200)).await;
    proxy.restore();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let other = r#"{"id":"f-1","conversation":"c-3","event":"conversation_started"}"#;
    let (status, answer) = post(&http, &server.url, other).await.unwrap();
    assert_eq!(status, 200, "{answer}");

    // A restart finds nothing left to finish: every step was journaled, each event once.
    drop(server);
    let server = Server::start_on(dir.path(), &store, &[], &[]);
    assert_eq!(
        post(&http, &server.url, &message("d-4", "three"))
            .await
            .unwrap(),
        (200, third)
    );
    let (_, trace) = get(&http, &format!("{}/v1/conversations/c-1/trace", server.url)).await;
    let seqs: Vec<&Value> = trace["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "event")
        .map(|r| &r["seq"])
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4], "{trace}");
    let all = counts.all();
    assert!(all.values().all(|&n| n == 1), "each key sent once: {all:?}");
    assert_eq!(all.len(), 3, "{all:?}");
}

/// A SQLite journal does not go away (the server holds the file open), but its writes can
/// fail: here another process holds the file's write lock past the writer's 5 s wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_journal_locked_by_another_process_refuses_events_and_owes_the_step_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let (service, counts, behaviour) = counting_service();
    program(dir.path(), service, "Hello");
    let http = client();
    let server = Server::start(dir.path(), &["--deadline", "3s"]);
    let started = r#"{"id":"d-1","conversation":"c-1","event":"conversation_started"}"#;
    assert_eq!(post(&http, &server.url, started).await.unwrap().0, 200);
    *behaviour.delay.lock().unwrap() = Duration::from_secs(1);
    let url = server.url.clone();
    let in_flight =
        tokio::spawn(async move { post(&client(), &url, &message("d-2", "one")).await });
    counts.wait_for(1).await;
    let lock = rusqlite::Connection::open(dir.path().join("journal.sqlite")).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let (status, running) = in_flight.await.unwrap().unwrap();
    assert_eq!(
        (status, &running["done"]),
        (202, &json!(false)),
        "{running}"
    );
    let new = r#"{"id":"e-1","conversation":"c-2","event":"conversation_started"}"#;
    let (status, refused) = post(&http, &server.url, new).await.unwrap();
    assert_eq!(
        (status, &refused["error"]["code"]),
        (503, &json!("store_unavailable")),
        "{refused}"
    );
    // `/readyz` writes nothing, so it does not see the lock.
    assert_eq!(get(&http, &format!("{}/readyz", server.url)).await.0, 200);
    lock.execute_batch("ROLLBACK").unwrap();
    // The step owed is journaled within a retry; until then the event is not answered.
    let began = Instant::now();
    let answer = loop {
        match post(&http, &server.url, &message("d-2", "one"))
            .await
            .unwrap()
        {
            (200, answer) => break answer,
            (status, answer) => {
                assert!(began.elapsed() < PROMPT, "{status}: {answer}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    assert_eq!(answer["actions"][0]["status"], "ok", "{answer}");
    assert_eq!(post(&http, &server.url, new).await.unwrap().0, 200);
    drop(server);
    let server = Server::start(dir.path(), &[]);
    assert_eq!(
        post(&http, &server.url, &message("d-2", "one"))
            .await
            .unwrap(),
        (200, answer)
    );
    let (_, trace) = get(&http, &format!("{}/v1/conversations/c-1/trace", server.url)).await;
    let events = trace["records"].as_array().unwrap().iter();
    let seqs: Vec<&Value> = events
        .filter(|r| r["type"] == "event")
        .map(|r| &r["seq"])
        .collect();
    assert_eq!(seqs, [1, 2], "{trace}");
    assert_eq!(counts.all().values().sum::<u32>(), 1, "{:?}", counts.all());
}

/// `program`, whose `conversation_inactive`, a second after the last event, replies (no
/// side effect: its step needs the journal only).
fn inactive_program(dir: &std::path::Path, service: std::net::SocketAddr) {
    let file = program(dir, service, "Hello");
    let source = std::fs::read_to_string(&file).unwrap().replacen(
        "channels: [chat]",
        "channels: [chat]\n  inactivity: 1s",
        1,
    ) + "\non conversation_inactive reply sorry\n";
    std::fs::write(&file, source).unwrap();
}

/// The events journaled in `conversation`'s trace, by name.
async fn journaled_events(
    http: &reqwest::Client,
    server: &Server,
    conversation: &str,
) -> Vec<String> {
    let url = format!("{}/v1/conversations/{conversation}/trace", server.url);
    let (_, trace) = get(http, &url).await;
    let records = trace["records"].as_array().cloned().unwrap_or_default();
    records
        .iter()
        .filter(|r| r["type"] == "event")
        .map(|r| r["event"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_that_falls_due_while_the_journal_is_locked_fires_and_its_step_is_owed_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (service, counts, behaviour) = counting_service();
    inactive_program(dir.path(), service);
    let http = client();
    let server = Server::start(dir.path(), &["--deadline", "3s"]);
    for conversation in ["c-1", "c-2"] {
        let started = format!(
            r#"{{"id":"{conversation}","conversation":"{conversation}","event":"conversation_started"}}"#
        );
        assert_eq!(post(&http, &server.url, &started).await.unwrap().0, 200);
    }
    // c-2 has an event in flight when the journal is locked: its step is owed, and its timer
    // falls due behind it. c-1's timer fires meanwhile: its step is owed.
    *behaviour.delay.lock().unwrap() = Duration::from_secs(1);
    let message =
        r#"{"id":"m-1","conversation":"c-2","event":"message_received","payload":{"text":"one"}}"#;
    let url = server.url.clone();
    let in_flight = tokio::spawn(async move { post(&client(), &url, message).await });
    counts.wait_for(1).await;
    let lock = rusqlite::Connection::open(dir.path().join("journal.sqlite")).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    assert_eq!(in_flight.await.unwrap().unwrap().0, 202);
    let began = Instant::now();
    let owed = |logs: &str, conversation: &str, what: &str| {
        logs.lines()
            .any(|l| l.contains(&format!("conversation={conversation}")) && l.contains(what))
    };
    loop {
        let logs = server.stderr();
        if owed(&logs, "c-1", "n=None") && owed(&logs, "c-2", "its inactivity timer fires") {
            break;
        }
        assert!(began.elapsed() < Duration::from_secs(60), "{logs}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    lock.execute_batch("ROLLBACK").unwrap();
    // Once the journal takes the steps owed, each timer fires once, after what it waited for.
    let began = Instant::now();
    let expected = [
        ("c-1", vec!["conversation_started", "conversation_inactive"]),
        (
            "c-2",
            vec![
                "conversation_started",
                "message_received",
                "conversation_inactive",
            ],
        ),
    ];
    for (conversation, events) in &expected {
        while journaled_events(&http, &server, conversation).await != *events {
            assert!(began.elapsed() < PROMPT, "{}", server.stderr());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    drop(server);
    // Journaled, their timers do not fire again after a restart.
    let server = Server::start(dir.path(), &[]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (conversation, events) in &expected {
        assert_eq!(
            journaled_events(&http, &server, conversation).await,
            *events
        );
    }
}
