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

pub use args::{encode_interpolated, FieldError};
pub use client::ClientError;
pub use guard::is_forbidden_ip;
pub use oauth::OauthError;
pub use salesforce::SalesforceError;
pub use smtp::SmtpError;
pub use sql::SqlError;
pub use transport::CleartextError;
pub use zendesk::ZendeskError;

use crate::catalogue::{Combination, Kind};
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

/// Why a target's executor cannot be built: which target, and what is wrong with it.
#[derive(Debug)]
pub struct BuildError {
    pub target: String,
    pub problem: Problem,
}

/// What is wrong with a target's fields, by the module that found it. Never holds a
/// field's value.
#[derive(Debug)]
pub enum Problem {
    Field(FieldError),
    Client(ClientError),
    Cleartext(CleartextError),
    /// The catalogue's `needs` or `excludes`.
    Combination(Combination),
    /// The catalogue's check of a field's text (`FieldSpec::check`).
    Check {
        field: &'static str,
        problem: String,
    },
    Concurrency,
    Smtp(SmtpError),
    Zendesk(ZendeskError),
    Salesforce(SalesforceError),
    Oauth(OauthError),
    Sql(SqlError),
    /// A built-in kind, run in process (an IR file that declares one).
    NoExecutor(Kind),
}

impl std::error::Error for BuildError {}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "target `{}`: {}", self.target, self.problem)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Field(error) => write!(f, "{error}"),
            Problem::Client(error) => write!(f, "{error}"),
            Problem::Cleartext(error) => write!(f, "{error}"),
            Problem::Combination(problem) => write!(f, "{problem}"),
            Problem::Check { field, problem } => write!(f, "field `{field}` {problem}"),
            Problem::Concurrency => write!(
                f,
                "field `concurrency` must be a whole number from 1 to {}",
                limit::MAX_CONCURRENCY
            ),
            Problem::Smtp(error) => write!(f, "{error}"),
            Problem::Zendesk(error) => write!(f, "{error}"),
            Problem::Salesforce(error) => write!(f, "{error}"),
            Problem::Oauth(error) => write!(f, "{error}"),
            Problem::Sql(error) => write!(f, "{error}"),
            Problem::NoExecutor(kind) => write!(f, "kind `{kind}` has no external executor"),
        }
    }
}

macro_rules! problem_from {
    ($($variant:ident($error:ty)),* $(,)?) => {$(
        impl From<$error> for Problem {
            fn from(error: $error) -> Problem {
                Problem::$variant(error)
            }
        }
    )*};
}

problem_from!(
    Field(FieldError),
    Client(ClientError),
    Cleartext(CleartextError),
    Smtp(SmtpError),
    Zendesk(ZendeskError),
    Salesforce(SalesforceError),
    Oauth(OauthError),
    Sql(SqlError),
);

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
) -> Result<Arc<dyn Executor>, BuildError> {
    let fields = args::Fields::new(target, fields);
    executor(&fields, options).map_err(|problem| BuildError {
        target: target.name.clone(),
        problem,
    })
}

fn executor(
    fields: &args::Fields,
    options: &ExecutorOptions,
) -> Result<Arc<dyn Executor>, Problem> {
    catalogue_rules(fields)?;
    let limit = concurrency(fields)?;
    let executor: Arc<dyn Executor> = match fields.target.kind {
        Kind::Http => Arc::new(http::HttpExecutor::new(fields, options)?),
        Kind::Zendesk => Arc::new(zendesk::ZendeskExecutor::new(fields, options)?),
        Kind::Salesforce => Arc::new(salesforce::SalesforceExecutor::new(fields, options)?),
        Kind::Sms => Arc::new(sms::SmsExecutor::new(fields, options)?),
        Kind::Smtp => Arc::new(smtp::SmtpExecutor::new(fields)?),
        Kind::Sql => Arc::new(sql::SqlExecutor::new(fields, options)?),
        // The built-in targets run in process: an IR file that declares one is refused here.
        other @ (Kind::Conversation | Kind::Call) => return Err(Problem::NoExecutor(other)),
    };
    Ok(Arc::new(limit::Limited::new(executor, limit)))
}

/// The catalogue's rules on fields (`FieldSpec::check`, `needs`, `excludes`), applied again
/// to the evaluated values: `env(..)` hides them from the checker.
fn catalogue_rules(fields: &args::Fields) -> Result<(), Problem> {
    let kind = fields.target.kind.spec();
    if let Some(problem) = kind
        .combination_problems(|name| fields.get(name).is_some())
        .into_iter()
        .next()
    {
        return Err(Problem::Combination(problem));
    }
    for spec in kind.fields {
        if let (Some(check), Some(Value::Text(text))) = (spec.check, fields.get(spec.name)) {
            if let Some(problem) = check(text) {
                return Err(Problem::Check {
                    field: spec.name,
                    problem,
                });
            }
        }
    }
    Ok(())
}

/// The target's `concurrency`: a whole number from 1 to [`limit::MAX_CONCURRENCY`].
fn concurrency(fields: &args::Fields) -> Result<usize, Problem> {
    match fields.number("concurrency")? {
        None => Ok(limit::DEFAULT_CONCURRENCY),
        Some(n) if n.fract() == 0.0 && (1.0..=limit::MAX_CONCURRENCY as f64).contains(&n) => {
            Ok(n as usize)
        }
        Some(_) => Err(Problem::Concurrency),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What is wrong with a target `t` of `kind` with these evaluated fields.
    fn problem(kind: Kind, fields: serde_json::Value) -> Problem {
        let target = ir::Target {
            name: "t".into(),
            kind,
            fields: Default::default(),
            timeout_ms: None,
            retry: None,
        };
        let Value::Record(fields) = Value::from_json(&fields) else {
            panic!("fields are a record");
        };
        match build(&target, fields, &ExecutorOptions::default()) {
            Ok(_) => panic!("{kind} was built"),
            Err(error) => {
                assert_eq!(error.target, "t");
                error.problem
            }
        }
    }

    #[test]
    fn a_field_of_the_wrong_type_is_a_field_error() {
        let error = problem(Kind::Http, serde_json::json!({"base_url": 5}));
        assert!(
            matches!(
                error,
                Problem::Field(FieldError::WrongType {
                    field: "base_url",
                    expected: "text",
                    found: "number"
                })
            ),
            "{error:?}"
        );
    }

    #[test]
    fn the_build_error_names_the_target_and_what_is_wrong() {
        let error = problem(Kind::Http, serde_json::json!({"concurrency": 0}));
        assert!(matches!(error, Problem::Concurrency), "{error:?}");
        let error = problem(Kind::Conversation, serde_json::json!({}));
        assert!(
            matches!(error, Problem::NoExecutor(Kind::Conversation)),
            "{error:?}"
        );
    }

    #[test]
    fn a_bad_base_url_is_a_client_error() {
        let error = problem(Kind::Http, serde_json::json!({"base_url": "ftp://x"}));
        assert!(
            matches!(error, Problem::Client(ClientError::NotHttp("base_url"))),
            "{error:?}"
        );
    }

    #[test]
    fn credentials_in_clear_are_a_cleartext_error() {
        let fields = serde_json::json!({
            "base_url": "http://10.1.2.3/",
            "auth": {"scheme": "bearer", "token": "s3cret"},
        });
        let error = problem(Kind::Http, fields);
        assert!(
            matches!(&error, Problem::Cleartext(CleartextError { host }) if host == "10.1.2.3"),
            "{error:?}"
        );
    }

    #[test]
    fn a_port_out_of_range_is_an_smtp_error() {
        let fields = serde_json::json!({"host": "h", "from": "a@b.example", "port": 70000});
        let error = problem(Kind::Smtp, fields);
        assert!(matches!(error, Problem::Smtp(SmtpError::Port)), "{error:?}");
    }

    #[test]
    fn zendesk_without_an_address_is_a_zendesk_error() {
        let fields = serde_json::json!({"email": "a@b.example", "token": "s3cret"});
        let error = problem(Kind::Zendesk, fields);
        assert!(
            matches!(error, Problem::Zendesk(ZendeskError::NoRoot)),
            "{error:?}"
        );
    }

    #[test]
    fn a_malformed_api_version_is_a_salesforce_error() {
        let fields = serde_json::json!({
            "instance_url": "https://acme.example", "token": "s3cret", "api_version": "latest",
        });
        let error = problem(Kind::Salesforce, fields);
        assert!(
            matches!(error, Problem::Salesforce(SalesforceError::ApiVersion)),
            "{error:?}"
        );
    }

    #[test]
    fn salesforce_without_a_credential_is_an_oauth_error() {
        let fields = serde_json::json!({"instance_url": "https://acme.example"});
        let error = problem(Kind::Salesforce, fields);
        assert!(
            matches!(error, Problem::Oauth(OauthError::NoCredential)),
            "{error:?}"
        );
    }

    #[test]
    fn a_bad_database_url_is_an_sql_error() {
        let error = problem(Kind::Sql, serde_json::json!({"url": "mysql://h/db"}));
        assert!(matches!(error, Problem::Sql(SqlError::Scheme)), "{error:?}");
        let error = problem(
            Kind::Sql,
            serde_json::json!({"url": "postgres://h:port/db"}),
        );
        assert!(
            matches!(error, Problem::Sql(SqlError::Postgres(_))),
            "{error:?}"
        );
    }
}
