//! The web tier's side of photos: hand out upload slots, accept jobs, report
//! them. Nothing here waits for image processing.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::ids::{JobId, PhotoId};
use super::job::{Job, JobState};
use super::media::{BlobKey, MediaType, MAX_UPLOAD_BYTES};
use super::operations::{parse_job_spec, Dimensions};
use super::ports::{
    Blob, Blobs, ImageError, ImageInspector, JobMessage, JobQueue, Jobs, UploadSlot,
};
use crate::auth::Randomness;
use crate::ids::UserId;
use crate::ports::{Clock, StoreError};
use crate::problem::Violation;
use crate::trace::TraceParent;

/// How long an upload slot stays valid.
pub const UPLOAD_VALIDITY: Duration = Duration::from_secs(15 * 60);
/// How much of an original is read to learn its size: headers, EXIF
/// included, sit at the start of every accepted format.
const HEADER_BYTES: u64 = 256 * 1024;

/// What photo services need.
#[derive(Clone)]
pub struct PhotoPorts {
    pub blobs: Arc<dyn Blobs>,
    pub jobs: Arc<dyn Jobs>,
    pub queue: Arc<dyn JobQueue>,
    pub inspector: Arc<dyn ImageInspector>,
}

/// Why a photo request failed.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("the request is not valid")]
    Invalid(Vec<Violation>),
    #[error("no photo with this id has been uploaded")]
    PhotoNotFound,
    #[error("the photo cannot be read as an image: {0}")]
    Unreadable(String),
    #[error("no job with this id")]
    JobNotFound,
    #[error("no such output")]
    OutputNotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The answer to `POST /photos`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUpload {
    pub photo: PhotoId,
    pub slot: UploadSlot,
}

/// The answer to `POST /photos/{id}/jobs`.
#[derive(Debug, Clone, PartialEq)]
pub struct SubmittedJob {
    pub job: Job,
    pub result: Dimensions,
}

pub struct PhotoService {
    ports: PhotoPorts,
    random: Arc<dyn Randomness>,
    clock: Arc<dyn Clock>,
}

impl PhotoService {
    pub fn new(ports: PhotoPorts, random: Arc<dyn Randomness>, clock: Arc<dyn Clock>) -> Self {
        Self {
            ports,
            random,
            clock,
        }
    }

    /// A slot to upload one original of the declared type and size.
    pub async fn new_upload(&self, owner: UserId, body: Value) -> Result<NewUpload, PhotoError> {
        let (media, bytes) = parse_upload(&body).map_err(PhotoError::Invalid)?;
        let photo = PhotoId::from_random(self.random.id128());
        let key = BlobKey::original(owner, photo);
        let slot = self
            .ports
            .blobs
            .upload_slot(&key, media, bytes, UPLOAD_VALIDITY)
            .await?;
        Ok(NewUpload { photo, slot })
    }

    /// Validates a job on one of `owner`'s photos, records it and queues it,
    /// with `trace` (the submitting request's hop) on the message.
    pub async fn submit(
        &self,
        owner: UserId,
        photo: PhotoId,
        body: Value,
        trace: Option<&TraceParent>,
    ) -> Result<SubmittedJob, PhotoError> {
        let key = BlobKey::original(owner, photo);
        let head = self
            .ports
            .blobs
            .head_bytes(&key, HEADER_BYTES)
            .await?
            .ok_or(PhotoError::PhotoNotFound)?;
        let (_, original) = self
            .ports
            .inspector
            .inspect(&head)
            .map_err(|error| match error {
                ImageError::Rejected(reason) | ImageError::Failed(reason) => {
                    PhotoError::Unreadable(reason)
                }
            })?;
        let spec = parse_job_spec(body, original).map_err(PhotoError::Invalid)?;
        let now = self.clock.now_ms();
        let job = Job::queued(
            JobId::from_random(self.random.id128()),
            owner,
            photo,
            original,
            spec,
            now,
        );
        self.ports.jobs.insert(&job).await?;
        let message = JobMessage { job_id: job.id }.to_body();
        let traceparent = trace.map(ToString::to_string);
        if let Err(error) = self
            .ports
            .queue
            .send(&message, traceparent.as_deref())
            .await
        {
            // Nothing will pick the job up: say so on the record rather than
            // leave it queued forever.
            let failed = JobState::Failed {
                reason: "the job could not be queued".into(),
            };
            let _ = self.ports.jobs.finish(job.id, &failed, now).await;
            return Err(error.into());
        }
        let trace_id = trace.map(TraceParent::trace_id);
        tracing::info!(job = %job.id, trace_id = trace_id.as_deref().unwrap_or_default(), "a photo job was queued");
        let result = job.spec.result_dimensions(original);
        Ok(SubmittedJob { job, result })
    }

    /// One of `actor`'s jobs. Another user's job is "not found", so ids
    /// cannot be probed.
    pub async fn job(&self, actor: UserId, id: JobId) -> Result<Job, PhotoError> {
        match self.ports.jobs.get(id).await? {
            Some(job) if job.owner == actor => Ok(job),
            _ => Err(PhotoError::JobNotFound),
        }
    }

    /// A processed image. Outputs are public: their keys are the hashes of
    /// their bytes, so knowing a key means having been given it.
    pub async fn output(&self, key: &str) -> Result<(BlobKey, Blob), PhotoError> {
        let key = BlobKey::parse(key)
            .filter(|key| key.media_type().is_some())
            .ok_or(PhotoError::OutputNotFound)?;
        let blob = self
            .ports
            .blobs
            .get(&key)
            .await?
            .ok_or(PhotoError::OutputNotFound)?;
        Ok((key, blob))
    }

    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }
}

/// The body of `POST /photos`: `{"contentType": "image/jpeg", "bytes": 123456}`.
fn parse_upload(body: &Value) -> Result<(MediaType, u64), Vec<Violation>> {
    let mut violations = Vec::new();
    let Some(fields) = body.as_object() else {
        return Err(vec![Violation::new(
            "",
            "an upload request is a JSON object",
        )]);
    };
    for key in fields.keys() {
        if key != "contentType" && key != "bytes" {
            violations.push(Violation::new(
                format!("/{key}"),
                "unknown field; send `contentType` and `bytes`",
            ));
        }
    }
    let media = fields
        .get("contentType")
        .and_then(Value::as_str)
        .and_then(MediaType::from_content_type);
    if media.is_none() {
        violations.push(Violation::new(
            "/contentType",
            "the content type is image/jpeg, image/png or image/webp",
        ));
    }
    let bytes = fields
        .get("bytes")
        .and_then(Value::as_u64)
        .filter(|bytes| (1..=MAX_UPLOAD_BYTES).contains(bytes));
    if bytes.is_none() {
        violations.push(Violation::new(
            "/bytes",
            format!("`bytes` is the file's exact size, from 1 to {MAX_UPLOAD_BYTES}"),
        ));
    }
    match (media, bytes) {
        (Some(media), Some(bytes)) if violations.is_empty() => Ok((media, bytes)),
        _ => Err(violations),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_upload_is_from_one_byte_to_the_limit() {
        for size in [1, MAX_UPLOAD_BYTES] {
            let request = json!({"contentType": "image/jpeg", "bytes": size});
            assert_eq!(parse_upload(&request).unwrap().1, size);
        }
        for size in [0, MAX_UPLOAD_BYTES + 1] {
            let request = json!({"contentType": "image/jpeg", "bytes": size});
            let violations = parse_upload(&request).unwrap_err();
            assert_eq!(violations.len(), 1);
            assert_eq!(violations[0].pointer, "/bytes", "{size} bytes");
        }
    }
}
