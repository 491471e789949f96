//! Embedded stand-ins for the cloud data services, for the local stack.
//!
//! Each store file is a [redb](https://docs.rs/redb) database: a main file for
//! the tables that are not sharded and one file per shard (see
//! [`DataFolder`]). redb commits are
//! copy-on-write B-tree updates made durable with `fsync` before `commit`
//! returns, so a write the API has acknowledged survives `kill -9` and power
//! loss, and a torn write is never visible after a restart.

mod blobs;
mod data_folder;
mod database;
mod faults;
mod jobs;
mod likes;
mod moving;
mod queue;
mod rate_limits;
mod records;
mod sessions;
mod shard_map;
mod sketches;
mod stores;
mod users;

pub use blobs::{LocalBlobs, UploadAcceptError, UploadGrant, UploadRefusal, UPLOAD_PATH};
pub use data_folder::{DataFolder, Layout, Placement, Shards};
pub use database::{EmbeddedDatabase, EmbeddedError};
pub use faults::PAUSE_AT;
pub use jobs::EmbeddedJobs;
pub use likes::EmbeddedLikes;
pub use moving::{MoveOptions, MoveRefusal, MoveState, MoveStatus, Resharder};
pub use queue::{EmbeddedQueue, QueueDepths};
pub use rate_limits::EmbeddedRateLimits;
pub use sessions::EmbeddedSessions;
pub use shard_map::{ShardMap, ShardMapError};
pub use sketches::EmbeddedSketches;
pub use stores::{EmbeddedStores, PhotoOptions};
pub use users::EmbeddedUsers;
