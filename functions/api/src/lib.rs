//! The HTTP API of millions, as one axum [`Router`].
//!
//! Every runtime serves this same router: the Lambda entry point through
//! `lambda_http`, the local stack through hyper. It holds no state of its own:
//! everything lives behind the ports in [`ApiState`], so any instance in any
//! region can answer any request.

mod auth;
mod client_address;
mod credentials;
mod error;
mod extract;
mod health;
mod likes;
mod observe;
mod openapi;
mod photos;
mod request_ids;
mod request_metrics;
mod trace_context;
mod users;
mod web_app;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use millions_core::auth::AuthSettings;
use millions_core::trace::TraceIds;
use millions_core::{Ports, Services};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use client_address::{client_address, PeerAddress};
pub use credentials::SESSION_COOKIE;
pub use error::ApiError;
pub use openapi::ApiDoc;
pub use trace_context::XRayTrace;

/// The largest request body accepted, in bytes. A user object is well under
/// 4 KiB; anything far larger is a mistake or an attack.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// How the web tier meets browsers and proxies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebSettings {
    /// Origins (`https://app.example.com`) whose pages may make
    /// cookie-authenticated state-changing requests, besides the API's own host.
    pub allowed_origins: Vec<String>,
    /// How many proxies in front of the API append to `X-Forwarded-For` and
    /// can be trusted to (the edge, a load balancer); 0 when clients connect
    /// directly.
    pub trusted_proxy_hops: usize,
    /// How long shared caches and browsers may keep public reads.
    pub caching: PublicCaching,
}

/// The lifetimes the API gives its public reads in `Cache-Control`; the edge
/// and browsers follow them (RFC 9111), the API's other answers say
/// `no-store`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicCaching {
    /// Seconds a public profile (`GET /users/{id}`) is fresh.
    pub profile_max_age: u32,
    /// Seconds a stale profile may still be served while it is refetched.
    pub profile_stale_while_revalidate: u32,
    /// Seconds a stale profile may stand in while the origin fails.
    pub profile_stale_if_error: u32,
    /// Seconds a missing profile's 404 may be reused, so a flood of lookups
    /// of one missing id does not all reach the store.
    pub not_found_max_age: u32,
}

impl Default for PublicCaching {
    fn default() -> Self {
        Self {
            profile_max_age: 30,
            profile_stale_while_revalidate: 60,
            profile_stale_if_error: 600,
            not_found_max_age: 10,
        }
    }
}

impl PublicCaching {
    pub fn profile(&self) -> String {
        format!(
            "public, max-age={}, stale-while-revalidate={}, stale-if-error={}",
            self.profile_max_age, self.profile_stale_while_revalidate, self.profile_stale_if_error
        )
    }

    pub fn not_found(&self) -> String {
        format!("public, max-age={}", self.not_found_max_age)
    }
}

/// Everything that can be tuned about an API instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub auth: AuthSettings,
    pub web: WebSettings,
}

/// What the handlers need: the domain services, built on ports, and the web
/// settings. Nothing here changes between requests.
pub struct ApiState {
    pub services: Services,
    pub web: WebSettings,
    /// This instance's trace and span ids.
    pub trace_ids: TraceIds,
}

impl ApiState {
    /// Wires the services to the given ports. `node` distinguishes this
    /// instance's ids from other instances' (see `millions_core::IdGenerator`).
    pub fn new(ports: Ports, node: u16, settings: Settings) -> Arc<Self> {
        let trace_ids = TraceIds::new(ports.random.id128());
        Arc::new(Self {
            services: Services::new(ports, node, settings.auth),
            web: settings.web,
            trace_ids,
        })
    }
}

/// Answers that do not say how they may be cached say they may not be: the
/// API's answers are personal or change at once unless a handler says so.
async fn no_store_unless_said(mut response: axum::response::Response) -> axum::response::Response {
    response
        .headers_mut()
        .entry(http::header::CACHE_CONTROL)
        .or_insert(http::HeaderValue::from_static("no-store"));
    response
}

fn request_span(request: &http::Request<axum::body::Body>) -> tracing::Span {
    let span = tracing::debug_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = ?request.headers().get("x-request-id"),
        trace_id = trace_context::trace_id_of(request).unwrap_or_default(),
        xray_trace_id = tracing::field::Empty,
    );
    if let Some(xray) = request.extensions().get::<XRayTrace>() {
        span.record("xray_trace_id", xray.0.as_str());
    }
    span
}

/// Builds the API router over `state`.
pub fn router(state: Arc<ApiState>) -> Router {
    let request_id = http::HeaderName::from_static("x-request-id");
    let traces = Arc::clone(&state);
    Router::new()
        .merge(health::routes())
        .merge(auth::routes())
        .merge(users::routes())
        .merge(likes::routes())
        .merge(photos::routes())
        .merge(openapi::routes())
        .fallback(web_app::app_or_not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(error::panic_to_problem))
        .layer(axum::middleware::map_response(no_store_unless_said))
        // Per-request spans cost microseconds on every request, so they are
        // made at DEBUG (`RUST_LOG=debug` turns them on); server errors are
        // logged once, with their request id and cause, by
        // `log_server_errors`, so the trace layer's own failure line is off.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_failure(()),
        )
        .layer(axum::middleware::from_fn(error::log_server_errors))
        // Outside the span and the error line, which read the trace it sets.
        .layer(axum::middleware::from_fn_with_state(
            traces,
            observe::observe,
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(
            request_id,
            request_ids::InstanceRequestIds::new(),
        ))
}
