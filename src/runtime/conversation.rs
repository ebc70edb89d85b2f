//! One conversation: its state, and how it handles one event (docs/language.md, "Run-time behaviour"). A conversation
//! handles its events strictly one after the other; the engine runs each conversation on its
//! own task so conversations never wait for each other.

use super::action_error::ActionError;
use super::builtin::BuiltinError;
use super::clock::millis;
use super::engine::Shared;
use super::eval::{Context, EvalError, Evaluator, Scopes};
use super::event::{Event, EventKind};
use super::param_error::{ParamError, StateLimit};
use super::plan::{BindingBody, TriggerKey};
use super::trace::{ActionStatus, ChoiceRecord, ConversationStatus, ErrorKind, TraceRecord};
use crate::catalogue::{self, locales, Channel};
use crate::ir::{self, Expr, Scope, Text, Type, Value};
use indexmap::IndexMap;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How far `wait` events may move a conversation's clock in all: 1,000 years.
const LONGEST_WAITED: Duration = Duration::from_secs(1_000 * 365 * 24 * 60 * 60);

/// How deep `on_failure` chains may go (the checker rejects cycles; this guards IR files).
const MAX_ON_FAILURE_DEPTH: usize = 8;
/// How many fallbacks one failed action may set off in all: lists that fan out stay small.
const MAX_ON_FAILURE_RUNS: usize = 64;

/// What a conversation holds; returned by `Runtime::snapshot` and `Runtime::finish`, and
/// journaled by `agentc serve` after every step (hence serde).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConversationState {
    pub id: String,
    /// This conversation's own identity (128 random bits, hex), made when it first appears
    /// and kept when it is resumed: idempotency keys and Message-IDs derive from it, so they
    /// never collide across runs or deployments, yet stay the same on every retry.
    pub instance: String,
    /// Known once the first event arrived.
    pub channel: Option<Channel>,
    pub language: Option<String>,
    /// The agent's params, in declaration order.
    pub params: IndexMap<String, Value>,
    pub labels: Vec<String>,
    pub status: ConversationStatus,
    /// The `user` scope (a record).
    pub user: Value,
    /// The `caller` scope (a record).
    pub caller: Value,
    /// The sequence number of the last event handled (the first is 1).
    pub seq: u64,
    /// The conversation's time when the state was taken, and when its idle period began
    /// (`conversation_inactive` is due `inactivity` after it): a resumed conversation
    /// goes on from both, so its `wait`s and `idle` add up across runtimes.
    pub time: Duration,
    pub idle_since: Option<Duration>,
    /// The after-the-end events handled so far: from the first one the conversation is
    /// over, and takes only the others (kept with the state, so it stays so when resumed).
    #[serde(default)]
    pub after_end: Vec<String>,
}

impl ConversationState {
    /// A conversation before its first event: the agent's params hold their defaults.
    pub fn initial(id: impl Into<String>, agent: &ir::Agent) -> Self {
        ConversationState {
            id: id.into(),
            instance: format!("{:032x}", rand::random::<u128>()),
            channel: None,
            language: agent.language.clone(),
            params: agent
                .params
                .iter()
                .map(|p| (p.name.clone(), p.default.clone().unwrap_or_default()))
                .collect(),
            labels: Vec::new(),
            status: ConversationStatus::Active,
            user: Value::Record(IndexMap::new()),
            caller: Value::Record(IndexMap::new()),
            seq: 0,
            time: Duration::ZERO,
            idle_since: None,
            after_end: Vec::new(),
        }
    }

    /// How long after this state was taken its `conversation_inactive` is due, if one is
    /// pending (an agent `inactivity_ms` idle; zero once due).
    pub fn inactive_in(&self, inactivity_ms: Option<u64>) -> Option<Duration> {
        let deadline = self
            .idle_since?
            .saturating_add(Duration::from_millis(inactivity_ms?));
        (self.status == ConversationStatus::Active).then(|| deadline.saturating_sub(self.time))
    }

    /// The params as plain JSON.
    pub fn params_json(&self) -> serde_json::Value {
        self.params
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }
}

/// The scopes of the event being handled.
pub(super) struct EventCtx {
    pub seq: u64,
    /// Shared with [`Conversation`]'s last payload: copied once per event, not twice.
    pub payload: Arc<Value>,
    pub usecase: Option<Value>,
    pub block: Option<Value>,
    /// How many times each external action ran for this event, so an action bound twice
    /// gets two distinct idempotency keys.
    pub runs: Vec<(usize, u32)>,
}

/// The outcome of running one action's task.
pub(super) struct Outcome {
    pub result: Result<Value, ActionError>,
    pub attempts: u32,
    pub request: Option<String>,
    pub dry_run: bool,
}

impl Outcome {
    pub fn local(result: Result<Value, ActionError>) -> Self {
        Outcome {
            result,
            attempts: 1,
            request: None,
            dry_run: false,
        }
    }
}

pub(super) struct Conversation {
    pub shared: Arc<Shared>,
    pub state: ConversationState,
    /// How far `wait` events (and manual-clock back-offs) moved this conversation ahead of
    /// the runtime's clock.
    pub offset: Duration,
    /// Conversation time of the last activity while the inactivity timer is armed.
    idle_since: Option<Duration>,
    /// Records of what the running action did (a reply, a label), emitted after the
    /// action's own record so the trace reads "action, then its effects".
    effects: Vec<TraceRecord>,
    /// The last event's payload: what `event` reads in `Runtime::eval`.
    last_payload: Arc<Value>,
    /// What stopping the runtime left undone, reported with the `end` record.
    pub interrupted: Interrupted,
    /// `conversation_started` has been handled (sent, or fired by an answered call).
    started: bool,
    /// What each slot's value takes as `Value::measure` counts it (params in order, then
    /// `user` and `caller`), measured once and kept current by every store: checking a
    /// store costs the new value, not the whole state again.
    sizes: Vec<Option<usize>>,
    /// Use cases and blocks its actions started (`start_usecase`, `goto_block`).
    pub starts: super::starts::Starts,
}

/// How handling an event left the conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Handled {
    Continue,
    /// Over, and no after-the-end event it listens to is still to come: it can be freed.
    Ended,
}

/// What the runtime's stop left undone in one conversation.
#[derive(Default)]
pub(super) struct Interrupted {
    /// The event whose remaining bindings did not start.
    pub cut_short: Option<u64>,
    /// The event dropped while an action was still running, at the end of the grace period.
    pub abandoned: Option<u64>,
    /// Queued events never started.
    pub not_handled: usize,
}

impl Interrupted {
    fn describe(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(seq) = self.abandoned {
            parts.push(format!(
                "event #{seq} was abandoned with an action still running"
            ));
        } else if let Some(seq) = self.cut_short {
            parts.push(format!("event #{seq} was not handled to the end"));
        }
        match self.not_handled {
            0 => {}
            1 => parts.push("1 queued event was not handled".into()),
            n => parts.push(format!("{n} queued events were not handled")),
        }
        (!parts.is_empty()).then(|| format!("the run was stopped: {}", parts.join(", ")))
    }
}

/// Events that come after a conversation is over (the catalogue's `after` moments):
/// `conversation_ended`, `session_ended`, `ticket_processed`, `call_ended`.
fn after_the_end(event: &catalogue::EventSpec) -> bool {
    matches!(
        event.moment,
        catalogue::Moment::After | catalogue::Moment::AfterCall
    )
}

/// Why an event for a conversation that ended is not handled.
pub(super) fn came_after_the_end(event: &Event) -> String {
    format!(
        "`{}` came after the conversation ended: it is not handled",
        event.kind.name()
    )
}

/// Why an event naming a use case or block the program does not have cannot run, with the
/// closest name there is.
pub(super) fn unknown_names(program: &ir::Program, kind: &EventKind) -> Option<String> {
    let (usecase, block) = match kind {
        EventKind::Usecase(usecase) => (usecase, None),
        EventKind::Block { usecase, block } => (usecase, Some(block)),
        EventKind::Action(action) if program.actions.contains_key(action) => return None,
        EventKind::Action(action) => {
            let hint =
                crate::diagnostics::suggest(action, program.actions.keys().map(String::as_str))
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
            return Some(format!(
                "the program has no action `{action}`{hint}: the event is not handled"
            ));
        }
        EventKind::Named(_) | EventKind::Wait(_) => return None,
    };
    let hint = |name: &str, known: &mut dyn Iterator<Item = &str>| {
        crate::diagnostics::suggest(name, known)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default()
    };
    let Some(declared) = program.usecases.get(usecase) else {
        let hint = hint(usecase, &mut program.usecases.keys().map(String::as_str));
        return Some(format!(
            "the program has no use case `{usecase}`{hint}: the event is not handled"
        ));
    };
    let block = block.filter(|b| !declared.blocks.contains(b))?;
    let hint = hint(block, &mut declared.blocks.iter().map(String::as_str));
    Some(format!(
        "use case `{usecase}` has no block `{block}`{hint}: the event is not handled"
    ))
}

/// Why an event the agent's channels cannot receive (`call_started` to an email-only
/// agent, or an event that says it came on a channel the agent lacks) is not handled: the
/// checker refuses the same events in tests.
pub(super) fn off_channel(program: &ir::Program, event: &Event) -> Option<String> {
    let channels = &program.agent.channels;
    let names = |list: &mut dyn Iterator<Item = &Channel>| {
        list.map(|c| c.name()).collect::<Vec<_>>().join(", ")
    };
    // Written only for a refusal: every event passes here.
    let agent = || {
        format!(
            "agent `{}` has only {}",
            program.agent.name,
            names(&mut channels.iter())
        )
    };
    if let Some(channel) = event.channel.filter(|c| !channels.contains(c)) {
        return Some(format!(
            "`{}` came on {}, and {}: the event is not handled",
            event.kind.name(),
            channel.name(),
            agent()
        ));
    }
    let EventKind::Named(name) = &event.kind else {
        return None;
    };
    let spec = catalogue::event(name)?;
    if spec.channels.is_empty() || channels.iter().any(|c| spec.allows(*c)) {
        return None;
    }
    Some(format!(
        "`{name}` is a {} event, and {}: the event is not handled",
        names(&mut spec.channels.iter()).replace(", ", " or "),
        agent()
    ))
}

/// The names an expression of this conversation can read.
pub(super) struct ActionScopes<'a> {
    pub state: &'a ConversationState,
    pub ev: &'a EventCtx,
    pub response: Option<&'a Value>,
    /// A declared task's arguments, read before the conversation's params.
    pub task_args: Option<&'a IndexMap<String, Value>>,
}

impl Scopes for ActionScopes<'_> {
    fn param(&self, name: &str) -> Option<&Value> {
        self.task_args
            .and_then(|args| args.get(name))
            .or_else(|| self.state.params.get(name))
    }

    fn scope(&self, scope: &Scope) -> Option<Cow<'_, Value>> {
        Some(match scope {
            Scope::Param(name) => Cow::Borrowed(self.param(name)?),
            Scope::Event => Cow::Borrowed(self.ev.payload.as_ref()),
            Scope::Usecase => Cow::Borrowed(self.ev.usecase.as_ref()?),
            Scope::Block => Cow::Borrowed(self.ev.block.as_ref()?),
            Scope::Response => Cow::Borrowed(self.response?),
            Scope::User | Scope::Caller | Scope::Conversation => return self.state.scope(scope),
        })
    }
}

/// What a conversation's state alone answers: its params, `user`, `caller` and
/// `conversation`. The scopes of an event or an action (`event`, `usecase`, `block`,
/// `response`) are not there. The interpreter, the REPL's prompt and `agentc test`'s
/// `expect` all read `conversation.*` through here.
impl Scopes for ConversationState {
    fn param(&self, name: &str) -> Option<&Value> {
        self.params.get(name)
    }

    fn scope(&self, scope: &Scope) -> Option<Cow<'_, Value>> {
        Some(match scope {
            Scope::Param(name) => Cow::Borrowed(self.param(name)?),
            Scope::User => Cow::Borrowed(&self.user),
            Scope::Caller => Cow::Borrowed(&self.caller),
            Scope::Conversation => {
                let text = |t: Option<&str>| t.map_or(Value::Null, |t| Value::Text(t.to_string()));
                Cow::Owned(record([
                    ("id", Value::Text(self.id.clone())),
                    ("channel", text(self.channel.map(Channel::name))),
                    ("language", text(self.language.as_deref())),
                    (
                        "labels",
                        Value::List(self.labels.iter().cloned().map(Value::Text).collect()),
                    ),
                    ("status", Value::Text(self.status.name().to_string())),
                ]))
            }
            Scope::Event | Scope::Usecase | Scope::Block | Scope::Response => return None,
        })
    }
}

/// What `usecase` and `block` hold (`catalogue::scope::NAME_FIELD`).
fn named(name: &str) -> Value {
    record([("name", Value::Text(name.to_string()))])
}

pub(super) fn record<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Record(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// Whether a value may be stored in a parameter of type `ty`; `null` fits every type.
/// Reads `payload.params.<name>` for the program's `params`: its index and the value as
/// stored, or why it is refused. The runtime and the server's intake share this reading.
pub fn payload_param(
    params: &[ir::Param],
    name: &str,
    value: &Value,
) -> Result<(usize, Value), ParamError> {
    let Some(index) = params.iter().position(|p| p.name == name) else {
        return Err(ParamError::Unknown {
            name: name.to_string(),
            suggestion: crate::diagnostics::suggest(name, params.iter().map(|p| p.name.as_str()))
                .map(str::to_string),
        });
    };
    let param = &params[index];
    // JSON has no durations: accept "5m" or milliseconds.
    let value = match (param.ty, value) {
        (Type::Duration, Value::Text(t)) => super::clock::parse_duration(t)
            .map_or_else(|| value.clone(), |d| Value::Duration(d.as_millis() as u64)),
        (Type::Duration, Value::Number(ms)) if *ms >= 0.0 => Value::Duration(*ms as u64),
        _ => value.clone(),
    };
    if !fits(param.ty, &value) {
        return Err(does_not_fit(param, &value));
    }
    Ok((index, value))
}

pub(super) fn fits(ty: Type, value: &Value) -> bool {
    matches!(
        (ty, value),
        (_, Value::Null)
            | (Type::Any, _)
            | (Type::Text, Value::Text(_))
            | (Type::Number, Value::Number(_))
            | (Type::Bool, Value::Bool(_))
            | (Type::Duration, Value::Duration(_))
            | (Type::List, Value::List(_))
            | (Type::Record, Value::Record(_))
    )
}

impl Conversation {
    pub fn new(shared: Arc<Shared>, id: String) -> Self {
        let state = ConversationState::initial(id, &shared.plan.program.agent);
        Conversation {
            shared,
            state,
            offset: Duration::ZERO,
            idle_since: None,
            effects: Vec::new(),
            last_payload: Arc::new(Value::Null),
            interrupted: Interrupted::default(),
            started: false,
            sizes: Vec::new(),
            starts: Default::default(),
        }
    }

    /// Takes over the state another runtime left: the params this program declares keep
    /// their values (new ones keep their defaults); labels, status, scopes, the event count,
    /// the after-the-end events had, the conversation's time and its idle period go on.
    pub fn resume(&mut self, previous: ConversationState) {
        for (name, value) in previous.params {
            if let Some(slot) = self.state.params.get_mut(&name) {
                *slot = value;
            }
        }
        let params = std::mem::take(&mut self.state.params);
        self.offset = previous.time.saturating_sub(self.shared.clock.elapsed());
        self.idle_since = previous.idle_since.map(|since| since.min(self.now()));
        self.state = ConversationState { params, ..previous };
        self.sizes.clear();
    }

    /// The state as it stands, with the conversation's clock.
    pub fn snapshot(&self) -> ConversationState {
        ConversationState {
            time: self.now(),
            idle_since: self.idle_since,
            ..self.state.clone()
        }
    }

    /// This conversation's time: the runtime's plus what its `wait` events added.
    pub fn now(&self) -> Duration {
        self.shared.clock.elapsed().saturating_add(self.offset)
    }

    /// When `conversation_inactive` is due, in conversation time.
    pub fn inactivity_deadline(&self) -> Option<Duration> {
        let inactivity = self.shared.plan.program.agent.inactivity_ms?;
        let since = self.idle_since?;
        (self.state.status == ConversationStatus::Active)
            .then(|| since.saturating_add(Duration::from_millis(inactivity)))
    }

    /// Waits `delay` on this conversation's clock.
    pub async fn sleep(&mut self, delay: Duration) {
        match self.shared.clock.mode() {
            super::clock::ClockMode::Tokio => tokio::time::sleep(delay).await,
            super::clock::ClockMode::Manual => self.advance(delay),
        }
    }

    /// Moves this conversation's clock forward, up to [`LONGEST_WAITED`]: a clock pinned at
    /// `Duration::MAX` would put every deadline (`now + inactivity`) at `now`, so an idle
    /// timer would fire at once, whenever the engine happened to look.
    fn advance(&mut self, by: Duration) {
        self.offset = self.offset.saturating_add(by).min(LONGEST_WAITED);
    }

    /// Handles one event, start to end; an event that cannot come now is reported instead.
    pub async fn handle(&mut self, event: Event) -> Handled {
        if let Err(breach) = event.payload.measure(&self.shared.limits.value) {
            let message = format!(
                "event `{}` ignored, its payload is beyond a limit: {breach}",
                event.kind.name()
            );
            self.shared.report_fault(&self.state.id, message);
            return Handled::Continue;
        }
        if let Some(over) = self.refusal_after_end(&event) {
            self.shared.report_fault(&self.state.id, over);
            return Handled::Continue;
        }
        self.dispatch(&event).await;
        self.run_started().await;
        let after_end = match &event.kind {
            EventKind::Named(name) => catalogue::event(name).filter(|e| after_the_end(e)),
            _ => None,
        };
        match after_end {
            Some(spec) => {
                self.state.after_end.push(spec.name.to_string());
                if self.awaits_after_end_events() {
                    Handled::Continue
                } else {
                    Handled::Ended
                }
            }
            None => Handled::Continue,
        }
    }

    /// Once over, a conversation takes only the after-the-end events it has not had yet.
    fn refusal_after_end(&self, event: &Event) -> Option<String> {
        self.state.after_end.first()?;
        if let EventKind::Named(name) = &event.kind {
            let pending = catalogue::event(name).is_some_and(after_the_end)
                && !self.state.after_end.contains(name);
            if pending {
                return None;
            }
        }
        Some(came_after_the_end(event))
    }

    /// Whether an after-the-end event this program listens to, on this channel, is still to
    /// come; the conversation is kept until it does (or its input ends).
    fn awaits_after_end_events(&self) -> bool {
        let plan = &self.shared.plan;
        catalogue::EVENTS.iter().any(|e| {
            after_the_end(e)
                && !self.state.after_end.iter().any(|had| had == e.name)
                && self.state.channel.is_none_or(|c| e.allows(c))
                && !plan.bindings_for(TriggerKey::Event(e.name)).is_empty()
        })
    }

    pub(super) async fn dispatch(&mut self, event: &Event) {
        if self.state.channel.is_none() {
            self.state.channel = Some(self.infer_channel(event));
            self.arm_inactivity();
        }
        match &event.kind {
            EventKind::Wait(by) => {
                // Traced and numbered like any event; it runs no binding.
                self.begin_event(event, None, None);
                self.advance(*by);
                self.fire_inactivity_if_due().await;
            }
            EventKind::Named(name) => {
                match name.as_str() {
                    "conversation_started" => self.started = true,
                    "call_started" => self.start_answered_call().await,
                    _ => {}
                }
                self.apply_payload_scopes(name, &event.payload);
                if name == "message_received" {
                    self.arm_inactivity();
                } else if catalogue::event(name).is_some_and(after_the_end) {
                    // Over: its bindings read `ended`, and no timer is due for it again.
                    self.state.status = ConversationStatus::Ended;
                }
                let mut ev = self.begin_event(event, None, None);
                self.run_bindings(TriggerKey::Event(name), &mut ev).await;
            }
            // A platform starting a use case or block sends the slots it filled with it.
            EventKind::Usecase(usecase) => {
                self.apply_payload_scopes("usecase", &event.payload);
                let mut ev = self.begin_event(event, Some(named(usecase)), None);
                self.run_bindings(TriggerKey::Usecase(usecase), &mut ev)
                    .await;
            }
            EventKind::Block { usecase, block } => {
                self.apply_payload_scopes("block", &event.payload);
                let mut ev = self.begin_event(event, Some(named(usecase)), Some(named(block)));
                self.run_bindings(TriggerKey::Block(usecase, block), &mut ev)
                    .await;
            }
            EventKind::Action(action) => {
                self.apply_payload_scopes("action", &event.payload);
                let mut ev = self.begin_event(event, None, None);
                let index = self.shared.plan.action_index(action);
                // `refusal` turned away an action the program lacks; a hand-edited IR
                // file may still send one, and it runs nothing.
                if let Some(index) = index {
                    if !self.stop_before_starting(&ev) {
                        self.run_action_chain(index, &mut ev).await;
                    }
                }
            }
        }
    }

    /// A voice conversation starts when the call is answered: the first `call_started`
    /// fires the `conversation_started` bindings (the greeting) just before its own, unless
    /// the platform sent `conversation_started` already. So a greeting is spoken whether or
    /// not the platform sends that event too, and never twice.
    async fn start_answered_call(&mut self) {
        if self.started || self.state.channel != Some(Channel::Voice) {
            return;
        }
        self.started = true;
        let event = Event::new(
            self.state.id.clone(),
            EventKind::Named("conversation_started".into()),
            Value::Record(IndexMap::new()),
        );
        let mut ev = self.begin_event(&event, None, None);
        self.run_bindings(TriggerKey::Event("conversation_started"), &mut ev)
            .await;
    }

    /// Starts an idle period, on the channels `conversation_inactive` comes on (not email):
    /// a state without one has no timer to run, here or in a host that reads it back.
    fn arm_inactivity(&mut self) {
        let timed = self.state.channel.is_some_and(|channel| {
            catalogue::event("conversation_inactive").is_some_and(|e| e.allows(channel))
        });
        self.idle_since = timed.then(|| self.now());
    }

    /// Fires `conversation_inactive` if its deadline has passed on this conversation's clock.
    pub async fn fire_inactivity_if_due(&mut self) {
        let Some(deadline) = self.inactivity_deadline() else {
            return;
        };
        let now = self.now();
        if now < deadline {
            return;
        }
        let idle = now - self.idle_since.unwrap_or(now);
        // One firing per idle period: the next message arms the timer again.
        self.idle_since = None;
        let payload = record([("idle", Value::Duration(millis(idle)))]);
        let event = Event::new(
            self.state.id.clone(),
            EventKind::Named("conversation_inactive".into()),
            payload,
        );
        let mut ev = self.begin_event(&event, None, None);
        self.run_bindings(TriggerKey::Event("conversation_inactive"), &mut ev)
            .await;
    }

    fn begin_event(
        &mut self,
        event: &Event,
        usecase: Option<Value>,
        block: Option<Value>,
    ) -> EventCtx {
        self.state.seq += 1;
        let seq = self.state.seq;
        let started_by = self.starts.by.take();
        self.shared.tracer.emit(|| {
            let (u, b) = match &event.kind {
                EventKind::Usecase(u) => (Some(u.clone()), None),
                EventKind::Block { usecase, block } => (Some(usecase.clone()), Some(block.clone())),
                _ => (None, None),
            };
            let payload = match &event.kind {
                EventKind::Wait(by) => serde_json::json!({ "for_ms": millis(*by) }),
                _ => event.payload.to_json(),
            };
            TraceRecord::Event {
                conversation: self.state.id.clone(),
                seq,
                event: event.kind.name().to_string(),
                usecase: u,
                block: b,
                started_by,
                payload,
            }
        });
        let payload = Arc::new(event.payload.clone());
        self.last_payload = payload.clone();
        EventCtx {
            seq,
            payload,
            usecase,
            block,
            runs: Vec::new(),
        }
    }

    fn infer_channel(&self, event: &Event) -> Channel {
        let channels = &self.shared.plan.program.agent.channels;
        if let Some(channel) = event.channel {
            return channel;
        }
        if let [only] = channels.as_slice() {
            return *only;
        }
        // An event of one channel only (call_ringing, ticket_received) tells which.
        if let EventKind::Named(name) = &event.kind {
            if let Some(spec) = catalogue::event(name) {
                if let [only] = spec.channels {
                    return *only;
                }
            }
        }
        [Channel::Chat, Channel::Voice, Channel::Email]
            .into_iter()
            .find(|c| channels.contains(c))
            .unwrap_or(Channel::Chat)
    }

    /// Payload keys `user`, `caller` and `params` fill those scopes; a ringing call's `from`
    /// is the caller's phone unless the platform sent a `caller` record.
    fn apply_payload_scopes(&mut self, event: &str, payload: &Value) {
        let Value::Record(fields) = payload else {
            return;
        };
        if let Some(Value::Record(user)) = fields.get("user") {
            self.merge_scope(Slot::User, "user", user);
        }
        match fields.get("caller") {
            Some(Value::Record(caller)) => self.merge_scope(Slot::Caller, "caller", caller),
            _ if event == "call_ringing" => {
                if let Some(from @ Value::Text(_)) = fields.get("from") {
                    let phone = IndexMap::from([("phone".to_string(), from.clone())]);
                    self.merge_scope(Slot::Caller, "caller", &phone);
                }
            }
            _ => {}
        }
        if let Some(Value::Record(params)) = fields.get("params") {
            for (name, value) in params {
                if let Err(error) = self.set_param_from_payload(name, value) {
                    // A param the program lacks is dropped; the others are left as they were.
                    let message = match error {
                        ParamError::Unknown { .. } => format!("{error}: ignored"),
                        _ => error.to_string(),
                    };
                    let conversation = self.state.id.clone();
                    self.shared.tracer.emit(|| TraceRecord::Error {
                        conversation: Some(conversation),
                        line: None,
                        message,
                    });
                }
            }
        }
    }

    fn set_param_from_payload(&mut self, name: &str, value: &Value) -> Result<(), ParamError> {
        let (index, value) = payload_param(self.shared.plan.params(), name, value)?;
        self.store_param(index, value)
    }

    /// Merges an event's `user` or `caller` fields into that scope, unless the scope would
    /// break the limits (then the trace says so and the scope stays as it was).
    fn merge_scope(&mut self, slot: Slot, name: &str, fields: &IndexMap<String, Value>) {
        let mut merged = self.slot(slot).clone();
        merge(&mut merged, fields);
        match self.within_limits(slot, &merged) {
            Ok(bytes) => self.keep(slot, merged, bytes),
            Err(message) => {
                let conversation = self.state.id.clone();
                self.shared.tracer.emit(|| TraceRecord::Error {
                    conversation: Some(conversation),
                    line: None,
                    message: format!("the event's `{name}` is not kept: {message}"),
                });
            }
        }
    }

    /// Stores a value in a parameter after checking its type and that the value, and the
    /// state with it, stay within the limits.
    pub fn store_param(&mut self, index: usize, value: Value) -> Result<(), ParamError> {
        let shared = Arc::clone(&self.shared);
        let param = &shared.plan.params()[index];
        if !fits(param.ty, &value) {
            return Err(does_not_fit(param, &value));
        }
        let bytes = self
            .within_limits(Slot::Param(index), &value)
            .map_err(|limit| ParamError::OverLimit {
                param: param.name.clone(),
                limit,
            })?;
        self.keep(Slot::Param(index), value, bytes);
        Ok(())
    }

    /// Puts a checked value (taking `bytes`) in `slot`.
    fn keep(&mut self, slot: Slot, value: Value, bytes: usize) {
        let index = self.slot_index(slot);
        if let Some(held) = self.slot_mut(slot) {
            *held = value;
            self.sizes[index] = Some(bytes);
        }
    }

    /// Whether `value` may replace what `slot` holds: it is within the value bounds, and
    /// the state with it within the state's budget. Gives what the value takes.
    fn within_limits(&mut self, slot: Slot, value: &Value) -> Result<usize, StateLimit> {
        let shared = Arc::clone(&self.shared);
        let limits = &shared.limits;
        let bytes = value
            .measure(&limits.value)
            .map_err(StateLimit::Value)?
            .bytes;
        let slots = self.state.params.len() + 2;
        self.sizes.resize(slots, None);
        let mut rest = 0;
        let own = self.slot_index(slot);
        for index in (0..slots).filter(|&index| index != own) {
            rest += match self.sizes[index] {
                Some(bytes) => bytes,
                None => {
                    // Each part is within the bounds already; one that came from another
                    // runtime's limits counts as the most a value may take.
                    let measured = self
                        .slot(self.slot_at(index))
                        .measure(&limits.value)
                        .map_or(limits.value.max_bytes, |m| m.bytes);
                    self.sizes[index] = Some(measured);
                    measured
                }
            };
        }
        if rest + bytes > limits.max_state_bytes {
            return Err(StateLimit::Total(limits.max_state_bytes));
        }
        Ok(bytes)
    }

    /// Where `slot` is in [`Self::sizes`].
    fn slot_index(&self, slot: Slot) -> usize {
        let params = self.state.params.len();
        match slot {
            Slot::Param(index) => index,
            Slot::User => params,
            Slot::Caller => params + 1,
        }
    }

    fn slot_at(&self, index: usize) -> Slot {
        let params = self.state.params.len();
        match index {
            _ if index < params => Slot::Param(index),
            _ if index == params => Slot::User,
            _ => Slot::Caller,
        }
    }

    fn slot(&self, slot: Slot) -> &Value {
        match slot {
            Slot::Param(index) => self
                .state
                .params
                .get_index(index)
                .map_or(&Value::Null, |(_, v)| v),
            Slot::User => &self.state.user,
            Slot::Caller => &self.state.caller,
        }
    }

    fn slot_mut(&mut self, slot: Slot) -> Option<&mut Value> {
        match slot {
            Slot::Param(index) => self.state.params.get_index_mut(index).map(|(_, v)| v),
            Slot::User => Some(&mut self.state.user),
            Slot::Caller => Some(&mut self.state.caller),
        }
    }

    async fn run_bindings(&mut self, key: TriggerKey<'_>, ev: &mut EventCtx) {
        let shared = self.shared.clone();
        for &index in shared.plan.bindings_for(key) {
            if self.stop_before_starting(ev) {
                return;
            }
            let binding = &shared.plan.bindings[index];
            if let Some(when) = &binding.when {
                match self.eval_bool(when, ev) {
                    Ok(true) => {}
                    Ok(false) => {
                        self.trace_binding_not_run(&binding.body, ev, ActionStatus::Skipped, None);
                        continue;
                    }
                    Err(error) => {
                        let error = format!("the binding's `when` failed: {error}");
                        self.trace_binding_not_run(
                            &binding.body,
                            ev,
                            ActionStatus::Failed,
                            Some(error),
                        );
                        continue;
                    }
                }
            }
            match &binding.body {
                BindingBody::Actions(actions) => {
                    for (i, &action) in actions.iter().enumerate() {
                        if self.stop_before_starting(ev) {
                            return;
                        }
                        let failed = self.run_action_chain(action, ev).await;
                        if failed && self.is_verify(action) {
                            self.skip_after_failed_verify(action, &actions[i + 1..], ev);
                            break;
                        }
                    }
                }
                BindingBody::Reply(reply) => {
                    let sent = self.send_reply(reply, ev);
                    self.flush_effects();
                    if let Err(message) = sent {
                        let conversation = self.state.id.clone();
                        self.shared.tracer.emit(|| TraceRecord::Error {
                            conversation: Some(conversation),
                            line: None,
                            message: format!("reply `{reply}`: {message}"),
                        });
                    }
                }
            }
        }
    }

    /// Once the runtime is stopping nothing new starts: the event is cut short here.
    fn stop_before_starting(&mut self, ev: &EventCtx) -> bool {
        let stopping = self.shared.stopping();
        if stopping {
            self.interrupted.cut_short.get_or_insert(ev.seq);
        }
        stopping
    }

    fn trace_binding_not_run(
        &self,
        body: &BindingBody,
        ev: &EventCtx,
        status: ActionStatus,
        error: Option<String>,
    ) {
        if let BindingBody::Actions(actions) = body {
            for &action in actions {
                let trace = ActionTrace {
                    error: error.clone(),
                    ..ActionTrace::new(status, None)
                };
                self.trace_action(action, ev, None, trace);
            }
        }
    }

    /// Runs an action, then, depth first, the `on_failure` list of every action that fails;
    /// tells whether the first action failed.
    async fn run_action_chain(&mut self, action: usize, ev: &mut EventCtx) -> bool {
        let failed = self.run_action(action, ev, None).await;
        // (fallback, the action that failed, how deep in the chain)
        let mut pending: Vec<(usize, usize, usize)> = Vec::new();
        let shared = self.shared.clone();
        let fallbacks = |cause: usize, depth: usize| {
            let list = &shared.plan.actions[cause].on_failure;
            list.iter().rev().map(move |&next| (next, cause, depth))
        };
        if failed {
            pending.extend(fallbacks(action, 1));
        }
        let mut ran = 0;
        while let Some((current, cause, depth)) = pending.pop() {
            if ran == MAX_ON_FAILURE_RUNS {
                break;
            }
            ran += 1;
            if self.run_action(current, ev, Some(cause)).await && depth < MAX_ON_FAILURE_DEPTH {
                pending.extend(fallbacks(current, depth + 1));
            }
        }
        failed
    }

    /// A `verify` is a guard: when it fails, the rest of its binding does not run.
    fn is_verify(&self, action: usize) -> bool {
        matches!(
            self.shared.plan.actions[action].kind,
            super::plan::ActionKind::Conversation(super::plan::ConversationTask::Verify { .. })
        )
    }

    /// Traces the actions a failed `verify` kept from running, with the reason.
    fn skip_after_failed_verify(&self, verify: usize, rest: &[usize], ev: &EventCtx) {
        let reason = format!("verify `{}` failed", self.shared.plan.actions[verify].name);
        for &action in rest {
            let trace = ActionTrace {
                error: Some(reason.clone()),
                ..ActionTrace::new(ActionStatus::Skipped, None)
            };
            self.trace_action(action, ev, None, trace);
        }
    }

    /// Runs one action; tells whether it failed.
    async fn run_action(&mut self, index: usize, ev: &mut EventCtx, cause: Option<usize>) -> bool {
        let shared = self.shared.clone();
        let action = &shared.plan.actions[index];
        let started = shared.tracer.enabled().then(Instant::now);
        if let Some(when) = &action.when {
            match self.eval_bool(when, ev) {
                Ok(true) => {}
                Ok(false) => {
                    let trace = ActionTrace::new(ActionStatus::Skipped, started);
                    self.trace_action(index, ev, cause, trace);
                    return false;
                }
                Err(error) => {
                    let trace = ActionTrace {
                        error: Some(format!("`when` failed: {error}")),
                        ..ActionTrace::new(ActionStatus::Failed, started)
                    };
                    self.trace_action(index, ev, cause, trace);
                    return true;
                }
            }
        }
        let outcome = match &action.kind {
            super::plan::ActionKind::Conversation(task) => {
                Outcome::local(self.conversation_task(task, ev).map_err(ActionError::from))
            }
            super::plan::ActionKind::Call(task) => {
                Outcome::local(self.call_task(task, ev).map_err(ActionError::from))
            }
            super::plan::ActionKind::Start(event) => {
                Outcome::local(self.start(event, index).map_err(ActionError::from))
            }
            super::plan::ActionKind::External { .. } => self.external(index, ev).await,
        };
        let Outcome {
            result,
            attempts,
            request,
            dry_run,
        } = outcome;
        let result = match (result, action.save) {
            (Ok(value), Some(param)) if !dry_run => {
                let shown = shared.tracer.enabled().then(|| value.to_json());
                self.store_param(param, value)
                    .map(|()| shown)
                    .map_err(ActionError::from)
            }
            (Ok(_), _) => Ok(None),
            (Err(error), _) => Err(error),
        };
        let failed = result.is_err();
        if shared.tracer.enabled() {
            let (status, error, value) = match result {
                Ok(value) => (ActionStatus::Ok, None, value),
                Err(error) => (ActionStatus::Failed, Some(error), None),
            };
            let error_kind = error.as_ref().and_then(ActionError::kind);
            let saved = value
                .as_ref()
                .and(action.save)
                .map(|p| shared.plan.params()[p].name.clone());
            let trace = ActionTrace {
                attempts,
                error_kind,
                error: error.map(|e| e.to_string()),
                request,
                saved,
                value,
                dry_run,
                ..ActionTrace::new(status, started)
            };
            self.trace_action(index, ev, cause, trace);
        }
        self.flush_effects();
        failed
    }

    fn trace_action(&self, index: usize, ev: &EventCtx, cause: Option<usize>, trace: ActionTrace) {
        let actions = &self.shared.plan.actions;
        let action = &actions[index];
        self.shared.tracer.emit(|| TraceRecord::Action {
            conversation: self.state.id.clone(),
            seq: ev.seq,
            action: action.name.clone(),
            target: action.target.clone(),
            task: action.task.clone(),
            status: trace.status,
            attempts: trace.attempts,
            duration_ms: trace.started.map_or(0, |s| s.elapsed().as_millis() as u64),
            error: trace.error,
            error_kind: trace.error_kind,
            request: trace.request,
            saved: trace.saved,
            value: trace.value,
            on_failure_of: cause.map(|c| actions[c].name.clone()),
            dry_run: trace.dry_run,
        });
    }

    /// Evaluates an expression in this conversation's scopes.
    pub fn eval(&self, expr: &Expr, ev: &EventCtx) -> Result<Value, EvalError> {
        self.eval_in(expr, ev, None, None)
    }

    pub fn eval_in(
        &self,
        expr: &Expr,
        ev: &EventCtx,
        response: Option<&Value>,
        task_args: Option<&IndexMap<String, Value>>,
    ) -> Result<Value, EvalError> {
        let scopes = ActionScopes {
            state: &self.state,
            ev,
            response,
            task_args,
        };
        self.evaluate(&scopes, |evaluator, scopes| {
            evaluator.eval_owned(expr, scopes)
        })
    }

    /// Evaluates an expression and looks at the value without copying it.
    pub fn eval_with<R>(
        &self,
        expr: &Expr,
        ev: &EventCtx,
        look: impl FnOnce(&Value) -> R,
    ) -> Result<R, EvalError> {
        let scopes = ActionScopes {
            state: &self.state,
            ev,
            response: None,
            task_args: None,
        };
        self.evaluate(&scopes, |evaluator, scopes| {
            evaluator.eval(expr, scopes).map(|value| look(&value))
        })
    }

    /// Runs `run` with an evaluator over this conversation's environment, clock and limits.
    fn evaluate<R>(
        &self,
        scopes: &ActionScopes,
        run: impl FnOnce(&mut Evaluator, &ActionScopes) -> R,
    ) -> R {
        let shared = &*self.shared;
        let now = || shared.clock.wall(self.now());
        let ctx = Context {
            env: &*shared.env,
            redactor: &shared.redactor,
            now: &now,
            limits: &shared.limits,
        };
        run(&mut Evaluator::new(&ctx), scopes)
    }

    pub fn eval_bool(&self, expr: &Expr, ev: &EventCtx) -> Result<bool, EvalError> {
        match self.eval(expr, ev)? {
            Value::Bool(b) => Ok(b),
            // An absent value (a missing field of an API answer) reads as false.
            Value::Null => Ok(false),
            other => Err(EvalError(format!(
                "`when` needs a bool, found {}",
                other.type_name()
            ))),
        }
    }

    /// Evaluates an expression between events (the REPL): `event` is the last event's
    /// payload; `usecase`, `block` and `response` are not available.
    pub fn eval_between_events(&self, expr: &Expr) -> Result<Value, EvalError> {
        let ev = EventCtx {
            seq: self.state.seq,
            payload: self.last_payload.clone(),
            usecase: None,
            block: None,
            runs: Vec::new(),
        };
        self.eval(expr, &ev)
            .map_err(|e| EvalError(self.shared.redactor.redact(&e.0).into_owned()))
    }

    /// Renders and sends a declared reply: its voice text on voice conversations, each text
    /// in the conversation's language, its choices where buttons can be shown (not on voice
    /// or email).
    pub fn send_reply(&mut self, name: &str, ev: &EventCtx) -> Result<Value, BuiltinError> {
        let shared = self.shared.clone();
        let reply = shared
            .plan
            .program
            .replies
            .get(name)
            .ok_or_else(|| BuiltinError::ReplyUnknown(name.to_string()))?;
        let text = match (&reply.voice, self.state.channel) {
            (Some(voice), Some(Channel::Voice)) => voice,
            _ => &reply.text,
        };
        let text = self.render(text, ev)?;
        let choices = match self.state.channel {
            Some(Channel::Voice | Channel::Email) => Vec::new(),
            _ => reply
                .choices
                .iter()
                .map(|choice| {
                    let label = self.render(&choice.label, ev)?;
                    let id = choice.id.clone().unwrap_or_else(|| label.clone());
                    Ok(ChoiceRecord { id, label })
                })
                .collect::<Result<_, BuiltinError>>()?,
        };
        Ok(self.emit_reply(Some(name), text, choices, ev.seq))
    }

    /// `reply("Your order {id} is on its way")`: a one-off text, no declaration.
    pub fn send_text(&mut self, text: &Expr, ev: &EventCtx) -> Result<Value, BuiltinError> {
        let text = self.render_expr(text, ev)?;
        Ok(self.emit_reply(None, text, Vec::new(), ev.seq))
    }

    fn emit_reply(
        &mut self,
        name: Option<&str>,
        text: String,
        choices: Vec<ChoiceRecord>,
        seq: u64,
    ) -> Value {
        self.effect(|conversation| TraceRecord::Reply {
            conversation: conversation.to_string(),
            seq,
            reply: name.map(str::to_string),
            text: text.clone(),
            choices,
        });
        Value::Text(text)
    }

    /// A reply's text; of texts per language, the one for the conversation's language,
    /// else the agent's `language`, else the first written (docs/language.md).
    fn render(&self, text: &Text, ev: &EventCtx) -> Result<String, BuiltinError> {
        let expr = match text {
            Text::One(expr) => expr,
            Text::ByLanguage(texts) => {
                let tags = texts.iter().map(|(tag, _)| tag.as_str());
                let wanted = [
                    self.state.language.as_deref(),
                    self.shared.plan.program.agent.language.as_deref(),
                ];
                let at = wanted
                    .into_iter()
                    .flatten()
                    .find_map(|language| locales::pick_language(tags.clone(), language))
                    .unwrap_or(0);
                &texts.get(at).ok_or(BuiltinError::NoText)?.1
            }
        };
        self.render_expr(expr, ev)
    }

    fn render_expr(&self, expr: &Expr, ev: &EventCtx) -> Result<String, BuiltinError> {
        Ok(match self.eval(expr, ev)? {
            Value::Text(text) => text,
            other => other.to_string(),
        })
    }

    /// Records an effect of the running action (see `effects`).
    pub fn effect(&mut self, build: impl FnOnce(&str) -> TraceRecord) {
        if self.shared.tracer.enabled() {
            let record = build(&self.state.id);
            self.effects.push(record);
        }
    }

    fn flush_effects(&mut self) {
        for record in std::mem::take(&mut self.effects) {
            self.shared.tracer.emit(|| record);
        }
    }

    /// The conversation's final record, when it ends or its input does; what a stop left
    /// undone is reported first.
    pub fn finish(&self) -> ConversationState {
        if let Some(message) = self.interrupted.describe() {
            self.shared.tracer.emit(|| TraceRecord::Error {
                conversation: Some(self.state.id.clone()),
                line: None,
                message,
            });
        }
        self.shared.tracer.emit(|| TraceRecord::End {
            conversation: self.state.id.clone(),
            params: self.state.params_json(),
            labels: self.state.labels.clone(),
            status: self.state.status,
        });
        self.snapshot()
    }
}

fn merge(scope: &mut Value, fields: &IndexMap<String, Value>) {
    if let Value::Record(map) = scope {
        for (k, v) in fields {
            map.insert(k.clone(), v.clone());
        }
    }
}

/// A part of a conversation's state that holds a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Param(usize),
    User,
    Caller,
}

/// What the trace says of one action run (or not run).
struct ActionTrace {
    status: ActionStatus,
    /// Tries made (0 when skipped or failed before the first).
    attempts: u32,
    started: Option<Instant>,
    error: Option<String>,
    error_kind: Option<ErrorKind>,
    request: Option<String>,
    saved: Option<String>,
    value: Option<serde_json::Value>,
    dry_run: bool,
}

impl ActionTrace {
    fn new(status: ActionStatus, started: Option<Instant>) -> ActionTrace {
        ActionTrace {
            status,
            attempts: 0,
            started,
            error: None,
            error_kind: None,
            request: None,
            saved: None,
            value: None,
            dry_run: false,
        }
    }
}

/// What a value of the wrong type for a parameter is told, wherever it is stored from.
fn does_not_fit(param: &crate::ir::Param, value: &Value) -> ParamError {
    ParamError::DoesNotFit {
        param: param.name.clone(),
        value: value.type_name(),
        ty: param.ty.name(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn agent() -> ir::Agent {
        ir::Agent {
            name: "acme".into(),
            display_name: None,
            channels: vec![Channel::Chat],
            language: Some("en".into()),
            inactivity_ms: None,
            params: vec![
                ir::Param {
                    name: "order_id".into(),
                    ty: Type::Text,
                    default: None,
                },
                ir::Param {
                    name: "attempts".into(),
                    ty: Type::Number,
                    default: Some(Value::Number(0.0)),
                },
            ],
        }
    }

    fn read(scopes: &dyn Scopes, scope: Scope) -> Option<serde_json::Value> {
        scopes.scope(&scope).map(|value| value.to_json())
    }

    /// `conversation`, `usecase` and `block` are built here; the checker types their fields
    /// by `catalogue::scope`, so the two must name the same keys.
    #[test]
    fn the_records_the_runtime_builds_have_the_fields_the_scope_table_names() {
        use crate::catalogue::scope::field_names;
        let keys = |value: Value| match value {
            Value::Record(fields) => fields.keys().cloned().collect::<Vec<_>>(),
            other => panic!("not a record: {other:?}"),
        };
        let state = ConversationState::initial("c-1", &agent());
        let conversation = state.scope(&Scope::Conversation).unwrap().into_owned();
        assert_eq!(keys(conversation), field_names("conversation"));
        assert_eq!(keys(super::named("u")), field_names("usecase"));
        assert_eq!(keys(super::named("b")), field_names("block"));
    }

    /// The server refuses either kind; only the runtime's trace says "ignored", and only
    /// for a name the program lacks, so the two must be told apart by kind.
    #[test]
    fn a_payload_param_is_refused_by_kind() {
        let params = agent().params;
        assert_eq!(
            payload_param(&params, "order_ix", &Value::Text("A1".into())),
            Err(ParamError::Unknown {
                name: "order_ix".into(),
                suggestion: Some("order_id".into()),
            })
        );
        let wrong = payload_param(&params, "attempts", &Value::Text("two".into())).unwrap_err();
        assert_eq!(
            wrong.to_string(),
            "cannot store a text in `attempts`, a number parameter"
        );
        assert_eq!(
            payload_param(&params, "attempts", &Value::Number(2.0)),
            Ok((1, Value::Number(2.0)))
        );
    }

    #[test]
    fn a_new_conversation_reads_its_defaults() {
        let state = ConversationState::initial("c-1", &agent());
        assert_eq!(
            state.params_json(),
            json!({ "order_id": null, "attempts": 0 })
        );
        assert_eq!(
            read(&state, Scope::Conversation),
            Some(json!({
                "id": "c-1", "channel": null, "language": "en", "labels": [], "status": "active"
            }))
        );
        assert_eq!(read(&state, Scope::User), Some(json!({})));
        assert_eq!(read(&state, Scope::Event), None);
        assert_eq!(read(&state, Scope::Response), None);
    }

    #[test]
    fn an_action_reads_the_conversation_as_its_state_does() {
        let mut state = ConversationState::initial("c-1", &agent());
        state.channel = Some(Channel::Chat);
        state.labels.push("vip".into());
        state.status = ConversationStatus::Escalated;
        let ev = EventCtx {
            seq: 1,
            payload: Arc::new(Value::Text("hi".into())),
            usecase: None,
            block: None,
            runs: Vec::new(),
        };
        let args = IndexMap::from([("attempts".to_string(), Value::Number(3.0))]);
        let action = ActionScopes {
            state: &state,
            ev: &ev,
            response: None,
            task_args: Some(&args),
        };
        assert_eq!(
            read(&action, Scope::Conversation),
            read(&state, Scope::Conversation)
        );
        assert_eq!(
            read(&state, Scope::Conversation).unwrap()["labels"],
            json!(["vip"])
        );
        assert_eq!(read(&action, Scope::Event), Some(json!("hi")));
        // A declared task's argument hides the conversation's param of the same name.
        assert_eq!(action.param("attempts"), Some(&Value::Number(3.0)));
        assert_eq!(state.param("attempts"), Some(&Value::Number(0.0)));
    }

    /// A value too deep for the state is refused by the limit it breaks.
    #[tokio::test]
    async fn a_value_over_a_limit_is_refused_by_the_limit() {
        use crate::ir::Breach;
        let mut conversation = super::super::engine::test_conversation(vec![ir::Param {
            name: "deep".into(),
            ty: Type::List,
            default: None,
        }]);
        let deep = (0..100).fold(Value::List(Vec::new()), |inner, _| Value::List(vec![inner]));
        let error = conversation.store_param(0, deep).unwrap_err();
        assert!(
            matches!(
                &error,
                ParamError::OverLimit { param, limit: StateLimit::Value(Breach::TooDeep { limit: 64 }) }
                    if param == "deep"
            ),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .starts_with("cannot store it in `deep`: the value nests more than 64"),
            "{error}"
        );
        assert_eq!(conversation.state.params["deep"], Value::Null);
    }
}
