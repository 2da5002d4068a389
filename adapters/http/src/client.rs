//! Who a request comes from: the TCP peer, or behind trusted proxies the address they
//! vouch for in `X-Forwarded-For`.

use std::net::{IpAddr, Ipv4Addr};

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, web};
use ipnet::IpNet;
use tessera_domain::{ClientAddress, ClientInfo, UserAgent};

/// Networks whose members are trusted to tell the client address.
#[derive(Debug, Clone, Default)]
pub struct Networks(Vec<IpNet>);

impl Networks {
    /// These networks.
    #[must_use]
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    /// The networks.
    #[must_use]
    pub fn as_slice(&self) -> &[IpNet] {
        &self.0
    }

    /// Whether `ip` is in one of them (an IPv4 address written as IPv6 counts as IPv4).
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// The trusted-proxy rule: the TCP peer is the client unless it is a trusted proxy;
/// then `X-Forwarded-For` is read from the right (the entry the nearest proxy added)
/// and the first entry that is not itself a trusted proxy is the client. A malformed
/// entry stops the walk: the last trusted hop is then taken as the client, since
/// nothing further left can be believed. Headers from untrusted peers are ignored.
#[must_use]
pub fn resolve(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &Networks) -> ClientAddress {
    resolve_forwarded(peer, headers, trusted).address
}

/// A client address, and whether it could be read: behind a trusted proxy whose
/// `X-Forwarded-For` holds an entry that is not an address before the client's, the
/// address the limits use is the last trusted hop's, which is not the client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    /// The address counted as the client's.
    pub address: ClientAddress,
    /// Whether it is the client's own (false when the walk stopped at a malformed entry).
    pub readable: bool,
}

/// [`resolve`], saying whether the address could be read.
#[must_use]
pub fn resolve_forwarded(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &Networks,
) -> Resolved {
    let Some(mut client) = peer else {
        return Resolved {
            address: peer_client(None),
            readable: true,
        };
    };
    let peer = client;
    let mut readable = true;
    if trusted.contains(peer) {
        // Split the raw bytes: a byte the client put in its own entries must not spoil
        // the entries the proxies appended to the same line.
        let entries = headers
            .get_all("x-forwarded-for")
            .flat_map(|value| value.as_bytes().split(|byte| *byte == b','))
            .collect::<Vec<_>>();
        for entry in entries.into_iter().rev() {
            let Some(ip) = std::str::from_utf8(entry).ok().and_then(parse_entry) else {
                readable = false;
                break;
            };
            client = ip;
            if !trusted.contains(ip) {
                break;
            }
        }
    }
    Resolved {
        address: ClientAddress::new(client),
        readable,
    }
}

/// Marks a request whose client address could not be read (see [`Resolved`]).
#[derive(Debug, Clone, Copy)]
pub struct UnreadableClient;

/// The TCP peer as the client. A request without a peer (a test request, a Unix
/// socket) counts as one unknown client, never as a trusted one.
fn peer_client(peer: Option<IpAddr>) -> ClientAddress {
    ClientAddress::new(peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))
}

/// One `X-Forwarded-For` entry: an IP address, IPv6 possibly in brackets, IPv4 possibly
/// with a port.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse() {
        return Some(ip);
    }
    if let Some(rest) = entry.strip_prefix('[') {
        let (inside, _) = rest.split_once(']')?;
        return inside.parse().ok();
    }
    entry
        .parse::<std::net::SocketAddr>()
        .ok()
        .map(|addr| addr.ip())
}

/// Resolves the client address once per request and keeps it in the request's
/// extensions, where [`client_address`] finds it.
pub async fn resolve_client<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, Error> {
    let peer = req.peer_addr().map(|addr| addr.ip());
    let client = match req.app_data::<web::Data<TrustedProxies>>() {
        Some(trusted) => resolve_forwarded(peer, req.headers(), &trusted.0),
        None => Resolved {
            address: peer_client(peer),
            readable: true,
        },
    };
    req.extensions_mut().insert(client.address);
    if !client.readable {
        req.extensions_mut().insert(UnreadableClient);
    }
    next.call(req).await
}

/// The `TRUSTED_PROXIES` networks, as app data.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Networks);

/// Who may read `/metrics`, as app data: client addresses in `METRICS_ALLOW`, asking for
/// a loopback host, `localhost` or one of `hosts` (`PUBLIC_URL`'s and `METRICS_HOSTS`).
#[derive(Debug, Clone, Default)]
pub struct MetricsAllow {
    /// `METRICS_ALLOW`.
    pub networks: Networks,
    /// Further host names, lower case.
    pub hosts: Vec<String>,
}

impl MetricsAllow {
    /// Whether `host` (a `Host` header: a name or address, with an optional port) is
    /// one `/metrics` answers to.
    #[must_use]
    pub fn allows_host(&self, host: &str) -> bool {
        let name = host_name(host).to_ascii_lowercase();
        if name.is_empty() {
            return false;
        }
        name == "localhost"
            || name
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.to_canonical().is_loopback())
            || self.hosts.contains(&name)
    }
}

/// The name of a `Host` value without its port (`[::1]:8080` is `::1`).
fn host_name(host: &str) -> &str {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split_once(']').map_or("", |(inside, _)| inside);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Where a request comes from: its client address and its `User-Agent` (as kept with
/// sessions and events), for the use cases.
#[must_use]
pub fn client_info(req: &HttpRequest) -> ClientInfo {
    ClientInfo {
        ip: Some(client_address(req)),
        user_agent: req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|value| std::str::from_utf8(value.as_bytes()).ok())
            .and_then(UserAgent::parse),
    }
}

/// The client address of a request, as [`resolve_client`] found it (the peer, when the
/// middleware did not run).
#[must_use]
pub fn client_address(req: &HttpRequest) -> ClientAddress {
    req.extensions()
        .get::<ClientAddress>()
        .copied()
        .unwrap_or_else(|| peer_client(req.peer_addr().map(|addr| addr.ip())))
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::V4(Ipv4Addr::BROADCAST))
    }

    fn nets(list: &[&str]) -> Networks {
        Networks::new(list.iter().filter_map(|n| n.parse().ok()).collect())
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                HeaderName::from_static("x-forwarded-for"),
                HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("!")),
            );
        }
        headers
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let headers = forwarded(&["198.51.100.1"]);
        let client = resolve(Some(ip("203.0.113.9")), &headers, &nets(&["10.0.0.0/8"]));
        assert_eq!(client.ip(), ip("203.0.113.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_entry_is_the_client() {
        let trusted = nets(&["10.0.0.0/8", "192.0.2.1/32"]);
        // The client forged the first entry; the proxies appended the rest.
        let headers = forwarded(&["1.1.1.1, 198.51.100.7", "192.0.2.1"]);
        let client = resolve(Some(ip("10.1.2.3")), &headers, &trusted);
        assert_eq!(client.ip(), ip("198.51.100.7"));
        // Ports and brackets are tolerated.
        let headers = forwarded(&["[2001:db8::5]:443, 198.51.100.8:5000"]);
        assert_eq!(
            resolve(Some(ip("10.1.2.3")), &headers, &trusted).ip(),
            ip("198.51.100.8")
        );
    }

    #[test]
    fn a_trusted_peer_without_a_usable_header_is_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        let peer = Some(ip("10.0.0.2"));
        assert_eq!(
            resolve(peer, &HeaderMap::new(), &trusted).ip(),
            ip("10.0.0.2")
        );
        // A malformed entry stops the walk at the last trusted hop.
        let headers = forwarded(&["198.51.100.7, garbage, 10.0.0.9"]);
        assert_eq!(resolve(peer, &headers, &trusted).ip(), ip("10.0.0.9"));
        // Every entry trusted: the leftmost is the best there is.
        let headers = forwarded(&["10.0.0.7, 10.0.0.8"]);
        assert_eq!(resolve(peer, &headers, &trusted).ip(), ip("10.0.0.7"));
    }

    #[test]
    fn a_byte_the_client_sent_does_not_spoil_the_entries_the_proxy_appended() {
        let trusted = nets(&["10.0.0.0/8"]);
        let mut headers = HeaderMap::new();
        headers.append(
            HeaderName::from_static("x-forwarded-for"),
            HeaderValue::from_bytes(b"\xff\xfe, 198.51.100.7")
                .unwrap_or(HeaderValue::from_static("!")),
        );
        let client = resolve(Some(ip("10.0.0.2")), &headers, &trusted);
        assert_eq!(client.ip(), ip("198.51.100.7"));
    }

    #[test]
    fn an_address_behind_a_malformed_entry_is_not_readable() {
        let trusted = nets(&["10.0.0.0/8"]);
        let peer = Some(ip("10.0.0.2"));
        for line in [
            "unknown",
            "garbage",
            "198.51.100.7, unknown",
            "1.2.3.4, nonsense, 10.0.0.9",
        ] {
            let resolved = resolve_forwarded(peer, &forwarded(&[line]), &trusted);
            assert!(!resolved.readable, "{line}");
        }
        for line in [
            "198.51.100.7",
            "garbage, 198.51.100.7",
            "10.0.0.7, 10.0.0.8",
        ] {
            let resolved = resolve_forwarded(peer, &forwarded(&[line]), &trusted);
            assert!(resolved.readable, "{line}");
        }
        assert!(resolve_forwarded(peer, &HeaderMap::new(), &trusted).readable);
        // Untrusted peers' headers are never read.
        let resolved = resolve_forwarded(Some(ip("203.0.113.9")), &forwarded(&["junk"]), &trusted);
        assert!(resolved.readable);
    }

    #[test]
    fn metrics_answer_only_to_loopback_localhost_and_configured_hosts() {
        let allow = MetricsAllow {
            networks: Networks::default(),
            hosts: vec!["tessera.example.com".to_owned(), "10.0.0.5".to_owned()],
        };
        for host in [
            "localhost",
            "LOCALHOST:8080",
            "127.0.0.1",
            "127.0.0.9:8080",
            "[::1]:8080",
            "tessera.example.com",
            "Tessera.Example.com:443",
            "10.0.0.5:8080",
        ] {
            assert!(allow.allows_host(host), "{host}");
        }
        for host in [
            "",
            "attacker.example",
            "localhost.attacker.example",
            "127.0.0.1.nip.io",
            "[::2]",
            "10.0.0.6",
            "tessera.example.com.evil",
        ] {
            assert!(!allow.allows_host(host), "{host}");
        }
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_networks() {
        let trusted = nets(&["127.0.0.1/32"]);
        let headers = forwarded(&["198.51.100.7"]);
        let client = resolve(Some(ip("::ffff:127.0.0.1")), &headers, &trusted);
        assert_eq!(client.ip(), ip("198.51.100.7"));
    }
}
