//! Real servers for tests, started by the tests themselves.
//!
//! [`moto`] runs the moto AWS emulator (from PyPI) on a free port of
//! 127.0.0.1, installing it into the repository's `.venv` the first time, so
//! adapters are tested through the official AWS SDK against a real HTTP API
//! rather than a mocked client. [`photos`] has the photo fixtures.

mod moto;
pub mod photos;

pub use moto::{moto, unique_name, Moto, MOTO_VERSION};

use std::path::PathBuf;

/// The repository's root folder.
pub fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("the loopback interface accepts a listener")
        .port()
}
