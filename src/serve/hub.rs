//! One writer per conversation: each conversation with work has an actor (a tokio task and
//! its queue) that journals an event, hands it to the runtime, waits for its step, journals
//! the step and answers, one event at a time, so the journal's order is the order events
//! ran in. An actor works only while its node holds the conversation's lease (always, on
//! SQLite); taking it over from a node that died, it first finishes what that node accepted.
//! An actor idle for `evict_after` leaves, and its conversation leaves memory (reloaded from
//! the store on its next event; a pending `conversation_inactive` timer wakes it). A due
//! timer fires through its actor too, only once the node holds the lease, and a sweep of the
//! store takes over the due timers of conversations no node holds (their node died). The hub
//! also recovers after a crash (the journal replayed) and swaps the program on reload.

use super::answer;
use super::errors::{ApiError, ErrorCode};
use super::inbound::Inbound;
use super::journal::{Collector, Journal, Stepped};
use super::store::{Accept, Accepted, Durable, Step, Store, StoreError, StoredConversation};
use super::ServeError;
use crate::ir;
use crate::runtime::{
    executors, redact_json, ConversationState, Event, ExecutorFactory, PlanError, Redactor, Runtime,
};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How often an actor asks again for a lease another node holds.
const LEASE_POLL: Duration = Duration::from_millis(25);
/// How often an event's accept may find the lease moved (and take it) before it is refused.
const MOVED_TRIES: u32 = 3;
/// How often an actor tries again to journal a step the store did not take.
const OWED_RETRY: Duration = Duration::from_millis(500);
/// No lease has this epoch: the next event takes the conversation over, reading what the
/// store holds of it (after a write whose fate is unknown).
const UNSURE: i64 = -1;
/// At most this many overdue timers are taken over per sweep.
const SWEEP_LIMIT: u32 = 100;

/// An event refused because another node holds its conversation.
fn busy(conversation: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ConversationBusy,
        format!(
            "another node holds the conversation `{}` and did not let go; retry",
            crate::printable::escape(conversation)
        ),
    )
}

/// An event refused because the store failed.
fn unavailable(e: StoreError) -> ApiError {
    ApiError::new(
        ErrorCode::StoreUnavailable,
        format!("the event was not accepted: {e}"),
    )
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A runtime with the collector that hears it.
struct Generation {
    runtime: Runtime,
    collector: Arc<Collector>,
}

/// An event journaled: its place, and the conversation's instance (the idempotency keys of
/// its actions contain it).
#[derive(Clone, Debug)]
pub struct Admitted {
    pub conversation: String,
    pub n: u64,
    pub instance: String,
}

/// What `submit` tells the handler once the event is journaled (or refused).
pub enum Admission {
    /// Runs now; its answer comes on the receiver.
    Running(Admitted, oneshot::Receiver<Json>),
    /// The delivery id was seen before.
    Duplicate {
        conversation: String,
        n: u64,
        answer: Option<Json>,
    },
}

/// An actor's queue. Its jobs are boxed: a tokio queue allocates its first block of 32 slots
/// with the channel, and every idle actor holds it, so a slot is a pointer.
type Queue = mpsc::UnboundedSender<Box<Job>>;

enum Job {
    Event {
        inbound: Inbound,
        admitted: oneshot::Sender<Result<Admission, ApiError>>,
        queued: tokio::time::Instant,
    },
    /// An event journaled before a restart and not finished.
    Replay {
        n: u64,
        event: Event,
        done: oneshot::Sender<Json>,
    },
    /// An evicted conversation's inactivity timer is due, or a sweep found it due in the
    /// store: back into memory, so it fires.
    Wake,
    /// The runtime's inactivity timer is due: it fires once this node holds the lease.
    Timer,
}

pub struct Hub {
    generation: RwLock<Arc<Generation>>,
    store: Arc<dyn Store>,
    journal: Arc<Journal>,
    redactor: Redactor,
    actors: Mutex<HashMap<String, Queue>>,
    /// Held shared by every event step, exclusively by a reload.
    gate: tokio::sync::RwLock<()>,
    evict_after: Duration,
    /// How long an event waits for a lease another node holds (past it, 503).
    lease_wait: Duration,
    /// What each generation's collector tells of due timers.
    due: mpsc::UnboundedSender<String>,
}

impl Hub {
    /// Recovers from the store (events accepted and not finished are run again, with the
    /// outcomes journaled for their attempts), then starts every conversation still running
    /// whose inactivity timer is pending, so it runs; the others stay in the store until
    /// their next event. On a store several nodes share, every `sweep_every` it takes over
    /// the overdue timers no node holds.
    /// Returns how many events were replayed.
    pub async fn start(
        program: ir::Program,
        store: Arc<dyn Store>,
        evict_after: Duration,
        lease_wait: Duration,
        sweep_every: Duration,
    ) -> Result<(Arc<Hub>, usize), ServeError> {
        let redactor = Redactor::default();
        let journal = Journal::new(store.clone(), redactor.clone());
        let recovery = store.recover().await?;
        journal.recovered(recovery.attempts);
        let timers = program.agent.inactivity_ms.is_some();
        let states: Vec<ConversationState> = recovery
            .live
            .into_iter()
            .filter(|(_, stored)| timers && waits_for_inactivity(&stored.state))
            .filter_map(|(id, stored)| match read_state(stored) {
                Ok(state) => Some(state),
                Err(e) => {
                    tracing::error!(conversation = %id, "its journaled state cannot be read: {e}");
                    None
                }
            })
            .collect();
        let (due, due_timers) = mpsc::unbounded_channel();
        let generation = build(program, &store, &journal, &redactor, &due, &states)?;
        let hub = Arc::new(Hub {
            generation: RwLock::new(Arc::new(generation)),
            store,
            journal,
            redactor,
            actors: Mutex::default(),
            gate: tokio::sync::RwLock::new(()),
            evict_after,
            lease_wait,
            due,
        });
        tokio::spawn(fire_due(Arc::downgrade(&hub), due_timers));
        let mut replays = Vec::new();
        for pending in recovery.pending {
            let event = match Event::parse_line(&pending.body.to_string()) {
                Ok(event) => event,
                Err(e) => {
                    tracing::error!(conversation = %pending.conversation, n = pending.n,
                        "a journaled event cannot be read: {e}");
                    continue;
                }
            };
            let (done, answer) = oneshot::channel();
            let job = Job::Replay {
                n: pending.n,
                event,
                done,
            };
            hub.send(&pending.conversation, job);
            replays.push(answer);
        }
        let replayed = replays.len();
        for answer in replays {
            let _ = answer.await;
        }
        hub.journal.forget_recovered();
        for state in states {
            hub.adopt(state);
        }
        if hub.store.shared() {
            tokio::spawn(sweep(Arc::downgrade(&hub), sweep_every));
        }
        Ok((hub, replayed))
    }

    fn current(&self) -> Arc<Generation> {
        self.generation
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reads the running program (a reload swaps it between two calls, never during one).
    pub fn with_program<R>(&self, read: impl FnOnce(&ir::Program) -> R) -> R {
        read(self.current().runtime.program())
    }

    /// How many conversations have an actor now.
    pub fn workers(&self) -> usize {
        lock(&self.actors).len()
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Queues an event on its conversation's actor; answers once it is journaled.
    pub async fn submit(self: &Arc<Self>, inbound: Inbound) -> Result<Admission, ApiError> {
        let (admitted, admission) = oneshot::channel();
        let id = inbound.event.conversation.clone();
        let job = Job::Event {
            inbound,
            admitted,
            queued: tokio::time::Instant::now(),
        };
        self.send(&id, job);
        admission.await.unwrap_or_else(|_| {
            Err(ApiError::new(
                ErrorCode::ShuttingDown,
                "the conversation's worker stopped",
            ))
        })
    }

    /// A conversation recovered into the runtime gets its actor, so its timers run and it
    /// leaves memory once idle like any other.
    fn adopt(self: &Arc<Self>, state: ConversationState) {
        let mut actors = lock(&self.actors);
        if !actors.contains_key(&state.id) {
            let (tx, rx) = mpsc::unbounded_channel();
            let mut actor = Actor::new(self.clone(), state.id.clone());
            actor.known = Known::Running {
                instance: state.instance.clone(),
            };
            tokio::spawn(actor.run(rx));
            actors.insert(state.id.clone(), tx);
        }
        drop(actors);
        self.current().runtime.wake(&state.id);
    }

    fn send(self: &Arc<Self>, id: &str, job: Job) {
        let mut job = Box::new(job);
        // An actor that just left closed its queue: the next try starts a new one.
        for _ in 0..3 {
            let queue = {
                let mut actors = lock(&self.actors);
                actors
                    .entry(id.to_string())
                    .or_insert_with(|| {
                        let (tx, rx) = mpsc::unbounded_channel();
                        tokio::spawn(Actor::new(self.clone(), id.to_string()).run(rx));
                        tx
                    })
                    .clone()
            };
            match queue.send(job) {
                Ok(()) => return,
                Err(mpsc::error::SendError(back)) => {
                    let mut actors = lock(&self.actors);
                    if actors.get(id).is_some_and(|q| q.same_channel(&queue)) {
                        actors.remove(id);
                    }
                    job = back;
                }
            }
        }
        tracing::error!(conversation = %id, "no worker would take the event");
    }

    /// Swaps the program: once no event runs, every running conversation moves to a
    /// runtime of the new program with its state. On error the running program stays.
    pub async fn reload(&self, program: ir::Program) -> Result<usize, PlanError> {
        let _exclusive = self.gate.write().await;
        let old = self.current();
        let mut states = Vec::new();
        for id in old.runtime.conversation_ids() {
            states.extend(old.runtime.snapshot(&id).await);
        }
        let new = build(
            program,
            &self.store,
            &self.journal,
            &self.redactor,
            &self.due,
            &states,
        )?;
        old.collector.retire();
        for state in &states {
            new.runtime.wake(&state.id);
        }
        *self.generation.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(new);
        // The old runtime's conversations stop; what they emit now goes nowhere.
        tokio::spawn(async move {
            old.runtime.finish().await;
        });
        Ok(states.len())
    }

    /// Waits until every write queued so far is durable.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.store.flush().await
    }
}

/// Whether a journaled state has an inactivity timer running: active, and idle since.
fn waits_for_inactivity(state: &Json) -> bool {
    state["status"] == "active" && !state["idle_since"].is_null()
}

/// A state read back from the store. Its time went on while it was there, so its
/// inactivity timer is due as long after its last activity whoever reads it back, and when.
fn read_state(stored: StoredConversation) -> Result<ConversationState, serde_json::Error> {
    let mut state: ConversationState = serde_json::from_value(stored.state)?;
    state.time = state.time.saturating_add(stored.age);
    Ok(state)
}

/// Hands each due timer a runtime reports to its conversation's actor.
async fn fire_due(hub: Weak<Hub>, mut due: mpsc::UnboundedReceiver<String>) {
    while let Some(id) = due.recv().await {
        let Some(hub) = hub.upgrade() else { return };
        hub.send(&id, Job::Timer);
    }
}

/// Every `every`, wakes here the conversations whose inactivity timer is due in the store
/// and that no node holds, so a timer whose node died still fires (once: through the lease).
/// Only on a store several nodes share: on one only this process opens, it fires its own.
async fn sweep(hub: Weak<Hub>, every: Duration) {
    if let Some(hub) = hub.upgrade() {
        date_timers(&hub).await;
    }
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(hub) = hub.upgrade() else { return };
        if hub.with_program(|p| p.agent.inactivity_ms.is_none()) {
            continue;
        }
        match hub.store.due(SWEEP_LIMIT).await {
            Ok(due) => due.iter().for_each(|id| hub.send(id, Job::Wake)),
            Err(e) => tracing::warn!("the store's due timers were not read: {e}"),
        }
    }
}

/// Once, as the sweep starts: the timers pending in states the store has no due time for
/// (journaled before it kept one, or under a program without inactivity) get one, so the
/// sweep finds them if their node dies.
async fn date_timers(hub: &Hub) {
    let Some(inactivity) = hub.with_program(|p| p.agent.inactivity_ms) else {
        return;
    };
    let due_in = move |stored: StoredConversation| {
        let state = read_state(stored).ok()?;
        let left = state.inactive_in(Some(inactivity))?;
        Some(u64::try_from(left.as_millis()).unwrap_or(u64::MAX))
    };
    match hub.store.date_timers(&due_in).await {
        Ok(0) => {}
        Ok(dated) => tracing::info!(dated, "dated the inactivity timers journaled without one"),
        Err(e) => tracing::warn!("the timers journaled without a due time were not dated: {e}"),
    }
}

/// A runtime of `program` whose executors are journaled, going on from `states`.
fn build(
    program: ir::Program,
    store: &Arc<dyn Store>,
    journal: &Arc<Journal>,
    redactor: &Redactor,
    due: &mpsc::UnboundedSender<String>,
    states: &[ConversationState],
) -> Result<Generation, PlanError> {
    let collector = Collector::new(
        store.clone(),
        redactor.clone(),
        program.agent.inactivity_ms,
        due.clone(),
    );
    let inner = executors::factory(redactor);
    let journal = journal.clone();
    let factory: ExecutorFactory =
        Arc::new(move |target, fields| inner(target, fields).map(|e| journal.wrap(e)));
    let mut builder = Runtime::builder(program)
        .redactor(redactor.clone())
        .executor_factory(factory)
        .trace(collector.clone())
        .observer(collector.clone());
    for state in states {
        builder = builder.resume(state.clone());
    }
    Ok(Generation {
        runtime: builder.build()?,
        collector,
    })
}

enum Admit {
    /// Applied, and running while its commit reaches the disk: acknowledged once durable.
    New(Admitted, Event, Durable<()>),
    Duplicate {
        conversation: String,
        n: u64,
        answer: Option<Json>,
    },
}

/// What an actor knows of its conversation.
enum Known {
    /// Not asked the store yet.
    Unknown,
    /// Running (in the runtime or resumed into it).
    Running {
        instance: String,
    },
    Retired,
}

/// A step the store did not take (it was away): journaled, and its answer given, once it
/// is back. Until then the conversation takes no other event and fires no timer.
struct Owed {
    /// An event's step holds the answer to give on `done`; a timer's holds none.
    step: Step,
    done: Option<oneshot::Sender<Json>>,
    /// Its inactivity timer fell due meanwhile: it fires once the step is journaled.
    timer: bool,
    /// When the step was taken: the store stamps a step when it commits it.
    taken: tokio::time::Instant,
    /// The store's last failure to take it, and when.
    failed: (StoreError, tokio::time::Instant),
}

/// A step journaled `late` after it was taken, as the conversation stands now: its time
/// went on meanwhile (so its age read back from the store's stamp is right) and its
/// inactivity timer is due that much sooner.
fn later(step: &Step, late: Duration) -> Step {
    let mut step = step.clone();
    if let Ok(time) = serde_json::from_value::<Duration>(step.state["time"].clone()) {
        if let Ok(time) = serde_json::to_value(time.saturating_add(late)) {
            step.state["time"] = time;
        }
    }
    let late_ms = u64::try_from(late.as_millis()).unwrap_or(u64::MAX);
    step.due_in = step.due_in.map(|ms| ms.saturating_sub(late_ms));
    step
}

/// Gives an event's answer once its step is durable.
fn answered(done: Option<oneshot::Sender<Json>>, answer: Option<Json>) {
    if let (Some(done), Some(answer)) = (done, answer) {
        let _ = done.send(answer);
    }
}

struct Actor {
    hub: Arc<Hub>,
    id: String,
    known: Known,
    /// Boxed: rare, and large beside the rest of an idle actor.
    owed: Option<Box<Owed>>,
    /// The epoch of the lease this actor last held (0: none; a store only this process
    /// opens keeps 0). Another epoch means another node ran the conversation meanwhile.
    epoch: i64,
    /// Events up to this one were finished when the conversation was taken over.
    finished: u64,
}

impl Actor {
    fn new(hub: Arc<Hub>, id: String) -> Self {
        Actor {
            hub,
            id,
            known: Known::Unknown,
            owed: None,
            epoch: 0,
            finished: 0,
        }
    }

    /// The actor's task. An async block, not an `async fn`, whose arguments its future would
    /// hold twice; what runs between waits is boxed, so an idle actor's task holds the actor
    /// and its wait, not room for a job's work.
    #[allow(clippy::manual_async_fn)]
    fn run(mut self, mut queue: mpsc::UnboundedReceiver<Box<Job>>) -> impl Future<Output = ()> {
        async move {
            loop {
                let wait = match self.owed {
                    Some(_) => OWED_RETRY,
                    None => self.hub.evict_after,
                };
                let job = match tokio::time::timeout(wait, queue.recv()).await {
                    Ok(Some(job)) => job,
                    Ok(None) => return,
                    Err(_) if self.owed.is_some() => {
                        let _ = Box::pin(self.settle()).await;
                        self.release_if_idle(&queue);
                        continue;
                    }
                    Err(_idle) => {
                        // Out of memory first: an actor started after this one loads the store.
                        Box::pin(self.evict()).await;
                        // Leave under the lock the hub hands queues out under, unless a job came.
                        let mut actors = lock(&self.hub.actors);
                        match queue.try_recv() {
                            Ok(job) => {
                                drop(actors);
                                job
                            }
                            Err(_) => {
                                actors.remove(&self.id);
                                return;
                            }
                        }
                    }
                };
                Box::pin(self.handle(*job)).await;
                self.release_if_idle(&queue);
            }
        }
    }

    /// The epoch of a shared store's lease this actor held last, if it held one (0 is none,
    /// and what a store only this process opens keeps; [`UNSURE`] is none either): an
    /// event's accept takes the lease along at it.
    fn held_epoch(&self) -> Option<i64> {
        (self.epoch > 0).then_some(self.epoch)
    }

    /// With nothing queued or owed, another node may take the conversation now (nothing to
    /// do on SQLite).
    fn release_if_idle(&self, queue: &mpsc::UnboundedReceiver<Box<Job>>) {
        if self.hub.store.shared() && queue.is_empty() && self.owed.is_none() {
            // Not waited for: the next job's lease is queued behind it.
            let released = self.hub.store.release(&self.id);
            let id = self.id.clone();
            tokio::spawn(async move {
                if let Err(e) = released.await {
                    tracing::warn!(conversation = %id, "the lease was not released: {e}");
                }
            });
        }
    }

    async fn handle(&mut self, job: Job) {
        // A timer does not wait: a node holding the conversation ran an event since, and
        // its timer is that node's.
        let wait = match job {
            Job::Timer => Duration::ZERO,
            _ => self.hub.lease_wait,
        };
        let ready = match (&self.owed, &job) {
            // It waited through the store's last failure: refused at once, so the events
            // queued behind a failing try are refused together, not one try each.
            (Some(owed), Job::Event { queued, .. }) if *queued <= owed.failed.1 => {
                Err(unavailable(owed.failed.0.clone()))
            }
            _ => match self.settle().await {
                // Once this actor held a lease, an event's is taken along with its accept.
                Ok(()) if matches!(job, Job::Event { .. }) && self.held_epoch().is_some() => Ok(()),
                Ok(()) => self.hold(wait).await,
                Err(error) => Err(error),
            },
        };
        if let Err(error) = ready {
            match job {
                Job::Event { admitted, .. } => drop(admitted.send(Err(error))),
                Job::Timer => match &mut self.owed {
                    // Behind a step still owed: it fires once that step is journaled.
                    Some(owed) => {
                        tracing::info!(conversation = %self.id,
                            "its inactivity timer fires once the step owed is journaled");
                        owed.timer = true;
                    }
                    // What this node holds is stale (or the store failed, and a sweep finds
                    // the timer): it leaves memory, and is read again when next held.
                    None => {
                        self.hub.current().runtime.evict(&self.id).await;
                        self.known = Known::Unknown;
                    }
                },
                // A replay left undone stays journaled for whoever holds the conversation.
                Job::Replay { .. } | Job::Wake => {}
            }
            return;
        }
        match job {
            Job::Event {
                inbound, admitted, ..
            } => match self.admit(inbound).await {
                Err(error) => drop(admitted.send(Err(error))),
                Ok(Admit::Duplicate {
                    conversation,
                    n,
                    answer,
                }) => drop(admitted.send(Ok(Admission::Duplicate {
                    conversation,
                    n,
                    answer,
                }))),
                Ok(Admit::New(info, event, durable)) => {
                    let (done, answer) = oneshot::channel();
                    let n = info.n;
                    let acknowledged = async move {
                        let journaled = durable.await;
                        let _ = admitted.send(match &journaled {
                            Ok(()) => Ok(Admission::Running(info, answer)),
                            Err(e) => Err(unavailable(e.clone())),
                        });
                        journaled
                    };
                    self.run_event(n, event, Some(done), acknowledged).await;
                }
            },
            Job::Replay { n, done, .. } if n <= self.finished => {
                let answer = self.hub.store.answer(&self.id, n).await;
                let _ = done.send(answer.ok().flatten().unwrap_or(Json::Null));
            }
            Job::Replay { n, event, done } => {
                if let Err(e) = self.know().await {
                    tracing::error!(conversation = %self.id, n, "not replayed: {}", e.message);
                    return;
                }
                self.run_event(n, event, Some(done), std::future::ready(Ok(())))
                    .await;
            }
            Job::Wake => {
                if self.know().await.is_ok() {
                    self.hub.current().runtime.wake(&self.id);
                }
            }
            Job::Timer => self.fire().await,
        }
    }

    /// Fires the due inactivity timer now that this node holds the conversation, and
    /// journals its step before the lease can pass to another node.
    async fn fire(&mut self) {
        let hub = self.hub.clone();
        let _shared = hub.gate.read().await;
        let generation = self.hub.current();
        let step = generation.collector.wait_for_step(&self.id);
        if generation.runtime.fire(&self.id).await {
            if let Ok(stepped) = step.await {
                self.journal(&generation, None, stepped, None).await;
            }
        }
    }

    /// Takes the conversation's lease, waiting while another node holds it; if another
    /// node ran the conversation since this actor last held it, takes it over.
    async fn hold(&mut self, wait: Duration) -> Result<(), ApiError> {
        let began = tokio::time::Instant::now();
        let epoch = loop {
            match self.hub.store.lease(&self.id).await.map_err(unavailable)? {
                Some(epoch) => break epoch,
                None if began.elapsed() < wait => tokio::time::sleep(LEASE_POLL).await,
                None => return Err(busy(&self.id)),
            }
        };
        if epoch != self.epoch {
            self.take_over().await.map_err(unavailable)?;
            self.epoch = epoch;
        }
        Ok(())
    }

    /// What this node holds of the conversation may be older than what another node
    /// journaled: it leaves memory and is read again; events the other node accepted and
    /// did not finish (it died) are finished first, with its journaled attempts.
    async fn take_over(&mut self) -> Result<(), StoreError> {
        self.hub.current().runtime.evict(&self.id).await;
        self.known = Known::Unknown;
        let recovery = self.hub.store.takeover(&self.id).await?;
        self.hub.journal.recovered(recovery.attempts);
        for pending in recovery.pending {
            let event = match Event::parse_line(&pending.body.to_string()) {
                Ok(event) => event,
                Err(e) => {
                    tracing::error!(conversation = %self.id, n = pending.n,
                        "a journaled event cannot be read: {e}");
                    continue;
                }
            };
            self.know().await.map_err(|e| StoreError(e.message))?;
            self.run_event(pending.n, event, None, std::future::ready(Ok(())))
                .await;
            if self.owed.take().is_some() {
                // What ran is forgotten: the next event takes the conversation over again.
                return Err(StoreError(
                    "the store failed while this node finished the events of the \
                     conversation it took over"
                        .into(),
                ));
            }
            self.finished = pending.n;
        }
        if matches!(self.know().await, Ok(None)) && matches!(self.known, Known::Running { .. }) {
            // Its inactivity timer runs here now.
            self.hub.current().runtime.wake(&self.id);
        }
        Ok(())
    }

    /// Leaves memory (the store has every step); a due inactivity timer brings it back.
    async fn evict(&mut self) {
        let timer = self.hub.current().runtime.evict(&self.id).await;
        self.known = Known::Unknown;
        // A timer's step queued before it left is durable before anyone reads the store.
        if let Err(e) = self.hub.store.flush().await {
            tracing::warn!(conversation = %self.id, "the journal was not flushed: {e}");
        }
        if let Some(at) = timer {
            let (hub, id) = (self.hub.clone(), self.id.clone());
            tokio::spawn(async move {
                tokio::time::sleep_until(at).await;
                hub.send(&id, Job::Wake);
            });
        }
    }

    /// The conversation as the store knows it; a new one gets its initial state.
    async fn know(&mut self) -> Result<Option<ConversationState>, ApiError> {
        if !matches!(self.known, Known::Unknown) {
            return Ok(None);
        }
        let stored = self
            .hub
            .store
            .conversation(&self.id)
            .await
            .map_err(unavailable)?;
        let runtime = &self.hub.current().runtime;
        match stored {
            Some(stored) if stored.retired => {
                self.known = Known::Retired;
                Ok(None)
            }
            Some(stored) => {
                let state =
                    read_state(stored).map_err(|e| unavailable(StoreError(e.to_string())))?;
                self.known = Known::Running {
                    instance: state.instance.clone(),
                };
                runtime.resume(state);
                Ok(None)
            }
            None => {
                let initial = ConversationState::initial(&self.id, &runtime.program().agent);
                Ok(Some(initial))
            }
        }
    }

    /// Journals the event, unless its delivery was seen before.
    async fn admit(&mut self, inbound: Inbound) -> Result<Admit, ApiError> {
        let Inbound {
            delivery,
            event,
            mut body,
        } = inbound;
        // No secret in a stored row, even one a user typed.
        redact_json(&mut body, &self.hub.redactor);
        if let Some(problem) = self.hub.current().runtime.refusal(&event) {
            return Err(ApiError::new(ErrorCode::RefusedEvent, problem));
        }
        let unsure = |actor: &mut Self, e: StoreError| {
            // It may have been committed all the same (the store stopped answering while
            // committing): taken over, the conversation runs it if it was.
            actor.epoch = UNSURE;
            unavailable(e)
        };
        let mut moved = 0;
        let (initial, accepted, durable) = loop {
            let initial = self.know().await?;
            let initial_json = match &initial {
                Some(state) => serde_json::to_value(state).unwrap_or(Json::Null),
                None => Json::Null,
            };
            let epoch = self.held_epoch();
            let (accepted, durable) = self.hub.store.accept_early(Accept {
                conversation: self.id.clone(),
                delivery: delivery.clone(),
                // Kept for a second try only where the lease can be found moved.
                body: match epoch {
                    Some(_) => body.clone(),
                    None => std::mem::take(&mut body),
                },
                initial: initial_json,
                only_duplicate: matches!(self.known, Known::Retired),
                epoch,
            });
            match accepted.await.map_err(|e| unsure(self, e))? {
                // Another node ran the conversation since: held (and taken over) first,
                // as by an actor that never held it.
                Accepted::Moved(_) if moved < MOVED_TRIES => {
                    moved += 1;
                    self.hold(self.hub.lease_wait).await?;
                }
                Accepted::Moved(_) => return Err(busy(&self.id)),
                accepted => break (initial, accepted, durable),
            }
        };
        let n = match accepted {
            Accepted::New { n } => n,
            told => {
                // Told only once what it was told from is durable.
                durable.await.map_err(|e| unsure(self, e))?;
                return match told {
                    Accepted::Duplicate {
                        conversation,
                        n,
                        answer,
                    } => Ok(Admit::Duplicate {
                        conversation,
                        n,
                        answer,
                    }),
                    Accepted::Refused => Err(ApiError::new(
                        ErrorCode::ConversationEnded,
                        format!(
                            "the conversation `{}` ended; it takes no more events",
                            self.id
                        ),
                    )),
                    // `Moved` (`New` is taken above).
                    _ => Err(busy(&self.id)),
                };
            }
        };
        if let Some(state) = initial {
            self.known = Known::Running {
                instance: state.instance.clone(),
            };
            self.hub.current().runtime.resume(state);
        }
        let instance = match &self.known {
            Known::Running { instance } => instance.clone(),
            _ => String::new(),
        };
        let admitted = Admitted {
            conversation: self.id.clone(),
            n,
            instance,
        };
        Ok(Admit::New(admitted, event, durable))
    }

    /// Hands an accepted event to the runtime, waits for its step and for the event to be
    /// `acknowledged` (durable), journals the step with the answer, and gives the answer on
    /// `done`. An event whose accept did not become durable after all leaves no step: what
    /// ran in memory is forgotten, and the event, re-sent, runs again from the journal.
    async fn run_event(
        &mut self,
        n: u64,
        event: Event,
        done: Option<oneshot::Sender<Json>>,
        acknowledged: impl Future<Output = Result<(), StoreError>>,
    ) {
        let hub = self.hub.clone();
        let _shared = hub.gate.read().await;
        let generation = self.hub.current();
        let step = generation.collector.wait_for_step(&self.id);
        generation.runtime.send(event);
        let (step, acknowledged) = tokio::join!(step, acknowledged);
        if acknowledged.is_err() {
            generation.runtime.evict(&self.id).await;
            self.known = Known::Unknown;
            self.epoch = UNSURE;
            return;
        }
        let stepped = match step {
            Ok(stepped) => stepped,
            Err(_) => Stepped {
                state: generation
                    .runtime
                    .snapshot(&self.id)
                    .await
                    .unwrap_or_else(|| {
                        ConversationState::initial(&self.id, &generation.runtime.program().agent)
                    }),
                records: Vec::new(),
                retired: false,
            },
        };
        self.journal(&generation, Some(n), stepped, done).await;
    }

    /// Journals a step (an event's `n`, with its answer given on `done` once durable; `None`
    /// a timer's) and waits until it is durable; a step the store does not take is owed.
    async fn journal(
        &mut self,
        generation: &Generation,
        n: Option<u64>,
        stepped: Stepped,
        done: Option<oneshot::Sender<Json>>,
    ) {
        let answer = n.map(|_| {
            let mut answer = answer::answer(&self.id, &stepped);
            redact_json(&mut answer, &self.hub.redactor);
            answer
        });
        let step = || generation.collector.step(&stepped, n, answer.clone());
        let taken = tokio::time::Instant::now();
        match self.hub.store.stepped(step()).await {
            Ok(()) => answered(done, answer),
            Err(e) => {
                tracing::warn!(conversation = %self.id, ?n,
                    "the step is not journaled yet ({e}); it is, and its event answered, once \
                     the store takes it");
                self.owed = Some(Box::new(Owed {
                    step: step(),
                    done,
                    timer: false,
                    taken,
                    failed: (e, tokio::time::Instant::now()),
                }));
            }
        }
        self.known = match stepped.retired {
            true => Known::Retired,
            false => Known::Running {
                instance: stepped.state.instance.clone(),
            },
        };
    }

    /// Journals the step still owed and gives its answer, once this node holds the
    /// conversation again, then fires the timer that fell due meanwhile; if another node
    /// held it meanwhile, that node went on from the journal (finishing the event, firing
    /// the timer), and the owed step is dropped (the next event takes it over).
    async fn settle(&mut self) -> Result<(), ApiError> {
        let Some(mut owed) = self.owed.take() else {
            return Ok(());
        };
        match self.hub.store.lease(&self.id).await {
            Ok(Some(epoch)) if epoch == self.epoch => {}
            Ok(_) => {
                // What this node holds is older than the journal now.
                self.hub.current().runtime.evict(&self.id).await;
                self.known = Known::Unknown;
                return Ok(());
            }
            Err(e) => {
                owed.failed = (e.clone(), tokio::time::Instant::now());
                self.owed = Some(owed);
                return Err(unavailable(e));
            }
        }
        match self
            .hub
            .store
            .stepped(later(&owed.step, owed.taken.elapsed()))
            .await
        {
            Ok(()) => {
                tracing::info!(conversation = %self.id, "the step owed is journaled");
                answered(owed.done, owed.step.answer);
                if owed.timer {
                    self.fire().await;
                }
                match &self.owed {
                    // The timer's step is owed in turn.
                    Some(again) => Err(unavailable(again.failed.0.clone())),
                    None => Ok(()),
                }
            }
            Err(e) => {
                owed.failed = (e.clone(), tokio::time::Instant::now());
                self.owed = Some(owed);
                Err(unavailable(e))
            }
        }
    }
}

#[cfg(test)]
mod tests;
