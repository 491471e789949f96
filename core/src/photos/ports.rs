//! The ports photo jobs need: a blob store, a queue, a jobs table, and image
//! code (kept out of the core, which has no pixels in it).

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::ids::JobId;
use super::job::{Job, JobState, OutputRole};
use super::media::{BlobKey, MediaType};
use super::operations::{Dimensions, JobSpec};
use crate::ports::StoreError;

/// Where and how a client uploads an original: a `PUT` to `url` with exactly
/// these headers. The signature covers them, so the store refuses any other
/// content type or length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadSlot {
    pub url: String,
    pub method: String,
    /// `[name, value]` pairs.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<String>>))]
    pub headers: Vec<(String, String)>,
    pub expires_at_ms: u64,
}

/// A stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

/// An object store: S3 in the cloud, files locally.
#[async_trait]
pub trait Blobs: Send + Sync {
    /// A signed upload for `key`, valid `valid_for`, of exactly `bytes` bytes
    /// of `media`.
    async fn upload_slot(
        &self,
        key: &BlobKey,
        media: MediaType,
        bytes: u64,
        valid_for: Duration,
    ) -> Result<UploadSlot, StoreError>;

    /// Stores an object whole; a reader sees the old object or the new one,
    /// never a part.
    async fn put(
        &self,
        key: &BlobKey,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), StoreError>;

    async fn get(&self, key: &BlobKey) -> Result<Option<Blob>, StoreError>;

    /// At most the first `max` bytes (enough to read an image's header
    /// without fetching megabytes).
    async fn head_bytes(&self, key: &BlobKey, max: u64) -> Result<Option<Vec<u8>>, StoreError>;
}

/// The body of a queue message: only the job's id, so the message stays small
/// and the job's record stays the one source of truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobMessage {
    pub job_id: JobId,
}

impl JobMessage {
    pub fn to_body(self) -> String {
        serde_json::to_string(&self).expect("a job message serialises")
    }

    pub fn from_body(body: &str) -> Result<Self, String> {
        serde_json::from_str(body).map_err(|error| format!("not a job message: {error}"))
    }
}

/// One received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub body: String,
    /// The `traceparent` of the request that queued it, if it had one.
    pub trace: Option<String>,
    /// What deletes (acknowledges) this delivery.
    pub receipt: String,
    /// 1 on the first delivery.
    pub receive_count: u32,
}

/// How the queue redelivers. The same numbers configure SQS (Terraform) and
/// the embedded queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSettings {
    /// How long a received message stays hidden before it is delivered again.
    pub visibility_timeout: Duration,
    /// Deliveries after which a message moves to the dead-letter queue.
    pub max_receives: u32,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            visibility_timeout: Duration::from_secs(60),
            max_receives: 3,
        }
    }
}

/// A queue with at-least-once delivery and a dead-letter queue: SQS in the
/// cloud, the embedded queue locally.
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Queues `body`, with the `traceparent` of the hop that queues it as
    /// the message's metadata (an SQS message attribute).
    async fn send(&self, body: &str, trace: Option<&str>) -> Result<(), StoreError>;

    /// Up to `max` messages, waiting up to `wait` for the first one. Each is
    /// hidden for the visibility timeout; a message received more than
    /// `max_receives` times goes to the dead-letter queue instead.
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Delivery>, StoreError>;

    /// Acknowledges a delivery, removing its message for good.
    async fn delete(&self, receipt: &str) -> Result<(), StoreError>;

    /// How many messages wait to be received (not counting hidden ones).
    async fn backlog(&self) -> Result<u64, StoreError>;

    /// The bodies in the dead-letter queue, for inspection.
    async fn dead_letters(&self) -> Result<Vec<String>, StoreError>;

    /// How full the queue is, for the metrics. By default from the two
    /// calls above, with no age: SQS keeps its oldest message's age in
    /// CloudWatch (`ApproximateAgeOfOldestMessage`), not in the queue.
    async fn depth(&self) -> Result<QueueDepth, StoreError> {
        Ok(QueueDepth {
            waiting: self.backlog().await?,
            dead_letters: self.dead_letters().await?.len() as u64,
            oldest_waiting_ms: None,
        })
    }
}

/// How full a job queue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueDepth {
    /// Messages waiting to be received (not counting hidden ones).
    pub waiting: u64,
    /// Messages in the dead-letter queue.
    pub dead_letters: u64,
    /// How long the oldest waiting message has waited, in milliseconds,
    /// where the queue can tell (0 when none waits).
    pub oldest_waiting_ms: Option<u64>,
}

/// The jobs table, keyed by job id. Transitions are conditional, so that a
/// message delivered twice cannot make a job `done` twice.
#[async_trait]
pub trait Jobs: Send + Sync {
    /// [`StoreError::AlreadyExists`] if the id is taken.
    async fn insert(&self, job: &Job) -> Result<(), StoreError>;

    /// A strong read.
    async fn get(&self, id: JobId) -> Result<Option<Job>, StoreError>;

    /// Marks the job running and counts an attempt, unless it is final.
    /// Returns the job as stored afterwards, `None` if there is none.
    async fn start(
        &self,
        id: JobId,
        now_ms: u64,
        lease_until_ms: u64,
        final_attempt: bool,
    ) -> Result<Option<Job>, StoreError>;

    /// Moves the job to `outcome` (done or failed) unless it is already
    /// final. `true` when this call made the transition.
    async fn finish(&self, id: JobId, outcome: &JobState, now_ms: u64) -> Result<bool, StoreError>;
}

/// Why an image could not be processed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// The input is at fault (corrupt, not an image, too large once decoded):
    /// trying again cannot help. The text is meant for people.
    #[error("{0}")]
    Rejected(String),
    /// Something else failed (memory, a bug); another attempt may succeed.
    #[error("{0}")]
    Failed(String),
}

/// Reads an image's type and oriented size from its first bytes.
pub trait ImageInspector: Send + Sync {
    fn inspect(&self, head: &[u8]) -> Result<(MediaType, Dimensions), ImageError>;
}

/// One encoded image a job produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessedImage {
    pub role: OutputRole,
    pub media: MediaType,
    pub dimensions: Dimensions,
    pub bytes: Vec<u8>,
}

/// Runs a job's operations. CPU-bound: implementations move the work off the
/// async threads.
#[async_trait]
pub trait ImageProcessor: Send + Sync {
    async fn process(
        &self,
        original: Vec<u8>,
        spec: &JobSpec,
    ) -> Result<Vec<ProcessedImage>, ImageError>;
}
