//! Metrics on Lambda: CloudWatch Embedded Metric Format (EMF) lines on
//! stdout, one document per invocation, which CloudWatch Logs turns into
//! metrics in the `millions` namespace without an API call or an agent.
//!
//! Whatever the code records through the `metrics` facade (per-route
//! requests and latencies, sign-ups, logins, photo jobs) is gathered by
//! `metrics_cloudwatch_embedded`'s recorder and written out by [`flush`] at
//! the end of each invocation, before the instance can be frozen. Labels
//! become dimensions, beside a `function` dimension naming the function.

use std::io::Write;

use metrics_cloudwatch_embedded::Collector;

/// The CloudWatch namespace of every metric the functions emit.
pub const NAMESPACE: &str = "millions";

/// Installs the EMF recorder for this process (a Lambda instance), with
/// `function` as a dimension of every metric. Only the first call installs.
pub fn install(function: &'static str) -> Option<&'static Collector> {
    metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(NAMESPACE)
        .with_dimension("function", function)
        .init()
        .map_err(|error| tracing::warn!(%error, "the metrics recorder was not installed"))
        .ok()
}

/// Writes what was recorded since the last flush as EMF documents to `out`.
pub fn flush(collector: &Collector, mut out: impl Write) {
    if let Err(error) = collector.flush(&mut out) {
        tracing::warn!(%error, "the metrics could not be written");
    }
    let _ = out.flush();
}
