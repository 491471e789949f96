//! Running the three edges for the behaviour suite (`tests/behaviour.rs`):
//! API origins in-process, then the edge under test in front of them, each
//! over real HTTP on 127.0.0.1.

mod edges;
mod origins;

pub use edges::{EdgeKind, RunningEdge};
pub use origins::{black_hole, Origins, Region};

/// The repository's root folder.
pub fn repository_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free local port")
}
