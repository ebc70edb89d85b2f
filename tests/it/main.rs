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
mod editors;
mod executors;
mod fmt;
mod hostile;
mod lsp;
mod rasa;
mod recovery;
mod repl;
mod retries;
mod runtime;
mod serve;
mod support;
mod syntax_props;
