//! Retries never duplicate (issue 12): `agentc run` against real local servers that answer
//! the first request more slowly than the action's timeout, and count what they received.
//! An SMS and a Case are sent once whatever the retry settings, and their actions fail as
//! `outcome_unknown`; a Zendesk ticket is sent again with the same `Idempotency-Key`, which
//! Zendesk deduplicates, so one ticket is opened; a refused connection is tried again.

use assert_cmd::Command;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
/// Longer than the actions' 400 ms timeout.
const SLOW: Duration = Duration::from_millis(1_500);

/// Answers `created` with 201, the first time only after [`SLOW`]; with `dedup`, a request
/// whose `Idempotency-Key` was seen before gets the first one's resource back, as Zendesk
/// documents for ticket creation. `created()` is how many resources it made.
struct SlowFirst {
    created: serde_json::Value,
    dedup: bool,
    calls: AtomicUsize,
    by_key: Mutex<HashMap<String, usize>>,
}

impl SlowFirst {
    fn new(created: serde_json::Value, dedup: bool) -> Self {
        SlowFirst {
            created,
            dedup,
            calls: AtomicUsize::new(0),
            by_key: Mutex::new(HashMap::new()),
        }
    }
}

impl Respond for &'static SlowFirst {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let key = request
            .headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut by_key = self.by_key.lock().unwrap();
        let seen = self.dedup && key.as_ref().is_some_and(|k| by_key.contains_key(k));
        let next = by_key.len();
        by_key
            .entry(key.unwrap_or_else(|| call.to_string()))
            .or_insert(next);
        let answer = ResponseTemplate::new(if seen { 200 } else { 201 })
            .insert_header("x-idempotency-lookup", if seen { "hit" } else { "miss" })
            .set_body_json(&self.created);
        if call == 0 {
            answer.set_delay(SLOW)
        } else {
            answer
        }
    }
}

fn program(sms: &str, salesforce: &str, zendesk: &str, retry: &str) -> String {
    program_with(sms, salesforce, zendesk, retry, "")
}

/// The program, with `more` declarations after it.
fn program_with(sms: &str, salesforce: &str, zendesk: &str, retry: &str, more: &str) -> String {
    format!(
        r#"
agent desk {{
  channels: [chat]
}}

target texts: sms {{
  account_sid: "{ACCOUNT}"
  auth_token: secret("TWILIO_AUTH_TOKEN")
  from: "+15550100"
  base_url: "{sms}"
  allow_hosts: ["127.0.0.1"]
  timeout: 400ms
  {retry}
}}

target crm: salesforce {{
  base_url: "{salesforce}"
  token: secret("SALESFORCE_TOKEN")
  allow_hosts: ["127.0.0.1"]
  timeout: 400ms
  {retry}
}}

target helpdesk: zendesk {{
  base_url: "{zendesk}"
  email: "bot@example.com"
  token: secret("ZENDESK_TOKEN")
  allow_hosts: ["127.0.0.1"]
  timeout: 400ms
  {retry}
}}

action text {{
  target: texts
  task: send_sms(to: "+15550101", body: "Your order is on its way")
}}

action open_case {{
  target: crm
  task: create_case(subject: "No power", description: "Since 9am")
}}

action open_ticket {{
  target: helpdesk
  task: create_ticket(subject: "Refund", comment: "Order A-1")
}}

on message_received do text, open_case, open_ticket
{more}"#
    )
}

/// Runs the program on one message with `--trace json`; the action records by name.
fn run(source: String) -> HashMap<String, serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("desk.agent"), source).unwrap();
    let output = Command::cargo_bin("agentc")
        .unwrap()
        .current_dir(dir.path())
        .env("TWILIO_AUTH_TOKEN", "twilio-token")
        .env("SALESFORCE_TOKEN", "salesforce-token")
        .env("ZENDESK_TOKEN", "zendesk-token")
        .args(["run", "desk.agent", "--events", "-", "--trace", "json"])
        .write_stdin(concat!(
            r#"{"conversation":"c-1","event":"message_received","payload":{"text":"hi"}}"#,
            "\n"
        ))
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["type"] == "action")
        .map(|r| (r["action"].as_str().unwrap().to_string(), r))
        .collect()
}

async fn server(responder: &'static SlowFirst) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(responder)
        .mount(&server)
        .await;
    server
}

fn leak(responder: SlowFirst) -> &'static SlowFirst {
    Box::leak(Box::new(responder))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_first_answer_sends_one_sms_one_case_and_one_ticket_whatever_the_retries() {
    for retry in [
        "",
        "retry: { attempts: 3, backoff: 10ms, max_backoff: 20ms }",
        "retry: { attempts: 10, backoff: 1ms }",
    ] {
        let sms = leak(SlowFirst::new(
            serde_json::json!({ "sid": "SM1", "status": "queued" }),
            false,
        ));
        let case = leak(SlowFirst::new(
            serde_json::json!({ "id": "5005g00000XyZ1", "success": true, "errors": [] }),
            false,
        ));
        let ticket = leak(SlowFirst::new(
            serde_json::json!({ "ticket": { "id": 35436 } }),
            true,
        ));
        let (sms_server, case_server, ticket_server) =
            (server(sms).await, server(case).await, server(ticket).await);
        let source = program(
            &sms_server.uri(),
            &case_server.uri(),
            &ticket_server.uri(),
            retry,
        );
        let actions = tokio::task::spawn_blocking(move || run(source))
            .await
            .unwrap();

        assert_eq!(
            sms_server.received_requests().await.unwrap().len(),
            1,
            "{retry}"
        );
        assert_eq!(
            case_server.received_requests().await.unwrap().len(),
            1,
            "{retry}"
        );
        for unsafe_action in ["text", "open_case"] {
            let record = &actions[unsafe_action];
            assert_eq!(record["status"], "failed", "{retry}: {record}");
            assert_eq!(record["error_kind"], "outcome_unknown", "{retry}: {record}");
            assert_eq!(record["attempts"], 1, "{retry}: {record}");
        }

        // One ticket: a retried creation carries the first try's key, and Zendesk answers
        // it with the ticket the first one opened.
        let tickets = ticket_server.received_requests().await.unwrap();
        let keys: Vec<_> = tickets
            .iter()
            .map(|r| r.headers["idempotency-key"].clone())
            .collect();
        assert_eq!(ticket.by_key.lock().unwrap().len(), 1, "{retry}: {keys:?}");
        let record = &actions["open_ticket"];
        if retry.is_empty() {
            assert_eq!(tickets.len(), 1);
            assert_eq!(record["status"], "failed", "{record}");
            assert!(record.get("error_kind").is_none(), "{record}");
        } else {
            assert_eq!(tickets.len(), 2, "{retry}");
            assert!(keys.windows(2).all(|w| w[0] == w[1]), "{keys:?}");
            assert_eq!(record["status"], "ok", "{record}");
            assert_eq!(record["attempts"], 2, "{record}");
        }
    }
}

/// A refused connection provably sent nothing: even an SMS and an email are tried again.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_connection_is_tried_again_even_for_an_sms_or_an_email() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let closed = format!("http://127.0.0.1:{port}");
    let retry = "retry: { attempts: 3, backoff: 10ms, max_backoff: 20ms }";
    let mail = format!(
        r#"
target mail: smtp {{
  base_url: "smtp://127.0.0.1:{port}"
  tls: none
  from: "bot@example.com"
  allow_hosts: ["127.0.0.1"]
  timeout: 400ms
  {retry}
}}

action email {{
  target: mail
  task: send_email(to: "ana@example.com", subject: "Your order", body: "On its way")
}}

on message_received do email
"#
    );
    let source = program_with(&closed, &closed, &closed, retry, &mail);
    let actions = tokio::task::spawn_blocking(move || run(source))
        .await
        .unwrap();
    for name in ["text", "email"] {
        let record = &actions[name];
        assert_eq!(record["status"], "failed", "{record}");
        assert_eq!(record["attempts"], 3, "{record}");
        assert!(record.get("error_kind").is_none(), "{record}");
        let error = record["error"].as_str().unwrap();
        assert!(error.contains("connect"), "{error}");
    }
}
