//! The `RateLimits` port on the embedded database: one counter per key,
//! reset when a new window starts.

use async_trait::async_trait;
use millions_core::auth::{RateLimits, Window};
use millions_core::StoreError;
use redb::{ReadableTable, TableDefinition};

use super::database::{unavailable, EmbeddedDatabase};

/// key → (end of the counted window, attempts in it).
const COUNTERS: TableDefinition<&str, (u64, u32)> = TableDefinition::new("rate_limits");

#[derive(Clone)]
pub struct EmbeddedRateLimits {
    db: EmbeddedDatabase,
}

impl EmbeddedRateLimits {
    pub fn new(db: EmbeddedDatabase) -> Result<Self, StoreError> {
        db.create_table(COUNTERS)?;
        Ok(Self { db })
    }

    /// Forgets counters whose window ended before `now`; returns how many.
    pub async fn sweep_expired(&self, now: u64) -> Result<u64, StoreError> {
        self.db
            .write_table(COUNTERS, move |table| {
                let mut removed = 0;
                table
                    .retain(|_, (end, _)| {
                        removed += u64::from(end <= now);
                        end > now
                    })
                    .map_err(unavailable)?;
                Ok(removed)
            })
            .await
    }
}

#[async_trait]
impl RateLimits for EmbeddedRateLimits {
    async fn hit(&self, window: &Window) -> Result<u32, StoreError> {
        let (key, end) = (window.key.clone(), window.end);
        self.db
            .write_table(COUNTERS, move |table| {
                let stored = table
                    .get(key.as_str())
                    .map_err(unavailable)?
                    .map(|v| v.value());
                let count = match stored {
                    Some((stored_end, count)) if stored_end == end => count.saturating_add(1),
                    _ => 1,
                };
                table
                    .insert(key.as_str(), (end, count))
                    .map_err(unavailable)?;
                Ok(count)
            })
            .await
    }
}
