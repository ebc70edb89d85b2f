//! `sms` targets in Twilio's REST shape (twilio-oai `twilio_api_v2010.json`,
//! CreateMessage): a form-encoded POST of `To`, `From` or `MessagingServiceSid`, `Body`,
//! one `MediaUrl` per media URL and `StatusCallback` to
//! `/2010-04-01/Accounts/{account_sid}/Messages.json`, basic auth `account_sid:auth_token`
//! or, with an API key, `api_key_sid:api_key_secret`. Returns the created message
//! (`{ sid, status, ... }`).

use super::args::{self, Fields};
use super::client::{self, Auth, Body, GuardedClient, Outgoing};
use super::{ExecutorOptions, Problem};
use crate::catalogue::{tasks, BuiltinTask};
use crate::ir::Value;
use crate::runtime::effects::{Executor, ExecutorTask, TaskError, TaskRequest};
use futures::future::BoxFuture;
use reqwest::header::HeaderMap;
use reqwest::Method;

pub struct SmsExecutor {
    client: GuardedClient,
    messages: url::Url,
    /// `("From", number)` or `("MessagingServiceSid", sid)`.
    sender: (&'static str, String),
    status_callback: Option<String>,
}

/// Twilio takes at most 10 `MediaUrl`s per message.
const MAX_MEDIA: usize = 10;

impl SmsExecutor {
    pub fn new(fields: &Fields, options: &ExecutorOptions) -> Result<Self, Problem> {
        // Its shape (AC + 32 hex digits, safe in a path) is the catalogue's check.
        let sid = fields.required_text("account_sid")?;
        let base = fields
            .text("base_url")?
            .unwrap_or_else(|| "https://api.twilio.com".to_string());
        let base = client::parse_base(&base, "base_url")?;
        let messages = client::join(&base, &format!("/2010-04-01/Accounts/{sid}/Messages.json"))?;
        // The catalogue's `needs`/`excludes` were checked before: one credential, one sender.
        let auth = match fields.text("api_key_sid")? {
            Some(key) => Auth::Basic(key, fields.required_text("api_key_secret")?),
            None => Auth::Basic(sid, fields.required_text("auth_token")?),
        };
        let sender = match fields.text("messaging_service_sid")? {
            Some(service) => ("MessagingServiceSid", service),
            None => ("From", fields.required_text("from")?),
        };
        let client = GuardedClient::new(options, fields, &base, auth)?;
        Ok(SmsExecutor {
            client,
            messages,
            sender,
            status_callback: fields.text("status_callback")?,
        })
    }

    fn outgoing(&self, request: &TaskRequest) -> Result<Outgoing, TaskError> {
        if request.task != ExecutorTask::Builtin(BuiltinTask::Sms(tasks::Sms::SendSms)) {
            return Err(super::unknown_task(request, "sms"));
        }
        let mut form = vec![
            ("To".to_string(), args::required_text(request, "to")?),
            (self.sender.0.to_string(), self.sender.1.clone()),
            ("Body".to_string(), args::required_text(request, "body")?),
        ];
        let media = args::texts_arg(request, "media_urls")?;
        if media.len() > MAX_MEDIA {
            return Err(TaskError::fatal(format!(
                "task `send_sms`: Twilio takes at most {MAX_MEDIA} `media_urls`, not {}",
                media.len()
            )));
        }
        form.extend(media.into_iter().map(|url| ("MediaUrl".to_string(), url)));
        if let Some(callback) = &self.status_callback {
            form.push(("StatusCallback".to_string(), callback.clone()));
        }
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
