//! Real servers for tests, started by the tests themselves.
//!
//! [`moto`] runs the moto AWS emulator (from PyPI) on a free port of
//! 127.0.0.1, installing it into the repository's `.venv` the first time, so
//! adapters are tested through the official AWS SDK against a real HTTP API
//! rather than a mocked client. [`photos`] has the photo fixtures;
//! [`free_port`] gives servers started as child processes a port of their own.

pub mod browser;
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
