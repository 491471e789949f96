//! Per-route request metrics, recorded through the `metrics` facade: each
//! runtime installs its own recorder (Prometheus in the local stack), and
//! without one recording costs next to nothing.
//!
//! One histogram, `http_request_duration_seconds`, labelled by the route
//! template (`/users/{id}`, never the id: one series per route, not per
//! user), the method and the status class: its `_count` is the requests
//! (and by status class, the errors), its buckets the latency. One metric,
//! not a counter beside it, because each costs a registry lookup on every
//! request (measured: `docs/benchmarks.md`).

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// Records the request in `http_request_duration_seconds`.
pub async fn record(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = method_label(request.method());
    let response = next.run(request).await;
    let status = status_class(response.status().as_u16());
    let seconds = started.elapsed().as_secs_f64();
    metrics::histogram!("http_request_duration_seconds", "route" => route, "method" => method, "status" => status)
        .record(seconds);
    response
}

/// The methods the API answers, as static labels (anything else is one).
fn method_label(method: &http::Method) -> &'static str {
    match *method {
        http::Method::GET => "GET",
        http::Method::HEAD => "HEAD",
        http::Method::POST => "POST",
        http::Method::PUT => "PUT",
        http::Method::PATCH => "PATCH",
        http::Method::DELETE => "DELETE",
        http::Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}
