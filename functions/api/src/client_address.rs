//! Who is calling, by network address, for per-client rate limits.
//!
//! The entry point records the connection's peer ([`PeerAddress`]; the local
//! stack's `ConnectInfo` also works). Behind proxies (the edge, a load
//! balancer) the peer is the proxy, so the address comes from
//! `X-Forwarded-For`, counting from the right past the configured number of
//! trusted proxies: entries further left were written by the client and
//! prove nothing.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::ApiState;

/// The address of the connection's other end, set by the entry point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddress(pub IpAddr);

/// The client's address as far as it can be trusted, or `unknown`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress(pub String);

impl FromRequestParts<Arc<ApiState>> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ApiState>,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<PeerAddress>()
            .map(|peer| peer.0)
            .or_else(|| {
                parts
                    .extensions
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|info| info.0.ip())
            });
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        let address = client_address(peer, &forwarded, state.web.trusted_proxy_hops);
        Ok(Self(
            address.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string()),
        ))
    }
}

/// The address `trusted_hops` proxies back from the peer. A hop that is not
/// an address ends the trusted chain there.
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: &[&str],
    trusted_hops: usize,
) -> Option<IpAddr> {
    let mut chain: Vec<Option<IpAddr>> = forwarded_for
        .iter()
        .flat_map(|value| value.split(','))
        .map(|hop| hop.trim().parse().ok())
        .collect();
    chain.push(peer);
    let index = chain.len().saturating_sub(1 + trusted_hops);
    chain[index..].iter().rev().map_while(|hop| *hop).last()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        assert_eq!(
            client_address(ip("10.0.0.9"), &["6.6.6.6"], 0),
            ip("10.0.0.9")
        );
        assert_eq!(client_address(None, &[], 0), None);
    }

    #[test]
    fn each_trusted_proxy_reveals_one_more_hop() {
        let forwarded = ["6.6.6.6, 203.0.113.7"];
        assert_eq!(
            client_address(ip("10.0.0.9"), &forwarded, 1),
            ip("203.0.113.7")
        );
        assert_eq!(client_address(ip("10.0.0.9"), &forwarded, 2), ip("6.6.6.6"));
        // More trusted hops than the chain has: the leftmost known address.
        assert_eq!(client_address(ip("10.0.0.9"), &forwarded, 5), ip("6.6.6.6"));
        // Several header lines form one list.
        assert_eq!(
            client_address(ip("10.0.0.9"), &["6.6.6.6", "203.0.113.7"], 1),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn garbage_in_the_chain_stops_at_the_last_good_hop() {
        assert_eq!(
            client_address(ip("10.0.0.9"), &["not-an-ip"], 1),
            ip("10.0.0.9")
        );
        assert_eq!(
            client_address(ip("10.0.0.9"), &["1.2.3.4, junk"], 2),
            ip("10.0.0.9")
        );
    }
}
