//! What leaves agentc for the world (issue 9, points 2, 3, 11, 12, 13, the SQL cap of 1 and
//! the redirect and `://` parts of 15): a service's redirects, a customer's text in a URL
//! path, addresses that are not globally reachable, credentials over plain text, a burst of
//! conversations, a runaway or huge SQL query. Servers run on 127.0.0.1 only.

use crate::support::{executor, record, request, target, try_executor};
use agentc::ir::{Expr, Value};
use agentc::runtime::effects::{Executor, TaskError, TaskRequest};
use agentc::runtime::executors::{build, is_forbidden_ip, ExecutorOptions};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn task(name: &str, args: serde_json::Value, timeout: Duration) -> TaskRequest {
    request(None, name, args, "c-1/1/a", timeout)
}

fn get(path: &str) -> TaskRequest {
    task("get", json!({ "path": path }), Duration::from_secs(5))
}

async fn run(executor: &Arc<dyn Executor>, request: &TaskRequest) -> Result<Value, TaskError> {
    executor.execute(request).await
}

/// An `http` target on a local server (allowed by name: it is on loopback).
fn local_http(server: &MockServer, extra: serde_json::Value) -> Arc<dyn Executor> {
    let mut fields = json!({ "base_url": server.uri(), "allow_hosts": ["127.0.0.1"] });
    let extra = extra.as_object().unwrap().clone();
    fields.as_object_mut().unwrap().extend(extra);
    executor("http", fields)
}

async fn received(server: &MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.unwrap_or_default()
}

// ------------------------------------------------------------- 2. redirects

#[tokio::test]
async fn a_cross_origin_redirect_carries_no_credentials_headers_or_body() {
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&elsewhere)
        .await;
    let api = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("Location", format!("{}/steal", elsewhere.uri()).as_str()),
        )
        .mount(&api)
        .await;
    let orders = local_http(
        &api,
        json!({
            "auth": { "scheme": "api_key", "header": "X-Api-Key", "value": "key-8213" },
            "headers": { "X-Team-Token": "team-5521" },
        }),
    );
    let post = task(
        "post",
        json!({ "path": "/orders", "body": { "card": "4242-4242" } }),
        Duration::from_secs(5),
    );
    let error = run(&orders, &post).await.unwrap_err();
    assert!(!error.retryable, "{error:?}");
    assert!(
        error.message.contains("another origin"),
        "{}",
        error.message
    );
    assert_eq!(received(&api).await.len(), 1);
    assert!(
        received(&elsewhere).await.is_empty(),
        "the other host must receive nothing"
    );
}

#[tokio::test]
async fn a_redirect_sends_no_referer() {
    let api = MockServer::start().await;
    Mock::given(path("/customers/c-77/orders"))
        .respond_with(ResponseTemplate::new(302).insert_header("Location", "/orders"))
        .mount(&api)
        .await;
    Mock::given(path("/orders"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&api)
        .await;
    let orders = local_http(&api, json!({}));
    run(&orders, &get("/customers/c-77/orders")).await.unwrap();
    let requests = received(&api).await;
    assert_eq!(requests.len(), 2);
    assert!(
        !requests[1].headers.contains_key("referer"),
        "{:?}",
        requests[1].headers
    );
}

/// `/r/N` redirects to `/r/N-1`; `/r/0` answers 200.
async fn redirect_chain(hops: usize) -> MockServer {
    let server = MockServer::start().await;
    for n in 1..=hops {
        Mock::given(path(format!("/r/{n}")))
            .respond_with(
                ResponseTemplate::new(302).insert_header("Location", format!("/r/{}", n - 1)),
            )
            .mount(&server)
            .await;
    }
    Mock::given(path("/r/0"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_redirect_limit_of_ten_follows_ten_and_refuses_the_eleventh() {
    let server = redirect_chain(11).await;
    let api = local_http(&server, json!({}));
    let ten = run(&api, &get("/r/10")).await.unwrap();
    assert_eq!(ten.to_json()["status"], 200);
    let error = run(&api, &get("/r/11")).await.unwrap_err();
    assert!(
        error.message.contains("too many redirects"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn a_query_holding_a_url_is_not_an_absolute_path() {
    let server = MockServer::start().await;
    Mock::given(path("/login"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let api = local_http(&server, json!({}));
    run(&api, &get("/login?next=https://shop.example/cart"))
        .await
        .unwrap();
    let requests = received(&server).await;
    assert_eq!(
        requests[0].url.query(),
        Some("next=https://shop.example/cart")
    );
}

// ------------------------------------------------------------- 3. paths

const PATHS_PROGRAM: &str = r#"agent shop {
    channels: [chat]
    params: {
        order_id: text
        term: text
        file: text
    }
}

target orders: http {
    base_url: "https://orders.acme.example/v2"
}

task get_order(id: text) on orders {
    method: GET
    path: "/orders/{id}"
}

task search(term: text) on orders {
    method: GET
    path: "/search?q={term}&page=1"
}

task get_file(name: text) on orders {
    method: GET
    path: "/files/" + name
}

action check_order {
    target: orders
    task: get_order(order_id)
}

action find {
    target: orders
    task: search(term)
}

action fetch_file {
    target: orders
    task: get_file(file)
}

action catalogue_get {
    target: orders
    task: get(path: "/orders/{order_id}/items")
}

on message_received do check_order
on message_received do find
on message_received do fetch_file
on message_received do catalogue_get
"#;

/// The request lines a dry run of `PATHS_PROGRAM` describes for one message.
fn described_requests(params: serde_json::Value) -> String {
    described_requests_of(PATHS_PROGRAM, params)
}

/// What `agentc run --dry-run` says `program` would send for one message with `params`.
fn described_requests_of(source: &str, params: serde_json::Value) -> String {
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("shop.agent");
    std::fs::write(&program, source).unwrap();
    let events = dir.path().join("events.jsonl");
    let event = json!({"conversation": "c-1", "event": "message_received",
                       "payload": {"text": "hi", "params": params}});
    std::fs::write(&events, format!("{event}\n")).unwrap();
    let output = assert_cmd::Command::cargo_bin("agentc")
        .unwrap()
        .args(["run", "--dry-run", "--trace", "json", "--events"])
        .arg(&events)
        .env("ZD_TOKEN", "zd-token-1")
        .env("SF_TOKEN", "sf-token-1")
        .arg(&program)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn values_interpolated_into_a_path_stay_in_their_segment() {
    let out = described_requests(json!({
        "order_id": "A-1/../../7/orders/B-2",
        "term": "x&admin=1#",
        "file": "reports/2026/q3.pdf",
    }));
    for expected in [
        "GET https://orders.acme.example/v2/orders/A-1%2F..%2F..%2F7%2Forders%2FB-2",
        "GET https://orders.acme.example/v2/search?q=x%26admin%3D1%23&page=1",
        // The documented opt-out: a path built with `+` is sent as written.
        "GET https://orders.acme.example/v2/files/reports/2026/q3.pdf",
        "GET https://orders.acme.example/v2/orders/A-1%2F..%2F..%2F7%2Forders%2FB-2/items",
    ] {
        assert!(out.contains(expected), "{expected} not in\n{out}");
    }
}

#[test]
fn a_value_cannot_leave_the_api_prefix() {
    let out = described_requests(json!({
        "order_id": "../../../../admin/delete?all=true#",
        "term": "t",
        "file": "../../admin",
    }));
    assert!(
        out.contains("GET https://orders.acme.example/v2/orders/..%2F..%2F..%2F..%2Fadmin%2Fdelete%3Fall%3Dtrue%23"),
        "{out}"
    );
    assert!(!out.contains("example/admin"), "{out}");
    // A bare `..` (even through the opt-out) is refused rather than resolved.
    assert!(out.contains("`.` or `..` segment"), "{out}");
}

const CRM_PATHS_PROGRAM: &str = r#"agent crm {
    channels: [chat]
    params: { user_id: text }
}

target desk: zendesk {
    subdomain: "acme"
    email: "bot@acme.example"
    token: secret("ZD_TOKEN")
}

target crm: salesforce {
    instance_url: "https://acme.my.salesforce.com"
    token: secret("SF_TOKEN")
}

task user_orgs(id: text) on desk {
    method: GET
    path: "/users/{id}/organizations.json"
}

task account(id: text) on crm {
    method: GET
    path: "/sobjects/Account/{id}"
}

action orgs {
    target: desk
    task: user_orgs(user_id)
}

action read_account {
    target: crm
    task: account(user_id)
}

on message_received do orgs, read_account
"#;

#[test]
fn a_value_in_a_zendesk_or_salesforce_declared_path_stays_under_the_api_root() {
    let out = described_requests_of(CRM_PATHS_PROGRAM, json!({ "user_id": "../../admin?x#" }));
    for expected in [
        "GET https://acme.zendesk.com/api/v2/users/..%2F..%2Fadmin%3Fx%23/organizations.json",
        "GET https://acme.my.salesforce.com/services/data/v59.0/sobjects/Account/..%2F..%2Fadmin%3Fx%23",
    ] {
        assert!(out.contains(expected), "{expected} not in\n{out}");
    }
    assert!(!out.contains("com/admin"), "{out}");
}

// ------------------------------------------------------------- 11. SQL and concurrency

fn sql(statement: &str, timeout: Duration) -> TaskRequest {
    let mut request = task("query", json!({ "statement": statement }), timeout);
    request.task = crate::support::executor_task(Some(agentc::catalogue::Kind::Sql), "query");
    request
}

const FOREVER: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

#[tokio::test]
async fn a_timed_out_sql_statement_is_stopped_and_frees_its_connection() {
    // In memory: one connection, which the runaway statement would hold for ever.
    let db = executor("sql", json!({ "url": "sqlite::memory:" }));
    let error = run(&db, &sql(FOREVER, Duration::from_millis(300)))
        .await
        .unwrap_err();
    assert!(error.message.contains("timed out"), "{}", error.message);
    let started = Instant::now();
    let next = run(&db, &sql("SELECT 1 AS one", Duration::from_secs(10))).await;
    assert_eq!(next.unwrap().to_json(), json!([{ "one": 1 }]));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn sql_results_are_capped_in_rows_and_bytes() {
    let db = executor("sql", json!({ "url": "sqlite::memory:" }));
    let rows = |n: usize, column: &str| {
        sql(
            &format!(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT {n}) \
                 SELECT {column} FROM c"
            ),
            Duration::from_secs(30),
        )
    };
    let limit = ExecutorOptions::default().max_rows;
    let all = run(&db, &rows(limit, "x")).await.unwrap();
    assert!(matches!(all, Value::List(ref items) if items.len() == limit));
    for too_much in [
        rows(limit + 1, "x"),
        rows(12, "hex(zeroblob(500000)) AS big"),
    ] {
        let error = run(&db, &too_much).await.unwrap_err();
        assert!(!error.retryable);
        assert!(error.message.contains("add a LIMIT"), "{}", error.message);
    }
}

/// An HTTP server that answers after 100 ms and records how many requests it held at once.
async fn slow_server(peak: Arc<AtomicUsize>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let in_flight = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (in_flight, peak) = (in_flight.clone(), peak.clone());
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    address
}

#[tokio::test]
async fn a_burst_of_tasks_is_bounded_by_the_target_concurrency() {
    let peak = Arc::new(AtomicUsize::new(0));
    let address = slow_server(peak.clone()).await;
    let api = executor(
        "http",
        json!({ "base_url": format!("http://{address}"), "allow_hosts": ["127.0.0.1"],
                "concurrency": 3 }),
    );
    let request = get("/slow");
    let answers = futures::future::join_all((0..20).map(|_| run(&api, &request))).await;
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    let peak = peak.load(Ordering::SeqCst);
    assert!((1..=3).contains(&peak), "{peak} requests at once");
}

#[test]
fn concurrency_must_be_a_sensible_whole_number() {
    for bad in [json!(0), json!(2.5), json!(100_000)] {
        let error = try_executor(
            "http",
            json!({ "base_url": "https://a.example", "concurrency": bad }),
        )
        .err()
        .unwrap();
        assert!(error.contains("`concurrency`"), "{error}");
    }
}

// ------------------------------------------------------------- 12. transport at run time

#[test]
fn env_base_url_over_plain_http_cannot_carry_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("orders.agent");
    std::fs::write(
        &program,
        r#"agent shop {
    channels: [chat]
}

target orders: http {
    base_url: env("ORDERS_BASE")
    auth: bearer(secret("ORDERS_TOKEN"))
}

action list_orders {
    target: orders
    task: get(path: "/orders")
}

on conversation_started do list_orders
"#,
    )
    .unwrap();
    let events = dir.path().join("events.jsonl");
    std::fs::write(
        &events,
        "{\"conversation\":\"c-1\",\"event\":\"conversation_started\",\"payload\":{}}\n",
    )
    .unwrap();
    let output = assert_cmd::Command::cargo_bin("agentc")
        .unwrap()
        .args(["run", "--trace", "json", "--events"])
        .arg(&events)
        .arg(&program)
        .env("ORDERS_BASE", "http://orders.acme.example/v2")
        .env("ORDERS_TOKEN", "tok-93517")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        out.contains("refusing to send credentials over plain http:// to `orders.acme.example`"),
        "{out}"
    );
    assert!(!out.contains("tok-93517"), "{out}");
}

#[test]
fn a_secret_header_over_plain_http_is_refused_when_the_target_is_built() {
    let secret = Expr::Call(
        "secret".into(),
        vec![Expr::Lit(Value::Text("TEAM_TOKEN".into()))],
    );
    let mut declared = target("t", "http");
    declared.fields = [(
        "headers".to_string(),
        Expr::Record(vec![("X-Team".into(), secret)]),
    )]
    .into_iter()
    .collect();
    let fields =
        record(json!({ "base_url": "http://10.1.2.3:8080/", "headers": { "X-Team": "t-1" } }));
    let error = build(&declared, fields, &ExecutorOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("plain http://"), "{error}");
}

#[test]
fn smtp_login_without_tls_to_a_remote_host_is_refused() {
    let error = try_executor(
        "smtp",
        json!({ "host": "smtp.acme.example", "tls": "none", "from": "a@acme.example",
                "username": "bot", "password": "pw-118" }),
    )
    .err()
    .unwrap();
    assert!(error.contains("tls: none"), "{error}");
    assert!(!error.contains("pw-118"));
}

#[tokio::test]
async fn smtp_hosts_pass_the_address_guard() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    let mail = |extra: serde_json::Value| {
        let mut fields = json!({ "host": "127.0.0.1", "port": port, "tls": "none",
                                 "from": "a@acme.example" });
        let extra = extra.as_object().unwrap().clone();
        fields.as_object_mut().unwrap().extend(extra);
        executor("smtp", fields)
    };
    let send = task(
        "send_email",
        json!({ "to": "b@x.example", "subject": "s", "body": "b" }),
        Duration::from_secs(5),
    );
    let error = run(&mail(json!({})), &send).await.unwrap_err();
    assert!(!error.retryable);
    assert!(
        error.message.contains("refused to connect to 127.0.0.1"),
        "{}",
        error.message
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 0);
    // Named in allow_hosts, the host is reached (and hangs up: the send fails otherwise).
    let _ = run(&mail(json!({ "allow_hosts": ["127.0.0.1"] })), &send).await;
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

// ------------------------------------------------------------- 13. the address table

#[test]
fn addresses_that_are_not_globally_reachable_are_refused_row_by_row() {
    for ip in [
        // IPv4 special-purpose registry, "globally reachable: false".
        "0.1.2.3",
        "0.0.0.0",
        "10.255.255.255",
        "100.64.0.1",
        "100.127.255.254",
        "127.8.8.8",
        "169.254.169.254",
        "172.31.255.255",
        "192.0.0.1",
        "192.0.0.7",
        "192.0.0.8",
        "192.0.0.170",
        "192.0.0.171",
        "192.0.0.255",
        "192.0.2.10",
        "192.88.99.1",
        "192.168.0.1",
        "198.18.0.1",
        "198.19.255.255",
        "198.51.100.7",
        "203.0.113.9",
        "240.0.0.1",
        "255.255.255.255",
        "224.0.0.251",
        // IPv6 special-purpose registry.
        "::1",
        "::",
        "64:ff9b:1::a",
        "100::1",
        "100:0:0:1::1",
        "2001::1",
        "2001:2::1",
        "2001:10::1",
        "2001:db8::1",
        "3fff::1",
        "5f00::1",
        "fd00:ec2::254",
        "fe80::1",
        "fec0::1",
        "ff02::1",
        // IPv4-mapped, -compatible, -translated, NAT64 and 6to4 forms of refused ones.
        "::ffff:127.0.0.1",
        "::ffff:198.18.0.1",
        "::192.0.2.1",
        "::ffff:0:10.0.0.1",
        "64:ff9b::c633:6407",
        "2002:cb00:7109::1",
    ] {
        assert!(is_forbidden_ip(ip.parse().unwrap()), "{ip} must be refused");
    }
    for ip in [
        "8.8.8.8",
        "93.184.216.34",
        "192.0.0.9",
        "192.0.0.10",
        "198.20.0.1",
        "2606:4700::1111",
        "2001:1::1",
        "2001:3::1",
        "2001:4:112::1",
        "2001:20::1",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ] {
        assert!(
            !is_forbidden_ip(ip.parse().unwrap()),
            "{ip} must be allowed"
        );
    }
}

#[test]
fn this_machines_own_addresses_are_refused() {
    let own: Vec<std::net::IpAddr> = nix::ifaddrs::getifaddrs()
        .unwrap()
        .filter_map(|interface| {
            let address = interface.address?;
            if let Some(v4) = address.as_sockaddr_in() {
                return Some(std::net::Ipv4Addr::from(v4.ip()).into());
            }
            address.as_sockaddr_in6().map(|v6| v6.ip().into())
        })
        .collect();
    assert!(!own.is_empty());
    for ip in own {
        assert!(is_forbidden_ip(ip), "{ip} is this machine's");
    }
}

#[tokio::test]
async fn a_benchmarking_address_is_refused_before_any_connection() {
    let api = executor("http", json!({ "base_url": "http://198.18.0.1/v1" }));
    let started = Instant::now();
    let error = run(&api, &get("/orders")).await.unwrap_err();
    assert!(!error.retryable);
    assert!(error.message.contains("Benchmarking"), "{}", error.message);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn a_timed_out_postgres_statement_is_cancelled_by_the_server() {
    let Ok(url) = std::env::var("AGENTC_TEST_POSTGRES_URL") else {
        eprintln!("note: skipping the PostgreSQL test (set AGENTC_TEST_POSTGRES_URL, see .ci/postgres.sh)");
        return;
    };
    let db = executor("sql", json!({ "url": url }));
    let error = run(&db, &sql("SELECT pg_sleep(30)", Duration::from_millis(300)))
        .await
        .unwrap_err();
    assert!(error.message.contains("timed out"), "{}", error.message);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let still_sleeping = run(
        &db,
        &sql(
            "SELECT count(*)::int8 AS n FROM pg_stat_activity \
             WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'",
            Duration::from_secs(5),
        ),
    )
    .await
    .unwrap();
    assert_eq!(still_sleeping.to_json(), json!([{ "n": 0 }]));
}
