//! The runtime: one tokio task and one queue per conversation, created on its first event.
//! Events of one conversation are handled strictly in arrival order; conversations run
//! concurrently and never wait for each other. A conversation that ends emits its `end`
//! record and is freed at once; an event the runtime cannot handle (for a conversation that
//! ended, naming a use case or block the program lacks) is reported, and so is a panic.

use super::clock::{Clock, ClockMode};
use super::conversation::{
    came_after_the_end, off_channel, unknown_names, Conversation, ConversationState, Handled,
};
use super::effects::{Executor, ExecutorTask, TaskError, TaskRequest};
use super::ended::Ended;
use super::eval::{eval_constant, EvalError, Limits};
use super::event::Event;
use super::executors::BuildError;
use super::observer::{StepCause, StepObserver};
use super::plan::{Plan, PlanError};
use super::secrets::{Environment, ProcessEnv, Redactor};
use super::trace::{TraceRecord, TraceSink, Tracer};
use crate::catalogue::{BuiltinTask, Kind};
use crate::ir::{self, Value};
use futures::future::BoxFuture;
use futures::FutureExt;
use indexmap::IndexMap;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio::time::Instant;

/// Builds the executor of a declared target from its evaluated fields (`secret(..)` and
/// `env(..)` already read). `agentc run` passes `runtime::executors::build`.
pub type ExecutorFactory = Arc<
    dyn Fn(&ir::Target, IndexMap<String, Value>) -> Result<Arc<dyn Executor>, BuildError>
        + Send
        + Sync,
>;

/// What the runtime is shared by all its conversations.
pub(crate) struct Shared {
    pub plan: Plan,
    /// One per declared target, in `Plan::targets` order.
    pub executors: Vec<Arc<dyn Executor>>,
    pub tracer: Tracer,
    observer: Option<Arc<dyn StepObserver>>,
    pub redactor: Redactor,
    pub env: Arc<dyn Environment>,
    pub clock: Clock,
    pub limits: Limits,
    pub dry_run: bool,
    /// Per target, in `Plan::targets` order: its executor reaches nothing outside the
    /// process (a mock service), so a dry run lets its reads through.
    pub in_process: Vec<bool>,
    /// The longest `Retry-After` honoured; a longer one fails the action.
    pub max_retry_after: Duration,
    pending: Pending,
    /// Numbers the tasks of `Runtime::run_task`, for distinct idempotency keys.
    setup_runs: AtomicUsize,
    conversations: Mutex<Conversations>,
    /// Events refused and internal errors so far (see [`Runtime::faults`]).
    faults: AtomicUsize,
    stop: watch::Sender<Stop>,
    /// Transfers that do not connect (tests only): the number (`*`: any) and the reason.
    failing_transfers: std::sync::Mutex<Vec<(String, String)>>,
}

impl Shared {
    /// Why a transfer to `to` does not connect, when a test said it does not.
    pub fn transfer_failure(&self, to: &str) -> Option<String> {
        let failing = self
            .failing_transfers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        failing
            .iter()
            .rev()
            .find(|(number, _)| number == "*" || number == to)
            .map(|(_, reason)| reason.clone())
    }
}

/// How far the runtime is in stopping (see [`Runtime::stop`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stop {
    Running,
    /// Nothing new starts; what runs goes on.
    Stopping,
    /// What still runs is dropped.
    Abandoning,
}

impl Shared {
    /// Reports an event not handled, or an internal error: the run has failed.
    pub fn report_fault(&self, conversation: &str, message: String) {
        self.faults.fetch_add(1, Ordering::SeqCst);
        self.tracer.emit(|| TraceRecord::Error {
            conversation: Some(conversation.to_string()),
            line: None,
            message,
        });
    }

    /// Whether the runtime is stopping: no event or action may start.
    pub fn stopping(&self) -> bool {
        *self.stop.borrow() >= Stop::Stopping
    }

    fn conversations(&self) -> std::sync::MutexGuard<'_, Conversations> {
        self.conversations.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// How many events may wait to be handled before [`Runtime::room`] makes the reader wait:
/// input read faster than it is handled is held here, so this bounds a run's memory.
const MAX_QUEUED_EVENTS: usize = 10_000;

/// Events sent but not yet handled, to let callers wait until the runtime is idle, or until
/// it has room for more.
#[derive(Default)]
struct Pending {
    count: AtomicUsize,
    idle: Notify,
    room: Notify,
}

impl Pending {
    fn add(&self) {
        self.count.fetch_add(1, Ordering::SeqCst);
    }
    fn done(&self) {
        let before = self.count.fetch_sub(1, Ordering::SeqCst);
        if before == 1 {
            self.idle.notify_waiters();
        }
        if before == MAX_QUEUED_EVENTS {
            self.room.notify_waiters();
        }
    }
}

/// Configures and builds a [`Runtime`].
pub struct RuntimeBuilder {
    program: ir::Program,
    env: Arc<dyn Environment>,
    executors: HashMap<String, Arc<dyn Executor>>,
    factory: Option<ExecutorFactory>,
    overrides: HashMap<String, IndexMap<String, Value>>,
    trace: Option<Arc<dyn TraceSink>>,
    observer: Option<Arc<dyn StepObserver>>,
    redactor: Redactor,
    clock: ClockMode,
    start_time: Option<jiff::Timestamp>,
    dry_run: bool,
    in_process: std::collections::HashSet<String>,
    limits: Limits,
    max_retry_after: Duration,
    resumed: HashMap<String, ConversationState>,
    keep_ended_states: bool,
}

impl RuntimeBuilder {
    /// Where `secret(..)` and `env(..)` read (default: the process's environment).
    pub fn env(mut self, env: impl Environment + 'static) -> Self {
        self.env = Arc::new(env);
        self
    }
    /// The executor of one declared target, instead of the factory's.
    pub fn executor(mut self, target: &str, executor: Arc<dyn Executor>) -> Self {
        self.executors.insert(target.to_string(), executor);
        self
    }
    /// Builds the executors of the targets not given with [`Self::executor`].
    pub fn executor_factory(mut self, factory: ExecutorFactory) -> Self {
        self.factory = Some(factory);
        self
    }
    /// Fields that replace a target's own before its executor is built: how mock services
    /// point a target at a loopback server (`base_url`, `allow_hosts`).
    pub fn override_fields(mut self, target: &str, fields: IndexMap<String, Value>) -> Self {
        self.overrides
            .entry(target.to_string())
            .or_default()
            .extend(fields);
        self
    }
    /// Where trace records go (default: nowhere, and tracing costs nothing).
    pub fn trace(mut self, sink: Arc<dyn TraceSink>) -> Self {
        self.trace = Some(sink);
        self
    }
    /// Told of every step each conversation takes (see [`StepObserver`]).
    pub fn observer(mut self, observer: Arc<dyn StepObserver>) -> Self {
        self.observer = Some(observer);
        self
    }
    /// Shares a redactor (the CLI passes its own to redact what it prints).
    pub fn redactor(mut self, redactor: Redactor) -> Self {
        self.redactor = redactor;
        self
    }
    pub fn clock(mut self, mode: ClockMode) -> Self {
        self.clock = mode;
        self
    }
    /// The wall time `now()` starts at (default: the current time).
    pub fn start_time(mut self, at: jiff::Timestamp) -> Self {
        self.start_time = Some(at);
        self
    }
    /// Hold back every external task with a side effect (the catalogue's `side_effect`, a
    /// declared task's method), and every read of a target not [`Self::in_process`]: each
    /// is traced with what it would send.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }
    /// Says that `target`'s executor reaches nothing outside the process (its fields point
    /// it at mock services): a dry run lets its reads through.
    pub fn in_process(mut self, target: &str) -> Self {
        self.in_process.insert(target.to_string());
        self
    }
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
    /// A conversation that goes on from the state another runtime left it in (the REPL
    /// keeps its conversation when its program changes); it takes over when its id first
    /// gets an event.
    pub fn resume(mut self, state: ConversationState) -> Self {
        self.resumed.insert(state.id.clone(), state);
        self
    }
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }
    /// Keeps the final state of every conversation that ended, for [`Runtime::snapshot`]
    /// (a test or the REPL looks at its one conversation after it ended). Without it an
    /// ended conversation is freed whole: a long run stays flat in memory.
    pub fn keep_ended_states(mut self, keep: bool) -> Self {
        self.keep_ended_states = keep;
        self
    }

    /// Prepares the program and builds one executor per declared target. A target whose
    /// fields cannot be evaluated (a missing secret) or whose executor cannot be built gets
    /// one that fails every task with the reason: the conversations still run.
    pub fn build(self) -> Result<Runtime, PlanError> {
        self.redactor.register_program(&self.program, &*self.env);
        let plan = Plan::new(self.program)?;
        let tracer = Tracer::new(self.trace, self.redactor.clone());
        let mut executors = Vec::with_capacity(plan.targets.len());
        let mut given = self.executors;
        for name in &plan.targets {
            let executor = match given.remove(name) {
                Some(executor) => executor,
                None => {
                    let target = &plan.program.targets[name];
                    let built = evaluate_fields(target, &*self.env, &self.redactor)
                        .map(|mut fields| {
                            if let Some(overrides) = self.overrides.get(name) {
                                fields.extend(overrides.clone());
                            }
                            fields
                        })
                        .and_then(|fields| match &self.factory {
                            Some(factory) => factory(target, fields).map_err(Unavailable::Build),
                            None => Err(Unavailable::NoExecutor {
                                target: name.clone(),
                                kind: target.kind,
                            }),
                        });
                    built.unwrap_or_else(|reason| {
                        let reason = reason.to_string();
                        tracer.emit(|| TraceRecord::Error {
                            conversation: None,
                            line: None,
                            message: reason.clone(),
                        });
                        Arc::new(UnavailableExecutor(reason))
                    })
                }
            };
            executors.push(executor);
        }
        let start = self.start_time.unwrap_or_else(jiff::Timestamp::now);
        let in_process = plan
            .targets
            .iter()
            .map(|t| self.in_process.contains(t))
            .collect();
        let shared = Shared {
            plan,
            executors,
            tracer,
            observer: self.observer,
            redactor: self.redactor,
            env: self.env,
            clock: Clock::new(self.clock, start),
            limits: self.limits,
            dry_run: self.dry_run,
            in_process,
            max_retry_after: self.max_retry_after,
            pending: Pending::default(),
            setup_runs: AtomicUsize::new(0),
            conversations: Mutex::new(Conversations {
                resumed: self.resumed,
                ended: if self.keep_ended_states {
                    Ended::keeping_states()
                } else {
                    Ended::default()
                },
                ..Conversations::default()
            }),
            faults: AtomicUsize::new(0),
            stop: watch::Sender::new(Stop::Running),
            failing_transfers: Default::default(),
        };
        Ok(Runtime {
            shared: Arc::new(shared),
        })
    }
}

/// A target's fields, evaluated once at start (no conversation scope is available there).
fn evaluate_fields(
    target: &ir::Target,
    env: &dyn Environment,
    redactor: &Redactor,
) -> Result<IndexMap<String, Value>, Unavailable> {
    target
        .fields
        .iter()
        .map(|(name, expr)| {
            eval_constant(expr, env, redactor)
                .map(|v| (name.clone(), v))
                .map_err(|error| Unavailable::Field {
                    target: target.name.clone(),
                    field: name.clone(),
                    error,
                })
        })
        .collect()
}

/// Why a target's executor could not be set up: every task of the target fails with it.
#[derive(Debug)]
enum Unavailable {
    /// A field does not evaluate (a missing secret).
    Field {
        target: String,
        field: String,
        error: EvalError,
    },
    /// The runtime was built without a factory.
    NoExecutor {
        target: String,
        kind: Kind,
    },
    Build(BuildError),
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unavailable::Field {
                target,
                field,
                error,
            } => write!(
                f,
                "target `{target}` is unavailable: field `{field}`: {error}"
            ),
            Unavailable::NoExecutor { target, kind } => write!(
                f,
                "target `{target}` is unavailable: no executor for `{kind}` targets in this build"
            ),
            // The error's own text names the target too (`target `t`: …`): named once here.
            Unavailable::Build(error) => write!(
                f,
                "target `{}` is unavailable: {}",
                error.target, error.problem
            ),
        }
    }
}

/// Why [`Runtime::run_task`] did not run its task, or how the task failed. Every text in
/// it is redacted.
#[derive(Clone, Debug, PartialEq)]
pub enum RunTaskError {
    UnknownTarget(String),
    NoSuchTask {
        kind: Kind,
        task: String,
    },
    /// The executor's message.
    Failed(String),
    /// The target's timeout passed.
    TimedOut(Duration),
}

impl std::fmt::Display for RunTaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunTaskError::UnknownTarget(target) => {
                write!(f, "`{target}` is not a declared target")
            }
            RunTaskError::NoSuchTask { kind, task } => {
                write!(f, "`{kind}` targets have no task `{task}`")
            }
            RunTaskError::Failed(message) => f.write_str(message),
            RunTaskError::TimedOut(timeout) => write!(
                f,
                "timed out after {}",
                super::clock::show_duration(*timeout)
            ),
        }
    }
}

impl std::error::Error for RunTaskError {}

/// Why [`Runtime::eval`] gave no value.
#[derive(Clone, Debug, PartialEq)]
pub enum ConversationEvalError {
    /// The conversation ended: there is nothing left to evaluate in.
    Ended,
    /// The conversation stopped before it answered (its input was finished).
    Finished,
    /// The expression failed; its message is redacted.
    Failed(EvalError),
}

impl std::fmt::Display for ConversationEvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConversationEvalError::Ended => f.write_str("the conversation has ended"),
            ConversationEvalError::Finished => f.write_str("the conversation has finished"),
            ConversationEvalError::Failed(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for ConversationEvalError {}

/// Stands in for a target that could not be set up.
struct UnavailableExecutor(String);

impl Executor for UnavailableExecutor {
    fn execute<'a>(&'a self, _: &'a TaskRequest) -> BoxFuture<'a, Result<Value, TaskError>> {
        Box::pin(async move { Err(TaskError::fatal(self.0.clone())) })
    }
    fn describe(&self, request: &TaskRequest) -> String {
        format!("{}.{} (unavailable)", request.target, request.task)
    }
    fn unavailable(&self) -> Option<&str> {
        Some(&self.0)
    }
}

/// A conversation's queue. Its commands are boxed: a tokio queue allocates its first block of
/// 32 slots with the channel, and every idle conversation holds it, so a slot is a pointer.
type Queue = mpsc::UnboundedSender<Box<Command>>;

enum Command {
    Event(Event),
    Snapshot(oneshot::Sender<ConversationState>),
    Eval(
        ir::Expr,
        oneshot::Sender<Result<Value, ConversationEvalError>>,
    ),
    Finish(oneshot::Sender<ConversationState>),
    /// Leave memory (the caller keeps the state elsewhere); answers when the conversation's
    /// inactivity timer is due, if it has one.
    Evict(oneshot::Sender<Option<Instant>>),
    /// Fire the inactivity timer the host was told is due, if it still is; answers whether
    /// it fired.
    Fire(oneshot::Sender<bool>),
}

#[derive(Default)]
struct Conversations {
    live: HashMap<String, Live>,
    /// Numbers conversations in order of first event, so `finish` reports in a stable order.
    started: u64,
    /// States to resume from, by id (see [`RuntimeBuilder::resume`]).
    resumed: HashMap<String, ConversationState>,
    ended: Ended,
}

/// A conversation whose task runs.
struct Live {
    number: u64,
    queue: Queue,
}

impl Conversations {
    /// The live conversations, in order of first event.
    fn in_order(&self) -> Vec<(&String, &Live)> {
        let mut live: Vec<_> = self.live.iter().collect();
        live.sort_unstable_by_key(|(_, l)| l.number);
        live
    }
}

/// A running program. Create it with [`Runtime::builder`] inside a tokio runtime.
pub struct Runtime {
    shared: Arc<Shared>,
}

impl Runtime {
    pub fn builder(program: ir::Program) -> RuntimeBuilder {
        RuntimeBuilder {
            program,
            env: Arc::new(ProcessEnv),
            executors: HashMap::new(),
            factory: None,
            overrides: HashMap::new(),
            trace: None,
            observer: None,
            redactor: Redactor::default(),
            clock: ClockMode::Tokio,
            start_time: None,
            dry_run: false,
            in_process: Default::default(),
            limits: Limits::default(),
            max_retry_after: Duration::from_secs(60),
            resumed: HashMap::new(),
            keep_ended_states: false,
        }
    }

    pub fn program(&self) -> &ir::Program {
        &self.shared.plan.program
    }

    /// The redactor holding every secret read so far.
    pub fn redactor(&self) -> &Redactor {
        &self.shared.redactor
    }

    /// Queues an event; it is handled after the conversation's earlier events. Returns at
    /// once. A conversation is created by its first event. An event naming a use case or
    /// block the program does not have, of a channel the agent lacks, or for a conversation
    /// that ended, is reported and not handled.
    pub fn send(&self, event: Event) {
        let shared = &self.shared;
        let id = &event.conversation;
        if let Some(problem) = self.refusal(&event) {
            return shared.report_fault(id, problem);
        }
        // Sent under the lock, so a conversation that ends (and leaves the map under the
        // same lock) has every event sent to it in its queue.
        let mut conversations = shared.conversations();
        if conversations.ended.contains(id) {
            drop(conversations);
            return shared.report_fault(id, came_after_the_end(&event));
        }
        shared.pending.add();
        let queue = self.queue(&mut conversations, id);
        if let Err(mpsc::error::SendError(_)) = queue.send(Box::new(Command::Event(event))) {
            // The conversation's task is gone: nothing will handle it.
            shared.pending.done();
        }
    }

    /// Why [`Self::send`] would refuse `event` whatever the conversation's state: it names a
    /// use case or block the program lacks, or a channel the agent does not speak.
    pub fn refusal(&self, event: &Event) -> Option<String> {
        let program = &self.shared.plan.program;
        unknown_names(program, &event.kind).or_else(|| off_channel(program, event))
    }

    /// Like [`RuntimeBuilder::resume`], on a running runtime: the conversation `state.id`
    /// goes on from `state` when it first gets an event (or is [woken](Self::wake)). Ignored
    /// for a conversation already running.
    pub fn resume(&self, state: ConversationState) {
        let mut conversations = self.shared.conversations();
        if !conversations.live.contains_key(&state.id) {
            conversations.resumed.insert(state.id.clone(), state);
        }
    }

    /// Starts the task of a resumed conversation without an event, so its timers run
    /// (`conversation_inactive` survives a restart).
    pub fn wake(&self, id: &str) {
        let mut conversations = self.shared.conversations();
        if !conversations.ended.contains(id) {
            self.queue(&mut conversations, id);
        }
    }

    fn queue(&self, conversations: &mut Conversations, id: &str) -> Queue {
        if let Some(live) = conversations.live.get(id) {
            return live.queue.clone();
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let mut conversation = Conversation::new(self.shared.clone(), id.to_string());
        if let Some(state) = conversations.resumed.remove(id) {
            conversation.resume(state);
        }
        tokio::spawn(conversation_loop(conversation, rx));
        let number = conversations.started;
        conversations.started += 1;
        let live = Live {
            number,
            queue: tx.clone(),
        };
        conversations.live.insert(id.to_string(), live);
        tx
    }

    /// Waits while [`MAX_QUEUED_EVENTS`] events wait to be handled: a reader calls it before
    /// each [`Self::send`] so that input read faster than it is handled stays bounded.
    pub async fn room(&self) {
        let pending = &self.shared.pending;
        loop {
            let room = pending.room.notified();
            if pending.count.load(Ordering::SeqCst) < MAX_QUEUED_EVENTS {
                return;
            }
            room.await;
        }
    }

    /// From now on a `call.transfer` to `to` (`*`: any number) fails with `reason`, as a
    /// transfer the platform could not connect (`mock call transfer` in a test).
    pub fn fail_transfers(&self, to: &str, reason: &str) {
        let mut failing = self
            .shared
            .failing_transfers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        failing.push((to.to_string(), reason.to_string()));
    }

    /// How many events the runtime refused (reported, not handled) and how many internal
    /// errors it caught, so far: a run with any has failed.
    pub fn faults(&self) -> usize {
        self.shared.faults.load(Ordering::SeqCst)
    }

    /// Starts stopping: no queued event and no new action starts; the actions running go on
    /// for at most `grace`, then are dropped where they stand. [`Self::finish`] then emits
    /// every `end` record, each after an error record saying what was left undone.
    pub fn stop(&self, grace: Duration) {
        self.shared.stop.send_if_modified(|stop| {
            let starts = *stop == Stop::Running;
            if starts {
                *stop = Stop::Stopping;
            }
            starts
        });
        let shared = self.shared.clone();
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            shared.stop.send_replace(Stop::Abandoning);
        });
    }

    /// Drops at once what still runs (a second interrupt); see [`Self::stop`].
    pub fn abandon(&self) {
        self.shared.stop.send_replace(Stop::Abandoning);
    }

    /// Runs one task on a declared target outside any conversation, once, with the target's
    /// timeout: seeding a database before a demo, a REPL command. Errors are redacted.
    pub async fn run_task(
        &self,
        target: &str,
        task: &str,
        args: IndexMap<String, Value>,
        rest: Vec<Value>,
    ) -> Result<Value, RunTaskError> {
        let shared = &self.shared;
        let redact = |text: &str| shared.redactor.redact(text).into_owned();
        let index = shared
            .plan
            .targets
            .iter()
            .position(|t| t == target)
            .ok_or_else(|| RunTaskError::UnknownTarget(redact(target)))?;
        let declared = &shared.plan.program.targets[target];
        let kind = declared.kind;
        let task = BuiltinTask::parse(kind, task).ok_or_else(|| RunTaskError::NoSuchTask {
            kind,
            task: redact(task),
        })?;
        let timeout = declared
            .timeout_ms
            .map_or(super::plan::DEFAULT_TIMEOUT, Duration::from_millis);
        let request = TaskRequest {
            target: target.to_string(),
            task: ExecutorTask::Builtin(task),
            args,
            rest,
            idempotency_key: format!(
                "setup/{target}/{}/{}",
                task.name(),
                shared.setup_runs.fetch_add(1, Ordering::SeqCst)
            ),
            timeout,
            conversation: String::new(),
        };
        match tokio::time::timeout(timeout, shared.executors[index].execute(&request)).await {
            Ok(result) => result.map_err(|e| RunTaskError::Failed(redact(&e.message))),
            Err(_) => Err(RunTaskError::TimedOut(timeout)),
        }
    }

    /// Waits until every event sent so far has been handled.
    pub async fn settle(&self) {
        let pending = &self.shared.pending;
        loop {
            let idle = pending.idle.notified();
            if pending.count.load(Ordering::SeqCst) == 0 {
                // Let conversations woken by timers (a paused clock just advanced) run too.
                for _ in 0..8 {
                    tokio::task::yield_now().await;
                }
                if pending.count.load(Ordering::SeqCst) == 0 {
                    return;
                }
                continue;
            }
            idle.await;
        }
    }

    /// A conversation's state once the events sent to it so far are handled. An ended
    /// conversation has none, unless ended states are kept
    /// ([`RuntimeBuilder::keep_ended_states`]).
    pub async fn snapshot(&self, id: &str) -> Option<ConversationState> {
        let queue = self.live_queue(id);
        if let Some(queue) = queue {
            let (tx, rx) = oneshot::channel();
            if queue.send(Box::new(Command::Snapshot(tx))).is_ok() {
                if let Ok(state) = rx.await {
                    return Some(state);
                }
            }
        }
        // It ended (perhaps while this was asked).
        self.shared.conversations().ended.state(id).cloned()
    }

    /// Drops a conversation from memory between its events, its state being journaled
    /// elsewhere (`agentc serve` evicts idle ones); it comes back by [`Self::resume`].
    /// Returns when its `conversation_inactive` timer is due, if it has one (`None` also
    /// for a conversation not in memory).
    pub async fn evict(&self, id: &str) -> Option<Instant> {
        let queue = self.live_queue(id)?;
        let (tx, rx) = oneshot::channel();
        queue.send(Box::new(Command::Evict(tx))).ok()?;
        rx.await.ok().flatten()
    }

    /// Fires a conversation's `conversation_inactive` timer that its observer chose to fire
    /// itself ([`StepObserver::timer_due`]), if it is still due; returns once its step was
    /// observed, with whether it fired.
    pub async fn fire(&self, id: &str) -> bool {
        let Some(queue) = self.live_queue(id) else {
            return false;
        };
        let (tx, rx) = oneshot::channel();
        if queue.send(Box::new(Command::Fire(tx))).is_err() {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    fn live_queue(&self, id: &str) -> Option<Queue> {
        let conversations = self.shared.conversations();
        conversations.live.get(id).map(|l| l.queue.clone())
    }

    /// Evaluates an expression in a conversation's scopes once the events sent to it so far
    /// are handled (the REPL's `:eval`). `event` is the last event's payload. A conversation
    /// that had no event yet is created, with its params' defaults.
    pub async fn eval(
        &self,
        conversation: &str,
        expr: ir::Expr,
    ) -> Result<Value, ConversationEvalError> {
        let (tx, rx) = oneshot::channel();
        let queue = {
            let mut conversations = self.shared.conversations();
            if conversations.ended.contains(conversation) {
                return Err(ConversationEvalError::Ended);
            }
            self.queue(&mut conversations, conversation)
        };
        queue
            .send(Box::new(Command::Eval(expr, tx)))
            .map_err(|_| ConversationEvalError::Finished)?;
        rx.await.map_err(|_| ConversationEvalError::Finished)?
    }

    /// The ids of the conversations running, in order of their first event.
    pub fn conversation_ids(&self) -> Vec<String> {
        let conversations = self.shared.conversations();
        let in_order = conversations.in_order();
        in_order.into_iter().map(|(id, _)| id.clone()).collect()
    }

    /// Ends one conversation's input: it handles what was queued, emits its `end` record and
    /// returns its final state. A later event for the same id starts a new conversation.
    pub async fn finish_conversation(&self, id: &str) -> Option<ConversationState> {
        let live = self.shared.conversations().live.remove(id)?;
        finish_one(live.queue).await
    }

    /// Ends every running conversation's input (see [`Self::finish_conversation`]), in
    /// order of their first event.
    pub async fn finish(&self) -> Vec<ConversationState> {
        let mut live: Vec<Live> = {
            let mut conversations = self.shared.conversations();
            conversations.live.drain().map(|(_, live)| live).collect()
        };
        live.sort_unstable_by_key(|l| l.number);
        let mut states = Vec::with_capacity(live.len());
        for live in live {
            states.extend(finish_one(live.queue).await);
        }
        // A conversation that was ending meanwhile is not among them, and reports the
        // events queued behind its end only as it leaves: wait for those too.
        self.settle().await;
        states
    }
}

async fn finish_one(queue: Queue) -> Option<ConversationState> {
    let (tx, rx) = oneshot::channel();
    queue.send(Box::new(Command::Finish(tx))).ok()?;
    rx.await.ok()
}

/// The text of a caught panic.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}

/// A conversation's task: its events in order, and its inactivity timer. An async block,
/// not an `async fn`, whose arguments its future would hold twice (idle conversations are
/// most of a server's memory).
#[allow(clippy::manual_async_fn)]
fn conversation_loop(
    mut conversation: Conversation,
    mut queue: mpsc::UnboundedReceiver<Box<Command>>,
) -> impl std::future::Future<Output = ()> {
    async move {
        // The observer was told the timer is due and fires it itself: it is not armed meanwhile.
        let mut told = false;
        loop {
            let timer = match conversation.shared.clock.mode() {
                ClockMode::Tokio => conversation.inactivity_deadline().map(|at| {
                    conversation
                        .shared
                        .clock
                        .instant_at(at, conversation.offset)
                }),
                // A manual clock moves only with `wait` events, which check the timer themselves.
                ClockMode::Manual => None,
            };
            let command = match timer.filter(|_| !told) {
                Some(at) => tokio::select! {
                    biased;
                    command = queue.recv() => command,
                    () = tokio::time::sleep_until(at) => {
                        let fires_here = conversation
                            .shared
                            .observer
                            .as_ref()
                            .is_none_or(|o| o.timer_due(&conversation.state.id));
                        if fires_here {
                            Box::pin(step(&mut conversation, None)).await;
                            observe(&conversation, StepCause::Timer);
                        } else {
                            told = true;
                        }
                        continue;
                    }
                },
                None => queue.recv().await,
            };
            let Some(command) = command else { return };
            match *command {
                Command::Event(event) => {
                    told = false;
                    let handled = if conversation.shared.stopping() {
                        conversation.interrupted.not_handled += 1;
                        Handled::Continue
                    } else {
                        // Boxed: an idle conversation's task keeps only the loop's small state,
                        // not room for a step's (idle ones are most of a server's memory).
                        Box::pin(step(&mut conversation, Some(event))).await
                    };
                    if handled == Handled::Ended {
                        conversation.shared.pending.done();
                        return retire(conversation, queue);
                    }
                    observe(&conversation, StepCause::Event);
                    conversation.shared.pending.done();
                }
                Command::Snapshot(reply) => {
                    let _ = reply.send(conversation.snapshot());
                }
                Command::Eval(expr, reply) => {
                    let value = conversation.eval_between_events(&expr);
                    let _ = reply.send(value.map_err(ConversationEvalError::Failed));
                }
                Command::Finish(reply) => {
                    let _ = reply.send(conversation.finish());
                    return;
                }
                Command::Evict(reply) => {
                    conversation
                        .shared
                        .conversations()
                        .live
                        .remove(&conversation.state.id);
                    let _ = reply.send(timer);
                    return;
                }
                Command::Fire(reply) => {
                    told = false;
                    let due = conversation
                        .inactivity_deadline()
                        .is_some_and(|at| at <= conversation.now());
                    if due {
                        Box::pin(step(&mut conversation, None)).await;
                        observe(&conversation, StepCause::Timer);
                    }
                    let _ = reply.send(due);
                }
            }
        }
    }
}

/// Handles one event (or, with `None`, a due inactivity timer). A panic is reported as an
/// internal error and the conversation goes on; once the runtime abandons what still runs,
/// the step is dropped where it stands.
async fn step(conversation: &mut Conversation, event: Option<Event>) -> Handled {
    let shared = conversation.shared.clone();
    let seq = conversation.state.seq + 1;
    let mut stop = shared.stop.subscribe();
    let work = AssertUnwindSafe(async {
        match event {
            Some(event) => conversation.handle(event).await,
            None => {
                conversation.fire_inactivity_if_due().await;
                conversation.run_started().await;
                Handled::Continue
            }
        }
    })
    .catch_unwind();
    let outcome = tokio::select! {
        biased;
        outcome = work => Some(outcome),
        _ = stop.wait_for(|s| *s == Stop::Abandoning) => None,
    };
    match outcome {
        Some(Ok(handled)) => handled,
        Some(Err(panic)) => {
            let message = format!(
                "internal error while handling event #{seq}: {} (please report it)",
                panic_message(&*panic)
            );
            shared.report_fault(&conversation.state.id, message);
            Handled::Continue
        }
        None => {
            conversation.interrupted.abandoned = Some(seq);
            Handled::Continue
        }
    }
}

/// Tells the runtime's observer, if any, of the step just taken.
fn observe(conversation: &Conversation, cause: StepCause) {
    if let Some(observer) = &conversation.shared.observer {
        observer.stepped(&conversation.snapshot(), cause, false);
    }
}

/// A conversation that ended: its `end` record, then it leaves the runtime, which remembers
/// only that it ended. Events that were already queued behind its last are reported.
fn retire(conversation: Conversation, mut queue: mpsc::UnboundedReceiver<Box<Command>>) {
    let shared = conversation.shared.clone();
    let state = conversation.finish();
    drop(conversation);
    if let Some(observer) = &shared.observer {
        observer.stepped(&state, StepCause::Event, true);
    }
    let id = state.id.clone();
    let kept = {
        let mut conversations = shared.conversations();
        conversations.live.remove(&id);
        conversations.ended.remember(state);
        conversations.ended.state(&id).cloned()
    };
    queue.close();
    while let Ok(command) = queue.try_recv() {
        match *command {
            Command::Event(event) => {
                shared.report_fault(&id, came_after_the_end(&event));
                shared.pending.done();
            }
            Command::Snapshot(reply) | Command::Finish(reply) => {
                if let Some(state) = &kept {
                    let _ = reply.send(state.clone());
                }
            }
            Command::Eval(_, reply) => {
                let _ = reply.send(Err(ConversationEvalError::Ended));
            }
            Command::Evict(reply) => drop(reply.send(None)),
            Command::Fire(reply) => drop(reply.send(false)),
        }
    }
}

/// A conversation of a program with these params and nothing else, outside any queue: a
/// unit test runs one task on it.
#[cfg(test)]
pub(super) fn test_conversation(params: Vec<ir::Param>) -> Conversation {
    let runtime = Runtime::builder(test_program(params)).build().unwrap();
    Conversation::new(runtime.shared.clone(), "c-1".into())
}

/// A program with these params and nothing else.
#[cfg(test)]
fn test_program(params: Vec<ir::Param>) -> ir::Program {
    ir::Program {
        version: ir::IR_VERSION,
        files: vec!["main.agent".into()],
        agent: ir::Agent {
            name: "acme".into(),
            display_name: None,
            channels: vec![crate::catalogue::Channel::Voice],
            language: None,
            inactivity_ms: None,
            params,
        },
        targets: Default::default(),
        tasks: Default::default(),
        actions: Default::default(),
        replies: Default::default(),
        usecases: Default::default(),
        bindings: Vec::new(),
        tests: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::secrets::MapEnv;
    use crate::runtime::EventKind;

    #[test]
    fn a_field_that_does_not_evaluate_makes_its_target_unavailable() {
        let target = ir::Target {
            name: "crm".into(),
            kind: Kind::Http,
            fields: [(
                "token".to_string(),
                ir::Expr::Call(
                    "secret".into(),
                    vec![ir::Expr::Lit(Value::Text("T".into()))],
                ),
            )]
            .into(),
            timeout_ms: None,
            retry: None,
        };
        let error = evaluate_fields(&target, &MapEnv::default(), &Redactor::default()).unwrap_err();
        assert!(
            matches!(&error, Unavailable::Field { target, field, .. } if target == "crm" && field == "token"),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "target `crm` is unavailable: field `token`: the secret `T` is not set in the environment"
        );
    }

    /// A task run outside any conversation fails by variant, its texts redacted.
    #[tokio::test]
    async fn a_task_run_outside_a_conversation_fails_with_a_typed_error() {
        let redactor = Redactor::default();
        redactor.register("s3cr3t-name");
        let runtime = Runtime::builder(test_program(Vec::new()))
            .redactor(redactor)
            .build()
            .unwrap();
        let error = runtime
            .run_task("s3cr3t-name", "execute", IndexMap::new(), Vec::new())
            .await
            .unwrap_err();
        assert_eq!(error, RunTaskError::UnknownTarget("[redacted]".into()));
        assert_eq!(error.to_string(), "`[redacted]` is not a declared target");
    }

    /// An event queued behind a conversation's end is reported as it leaves, which may be
    /// after `finish` found it gone: `finish` returns only once it is (a run exiting first
    /// lost the report, about one run in forty).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn finish_returns_once_an_event_after_the_end_is_reported() {
        let event = |name: &str| {
            Event::new(
                "c-1",
                EventKind::Named(name.into()),
                Value::Record(Default::default()),
            )
        };
        for round in 0..2_000 {
            let runtime = Runtime::builder(test_program(Vec::new())).build().unwrap();
            runtime.send(event("conversation_started"));
            runtime.send(event("conversation_ended"));
            runtime.send(event("message_received"));
            // `finish` at every moment of the end, the window included.
            for _ in 0..(round % 400) * 50 {
                std::hint::spin_loop();
            }
            runtime.finish().await;
            assert_eq!(runtime.faults(), 1);
        }
    }

    #[tokio::test]
    async fn an_expression_in_an_ended_conversation_is_a_typed_error() {
        let runtime = Runtime::builder(test_program(Vec::new())).build().unwrap();
        let ended = ConversationState::initial("c-1", &runtime.program().agent);
        runtime.shared.conversations().ended.remember(ended);
        let error = runtime
            .eval("c-1", ir::Expr::Lit(Value::Null))
            .await
            .unwrap_err();
        assert_eq!(error, ConversationEvalError::Ended);
        assert_eq!(error.to_string(), "the conversation has ended");
    }
}
