//! The SSRF guard: outbound HTTP and SMTP must not reach an address that is not globally
//! reachable (loopback, private, link-local, cloud metadata, documentation, benchmarking…:
//! the table [`SPECIAL`]) or one of this machine's own addresses, unless the target's
//! `allow_hosts` names the host.
//!
//! It is enforced where the address is known for sure: a DNS resolver that drops forbidden
//! addresses (so the check is on the address actually connected to, with no window for DNS
//! rebinding), an explicit check for IP-literal hosts (which are never resolved), and a
//! redirect policy that applies both to every hop and keeps every hop on the first
//! request's origin.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
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
        let bare = bare_host(host);
        // A lower-case host (any URL's: the parser lower-cases them) is looked up as it is.
        if bare.bytes().any(|b| b.is_ascii_uppercase()) {
            self.0.contains(&bare.to_ascii_lowercase())
        } else {
            self.0.contains(bare)
        }
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
        // An IP literal's text as `Host` writes it (`[::1]`).
        let name = url.host_str().unwrap_or_default();
        // An allowed host needs no look at the address (nor at this machine's interfaces).
        if !self.allows(name) && is_forbidden_ip(ip) {
            return Err(refusal(name, ip));
        }
        Ok(())
    }
}

/// `[::1]` and `::1` name the same host; DNS names are case-insensitive.
fn normalise_host(host: &str) -> String {
    bare_host(host).to_ascii_lowercase()
}

/// A host without surrounding blanks or IPv6 brackets.
fn bare_host(host: &str) -> &str {
    host.trim().trim_start_matches('[').trim_end_matches(']')
}

fn refusal(host: &str, ip: IpAddr) -> Refused {
    let range = forbidden_because(ip).unwrap_or_default();
    Refused(format!(
        "refused to connect to {host} ({ip}, {range}): addresses that are not globally reachable \
         (loopback, private, link-local, metadata, documentation…) and this machine's own \
         addresses are blocked; add \"{host}\" to the target's allow_hosts to allow it"
    ))
}

/// Resolves `host` with the system resolver and keeps only the addresses the guard allows
/// (all of them when `allow_hosts` names the host); refuses when none is left.
pub async fn resolve(
    host: &str,
    port: u16,
    allow: &AllowHosts,
) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
    let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
    if allow.allows(host) {
        return Ok(resolved);
    }
    let kept: Vec<SocketAddr> = resolved
        .iter()
        .copied()
        .filter(|addr| !is_forbidden_ip(addr.ip()))
        .collect();
    match (kept.is_empty(), resolved.first()) {
        (true, Some(first)) => Err(Box::new(refusal(host, first.ip()))),
        _ => Ok(kept),
    }
}

/// reqwest's resolver: [`resolve`] on every name it connects to.
pub struct GuardedResolver {
    pub allow: AllowHosts,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let kept = resolve(&host, 0, &allow).await?;
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// The most redirects followed; the next one fails the request.
pub const MAX_REDIRECTS: usize = 10;

/// The redirect policy: at most [`MAX_REDIRECTS`] hops, each one checked like the first
/// request, and none to another origin. reqwest forwards custom headers (an `api_key`, a
/// target's `headers:`) and, on 307/308, the body to wherever a service points; refusing
/// the hop is the only way none of them leaves the target's origin.
pub fn redirect_policy(allow: AllowHosts) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        // `previous` holds the first request's URL and every hop followed so far.
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(Refused(format!(
                "too many redirects (more than {MAX_REDIRECTS})"
            )));
        }
        if let Err(refused) = allow.check_url(attempt.url()) {
            return attempt.error(refused);
        }
        let from = attempt.previous().last().cloned();
        match from.map(|from| same_origin_hop(&from, attempt.url())) {
            Some(Err(refused)) => attempt.error(refused),
            _ => attempt.follow(),
        }
    })
}

/// A hop may change the path and query, or upgrade http to https on the same host; any
/// other change of scheme, host or port is refused.
fn same_origin_hop(from: &url::Url, to: &url::Url) -> Result<(), Refused> {
    let origin = |u: &url::Url| format!("{}://{}", u.scheme(), u.host_str().unwrap_or(""));
    let same_host = from.host() == to.host();
    let same_port = from.port_or_known_default() == to.port_or_known_default();
    match (from.scheme(), to.scheme()) {
        ("https", "http") => Err(Refused(format!(
            "refused a redirect from https to plain http ({})",
            origin(to)
        ))),
        (a, b) if same_host && ((a == b && same_port) || (a, b) == ("http", "https")) => Ok(()),
        _ => Err(Refused(format!(
            "refused a redirect to another origin ({}, from {}): redirects are followed only \
             within the target's scheme, host and port, so its credentials, headers and body \
             never reach another host",
            redact_origin(to),
            redact_origin(from)
        ))),
    }
}

/// `https://host:port`, without user info or path (they may hold a secret).
fn redact_origin(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

/// Whether an address is one outbound requests must not reach: any address the IANA
/// special-purpose registries mark not globally reachable (see [`SPECIAL`]), multicast, an
/// IPv6 form embedding such an IPv4 address, or one of this machine's own addresses.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    forbidden_because(ip).is_some()
}

/// Why an address must not be reached (the range it lies in), or `None` when it may be.
fn forbidden_because(ip: IpAddr) -> Option<String> {
    if let Some(range) = not_global(ip) {
        return Some(range);
    }
    own(ip, &own_addresses())
}

/// Whether `ip`, in any of its spellings, is one of `own`.
fn own(ip: IpAddr, own: &[IpAddr]) -> Option<String> {
    own.contains(&ip.to_canonical())
        .then(|| "an address of this machine".to_string())
}

/// The name of the range that makes an address not globally reachable, if any.
fn not_global(ip: IpAddr) -> Option<String> {
    let (bits, width) = match ip {
        IpAddr::V4(v4) => (u32::from(v4) as u128, 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    };
    let row = SPECIAL
        .iter()
        .filter(|row| row.width == width && row.contains(bits))
        .max_by_key(|row| row.len)?;
    match row.reach {
        Reach::Global => None,
        Reach::Local => Some(row.name.to_string()),
        Reach::Embeds { shift } => not_global(IpAddr::V4(Ipv4Addr::from((bits >> shift) as u32)))
            .map(|inner| format!("{}, embedding {inner}", row.name)),
    }
}

/// The addresses of this machine's interfaces (a service listening on all of them answers
/// on its public address too). Read at every check: interfaces come and go.
fn own_addresses() -> Vec<IpAddr> {
    let Ok(interfaces) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    interfaces
        .filter_map(|interface| {
            let address = interface.address?;
            if let Some(v4) = address.as_sockaddr_in() {
                return Some(IpAddr::V4(Ipv4Addr::from(v4.ip())));
            }
            address.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
        })
        .map(|ip| ip.to_canonical())
        .collect()
}

/// What a row of [`SPECIAL`] says about the addresses it holds.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Reach {
    /// Globally reachable: a more specific row carving an exception out of a wider one.
    Global,
    /// Not globally reachable: refused.
    Local,
    /// An IPv6 form that reaches the IPv4 address in bits `shift..shift + 32`: that
    /// address decides.
    Embeds { shift: u32 },
}

/// One network of the table: `len` leading bits of `net` in an address `width` bits wide.
#[derive(Debug)]
struct Row {
    net: u128,
    len: u32,
    width: u32,
    reach: Reach,
    /// The registry's name for it (or where the row comes from, when not from them).
    name: &'static str,
}

impl Row {
    fn contains(&self, bits: u128) -> bool {
        let shift = self.width - self.len;
        shift >= self.width || (bits >> shift) == (self.net >> shift)
    }
}

const fn v4(octets: [u8; 4], len: u32, reach: Reach, name: &'static str) -> Row {
    Row {
        net: u32::from_be_bytes(octets) as u128,
        len,
        width: 32,
        reach,
        name,
    }
}

const fn v6(segments: [u16; 8], len: u32, reach: Reach, name: &'static str) -> Row {
    let mut net = 0u128;
    let mut i = 0;
    while i < 8 {
        net = (net << 16) | segments[i] as u128;
        i += 1;
    }
    Row {
        net,
        len,
        width: 128,
        reach,
        name,
    }
}

use Reach::{Embeds, Global, Local};

/// The IANA IPv4 and IPv6 Special-Purpose Address Registries: every row marked "globally
/// reachable: false", the rows marked true that lie inside one of them, and the rows whose
/// addresses embed an IPv4 address; plus multicast and site-local, which the registries
/// leave out. The most specific row holding an address decides; an address in no row is
/// public. Rows whose reachability the registry gives as N/A (Teredo, the deprecated 6to4
/// relay anycast) are refused: no API is served there.
const SPECIAL: &[Row] = &[
    v4([0, 0, 0, 0], 8, Local, "\"This network\" (RFC 791)"),
    v4(
        [0, 0, 0, 0],
        32,
        Local,
        "\"This host on this network\" (RFC 1122)",
    ),
    v4([10, 0, 0, 0], 8, Local, "Private-Use (RFC 1918)"),
    v4(
        [100, 64, 0, 0],
        10,
        Local,
        "Shared Address Space (RFC 6598)",
    ),
    v4([127, 0, 0, 0], 8, Local, "Loopback (RFC 1122)"),
    v4([169, 254, 0, 0], 16, Local, "Link Local (RFC 3927)"),
    v4([172, 16, 0, 0], 12, Local, "Private-Use (RFC 1918)"),
    v4(
        [192, 0, 0, 0],
        24,
        Local,
        "IETF Protocol Assignments (RFC 6890)",
    ),
    v4(
        [192, 0, 0, 0],
        29,
        Local,
        "IPv4 Service Continuity Prefix (RFC 7335)",
    ),
    v4([192, 0, 0, 8], 32, Local, "IPv4 dummy address (RFC 7600)"),
    v4(
        [192, 0, 0, 9],
        32,
        Global,
        "Port Control Protocol Anycast (RFC 7723)",
    ),
    v4(
        [192, 0, 0, 10],
        32,
        Global,
        "Traversal Using Relays around NAT Anycast (RFC 8155)",
    ),
    v4(
        [192, 0, 0, 170],
        32,
        Local,
        "NAT64/DNS64 Discovery (RFC 8880)",
    ),
    v4(
        [192, 0, 0, 171],
        32,
        Local,
        "NAT64/DNS64 Discovery (RFC 8880)",
    ),
    v4(
        [192, 0, 2, 0],
        24,
        Local,
        "Documentation (TEST-NET-1, RFC 5737)",
    ),
    v4(
        [192, 88, 99, 0],
        24,
        Local,
        "Deprecated (6to4 Relay Anycast, RFC 7526)",
    ),
    v4([192, 168, 0, 0], 16, Local, "Private-Use (RFC 1918)"),
    v4([198, 18, 0, 0], 15, Local, "Benchmarking (RFC 2544)"),
    v4(
        [198, 51, 100, 0],
        24,
        Local,
        "Documentation (TEST-NET-2, RFC 5737)",
    ),
    v4(
        [203, 0, 113, 0],
        24,
        Local,
        "Documentation (TEST-NET-3, RFC 5737)",
    ),
    v4([224, 0, 0, 0], 4, Local, "Multicast (RFC 5771)"),
    v4([240, 0, 0, 0], 4, Local, "Reserved (RFC 1112)"),
    v4(
        [255, 255, 255, 255],
        32,
        Local,
        "Limited Broadcast (RFC 919)",
    ),
    v6(
        [0, 0, 0, 0, 0, 0, 0, 1],
        128,
        Local,
        "Loopback Address (RFC 4291)",
    ),
    v6(
        [0, 0, 0, 0, 0, 0, 0, 0],
        128,
        Local,
        "Unspecified Address (RFC 4291)",
    ),
    v6(
        [0, 0, 0, 0, 0, 0, 0, 0],
        96,
        Embeds { shift: 0 },
        "IPv4-Compatible (deprecated, RFC 4291)",
    ),
    v6(
        [0, 0, 0, 0, 0, 0xffff, 0, 0],
        96,
        Embeds { shift: 0 },
        "IPv4-mapped Address (RFC 4291)",
    ),
    v6(
        [0, 0, 0, 0, 0xffff, 0, 0, 0],
        96,
        Embeds { shift: 0 },
        "IPv4-translated (RFC 2765)",
    ),
    v6(
        [0x64, 0xff9b, 0, 0, 0, 0, 0, 0],
        96,
        Embeds { shift: 0 },
        "IPv4-IPv6 Translat. (RFC 6052)",
    ),
    v6(
        [0x64, 0xff9b, 1, 0, 0, 0, 0, 0],
        48,
        Local,
        "IPv4-IPv6 Translat. (RFC 8215)",
    ),
    v6(
        [0x100, 0, 0, 0, 0, 0, 0, 0],
        64,
        Local,
        "Discard-Only Address Block (RFC 6666)",
    ),
    v6(
        [0x100, 0, 0, 1, 0, 0, 0, 0],
        64,
        Local,
        "Dummy IPv6 Prefix (RFC 9780)",
    ),
    v6(
        [0x2001, 0, 0, 0, 0, 0, 0, 0],
        23,
        Local,
        "IETF Protocol Assignments (RFC 2928)",
    ),
    v6(
        [0x2001, 0, 0, 0, 0, 0, 0, 0],
        32,
        Local,
        "TEREDO (RFC 4380)",
    ),
    v6(
        [0x2001, 1, 0, 0, 0, 0, 0, 1],
        128,
        Global,
        "Port Control Protocol Anycast (RFC 7723)",
    ),
    v6(
        [0x2001, 1, 0, 0, 0, 0, 0, 2],
        128,
        Global,
        "Traversal Using Relays around NAT Anycast (RFC 8155)",
    ),
    v6(
        [0x2001, 1, 0, 0, 0, 0, 0, 3],
        128,
        Global,
        "DNS-SD Service Registration Protocol Anycast (RFC 9665)",
    ),
    v6(
        [0x2001, 2, 0, 0, 0, 0, 0, 0],
        48,
        Local,
        "Benchmarking (RFC 5180)",
    ),
    v6([0x2001, 3, 0, 0, 0, 0, 0, 0], 32, Global, "AMT (RFC 7450)"),
    v6(
        [0x2001, 4, 0x112, 0, 0, 0, 0, 0],
        48,
        Global,
        "AS112-v6 (RFC 7535)",
    ),
    v6(
        [0x2001, 0x10, 0, 0, 0, 0, 0, 0],
        28,
        Local,
        "Deprecated (previously ORCHID, RFC 4843)",
    ),
    v6(
        [0x2001, 0x20, 0, 0, 0, 0, 0, 0],
        28,
        Global,
        "ORCHIDv2 (RFC 7343)",
    ),
    v6(
        [0x2001, 0x30, 0, 0, 0, 0, 0, 0],
        28,
        Global,
        "Drone Remote ID Protocol Entity Tags (RFC 9374)",
    ),
    v6(
        [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0],
        32,
        Local,
        "Documentation (RFC 3849)",
    ),
    v6(
        [0x2002, 0, 0, 0, 0, 0, 0, 0],
        16,
        Embeds { shift: 80 },
        "6to4 (RFC 3056)",
    ),
    v6(
        [0x3fff, 0, 0, 0, 0, 0, 0, 0],
        20,
        Local,
        "Documentation (RFC 9637)",
    ),
    v6(
        [0x5f00, 0, 0, 0, 0, 0, 0, 0],
        16,
        Local,
        "Segment Routing (SRv6) SIDs (RFC 9602)",
    ),
    v6(
        [0xfc00, 0, 0, 0, 0, 0, 0, 0],
        7,
        Local,
        "Unique-Local (RFC 4193)",
    ),
    v6(
        [0xfe80, 0, 0, 0, 0, 0, 0, 0],
        10,
        Local,
        "Link-Local Unicast (RFC 4291)",
    ),
    v6(
        [0xfec0, 0, 0, 0, 0, 0, 0, 0],
        10,
        Local,
        "Site-Local (deprecated, RFC 3879)",
    ),
    v6(
        [0xff00, 0, 0, 0, 0, 0, 0, 0],
        8,
        Local,
        "Multicast (RFC 4291)",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    /// Every row, at its first and its last address, says what the row says: no wider or
    /// narrower row shadows it by mistake.
    #[test]
    fn each_row_decides_its_own_addresses() {
        for row in SPECIAL {
            let host_bits = if row.len == row.width {
                0
            } else {
                (1u128 << (row.width - row.len)) - 1
            };
            for bits in [row.net, row.net | host_bits] {
                let ip = match row.width {
                    32 => IpAddr::V4(Ipv4Addr::from(bits as u32)),
                    _ => IpAddr::V6(Ipv6Addr::from(bits)),
                };
                let refused = not_global(ip).is_some();
                match row.reach {
                    Reach::Global => assert!(!refused, "{ip} ({}) must be allowed", row.name),
                    Reach::Local => assert!(refused, "{ip} ({}) must be refused", row.name),
                    Reach::Embeds { .. } => {}
                }
            }
        }
    }

    #[test]
    fn embedded_forms_are_judged_by_their_ipv4_address() {
        for (ip, refused) in [
            ("::ffff:127.0.0.1", true),
            ("::ffff:198.18.0.1", true),
            ("::ffff:8.8.8.8", false),
            ("::127.0.0.1", true),
            ("::ffff:0:192.0.2.1", true),
            ("64:ff9b::c000:201", true),
            ("64:ff9b::808:808", false),
            ("2002:c633:6401::1", true),
            ("2002:808:808::1", false),
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(not_global(ip).is_some(), refused, "{ip}");
        }
    }

    #[test]
    fn this_machines_addresses_are_refused_in_every_spelling() {
        let machine: Vec<IpAddr> = vec!["203.0.114.7".parse().unwrap()];
        for spelling in ["203.0.114.7", "::ffff:203.0.114.7"] {
            assert!(
                own(spelling.parse().unwrap(), &machine).is_some(),
                "{spelling}"
            );
        }
        assert!(own("203.0.114.8".parse().unwrap(), &machine).is_none());
        // The loopback interface is always there: enumeration works.
        assert!(own_addresses().contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)));
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

    #[test]
    fn redirects_stay_on_the_origin() {
        let url = |s: &str| url::Url::parse(s).unwrap();
        let hop = |a: &str, b: &str| same_origin_hop(&url(a), &url(b)).is_ok();
        assert!(hop("https://api.example/a", "https://api.example/b?c=1"));
        assert!(hop("http://api.example/a", "https://api.example/a"));
        assert!(!hop("https://api.example/a", "http://api.example/a"));
        assert!(!hop("https://api.example/a", "https://evil.example/a"));
        assert!(!hop("https://api.example/a", "https://api.example:8443/a"));
        assert!(!hop("https://api.example/a", "https://sub.api.example/a"));
    }
}
