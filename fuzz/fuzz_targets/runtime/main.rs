//! The runtime under hostile input: a program (generated, an example, or a hostile one), an
//! event stream written from the fuzz input, and external services that answer what the
//! input says, run on the real `agentc::runtime::Runtime` with a manual clock. Nothing may
//! panic or hang, every trace record must serialise and read back, and every value the
//! conversations kept must respect the runtime's `Limits`.

#![no_main]

mod bounds;
mod events;
mod json;
mod programs;
mod services;

use agentc::runtime::{ClockMode, Environment, Event, Limits, Runtime, TraceBuffer, TraceRecord};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use programs::Subject;
use services::Service;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// Event lines in one input.
const MAX_LINES: usize = 64;

/// How long (on tokio's paused clock, so it costs nothing) the runtime may take to settle or
/// finish before it counts as hung: far more than every timeout and retry of `MAX_LINES`
/// events add up to.
const PATIENCE: Duration = Duration::from_secs(365 * 86_400);

fuzz_target!(|bytes: &[u8]| {
    let mut u = Unstructured::new(bytes);
    let Ok(Some(case)) = Case::new(&mut u) else {
        return;
    };
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a tokio runtime");
    if std::env::var_os("AGENTC_FUZZ_SHOW").is_some() {
        case.show();
    }
    tokio.block_on(case.run());
});

/// One run: what the fuzz input asked for.
struct Case {
    subject: Rc<Subject>,
    /// A stand-in for each declared target, by name.
    services: Vec<(String, Service)>,
    /// Event lines, each with whether to let the runtime settle after it.
    lines: Vec<(String, bool)>,
}

impl Case {
    /// `None` when the chosen program does not check.
    fn new(u: &mut Unstructured) -> Result<Option<Case>> {
        let Some(subject) = programs::choose(u)? else {
            return Ok(None);
        };
        let mut services = Vec::new();
        for name in subject.program.targets.keys() {
            services.push((name.clone(), Service::new(u, &subject.words)?));
        }
        let mut lines = Vec::new();
        while lines.len() < MAX_LINES && !u.is_empty() {
            lines.push((events::line(u, &subject)?, u.ratio(1, 8)?));
        }
        Ok(Some(Case {
            subject,
            services,
            lines,
        }))
    }

    /// What the input decodes to (`AGENTC_FUZZ_SHOW=1`), to read a finding.
    fn show(&self) {
        eprintln!("program: {}", self.subject.name);
        for (name, service) in &self.services {
            eprintln!("service {name}: {} answers", service.len());
        }
        for (line, settle) in &self.lines {
            let settle = if *settle { " (settle)" } else { "" };
            eprintln!(
                "line{settle}: {}",
                line.chars().take(300).collect::<String>()
            );
        }
    }

    async fn run(self) {
        let limits = Limits::default();
        let trace = TraceBuffer::new();
        let mut builder = Runtime::builder(self.subject.program.clone())
            .clock(ClockMode::Manual)
            .start_time(jiff::Timestamp::UNIX_EPOCH)
            .trace(Arc::new(trace.clone()))
            .env(Placeholders)
            .limits(limits.clone());
        for (name, service) in self.services {
            builder = builder.executor(&name, Arc::new(service));
        }
        let runtime = builder.build().expect("a checked program builds");
        for (line, settle) in &self.lines {
            // A line that does not parse is the CLI's to report; the runtime never sees it.
            if let Ok(event) = Event::parse_line(line) {
                runtime.send(event);
            }
            if *settle {
                within("settle", runtime.settle()).await;
            }
        }
        within("settle", runtime.settle()).await;
        for state in within("finish", runtime.finish()).await {
            bounds::check_state(&state, &limits);
        }
        for record in trace.take() {
            check_record(&record, &limits);
        }
    }
}

/// Awaits `work`, which must end before [`PATIENCE`] runs out.
async fn within<T>(what: &str, work: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, work)
        .await
        .unwrap_or_else(|_| panic!("the runtime did not {what} within {PATIENCE:?}"))
}

/// A trace record becomes a JSON line a consumer can read back, and the values it shows
/// respect the limits.
fn check_record(record: &TraceRecord, limits: &Limits) {
    let line = serde_json::to_string(record)
        .unwrap_or_else(|e| panic!("a trace record does not serialise: {e}: {record:?}"));
    if let Err(e) = serde_json::from_str::<TraceRecord>(&line) {
        panic!("a trace line does not read back: {e}: {line}");
    }
    match record {
        TraceRecord::Action {
            action,
            value: Some(value),
            ..
        } => bounds::check_traced(value, &format!("the value `{action}` saved"), limits),
        TraceRecord::End {
            conversation,
            params: serde_json::Value::Object(params),
            ..
        } => {
            for (name, value) in params {
                let what = format!("the end record of `{conversation}`: `{name}`");
                bounds::check_traced(value, &what, limits);
            }
        }
        _ => {}
    }
}

/// Every `secret(..)` and `env(..)` reads a placeholder, as under `agentc test`.
struct Placeholders;

impl Environment for Placeholders {
    fn var(&self, name: &str) -> Option<String> {
        Some(format!("placeholder-{name}"))
    }
}
