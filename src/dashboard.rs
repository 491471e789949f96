//! `GET /_local/dashboard`: a live page of the local stack's figures, for a
//! person watching a load test. It reads `GET /_local/metrics` every second
//! and plots, from the differences between two scrapes: the API's request
//! rate, p50 and p99 latency (from the histogram's buckets) and error rate,
//! the edge's hit rate, the photo queue's depth and today's active users.
//!
//! The charts are uPlot (MIT, from npm, vendored under `dashboard/vendor/`),
//! compiled into the binary like the page itself, so nothing is loaded from
//! the internet and the page works offline.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

pub const PATH: &str = "/_local/dashboard";

const PAGE: &str = include_str!("dashboard/index.html");
const SCRIPT: &str = include_str!("dashboard/dashboard.js");
const UPLOT: &str = include_str!("dashboard/vendor/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("dashboard/vendor/uPlot.min.css");

pub fn routes() -> Router {
    let file = |content_type: &'static str, body: &'static str| {
        get(move || async move {
            (
                [
                    (header::CONTENT_TYPE, content_type),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                body,
            )
                .into_response()
        })
    };
    Router::new()
        .route(PATH, file("text/html; charset=utf-8", PAGE))
        .route(
            "/_local/dashboard/dashboard.js",
            file("text/javascript; charset=utf-8", SCRIPT),
        )
        .route(
            "/_local/dashboard/uplot.js",
            file("text/javascript; charset=utf-8", UPLOT),
        )
        .route(
            "/_local/dashboard/uplot.css",
            file("text/css; charset=utf-8", UPLOT_CSS),
        )
}
