//! The real wall clock behind the core's [`Clock`] port.

use std::time::{SystemTime, UNIX_EPOCH};

use millions_core::Clock;

/// Reads the operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as u64)
    }
}

/// A node number for the id generator, drawn at random when an instance starts.
/// Lambda instances cannot be numbered by a coordinator; the conditional
/// insert catches the rare collision (see `millions_core::ids`).
pub fn random_node_id() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    // `RandomState` is seeded from the operating system's randomness.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    (hasher.finish() % u64::from(millions_core::ids::NODES)) as u16
}
