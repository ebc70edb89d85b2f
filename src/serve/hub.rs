//! One writer per conversation: each conversation with work has an actor (a tokio task and
//! its queue) that journals an event, hands it to the runtime, waits for its step, journals
//! the step and answers, one event at a time, so the journal's order is the order events
//! ran in. The hub also recovers after a crash (the journal replayed) and swaps the program
//! on reload.

use super::answer;
use super::errors::{ApiError, ErrorCode};
use super::inbound::Inbound;
use super::journal::{Collector, Journal, Stepped};
use super::store::{Accept, Accepted, Step, Store};
use crate::ir;
use crate::runtime::{
    executors, redact_json, ConversationState, Event, ExecutorFactory, Redactor, Runtime,
};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How long an actor with nothing to do stays.
const ACTOR_IDLE: Duration = Duration::from_secs(30);

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

enum Job {
    Event {
        inbound: Box<Inbound>,
        admitted: oneshot::Sender<Result<Admission, ApiError>>,
    },
    /// An event journaled before a restart and not finished.
    Replay {
        n: u64,
        event: Box<Event>,
        done: oneshot::Sender<Json>,
    },
}

pub struct Hub {
    generation: RwLock<Arc<Generation>>,
    store: Arc<dyn Store>,
    journal: Arc<Journal>,
    redactor: Redactor,
    actors: Mutex<HashMap<String, mpsc::UnboundedSender<Job>>>,
    /// Held shared by every event step, exclusively by a reload.
    gate: tokio::sync::RwLock<()>,
}

impl Hub {
    /// Recovers from the store (events accepted and not finished are run again, with the
    /// outcomes journaled for their attempts), then starts every conversation still running
    /// so its timers run. Returns how many events were replayed.
    pub async fn start(
        program: ir::Program,
        store: Arc<dyn Store>,
    ) -> Result<(Arc<Hub>, usize), String> {
        let redactor = Redactor::default();
        let journal = Journal::new(store.clone(), redactor.clone());
        let recovery = store.recover().await.map_err(|e| e.to_string())?;
        journal.recovered(recovery.attempts);
        let states: Vec<ConversationState> = recovery
            .live
            .into_iter()
            .filter_map(|(id, state)| match serde_json::from_value(state) {
                Ok(state) => Some(state),
                Err(e) => {
                    tracing::error!(conversation = %id, "its journaled state cannot be read: {e}");
                    None
                }
            })
            .collect();
        let generation = build(program, &store, &journal, &redactor, &states)?;
        let hub = Arc::new(Hub {
            generation: RwLock::new(Arc::new(generation)),
            store,
            journal,
            redactor,
            actors: Mutex::default(),
            gate: tokio::sync::RwLock::new(()),
        });
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
                event: Box::new(event),
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
        let runtime = &hub.current().runtime;
        for state in &states {
            runtime.wake(&state.id);
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
            inbound: Box::new(inbound),
            admitted,
        };
        self.send(&id, job);
        admission.await.unwrap_or_else(|_| {
            Err(ApiError::new(
                ErrorCode::ShuttingDown,
                "the conversation's worker stopped",
            ))
        })
    }

    fn send(self: &Arc<Self>, id: &str, mut job: Job) {
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
    pub async fn reload(&self, program: ir::Program) -> Result<usize, String> {
        let _exclusive = self.gate.write().await;
        let old = self.current();
        let mut states = Vec::new();
        for id in old.runtime.conversation_ids() {
            states.extend(old.runtime.snapshot(&id).await);
        }
        let new = build(program, &self.store, &self.journal, &self.redactor, &states)?;
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
    pub async fn flush(&self) -> Result<(), String> {
        self.store.flush().await.map_err(|e| e.to_string())
    }
}

/// A runtime of `program` whose executors are journaled, going on from `states`.
fn build(
    program: ir::Program,
    store: &Arc<dyn Store>,
    journal: &Arc<Journal>,
    redactor: &Redactor,
    states: &[ConversationState],
) -> Result<Generation, String> {
    let collector = Collector::new(store.clone(), redactor.clone());
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
    New(Admitted, Event),
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

struct Actor {
    hub: Arc<Hub>,
    id: String,
    known: Known,
}

impl Actor {
    fn new(hub: Arc<Hub>, id: String) -> Self {
        Actor {
            hub,
            id,
            known: Known::Unknown,
        }
    }

    async fn run(mut self, mut queue: mpsc::UnboundedReceiver<Job>) {
        loop {
            let job = match tokio::time::timeout(ACTOR_IDLE, queue.recv()).await {
                Ok(Some(job)) => job,
                Ok(None) => return,
                Err(_idle) => {
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
            match job {
                Job::Event { inbound, admitted } => match self.admit(*inbound).await {
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
                    Ok(Admit::New(info, event)) => {
                        let (done, answer) = oneshot::channel();
                        let n = info.n;
                        let _ = admitted.send(Ok(Admission::Running(info, answer)));
                        let answer = self.run_event(n, event).await;
                        let _ = done.send(answer);
                    }
                },
                Job::Replay { n, event, done } => {
                    let answer = self.run_event(n, *event).await;
                    let _ = done.send(answer);
                }
            }
        }
    }

    /// The conversation as the store knows it; a new one gets its initial state.
    async fn know(&mut self) -> Result<Option<ConversationState>, ApiError> {
        if !matches!(self.known, Known::Unknown) {
            return Ok(None);
        }
        let unavailable = |e: super::store::StoreError| {
            ApiError::new(
                ErrorCode::StoreUnavailable,
                format!("the event was not accepted: {e}"),
            )
        };
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
                let state: ConversationState = serde_json::from_value(stored.state)
                    .map_err(|e| unavailable(super::store::StoreError(e.to_string())))?;
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
        let initial = self.know().await?;
        let initial_json = match &initial {
            Some(state) => serde_json::to_value(state).unwrap_or(Json::Null),
            None => Json::Null,
        };
        let accepted = self
            .hub
            .store
            .accept(Accept {
                conversation: self.id.clone(),
                delivery,
                body,
                initial: initial_json,
                only_duplicate: matches!(self.known, Known::Retired),
            })
            .await
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::StoreUnavailable,
                    format!("the event was not accepted: {e}"),
                )
            })?;
        match accepted {
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
            Accepted::New { n } => {
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
                Ok(Admit::New(admitted, event))
            }
        }
    }

    /// Hands a journaled event to the runtime, waits for its step, journals the step with
    /// the answer, and returns the answer.
    async fn run_event(&mut self, n: u64, event: Event) -> Json {
        let _shared = self.hub.gate.read().await;
        let generation = self.hub.current();
        let step = generation.collector.wait_for_step(&self.id);
        generation.runtime.send(event);
        let stepped = match step.await {
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
        let mut answer = answer::answer(&self.id, &stepped);
        redact_json(&mut answer, &self.hub.redactor);
        let journaled = self
            .hub
            .store
            .stepped(Step {
                conversation: self.id.clone(),
                event: Some(n),
                state: generation.collector.state_json(&stepped.state),
                status: stepped.state.status.name().to_string(),
                retired: stepped.retired,
                records: stepped
                    .records
                    .iter()
                    .map(super::journal::record_json)
                    .collect(),
                answer: Some(answer.clone()),
            })
            .await;
        if let Err(e) = journaled {
            tracing::error!(conversation = %self.id, n, "the step was not journaled: {e}");
        }
        self.known = match stepped.retired {
            true => Known::Retired,
            false => Known::Running {
                instance: stepped.state.instance.clone(),
            },
        };
        answer
    }
}
