//! The executors against real local servers: wiremock and axum for the HTTP services, an
//! independent SMTP server (aiosmtpd) and the mock capture server, a SQLite file and the
//! PostgreSQL of `.ci/run`. Each test asserts what the server received and how often.

use crate::support::{executor, record, request, target};
use agentc::ir::Value;
use agentc::runtime::effects::{Executor, TaskError, TaskRequest};
use agentc::runtime::executors::{build, ExecutorOptions};
use agentc::runtime::mock::{MockRule, MockServices};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use wiremock::matchers::{body_json, body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "c-42:3:open_ticket";

fn task(name: &str, args: serde_json::Value) -> TaskRequest {
    request(None, name, args, KEY, Duration::from_secs(5))
}

async fn run(executor: &Arc<dyn Executor>, request: &TaskRequest) -> Result<Value, TaskError> {
    executor.execute(request).await
}

fn json_of(value: Result<Value, TaskError>) -> serde_json::Value {
    value
        .unwrap_or_else(|e| panic!("task failed: {e:?}"))
        .to_json()
}

/// An `http` target on a local server (allowed explicitly: it is on loopback).
fn http_target(server: &MockServer, extra: serde_json::Value) -> Arc<dyn Executor> {
    let mut fields =
        json!({ "base_url": format!("{}/v2", server.uri()), "allow_hosts": ["127.0.0.1"] });
    fields
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    executor("http", fields)
}

async fn received(server: &MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.unwrap_or_default()
}

// ---------------------------------------------------------------- http

#[tokio::test]
async fn http_get_sends_auth_headers_and_query_and_parses_json() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/orders/42"))
        .and(query_param("expand", "items"))
        .and(header("authorization", "Bearer tok-123"))
        .and(header("x-client", "acme-agent"))
        .and(header("x-trace", "7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "shipped"})))
        .expect(1)
        .mount(&server)
        .await;
    let orders = http_target(
        &server,
        json!({ "auth": {"scheme": "bearer", "token": "tok-123"}, "headers": {"X-Client": "acme-agent"} }),
    );
    let answer = json_of(
        run(
            &orders,
            &task("get", json!({"path": "/orders/42", "query": {"expand": "items"}, "headers": {"X-Trace": 7}})),
        )
        .await,
    );
    assert_eq!(answer["status"], 200);
    assert_eq!(answer["body"], json!({"status": "shipped"}));
    assert_eq!(answer["headers"]["content-type"], "application/json");
    let requests = received(&server).await;
    assert_eq!(requests.len(), 1);
    assert!(
        !requests[0].headers.contains_key("idempotency-key"),
        "a GET changes nothing: no idempotency key"
    );
}

#[tokio::test]
async fn http_post_sends_json_basic_auth_and_idempotency_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/refunds"))
        .and(header("authorization", "Basic Ym90OnMzY3JldA==")) // bot:s3cret
        .and(header("idempotency-key", KEY))
        .and(body_json(
            json!({"order": "42", "amount": 12.5, "items": [1, 2]}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_string("created"))
        .expect(1)
        .mount(&server)
        .await;
    let api = http_target(
        &server,
        json!({ "auth": {"scheme": "basic", "username": "bot", "password": "s3cret"} }),
    );
    let request = task(
        "post",
        json!({"path": "refunds", "body": {"order": "42", "amount": 12.5, "items": [1, 2]}}),
    );
    let answer = json_of(run(&api, &request).await);
    assert_eq!(answer["status"], 201);
    assert_eq!(answer["body"], "created", "a text answer stays text");
    let line = api.describe(&request);
    assert!(line.starts_with("POST http://127.0.0.1:"), "{line}");
    assert!(
        line.ends_with("/v2/refunds (JSON: order, amount, items)"),
        "{line}"
    );
    assert!(!line.contains("s3cret"));
}

#[tokio::test]
async fn http_declared_task_uses_request_method_and_api_key() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path("/v2/orders/42"))
        .and(header("x-api-key", "k-9"))
        .and(header("idempotency-key", "custom-key"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let api = http_target(
        &server,
        json!({ "auth": {"scheme": "api_key", "header": "X-Api-Key", "value": "k-9"} }),
    );
    let request = task(
        "request",
        json!({"method": "PATCH", "path": "/orders/42", "body": {"eta": "soon"},
               "headers": {"Idempotency-Key": "custom-key"}}),
    );
    let answer = json_of(run(&api, &request).await);
    assert_eq!(answer["status"], 204);
    assert_eq!(answer["body"], serde_json::Value::Null);
}

#[tokio::test]
async fn http_500_is_retryable_then_200_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    let api = http_target(&server, json!({}));
    let request = task("get", json!({"path": "/health"}));
    let first = run(&api, &request).await.unwrap_err();
    assert!(first.retryable, "{first:?}");
    assert!(
        first.message.contains("500") && first.message.contains("boom"),
        "{}",
        first.message
    );
    assert_eq!(json_of(run(&api, &request).await)["body"]["ok"], true);
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn http_4xx_is_final_but_408_and_429_are_retryable() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/missing"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(path("/v2/slow"))
        .respond_with(ResponseTemplate::new(408))
        .mount(&server)
        .await;
    Mock::given(path("/v2/busy"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "7"))
        .mount(&server)
        .await;
    let later = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(90));
    Mock::given(path("/v2/busy-until"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", later.as_str()))
        .mount(&server)
        .await;
    let api = http_target(&server, json!({}));
    let get = |p: &str| task("get", json!({ "path": p }));
    let missing = run(&api, &get("/missing")).await.unwrap_err();
    assert!(!missing.retryable);
    assert!(
        missing.message.contains("404 Not Found"),
        "{}",
        missing.message
    );
    assert!(run(&api, &get("/slow")).await.unwrap_err().retryable);
    let busy = run(&api, &get("/busy")).await.unwrap_err();
    assert!(busy.retryable);
    assert_eq!(busy.retry_after, Some(Duration::from_secs(7)));
    let until = run(&api, &get("/busy-until"))
        .await
        .unwrap_err()
        .retry_after
        .unwrap();
    assert!(
        until > Duration::from_secs(80) && until <= Duration::from_secs(90),
        "{until:?}"
    );
    assert_eq!(received(&server).await.len(), 4);
}

#[tokio::test]
async fn http_timeout_is_retryable() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let api = http_target(&server, json!({}));
    let mut request = task("get", json!({"path": "/slow"}));
    request.timeout = Duration::from_millis(200);
    let started = std::time::Instant::now();
    let error = run(&api, &request).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        error.retryable && error.message.contains("timed out"),
        "{error:?}"
    );
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn http_connection_refused_is_retryable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let api = executor(
        "http",
        json!({"base_url": format!("http://127.0.0.1:{port}"), "allow_hosts": ["127.0.0.1"]}),
    );
    let error = run(&api, &task("get", json!({"path": "/x"})))
        .await
        .unwrap_err();
    assert!(error.retryable, "{error:?}");
    assert!(
        error.message.contains("cannot connect"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn http_malformed_json_fails_with_a_clear_message() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{\"status\": ", "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let api = http_target(&server, json!({}));
    let error = run(&api, &task("get", json!({"path": "/o"})))
        .await
        .unwrap_err();
    assert!(!error.retryable);
    assert!(
        error.message.contains("malformed JSON"),
        "{}",
        error.message
    );
}

/// An axum server answering `GET /huge` with 50 MB, streamed without a length, and
/// `GET /huge-sized` with a declared 50 MB length.
async fn huge_body_server() -> std::net::SocketAddr {
    use axum::body::Body;
    const MB: usize = 1024 * 1024;
    let stream = || {
        futures::stream::iter(
            (0..50).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'x'; MB]))),
        )
    };
    let app = axum::Router::new()
        .route(
            "/huge",
            axum::routing::get(move || async move { Body::from_stream(stream()) }),
        )
        .route(
            "/huge-sized",
            axum::routing::get(|| async { vec![b'y'; 50 * MB] }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test]
async fn http_50_mb_body_is_cut_off_at_the_cap() {
    let addr = huge_body_server().await;
    let api = executor(
        "http",
        json!({"base_url": format!("http://{addr}"), "allow_hosts": ["127.0.0.1"]}),
    );
    for p in ["/huge", "/huge-sized"] {
        let error = run(&api, &task("get", json!({"path": p})))
            .await
            .unwrap_err();
        assert!(!error.retryable);
        assert!(
            error.message.contains("larger than the 10 MiB limit"),
            "{}",
            error.message
        );
    }
}

#[tokio::test]
async fn http_redirect_to_loopback_is_refused() {
    let inner = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("internal secrets"))
        .mount(&inner)
        .await;
    let outer = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("Location", format!("{}/admin", inner.uri()).as_str()),
        )
        .expect(1)
        .mount(&outer)
        .await;
    // The first hop is allowed by name (`localhost`); the redirect goes to 127.0.0.1.
    let port = outer.address().port();
    let api = executor(
        "http",
        json!({"base_url": format!("http://localhost:{port}"), "allow_hosts": ["localhost"]}),
    );
    let error = run(&api, &task("get", json!({"path": "/go"})))
        .await
        .unwrap_err();
    assert!(!error.retryable);
    assert!(
        error.message.contains("refused to connect to 127.0.0.1"),
        "{}",
        error.message
    );
    assert_eq!(received(&outer).await.len(), 1);
    assert_eq!(
        received(&inner).await.len(),
        0,
        "the redirect must not be followed"
    );
}

#[tokio::test]
async fn ssrf_guard_checks_resolved_addresses_and_ip_literals() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let port = server.address().port();
    let get = task("get", json!({"path": "/x"}));

    // `localhost` resolves to 127.0.0.1: refused on the resolved address.
    let by_name = executor(
        "http",
        json!({"base_url": format!("http://localhost:{port}")}),
    );
    let error = run(&by_name, &get).await.unwrap_err();
    assert!(
        error.message.contains("refused to connect to localhost"),
        "{}",
        error.message
    );
    assert!(error.message.contains("allow_hosts"));
    assert!(!error.retryable);
    // An IP literal is never resolved: checked directly.
    let literal = executor("http", json!({"base_url": server.uri()}));
    assert!(run(&literal, &get)
        .await
        .unwrap_err()
        .message
        .contains("refused"));
    // The metadata address fails at once, without any connection.
    let metadata = executor("http", json!({"base_url": "http://169.254.169.254/latest"}));
    assert!(run(&metadata, &get)
        .await
        .unwrap_err()
        .message
        .contains("refused"));
    let metadata_v6 = executor("http", json!({"base_url": "http://[fd00:ec2::254]/latest"}));
    assert!(run(&metadata_v6, &get)
        .await
        .unwrap_err()
        .message
        .contains("refused"));
    assert_eq!(received(&server).await.len(), 0);

    // Named in allow_hosts: allowed.
    let allowed = executor(
        "http",
        json!({"base_url": format!("http://localhost:{port}"), "allow_hosts": ["LOCALHOST"]}),
    );
    assert_eq!(json_of(run(&allowed, &get).await)["status"], 200);
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn bad_target_fields_are_reported_without_values() {
    let options = ExecutorOptions::default();
    let cases = [
        ("http", json!({}), "field `base_url` is required"),
        (
            "http",
            json!({"base_url": "ftp://x"}),
            "must be an http:// or https:// URL",
        ),
        (
            "http",
            json!({"base_url": "https://x", "auth": "s3cret"}),
            "bearer(..)",
        ),
        (
            "zendesk",
            json!({"email": "a@b", "token": "s3cret"}),
            "needs `subdomain` or `base_url`",
        ),
        (
            "sql",
            json!({"url": "mysql://u:s3cret@h/db"}),
            "must start with sqlite://",
        ),
        (
            "smtp",
            json!({"host": "h", "from": "a@b", "tls": "maybe"}),
            "starttls, tls or none",
        ),
    ];
    for (kind, fields, expected) in cases {
        let error = build(&target("t", kind), record(fields), &options)
            .err()
            .unwrap_or_else(|| panic!("{kind} should fail"))
            .to_string();
        assert!(error.contains(expected), "{kind}: {error}");
        assert!(error.starts_with("target `t`: "), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
    }
}

#[tokio::test]
async fn http_query_lists_repeat_and_records_are_refused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let api = http_target(&server, json!({}));
    let list = task(
        "get",
        json!({"path": "/s", "query": {"tag": ["a", "b"], "skip": null, "n": 2}}),
    );
    json_of(run(&api, &list).await);
    assert_eq!(
        received(&server).await[0].url.query(),
        Some("tag=a&tag=b&n=2")
    );
    let nested = task("get", json!({"path": "/s", "query": {"filter": {"a": 1}}}));
    let error = run(&api, &nested).await.unwrap_err();
    assert!(
        error.message.contains("query value `filter` must be text"),
        "{}",
        error.message
    );
    let header = task("get", json!({"path": "/s", "headers": {"X-List": [1]}}));
    assert!(run(&api, &header)
        .await
        .unwrap_err()
        .message
        .contains("header `X-List`"));
    assert_eq!(
        received(&server).await.len(),
        1,
        "invalid requests are never sent"
    );
}

#[tokio::test]
async fn credentials_echoed_by_a_service_never_reach_the_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_string(
            "bad credentials: Bearer CANARY-7f3a / Basic Ym90OkNBTkFSWS03ZjNh / CANARY-7f3a",
        ))
        .mount(&server)
        .await;
    let get = task("get", json!({"path": "/me"}));
    for auth in [
        json!({"scheme": "bearer", "token": "CANARY-7f3a"}),
        json!({"scheme": "basic", "username": "bot", "password": "CANARY-7f3a"}),
        json!({"scheme": "api_key", "header": "X-Key", "value": "CANARY-7f3a"}),
    ] {
        let api = http_target(&server, json!({ "auth": auth }));
        let error = run(&api, &get).await.unwrap_err();
        assert!(
            error.message.contains("401 Unauthorized"),
            "{}",
            error.message
        );
        assert!(!error.message.contains("CANARY"), "{}", error.message);
        assert!(!api.describe(&get).contains("CANARY"));
    }
}

/// Building needs no running runtime: the runtime may build executors before it starts.
#[test]
fn every_kind_builds_outside_a_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let kinds = [
        ("http", json!({"base_url": "https://api.example"})),
        (
            "zendesk",
            json!({"subdomain": "acme", "email": "a@b.example", "token": "t"}),
        ),
        (
            "salesforce",
            json!({"instance_url": "https://acme.my.salesforce.com", "token": "t"}),
        ),
        (
            "sms",
            json!({"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "t", "from": "+1"}),
        ),
        (
            "smtp",
            json!({"host": "smtp.example", "from": "a@b.example", "username": "u", "password": "p"}),
        ),
        (
            "sql",
            json!({"url": format!("sqlite://{}/x.db", dir.path().display())}),
        ),
        ("sql", json!({"url": "postgres://u:p@db.example/crm"})),
    ];
    for (kind, fields) in kinds {
        executor(kind, fields);
    }
}

// ---------------------------------------------------------------- zendesk

fn zendesk(server: &MockServer) -> Arc<dyn Executor> {
    executor(
        "zendesk",
        json!({"base_url": server.uri(), "email": "bot@acme.example", "token": "zd-tok",
               "allow_hosts": ["127.0.0.1"]}),
    )
}

/// `bot@acme.example/token:zd-tok`, base64.
const ZENDESK_AUTH: &str = "Basic Ym90QGFjbWUuZXhhbXBsZS90b2tlbjp6ZC10b2s=";

#[tokio::test]
async fn zendesk_create_ticket_speaks_the_real_api() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/tickets.json"))
        .and(header("authorization", ZENDESK_AUTH))
        .and(header("idempotency-key", KEY))
        .and(body_json(json!({"ticket": {
            "subject": "Refund",
            "comment": {"body": "Customer wants a refund"},
            "priority": "high",
            "tags": ["refund", "vip"],
            "requester": {"email": "ana@example.com"}
        }})))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"ticket": {"id": 35436, "status": "new"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let zd = zendesk(&server);
    let request = task(
        "create_ticket",
        json!({"subject": "Refund", "comment": "Customer wants a refund", "priority": "high",
               "tags": ["refund", "vip"], "requester_email": "ana@example.com"}),
    );
    assert_eq!(
        json_of(run(&zd, &request).await),
        json!({"id": 35436, "status": "new"})
    );
    let line = zd.describe(&request);
    assert!(
        line.starts_with("POST http://127.0.0.1:")
            && line.ends_with("/api/v2/tickets.json (JSON: ticket)"),
        "{line}"
    );
    assert!(!line.contains("zd-tok"));
}

#[tokio::test]
async fn zendesk_ticket_tasks() {
    let server = MockServer::start().await;
    let ticket = json!({"ticket": {"id": 7, "tags": ["a", "b"]}});
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/7/tags.json"))
        .and(body_json(json!({"tags": ["b"]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"tags": ["a", "b"]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/7/tags.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"tags": ["a", "b"]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/7.json"))
        .and(body_json(
            json!({"ticket": {"comment": {"body": "called back", "public": false}}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(ticket.clone()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/7.json"))
        .and(body_json(json!({"ticket": {"status": "solved"}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(ticket.clone()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/tickets/7/merge.json"))
        .and(body_json(json!({"ids": [8, 9]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"job_status": {"id": "j1"}})))
        .expect(1)
        .mount(&server)
        .await;
    for (p, body) in [
        (
            "/api/v2/users/12.json",
            json!({"user": {"id": 12, "name": "Ana"}}),
        ),
        (
            "/api/v2/organizations/3.json",
            json!({"organization": {"id": 3}}),
        ),
        ("/api/v2/tickets/7.json", ticket.clone()),
    ] {
        Mock::given(method("GET"))
            .and(path(p))
            .and(header("authorization", ZENDESK_AUTH))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .expect(1)
            .mount(&server)
            .await;
    }
    let zd = zendesk(&server);
    let tags = json!(["a", "b"]);
    assert_eq!(
        json_of(
            run(
                &zd,
                &task("add_tags", json!({"ticket_id": 7, "tags": ["b"]}))
            )
            .await
        ),
        json!({"tags": tags})
    );
    assert_eq!(
        json_of(run(&zd, &task("get_ticket_tags", json!({"ticket_id": 7}))).await),
        tags
    );
    let note = task(
        "add_internal_note",
        json!({"ticket_id": "7", "body": "called back"}),
    );
    assert_eq!(json_of(run(&zd, &note).await)["id"], 7);
    let update = task(
        "update_ticket",
        json!({"ticket_id": 7, "fields": {"status": "solved"}}),
    );
    assert_eq!(json_of(run(&zd, &update).await)["id"], 7);
    let merge = task("merge_tickets", json!({"ids": [8, 9], "into": 7}));
    assert_eq!(json_of(run(&zd, &merge).await), json!({"id": "j1"}));
    assert_eq!(
        json_of(run(&zd, &task("get_user", json!({"user_id": 12}))).await)["name"],
        "Ana"
    );
    assert_eq!(
        json_of(run(&zd, &task("get_organization", json!({"org_id": 3}))).await)["id"],
        3
    );
    assert_eq!(
        json_of(run(&zd, &task("get_ticket", json!({"ticket_id": 7}))).await)["id"],
        7
    );
    let requests = received(&server).await;
    assert_eq!(requests.len(), 8);
    for request in &requests {
        let key = request.headers.get("idempotency-key");
        assert_eq!(
            key.is_some(),
            request.method != wiremock::http::Method::GET,
            "{} {}",
            request.method,
            request.url
        );
    }
}

/// `apply_macro` reads the macro's changes ("Show Changes to Ticket"), not the whole ticket
/// after them, and puts only those (no read-only field) as a safe update at the ticket's
/// `updated_at`, so what changed on the ticket meanwhile is not overwritten.
#[tokio::test]
async fn zendesk_apply_macro_puts_only_the_macros_changes_as_a_safe_update() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/macros/99/apply.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": {
            "ticket": {"id": 7, "url": "https://x/7.json", "status": "pending"},
            "comment": {"body": "We are on it", "public": true}
        }})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/7.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"ticket": {"id": 7, "status": "open", "tags": ["vip"],
                              "updated_at": "2026-11-30T09:12:00Z"}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/7.json"))
        .and(body_json(json!({"ticket": {
            "status": "pending",
            "comment": {"body": "We are on it", "public": true},
            "safe_update": true,
            "updated_stamp": "2026-11-30T09:12:00Z"
        }})))
        .and(header("idempotency-key", KEY))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ticket": {"id": 7, "status": "pending"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let zd = zendesk(&server);
    let request = task("apply_macro", json!({"ticket_id": 7, "macro_id": 99}));
    assert_eq!(json_of(run(&zd, &request).await)["status"], "pending");
    assert_eq!(received(&server).await.len(), 3);
    assert!(zd
        .describe(&request)
        .ends_with("then GET and PUT the ticket with the macro's changes (safe_update)"));
}

/// A ticket changed between the read and the update (409): the stamp is read again and the
/// update tried once more; a second conflict fails the action and overwrites nothing.
#[tokio::test]
async fn zendesk_apply_macro_reads_again_after_a_conflict_and_gives_up_after_two() {
    for (conflicts, succeeds) in [(1, true), (2, false)] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v2/macros/99/apply.json"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"result": {"ticket": {"status": "solved"}}})),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v2/tickets/7.json"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(
                    json!({"ticket": {"id": 7, "updated_at": "2026-11-30T09:12:00Z"}}),
                ),
            )
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .and(path("/api/v2/tickets/7.json"))
            .respond_with(ResponseTemplate::new(409).set_body_json(
                json!({"error": "UpdateConflict", "description": "Safe Update prevented the update"}),
            ))
            .up_to_n_times(conflicts)
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .and(path("/api/v2/tickets/7.json"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": {"id": 7}})))
            .mount(&server)
            .await;
        let zd = zendesk(&server);
        let request = task("apply_macro", json!({"ticket_id": 7, "macro_id": 99}));
        let outcome = zd.execute(&request).await;
        let puts = received(&server)
            .await
            .iter()
            .filter(|r| r.method == wiremock::http::Method::PUT)
            .count();
        assert_eq!(puts, 2, "one update, and one more after the first conflict");
        match outcome {
            Ok(ticket) => assert!(succeeds, "{ticket:?}"),
            Err(e) => {
                assert!(!succeeds, "{}", e.message);
                assert!(
                    e.message.contains("nothing was overwritten"),
                    "{}",
                    e.message
                );
                assert!(!e.retryable);
            }
        }
    }
}

// ---------------------------------------------------------------- salesforce

fn salesforce(server: &MockServer) -> Arc<dyn Executor> {
    executor(
        "salesforce",
        json!({"instance_url": "https://acme.my.salesforce.com", "base_url": server.uri(),
               "token": "sf-tok", "allow_hosts": ["127.0.0.1"]}),
    )
}

/// A task is typed by its kind: `sql.query` sent to a salesforce target is refused, not run
/// as salesforce's `query` of the same name, and nothing is sent.
#[tokio::test]
async fn an_executor_refuses_a_task_of_another_kind_even_of_the_same_name() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"records": []})))
        .expect(0)
        .mount(&server)
        .await;
    let mut query = task(
        "query",
        json!({"soql": "SELECT Id FROM Case", "statement": "SELECT 1"}),
    );
    query.task = crate::support::executor_task(Some(agentc::catalogue::Kind::Sql), "query");
    let error = run(&salesforce(&server), &query).await.unwrap_err();
    assert!(!error.retryable);
    assert_eq!(
        error.message,
        "target `t` (salesforce) cannot run `query`, a task of sql targets"
    );
}

#[tokio::test]
async fn salesforce_case_tasks_speak_the_rest_api() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/data/v59.0/sobjects/Case"))
        .and(header("authorization", "Bearer sf-tok"))
        .and(header("idempotency-key", KEY))
        .and(body_json(
            json!({"Subject": "Broken", "Description": "It broke", "Priority": "High"}),
        ))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"id": "500x1", "success": true, "errors": []})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/services/data/v59.0/sobjects/Case/500x1"))
        .and(body_json(json!({"Status": "Closed"})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/services/data/v59.0/sobjects/CaseComment"))
        .and(body_json(
            json!({"ParentId": "500x1", "CommentBody": "Called the customer"}),
        ))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"id": "00a1", "success": true})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let sf = salesforce(&server);
    let create = task(
        "create_case",
        json!({"subject": "Broken", "description": "It broke", "priority": "High"}),
    );
    assert_eq!(json_of(run(&sf, &create).await)["id"], "500x1");
    let update = task(
        "update_case",
        json!({"case_id": "500x1", "fields": {"Status": "Closed"}}),
    );
    assert_eq!(
        json_of(run(&sf, &update).await),
        json!({"id": "500x1", "success": true})
    );
    let comment = task(
        "add_case_comment",
        json!({"case_id": "500x1", "body": "Called the customer"}),
    );
    assert_eq!(json_of(run(&sf, &comment).await)["id"], "00a1");
    assert_eq!(received(&server).await.len(), 3);
}

#[tokio::test]
async fn salesforce_find_contact_escapes_soql() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/services/data/v60.0/query"))
        .and(query_param(
            "q",
            r"SELECT Id, Name, Email, Phone FROM Contact WHERE Email = 'o\'hara@x.example' ORDER BY CreatedDate, Id LIMIT 1",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalSize": 1, "done": true,
            "records": [{"attributes": {"type": "Contact"}, "Id": "003a", "Name": "Ana O'Hara",
                         "Email": "o'hara@x.example", "Phone": "+33 1"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/services/data/v60.0/query"))
        .and(query_param(
            "q",
            "SELECT Id, Name, Email, Phone FROM Contact WHERE Email = 'nobody@x.example' ORDER BY CreatedDate, Id LIMIT 1",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"totalSize": 0, "done": true, "records": []})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let sf = executor(
        "salesforce",
        json!({"instance_url": server.uri(), "api_version": "60.0", "token": "sf-tok",
               "allow_hosts": ["127.0.0.1"]}),
    );
    let found = task(
        "find_contact",
        json!({"email": "o'hara@x.example", "phone": "+33 1"}),
    );
    assert_eq!(
        json_of(run(&sf, &found).await),
        json!({"Id": "003a", "Name": "Ana O'Hara", "Email": "o'hara@x.example", "Phone": "+33 1"})
    );
    let missing = task("find_contact", json!({"email": "nobody@x.example"}));
    assert_eq!(json_of(run(&sf, &missing).await), serde_json::Value::Null);
    assert!(run(&sf, &task("find_contact", json!({})))
        .await
        .unwrap_err()
        .message
        .contains("`email` or `phone`"));
    assert_eq!(received(&server).await.len(), 2);
}

/// Salesforce answers `records` for a query of Contacts: `contacts` those that match `soql`.
async fn mount_contacts(server: &MockServer, soql: &str, contacts: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path("/services/data/v59.0/query"))
        .and(query_param("q", soql))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "done": true, "records": contacts
        })))
        .mount(server)
        .await;
}

#[tokio::test]
async fn salesforce_find_contact_prefers_the_email_match_over_the_phone_match() {
    let server = MockServer::start().await;
    let by = |field: &str, value: &str| {
        format!("SELECT Id, Name, Email, Phone FROM Contact WHERE {field} = '{value}' ORDER BY CreatedDate, Id LIMIT 1")
    };
    // Ana has the email, Bo the phone: the email wins, whichever the service lists first.
    mount_contacts(
        &server,
        &by("Email", "ana@x.example"),
        json!([{"Id": "003ana"}]),
    )
    .await;
    mount_contacts(&server, &by("Phone", "+331"), json!([{"Id": "003bo"}])).await;
    mount_contacts(&server, &by("Email", "new@x.example"), json!([])).await;
    let sf = salesforce(&server);
    let both = task(
        "find_contact",
        json!({"email": "ana@x.example", "phone": "+331"}),
    );
    for _ in 0..3 {
        assert_eq!(json_of(run(&sf, &both).await), json!({"Id": "003ana"}));
    }
    // Nobody has the email: the phone's match.
    let phone_only_matches = task(
        "find_contact",
        json!({"email": "new@x.example", "phone": "+331"}),
    );
    assert_eq!(
        json_of(run(&sf, &phone_only_matches).await),
        json!({"Id": "003bo"})
    );
    assert_eq!(received(&server).await.len(), 5);
}

/// A Salesforce instance whose API takes only `Bearer <valid>` and whose token endpoint
/// hands out `fresh-token`.
async fn salesforce_instance(valid: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "fresh-token", "instance_url": server.uri(), "token_type": "Bearer"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/services/data/v59.0/sobjects/Case/500x1"))
        .and(header("authorization", format!("Bearer {valid}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Id": "500x1"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/services/data/v59.0/sobjects/Case/500x1"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!([
            {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
        ])))
        .mount(&server)
        .await;
    server
}

fn form_of(request: &wiremock::Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect()
}

#[tokio::test]
async fn salesforce_renews_an_expired_token_once_and_retries_the_request() {
    let server = salesforce_instance("fresh-token").await;
    let options = ExecutorOptions::default();
    let sf = build(
        &target("t", "salesforce"),
        record(
            json!({"instance_url": server.uri(), "token": "expired-token",
                      "client_id": "app-id", "client_secret": "app-secret",
                      "refresh_token": "refresh-me", "allow_hosts": ["127.0.0.1"]}),
        ),
        &options,
    )
    .unwrap();
    let get = task("get_case", json!({"case_id": "500x1"}));
    assert_eq!(json_of(run(&sf, &get).await), json!({"Id": "500x1"}));
    // The renewed token is kept: the next request needs no renewal.
    assert_eq!(json_of(run(&sf, &get).await), json!({"Id": "500x1"}));
    let requests = received(&server).await;
    let shape: Vec<(String, String)> = requests
        .iter()
        .map(|r| {
            let auth = r
                .headers
                .get("authorization")
                .map_or("", |v| v.to_str().unwrap());
            (format!("{} {}", r.method, r.url.path()), auth.to_string())
        })
        .collect();
    let case = "GET /services/data/v59.0/sobjects/Case/500x1";
    assert_eq!(
        shape,
        [
            (case.to_string(), "Bearer expired-token".to_string()),
            ("POST /services/oauth2/token".to_string(), String::new()),
            (case.to_string(), "Bearer fresh-token".to_string()),
            (case.to_string(), "Bearer fresh-token".to_string()),
        ]
    );
    assert_eq!(
        form_of(&requests[1]),
        [
            ("grant_type", "refresh_token"),
            ("client_id", "app-id"),
            ("client_secret", "app-secret"),
            ("refresh_token", "refresh-me"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    // Every token is a secret of the run: redacted wherever it would be shown.
    let shown = options
        .redactor
        .redact("fresh-token expired-token refresh-me app-secret");
    assert!(
        !shown.contains("token") && !shown.contains("refresh-me") && !shown.contains("app-secret"),
        "{shown}"
    );
}

#[tokio::test]
async fn salesforce_client_credentials_get_a_token_first_and_a_refused_one_fails_after_one_renewal()
{
    let server = salesforce_instance("fresh-token").await;
    let sf = executor(
        "salesforce",
        json!({"instance_url": server.uri(), "client_id": "app-id", "client_secret": "app-secret",
               "allow_hosts": ["127.0.0.1"]}),
    );
    let get = task("get_case", json!({"case_id": "500x1"}));
    assert_eq!(json_of(run(&sf, &get).await), json!({"Id": "500x1"}));
    let requests = received(&server).await;
    assert_eq!(requests.len(), 2);
    assert_eq!(
        form_of(&requests[0]),
        [
            ("grant_type", "client_credentials"),
            ("client_id", "app-id"),
            ("client_secret", "app-secret"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );

    // An API that refuses every token: one renewal, one retry, then a final error.
    let refusing = salesforce_instance("no-token-is-good").await;
    let sf = executor(
        "salesforce",
        json!({"instance_url": refusing.uri(), "token": "old-token", "client_id": "app-id",
               "client_secret": "app-secret", "allow_hosts": ["127.0.0.1"]}),
    );
    let error = run(&sf, &get).await.unwrap_err();
    assert!(!error.retryable, "{error:?}");
    assert!(
        error.message.contains("401") && error.message.contains("renewed access token"),
        "{}",
        error.message
    );
    assert!(!error.message.contains("fresh-token") && !error.message.contains("app-secret"));
    assert_eq!(
        received(&refusing).await.len(),
        3,
        "request, renewal, one retry"
    );
}

#[tokio::test]
async fn salesforce_query_binds_escaped_values_and_get_case_reads_a_case() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/services/data/v59.0/query"))
        .and(header("authorization", "Bearer sf-tok"))
        .and(query_param(
            "q",
            r"SELECT Id, Subject FROM Case WHERE SuppliedEmail = 'x\' OR Subject != \'' AND Subject LIKE '100\%\_off%' AND Status IN ('New', 'Working')",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalSize": 1, "done": true,
            "records": [{"attributes": {"type": "Case"}, "Id": "500a", "Subject": "100%_off"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/services/data/v59.0/sobjects/Case/500a"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "attributes": {"type": "Case", "url": "/services/data/v59.0/sobjects/Case/500a"},
            "Id": "500a", "Status": "New"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let sf = salesforce(&server);
    let query = task(
        "query",
        json!({
            "soql": "SELECT Id, Subject FROM Case WHERE SuppliedEmail = :email AND Subject LIKE :deal% AND Status IN :open",
            "values": {"email": "x' OR Subject != '", "deal": "100%_off", "open": ["New", "Working"]}
        }),
    );
    assert_eq!(
        json_of(run(&sf, &query).await),
        json!([{"Id": "500a", "Subject": "100%_off"}])
    );
    let case = task("get_case", json!({"case_id": "500a"}));
    assert_eq!(
        json_of(run(&sf, &case).await),
        json!({"Id": "500a", "Status": "New"})
    );
    for (values, says) in [
        (json!({}), "placeholder `:email` has no value"),
        (json!({"email": null}), "`:email` is null"),
        (json!({"email": "a", "mail": "b"}), "no placeholder `:mail`"),
    ] {
        let bad = task(
            "query",
            json!({"soql": "SELECT Id FROM Case WHERE SuppliedEmail = :email", "values": values}),
        );
        let error = run(&sf, &bad).await.unwrap_err();
        assert!(
            !error.retryable
                && error.message.contains(says)
                && error.message.contains("nothing was sent"),
            "{error:?}"
        );
    }
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn zendesk_search_and_user_tasks_speak_the_real_api() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search.json"))
        .and(header("authorization", ZENDESK_AUTH))
        .and(query_param("query", "type:user email:ana@example.com"))
        .and(query_param("sort_by", "created_at"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [{"id": 9, "result_type": "user"}], "count": 1, "next_page": null
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/users/create_or_update.json"))
        .and(header("idempotency-key", KEY))
        .and(body_json(json!({"user": {
            "phone": "+33 6", "name": "Ana", "email": "ana@example.com"
        }})))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"user": {"id": 9, "name": "Ana"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/users/9.json"))
        .and(header("idempotency-key", KEY))
        .and(body_json(json!({"user": {"verified": true}})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"user": {"id": 9, "verified": true}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let zd = zendesk(&server);
    let search = task(
        "search",
        json!({"query": "type:user email:ana@example.com", "sort_by": "created_at"}),
    );
    assert_eq!(
        json_of(run(&zd, &search).await),
        json!([{"id": 9, "result_type": "user"}])
    );
    let upsert = task(
        "create_or_update_user",
        json!({"name": "Ana", "email": "ana@example.com", "fields": {"phone": "+33 6", "name": "ignored"}}),
    );
    assert_eq!(
        json_of(run(&zd, &upsert).await),
        json!({"id": 9, "name": "Ana"})
    );
    let update = task(
        "update_user",
        json!({"user_id": 9, "fields": {"verified": true}}),
    );
    assert_eq!(json_of(run(&zd, &update).await)["verified"], true);
    assert_eq!(received(&server).await.len(), 3);
}

#[tokio::test]
async fn declared_tasks_on_zendesk_and_salesforce_go_under_the_api_root_with_the_targets_auth() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/organizations/search.json"))
        .and(header("authorization", ZENDESK_AUTH))
        .and(query_param("name", "Acme & Co"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "organizations": [{"id": 3, "name": "Acme & Co"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/services/data/v59.0/sobjects/Account/001x"))
        .and(header("authorization", "Bearer sf-tok"))
        .and(header("idempotency-key", KEY))
        .and(body_json(json!({"Rating": "Hot"})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let zd = zendesk(&server);
    let find_org = task(
        "request",
        json!({"method": "GET", "path": "/organizations/search.json",
               "query": {"name": "Acme & Co"}}),
    );
    let answer = json_of(run(&zd, &find_org).await);
    assert_eq!(answer["status"], 200);
    assert_eq!(answer["body"]["organizations"][0]["id"], 3);
    let sf = salesforce(&server);
    let rate = task(
        "request",
        json!({"method": "PATCH", "path": "/sobjects/Account/001x", "body": {"Rating": "Hot"}}),
    );
    assert_eq!(json_of(run(&sf, &rate).await)["status"], 204);
    for (executor, path) in [(&zd, "/users/../../admin"), (&sf, "/%2e%2e/v1/secret")] {
        let climbing = task("request", json!({"method": "GET", "path": path}));
        let error = run(executor, &climbing).await.unwrap_err();
        assert!(error.message.contains("`..` segment"), "{error:?}");
    }
    assert_eq!(received(&server).await.len(), 2);
}

/// A sample value for each catalogue argument: a text, an id, a list, an empty record, a word.
fn sample(ty: agentc::catalogue::Ty) -> serde_json::Value {
    use agentc::catalogue::Ty;
    match ty {
        Ty::Text => json!("x1"),
        Ty::List => json!(["a"]),
        Ty::Record => json!({}),
        Ty::Word(words) => json!(words[0]),
        _ => json!(7),
    }
}

#[tokio::test]
async fn every_zendesk_and_salesforce_task_calls_the_endpoint_the_catalogue_names() {
    for (kind, root) in [
        ("zendesk", "/api/v2"),
        ("salesforce", "/services/data/v59.0"),
    ] {
        let spec = agentc::catalogue::target_kind(kind).unwrap();
        for t in spec.tasks {
            let endpoint = t
                .endpoint
                .as_ref()
                .unwrap_or_else(|| panic!("{kind}.{} names no endpoint", t.name()));
            let server = MockServer::start().await;
            // A record's `updated_at`: what `apply_macro` guards its update with.
            Mock::given(method("GET"))
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_json(json!({"updated_at": "2026-11-30T09:12:00Z"})),
                )
                .mount(&server)
                .await;
            Mock::given(wiremock::matchers::any())
                .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "1"})))
                .mount(&server)
                .await;
            let executor = if kind == "zendesk" {
                zendesk(&server)
            } else {
                salesforce(&server)
            };
            let mut args = serde_json::Map::new();
            for a in t.args {
                args.insert(a.name.into(), sample(a.ty));
            }
            let mut wanted = format!("{root}{}", endpoint.path);
            for a in t.args {
                let value = sample(a.ty);
                let text = value.as_str().map_or(value.to_string(), str::to_string);
                wanted = wanted.replace(&format!("{{{}}}", a.name), &text);
            }
            let (wanted_path, wanted_query) = wanted.split_once('?').unwrap_or((&wanted, ""));
            run(&executor, &task(t.name(), serde_json::Value::Object(args)))
                .await
                .unwrap_or_else(|e| panic!("{kind}.{}: {e:?}", t.name()));
            let requests = received(&server).await;
            let first = &requests[0];
            assert_eq!(
                first.method.as_str(),
                endpoint.method,
                "{kind}.{}",
                t.name()
            );
            assert_eq!(first.url.path(), wanted_path, "{kind}.{}", t.name());
            for key in wanted_query.split('&').filter_map(|p| p.strip_suffix('=')) {
                assert!(
                    first.url.query_pairs().any(|(k, _)| k == key),
                    "{kind}.{} sends no `{key}` in {}",
                    t.name(),
                    first.url
                );
            }
            let keyed = requests
                .iter()
                .any(|r| r.headers.contains_key("idempotency-key"));
            assert_eq!(keyed, t.side_effect, "{kind}.{}: idempotency key", t.name());
        }
    }
}

// ---------------------------------------------------------------- sms

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    let pair = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

#[tokio::test]
async fn sms_posts_a_twilio_form() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
        )))
        .and(header("authorization", basic(ACCOUNT, "tw-tok").as_str()))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(header("idempotency-key", KEY))
        .and(body_string_contains("To=%2B33612345678"))
        .and(body_string_contains("From=%2B15550100"))
        .and(body_string_contains("Body=Your+order+ships+today%21"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"sid": "SM1", "status": "queued"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let sms = executor(
        "sms",
        json!({"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "tw-tok", "from": "+15550100",
               "base_url": server.uri(), "allow_hosts": ["127.0.0.1"]}),
    );
    let request = task(
        "send_sms",
        json!({"to": "+33612345678", "body": "Your order ships today!"}),
    );
    assert_eq!(
        json_of(run(&sms, &request).await),
        json!({"sid": "SM1", "status": "queued"})
    );
    let line = sms.describe(&request);
    assert!(
        line.ends_with(&format!(
            "/2010-04-01/Accounts/{ACCOUNT}/Messages.json (form: To, From, Body)"
        )),
        "{line}"
    );
    assert!(!line.contains("tw-tok"));
    assert_eq!(received(&server).await.len(), 1);
}

/// Twilio's CreateMessage (twilio-oai `twilio_api_v2010.json`): `MessagingServiceSid`
/// instead of `From`, `MediaUrl` once per URL, `StatusCallback`; an API key's SID and secret
/// as the basic credentials, the account SID still in the path.
#[tokio::test]
async fn sms_api_key_messaging_service_media_and_status_callback() {
    let server = MockServer::start().await;
    let key = "SK00112233445566778899aabbccddeeff";
    let service = "MG00112233445566778899AABBCCDDEEFF";
    Mock::given(method("POST"))
        .and(path(format!(
            "/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
        )))
        .and(header("authorization", basic(key, "key-secret").as_str()))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"sid": "MM1", "status": "accepted"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let sms = executor(
        "sms",
        json!({"account_sid": ACCOUNT, "api_key_sid": key, "api_key_secret": "key-secret",
               "messaging_service_sid": service,
               "status_callback": "https://hooks.acme.example/twilio/status",
               "base_url": server.uri(), "allow_hosts": ["127.0.0.1"]}),
    );
    let request = task(
        "send_sms",
        json!({"to": "+33612345678", "body": "Your receipt",
               "media_urls": ["https://cdn.acme.example/r/1.png", "https://cdn.acme.example/r/2.png"]}),
    );
    assert_eq!(json_of(run(&sms, &request).await)["sid"], "MM1");
    let requests = received(&server).await;
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&requests[0].body)
        .into_owned()
        .collect();
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        pairs,
        [
            ("To", "+33612345678"),
            ("MessagingServiceSid", service),
            ("Body", "Your receipt"),
            ("MediaUrl", "https://cdn.acme.example/r/1.png"),
            ("MediaUrl", "https://cdn.acme.example/r/2.png"),
            ("StatusCallback", "https://hooks.acme.example/twilio/status"),
        ]
    );
    let eleven: Vec<String> = (0..11)
        .map(|i| format!("https://cdn.example/{i}.png"))
        .collect();
    let too_many = task(
        "send_sms",
        json!({"to": "+1", "body": "b", "media_urls": eleven}),
    );
    let error = run(&sms, &too_many).await.unwrap_err();
    assert!(
        !error.retryable && error.message.contains("at most 10"),
        "{error:?}"
    );
    assert_eq!(received(&server).await.len(), 1, "nothing more was sent");
}

#[test]
fn sms_fields_are_checked_when_the_target_is_built() {
    let build_sms = |fields: serde_json::Value| {
        build(
            &target("t", "sms"),
            record(fields),
            &ExecutorOptions::default(),
        )
        .err()
        .map(|e| e.to_string())
    };
    for (fields, wanted) in [
        (
            json!({"account_sid": "AC123", "auth_token": "t", "from": "+1"}),
            "field `account_sid` must be AC followed by 32 hex digits",
        ),
        (
            json!({"account_sid": ACCOUNT, "auth_token": "t", "from": "+1",
                   "messaging_service_sid": "MG00112233445566778899aabbccddeeff"}),
            "`from` and `messaging_service_sid` exclude each other",
        ),
        (
            json!({"account_sid": ACCOUNT, "api_key_sid": "SK00112233445566778899aabbccddeeff",
                   "from": "+1"}),
            "`api_key_sid` needs `api_key_secret`",
        ),
        (
            json!({"account_sid": ACCOUNT, "auth_token": "t", "from": "+1",
                   "status_callback": "http://hooks.example/s"}),
            "`status_callback` must be an https:// URL",
        ),
    ] {
        let error = build_sms(fields.clone()).unwrap_or_else(|| panic!("built: {fields}"));
        assert!(error.contains(wanted), "{error}");
    }
}

// ---------------------------------------------------------------- smtp

/// aiosmtpd on a free port, killed when dropped.
struct PythonSmtp {
    child: std::process::Child,
    port: u16,
    out: tempfile::NamedTempFile,
}

impl Drop for PythonSmtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl PythonSmtp {
    /// None (with a note) when aiosmtpd is missing, unless AGENTC_REQUIRE_SMTP=1.
    async fn start() -> Option<PythonSmtp> {
        let available = std::process::Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            assert!(
                std::env::var("AGENTC_REQUIRE_SMTP").as_deref() != Ok("1"),
                "AGENTC_REQUIRE_SMTP=1 but python3 -m aiosmtpd is not available"
            );
            eprintln!("note: skipping the aiosmtpd test (pip install aiosmtpd to run it)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let out = tempfile::NamedTempFile::new().unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_server.py");
        let child = std::process::Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(out.path())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let server = PythonSmtp { child, port, out };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Some(server);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("aiosmtpd did not start");
    }

    fn messages(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.out.path())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

#[tokio::test]
async fn smtp_sends_to_a_real_server_and_reports_a_rejected_recipient() {
    let Some(server) = PythonSmtp::start().await else {
        return;
    };
    let mail = executor(
        "smtp",
        json!({"host": "127.0.0.1", "port": server.port, "tls": "none", "from": "Acme <support@acme.example>",
               "allow_hosts": ["127.0.0.1"]}),
    );
    let request = task(
        "send_email",
        json!({"to": "ana@example.com", "subject": "Your ticket", "body": "We are on it.\n.dot line",
               "cc": ["boss@acme.example"], "reply_to": "help@acme.example"}),
    );
    let answer = json_of(run(&mail, &request).await);
    assert_eq!(answer["accepted"], json!(["ana@example.com"]));
    assert!(
        answer["response"].as_str().unwrap().starts_with("250"),
        "{answer}"
    );
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["from"], "support@acme.example");
    assert_eq!(
        messages[0]["to"],
        json!(["ana@example.com", "boss@acme.example"])
    );
    let data = messages[0]["data"].as_str().unwrap();
    for expected in [
        "Subject: Your ticket",
        "Reply-To: help@acme.example",
        "Message-ID: <c-42=3A3=3Aopen_ticket.",
        "We are on it.\r\n.dot line",
    ] {
        assert!(data.contains(expected), "{expected:?} not in {data}");
    }

    let rejected = task(
        "send_email",
        json!({"to": "reject-me@example.com", "subject": "x", "body": "y"}),
    );
    let error = run(&mail, &rejected).await.unwrap_err();
    assert!(!error.retryable, "{error:?}");
    assert!(
        error.message.contains("550") && error.message.contains("Recipient address rejected"),
        "{}",
        error.message
    );
    assert_eq!(server.messages().len(), 1, "nothing more was delivered");
}

/// RFC 5322 §3.6.4: `msg-id = "<" id-left "@" id-right ">"`, each side a `dot-atom-text`.
fn is_dot_atom(text: &str) -> bool {
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    text.split('.')
        .all(|atom| !atom.is_empty() && atom.chars().all(atext))
}

#[tokio::test]
async fn smtp_email_is_mime_1_0_with_a_valid_unique_message_id_and_a_helo_name() {
    let Some(server) = PythonSmtp::start().await else {
        return;
    };
    let fields = |helo: serde_json::Value| {
        let mut fields = json!({"host": "127.0.0.1", "port": server.port, "tls": "none",
                                "from": "support@acme.example", "allow_hosts": ["127.0.0.1"]});
        if !helo.is_null() {
            fields["helo_name"] = helo;
        }
        fields
    };
    let named = executor("smtp", fields(json!("mail.acme.example")));
    // The key the issue saw go out as `<conf-.n..c.d...1.1.mail_c@agentc>`.
    let mut request = task(
        "send_email",
        json!({"to": "ana@example.com", "subject": "Hi", "body": "Text"}),
    );
    request.idempotency_key = "conf-ñ/c d/1/1/mail_c".into();
    let first = json_of(run(&named, &request).await);
    let retried = json_of(run(&named, &request).await);
    assert_eq!(
        first["message_id"], retried["message_id"],
        "a retry repeats its Message-ID"
    );
    let other_run = executor("smtp", fields(json!("mail.acme.example")));
    let again = json_of(run(&other_run, &request).await);
    assert_ne!(
        first["message_id"], again["message_id"],
        "another run's Message-ID differs"
    );
    let default_helo = executor("smtp", fields(serde_json::Value::Null));
    run(&default_helo, &request).await.unwrap();

    let messages = server.messages();
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[0]["helo"], "mail.acme.example");
    let helo = messages[3]["helo"].as_str().unwrap();
    assert!(
        helo == "[127.0.0.1]" || (helo.contains('.') && !helo.starts_with('[')),
        "the default EHLO name is a domain with a dot or the local address literal: {helo}"
    );
    for message in &messages {
        let raw = message["data"].as_str().unwrap();
        let parsed = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap();
        assert_eq!(
            parsed.header_raw("MIME-Version").map(str::trim),
            Some("1.0"),
            "{raw}"
        );
        let id = parsed.message_id().unwrap();
        let (left, right) = id.rsplit_once('@').unwrap();
        assert!(
            is_dot_atom(left) && is_dot_atom(right),
            "not a dot-atom: {id}"
        );
        assert_eq!(right, "acme.example");
        assert!(left.starts_with("conf-=C3=B1/c=20d/1/1/mail_c."), "{id}");
        assert_eq!(
            parsed.body_text(0).as_deref().map(str::trim_end),
            Some("Text")
        );
    }
}

#[test]
fn smtp_helo_name_must_be_a_domain_or_an_address_literal() {
    for good in ["mail.acme.example", "[192.0.2.1]", "[IPv6:2001:db8::1]"] {
        let fields = json!({"host": "127.0.0.1", "from": "a@acme.example", "helo_name": good});
        build(
            &target("t", "smtp"),
            record(fields),
            &ExecutorOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{good}: {e}"));
    }
    for bad in ["bad name", "-x.example", "[300.1.1.1]", "a..b"] {
        let fields = json!({"host": "127.0.0.1", "from": "a@acme.example", "helo_name": bad});
        let error = build(
            &target("t", "smtp"),
            record(fields),
            &ExecutorOptions::default(),
        )
        .err()
        .unwrap_or_else(|| panic!("{bad} was accepted"))
        .to_string();
        assert!(
            error.contains("`helo_name` must be a domain") && !error.contains(bad),
            "{error}"
        );
    }
}

#[tokio::test]
async fn smtp_connection_refused_is_retryable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mail = executor(
        "smtp",
        json!({"base_url": format!("smtp://127.0.0.1:{port}"), "tls": "none", "from": "a@acme.example",
               "allow_hosts": ["127.0.0.1"]}),
    );
    let error = run(
        &mail,
        &task(
            "send_email",
            json!({"to": "b@x.example", "subject": "s", "body": "b"}),
        ),
    )
    .await
    .unwrap_err();
    assert!(error.retryable, "{error:?}");
}

#[tokio::test]
async fn smtp_without_starttls_says_to_set_tls_none_and_is_not_retried() {
    let Some(server) = PythonSmtp::start().await else {
        return;
    };
    // No `tls`: the default, starttls, which this server does not offer.
    let mail = executor(
        "smtp",
        json!({"host": "127.0.0.1", "port": server.port, "from": "a@acme.example",
               "allow_hosts": ["127.0.0.1"]}),
    );
    let error = run(
        &mail,
        &task(
            "send_email",
            json!({"to": "b@x.example", "subject": "s", "body": "b"}),
        ),
    )
    .await
    .unwrap_err();
    assert!(!error.retryable, "{error:?}");
    assert!(
        error.message.contains("does not offer STARTTLS")
            && error.message.contains("set `tls: none`")
            && error.message.contains("trusted relay"),
        "{}",
        error.message
    );
    assert!(server.messages().is_empty(), "nothing was delivered");
}

// ---------------------------------------------------------------- mocks

#[tokio::test]
async fn mock_services_answer_rules_in_sequence_and_record_requests() {
    let mocks = MockServices::start(vec![
        MockRule::new("orders", "GET", "/orders/{id}", Some(500), None),
        MockRule::new(
            "orders",
            "GET",
            "/orders/{id}",
            Some(200),
            Some(Value::from_json(&json!({"status": "shipped"}))),
        ),
        MockRule::new(
            "desk",
            "POST",
            "/tickets.json",
            Some(201),
            Some(Value::from_json(&json!({"ticket": {"id": 5}}))),
        ),
    ])
    .await
    .unwrap();
    let options = ExecutorOptions::default();
    let mut orders_target = target("orders", "http");
    orders_target.fields = Default::default();
    let mut fields = record(json!({"base_url": "https://orders.acme.example/v2",
                                   "auth": {"scheme": "bearer", "token": "tok-secret"}}));
    fields.extend(mocks.redirect(&orders_target).unwrap());
    let orders = build(&orders_target, fields, &options).unwrap();
    let mut get = task("get", json!({"path": "/orders/42", "query": {"x": 1}}));
    get.target = "orders".into();
    assert!(run(&orders, &get).await.unwrap_err().retryable);
    assert_eq!(
        json_of(run(&orders, &get).await)["body"]["status"],
        "shipped"
    );
    assert_eq!(
        json_of(run(&orders, &get).await)["body"]["status"],
        "shipped",
        "the last rule repeats"
    );

    let desk_target = target("desk", "zendesk");
    let mut fields =
        record(json!({"subdomain": "acme", "email": "bot@acme.example", "token": "zd-secret"}));
    fields.extend(mocks.redirect(&desk_target).unwrap());
    let desk = build(&desk_target, fields, &options).unwrap();
    let create = task(
        "create_ticket",
        json!({"subject": "Hi", "comment": "Hello"}),
    );
    assert_eq!(json_of(run(&desk, &create).await), json!({"id": 5}));
    // Not mocked: a clear, final failure, recorded as unmocked.
    let error = run(&desk, &task("get_user", json!({"user_id": 1})))
        .await
        .unwrap_err();
    assert!(!error.retryable);
    assert!(
        error
            .message
            .contains("no mock answers GET /api/v2/users/1.json on target `desk`"),
        "{}",
        error.message
    );

    let requests = mocks.requests();
    assert_eq!(requests.len(), 5);
    assert_eq!(requests[0].path, "/orders/42");
    assert_eq!(requests[0].query["x"], Value::Text("1".into()));
    assert_eq!(requests[0].headers["authorization"], "Bearer [redacted]");
    assert_eq!(requests[3].path, "/api/v2/tickets.json");
    assert_eq!(requests[3].headers["idempotency-key"], KEY);
    assert_eq!(requests[3].body.to_json()["ticket"]["subject"], "Hi");
    assert_eq!(mocks.requests_to("orders", "get", "/orders/*").len(), 3);
    assert_eq!(mocks.requests_to("desk", "POST", "/tickets.json").len(), 1);
    let unmocked = mocks.unmocked();
    assert_eq!(unmocked.len(), 1);
    assert_eq!(
        (unmocked[0].target.as_str(), unmocked[0].status),
        ("desk", 404)
    );
    let everything = format!("{:?}", requests);
    assert!(!everything.contains("tok-secret") && !everything.contains("zd-secret"));
}

#[tokio::test]
async fn mock_services_give_salesforce_a_dummy_token_instead_of_its_oauth_client() {
    let mocks = MockServices::start(vec![MockRule::new(
        "crm",
        "GET",
        "/sobjects/Case/{id}",
        Some(200),
        Some(Value::from_json(&json!({"Id": "500x1"}))),
    )])
    .await
    .unwrap();
    let crm = target("crm", "salesforce");
    let mut fields = record(json!({"instance_url": "https://acme.my.salesforce.com",
                                   "client_id": "app-id", "client_secret": "app-secret",
                                   "refresh_token": "refresh-me"}));
    fields.extend(mocks.redirect(&crm).unwrap());
    let sf = build(&crm, fields, &ExecutorOptions::default()).unwrap();
    let get = task("get_case", json!({"case_id": "500x1"}));
    assert_eq!(json_of(run(&sf, &get).await), json!({"Id": "500x1"}));
    let requests = mocks.requests();
    assert_eq!(requests.len(), 1, "no token request: {requests:?}");
    let everything = format!("{requests:?}");
    assert!(!everything.contains("app-secret") && !everything.contains("refresh-me"));
}

#[tokio::test]
async fn mock_services_capture_email_and_sms() {
    let mocks = MockServices::start(vec![
        MockRule::new(
            "mail",
            "RCPT",
            "gone@example.com",
            Some(550),
            Some(Value::Text("5.1.1 no such user".into())),
        ),
        MockRule::new(
            "texts",
            "POST",
            "/Messages.json",
            Some(201),
            Some(Value::from_json(&json!({"sid": "SM9"}))),
        ),
    ])
    .await
    .unwrap();
    let options = ExecutorOptions::default();
    let mail_target = target("mail", "smtp");
    let mut fields = record(
        json!({"host": "smtp.acme.example", "port": 587, "from": "support@acme.example",
                                   "username": "bot", "password": "smtp-secret"}),
    );
    fields.extend(mocks.redirect(&mail_target).unwrap());
    let mail = build(&mail_target, fields, &options).unwrap();
    let send = task(
        "send_email",
        json!({"to": "ana@example.com", "subject": "Tu pedido ✓", "body": "Línea uno\nline two"}),
    );
    json_of(run(&mail, &send).await);
    let emails = mocks.emails();
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].target, "mail");
    assert_eq!(emails[0].to, ["ana@example.com"]);
    assert_eq!(emails[0].subject, "Tu pedido ✓");
    assert_eq!(emails[0].body, "Línea uno\nline two");
    let message_id = emails[0].message_id.as_deref().unwrap();
    assert!(
        message_id.starts_with("c-42=3A3=3Aopen_ticket.") && message_id.ends_with("@acme.example"),
        "{message_id}"
    );
    let refused = task(
        "send_email",
        json!({"to": "gone@example.com", "subject": "s", "body": "b"}),
    );
    let error = run(&mail, &refused).await.unwrap_err();
    assert!(
        error.message.contains("550") && error.message.contains("no such user"),
        "{}",
        error.message
    );
    assert_eq!(mocks.emails().len(), 1);

    let texts_target = target("texts", "sms");
    let mut fields = record(
        json!({"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "tw-secret", "from": "+1555"}),
    );
    fields.extend(mocks.redirect(&texts_target).unwrap());
    let texts = build(&texts_target, fields, &options).unwrap();
    let sms = task("send_sms", json!({"to": "+336", "body": "Hi"}));
    assert_eq!(json_of(run(&texts, &sms).await)["sid"], "SM9");
    let requests = mocks.requests_to("texts", "POST", "/Messages.json");
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].body.to_json(),
        json!({"To": "+336", "From": "+1555", "Body": "Hi"})
    );
    assert!(mocks.redirect(&target("db", "sql")).is_none());
}

/// What a probe of a kind sends: its fields, one task with its arguments, and the mock
/// rule (method, path without the API prefix) that should answer it.
fn probe(kind: &agentc::catalogue::TargetKind) -> (serde_json::Value, TaskRequest, MockRule) {
    let fields = match kind.name() {
        "http" => json!({"base_url": "https://api.example"}),
        "zendesk" => json!({"subdomain": "acme", "email": "a@b.example", "token": "t"}),
        "salesforce" => json!({"instance_url": "https://acme.my.salesforce.com", "token": "t"}),
        "sms" => {
            json!({"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "t", "from": "+1"})
        }
        "smtp" => json!({"host": "smtp.example", "from": "a@b.example"}),
        _ => json!({"url": "sqlite::memory:"}),
    };
    let answer = |method: &str| match method {
        "GET" => json!({}),
        _ => json!({"id": "1", "sid": "SM1"}),
    };
    let rule = |method: &str, path: &str| {
        let body = Value::from_json(&answer(method));
        MockRule::new("t", method, path, Some(200), Some(body))
    };
    let spec_task = kind.tasks.iter().find(|t| t.endpoint.is_some());
    match (kind.name(), spec_task) {
        ("http", _) => (
            fields,
            task("get", json!({"path": "/probe"})),
            rule("GET", "/probe"),
        ),
        ("sms", _) => (
            fields,
            task("send_sms", json!({"to": "+336", "body": "Hi"})),
            rule("POST", "/Messages.json"),
        ),
        (_, Some(t)) => {
            let endpoint = t.endpoint.as_ref().unwrap();
            let args: serde_json::Map<_, _> = t
                .args
                .iter()
                .map(|a| (a.name.into(), sample(a.ty)))
                .collect();
            let path = endpoint.path.split('?').next().unwrap();
            (
                fields,
                task(t.name(), serde_json::Value::Object(args)),
                rule(endpoint.method, path),
            )
        }
        ("smtp", _) => (
            fields,
            task(
                "send_email",
                json!({"to": "ana@example.com", "subject": "s", "body": "b"}),
            ),
            rule("RCPT", "nobody@example.com"),
        ),
        _ => (
            fields,
            task("execute", json!({"statement": "SELECT 1"})),
            rule("SQL", "SELECT 1"),
        ),
    }
}

/// Each kind's catalogue `protocol` is what its executor speaks: pointed at the mock
/// services, a kind's request is answered by a mock HTTP rule (its API prefix left out)
/// exactly when its protocol is HTTP, its email captured exactly when it is SMTP, and it is
/// pointed nowhere exactly when it is SQL or in-process.
#[tokio::test]
async fn every_kinds_protocol_is_what_its_executor_speaks() {
    use agentc::catalogue::{Protocol, TARGET_KINDS};
    for kind in TARGET_KINDS {
        let t = target("t", kind.name());
        if kind.builtin {
            assert_eq!(kind.protocol, Protocol::InProcess, "{}", kind.name());
            let mocks = MockServices::start(Vec::new()).await.unwrap();
            assert!(mocks.redirect(&t).is_none(), "{}", kind.name());
            continue;
        }
        let (fields, request, rule) = probe(kind);
        let mocks = MockServices::start(vec![rule]).await.unwrap();
        let redirect = mocks.redirect(&t);
        let mut fields = record(fields);
        let pointed = redirect.is_some();
        fields.extend(redirect.unwrap_or_default());
        let executor = build(&t, fields, &ExecutorOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", kind.name()));
        let result = run(&executor, &request).await;
        let answered = !mocks.requests().is_empty() && mocks.unmocked().is_empty();
        let http = matches!(kind.protocol, Protocol::Http { .. });
        let smtp = kind.protocol == Protocol::Smtp;
        assert_eq!(answered, http, "{}: {:?}", kind.name(), mocks.requests());
        assert_eq!(mocks.emails().len() == 1, smtp, "{}", kind.name());
        assert_eq!(pointed, http || smtp, "{}", kind.name());
        assert!(result.is_ok(), "{}: {result:?}", kind.name());
    }
}

// ---------------------------------------------------------------- sql

fn sql_task(name: &str, statement: &str, rest: serde_json::Value) -> TaskRequest {
    let mut request = task(name, json!({ "statement": statement }));
    request.task = crate::support::executor_task(Some(agentc::catalogue::Kind::Sql), name);
    request.rest = match Value::from_json(&rest) {
        Value::List(items) => items,
        _ => panic!("rest must be a list"),
    };
    request
}

/// The same scenario on SQLite and PostgreSQL: create, insert, query, constraint violation.
async fn sql_scenario(db: &Arc<dyn Executor>, placeholder: fn(usize) -> String, table: &str) {
    let create = format!(
        "CREATE TABLE {table} (id INTEGER PRIMARY KEY, phone TEXT NOT NULL UNIQUE, \
         minutes REAL, vip BOOLEAN, note TEXT, attempts INTEGER)"
    );
    json_of(run(db, &sql_task("execute", &create, json!([]))).await);
    let insert = task(
        "insert",
        json!({"table": table, "record": {"id": 1, "phone": "+33 6'; DROP TABLE x; --", "minutes": 2.5, "vip": true, "note": null, "attempts": null}}),
    );
    assert_eq!(json_of(run(db, &insert).await), json!({"rows_affected": 1}));
    let update = format!(
        "UPDATE {table} SET minutes = minutes + {} WHERE id = {}",
        placeholder(1),
        placeholder(2)
    );
    assert_eq!(
        json_of(run(db, &sql_task("execute", &update, json!([1.5, 1]))).await),
        json!({"rows_affected": 1})
    );
    let select = format!(
        "SELECT id, phone, minutes, vip, note, attempts FROM {table} WHERE phone = {}",
        placeholder(1)
    );
    let rows = json_of(
        run(
            db,
            &sql_task("query", &select, json!(["+33 6'; DROP TABLE x; --"])),
        )
        .await,
    );
    assert_eq!(
        rows,
        json!([{"id": 1, "phone": "+33 6'; DROP TABLE x; --", "minutes": 4, "vip": true, "note": null, "attempts": null}])
    );

    let duplicate = task(
        "insert",
        json!({"table": table, "record": {"id": 2, "phone": "+33 6'; DROP TABLE x; --"}}),
    );
    let error = run(db, &duplicate).await.unwrap_err();
    assert!(!error.retryable);
    assert!(
        error.message.contains("unique constraint violated"),
        "{}",
        error.message
    );
    let bad_name = task(
        "insert",
        json!({"table": "calls; DROP TABLE calls", "record": {"id": 3}}),
    );
    assert!(run(db, &bad_name)
        .await
        .unwrap_err()
        .message
        .contains("not a valid table or column name"));
    let syntax = run(db, &sql_task("query", "SELEC 1", json!([])))
        .await
        .unwrap_err();
    assert!(!syntax.retryable, "{syntax:?}");
}

#[tokio::test]
async fn sqlite_file_is_created_and_used_with_bound_values() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sub-less.db");
    let url = format!("sqlite://{}", file.display());
    let db = executor("sql", json!({ "url": url }));
    sql_scenario(&db, |_| "?".into(), "calls").await;
    assert!(file.exists());
    let line = db.describe(&task(
        "insert",
        json!({"table": "calls", "record": {"a": 1, "b": 2}}),
    ));
    assert_eq!(
        line,
        format!("SQL INSERT INTO \"calls\" (\"a\", \"b\") VALUES (?, ?) [2 bound values] on {url}")
    );
}

#[tokio::test]
async fn sqlite_in_memory_keeps_its_data_across_tasks() {
    let db = executor("sql", json!({ "url": "sqlite::memory:" }));
    json_of(
        run(
            &db,
            &sql_task("execute", "CREATE TABLE t (x TEXT)", json!([])),
        )
        .await,
    );
    json_of(
        run(
            &db,
            &sql_task("execute", "INSERT INTO t VALUES (?)", json!(["a"])),
        )
        .await,
    );
    let rows = json_of(run(&db, &sql_task("query", "SELECT x FROM t", json!([]))).await);
    assert_eq!(rows, json!([{"x": "a"}]));
}

/// `sqlite::memory:` ends in a colon of its own: what describes a statement or reports a
/// failure on it prints the URL as written, never `sqlite::memory::`.
#[tokio::test]
async fn the_in_memory_url_is_printed_with_one_colon() {
    let db = executor("sql", json!({ "url": "sqlite::memory:" }));
    let line = db.describe(&sql_task("query", "SELECT 1", json!([])));
    assert_eq!(line, "SQL SELECT 1 [0 bound values] on sqlite::memory:");
    let error = run(
        &db,
        &sql_task("execute", "INSRT INTO t VALUES (1)", json!([])),
    )
    .await
    .unwrap_err();
    assert!(
        error.message.contains("syntax error (on sqlite::memory:)"),
        "{}",
        error.message
    );
    assert!(!error.message.contains("memory::"), "{}", error.message);
}

/// A `sql` target on the test database; `None` (the test skips, with a note) when none is
/// set.
fn postgres() -> Option<Arc<dyn Executor>> {
    let url = std::env::var("AGENTC_TEST_POSTGRES_URL").ok();
    if url.is_none() {
        assert!(
            std::env::var("AGENTC_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "AGENTC_REQUIRE_POSTGRES=1 but AGENTC_TEST_POSTGRES_URL is not set"
        );
        eprintln!("note: skipping the PostgreSQL test (set AGENTC_TEST_POSTGRES_URL, see .ci/postgres.sh)");
    }
    url.map(|url| executor("sql", json!({ "url": url })))
}

#[tokio::test]
async fn postgres_runs_the_same_scenario() {
    let Some(db) = postgres() else {
        return;
    };
    let table = format!("calls_{}", std::process::id());
    sql_scenario(&db, |i| format!("${i}"), &table).await;
    let typed = format!("SELECT 1::int2 AS a, 2::int8 AS b, true AS c, '{{\"k\": [1]}}'::jsonb AS d, interval '1 day' AS e FROM {table}");
    let error = run(&db, &sql_task("query", &typed, json!([])))
        .await
        .unwrap_err();
    assert!(
        error
            .message
            .contains("column `e` has type INTERVAL, which agentc does not read: cast it"),
        "{}",
        error.message
    );
    let typed = typed.replace("interval '1 day' AS e", "(interval '1 day')::text AS e");
    let rows = json_of(run(&db, &sql_task("query", &typed, json!([]))).await);
    assert_eq!(rows[0]["a"], 1);
    assert_eq!(rows[0]["b"], 2);
    assert_eq!(rows[0]["c"], true);
    assert_eq!(rows[0]["d"], json!({"k": [1]}));
    json_of(
        run(
            &db,
            &sql_task("execute", &format!("DROP TABLE {table}"), json!([])),
        )
        .await,
    );
}

#[tokio::test]
async fn sql_describe_never_shows_the_password() {
    let db = executor(
        "sql",
        json!({ "url": "postgres://bot:pg-secret@127.0.0.1:1/crm" }),
    );
    let line = db.describe(&sql_task(
        "execute",
        "DELETE FROM t WHERE id = $1",
        json!([1]),
    ));
    assert_eq!(
        line,
        "SQL DELETE FROM t WHERE id = $1 [1 bound value] on postgres://bot:***@127.0.0.1:1/crm"
    );
    let mut request = sql_task("query", "SELECT 1", json!([]));
    request.timeout = Duration::from_secs(3);
    let error = run(&db, &request).await.unwrap_err();
    assert!(error.retryable, "{error:?}");
    assert!(!error.message.contains("pg-secret"), "{}", error.message);
}

/// The capture server's own protocol handling, spoken by hand.
#[tokio::test]
async fn mock_smtp_speaks_enough_smtp() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mocks = MockServices::start(Vec::new()).await.unwrap();
    let stream = tokio::net::TcpStream::connect(mocks.smtp_addr())
        .await
        .unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    assert!(lines.next_line().await.unwrap().unwrap().starts_with("220"));
    let mut codes = Vec::new();
    for command in [
        "HELO me",
        "NOOP",
        "DATA",
        "RCPT TO:<a@x.example>",
        "MAIL FROM:<b@x.example>",
        "RCPT TO:<a@x.example>",
        "RSET",
        "MAIL FROM:<b@x.example>",
        "RCPT TO:<c@x.example>",
        "DATA",
        "Subject: hi",
        "",
        "..line",
        ".",
        "VRFY x",
        "QUIT",
    ] {
        write
            .write_all(format!("{command}\r\n").as_bytes())
            .await
            .unwrap();
        if matches!(command, "Subject: hi" | "" | "..line") {
            continue;
        }
        codes.push(lines.next_line().await.unwrap().unwrap()[..3].to_string());
    }
    assert_eq!(
        codes,
        [
            "250", "250", "503", "503", "250", "250", "250", "250", "250", "354", "250", "502",
            "221"
        ]
    );
    let emails = mocks.emails();
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].recipients, ["c@x.example"]);
    assert_eq!(
        (emails[0].subject.as_str(), emails[0].body.as_str()),
        ("hi", ".line")
    );
}

#[tokio::test]
async fn postgres_reads_timestamps_numerics_and_uuids_natively() {
    let Some(db) = postgres() else {
        return;
    };
    let table = format!("typed_{}", std::process::id());
    let create = format!(
        "CREATE TABLE {table} (n INTEGER, id UUID, at TIMESTAMPTZ, local TIMESTAMP, day DATE, \
         amount NUMERIC(12, 2), big NUMERIC)"
    );
    json_of(run(&db, &sql_task("execute", &create, json!([]))).await);
    // Text reaches these columns through a cast of its placeholder; numbers need none.
    let insert = format!(
        "INSERT INTO {table} VALUES ($1, $2::uuid, $3::timestamptz, $4::timestamp, $5::date, $6, $7)"
    );
    for row in [
        json!([
            1,
            "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
            "2026-11-21T16:02:29.5+01:00",
            "2026-11-21 16:02:29",
            "2026-11-21",
            1234.5,
            7
        ]),
        json!([2, null, "infinity", "-infinity", "-infinity", null, null]),
    ] {
        json_of(run(&db, &sql_task("execute", &insert, row)).await);
    }
    let big = format!("UPDATE {table} SET big = 123456789012345678901234567890.125 WHERE n = 1");
    json_of(run(&db, &sql_task("execute", &big, json!([]))).await);

    let select = format!("SELECT n, id, at, local, day, amount, big FROM {table} ORDER BY n");
    let rows = json_of(run(&db, &sql_task("query", &select, json!([]))).await);
    assert_eq!(
        rows,
        json!([
            {"n": 1, "id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "at": "2026-11-21T15:02:29.5Z",
             "local": "2026-11-21T16:02:29Z", "day": "2026-11-21", "amount": 1234.5,
             // Numbers read as people read them: 15 significant digits (docs/language.md).
             "big": 1.23456789012346e29},
            {"n": 2, "id": null, "at": "infinity", "local": "-infinity", "day": "-infinity",
             "amount": null, "big": null}
        ])
    );
    // What the language's date functions read: the same instant back.
    let at: jiff::Timestamp = rows[0]["at"].as_str().unwrap().parse().unwrap();
    assert_eq!(at, "2026-11-21T16:02:29.5+01:00".parse().unwrap());

    // A value agentc cannot hold fails the action; it never panics the interpreter.
    for (value, why) in [
        ("'NaN'::numeric", "NaN"),
        ("'10000-01-01'::date", "outside the years -9999 to 9999"),
        (
            "'290000-01-01'::timestamp",
            "outside the years -9999 to 9999",
        ),
    ] {
        let query = format!("SELECT {value} AS v");
        let error = run(&db, &sql_task("query", &query, json!([])))
            .await
            .unwrap_err();
        assert!(
            !error.retryable && error.message.contains("column `v`") && error.message.contains(why),
            "{value}: {error:?}"
        );
    }
    json_of(
        run(
            &db,
            &sql_task("execute", &format!("DROP TABLE {table}"), json!([])),
        )
        .await,
    );
}
