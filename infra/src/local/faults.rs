//! Pause points for crash tests: a multi-step write names the moments
//! between its steps, and a test that sets `MILLIONS_PAUSE_AT` to one of
//! them gets the process to stop there, log it, and wait forever, so the test
//! can kill it (SIGKILL) at exactly that moment and check what a restart
//! makes of the half-done write.
//!
//! Nothing sets the variable in a deployment; unset, a pause point is one
//! comparison with a value read once.

use std::sync::OnceLock;

/// The environment variable naming the pause point a test wants.
pub const PAUSE_AT: &str = "MILLIONS_PAUSE_AT";

/// Waits forever if `point` is the one named by `MILLIONS_PAUSE_AT`.
pub(crate) async fn pause_point(point: &'static str) {
    static CHOSEN: OnceLock<Option<String>> = OnceLock::new();
    let chosen = CHOSEN.get_or_init(|| std::env::var(PAUSE_AT).ok());
    if chosen.as_deref() == Some(point) {
        tracing::warn!(point, "paused at {point} until the process is killed");
        std::future::pending::<()>().await;
    }
}
