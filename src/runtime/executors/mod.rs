//! One executor per external target kind, each speaking its real protocol.
//!
//! [`build`] turns a declared target and its evaluated fields into an [`Executor`]. The
//! runtime evaluates the target's fields first, with these conventions:
//!
//! - `secret("X")` and `env("X")` arrive as [`Value::Text`]; durations as [`Value::Duration`];
//!   bare words of a fixed set (`tls: starttls`) as [`Value::Text`].
//! - `auth` arrives as a record whose `scheme` says which call wrote it:
//!   - `bearer(token)` → `{ scheme: "bearer", token }`
//!   - `basic(user, pass)` → `{ scheme: "basic", username, password }`
//!   - `api_key(header, value)` → `{ scheme: "api_key", header, value }`
//!
//! Task arguments arrive by parameter name in [`TaskRequest::args`] (`null` = not given).
//! Declared tasks of an `http` target are sent as the generic task `request` with the args
//! `{ method, path, query?, body?, headers? }` (any other task name carrying a `method`
//! argument is treated the same way); the runtime applies the declared `result` mapping to
//! the `{ status, headers, body }` answer.
//!
//! Every HTTP-based kind (`http`, `zendesk`, `salesforce`, `sms`) shares one guarded client
//! ([`client`]): response size cap, SSRF guard (see [`guard`]), `Idempotency-Key` on every
//! side-effecting request, and the same failure classification (5xx, 408, 429, connection
//! errors and timeouts are retryable; `Retry-After` is honoured).

mod args;
mod client;
mod guard;
mod http;
mod salesforce;
mod sms;
mod smtp;
mod sql;
mod zendesk;

pub use guard::is_forbidden_ip;

use crate::ir::{self, Value};
use crate::runtime::effects::{Executor, TaskRequest};
use indexmap::IndexMap;
use std::sync::Arc;

/// Limits and identity shared by every executor.
#[derive(Clone, Debug)]
pub struct ExecutorOptions {
    /// The largest response body read from a service; a larger one fails the task.
    pub max_response_bytes: usize,
    /// Sent as `User-Agent` on every HTTP request.
    pub user_agent: String,
    /// How long establishing a connection may take (the whole attempt is bounded by the
    /// task's own timeout).
    pub connect_timeout: std::time::Duration,
}

impl Default for ExecutorOptions {
    fn default() -> Self {
        ExecutorOptions {
            max_response_bytes: 10 * 1024 * 1024,
            user_agent: concat!("agentc/", env!("CARGO_PKG_VERSION")).to_string(),
            connect_timeout: std::time::Duration::from_secs(10),
        }
    }
}

/// Builds the executor of one declared target. `fields` are the target's evaluated fields
/// (the runtime may have overridden some, e.g. with [`crate::runtime::mock::MockServices::redirect`]).
/// The error says which field is wrong and why; it never contains a field's value.
pub fn build(
    target: &ir::Target,
    fields: IndexMap<String, Value>,
    options: &ExecutorOptions,
) -> Result<Arc<dyn Executor>, String> {
    let fields = args::Fields::new(&target.name, fields);
    let executor: Arc<dyn Executor> = match target.kind.as_str() {
        "http" => Arc::new(http::HttpExecutor::new(&fields, options)?),
        "zendesk" => Arc::new(zendesk::ZendeskExecutor::new(&fields, options)?),
        "salesforce" => Arc::new(salesforce::SalesforceExecutor::new(&fields, options)?),
        "sms" => Arc::new(sms::SmsExecutor::new(&fields, options)?),
        "smtp" => Arc::new(smtp::SmtpExecutor::new(&fields)?),
        "sql" => Arc::new(sql::SqlExecutor::new(&fields)?),
        other => {
            return Err(format!(
                "target `{}`: kind `{other}` has no external executor",
                target.name
            ))
        }
    };
    Ok(executor)
}

/// The error for a task name the executor does not know (the checker normally stops it).
fn unknown_task(request: &TaskRequest, kind: &str) -> crate::runtime::effects::TaskError {
    crate::runtime::effects::TaskError::fatal(format!(
        "target `{}` ({kind}) has no task `{}`",
        request.target, request.task
    ))
}
