//! The checker's transport rule (E0406: no credentials over plain http:// off loopback),
//! applied again to a target's evaluated fields when its executor is built:
//! `base_url: env("BASE")` hides the address from the checker, not from this.

use crate::check::security;
use crate::ir::{self, Expr};
use std::net::IpAddr;

/// Whether a host name or address (`localhost`, `127.0.0.1`, `::1`) is loopback.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => url::Host::Ipv4(ip),
        Ok(IpAddr::V6(ip)) => url::Host::Ipv6(ip),
        Err(_) => url::Host::Domain(host),
    };
    security::is_loopback_host(&host)
}

/// A target refused for sending credentials over plain http:// to `host`, not loopback.
#[derive(Debug, Clone, PartialEq)]
pub struct CleartextError {
    pub host: String,
}

impl std::error::Error for CleartextError {}

impl std::fmt::Display for CleartextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = &self.host;
        write!(
            f,
            "refusing to send credentials over plain http:// to `{host}`: use \
             https://{host}/… (plain http:// is only allowed to loopback)"
        )
    }
}

/// Refuses a target that would send credentials (`credentials`: an `auth`, or the kind's
/// own token) or any field read with `secret(..)` over plain http:// to a host that is not
/// loopback.
pub fn refuse_credentials_in_clear(
    target: &ir::Target,
    base: &url::Url,
    credentials: bool,
) -> Result<(), CleartextError> {
    let Some(host) = security::insecure_host(base.as_str()) else {
        return Ok(());
    };
    if credentials || target.fields.values().any(reads_secret) {
        return Err(CleartextError { host });
    }
    Ok(())
}

/// Whether an expression reads a `secret(..)` anywhere inside it.
fn reads_secret(expr: &Expr) -> bool {
    match expr {
        Expr::Call(name, args) => name == "secret" || args.iter().any(reads_secret),
        Expr::Lit(_) | Expr::Var(_) => false,
        Expr::Interp(items) | Expr::List(items) => items.iter().any(reads_secret),
        Expr::Record(fields) => fields.iter().any(|(_, value)| reads_secret(value)),
        Expr::Field(base, _) | Expr::Unary(_, base) => reads_secret(base),
        Expr::Index(a, b) | Expr::Binary(_, a, b) => reads_secret(a) || reads_secret(b),
        Expr::If(cond, then, otherwise) => {
            reads_secret(cond) || reads_secret(then) || reads_secret(otherwise)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Value;

    fn target(fields: Vec<(&str, Expr)>) -> ir::Target {
        ir::Target {
            name: "t".into(),
            kind: crate::catalogue::Kind::Http,
            fields: fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            timeout_ms: None,
            retry: None,
        }
    }

    #[test]
    fn secrets_over_plain_http_are_refused_off_loopback() {
        let secret_header = target(vec![(
            "headers",
            Expr::Record(vec![(
                "X-Key".into(),
                Expr::Call("secret".into(), vec![Expr::Lit(Value::Text("K".into()))]),
            )]),
        )]);
        let plain = target(vec![]);
        let url = |s: &str| url::Url::parse(s).unwrap();
        let remote = url("http://api.example/v1");
        assert_eq!(
            refuse_credentials_in_clear(&secret_header, &remote, false),
            Err(CleartextError {
                host: "api.example".into()
            })
        );
        assert!(refuse_credentials_in_clear(&plain, &remote, true).is_err());
        assert!(refuse_credentials_in_clear(&plain, &remote, false).is_ok());
        for fine in [
            "https://api.example/v1",
            "http://127.0.0.1:9/",
            "http://localhost/",
        ] {
            assert!(refuse_credentials_in_clear(&secret_header, &url(fine), true).is_ok());
        }
    }

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "::1",
            "[::1]",
            "a.localhost",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["smtp.example", "10.0.0.1", "::ffff:8.8.8.8"] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
