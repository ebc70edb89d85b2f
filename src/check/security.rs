//! Where secrets may go (docs/trace.md, "Secrets"): never in clear over the network, never where a person or a
//! store would see them. Secrets belong in target fields, `auth` and headers.

use super::types::Type;
use crate::catalogue::{tasks, BuiltinTask, Ty};
use crate::diagnostics::{Code, Diagnostic, Span};

/// What happens to a value put in some slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sink {
    /// Sent to a service over the target's connection: fine (unless that connection is
    /// plain http to a remote host).
    Sent,
    /// Part of a URL (path or query string): ends up in logs and proxies.
    Url,
    /// Shown or stored: replies, labels, params, messages, tickets, rows.
    Shown,
}

/// The sink of a catalogue task's argument.
pub fn task_arg_sink(task: BuiltinTask, arg: &str) -> Sink {
    match (task, arg) {
        (BuiltinTask::Http(_), "path" | "query") => Sink::Url,
        (BuiltinTask::Http(_), "headers" | "body") => Sink::Sent,
        // Bound into the query string of `/query?q=…`.
        (BuiltinTask::Salesforce(tasks::Salesforce::Query), _) => Sink::Url,
        // Digits typed into a phone menu: not displayed.
        (BuiltinTask::Call(tasks::Call::SendDtmf), _) => Sink::Sent,
        // Fetched by the telephony platform: a URL that ends up in its logs.
        (BuiltinTask::Call(tasks::Call::Hold), "music") => Sink::Url,
        _ => Sink::Shown,
    }
}

/// What a secret put in a slot of the given sink breaks, if anything: E0406 in a URL or
/// sent in clear to `insecure` (the target's plain-http host and the URL's span), E0407
/// where it is shown.
pub fn breach(
    sink: Sink,
    secret: Span,
    slot: &str,
    insecure: Option<(&str, Span)>,
) -> Option<Diagnostic> {
    match sink {
        Sink::Url => Some(secret_in_url(secret, slot)),
        Sink::Shown => Some(secret_shown(secret, slot)),
        Sink::Sent => insecure.map(|(host, url)| secret_over_http(secret, host, url)),
    }
}

/// Whether a function's result carries a secret passed to it: only one returning text
/// (or auth) can.
pub fn call_carries(result: Ty) -> bool {
    matches!(
        Type::from_catalogue(result),
        Type::Text | Type::Auth | Type::Any
    )
}

/// The host of an `http://` URL when it is not loopback: the URL sends in clear.
pub fn insecure_host(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    if parsed.scheme() != "http" {
        return None;
    }
    let loopback = is_loopback_host(&parsed.host()?);
    (!loopback).then(|| parsed.host_str().unwrap_or_default().to_string())
}

/// `localhost` (and its subdomains) or a loopback address: where plain text never leaves
/// the machine. The runtime applies the same rule to addresses known only when it runs.
pub fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => {
            let d = d.to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// E0406: a secret that would travel in a URL.
pub fn secret_in_url(secret: Span, slot: &str) -> Diagnostic {
    Diagnostic::new(
        Code::SecretInClear,
        format!("a secret is put into {slot}, which travels in the URL"),
        secret,
    )
    .with_label_message("this secret")
    .with_help(
        "URLs end up in logs and proxies: send the secret in a header or through the target's \
         `auth`, e.g. auth: bearer(secret(\"TOKEN\"))",
    )
}

/// E0406: a secret sent to a plain-http, non-loopback host.
pub fn secret_over_http(secret: Span, host: &str, url: Span) -> Diagnostic {
    Diagnostic::new(
        Code::SecretInClear,
        format!("a secret would be sent in clear to `{host}`"),
        secret,
    )
    .with_label_message("this secret")
    .with_secondary(url, "plain http:// to a host that is not loopback")
    .with_help(format!(
        "use https://{host}/… so the secret is encrypted on the way"
    ))
}

/// E0407: a secret where it would be displayed or stored.
pub fn secret_shown(secret: Span, slot: &str) -> Diagnostic {
    Diagnostic::new(
        Code::SecretExposed,
        format!("a secret is placed in {slot}, where it would be shown or stored"),
        secret,
    )
    .with_label_message("this secret")
    .with_help(
        "secrets belong in target fields, `auth` and headers; never put one in replies, \
         labels, parameters, messages, tickets or rows",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_not_insecure() {
        assert_eq!(insecure_host("http://127.0.0.1:8080/v1"), None);
        assert_eq!(insecure_host("http://localhost/v1"), None);
        assert_eq!(insecure_host("http://[::1]:9/"), None);
        assert_eq!(insecure_host("https://api.example/v1"), None);
        assert_eq!(
            insecure_host("http://api.example/v1").as_deref(),
            Some("api.example")
        );
    }
}
