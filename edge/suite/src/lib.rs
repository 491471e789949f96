//! Running the three edges for the behaviour suite (`tests/behaviour.rs`):
//! API origins in-process, then the edge under test in front of them, each
//! over real HTTP on 127.0.0.1.

mod edges;
mod origins;

pub use edges::{EdgeKind, RunningEdge};
pub use origins::{black_hole, Origins, Region};

pub use millions_testkit::{free_port, repository_root};
