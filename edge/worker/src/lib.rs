//! The edge as a Cloudflare Worker.
//!
//! This file only adapts the Workers runtime to the shared engine
//! (`millions_edge_policy::engine`): the Cache API (`caches.default`) is the
//! response store, `fetch` is the transport, and `wrangler.toml` `[vars]` are
//! the settings. Every decision is the engine's, the same as in the local
//! edge and the Spin component.
//!
//! What the runtime decides rather than our code: the Cache API is per data
//! centre and keeps entries at most as long as the stored `Cache-Control`
//! says. Freshness, age, validation, `Vary` and the stale extensions are the
//! engine's (RFC 9111, shared with every edge): an entry is put with the
//! engine's keep time as its `Cache-Control` and its reuse policy in a
//! header, and the origin's own `Cache-Control` is restored on the way out,
//! so the Cache API never applies its own reading of the origin's headers
//! (it would, for instance, refuse `Set-Cookie`, which the engine strips
//! from stored copies anyway). The Cache API's own conditional matching is
//! not used: entries are read by URL alone and 304s are the engine's. Origin
//! health is remembered per isolate, so a region marked down in one isolate
//! may still be tried once by another.
//!
//! Concurrent misses for one key share one origin fetch per isolate, but not
//! by awaiting it: a request resumed from another request's context may find
//! that context closed and be cancelled as hung, so the engine's shared
//! fills stay off here (`coalesce_misses`). Instead a miss for a key another
//! request of this isolate is filling looks at the Cache API again, after
//! 10, 20, 40, 80, 160 and 320 ms, on its own timer; the fill's answer is stored
//! before it is sent, so the waiter usually finds it on its first or second
//! look and answers `HIT`. A fill that stores nothing, or takes longer than
//! the waits, leaves the waiter to fetch for itself (`CacheApi::get`).
//!
//! A write deletes the entries it made stale from this data centre's cache
//! before it is answered, so the writer reads its own write here. With a
//! zone configured (`ZONE_ID`, `PURGE_TOKEN`, `CACHE_ORIGIN`), the same
//! entries are then purged in every other data centre through Cloudflare's
//! purge-by-URL call, sent from `waitUntil` so the write's answer does not
//! wait for it ([`millions_edge_policy::zone_purge`]).

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use millions_edge_policy::access_log::AccessLog;
use millions_edge_policy::config::settings_from_vars;
use millions_edge_policy::engine::Edge;
use millions_edge_policy::freshness::CachePolicy;
use millions_edge_policy::runtime::{Client, OriginAnswer, ResponseStore, SendError, Transport};
use millions_edge_policy::zone_purge::{cache_url, outcome, PurgeOutcome, ZonePurge};
use worker::{
    event, Cache, Context, Delay, Env, Fetch, Headers, Method, Request, RequestInit, Response,
    Result,
};

/// Tries of one zone purge call, and the wait before the first retry
/// (doubled after each): a rate-limited purge is worth a few seconds of
/// `waitUntil`, and an entry it never reaches expires with its lifetime.
const PURGE_TRIES: u32 = 3;
const PURGE_RETRY_AFTER: Duration = Duration::from_millis(500);

/// The waits of a miss for a key being filled, before each new look at the
/// Cache API: six more looks in 630 ms at most, each one Cache API read.
/// A profile's fill takes a few tens of milliseconds; the rest is margin
/// for a slow origin, past which fetching alone is the better bet.
const FILL_WAIT_FIRST: Duration = Duration::from_millis(10);
const FILL_WAIT_LOOKS: u32 = 6;
/// A fill older than this no longer holds others back, whatever became of
/// it (its request may have been cancelled before its guard ran).
const FILL_STALE_AFTER_MS: u64 = 2_000;
/// Where the client-facing `Cache-Control` travels while an entry is stored
/// with the edge's own lifetime.
const CLIENT_CACHE_CONTROL: &str = "x-edge-client-cache-control";
const STORED_REGION: &str = "x-edge-origin";
/// Where the entry's reuse policy (timing, lifetime, Vary fingerprint) travels.
const STORED_POLICY: &str = "x-edge-policy";

thread_local! {
    /// One engine per isolate, built on the first request from the vars.
    static EDGE: OnceCell<&'static Edge<CacheApi, FetchTransport>> = const { OnceCell::new() };
}

#[event(fetch)]
async fn fetch(request: Request, env: Env, ctx: Context) -> Result<Response> {
    let edge = match EDGE.with(|cell| cell.get().copied()) {
        Some(edge) => edge,
        None => {
            // Secrets (PURGE_TOKEN) are string bindings like the vars.
            let mut settings = settings_from_vars(|name| env.var(name).ok().map(|v| v.to_string()))
                .map_err(|error| worker::Error::RustError(error.to_string()))?;
            // A request waiting on another request's fetch is resumed from
            // that request's context, which workerd may already have closed:
            // the waiter then hangs and is cancelled. Waiters look at the
            // Cache API again instead (`CacheApi::get`).
            settings.coalesce_misses = false;
            let cache = CacheApi {
                origin: settings.cache_origin.clone(),
                filling: RefCell::default(),
            };
            let edge: &'static _ = Box::leak(Box::new(Edge::new(
                settings,
                cache,
                FetchTransport,
                now_ms,
                trace_seed(),
            )));
            EDGE.with(|cell| *cell.get_or_init(|| edge))
        }
    };
    let client = Client {
        address: request
            .headers()
            .get("cf-connecting-ip")?
            .and_then(|ip| ip.parse().ok()),
        continent: request.cf().and_then(|cf| cf.continent()),
    };
    let started = now_ms();
    let request = to_http(request).await?;
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let handled = edge.handle(request, &client).await;
    // Workers Logs indexes JSON lines: the edge's metrics on this runtime.
    let line = AccessLog::of(&method, &path, &handled, now_ms() - started);
    worker::console_log!("{}", line.to_json());
    if let Some(refresh) = handled.refresh {
        // Served stale: refresh the entry after the answer is sent.
        ctx.wait_until(async move { edge.refresh(refresh, &client).await });
    }
    let settings = edge.settings();
    if let (Some(zone), false) = (&settings.zone_purge, handled.purged.is_empty()) {
        let keys = handled.purged;
        ctx.wait_until(async move { purge_everywhere(zone, &settings.cache_origin, &keys).await });
    }
    from_http(handled.response)
}

/// Purges `keys` in every data centre of the zone, retrying what the API
/// rate-limits or fails; a purge it refuses is logged and left to expire.
async fn purge_everywhere(zone: &ZonePurge, cache_origin: &str, keys: &[String]) {
    for call in zone.calls(cache_origin, keys) {
        let (parts, body) = call.into_parts();
        let mut wait = PURGE_RETRY_AFTER;
        for attempt in 1..=PURGE_TRIES {
            let sent = FetchTransport
                .send(http::Request::from_parts(parts.clone(), body.clone()))
                .await;
            let result = match sent {
                Ok(answer) => outcome(&answer),
                Err(error) => PurgeOutcome::Retry(format!("{error:?}")),
            };
            match result {
                PurgeOutcome::Done => break,
                PurgeOutcome::Retry(why) if attempt < PURGE_TRIES => {
                    worker::console_warn!("zone purge of {keys:?} failed ({why}), retrying");
                    Delay::from(wait).await;
                    wait *= 2;
                }
                PurgeOutcome::Retry(why) | PurgeOutcome::Refused(why) => {
                    worker::console_error!("zone purge of {keys:?} gave up: {why}");
                    break;
                }
            }
        }
    }
}

fn now_ms() -> u64 {
    worker::Date::now().as_millis()
}

/// The seed of the isolate's trace and span ids: two `Math.random()` draws
/// of 53 bits each. Trace ids need to be unlikely to collide, not secret.
fn trace_seed() -> u128 {
    let draw = || (worker::js_sys::Math::random() * (1u64 << 53) as f64) as u64;
    (u128::from(draw()) << 64) | u128::from(draw())
}

async fn to_http(mut request: Request) -> Result<http::Request<Bytes>> {
    let url = request.url()?;
    let path_and_query = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    let mut builder = http::Request::builder()
        .method(request.method().as_ref())
        .uri(path_and_query);
    if let Some(headers) = builder.headers_mut() {
        *headers = header_map(request.headers());
    }
    let body = request.bytes().await.unwrap_or_default();
    builder
        .body(Bytes::from(body))
        .map_err(|error| worker::Error::RustError(error.to_string()))
}

/// `worker`'s own conversions between `Headers` and `HeaderMap` unwrap each
/// value as visible ASCII, so one origin header with another byte (which
/// RFC 9110 §5.5 allows as obs-text) would panic the isolate. These two
/// skip such a field instead.
fn header_map(headers: &Headers) -> http::HeaderMap {
    headers
        .entries()
        .filter_map(|(name, value)| {
            Some((
                http::HeaderName::from_bytes(name.as_bytes()).ok()?,
                http::HeaderValue::from_str(&value).ok()?,
            ))
        })
        .collect()
}

/// The fields of `map` as `Headers`, `rename` choosing each one's name
/// (`None` leaves a field out); see [`header_map`].
fn js_headers<'a>(
    map: &'a http::HeaderMap,
    rename: impl Fn(&'a http::HeaderName) -> Option<&'a str>,
) -> Headers {
    let headers = Headers::new();
    for (name, value) in map {
        if let (Some(name), Ok(value)) = (rename(name), value.to_str()) {
            let _ = headers.append(name, value);
        }
    }
    headers
}

fn from_http(answer: http::Response<Bytes>) -> Result<Response> {
    let (parts, body) = answer.into_parts();
    Ok(Response::from_bytes(body.to_vec())?
        .with_status(parts.status.as_u16())
        .with_headers(js_headers(&parts.headers, |name| Some(name.as_str()))))
}

/// The Cache API of the data centre, its entries named under `origin`,
/// and the fills under way in this isolate (by key, with when each began).
/// An isolate runs one request at a time between awaits, so a `RefCell`
/// needs no lock; no borrow is held across an await.
struct CacheApi {
    origin: String,
    filling: RefCell<HashMap<String, u64>>,
}

impl CacheApi {
    fn being_filled(&self, key: &str) -> bool {
        self.filling
            .borrow()
            .get(key)
            .is_some_and(|began| now_ms().saturating_sub(*began) < FILL_STALE_AFTER_MS)
    }

    async fn read(&self, key: &str) -> Option<OriginAnswer> {
        let mut response = Cache::default()
            .get(cache_url(&self.origin, key), false)
            .await
            .ok()??;
        // `age` and `expires` below are the Cache API's, not the origin's.
        let mut headers = http::HeaderMap::new();
        let mut region = String::new();
        let mut client_cache_control = None;
        let mut policy = None;
        for (name, value) in response.headers().entries() {
            match name.as_str() {
                STORED_REGION => {
                    if let Ok(label) = http::HeaderValue::from_str(&value) {
                        headers.insert(STORED_REGION, label);
                    }
                    region = value;
                }
                CLIENT_CACHE_CONTROL => client_cache_control = Some(value),
                STORED_POLICY => policy = CachePolicy::decode(&value),
                "cache-control" | "content-length" | "cf-cache-status" | "age" | "expires" => {}
                _ => {
                    if let (Ok(name), Ok(value)) = (
                        http::HeaderName::from_bytes(name.as_bytes()),
                        http::HeaderValue::from_str(&value),
                    ) {
                        headers.append(name, value);
                    }
                }
            }
        }
        if let Some(value) = client_cache_control.and_then(|v| http::HeaderValue::from_str(&v).ok())
        {
            headers.insert(http::header::CACHE_CONTROL, value);
        }
        let body = response.bytes().await.ok()?;
        Some(OriginAnswer {
            status: http::StatusCode::from_u16(response.status_code()).ok()?,
            headers,
            body: Bytes::from(body),
            region,
            policy,
        })
    }
}

impl ResponseStore for CacheApi {
    type Entry = OriginAnswer;
    /// Purges are global to the data centre, not to this isolate, so there
    /// is no local epoch to compare (see the module notes).
    type Ticket = ();

    fn ticket(&self, _: &str) {}

    fn fill_started(&self, key: &str) {
        let mut filling = self.filling.borrow_mut();
        let now = now_ms();
        filling.retain(|_, began| now.saturating_sub(*began) < FILL_STALE_AFTER_MS);
        filling.insert(key.to_owned(), now);
    }

    fn fill_ended(&self, key: &str) {
        self.filling.borrow_mut().remove(key);
    }

    /// The entry, waiting a little for one another request of this isolate
    /// is filling (see the module notes).
    async fn get(&self, key: &str) -> Option<OriginAnswer> {
        let mut wait = FILL_WAIT_FIRST;
        for _ in 0..FILL_WAIT_LOOKS {
            if let Some(entry) = self.read(key).await {
                return Some(entry);
            }
            if !self.being_filled(key) {
                return None;
            }
            Delay::from(wait).await;
            wait *= 2;
        }
        self.read(key).await
    }

    async fn put(&self, key: String, entry: OriginAnswer, lifetime_secs: u32, _: ()) {
        let headers = js_headers(&entry.headers, |name| match *name {
            // The entry's `Age` is a placeholder each reuse overwrites; the
            // Cache API must not read it as the answer's age.
            http::header::AGE => None,
            http::header::CACHE_CONTROL => Some(CLIENT_CACHE_CONTROL),
            _ => Some(name.as_str()),
        });
        let _ = headers.set("cache-control", &format!("public, max-age={lifetime_secs}"));
        let _ = headers.set(STORED_REGION, &entry.region);
        if let Some(policy) = entry.policy {
            let _ = headers.set(STORED_POLICY, &policy.encode());
        }
        let Ok(response) = Response::from_bytes(entry.body.to_vec()) else {
            return;
        };
        let response = response
            .with_status(entry.status.as_u16())
            .with_headers(headers);
        if let Err(error) = Cache::default()
            .put(cache_url(&self.origin, &key), response)
            .await
        {
            worker::console_warn!("cache put failed: {error}");
        }
    }

    async fn purge(&self, keys: &[String]) {
        for key in keys {
            let _ = Cache::default()
                .delete(cache_url(&self.origin, key), false)
                .await;
        }
    }
}

/// `fetch` to the origins.
struct FetchTransport;

impl Transport for FetchTransport {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> std::result::Result<http::Response<Bytes>, SendError> {
        let (parts, body) = request.into_parts();
        let headers = js_headers(&parts.headers, |name| Some(name.as_str()));
        let method = Method::from(parts.method.as_str().to_owned());
        let mut init = RequestInit::new();
        init.with_method(method).with_headers(headers);
        if !body.is_empty() {
            init.with_body(Some(worker::wasm_bindgen::JsValue::from(
                worker::js_sys::Uint8Array::from(body.as_ref()),
            )));
        }
        let request = Request::new_with_init(&parts.uri.to_string(), &init)
            .map_err(|error| SendError::NotSent(error.to_string()))?;
        // fetch does not say whether a failed request reached the origin,
        // so failures count as possibly delivered: only idempotent requests
        // move on to another region.
        let mut response = Fetch::Request(request)
            .send()
            .await
            .map_err(|error| SendError::Failed(error.to_string()))?;
        let mut answer = http::Response::builder().status(response.status_code());
        if let Some(headers) = answer.headers_mut() {
            *headers = header_map(response.headers());
        }
        let body = response
            .bytes()
            .await
            .map_err(|error| SendError::Failed(error.to_string()))?;
        answer
            .body(Bytes::from(body))
            .map_err(|error| SendError::Failed(error.to_string()))
    }
}
