//! `agentc test`: runs the `test` blocks of checked programs on the real interpreter, with
//! every external service mocked at its protocol level (see `docs/testing.md`).
//!
//! Each test gets a world of its own: a runtime on a manual clock (time moves only with
//! `send wait`), loopback mock services that answer its `mock` steps and record what they
//! receive, an in-memory SQLite database for each `sql` target, and placeholder secrets.
//! Nothing reaches the network. Tests run concurrently on a tokio runtime.

mod expect;
pub mod junit;
mod matching;
mod world;

use crate::diagnostics::Span;
use crate::ir;
use crate::runtime::{panic_message, TraceRecord};
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest a test may take; a longer one fails (it should never happen: the clock is
/// manual and every service is local).
pub const TEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How many tests run at once.
pub const CONCURRENCY: usize = 64;

/// One `test` block of one program.
#[derive(Clone)]
pub struct Case {
    /// The program without its tests (what each test's runtime gets a copy of).
    pub program: Arc<ir::Program>,
    pub test: Arc<ir::Test>,
}

impl Case {
    /// Every test of a program, in source order.
    pub fn all(mut program: ir::Program) -> Vec<Case> {
        let tests = std::mem::take(&mut program.tests);
        let program = Arc::new(program);
        tests
            .into_iter()
            .map(|test| Case {
                program: program.clone(),
                test: Arc::new(test),
            })
            .collect()
    }
    pub fn name(&self) -> &str {
        &self.test.name
    }
    /// The file the test is written in (one of `program.files`).
    pub fn file(&self) -> &str {
        let file = self.test.span.file.0 as usize;
        self.program.files.get(file).map_or("", String::as_str)
    }
}

/// Why a test failed: where (the step), what was expected and what happened.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// The step that failed, in the program's files (`Span::file` indexes `Program::files`).
    pub span: Span,
    pub message: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
    pub help: Option<String>,
}

impl Failure {
    fn new(span: Span, message: impl Into<String>) -> Self {
        Failure {
            span,
            message: message.into(),
            expected: None,
            actual: None,
            help: None,
        }
    }
    fn actual(mut self, text: impl Into<String>) -> Self {
        self.actual = Some(text.into());
        self
    }
    fn help(mut self, text: impl Into<String>) -> Self {
        self.help = Some(text.into());
        self
    }
}

/// How one test went.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The first step that failed; `None` when the test passed.
    pub failure: Option<Failure>,
    pub duration: Duration,
    /// What the runtime did (already redacted), for `--trace` and reports.
    pub trace: Vec<TraceRecord>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// Runs one test in a world of its own.
pub async fn run(case: &Case) -> Outcome {
    let started = Instant::now();
    let test = &case.test;
    let (failure, trace) =
        match tokio::time::timeout(TEST_TIMEOUT, world::run_test(&case.program, test)).await {
            Ok(result) => result,
            Err(_) => (
                Some(Failure::new(
                    test.span,
                    format!("the test did not finish within {}s", TEST_TIMEOUT.as_secs()),
                )),
                Vec::new(),
            ),
        };
    Outcome {
        failure,
        duration: started.elapsed(),
        trace,
    }
}

/// Runs `cases` concurrently (at most [`CONCURRENCY`] at a time) and hands each outcome to
/// `done` with the case's index, in the order they finish.
pub async fn run_all(cases: &[Case], mut done: impl FnMut(usize, Outcome)) {
    let limit = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, case) in cases.iter().enumerate() {
        let case = case.clone();
        let limit = limit.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            // A panic is a bug of ours; it fails this test and leaves the others running.
            let outcome = AssertUnwindSafe(run(&case))
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| Outcome {
                    failure: Some(Failure::new(
                        case.test.span,
                        format!("internal error: {}", panic_message(&*panic)),
                    )),
                    duration: Duration::ZERO,
                    trace: Vec::new(),
                });
            (index, outcome)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        if let Ok((index, outcome)) = joined {
            done(index, outcome);
        }
    }
}
