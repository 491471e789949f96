//! Embedded stand-ins for the cloud data services, for the local stack.
//!
//! One [redb](https://docs.rs/redb) file holds every table. redb commits are
//! copy-on-write B-tree updates made durable with `fsync` before `commit`
//! returns, so a write the API has acknowledged survives `kill -9` and power
//! loss, and a torn write is never visible after a restart.

mod blobs;
mod database;
mod jobs;
mod queue;
mod rate_limits;
mod records;
mod sessions;
mod stores;
mod users;

pub use blobs::{LocalBlobs, UploadAcceptError, UploadGrant, UploadRefusal, UPLOAD_PATH};
pub use database::{EmbeddedDatabase, EmbeddedError};
pub use jobs::EmbeddedJobs;
pub use queue::{EmbeddedQueue, QueueDepths};
pub use rate_limits::EmbeddedRateLimits;
pub use sessions::EmbeddedSessions;
pub use stores::{EmbeddedStores, PhotoOptions};
pub use users::EmbeddedUsers;
