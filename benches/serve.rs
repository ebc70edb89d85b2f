//! The journal of `agentc serve` (issue 14, "Speed": ≥ 5,000 events/s on SQLite, each
//! acknowledged event durable): events through the SQLite store as the server writes them
//! — the event accepted (awaited: durable before it runs), one attempt's outcome (queued),
//! the step with its trace records and answer (awaited: durable before the answer) — from
//! many conversations at once, so writes share group commits. Beside it, the floor: the
//! same rows inserted by raw SQLite in one transaction, one commit, with the same pragmas.
//!
//! With `AGENTC_BENCH_POSTGRES_URL` set (a server the bench may write to; each run uses
//! conversation ids of its own), the same events through the PostgreSQL store too (≥ 2,000
//! events/s), the lease taken before a conversation's first event, then along with each
//! accept, and released after each event, as the hub does. Measured on a private
//! PostgreSQL 15 (fsync on, `synchronous_commit = on`, 127.0.0.1), base and new alternated:
//! 516 and 497 events/s at 09240ee, where the one writer connection made about fourteen
//! round trips per event; 896 and 859 once a group was one call of `agentc_journal` (three
//! round trips a group), with each event's lease and release two more transactions on the
//! pool; 1,346, 1,544 and 1,470 (against 720, 742 and 794 for that base in the same minutes)
//! once leases are taken, renewed and released in the writer's groups, an event's lease is
//! taken with its accept, and each write is parsed once (JSONB). The writer's one PostgreSQL
//! backend was then busy 84% of the time (about 560 µs per event over some nine
//! statements), so the writes are shared out over two writers by conversation: 2,802 and
//! 2,433 events/s, against 1,063 and 1,109 for 1902cb8 and 1,863 and 1,753 for one writer,
//! alternated in the same minutes.
//!
//! `cargo bench --bench serve`
//! `AGENTC_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:54342/postgres cargo bench --bench serve`

use agentc::serve::store::postgres::Postgres;
use agentc::serve::store::sqlite::Sqlite;
use agentc::serve::store::{Accept, Accepted, Step, Store};
use criterion::{criterion_group, Criterion, Throughput};
use serde_json::{json, Value as Json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Conversations writing at once (the load harness runs wrk with 32 connections).
const CONVERSATIONS: usize = 64;
const EVENTS_PER_CONVERSATION: usize = 16;
const EVENTS: usize = CONVERSATIONS * EVENTS_PER_CONVERSATION;

/// What one event of the load harness's use case journals, about its size.
fn body(conversation: &str) -> Json {
    json!({"conversation": conversation, "event": "usecase",
           "payload": {"name": "order_status", "text": "where is my A-1001?",
                       "params": {"order_id": "A-1001"}}})
}

fn state(conversation: &str, seq: usize) -> Json {
    json!({"id": conversation, "instance": "5f0c2d", "seq": seq, "status": "active",
           "labels": [], "params": {"order_id": {"Text": "A-1001"},
           "status": {"Text": "shipped"}, "eta": {"Text": "2026-11-24"}}})
}

fn records(conversation: &str, seq: usize) -> Vec<Json> {
    vec![
        json!({"type": "event", "conversation": conversation, "seq": seq, "event": "usecase"}),
        json!({"type": "action", "conversation": conversation, "seq": seq,
               "action": "check_order", "status": "ok", "attempts": 1}),
        json!({"type": "action", "conversation": conversation, "seq": seq,
               "action": "note_status", "status": "ok", "attempts": 1}),
        json!({"type": "reply", "conversation": conversation, "seq": seq,
               "text": "Order A-1001 is shipped."}),
    ]
}

fn answer(conversation: &str) -> Json {
    json!({"conversation": conversation, "done": true,
           "replies": [{"name": "found", "text": "Order A-1001 is shipped."}],
           "params": {"status": "shipped", "eta": "2026-11-24"}})
}

/// Every event of every conversation through the store; the time it took. `run` keeps
/// the ids of one bench run apart from another's in a store that outlives it.
async fn through_the_store(store: Arc<dyn Store>, run: u64, round: usize) -> Duration {
    let began = Instant::now();
    let writers: Vec<_> = (0..CONVERSATIONS)
        .map(|c| {
            let store = store.clone();
            tokio::spawn(async move {
                let id = format!("c-{run:x}-{round}-{c}");
                // As the hub does: the lease taken first by an actor that never held
                // it (free on SQLite: one node), then along with each accept.
                let epoch = store.lease(&id).await.unwrap();
                assert!(epoch.is_some(), "no other node holds {id}");
                for seq in 1..=EVENTS_PER_CONVERSATION {
                    let accepted = store
                        .accept(Accept {
                            conversation: id.clone(),
                            delivery: Some(format!("{id}-{seq}")),
                            body: body(&id),
                            initial: state(&id, 0),
                            only_duplicate: false,
                            epoch: epoch.filter(|&e| e > 0),
                        })
                        .await
                        .unwrap();
                    let Accepted::New { n } = accepted else {
                        panic!("{accepted:?}")
                    };
                    drop(store.attempt_ended(
                        &id,
                        format!("{id}/5f0c2d/{n}/check_order"),
                        json!({"ok": {"status": "shipped", "eta": "2026-11-24"}}),
                    ));
                    store
                        .stepped(Step {
                            conversation: id.clone(),
                            event: Some(n),
                            state: state(&id, seq),
                            status: "active".into(),
                            retired: false,
                            records: records(&id, seq),
                            answer: Some(answer(&id)),
                            due_in: None,
                        })
                        .await
                        .unwrap();
                    drop(store.release(&id));
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    began.elapsed()
}

/// The same rows by raw SQLite: one transaction, prepared statements, one commit.
fn raw_sqlite(conn: &mut rusqlite::Connection, round: usize) -> Duration {
    let began = Instant::now();
    let tx = conn.transaction().unwrap();
    {
        let mut event = tx
            .prepare("INSERT INTO events (conversation, n, delivery, body, accepted_at, answer) VALUES (?1, ?2, ?3, ?4, 0, ?5)")
            .unwrap();
        let mut conversation = tx
            .prepare("INSERT OR REPLACE INTO conversations (id, state, status, retired, updated_at) VALUES (?1, ?2, 'active', 0, 0)")
            .unwrap();
        let mut attempt = tx
            .prepare("INSERT INTO attempts (key, outcome, at) VALUES (?1, ?2, 0)")
            .unwrap();
        let mut trace = tx
            .prepare("INSERT INTO trace (conversation, record) VALUES (?1, ?2)")
            .unwrap();
        for c in 0..CONVERSATIONS {
            let id = format!("raw-{round}-{c}");
            for seq in 1..=EVENTS_PER_CONVERSATION {
                let delivery = format!("{id}-{seq}");
                let (body, answer) = (body(&id).to_string(), answer(&id).to_string());
                event
                    .execute(rusqlite::params![id, seq, delivery, body, answer])
                    .unwrap();
                let key = format!("{id}/5f0c2d/{seq}/check_order");
                attempt.execute(rusqlite::params![key, "{}"]).unwrap();
                conversation
                    .execute(rusqlite::params![id, state(&id, seq).to_string()])
                    .unwrap();
                for record in records(&id, seq) {
                    trace
                        .execute(rusqlite::params![id, record.to_string()])
                        .unwrap();
                }
            }
        }
    }
    tx.commit().unwrap();
    began.elapsed()
}

fn journal(c: &mut Criterion) {
    let tokio = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    let path = path.to_str().unwrap().to_string();
    let store: Arc<dyn Store> =
        Arc::new(tokio.block_on(Sqlite::open(&path, Arc::default())).unwrap());
    let postgres: Option<Arc<dyn Store>> =
        std::env::var("AGENTC_BENCH_POSTGRES_URL").ok().map(|url| {
            let lease = Duration::from_secs(10);
            let opened = tokio.block_on(Postgres::open(&url, lease, Arc::default()));
            Arc::new(opened.expect("AGENTC_BENCH_POSTGRES_URL names no usable server")) as _
        });
    if postgres.is_none() {
        eprintln!("note: no PostgreSQL case (set AGENTC_BENCH_POSTGRES_URL)");
    }
    let run: u64 = rand::random();
    let mut raw = rusqlite::Connection::open(dir.path().join("raw.sqlite")).unwrap();
    raw.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE events (conversation TEXT NOT NULL, n INTEGER NOT NULL, delivery TEXT UNIQUE,
             body TEXT NOT NULL, accepted_at INTEGER NOT NULL, answer TEXT, PRIMARY KEY (conversation, n));
         CREATE TABLE attempts (key TEXT PRIMARY KEY, outcome TEXT, at INTEGER NOT NULL);
         CREATE TABLE conversations (id TEXT PRIMARY KEY, state TEXT NOT NULL, status TEXT NOT NULL,
             retired INTEGER NOT NULL, updated_at INTEGER NOT NULL);
         CREATE TABLE trace (position INTEGER PRIMARY KEY AUTOINCREMENT, conversation TEXT NOT NULL,
             record TEXT NOT NULL);",
    )
    .unwrap();

    let mut group = c.benchmark_group("journal");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(EVENTS as u64));
    let mut round = 0;
    group.bench_function("events through the store, group commit", |b| {
        b.iter_custom(|iterations| {
            (0..iterations)
                .map(|_| {
                    round += 1;
                    tokio.block_on(through_the_store(store.clone(), run, round))
                })
                .sum()
        })
    });
    if let Some(postgres) = &postgres {
        group.bench_function("events through the PostgreSQL store, group commit", |b| {
            b.iter_custom(|iterations| {
                (0..iterations)
                    .map(|_| {
                        round += 1;
                        tokio.block_on(through_the_store(postgres.clone(), run, round))
                    })
                    .sum()
            })
        });
    }
    group.bench_function("raw SQLite, one transaction", |b| {
        b.iter_custom(|iterations| {
            (0..iterations)
                .map(|_| {
                    round += 1;
                    raw_sqlite(&mut raw, round)
                })
                .sum()
        })
    });
    group.finish();
}

criterion_group!(benches, journal);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
