//! A renewable OAuth access token (`salesforce`): a fixed `token`, or one obtained from the
//! instance's `/services/oauth2/token` (a form POST: `grant_type=refresh_token` with
//! `client_id`, `client_secret` and `refresh_token`, or `grant_type=client_credentials`
//! with `client_id` and `client_secret`) before the first request and again when the
//! service answers `401 Unauthorized`; the request is then sent once more.
//!
//! Every token and client secret is registered with the run's redactor the moment it is
//! known, so no trace, error or printed line shows it.

use super::args::Fields;
use super::client::{Answer, Attempt, Body, GuardedClient, Outgoing};
use crate::ir::Value;
use crate::runtime::effects::TaskError;
use crate::runtime::Redactor;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::Method;

/// Why a `salesforce` target has no access token to send.
#[derive(Debug, Clone, PartialEq)]
pub enum OauthError {
    NoCredential,
}

impl std::error::Error for OauthError {}

impl std::fmt::Display for OauthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OauthError::NoCredential => {
                write!(f, "needs `token` or `client_id` and `client_secret`")
            }
        }
    }
}

pub struct Tokens {
    /// The access token in use; `None` until the first renewal when no `token` is given.
    current: tokio::sync::Mutex<Option<String>>,
    renewal: Option<Renewal>,
    redactor: Redactor,
}

/// Where and with what a token is renewed.
struct Renewal {
    url: url::Url,
    form: Vec<(String, String)>,
}

impl Tokens {
    /// From the target's `token`, `client_id`, `client_secret` and `refresh_token`
    /// (the catalogue has checked which go together); renewed at `root`'s token endpoint.
    pub fn new(
        fields: &Fields,
        root: &url::Url,
        redactor: &Redactor,
    ) -> Result<Self, super::Problem> {
        let token = fields.text("token")?;
        let renewal = match fields.text("client_id")? {
            None => None,
            Some(client_id) => {
                let secret = fields.required_text("client_secret")?;
                let mut form = vec![("client_id".to_string(), client_id)];
                match fields.text("refresh_token")? {
                    Some(refresh) => {
                        redactor.register(&refresh);
                        form.insert(0, ("grant_type".into(), "refresh_token".into()));
                        form.push(("client_secret".into(), secret.clone()));
                        form.push(("refresh_token".into(), refresh));
                    }
                    None => {
                        form.insert(0, ("grant_type".into(), "client_credentials".into()));
                        form.push(("client_secret".into(), secret.clone()));
                    }
                }
                redactor.register(&secret);
                let url = super::client::join(root, "/services/oauth2/token")?;
                Some(Renewal { url, form })
            }
        };
        if token.is_none() && renewal.is_none() {
            return Err(OauthError::NoCredential.into());
        }
        if let Some(token) = &token {
            redactor.register(token);
        }
        Ok(Tokens {
            current: tokio::sync::Mutex::new(token),
            renewal,
            redactor: redactor.clone(),
        })
    }

    /// Sends `out` with the access token as bearer; on a 401, renews the token once (when it
    /// can be renewed) and sends `out` once more.
    pub async fn send(&self, client: &GuardedClient, out: Outgoing) -> Result<Answer, TaskError> {
        // The guard is let go here: renewing takes the lock again.
        let current = self.current.lock().await.clone();
        let token = match current {
            Some(token) => token,
            None => self.renew(client, None, out.timeout).await?,
        };
        match client
            .send_telling_401(bearer(out.clone(), &token)?)
            .await?
        {
            Attempt::Answered(answer) => return Ok(answer),
            Attempt::Unauthorized(_) if self.renewal.is_some() => {}
            Attempt::Unauthorized(error) => return Err(error),
        }
        let fresh = self.renew(client, Some(&token), out.timeout).await?;
        match client.send_telling_401(bearer(out, &fresh)?).await? {
            Attempt::Answered(answer) => Ok(answer),
            Attempt::Unauthorized(again) => Err(TaskError::fatal(format!(
                "{}, even with a renewed access token",
                again.message
            ))),
        }
    }

    /// A new access token, unless another request renewed `stale` meanwhile (then that one).
    async fn renew(
        &self,
        client: &GuardedClient,
        stale: Option<&str>,
        timeout: std::time::Duration,
    ) -> Result<String, TaskError> {
        let Some(renewal) = &self.renewal else {
            return Err(TaskError::fatal("the access token cannot be renewed"));
        };
        let mut current = self.current.lock().await;
        if let Some(token) = current.as_deref().filter(|token| Some(*token) != stale) {
            return Ok(token.to_string());
        }
        let request = Outgoing {
            method: Method::POST,
            url: renewal.url.clone(),
            headers: HeaderMap::new(),
            body: Body::Form(renewal.form.clone()),
            idempotency_key: None,
            timeout,
        };
        let answer = client.send(request).await.map_err(|mut error| {
            error.message = format!(
                "cannot renew the access token: {} (check `client_id`, `client_secret` and \
                 `refresh_token`)",
                error.message
            );
            error
        })?;
        let token = match answer.body {
            Value::Record(mut map) => match map.shift_remove("access_token") {
                Some(Value::Text(token)) if !token.is_empty() => token,
                _ => return Err(no_token()),
            },
            _ => return Err(no_token()),
        };
        self.redactor.register(&token);
        *current = Some(token.clone());
        Ok(token)
    }
}

fn no_token() -> TaskError {
    TaskError::fatal("cannot renew the access token: the answer has no `access_token`")
}

/// `out` with `Authorization: Bearer <token>`, marked sensitive so it is never printed.
fn bearer(mut out: Outgoing, token: &str) -> Result<Outgoing, TaskError> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| TaskError::fatal("the access token is not a valid header value"))?;
    value.set_sensitive(true);
    out.headers.insert(AUTHORIZATION, value);
    Ok(out)
}
