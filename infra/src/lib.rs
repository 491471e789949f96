//! Adapters that plug real infrastructure into the core's ports.
//!
//! - [`local`]: embedded, persistent, crash-safe stand-ins, so the whole system
//!   runs on a laptop with no cloud account (`cargo run --release`).
//! - [`aws`]: the same ports on AWS services through the official SDK crates.
//!
//! Both pass one conformance suite (`tests/users_conformance.rs`).

pub mod aws;
pub mod clock;
pub mod local;
mod measured;
mod passwords;
mod random;

pub use clock::{random_node_id, SystemClock};
pub use measured::measured;
/// The EMF recorder's crate, for the functions that flush it.
pub use metrics_cloudwatch_embedded;
pub use passwords::Argon2Passwords;
pub use random::OsRandomness;
