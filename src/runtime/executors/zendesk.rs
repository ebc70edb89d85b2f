//! `zendesk` targets, speaking Zendesk Support's REST API (`/api/v2`), with API-token basic
//! auth (`{email}/token:{token}`).
//!
//! Results unwrap Zendesk's envelope: `create_ticket` returns the `ticket` object of
//! `{"ticket": {...}}`, `get_user` the `user`, `get_ticket_tags` the `tags` list,
//! `merge_tickets` the `job_status`, `search` the `results` list, `create_or_update_user`
//! and `update_user` the `user`; when the envelope key is missing the whole body is returned.
//! Declared tasks (`task t on desk { method, path, ... }`) are sent under `/api/v2` with the
//! same auth, and their `result` reads `{ status, headers, body }` as on `http` targets.

use super::args::{self, Fields};
use super::client::{self, Auth, GuardedClient, Outgoing};
use super::rest::{self, JsonApi};
use super::{ExecutorOptions, Problem};
use crate::catalogue::tasks::Zendesk;
use crate::catalogue::BuiltinTask;
use crate::ir::Value;
use crate::runtime::effects::{Executor, ExecutorTask, TaskError, TaskRequest};

/// The task that sends a second request (`ZendeskExecutor::save_macro_result`).
const APPLY_MACRO: ExecutorTask = ExecutorTask::Builtin(BuiltinTask::Zendesk(Zendesk::ApplyMacro));
use futures::future::BoxFuture;
use reqwest::Method;
use serde_json::json;

/// Why a `zendesk` target names no API.
#[derive(Debug, Clone, PartialEq)]
pub enum ZendeskError {
    Subdomain,
    NoRoot,
}

impl std::error::Error for ZendeskError {}

impl std::fmt::Display for ZendeskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ZendeskError::Subdomain => "field `subdomain` may hold only letters, digits and -",
            ZendeskError::NoRoot => "needs `subdomain` or `base_url`",
        })
    }
}

pub struct ZendeskExecutor {
    /// Under `https://acme.zendesk.com/api/v2`.
    api: JsonApi,
}

/// One planned call: the request and what of its answer the task returns.
struct Call {
    out: Outgoing,
    take: Take,
}

enum Take {
    /// The body.
    Body,
    /// The value under this key of the body (`{"ticket": {...}}`).
    Envelope(&'static str),
    /// `{ status, headers, body }`: a declared task, whose `result` maps it.
    Whole,
}

impl ZendeskExecutor {
    pub fn new(fields: &Fields, options: &ExecutorOptions) -> Result<Self, Problem> {
        let root = match (fields.text("base_url")?, fields.text("subdomain")?) {
            (Some(base), _) => base,
            (None, Some(sub)) if valid_subdomain(&sub) => format!("https://{sub}.zendesk.com"),
            (None, Some(_)) => return Err(ZendeskError::Subdomain.into()),
            (None, None) => return Err(ZendeskError::NoRoot.into()),
        };
        let root = client::parse_base(&root, "base_url")?;
        // A base_url that already ends in /api/v2 is not extended twice.
        let api = if root.path().trim_end_matches('/').ends_with("/api/v2") {
            root
        } else {
            client::join(&root, "/api/v2")?
        };
        let email = fields.required_text("email")?;
        let token = fields.required_text("token")?;
        let auth = Auth::Basic(format!("{email}/token"), token);
        let client = GuardedClient::new(options, fields, &api, auth)?;
        Ok(ZendeskExecutor {
            api: JsonApi::new(client, api),
        })
    }

    fn call(
        &self,
        request: &TaskRequest,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        unwrap: Option<&'static str>,
    ) -> Result<Call, TaskError> {
        Ok(Call {
            out: self.api.request(request, method, path, body)?,
            take: unwrap.map_or(Take::Body, Take::Envelope),
        })
    }

    /// The request a task sends first (`apply_macro` sends a second one, see `execute`).
    fn plan(&self, request: &TaskRequest) -> Result<Call, TaskError> {
        let id = |name| args::path_segment(request, name);
        let task = match request.task {
            ExecutorTask::Builtin(BuiltinTask::Zendesk(task)) => task,
            ExecutorTask::Request => {
                return Ok(Call {
                    out: self.api.declared(request, "zendesk")?,
                    take: Take::Whole,
                })
            }
            ExecutorTask::Builtin(_) => return Err(super::unknown_task(request, "zendesk")),
        };
        match task {
            Zendesk::CreateTicket => {
                let mut ticket = json!({
                    "subject": args::required_text(request, "subject")?,
                    "comment": { "body": args::required_text(request, "comment")? },
                });
                if let Some(priority) = args::text_arg(request, "priority")? {
                    ticket["priority"] = priority.into();
                }
                let tags = args::texts_arg(request, "tags")?;
                if !tags.is_empty() {
                    ticket["tags"] = tags.into();
                }
                if let Some(email) = args::text_arg(request, "requester_email")? {
                    ticket["requester"] = json!({ "email": email });
                }
                let body = json!({ "ticket": ticket });
                self.call(
                    request,
                    Method::POST,
                    "/tickets.json",
                    Some(body),
                    Some("ticket"),
                )
            }
            Zendesk::UpdateTicket => {
                let fields = args::record_arg(request, "fields")?
                    .map(|f| Value::Record(f.clone()).to_json())
                    .ok_or_else(|| missing(request, "fields"))?;
                let path = format!("/tickets/{}.json", id("ticket_id")?);
                let body = json!({ "ticket": fields });
                self.call(request, Method::PUT, &path, Some(body), Some("ticket"))
            }
            Zendesk::AddTags => {
                let path = format!("/tickets/{}/tags.json", id("ticket_id")?);
                let body = json!({ "tags": args::texts_arg(request, "tags")? });
                self.call(request, Method::PUT, &path, Some(body), None)
            }
            Zendesk::AddInternalNote => {
                let path = format!("/tickets/{}.json", id("ticket_id")?);
                let note = args::required_text(request, "body")?;
                let body = json!({ "ticket": { "comment": { "body": note, "public": false } } });
                self.call(request, Method::PUT, &path, Some(body), Some("ticket"))
            }
            Zendesk::GetUser => {
                let path = format!("/users/{}.json", id("user_id")?);
                self.call(request, Method::GET, &path, None, Some("user"))
            }
            Zendesk::GetTicket => {
                let path = format!("/tickets/{}.json", id("ticket_id")?);
                self.call(request, Method::GET, &path, None, Some("ticket"))
            }
            Zendesk::GetTicketTags => {
                let path = format!("/tickets/{}/tags.json", id("ticket_id")?);
                self.call(request, Method::GET, &path, None, Some("tags"))
            }
            Zendesk::MergeTickets => {
                let ids = match args::required(request, "ids")? {
                    Value::List(items) => items.iter().map(Value::to_json).collect::<Vec<_>>(),
                    other => return Err(args::wrong_type(request, "ids", "a list", other)),
                };
                let path = format!("/tickets/{}/merge.json", id("into")?);
                let body = json!({ "ids": ids });
                self.call(request, Method::POST, &path, Some(body), Some("job_status"))
            }
            Zendesk::GetOrganization => {
                let path = format!("/organizations/{}.json", id("org_id")?);
                self.call(request, Method::GET, &path, None, Some("organization"))
            }
            Zendesk::ApplyMacro => {
                // "Show Changes to Ticket": what the macro changes, not the whole ticket.
                let path = format!("/macros/{}/apply.json", id("macro_id")?);
                self.call(request, Method::GET, &path, None, Some("result"))
            }
            Zendesk::Search => {
                let mut query = url::form_urlencoded::Serializer::new(String::new());
                query.append_pair("query", &args::required_text(request, "query")?);
                for name in ["sort_by", "sort_order"] {
                    if let Some(value) = args::text_arg(request, name)? {
                        query.append_pair(name, &value);
                    }
                }
                let path = format!("/search.json?{}", query.finish());
                self.call(request, Method::GET, &path, None, Some("results"))
            }
            Zendesk::CreateOrUpdateUser => {
                let mut user = serde_json::Map::new();
                if let Some(fields) = args::record_arg(request, "fields")? {
                    user.extend(fields.iter().map(|(k, v)| (k.clone(), v.to_json())));
                }
                for name in ["name", "email"] {
                    user.insert(name.into(), args::required_text(request, name)?.into());
                }
                let body = json!({ "user": user });
                let path = "/users/create_or_update.json";
                self.call(request, Method::POST, path, Some(body), Some("user"))
            }
            Zendesk::UpdateUser => {
                let fields = args::record_arg(request, "fields")?
                    .map(|f| Value::Record(f.clone()).to_json())
                    .ok_or_else(|| missing(request, "fields"))?;
                let path = format!("/users/{}.json", id("user_id")?);
                let body = json!({ "user": fields });
                self.call(request, Method::PUT, &path, Some(body), Some("user"))
            }
        }
    }

    /// `apply_macro`'s second step: Zendesk only computes the macro's changes
    /// (`{"result": {"ticket": {...}, "comment": {...}}}`); they are saved with a PUT.
    /// Puts the macro's changes (and its comment) on the ticket, and nothing else: no
    /// read-only field, no field the macro leaves alone. The update is a `safe_update` at
    /// the ticket's `updated_at`, so a ticket changed meanwhile is not overwritten: on a
    /// conflict (409) the stamp is read again and the update tried once more.
    async fn save_macro_result(
        &self,
        request: &TaskRequest,
        result: Value,
    ) -> Result<Value, TaskError> {
        let result = result.to_json();
        let mut changes = match result.get("ticket") {
            Some(serde_json::Value::Object(ticket)) => ticket.clone(),
            _ => serde_json::Map::new(),
        };
        changes.retain(|field, _| !READ_ONLY_TICKET_FIELDS.contains(&field.as_str()));
        if let Some(comment) = result.get("comment") {
            changes.insert("comment".into(), comment.clone());
        }
        let path = format!(
            "/tickets/{}.json",
            args::path_segment(request, "ticket_id")?
        );
        let mut conflicts = 0;
        loop {
            let read = self.call(request, Method::GET, &path, None, Some("ticket"))?;
            let stamp = match self.run(read).await?.to_json().get("updated_at") {
                Some(serde_json::Value::String(stamp)) => stamp.clone(),
                _ => {
                    return Err(TaskError::fatal(format!(
                        "ticket {path}: Zendesk's answer has no `updated_at` to guard the update"
                    )))
                }
            };
            let mut ticket = changes.clone();
            ticket.insert("safe_update".into(), true.into());
            ticket.insert("updated_stamp".into(), stamp.into());
            let body = json!({ "ticket": ticket });
            let update = self.call(request, Method::PUT, &path, Some(body), Some("ticket"))?;
            match self.run(update).await {
                Err(e) if e.status == Some(409) && conflicts == 0 => conflicts += 1,
                Err(e) if e.status == Some(409) => {
                    return Err(TaskError::fatal(format!(
                        "the ticket changed twice while the macro was applied, so its changes \
                         were not saved (nothing was overwritten): {}",
                        e.message
                    )))
                }
                answer => return answer,
            }
        }
    }

    async fn run(&self, call: Call) -> Result<Value, TaskError> {
        Ok(match call.take {
            Take::Whole => self.api.send_whole(call.out).await?,
            Take::Body => self.api.send(call.out).await?,
            Take::Envelope(key) => rest::unwrap_envelope(self.api.send(call.out).await?, key),
        })
    }
}

/// Ticket fields only Zendesk sets (Support API, "Tickets": the read-only ones): a macro's
/// changes never carry them back.
const READ_ONLY_TICKET_FIELDS: &[&str] = &[
    "id",
    "url",
    "created_at",
    "updated_at",
    "generated_timestamp",
    "description",
    "via",
    "satisfaction_rating",
    "sharing_agreement_ids",
    "followup_ids",
    "has_incidents",
    "is_public",
    "allow_attachments",
    "allow_channelback",
    "from_messaging_channel",
    "encoded_id",
];

fn missing(request: &TaskRequest, name: &str) -> TaskError {
    TaskError::fatal(format!(
        "task `{}` needs the argument `{name}`",
        request.task
    ))
}

fn valid_subdomain(sub: &str) -> bool {
    !sub.is_empty() && sub.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

impl Executor for ZendeskExecutor {
    fn execute<'a>(&'a self, request: &'a TaskRequest) -> BoxFuture<'a, Result<Value, TaskError>> {
        Box::pin(async move {
            let call = self.plan(request)?;
            let result = self.run(call).await?;
            if request.task == APPLY_MACRO {
                self.save_macro_result(request, result).await
            } else {
                Ok(result)
            }
        })
    }

    fn describe(&self, request: &TaskRequest) -> String {
        match self.plan(request) {
            Ok(call) if request.task == APPLY_MACRO => {
                format!(
                    "{}, then GET and PUT the ticket with the macro's changes (safe_update)",
                    call.out.describe()
                )
            }
            Ok(call) => call.out.describe(),
            Err(e) => super::describe_invalid(request, &e),
        }
    }

    fn preview(&self, request: &TaskRequest) -> String {
        match self.plan(request) {
            Ok(call) => call.out.preview(),
            Err(e) => super::describe_invalid(request, &e),
        }
    }
}
