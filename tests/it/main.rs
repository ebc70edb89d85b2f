//! Every integration test, in one binary: on two cores, linking one test binary instead of
//! ten is most of the time a clean `cargo test` takes. One module per area; the data they
//! read stays beside them under `tests/` (`agent_test/`, `repl/`, `data/`, `support/`).
//! Run one area with `cargo test --test it runtime::`.

mod agent_test;
mod check_cases;
mod cli;
mod conformance;
mod diagnostics;
mod docs;
mod executors;
mod fmt;
mod hostile;
mod repl;
mod runtime;
mod syntax_props;

use agentc::catalogue::{BuiltinTask, Kind};
use agentc::runtime::effects::ExecutorTask;

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
