//! What every request gives observability, in one middleware: its hop of
//! the trace (`trace_context`) before anything else runs, and its metrics
//! (`request_metrics`) when it is answered. One layer rather than two,
//! since each `from_fn` layer costs a boxed future on every request.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::request_metrics::Labels;
use crate::{trace_context, ApiState};

pub async fn observe(
    State(state): State<Arc<ApiState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    trace_context::attach(&state.trace_ids, &mut request);
    let labels = Labels::of(&request);
    let response = next.run(request).await;
    labels.record(response.status().as_u16(), started.elapsed());
    response
}
