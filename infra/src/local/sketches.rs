//! The `Sketches` port on the embedded database: each day's sketch of its
//! active users, merged in one write transaction (so concurrent instances'
//! merges never lose each other's users), in the main file. Days more than
//! [`KEPT_DAYS`] old are dropped as new ones are written, as DynamoDB's TTL
//! drops them in the cloud.

use async_trait::async_trait;
use millions_core::activity::{Sketch, Sketches};
use millions_core::StoreError;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};

use super::database::{unavailable, EmbeddedDatabase};

/// UTC day → its sketch's registers.
const SKETCHES: TableDefinition<u32, &[u8]> = TableDefinition::new("active_user_sketches");

/// How many days of sketches are kept.
pub const KEPT_DAYS: u32 = 31;

#[derive(Clone)]
pub struct EmbeddedSketches {
    db: EmbeddedDatabase,
}

impl EmbeddedSketches {
    pub fn new(db: EmbeddedDatabase) -> Result<Self, StoreError> {
        db.create_table(SKETCHES)?;
        Ok(Self { db })
    }

    fn stored(&self, day: u32) -> Result<Sketch, StoreError> {
        let txn = self.db.handle().begin_read().map_err(unavailable)?;
        let table = txn.open_table(SKETCHES).map_err(unavailable)?;
        let stored = table.get(day).map_err(unavailable)?;
        Ok(stored
            .and_then(|bytes| Sketch::from_bytes(bytes.value()))
            .unwrap_or_default())
    }
}

#[async_trait]
impl Sketches for EmbeddedSketches {
    async fn merge(&self, day: u32, sketch: &Sketch) -> Result<Sketch, StoreError> {
        if sketch.is_empty() {
            // Nothing to add: a read, without a commit.
            return self.stored(day);
        }
        let sketch = sketch.clone();
        self.db
            .write_table(SKETCHES, move |table| {
                let mut union = table
                    .get(day)
                    .map_err(unavailable)?
                    .and_then(|bytes| Sketch::from_bytes(bytes.value()))
                    .unwrap_or_default();
                union.merge(&sketch);
                table.insert(day, union.as_bytes()).map_err(unavailable)?;
                table
                    .retain(|stored, _| stored + KEPT_DAYS > day)
                    .map_err(unavailable)?;
                Ok(union)
            })
            .await
    }
}
