//! The shared store: PostgreSQL, for several `agentc serve` nodes on one database. Like the
//! SQLite store, a writer task owns a connection and commits whatever is queued in one
//! transaction, by one call of `agentc_journal` (a write that fails is rolled back alone);
//! there are [`WRITERS`], a conversation's writes all on one;
//! reads use a pool. On top, each conversation has a lease row (owner, expiry, epoch),
//! taken, renewed and released in the writer's groups too: a node handles a conversation's
//! events only while it holds the lease, and every event it journals is fenced by it.

use super::prune::{Batch, Pruned};
use super::{
    parse, state_of, text, Accept, AcceptRow, Accepted, Durable, PendingEvent, Recovery, Step,
    StepRow, Store, StoreError, StoredConversation,
};
use crate::serve::metrics::Metrics;
use futures::future::BoxFuture;
use serde_json::Value as Json;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool, Row};
use std::collections::HashSet;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// At most this many writes share one commit: a bound on one transaction's size.
const MAX_GROUP: usize = 1024;

/// How long the store may take to connect, to hand out a pooled connection, or to answer
/// one statement. Past it the store counts as unreachable (a network that drops packets
/// never answers): the read or write fails, so `/readyz` says `not_ready` and an event gets
/// `503 store_unavailable`, and a connection that did not answer is not used again.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// The bound of the reads that scan (a restart's recovery, a takeover's events and
/// attempts): their time grows with the journal, and only a start or a takeover waits.
const SCAN_TIMEOUT: Duration = Duration::from_secs(60);

/// The database's clock in Unix milliseconds: what `updated_at` and `due_at` are written
/// and compared in, so the nodes' clocks do not matter.
macro_rules! db_now_ms {
    () => {
        "(extract(epoch FROM now()) * 1000)::BIGINT"
    };
}

/// The schema, one migration per version; a database records the last one applied in
/// `agentc_schema`. Append, never edit: a database made by an older agentc is upgraded.
const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE events (
        conversation TEXT NOT NULL,
        n BIGINT NOT NULL,
        delivery TEXT UNIQUE,
        body TEXT NOT NULL,
        accepted_at BIGINT NOT NULL,
        answer TEXT,
        PRIMARY KEY (conversation, n));
    CREATE INDEX events_pending ON events (accepted_at) WHERE answer IS NULL;
    CREATE TABLE attempts (
        key TEXT PRIMARY KEY,
        outcome TEXT,
        at BIGINT NOT NULL);
    CREATE INDEX attempts_at ON attempts (at);
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        status TEXT NOT NULL,
        retired BOOLEAN NOT NULL,
        updated_at BIGINT NOT NULL);
    CREATE TABLE trace (
        position BIGSERIAL PRIMARY KEY,
        conversation TEXT NOT NULL,
        record TEXT NOT NULL);
    CREATE INDEX trace_by_conversation ON trace (conversation, position);
    CREATE TABLE leases (
        conversation TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        epoch BIGINT NOT NULL);
    CREATE INDEX leases_owner ON leases (owner);
",
    "
    ALTER TABLE conversations ADD COLUMN due_at BIGINT;
    CREATE INDEX conversations_due ON conversations (due_at) WHERE due_at IS NOT NULL;
",
    // What the retention sweep finds old finished work by.
    "
    CREATE INDEX events_answered ON events (accepted_at) WHERE answer IS NOT NULL;
    CREATE INDEX conversations_ended ON conversations (updated_at) WHERE retired;
",
    // A state journaled before an after-the-end event made it `ended` still says `active`
    // (`store::state_of` reads it as ended): no inactivity timer is due for it.
    "
    UPDATE conversations SET status = 'ended', due_at = NULL
    WHERE NOT retired AND status = 'active'
    AND jsonb_array_length(COALESCE(state::jsonb -> 'after_end', '[]'::jsonb)) > 0;
",
    // A group commit's writes applied by one call (`agentc_journal`), so a group is three
    // round trips (BEGIN, the call, COMMIT), not several per write. The JSON texts arrive
    // as JSON strings, so a `\u0000` in them is kept as text, as a bound TEXT is.
    concat!(
        "
    CREATE FUNCTION agentc_take_lease(conversation TEXT, node TEXT, lease_ms FLOAT8)
    RETURNS BIGINT LANGUAGE sql AS $$
    INSERT INTO leases (conversation, owner, expires_at, epoch)
    VALUES (conversation, node, now() + lease_ms * interval '1 millisecond', 1)
    ON CONFLICT (conversation) DO UPDATE SET owner = excluded.owner,
      expires_at = excluded.expires_at,
      epoch = CASE WHEN leases.owner = excluded.owner THEN leases.epoch
                   ELSE leases.epoch + 1 END
    WHERE leases.owner = excluded.owner OR leases.expires_at <= now()
    RETURNING epoch
    $$;
    CREATE FUNCTION agentc_write(w JSON, node TEXT, lease_ms FLOAT8, at BIGINT)
    RETURNS JSON LANGUAGE plpgsql AS $$
    DECLARE
      c TEXT := w ->> 'conversation';
      seen RECORD;
      n BIGINT;
    BEGIN
      CASE w ->> 'kind'
      WHEN 'accept' THEN
        IF w ->> 'delivery' IS NOT NULL THEN
          SELECT e.conversation, e.n, e.answer INTO seen FROM events e
          WHERE e.delivery = w ->> 'delivery';
          IF FOUND THEN
            RETURN json_build_object('duplicate', json_build_object(
              'conversation', seen.conversation, 'n', seen.n, 'answer', seen.answer));
          END IF;
        END IF;
        IF (w ->> 'only_duplicate')::BOOLEAN THEN
          RETURN to_json('refused'::TEXT);
        END IF;
        -- The fence: a node whose lease passed to another journals nothing more for it.
        IF NOT EXISTS (SELECT 1 FROM leases l WHERE l.conversation = c AND l.owner = node
                       AND l.expires_at > now()) THEN
          RETURN to_json('fenced'::TEXT);
        END IF;
        INSERT INTO conversations (id, state, status, retired, updated_at)
        VALUES (c, w ->> 'initial', 'active', FALSE, ",
        db_now_ms!(),
        ") ON CONFLICT (id) DO NOTHING;
        INSERT INTO events (conversation, n, delivery, body, accepted_at)
        SELECT c, COALESCE(MAX(e.n), 0) + 1, w ->> 'delivery', w ->> 'body', at
        FROM events e WHERE e.conversation = c
        RETURNING events.n INTO n;
        RETURN json_build_object('new', n);
      WHEN 'attempt' THEN
        INSERT INTO attempts (key, outcome, at) VALUES (w ->> 'key', w ->> 'outcome', at)
        ON CONFLICT (key) DO UPDATE SET outcome = excluded.outcome, at = excluded.at;
      WHEN 'step' THEN
        -- A timer's step counts only if this node still holds the lease or can take it.
        IF w ->> 'event' IS NULL AND agentc_take_lease(c, node, lease_ms) IS NULL THEN
          RETURN to_json('fenced'::TEXT);
        END IF;
        INSERT INTO conversations (id, state, status, retired, updated_at, due_at)
        VALUES (c, w ->> 'state', w ->> 'status', (w ->> 'retired')::BOOLEAN, ",
        db_now_ms!(),
        ", ",
        db_now_ms!(),
        " + (w ->> 'due_in')::BIGINT)
        ON CONFLICT (id) DO UPDATE SET state = excluded.state, status = excluded.status,
        retired = excluded.retired, updated_at = excluded.updated_at, due_at = excluded.due_at;
        INSERT INTO trace (conversation, record)
        SELECT c, r FROM json_array_elements_text(w -> 'records') WITH ORDINALITY AS t(r, i)
        ORDER BY i;
        IF w ->> 'answer' IS NOT NULL THEN
          UPDATE events SET answer = w ->> 'answer'
          WHERE conversation = c AND events.n = (w ->> 'event')::BIGINT;
        END IF;
      WHEN 'flush' THEN
      END CASE;
      RETURN to_json('done'::TEXT);
    END
    $$;
    -- All writes in one subtransaction; should one fail, each in its own, so only the
    -- writes that fail are lost (as a savepoint per write would).
    CREATE FUNCTION agentc_journal(writes JSON, node TEXT, lease_ms FLOAT8, at BIGINT)
    RETURNS JSON LANGUAGE plpgsql AS $$
    DECLARE
      w JSON;
      results JSON[] := '{}';
    BEGIN
      BEGIN
        FOR w IN SELECT value FROM json_array_elements(writes) LOOP
          results := results || agentc_write(w, node, lease_ms, at);
        END LOOP;
        RETURN array_to_json(results);
      EXCEPTION WHEN OTHERS THEN
        results := '{}';
      END;
      FOR w IN SELECT value FROM json_array_elements(writes) LOOP
        BEGIN
          results := results || agentc_write(w, node, lease_ms, at);
        EXCEPTION WHEN OTHERS THEN
          results := results || json_build_object('failed', SQLERRM);
        END;
      END LOOP;
      RETURN array_to_json(results);
    END
    $$;
"
    ),
    // Each write read as JSONB, parsed once (JSON's `->>` parses the whole text again at
    // every field); a lease taken, renewed or released in the writer's group too, not by a
    // transaction of its own, and taken along with an accept.
    concat!(
        "
    DROP FUNCTION agentc_journal(JSON, TEXT, FLOAT8, BIGINT);
    DROP FUNCTION agentc_write(JSON, TEXT, FLOAT8, BIGINT);
    CREATE FUNCTION agentc_write(w JSONB, node TEXT, lease_ms FLOAT8, at BIGINT)
    RETURNS JSONB LANGUAGE plpgsql AS $$
    DECLARE
      c TEXT := w ->> 'conversation';
      seen RECORD;
      n BIGINT;
      held BIGINT;
    BEGIN
      CASE w ->> 'kind'
      WHEN 'accept' THEN
        -- The lease taken with the event: journaled only if no other node held it since.
        IF w ->> 'epoch' IS NOT NULL THEN
          held := agentc_take_lease(c, node, lease_ms);
          IF held IS DISTINCT FROM (w ->> 'epoch')::BIGINT THEN
            RETURN jsonb_build_object('moved', held);
          END IF;
        END IF;
        IF w ->> 'delivery' IS NOT NULL THEN
          SELECT e.conversation, e.n, e.answer INTO seen FROM events e
          WHERE e.delivery = w ->> 'delivery';
          IF FOUND THEN
            RETURN jsonb_build_object('duplicate', jsonb_build_object(
              'conversation', seen.conversation, 'n', seen.n, 'answer', seen.answer));
          END IF;
        END IF;
        IF (w ->> 'only_duplicate')::BOOLEAN THEN
          RETURN to_jsonb('refused'::TEXT);
        END IF;
        -- The fence (the lease just taken is one): a node whose lease passed to another
        -- journals nothing more for it.
        IF w ->> 'epoch' IS NULL AND NOT EXISTS (SELECT 1 FROM leases l
            WHERE l.conversation = c AND l.owner = node AND l.expires_at > now()) THEN
          RETURN to_jsonb('fenced'::TEXT);
        END IF;
        INSERT INTO conversations (id, state, status, retired, updated_at)
        VALUES (c, w ->> 'initial', 'active', FALSE, ",
        db_now_ms!(),
        ") ON CONFLICT (id) DO NOTHING;
        INSERT INTO events (conversation, n, delivery, body, accepted_at)
        SELECT c, COALESCE(MAX(e.n), 0) + 1, w ->> 'delivery', w ->> 'body', at
        FROM events e WHERE e.conversation = c
        RETURNING events.n INTO n;
        RETURN jsonb_build_object('new', n);
      WHEN 'attempt' THEN
        INSERT INTO attempts (key, outcome, at) VALUES (w ->> 'key', w ->> 'outcome', at)
        ON CONFLICT (key) DO UPDATE SET outcome = excluded.outcome, at = excluded.at;
      WHEN 'step' THEN
        -- A timer's step counts only if this node still holds the lease or can take it.
        IF w ->> 'event' IS NULL AND agentc_take_lease(c, node, lease_ms) IS NULL THEN
          RETURN to_jsonb('fenced'::TEXT);
        END IF;
        INSERT INTO conversations (id, state, status, retired, updated_at, due_at)
        VALUES (c, w ->> 'state', w ->> 'status', (w ->> 'retired')::BOOLEAN, ",
        db_now_ms!(),
        ", ",
        db_now_ms!(),
        " + (w ->> 'due_in')::BIGINT)
        ON CONFLICT (id) DO UPDATE SET state = excluded.state, status = excluded.status,
        retired = excluded.retired, updated_at = excluded.updated_at, due_at = excluded.due_at;
        INSERT INTO trace (conversation, record)
        SELECT c, r FROM jsonb_array_elements_text(w -> 'records') WITH ORDINALITY AS t(r, i)
        ORDER BY i;
        IF w ->> 'answer' IS NOT NULL THEN
          UPDATE events SET answer = w ->> 'answer'
          WHERE conversation = c AND events.n = (w ->> 'event')::BIGINT;
        END IF;
      WHEN 'lease' THEN
        RETURN jsonb_build_object('lease', agentc_take_lease(c, node, lease_ms));
      WHEN 'release' THEN
        -- Expired, not deleted: the owner stays, so taking it back keeps the epoch.
        UPDATE leases SET expires_at = now() WHERE conversation = c AND owner = node;
      WHEN 'renew' THEN
        UPDATE leases SET expires_at = now() + lease_ms * interval '1 millisecond'
        WHERE owner = node AND expires_at > now()
        AND conversation IN (SELECT jsonb_array_elements_text(w -> 'conversations'));
      WHEN 'flush' THEN
      END CASE;
      RETURN to_jsonb('done'::TEXT);
    END
    $$;
    -- All writes in one subtransaction; should one fail, each in its own, so only the
    -- writes that fail are lost (as a savepoint per write would). The group arrives as
    -- JSON: a NUL escaped in one write (which JSONB refuses) fails that write alone.
    CREATE FUNCTION agentc_journal(writes JSON, node TEXT, lease_ms FLOAT8, at BIGINT)
    RETURNS JSON LANGUAGE plpgsql AS $$
    DECLARE
      w JSON;
      results JSONB[] := '{}';
    BEGIN
      BEGIN
        FOR w IN SELECT value FROM json_array_elements(writes) LOOP
          results := results || agentc_write(w::JSONB, node, lease_ms, at);
        END LOOP;
        RETURN array_to_json(results);
      EXCEPTION WHEN OTHERS THEN
        results := '{}';
      END;
      FOR w IN SELECT value FROM json_array_elements(writes) LOOP
        BEGIN
          results := results || agentc_write(w::JSONB, node, lease_ms, at);
        EXCEPTION WHEN OTHERS THEN
          results := results || jsonb_build_object('failed', SQLERRM);
        END;
      END LOOP;
      RETURN array_to_json(results);
    END
    $$;
"
    ),
];

const DB_NOW_MS: &str = db_now_ms!();

/// How long ago a conversation's state was journaled, in milliseconds.
const AGE_MS: &str = concat!("GREATEST(", db_now_ms!(), " - updated_at, 0)");

/// Any key of `pg_advisory_xact_lock` works; nodes starting together migrate one at a time.
const MIGRATION_LOCK: i64 = 0x6167_656e_7463;

/// How far before the oldest unfinished event attempts are still read back on recovery.
const RECOVERY_MARGIN_MS: i64 = 60_000;

/// Whether a URL names a PostgreSQL store.
pub fn is_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// What the writer fences writes with: this node, and how long a lease it takes.
struct Fence {
    node: String,
    lease: Duration,
}

enum Write {
    Accept(
        Box<AcceptRow>,
        oneshot::Sender<Result<Accepted, StoreError>>,
    ),
    Started(String, oneshot::Sender<Result<(), StoreError>>),
    Ended(String, String, oneshot::Sender<Result<(), StoreError>>),
    Stepped(Box<StepRow>, oneshot::Sender<Result<(), StoreError>>),
    Flush(oneshot::Sender<Result<(), StoreError>>),
    Lease(String, oneshot::Sender<Result<Option<i64>, StoreError>>),
    Release(String, oneshot::Sender<Result<(), StoreError>>),
    Renew(Vec<String>, oneshot::Sender<Result<(), StoreError>>),
}

/// Writer tasks, each on a connection (and a PostgreSQL backend) of its own: a
/// conversation's writes all go to one, by its id, so they commit in the order called,
/// while other conversations' groups commit beside them (one backend applying groups is
/// busy most of the time under load).
const WRITERS: usize = 2;

/// The writer that takes a conversation's writes.
fn writer_of(conversation: &str) -> usize {
    use std::hash::{BuildHasher, BuildHasherDefault};
    let hash = BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
        .hash_one(conversation);
    (hash % WRITERS as u64) as usize
}

pub struct Postgres {
    writes: Vec<mpsc::UnboundedSender<Write>>,
    pool: PgPool,
    /// The conversations this node's actors hold now: only these are renewed (a lease a
    /// timer's step took lapses by itself).
    held: Arc<Mutex<HashSet<String>>>,
}

impl Postgres {
    /// Connects, brings the schema up to date and starts the writer and the lease renewer.
    /// A lease not renewed for `lease` passes to the next node that asks.
    pub async fn open(
        url: &str,
        lease: Duration,
        metrics: Arc<Metrics>,
    ) -> Result<Postgres, StoreError> {
        // The URL may hold a password: errors name the host only.
        let failed = |e: sqlx::Error| StoreError(format!("cannot open the PostgreSQL store: {e}"));
        let options = PgConnectOptions::from_str(url)
            .map_err(failed)?
            .disable_statement_logging();
        let mut first = connect(&options).await?;
        migrate(&mut first).await.map_err(failed)?;
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(TIMEOUT)
            .connect_with(options.clone())
            .await
            .map_err(failed)?;
        // This process: a random name, so a node restarted on the same machine is another.
        let node = format!("{:016x}", rand::random::<u64>());
        let mut writes = Vec::with_capacity(WRITERS);
        let mut first = Some(first);
        for _ in 0..WRITERS {
            let writer = match first.take() {
                Some(conn) => conn,
                None => connect(&options).await?,
            };
            let (tx, queue) = mpsc::unbounded_channel();
            let fence = Fence {
                node: node.clone(),
                lease,
            };
            let (options, metrics) = (options.clone(), metrics.clone());
            tokio::spawn(write_loop(options, writer, queue, fence, metrics));
            writes.push(tx);
        }
        let held = Arc::default();
        let weak = writes.iter().map(|w| w.downgrade()).collect();
        tokio::spawn(renew_loop(weak, lease, Arc::clone(&held)));
        Ok(Postgres { writes, pool, held })
    }

    /// Queues a write on writer `writer` (a conversation's is [`writer_of`] it).
    fn queue<T>(
        &self,
        writer: usize,
        write: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Write,
    ) -> Durable<T> {
        let (tx, durable) = Durable::channel();
        // A writer that stopped drops the write, and `Durable` says so.
        let _ = self.writes[writer].send(write(tx));
        durable
    }
}

/// Applies the migrations this database lacks, under a lock held to the commit.
async fn migrate(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS agentc_schema (version INTEGER NOT NULL)")
        .execute(&mut *tx)
        .await?;
    let version: Option<i32> = sqlx::query_scalar("SELECT MAX(version) FROM agentc_schema")
        .fetch_one(&mut *tx)
        .await?;
    let version = version.unwrap_or(0) as usize;
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(version) {
        sqlx::raw_sql(migration).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO agentc_schema (version) VALUES ($1)")
            .bind(i as i32 + 1)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// A connection of its own (the writer's), within [`TIMEOUT`].
async fn connect(options: &PgConnectOptions) -> Result<PgConnection, StoreError> {
    // The URL may hold a password: errors name the host only.
    let failed = |e: sqlx::Error| StoreError(format!("cannot reach the PostgreSQL store: {e}"));
    match tokio::time::timeout(TIMEOUT, PgConnection::connect_with(options)).await {
        Ok(connected) => connected.map_err(failed),
        Err(_) => Err(unanswered(TIMEOUT)),
    }
}

fn unanswered(bound: Duration) -> StoreError {
    StoreError(format!(
        "the store did not answer within {}",
        crate::runtime::show_duration(bound)
    ))
}

/// Runs `statements` on a pooled connection, taking it and running them within `bound` in
/// all; a connection that did not answer in time is closed, not handed out again. One
/// the store closed (it restarted, or the network broke) is replaced once: every caller's
/// statements can run twice (reads).
async fn pooled<T>(
    pool: &PgPool,
    bound: Duration,
    statements: impl AsyncFnOnce(&mut PgConnection) -> Result<T, sqlx::Error> + Clone,
) -> Result<T, StoreError> {
    let until = tokio::time::Instant::now() + bound;
    let mut replaced = false;
    loop {
        let mut conn = match tokio::time::timeout_at(until, pool.acquire()).await {
            Ok(conn) => conn.map_err(store_error)?,
            Err(_) => return Err(unanswered(bound)),
        };
        match tokio::time::timeout_at(until, statements.clone()(&mut conn)).await {
            Ok(Err(sqlx::Error::Io(_))) if !replaced => {
                conn.close_on_drop();
                replaced = true;
            }
            Ok(result) => return result.map_err(store_error),
            Err(_) => {
                conn.close_on_drop();
                return Err(unanswered(bound));
            }
        }
    }
}

/// Every third of the lease, the leases this node's actors hold are extended; a node that
/// stops renewing (killed, cut off) loses them once they expire.
async fn renew_loop(
    writes: Vec<mpsc::WeakUnboundedSender<Write>>,
    lease: Duration,
    held: Arc<Mutex<HashSet<String>>>,
) {
    let mut tick = tokio::time::interval(lease / 3);
    loop {
        tick.tick().await;
        let mut each: Vec<Vec<String>> = vec![Vec::new(); writes.len()];
        for conversation in lock(&held).iter() {
            each[writer_of(conversation)].push(conversation.clone());
        }
        for (writes, held) in writes.iter().zip(each) {
            if held.is_empty() {
                continue;
            }
            // Through the conversations' writer, the one connection of this node that
            // writes their lease rows: a transaction of its own would deadlock with its
            // groups.
            let Some(writes) = writes.upgrade() else {
                return;
            };
            let (tx, renewed) = Durable::channel();
            let _ = writes.send(Write::Renew(held, tx));
            drop(writes);
            if let Err(e) = renewed.await {
                tracing::warn!("the conversation leases were not renewed: {e}");
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// A row of `SELECT key, outcome FROM attempts`: the key and its outcome, if it ended.
fn attempt_row(row: &sqlx::postgres::PgRow) -> (String, Option<Json>) {
    let outcome: Option<String> = row.get(1);
    (row.get(0), outcome.map(|o| parse(&o)))
}

fn store_error(e: sqlx::Error) -> StoreError {
    StoreError(format!("the store failed: {e}"))
}

impl Store for Postgres {
    fn accept(&self, event: Accept) -> Durable<Accepted> {
        if event.epoch.is_some() {
            // Held from now on, unless another node does (renewing then changes nothing).
            lock(&self.held).insert(event.conversation.clone());
        }
        let row = AcceptRow::of(event);
        self.queue(writer_of(&row.conversation), |tx| Write::Accept(row, tx))
    }
    fn attempt_started(&self, conversation: &str, key: String) -> Durable<()> {
        self.queue(writer_of(conversation), |tx| Write::Started(key, tx))
    }
    fn attempt_ended(&self, conversation: &str, key: String, outcome: Json) -> Durable<()> {
        let outcome = text(&outcome);
        self.queue(writer_of(conversation), |tx| Write::Ended(key, outcome, tx))
    }
    fn stepped(&self, step: Step) -> Durable<()> {
        let row = StepRow::of(step);
        self.queue(writer_of(&row.conversation), |tx| Write::Stepped(row, tx))
    }
    fn flush(&self) -> Durable<()> {
        // Every writer's: the writes queued before it are on all of them.
        let flushes: Vec<Durable<()>> = (0..self.writes.len())
            .map(|writer| self.queue(writer, Write::Flush))
            .collect();
        let (tx, all) = Durable::channel();
        tokio::spawn(async move {
            let mut flushed = Ok(());
            for flush in flushes {
                flushed = flushed.and(flush.await);
            }
            let _ = tx.send(flushed);
        });
        all
    }

    // Both in the writer's group (the lease is a row like the journal's): no transaction,
    // and so no flush, of their own.
    fn lease(&self, conversation: &str) -> BoxFuture<'_, Result<Option<i64>, StoreError>> {
        let conversation = conversation.to_string();
        // Taken when free, expired, or already ours; the epoch moves when the owner
        // changes, so a node sees whether someone else ran the conversation meanwhile.
        let epoch = self.queue(writer_of(&conversation), |tx| {
            Write::Lease(conversation.clone(), tx)
        });
        Box::pin(async move {
            let epoch = epoch.await?;
            if epoch.is_some() {
                lock(&self.held).insert(conversation);
            }
            Ok(epoch)
        })
    }

    fn release(&self, conversation: &str) -> Durable<()> {
        lock(&self.held).remove(conversation);
        self.queue(writer_of(conversation), |tx| {
            Write::Release(conversation.to_string(), tx)
        })
    }

    fn takeover(&self, conversation: &str) -> BoxFuture<'_, Result<Recovery, StoreError>> {
        let conversation = conversation.to_string();
        Box::pin(async move {
            let pending = pending_of(&self.pool, Some(&conversation)).await?;
            let state: Option<String> = pooled(&self.pool, TIMEOUT, async |conn| {
                sqlx::query_scalar("SELECT state FROM conversations WHERE id = $1")
                    .bind(&conversation)
                    .fetch_optional(conn)
                    .await
            })
            .await?;
            let instance = state
                .as_deref()
                .map(parse)
                .and_then(|s| s["instance"].as_str().map(str::to_string));
            let attempts = match (&instance, pending.is_empty()) {
                (Some(instance), false) => {
                    // Idempotency keys hold `/INSTANCE/`; LIKE's own characters are left out of it.
                    let pattern = format!("%/{}/%", instance.replace(['%', '_', '\\'], ""));
                    pooled(&self.pool, SCAN_TIMEOUT, async |conn| {
                        sqlx::query("SELECT key, outcome FROM attempts WHERE key LIKE $1")
                            .bind(pattern)
                            .fetch_all(conn)
                            .await
                    })
                    .await?
                    .iter()
                    .map(attempt_row)
                    .collect()
                }
                _ => Vec::new(),
            };
            Ok(Recovery {
                live: Vec::new(),
                pending,
                attempts,
            })
        })
    }

    fn shared(&self) -> bool {
        true
    }

    fn date_timers<'a>(
        &'a self,
        due_in: &'a (dyn Fn(StoredConversation) -> Option<u64> + Send + Sync),
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let sql = format!(
                "SELECT id, state, {AGE_MS}, updated_at FROM conversations
                 WHERE due_at IS NULL AND NOT retired AND status = 'active'"
            );
            let rows = pooled(&self.pool, SCAN_TIMEOUT, async |conn| {
                sqlx::query(&sql).fetch_all(conn).await
            })
            .await?;
            let mut dated = 0;
            for row in rows {
                let stored = StoredConversation {
                    state: state_of(row.get::<&str, _>(1)),
                    retired: false,
                    age: Duration::from_millis(row.get::<i64, _>(2) as u64),
                };
                let Some(ms) = due_in(stored) else { continue };
                let (id, updated_at) = (row.get::<String, _>(0), row.get::<i64, _>(3));
                let ms = i64::try_from(ms).unwrap_or(i64::MAX / 2);
                // Unless a step journaled it since (and so dated it, or has no timer).
                let sql = format!(
                    "UPDATE conversations SET due_at = {DB_NOW_MS} + $2
                     WHERE id = $1 AND due_at IS NULL AND updated_at = $3"
                );
                let done = pooled(&self.pool, TIMEOUT, async |conn| {
                    sqlx::query(&sql)
                        .bind(&id)
                        .bind(ms)
                        .bind(updated_at)
                        .execute(conn)
                        .await
                })
                .await?;
                dated += done.rows_affected();
            }
            Ok(dated)
        })
    }

    fn due(&self, limit: u32) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            // By the partial index on `due_at`, at most `limit` rows: no scan, so the bound
            // of one statement. The leases are looked up by their key.
            let sql = format!(
                "SELECT id FROM conversations c WHERE due_at <= {DB_NOW_MS} AND NOT EXISTS
                 (SELECT 1 FROM leases l WHERE l.conversation = c.id AND l.expires_at > now())
                 ORDER BY due_at LIMIT $1"
            );
            pooled(&self.pool, TIMEOUT, async |conn| {
                sqlx::query_scalar(&sql)
                    .bind(i64::from(limit))
                    .fetch_all(conn)
                    .await
            })
            .await
        })
    }

    fn conversation(
        &self,
        id: &str,
    ) -> BoxFuture<'_, Result<Option<StoredConversation>, StoreError>> {
        let id = id.to_string();
        Box::pin(async move {
            let sql = format!("SELECT state, retired, {AGE_MS} FROM conversations WHERE id = $1");
            let row = pooled(&self.pool, TIMEOUT, async |conn| {
                sqlx::query(&sql).bind(id).fetch_optional(conn).await
            })
            .await?;
            Ok(row.map(|row| StoredConversation {
                state: state_of(row.get::<&str, _>(0)),
                retired: row.get::<bool, _>(1),
                age: Duration::from_millis(row.get::<i64, _>(2) as u64),
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
            let rows = pooled(&self.pool, TIMEOUT, async |conn| {
                sqlx::query(
                    "SELECT position, record FROM trace WHERE conversation = $1 AND position > $2
                     ORDER BY position LIMIT $3",
                )
                .bind(id)
                .bind(after)
                .bind(limit as i64)
                .fetch_all(conn)
                .await
            })
            .await?;
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
            let row = pooled(&self.pool, TIMEOUT, async |conn| {
                sqlx::query("SELECT answer FROM events WHERE conversation = $1 AND n = $2")
                    .bind(conversation)
                    .bind(n as i64)
                    .fetch_optional(conn)
                    .await
            })
            .await?;
            Ok(row
                .and_then(|row| row.get::<Option<String>, _>(0))
                .map(|answer| parse(&answer)))
        })
    }

    fn recover(&self) -> BoxFuture<'_, Result<Recovery, StoreError>> {
        Box::pin(async move {
            // Conversations another node holds now are its to run; the rest are this one's
            // until someone asks (their leases are taken as their events run).
            let sql = format!(
                "SELECT id, state, {AGE_MS} FROM conversations c WHERE NOT retired AND NOT EXISTS
                 (SELECT 1 FROM leases l WHERE l.conversation = c.id AND l.expires_at > now())"
            );
            let live = pooled(&self.pool, SCAN_TIMEOUT, async |conn| {
                sqlx::query(&sql).fetch_all(conn).await
            })
            .await?
            .iter()
            .map(|row| {
                let stored = StoredConversation {
                    state: state_of(row.get::<&str, _>(1)),
                    retired: false,
                    age: Duration::from_millis(row.get::<i64, _>(2) as u64),
                };
                (row.get::<String, _>(0), stored)
            })
            .collect();
            let pending = pending_of(&self.pool, None).await?;
            let oldest: Option<i64> = pooled(&self.pool, TIMEOUT, async |conn| {
                sqlx::query_scalar("SELECT MIN(accepted_at) FROM events WHERE answer IS NULL")
                    .fetch_one(conn)
                    .await
            })
            .await?;
            let attempts = match oldest {
                None => Vec::new(),
                Some(oldest) => pooled(&self.pool, SCAN_TIMEOUT, async |conn| {
                    sqlx::query("SELECT key, outcome FROM attempts WHERE at >= $1")
                        .bind(oldest - RECOVERY_MARGIN_MS)
                        .fetch_all(conn)
                        .await
                })
                .await?
                .iter()
                .map(attempt_row)
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
            pooled(&self.pool, TIMEOUT, async |conn| {
                sqlx::query("SELECT 1").execute(conn).await.map(drop)
            })
            .await
        })
    }

    fn prune(&self, retain: Duration, batch: Batch) -> BoxFuture<'_, Result<Pruned, StoreError>> {
        Box::pin(async move {
            // Bounded as a scan is: a sweep never hangs on a store that went away.
            pooled(&self.pool, SCAN_TIMEOUT, async |conn| {
                let mut tx = conn.begin().await?;
                let pruned = prune(&mut tx, retain, batch).await?;
                tx.commit().await?;
                Ok(pruned)
            })
            .await
        })
    }
}

/// One batch of the retention sweep (`super::prune` says what may go), on the database's
/// clock. Rows another node's sweep is deleting are skipped, not waited for.
async fn prune(
    conn: &mut PgConnection,
    retain: Duration,
    batch: Batch,
) -> Result<Pruned, sqlx::Error> {
    let retain_ms = i64::try_from(retain.as_millis()).unwrap_or(i64::MAX);
    let (before, oldest): (i64, Option<i64>) = sqlx::query_as(&format!(
        "SELECT {DB_NOW_MS} - $1, (SELECT MIN(accepted_at) FROM events WHERE answer IS NULL)"
    ))
    .bind(retain_ms)
    .fetch_one(&mut *conn)
    .await?;
    let attempts_before = oldest.map_or(before, |oldest| before.min(oldest - RECOVERY_MARGIN_MS));
    let rows = i64::from(batch.rows);
    let attempts = sqlx::query(
        "DELETE FROM attempts WHERE key IN (SELECT key FROM attempts WHERE at < $1
         LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind(attempts_before)
    .bind(rows)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let events = sqlx::query(
        "DELETE FROM events WHERE (conversation, n) IN (SELECT conversation, n FROM events
         WHERE answer IS NOT NULL AND accepted_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind(before)
    .bind(rows)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let ended: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM conversations c WHERE retired AND updated_at < $1
         AND NOT EXISTS (SELECT 1 FROM events e WHERE e.conversation = c.id AND e.answer IS NULL)
         AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.conversation = c.id AND l.expires_at > now())
         LIMIT $2 FOR UPDATE SKIP LOCKED",
    )
    .bind(before)
    .bind(i64::from(batch.conversations))
    .fetch_all(&mut *conn)
    .await?;
    let mut pruned = Pruned {
        events,
        attempts,
        conversations: ended.len() as u64,
        trace: 0,
    };
    if ended.is_empty() {
        return Ok(pruned);
    }
    // Its rows first, the conversation last.
    pruned.trace = of_ended(
        conn,
        "DELETE FROM trace WHERE conversation = ANY($1)",
        &ended,
    )
    .await?;
    pruned.events += of_ended(
        conn,
        "DELETE FROM events WHERE conversation = ANY($1)",
        &ended,
    )
    .await?;
    of_ended(
        conn,
        "DELETE FROM leases WHERE conversation = ANY($1)",
        &ended,
    )
    .await?;
    of_ended(conn, "DELETE FROM conversations WHERE id = ANY($1)", &ended).await?;
    Ok(pruned)
}

/// Runs a `DELETE` of the conversations `ended`; how many rows went.
async fn of_ended(
    conn: &mut PgConnection,
    statement: &str,
    ended: &[String],
) -> Result<u64, sqlx::Error> {
    sqlx::query(statement)
        .bind(ended)
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
}

/// Events accepted and not answered (of one conversation, or of those no node holds now),
/// in order per conversation.
async fn pending_of(
    pool: &PgPool,
    conversation: Option<&str>,
) -> Result<Vec<PendingEvent>, StoreError> {
    let rows = pooled(pool, SCAN_TIMEOUT, async |conn| {
        sqlx::query(
            "SELECT conversation, n, body FROM events e WHERE answer IS NULL
             AND ($1::TEXT IS NULL AND NOT EXISTS (SELECT 1 FROM leases l
                    WHERE l.conversation = e.conversation AND l.expires_at > now())
                  OR e.conversation = $1)
             ORDER BY conversation, n",
        )
        .bind(conversation)
        .fetch_all(conn)
        .await
    })
    .await?;
    Ok(rows
        .iter()
        .map(|row| PendingEvent {
            conversation: row.get(0),
            n: row.get::<i64, _>(1) as u64,
            body: parse(row.get::<&str, _>(2)),
        })
        .collect())
}

/// Takes what is queued, commits it as one transaction, then answers each write. A
/// connection lost, or one that stopped answering, is opened again for the next group: a
/// group finding the store unreachable is refused at once.
async fn write_loop(
    options: PgConnectOptions,
    writer: PgConnection,
    mut queue: mpsc::UnboundedReceiver<Write>,
    fence: Fence,
    metrics: Arc<Metrics>,
) {
    let mut writer = Some(writer);
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
        let mut unsent = std::mem::take(&mut group);
        if let Some(mut conn) = writer.take() {
            match commit(&mut conn, &fence, unsent).await {
                Ok(usable) => {
                    writer = usable.then_some(conn);
                    unsent = Vec::new();
                }
                // Lost while idle (the database restarted): once more, on a new connection.
                Err((back, _)) => unsent = back,
            }
        }
        if !unsent.is_empty() {
            let committed = match connect(&options).await {
                Ok(mut conn) => commit(&mut conn, &fence, unsent)
                    .await
                    .map(|usable| writer = usable.then_some(conn)),
                Err(error) => Err((unsent, error)),
            };
            if let Err((unsent, error)) = committed {
                for write in unsent {
                    unapplied(write, error.clone()).send(&Err(error.clone()));
                }
            }
        }
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
    Leased(
        oneshot::Sender<Result<Option<i64>, StoreError>>,
        Result<Option<i64>, StoreError>,
    ),
}

impl Answer {
    /// Sends the write's result once its group's commit is known.
    fn send(self, committed: &Result<(), StoreError>) {
        match self {
            Answer::Accepted(tx, result) => drop(tx.send(committed.clone().and(result))),
            Answer::Done(tx, result) => drop(tx.send(committed.clone().and(result))),
            Answer::Leased(tx, result) => drop(tx.send(committed.clone().and(result))),
        }
    }
}

/// A write that was not applied, answered with `error`.
fn unapplied(write: Write, error: StoreError) -> Answer {
    match write {
        Write::Accept(_, tx) => Answer::Accepted(tx, Err(error)),
        Write::Lease(_, tx) => Answer::Leased(tx, Err(error)),
        Write::Started(_, tx)
        | Write::Ended(_, _, tx)
        | Write::Stepped(_, tx)
        | Write::Release(_, tx)
        | Write::Renew(_, tx)
        | Write::Flush(tx) => Answer::Done(tx, Err(error)),
    }
}

/// Bounds each statement of a group by [`TIMEOUT`]; once one is missed, the connection is
/// in an unknown state and nothing more is sent on it.
#[derive(Default)]
struct Deadline {
    missed: bool,
}

impl Deadline {
    async fn within<T>(
        &mut self,
        statement: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        if self.missed {
            return Err(unanswered(TIMEOUT));
        }
        match tokio::time::timeout(TIMEOUT, statement).await {
            Ok(result) => result,
            Err(_) => {
                self.missed = true;
                Err(unanswered(TIMEOUT))
            }
        }
    }
}

async fn statement(conn: &mut PgConnection, sql: &'static str) -> Result<(), StoreError> {
    sqlx::query(sql)
        .execute(conn)
        .await
        .map(drop)
        .map_err(store_error)
}

/// Commits the group and answers each write; `false` when the connection is not to be used
/// again (it failed or stopped answering, and the commit's fate is then unknown). A group
/// whose transaction could not begin comes back unsent.
async fn commit(
    conn: &mut PgConnection,
    fence: &Fence,
    group: Vec<Write>,
) -> Result<bool, (Vec<Write>, StoreError)> {
    let mut deadline = Deadline::default();
    if let Err(error) = deadline.within(statement(conn, "BEGIN")).await {
        return Err((group, error));
    }
    // Cannot fail (text keys only); were it to, the call fails and so does every write.
    let sent =
        serde_json::to_string(&group.iter().map(Sent::of).collect::<Vec<_>>()).unwrap_or_default();
    let outcomes = deadline
        .within(async {
            let sqlx::types::Json(outcomes): sqlx::types::Json<Vec<Outcome>> =
                // As text, for JSON (not JSONB) to read: a NUL in one write fails it alone.
                sqlx::query_scalar("SELECT agentc_journal($1::TEXT::JSON, $2, $3, $4)")
                    .bind(&sent)
                    .bind(&fence.node)
                    .bind(fence.lease.as_millis() as f64)
                    .bind(now_ms())
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(store_error)?;
            match outcomes.len() == group.len() {
                true => Ok(outcomes),
                false => Err(StoreError(
                    "the store answered another number of writes".into(),
                )),
            }
        })
        .await;
    let committed = match &outcomes {
        Ok(_) => deadline.within(statement(conn, "COMMIT")).await,
        Err(error) => {
            let _ = deadline.within(statement(conn, "ROLLBACK")).await;
            Err(error.clone())
        }
    };
    match outcomes {
        Ok(outcomes) => {
            for (write, outcome) in group.into_iter().zip(outcomes) {
                answer(write, outcome).send(&committed);
            }
        }
        Err(error) => {
            for write in group {
                unapplied(write, error.clone()).send(&committed);
            }
        }
    }
    Ok(committed.is_ok())
}

/// A write as `agentc_journal` reads it: JSON values as their texts (made by the caller).
#[derive(serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Sent<'a> {
    Accept {
        conversation: &'a str,
        delivery: Option<&'a str>,
        body: &'a str,
        initial: &'a str,
        only_duplicate: bool,
        epoch: Option<i64>,
    },
    Attempt {
        key: &'a str,
        outcome: Option<&'a str>,
    },
    Step {
        conversation: &'a str,
        event: Option<u64>,
        state: &'a str,
        status: &'a str,
        retired: bool,
        records: &'a [String],
        answer: Option<&'a str>,
        due_in: Option<i64>,
    },
    Flush,
    Lease {
        conversation: &'a str,
    },
    Release {
        conversation: &'a str,
    },
    Renew {
        conversations: &'a [String],
    },
}

impl<'a> Sent<'a> {
    fn of(write: &'a Write) -> Sent<'a> {
        match write {
            Write::Accept(event, _) => Sent::Accept {
                conversation: &event.conversation,
                delivery: event.delivery.as_deref(),
                body: &event.body,
                initial: &event.initial,
                only_duplicate: event.only_duplicate,
                epoch: event.epoch,
            },
            Write::Started(key, _) => Sent::Attempt { key, outcome: None },
            Write::Ended(key, outcome, _) => Sent::Attempt {
                key,
                outcome: Some(outcome),
            },
            Write::Stepped(step, _) => Sent::Step {
                conversation: &step.conversation,
                event: step.event,
                state: &step.state,
                status: &step.status,
                retired: step.retired,
                records: &step.records,
                answer: step.answer.as_deref(),
                due_in: step
                    .due_in
                    .map(|ms| i64::try_from(ms).unwrap_or(i64::MAX / 2)),
            },
            Write::Flush(_) => Sent::Flush,
            Write::Lease(conversation, _) => Sent::Lease { conversation },
            Write::Release(conversation, _) => Sent::Release { conversation },
            Write::Renew(conversations, _) => Sent::Renew { conversations },
        }
    }
}

/// What `agentc_journal` answers for one write.
#[derive(serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Outcome {
    New(i64),
    Duplicate {
        conversation: String,
        n: i64,
        answer: Option<String>,
    },
    Refused,
    Done,
    /// The lease's epoch, if this node holds it now.
    Lease(Option<i64>),
    /// An accept's lease: another node held it since the epoch the accept expected.
    Moved(Option<i64>),
    /// The lease fencing the write is another node's.
    Fenced,
    /// The write's statements failed (and were rolled back alone).
    Failed(String),
}

/// The answer to send for a write, once its group's commit is known.
fn answer(write: Write, outcome: Outcome) -> Answer {
    match write {
        Write::Accept(event, tx) => Answer::Accepted(
            tx,
            match outcome {
                Outcome::New(n) => Ok(Accepted::New { n: n as u64 }),
                Outcome::Duplicate {
                    conversation,
                    n,
                    answer,
                } => Ok(Accepted::Duplicate {
                    conversation,
                    n: n as u64,
                    answer: answer.map(|a| parse(&a)),
                }),
                Outcome::Refused => Ok(Accepted::Refused),
                Outcome::Moved(epoch) => Ok(Accepted::Moved(epoch)),
                other => Err(failure(other, &event.conversation)),
            },
        ),
        Write::Stepped(step, tx) => Answer::Done(
            tx,
            match outcome {
                Outcome::Done => Ok(()),
                Outcome::Fenced => Err(StoreError(format!(
                    "another node holds the conversation `{}`: this timer's step is not journaled",
                    crate::printable::escape(&step.conversation)
                ))),
                other => Err(failure(other, &step.conversation)),
            },
        ),
        Write::Lease(conversation, tx) => Answer::Leased(
            tx,
            match outcome {
                Outcome::Lease(epoch) => Ok(epoch),
                other => Err(failure(other, &conversation)),
            },
        ),
        Write::Started(_, tx)
        | Write::Ended(_, _, tx)
        | Write::Release(_, tx)
        | Write::Renew(_, tx)
        | Write::Flush(tx) => Answer::Done(
            tx,
            match outcome {
                Outcome::Done => Ok(()),
                other => Err(failure(other, "")),
            },
        ),
    }
}

/// What an outcome other than the write's success says.
fn failure(outcome: Outcome, conversation: &str) -> StoreError {
    StoreError(match outcome {
        Outcome::Failed(e) => format!("the store failed: {e}"),
        Outcome::Fenced => format!(
            "this node no longer holds the conversation `{}`",
            crate::printable::escape(conversation)
        ),
        _ => "the store answered another kind of write".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A fresh database on `AGENTC_TEST_POSTGRES_URL`'s server (see .ci/postgres.sh).
    async fn fresh() -> Option<String> {
        let Ok(url) = std::env::var("AGENTC_TEST_POSTGRES_URL") else {
            assert!(
                std::env::var("AGENTC_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "AGENTC_REQUIRE_POSTGRES=1 but AGENTC_TEST_POSTGRES_URL is not set"
            );
            eprintln!("note: skipping the PostgreSQL test (set AGENTC_TEST_POSTGRES_URL)");
            return None;
        };
        let mut admin = PgConnection::connect(&url).await.unwrap();
        let name = format!("agentc_store_{:016x}", rand::random::<u64>());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let (base, _) = url.rsplit_once('/').unwrap();
        Some(format!("{base}/{name}"))
    }

    fn accept(delivery: &str) -> Accept {
        Accept {
            conversation: "c".into(),
            delivery: Some(delivery.into()),
            body: json!({"conversation": "c", "event": "message_received"}),
            initial: json!({"instance": "i-1"}),
            only_duplicate: false,
            epoch: None,
        }
    }

    #[tokio::test]
    async fn a_lease_is_one_nodes_at_a_time_its_epoch_moves_with_the_owner_and_it_fences() {
        let Some(url) = fresh().await else {
            return;
        };
        let lease = Duration::from_secs(30);
        let a = Postgres::open(&url, lease, Arc::default()).await.unwrap();
        // A second node on a migrated database: the schema is left as it is.
        let b = Postgres::open(&url, lease, Arc::default()).await.unwrap();
        assert_eq!(a.lease("c").await, Ok(Some(1)));
        assert_eq!(a.lease("c").await, Ok(Some(1)), "renewed, same epoch");
        assert_eq!(b.lease("c").await, Ok(None), "held by a");
        assert_eq!(a.accept(accept("d-1")).await, Ok(Accepted::New { n: 1 }));
        a.release("c").await.unwrap();
        assert_eq!(b.lease("c").await, Ok(Some(2)), "passed to b");
        // a no longer holds it: what it journals for the conversation is refused.
        assert!(a.accept(accept("d-2")).await.is_err());
        assert_eq!(b.accept(accept("d-2")).await, Ok(Accepted::New { n: 2 }));
        let duplicate = b.accept(accept("d-1")).await.unwrap();
        assert!(
            matches!(duplicate, Accepted::Duplicate { n: 1, .. }),
            "{duplicate:?}"
        );
        // b dies holding it (its event 2 unanswered); once expired, a takes it over.
        b.attempt_started("c", "k/i-1/2/open".into()).await.unwrap();
        sqlx::query("UPDATE leases SET expires_at = now() - interval '1 second'")
            .execute(&a.pool)
            .await
            .unwrap();
        assert_eq!(a.lease("c").await, Ok(Some(3)));
        a.stepped(Step {
            conversation: "c".into(),
            event: Some(1),
            state: json!({"instance": "i-1", "seq": 1}),
            status: "active".into(),
            retired: false,
            records: vec![json!({"type": "event"}), json!({"type": "reply"})],
            answer: Some(json!({"done": 1})),
            due_in: None,
        })
        .await
        .unwrap();
        let takeover = a.takeover("c").await.unwrap();
        let pending: Vec<u64> = takeover.pending.iter().map(|p| p.n).collect();
        assert_eq!(pending, [2]);
        assert_eq!(takeover.attempts, [("k/i-1/2/open".to_string(), None)]);
        assert_eq!(a.answer("c", 1).await, Ok(Some(json!({"done": 1}))));
        let trace = a.trace("c", 0, 10).await.unwrap();
        assert_eq!(trace.len(), 2);
        assert!(trace[0].0 < trace[1].0, "in order");
        // A timer's step of a conversation another node holds is not journaled.
        let timer = Step {
            conversation: "c".into(),
            event: None,
            state: json!({"seq": 99}),
            status: "active".into(),
            retired: false,
            records: Vec::new(),
            answer: None,
            due_in: None,
        };
        assert!(b.stepped(timer.clone()).await.is_err());
        assert!(a.stepped(timer).await.is_ok());
        // Recovery leaves a conversation another node holds to it.
        assert!(b.recover().await.unwrap().pending.is_empty());
        a.release("c").await.unwrap();
        assert_eq!(b.recover().await.unwrap().pending.len(), 1);
        assert!(b.ping().await.is_ok());
    }

    /// Queued together on a one-thread runtime, for one conversation: one group. The write
    /// whose text PostgreSQL refuses (a NUL) fails alone; the others are committed.
    #[tokio::test]
    async fn a_write_that_fails_in_a_group_fails_alone() {
        let Some(url) = fresh().await else {
            return;
        };
        let a = Postgres::open(&url, Duration::from_secs(30), Arc::default())
            .await
            .unwrap();
        assert_eq!(a.lease("c").await, Ok(Some(1)));
        let good = a.accept(accept("d-1"));
        let bad = a.attempt_started("c", "k/i-1/1/\0".into());
        let attempt = a.attempt_started("c", "k/i-1/1/open".into());
        assert_eq!(good.await, Ok(Accepted::New { n: 1 }));
        let refused = bad.await.unwrap_err();
        assert!(refused.0.contains("the store failed"), "{refused}");
        assert_eq!(attempt.await, Ok(()));
        let takeover = a.takeover("c").await.unwrap();
        assert_eq!(takeover.pending.len(), 1, "the good accept is journaled");
        assert_eq!(takeover.attempts, [("k/i-1/1/open".to_string(), None)]);
    }

    #[tokio::test]
    async fn a_lease_held_is_renewed_until_released() {
        let Some(url) = fresh().await else {
            return;
        };
        let lease = Duration::from_millis(600);
        let a = Postgres::open(&url, lease, Arc::default()).await.unwrap();
        let b = Postgres::open(&url, lease, Arc::default()).await.unwrap();
        assert_eq!(a.lease("r").await, Ok(Some(1)));
        tokio::time::sleep(lease * 2).await;
        assert_eq!(b.lease("r").await, Ok(None), "renewed by a");
        a.release("r").await.unwrap();
        assert_eq!(b.lease("r").await, Ok(Some(2)));
    }

    #[tokio::test]
    async fn an_accept_takes_the_lease_along_only_at_the_epoch_its_node_held_last() {
        let Some(url) = fresh().await else {
            return;
        };
        let lease = Duration::from_secs(30);
        let a = Postgres::open(&url, lease, Arc::default()).await.unwrap();
        let b = Postgres::open(&url, lease, Arc::default()).await.unwrap();
        let at = |epoch: i64, delivery: &str| Accept {
            epoch: Some(epoch),
            ..accept(delivery)
        };
        assert_eq!(a.lease("c").await, Ok(Some(1)));
        a.release("c").await.unwrap();
        // Let go and not taken since: taken back with the event.
        assert_eq!(a.accept(at(1, "d-1")).await, Ok(Accepted::New { n: 1 }));
        assert_eq!(b.lease("c").await, Ok(None), "a holds it again");
        a.release("c").await.unwrap();
        assert_eq!(b.lease("c").await, Ok(Some(2)));
        // Held by b: nothing journaled, not even a duplicate's answer.
        assert_eq!(a.accept(at(1, "d-2")).await, Ok(Accepted::Moved(None)));
        assert_eq!(a.accept(at(1, "d-1")).await, Ok(Accepted::Moved(None)));
        b.release("c").await.unwrap();
        // b held it since: a takes it, at a new epoch, and journals nothing yet.
        assert_eq!(a.accept(at(1, "d-2")).await, Ok(Accepted::Moved(Some(3))));
        assert_eq!(a.accept(at(3, "d-2")).await, Ok(Accepted::New { n: 2 }));
        assert_eq!(b.lease("c").await, Ok(None), "a holds it");
    }

    /// A database an agentc of migration 3 wrote: an after-the-end event seen, the status
    /// still `active` and a timer due. Migrated, no sweep finds that timer, and the state
    /// reads back `ended`.
    #[tokio::test]
    async fn a_state_ended_before_ended_was_journaled_is_migrated_out_of_the_sweep() {
        let Some(url) = fresh().await else {
            return;
        };
        {
            let mut db = PgConnection::connect(&url).await.unwrap();
            sqlx::query("CREATE TABLE agentc_schema (version INTEGER NOT NULL)")
                .execute(&mut db)
                .await
                .unwrap();
            for (i, migration) in MIGRATIONS.iter().take(3).enumerate() {
                sqlx::raw_sql(migration).execute(&mut db).await.unwrap();
                sqlx::query("INSERT INTO agentc_schema (version) VALUES ($1)")
                    .bind(i as i32 + 1)
                    .execute(&mut db)
                    .await
                    .unwrap();
            }
            let state = json!({"status": "active", "after_end": ["session_ended"]});
            sqlx::query(
                "INSERT INTO conversations (id, state, status, retired, updated_at, due_at)
                 VALUES ('old', $1, 'active', FALSE, 0, 0)",
            )
            .bind(state.to_string())
            .execute(&mut db)
            .await
            .unwrap();
        }
        let store = Postgres::open(&url, Duration::from_secs(30), Arc::default())
            .await
            .unwrap();
        assert_eq!(store.due(10).await.unwrap(), Vec::<String>::new());
        let stored = store.conversation("old").await.unwrap().unwrap();
        assert_eq!(stored.state["status"], "ended");
    }

    #[tokio::test]
    async fn a_due_timer_is_found_once_overdue_and_while_no_node_holds_its_conversation() {
        let Some(url) = fresh().await else {
            return;
        };
        let lease = Duration::from_secs(30);
        let a = Postgres::open(&url, lease, Arc::default()).await.unwrap();
        let step = |id: &str, due_in| Step {
            conversation: id.into(),
            event: None,
            state: json!({}),
            status: "active".into(),
            retired: false,
            records: Vec::new(),
            answer: None,
            due_in,
        };
        for (id, due_in) in [("later", Some(60_000)), ("due", Some(0)), ("none", None)] {
            a.stepped(step(id, due_in)).await.unwrap();
        }
        assert_eq!(a.due(10).await, Ok(Vec::new()), "a holds `due`");
        a.release("due").await.unwrap();
        assert_eq!(a.due(10).await, Ok(vec!["due".to_string()]));
        assert_eq!(a.due(0).await, Ok(Vec::new()), "bounded");
        // Its timer fired: nothing is due any more.
        a.lease("due").await.unwrap();
        a.stepped(step("due", None)).await.unwrap();
        a.release("due").await.unwrap();
        assert_eq!(a.due(10).await, Ok(Vec::new()));
        let stored = a.conversation("due").await.unwrap().unwrap();
        assert!(stored.age < Duration::from_secs(5), "{:?}", stored.age);
    }
}
