//! The edge's decisions, as pure functions with no I/O.
//!
//! The Cloudflare Worker, the Spin component and the local edge each supply
//! only their cache and their fetch; everything they decide comes from here,
//! so the three behave the same and the rules are tested once:
//!
//! - [`routes`]: normal paths;
//! - [`caching`]: whether a request may be answered from the cache, and under
//!   which key;
//! - [`directives`] and [`freshness`]: the origin's caching headers read as
//!   RFC 9111 / RFC 9213 say: what may be stored, for how long, and when a
//!   stored answer may be reused, must be validated, or may stand in;
//! - [`conditional`]: answering `If-None-Match` / `If-Modified-Since` with 304;
//! - [`purge`]: which cached entries a write makes stale (RFC 9111 §4.4);
//! - [`origins`]: which origin region to ask first, next, and not at all;
//! - [`engine`]: the request flow that applies all of the above, generic over
//!   the runtime's cache and HTTP client, which serves the web app
//!   (`millions_web`) as if it came from an origin.

pub mod caching;
mod coalesce;
pub mod conditional;
pub mod config;
pub mod directives;
pub mod engine;
pub mod freshness;
pub mod origins;
pub mod purge;
pub mod routes;

/// The parts of a request the policy looks at, filled in by each runtime.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFacts<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// The query string without the `?`, if any.
    pub query: Option<&'a str>,
    /// The request carries credentials: a session cookie or an `Authorization` header.
    pub authenticated: bool,
    /// `Cache-Control` of the request, if any.
    pub cache_control: Option<&'a str>,
}
