//! `salesforce` targets, speaking the REST API (`/services/data/vNN.N/...`) with an OAuth
//! bearer token, fixed or renewed (`oauth.rs`).
//!
//! Results: `create_case` and `add_case_comment` return Salesforce's `{ id, success, errors }`;
//! `update_case` (answered `204 No Content`) returns `{ id, success: true }`; `find_contact`
//! returns the Contact `{ Id, Name, Email, Phone }` with the email, else the one with the
//! phone (the oldest first: `ORDER BY CreatedDate, Id`), or null; `query` the
//! `records` list and `get_case` the Case, each record without Salesforce's `attributes`.
//! `query` binds its values with `catalogue::soql`. Declared tasks are sent under the API
//! root with the same token, and their `result` reads `{ status, headers, body }`.

use super::args::{self, Fields};
use super::client::{self, Auth, GuardedClient, Outgoing};
use super::oauth::Tokens;
use super::rest::JsonApi;
use super::{ExecutorOptions, Problem};
use crate::catalogue::tasks::Salesforce;
use crate::catalogue::{soql, BuiltinTask};
use crate::ir::Value;
use crate::runtime::effects::{Executor, ExecutorTask, TaskError, TaskRequest};
use futures::future::BoxFuture;
use indexmap::IndexMap;
use reqwest::Method;
use serde_json::json;

/// Why a `salesforce` target names no API.
#[derive(Debug, Clone, PartialEq)]
pub enum SalesforceError {
    ApiVersion,
}

impl std::error::Error for SalesforceError {}

impl std::fmt::Display for SalesforceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SalesforceError::ApiVersion => {
                write!(f, "field `api_version` must look like \"59.0\"")
            }
        }
    }
}

pub struct SalesforceExecutor {
    /// Under `https://acme.my.salesforce.com/services/data/v59.0`.
    api: JsonApi,
    client: GuardedClient,
    tokens: Tokens,
}

impl SalesforceExecutor {
    pub fn new(fields: &Fields, options: &ExecutorOptions) -> Result<Self, Problem> {
        let root = match fields.text("base_url")? {
            Some(base) => base,
            None => fields.required_text("instance_url")?,
        };
        let root = client::parse_base(&root, "instance_url")?;
        let version = fields
            .text("api_version")?
            .unwrap_or_else(|| "59.0".to_string());
        let version = version.trim_start_matches(['v', 'V']);
        if version.is_empty() || !version.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Err(SalesforceError::ApiVersion.into());
        }
        let api = client::join(&root, &format!("/services/data/v{version}"))?;
        // The token travels as a header the executor sets, renewed as it expires.
        super::transport::refuse_credentials_in_clear(fields.target, &api, true)?;
        let tokens = Tokens::new(fields, &root, &options.redactor)?;
        let client = GuardedClient::new(options, fields, &api, Auth::None)?;
        Ok(SalesforceExecutor {
            api: JsonApi::new(client.clone(), api),
            client,
            tokens,
        })
    }

    fn outgoing(&self, request: &TaskRequest) -> Result<Outgoing, TaskError> {
        let task = match request.task {
            ExecutorTask::Builtin(BuiltinTask::Salesforce(task)) => task,
            ExecutorTask::Request => return self.api.declared(request, "salesforce"),
            ExecutorTask::Builtin(_) => return Err(super::unknown_task(request, "salesforce")),
        };
        let (method, path, body) = match task {
            Salesforce::CreateCase => {
                let mut case = json!({
                    "Subject": args::required_text(request, "subject")?,
                    "Description": args::required_text(request, "description")?,
                });
                for (arg, field) in [("priority", "Priority"), ("origin", "Origin")] {
                    if let Some(value) = args::text_arg(request, arg)? {
                        case[field] = value.into();
                    }
                }
                (Method::POST, "/sobjects/Case".to_string(), Some(case))
            }
            Salesforce::UpdateCase => {
                let fields = args::record_arg(request, "fields")?.ok_or_else(|| {
                    TaskError::fatal("task `update_case` needs the argument `fields`")
                })?;
                let path = format!("/sobjects/Case/{}", args::path_segment(request, "case_id")?);
                (
                    Method::PATCH,
                    path,
                    Some(Value::Record(fields.clone()).to_json()),
                )
            }
            Salesforce::AddCaseComment => {
                let comment = json!({
                    "ParentId": args::required_text(request, "case_id")?,
                    "CommentBody": args::required_text(request, "body")?,
                });
                (
                    Method::POST,
                    "/sobjects/CaseComment".to_string(),
                    Some(comment),
                )
            }
            Salesforce::FindContact => {
                let (first, _) = contact_queries(request)?;
                (Method::GET, query_path(&first), None)
            }
            Salesforce::Query => {
                let soql = args::required_text(request, "soql")?;
                let values = args::record_arg(request, "values")?
                    .cloned()
                    .unwrap_or_default();
                let soql = soql::bind(&soql, &values).map_err(|e| {
                    TaskError::fatal(format!("task `query`: {e}: nothing was sent"))
                })?;
                (Method::GET, query_path(&soql), None)
            }
            Salesforce::GetCase => {
                let path = format!("/sobjects/Case/{}", args::path_segment(request, "case_id")?);
                (Method::GET, path, None)
            }
        };
        self.api.request(request, method, &path, body)
    }
}

/// `/query?q=<soql>`, the query form-encoded.
fn query_path(soql: &str) -> String {
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("q", soql)
        .finish();
    format!("/query?{q}")
}

/// The queries of `find_contact`: by email when it is given, else by phone; and by phone
/// after the email's, when both are given and nobody has the email. The email wins over
/// the phone, and of several with one, the oldest (`ORDER BY CreatedDate, Id`).
fn contact_queries(request: &TaskRequest) -> Result<(String, Option<String>), TaskError> {
    let by = |field: &str, value: &str| {
        format!(
            "SELECT Id, Name, Email, Phone FROM Contact WHERE {field} = '{}' \
             ORDER BY CreatedDate, Id LIMIT 1",
            soql::escape(value, false)
        )
    };
    let email = args::text_arg(request, "email")?.map(|email| by("Email", &email));
    let phone = args::text_arg(request, "phone")?.map(|phone| by("Phone", &phone));
    match (email, phone) {
        (Some(email), phone) => Ok((email, phone)),
        (None, Some(phone)) => Ok((phone, None)),
        (None, None) => Err(TaskError::fatal(
            "task `find_contact` needs `email` or `phone`",
        )),
    }
}

/// The records of a query answer, each without Salesforce's `attributes`.
fn records(body: Value) -> Vec<Value> {
    let Value::Record(mut map) = body else {
        return Vec::new();
    };
    match map.shift_remove("records") {
        Some(Value::List(records)) => records.into_iter().map(without_attributes).collect(),
        _ => Vec::new(),
    }
}

/// A record as the program reads it: Salesforce's `attributes` (type and URL) left out.
fn without_attributes(record: Value) -> Value {
    match record {
        Value::Record(mut map) => {
            map.shift_remove("attributes");
            Value::Record(map)
        }
        other => other,
    }
}

impl SalesforceExecutor {
    /// One request with the current access token, renewed once on a 401.
    async fn send(&self, out: Outgoing) -> Result<client::Answer, TaskError> {
        self.tokens.send(&self.client, out).await
    }
}

impl Executor for SalesforceExecutor {
    fn execute<'a>(&'a self, request: &'a TaskRequest) -> BoxFuture<'a, Result<Value, TaskError>> {
        Box::pin(async move {
            let out = self.outgoing(request)?;
            let ExecutorTask::Builtin(BuiltinTask::Salesforce(task)) = request.task else {
                return Ok(self.send(out).await?.into_value());
            };
            let body = self.send(out).await?.body;
            Ok(match task {
                Salesforce::FindContact => match records(body).into_iter().next() {
                    Some(contact) => contact,
                    None => match contact_queries(request)?.1 {
                        Some(by_phone) => {
                            let out = self.api.request(
                                request,
                                Method::GET,
                                &query_path(&by_phone),
                                None,
                            )?;
                            let body = self.send(out).await?.body;
                            records(body).into_iter().next().unwrap_or_default()
                        }
                        None => Value::Null,
                    },
                },
                Salesforce::Query => Value::List(records(body)),
                Salesforce::GetCase => without_attributes(body),
                Salesforce::UpdateCase if body == Value::Null => Value::Record(IndexMap::from([
                    (
                        "id".to_string(),
                        args::required(request, "case_id")?.clone(),
                    ),
                    ("success".to_string(), Value::Bool(true)),
                ])),
                _ => body,
            })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_soql_literals() {
        let request = TaskRequest {
            target: "crm".into(),
            task: ExecutorTask::Builtin(BuiltinTask::Salesforce(Salesforce::FindContact)),
            args: IndexMap::from([("email".to_string(), Value::Text("a'@b.c".into()))]),
            rest: Vec::new(),
            idempotency_key: "k".into(),
            timeout: std::time::Duration::ZERO,
            conversation: "c".into(),
        };
        let (q, then) = contact_queries(&request).unwrap();
        assert_eq!(
            q,
            r"SELECT Id, Name, Email, Phone FROM Contact WHERE Email = 'a\'@b.c' ORDER BY CreatedDate, Id LIMIT 1"
        );
        assert_eq!(then, None);
        let empty = TaskRequest {
            args: IndexMap::new(),
            ..request
        };
        assert!(contact_queries(&empty).is_err());
    }
}
