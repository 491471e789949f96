//! The contract between the engine and a runtime: what the local edge, the
//! Cloudflare Worker and the Spin component each implement (a
//! [`ResponseStore`] and a [`Transport`]), what they hand the engine about
//! the client ([`Client`]), and the answer type that passes between them
//! ([`OriginAnswer`]). A shell imports this and [`crate::engine::Edge`];
//! the request flow itself stays in the engine.

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};

use crate::freshness::CachePolicy;

/// An origin's whole answer (or the embedded web app's), with the region
/// that produced it and, once the cache may keep it, how it may be reused:
/// what a store holds and what coalesced misses share.
#[derive(Debug, Clone)]
pub struct OriginAnswer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Which origin produced it (`x-edge-origin`).
    pub region: String,
    /// How a stored answer may be reused; `None` for answers not stored.
    pub policy: Option<CachePolicy>,
}

impl OriginAnswer {
    /// Its age at `now_ms` (RFC 9111 §4.2.3), sent as `Age`; `None` for an
    /// answer that was not stored.
    pub(crate) fn age_seconds(&self, now_ms: u64) -> Option<u64> {
        self.policy.map(|policy| policy.age_seconds(now_ms))
    }
}

impl AsRef<OriginAnswer> for OriginAnswer {
    fn as_ref(&self) -> &OriginAnswer {
        self
    }
}

/// Where answers are kept between requests.
#[allow(async_fn_in_trait)] // each runtime calls it on its own concrete type
pub trait ResponseStore {
    /// A stored entry, owned or shared.
    type Entry: AsRef<OriginAnswer>;
    /// Taken before asking the origin; `put` drops the answer if a purge
    /// happened since (a read racing a write must not pin the old version).
    type Ticket: Copy;

    /// The ticket for a fill of `key`: a purge of another key need not
    /// spoil it.
    fn ticket(&self, key: &str) -> Self::Ticket;
    /// A miss or a validation of `key` is about to ask the origin; paired
    /// with [`ResponseStore::fill_ended`] when it ends, stored or not (or
    /// its request went away). For a store that lets other requests wait
    /// for a fill in progress (the Worker's); others need neither.
    fn fill_started(&self, _key: &str) {}
    fn fill_ended(&self, _key: &str) {}
    async fn get(&self, key: &str) -> Option<Self::Entry>;
    async fn put(&self, key: String, entry: OriginAnswer, lifetime_secs: u32, ticket: Self::Ticket);
    async fn purge(&self, keys: &[String]);
}

/// Why one attempt at one origin failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The request never left (the connection was refused): safe to resend.
    NotSent(String),
    /// The request may have reached the origin.
    Failed(String),
}

/// The runtime's HTTP client.
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// Sends a request with an absolute URI and reads the whole answer.
    async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, SendError>;
}

/// What the runtime knows about the client.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// The client's address, appended to `X-Forwarded-For`.
    pub address: Option<std::net::IpAddr>,
    /// The client's continent code (`EU`, `NA`, ...), if the platform says.
    pub continent: Option<String>,
}
