//! The SSRF guard: outbound HTTP must not reach loopback, private, link-local, unique-local
//! or cloud-metadata addresses, unless the target's `allow_hosts` names the host.
//!
//! It is enforced where the address is known for sure: a DNS resolver that drops forbidden
//! addresses (so the check is on the address actually connected to, with no window for DNS
//! rebinding), an explicit check for IP-literal hosts (which are never resolved), and a
//! redirect policy that applies both to every hop.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Why a request was refused; found again in reqwest's error chain to report it plainly.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for Refused {}

/// The hosts a target allows even on forbidden addresses, lower-cased.
#[derive(Clone, Debug, Default)]
pub struct AllowHosts(Arc<HashSet<String>>);

impl AllowHosts {
    pub fn new(hosts: &[String]) -> Self {
        AllowHosts(Arc::new(
            hosts
                .iter()
                .map(|h| normalise_host(h))
                .collect::<HashSet<_>>(),
        ))
    }

    pub fn allows(&self, host: &str) -> bool {
        self.0.contains(&normalise_host(host))
    }

    /// Checks a URL before any connection: its scheme, and its host when it is an IP literal.
    pub fn check_url(&self, url: &url::Url) -> Result<(), Refused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused(format!(
                "refused {}: only http and https URLs are allowed",
                url.scheme()
            )));
        }
        let host = match url.host() {
            Some(host) => host,
            None => return Err(Refused("refused a URL without a host".into())),
        };
        let ip = match host {
            url::Host::Ipv4(ip) => IpAddr::V4(ip),
            url::Host::Ipv6(ip) => IpAddr::V6(ip),
            url::Host::Domain(_) => return Ok(()),
        };
        let name = host.to_string();
        if is_forbidden_ip(ip) && !self.allows(&name) {
            return Err(refusal(&name, ip));
        }
        Ok(())
    }
}

/// `[::1]` and `::1` name the same host; DNS names are case-insensitive.
fn normalise_host(host: &str) -> String {
    host.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

fn refusal(host: &str, ip: IpAddr) -> Refused {
    Refused(format!(
        "refused to connect to {host} ({ip}): loopback, private, link-local and metadata \
         addresses are blocked; add \"{host}\" to the target's allow_hosts to allow it"
    ))
}

/// Resolves with the system resolver, then keeps only the addresses the guard allows.
pub struct GuardedResolver {
    pub allow: AllowHosts,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if allow.allows(&host) {
                return Ok(Box::new(resolved.into_iter()) as Addrs);
            }
            let kept: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|addr| !is_forbidden_ip(addr.ip()))
                .collect();
            match (kept.is_empty(), resolved.first()) {
                (true, Some(first)) => Err(Box::new(refusal(&host, first.ip())) as _),
                _ => Ok(Box::new(kept.into_iter()) as Addrs),
            }
        })
    }
}

/// The redirect policy: at most 10 hops, each one checked like the first request.
pub fn redirect_policy(allow: AllowHosts) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= 10 {
            return attempt.error(Refused("too many redirects (more than 10)".into()));
        }
        match allow.check_url(attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(refused) => attempt.error(refused),
        }
    })
}

/// Whether an address is one outbound requests must not reach: loopback, unspecified,
/// private, carrier-grade NAT, link-local (which holds 169.254.169.254), unique-local
/// (which holds fd00:ec2::254), multicast, broadcast and reserved ranges, and IPv6 forms
/// that embed such an IPv4 address.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT, 100.100.100.200 metadata
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || a >= 240 // reserved
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let embedded_v4 = |hi: u16, lo: u16| Ipv4Addr::from(((hi as u32) << 16) | lo as u32);
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (segments[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        // IPv4-compatible ::a.b.c.d and NAT64 64:ff9b::/96 reach the embedded address.
        || (segments[..6] == [0, 0, 0, 0, 0, 0] && forbidden_v4(embedded_v4(segments[6], segments[7])))
        || (segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
            && forbidden_v4(embedded_v4(segments[6], segments[7])))
        // 6to4 2002:AABB:CCDD::/48 reaches AA.BB.CC.DD.
        || (segments[0] == 0x2002 && forbidden_v4(embedded_v4(segments[1], segments[2])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forbidden(s: &str) -> bool {
        is_forbidden_ip(s.parse().unwrap())
    }

    #[test]
    fn blocks_internal_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            assert!(forbidden(ip), "{ip} should be forbidden");
        }
    }

    #[test]
    fn allows_public_addresses() {
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!forbidden(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn allow_hosts_exempts_ip_literals() {
        let url = url::Url::parse("http://127.0.0.1:8080/x").unwrap();
        assert!(AllowHosts::default().check_url(&url).is_err());
        assert!(AllowHosts::new(&["127.0.0.1".into()])
            .check_url(&url)
            .is_ok());
        let v6 = url::Url::parse("http://[::1]/x").unwrap();
        assert!(AllowHosts::new(&["::1".into()]).check_url(&v6).is_ok());
        let file = url::Url::parse("file:///etc/passwd").unwrap();
        assert!(AllowHosts::default().check_url(&file).is_err());
    }
}
