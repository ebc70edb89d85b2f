//! `sms` targets in Twilio's REST shape: a form-encoded POST of `To`, `From` and `Body` to
//! `/2010-04-01/Accounts/{sid}/Messages.json`, basic auth `sid:auth_token`. Returns the
//! created message (`{ sid, status, ... }`).

use super::args::{self, Fields};
use super::client::{self, Auth, Body, GuardedClient, Outgoing};
use super::ExecutorOptions;
use crate::catalogue::{tasks, BuiltinTask};
use crate::ir::Value;
use crate::runtime::effects::{Executor, ExecutorTask, TaskError, TaskRequest};
use futures::future::BoxFuture;
use reqwest::header::HeaderMap;
use reqwest::Method;

pub struct SmsExecutor {
    client: GuardedClient,
    messages: url::Url,
    from: String,
}

impl SmsExecutor {
    pub fn new(fields: &Fields, options: &ExecutorOptions) -> Result<Self, String> {
        let sid = fields.required_text("account_sid")?;
        if !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(fields.error("field `account_sid` may hold only letters and digits"));
        }
        let base = fields
            .text("base_url")?
            .unwrap_or_else(|| "https://api.twilio.com".to_string());
        let base = client::parse_base(&base, "base_url").map_err(|e| fields.error(e))?;
        let messages = client::join(&base, &format!("/2010-04-01/Accounts/{sid}/Messages.json"))
            .map_err(|e| fields.error(e))?;
        let auth = Auth::Basic(sid, fields.required_text("auth_token")?);
        let client = GuardedClient::new(options, fields, &base, auth)?;
        Ok(SmsExecutor {
            client,
            messages,
            from: fields.required_text("from")?,
        })
    }

    fn outgoing(&self, request: &TaskRequest) -> Result<Outgoing, TaskError> {
        if request.task != ExecutorTask::Builtin(BuiltinTask::Sms(tasks::Sms::SendSms)) {
            return Err(super::unknown_task(request, "sms"));
        }
        let form = vec![
            ("To".to_string(), args::required_text(request, "to")?),
            ("From".to_string(), self.from.clone()),
            ("Body".to_string(), args::required_text(request, "body")?),
        ];
        Ok(Outgoing {
            method: Method::POST,
            url: self.messages.clone(),
            headers: HeaderMap::new(),
            body: Body::Form(form),
            idempotency_key: Some(request.idempotency_key.clone()),
            timeout: request.timeout,
        })
    }
}

impl Executor for SmsExecutor {
    fn execute<'a>(&'a self, request: &'a TaskRequest) -> BoxFuture<'a, Result<Value, TaskError>> {
        Box::pin(async move {
            let out = self.outgoing(request)?;
            Ok(self.client.send(out).await?.body)
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
