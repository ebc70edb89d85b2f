//! The session's conversation: events fired with `:send` run through the real interpreter,
//! on a paused clock, in a [`MockedWorld`]; nothing reaches the network and no credential
//! is needed.
//!
//! The interpreter runs one program; when the session's program changes, the next event
//! starts a new interpreter that resumes the conversation where the old one left it.

use super::program::Compiled;

use crate::ir::{self, Value};
use crate::runtime::mock::{
    run_sql, MockRule, MockedWorld, RecordedRequest, ServicesDown, SqlTargets,
};
use crate::runtime::{
    timeline, ClockMode, ConversationState, Event, EventError, PlanError, Redactor, RunTaskError,
    Runtime, TraceBuffer,
};
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

/// The id of the REPL's conversation in traces.
const CONVERSATION: &str = "repl";

/// The interpreter of the current program, and what it was built from.
struct Running {
    compiled: Rc<Compiled>,
    runtime: Runtime,
    trace: TraceBuffer,
}

pub struct Live {
    tokio: tokio::runtime::Runtime,
    mocked: Option<MockedWorld>,
    running: Option<Running>,
    /// The conversation as of the last event (defaults before the first).
    pub state: Option<ConversationState>,
    /// The last event's name and payload: what `event` reads in an expression.
    pub last_event: Option<(String, Value)>,
    pub dry_run: bool,
    redactor: Redactor,
    /// Requests no mock answered, already reported.
    unmocked_seen: usize,
    /// `:mock DB SQL "…"` statements (target, statement): like mocks they stay, so each new
    /// interpreter (a fresh in-memory database) runs them again before its first event.
    sql_seeds: Vec<(String, String)>,
}

/// Why an event was not fired or a mock not added: the REPL prints it as an error.
#[derive(Debug)]
pub enum LiveError {
    /// The program does not check: there is nothing to run.
    HasErrors,
    ServicesDown(ServicesDown),
    /// The interpreter could not be built for the program.
    Plan(PlanError),
    /// The event's payload is malformed (a duration field).
    Event(EventError),
    /// A `:mock DB SQL "…"` statement failed, now or when a new interpreter ran it again.
    Sql {
        target: String,
        error: RunTaskError,
    },
}

impl fmt::Display for LiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiveError::HasErrors => {
                f.write_str("the program has errors, so it cannot run; `:check` shows them")
            }
            LiveError::ServicesDown(error) => write!(f, "{error}"),
            LiveError::Plan(error) => write!(f, "{error}"),
            LiveError::Event(error) => write!(f, "{error}"),
            LiveError::Sql { target, error } => {
                write!(f, "the SQL failed on `{target}`: {error}")
            }
        }
    }
}

impl std::error::Error for LiveError {}

/// What one `:send` printed.
pub struct Fired {
    pub lines: Vec<String>,
    pub unmocked: Vec<RecordedRequest>,
}

impl Live {
    pub fn new() -> std::io::Result<Self> {
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Live {
            tokio,
            mocked: None,
            running: None,
            state: None,
            last_event: None,
            dry_run: false,
            redactor: Redactor::default(),
            unmocked_seen: 0,
            sql_seeds: Vec::new(),
        })
    }

    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Adds a mock rule; it answers after the rules given before for the same request.
    pub fn mock(&mut self, rule: MockRule) -> Result<(), LiveError> {
        self.mocked_world()?.services().add_rule(rule);
        Ok(())
    }

    /// Runs a `mock DB SQL "statement"` on the sql target's database now, as a test
    /// block does; it is kept only when it succeeds.
    pub fn seed_sql(
        &mut self,
        compiled: &Rc<Compiled>,
        target: &str,
        statement: &str,
    ) -> Result<(), LiveError> {
        self.ensure_running(compiled)?;
        let running = self.running.as_ref().expect("started above");
        self.tokio
            .block_on(run_sql(&running.runtime, target, statement))
            .map_err(|error| sql_failed(target, error))?;
        self.sql_seeds
            .push((target.to_string(), statement.to_string()));
        Ok(())
    }

    fn mocked_world(&mut self) -> Result<&MockedWorld, LiveError> {
        if self.mocked.is_none() {
            let started = MockedWorld::start(Vec::new(), self.redactor.clone());
            let mocked = self
                .tokio
                .block_on(started)
                .map_err(LiveError::ServicesDown)?;
            self.mocked = Some(mocked);
        }
        Ok(self.mocked.as_ref().expect("just started"))
    }

    /// Forgets the conversation: the next event starts a new one. Mocks stay.
    pub fn reset(&mut self) {
        self.running = None;
        self.state = None;
        self.last_event = None;
    }

    /// Runs side-effecting tasks (off) or only describes them (on), from the next event.
    pub fn set_dry_run(&mut self, on: bool) {
        if self.dry_run != on {
            self.dry_run = on;
            self.running = None;
        }
    }

    /// Fires one event at the conversation and returns the trace it produced, rendered.
    pub fn fire(
        &mut self,
        compiled: &Rc<Compiled>,
        event: &ir::SendEvent,
        payload: Option<Value>,
        color: bool,
    ) -> Result<Fired, LiveError> {
        self.ensure_running(compiled)?;
        let running = self.running.as_ref().expect("started above");
        let sent = Event::from_send(CONVERSATION, event, payload).map_err(LiveError::Event)?;
        let payload = sent.payload.clone();
        let name = match event {
            ir::SendEvent::Event { event } => Some(event.clone()),
            _ => None,
        };
        let state = self.tokio.block_on(async {
            running.runtime.send(sent);
            running.runtime.settle().await;
            running.runtime.snapshot(CONVERSATION).await
        });
        let lines = running
            .trace
            .take()
            .iter()
            .map(|record| timeline::render(record, color))
            .collect();
        if let Some(name) = name {
            self.last_event = Some((name, payload));
        }
        self.state = state;
        let unmocked = self
            .mocked
            .as_ref()
            .map(|mocked| mocked.services().unmocked())
            .unwrap_or_default();
        let new = unmocked[self.unmocked_seen.min(unmocked.len())..].to_vec();
        self.unmocked_seen = unmocked.len();
        Ok(Fired {
            lines,
            unmocked: new,
        })
    }

    /// An interpreter for `compiled`: the one running, or a new one. A program changed
    /// since the last event runs in a new interpreter, which resumes the conversation.
    fn ensure_running(&mut self, compiled: &Rc<Compiled>) -> Result<(), LiveError> {
        let program = compiled
            .checked
            .program
            .as_ref()
            .ok_or(LiveError::HasErrors)?;
        if self
            .running
            .as_ref()
            .is_some_and(|r| !Rc::ptr_eq(&r.compiled, compiled))
        {
            self.running = None;
        }
        if self.running.is_none() {
            self.start(compiled, program.clone())?;
        }
        Ok(())
    }

    /// Builds an interpreter for `program` in the session's mocked world: paused clock,
    /// trace kept.
    fn start(&mut self, compiled: &Rc<Compiled>, program: ir::Program) -> Result<(), LiveError> {
        let trace = TraceBuffer::new();
        let resume = self.state.clone().filter(|s| s.seq > 0);
        let dry_run = self.dry_run;
        let mut builder = self
            .mocked_world()?
            .runtime(program, SqlTargets::InMemory)
            .trace(Arc::new(trace.clone()))
            .keep_ended_states(true)
            .clock(ClockMode::Manual)
            .dry_run(dry_run);
        if let Some(state) = resume {
            builder = builder.resume(state);
        }
        let _context = self.tokio.enter();
        let runtime = builder.build().map_err(LiveError::Plan)?;
        for (target, statement) in &self.sql_seeds {
            self.tokio
                .block_on(run_sql(&runtime, target, statement))
                .map_err(|error| sql_failed(target, error))?;
        }
        self.running = Some(Running {
            compiled: compiled.clone(),
            runtime,
            trace,
        });
        Ok(())
    }
}

fn sql_failed(target: &str, error: RunTaskError) -> LiveError {
    LiveError::Sql {
        target: target.to_string(),
        error,
    }
}

/// The conversation as an expression sees it before any event: the params' defaults.
pub fn initial_state(program: &ir::Program) -> ConversationState {
    ConversationState::initial(CONVERSATION, &program.agent)
}
