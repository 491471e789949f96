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
use crate::ids::UserId;
use crate::ports::{Consistency, StoreError, Users};
use crate::preconditions::IfMatch;
use crate::problem::Violation;

/// How many times a write is re-applied after losing a race before giving up.
const MAX_WRITE_ATTEMPTS: usize = 16;

/// Why a user operation failed.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("there is no user {0}")]
    NotFound(UserId),
    #[error("user {id} is at version {} now", current.0)]
    PreconditionFailed { id: UserId, current: Version },
    #[error("the request has invalid values")]
    Invalid(Vec<Violation>),
    #[error("user {actor} may not change user {id}; only its owner may")]
    Forbidden { actor: UserId, id: UserId },
    #[error("user {actor} may not like or unlike for user {liker}; only the liker may")]
    ForbiddenLike { actor: UserId, liker: UserId },
    #[error("user {0} is changing too often to apply this write; try again")]
    Contended(UserId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// User operations over any [`Users`] store.
///
/// Writes name the `actor`, the user whose session made the request: a user
/// may change only itself. (Accounts are created by sign-up, in the auth
/// service, since a user and its login are born together.)
pub struct UserService {
    users: Arc<dyn Users>,
}

impl UserService {
    pub fn new(users: Arc<dyn Users>) -> Self {
        Self { users }
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
        actor: UserId,
        id: UserId,
        body: Value,
        if_match: &IfMatch,
    ) -> Result<StoredUser, UserError> {
        authorize(actor, id)?;
        let profile = parse::parse_replacement(id, body).map_err(UserError::Invalid)?;
        self.update(id, if_match, |_| Ok(profile.clone())).await
    }

    /// Applies a JSON Merge Patch to a user (`PATCH`).
    pub async fn patch(
        &self,
        actor: UserId,
        id: UserId,
        patch: Value,
        if_match: &IfMatch,
    ) -> Result<StoredUser, UserError> {
        authorize(actor, id)?;
        self.update(id, if_match, |current| {
            parse::merge_patch(id, current, patch.clone())
        })
        .await
    }

    /// Deletes a user.
    pub async fn delete(
        &self,
        actor: UserId,
        id: UserId,
        if_match: &IfMatch,
    ) -> Result<(), UserError> {
        authorize(actor, id)?;
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let current = self.read_for_write(id, if_match).await?;
            match self.users.delete(&current).await {
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
                version: current.version.next(),
                profile,
                ..current
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

/// Only a user may change itself. Checked before any read, so the answer
/// does not reveal whether the other user exists.
fn authorize(actor: UserId, id: UserId) -> Result<(), UserError> {
    if actor == id {
        Ok(())
    } else {
        Err(UserError::Forbidden { actor, id })
    }
}
