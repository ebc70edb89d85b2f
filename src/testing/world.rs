//! One test's world: a runtime on a manual clock, the mock services its `mock` steps feed,
//! an in-memory SQLite database per `sql` target, placeholder secrets; and the steps played
//! against it in order, stopping at the first that fails.

use super::{expect, Failure};
use crate::catalogue::{Channel, Kind};
use crate::ir::{self, TestStep, Value};
use crate::runtime::executors::{self, ExecutorOptions};
use crate::runtime::mock::{MockRule, MockServices, RecordedEmail, RecordedRequest};
use crate::runtime::{
    ClockMode, ConversationState, Environment, Event, Runtime, TraceBuffer, TraceRecord,
};
use indexmap::IndexMap;
use std::sync::Arc;

/// The id of the one conversation a test drives.
pub(super) const CONVERSATION: &str = "test";

/// The wall time every test starts at, so that `now()` and `today()` do not depend on the
/// day the tests run: 2026-01-05T09:00:00Z, a Monday.
pub(super) fn start_time() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_767_603_600).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// What every `sql` target becomes in a test: a database of its own, in memory.
const TEST_DATABASE: &str = "sqlite::memory:";

pub(super) struct World<'p> {
    pub program: &'p ir::Program,
    pub runtime: Runtime,
    /// Present when the program has targets spoken to over HTTP or SMTP.
    pub services: Option<MockServices>,
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
        Err(message) => Some(Failure::new(test.span, message)),
    };
    (failure, trace.take())
}

/// Secrets and environment variables read as `test-NAME`: a test never depends on, nor
/// sends, a real credential.
struct TestEnv;

impl Environment for TestEnv {
    fn var(&self, name: &str) -> Option<String> {
        Some(format!("test-{name}"))
    }
}

impl<'p> World<'p> {
    async fn start(program: &'p ir::Program, trace: TraceBuffer) -> Result<World<'p>, String> {
        let services = if program.targets.values().any(|t| t.kind != Kind::Sql) {
            let services = MockServices::start(Vec::new())
                .await
                .map_err(|e| format!("cannot start the mock services: {e}"))?;
            Some(services)
        } else {
            None
        };
        let mut builder = Runtime::builder(program.clone())
            .clock(ClockMode::Manual)
            .start_time(start_time())
            .trace(Arc::new(trace.clone()))
            .keep_ended_states(true)
            .env(TestEnv)
            .executor_factory(Arc::new(|target, fields| {
                executors::build(target, fields, &ExecutorOptions::default())
            }));
        for target in program.targets.values() {
            let redirect = services.as_ref().and_then(|s| s.redirect(target));
            if let Some(fields) = redirect {
                builder = builder.override_fields(&target.name, fields);
            } else if target.kind == Kind::Sql {
                let url = IndexMap::from([("url".to_string(), Value::Text(TEST_DATABASE.into()))]);
                builder = builder.override_fields(&target.name, url);
            }
        }
        let runtime = builder
            .build()
            .map_err(|e| format!("the program cannot run: {e}"))?;
        Ok(World {
            program,
            runtime,
            services,
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
        let kind = self.program.targets.get(target).map(|t| t.kind);
        if kind == Some(Kind::Sql) {
            let args = IndexMap::from([("statement".to_string(), Value::Text(path.clone()))]);
            return self
                .runtime
                .run_task(target, "execute", args, Vec::new())
                .await
                .err()
                .map(|e| {
                    Failure::new(*span, format!("the SQL of this mock failed on `{target}`"))
                        .actual(e)
                });
        }
        match (&self.services, MockRule::from_step(step)) {
            (Some(services), Some(rule)) => {
                services.add_rule(rule);
                None
            }
            _ => Some(Failure::new(
                *span,
                format!("`{target}` is not a service target that can be mocked"),
            )),
        }
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
            Err(message) => return Some(Failure::new(span, message)),
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
        let Some(services) = &self.services else {
            return Vec::new();
        };
        let all = services.unmocked();
        let new = all[self.reported.min(all.len())..].to_vec();
        self.reported = all.len();
        new
    }

    fn now(&self) -> Window {
        Window {
            trace: self.trace.records().len(),
            requests: self.services.as_ref().map_or(0, |s| s.requests().len()),
            emails: self.services.as_ref().map_or(0, |s| s.emails().len()),
        }
    }

    /// The records, requests and emails of the current window.
    pub fn recent_trace(&self) -> Vec<TraceRecord> {
        let mut records = self.trace.records();
        records.drain(..self.window.trace.min(records.len()));
        records
    }

    pub fn recent_requests(&self) -> Vec<RecordedRequest> {
        let mut requests = self
            .services
            .as_ref()
            .map(|s| s.requests())
            .unwrap_or_default();
        requests.drain(..self.window.requests.min(requests.len()));
        requests
    }

    pub fn recent_emails(&self) -> Vec<RecordedEmail> {
        let mut emails = self
            .services
            .as_ref()
            .map(|s| s.emails())
            .unwrap_or_default();
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
