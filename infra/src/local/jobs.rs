//! The `Jobs` port on the embedded database. Each transition reads and
//! writes the record in one redb write transaction; redb runs one writer at
//! a time, so the check and the change cannot interleave with another's.

use async_trait::async_trait;
use millions_core::photos::{Job, JobId, JobState, Jobs};
use millions_core::StoreError;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};

use super::database::{unavailable, EmbeddedDatabase};
use super::records::{self, Format};

const JOBS: TableDefinition<u128, &[u8]> = TableDefinition::new("jobs");
const JOB_FORMAT: Format = Format(1);

#[derive(Clone)]
pub struct EmbeddedJobs {
    db: EmbeddedDatabase,
}

impl EmbeddedJobs {
    pub fn new(db: EmbeddedDatabase) -> Result<Self, StoreError> {
        db.create_table(JOBS)?;
        Ok(Self { db })
    }
}

/// Reads, changes and writes back one job inside a write transaction.
async fn update<T: Send + 'static>(
    db: &EmbeddedDatabase,
    id: JobId,
    change: impl FnOnce(&mut Job) -> T + Send + 'static,
) -> Result<Option<(Job, T)>, StoreError> {
    db.write_table(JOBS, move |table| {
        let Some(mut job) = table
            .get(id.bits())
            .map_err(unavailable)?
            .map(|bytes| records::decode_json::<Job>(JOB_FORMAT, bytes.value()))
            .transpose()?
        else {
            return Ok(None);
        };
        let before = job.clone();
        let outcome = change(&mut job);
        if job != before {
            let bytes = records::encode_json(JOB_FORMAT, &job);
            table
                .insert(id.bits(), bytes.as_slice())
                .map_err(unavailable)?;
        }
        Ok(Some((job, outcome)))
    })
    .await
}

#[async_trait]
impl Jobs for EmbeddedJobs {
    async fn insert(&self, job: &Job) -> Result<(), StoreError> {
        let id = job.id.bits();
        let bytes = records::encode_json(JOB_FORMAT, job);
        self.db
            .write_table(JOBS, move |table| {
                if table.get(id).map_err(unavailable)?.is_some() {
                    return Err(StoreError::AlreadyExists);
                }
                table.insert(id, bytes.as_slice()).map_err(unavailable)?;
                Ok(())
            })
            .await
    }

    async fn get(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        let txn = self.db.handle().begin_read().map_err(unavailable)?;
        let table = txn.open_table(JOBS).map_err(unavailable)?;
        table
            .get(id.bits())
            .map_err(unavailable)?
            .map(|bytes| records::decode_json(JOB_FORMAT, bytes.value()))
            .transpose()
    }

    async fn start(
        &self,
        id: JobId,
        now_ms: u64,
        lease_until_ms: u64,
        final_attempt: bool,
    ) -> Result<Option<Job>, StoreError> {
        let updated = update(&self.db, id, move |job| {
            if !job.state.is_final() {
                job.state = JobState::Running {
                    lease_until_ms,
                    final_attempt,
                };
                job.attempts += 1;
                job.updated_at_ms = now_ms;
            }
        })
        .await?;
        Ok(updated.map(|(job, ())| job))
    }

    async fn finish(&self, id: JobId, outcome: &JobState, now_ms: u64) -> Result<bool, StoreError> {
        let outcome = outcome.clone();
        let updated = update(&self.db, id, move |job| {
            if job.state.is_final() {
                return false;
            }
            job.state = outcome;
            job.updated_at_ms = now_ms;
            true
        })
        .await?;
        Ok(updated.is_some_and(|(_, changed)| changed))
    }
}
