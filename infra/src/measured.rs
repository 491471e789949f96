//! The data tier's metrics, recorded once for both tiers: the tables on the
//! request path (users, logins, sessions, likes) wrapped so that every call
//! records its latency and its outcome, whichever adapter (DynamoDB or the
//! embedded store) answers it.
//!
//! One histogram, `store_operation_duration_seconds`, labelled by table,
//! operation and outcome: its `_count` is the calls, and the calls with
//! `outcome="condition_failed"` are the conditional writes that lost (a
//! version that moved, a key already taken: DynamoDB's
//! `ConditionalCheckFailedException`), the ones with `unavailable` the
//! store's failures. A decorator over the ports rather than a hook in each
//! adapter, so the two tiers cannot count differently.
//!
//! Each table keeps its histograms' handles, one per operation and outcome,
//! found in the registry on their first call: a labelled `histogram!` looks
//! its key up on every call (about 1,300 instructions, 2 % of a profile
//! read's, counted with callgrind), a kept handle only records. Handles are
//! taken on first use, not when the ports are built, so they belong to the
//! recorder installed by then; the binaries install theirs before they open
//! their stores (`docs/benchmarks.md` has what recording costs a read).

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use async_trait::async_trait;
use metrics::Histogram;
use millions_core::auth::{AccountError, Accounts, Login, Session, Sessions, TokenHash};
use millions_core::{
    Consistency, Email, Likes, Ports, StoreError, StoredUser, UserId, Users, Version,
};

/// `ports` with their tables measured.
pub fn measured(ports: Ports) -> Ports {
    Ports {
        users: Arc::new(Measured::new(
            ports.users,
            "users",
            &["insert", "get", "replace", "delete"],
        )),
        accounts: Arc::new(Measured::new(ports.accounts, "logins", &["create", "get"])),
        sessions: Arc::new(Measured::new(
            ports.sessions,
            "sessions",
            &["insert", "get", "extend", "delete"],
        )),
        likes: Arc::new(Measured::new(
            ports.likes,
            "likes",
            &["like", "unlike", "get", "count"],
        )),
        ..ports
    }
}

/// A port whose calls are recorded.
struct Measured<P: ?Sized> {
    port: Arc<P>,
    table: &'static str,
    operations: &'static [&'static str],
    /// Per operation (in `operations`' order), per [`Outcome`].
    handles: Box<[[OnceLock<Histogram>; OUTCOMES]]>,
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    /// Only conditional writes fail these ways: the key was taken, the
    /// version moved, or the record went away.
    ConditionFailed,
    Unavailable,
}
const OUTCOMES: usize = 3;

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::ConditionFailed => "condition_failed",
            Outcome::Unavailable => "unavailable",
        }
    }
}

/// How a call's result ended.
trait Ended {
    fn outcome(&self) -> Outcome;
}

fn failure(error: &StoreError) -> Outcome {
    match error {
        StoreError::AlreadyExists | StoreError::VersionMismatch { .. } | StoreError::NotFound => {
            Outcome::ConditionFailed
        }
        StoreError::Unavailable(_) => Outcome::Unavailable,
    }
}

impl<T> Ended for Result<T, StoreError> {
    fn outcome(&self) -> Outcome {
        self.as_ref().map_or_else(failure, |_| Outcome::Ok)
    }
}

impl<T> Ended for Result<T, AccountError> {
    fn outcome(&self) -> Outcome {
        match self {
            Ok(_) => Outcome::Ok,
            Err(AccountError::EmailTaken) | Err(AccountError::IdTaken) => Outcome::ConditionFailed,
            Err(AccountError::Store(error)) => failure(error),
        }
    }
}

impl<P: ?Sized> Measured<P> {
    fn new(port: Arc<P>, table: &'static str, operations: &'static [&'static str]) -> Self {
        Self {
            port,
            table,
            operations,
            handles: operations.iter().map(|_| Default::default()).collect(),
        }
    }

    /// Runs `call` and records it under `operation`, one of `operations`.
    async fn record<R: Ended>(&self, operation: &'static str, call: impl Future<Output = R>) -> R {
        let started = Instant::now();
        let result = call.await;
        let outcome = result.outcome();
        let index = self
            .operations
            .iter()
            .position(|name| *name == operation)
            .expect("every recorded operation is listed for its table");
        self.handles[index][outcome as usize]
            .get_or_init(|| {
                metrics::histogram!(
                    "store_operation_duration_seconds",
                    "table" => self.table,
                    "operation" => operation,
                    "outcome" => outcome.label()
                )
            })
            .record(started.elapsed().as_secs_f64());
        result
    }
}

#[async_trait]
impl Users for Measured<dyn Users> {
    async fn insert(&self, user: &StoredUser) -> Result<(), StoreError> {
        self.record("insert", self.port.insert(user)).await
    }

    async fn get(
        &self,
        id: UserId,
        consistency: Consistency,
    ) -> Result<Option<StoredUser>, StoreError> {
        self.record("get", self.port.get(id, consistency)).await
    }

    async fn replace(&self, user: &StoredUser, expected: Version) -> Result<(), StoreError> {
        self.record("replace", self.port.replace(user, expected))
            .await
    }

    async fn delete(&self, current: &StoredUser) -> Result<(), StoreError> {
        self.record("delete", self.port.delete(current)).await
    }
}

#[async_trait]
impl Accounts for Measured<dyn Accounts> {
    async fn create(&self, user: &StoredUser, login: &Login) -> Result<(), AccountError> {
        self.record("create", self.port.create(user, login)).await
    }

    async fn login(&self, email: &Email) -> Result<Option<Login>, StoreError> {
        self.record("get", self.port.login(email)).await
    }
}

#[async_trait]
impl Sessions for Measured<dyn Sessions> {
    async fn insert(&self, session: &Session) -> Result<(), StoreError> {
        self.record("insert", self.port.insert(session)).await
    }

    async fn get(&self, hash: &TokenHash) -> Result<Option<Session>, StoreError> {
        self.record("get", self.port.get(hash)).await
    }

    async fn extend(&self, hash: &TokenHash, expires_at: u64) -> Result<(), StoreError> {
        self.record("extend", self.port.extend(hash, expires_at))
            .await
    }

    async fn delete(&self, hash: &TokenHash) -> Result<(), StoreError> {
        self.record("delete", self.port.delete(hash)).await
    }
}

#[async_trait]
impl Likes for Measured<dyn Likes> {
    async fn like(&self, liked: UserId, liker: UserId, at_ms: u64) -> Result<bool, StoreError> {
        self.record("like", self.port.like(liked, liker, at_ms))
            .await
    }

    async fn unlike(&self, liked: UserId, liker: UserId) -> Result<bool, StoreError> {
        self.record("unlike", self.port.unlike(liked, liker)).await
    }

    async fn likes(&self, liked: UserId, liker: UserId) -> Result<bool, StoreError> {
        self.record("get", self.port.likes(liked, liker)).await
    }

    async fn count(&self, liked: UserId) -> Result<u64, StoreError> {
        self.record("count", self.port.count(liked)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_name_conditional_failures_apart_from_unavailability() {
        let cases: [(Result<(), StoreError>, &str); 5] = [
            (Ok(()), "ok"),
            (Err(StoreError::AlreadyExists), "condition_failed"),
            (
                Err(StoreError::VersionMismatch {
                    current: Version::FIRST,
                }),
                "condition_failed",
            ),
            (Err(StoreError::NotFound), "condition_failed"),
            (
                Err(StoreError::unavailable(std::io::Error::other("down"))),
                "unavailable",
            ),
        ];
        for (result, label) in cases {
            assert_eq!(result.outcome().label(), label, "{result:?}");
        }
        let taken: Result<(), AccountError> = Err(AccountError::EmailTaken);
        assert_eq!(taken.outcome().label(), "condition_failed");
    }
}
