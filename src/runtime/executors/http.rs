//! `http` targets: `get post put patch delete (path, query?, body?, headers?)` and the
//! generic `request { method, path, query?, body?, headers? }` of declared tasks, whose
//! request building (`outgoing`) the `zendesk` and `salesforce` executors share.

use super::args::{self, Fields};
use super::client::{self, Auth, Body, GuardedClient, Outgoing};
use super::{ExecutorOptions, Problem};
use crate::catalogue::tasks::Http;
use crate::catalogue::BuiltinTask;
use crate::ir::Value;
use crate::runtime::effects::{Executor, ExecutorTask, TaskError, TaskRequest};
use futures::future::BoxFuture;
use reqwest::header::HeaderMap;
use reqwest::Method;

pub struct HttpExecutor {
    client: GuardedClient,
    base: url::Url,
    headers: HeaderMap,
}

impl HttpExecutor {
    pub fn new(fields: &Fields, options: &ExecutorOptions) -> Result<Self, Problem> {
        let base = client::parse_base(&fields.required_text("base_url")?, "base_url")?;
        let auth = Auth::from_value(fields.get("auth"))?;
        let headers = client::header_map(fields.record("headers")?)?;
        let client = GuardedClient::new(options, fields, &base, auth)?;
        Ok(HttpExecutor {
            client,
            base,
            headers,
        })
    }

    fn outgoing(&self, request: &TaskRequest) -> Result<Outgoing, TaskError> {
        outgoing(&self.base, &self.headers, method_of(request)?, request)
    }
}

/// The request of an http task, or of a declared task on any HTTP-based kind: `path` joined
/// under `base` (refused when it leaves it), `query` pairs, `headers` over the target's,
/// `body` as JSON, the idempotency key on every method but GET, HEAD and OPTIONS.
pub fn outgoing(
    base: &url::Url,
    target_headers: &HeaderMap,
    method: Method,
    request: &TaskRequest,
) -> Result<Outgoing, TaskError> {
    let path = args::required_text(request, "path")?;
    let mut url = client::join(base, &path).map_err(TaskError::fatal)?;
    if let Some(query) = args::record_arg(request, "query")? {
        let mut pairs = url.query_pairs_mut();
        for (key, value) in query {
            // `{ tag: ["a", "b"] }` → `tag=a&tag=b`; null leaves the key out.
            let items = match value {
                Value::List(items) => items.as_slice(),
                single => std::slice::from_ref(single),
            };
            for item in items.iter().filter(|v| !matches!(v, Value::Null)) {
                let text = args::scalar_text(item).ok_or_else(|| {
                    TaskError::fatal(format!(
                        "task `{}`: query value `{key}` must be text, a number or a bool, \
                         not {}",
                        request.task,
                        item.type_name()
                    ))
                })?;
                pairs.append_pair(key, &text);
            }
        }
    }
    let mut headers = target_headers.clone();
    let extra = client::header_map(args::record_arg(request, "headers")?)
        .map_err(|e| TaskError::fatal(format!("task `{}`: {e}", request.task)))?;
    headers.extend(extra);
    let body = match args::arg(request, "body") {
        None => Body::None,
        Some(value) => Body::Json(value.to_json()),
    };
    let side_effect = crate::catalogue::method_has_side_effect(method.as_str());
    Ok(Outgoing {
        method,
        url,
        headers,
        body,
        idempotency_key: side_effect.then(|| request.idempotency_key.clone()),
        timeout: request.timeout,
    })
}

/// The catalogue tasks name their method; `request` and declared tasks carry it.
fn method_of(request: &TaskRequest) -> Result<Method, TaskError> {
    let task = match request.task {
        ExecutorTask::Builtin(BuiltinTask::Http(task)) => task,
        ExecutorTask::Request => return declared_method(request, "http"),
        ExecutorTask::Builtin(_) => return Err(super::unknown_task(request, "http")),
    };
    Ok(match task {
        Http::Get => Method::GET,
        Http::Post => Method::POST,
        Http::Put => Method::PUT,
        Http::Patch => Method::PATCH,
        Http::Delete => Method::DELETE,
    })
}

/// The `method` a declared task's request carries (`request { method, path, ... }`).
pub fn declared_method(request: &TaskRequest, kind: &str) -> Result<Method, TaskError> {
    match args::text_arg(request, "method")? {
        Some(word) => match word.to_ascii_uppercase().as_str() {
            "GET" => Ok(Method::GET),
            "POST" => Ok(Method::POST),
            "PUT" => Ok(Method::PUT),
            "PATCH" => Ok(Method::PATCH),
            "DELETE" => Ok(Method::DELETE),
            _ => Err(TaskError::fatal(format!(
                "task `{}`: `{word}` is not one of GET, POST, PUT, PATCH, DELETE",
                request.task
            ))),
        },
        None => Err(super::unknown_task(request, kind)),
    }
}

impl Executor for HttpExecutor {
    fn execute<'a>(&'a self, request: &'a TaskRequest) -> BoxFuture<'a, Result<Value, TaskError>> {
        Box::pin(async move {
            let out = self.outgoing(request)?;
            Ok(self.client.send(out).await?.into_value())
        })
    }

    fn describe(&self, request: &TaskRequest) -> String {
        self.outgoing(request).map_or_else(
            |e| super::describe_invalid(request, &e),
            |out| out.describe(),
        )
    }

    fn preview(&self, request: &TaskRequest) -> String {
        self.outgoing(request).map_or_else(
            |e| super::describe_invalid(request, &e),
            |out| out.preview(),
        )
    }
}
