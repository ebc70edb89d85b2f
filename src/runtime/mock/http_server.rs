//! The HTTP side of the mocks: one axum server, every target under its own path prefix.

use super::{RecordedRequest, Shared};
use crate::ir::Value;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use indexmap::IndexMap;
use std::net::SocketAddr;

pub async fn start(shared: Shared) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new()
        .fallback(answer)
        .layer(DefaultBodyLimit::max(16 * 1024 * 1024))
        .with_state(shared);
    let task = tokio::spawn(async move {
        // The server only stops when the task is aborted; an accept error ends it quietly.
        let _ = axum::serve(listener, app).await;
    });
    Ok((addr, task))
}

async fn answer(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (target, path) = split_target(uri.path());
    let query: IndexMap<String, Value> = query_record(uri.query().unwrap_or(""));
    let mut book = shared.lock();
    let rule = book.answer(&target, method.as_str(), &path, &query);
    let (status, response) = match &rule {
        Some(rule) => (rule.status, respond(rule.status, &rule.body)),
        None => {
            let message = format!(
                "no mock answers {method} {path} on target `{target}`: add \
                 `mock {target} {method} \"{path}\" -> 200 {{ ... }}`"
            );
            let body = serde_json::json!({ "error": message });
            (
                404,
                (StatusCode::NOT_FOUND, axum::Json(body)).into_response(),
            )
        }
    };
    book.requests.push(RecordedRequest {
        target,
        method: method.to_string(),
        path,
        query,
        headers: header_record(&headers),
        body: body_value(&headers, &body),
        mocked: rule.is_some(),
        status,
    });
    response
}

/// `/orders/customers/1` → (`orders`, `/customers/1`).
fn split_target(path: &str) -> (String, String) {
    let rest = path.trim_start_matches('/');
    match rest.split_once('/') {
        Some((target, tail)) => (target.to_string(), format!("/{tail}")),
        None => (rest.to_string(), "/".to_string()),
    }
}

fn respond(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match body {
        Value::Null => status.into_response(),
        Value::Text(text) => (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            text.clone(),
        )
            .into_response(),
        other => (status, axum::Json(other.to_json())).into_response(),
    }
}

/// Repeated keys become a list.
fn query_record(query: &str) -> IndexMap<String, Value> {
    let mut record: IndexMap<String, Value> = IndexMap::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let value = Value::Text(value.into_owned());
        match record.get_mut(key.as_ref()) {
            Some(Value::List(items)) => items.push(value),
            Some(existing) => *existing = Value::List(vec![existing.clone(), value]),
            None => {
                record.insert(key.into_owned(), value);
            }
        }
    }
    record
}

/// Header names lower-cased; the credentials of `authorization` are never kept.
fn header_record(headers: &HeaderMap) -> IndexMap<String, String> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            let value = if name == header::AUTHORIZATION {
                let scheme = value.split_whitespace().next().unwrap_or("");
                format!("{scheme} [redacted]")
            } else {
                value
            };
            (name.as_str().to_string(), value)
        })
        .collect()
}

fn body_value(headers: &HeaderMap, body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return Value::Record(query_record(&String::from_utf8_lossy(body)));
    }
    serde_json::from_slice::<serde_json::Value>(body)
        .map(|json| Value::from_json(&json))
        .unwrap_or_else(|_| Value::Text(String::from_utf8_lossy(body).into_owned()))
}
