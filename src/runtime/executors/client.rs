//! The HTTP client every HTTP-based executor shares: SSRF guard, size cap, idempotency key,
//! and one classification of failures.

use super::args::Fields;
use super::guard::{self, AllowHosts, GuardedResolver, Refused};
use super::ExecutorOptions;
use crate::ir::{ParseError, Value, ValueBounds};
use crate::runtime::effects::{Delivery, TaskError};
use indexmap::map::Entry;
use indexmap::IndexMap;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Method;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Why a target's auth, headers or URLs cannot be used, or a task's path or headers cannot
/// be sent. Never holds a credential or a header's value.
#[derive(Debug)]
pub enum ClientError {
    /// `auth` is not one of the records `bearer(..)`, `basic(..)`, `api_key(..)` write.
    AuthShape,
    AuthPart(&'static str),
    AuthHeaderName,
    ApiKeyValue,
    HeaderName(String),
    HeaderType {
        name: String,
        found: &'static str,
    },
    HeaderValue(String),
    /// A path that names a scheme or a host of its own.
    NotRelative(String),
    DotSegment(String),
    InvalidPath {
        path: String,
        error: url::ParseError,
    },
    LeavesBase(String),
    NotAUrl {
        field: &'static str,
        error: url::ParseError,
    },
    NotHttp(&'static str),
    /// reqwest could not build its client (its TLS backend, say).
    Build(reqwest::Error),
}

impl std::error::Error for ClientError {}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::AuthShape => {
                write!(
                    f,
                    "field `auth` must be bearer(..), basic(..) or api_key(..)"
                )
            }
            ClientError::AuthPart(key) => write!(f, "`auth`: `{key}` is missing or not text"),
            ClientError::AuthHeaderName => {
                write!(f, "`auth`: api_key's header is not a valid header name")
            }
            ClientError::ApiKeyValue => write!(f, "the api_key value is not a valid header value"),
            ClientError::HeaderName(name) => write!(f, "`{name}` is not a valid header name"),
            ClientError::HeaderType { name, found } => write!(
                f,
                "header `{name}` must be text, a number or a bool, not {found}"
            ),
            ClientError::HeaderValue(name) => {
                write!(f, "header `{name}` has a value that cannot be sent")
            }
            ClientError::NotRelative(path) => write!(
                f,
                "the path `{path}` must be relative to the target's base_url"
            ),
            ClientError::DotSegment(path) => write!(
                f,
                "the path `{path}` has a `.` or `..` segment, which would change the resource \
                 it names"
            ),
            ClientError::InvalidPath { path, error } => {
                write!(f, "the path `{path}` is not valid: {error}")
            }
            ClientError::LeavesBase(path) => {
                write!(f, "the path `{path}` leaves the target's base_url")
            }
            ClientError::NotAUrl { field, error } => {
                write!(f, "field `{field}` is not a URL: {error}")
            }
            ClientError::NotHttp(field) => {
                write!(f, "field `{field}` must be an http:// or https:// URL")
            }
            ClientError::Build(error) => write!(f, "cannot build the HTTP client: {error}"),
        }
    }
}

/// A task's errors are still text.
impl From<ClientError> for String {
    fn from(error: ClientError) -> String {
        error.to_string()
    }
}

/// A request body.
#[derive(Clone)]
pub enum Body {
    None,
    Json(serde_json::Value),
    /// `application/x-www-form-urlencoded` pairs (Twilio).
    Form(Vec<(String, String)>),
}

/// One request, fully resolved.
#[derive(Clone)]
pub struct Outgoing {
    pub method: Method,
    pub url: url::Url,
    pub headers: HeaderMap,
    pub body: Body,
    /// Set on side-effecting requests; a header of the same name in `headers` wins.
    pub idempotency_key: Option<String>,
    pub timeout: Duration,
}

/// A 2xx answer: `{ status, headers, body }` once turned into a [`Value`].
pub struct Answer {
    pub status: u16,
    pub headers: IndexMap<String, Value>,
    pub body: Value,
}

impl Answer {
    pub fn into_value(self) -> Value {
        Value::Record(IndexMap::from([
            ("status".to_string(), Value::Number(self.status.into())),
            ("headers".to_string(), Value::Record(self.headers)),
            ("body".to_string(), self.body),
        ]))
    }
}

/// What one request came to, short of a failure.
pub enum Attempt {
    Answered(Answer),
    /// `401 Unauthorized`, as the error [`GuardedClient::send`] would give.
    Unauthorized(TaskError),
}

/// How the client authenticates (header values are marked sensitive so reqwest never
/// prints them).
#[derive(Clone)]
pub enum Auth {
    None,
    Bearer(String),
    Basic(String, String),
    ApiKey(HeaderName, String),
}

impl Auth {
    /// Reads the `{ scheme, ... }` record documented in [`super`].
    pub fn from_value(value: Option<&Value>) -> Result<Auth, ClientError> {
        let Some(value) = value else {
            return Ok(Auth::None);
        };
        let Value::Record(map) = value else {
            return Err(ClientError::AuthShape);
        };
        let text = |key: &'static str| match map.get(key) {
            Some(Value::Text(s)) => Ok(s.clone()),
            _ => Err(ClientError::AuthPart(key)),
        };
        match map.get("scheme") {
            Some(Value::Text(s)) if s == "bearer" => Ok(Auth::Bearer(text("token")?)),
            Some(Value::Text(s)) if s == "basic" => {
                Ok(Auth::Basic(text("username")?, text("password")?))
            }
            Some(Value::Text(s)) if s == "api_key" => {
                let header = HeaderName::try_from(text("header")?)
                    .map_err(|_| ClientError::AuthHeaderName)?;
                Ok(Auth::ApiKey(header, text("value")?))
            }
            _ => Err(ClientError::AuthShape),
        }
    }

    /// The texts that must never appear in an error: the credentials as configured and as
    /// sent (basic auth travels in base64), in case a service echoes them back.
    fn secrets(&self) -> Vec<String> {
        use base64::Engine;
        let secrets = match self {
            Auth::None => Vec::new(),
            Auth::Bearer(token) => vec![token.clone()],
            Auth::Basic(user, pass) => vec![
                pass.clone(),
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")),
            ],
            Auth::ApiKey(_, value) => vec![value.clone()],
        };
        secrets.into_iter().filter(|s| !s.is_empty()).collect()
    }

    fn apply(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, ClientError> {
        Ok(match self {
            Auth::None => builder,
            Auth::Bearer(token) => builder.bearer_auth(token),
            Auth::Basic(user, pass) => builder.basic_auth(user, Some(pass)),
            Auth::ApiKey(header, value) => {
                let mut value =
                    HeaderValue::from_str(value).map_err(|_| ClientError::ApiKeyValue)?;
                value.set_sensitive(true);
                builder.header(header.clone(), value)
            }
        })
    }
}

/// A reqwest client with the guard installed, shared by one target's requests.
#[derive(Clone)]
pub struct GuardedClient {
    client: reqwest::Client,
    allow: AllowHosts,
    auth: Arc<Auth>,
    secrets: Arc<Vec<String>>,
    redactor: crate::runtime::Redactor,
    max_bytes: usize,
    value_bounds: ValueBounds,
}

impl GuardedClient {
    /// The client of the target whose `fields` are given, sending to `base` with `auth`;
    /// refused when credentials would travel in clear (see [`super::transport`]).
    pub fn new(
        options: &ExecutorOptions,
        fields: &Fields,
        base: &url::Url,
        auth: Auth,
    ) -> Result<Self, super::Problem> {
        super::transport::refuse_credentials_in_clear(
            fields.target,
            base,
            !matches!(auth, Auth::None),
        )?;
        let allow = AllowHosts::new(&fields.texts("allow_hosts")?);
        let client = reqwest::Client::builder()
            .user_agent(options.user_agent.clone())
            .connect_timeout(options.connect_timeout)
            // A proxy would resolve names itself and defeat the guard.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                allow: allow.clone(),
            }))
            .redirect(guard::redirect_policy(allow.clone()))
            // The URL a redirect came from is nobody else's business (it may name a customer).
            .referer(false)
            .build()
            .map_err(ClientError::Build)?;
        Ok(GuardedClient {
            client,
            allow,
            secrets: Arc::new(auth.secrets()),
            auth: Arc::new(auth),
            redactor: options.redactor.clone(),
            max_bytes: options.max_response_bytes,
            value_bounds: options.value_bounds,
        })
    }

    /// One attempt: a 2xx answer, or a classified failure whose message holds none of the
    /// target's credentials.
    pub async fn send(&self, out: Outgoing) -> Result<Answer, TaskError> {
        match self.send_telling_401(out).await? {
            Attempt::Answered(answer) => Ok(answer),
            Attempt::Unauthorized(error) => Err(error),
        }
    }

    /// [`Self::send`], telling a `401 Unauthorized` apart: a renewable credential may have
    /// expired.
    pub async fn send_telling_401(&self, out: Outgoing) -> Result<Attempt, TaskError> {
        let scrub = |mut error: TaskError| {
            error.message = self.scrub(&error.message);
            error
        };
        match self.send_unscrubbed(out).await {
            Ok(Attempt::Unauthorized(error)) => Ok(Attempt::Unauthorized(scrub(error))),
            Ok(answered) => Ok(answered),
            Err(error) => Err(scrub(error)),
        }
    }

    /// `text` without the target's credentials or any secret the run knows.
    fn scrub(&self, text: &str) -> String {
        let mut text = self.redactor.redact(text).into_owned();
        for secret in self.secrets.iter() {
            text = text.replace(secret.as_str(), crate::runtime::REDACTED);
        }
        text
    }

    async fn send_unscrubbed(&self, out: Outgoing) -> Result<Attempt, TaskError> {
        // Only failures need the summary: keep what it is made of, format it on demand.
        let (method, url) = (out.method.clone(), out.url.clone());
        let summary = move || format!("{method} {}", redact_url(&url));
        self.allow
            .check_url(&out.url)
            .map_err(|refused| TaskError::fatal(refused.0))?;
        // A header of the task's own wins over the derived key.
        let own_key = out.headers.contains_key("idempotency-key");
        let mut builder = self
            .client
            .request(out.method, out.url)
            .headers(out.headers);
        if !out.timeout.is_zero() {
            builder = builder.timeout(out.timeout);
        }
        if let Some(key) = out.idempotency_key.filter(|_| !own_key) {
            let value = HeaderValue::from_str(&key)
                .map_err(|_| TaskError::fatal("the idempotency key is not a valid header value"))?;
            builder = builder.header("Idempotency-Key", value);
        }
        builder = match out.body {
            Body::None => builder,
            Body::Json(json) => builder.json(&json),
            Body::Form(pairs) => builder.form(&pairs),
        };
        builder = self.auth.apply(builder).map_err(TaskError::fatal)?;
        let response = builder
            .send()
            .await
            .map_err(|e| transport_error(&summary(), &e))?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let headers = header_record(response.headers());
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase);
        let bytes = read_capped(response, self.max_bytes, &summary).await?;
        if !status.is_success() {
            let excerpt = self.scrub(String::from_utf8_lossy(&bytes).trim());
            let error = status_error(&summary(), status, &excerpt, retry_after);
            if status == reqwest::StatusCode::UNAUTHORIZED {
                return Ok(Attempt::Unauthorized(error));
            }
            return Err(error);
        }
        let body = parse_body(content_type.as_deref(), &bytes, &self.value_bounds)
            .map_err(|e| TaskError::fatal(format!("{}: the answer: {e}", summary())))?;
        Ok(Attempt::Answered(Answer {
            status: status.as_u16(),
            headers,
            body,
        }))
    }
}

impl Outgoing {
    /// The one-line summary of [`crate::runtime::effects::Executor::describe`]: method, URL
    /// and the body's field names (never its values, which may hold secrets).
    pub fn describe(&self) -> String {
        let mut line = format!("{} {}", self.method, redact_url(&self.url));
        let names = match &self.body {
            Body::None => return line,
            Body::Json(serde_json::Value::Object(map)) => {
                map.keys().map(String::as_str).collect::<Vec<_>>()
            }
            Body::Json(_) => Vec::new(),
            Body::Form(pairs) => pairs.iter().map(|(k, _)| k.as_str()).collect(),
        };
        let kind = if matches!(self.body, Body::Form(_)) {
            "form"
        } else {
            "JSON"
        };
        if names.is_empty() {
            line.push_str(&format!(" ({kind} body)"));
        } else {
            line.push_str(&format!(" ({kind}: {})", names.join(", ")));
        }
        line
    }

    /// What [`crate::runtime::effects::Executor::preview`] shows: method, URL and the body
    /// itself, as compact JSON (a form as an object of its pairs).
    pub fn preview(&self) -> String {
        let line = format!("{} {}", self.method, redact_url(&self.url));
        match &self.body {
            Body::None => line,
            Body::Json(json) => format!("{line} {json}"),
            Body::Form(pairs) => {
                let pairs: serde_json::Map<String, serde_json::Value> = pairs
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect();
                format!("{line} (form) {}", serde_json::Value::Object(pairs))
            }
        }
    }
}

/// A URL as shown in traces: no user info (it may hold a password).
pub fn redact_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

/// Reads the body chunk by chunk, failing as soon as it passes the cap (a huge body never
/// sits in memory).
async fn read_capped(
    mut response: reqwest::Response,
    max: usize,
    summary: &impl Fn() -> String,
) -> Result<Vec<u8>, TaskError> {
    let too_big = || {
        TaskError::fatal(format!(
            "{}: the answer is larger than the {} limit",
            summary(),
            crate::ir::mebibytes(max)
        ))
    };
    let declared = response.content_length().unwrap_or(0);
    if declared > max as u64 {
        return Err(too_big());
    }
    let mut body = Vec::with_capacity(declared as usize);
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_error(&summary(), &e))?
    {
        if body.len() + chunk.len() > max {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// JSON when the answer says so (and then it must parse), JSON when it says nothing and
/// parses, text otherwise; an empty body is null. JSON too big for `bounds` is an error
/// either way.
fn parse_body(
    content_type: Option<&str>,
    bytes: &[u8],
    bounds: &ValueBounds,
) -> Result<Value, ParseError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    let says_json = content_type.is_some_and(|ct| {
        let essence = ct.split(';').next().unwrap_or("").trim();
        essence == "application/json" || essence.ends_with("+json")
    });
    match content_type {
        Some(_) if says_json => Value::parse_json(bytes, bounds),
        None => match Value::parse_json(bytes, bounds) {
            Err(ParseError::Syntax(_)) => Ok(text_value(bytes)),
            parsed => parsed,
        },
        Some(_) => Ok(text_value(bytes)),
    }
}

fn text_value(bytes: &[u8]) -> Value {
    Value::Text(String::from_utf8_lossy(bytes).into_owned())
}

/// Lower-cased header names; repeated headers joined with `, `; sensitive ones dropped.
fn header_record(headers: &HeaderMap) -> IndexMap<String, Value> {
    let mut record: IndexMap<String, Value> = IndexMap::with_capacity(headers.keys_len());
    for (name, value) in headers {
        if value.is_sensitive() || name == reqwest::header::SET_COOKIE {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes());
        match record.entry(name.as_str().to_string()) {
            Entry::Occupied(mut joined) => {
                if let Value::Text(existing) = joined.get_mut() {
                    existing.push_str(", ");
                    existing.push_str(&value);
                }
            }
            Entry::Vacant(first) => {
                first.insert(Value::Text(value.into_owned()));
            }
        }
    }
    record
}

/// `Retry-After` as seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = raw.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(raw).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A non-2xx answer: 5xx, 408 and 429 may succeed later; other 4xx will not. A 429, a 408
/// and a 503 that names a `Retry-After` say that nothing was done (RFC 9110 §15.5.9,
/// §15.6.4; RFC 6585 §4); any other 5xx may come after the work was done. `answer` is the
/// body, already scrubbed: it is cut to 200 characters here.
fn status_error(
    summary: &str,
    status: reqwest::StatusCode,
    answer: &str,
    retry_after: Option<Duration>,
) -> TaskError {
    use reqwest::StatusCode;
    let mut message = format!("{summary} answered {status}");
    if !answer.is_empty() {
        let short: String = answer.chars().take(200).collect();
        let ellipsis = if short.len() < answer.len() {
            "…"
        } else {
            ""
        };
        message.push_str(&format!(": {short}{ellipsis}"));
    }
    let nothing_done = status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || (status == StatusCode::SERVICE_UNAVAILABLE && retry_after.is_some());
    let retryable = status.is_server_error() || nothing_done;
    TaskError {
        message,
        retryable,
        delivery: if nothing_done {
            Delivery::NotSent
        } else {
            Delivery::MaybeSent
        },
        retry_after,
        status: Some(status.as_u16()),
    }
}

/// A failure before a complete answer: refused by the guard (fatal); unreachable before the
/// request was written (a refused connection, a name that does not resolve, a failed TLS
/// handshake: reqwest's connect errors), not sent; timed out or cut off, perhaps sent (a
/// timeout cannot tell whether it struck while connecting).
fn transport_error(summary: &str, error: &reqwest::Error) -> TaskError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(refused) = current.downcast_ref::<Refused>() {
            return TaskError::fatal(format!("{summary}: {refused}"));
        }
        source = current.source();
    }
    if error.is_timeout() {
        return TaskError::retryable(format!("{summary}: timed out"));
    }
    if error.is_builder() {
        return TaskError::fatal(format!("{summary}: {}", innermost(error)));
    }
    if error.is_connect() {
        return TaskError::not_sent(format!("{summary}: cannot connect: {}", innermost(error)));
    }
    TaskError::retryable(format!(
        "{summary}: the connection failed: {}",
        innermost(error)
    ))
}

/// The root cause's text (reqwest's own top-level text repeats the URL).
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// Builds a header map from a record of scalar values (`headers:` of a target or a task).
pub fn header_map(record: Option<&IndexMap<String, Value>>) -> Result<HeaderMap, ClientError> {
    let mut map = HeaderMap::new();
    for (name, value) in record.into_iter().flatten() {
        let header = HeaderName::try_from(name.as_str())
            .map_err(|_| ClientError::HeaderName(name.clone()))?;
        if matches!(value, Value::Null) {
            continue;
        }
        let text = super::args::scalar_text(value).ok_or_else(|| ClientError::HeaderType {
            name: name.clone(),
            found: value.type_name(),
        })?;
        let value =
            HeaderValue::from_str(&text).map_err(|_| ClientError::HeaderValue(name.clone()))?;
        map.insert(header, value);
    }
    Ok(map)
}

/// `base` followed by `path` (`https://h/v2` + `/orders/1` → `https://h/v2/orders/1`),
/// refusing a path that would leave `base`'s host or climb out of its prefix with a `.` or
/// `..` segment (a URL parser resolves those, `%2e%2e` included).
pub fn join(base: &url::Url, path: &str) -> Result<url::Url, ClientError> {
    let path_part = path.split(['?', '#']).next().unwrap_or_default();
    if path_part.contains("://") || path.starts_with("//") {
        return Err(ClientError::NotRelative(path.to_string()));
    }
    if path_part.split('/').any(is_dot_segment) {
        return Err(ClientError::DotSegment(path.to_string()));
    }
    if path.bytes().all(is_plain_path_byte) {
        return Ok(join_plain(base, path));
    }
    join_parsed(base, path)
}

/// What a path may hold to be joined without parsing: bytes that a URL path keeps as they
/// are and that can start neither a query, a fragment, an escape nor (`\`) a separator.
fn is_plain_path_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'~' | b'.' | b'/')
}

/// [`join_parsed`] for a plain path that holds no dot segment: only the path changes, so the
/// host and port stay `base`'s (parsing the whole URL again was most of an action's cost).
fn join_plain(base: &url::Url, path: &str) -> url::Url {
    let mut url = base.clone();
    let joined = format!(
        "{}/{}",
        base.path().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    url.set_path(&joined);
    url
}

/// `base` and `path` written one after the other and parsed as one URL, which must keep
/// `base`'s host and port.
fn join_parsed(base: &url::Url, path: &str) -> Result<url::Url, ClientError> {
    let joined = format!(
        "{}/{}",
        base.as_str().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    let url = url::Url::parse(&joined).map_err(|error| ClientError::InvalidPath {
        path: path.to_string(),
        error,
    })?;
    if url.host() != base.host() || url.port_or_known_default() != base.port_or_known_default() {
        return Err(ClientError::LeavesBase(path.to_string()));
    }
    Ok(url)
}

/// `.` and `..` as the WHATWG URL standard knows them: `%2e` stands for a dot there.
fn is_dot_segment(segment: &str) -> bool {
    match strip_dot(segment) {
        Some("") => true,
        Some(rest) => strip_dot(rest) == Some(""),
        None => false,
    }
}

/// `text` after a leading `.` or `%2e` (in either case).
fn strip_dot(text: &str) -> Option<&str> {
    text.strip_prefix('.').or_else(|| {
        text.get(..3)
            .filter(|head| head.eq_ignore_ascii_case("%2e"))
            .map(|_| &text[3..])
    })
}

/// Parses a `base_url`-like field: an absolute http(s) URL.
pub fn parse_base(raw: &str, field: &'static str) -> Result<url::Url, ClientError> {
    let url = url::Url::parse(raw).map_err(|error| ClientError::NotAUrl { field, error })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ClientError::NotHttp(field));
    }
    let mut url = url;
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `response` in a declared task's `result` is this record; the checker types its
    /// fields by `catalogue::scope`.
    #[test]
    fn an_answer_has_the_fields_the_scope_table_names_for_response() {
        let answer = Answer {
            status: 200,
            headers: IndexMap::new(),
            body: Value::Null,
        };
        let Value::Record(fields) = answer.into_value() else {
            panic!("an answer is a record");
        };
        let keys: Vec<&str> = fields.keys().map(String::as_str).collect();
        assert_eq!(keys, crate::catalogue::scope::field_names("response"));
    }

    #[test]
    fn joins_paths_under_the_base() {
        let base = url::Url::parse("https://h.example/v2/").unwrap();
        assert_eq!(
            join(&base, "/orders/1?x=1").unwrap().as_str(),
            "https://h.example/v2/orders/1?x=1"
        );
        assert!(matches!(
            join(&base, "https://evil.example/"),
            Err(ClientError::NotRelative(_))
        ));
        assert!(matches!(
            join(&base, "//evil.example/"),
            Err(ClientError::NotRelative(_))
        ));
        assert!(join(&base, "@evil.example/").is_ok_and(|u| u.host_str() == Some("h.example")));
        for climbing in [
            "/a/../admin",
            "/..",
            "/a/./b",
            "/%2E%2e/x",
            "/.%2e",
            "/x/%2e",
        ] {
            assert!(
                matches!(join(&base, climbing), Err(ClientError::DotSegment(_))),
                "{climbing}"
            );
        }
        assert!(join(&base, "/a/...b/..c").is_ok());
        for kept in ["/%2e%2ex", "/x%2e", "/%2", "/.%2", "/%%2e2e"] {
            assert!(join(&base, kept).is_ok(), "{kept}");
        }
        assert_eq!(
            join(&base, "/go?to=https://elsewhere.example/x")
                .unwrap()
                .as_str(),
            "https://h.example/v2/go?to=https://elsewhere.example/x"
        );
    }

    /// A plain path is joined without parsing the URL again: to the very URL parsing gives,
    /// under every shape of base.
    #[test]
    fn a_plain_path_joins_as_a_parsed_one() {
        let bases = [
            "https://h.example",
            "https://h.example/",
            "https://h.example/v2",
            "https://h.example/v2/",
            "http://user:pw@127.0.0.1:8080/a%20b//",
            "https://[::1]/x.y/~z/",
        ];
        let paths = [
            "",
            "/",
            "orders/1",
            "/orders/1",
            "///a//b/",
            "/a.b/~c_d-e/...",
            "/v2",
        ];
        for base in bases {
            let base = url::Url::parse(base).unwrap();
            for path in paths {
                assert!(path.bytes().all(is_plain_path_byte));
                assert_eq!(
                    join_plain(&base, path),
                    join_parsed(&base, path).unwrap(),
                    "{base} + {path}"
                );
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_plain_path_joins_as_a_parsed_one(
            base in "https?://[a-z]{1,5}(:[0-9]{1,4})?(/[a-z.%0-9]{0,3}){0,3}/?",
            path in "[a-zA-Z0-9._~/-]{0,16}",
        ) {
            let base = parse_base(&base, "base_url").unwrap();
            let joined = join(&base, &path);
            if path.starts_with("//") || path.split('/').any(is_dot_segment) {
                proptest::prop_assert!(joined.is_err());
            } else {
                proptest::prop_assert_eq!(joined.unwrap(), join_parsed(&base, &path).unwrap());
            }
        }
    }

    #[test]
    fn parses_bodies() {
        const BOUNDS: ValueBounds = ValueBounds {
            max_depth: 2,
            max_bytes: 4096,
        };
        let json = parse_body(
            Some("application/json; charset=utf-8"),
            br#"{"a":1}"#,
            &BOUNDS,
        )
        .unwrap();
        assert_eq!(json.to_json(), serde_json::json!({"a": 1}));
        assert!(parse_body(Some("application/json"), b"{oops", &BOUNDS).is_err());
        assert_eq!(
            parse_body(Some("text/plain"), b"{\"a\":1}", &BOUNDS).unwrap(),
            Value::Text("{\"a\":1}".into())
        );
        assert_eq!(
            parse_body(None, b"[1]", &BOUNDS).unwrap().to_json(),
            serde_json::json!([1])
        );
        assert_eq!(
            parse_body(None, b"hi", &BOUNDS).unwrap(),
            Value::Text("hi".into())
        );
        assert_eq!(parse_body(None, b"", &BOUNDS).unwrap(), Value::Null);
        // Too deep or too big is an error even when the answer does not say it is JSON.
        assert!(matches!(
            parse_body(None, b"[[[1]]]", &BOUNDS),
            Err(ParseError::Breach(_))
        ));
        let wide = format!("[{}1]", "1,".repeat(100));
        assert!(matches!(
            parse_body(None, wide.as_bytes(), &BOUNDS),
            Err(ParseError::Breach(_))
        ));
    }

    /// A 429, a 408 and a 503 naming a `Retry-After` say nothing was done; another 5xx may
    /// come after the work.
    #[test]
    fn answers_that_say_nothing_was_done_are_not_sent() {
        let error = |status: u16, retry_after: Option<Duration>| {
            let status = reqwest::StatusCode::from_u16(status).unwrap();
            let e = status_error("POST /x", status, "", retry_after);
            (e.retryable, e.delivery)
        };
        let later = Some(Duration::from_secs(1));
        assert_eq!(error(429, None), (true, Delivery::NotSent));
        assert_eq!(error(408, None), (true, Delivery::NotSent));
        assert_eq!(error(503, later), (true, Delivery::NotSent));
        assert_eq!(error(503, None), (true, Delivery::MaybeSent));
        assert_eq!(error(500, later), (true, Delivery::MaybeSent));
        assert_eq!(error(502, None), (true, Delivery::MaybeSent));
        assert!(!error(404, None).0);
    }

    #[test]
    fn reads_retry_after() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        let later = SystemTime::now() + Duration::from_secs(120);
        headers.insert(
            "retry-after",
            HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap(),
        );
        let got = retry_after(&headers).unwrap();
        assert!(got > Duration::from_secs(100) && got <= Duration::from_secs(120));
    }
}
