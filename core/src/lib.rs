//! The platform-free heart of millions.
//!
//! Everything here is plain Rust with no I/O and no runtime: the domain types
//! (the chapter's user object), their validation, id generation, the RFC 9457
//! problem type, the shard function, and the ports (traits) that
//! infrastructure adapters implement.
//! Keeping it free of tokio and AWS types is what lets the same logic run in a
//! Lambda, in the local stack, and (compiled to wasm) at the edge.

pub mod activity;
pub mod auth;
pub mod ids;
pub mod likes;
pub mod photos;
pub mod ports;
pub mod preconditions;
pub mod problem;
pub mod services;
pub mod shards;
pub mod trace;
pub mod users;

pub use auth::Email;
pub use ids::{IdGenerator, UserId};
pub use likes::{CounterParts, LikeCount, LikeService, Likes};
pub use ports::{Clock, Consistency, StoreError, Users};
pub use problem::{Problem, Violation};
pub use services::{Ports, Services};
pub use shards::{Shard, ShardCount};
pub use users::{Address, StoredUser, User, UserProfile, Version};
