//! Every request agentc sends to a real service, held to the service's own description: one
//! row per task with its method, path, content type, auth form and the fields the body or
//! query must carry, exact names and casing, and the document each fact comes from. The
//! facts are written here, not vendored: each row cites where to check them.
//!
//! - Zendesk: the Support API's OpenAPI document (developer.zendesk.com, "Ticketing API"
//!   `oas.yaml`), by operation id.
//! - Salesforce: the REST API Developer Guide ("sObject Basic Information", "sObject Rows",
//!   "Query") and the Case / CaseComment / Contact object references for field names.
//! - Twilio: `twilio-oai`'s `twilio_api_v2010.json`, operation `CreateMessage`.

use agentc::catalogue::Kind;
use agentc::runtime::effects::Executor;
use indexmap::IndexMap;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// How a request authenticates.
#[derive(Clone, Copy, Debug)]
enum Auth {
    /// `Authorization: Basic base64(user:password)`.
    Basic(&'static str, &'static str),
    /// `Authorization: Bearer TOKEN`.
    Bearer(&'static str),
}

/// What the body is and which fields it must carry (JSON pointers, or form keys).
#[derive(Clone, Copy, Debug)]
enum Body {
    None,
    Json(&'static [&'static str]),
    Form(&'static [&'static str]),
}

struct Row {
    kind: &'static str,
    task: &'static str,
    args: fn() -> serde_json::Value,
    method: &'static str,
    /// Under the service's root (`/api/v2` is written out).
    path: &'static str,
    /// Query keys the request must carry.
    query: &'static [&'static str],
    body: Body,
    auth: Auth,
    /// Where the facts of this row are written.
    source: &'static str,
}

const ZENDESK_AUTH: Auth = Auth::Basic("bot@acme.example/token", "zd-tok");
const SALESFORCE_AUTH: Auth = Auth::Bearer("sf-tok");

/// Makes the rows of one service: the rest of a [`Row`], in order.
type RowsOf = Box<
    dyn Fn(
        &'static str,
        fn() -> serde_json::Value,
        &'static str,
        &'static str,
        &'static [&'static str],
        Body,
        &'static str,
    ) -> Row,
>;

fn service(kind: &'static str, auth: Auth) -> RowsOf {
    Box::new(move |task, args, method, path, query, body, source| Row {
        kind,
        task,
        args,
        method,
        path,
        query,
        body,
        auth,
        source,
    })
}

fn rows() -> Vec<Row> {
    let zendesk = service("zendesk", ZENDESK_AUTH);
    let salesforce = service("salesforce", SALESFORCE_AUTH);
    vec![
        zendesk(
            "create_ticket",
            || json!({"subject": "Broken", "comment": "It broke", "priority": "high", "tags": ["vip"], "requester_email": "jo@example.com"}),
            "POST",
            "/api/v2/tickets.json",
            &[],
            Body::Json(&["/ticket/subject", "/ticket/comment/body", "/ticket/priority", "/ticket/tags", "/ticket/requester/email"]),
            "Zendesk OAS CreateTicket: POST /api/v2/tickets, TicketCreateInput (subject, comment.body, priority, tags, requester.email)",
        ),
        zendesk(
            "update_ticket",
            || json!({"ticket_id": 7, "fields": {"status": "pending"}}),
            "PUT",
            "/api/v2/tickets/7.json",
            &[],
            Body::Json(&["/ticket/status"]),
            "Zendesk OAS UpdateTicket: PUT /api/v2/tickets/{ticket_id}, body { ticket: TicketUpdateInput }",
        ),
        zendesk(
            "add_tags",
            || json!({"ticket_id": 7, "tags": ["vip"]}),
            "PUT",
            "/api/v2/tickets/7/tags.json",
            &[],
            Body::Json(&["/tags"]),
            "Zendesk OAS PutTagList (Add Tags): PUT /api/v2/tickets/{ticket_id}/tags, body { tags }",
        ),
        zendesk(
            "add_internal_note",
            || json!({"ticket_id": 7, "body": "Called back"}),
            "PUT",
            "/api/v2/tickets/7.json",
            &[],
            Body::Json(&["/ticket/comment/body", "/ticket/comment/public"]),
            "Zendesk OAS UpdateTicket with a comment whose `public` is false (a private note)",
        ),
        zendesk(
            "get_user",
            || json!({"user_id": 9}),
            "GET",
            "/api/v2/users/9.json",
            &[],
            Body::None,
            "Zendesk OAS ShowUser: GET /api/v2/users/{user_id}",
        ),
        zendesk(
            "get_ticket",
            || json!({"ticket_id": 7}),
            "GET",
            "/api/v2/tickets/7.json",
            &[],
            Body::None,
            "Zendesk OAS ShowTicket: GET /api/v2/tickets/{ticket_id}",
        ),
        zendesk(
            "get_ticket_tags",
            || json!({"ticket_id": 7}),
            "GET",
            "/api/v2/tickets/7/tags.json",
            &[],
            Body::None,
            "Zendesk OAS ListResourceTags: GET /api/v2/tickets/{ticket_id}/tags",
        ),
        zendesk(
            "merge_tickets",
            || json!({"ids": [5, 6], "into": 7}),
            "POST",
            "/api/v2/tickets/7/merge.json",
            &[],
            Body::Json(&["/ids"]),
            "Zendesk OAS MergeTicketsIntoTargetTicket: POST /api/v2/tickets/{ticket_id}/merge, body { ids }",
        ),
        zendesk(
            "get_organization",
            || json!({"org_id": 3}),
            "GET",
            "/api/v2/organizations/3.json",
            &[],
            Body::None,
            "Zendesk OAS ShowOrganization: GET /api/v2/organizations/{organization_id}",
        ),
        zendesk(
            "apply_macro",
            || json!({"ticket_id": 7, "macro_id": 99}),
            "GET",
            "/api/v2/macros/99/apply.json",
            &[],
            Body::None,
            "Zendesk OAS ShowChangesToTicket: GET /api/v2/macros/{macro_id}/apply (then UpdateTicket with safe_update and updated_stamp)",
        ),
        zendesk(
            "search",
            || json!({"query": "type:ticket status:open", "sort_by": "updated_at", "sort_order": "desc"}),
            "GET",
            "/api/v2/search.json",
            &["query", "sort_by", "sort_order"],
            Body::None,
            "Zendesk OAS ListSearchResults: GET /api/v2/search?query=&sort_by=&sort_order=",
        ),
        zendesk(
            "create_or_update_user",
            || json!({"name": "Jo", "email": "jo@example.com"}),
            "POST",
            "/api/v2/users/create_or_update.json",
            &[],
            Body::Json(&["/user/name", "/user/email"]),
            "Zendesk OAS CreateOrUpdateUser: POST /api/v2/users/create_or_update, body { user: { name, email } }",
        ),
        zendesk(
            "update_user",
            || json!({"user_id": 9, "fields": {"phone": "+15550100"}}),
            "PUT",
            "/api/v2/users/9.json",
            &[],
            Body::Json(&["/user/phone"]),
            "Zendesk OAS UpdateUser: PUT /api/v2/users/{user_id}, body { user }",
        ),
        salesforce(
            "create_case",
            || json!({"subject": "Broken", "description": "It broke", "priority": "High", "origin": "Chat"}),
            "POST",
            "/services/data/v59.0/sobjects/Case",
            &[],
            Body::Json(&["/Subject", "/Description", "/Priority", "/Origin"]),
            "Salesforce REST API Guide, sObject Basic Information (POST creates a record); Case object: Subject, Description, Priority, Origin",
        ),
        salesforce(
            "update_case",
            || json!({"case_id": "500A", "fields": {"Status": "Closed"}}),
            "PATCH",
            "/services/data/v59.0/sobjects/Case/500A",
            &[],
            Body::Json(&["/Status"]),
            "Salesforce REST API Guide, sObject Rows: PATCH /sobjects/Case/{id} updates the fields given",
        ),
        salesforce(
            "add_case_comment",
            || json!({"case_id": "500A", "body": "Called back"}),
            "POST",
            "/services/data/v59.0/sobjects/CaseComment",
            &[],
            Body::Json(&["/ParentId", "/CommentBody"]),
            "Salesforce REST API Guide, sObject Basic Information; CaseComment object: ParentId, CommentBody",
        ),
        salesforce(
            "find_contact",
            || json!({"email": "jo@example.com"}),
            "GET",
            "/services/data/v59.0/query",
            &["q"],
            Body::None,
            "Salesforce REST API Guide, Query: GET /query?q=SOQL; Contact object: Email, Phone",
        ),
        salesforce(
            "query",
            || json!({"soql": "SELECT Id FROM Case WHERE Status = :s", "values": {"s": "New"}}),
            "GET",
            "/services/data/v59.0/query",
            &["q"],
            Body::None,
            "Salesforce REST API Guide, Query: GET /query?q=SOQL",
        ),
        salesforce(
            "get_case",
            || json!({"case_id": "500A"}),
            "GET",
            "/services/data/v59.0/sobjects/Case/500A",
            &[],
            Body::None,
            "Salesforce REST API Guide, sObject Rows: GET /sobjects/Case/{id}",
        ),
        Row {
            kind: "sms",
            task: "send_sms",
            args: || json!({"to": "+33612345678", "body": "Your order ships today!"}),
            method: "POST",
            path: "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json",
            query: &[],
            body: Body::Form(&["To", "From", "Body"]),
            auth: Auth::Basic("AC0123456789abcdef0123456789abcdef", "tw-tok"),
            source: "twilio-oai twilio_api_v2010.json CreateMessage: POST /2010-04-01/Accounts/{AccountSid}/Messages.json, application/x-www-form-urlencoded To, From, Body; HTTP basic AccountSid:AuthToken",
        },
    ]
}

fn executor(kind: &str, server: &MockServer) -> Arc<dyn Executor> {
    let fields = match kind {
        "zendesk" => json!({"base_url": server.uri(), "email": "bot@acme.example",
                            "token": "zd-tok", "allow_hosts": ["127.0.0.1"]}),
        "salesforce" => json!({"instance_url": "https://acme.my.salesforce.com",
                               "base_url": server.uri(), "token": "sf-tok",
                               "allow_hosts": ["127.0.0.1"]}),
        _ => json!({"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "tw-tok",
                    "from": "+15550100", "base_url": server.uri(),
                    "allow_hosts": ["127.0.0.1"]}),
    };
    crate::support::executor(kind, fields)
}

fn authorization(auth: Auth) -> String {
    use base64::Engine as _;
    match auth {
        Auth::Basic(user, password) => format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        ),
        Auth::Bearer(token) => format!("Bearer {token}"),
    }
}

/// Each task's first request is the one its row describes.
#[tokio::test]
async fn every_service_request_is_what_the_services_own_description_says() {
    let mut tasks_seen: IndexMap<&str, Vec<&str>> = IndexMap::new();
    for row in rows() {
        tasks_seen.entry(row.kind).or_default().push(row.task);
        let server = MockServer::start().await;
        // One answer that every task can read: envelopes, lists, `updated_at`, an id.
        Mock::given(wiremock::matchers::any())
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "ticket": {"id": 7, "updated_at": "2026-11-30T09:12:00Z"},
                "result": {"ticket": {"status": "open"}},
                "records": [], "results": [], "tags": [], "user": {"id": 9},
                "organization": {"id": 3}, "job_status": {"id": "j"},
                "id": "500A", "sid": "SM1", "success": true,
            })))
            .mount(&server)
            .await;
        let what = format!("{}.{} ({})", row.kind, row.task, row.source);
        executor(row.kind, &server)
            .execute(&crate::support::request(
                Kind::parse(row.kind),
                row.task,
                (row.args)(),
                "c-1/0123456789abcdef0123456789abcdef/1/a",
                Duration::from_secs(5),
            ))
            .await
            .unwrap_or_else(|e| panic!("{what}: {}", e.message));
        let received = server.received_requests().await.unwrap();
        let first = &received[0];
        assert_eq!(first.method.as_str(), row.method, "{what}");
        assert_eq!(first.url.path(), row.path, "{what}");
        for key in row.query {
            assert!(
                first.url.query_pairs().any(|(k, _)| k == *key),
                "{what}: no `{key}` in {}",
                first.url
            );
        }
        let header = |name: &str| {
            first
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        assert_eq!(
            header("authorization"),
            Some(authorization(row.auth)),
            "{what}"
        );
        match row.body {
            Body::None => assert!(first.body.is_empty(), "{what}: a body on a read"),
            Body::Json(fields) => {
                assert_eq!(
                    header("content-type").as_deref(),
                    Some("application/json"),
                    "{what}"
                );
                let body: serde_json::Value = serde_json::from_slice(&first.body).unwrap();
                for field in fields {
                    assert!(
                        body.pointer(field).is_some(),
                        "{what}: no {field} in {body}"
                    );
                }
            }
            Body::Form(keys) => {
                assert_eq!(
                    header("content-type").as_deref(),
                    Some("application/x-www-form-urlencoded"),
                    "{what}"
                );
                let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&first.body)
                    .into_owned()
                    .collect();
                for key in keys {
                    assert!(pairs.iter().any(|(k, _)| k == key), "{what}: no {key}");
                }
            }
        }
    }
    // Every task of these kinds has its row.
    for (kind, seen) in tasks_seen {
        let spec = agentc::catalogue::target_kind(kind).unwrap();
        let all: Vec<&str> = spec.tasks.iter().map(|t| t.name()).collect();
        assert_eq!(
            seen, all,
            "{kind}: one row per catalogue task, in catalogue order"
        );
    }
}
