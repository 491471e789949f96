//! The edge: the HTTP caching rules and the request flow that applies them,
//! written once for the local edge, the Cloudflare Worker and the Spin
//! component.
//!
//! A runtime implements only the small contract in [`runtime`] (its store of
//! answers and its HTTP client) and hands each request to
//! [`engine::Edge`]; everything it decides comes from here, so the three
//! behave the same and the rules are tested once. The rules themselves are
//! pure functions over `http` types; the engine holds the state between
//! requests (origin health, misses in flight, counters):
//!
//! - [`routes`]: normal paths;
//! - [`caching`]: whether a request may be answered from the cache, and under
//!   which key;
//! - [`directives`] and [`freshness`]: the origin's caching headers read as
//!   RFC 9111 / RFC 9213 say: what may be stored, for how long, and when a
//!   stored answer may be reused, must be validated, or may stand in;
//! - [`conditional`]: answering `If-None-Match` / `If-Modified-Since` with 304;
//! - [`ranges`]: answering a `Range` from a stored complete answer (206, 416);
//! - [`forwarding`]: the hop-by-hop fields a message loses on its way (RFC 9110 §7.6.1);
//! - [`purge`]: which cached entries a write makes stale (RFC 9111 §4.4);
//! - [`zone_purge`]: the calls that purge them in every data centre of a
//!   Cloudflare zone, where the store is one copy per data centre;
//! - [`origins`]: which origin region to ask first, next, and not at all;
//! - [`config`]: the settings, and the variables every runtime reads them from;
//! - [`runtime`]: what a runtime implements;
//! - [`access_log`]: the line a runtime logs per request;
//! - [`engine`]: the request flow that applies all of the above, generic over
//!   the runtime's cache and HTTP client, which serves the web app
//!   (`millions_web`) as if it came from an origin.

pub mod access_log;
pub mod caching;
mod coalesce;
pub mod conditional;
pub mod config;
pub mod directives;
pub mod engine;
pub mod forwarding;
pub mod freshness;
pub mod origins;
pub mod purge;
pub mod ranges;
pub mod routes;
pub mod runtime;
pub mod zone_purge;
