//! The edge's request flow, written once for every runtime.
//!
//! A runtime supplies a [`ResponseStore`] (quick_cache in the local edge,
//! the Cache API in the Worker, none in Spin) and a [`Transport`] (its HTTP
//! client) and hands each request to [`Edge::handle`]. Everything else, what
//! is cached, for how long, what a write purges, which origin is asked
//! and when to move on, is decided here, by the same code everywhere.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use millions_core::trace::{TraceIds, TraceParent};
use millions_core::Problem;

use crate::caching::{key_of, lookup, Bypass, Lookup, RequestFacts};
use crate::coalesce::{Fetched, InFlight, Role};
use crate::conditional::{fill_conditions, not_modified, Preconditions, Validators};
use crate::config::EdgeSettings;
use crate::directives::Directives;
use crate::forwarding::remove_hop_by_hop;
use crate::freshness::{
    has_validator, selects_for_update, storable, unstored_fields, update_stored_fields, variant,
    CachePolicy, Exchange, Reuse, VARIES_ON_NOTHING,
};
use crate::origins::{may_retry_elsewhere, spread, Origins};
use crate::purge::{stale_after, Write};
use crate::ranges::{self, Selected};
use crate::runtime::{Client, OriginAnswer, ResponseStore, SendError, Transport};

/// The engine's answer, and a refresh to run after it is sent when the
/// answer was a stale entry served under `stale-while-revalidate`.
pub struct Handled {
    pub response: Response<Bytes>,
    pub refresh: Option<Refresh>,
    /// The edge's hop of the request's trace: what its origin requests
    /// carried as `traceparent`, and what the runtime's log line names.
    pub trace: TraceParent,
    /// The cache keys this request's write made stale (RFC 9111 §4.4),
    /// already purged from the runtime's store. A runtime whose store is
    /// one of many copies (the Worker's per-data-centre Cache API) spreads
    /// the purge to the others.
    pub purged: Vec<String>,
}

/// A background revalidation of one entry (RFC 5861 §3); the runtime runs
/// it with [`Edge::refresh`] after answering (`tokio::spawn`, `waitUntil`).
pub struct Refresh {
    parts: http::request::Parts,
    key: String,
    /// The trace of the request that was answered stale: the refresh is
    /// part of its journey.
    trace: TraceParent,
}

/// Who asked, and the edge's hop of the request's trace: what every step
/// of the flow that may reach an origin needs.
struct Visit<'a> {
    client: &'a Client,
    trace: TraceParent,
}

/// What the flow answered, before [`Edge::handle`] adds the trace.
struct Answered {
    response: Response<Bytes>,
    refresh: Option<Refresh>,
    purged: Vec<String>,
}

impl Answered {
    fn now(response: Response<Bytes>) -> Self {
        Self {
            response,
            refresh: None,
            purged: Vec::new(),
        }
    }
}

/// A fill in progress; dropped when it ends, by any path.
struct Filling<'a, S: ResponseStore> {
    store: &'a S,
    key: String,
}

impl<S: ResponseStore> Drop for Filling<'_, S> {
    fn drop(&mut self) {
        self.store.fill_ended(&self.key);
    }
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
    trace_ids: TraceIds,
    in_flight: InFlight,
}

impl<S: ResponseStore, T: Transport> Edge<S, T> {
    /// `now_ms` is the runtime's clock (any monotonic milliseconds);
    /// `trace_seed` must be random, from the runtime's source (the edge's
    /// span ids and new traces are made from it, see [`TraceIds`]).
    pub fn new(
        settings: EdgeSettings,
        store: S,
        transport: T,
        now_ms: fn() -> u64,
        trace_seed: u128,
    ) -> Self {
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
            trace_ids: TraceIds::new(trace_seed),
            in_flight: InFlight::default(),
        }
    }

    pub fn settings(&self) -> &EdgeSettings {
        &self.settings
    }

    /// Answers one request: from the cache, by filling or validating the
    /// cache, or by relaying it to an origin (and purging what a write made
    /// stale).
    pub async fn handle(&self, request: Request<Bytes>, client: &Client) -> Handled {
        let (parts, body) = request.into_parts();
        // The client's trace, continued; or a new one, started here.
        let incoming = header_str(&parts.headers, &TRACEPARENT).and_then(TraceParent::parse);
        let visit = Visit {
            client,
            trace: self.trace_ids.hop(incoming),
        };
        let facts = RequestFacts {
            method: parts.method.clone(),
            path: parts.uri.path(),
            query: parts.uri.query(),
            authenticated: parts.headers.contains_key(header::AUTHORIZATION)
                || parts.headers.contains_key(header::COOKIE),
            cache_control: header_str(&parts.headers, &header::CACHE_CONTROL),
        };
        let answered = match lookup(&facts, &self.settings.asset_version) {
            Lookup::Cache { key } => self.through_cache(&parts, &visit, key).await,
            Lookup::Bypass(Bypass::Authenticated) => {
                Answered::now(self.credentialed_read(&parts, &visit).await)
            }
            Lookup::Bypass(_) => self.pass_through(&parts, &visit, body).await,
        };
        Handled {
            response: answered.response,
            refresh: answered.refresh,
            trace: visit.trace,
            purged: answered.purged,
        }
    }

    /// Runs a refresh handed out by [`Edge::handle`].
    pub async fn refresh(&self, refresh: Refresh, client: &Client) {
        let visit = Visit {
            client,
            trace: self.trace_ids.hop(Some(refresh.trace)),
        };
        let held = self
            .store
            .get(&refresh.key)
            .await
            .map(|entry| entry.as_ref().clone());
        let request = Directives::of(&refresh.parts.headers, &header::CACHE_CONTROL);
        let _ = self
            .fill(&refresh.parts, &request, &visit, refresh.key, held)
            .await;
    }

    /// A cacheable request: a stored answer if one may be used (RFC 9111
    /// §4), else one validated or fetched from the origin.
    async fn through_cache(
        &self,
        parts: &http::request::Parts,
        visit: &Visit<'_>,
        key: String,
    ) -> Answered {
        let now = (self.now_ms)();
        let request = Directives::of(&parts.headers, &header::CACHE_CONTROL);
        let entry = self.store.get(&key).await;
        // §4.1: an entry answers only requests that match its Vary fields.
        let held = entry
            .as_ref()
            .map(AsRef::as_ref)
            .filter(|stored| fits(stored, parts))
            .and_then(|stored| Some((stored, stored.policy?)));
        let only_if_cached = request.has("only-if-cached");
        let Some((stored, policy)) = held else {
            if only_if_cached {
                return Answered::now(
                    Problem::not_cached(
                        "only-if-cached was asked and nothing is stored for this request",
                    )
                    .to_response(),
                );
            }
            return Answered::now(self.fill(parts, &request, visit, key, None).await);
        };
        let age = policy.age_seconds(now);
        match policy.reuse(&request, now) {
            Reuse::Fresh => Answered::now(answer_from(parts, stored, "HIT", Some(age))),
            Reuse::StaleAccepted => Answered::now(answer_from(parts, stored, "STALE", Some(age))),
            Reuse::StaleWhileRevalidate => Answered {
                response: answer_from(parts, stored, "STALE", Some(age)),
                refresh: Some(Refresh {
                    parts: parts.clone(),
                    key,
                    trace: visit.trace,
                }),
                purged: Vec::new(),
            },
            Reuse::Validate if only_if_cached => Answered::now(
                Problem::not_cached(
                    "only-if-cached was asked and the stored answer must be validated",
                )
                .to_response(),
            ),
            Reuse::Validate => {
                let held = stored.clone();
                drop(entry);
                Answered::now(self.fill(parts, &request, visit, key, Some(held)).await)
            }
        }
    }

    /// A miss, or an entry to validate: one conditional or full fetch (shared
    /// by concurrent misses where enabled), stored if the origin allows.
    async fn fill(
        &self,
        parts: &http::request::Parts,
        request: &Directives<'_>,
        visit: &Visit<'_>,
        key: String,
        mut held: Option<OriginAnswer>,
    ) -> Response<Bytes> {
        let role = self
            .settings
            .coalesce_misses
            .then(|| self.in_flight.join(&key));
        let leader = match role {
            None => None,
            Some(Role::Leader(guard)) => {
                // Another fill of this key may have stored its answer and
                // left between this request's look at the store and its
                // join: that answer is in the store now, and fetching again
                // would be the second origin request coalescing exists to
                // save. The other fill stores before it leaves, so one more
                // look, now that this request leads, is enough.
                if let Some((stored, age)) = self.fresh_entry(parts, request, &key).await {
                    guard.finish(&Ok(stored.clone()));
                    return answer_from(parts, &stored, "HIT", Some(age));
                }
                Some(guard)
            }
            Some(Role::Follower(answer)) => match answer.await {
                Ok(Ok(stored)) if fits(&stored, parts) => {
                    let age = stored.age_seconds((self.now_ms)());
                    return answer_from(parts, &stored, "MISS", age);
                }
                Ok(Err(problem)) => return problem.to_response(),
                // The fetching request went away, or its answer is not one
                // this request may share; fetch alone.
                _ => None,
            },
        };
        let (ticket, _filling) = self.begin_fill(&key);
        let mut request_ms = (self.now_ms)();
        let mut fetched = self.fetch_for_cache(parts, visit, held.as_ref()).await;
        // §4.3.4: a 304 naming another strong validator than the held
        // answer's validates nothing this edge holds; ask again, without
        // a condition.
        if let (Ok(answer), Some(stored)) = (&fetched, &held) {
            if answer.status == StatusCode::NOT_MODIFIED
                && !selects_for_update(&stored.headers, &answer.headers)
            {
                held = None;
                request_ms = (self.now_ms)();
                fetched = self.fetch_for_cache(parts, visit, None).await;
            }
        }
        let response_ms = (self.now_ms)();
        let (answer, label) = match (fetched, held) {
            // §4.3.4: a 304 freshens the stored answer.
            (Ok(not_modified), Some(held)) if not_modified.status == StatusCode::NOT_MODIFIED => {
                (Ok(freshened(held, not_modified)), "REVALIDATED")
            }
            // RFC 5861 §4: a stale answer may stand in for an error.
            (outcome, Some(held))
                if is_error(&outcome)
                    && held
                        .policy
                        .is_some_and(|p| p.serves_on_error(request, response_ms)) =>
            {
                let age = held.age_seconds(response_ms);
                return answer_from(parts, &held, "STALE", age);
            }
            (outcome, _) => (outcome, "MISS"),
        };
        let answer = answer.map(|mut answer| {
            answer.policy = policy_for(parts, &answer, false, request_ms, response_ms);
            answer
        });
        if let Ok(answer) = &answer {
            if answer.policy.is_some() {
                self.store_copy(key, answer, ticket).await;
            }
        }
        // Waiters get only an answer that was stored (and so shareable);
        // otherwise dropping the guard sends them to fetch for themselves.
        if let Some(leader) = leader {
            match &answer {
                Ok(stored) if stored.policy.is_none() => drop(leader),
                _ => leader.finish(&answer),
            }
        }
        match answer {
            Ok(stored) if stored.policy.is_none() => answer_from(parts, &stored, "BYPASS", None),
            Ok(stored) => {
                let age = stored.age_seconds(response_ms);
                answer_from(parts, &stored, label, age)
            }
            Err(problem) => problem.to_response(),
        }
    }

    /// The store's ticket for a fill of `key`, and a guard that tells the
    /// store when the fill ends, however it ends.
    fn begin_fill(&self, key: &str) -> (S::Ticket, Filling<'_, S>) {
        let ticket = self.store.ticket(key);
        self.store.fill_started(key);
        let filling = Filling {
            store: &self.store,
            key: key.to_owned(),
        };
        (ticket, filling)
    }

    /// The stored answer for `key`, with its age, if it may answer this
    /// request without asking the origin.
    async fn fresh_entry(
        &self,
        parts: &http::request::Parts,
        request: &Directives<'_>,
        key: &str,
    ) -> Option<(OriginAnswer, u64)> {
        let entry = self.store.get(key).await?;
        let stored = entry.as_ref();
        let policy = stored.policy.filter(|_| fits(stored, parts))?;
        let now = (self.now_ms)();
        matches!(policy.reuse(request, now), Reuse::Fresh)
            .then(|| (stored.clone(), policy.age_seconds(now)))
    }

    /// Stores the copy of `answer` the cache may keep: without the fields it
    /// must not keep, and without the request id (it names the request that
    /// filled the entry, not the ones it answers later). `x-cache` and `Age`
    /// hold placeholders that every reuse overwrites: a clone of the table
    /// is then complete, so answering a hit never grows it.
    async fn store_copy(&self, key: String, answer: &OriginAnswer, ticket: S::Ticket) {
        let Some(policy) = answer.policy else { return };
        let mut copy = answer.clone();
        for name in unstored_fields(&answer.headers) {
            copy.headers.remove(name);
        }
        copy.headers.remove(X_REQUEST_ID);
        copy.headers
            .insert(X_CACHE, HeaderValue::from_static("HIT"));
        copy.headers
            .insert(header::AGE, HeaderValue::from_static("0"));
        let keep = policy.keep_seconds(has_validator(&copy.headers));
        self.store.put(key, copy, keep, ticket).await;
    }

    /// The representation from the embedded app or an origin; with `held`,
    /// a conditional request that the origin may answer 304.
    async fn fetch_for_cache(
        &self,
        parts: &http::request::Parts,
        visit: &Visit<'_>,
        held: Option<&OriginAnswer>,
    ) -> Fetched {
        let held_validators = held.map(|held| Validators {
            etag: header_str(&held.headers, &header::ETAG),
            last_modified: header_str(&held.headers, &header::LAST_MODIFIED),
        });
        match millions_web::find(&crate::routes::normalise(parts.uri.path())) {
            Some(asset) => Ok(embedded(
                asset,
                self.settings.static_seconds,
                held_validators,
            )),
            None => {
                let mut headers = parts.headers.clone();
                fill_conditions(&mut headers, held_validators);
                self.forward(&Method::GET, parts, headers, Bytes::new(), visit)
                    .await
            }
        }
    }

    /// A read with credentials: always answered by the origin, and stored
    /// for others only where the origin's headers allow it (RFC 9111 §3.5).
    async fn credentialed_read(
        &self,
        parts: &http::request::Parts,
        visit: &Visit<'_>,
    ) -> Response<Bytes> {
        let key = key_of(
            &self.settings.asset_version,
            parts.uri.path(),
            parts.uri.query(),
        );
        let ticket = self.store.ticket(&key);
        let request_ms = (self.now_ms)();
        let answer = match self
            .forward(
                &parts.method,
                parts,
                parts.headers.clone(),
                Bytes::new(),
                visit,
            )
            .await
        {
            Ok(answer) => answer,
            Err(problem) => return problem.to_response(),
        };
        let response_ms = (self.now_ms)();
        if parts.method == Method::GET {
            if let Some(policy) = policy_for(parts, &answer, true, request_ms, response_ms) {
                // A fresh entry is left alone: rewriting it on every
                // credentialed read would cost a copy per request for nothing.
                let fresh = self.store.get(&key).await.is_some_and(|entry| {
                    entry.as_ref().policy.is_some_and(|held| {
                        held.reuse(&Directives::default(), response_ms) == Reuse::Fresh
                    })
                });
                if !fresh {
                    let shared = OriginAnswer {
                        policy: Some(policy),
                        ..answer.clone()
                    };
                    self.store_copy(key, &shared, ticket).await;
                }
            }
        }
        answer_from(parts, &answer, "BYPASS", None)
    }

    /// A request the cache does not handle: relay it, and after a successful
    /// write purge what it made stale (RFC 9111 §4.4).
    async fn pass_through(
        &self,
        parts: &http::request::Parts,
        visit: &Visit<'_>,
        body: Bytes,
    ) -> Answered {
        let answer = match self
            .forward(&parts.method, parts, parts.headers.clone(), body, visit)
            .await
        {
            Ok(answer) => answer,
            Err(problem) => return Answered::now(problem.to_response()),
        };
        let stale = stale_after(
            &Write {
                method: parts.method.clone(),
                status: answer.status,
                path: parts.uri.path(),
                query: parts.uri.query(),
                host: header_str(&parts.headers, &header::HOST),
                location: header_str(&answer.headers, &header::LOCATION),
                content_location: header_str(&answer.headers, &header::CONTENT_LOCATION),
            },
            &self.settings.asset_version,
        );
        if !stale.is_empty() {
            self.store.purge(&stale).await;
        }
        Answered {
            response: answer_from(parts, &answer, "BYPASS", None),
            refresh: None,
            purged: stale,
        }
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
        visit: &Visit<'_>,
    ) -> Result<OriginAnswer, Problem> {
        // Only requests that leave the edge need these; hits skip the cost.
        self.add_forwarding_headers(&mut headers, visit);
        remove_hop_by_hop(&mut headers);
        // The transport names the origin's host from the URI.
        headers.remove(header::HOST);
        let now = (self.now_ms)();
        let continent = visit
            .client
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
            let Ok(uri) = http::Uri::try_from(uri) else {
                return Err(Problem::bad_gateway(format!(
                    "the origin URL of {region} is invalid"
                )));
            };
            let mut request = Request::new(body.clone());
            *request.method_mut() = method.clone();
            *request.uri_mut() = uri;
            *request.headers_mut() = headers.clone();
            let sent_ms = (self.now_ms)();
            let outcome = self.transport.send(request).await;
            record_origin_call(&region, &outcome, (self.now_ms)() - sent_ms);
            match outcome {
                Ok(response) if !is_origin_failure(response.status()) => {
                    self.origins().record_success(index);
                    return Ok(stored(response, region));
                }
                Ok(response) => {
                    self.origins().record_failure(index, (self.now_ms)());
                    last_error = format!("{region} answered {}", response.status());
                    if !may_retry_elsewhere(method, true) {
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
                    if !may_retry_elsewhere(method, true) {
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
    fn add_forwarding_headers(&self, headers: &mut HeaderMap, visit: &Visit<'_>) {
        if let Ok(value) = HeaderValue::try_from(visit.trace.to_string()) {
            headers.insert(TRACEPARENT, value);
        }
        if let Some(address) = visit.client.address {
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

/// W3C Trace Context's field (`millions_core::trace::TRACEPARENT`).
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
/// The cache's label of an answer (`HIT`, `MISS`, ...).
pub const X_CACHE: HeaderName = HeaderName::from_static("x-cache");
/// Names the origin (region) that produced an answer; kept with the stored
/// answer so a hit costs no formatting.
pub const X_EDGE_ORIGIN: HeaderName = HeaderName::from_static("x-edge-origin");

/// Whether a stored answer may answer this request: it was stored, and the
/// request matches the fields its `Vary` names (RFC 9111 §4.1). Most
/// answers vary on nothing, which the stored fingerprint says without
/// reading the stored fields again.
fn fits(stored: &OriginAnswer, parts: &http::request::Parts) -> bool {
    stored.policy.is_some_and(|policy| {
        policy.variant == VARIES_ON_NOTHING
            || policy.variant == variant(&stored.headers, &parts.headers)
    })
}

/// How `answer`, asked for between `request_ms` and `response_ms`, may be
/// stored by a shared cache (RFC 9111 §3); `None` when it may not.
fn policy_for(
    parts: &http::request::Parts,
    answer: &OriginAnswer,
    credentialed: bool,
    request_ms: u64,
    response_ms: u64,
) -> Option<CachePolicy> {
    storable(&Exchange {
        status: answer.status,
        request: &parts.headers,
        response: &answer.headers,
        credentialed,
        request_ms,
        response_ms,
    })
    .ok()
}

fn label_origin(headers: &mut HeaderMap, region: &str) {
    if let Ok(value) = HeaderValue::from_str(region) {
        headers.insert(X_EDGE_ORIGIN, value);
    }
}
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// One request to an origin, through the `metrics` facade: its region, how
/// it ended and how long it took (at the runtime clock's millisecond
/// resolution). The local edge's recorder publishes it; where a runtime
/// installs none (the Worker, Spin) it costs nothing, and their log line
/// says which origin answered instead. Only requests that leave the edge
/// record: a hit never reaches here.
fn record_origin_call(region: &str, outcome: &Result<Response<Bytes>, SendError>, millis: u64) {
    let outcome = match outcome {
        Ok(response) if is_origin_failure(response.status()) => "failure_status",
        Ok(_) => "answered",
        Err(SendError::NotSent(_)) => "refused",
        Err(SendError::Failed(_)) => "failed",
    };
    metrics::histogram!(
        "edge_origin_duration_seconds",
        "region" => region.to_owned(),
        "outcome" => outcome
    )
    .record(millis as f64 / 1000.0);
}

/// Answers that mean the region is in trouble, not that the request is wrong.
fn is_origin_failure(status: StatusCode) -> bool {
    matches!(status.as_u16(), 502..=504)
}

fn stored(response: Response<Bytes>, region: String) -> OriginAnswer {
    let (parts, body) = response.into_parts();
    let mut headers = parts.headers;
    remove_hop_by_hop(&mut headers);
    headers.remove(header::CONTENT_LENGTH);
    label_origin(&mut headers, &region);
    OriginAnswer {
        status: parts.status,
        headers,
        body,
        region,
        policy: None,
    }
}

/// The stored answer with the fields of a 304 that validated it (RFC 9111
/// §4.3.4), as §3.2 says ([`update_stored_fields`]).
fn freshened(held: OriginAnswer, not_modified: OriginAnswer) -> OriginAnswer {
    let mut headers = held.headers;
    // The held copy's reuse placeholders are not the origin's fields.
    headers.remove(X_CACHE);
    headers.remove(header::AGE);
    update_stored_fields(&mut headers, &not_modified.headers);
    OriginAnswer {
        headers,
        region: not_modified.region,
        policy: None,
        ..held
    }
}

/// An answer a stale entry may stand in for (RFC 5861 §4).
fn is_error(outcome: &Fetched) -> bool {
    outcome
        .as_ref()
        .map_or(true, |answer| answer.status.is_server_error())
}

/// An embedded file of the web app, as an origin would answer it: 304 when
/// the held entry is still the current version.
fn embedded(
    asset: &'static millions_web::Asset,
    static_seconds: u32,
    held: Option<Validators<'_>>,
) -> OriginAnswer {
    let held_etag = held.and_then(|held| held.etag);
    let (parts, body) = millions_web::response(asset, static_seconds, held_etag).into_parts();
    let mut headers = parts.headers;
    label_origin(&mut headers, ASSETS_ORIGIN);
    OriginAnswer {
        status: parts.status,
        headers,
        body: Bytes::from_static(body),
        region: ASSETS_ORIGIN.into(),
        policy: None,
    }
}

/// The answer to the client: 304 when its validators match what the edge
/// holds, no body for `HEAD`, the `x-cache` / `x-edge-origin` labels, and
/// `Age` for answers that went through the cache (RFC 9111 §5.1).
fn answer_from(
    parts: &http::request::Parts,
    entry: &OriginAnswer,
    label: &'static str,
    age_seconds: Option<u64>,
) -> Response<Bytes> {
    let preconditions = Preconditions {
        if_none_match: header_str(&parts.headers, &header::IF_NONE_MATCH),
        if_modified_since: header_str(&parts.headers, &header::IF_MODIFIED_SINCE),
    };
    // Most reads carry no precondition; they skip the entry's validators.
    let conditional = preconditions != Preconditions::default();
    let mut response = if conditional
        && entry.status.is_success()
        && not_modified(
            &parts.method,
            &preconditions,
            &Validators {
                etag: header_str(&entry.headers, &header::ETAG),
                // RFC 9111 §4.3.2: without Last-Modified, the answer's Date.
                last_modified: header_str(&entry.headers, &header::LAST_MODIFIED)
                    .or_else(|| header_str(&entry.headers, &header::DATE)),
            },
        ) {
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
        part_of(parts, entry)
    };
    let headers = response.headers_mut();
    headers.insert(X_CACHE, HeaderValue::from_static(label));
    if let Some(age) = age_seconds {
        headers.insert(header::AGE, age_value(age));
    }
    response
}

/// The entry, or the part of it a `Range` asks for (RFC 9110 §14), without
/// a body for `HEAD`.
fn part_of(parts: &http::request::Parts, entry: &OriginAnswer) -> Response<Bytes> {
    let length = entry.body.len() as u64;
    let selected = ranges::select(
        &parts.method,
        &parts.headers,
        entry.status,
        &entry.headers,
        length,
    );
    let (status, headers, body) = match selected {
        Selected::Whole if parts.method == Method::HEAD => {
            (entry.status, entry.headers.clone(), Bytes::new())
        }
        Selected::Whole => (entry.status, entry.headers.clone(), entry.body.clone()),
        Selected::Part(range) => {
            // The range was validated against `length`, a usize.
            let body = entry
                .body
                .slice(*range.start() as usize..=*range.end() as usize);
            let mut headers = entry.headers.clone();
            let range = format!("bytes {}-{}/{length}", range.start(), range.end());
            headers.insert(header::CONTENT_RANGE, content_range(range));
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
            (StatusCode::PARTIAL_CONTENT, headers, body)
        }
        // §15.5.17: only where the content ends. None of the entry's fields,
        // its Cache-Control least: a cache further on must not keep the 416
        // as the answer to the URL.
        Selected::Unsatisfiable => {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::CONTENT_RANGE,
                content_range(format!("bytes */{length}")),
            );
            (StatusCode::RANGE_NOT_SATISFIABLE, headers, Bytes::new())
        }
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

fn content_range(value: String) -> HeaderValue {
    HeaderValue::try_from(value).expect("digits, a dash and a slash")
}

/// "00" to "99", for `Age` values below 100 s without formatting them.
const TWO_DIGITS: &str = match std::str::from_utf8(&two_digit_numbers()) {
    Ok(text) => text,
    Err(_) => panic!("digits are ASCII"),
};

const fn two_digit_numbers() -> [u8; 200] {
    let mut digits = [0; 200];
    let mut n = 0;
    while n < 100 {
        digits[2 * n] = b'0' + (n / 10) as u8;
        digits[2 * n + 1] = b'0' + (n % 10) as u8;
        n += 1;
    }
    digits
}

/// An `Age` field value. Most hits are younger than 100 s (short TTLs),
/// and those borrow static text instead of allocating a value per hit.
fn age_value(seconds: u64) -> HeaderValue {
    match usize::try_from(seconds) {
        Ok(n @ 0..=9) => HeaderValue::from_static(&TWO_DIGITS[2 * n + 1..2 * n + 2]),
        Ok(n @ 10..=99) => HeaderValue::from_static(&TWO_DIGITS[2 * n..2 * n + 2]),
        _ => HeaderValue::from(seconds),
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
