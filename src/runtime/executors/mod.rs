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
//! [`TaskRequest::task`] is typed: each executor matches its kind's catalogue tasks
//! exhaustively and refuses another kind's. Declared tasks of an `http`, `zendesk` or
//! `salesforce` target are sent as the generic task `request`
//! ([`ExecutorTask::Request`](crate::runtime::effects::ExecutorTask)) with the args
//! `{ method, path, query?, body?, headers? }`, built by `http::outgoing` under the
//! target's base URL or API root, with its auth; the runtime applies the declared `result`
//! mapping to the `{ status, headers, body }` answer.
//!
//! Every HTTP-based kind (`http`, `zendesk`, `salesforce`, `sms`) shares one guarded client
//! (`client.rs`): the SSRF guard (`guard.rs`), a response size cap
//! ([`ExecutorOptions::max_response_bytes`]), `Idempotency-Key: <TaskRequest::idempotency_key>`
//! on every POST/PUT/PATCH/DELETE (a header of that name given by the task wins), and one
//! classification of failures:
//!
//! | what happened | [`TaskError`](crate::runtime::effects::TaskError) |
//! |---|---|
//! | 429, 408, 503 with `Retry-After` | retryable, not sent; `retry_after` from `Retry-After` (seconds or HTTP date) |
//! | other 5xx | retryable, maybe sent |
//! | other 4xx, 3xx not followed | final |
//! | cannot connect (refused, DNS, TLS handshake: reqwest's `is_connect`) | retryable, not sent |
//! | timed out (`TaskRequest::timeout`), connection reset or cut off | retryable, maybe sent |
//! | refused by the SSRF guard (address or redirect) | final, says to use `allow_hosts` |
//! | redirected to another origin, or https → http | final |
//! | answer larger than the cap (streamed: never held whole) | final |
//! | answer labelled JSON that does not parse | final ("malformed JSON") |
//! | JSON answer deeper or larger than [`ExecutorOptions::value_bounds`] | final |
//!
//! A 2xx body is JSON when labelled JSON, JSON when unlabelled and it parses, text
//! otherwise, null when empty. Error messages quote at most 200 characters of the answer,
//! redacted before the cut, and never the target's credentials, even if the service echoes
//! them.
//!
//! Redirects are followed only within the request's origin, at most
//! [`guard::MAX_REDIRECTS`], and carry no `Referer`. A path that leaves the base URL's host
//! or holds a `.`/`..` segment is refused (`client::join`); the values the runtime
//! interpolates into an `http` path arrive encoded by [`encode_interpolated`].
//! A target whose credentials would go over plain http:// off loopback is not built
//! (`transport.rs`). Every executor is wrapped in `limit::Limited`: at most the target's
//! `concurrency` tasks at once.
//!
//! `zendesk` and `salesforce` also share `rest.rs`: JSON requests under the API's base URL
//! and the unwrapping of enveloped answers. The request each of their built-in tasks sends
//! is named in the catalogue (`TaskSpec::endpoint`), and
//! `tests/it/executors.rs::every_zendesk_and_salesforce_task_calls_the_endpoint_the_catalogue_names`
//! holds them to it.
//!
//! *Not sent* and *maybe sent* are [`Delivery`](crate::runtime::effects::Delivery): whether
//! an unsafe task may be tried again.
//!
//! SMTP: a 5xx reply (a rejected recipient) is final with the server's text; a 4xx reply, a
//! refused connection or a failed TLS handshake retryable and not sent; a timeout or a lost
//! connection retryable and maybe sent; the host passes the same address guard. SQL:
//! constraint violations and SQL errors are final; a deadlock, a serialization failure, a
//! locked database, a statement stopped at the timeout, a busy pool or a refused connection
//! retryable and not sent; a connection lost midway retryable and maybe sent; more rows
//! than [`ExecutorOptions::max_rows`] final.
//!
//! Building an executor opens no connection and needs no running tokio runtime; a zero
//! `TaskRequest::timeout` means "no limit of the executor's own".

mod args;
mod client;
mod guard;
mod http;
mod limit;
mod oauth;
mod rest;
mod salesforce;
mod sms;
mod smtp;
mod sql;
mod transport;
mod zendesk;

pub use args::encode_interpolated;
pub use guard::is_forbidden_ip;

use crate::catalogue::Kind;
use crate::ir::{self, Value};
use crate::runtime::effects::{Executor, ExecutorTask, TaskRequest};
use indexmap::IndexMap;
use std::sync::Arc;

/// Limits and identity shared by every executor.
#[derive(Clone, Debug)]
pub struct ExecutorOptions {
    /// The largest response body read from a service (or a SQL query's rows, counted by
    /// their texts); a larger one fails the task.
    pub max_response_bytes: usize,
    /// The depth and memory a response body may take once parsed (JSON takes several times
    /// its size in memory).
    pub value_bounds: ir::ValueBounds,
    /// The most rows a SQL query may return; more fail the task.
    pub max_rows: usize,
    /// Sent as `User-Agent` on every HTTP request.
    pub user_agent: String,
    /// How long establishing a connection may take (the whole attempt is bounded by the
    /// task's own timeout).
    pub connect_timeout: std::time::Duration,
    /// The run's redactor: an error quoting a service's answer is redacted with it before
    /// the quote is cut (a cut through a secret would leave a part that no longer matches).
    /// Give the runtime's own ([`crate::runtime::Runtime::redactor`] shares it).
    pub redactor: crate::runtime::Redactor,
}

impl Default for ExecutorOptions {
    fn default() -> Self {
        ExecutorOptions {
            max_response_bytes: 10 * 1024 * 1024,
            value_bounds: crate::runtime::Limits::default().value,
            max_rows: 10_000,
            user_agent: concat!("agentc/", env!("CARGO_PKG_VERSION")).to_string(),
            connect_timeout: std::time::Duration::from_secs(10),
            redactor: Default::default(),
        }
    }
}

/// The factory a runtime builds its targets' executors with ([`build`] with the default
/// options), quoting services' errors redacted with `redactor`: give the runtime's own.
pub fn factory(redactor: &crate::runtime::Redactor) -> crate::runtime::ExecutorFactory {
    let options = ExecutorOptions {
        redactor: redactor.clone(),
        ..ExecutorOptions::default()
    };
    Arc::new(move |target, fields| build(target, fields, &options))
}

/// Builds the executor of one declared target. `fields` are the target's evaluated fields
/// (the runtime may have overridden some, e.g. with [`crate::runtime::mock::MockServices::redirect`]).
/// The error says which field is wrong and why; it never contains a field's value.
pub fn build(
    target: &ir::Target,
    fields: IndexMap<String, Value>,
    options: &ExecutorOptions,
) -> Result<Arc<dyn Executor>, String> {
    let fields = args::Fields::new(target, fields);
    catalogue_rules(&fields)?;
    let limit = concurrency(&fields)?;
    let executor: Arc<dyn Executor> = match target.kind {
        Kind::Http => Arc::new(http::HttpExecutor::new(&fields, options)?),
        Kind::Zendesk => Arc::new(zendesk::ZendeskExecutor::new(&fields, options)?),
        Kind::Salesforce => Arc::new(salesforce::SalesforceExecutor::new(&fields, options)?),
        Kind::Sms => Arc::new(sms::SmsExecutor::new(&fields, options)?),
        Kind::Smtp => Arc::new(smtp::SmtpExecutor::new(&fields)?),
        Kind::Sql => Arc::new(sql::SqlExecutor::new(&fields, options)?),
        // The built-in targets run in process: an IR file that declares one is refused here.
        other @ (Kind::Conversation | Kind::Call) => {
            return Err(format!(
                "target `{}`: kind `{other}` has no external executor",
                target.name
            ))
        }
    };
    Ok(Arc::new(limit::Limited::new(executor, limit)))
}

/// The catalogue's rules on fields (`FieldSpec::check`, `needs`, `excludes`), applied again
/// to the evaluated values: `env(..)` hides them from the checker.
fn catalogue_rules(fields: &args::Fields) -> Result<(), String> {
    let kind = fields.target.kind.spec();
    if let Some(problem) = kind
        .combination_problems(|name| fields.get(name).is_some())
        .first()
    {
        return Err(fields.error(problem));
    }
    for spec in kind.fields {
        if let (Some(check), Some(Value::Text(text))) = (spec.check, fields.get(spec.name)) {
            if let Some(problem) = check(text) {
                return Err(fields.error(format_args!("field `{}` {problem}", spec.name)));
            }
        }
    }
    Ok(())
}

/// The target's `concurrency`: a whole number from 1 to [`limit::MAX_CONCURRENCY`].
fn concurrency(fields: &args::Fields) -> Result<usize, String> {
    match fields.number("concurrency")? {
        None => Ok(limit::DEFAULT_CONCURRENCY),
        Some(n) if n.fract() == 0.0 && (1.0..=limit::MAX_CONCURRENCY as f64).contains(&n) => {
            Ok(n as usize)
        }
        Some(_) => Err(fields.error(format_args!(
            "field `concurrency` must be a whole number from 1 to {}",
            limit::MAX_CONCURRENCY
        ))),
    }
}

/// The error for a task the executor does not run: another kind's (an IR file edited by
/// hand; the checker and the plan normally stop it), or a `request` without its method.
fn unknown_task(request: &TaskRequest, kind: &str) -> crate::runtime::effects::TaskError {
    let target = &request.target;
    crate::runtime::effects::TaskError::fatal(match request.task {
        ExecutorTask::Builtin(task) => format!(
            "target `{target}` ({kind}) cannot run `{}`, a task of {} targets",
            task.name(),
            task.kind()
        ),
        ExecutorTask::Request => format!("target `{target}` ({kind}) has no task `request`"),
    })
}

/// describe() for a request that cannot be built: the task and why, so a dry run still
/// shows the action.
fn describe_invalid(request: &TaskRequest, error: &crate::runtime::effects::TaskError) -> String {
    format!("{} (invalid: {})", request.task, error.message)
}
