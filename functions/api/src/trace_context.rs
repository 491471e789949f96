//! Each request's hop of its trace (W3C Trace Context): the `traceparent`
//! it arrived with (from the client, passed on by the edge) continued with
//! this instance's own span id, or a new trace when it had none or an
//! invalid one. The hop goes in the request's extensions, where the request
//! span and the server-error line read its trace id and the photo handler
//! puts it on the job's queue message, for the worker's lines to carry.

use axum::extract::Request;
use millions_core::trace::{TraceIds, TraceParent, TRACEPARENT};

/// The platform's own trace of a request, where it keeps one: on Lambda,
/// the invocation's X-Ray trace header. A request without a `traceparent`
/// continues it (the logs' trace id is then X-Ray's); one with a
/// `traceparent` keeps its own and names the X-Ray trace on its span, so
/// either id finds the other.
#[derive(Debug, Clone)]
pub struct XRayTrace(pub String);

/// Puts `request`'s hop in its extensions.
pub fn attach(ids: &TraceIds, request: &mut Request) {
    let incoming = request
        .headers()
        .get(TRACEPARENT)
        .and_then(|value| value.to_str().ok())
        .and_then(TraceParent::parse)
        .or_else(|| {
            let xray = request.extensions().get::<XRayTrace>()?;
            TraceParent::from_xray(&xray.0)
        });
    let hop = ids.hop(incoming);
    request.extensions_mut().insert(hop);
}

/// The trace id of `request`'s hop, for log lines.
pub fn trace_id_of(request: &Request) -> Option<String> {
    request
        .extensions()
        .get::<TraceParent>()
        .map(TraceParent::trace_id)
}
