//! The embedded store: one SQLite file in WAL mode. One writer thread owns the only writing
//! connection (rusqlite, its statements prepared once) and commits whatever is queued in
//! one transaction (each write in its own savepoint, so one that fails does not undo its
//! neighbours); a second thread flushes the WAL file to the disk and only then answers the
//! writes of every group committed before the flush began. While a flush runs, the writer
//! applies what comes in one open transaction and commits it once the flush is done: a
//! group is what arrives during one flush, and the next flush covers it. Readers use a
//! small sqlx pool.
//!
//! Durability: every write is on the disk, not only in the OS's cache, before it is
//! answered, so an acknowledged event survives `kill -9` and a power cut alike. SQLite's
//! `synchronous=FULL` would flush inside each commit, and the one writer would wait for
//! the disk before it could apply the next group: an event's accept and, just after, its
//! step were two flushes in a row. With `synchronous=NORMAL` a commit leaves its WAL frames
//! in the OS's cache (SQLite still syncs the WAL before each checkpoint, and the database
//! after it); the flushing thread's `fdatasync` of the WAL makes them durable, while the
//! writer applies the next group, so one flush covers both.

use super::prune::{Batch, Pruned};
use super::{
    parse, state_of, text, Accept, AcceptRow, Accepted, Durable, PendingEvent, Recovery, Step,
    StepRow, Store, StoreError, StoredConversation,
};
use crate::serve::metrics::Metrics;
use futures::future::BoxFuture;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value as Json;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Row, SqlitePool};
use std::fs::File;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
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
    // What the retention sweep finds old finished work by.
    "CREATE INDEX IF NOT EXISTS events_answered ON events (accepted_at) WHERE answer IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS conversations_ended ON conversations (updated_at) WHERE retired = 1",
];

/// How far before the oldest unfinished event attempts are still read back on recovery:
/// the attempts of that event were all journaled after it, on this machine's clock.
const RECOVERY_MARGIN_MS: i64 = 60_000;

enum Write {
    Accept(Box<AcceptRow>, AcceptReply),
    Started(String, oneshot::Sender<Result<(), StoreError>>),
    Ended(String, String, oneshot::Sender<Result<(), StoreError>>),
    /// With when it was taken (Unix ms): the row's stamp, which its age is read back from,
    /// even when the write then waited out another process's lock.
    Stepped(Box<StepRow>, i64, oneshot::Sender<Result<(), StoreError>>),
    Flush(oneshot::Sender<Result<(), StoreError>>),
    Prune(Duration, Batch, oneshot::Sender<Result<Pruned, StoreError>>),
}

/// What the writer hears: a write, or that the flush in flight is done.
enum Message {
    Write(Write),
    Flushed,
}

/// Who hears of an accept: once its group is committed, or also as soon as it is applied.
enum AcceptReply {
    Committed(oneshot::Sender<Result<Accepted, StoreError>>),
    Early {
        applied: oneshot::Sender<Result<Accepted, StoreError>>,
        committed: oneshot::Sender<Result<(), StoreError>>,
    },
}

pub struct Sqlite {
    writes: mpsc::UnboundedSender<Message>,
    reader: SqlitePool,
    /// Set once a flush of the WAL failed: what is on the disk is unknown since (the OS may
    /// have dropped the pages it could not write), so every write after fails, and
    /// `/readyz` with them, until a restart recovers from what the disk holds.
    broken: Arc<OnceLock<StoreError>>,
}

/// The file a `sqlite:` store URL names (`sqlite://journal.db`, `sqlite:journal.db`).
pub fn path_of(url: &str) -> Option<&str> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    (!path.is_empty()).then_some(path)
}

/// How long a connection waits for a lock another process holds before its statement fails
/// (the writer's and the readers' alike).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

impl Sqlite {
    /// Opens (creating if missing) the file and its tables, and starts the writer.
    /// Each group's time from its first write to the disk goes to `metrics`.
    pub async fn open(path: &str, metrics: Arc<Metrics>) -> Result<Sqlite, StoreError> {
        let owned = path.to_string();
        let (writer, wal) = tokio::task::spawn_blocking(move || open_writer(&owned))
            .await
            .map_err(|e| StoreError(e.to_string()))?
            .map_err(|e| StoreError(format!("cannot open the store `{path}`: {e}")))?;
        let failed = |e: sqlx::Error| StoreError(format!("cannot open the store `{path}`: {e}"));
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
            .map_err(failed)?
            .read_only(true)
            .busy_timeout(BUSY_TIMEOUT);
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(failed)?;
        let (writes, queue) = mpsc::unbounded_channel();
        let (committed, to_sync) = std::sync::mpsc::channel();
        let broken = Arc::new(OnceLock::new());
        let started =
            |e: std::io::Error| StoreError(format!("cannot start the journal's writer: {e}"));
        let flusher_broken = broken.clone();
        // Weak: the writer ends once the store is dropped.
        let flushed = writes.downgrade();
        std::thread::Builder::new()
            .name("agentc-journal-sync".into())
            .spawn(move || sync_loop(wal, to_sync, flushed, metrics, flusher_broken))
            .map_err(started)?;
        let writer_broken = broken.clone();
        std::thread::Builder::new()
            .name("agentc-journal".into())
            .spawn(move || write_loop(writer, queue, committed, writer_broken))
            .map_err(started)?;
        Ok(Sqlite {
            writes,
            reader,
            broken,
        })
    }

    fn queue<T>(
        &self,
        write: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Write,
    ) -> Durable<T> {
        let (tx, durable) = Durable::channel();
        // A writer that stopped drops the write, and `Durable` says so.
        let _ = self.writes.send(Message::Write(write(tx)));
        durable
    }
}

/// How long ago `updated_at` was.
fn age(updated_at: i64) -> Duration {
    Duration::from_millis(u64::try_from(now_ms() - updated_at).unwrap_or(0))
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn store_error(e: sqlx::Error) -> StoreError {
    StoreError(format!("the store failed: {e}"))
}

fn write_error(e: rusqlite::Error) -> StoreError {
    StoreError(format!("the store failed: {e}"))
}

/// The writing connection: the file (created if missing) in WAL mode, its tables; and the
/// WAL file, for the flushing thread. While this connection is open SQLite never deletes
/// the WAL (only the last connection to close does), so the file stays the one it writes.
fn open_writer(path: &str) -> Result<(Connection, File), Box<dyn std::error::Error + Send>> {
    let boxed = |e: rusqlite::Error| -> Box<dyn std::error::Error + Send> { Box::new(e) };
    let conn = Connection::open(path).map_err(boxed)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(boxed)?;
    // `journal_mode` answers with the mode now set.
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(boxed)?;
    if !mode.eq_ignore_ascii_case("wal") {
        let e = std::io::Error::other(format!("it cannot be put in WAL mode (it is in `{mode}`)"));
        return Err(Box::new(e));
    }
    // A commit is not flushed: the flushing thread makes it durable (see the module's doc).
    conn.execute_batch("PRAGMA synchronous = NORMAL")
        .map_err(boxed)?;
    conn.set_prepared_statement_cache_capacity(32);
    for statement in SCHEMA {
        conn.execute_batch(statement).map_err(boxed)?;
    }
    let io = |e: std::io::Error| -> Box<dyn std::error::Error + Send> { Box::new(e) };
    // Made by the statements above, if it was not there.
    let wal = File::open(format!("{path}-wal")).map_err(io)?;
    // A WAL just made is durable only once its directory entry is (SQLite's FULL syncs
    // the directory at the WAL's first flush; NORMAL leaves that to its first checkpoint).
    wal.sync_all().map_err(io)?;
    let dir = match std::path::Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => std::path::Path::new("."),
    };
    File::open(dir).and_then(|dir| dir.sync_all()).map_err(io)?;
    Ok((conn, wal))
}

impl Store for Sqlite {
    fn accept(&self, event: Accept) -> Durable<Accepted> {
        let row = AcceptRow::of(event);
        self.queue(|tx| Write::Accept(row, AcceptReply::Committed(tx)))
    }
    fn accept_early(&self, event: Accept) -> (Durable<Accepted>, Durable<()>) {
        let row = AcceptRow::of(event);
        let (applied, accepted) = Durable::channel();
        let durable =
            self.queue(|committed| Write::Accept(row, AcceptReply::Early { applied, committed }));
        (accepted, durable)
    }
    fn attempt_started(&self, _conversation: &str, key: String) -> Durable<()> {
        self.queue(|tx| Write::Started(key, tx))
    }
    fn attempt_ended(&self, _conversation: &str, key: String, outcome: Json) -> Durable<()> {
        let outcome = text(&outcome);
        self.queue(|tx| Write::Ended(key, outcome, tx))
    }
    fn stepped(&self, step: Step) -> Durable<()> {
        let row = StepRow::of(step);
        let taken = now_ms();
        self.queue(|tx| Write::Stepped(row, taken, tx))
    }
    fn flush(&self) -> Durable<()> {
        self.queue(Write::Flush)
    }
    fn prune(&self, retain: Duration, batch: Batch) -> BoxFuture<'_, Result<Pruned, StoreError>> {
        // Through the writer, the only connection that writes: no lock contention with it.
        Box::pin(self.queue(|tx| Write::Prune(retain, batch, tx)))
    }

    fn conversation(
        &self,
        id: &str,
    ) -> BoxFuture<'_, Result<Option<StoredConversation>, StoreError>> {
        let id = id.to_string();
        Box::pin(async move {
            let row =
                sqlx::query("SELECT state, retired, updated_at FROM conversations WHERE id = ?")
                    .bind(id)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(store_error)?;
            Ok(row.map(|row| StoredConversation {
                state: state_of(row.get::<&str, _>(0)),
                retired: row.get::<i64, _>(1) != 0,
                age: age(row.get::<i64, _>(2)),
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
            let live =
                sqlx::query("SELECT id, state, updated_at FROM conversations WHERE retired = 0")
                    .fetch_all(&self.reader)
                    .await
                    .map_err(store_error)?
                    .iter()
                    .map(|row| {
                        let stored = StoredConversation {
                            state: state_of(row.get::<&str, _>(1)),
                            retired: false,
                            age: age(row.get::<i64, _>(2)),
                        };
                        (row.get::<String, _>(0), stored)
                    })
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
            if let Some(e) = self.broken.get() {
                return Err(e.clone());
            }
            sqlx::query("SELECT 1")
                .execute(&self.reader)
                .await
                .map(drop)
                .map_err(store_error)
        })
    }
}

/// Applies what is queued in one transaction, committed at once unless a flush is in
/// flight (then once it is done, or once the group is full), and hands the answers to the
/// flushing thread; ends when every sender is gone.
fn write_loop(
    mut conn: Connection,
    mut queue: mpsc::UnboundedReceiver<Message>,
    committed: std::sync::mpsc::Sender<Group>,
    broken: Arc<OnceLock<StoreError>>,
) {
    let mut open: Option<Group> = None;
    let mut flushing = false;
    while let Some(first) = queue.blocking_recv() {
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Flushed => flushing = false,
                Message::Write(write) => apply_in(&mut conn, &mut open, write, &broken),
            }
            if open.as_ref().is_some_and(|g| g.answers.len() >= MAX_GROUP) {
                break;
            }
            next = queue.try_recv().ok();
        }
        let full = open.as_ref().is_some_and(|g| g.answers.len() >= MAX_GROUP);
        if !flushing || full {
            if let Some(group) = open.take().and_then(|group| commit(&conn, group)) {
                let _ = committed.send(group);
                flushing = true;
            }
        }
    }
    if let Some(group) = open.take().and_then(|group| commit(&conn, group)) {
        let _ = committed.send(group);
    }
}

/// The writes of one transaction, with their answers to send once it is on the disk.
struct Group {
    began: Instant,
    answers: Vec<Answer>,
}

/// Applies a write in the open transaction, beginning one if none is.
fn apply_in(
    conn: &mut Connection,
    open: &mut Option<Group>,
    write: Write,
    broken: &OnceLock<StoreError>,
) {
    if let Some(e) = broken.get() {
        return unapplied(write, e.clone()).send(&Ok(()));
    }
    let group = match open {
        Some(group) => group,
        None => match conn.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => open.insert(Group {
                began: Instant::now(),
                answers: Vec::new(),
            }),
            Err(e) => return unapplied(write, write_error(e)).send(&Ok(())),
        },
    };
    group.answers.push(apply(conn, write));
}

/// Commits the group: it, to answer once on the disk, or `None` if the commit failed
/// (then the whole group is rolled back, and its writes are answered with the failure).
fn commit(conn: &Connection, group: Group) -> Option<Group> {
    match conn.execute_batch("COMMIT") {
        Ok(()) => Some(group),
        Err(e) => {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            let failed = Err(write_error(e));
            for answer in group.answers {
                answer.send(&failed);
            }
            None
        }
    }
}

/// Flushes the WAL once for every group committed since the last flush, tells the writer,
/// then answers their writes; each group's time from its first write to the disk goes to
/// `metrics`.
fn sync_loop(
    wal: File,
    committed: std::sync::mpsc::Receiver<Group>,
    writer: mpsc::WeakUnboundedSender<Message>,
    metrics: Arc<Metrics>,
    broken: Arc<OnceLock<StoreError>>,
) {
    while let Ok(first) = committed.recv() {
        // Every group received here was committed before the flush begins: it covers them.
        let groups: Vec<Group> = std::iter::once(first).chain(committed.try_iter()).collect();
        // Past a failed flush, a later one that succeeds proves nothing: the frames it
        // follows may be lost, and a WAL read back stops at the first one missing.
        let synced = match broken.get() {
            Some(e) => Err(e.clone()),
            None => wal.sync_data().map_err(|e| {
                let e = StoreError(format!(
                    "the store failed: its WAL was not flushed to the disk: {e}"
                ));
                broken.get_or_init(|| e).clone()
            }),
        };
        if let Some(writer) = writer.upgrade() {
            let _ = writer.send(Message::Flushed);
        }
        for group in groups {
            metrics.store_commit.observe(group.began.elapsed());
            for answer in group.answers {
                answer.send(&synced);
            }
        }
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
    Pruned(
        oneshot::Sender<Result<Pruned, StoreError>>,
        Result<Pruned, StoreError>,
    ),
}

impl Answer {
    /// An accept's answer: one told early hears now what applying it gave, and its commit
    /// later.
    fn accepted(reply: AcceptReply, result: Result<Accepted, StoreError>) -> Answer {
        match reply {
            AcceptReply::Committed(tx) => Answer::Accepted(tx, result),
            AcceptReply::Early { applied, committed } => {
                let done = result.as_ref().map(drop).map_err(Clone::clone);
                let _ = applied.send(result);
                Answer::Done(committed, done)
            }
        }
    }

    /// Sends the write's result once its group's commit is known.
    fn send(self, committed: &Result<(), StoreError>) {
        match self {
            Answer::Accepted(tx, result) => drop(tx.send(committed.clone().and(result))),
            Answer::Done(tx, result) => drop(tx.send(committed.clone().and(result))),
            Answer::Pruned(tx, result) => drop(tx.send(committed.clone().and(result))),
        }
    }

    fn failed(&self) -> bool {
        match self {
            Answer::Accepted(_, result) => result.is_err(),
            Answer::Done(_, result) => result.is_err(),
            Answer::Pruned(_, result) => result.is_err(),
        }
    }
}

/// A write that was not applied, answered with `error`.
fn unapplied(write: Write, error: StoreError) -> Answer {
    match write {
        Write::Accept(_, reply) => Answer::accepted(reply, Err(error)),
        Write::Started(_, tx)
        | Write::Ended(_, _, tx)
        | Write::Stepped(_, _, tx)
        | Write::Flush(tx) => Answer::Done(tx, Err(error)),
        Write::Prune(_, _, tx) => Answer::Pruned(tx, Err(error)),
    }
}

/// Applies one write inside its own savepoint: one that fails leaves nothing behind.
fn apply(conn: &mut Connection, write: Write) -> Answer {
    let savepoint = match conn.savepoint() {
        Ok(savepoint) => savepoint,
        Err(e) => return unapplied(write, write_error(e)),
    };
    let answer = match write {
        Write::Accept(event, reply) => {
            // Applied once its savepoint is released: only then is it told early.
            let result = accept(&savepoint, *event);
            let released = match result {
                Ok(accepted) => savepoint.commit().map(|()| accepted).map_err(write_error),
                // Dropped, a savepoint rolls back.
                Err(e) => Err(e),
            };
            return Answer::accepted(reply, released);
        }
        Write::Started(key, tx) => Answer::Done(tx, attempt(&savepoint, &key, None)),
        Write::Ended(key, outcome, tx) => {
            Answer::Done(tx, attempt(&savepoint, &key, Some(outcome.as_str())))
        }
        Write::Stepped(step, taken, tx) => Answer::Done(tx, stepped(&savepoint, *step, taken)),
        Write::Flush(tx) => Answer::Done(tx, Ok(())),
        Write::Prune(retain, batch, tx) => Answer::Pruned(tx, prune(&savepoint, retain, batch)),
    };
    // Dropped, a savepoint rolls back.
    if answer.failed() {
        return answer;
    }
    match savepoint.commit() {
        Ok(()) => answer,
        Err(e) => match answer {
            Answer::Accepted(tx, _) => Answer::Accepted(tx, Err(write_error(e))),
            Answer::Done(tx, _) => Answer::Done(tx, Err(write_error(e))),
            Answer::Pruned(tx, _) => Answer::Pruned(tx, Err(write_error(e))),
        },
    }
}

fn accept(conn: &Connection, event: AcceptRow) -> Result<Accepted, StoreError> {
    if let Some(delivery) = &event.delivery {
        let seen = conn
            .prepare_cached("SELECT conversation, n, answer FROM events WHERE delivery = ?1")
            .and_then(|mut seen| {
                seen.query_row([delivery], |row| {
                    Ok(Accepted::Duplicate {
                        conversation: row.get(0)?,
                        n: row.get::<_, i64>(1)? as u64,
                        answer: row.get::<_, Option<String>>(2)?.map(|a| parse(&a)),
                    })
                })
                .optional()
            })
            .map_err(write_error)?;
        if let Some(duplicate) = seen {
            return Ok(duplicate);
        }
    }
    if event.only_duplicate {
        return Ok(Accepted::Refused);
    }
    let now = now_ms();
    let run = || -> rusqlite::Result<i64> {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO conversations (id, state, status, retired, updated_at)
             VALUES (?1, ?2, 'active', 0, ?3)",
        )?
        .execute(params![event.conversation, event.initial, now])?;
        let n: i64 = conn
            .prepare_cached("SELECT COALESCE(MAX(n), 0) + 1 FROM events WHERE conversation = ?1")?
            .query_row([&event.conversation], |row| row.get(0))?;
        conn.prepare_cached(
            "INSERT INTO events (conversation, n, delivery, body, accepted_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            event.conversation,
            n,
            event.delivery,
            event.body,
            now
        ])?;
        Ok(n)
    };
    let n = run().map_err(write_error)?;
    Ok(Accepted::New { n: n as u64 })
}

fn attempt(conn: &Connection, key: &str, outcome: Option<&str>) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT OR REPLACE INTO attempts (key, outcome, at) VALUES (?1, ?2, ?3)")
        .and_then(|mut insert| insert.execute(params![key, outcome, now_ms()]))
        .map(drop)
        .map_err(write_error)
}

fn stepped(conn: &Connection, step: StepRow, taken: i64) -> Result<(), StoreError> {
    let run = || -> rusqlite::Result<()> {
        conn.prepare_cached(
            "INSERT INTO conversations (id, state, status, retired, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET state = excluded.state, status = excluded.status,
             retired = excluded.retired, updated_at = excluded.updated_at",
        )?
        .execute(params![
            step.conversation,
            step.state,
            step.status,
            step.retired,
            taken
        ])?;
        let mut trace =
            conn.prepare_cached("INSERT INTO trace (conversation, record) VALUES (?1, ?2)")?;
        for record in &step.records {
            trace.execute(params![step.conversation, record])?;
        }
        if let (Some(n), Some(answer)) = (step.event, &step.answer) {
            conn.prepare_cached(
                "UPDATE events SET answer = ?1 WHERE conversation = ?2 AND n = ?3",
            )?
            .execute(params![answer, step.conversation, n as i64])?;
        }
        Ok(())
    };
    run().map_err(write_error)
}

/// One batch of the retention sweep (`super::prune` says what may go).
fn prune(conn: &Connection, retain: Duration, batch: Batch) -> Result<Pruned, StoreError> {
    let run = || -> rusqlite::Result<Pruned> {
        let before = now_ms().saturating_sub(i64::try_from(retain.as_millis()).unwrap_or(i64::MAX));
        let oldest: Option<i64> = conn
            .prepare_cached("SELECT MIN(accepted_at) FROM events WHERE answer IS NULL")?
            .query_row([], |row| row.get(0))?;
        let attempts_before =
            oldest.map_or(before, |oldest| before.min(oldest - RECOVERY_MARGIN_MS));
        let attempts = conn
            .prepare_cached(
                "DELETE FROM attempts WHERE key IN
                 (SELECT key FROM attempts WHERE at < ?1 LIMIT ?2)",
            )?
            .execute(params![attempts_before, batch.rows])?;
        let events = conn
            .prepare_cached(
                "DELETE FROM events WHERE rowid IN (SELECT rowid FROM events
                 WHERE answer IS NOT NULL AND accepted_at < ?1 LIMIT ?2)",
            )?
            .execute(params![before, batch.rows])?;
        let ended: Vec<String> = conn
            .prepare_cached(
                "SELECT id FROM conversations c WHERE retired = 1 AND updated_at < ?1
                 AND NOT EXISTS (SELECT 1 FROM events e
                   WHERE e.conversation = c.id AND e.answer IS NULL)
                 LIMIT ?2",
            )?
            .query_map(params![before, batch.conversations], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut pruned = Pruned {
            events: events as u64,
            attempts: attempts as u64,
            conversations: ended.len() as u64,
            trace: 0,
        };
        for id in &ended {
            pruned.trace += conn
                .prepare_cached("DELETE FROM trace WHERE conversation = ?1")?
                .execute([id])? as u64;
            pruned.events += conn
                .prepare_cached("DELETE FROM events WHERE conversation = ?1")?
                .execute([id])? as u64;
            conn.prepare_cached("DELETE FROM conversations WHERE id = ?1")?
                .execute([id])?;
        }
        Ok(pruned)
    };
    run().map_err(write_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The store journaling to `path`.
    async fn open(path: &std::path::Path) -> Sqlite {
        Sqlite::open(path.to_str().unwrap(), Arc::default())
            .await
            .unwrap()
    }

    fn accept(conversation: &str, delivery: Option<&str>) -> Accept {
        Accept {
            conversation: conversation.into(),
            delivery: delivery.map(str::to_string),
            body: json!({"conversation": conversation, "event": "message_received"}),
            initial: json!({"seq": 0}),
            only_duplicate: false,
            epoch: None,
        }
    }

    #[tokio::test]
    async fn events_are_numbered_deduplicated_and_recovered_until_answered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite");
        let store = open(&path).await;
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
        store.attempt_started("c", "k-1".into()).await.unwrap();
        store
            .attempt_ended("c", "k-2".into(), json!({"ok": 1}))
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
                due_in: None,
            })
            .await
            .unwrap();
        let recovery = store.recover().await.unwrap();
        let live: Vec<_> = recovery.live.iter().map(|(id, c)| (id, &c.state)).collect();
        assert_eq!(live, [(&"c".to_string(), &json!({"seq": 1}))]);
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
        let store = open(&path).await;
        assert_eq!(store.recover().await.unwrap().pending.len(), 1);
        assert!(store.conversation("c").await.unwrap().is_some());
        assert_eq!(store.conversation("nobody").await, Ok(None));
        // Told early, an accept says what applying it gave, then that it is durable.
        let (again, durable) = store.accept_early(accept("c", Some("d-1")));
        let answered = Accepted::Duplicate {
            conversation: "c".into(),
            n: 1,
            answer: Some(json!({"done": true})),
        };
        assert_eq!(again.await, Ok(answered));
        assert_eq!(durable.await, Ok(()));
        let (third, durable) = store.accept_early(accept("c", Some("d-4")));
        assert_eq!(third.await, Ok(Accepted::New { n: 3 }));
        assert_eq!(durable.await, Ok(()));
        drop(store);
        let store = open(&path).await;
        assert_eq!(store.recover().await.unwrap().pending.len(), 2);
    }

    fn step(conversation: &str, n: u64, retired: bool) -> Step {
        Step {
            conversation: conversation.into(),
            event: Some(n),
            state: json!({"seq": n}),
            status: if retired { "ended" } else { "active" }.into(),
            retired,
            records: vec![json!({"type": "event"})],
            answer: Some(json!({"n": n})),
            due_in: None,
        }
    }

    /// A step's stamp is when it was taken, not when another process's lock let it commit:
    /// its age read back counts the wait, so its conversation's clock and inactivity timer
    /// do not lose it after a restart.
    #[tokio::test]
    async fn a_step_that_waited_out_a_lock_is_as_old_as_the_step() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite");
        let store = open(&path).await;
        store.accept(accept("c", None)).await.unwrap();
        let other = Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let durable = store.stepped(step("c", 1, false));
        let wait = Duration::from_millis(1_200);
        tokio::time::sleep(wait).await;
        other.execute_batch("COMMIT").unwrap();
        durable.await.unwrap();
        let stored = store.conversation("c").await.unwrap().unwrap();
        assert_eq!(stored.state, json!({"seq": 1}));
        assert!(stored.age >= wait, "aged {:?} only", stored.age);
    }

    #[tokio::test]
    async fn a_prune_is_one_bounded_batch_of_finished_work_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite");
        let store = open(&path).await;
        for (conversation, delivery) in [("c", "d-1"), ("c", "d-2"), ("ended", "e-1")] {
            store
                .accept(accept(conversation, Some(delivery)))
                .await
                .unwrap();
        }
        store.stepped(step("c", 1, false)).await.unwrap();
        store.stepped(step("c", 2, false)).await.unwrap();
        store.stepped(step("ended", 1, true)).await.unwrap();
        // Unanswered: kept, and so is the attempt journaled just before it.
        store.accept(accept("c", Some("d-3"))).await.unwrap();
        store
            .attempt_started("c", "k/c/3/open".into())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        let one = Batch {
            rows: 1,
            conversations: 1,
        };
        let first = store.prune(Duration::ZERO, one).await.unwrap();
        let expected = Pruned {
            // One of `c`'s, and the ended conversation's with it.
            events: 2,
            attempts: 0,
            conversations: 1,
            trace: 1,
        };
        assert_eq!(first, expected);
        let second = store.prune(Duration::ZERO, one).await.unwrap();
        assert_eq!(second.events, 1);
        assert_eq!(
            store.prune(Duration::ZERO, one).await,
            Ok(Pruned::default())
        );
        let recovery = store.recover().await.unwrap();
        let pending: Vec<u64> = recovery.pending.iter().map(|p| p.n).collect();
        assert_eq!(pending, [3]);
        assert_eq!(recovery.attempts, [("k/c/3/open".to_string(), None)]);
        let kept = store.conversation("c").await.unwrap().unwrap();
        assert_eq!(kept.state, json!({"seq": 2}));
        assert_eq!(store.trace("c", 0, 10).await.unwrap().len(), 2);
        assert_eq!(store.conversation("ended").await, Ok(None));
        // Kept for an hour, nothing goes.
        store.stepped(step("c", 3, false)).await.unwrap();
        let hour = Duration::from_secs(3600);
        assert_eq!(store.prune(hour, one).await, Ok(Pruned::default()));
    }
}
