//! Per-route request metrics, recorded through the `metrics` facade: each
//! runtime installs its own recorder (Prometheus in the local stack, EMF on
//! Lambda), and without one recording costs next to nothing.
//!
//! One histogram, `http_request_duration_seconds`, labelled by the route
//! template (`/users/{id}`, never the id: one series per route, not per
//! user), the method and the status class: its `_count` is the requests
//! (and by status class, the errors), its buckets the latency. One metric,
//! not a counter beside it, because each costs a registry lookup on every
//! request (measured: `docs/benchmarks.md`).

use std::collections::HashMap;
use std::sync::{LazyLock, RwLock};
use std::time::Duration;

use axum::extract::{MatchedPath, Request};

/// What a finished request is recorded under.
pub struct Labels {
    route: &'static str,
    method: &'static str,
}

impl Labels {
    pub fn of(request: &Request) -> Self {
        Self {
            route: request
                .extensions()
                .get::<MatchedPath>()
                .map_or("unmatched", |path| interned(path.as_str())),
            method: method_label(request.method()),
        }
    }

    pub fn record(self, status: u16, elapsed: Duration) {
        metrics::histogram!(
            "http_request_duration_seconds",
            "route" => self.route,
            "method" => self.method,
            "status" => status_class(status)
        )
        .record(elapsed.as_secs_f64());
    }
}

/// The route templates, one leaked copy each: there are as many as the
/// router has routes, and static labels spare an allocation per request.
fn interned(route: &str) -> &'static str {
    static ROUTES: LazyLock<RwLock<HashMap<String, &'static str>>> =
        LazyLock::new(Default::default);
    if let Some(found) = ROUTES.read().unwrap_or_else(|p| p.into_inner()).get(route) {
        return found;
    }
    ROUTES
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .entry(route.to_owned())
        .or_insert_with(|| Box::leak(route.to_owned().into_boxed_str()))
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
