//! The proxy handler: asks the policy what to do with each request, then
//! answers from the cache, fills it from an origin, or passes the request on.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{HeaderMap, Method, StatusCode};
use millions_core::problem::PROBLEM_JSON;
use millions_core::Problem;
use millions_edge_policy::caching::{lookup, storage, Lookup, ResponseFacts};
use millions_edge_policy::conditional::{not_modified, Preconditions, Validators};
use millions_edge_policy::purge::stale_after_write;
use millions_edge_policy::RequestFacts;

use crate::cache::{CachedResponse, ResponseCache};
use crate::forward::{to_response, Forwarder, OriginResponse};
use crate::EdgeConfig;

/// The largest request body the edge relays (it buffers bodies so an
/// idempotent request can be replayed on another region).
const MAX_BODY_BYTES: usize = 1024 * 1024;

pub struct Edge {
    config: EdgeConfig,
    cache: ResponseCache,
    forwarder: Forwarder,
}

impl Edge {
    pub fn new(config: EdgeConfig) -> Self {
        Self {
            cache: ResponseCache::new(config.cache_bytes),
            forwarder: Forwarder::new(
                crate::origin_table(&config),
                config.continent.clone(),
                config.origin_timeout,
                config.balance,
            ),
            config,
        }
    }
}

pub async fn handle(State(edge): State<Arc<Edge>>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    record_client_address(&mut parts);
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return problem(Problem::too_large(MAX_BODY_BYTES));
    };
    let facts = RequestFacts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        authenticated: parts.headers.contains_key(header::AUTHORIZATION)
            || parts.headers.contains_key(header::COOKIE),
        cache_control: header_str(&parts.headers, header::CACHE_CONTROL),
    };
    match lookup(&facts, &edge.config.asset_version) {
        Lookup::Cache { key } => match edge.cache.get(&key).await {
            Some(hit) => answer_from_cache(&parts, &hit, "HIT"),
            None => fill(&edge, &parts, key).await,
        },
        Lookup::Refresh { key } => fill(&edge, &parts, key).await,
        Lookup::Bypass(_) => pass_through(&edge, &parts, body).await,
    }
}

/// A cacheable miss: fetch the full representation, store it if the policy
/// allows, then answer (304 if the client's validators match).
async fn fill(edge: &Edge, parts: &Parts, key: String) -> Response {
    let epoch = edge.cache.epoch();
    // Ask for the full body even if the client sent validators: the edge
    // answers their conditional itself, from what it stores.
    let mut headers = parts.headers.clone();
    headers.remove(header::IF_NONE_MATCH);
    headers.remove(header::IF_MODIFIED_SINCE);
    let origin = match edge
        .forwarder
        .send(&Method::GET, path_and_query(parts), &headers, Bytes::new())
        .await
    {
        Ok(origin) => origin,
        Err(error) => return problem(Problem::bad_gateway(error.to_string())),
    };
    let facts = ResponseFacts {
        status: origin.status.as_u16(),
        cache_control: header_str(&origin.headers, header::CACHE_CONTROL),
        sets_cookie: origin.headers.contains_key(header::SET_COOKIE),
        vary: header_str(&origin.headers, header::VARY),
    };
    let Some(storage) = storage(parts.uri.path(), &facts, &edge.config.lifetimes) else {
        return relay(parts, origin, "MISS");
    };
    let mut stored_headers = origin.headers;
    if let Ok(value) = HeaderValue::from_str(&storage.cache_control) {
        stored_headers.insert(header::CACHE_CONTROL, value);
    }
    let entry = Arc::new(CachedResponse {
        status: origin.status,
        headers: stored_headers,
        body: origin.body,
        region: origin.region,
        lifetime: Duration::from_secs(storage.edge_seconds.into()),
    });
    edge.cache.store(key, Arc::clone(&entry), epoch).await;
    answer_from_cache(parts, &entry, "MISS")
}

/// A request the cache does not handle: relay it, and after a successful
/// write purge what it made stale.
async fn pass_through(edge: &Edge, parts: &Parts, body: Bytes) -> Response {
    let origin = match edge
        .forwarder
        .send(&parts.method, path_and_query(parts), &parts.headers, body)
        .await
    {
        Ok(origin) => origin,
        Err(error) => return problem(Problem::bad_gateway(error.to_string())),
    };
    if origin.status.is_success() {
        let stale = stale_after_write(
            parts.method.as_str(),
            parts.uri.path(),
            &edge.config.asset_version,
        );
        if !stale.is_empty() {
            edge.cache.purge(&stale).await;
        }
    }
    relay(parts, origin, "BYPASS")
}

fn answer_from_cache(parts: &Parts, entry: &CachedResponse, label: &'static str) -> Response {
    let preconditions = Preconditions {
        if_none_match: header_str(&parts.headers, header::IF_NONE_MATCH),
        if_modified_since: header_str(&parts.headers, header::IF_MODIFIED_SINCE),
    };
    let validators = Validators {
        etag: header_str(&entry.headers, header::ETAG),
        last_modified: header_str(&entry.headers, header::LAST_MODIFIED),
    };
    let mut response = if not_modified(parts.method.as_str(), &preconditions, &validators) {
        let mut headers = HeaderMap::new();
        for name in [
            header::ETAG,
            header::CACHE_CONTROL,
            header::LAST_MODIFIED,
            header::VARY,
        ] {
            if let Some(value) = entry.headers.get(&name) {
                headers.insert(name, value.clone());
            }
        }
        to_response(StatusCode::NOT_MODIFIED, &headers, Bytes::new())
    } else {
        let body = if parts.method == Method::HEAD {
            Bytes::new()
        } else {
            entry.body.clone()
        };
        to_response(entry.status, &entry.headers, body)
    };
    label_response(&mut response, label, &entry.region);
    response
}

fn relay(parts: &Parts, origin: OriginResponse, label: &'static str) -> Response {
    let body = if parts.method == Method::HEAD {
        Bytes::new()
    } else {
        origin.body
    };
    let mut response = to_response(origin.status, &origin.headers, body);
    label_response(&mut response, label, &origin.region);
    response
}

fn label_response(response: &mut Response, label: &'static str, region: &str) {
    let headers = response.headers_mut();
    headers.insert("x-cache", HeaderValue::from_static(label));
    if let Ok(region) = HeaderValue::from_str(region) {
        headers.insert("x-edge-origin", region);
    }
}

fn problem(problem: Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = Response::new(Body::from(serde_json::to_vec(&problem).unwrap_or_default()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

fn path_and_query(parts: &Parts) -> &str {
    parts.uri.path_and_query().map_or("/", |pq| pq.as_str())
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// Appends the client's address to `X-Forwarded-For`, as proxies do, so the
/// origin can rate-limit by client rather than by edge.
fn record_client_address(parts: &mut Parts) {
    let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
        return;
    };
    let forwarded = match header_str(&parts.headers, X_FORWARDED_FOR) {
        Some(earlier) => format!("{earlier}, {}", peer.ip()),
        None => peer.ip().to_string(),
    };
    if let Ok(value) = http::HeaderValue::from_str(&forwarded) {
        parts.headers.insert(X_FORWARDED_FOR, value);
    }
}

const X_FORWARDED_FOR: header::HeaderName = header::HeaderName::from_static("x-forwarded-for");
