//! `smtp` targets: `send_email(to, subject, body, cc?, reply_to?)` over real SMTP (lettre).
//!
//! `host`/`port` (default 587), or `base_url` `smtp://host:port` (`smtps://` implies
//! `tls: tls`); `tls` is `starttls` (default, required), `tls` (implicit TLS) or `none`.
//! The idempotency key becomes the Message-ID, so a receiving system can drop a duplicate.
//! Returns `{ message_id, accepted, response }`. Every email is MIME 1.0 (RFC 2045 §4: it
//! carries a Content-Type and a Content-Transfer-Encoding).
//!
//! EHLO names `helo_name`, else this machine's host name when it is a domain with a dot,
//! else the address literal of the local address the connection leaves from (RFC 5321
//! §4.1.4: a bare `vm` is neither).
//!
//! The host passes the HTTP targets' address guard (`allow_hosts` included): it is resolved
//! at every send and the connection goes to an address the guard kept, with TLS still
//! checking the certificate against the host's name. `tls: none` with a login is refused
//! unless the host is loopback: the password would cross the network in clear.

use super::args::{self, Fields};
use super::client::ClientError;
use super::guard::{self, AllowHosts};
use super::Problem;
use crate::catalogue::{tasks, BuiltinTask};
use crate::ir::Value;
use crate::runtime::effects::{Executor, ExecutorTask, TaskError, TaskRequest};
use futures::future::BoxFuture;
use indexmap::IndexMap;
use lettre::message::header::{ContentType, MIME_VERSION_1_0};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Why an `smtp` target's fields name no server, sender or login that can be used.
#[derive(Debug)]
pub enum SmtpError {
    Scheme,
    NoHost,
    Port,
    Tls {
        host: String,
        error: lettre::transport::smtp::Error,
    },
    TlsMode,
    HalfLogin,
    LoginInClear(String),
    From(lettre::address::AddressError),
}

impl std::error::Error for SmtpError {}

impl std::fmt::Display for SmtpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SmtpError::Scheme => write!(f, "field `base_url` must be smtp://host:port"),
            SmtpError::NoHost => write!(f, "field `base_url` has no host"),
            SmtpError::Port => write!(f, "field `port` must be 1 to 65535"),
            SmtpError::Tls { host, error } => write!(f, "cannot set up TLS for {host}: {error}"),
            SmtpError::TlsMode => write!(f, "field `tls` must be starttls, tls or none"),
            SmtpError::HalfLogin => write!(f, "`username` and `password` go together"),
            SmtpError::LoginInClear(host) => write!(
                f,
                "refusing to log in to {host} with `tls: none`: the password would cross the \
                 network in clear; use `tls: starttls` or `tls: tls`"
            ),
            SmtpError::From(error) => write!(f, "field `from` is not an email address: {error}"),
        }
    }
}

pub struct SmtpExecutor {
    host: String,
    port: u16,
    tls: Tls,
    credentials: Option<Credentials>,
    allow: AllowHosts,
    from: Mailbox,
    helo_name: Option<String>,
    /// Makes this run's Message-IDs unique: the idempotency key alone repeats across runs.
    run_nonce: String,
    /// `smtp://host:port`, for describe().
    server: String,
}

impl SmtpExecutor {
    pub fn new(fields: &Fields) -> Result<Self, Problem> {
        let (host, port, implicit_tls) = match fields.text("base_url")? {
            Some(raw) => {
                let url = url::Url::parse(&raw).map_err(|error| ClientError::NotAUrl {
                    field: "base_url",
                    error,
                })?;
                let implicit = match url.scheme() {
                    "smtp" => false,
                    "smtps" => true,
                    _ => return Err(SmtpError::Scheme.into()),
                };
                let host = url
                    .host_str()
                    .ok_or(SmtpError::NoHost)?
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string();
                let port = url.port().unwrap_or(if implicit { 465 } else { 587 });
                (host, port, implicit)
            }
            None => {
                let port = match fields.number("port")? {
                    None => 587,
                    Some(n) if n.fract() == 0.0 && (1.0..=65535.0).contains(&n) => n as u16,
                    Some(_) => return Err(SmtpError::Port.into()),
                };
                (fields.required_text("host")?, port, false)
            }
        };
        let tls = match fields.text("tls")? {
            Some(mode) => mode,
            None if implicit_tls => "tls".to_string(),
            None => "starttls".to_string(),
        };
        let tls_parameters = || {
            TlsParameters::new(host.clone()).map_err(|error| SmtpError::Tls {
                host: host.clone(),
                error,
            })
        };
        let tls = match tls.as_str() {
            "starttls" => Tls::Required(tls_parameters()?),
            "tls" => Tls::Wrapper(tls_parameters()?),
            "none" => Tls::None,
            _ => return Err(SmtpError::TlsMode.into()),
        };
        let credentials = match (fields.text("username")?, fields.text("password")?) {
            (Some(user), Some(pass)) => Some(Credentials::new(user, pass)),
            (None, None) => None,
            _ => return Err(SmtpError::HalfLogin.into()),
        };
        if matches!(tls, Tls::None)
            && credentials.is_some()
            && !super::transport::is_loopback(&host)
        {
            return Err(SmtpError::LoginInClear(host).into());
        }
        let from = fields
            .required_text("from")?
            .parse::<Mailbox>()
            .map_err(SmtpError::From)?;
        Ok(SmtpExecutor {
            server: format!("smtp://{host}:{port}"),
            allow: AllowHosts::new(&fields.texts("allow_hosts")?),
            host,
            port,
            tls,
            credentials,
            from,
            helo_name: fields.text("helo_name")?,
            run_nonce: format!("{:016x}", rand::random::<u64>()),
        })
    }

    /// A transport to an address of the host that the guard allows.
    async fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, TaskError> {
        let addresses = guard::resolve(&self.host, self.port, &self.allow)
            .await
            .map_err(|e| match e.downcast_ref::<guard::Refused>() {
                Some(refused) => TaskError::fatal(refused.to_string()),
                None => TaskError::not_sent(format!("{}: cannot resolve: {e}", self.server)),
            })?;
        let address = addresses.first().ok_or_else(|| {
            TaskError::not_sent(format!("{}: the host has no address", self.server))
        })?;
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(address.ip().to_string())
                .port(self.port)
                .hello_name(self.hello_name(address))
                .tls(self.tls.clone());
        if let Some(credentials) = &self.credentials {
            builder = builder.credentials(credentials.clone());
        }
        Ok(builder.build())
    }

    /// `helo_name`, or the host name when it is a domain with a dot, or the literal of the
    /// local address that reaches `server`.
    fn hello_name(&self, server: &SocketAddr) -> ClientId {
        if let Some(name) = &self.helo_name {
            return ClientId::Domain(name.clone());
        }
        match ClientId::default() {
            ClientId::Domain(name)
                if name.contains('.') && crate::catalogue::helo_name_problem(&name).is_none() =>
            {
                ClientId::Domain(name)
            }
            _ => match local_address(server) {
                IpAddr::V4(v4) => ClientId::Ipv4(v4),
                IpAddr::V6(v6) => ClientId::Ipv6(v6),
            },
        }
    }

    fn message(&self, request: &TaskRequest) -> Result<(Message, String, Vec<String>), TaskError> {
        if request.task != ExecutorTask::Builtin(BuiltinTask::Smtp(tasks::Smtp::SendEmail)) {
            return Err(super::unknown_task(request, "smtp"));
        }
        let to = args::texts_arg(request, "to")?;
        if to.is_empty() {
            return Err(TaskError::fatal(
                "task `send_email` needs the argument `to`",
            ));
        }
        let mailbox = |name: &str, raw: &str| {
            raw.parse::<Mailbox>().map_err(|e| {
                TaskError::fatal(format!("`{name}`: `{raw}` is not an email address: {e}"))
            })
        };
        let message_id = message_id(
            &request.idempotency_key,
            &self.run_nonce,
            self.from.email.domain(),
        );
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(args::required_text(request, "subject")?)
            .message_id(Some(message_id.clone()));
        for address in &to {
            builder = builder.to(mailbox("to", address)?);
        }
        for address in args::texts_arg(request, "cc")? {
            builder = builder.cc(mailbox("cc", &address)?);
        }
        if let Some(address) = args::text_arg(request, "reply_to")? {
            builder = builder.reply_to(mailbox("reply_to", &address)?);
        }
        let message = builder
            .header(MIME_VERSION_1_0)
            .header(ContentType::TEXT_PLAIN)
            .body(args::required_text(request, "body")?)
            .map_err(|e| TaskError::fatal(format!("cannot build the email: {e}")))?;
        Ok((message, message_id, to))
    }
}

/// `<key.nonce@domain>`, a valid `msg-id` (RFC 5322 §3.6.4: a `dot-atom-text` each side):
/// the idempotency key with every character that is not `atext` (and `.` and `=`) written
/// as `=XX` per UTF-8 byte, so distinct keys stay distinct and retries of one attempt
/// repeat it; the run's nonce, so another run's same key does not; the sender's domain, or
/// `agentc.invalid` when it is an address literal.
fn message_id(key: &str, nonce: &str, domain: &str) -> String {
    let mut local = String::with_capacity(key.len());
    for c in key.chars() {
        if c.is_ascii_alphanumeric() || "!#$%&'*+-/?^_`{|}~".contains(c) {
            local.push(c);
        } else {
            let mut bytes = [0; 4];
            for byte in c.encode_utf8(&mut bytes).bytes() {
                local.push_str(&format!("={byte:02X}"));
            }
        }
    }
    let domain =
        if crate::catalogue::helo_name_problem(domain).is_none() && !domain.starts_with('[') {
            domain
        } else {
            "agentc.invalid"
        };
    format!("<{local}.{nonce}@{domain}>")
}

/// The local address a connection to `server` leaves from (a UDP `connect` sends nothing,
/// it only picks the route); loopback when there is none.
fn local_address(server: &SocketAddr) -> IpAddr {
    let unspecified: IpAddr = match server {
        SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    std::net::UdpSocket::bind((unspecified, 0))
        .and_then(|socket| {
            socket.connect(server)?;
            socket.local_addr()
        })
        .map(|local| local.ip())
        .unwrap_or(match server {
            SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
        })
}

/// A 5xx reply is final. A 4xx reply, a refused connection and a failed TLS handshake are
/// retryable and sent nothing: a 4yz reply means the command was not accepted and its action
/// did not happen (RFC 5321 §4.2.1), and TLS is negotiated before the envelope. A timeout or
/// a connection lost midway may come after the final dot, when the server has taken the
/// message (RFC 1047).
fn classify(server: &str, error: lettre::transport::smtp::Error) -> TaskError {
    let message = format!("the SMTP server refused the email: {error}");
    if error.is_client() && error.to_string().contains("STARTTLS") {
        // A configuration error: trying again reaches the same server.
        TaskError::fatal(format!(
            "{server} does not offer STARTTLS, which `tls: starttls` (the default) requires: \
             for a trusted relay (on loopback or a private network) set `tls: none` on the \
             target; otherwise use `tls: tls` or a server that offers STARTTLS"
        ))
    } else if error.is_permanent() {
        TaskError::fatal(message)
    } else if error.is_timeout() {
        TaskError::retryable(format!("the SMTP server timed out: {error}"))
    } else if error.is_transient() {
        TaskError::not_sent(message)
    } else if error.is_tls() || refused(&error) {
        TaskError::not_sent(format!("cannot connect to {server}: {error}"))
    } else {
        TaskError::retryable(format!("cannot send the email: {error}"))
    }
}

/// Whether the connection was refused: that happens only before anything is written.
fn refused(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(error);
    while let Some(current) = source {
        if current
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        source = current.source();
    }
    false
}

impl Executor for SmtpExecutor {
    fn execute<'a>(&'a self, request: &'a TaskRequest) -> BoxFuture<'a, Result<Value, TaskError>> {
        Box::pin(async move {
            let (message, message_id, to) = self.message(request)?;
            let transport = self.transport().await?;
            let send = transport.send(message);
            let response = if request.timeout.is_zero() {
                send.await
            } else {
                tokio::time::timeout(request.timeout, send)
                    .await
                    .map_err(|_| TaskError::retryable(format!("{}: timed out", self.server)))?
            }
            .map_err(|e| classify(&self.server, e))?;
            let answer = format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            );
            Ok(Value::Record(IndexMap::from([
                ("message_id".to_string(), Value::Text(message_id)),
                (
                    "accepted".to_string(),
                    Value::List(to.into_iter().map(Value::Text).collect()),
                ),
                ("response".to_string(), Value::Text(answer)),
            ])))
        })
    }

    fn describe(&self, request: &TaskRequest) -> String {
        let to = args::texts_arg(request, "to")
            .unwrap_or_default()
            .join(", ");
        let subject = args::text_arg(request, "subject")
            .ok()
            .flatten()
            .unwrap_or_default();
        format!("EMAIL via {} to {to}: {subject:?}", self.server)
    }

    fn preview(&self, request: &TaskRequest) -> String {
        let text = |name| args::text_arg(request, name).ok().flatten();
        let cc = args::texts_arg(request, "cc").unwrap_or_default();
        let mut line = self.describe(request);
        if !cc.is_empty() {
            line += &format!(" cc {}", cc.join(", "));
        }
        if let Some(reply_to) = text("reply_to") {
            line += &format!(" reply-to {reply_to}");
        }
        line + &format!(" body {:?}", text("body").unwrap_or_default())
    }
}
