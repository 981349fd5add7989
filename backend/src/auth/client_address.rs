//! Who the client is, address-wise: the peer of the TCP connection, or — when that peer is a
//! reverse proxy the operator trusts — the address the proxies say they received the request
//! from. Limits per address (sign-in guesses, sign-ups) count what this returns.

use std::net::IpAddr;
use std::str::FromStr;

use actix_web::http::header::HeaderMap;
use actix_web::HttpRequest;
use ipnet::IpNet;

/// The reverse proxies whose `X-Forwarded-For` is believed (`STRATUS_TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl FromStr for TrustedProxies {
    type Err = String;

    /// Addresses or networks, separated by commas or spaces: `127.0.0.1, 10.0.0.0/8, ::1`.
    fn from_str(text: &str) -> Result<Self, String> {
        text.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|part| !part.is_empty())
            .map(|part| {
                IpNet::from_str(part)
                    .or_else(|_| IpAddr::from_str(part).map(IpNet::from))
                    .map_err(|_| format!("\"{part}\" is neither an IP address nor a network"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl TrustedProxies {
    fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|network| network.contains(&address))
    }

    /// The client's address. Without a trusted peer, the peer itself (a header anyone can send
    /// is never believed). Behind trusted proxies, `X-Forwarded-For` is read from the right
    /// (each proxy appends the address it received from): the first hop not trusted is the
    /// client; if every hop is trusted, the leftmost. An unreadable entry stops the walk at
    /// the last trusted hop, so a forged prefix cannot choose the answer.
    pub fn client_of(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops = forwarded_for
            .iter()
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .rev();
        let mut client = peer;
        for hop in hops {
            let Ok(address) = IpAddr::from_str(hop) else {
                return client;
            };
            client = canonical(address);
            if !self.trusts(client) {
                return client;
            }
        }
        client
    }

    /// [`TrustedProxies::client_of`] for a request (`None` without a peer address, as in
    /// some tests).
    pub fn client_of_request(&self, request: &HttpRequest) -> Option<IpAddr> {
        Some(self.client_of_headers(request.peer_addr()?.ip(), request.headers()))
    }

    /// [`TrustedProxies::client_of`] with the `X-Forwarded-For` lines of `headers`.
    pub fn client_of_headers(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .collect();
        self.client_of(peer, &forwarded)
    }
}

/// IPv4 addresses mapped into IPv6 (`::ffff:192.0.2.1`, how a dual-stack socket reports
/// them) count as the IPv4 address, so one client has one bucket.
pub(crate) fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn lists_of_addresses_and_networks_parse() {
        let proxies: TrustedProxies = "127.0.0.1, 10.0.0.0/8 ::1".parse().unwrap();
        assert!(proxies.trusts(ip("127.0.0.1")));
        assert!(proxies.trusts(ip("10.20.30.40")));
        assert!(proxies.trusts(ip("::1")));
        assert!(proxies.trusts(ip("::ffff:127.0.0.1")));
        assert!(!proxies.trusts(ip("127.0.0.2")));
        assert_eq!(
            "".parse::<TrustedProxies>().unwrap(),
            TrustedProxies::default()
        );
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("proxy.example".parse::<TrustedProxies>().is_err());
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_of(ip("127.0.0.1"), &["192.0.2.1"]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn an_untrusted_peer_cannot_claim_an_address() {
        let proxies: TrustedProxies = "10.0.0.1".parse().unwrap();
        assert_eq!(
            proxies.client_of(ip("192.0.2.9"), &["198.51.100.1"]),
            ip("192.0.2.9")
        );
    }

    #[test]
    fn the_first_untrusted_hop_from_the_right_is_the_client() {
        let proxies: TrustedProxies = "127.0.0.1,10.0.0.0/8".parse().unwrap();
        // A client forged "1.1.1.1"; nginx appended the real address it saw.
        assert_eq!(
            proxies.client_of(ip("127.0.0.1"), &["1.1.1.1, 192.0.2.7, 10.1.1.1"]),
            ip("192.0.2.7")
        );
        // Several header lines read as one list.
        assert_eq!(
            proxies.client_of(ip("127.0.0.1"), &["1.1.1.1", "192.0.2.8"]),
            ip("192.0.2.8")
        );
        // No header: the proxy itself.
        assert_eq!(proxies.client_of(ip("127.0.0.1"), &[]), ip("127.0.0.1"));
        // Every hop trusted: the leftmost.
        assert_eq!(
            proxies.client_of(ip("127.0.0.1"), &["10.9.9.9, 10.1.1.1"]),
            ip("10.9.9.9")
        );
    }

    #[test]
    fn an_unreadable_hop_stops_at_the_last_trusted_one() {
        let proxies: TrustedProxies = "127.0.0.1,10.0.0.0/8".parse().unwrap();
        assert_eq!(
            proxies.client_of(ip("127.0.0.1"), &["192.0.2.1, garbage, 10.1.1.1"]),
            ip("10.1.1.1")
        );
        assert_eq!(
            proxies.client_of(ip("::ffff:127.0.0.1"), &["::ffff:192.0.2.3"]),
            ip("192.0.2.3")
        );
    }
}
