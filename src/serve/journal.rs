//! How the runtime's work reaches the store: [`Journaled`] wraps every target's executor
//! (an attempt with a side effect is journaled as started before it is sent, every outcome
//! after; on recovery, journaled outcomes are handed back instead of sending again), and
//! [`Collector`] gathers each conversation's trace records and hands them, with the state,
//! to whoever waits for the step, and passes a due timer on to the hub, which fires it once
//! it holds the conversation.

use super::store::{Step, Store};
use crate::catalogue;
use crate::ir::Value;
use crate::runtime::effects::{Delivery, Executor, ExecutorTask, TaskError, TaskRequest};
use crate::runtime::{
    redact_json, ConversationState, Redactor, StepCause, StepObserver, TraceRecord, TraceSink,
};
use futures::future::BoxFuture;
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// An attempt running now, for an answer given past its deadline.
#[derive(Clone, Debug)]
pub struct Running {
    pub target: String,
    pub task: String,
}

/// What every journaled executor shares.
pub struct Journal {
    store: Arc<dyn Store>,
    redactor: Redactor,
    /// Outcomes journaled before a restart, by idempotency key (`None`: started, never
    /// finished); each is handed back once, while the events accepted before it replay.
    recovered: Mutex<HashMap<String, Option<Json>>>,
    running: Mutex<HashMap<String, Running>>,
}

impl Journal {
    pub fn new(store: Arc<dyn Store>, redactor: Redactor) -> Arc<Journal> {
        Arc::new(Journal {
            store,
            redactor,
            recovered: Mutex::default(),
            running: Mutex::default(),
        })
    }

    pub fn recovered(&self, attempts: Vec<(String, Option<Json>)>) {
        lock(&self.recovered).extend(attempts);
    }

    /// Recovery is over: a later event gets new keys, so nothing journaled applies to it.
    pub fn forget_recovered(&self) {
        lock(&self.recovered).clear();
    }

    /// The attempts running now whose idempotency key belongs to conversation `instance`.
    pub fn running_in(&self, instance: &str) -> Vec<(String, Running)> {
        let marker = format!("/{instance}/");
        let mut running: Vec<_> = lock(&self.running)
            .iter()
            .filter(|(key, _)| key.contains(&marker))
            .map(|(key, running)| (key.clone(), running.clone()))
            .collect();
        running.sort_by(|a, b| a.0.cmp(&b.0));
        running
    }

    /// Wraps one target's executor.
    pub fn wrap(self: &Arc<Self>, inner: Arc<dyn Executor>) -> Arc<dyn Executor> {
        Arc::new(Journaled {
            inner,
            journal: self.clone(),
        })
    }

    fn outcome_json(&self, result: &Result<Value, TaskError>) -> Json {
        let mut json = match result {
            Ok(value) => json!({ "ok": value.to_json() }),
            Err(error) => json!({ "error": {
                "message": error.message,
                "retryable": error.retryable,
                "status": error.status,
                "not_sent": error.delivery == Delivery::NotSent,
            }}),
        };
        redact_json(&mut json, &self.redactor);
        json
    }
}

/// A journaled outcome handed back: the value a service answered, or its error.
fn from_outcome(outcome: &Json) -> Result<Value, TaskError> {
    if let Some(value) = outcome.get("ok") {
        return Ok(Value::from_json(value));
    }
    let error = &outcome["error"];
    let message = error["message"]
        .as_str()
        .unwrap_or("the journaled outcome of this attempt cannot be read")
        .to_string();
    Err(TaskError {
        message,
        retryable: error["retryable"].as_bool().unwrap_or(false),
        retry_after: None,
        status: error["status"].as_u64().and_then(|s| u16::try_from(s).ok()),
        delivery: if error["not_sent"].as_bool() == Some(true) {
            Delivery::NotSent
        } else {
            Delivery::MaybeSent
        },
    })
}

/// Whether the task changes something outside (the catalogue's `side_effect`; a declared
/// task's method).
fn has_side_effect(request: &TaskRequest) -> bool {
    match request.task {
        ExecutorTask::Builtin(task) => task.spec().side_effect,
        ExecutorTask::Request => match request.args.get("method") {
            Some(Value::Text(method)) => catalogue::method_has_side_effect(method),
            _ => true,
        },
    }
}

/// Whether an attempt cut off by a crash may be sent again with the same idempotency key:
/// its task's retry class (`catalogue::retry`), a request's by its method.
fn retry_safe(request: &TaskRequest) -> bool {
    let rule = match request.task {
        ExecutorTask::Builtin(task) => catalogue::retry::task_rule(task)
            .unwrap_or_else(|| catalogue::retry::method_rule("GET")),
        ExecutorTask::Request => match request.args.get("method") {
            Some(Value::Text(method)) => catalogue::retry::method_rule(method),
            _ => catalogue::retry::method_rule("POST"),
        },
    };
    rule.class.repeatable()
}

struct Journaled {
    inner: Arc<dyn Executor>,
    journal: Arc<Journal>,
}

impl Executor for Journaled {
    fn execute<'a>(&'a self, request: &'a TaskRequest) -> BoxFuture<'a, Result<Value, TaskError>> {
        Box::pin(async move {
            let journal = &self.journal;
            let key = &request.idempotency_key;
            let recovered = lock(&journal.recovered).remove(key);
            match recovered {
                Some(Some(outcome)) => return from_outcome(&outcome),
                Some(None) if !retry_safe(request) => {
                    // Retryable and maybe sent: the runtime's retry rule ends an unsafe task
                    // here as "outcome unknown" and runs its `on_failure`.
                    let error =
                        TaskError::retryable("the server stopped while this request was in flight");
                    let outcome = journal.outcome_json(&Err(error.clone()));
                    drop(
                        journal
                            .store
                            .attempt_ended(&request.conversation, key.clone(), outcome),
                    );
                    return Err(error);
                }
                _ => {}
            }
            if has_side_effect(request) {
                // Durable before anything is sent: after a crash, a start without an
                // outcome is what says the service may have acted.
                if let Err(e) = journal
                    .store
                    .attempt_started(&request.conversation, key.clone())
                    .await
                {
                    return Err(TaskError::fatal(format!(
                        "not sent: the journal cannot record it ({e})"
                    )));
                }
            }
            let running = Running {
                target: request.target.clone(),
                task: request.task.name().to_string(),
            };
            lock(&journal.running).insert(key.clone(), running);
            let result = self.inner.execute(request).await;
            lock(&journal.running).remove(key);
            // Queued, not awaited: writes become durable in the order queued, so the next
            // side effect's start and the step (what the answer waits for) are durable only
            // after it. Awaiting it would cost every attempt a commit and close no gap: a
            // crash between the service's answer and this commit reads as "outcome unknown"
            // either way. Lost to a store that went away, it matters only to a replay: the
            // event's step, owed until journaled, holds the outcome.
            drop(journal.store.attempt_ended(
                &request.conversation,
                key.clone(),
                journal.outcome_json(&result),
            ));
            result
        })
    }
    fn describe(&self, request: &TaskRequest) -> String {
        self.inner.describe(request)
    }
    fn preview(&self, request: &TaskRequest) -> String {
        self.inner.preview(request)
    }
    fn unavailable(&self) -> Option<&str> {
        self.inner.unavailable()
    }
}

/// A step taken for an event someone waits for.
pub struct Stepped {
    pub state: ConversationState,
    pub records: Vec<TraceRecord>,
    pub retired: bool,
}

#[derive(Default)]
struct Slot {
    records: Vec<TraceRecord>,
    waiter: Option<oneshot::Sender<Stepped>>,
}

/// The runtime's trace sink and step observer. One per runtime: once the program is
/// reloaded, the old runtime's collector is [`Self::retire`]d and hears nothing more.
pub struct Collector {
    slots: Mutex<HashMap<String, Slot>>,
    store: Arc<dyn Store>,
    redactor: Redactor,
    retired: AtomicBool,
    /// The program's `inactivity`, for when a journaled state's timer is due.
    inactivity_ms: Option<u64>,
    /// Conversations whose inactivity timer is due, to the hub.
    due: mpsc::UnboundedSender<String>,
}

impl Collector {
    pub fn new(
        store: Arc<dyn Store>,
        redactor: Redactor,
        inactivity_ms: Option<u64>,
        due: mpsc::UnboundedSender<String>,
    ) -> Arc<Collector> {
        Arc::new(Collector {
            slots: Mutex::default(),
            store,
            redactor,
            retired: AtomicBool::new(false),
            inactivity_ms,
            due,
        })
    }

    /// The journal's row of a step: its state (secrets a service echoed redacted), its
    /// records, and when its inactivity timer is due.
    pub fn step(&self, stepped: &Stepped, event: Option<u64>, answer: Option<Json>) -> Step {
        let state = &stepped.state;
        let due_in = state
            .inactive_in(self.inactivity_ms)
            .map(|left| u64::try_from(left.as_millis()).unwrap_or(u64::MAX));
        let mut json = serde_json::to_value(state).unwrap_or(Json::Null);
        redact_json(&mut json, &self.redactor);
        Step {
            conversation: state.id.clone(),
            event,
            state: json,
            status: state.status.name().to_string(),
            retired: stepped.retired,
            records: stepped.records.iter().map(record_json).collect(),
            answer,
            due_in,
        }
    }

    /// The next event step of `conversation` is answered on the receiver.
    pub fn wait_for_step(&self, conversation: &str) -> oneshot::Receiver<Stepped> {
        let (tx, rx) = oneshot::channel();
        lock(&self.slots)
            .entry(conversation.to_string())
            .or_default()
            .waiter = Some(tx);
        rx
    }

    pub fn retire(&self) {
        self.retired.store(true, Ordering::SeqCst);
    }
}

/// The JSON of a record (records reach the sink already redacted).
pub fn record_json(record: &TraceRecord) -> Json {
    serde_json::to_value(record).unwrap_or(Json::Null)
}

impl TraceSink for Collector {
    fn record(&self, record: TraceRecord) {
        if self.retired.load(Ordering::SeqCst) {
            return;
        }
        match record.conversation() {
            Some(id) => {
                let id = id.to_string();
                lock(&self.slots)
                    .entry(id)
                    .or_default()
                    .records
                    .push(record);
            }
            None => tracing::warn!(record = %record_json(&record), "runtime error"),
        }
    }
}

impl StepObserver for Collector {
    fn stepped(&self, state: &ConversationState, cause: StepCause, retired: bool) {
        if self.retired.load(Ordering::SeqCst) {
            return;
        }
        let (records, waiter) = {
            let mut slots = lock(&self.slots);
            match cause {
                StepCause::Event => slots
                    .remove(&state.id)
                    .map(|slot| (slot.records, slot.waiter))
                    .unwrap_or_default(),
                StepCause::Timer => match slots.get_mut(&state.id) {
                    Some(slot) => (std::mem::take(&mut slot.records), slot.waiter.take()),
                    None => Default::default(),
                },
            }
        };
        let stepped = Stepped {
            state: state.clone(),
            records,
            retired,
        };
        let stepped = match waiter {
            Some(waiter) => match waiter.send(stepped) {
                Ok(()) => return,
                Err(stepped) => stepped,
            },
            None => stepped,
        };
        // Nobody waits any more: journal the step here, in the conversation's order.
        drop(self.store.stepped(self.step(&stepped, None, None)));
    }

    /// The hub fires it once this node holds the conversation (so its actions run on one
    /// node only); a retired runtime's conversations fire nothing.
    fn timer_due(&self, conversation: &str) -> bool {
        if !self.retired.load(Ordering::SeqCst) {
            let _ = self.due.send(conversation.to_string());
        }
        false
    }
}
