//! A job's record and the states it passes through.
//!
//! ```text
//! queued ──start──▶ running ──finish──▶ done | failed
//!                    │  ▲
//!                    └──┘ start again (a redelivered message)
//! ```
//!
//! `done` and `failed` are final: the store refuses any transition out of
//! them, which is what makes a redelivered message harmless.

use serde::{Deserialize, Serialize};

use super::ids::{JobId, PhotoId};
use super::media::BlobKey;
use super::operations::{Dimensions, JobSpec};
use crate::ids::UserId;

/// Where a job is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum JobState {
    Queued,
    /// A worker is on it. `lease_until_ms` is when its claim lapses (the
    /// queue's visibility timeout); `final_attempt` says no redelivery
    /// follows if it does.
    Running {
        lease_until_ms: u64,
        final_attempt: bool,
    },
    Done {
        outputs: Vec<JobOutput>,
    },
    Failed {
        reason: String,
    },
}

impl JobState {
    pub fn is_final(&self) -> bool {
        matches!(self, JobState::Done { .. } | JobState::Failed { .. })
    }
}

/// What an output is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OutputRole {
    /// The image after every operation.
    Result,
    /// Emitted by a `thumbnail` operation.
    Thumbnail,
}

/// One image a job produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobOutput {
    pub role: OutputRole,
    #[serde(with = "blob_key_text")]
    pub key: BlobKey,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
}

mod blob_key_text {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    use crate::photos::BlobKey;

    pub fn serialize<S: Serializer>(key: &BlobKey, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(key.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BlobKey, D::Error> {
        let text = String::deserialize(deserializer)?;
        BlobKey::parse(&text).ok_or_else(|| D::Error::custom(format!("not a blob key: {text}")))
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub owner: UserId,
    pub photo: PhotoId,
    pub original: Dimensions,
    pub spec: JobSpec,
    pub state: JobState,
    /// How many times a worker has started it.
    pub attempts: u32,
    pub created_at_ms: u64,
    pub updated_at_ms: u64,
}

/// What `GET /jobs/{id}` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl Job {
    /// A job just submitted: queued, never started, created at `now_ms`.
    pub fn queued(
        id: JobId,
        owner: UserId,
        photo: PhotoId,
        original: Dimensions,
        spec: JobSpec,
        now_ms: u64,
    ) -> Self {
        Self {
            id,
            owner,
            photo,
            original,
            spec,
            state: JobState::Queued,
            attempts: 0,
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
        }
    }

    /// The status a reader sees at `now_ms`, with the reason when failed.
    ///
    /// A worker that dies during the final attempt cannot record anything,
    /// and its message goes to the dead-letter queue; once its lease has
    /// lapsed, the job reads as failed rather than running forever.
    pub fn status(&self, now_ms: u64) -> (JobStatus, Option<String>) {
        match &self.state {
            JobState::Queued => (JobStatus::Queued, None),
            JobState::Running {
                lease_until_ms,
                final_attempt: true,
            } if now_ms > *lease_until_ms => (
                JobStatus::Failed,
                Some(format!(
                    "processing stopped during the last of {} attempts",
                    self.attempts
                )),
            ),
            JobState::Running { .. } => (JobStatus::Running, None),
            JobState::Done { .. } => (JobStatus::Done, None),
            JobState::Failed { reason } => (JobStatus::Failed, Some(reason.clone())),
        }
    }
}
