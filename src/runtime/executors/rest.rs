//! What the service-specific executors (`zendesk`, `salesforce`) share: a JSON REST API
//! under one base URL, reached through the guarded client, answering JSON that is often
//! wrapped in an envelope (`{"ticket": {...}}`, `{"records": [...]}`), and their
//! declared tasks.

use super::client::{self, Body, GuardedClient, Outgoing};
use crate::ir::Value;
use crate::runtime::effects::{TaskError, TaskRequest};
use reqwest::header::HeaderMap;
use reqwest::Method;

pub struct JsonApi {
    client: GuardedClient,
    /// `https://acme.zendesk.com/api/v2`; every path is joined under it.
    base: url::Url,
}

impl JsonApi {
    pub fn new(client: GuardedClient, base: url::Url) -> Self {
        JsonApi { client, base }
    }

    /// One request of `request`'s task: `body` sent as JSON, the task's idempotency key on
    /// every method but GET.
    pub fn request(
        &self,
        request: &TaskRequest,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<Outgoing, TaskError> {
        let url = client::join(&self.base, path).map_err(TaskError::fatal)?;
        let side_effect = method != Method::GET;
        Ok(Outgoing {
            method,
            url,
            headers: HeaderMap::new(),
            body: body.map_or(Body::None, Body::Json),
            idempotency_key: side_effect.then(|| request.idempotency_key.clone()),
            timeout: request.timeout,
        })
    }

    /// A declared task's request (`request { method, path, query?, body?, headers? }`),
    /// built as an `http` target builds it, under this API's base URL.
    pub fn declared(&self, request: &TaskRequest, kind: &str) -> Result<Outgoing, TaskError> {
        let method = super::http::declared_method(request, kind)?;
        super::http::outgoing(&self.base, &HeaderMap::new(), method, request)
    }

    /// Sends one request; the answer's body.
    pub async fn send(&self, out: Outgoing) -> Result<Value, TaskError> {
        Ok(self.client.send(out).await?.body)
    }

    /// Sends one request; the whole answer `{ status, headers, body }`, as a declared
    /// task's `result` reads it on every kind.
    pub async fn send_whole(&self, out: Outgoing) -> Result<Value, TaskError> {
        Ok(self.client.send(out).await?.into_value())
    }
}

/// The value under `key` of an enveloped answer; the whole answer when it has no such key
/// (a service that answers without its envelope still gives its caller something).
pub fn unwrap_envelope(body: Value, key: &str) -> Value {
    match body {
        Value::Record(mut map) if map.contains_key(key) => {
            map.shift_remove(key).unwrap_or_default()
        }
        body => body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unwraps_only_a_present_envelope() {
        let answer = Value::from_json(&json!({"ticket": {"id": 7}, "audit": {}}));
        assert_eq!(
            unwrap_envelope(answer.clone(), "ticket").to_json(),
            json!({"id": 7})
        );
        assert_eq!(unwrap_envelope(answer.clone(), "user"), answer);
        assert_eq!(
            unwrap_envelope(Value::from_json(&json!([1])), "ticket").to_json(),
            json!([1])
        );
        assert_eq!(unwrap_envelope(Value::Null, "ticket"), Value::Null);
    }
}
