//! `salesforce` targets, speaking the REST API (`/services/data/vNN.N/...`) with an OAuth
//! bearer token.
//!
//! Results: `create_case` and `add_case_comment` return Salesforce's `{ id, success, errors }`;
//! `update_case` (answered `204 No Content`) returns `{ id, success: true }`; `find_contact`
//! returns the first matching Contact `{ Id, Name, Email, Phone }`, or null; `query` the
//! `records` list and `get_case` the Case, each record without Salesforce's `attributes`.
//! `query` binds its values with `catalogue::soql`. Declared tasks are sent under the API
//! root with the same token, and their `result` reads `{ status, headers, body }`.

use super::args::{self, Fields};
use super::client::{self, Auth, GuardedClient, Outgoing};
use super::rest::JsonApi;
use super::ExecutorOptions;
use crate::catalogue::tasks::Salesforce;
use crate::catalogue::{soql, BuiltinTask};
use crate::ir::Value;
use crate::runtime::effects::{Executor, ExecutorTask, TaskError, TaskRequest};
use futures::future::BoxFuture;
use indexmap::IndexMap;
use reqwest::Method;
use serde_json::json;

pub struct SalesforceExecutor {
    /// Under `https://acme.my.salesforce.com/services/data/v59.0`.
    api: JsonApi,
}

impl SalesforceExecutor {
    pub fn new(fields: &Fields, options: &ExecutorOptions) -> Result<Self, String> {
        let root = match fields.text("base_url")? {
            Some(base) => base,
            None => fields.required_text("instance_url")?,
        };
        let root = client::parse_base(&root, "instance_url").map_err(|e| fields.error(e))?;
        let version = fields
            .text("api_version")?
            .unwrap_or_else(|| "59.0".to_string());
        let version = version.trim_start_matches(['v', 'V']);
        if version.is_empty() || !version.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Err(fields.error("field `api_version` must look like \"59.0\""));
        }
        let api = client::join(&root, &format!("/services/data/v{version}"))
            .map_err(|e| fields.error(e))?;
        let auth = Auth::Bearer(fields.required_text("token")?);
        let client = GuardedClient::new(options, fields, &api, auth)?;
        Ok(SalesforceExecutor {
            api: JsonApi::new(client, api),
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
                let soql = contact_query(
                    args::text_arg(request, "email")?,
                    args::text_arg(request, "phone")?,
                )?;
                (Method::GET, query_path(&soql), None)
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

/// `SELECT ... FROM Contact WHERE Email = '…' OR Phone = '…' LIMIT 1`, values escaped as
/// SOQL string literals.
fn contact_query(email: Option<String>, phone: Option<String>) -> Result<String, TaskError> {
    let mut conditions = Vec::new();
    if let Some(email) = email {
        conditions.push(format!("Email = '{}'", soql::escape(&email, false)));
    }
    if let Some(phone) = phone {
        conditions.push(format!("Phone = '{}'", soql::escape(&phone, false)));
    }
    if conditions.is_empty() {
        return Err(TaskError::fatal(
            "task `find_contact` needs `email` or `phone`",
        ));
    }
    Ok(format!(
        "SELECT Id, Name, Email, Phone FROM Contact WHERE {} LIMIT 1",
        conditions.join(" OR ")
    ))
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

impl Executor for SalesforceExecutor {
    fn execute<'a>(&'a self, request: &'a TaskRequest) -> BoxFuture<'a, Result<Value, TaskError>> {
        Box::pin(async move {
            let out = self.outgoing(request)?;
            let ExecutorTask::Builtin(BuiltinTask::Salesforce(task)) = request.task else {
                return self.api.send_whole(out).await;
            };
            let body = self.api.send(out).await?;
            Ok(match task {
                Salesforce::FindContact => records(body).into_iter().next().unwrap_or_default(),
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
        let q = contact_query(Some("a'@b.c".into()), None).unwrap();
        assert_eq!(
            q,
            r"SELECT Id, Name, Email, Phone FROM Contact WHERE Email = 'a\'@b.c' LIMIT 1"
        );
        assert!(contact_query(None, None).is_err());
    }
}
