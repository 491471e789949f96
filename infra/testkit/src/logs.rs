//! The JSON log lines code under test writes, captured on the test's thread
//! (for tests of what a function logs: trace ids, no secrets).

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// Lines captured while its guard lives.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    /// Captures this thread's events up to `level` as JSON lines until the
    /// returned guard drops (use a current-thread runtime).
    pub fn start(level: tracing::Level) -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Self::default();
        let writer = logs.clone();
        let guard = tracing::subscriber::set_default(
            tracing_subscriber::fmt()
                .json()
                .with_max_level(level)
                .with_writer(move || writer.clone())
                .finish(),
        );
        (logs, guard)
    }

    /// Every line so far, parsed.
    pub fn lines(&self) -> Vec<Value> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON log line"))
            .collect()
    }
}
