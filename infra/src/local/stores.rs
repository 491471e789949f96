//! Every embedded store of one data folder, and the [`Ports`] they make up.

use std::sync::Arc;
use std::time::Duration;

use millions_core::photos::{PhotoPorts, QueueSettings};
use millions_core::{Clock, Ports, ShardCount, StoreError};

use super::{
    DataFolder, EmbeddedJobs, EmbeddedLikes, EmbeddedQueue, EmbeddedRateLimits, EmbeddedSessions,
    EmbeddedSketches, EmbeddedUsers, LocalBlobs,
};
use crate::{Argon2Passwords, OsRandomness, SystemClock};

/// How the local photo pipeline is set up.
#[derive(Debug, Clone, Default)]
pub struct PhotoOptions {
    /// Where clients reach the local stack (upload URLs start with it; empty
    /// makes them relative to the host the client asked).
    pub public_url: String,
    pub queue: QueueSettings,
}

/// The embedded stand-ins for the tables, the job queue and the photo bucket.
#[derive(Clone)]
pub struct EmbeddedStores {
    pub users: EmbeddedUsers,
    pub likes: EmbeddedLikes,
    pub sessions: EmbeddedSessions,
    pub limits: EmbeddedRateLimits,
    pub sketches: EmbeddedSketches,
    pub jobs: EmbeddedJobs,
    pub queue: EmbeddedQueue,
    pub blobs: LocalBlobs,
    clock: Arc<dyn Clock>,
}

impl EmbeddedStores {
    /// Opens every table of `folder`; blobs live in a folder inside it.
    pub fn new(
        folder: DataFolder,
        clock: Arc<dyn Clock>,
        photos: PhotoOptions,
    ) -> Result<Self, StoreError> {
        let data_dir = folder.path().to_owned();
        let db = folder.main().clone();
        Ok(Self {
            users: EmbeddedUsers::new(folder.shards().clone())?,
            likes: EmbeddedLikes::new(folder.shards().clone())?,
            sessions: EmbeddedSessions::new(db.clone())?,
            limits: EmbeddedRateLimits::new(db.clone())?,
            sketches: EmbeddedSketches::new(db.clone())?,
            jobs: EmbeddedJobs::new(db.clone())?,
            queue: EmbeddedQueue::new(db, Arc::clone(&clock), photos.queue)?,
            blobs: LocalBlobs::open(&data_dir, photos.public_url, Arc::clone(&clock))
                .map_err(StoreError::unavailable)?,
            clock,
        })
    }

    /// Fresh stores on the system clock with the default photo settings and
    /// shard count, in a new temporary folder that is removed when the
    /// returned handle drops: what a test of the API over real stores starts
    /// from.
    pub fn temporary() -> Result<(Self, tempfile::TempDir), StoreError> {
        let dir = tempfile::tempdir().map_err(StoreError::unavailable)?;
        let folder =
            DataFolder::open(dir.path(), ShardCount::DEFAULT).map_err(StoreError::unavailable)?;
        let stores = Self::new(folder, Arc::new(SystemClock), PhotoOptions::default())?;
        Ok((stores, dir))
    }

    /// The photo ports alone (the worker pool needs them without the rest).
    pub fn photo_ports(&self) -> PhotoPorts {
        PhotoPorts {
            blobs: Arc::new(self.blobs.clone()),
            jobs: Arc::new(self.jobs.clone()),
            queue: Arc::new(self.queue.clone()),
            inspector: Arc::new(millions_imaging::ImageTools::default()),
        }
    }

    /// The ports of a local deployment.
    pub fn ports(&self) -> Ports {
        let clock = Arc::clone(&self.clock);
        crate::measured(Ports {
            users: Arc::new(self.users.clone()),
            likes: Arc::new(self.likes.clone()),
            accounts: Arc::new(self.users.clone()),
            sessions: Arc::new(self.sessions.clone()),
            limits: Arc::new(self.limits.clone()),
            sketches: Arc::new(self.sketches.clone()),
            passwords: Arc::new(Argon2Passwords::new()),
            random: Arc::new(OsRandomness),
            clock,
            photos: self.photo_ports(),
        })
    }

    /// Removes expired sessions and counters every `period`, as DynamoDB's
    /// TTL does in the cloud. Runs until the task is dropped.
    pub async fn sweep_forever(self, clock: Arc<dyn Clock>, period: Duration) {
        let mut ticks = tokio::time::interval(period);
        loop {
            ticks.tick().await;
            let now = clock.now_ms() / 1000;
            match (
                self.sessions.sweep_expired(now).await,
                self.limits.sweep_expired(now).await,
            ) {
                (Ok(sessions), Ok(counters)) if sessions + counters > 0 => {
                    tracing::debug!(sessions, counters, "swept expired records");
                }
                (Ok(_), Ok(_)) => {}
                (Err(error), _) | (_, Err(error)) => {
                    tracing::warn!(%error, "sweeping expired records failed");
                }
            }
        }
    }
}
