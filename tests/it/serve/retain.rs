//! `--retain`: the journal of finished work goes after the retention, on SQLite and on
//! PostgreSQL, and nothing a running conversation or a restart needs goes with it.

use super::support::{
    client, counting_service, fresh_postgres, get, in_flight, metrics, post, program, Server,
};
use serde_json::json;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const STARTED: &str = r#"{"id":"d-1","conversation":"c-1","event":"conversation_started","payload":{"user":{"name":"Ana"}}}"#;
const MESSAGE: &str =
    r#"{"id":"d-2","conversation":"c-1","event":"message_received","payload":{"text":"late"}}"#;
const AGAIN: &str =
    r#"{"id":"d-3","conversation":"c-1","event":"message_received","payload":{"text":"still"}}"#;
const OTHER: &str =
    r#"{"id":"e-1","conversation":"c-2","event":"conversation_started","payload":{}}"#;
const OTHER_ENDS: &str =
    r#"{"id":"e-2","conversation":"c-2","event":"conversation_ended","payload":{"reason":"done"}}"#;

/// Where a test's server journals: SQLite in its directory, and a fresh PostgreSQL
/// database when one is configured.
async fn stores() -> Vec<String> {
    let mut stores = vec!["sqlite://journal.sqlite".to_string()];
    stores.extend(fresh_postgres().await);
    stores
}

/// `SELECT COUNT(*) …` on the journal a server in `dir` writes to `store`.
async fn count(dir: &Path, store: &str, query: &str) -> i64 {
    use sqlx::Connection;
    if store.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(store).await.unwrap();
        sqlx::query_scalar(query)
            .fetch_one(&mut conn)
            .await
            .unwrap()
    } else {
        let url = format!("sqlite://{}?mode=ro", dir.join("journal.sqlite").display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query_scalar(query)
            .fetch_one(&mut conn)
            .await
            .unwrap()
    }
}

/// Waits (bounded) until `query` counts `expected`.
async fn until_counts(dir: &Path, store: &str, query: &str, expected: i64) {
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let now = count(dir, store, query).await;
        if now == expected {
            return;
        }
        assert!(Instant::now() < until, "{query}: {now}, not {expected}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_finished_work_leaves_the_journal_and_a_running_conversation_goes_on() {
    for store in stores().await {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let (service, counts, _) = counting_service();
        program(dir, service, "Hello");
        let server = Server::start_on(dir, &store, &["--retain", "2s"], &[]);
        let http = client();
        for event in [STARTED, MESSAGE, OTHER, OTHER_ENDS] {
            let (status, answer) = post(&http, &server.url, event).await.unwrap();
            assert_eq!(status, 200, "{store}: {answer}");
        }
        assert_eq!(count(dir, &store, "SELECT COUNT(*) FROM attempts").await, 1);
        until_counts(dir, &store, "SELECT COUNT(*) FROM events", 0).await;
        until_counts(dir, &store, "SELECT COUNT(*) FROM attempts", 0).await;
        // The ended conversation went whole; the running one kept its state and trace.
        until_counts(dir, &store, "SELECT COUNT(*) FROM conversations", 1).await;
        let of_ended = "SELECT COUNT(*) FROM trace WHERE conversation = 'c-2'";
        assert_eq!(count(dir, &store, of_ended).await, 0, "{store}");
        let of_running = "SELECT COUNT(*) FROM trace WHERE conversation = 'c-1'";
        assert!(count(dir, &store, of_running).await > 0, "{store}");
        let text = metrics(&http, &server.url).await;
        for table in ["events", "attempts", "conversations", "trace"] {
            let metric = format!("agentc_store_pruned_rows_total{{table=\"{table}\"}}");
            assert!(text.contains(&metric), "{store}: no {metric} in {text}");
        }
        let c1 = format!("{}/v1/conversations/c-1", server.url);
        let (status, conversation) = get(&http, &c1).await;
        assert_eq!((status, &conversation["seq"]), (200, &json!(2)), "{store}");
        let (_, c2) = get(&http, &format!("{}/v1/conversations/c-2", server.url)).await;
        assert_eq!(c2["error"]["code"], "unknown_conversation", "{store}: {c2}");
        // It goes on from its state: the third event, its ticket still saved.
        let (status, next) = post(&http, &server.url, AGAIN).await.unwrap();
        assert_eq!(status, 200, "{store}: {next}");
        assert_eq!(next["actions"][0]["status"], "ok", "{store}: {next}");
        let (_, conversation) = get(&http, &c1).await;
        assert_eq!(conversation["seq"], 3, "{store}: {conversation}");
        assert_eq!(counts.all().values().sum::<u32>(), 2, "{:?}", counts.all());
        // Within the retention a delivery sent again is answered from the journal...
        let (status, duplicate) = post(&http, &server.url, AGAIN).await.unwrap();
        assert_eq!((status, &duplicate), (200, &next), "{store}");
        assert_eq!(counts.all().values().sum::<u32>(), 2, "{:?}", counts.all());
        // ...past it, it is a new event.
        let (status, rerun) = post(&http, &server.url, MESSAGE).await.unwrap();
        assert_eq!(status, 200, "{store}: {rerun}");
        assert_eq!(counts.all().values().sum::<u32>(), 3, "{:?}", counts.all());
        let (_, conversation) = get(&http, &c1).await;
        assert_eq!(conversation["seq"], 4, "{store}: {conversation}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_cut_off_by_a_crash_keeps_its_attempts_past_the_retention_and_recovers() {
    for store in stores().await {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let (service, counts, behaviour) = counting_service();
        program(dir, service, "Hello");
        let args = ["--retain", "1s", "--lease", "1s"];
        let server = Server::start_on(dir, &store, &args, &[]);
        let http = client();
        post(&http, &server.url, STARTED).await.unwrap();
        let cut = in_flight(&behaviour, &counts, &server.url, MESSAGE, 1).await;
        // The answered event goes; the unanswered one, older than the retention too, and
        // the attempt it started stay.
        until_counts(dir, &store, "SELECT COUNT(*) FROM events", 1).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let pending = "SELECT COUNT(*) FROM events WHERE answer IS NULL";
        assert_eq!(count(dir, &store, pending).await, 1, "{store}");
        assert_eq!(count(dir, &store, "SELECT COUNT(*) FROM attempts").await, 1);
        drop(server); // SIGKILL
        assert!(cut.await.unwrap().is_err(), "no answer was given");
        behaviour.hang.store(false, Ordering::SeqCst);
        // The restart finishes the event (SQLite before it listens, PostgreSQL once the dead
        // node's lease is over and the conversation's next event takes it over): the
        // attempt's journal says it was cut off, so it is not sent again.
        let server = Server::start_on(dir, &store, &args, &[]);
        let (status, next) = post(&http, &server.url, AGAIN).await.unwrap();
        assert_eq!(
            (status, &next["actions"][0]["status"]),
            (200, &json!("ok")),
            "{next}"
        );
        assert_eq!(
            counts.all().values().sum::<u32>(),
            2,
            "sent once: {:?}",
            counts.all()
        );
        let c1 = format!("{}/v1/conversations/c-1", server.url);
        let (_, trace) = get(&http, &format!("{c1}/trace")).await;
        assert!(
            trace.to_string().contains("outcome unknown"),
            "{store}: {trace}"
        );
        let (_, conversation) = get(&http, &c1).await;
        assert_eq!(conversation["seq"], 3, "{store}: {conversation}");
    }
}
