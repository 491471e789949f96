//! What a worker does with one delivered message, the same in the Lambda and
//! in the local pool.
//!
//! Every step may run twice (a redelivery, or two workers holding the same
//! message after a visibility timeout): starting counts an attempt, outputs
//! are written under the hash of their bytes (the same bytes land on the same
//! key), and only one `finish` moves the job out of `running`.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::ids::JobId;
use super::job::{Job, JobOutput, JobState};
use super::media::BlobKey;
use super::ports::{Blobs, ImageError, ImageProcessor, JobMessage, Jobs, QueueSettings};
use crate::ports::Clock;
use crate::trace::TraceParent;

/// What the queue should do with the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// Delete it: the job is final (now, or already before).
    Finished,
    /// Leave it, so it is delivered again (or, after the last allowed
    /// delivery, moved to the dead-letter queue). The text says why.
    Retry(String),
}

/// Processes delivered job messages.
pub struct JobRunner {
    jobs: Arc<dyn Jobs>,
    blobs: Arc<dyn Blobs>,
    processor: Arc<dyn ImageProcessor>,
    clock: Arc<dyn Clock>,
    queue: QueueSettings,
}

impl JobRunner {
    pub fn new(
        jobs: Arc<dyn Jobs>,
        blobs: Arc<dyn Blobs>,
        processor: Arc<dyn ImageProcessor>,
        clock: Arc<dyn Clock>,
        queue: QueueSettings,
    ) -> Self {
        Self {
            jobs,
            blobs,
            processor,
            clock,
            queue,
        }
    }

    /// Handles the `receive_count`th delivery of a message whose body is `body`.
    pub async fn run(&self, body: &str, receive_count: u32) -> RunOutcome {
        let message = match JobMessage::from_body(body) {
            Ok(message) => message,
            // Kept for the dead-letter queue, where someone can read it.
            Err(reason) => return RunOutcome::Retry(reason),
        };
        let id = message.job_id;
        let final_attempt = receive_count >= self.queue.max_receives;
        let now = self.clock.now_ms();
        let lease_until = now + self.queue.visibility_timeout.as_millis() as u64;
        let job = match self.jobs.start(id, now, lease_until, final_attempt).await {
            Ok(Some(job)) => job,
            Ok(None) => {
                tracing::warn!(job = %id, "a message names a job that does not exist; dropped");
                return RunOutcome::Finished;
            }
            Err(error) => return RunOutcome::Retry(format!("the jobs table failed: {error}")),
        };
        if job.state.is_final() {
            tracing::debug!(job = %id, "the job is already final; a duplicate delivery");
            return RunOutcome::Finished;
        }
        let original = match self
            .blobs
            .get(&BlobKey::original(job.owner, job.photo))
            .await
        {
            Ok(Some(blob)) => blob.bytes,
            Ok(None) => return self.fail(&job, "the original photo is gone".into()).await,
            Err(error) => {
                return self
                    .retry(
                        id,
                        final_attempt,
                        job.attempts,
                        format!("the blob store failed: {error}"),
                    )
                    .await
            }
        };
        let images = match self.processor.process(original, &job.spec).await {
            Ok(images) => images,
            Err(ImageError::Rejected(reason)) => return self.fail(&job, reason).await,
            Err(ImageError::Failed(reason)) => {
                return self.retry(id, final_attempt, job.attempts, reason).await
            }
        };
        let mut outputs = Vec::with_capacity(images.len());
        for image in images {
            let key = BlobKey::output(&hex(&Sha256::digest(&image.bytes)), image.media);
            let bytes = image.bytes.len() as u64;
            if let Err(error) = self
                .blobs
                .put(&key, image.bytes, image.media.content_type())
                .await
            {
                let reason = format!("storing an output failed: {error}");
                return self.retry(id, final_attempt, job.attempts, reason).await;
            }
            outputs.push(JobOutput {
                role: image.role,
                key,
                width: image.dimensions.width,
                height: image.dimensions.height,
                bytes,
            });
        }
        self.finish(&job, JobState::Done { outputs }).await
    }

    /// Records that the runtime stopped the `receive_count`th attempt (a
    /// timeout): on the final attempt the job fails with `reason`, otherwise
    /// the redelivery will try again.
    pub async fn abandon(&self, body: &str, receive_count: u32, reason: String) -> RunOutcome {
        match JobMessage::from_body(body) {
            Ok(message) => {
                let final_attempt = receive_count >= self.queue.max_receives;
                self.retry(message.job_id, final_attempt, receive_count, reason)
                    .await
            }
            Err(unreadable) => RunOutcome::Retry(unreadable),
        }
    }

    async fn retry(
        &self,
        id: JobId,
        final_attempt: bool,
        attempts: u32,
        reason: String,
    ) -> RunOutcome {
        tracing::warn!(job = %id, attempts, %reason, "a job attempt failed");
        if final_attempt {
            let failed = JobState::Failed {
                reason: format!("gave up after {attempts} attempts: {reason}"),
            };
            match self.jobs.finish(id, &failed, self.clock.now_ms()).await {
                // Its message goes to the dead-letter queue next.
                Ok(true) => {
                    metrics::counter!("photo_jobs_total", "outcome" => "gave_up").increment(1)
                }
                Ok(false) => {}
                Err(error) => tracing::error!(job = %id, %error, "could not record a failed job"),
            }
        }
        RunOutcome::Retry(reason)
    }

    async fn fail(&self, job: &Job, reason: String) -> RunOutcome {
        tracing::info!(job = %job.id, %reason, "a job failed");
        self.finish(job, JobState::Failed { reason }).await
    }

    async fn finish(&self, job: &Job, outcome: JobState) -> RunOutcome {
        let id = job.id;
        let label = match outcome {
            JobState::Failed { .. } => "failed",
            _ => "done",
        };
        let now = self.clock.now_ms();
        match self.jobs.finish(id, &outcome, now).await {
            Ok(true) => {
                metrics::counter!("photo_jobs_total", "outcome" => label).increment(1);
                // From the request that queued it to its end: waiting,
                // every attempt, and the retries between them.
                let seconds = now.saturating_sub(job.created_at_ms) as f64 / 1000.0;
                metrics::histogram!("photo_job_duration_seconds", "outcome" => label)
                    .record(seconds);
                tracing::info!(job = %id, outcome = label, "a photo job finished");
                RunOutcome::Finished
            }
            Ok(false) => {
                tracing::debug!(job = %id, "another delivery finished the job first");
                RunOutcome::Finished
            }
            Err(error) => RunOutcome::Retry(format!("recording the outcome failed: {error}")),
        }
    }
}

/// The span a delivery runs in: its trace id (from the message's
/// `traceparent`) is then on every line the job logs, as the request's is.
pub fn job_span(traceparent: Option<&str>) -> tracing::Span {
    let trace_id = traceparent
        .and_then(TraceParent::parse)
        .map(|trace| trace.trace_id());
    tracing::info_span!("job", trace_id = trace_id.as_deref().unwrap_or_default())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
