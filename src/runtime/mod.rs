//! The async interpreter: runs a compiled [`crate::ir::Program`] against events (docs/language.md, "Run-time behaviour").
//!
//! ```no_run
//! # async fn demo(program: agentc::ir::Program) -> Result<(), Box<dyn std::error::Error>> {
//! use agentc::runtime::{Event, Runtime, TraceBuffer};
//! use std::sync::Arc;
//! let trace = TraceBuffer::new();
//! let runtime = Runtime::builder(program).trace(Arc::new(trace.clone())).build()?;
//! runtime.send(Event::parse_line(r#"{"conversation":"c-1","event":"conversation_started"}"#)?);
//! runtime.settle().await;
//! let state = runtime.snapshot("c-1").await;
//! let finals = runtime.finish().await;
//! # let _ = (state, finals, trace.records()); Ok(()) }
//! ```

mod action_error;
mod builtin;
mod clock;
mod conversation;
mod dispatch;
pub mod effects;
mod ended;
mod engine;
mod eval;
mod event;
pub mod executors;
mod format;
mod functions;
pub mod mock;
mod observer;
mod param_error;
mod plan;
mod retry;
mod secrets;
mod starts;
pub mod timeline;
mod trace;

pub use clock::{parse_duration, show_duration, ClockMode};
pub use conversation::{payload_param, ConversationState};
pub(crate) use engine::panic_message;
pub use engine::{ConversationEvalError, ExecutorFactory, RunTaskError, Runtime, RuntimeBuilder};
pub use eval::{eval_constant, Context, EvalError, Evaluator, Limits, Scopes};
pub use event::{Event, EventError, EventKind, JsonError};
pub use observer::{StepCause, StepObserver};
pub use param_error::{ParamError, StateLimit};
pub use plan::{PlanError, DEFAULT_TIMEOUT};
pub use secrets::{Environment, MapEnv, ProcessEnv, Redactor, REDACTED};
pub use trace::{
    redact_json, ActionStatus, ChoiceRecord, ConversationStatus, ErrorKind, TraceBuffer,
    TraceRecord, TraceSink,
};
