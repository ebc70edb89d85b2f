//! The HTTP API (docs/serve.md; the OpenAPI document is `openapi.json` beside this file).
//! Every `/v1` request, and every call of the Rasa action-server protocol (docs/rasa.md),
//! passes [`guard`]: not stopping, under the concurrency limit, its body read within the
//! size and time limits, and authorised.

use super::auth::{self, Auth};
use super::errors::{ApiError, ErrorCode};
use super::hub::{Admission, Hub};
use super::inbound;
use super::metrics::Metrics;
use super::rasa;
use super::store::Store;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use serde_json::{json, Value as JsonValue};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};

/// The OpenAPI document, written by hand.
pub const OPENAPI: &str = include_str!("openapi.json");

/// How often a follower, or a request for an answer still being made, looks at the store.
const POLL: Duration = Duration::from_millis(50);
/// Trace records per page (`GET …/trace`) and per look of a follower.
const PAGE: u32 = 500;

pub struct App {
    pub hub: Arc<Hub>,
    pub store: Arc<dyn Store>,
    pub auth: Auth,
    pub deadline: Duration,
    pub max_body: usize,
    pub body_timeout: Duration,
    pub permits: Arc<Semaphore>,
    pub stopping: AtomicBool,
    /// Becomes `true` when the server stops: followers end their streams.
    pub stop: watch::Receiver<bool>,
    pub metrics: Arc<Metrics>,
}

/// Every route, as OpenAPI writes its path (`{id}`); [`router`] serves exactly these, and
/// a test holds them to `openapi.json`.
pub const ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/events"),
    ("get", "/v1/conversations/{id}"),
    ("get", "/v1/conversations/{id}/trace"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/openapi.json"),
    ("get", "/metrics"),
    ("post", "/webhook"),
    ("get", "/actions"),
    ("get", "/health"),
];

/// Rasa's routes: its `action_endpoint` may carry the token as the query parameter `token`,
/// and a webhook body (the whole tracker) may be as large as [`rasa::Limits`] says.
fn is_rasa(path: &str) -> bool {
    matches!(path, "/webhook" | "/actions")
}

/// The routes [`guard`] admits: all but the probes, the metrics and the document.
fn is_guarded(path: &str) -> bool {
    path.starts_with("/v1/") || is_rasa(path)
}

/// A route's handler; `/v1` routes pass [`guard`] first.
fn handler(path: &str) -> MethodRouter<Arc<App>> {
    match path {
        "/v1/events" => post(post_event),
        "/v1/conversations/{id}" => get(get_conversation),
        "/v1/conversations/{id}/trace" => get(get_trace),
        "/healthz" => get(healthz),
        "/readyz" => get(readyz),
        "/openapi.json" => get(openapi),
        "/metrics" => get(metrics),
        "/webhook" => post(post_webhook),
        "/actions" => get(get_actions),
        "/health" => get(|| async { rasa_response(rasa::health()) }),
        _ => unreachable!("`{path}` is in ROUTES without a handler"),
    }
}

pub fn router(app: Arc<App>) -> Router {
    let mut open = Router::new();
    let mut guarded = Router::new();
    for (_, path) in ROUTES {
        // axum 0.7 writes a path parameter `:id`.
        let axum_path = path.replace("{id}", ":id");
        if is_guarded(path) {
            guarded = guarded.route(&axum_path, handler(path));
        } else {
            open = open.route(&axum_path, handler(path));
        }
    }
    let guarded = guarded.route_layer(middleware::from_fn_with_state(app.clone(), guard));
    open.merge(guarded)
        .route_layer(middleware::from_fn_with_state(app.clone(), count))
        .fallback(not_found)
        .with_state(app)
}

/// Counts every routed request by its route's pattern and its status.
async fn count(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || "unmatched".to_string(),
        |p| p.as_str().replace(":id", "{id}"),
    );
    let response = next.run(request).await;
    app.metrics.request(&route, response.status().as_u16());
    response
}

async fn guard(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    match admit(&app, request).await {
        Ok((request, permit)) => {
            let response = next.run(request).await;
            drop(permit);
            response
        }
        Err(error) => error.into_response(),
    }
}

async fn admit(
    app: &App,
    request: Request,
) -> Result<(Request, tokio::sync::OwnedSemaphorePermit), ApiError> {
    if app.stopping.load(Ordering::SeqCst) {
        return Err(ApiError::new(
            ErrorCode::ShuttingDown,
            "the server is stopping",
        ));
    }
    let permit = app.permits.clone().try_acquire_owned().map_err(|_| {
        ApiError::new(
            ErrorCode::Overloaded,
            "too many requests at once; retry after the `Retry-After` seconds",
        )
    })?;
    let (parts, body) = request.into_parts();
    let rasa = is_rasa(parts.uri.path());
    let limit = match rasa {
        true => rasa::Limits::default().body_bytes,
        false => app.max_body,
    };
    let too_large = || {
        ApiError::new(
            ErrorCode::BodyTooLarge,
            format!("the body is longer than {limit} bytes"),
        )
    };
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    let bytes =
        match tokio::time::timeout(app.body_timeout, axum::body::to_bytes(body, limit)).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(e)) if format!("{e:?}").contains("LengthLimit") => return Err(too_large()),
            Ok(Err(_)) => {
                return Err(ApiError::new(
                    ErrorCode::MalformedJson,
                    "the body could not be read",
                ))
            }
            Err(_) => {
                return Err(ApiError::new(
                    ErrorCode::BodyTimeout,
                    format!(
                        "the body did not arrive within {}",
                        crate::runtime::show_duration(app.body_timeout)
                    ),
                ))
            }
        };
    let now = jiff::Timestamp::now().as_second();
    let route_token = match rasa {
        true => Query::<QueryToken>::try_from_uri(&parts.uri)
            .ok()
            .and_then(|q| q.0.token)
            .or_else(|| auth::basic_password(&parts.headers)),
        false => None,
    };
    app.auth
        .check(&parts.headers, route_token.as_deref(), &bytes, now)?;
    Ok((Request::from_parts(parts, Body::from(bytes)), permit))
}

/// `?token=`: how Rasa's `action_endpoint` sends its `token`.
#[derive(serde::Deserialize)]
struct QueryToken {
    token: Option<String>,
}

async fn post_event(State(app): State<Arc<App>>, body: Bytes) -> Result<Response, ApiError> {
    let inbound = inbound::parse(&body)?;
    app.hub
        .with_program(|program| inbound::check_params(program, &inbound.event))?;
    Ok(match handle(&app, inbound).await? {
        Handled::Answered(_, answer) => Json(answer).into_response(),
        Handled::Running {
            conversation,
            running,
        } => still_running(&conversation, running),
    })
}

/// `POST /webhook`: a Rasa call, run as an event of its conversation (journaled, and
/// answered from the journal when the same body comes again), answered in Rasa's shapes.
async fn post_webhook(
    State(app): State<Arc<App>>,
    headers: header::HeaderMap,
    body: Bytes,
) -> Response {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok());
    let limits = rasa::Limits::default();
    let read = app
        .hub
        .with_program(|program| rasa::webhook(&body, encoding, &limits, program));
    let call = match read {
        Ok(call) => call,
        Err(answer) => return rasa_response(answer),
    };
    let event = call.event();
    let inbound = inbound::Inbound {
        delivery: Some(rasa::delivery(&body)),
        body: rasa::line(&event),
        event,
    };
    let outcome = match handle(&app, inbound).await {
        Ok(Handled::Answered(_, answer)) => rasa::Outcome::Ran(rasa::Ran::from_answer(&answer)),
        Ok(Handled::Running { .. }) => rasa::Outcome::Unfinished(format!(
            "the action is still running after {}; it goes on, and the same call sent \
             again gets its answer once it is there",
            crate::runtime::show_duration(app.deadline)
        )),
        Err(error)
            if matches!(
                error.code,
                ErrorCode::ConversationEnded | ErrorCode::RefusedEvent
            ) =>
        {
            rasa::Outcome::Refused(error.message)
        }
        Err(error) => return error.into_response(),
    };
    rasa_response(call.answer(&outcome))
}

async fn get_actions(State(app): State<Arc<App>>) -> Response {
    rasa_response(app.hub.with_program(rasa::actions))
}

fn rasa_response(answer: rasa::Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(answer.body)).into_response()
}

/// What became of an event.
enum Handled {
    /// Its answer: `done`, or `duplicate` (the first answer of a delivery seen before).
    Answered(&'static str, JsonValue),
    /// Past the deadline: it goes on, and these attempts still run.
    Running {
        conversation: String,
        running: Vec<JsonValue>,
    },
}

/// Journals and runs an event (or finds its delivery seen before), counted in the metrics.
async fn handle(app: &App, inbound: inbound::Inbound) -> Result<Handled, ApiError> {
    let arrived = tokio::time::Instant::now();
    let _in_flight = app.metrics.running();
    let handled = run_event(app, inbound).await;
    if let Ok(handled) = &handled {
        let outcome = match handled {
            Handled::Answered(outcome, _) => outcome,
            Handled::Running { .. } => "running",
        };
        app.metrics.event(outcome);
        app.metrics.event_latency.observe(arrived.elapsed());
    }
    handled
}

/// What an action-status counter learns from an answer.
fn count_actions(metrics: &Metrics, answer: &JsonValue) {
    for action in answer["actions"].as_array().into_iter().flatten() {
        let status = action["status"].as_str().unwrap_or("failed");
        metrics.action(status, action["attempts"].as_u64().unwrap_or(0));
    }
}

async fn run_event(app: &App, inbound: inbound::Inbound) -> Result<Handled, ApiError> {
    match app.hub.submit(inbound).await? {
        Admission::Running(admitted, answer) => {
            match tokio::time::timeout(app.deadline, answer).await {
                Ok(Ok(answer)) => {
                    count_actions(&app.metrics, &answer);
                    Ok(Handled::Answered("done", answer))
                }
                Ok(Err(_)) => Err(ApiError::new(
                    ErrorCode::ShuttingDown,
                    "the event was journaled; the server stopped before it finished, and \
                     finishes it when it starts again",
                )),
                Err(_) => {
                    let running = app
                        .hub
                        .journal()
                        .running_in(&admitted.instance)
                        .into_iter()
                        .map(|(key, r)| json!({"target": r.target, "task": r.task, "key": key}))
                        .collect();
                    Ok(Handled::Running {
                        conversation: admitted.conversation,
                        running,
                    })
                }
            }
        }
        Admission::Duplicate {
            conversation,
            n,
            answer,
        } => {
            let answer = match answer {
                Some(answer) => Some(answer),
                None => wait_for_answer(app, &conversation, n).await?,
            };
            Ok(match answer {
                Some(answer) => Handled::Answered("duplicate", answer),
                None => Handled::Running {
                    conversation,
                    running: Vec::new(),
                },
            })
        }
    }
}

/// The answer past the deadline: accepted, and what still runs.
fn still_running(conversation: &str, running: Vec<JsonValue>) -> Response {
    let body = json!({ "conversation": conversation, "done": false, "running": running });
    (StatusCode::ACCEPTED, Json(body)).into_response()
}

/// An event seen before whose answer is still being made: waits for it until the deadline.
async fn wait_for_answer(
    app: &App,
    conversation: &str,
    n: u64,
) -> Result<Option<JsonValue>, ApiError> {
    let until = tokio::time::Instant::now() + app.deadline;
    loop {
        let answer = app
            .store
            .answer(conversation, n)
            .await
            .map_err(|e| ApiError::new(ErrorCode::StoreUnavailable, e.to_string()))?;
        if answer.is_some() || tokio::time::Instant::now() >= until {
            return Ok(answer);
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn get_conversation(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let stored = stored_conversation(&app, &id).await?;
    let state = &stored.state;
    let params = state
        .get("params")
        .and_then(JsonValue::as_object)
        .map(|params| {
            params
                .iter()
                .map(|(k, v)| {
                    let value = serde_json::from_value::<crate::ir::Value>(v.clone())
                        .map(|v| v.to_json())
                        .unwrap_or(JsonValue::Null);
                    (k.clone(), value)
                })
                .collect::<serde_json::Map<_, _>>()
        })
        .unwrap_or_default();
    Ok(Json(json!({
        "conversation": id,
        "params": params,
        "labels": state.get("labels").cloned().unwrap_or(json!([])),
        "status": state.get("status").cloned().unwrap_or(json!("active")),
        "seq": state.get("seq").cloned().unwrap_or(json!(0)),
        "ended": stored.retired,
    }))
    .into_response())
}

/// What the store holds of the conversation `id`, which a URL names (hostile input): an
/// id no event could have made names no conversation, and is not sent to the store.
async fn stored_conversation(
    app: &App,
    id: &str,
) -> Result<super::store::StoredConversation, ApiError> {
    if !super::inbound::usable_id(id) {
        return Err(unknown_conversation(id));
    }
    app.store
        .conversation(id)
        .await
        .map_err(|e| ApiError::new(ErrorCode::StoreUnavailable, e.to_string()))?
        .ok_or_else(|| unknown_conversation(id))
}

fn unknown_conversation(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::UnknownConversation,
        format!(
            "no conversation has the id `{}`",
            crate::printable::escape(id)
        ),
    )
}

#[derive(serde::Deserialize)]
struct TraceQuery {
    #[serde(default)]
    after: i64,
    #[serde(default)]
    follow: bool,
}

async fn get_trace(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<TraceQuery>,
) -> Result<Response, ApiError> {
    let store_error =
        |e: super::store::StoreError| ApiError::new(ErrorCode::StoreUnavailable, e.to_string());
    stored_conversation(&app, &id).await?;
    if !query.follow {
        let rows = app
            .store
            .trace(&id, query.after, PAGE)
            .await
            .map_err(store_error)?;
        let next = rows.last().map_or(query.after, |(position, _)| *position);
        let records: Vec<_> = rows.into_iter().map(|(_, record)| record).collect();
        return Ok(Json(json!({ "records": records, "next": next })).into_response());
    }
    let state = (app.clone(), id, query.after, false);
    let stream = futures::stream::unfold(state, |(app, id, after, done)| async move {
        follow_step(app, id, after, done).await
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

type FollowState = (Arc<App>, String, i64, bool);

/// The next batch of records as server-sent events (each `id:` its position), once there
/// are any; the stream ends after the conversation's `end` record, or when the server stops.
async fn follow_step(
    app: Arc<App>,
    id: String,
    mut after: i64,
    done: bool,
) -> Option<(Result<SseEvent, std::convert::Infallible>, FollowState)> {
    if done {
        return None;
    }
    let mut stop = app.stop.clone();
    loop {
        if *stop.borrow() {
            return None;
        }
        let rows = app.store.trace(&id, after, PAGE).await.ok()?;
        if let Some((position, record)) = rows.into_iter().next() {
            after = position;
            let ended = record.get("type").and_then(JsonValue::as_str) == Some("end");
            let event = SseEvent::default()
                .id(position.to_string())
                .event("record")
                .data(record.to_string());
            return Some((Ok(event), (app, id, after, ended)));
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => {}
        }
    }
}

async fn healthz() -> Json<JsonValue> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    if app.stopping.load(Ordering::SeqCst) {
        return ApiError::new(ErrorCode::ShuttingDown, "the server is stopping").into_response();
    }
    match app.store.ping().await {
        Ok(()) => Json(json!({ "status": "ready" })).into_response(),
        Err(e) => ApiError::new(
            ErrorCode::NotReady,
            format!("the store does not answer: {e}"),
        )
        .into_response(),
    }
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let text = app.metrics.render(app.hub.workers());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn not_found(State(app): State<Arc<App>>, request: Request) -> ApiError {
    app.metrics.request("unmatched", 404);
    ApiError::new(
        ErrorCode::NotFound,
        format!(
            "no route `{} {}`; see /openapi.json",
            request.method(),
            crate::printable::escape(request.uri().path())
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::errors::ErrorCode;

    #[test]
    fn the_openapi_document_has_every_route_and_every_error_code() {
        let document: JsonValue = serde_json::from_str(OPENAPI).unwrap();
        let mut documented: Vec<(String, String)> = Vec::new();
        for (path, methods) in document["paths"].as_object().unwrap() {
            for method in methods.as_object().unwrap().keys() {
                documented.push((method.clone(), path.clone()));
            }
        }
        let mut served: Vec<(String, String)> = ROUTES
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        documented.sort();
        served.sort();
        assert_eq!(documented, served);
        let codes: Vec<&str> = document["components"]["schemas"]["Error"]["properties"]["error"]
            ["properties"]["code"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let all: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(codes, all);
    }
}
