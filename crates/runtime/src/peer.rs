//! Who is calling, as far as the network says. The gateway takes the
//! client's address from the TCP peer or, behind its own trusted proxies,
//! from `X-Forwarded-For`, and sends it on to the back services in
//! `x-forwarded-for`; each back service believes that only from the peers
//! it is told to trust (the gateway), so a caller that reaches a back
//! service directly cannot name an address of its choosing for rate limits
//! or audit entries.

use std::{fmt, net::IpAddr, str::FromStr};

use serde::Deserialize;

/// The header (HTTP) and metadata key (gRPC) naming the client address as
/// each proxy saw it, the nearest last.
pub const FORWARDED_FOR: &str = "x-forwarded-for";

/// One proxy, or a block of them, whose `X-Forwarded-For` is believed:
/// `10.0.0.7`, `10.0.0.0/8`, `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ProxyNet {
    network: IpAddr,
    prefix: u8,
}

/// Why a trusted-proxy entry did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IP address or CIDR block (e.g. `10.0.0.7`, `10.0.0.0/8`, `fd00::/8`)")]
pub struct ProxyNetError(String);

impl ProxyNet {
    /// Whether `ip` lies in this block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        // A dual-stack listener reports IPv4 peers as `::ffff:a.b.c.d`.
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                same_prefix(u32::from(net).into(), u32::from(ip).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                same_prefix(u128::from(net), u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

/// Whether the first `prefix` of `width` bits of `a` and `b` agree.
fn same_prefix(a: u128, b: u128, width: u8, prefix: u8) -> bool {
    let ignored = u32::from(width - prefix);
    a.checked_shr(ignored).unwrap_or(0) == b.checked_shr(ignored).unwrap_or(0)
}

impl FromStr for ProxyNet {
    type Err = ProxyNetError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let invalid = || ProxyNetError(raw.to_owned());
        let (address, prefix) = match raw.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (raw.trim(), None),
        };
        let network = address
            .parse::<IpAddr>()
            .map_err(|_| invalid())?
            .to_canonical();
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(invalid)?,
        };
        Ok(Self { network, prefix })
    }
}

impl TryFrom<String> for ProxyNet {
    type Error = ProxyNetError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        raw.parse()
    }
}

impl fmt::Display for ProxyNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy,
/// in which case `X-Forwarded-For` is read from its right-hand end (each
/// proxy appends the address it saw) and the first address that is not a
/// trusted proxy is the client. Entries left of that are whatever the client
/// chose to send, so they are never believed, and an unreadable header
/// leaves the last address known for certain. `forwarded` holds the
/// header's values in the order they were sent.
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded: impl IntoIterator<Item = &'a str>,
    trusted: &[ProxyNet],
) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer.to_canonical();
    if !is_trusted(client) {
        return client;
    }
    let hops = forwarded
        .into_iter()
        .flat_map(|value| value.split(','))
        .collect::<Vec<_>>();
    for hop in hops.into_iter().rev() {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            return client;
        };
        client = ip.to_canonical();
        if !is_trusted(client) {
            break;
        }
    }
    client
}

/// The client of a gRPC call: the peer, or the `x-forwarded-for` it sent
/// when the peer is trusted ([`client_address`]). `None` when the transport
/// knows no peer (an in-memory channel).
pub fn grpc_client_address<T>(request: &tonic::Request<T>, trusted: &[ProxyNet]) -> Option<IpAddr> {
    let peer = request.remote_addr()?.ip();
    let forwarded = request
        .metadata()
        .get_all(FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok());
    Some(client_address(peer, forwarded, trusted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(raw: &[&str]) -> Vec<ProxyNet> {
        raw.iter().map(|r| r.parse().unwrap()).collect()
    }

    fn forwarded<'a>(values: &'a [&'a str]) -> impl IntoIterator<Item = &'a str> + Clone {
        values.iter().copied()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_parse_and_contain_their_addresses() {
        let net: ProxyNet = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains(ip("10.200.3.4")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(net.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped peers");
        let one: ProxyNet = " 192.0.2.7 ".parse().unwrap();
        assert_eq!(one.to_string(), "192.0.2.7/32");
        assert!(one.contains(ip("192.0.2.7")));
        assert!(!one.contains(ip("192.0.2.8")));
        let v6: ProxyNet = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        let all: ProxyNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "proxy.local",
            "10.0.0.0/x",
        ] {
            let err = bad.parse::<ProxyNet>().unwrap_err().to_string();
            assert!(err.contains(&format!("`{bad}`")), "{err}");
        }
    }

    #[test]
    fn settings_name_the_entry_that_is_not_a_block() {
        let ok: Vec<ProxyNet> =
            serde_json::from_value(serde_json::json!(["10.0.0.0/8", "192.0.2.7"])).unwrap();
        assert_eq!(ok.len(), 2);
        let err = serde_json::from_value::<Vec<ProxyNet>>(serde_json::json!(["10.0.0.0/8", "lb"]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`lb` is not an IP address or CIDR block"),
            "{err}"
        );
    }

    #[test]
    fn the_peer_is_the_client_unless_it_is_a_trusted_proxy() {
        let spoofed = forwarded(&["198.51.100.1"]);
        assert_eq!(
            client_address(ip("203.0.113.5"), spoofed.clone(), &[]),
            ip("203.0.113.5"),
            "nothing trusted: the header is ignored"
        );
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_address(ip("203.0.113.5"), spoofed.clone(), &trusted),
            ip("203.0.113.5"),
            "an untrusted peer cannot forward"
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), spoofed, &trusted),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn forwarded_chains_are_read_from_the_right() {
        let trusted = nets(&["10.0.0.0/8"]);
        // The client claimed 1.1.1.1; the first proxy saw 198.51.100.9.
        let chain = forwarded(&["1.1.1.1, 198.51.100.9", "10.0.0.3"]);
        assert_eq!(
            client_address(ip("10.0.0.2"), chain, &trusted),
            ip("198.51.100.9")
        );
        // Every hop trusted: the leftmost is as far back as anyone can tell.
        let internal = forwarded(&["10.9.9.9, 10.0.0.3"]);
        assert_eq!(
            client_address(ip("10.0.0.2"), internal, &trusted),
            ip("10.9.9.9")
        );
        // Garbage stops the walk at the last address known for certain.
        let garbage = forwarded(&["198.51.100.9, unknown, 10.0.0.3"]);
        assert_eq!(
            client_address(ip("10.0.0.2"), garbage, &trusted),
            ip("10.0.0.3")
        );
        assert_eq!(client_address(ip("10.0.0.2"), [], &trusted), ip("10.0.0.2"));
    }

    #[test]
    fn grpc_callers_name_an_address_only_from_a_trusted_peer() {
        let call = |peer: &str, forwarded: Option<&str>| {
            let mut request = tonic::Request::new(());
            request
                .extensions_mut()
                .insert(tonic::transport::server::TcpConnectInfo {
                    local_addr: None,
                    remote_addr: Some(peer.parse().unwrap()),
                });
            if let Some(value) = forwarded {
                request
                    .metadata_mut()
                    .insert(FORWARDED_FOR, value.parse().unwrap());
            }
            request
        };
        let gateway = nets(&["10.0.0.2"]);
        assert_eq!(
            grpc_client_address(&call("10.0.0.2:4000", Some("198.51.100.7")), &gateway),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            grpc_client_address(&call("203.0.113.9:4000", Some("198.51.100.7")), &gateway),
            Some(ip("203.0.113.9")),
            "a direct caller's header is ignored"
        );
        assert_eq!(
            grpc_client_address(&call("10.0.0.2:4000", Some("198.51.100.7")), &[]),
            Some(ip("10.0.0.2")),
            "nothing trusted by default"
        );
        assert_eq!(
            grpc_client_address(&tonic::Request::new(()), &gateway),
            None
        );
    }
}
