//! What the tests of several areas do the same way: build targets, evaluated fields,
//! executors and task requests; signal a child process and wait for it to exit.

use agentc::catalogue::{BuiltinTask, Kind};
use agentc::ir::{self, Value};
use agentc::runtime::effects::{Executor, ExecutorTask, TaskRequest};
use agentc::runtime::executors::{build, ExecutorOptions};
use indexmap::IndexMap;
use std::process::{Child, Command, ExitStatus};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A target named `name` of `kind` with no declared fields (the evaluated ones come apart).
pub fn target(name: &str, kind: &str) -> ir::Target {
    ir::Target {
        name: name.into(),
        kind: Kind::parse(kind).expect("a target kind"),
        fields: Default::default(),
        timeout_ms: None,
        retry: None,
    }
}

/// A JSON object as evaluated fields or task arguments.
pub fn record(json: serde_json::Value) -> IndexMap<String, Value> {
    match Value::from_json(&json) {
        Value::Record(map) => map,
        other => panic!("not a record: {other:?}"),
    }
}

/// The executor of a target `t` of `kind` with these evaluated fields.
pub fn try_executor(kind: &str, fields: serde_json::Value) -> Result<Arc<dyn Executor>, String> {
    build(
        &target("t", kind),
        record(fields),
        &ExecutorOptions::default(),
    )
    .map_err(|e| e.to_string())
}

pub fn executor(kind: &str, fields: serde_json::Value) -> Arc<dyn Executor> {
    try_executor(kind, fields).unwrap_or_else(|e| panic!("cannot build: {e}"))
}

/// The task a test's request names: `request` (a declared task), or the built-in task of
/// that name of `kind`, or of the first kind that has one (`query` is salesforce's then).
pub fn executor_task(kind: Option<Kind>, name: &str) -> ExecutorTask {
    if name == "request" {
        return ExecutorTask::Request;
    }
    let kinds: Vec<Kind> = kind.map_or_else(|| Kind::ALL.to_vec(), |k| vec![k]);
    kinds
        .into_iter()
        .find_map(|kind| BuiltinTask::parse(kind, name))
        .map(ExecutorTask::Builtin)
        .unwrap_or_else(|| panic!("no built-in task `{name}`"))
}

/// A request to target `t` for the task `name` (of `kind`, when names are shared).
pub fn request(
    kind: Option<Kind>,
    name: &str,
    args: serde_json::Value,
    idempotency_key: &str,
    timeout: Duration,
) -> TaskRequest {
    TaskRequest {
        target: "t".into(),
        task: executor_task(kind, name),
        args: record(args),
        rest: Vec::new(),
        idempotency_key: idempotency_key.into(),
        timeout,
        conversation: "c".into(),
    }
}

/// Sends the signal `name` (`TERM`, `HUP`) to `child`.
pub fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([format!("-{name}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits (bounded) for `child` to exit: how it did, or `None` if it is still running.
pub fn exit_within(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    let until = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() >= until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
