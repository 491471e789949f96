//! The line a runtime logs for each request it answers, the same fields on
//! every edge: the method, the path (never the query, which may hold a
//! signature), the status, the cache's label, the origin region that
//! answered, the time taken and the trace id. On the Worker and in Spin,
//! where no metrics recorder runs, these lines are the edge's metrics:
//! Workers Logs and Spin's log sink index JSON lines, so hits, misses,
//! bypasses, stale answers, origin latency (a miss's time is its origin's)
//! and the answers of each region are queries over them.

use http::Method;
use serde::Serialize;

use crate::engine::{Handled, X_EDGE_ORIGIN};

/// One request's line.
#[derive(Debug, Serialize)]
pub struct AccessLog<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    /// `HIT`, `MISS`, `REVALIDATED`, `STALE`, `BYPASS`; none for the edge's
    /// own refusals and 502s.
    pub cache: Option<&'a str>,
    /// The origin region (or `edge-assets`) whose answer this is; none when
    /// no origin answered.
    pub origin: Option<&'a str>,
    pub millis: u64,
    pub trace_id: String,
}

impl<'a> AccessLog<'a> {
    /// The line for `handled`, an answer to `method` `path` made in `millis`.
    pub fn of(method: &'a Method, path: &'a str, handled: &'a Handled, millis: u64) -> Self {
        let field = |name| {
            handled
                .response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
        };
        Self {
            method: method.as_str(),
            path,
            status: handled.response.status().as_u16(),
            cache: field(crate::engine::X_CACHE),
            origin: field(X_EDGE_ORIGIN),
            millis,
            trace_id: handled.trace.trace_id(),
        }
    }

    /// The line, as one JSON object.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
