//! The edge's request flow, written once for every runtime.
//!
//! A runtime supplies a [`ResponseStore`] (moka in the local edge, the Cache
//! API in the Worker, a key-value store in Spin) and a [`Transport`] (its
//! HTTP client) and hands each request to [`Edge::handle`]. Everything else,
//! what is cached, for how long, what a write purges, which origin is asked
//! and when to move on, is decided here, by the same code everywhere.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use millions_core::problem::PROBLEM_JSON;
use millions_core::Problem;

use crate::assets;
use crate::caching::{lookup, storage, Lifetimes, Lookup, ResponseFacts};
use crate::conditional::{not_modified, Preconditions, Validators};
use crate::origins::{may_retry_elsewhere, spread, Origin, Origins};
use crate::purge::stale_after_write;
use crate::RequestFacts;

/// An answer as the edge keeps it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Which origin produced it (`x-edge-origin`).
    pub region: String,
}

impl AsRef<Stored> for Stored {
    fn as_ref(&self) -> &Stored {
        self
    }
}

/// Where answers are kept between requests.
#[allow(async_fn_in_trait)] // each runtime calls it on its own concrete type
pub trait ResponseStore {
    /// A stored entry, owned or shared.
    type Entry: AsRef<Stored>;
    /// Taken before asking the origin; `put` drops the answer if a purge
    /// happened since (a read racing a write must not pin the old version).
    type Ticket: Copy;

    fn ticket(&self) -> Self::Ticket;
    async fn get(&self, key: &str) -> Option<Self::Entry>;
    async fn put(&self, key: String, entry: Stored, lifetime_secs: u32, ticket: Self::Ticket);
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

/// What one edge deployment is configured with.
#[derive(Debug, Clone)]
pub struct EdgeSettings {
    /// The release; part of every cache key, so a deploy starts a clean cache.
    pub asset_version: String,
    pub lifetimes: Lifetimes,
    /// Origin regions in order of preference.
    pub origins: Vec<Origin>,
    /// The continent to prefer when the request does not say.
    pub default_continent: Option<String>,
    /// Failures in a row before a region is skipped.
    pub failure_threshold: u32,
    /// How long a failed region is skipped before it is probed again.
    pub cooldown_ms: u64,
    /// Spread requests over all origins (instances of one region) instead of
    /// preferring them in order.
    pub balance: bool,
    /// Let concurrent misses for one key share one origin fetch. Off where
    /// one request must not wait on another's (Cloudflare Workers: a promise
    /// settled from another request's context can leave the waiter hung).
    pub coalesce_misses: bool,
}

/// What the runtime knows about the client.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// The client's address, appended to `X-Forwarded-For`.
    pub address: Option<std::net::IpAddr>,
    /// The client's continent code (`EU`, `NA`, ...), if the platform says.
    pub continent: Option<String>,
}

/// The region name reported for answers from the embedded web app.
pub const ASSETS_ORIGIN: &str = "edge-assets";

/// One edge: settings, origin health, a store and a transport.
pub struct Edge<S, T> {
    settings: EdgeSettings,
    origins: Mutex<Origins>,
    store: S,
    transport: T,
    now_ms: fn() -> u64,
    turns: AtomicUsize,
    request_ids: AtomicU64,
    in_flight: InFlight,
}

/// What one origin fetch produced, handed to every request that waited on it.
type Fetched = Result<Stored, Problem>;

/// Cache fills under way, by key, with the requests waiting for each: while
/// one request fetches a key from the origin, the others for the same key
/// wait for its answer instead of all reaching the origin (a stampede on a
/// popular profile that has just expired).
#[derive(Default)]
struct InFlight {
    waiting: Mutex<HashMap<String, Vec<futures_channel::oneshot::Sender<Fetched>>>>,
}

/// Whether this request fetches the key itself or waits for another's fetch.
enum Role<'a> {
    Leader(LeaderGuard<'a>),
    Follower(futures_channel::oneshot::Receiver<Fetched>),
}

/// Held by the request that fetches; when it ends (or is dropped because
/// the client went away) the waiters get the answer, or a cancellation that
/// sends them to fetch for themselves.
struct LeaderGuard<'a> {
    in_flight: &'a InFlight,
    key: String,
}

impl InFlight {
    fn join(&self, key: &str) -> Role<'_> {
        let mut waiting = self
            .waiting
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        match waiting.get_mut(key) {
            Some(followers) => {
                let (sender, receiver) = futures_channel::oneshot::channel();
                followers.push(sender);
                Role::Follower(receiver)
            }
            None => {
                waiting.insert(key.to_owned(), Vec::new());
                Role::Leader(LeaderGuard {
                    in_flight: self,
                    key: key.to_owned(),
                })
            }
        }
    }
}

impl LeaderGuard<'_> {
    fn finish(self, fetched: &Fetched) {
        for follower in self.take_followers() {
            let _ = follower.send(fetched.clone());
        }
    }

    fn take_followers(&self) -> Vec<futures_channel::oneshot::Sender<Fetched>> {
        let mut waiting = self
            .in_flight
            .waiting
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        waiting.remove(&self.key).unwrap_or_default()
    }
}

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        // Dropping the senders cancels the followers, which then fetch alone.
        drop(self.take_followers());
    }
}

impl<S: ResponseStore, T: Transport> Edge<S, T> {
    /// `now_ms` is the runtime's clock (any monotonic milliseconds).
    pub fn new(settings: EdgeSettings, store: S, transport: T, now_ms: fn() -> u64) -> Self {
        let origins = Origins::new(
            settings.origins.clone(),
            settings.failure_threshold,
            settings.cooldown_ms,
        );
        Self {
            settings,
            origins: Mutex::new(origins),
            store,
            transport,
            now_ms,
            turns: AtomicUsize::new(0),
            request_ids: AtomicU64::new(0),
            in_flight: InFlight::default(),
        }
    }

    pub fn settings(&self) -> &EdgeSettings {
        &self.settings
    }

    /// Answers one request: from the cache, by filling the cache, or by
    /// relaying it to an origin (and purging what a write made stale).
    pub async fn handle(&self, request: Request<Bytes>, client: &Client) -> Response<Bytes> {
        let (parts, body) = request.into_parts();
        let facts = RequestFacts {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query(),
            authenticated: parts.headers.contains_key(header::AUTHORIZATION)
                || parts.headers.contains_key(header::COOKIE),
            cache_control: header_str(&parts.headers, &header::CACHE_CONTROL),
        };
        match lookup(&facts, &self.settings.asset_version) {
            Lookup::Cache { key } => match self.store.get(&key).await {
                Some(hit) => answer_from(&parts, hit.as_ref(), "HIT"),
                None => self.fill(&parts, client, key).await,
            },
            Lookup::Refresh { key } => self.fill(&parts, client, key).await,
            Lookup::Bypass(_) => self.pass_through(&parts, client, body).await,
        }
    }

    /// A cacheable miss: fetch the full representation (from the embedded
    /// app or an origin), store it if the policy allows, then answer.
    /// Concurrent misses for one key share one fetch, where enabled.
    async fn fill(
        &self,
        parts: &http::request::Parts,
        client: &Client,
        key: String,
    ) -> Response<Bytes> {
        let role = self
            .settings
            .coalesce_misses
            .then(|| self.in_flight.join(&key));
        let leader = match role {
            None => None,
            Some(Role::Leader(guard)) => Some(guard),
            Some(Role::Follower(answer)) => match answer.await {
                Ok(Ok(stored)) => return answer_from(parts, &stored, "MISS"),
                Ok(Err(problem)) => return problem_response(&problem),
                // The fetching request went away; fetch alone.
                Err(_) => None,
            },
        };
        let ticket = self.store.ticket();
        let fetched = self
            .fetch_for_cache(parts, client)
            .await
            .map(|fetched| self.prepare_for_storage(parts, fetched));
        // Stored before the waiters are released, so that a request arriving
        // in between finds the entry instead of fetching again.
        if let Ok((stored, Some(lifetime))) = &fetched {
            self.store.put(key, stored.clone(), *lifetime, ticket).await;
        }
        let fetched = fetched.map(|(stored, _)| stored);
        if let Some(leader) = leader {
            leader.finish(&fetched);
        }
        match fetched {
            Ok(stored) => answer_from(parts, &stored, "MISS"),
            Err(problem) => problem_response(&problem),
        }
    }

    /// The full representation, from the embedded app or an origin.
    async fn fetch_for_cache(&self, parts: &http::request::Parts, client: &Client) -> Fetched {
        match assets::find(&crate::routes::normalise(parts.uri.path())) {
            Some(asset) => Ok(embedded(asset)),
            None => {
                // Ask for the full body even if the client sent validators:
                // the edge answers their conditional itself.
                let mut headers = parts.headers.clone();
                headers.remove(header::IF_NONE_MATCH);
                headers.remove(header::IF_MODIFIED_SINCE);
                self.forward(&Method::GET, parts, headers, Bytes::new(), client)
                    .await
            }
        }
    }

    /// Applies the storage rules: the `Cache-Control` clients get, and how
    /// long the edge keeps the answer (`None`: not at all).
    fn prepare_for_storage(
        &self,
        parts: &http::request::Parts,
        mut fetched: Stored,
    ) -> (Stored, Option<u32>) {
        let facts = ResponseFacts {
            status: fetched.status.as_u16(),
            cache_control: header_str(&fetched.headers, &header::CACHE_CONTROL),
            sets_cookie: fetched.headers.contains_key(header::SET_COOKIE),
            vary: header_str(&fetched.headers, &header::VARY),
        };
        let Some(storage) = storage(parts.uri.path(), &facts, &self.settings.lifetimes) else {
            return (fetched, None);
        };
        if let Ok(value) = HeaderValue::from_str(&storage.cache_control) {
            fetched.headers.insert(header::CACHE_CONTROL, value);
        }
        (fetched, Some(storage.edge_seconds))
    }

    /// A request the cache does not handle: relay it, and after a successful
    /// write purge what it made stale.
    async fn pass_through(
        &self,
        parts: &http::request::Parts,
        client: &Client,
        body: Bytes,
    ) -> Response<Bytes> {
        let answer = match self
            .forward(&parts.method, parts, parts.headers.clone(), body, client)
            .await
        {
            Ok(answer) => answer,
            Err(problem) => return problem_response(&problem),
        };
        if answer.status.is_success() {
            let stale = stale_after_write(
                parts.method.as_str(),
                parts.uri.path(),
                &self.settings.asset_version,
            );
            if !stale.is_empty() {
                self.store.purge(&stale).await;
            }
        }
        answer_from(parts, &answer, "BYPASS")
    }

    /// Sends the request to the best available origin; on a refused
    /// connection any request tries the next, on a failure after sending only
    /// an idempotent one does.
    async fn forward(
        &self,
        method: &Method,
        parts: &http::request::Parts,
        mut headers: HeaderMap,
        body: Bytes,
        client: &Client,
    ) -> Result<Stored, Problem> {
        // Only requests that leave the edge need these; hits skip the cost.
        self.add_forwarding_headers(&mut headers, client);
        let now = (self.now_ms)();
        let continent = client
            .continent
            .as_deref()
            .or(self.settings.default_continent.as_deref());
        let mut plan = self.origins().plan(continent, now);
        if self.settings.balance {
            plan = spread(plan, self.turns.fetch_add(1, Ordering::Relaxed));
        }
        let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
        let mut last_error = String::from("no origins are configured");
        for index in plan {
            let (region, base) = {
                let origins = self.origins();
                let origin = origins.get(index);
                (origin.region.clone(), origin.url.clone())
            };
            let uri = format!("{}{path_and_query}", base.trim_end_matches('/'));
            let mut request = Request::builder().method(method.clone()).uri(uri);
            for (name, value) in &headers {
                if !is_hop_by_hop(name) {
                    request = request.header(name, value);
                }
            }
            let Ok(request) = request.body(body.clone()) else {
                return Err(Problem::bad_gateway(format!(
                    "the origin URL of {region} is invalid"
                )));
            };
            match self.transport.send(request).await {
                Ok(response) if !is_origin_failure(response.status()) => {
                    self.origins().record_success(index);
                    return Ok(stored(response, region));
                }
                Ok(response) => {
                    self.origins().record_failure(index, (self.now_ms)());
                    last_error = format!("{region} answered {}", response.status());
                    if !may_retry_elsewhere(method.as_str(), true) {
                        return Ok(stored(response, region));
                    }
                }
                Err(SendError::NotSent(error)) => {
                    self.origins().record_failure(index, (self.now_ms)());
                    last_error = format!("{region}: {error}");
                }
                Err(SendError::Failed(error)) => {
                    self.origins().record_failure(index, (self.now_ms)());
                    last_error = format!("{region}: {error}");
                    if !may_retry_elsewhere(method.as_str(), true) {
                        break;
                    }
                }
            }
        }
        Err(Problem::bad_gateway(format!(
            "no origin region answered: {last_error}"
        )))
    }

    fn origins(&self) -> std::sync::MutexGuard<'_, Origins> {
        self.origins
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// `X-Forwarded-For` (so the origin limits clients, not the edge) and a
    /// request id (so one request can be followed through every log).
    fn add_forwarding_headers(&self, headers: &mut HeaderMap, client: &Client) {
        if let Some(address) = client.address {
            let forwarded = match header_str(headers, &X_FORWARDED_FOR) {
                Some(earlier) => format!("{earlier}, {address}"),
                None => address.to_string(),
            };
            if let Ok(value) = HeaderValue::from_str(&forwarded) {
                headers.insert(X_FORWARDED_FOR, value);
            }
        }
        if !headers.contains_key(&X_REQUEST_ID) {
            let sequence = self.request_ids.fetch_add(1, Ordering::Relaxed);
            let id = format!("edge-{:x}-{sequence:x}", (self.now_ms)());
            if let Ok(value) = HeaderValue::from_str(&id) {
                headers.insert(X_REQUEST_ID, value);
            }
        }
    }
}

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_CACHE: HeaderName = HeaderName::from_static("x-cache");
/// Names the origin (region) that produced an answer; kept with the stored
/// answer so a hit costs no formatting.
pub const X_EDGE_ORIGIN: HeaderName = HeaderName::from_static("x-edge-origin");

fn label_origin(headers: &mut HeaderMap, region: &str) {
    if let Ok(value) = HeaderValue::from_str(region) {
        headers.insert(X_EDGE_ORIGIN, value);
    }
}
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
];

fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(&name.as_str())
}

/// Answers that mean the region is in trouble, not that the request is wrong.
fn is_origin_failure(status: StatusCode) -> bool {
    matches!(status.as_u16(), 502..=504)
}

fn stored(response: Response<Bytes>, region: String) -> Stored {
    let (parts, body) = response.into_parts();
    let mut headers = parts.headers;
    for name in HOP_BY_HOP {
        headers.remove(*name);
    }
    headers.remove(header::CONTENT_LENGTH);
    label_origin(&mut headers, &region);
    Stored {
        status: parts.status,
        headers,
        body,
        region,
    }
}

/// An embedded file of the web app, as an origin would answer it.
fn embedded(asset: &assets::Asset) -> Stored {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(header::ETAG, HeaderValue::from_static(asset.etag));
    label_origin(&mut headers, ASSETS_ORIGIN);
    Stored {
        status: StatusCode::OK,
        headers,
        body: Bytes::from_static(asset.body),
        region: ASSETS_ORIGIN.into(),
    }
}

/// The answer to the client: 304 when its validators match what the edge
/// holds, no body for `HEAD`, and the `x-cache` / `x-edge-origin` labels.
fn answer_from(
    parts: &http::request::Parts,
    entry: &Stored,
    label: &'static str,
) -> Response<Bytes> {
    let preconditions = Preconditions {
        if_none_match: header_str(&parts.headers, &header::IF_NONE_MATCH),
        if_modified_since: header_str(&parts.headers, &header::IF_MODIFIED_SINCE),
    };
    let validators = Validators {
        etag: header_str(&entry.headers, &header::ETAG),
        last_modified: header_str(&entry.headers, &header::LAST_MODIFIED),
    };
    let mut response = if entry.status.is_success()
        && not_modified(parts.method.as_str(), &preconditions, &validators)
    {
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
        let mut response = Response::new(Bytes::new());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        *response.headers_mut() = headers;
        response
    } else {
        let body = if parts.method == Method::HEAD {
            Bytes::new()
        } else {
            entry.body.clone()
        };
        let mut response = Response::new(body);
        *response.status_mut() = entry.status;
        *response.headers_mut() = entry.headers.clone();
        response
    };
    response
        .headers_mut()
        .insert(X_CACHE, HeaderValue::from_static(label));
    response
}

fn problem_response(problem: &Problem) -> Response<Bytes> {
    let body = serde_json::to_vec(problem).unwrap_or_default();
    let mut response = Response::new(Bytes::from(body));
    *response.status_mut() =
        StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_GATEWAY);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

fn header_str<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}
