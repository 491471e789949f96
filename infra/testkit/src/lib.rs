//! Real servers for tests, started by the tests themselves.
//!
//! [`moto`] runs the moto AWS emulator (from PyPI) on a free port of
//! 127.0.0.1, installing it into the repository's `.venv` the first time, so
//! adapters are tested through the official AWS SDK against a real HTTP API
//! rather than a mocked client, and [`faults`] puts a proxy in front of it
//! that throttles or hangs on demand. [`photos`] has the photo fixtures;
//! [`free_port`] gives servers started as child processes a port of their own.

pub mod browser;
pub mod faults;
pub mod logs;
mod moto;
pub mod photos;
mod ports;

pub use moto::{moto, serial_moto, unique_name, Moto, MOTO_VERSION};
pub use ports::{claim_port, free_port};

use std::path::PathBuf;

/// The repository's root folder.
pub fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// What `look` returns once `done` holds of it, looking every 100 ms for
/// at most `limit`; the last look otherwise, for the test's assertion to
/// show. For what a server does a moment after it answers (a log line
/// written, a call sent from the background).
pub async fn look_until<T>(
    limit: std::time::Duration,
    mut look: impl FnMut() -> T,
    done: impl Fn(&T) -> bool,
) -> T {
    let pause = std::time::Duration::from_millis(100);
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let seen = look();
        if done(&seen) || tokio::time::Instant::now() >= deadline {
            return seen;
        }
        tokio::time::sleep(pause).await;
    }
}
