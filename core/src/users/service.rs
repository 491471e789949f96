//! The user operations behind the HTTP API, written once against the
//! [`Users`] port.
//!
//! Updates are read-modify-write cycles closed by a conditional write. When the
//! client named the version it read (`If-Match`), a concurrent change fails the
//! request with 412 so the client can look again. When it did not, the change
//! is re-applied to the newer version, so no update is ever lost either way.

use std::sync::Arc;

use serde_json::Value;

use super::model::{StoredUser, UserProfile, Version};
use super::parse;
use crate::ids::{IdGenerator, UserId};
use crate::ports::{Clock, Consistency, StoreError, Users};
use crate::preconditions::IfMatch;
use crate::problem::Violation;

/// How many times a write is re-applied after losing a race before giving up.
const MAX_WRITE_ATTEMPTS: usize = 16;
/// How many fresh ids `create` tries when an id is already taken.
const MAX_ID_ATTEMPTS: usize = 8;

/// Why a user operation failed.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("there is no user {0}")]
    NotFound(UserId),
    #[error("user {id} is at version {} now", current.0)]
    PreconditionFailed { id: UserId, current: Version },
    #[error("the request has invalid values")]
    Invalid(Vec<Violation>),
    #[error("user {0} is changing too often to apply this write; try again")]
    Contended(UserId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// User operations over any [`Users`] store.
pub struct UserService {
    users: Arc<dyn Users>,
    ids: IdGenerator,
    clock: Arc<dyn Clock>,
}

impl UserService {
    pub fn new(users: Arc<dyn Users>, ids: IdGenerator, clock: Arc<dyn Clock>) -> Self {
        Self { users, ids, clock }
    }

    /// Creates a user from a `POST /users` body.
    pub async fn create(&self, body: Value) -> Result<StoredUser, UserError> {
        let profile = parse::parse_new_user(body).map_err(UserError::Invalid)?;
        for _ in 0..MAX_ID_ATTEMPTS {
            let Ok(id) = self.ids.next_id(self.clock.now_ms()) else {
                // This instance minted 128 ids in one millisecond; the next attempt
                // reads the clock again.
                continue;
            };
            let user = StoredUser {
                id,
                version: Version::FIRST,
                profile: profile.clone(),
            };
            match self.users.insert(&user).await {
                Ok(()) => return Ok(user),
                // Another instance drew the same node number and sequence.
                Err(StoreError::AlreadyExists) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Err(UserError::Store(StoreError::Unavailable(
            format!("no free id after {MAX_ID_ATTEMPTS} attempts").into(),
        )))
    }

    /// Reads a user for display. Eventually consistent: public profile reads
    /// are the hot path and may lag a replica by a moment.
    pub async fn get(&self, id: UserId) -> Result<StoredUser, UserError> {
        self.users
            .get(id, Consistency::Eventual)
            .await?
            .ok_or(UserError::NotFound(id))
    }

    /// Replaces a user's whole profile (`PUT`).
    pub async fn replace(
        &self,
        id: UserId,
        body: Value,
        if_match: &IfMatch,
    ) -> Result<StoredUser, UserError> {
        let profile = parse::parse_replacement(id, body).map_err(UserError::Invalid)?;
        self.update(id, if_match, |_| Ok(profile.clone())).await
    }

    /// Applies a JSON Merge Patch to a user (`PATCH`).
    pub async fn patch(
        &self,
        id: UserId,
        patch: Value,
        if_match: &IfMatch,
    ) -> Result<StoredUser, UserError> {
        self.update(id, if_match, |current| {
            parse::merge_patch(id, current, patch.clone())
        })
        .await
    }

    /// Deletes a user.
    pub async fn delete(&self, id: UserId, if_match: &IfMatch) -> Result<(), UserError> {
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let current = self.read_for_write(id, if_match).await?;
            match self.users.delete(id, current.version).await {
                Ok(()) => return Ok(()),
                Err(error) => self.retry_or_fail(id, if_match, error)?,
            }
        }
        Err(UserError::Contended(id))
    }

    async fn update(
        &self,
        id: UserId,
        if_match: &IfMatch,
        change: impl Fn(&UserProfile) -> Result<UserProfile, Vec<Violation>>,
    ) -> Result<StoredUser, UserError> {
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let current = self.read_for_write(id, if_match).await?;
            let profile = change(&current.profile).map_err(UserError::Invalid)?;
            if profile == current.profile {
                // Nothing changes, so nothing is written and the ETag stays valid.
                return Ok(current);
            }
            let next = StoredUser {
                id,
                version: current.version.next(),
                profile,
            };
            match self.users.replace(&next, current.version).await {
                Ok(()) => return Ok(next),
                Err(error) => self.retry_or_fail(id, if_match, error)?,
            }
        }
        Err(UserError::Contended(id))
    }

    /// Reads the current record strongly and checks the client's precondition.
    async fn read_for_write(
        &self,
        id: UserId,
        if_match: &IfMatch,
    ) -> Result<StoredUser, UserError> {
        let current = self
            .users
            .get(id, Consistency::Strong)
            .await?
            .ok_or(UserError::NotFound(id))?;
        if !if_match.allows(current.version) {
            return Err(UserError::PreconditionFailed {
                id,
                current: current.version,
            });
        }
        Ok(current)
    }

    /// Decides what a failed conditional write means: retry when the client
    /// did not pin a version, 412 when it did.
    fn retry_or_fail(
        &self,
        id: UserId,
        if_match: &IfMatch,
        error: StoreError,
    ) -> Result<(), UserError> {
        match error {
            StoreError::VersionMismatch { current } if if_match.names_a_version() => {
                Err(UserError::PreconditionFailed { id, current })
            }
            StoreError::VersionMismatch { .. } => Ok(()),
            StoreError::NotFound => Err(UserError::NotFound(id)),
            other => Err(other.into()),
        }
    }
}
