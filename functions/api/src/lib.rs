//! The HTTP API of millions, as one axum [`Router`].
//!
//! Every runtime serves this same router: the Lambda entry point through
//! `lambda_http`, the local stack through hyper. It holds no state of its own:
//! everything lives behind the ports in [`ApiState`], so any instance in any
//! region can answer any request.

mod error;
mod extract;
mod health;
mod openapi;
mod request_ids;
mod users;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use millions_core::users::UserService;
use millions_core::{Clock, IdGenerator, Users};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use openapi::ApiDoc;

/// The largest request body accepted, in bytes. A user object is well under
/// 4 KiB; anything far larger is a mistake or an attack.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// What the handlers need: the domain services, built on ports.
pub struct ApiState {
    pub users: UserService,
}

impl ApiState {
    /// Wires the services to the given store. `node` distinguishes this
    /// instance's ids from other instances' (see [`IdGenerator`]).
    pub fn new(users: Arc<dyn Users>, clock: Arc<dyn Clock>, node: u16) -> Arc<Self> {
        Arc::new(Self {
            users: UserService::new(users, IdGenerator::new(node), clock),
        })
    }
}

fn request_span(request: &http::Request<axum::body::Body>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = ?request.headers().get("x-request-id"),
    )
}

/// Builds the API router over `state`.
pub fn router(state: Arc<ApiState>) -> Router {
    let request_id = http::HeaderName::from_static("x-request-id");
    Router::new()
        .merge(health::routes())
        .merge(users::routes())
        .merge(openapi::routes())
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(error::panic_to_problem))
        // Per-request spans cost microseconds on every request, so they are
        // made at DEBUG (`RUST_LOG=debug` turns them on); server errors are
        // always logged, with their request id, by `log_server_errors`.
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(axum::middleware::from_fn(error::log_server_errors))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(
            request_id,
            request_ids::InstanceRequestIds::new(),
        ))
}
