//! Who is asking: the client's IP address, for limits keyed by client (the public checkout
//! page has no API key to count by). The accept loop records each connection's peer
//! (`ConnectInfo`); behind a reverse proxy the operator names the header the proxy writes
//! (`server.client_ip_header`), and its last entry — the one the proxy itself appended, which
//! a client cannot forge — is the client.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName};

use crate::state::AppState;

/// The client's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client(pub IpAddr);

impl FromRequestParts<AppState> for Client {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(Client(client_ip(state.config.client_ip_header.as_ref(), &parts.headers, peer)))
    }
}

/// The address from the configured proxy header (last entry, as `X-Forwarded-For` appends),
/// else the peer's. A request without either (none reaches here through the accept loop)
/// counts as 0.0.0.0, one shared bucket rather than none.
pub fn client_ip(header: Option<&HeaderName>, headers: &HeaderMap, peer: Option<IpAddr>) -> IpAddr {
    let forwarded = header.and_then(|name| {
        // Several headers of the name: the last one is the proxy's own.
        let value = headers.get_all(name).iter().next_back()?.to_str().ok()?;
        let last = value.rsplit(',').next()?.trim();
        // `X-Forwarded-For` holds bare addresses; some proxies add a port (`1.2.3.4:5678`,
        // `[::1]:5678`).
        last.parse::<IpAddr>().ok().or_else(|| last.parse::<SocketAddr>().ok().map(|a| a.ip()))
    });
    forwarded.or(peer).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_header_last_entry_wins_and_the_peer_is_the_fallback() {
        let name = HeaderName::from_static("x-forwarded-for");
        let peer = Some(IpAddr::from([10, 0, 0, 9]));
        let mut h = HeaderMap::new();
        assert_eq!(client_ip(Some(&name), &h, peer), IpAddr::from([10, 0, 0, 9]));
        // A client's own forged entry comes first; the proxy appends the real one.
        h.insert(&name, "6.6.6.6, 203.0.113.7".parse().unwrap());
        assert_eq!(client_ip(Some(&name), &h, peer), IpAddr::from([203, 0, 113, 7]));
        h.insert(&name, "[2001:db8::1]:443".parse().unwrap());
        assert_eq!(client_ip(Some(&name), &h, peer), "2001:db8::1".parse::<IpAddr>().unwrap());
        // Garbage falls back to the peer; without a configured header the header is ignored.
        h.insert(&name, "not an address".parse().unwrap());
        assert_eq!(client_ip(Some(&name), &h, peer), IpAddr::from([10, 0, 0, 9]));
        h.insert(&name, "203.0.113.7".parse().unwrap());
        assert_eq!(client_ip(None, &h, peer), IpAddr::from([10, 0, 0, 9]));
        assert_eq!(client_ip(None, &h, None), IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    }
}
