//! Ports: the traits the domain needs from the outside world.
//!
//! Handlers and services depend only on these, never on a concrete store, so
//! the same code runs on DynamoDB in a Lambda and on the embedded store of the
//! local stack. Every adapter passes one shared conformance suite
//! (`infra/tests/users_conformance.rs`), which is what "behaves the same" means.

use async_trait::async_trait;

use crate::ids::UserId;
use crate::users::{StoredUser, Version};

/// How fresh a read must be.
///
/// Replicated stores (DynamoDB global tables, read replicas) serve eventually
/// consistent reads more cheaply; a read that precedes a conditional write must
/// be strong, or it would compute the change from stale data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consistency {
    Strong,
    Eventual,
}

/// What a store can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a record with this key already exists")]
    AlreadyExists,
    #[error("no record with this key")]
    NotFound,
    #[error("the record's version is {current:?}, not the expected one")]
    VersionMismatch { current: Version },
    #[error("the data store is unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn unavailable(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Unavailable(Box::new(error))
    }
}

/// The users table, partitioned (sharded) by `user_id`.
///
/// Every write is conditional, so concurrent writers cannot overwrite each
/// other's changes: `insert` only if the id is free, `replace` and `delete`
/// only if the stored version is the one the caller read.
#[async_trait]
pub trait Users: Send + Sync {
    /// Stores a new user. Fails with [`StoreError::AlreadyExists`] if the id is taken.
    async fn insert(&self, user: &StoredUser) -> Result<(), StoreError>;

    /// Reads a user, `None` if there is none with this id.
    async fn get(
        &self,
        id: UserId,
        consistency: Consistency,
    ) -> Result<Option<StoredUser>, StoreError>;

    /// Stores `user` in place of the record whose version is `expected`.
    /// Fails with [`StoreError::NotFound`] or [`StoreError::VersionMismatch`].
    async fn replace(&self, user: &StoredUser, expected: Version) -> Result<(), StoreError>;

    /// Deletes the user `current` describes if it is still at `current.version`,
    /// together with its login (`current.email`) if it has one, atomically.
    /// Fails with [`StoreError::NotFound`] or [`StoreError::VersionMismatch`].
    async fn delete(&self, current: &StoredUser) -> Result<(), StoreError>;
}

/// Wall-clock time, supplied from outside so the core never reads a clock itself
/// (there is none on `wasm32-unknown-unknown`) and tests can fix it.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}
