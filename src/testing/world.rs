//! One test's world: a runtime of a [`MockedWorld`] (the mock services its `mock` steps
//! feed, an in-memory SQLite database per `sql` target, placeholder secrets) on a manual
//! clock; and the steps played against it in order, stopping at the first that fails.

use super::{expect, Failure};
use crate::catalogue::{Channel, Protocol};
use crate::ir::{self, TestStep, Value};
use crate::runtime::mock::{
    protocol, run_sql, MockRule, MockedWorld, RecordedEmail, RecordedRequest, ServicesDown,
    SqlTargets,
};
use crate::runtime::{
    ClockMode, ConversationState, Event, PlanError, Redactor, Runtime, TraceBuffer, TraceRecord,
};
use std::fmt;
use std::sync::Arc;

/// Why a test's world did not start: the test fails with it before its first step.
#[derive(Debug)]
enum StartError {
    ServicesDown(ServicesDown),
    /// The program cannot be prepared to run (an IR the checker would refuse).
    Plan(PlanError),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::ServicesDown(error) => write!(f, "{error}"),
            StartError::Plan(error) => write!(f, "the program cannot run: {error}"),
        }
    }
}

/// The id of the one conversation a test drives.
pub(super) const CONVERSATION: &str = "test";

/// The wall time every test starts at, so that `now()` and `today()` do not depend on the
/// day the tests run: 2026-01-05T09:00:00Z, a Monday.
pub(super) fn start_time() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_767_603_600).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

pub(super) struct World<'p> {
    pub program: &'p ir::Program,
    pub runtime: Runtime,
    /// The mock services and databases the runtime talks to.
    pub mocked: MockedWorld,
    /// Every record the runtime emitted so far.
    pub trace: TraceBuffer,
    /// Where the current run of `send` steps began.
    pub window: Window,
    /// The last step was a `send` (a `mock` between two sends keeps the run going).
    sending: bool,
    /// Unmocked requests already reported.
    reported: usize,
}

/// How many trace records, requests and emails there were when a run of `send` steps began:
/// what `expect ran`, `reply`, `request`, `email` and `sms` look at comes after.
#[derive(Clone, Copy, Default)]
pub(super) struct Window {
    pub trace: usize,
    pub requests: usize,
    pub emails: usize,
}

/// Plays `test` on `program` (a program whose own tests were taken out).
pub(super) async fn run_test(
    program: &ir::Program,
    test: &ir::Test,
) -> (Option<Failure>, Vec<TraceRecord>) {
    let trace = TraceBuffer::new();
    let failure = match World::start(program, trace.clone()).await {
        Ok(mut world) => world.play(&test.steps).await,
        Err(error) => Some(Failure::new(test.span, error.to_string())),
    };
    (failure, trace.take())
}

impl<'p> World<'p> {
    async fn start(program: &'p ir::Program, trace: TraceBuffer) -> Result<World<'p>, StartError> {
        let mocked = MockedWorld::start(Vec::new(), Redactor::default())
            .await
            .map_err(StartError::ServicesDown)?;
        let runtime = mocked
            .runtime(program.clone(), SqlTargets::InMemory)
            .clock(ClockMode::Manual)
            .start_time(start_time())
            .trace(Arc::new(trace.clone()))
            .keep_ended_states(true)
            .build()
            .map_err(StartError::Plan)?;
        Ok(World {
            program,
            runtime,
            mocked,
            trace,
            window: Window::default(),
            sending: false,
            reported: 0,
        })
    }

    async fn play(&mut self, steps: &[TestStep]) -> Option<Failure> {
        for step in steps {
            match step {
                TestStep::Send { .. } if !self.sending => {
                    self.window = self.now();
                    self.sending = true;
                }
                TestStep::Expect { .. } => self.sending = false,
                _ => {}
            }
            let failure = match step {
                TestStep::FailTransfer { to, reason, .. } => {
                    self.runtime.fail_transfers(to, reason);
                    None
                }
                TestStep::Mock { .. } => self.mock(step).await,
                TestStep::Send {
                    event,
                    payload,
                    span,
                } => self.send(event, payload.as_ref(), *span).await,
                TestStep::Expect {
                    negated,
                    expectation,
                    span,
                } => expect::check(self, expectation, *negated, *span).await,
            };
            if failure.is_some() {
                return failure;
            }
        }
        None
    }

    /// A rule for the mock services, or (on a `sql` target) a statement run at once.
    async fn mock(&mut self, step: &TestStep) -> Option<Failure> {
        let TestStep::Mock {
            target, path, span, ..
        } = step
        else {
            return None;
        };
        let speaks = self.program.targets.get(target).map(protocol);
        if speaks == Some(Protocol::Sql) {
            return run_sql(&self.runtime, target, path).await.err().map(|e| {
                Failure::new(*span, format!("the SQL of this mock failed on `{target}`"))
                    .actual(e.to_string())
            });
        }
        if let Some(rule) = MockRule::from_step(step) {
            self.mocked.services().add_rule(rule);
        }
        None
    }

    /// Feeds one event and waits until the conversation has handled it.
    async fn send(
        &mut self,
        event: &ir::SendEvent,
        payload: Option<&Value>,
        span: crate::diagnostics::Span,
    ) -> Option<Failure> {
        let mut event = match Event::from_send(CONVERSATION, event, payload.cloned()) {
            Ok(event) => event,
            Err(error) => return Some(Failure::new(span, error.to_string())),
        };
        if let Some(Value::Record(fields)) = payload {
            if let Some(Value::Text(channel)) = fields.get("channel") {
                event.channel = Channel::parse(channel);
            }
        }
        let (faults, records) = (self.runtime.faults(), self.trace.records().len());
        self.runtime.send(event);
        self.runtime.settle().await;
        if self.runtime.faults() > faults {
            return Some(self.fault(span, records));
        }
        let unmocked = self.unmocked();
        let first = unmocked.first()?;
        let listed: Vec<String> = unmocked.iter().map(describe_request).collect();
        Some(
            Failure::new(span, "a request was sent that no mock answers")
                .actual(listed.join("\n"))
                .help(format!(
                    "add a mock before this step: `mock {} {} \"{}\" -> 200 {{ … }}`",
                    first.target, first.method, first.path
                )),
        )
    }

    /// The runtime refused the event just sent, or failed on it: the errors it reported
    /// since the trace held `records` records.
    fn fault(&self, span: crate::diagnostics::Span, records: usize) -> Failure {
        let trace = self.trace.records();
        let errors: Vec<String> = trace
            .get(records..)
            .unwrap_or_default()
            .iter()
            .filter_map(|record| match record {
                TraceRecord::Error { message, .. } => Some(message.clone()),
                _ => None,
            })
            .collect();
        Failure::new(span, "the runtime could not handle this event").actual(errors.join("\n"))
    }

    /// Requests no rule answered, since the last time this was asked.
    fn unmocked(&mut self) -> Vec<RecordedRequest> {
        let all = self.mocked.services().unmocked();
        let new = all[self.reported.min(all.len())..].to_vec();
        self.reported = all.len();
        new
    }

    fn now(&self) -> Window {
        Window {
            trace: self.trace.records().len(),
            requests: self.mocked.services().requests().len(),
            emails: self.mocked.services().emails().len(),
        }
    }

    /// The records, requests and emails of the current window.
    pub fn recent_trace(&self) -> Vec<TraceRecord> {
        let mut records = self.trace.records();
        records.drain(..self.window.trace.min(records.len()));
        records
    }

    pub fn recent_requests(&self) -> Vec<RecordedRequest> {
        let mut requests = self.mocked.services().requests();
        requests.drain(..self.window.requests.min(requests.len()));
        requests
    }

    pub fn recent_emails(&self) -> Vec<RecordedEmail> {
        let mut emails = self.mocked.services().emails();
        emails.drain(..self.window.emails.min(emails.len()));
        emails
    }

    /// The conversation as it stands (its initial state before any event).
    pub async fn state(&self) -> Option<ConversationState> {
        self.runtime.snapshot(CONVERSATION).await
    }
}

/// `GET /orders/A-1 on `orders``
pub(super) fn describe_request(request: &RecordedRequest) -> String {
    let query: Vec<String> = request
        .query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{}", query.join("&"))
    };
    format!(
        "{} {}{query} on `{}`",
        request.method, request.path, request.target
    )
}
