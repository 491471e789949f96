//! Per-route request metrics, recorded through the `metrics` facade: each
//! runtime installs its own recorder (Prometheus in the local stack, EMF on
//! Lambda), and without one recording costs next to nothing.
//!
//! One histogram, `http_request_duration_seconds`, labelled by the route
//! template (`/users/{id}`, never the id: one series per route, not per
//! user), the method and the status class: its `_count` is the requests
//! (and by status class, the errors), its buckets the latency. One metric,
//! not a counter beside it (measured: `docs/benchmarks.md`).
//!
//! Each route keeps its histograms' handles, one per method and status
//! class, taken from the recorder on their first request: a labelled
//! `histogram!` looks its key up in the registry on every call (about 1,300
//! instructions, counted with callgrind), a kept handle only records. The
//! handles belong to the recorder installed by the first request, which the
//! binaries install before they serve.

use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock, RwLock};
use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use metrics::Histogram;

/// What a finished request is recorded under.
pub struct Labels {
    route: &'static Route,
    method: usize,
}

/// One route template and its histograms' handles.
struct Route {
    template: &'static str,
    /// Per [`METHODS`] entry, per [`STATUS_CLASSES`] entry.
    handles: [[OnceLock<Histogram>; STATUS_CLASSES.len()]; METHODS.len()],
}

/// The methods the API answers, as static labels (anything else is one).
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other",
];
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

impl Labels {
    pub fn of(request: &Request) -> Self {
        Self {
            route: route(
                request
                    .extensions()
                    .get::<MatchedPath>()
                    .map_or("unmatched", |path| path.as_str()),
            ),
            method: method_index(request.method()),
        }
    }

    pub fn record(self, status: u16, elapsed: Duration) {
        let class = status_class(status);
        self.route.handles[self.method][class]
            .get_or_init(|| {
                metrics::histogram!(
                    "http_request_duration_seconds",
                    "route" => self.route.template,
                    "method" => METHODS[self.method],
                    "status" => STATUS_CLASSES[class]
                )
            })
            .record(elapsed.as_secs_f64());
    }
}

/// The route templates, one leaked entry each: there are as many as the
/// router has routes, and static labels spare an allocation per request.
fn route(template: &str) -> &'static Route {
    static ROUTES: LazyLock<RwLock<HashMap<String, &'static Route>>> =
        LazyLock::new(Default::default);
    if let Some(found) = ROUTES
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(template)
    {
        return found;
    }
    ROUTES
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .entry(template.to_owned())
        .or_insert_with(|| {
            Box::leak(Box::new(Route {
                template: Box::leak(template.to_owned().into_boxed_str()),
                handles: Default::default(),
            }))
        })
}

/// The method's index in [`METHODS`].
fn method_index(method: &http::Method) -> usize {
    match *method {
        http::Method::GET => 0,
        http::Method::HEAD => 1,
        http::Method::POST => 2,
        http::Method::PUT => 3,
        http::Method::PATCH => 4,
        http::Method::DELETE => 5,
        http::Method::OPTIONS => 6,
        _ => 7,
    }
}

/// The status's index in [`STATUS_CLASSES`].
fn status_class(status: u16) -> usize {
    match status {
        100..=199 => 0,
        200..=299 => 1,
        300..=399 => 2,
        400..=499 => 3,
        _ => 4,
    }
}
