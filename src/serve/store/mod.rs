//! The journal `agentc serve` keeps: events accepted, each external attempt's start and
//! outcome, each conversation's state and trace after every step, and the answer given for
//! each event. [`Store`] is what the server needs of it; [`sqlite`] is the embedded one,
//! [`postgres`] the one several nodes share (with a lease per conversation).
//!
//! Writes are queued at once, in the order called, and answered when durable (or failed):
//! an implementation commits them in groups ("group commit"), so many conversations share
//! one disk flush, and a write called after another of the same conversation (or a flush,
//! after any) is never durable before it, unless that one failed.

pub mod postgres;
pub mod prune;
pub mod sqlite;

use futures::future::BoxFuture;
use prune::{Batch, Pruned};
use serde_json::Value as Json;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::oneshot;

/// A store failure: the store cannot be reached or refused a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A queued write; resolves once it is durable.
pub struct Durable<T>(oneshot::Receiver<Result<T, StoreError>>);

impl<T> Durable<T> {
    /// The write, and the sender its writer answers on.
    pub fn channel() -> (oneshot::Sender<Result<T, StoreError>>, Self) {
        let (tx, rx) = oneshot::channel();
        (tx, Durable(rx))
    }

    /// A write already answered.
    pub fn ready(result: Result<T, StoreError>) -> Self {
        let (tx, durable) = Durable::channel();
        let _ = tx.send(result);
        durable
    }
}

impl<T> Future for Durable<T> {
    type Output = Result<T, StoreError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|answer| {
            answer.unwrap_or_else(|_| Err(StoreError("the journal writer stopped".into())))
        })
    }
}

/// An event to journal before it is handled.
#[derive(Clone, Debug)]
pub struct Accept {
    pub conversation: String,
    /// The platform's delivery id: an event whose id was seen before is not accepted again.
    pub delivery: Option<String>,
    /// The event line, without its `id`.
    pub body: Json,
    /// The state a conversation the store does not know starts from (its `instance` fixes
    /// the idempotency keys of its actions, so a replay after a crash sends the same ones).
    pub initial: Json,
    /// Journal nothing new: only a delivery seen before is answered (the conversation
    /// ended, and a platform may still re-send its last event).
    pub only_duplicate: bool,
    /// The epoch of the conversation's lease the caller held last: a store several nodes
    /// share takes the lease along with the accept, and journals the event only if no
    /// other node held it since (else [`Accepted::Moved`]); `None` if the caller holds it
    /// now. A store only one process opens has one epoch and ignores it.
    pub epoch: Option<i64>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Accepted {
    /// Journaled as the conversation's `n`th event.
    New { n: u64 },
    /// The delivery id was seen before: its answer, once it has one.
    Duplicate {
        conversation: String,
        n: u64,
        answer: Option<Json>,
    },
    /// Not a duplicate, and `only_duplicate` was asked: nothing was journaled.
    Refused,
    /// Nothing was journaled: another node held the conversation since `Accept::epoch`.
    /// It holds it still (`None`), or it let go and this node took it at `Some(epoch)`.
    Moved(Option<i64>),
}

/// One step a conversation took: its state after it, the trace records it emitted and,
/// for an event, the answer given for it.
#[derive(Clone, Debug)]
pub struct Step {
    pub conversation: String,
    /// The event (`Accepted::New`'s `n`) the step handled; `None` for a timer.
    pub event: Option<u64>,
    pub state: Json,
    pub status: String,
    /// The conversation ended and takes no more events.
    pub retired: bool,
    pub records: Vec<Json>,
    pub answer: Option<Json>,
    /// In how many milliseconds its `conversation_inactive` timer is due, if one is pending:
    /// what a store several nodes share finds a dead node's timers by ([`Store::due`]).
    pub due_in: Option<u64>,
}

// The rows of a write, their JSON made text by the caller: a store's one writer spends its
// time on SQL, and the serialising is shared out among the runtime's workers.

pub struct AcceptRow {
    pub conversation: String,
    pub delivery: Option<String>,
    pub body: String,
    pub initial: String,
    pub only_duplicate: bool,
    pub epoch: Option<i64>,
}

impl AcceptRow {
    pub fn of(event: Accept) -> Box<AcceptRow> {
        Box::new(AcceptRow {
            body: text(&event.body),
            initial: text(&event.initial),
            conversation: event.conversation,
            delivery: event.delivery,
            only_duplicate: event.only_duplicate,
            epoch: event.epoch,
        })
    }
}

pub struct StepRow {
    pub conversation: String,
    pub event: Option<u64>,
    pub state: String,
    pub status: String,
    pub retired: bool,
    pub records: Vec<String>,
    pub answer: Option<String>,
    pub due_in: Option<u64>,
}

impl StepRow {
    pub fn of(step: Step) -> Box<StepRow> {
        Box::new(StepRow {
            state: text(&step.state),
            records: step.records.iter().map(text).collect(),
            answer: step.answer.as_ref().map(text),
            conversation: step.conversation,
            event: step.event,
            status: step.status,
            retired: step.retired,
            due_in: step.due_in,
        })
    }
}

/// A JSON value as the text a row holds.
pub fn text(json: &Json) -> String {
    json.to_string()
}

/// What the store holds of a conversation.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredConversation {
    pub state: Json,
    pub retired: bool,
    /// How long ago the state was journaled.
    pub age: std::time::Duration,
}

/// A journaled JSON text as read back (`null` should a row not hold JSON).
fn parse(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or(Json::Null)
}

/// A journaled state as read back. One journaled before an after-the-end event made the
/// status `ended` (`session_ended`, `ticket_processed`, …) says `active` though it holds such
/// an event: it is `ended`, so no inactivity timer fires for it.
pub fn state_of(text: &str) -> Json {
    let mut state = parse(text);
    let over = state["after_end"]
        .as_array()
        .is_some_and(|had| !had.is_empty());
    if over && state["status"] == "active" {
        state["status"] = "ended".into();
    }
    state
}

/// What a restart needs: the conversations still running, the events accepted but not
/// finished (in order per conversation) and the attempts journaled since the oldest of them.
#[derive(Clone, Debug, Default)]
pub struct Recovery {
    pub live: Vec<(String, StoredConversation)>,
    pub pending: Vec<PendingEvent>,
    /// By idempotency key: the outcome, or `None` for an attempt started and never finished.
    pub attempts: Vec<(String, Option<Json>)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PendingEvent {
    pub conversation: String,
    pub n: u64,
    pub body: Json,
}

pub trait Store: Send + Sync {
    fn accept(&self, event: Accept) -> Durable<Accepted>;
    /// [`Store::accept`], told as soon as the store has applied it, ahead of its commit (so
    /// the event can run while the commit reaches the disk); the second future resolves once
    /// it is durable (or says it is not). Until then nothing may take it as acknowledged;
    /// a write queued after it is never durable before it. A store that cannot tell earlier
    /// tells at its commit.
    fn accept_early(&self, event: Accept) -> (Durable<Accepted>, Durable<()>) {
        (self.accept(event), Durable::ready(Ok(())))
    }
    /// An attempt of a task with a side effect is about to be sent, for `conversation`
    /// (whose writes it is ordered with).
    fn attempt_started(&self, conversation: &str, key: String) -> Durable<()>;
    /// An attempt's outcome (already redacted).
    fn attempt_ended(&self, conversation: &str, key: String, outcome: Json) -> Durable<()>;
    fn stepped(&self, step: Step) -> Durable<()>;
    /// Resolves once every write queued before it is durable.
    fn flush(&self) -> Durable<()>;

    fn conversation(
        &self,
        id: &str,
    ) -> BoxFuture<'_, Result<Option<StoredConversation>, StoreError>>;
    /// The conversation's trace records after position `after`, at most `limit`, each with
    /// its position.
    fn trace(
        &self,
        id: &str,
        after: i64,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<(i64, Json)>, StoreError>>;
    /// The answer journaled for a conversation's `n`th event, once there is one.
    fn answer(&self, conversation: &str, n: u64)
        -> BoxFuture<'_, Result<Option<Json>, StoreError>>;
    fn recover(&self) -> BoxFuture<'_, Result<Recovery, StoreError>>;
    /// Whether the store answers (`/readyz`).
    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Deletes one batch of the journal of work finished longer than `retain` ago
    /// ([`prune`] says what may go and what never does).
    fn prune(&self, retain: Duration, batch: Batch) -> BoxFuture<'_, Result<Pruned, StoreError>>;

    /// Takes (or renews) this node's lease on a conversation: `None` while another node
    /// holds it, else the lease's epoch, which changes whenever another node held it since.
    /// A store only one process opens (SQLite) has one epoch for ever.
    fn lease(&self, _conversation: &str) -> BoxFuture<'_, Result<Option<i64>, StoreError>> {
        Box::pin(async { Ok(Some(0)) })
    }
    /// Lets another node take the conversation's lease at once: queued at the call, in
    /// order with the writes (nothing need wait for it; a lease not released lapses).
    fn release(&self, _conversation: &str) -> Durable<()> {
        Durable::ready(Ok(()))
    }
    /// What a node taking a conversation over must finish first: its events accepted and
    /// not answered (by a node that died) and their journaled attempts; `live` is empty.
    fn takeover(&self, _conversation: &str) -> BoxFuture<'_, Result<Recovery, StoreError>> {
        Box::pin(async { Ok(Recovery::default()) })
    }
    /// Whether several nodes share the store: only then can a conversation's inactivity
    /// timer be a dead node's, for [`Store::due`] to find (and the hub sweeps for them),
    /// and only then does the hub let a lease go.
    fn shared(&self) -> bool {
        false
    }
    /// Dates the inactivity timers the store has no due time for (rows journaled before it
    /// kept one, or by a program without inactivity): `due_in` says, of a running
    /// conversation as read back, in how many milliseconds its timer is due, if one is
    /// pending. Returns how many were dated. A store only one process opens has none.
    fn date_timers<'a>(
        &'a self,
        _due_in: &'a (dyn Fn(StoredConversation) -> Option<u64> + Send + Sync),
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async { Ok(0) })
    }
    /// At most `limit` conversations whose inactivity timer is due and that no node holds,
    /// most overdue first: the node that ran them last may have died (if not, the lease
    /// settles which node fires it). A store only one process opens has none: that process
    /// fires its own.
    fn due(&self, _limit: u32) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}
