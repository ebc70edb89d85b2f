//! In-process loopback services that answer `mock` statements at the protocol level, for
//! `agentc test`, `agentc run --mocks` and the REPL.
//!
//! [`MockServices::start`] opens one HTTP server and one SMTP server on 127.0.0.1 (random
//! ports). [`MockServices::redirect`] gives, for each external target, the fields that point
//! it at them; the executors then run unchanged, so a mocked run exercises the real request
//! building, auth, idempotency keys and answer parsing.
//!
//! # HTTP targets (kinds of [`Protocol::Http`])
//!
//! Each target is served under its own prefix (`http://127.0.0.1:PORT/<target>`). A rule
//! `mock T METHOD "PATH" -> STATUS BODY` answers a request to target `T` when:
//! - the method is equal (case-insensitive);
//! - the path is equal, segment by segment, where a rule segment `*` or `{name}` matches any
//!   one segment. The path is relative to the target's base address, and the kind's API
//!   prefix (its `api_prefix`) may be left out: `/tickets.json` matches Zendesk's
//!   `/api/v2/tickets.json`, `/sobjects/Case` Salesforce's `/services/data/v59.0/sobjects/Case`,
//!   `/Messages.json` Twilio's `/2010-04-01/Accounts/{sid}/Messages.json`;
//! - if the rule's path has a query (`/search?q=ana`), every pair in it is in the request's.
//!
//! The same (target, method, path) given several times answers in sequence: the first
//! matching request gets the first rule, the second the second, and the last one repeats
//! (`500` then `200` tests a retry). When rules with different paths match, the one
//! declared first wins. The status defaults to 200; a text body is sent as `text/plain`,
//! any other body as JSON, no body as an empty answer.
//!
//! A request no rule answers is recorded with `mocked: false` and answered `404` with a
//! JSON error naming the missing mock, so `agentc test` can fail with that name; a 404 is
//! not retried, so one unmocked call is one record.
//!
//! # SMTP targets ([`Protocol::Smtp`])
//!
//! The SMTP server accepts every message and records it ([`RecordedEmail`]); no rule is
//! needed. A rule `mock MAIL RCPT "bad@x.example" -> 550 "mailbox unavailable"` rejects that
//! recipient (`"*"` rejects all) with the given code and text. The target is known from the
//! SMTP login, which `redirect` sets to the target's name (with a dummy password, so no
//! real credential ever reaches the mock).
//!
//! `sql` targets ([`Protocol::Sql`]) are not redirected: a [`MockedWorld`] gives each an
//! in-memory SQLite database, or keeps the declared one ([`SqlTargets`]).
//!
//! A kind whose protocol renews its token against the service (`renews_token`: Salesforce's
//! OAuth client) gets a dummy `token` and loses those fields: no real credential reaches the
//! mock, and no mock is needed for the token endpoint.

mod http_server;
mod smtp_server;
mod world;

pub use world::{run_sql, MockSecrets, MockedWorld, ServicesDown, SqlTargets};

use crate::catalogue::Protocol;
use crate::ir::{self, Value};
use indexmap::IndexMap;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// One `mock` statement.
#[derive(Clone, Debug, PartialEq)]
pub struct MockRule {
    pub target: String,
    /// `GET`, `POST`, ... or `RCPT` for SMTP targets.
    pub method: String,
    pub path: String,
    pub status: u16,
    /// `Value::Null` answers an empty body.
    pub body: Value,
}

impl MockRule {
    /// A rule as written (`status` defaults to 200).
    pub fn new(
        target: impl Into<String>,
        method: impl Into<String>,
        path: impl Into<String>,
        status: Option<u16>,
        body: Option<Value>,
    ) -> Self {
        MockRule {
            target: target.into(),
            method: method.into().to_ascii_uppercase(),
            path: path.into(),
            status: status.unwrap_or(200),
            body: body.unwrap_or(Value::Null),
        }
    }

    /// The rule of a test's `mock` step, if the step is one.
    pub fn from_step(step: &ir::TestStep) -> Option<Self> {
        match step {
            ir::TestStep::Mock {
                target,
                method,
                path,
                status,
                body,
                ..
            } => Some(MockRule::new(
                target.as_str(),
                method.as_str(),
                path.as_str(),
                *status,
                body.clone(),
            )),
            _ => None,
        }
    }
}

/// One HTTP request a mock received.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedRequest {
    pub target: String,
    pub method: String,
    /// Relative to the target's base address (`/api/v2/tickets.json`).
    pub path: String,
    pub query: IndexMap<String, Value>,
    /// Lower-cased names. `authorization` keeps only its scheme (`Basic [redacted]`).
    pub headers: IndexMap<String, String>,
    /// JSON as a value, a form as a record, anything else as text; empty is null.
    pub body: Value,
    /// False when no rule answered it.
    pub mocked: bool,
    /// The status it was answered with.
    pub status: u16,
}

impl RecordedRequest {
    /// `{ target, method, path, query, headers, body }` for `expect request` checks.
    pub fn to_value(&self) -> Value {
        Value::Record(IndexMap::from([
            ("target".to_string(), Value::Text(self.target.clone())),
            ("method".to_string(), Value::Text(self.method.clone())),
            ("path".to_string(), Value::Text(self.path.clone())),
            ("query".to_string(), Value::Record(self.query.clone())),
            (
                "headers".to_string(),
                Value::Record(
                    self.headers
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::Text(v.clone())))
                        .collect(),
                ),
            ),
            ("body".to_string(), self.body.clone()),
        ]))
    }
}

/// One email the SMTP mock accepted.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedEmail {
    pub target: String,
    /// The envelope sender and the recipients the server accepted.
    pub from: String,
    pub recipients: Vec<String>,
    /// From the message's headers.
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    pub body: String,
    pub message_id: Option<String>,
}

impl RecordedEmail {
    /// `{ target, from, to, cc, reply_to, subject, body, message_id }` for `expect email`.
    pub fn to_value(&self) -> Value {
        let texts =
            |items: &[String]| Value::List(items.iter().cloned().map(Value::Text).collect());
        let opt = |v: &Option<String>| v.clone().map_or(Value::Null, Value::Text);
        Value::Record(IndexMap::from([
            ("target".to_string(), Value::Text(self.target.clone())),
            ("from".to_string(), Value::Text(self.from.clone())),
            ("to".to_string(), texts(&self.to)),
            ("cc".to_string(), texts(&self.cc)),
            ("reply_to".to_string(), opt(&self.reply_to)),
            ("subject".to_string(), Value::Text(self.subject.clone())),
            ("body".to_string(), Value::Text(self.body.clone())),
            ("message_id".to_string(), opt(&self.message_id)),
        ]))
    }
}

/// What the servers share: the rules, how often each sequence was used, what was received.
#[derive(Default)]
struct Book {
    rules: Vec<MockRule>,
    /// Hits per (target, method, path) sequence.
    hits: HashMap<(String, String, String), usize>,
    /// Target name → its kind's API prefix, learnt by `redirect`, for the shorthand.
    api_prefixes: HashMap<String, &'static str>,
    requests: Vec<RecordedRequest>,
    emails: Vec<RecordedEmail>,
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Book>>);

impl Shared {
    /// A poisoned lock only means a server task panicked mid-update; the data is still the
    /// best record there is.
    fn lock(&self) -> MutexGuard<'_, Book> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The running mock servers; dropping it stops them.
pub struct MockServices {
    shared: Shared,
    http: SocketAddr,
    smtp: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl MockServices {
    /// Starts both servers on 127.0.0.1 with these rules. Needs a running tokio runtime.
    pub async fn start(rules: Vec<MockRule>) -> std::io::Result<MockServices> {
        let shared = Shared::default();
        shared.lock().rules = rules;
        let (http, http_task) = http_server::start(shared.clone()).await?;
        let (smtp, smtp_task) = smtp_server::start(shared.clone()).await?;
        Ok(MockServices {
            shared,
            http,
            smtp,
            tasks: vec![http_task, smtp_task],
        })
    }

    /// Adds a rule (a `mock` typed in the REPL); it answers after the existing ones.
    pub fn add_rule(&self, rule: MockRule) {
        self.shared.lock().rules.push(rule);
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http
    }

    pub fn smtp_addr(&self) -> SocketAddr {
        self.smtp
    }

    /// The fields that point an external target at the mocks, to lay over its own fields;
    /// `None` for kinds they do not stand in for (SQL, in-process).
    pub fn redirect(&self, target: &ir::Target) -> Option<IndexMap<String, Value>> {
        let text = |s: String| Value::Text(s);
        let fields = match protocol(target) {
            Protocol::Http {
                api_prefix,
                renews_token,
            } => {
                self.shared
                    .lock()
                    .api_prefixes
                    .insert(target.name.clone(), api_prefix);
                let mut fields = IndexMap::from([
                    (
                        "base_url".to_string(),
                        text(format!("http://{}/{}", self.http, target.name)),
                    ),
                    (
                        "allow_hosts".to_string(),
                        Value::List(vec![text(self.http.ip().to_string())]),
                    ),
                ]);
                if !renews_token.is_empty() {
                    fields.insert("token".to_string(), text("mock".into()));
                    for name in renews_token {
                        fields.insert(name.to_string(), Value::Null);
                    }
                }
                fields
            }
            Protocol::Smtp => IndexMap::from([
                (
                    "base_url".to_string(),
                    text(format!("smtp://{}", self.smtp)),
                ),
                ("tls".to_string(), text("none".into())),
                (
                    "allow_hosts".to_string(),
                    Value::List(vec![text(self.smtp.ip().to_string())]),
                ),
                ("username".to_string(), text(target.name.clone())),
                ("password".to_string(), text("mock".into())),
            ]),
            Protocol::Sql | Protocol::InProcess => return None,
        };
        Some(fields)
    }

    /// Every HTTP request received, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// The requests no rule answered.
    pub fn unmocked(&self) -> Vec<RecordedRequest> {
        let book = self.shared.lock();
        book.requests
            .iter()
            .filter(|r| !r.mocked)
            .cloned()
            .collect()
    }

    /// The requests to `target` that a rule `mock target METHOD "path"` would match: what
    /// `expect request target METHOD "path"` looks for.
    pub fn requests_to(&self, target: &str, method: &str, path: &str) -> Vec<RecordedRequest> {
        let book = self.shared.lock();
        let prefix = book.api_prefixes.get(target).copied().unwrap_or_default();
        book.requests
            .iter()
            .filter(|r| {
                r.target == target
                    && r.method.eq_ignore_ascii_case(method)
                    && path_matches(prefix, path, &r.path, &r.query)
            })
            .cloned()
            .collect()
    }

    /// Every email accepted, in order.
    pub fn emails(&self) -> Vec<RecordedEmail> {
        self.shared.lock().emails.clone()
    }
}

impl Drop for MockServices {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Book {
    /// The rule answering a request, advancing its sequence.
    fn answer(
        &mut self,
        target: &str,
        method: &str,
        path: &str,
        query: &IndexMap<String, Value>,
    ) -> Option<MockRule> {
        let prefix = self.api_prefixes.get(target).copied().unwrap_or_default();
        let first = self.rules.iter().find(|rule| {
            rule.target == target
                && rule.method.eq_ignore_ascii_case(method)
                && path_matches(prefix, &rule.path, path, query)
        })?;
        let key = (
            first.target.clone(),
            first.method.clone(),
            first.path.clone(),
        );
        let sequence: Vec<&MockRule> = self
            .rules
            .iter()
            .filter(|r| (&r.target, &r.method, &r.path) == (&key.0, &key.1, &key.2))
            .collect();
        let hits = self.hits.entry(key).or_insert(0);
        let rule = sequence[(*hits).min(sequence.len() - 1)].clone();
        *hits += 1;
        Some(rule)
    }

    /// The SMTP rejection of a recipient, if a rule gives one.
    fn rejection(&self, target: &str, recipient: &str) -> Option<MockRule> {
        self.rules
            .iter()
            .find(|rule| {
                rule.target == target
                    && rule.method == "RCPT"
                    && (rule.path == "*" || rule.path.eq_ignore_ascii_case(recipient))
                    && rule.status >= 400
            })
            .cloned()
    }
}

/// What a target's kind speaks (`None` for a kind the catalogue does not know).
pub fn protocol(target: &ir::Target) -> Protocol {
    target.kind.spec().protocol
}

/// The API prefix of a target of an HTTP kind (empty for others and for plain `http`).
pub fn api_prefix(target: &ir::Target) -> &'static str {
    match protocol(target) {
        Protocol::Http { api_prefix, .. } => api_prefix,
        _ => "",
    }
}

/// Whether a rule's path (maybe with a query) matches a received path and query, on a
/// target whose kind has API prefix `prefix`. See the module's documentation.
pub fn path_matches(prefix: &str, rule: &str, path: &str, query: &IndexMap<String, Value>) -> bool {
    let (rule_path, rule_query) = rule.split_once('?').unwrap_or((rule, ""));
    let query_ok = url::form_urlencoded::parse(rule_query.as_bytes()).all(|(k, v)| {
        match query.get(k.as_ref()) {
            Some(Value::List(items)) => items.iter().any(|i| i.to_string() == v),
            Some(value) => value.to_string() == v,
            None => false,
        }
    });
    query_ok
        && (segments_match(rule_path, path)
            || strip_api_prefix(prefix, path).is_some_and(|short| segments_match(rule_path, short)))
}

fn segments_match(rule: &str, path: &str) -> bool {
    let rule: Vec<&str> = rule.trim_matches('/').split('/').collect();
    let path: Vec<&str> = path.trim_matches('/').split('/').collect();
    rule.len() == path.len()
        && rule
            .iter()
            .zip(&path)
            .all(|(r, p)| *r == "*" || (r.starts_with('{') && r.ends_with('}')) || r == p)
}

/// The path without an API prefix (`/api/v2`, `/services/data/v*`): `None` when the path
/// is not under it, or there is none. A prefix segment `*` is any one segment, `v*` any
/// one starting with `v`.
fn strip_api_prefix<'p>(prefix: &str, path: &'p str) -> Option<&'p str> {
    if prefix.is_empty() {
        return None;
    }
    let mut rest = path;
    for wanted in prefix.trim_start_matches('/').split('/') {
        let segment = rest.strip_prefix('/')?;
        let end = segment.find('/').unwrap_or(segment.len());
        let (got, after) = segment.split_at(end);
        let fits = match wanted.strip_suffix('*') {
            Some(start) => got.starts_with(start),
            None => got == wanted,
        };
        if !fits {
            return None;
        }
        rest = after;
    }
    Some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(kind: &str, rule: &str, path: &str) -> bool {
        let target = ir::Target {
            name: "t".into(),
            kind: crate::catalogue::Kind::parse(kind).unwrap(),
            fields: Default::default(),
            timeout_ms: None,
            retry: None,
        };
        path_matches(api_prefix(&target), rule, path, &IndexMap::new())
    }

    #[test]
    fn matches_paths_with_wildcards_and_api_prefixes() {
        assert!(matches("http", "/orders/{id}", "/orders/42"));
        assert!(matches("http", "/orders/*", "/orders/42"));
        assert!(!matches("http", "/orders", "/orders/42"));
        assert!(matches("zendesk", "/tickets.json", "/api/v2/tickets.json"));
        assert!(matches(
            "zendesk",
            "/api/v2/tickets.json",
            "/api/v2/tickets.json"
        ));
        assert!(matches(
            "salesforce",
            "/sobjects/Case",
            "/services/data/v59.0/sobjects/Case"
        ));
        assert!(!matches(
            "salesforce",
            "/sobjects/Case",
            "/services/data/59.0/sobjects/Case"
        ));
        assert!(matches(
            "sms",
            "/Messages.json",
            "/2010-04-01/Accounts/AC1/Messages.json"
        ));
        assert!(!matches("http", "/tickets.json", "/api/v2/tickets.json"));
        assert!(!matches("zendesk", "/tickets.json", "/api/v3/tickets.json"));
    }

    #[test]
    fn matches_query_pairs() {
        let query = IndexMap::from([("q".to_string(), Value::Text("ana".into()))]);
        assert!(path_matches("", "/search?q=ana", "/search", &query));
        assert!(!path_matches("", "/search?q=bob", "/search", &query));
        assert!(path_matches("", "/search", "/search", &query));
    }

    #[test]
    fn repeated_rules_answer_in_sequence() {
        let mut book = Book {
            rules: vec![
                MockRule::new("api", "GET", "/x", Some(500), None),
                MockRule::new("api", "get", "/x", Some(200), None),
            ],
            ..Book::default()
        };
        let none = IndexMap::new();
        let statuses: Vec<u16> = (0..3)
            .map(|_| book.answer("api", "GET", "/x", &none).unwrap().status)
            .collect();
        assert_eq!(statuses, [500, 200, 200]);
        assert!(book.answer("api", "POST", "/x", &none).is_none());
    }
}
