//! Every embedded table of one database, and the [`Ports`] they make up.

use std::sync::Arc;
use std::time::Duration;

use millions_core::{Clock, Ports, StoreError};

use super::{EmbeddedDatabase, EmbeddedRateLimits, EmbeddedSessions, EmbeddedUsers};
use crate::{Argon2Passwords, OsRandomness};

/// The embedded stand-ins for the users, logins, sessions and counters tables.
#[derive(Clone)]
pub struct EmbeddedStores {
    pub users: EmbeddedUsers,
    pub sessions: EmbeddedSessions,
    pub limits: EmbeddedRateLimits,
}

impl EmbeddedStores {
    pub fn new(db: EmbeddedDatabase) -> Result<Self, StoreError> {
        Ok(Self {
            users: EmbeddedUsers::new(db.clone())?,
            sessions: EmbeddedSessions::new(db.clone())?,
            limits: EmbeddedRateLimits::new(db)?,
        })
    }

    /// The ports of a local deployment.
    pub fn ports(&self, clock: Arc<dyn Clock>) -> Ports {
        Ports {
            users: Arc::new(self.users.clone()),
            accounts: Arc::new(self.users.clone()),
            sessions: Arc::new(self.sessions.clone()),
            limits: Arc::new(self.limits.clone()),
            passwords: Arc::new(Argon2Passwords::new()),
            random: Arc::new(OsRandomness),
            clock,
        }
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
