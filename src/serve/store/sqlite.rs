//! The embedded store: one SQLite file in WAL mode. One writer task owns the only writing
//! connection and commits whatever is queued in one transaction (each write in its own
//! savepoint, so one that fails does not undo its neighbours); readers use a small pool.

use super::{
    Accept, Accepted, Durable, PendingEvent, Recovery, Step, Store, StoreError, StoredConversation,
};
use crate::serve::metrics::Metrics;
use futures::future::BoxFuture;
use serde_json::Value as Json;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Row, SqlitePool};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// At most this many writes share one commit: a bound on one transaction's size.
const MAX_GROUP: usize = 1024;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS events (
        conversation TEXT NOT NULL,
        n INTEGER NOT NULL,
        delivery TEXT UNIQUE,
        body TEXT NOT NULL,
        accepted_at INTEGER NOT NULL,
        answer TEXT,
        PRIMARY KEY (conversation, n))",
    "CREATE INDEX IF NOT EXISTS events_pending ON events (accepted_at) WHERE answer IS NULL",
    "CREATE TABLE IF NOT EXISTS attempts (
        key TEXT PRIMARY KEY,
        outcome TEXT,
        at INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS attempts_at ON attempts (at)",
    "CREATE TABLE IF NOT EXISTS conversations (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        status TEXT NOT NULL,
        retired INTEGER NOT NULL,
        updated_at INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS trace (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation TEXT NOT NULL,
        record TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS trace_by_conversation ON trace (conversation, position)",
];

/// How far before the oldest unfinished event attempts are still read back on recovery:
/// the attempts of that event were all journaled after it, on this machine's clock.
const RECOVERY_MARGIN_MS: i64 = 60_000;

enum Write {
    Accept(Accept, oneshot::Sender<Result<Accepted, StoreError>>),
    Started(String, oneshot::Sender<Result<(), StoreError>>),
    Ended(String, Json, oneshot::Sender<Result<(), StoreError>>),
    Stepped(Box<Step>, oneshot::Sender<Result<(), StoreError>>),
    Flush(oneshot::Sender<Result<(), StoreError>>),
}

pub struct Sqlite {
    writes: mpsc::UnboundedSender<Write>,
    reader: SqlitePool,
}

/// The file a `sqlite:` store URL names (`sqlite://journal.db`, `sqlite:journal.db`).
pub fn path_of(url: &str) -> Option<&str> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    (!path.is_empty()).then_some(path)
}

impl Sqlite {
    /// Opens (creating if missing) the file and its tables, and starts the writer.
    /// Each group commit's duration goes to `metrics`.
    pub async fn open(path: &str, metrics: Arc<Metrics>) -> Result<Sqlite, StoreError> {
        let failed = |e: sqlx::Error| StoreError(format!("cannot open the store `{path}`: {e}"));
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
            .map_err(failed)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Every commit reaches the disk before the events it holds are acknowledged.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5));
        let mut writer = SqliteConnection::connect_with(&options)
            .await
            .map_err(failed)?;
        for statement in SCHEMA {
            sqlx::query(statement)
                .execute(&mut writer)
                .await
                .map_err(failed)?;
        }
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await
            .map_err(failed)?;
        let (writes, queue) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(writer, queue, metrics));
        Ok(Sqlite { writes, reader })
    }

    fn queue<T>(
        &self,
        write: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Write,
    ) -> Durable<T> {
        let (tx, durable) = Durable::channel();
        // A writer that stopped drops the write, and `Durable` says so.
        let _ = self.writes.send(write(tx));
        durable
    }
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn text(json: &Json) -> String {
    json.to_string()
}

fn parse(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or(Json::Null)
}

fn store_error(e: sqlx::Error) -> StoreError {
    StoreError(format!("the store failed: {e}"))
}

impl Store for Sqlite {
    fn accept(&self, event: Accept) -> Durable<Accepted> {
        self.queue(|tx| Write::Accept(event, tx))
    }
    fn attempt_started(&self, key: String) -> Durable<()> {
        self.queue(|tx| Write::Started(key, tx))
    }
    fn attempt_ended(&self, key: String, outcome: Json) -> Durable<()> {
        self.queue(|tx| Write::Ended(key, outcome, tx))
    }
    fn stepped(&self, step: Step) -> Durable<()> {
        self.queue(|tx| Write::Stepped(Box::new(step), tx))
    }
    fn flush(&self) -> Durable<()> {
        self.queue(Write::Flush)
    }

    fn conversation(
        &self,
        id: &str,
    ) -> BoxFuture<'_, Result<Option<StoredConversation>, StoreError>> {
        let id = id.to_string();
        Box::pin(async move {
            let row = sqlx::query("SELECT state, retired FROM conversations WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.reader)
                .await
                .map_err(store_error)?;
            Ok(row.map(|row| StoredConversation {
                state: parse(row.get::<&str, _>(0)),
                retired: row.get::<i64, _>(1) != 0,
            }))
        })
    }

    fn trace(
        &self,
        id: &str,
        after: i64,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<(i64, Json)>, StoreError>> {
        let id = id.to_string();
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT position, record FROM trace WHERE conversation = ? AND position > ?
                 ORDER BY position LIMIT ?",
            )
            .bind(id)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.reader)
            .await
            .map_err(store_error)?;
            Ok(rows
                .iter()
                .map(|row| (row.get::<i64, _>(0), parse(row.get::<&str, _>(1))))
                .collect())
        })
    }

    fn answer(
        &self,
        conversation: &str,
        n: u64,
    ) -> BoxFuture<'_, Result<Option<Json>, StoreError>> {
        let conversation = conversation.to_string();
        Box::pin(async move {
            let row = sqlx::query("SELECT answer FROM events WHERE conversation = ? AND n = ?")
                .bind(conversation)
                .bind(n as i64)
                .fetch_optional(&self.reader)
                .await
                .map_err(store_error)?;
            Ok(row
                .and_then(|row| row.get::<Option<String>, _>(0))
                .map(|answer| parse(&answer)))
        })
    }

    fn recover(&self) -> BoxFuture<'_, Result<Recovery, StoreError>> {
        Box::pin(async move {
            let live = sqlx::query("SELECT id, state FROM conversations WHERE retired = 0")
                .fetch_all(&self.reader)
                .await
                .map_err(store_error)?
                .iter()
                .map(|row| (row.get::<String, _>(0), parse(row.get::<&str, _>(1))))
                .collect();
            let pending: Vec<PendingEvent> = sqlx::query(
                "SELECT conversation, n, body FROM events WHERE answer IS NULL
                 ORDER BY conversation, n",
            )
            .fetch_all(&self.reader)
            .await
            .map_err(store_error)?
            .iter()
            .map(|row| PendingEvent {
                conversation: row.get(0),
                n: row.get::<i64, _>(1) as u64,
                body: parse(row.get::<&str, _>(2)),
            })
            .collect();
            let oldest: Option<i64> =
                sqlx::query_scalar("SELECT MIN(accepted_at) FROM events WHERE answer IS NULL")
                    .fetch_one(&self.reader)
                    .await
                    .map_err(store_error)?;
            let attempts = match oldest {
                None => Vec::new(),
                Some(oldest) => sqlx::query("SELECT key, outcome FROM attempts WHERE at >= ?")
                    .bind(oldest - RECOVERY_MARGIN_MS)
                    .fetch_all(&self.reader)
                    .await
                    .map_err(store_error)?
                    .iter()
                    .map(|row| {
                        let outcome: Option<String> = row.get(1);
                        (row.get(0), outcome.map(|o| parse(&o)))
                    })
                    .collect(),
            };
            Ok(Recovery {
                live,
                pending,
                attempts,
            })
        })
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query("SELECT 1")
                .execute(&self.reader)
                .await
                .map(drop)
                .map_err(store_error)
        })
    }
}

/// Takes what is queued, commits it as one transaction, then answers each write.
async fn write_loop(
    mut conn: SqliteConnection,
    mut queue: mpsc::UnboundedReceiver<Write>,
    metrics: Arc<Metrics>,
) {
    let mut group = Vec::new();
    while let Some(first) = queue.recv().await {
        group.push(first);
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(write) => group.push(write),
                Err(_) => break,
            }
        }
        let began = std::time::Instant::now();
        commit(&mut conn, std::mem::take(&mut group)).await;
        metrics.store_commit.observe(began.elapsed());
    }
}

/// One answer to send once the group is committed.
enum Answer {
    Accepted(
        oneshot::Sender<Result<Accepted, StoreError>>,
        Result<Accepted, StoreError>,
    ),
    Done(
        oneshot::Sender<Result<(), StoreError>>,
        Result<(), StoreError>,
    ),
}

async fn commit(conn: &mut SqliteConnection, group: Vec<Write>) {
    if let Err(e) = sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await {
        let failed = store_error(e);
        for write in group {
            refuse(write, &failed);
        }
        return;
    }
    let mut answers = Vec::with_capacity(group.len());
    for write in group {
        answers.push(apply(conn, write).await);
    }
    let committed = sqlx::query("COMMIT")
        .execute(&mut *conn)
        .await
        .map(drop)
        .map_err(store_error);
    if committed.is_err() {
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    for answer in answers {
        match answer {
            Answer::Accepted(tx, result) => {
                let _ = tx.send(committed.clone().and(result));
            }
            Answer::Done(tx, result) => {
                let _ = tx.send(committed.clone().and(result));
            }
        }
    }
}

/// Answers a write that was not applied.
fn refuse(write: Write, error: &StoreError) {
    match write {
        Write::Accept(_, tx) => drop(tx.send(Err(error.clone()))),
        Write::Started(_, tx)
        | Write::Ended(_, _, tx)
        | Write::Stepped(_, tx)
        | Write::Flush(tx) => drop(tx.send(Err(error.clone()))),
    }
}

/// Applies one write inside its own savepoint.
async fn apply(conn: &mut SqliteConnection, write: Write) -> Answer {
    let _ = sqlx::query("SAVEPOINT one").execute(&mut *conn).await;
    let answer = match write {
        Write::Accept(event, tx) => Answer::Accepted(tx, accept(conn, event).await),
        Write::Started(key, tx) => Answer::Done(tx, attempt(conn, &key, None).await),
        Write::Ended(key, outcome, tx) => {
            Answer::Done(tx, attempt(conn, &key, Some(&outcome)).await)
        }
        Write::Stepped(step, tx) => Answer::Done(tx, stepped(conn, *step).await),
        Write::Flush(tx) => Answer::Done(tx, Ok(())),
    };
    let failed = match &answer {
        Answer::Accepted(_, result) => result.is_err(),
        Answer::Done(_, result) => result.is_err(),
    };
    let end = if failed {
        "ROLLBACK TO one"
    } else {
        "RELEASE one"
    };
    let _ = sqlx::query(end).execute(&mut *conn).await;
    if failed {
        let _ = sqlx::query("RELEASE one").execute(&mut *conn).await;
    }
    answer
}

async fn accept(conn: &mut SqliteConnection, event: Accept) -> Result<Accepted, StoreError> {
    if let Some(delivery) = &event.delivery {
        let seen = sqlx::query("SELECT conversation, n, answer FROM events WHERE delivery = ?")
            .bind(delivery)
            .fetch_optional(&mut *conn)
            .await
            .map_err(store_error)?;
        if let Some(row) = seen {
            let answer: Option<String> = row.get(2);
            return Ok(Accepted::Duplicate {
                conversation: row.get(0),
                n: row.get::<i64, _>(1) as u64,
                answer: answer.map(|a| parse(&a)),
            });
        }
    }
    if event.only_duplicate {
        return Ok(Accepted::Refused);
    }
    let now = now_ms();
    sqlx::query(
        "INSERT OR IGNORE INTO conversations (id, state, status, retired, updated_at)
         VALUES (?, ?, 'active', 0, ?)",
    )
    .bind(&event.conversation)
    .bind(text(&event.initial))
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    let n: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(n), 0) + 1 FROM events WHERE conversation = ?")
            .bind(&event.conversation)
            .fetch_one(&mut *conn)
            .await
            .map_err(store_error)?;
    sqlx::query(
        "INSERT INTO events (conversation, n, delivery, body, accepted_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&event.conversation)
    .bind(n)
    .bind(&event.delivery)
    .bind(text(&event.body))
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    Ok(Accepted::New { n: n as u64 })
}

async fn attempt(
    conn: &mut SqliteConnection,
    key: &str,
    outcome: Option<&Json>,
) -> Result<(), StoreError> {
    sqlx::query("INSERT OR REPLACE INTO attempts (key, outcome, at) VALUES (?, ?, ?)")
        .bind(key)
        .bind(outcome.map(text))
        .bind(now_ms())
        .execute(&mut *conn)
        .await
        .map(drop)
        .map_err(store_error)
}

async fn stepped(conn: &mut SqliteConnection, step: Step) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO conversations (id, state, status, retired, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, status = excluded.status,
         retired = excluded.retired, updated_at = excluded.updated_at",
    )
    .bind(&step.conversation)
    .bind(text(&step.state))
    .bind(&step.status)
    .bind(step.retired as i64)
    .bind(now_ms())
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    for record in &step.records {
        sqlx::query("INSERT INTO trace (conversation, record) VALUES (?, ?)")
            .bind(&step.conversation)
            .bind(text(record))
            .execute(&mut *conn)
            .await
            .map_err(store_error)?;
    }
    if let (Some(n), Some(answer)) = (step.event, &step.answer) {
        sqlx::query("UPDATE events SET answer = ? WHERE conversation = ? AND n = ?")
            .bind(text(answer))
            .bind(&step.conversation)
            .bind(n as i64)
            .execute(&mut *conn)
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn accept(conversation: &str, delivery: Option<&str>) -> Accept {
        Accept {
            conversation: conversation.into(),
            delivery: delivery.map(str::to_string),
            body: json!({"conversation": conversation, "event": "message_received"}),
            initial: json!({"seq": 0}),
            only_duplicate: false,
        }
    }

    #[tokio::test]
    async fn events_are_numbered_deduplicated_and_recovered_until_answered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite");
        let store = Sqlite::open(path.to_str().unwrap(), Arc::default())
            .await
            .unwrap();
        // Queued together: one group, each answered in order.
        let first = store.accept(accept("c", Some("d-1")));
        let second = store.accept(accept("c", Some("d-2")));
        let again = store.accept(accept("c", Some("d-1")));
        assert_eq!(first.await, Ok(Accepted::New { n: 1 }));
        assert_eq!(second.await, Ok(Accepted::New { n: 2 }));
        let duplicate = Accepted::Duplicate {
            conversation: "c".into(),
            n: 1,
            answer: None,
        };
        assert_eq!(again.await, Ok(duplicate));
        let refused = Accept {
            only_duplicate: true,
            ..accept("c", Some("d-3"))
        };
        assert_eq!(store.accept(refused).await, Ok(Accepted::Refused));
        store.attempt_started("k-1".into()).await.unwrap();
        store
            .attempt_ended("k-2".into(), json!({"ok": 1}))
            .await
            .unwrap();
        store
            .stepped(Step {
                conversation: "c".into(),
                event: Some(1),
                state: json!({"seq": 1}),
                status: "active".into(),
                retired: false,
                records: vec![json!({"type": "event"})],
                answer: Some(json!({"done": true})),
            })
            .await
            .unwrap();
        let recovery = store.recover().await.unwrap();
        assert_eq!(recovery.live, vec![("c".to_string(), json!({"seq": 1}))]);
        let pending: Vec<u64> = recovery.pending.iter().map(|p| p.n).collect();
        assert_eq!(pending, [2]);
        let mut attempts = recovery.attempts;
        attempts.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            attempts,
            [
                ("k-1".to_string(), None),
                ("k-2".to_string(), Some(json!({"ok": 1})))
            ]
        );
        assert_eq!(store.answer("c", 1).await, Ok(Some(json!({"done": true}))));
        assert_eq!(store.answer("c", 2).await, Ok(None));
        let trace = store.trace("c", 0, 10).await.unwrap();
        assert_eq!(trace.len(), 1);
        // Reopened (a restart): the same journal.
        drop(store);
        let store = Sqlite::open(path.to_str().unwrap(), Arc::default())
            .await
            .unwrap();
        assert_eq!(store.recover().await.unwrap().pending.len(), 1);
        assert!(store.conversation("c").await.unwrap().is_some());
        assert_eq!(store.conversation("nobody").await, Ok(None));
    }
}
