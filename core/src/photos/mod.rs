//! Photos and the jobs that process them: the chapter's message-queue example.
//!
//! The web tier never touches pixels. A client uploads an original straight
//! to the blob store through a signed URL, then asks for a job; the web tier
//! validates the job, records it as `queued` and puts one message on the
//! queue. Workers (an SQS-triggered Lambda, or the local stack's pool) take
//! messages, process the image and record the outcome. Because a queue
//! delivers at least once, every step is idempotent: outputs are stored under
//! the hash of their bytes and a job becomes `done` through one conditional
//! transition, however often its message arrives.

mod ids;
mod job;
mod media;
mod operations;
mod ports;
mod runner;
mod service;

pub use ids::{InvalidPhotoId, JobId, PhotoId};
pub use job::{Job, JobOutput, JobState, JobStatus, OutputRole};
pub use media::{BlobKey, MediaType, MAX_UPLOAD_BYTES};
pub use operations::{
    parse_job_spec, Dimensions, Fit, JobSpec, Operation, OutputFormat, MAX_OPERATIONS,
    MAX_OUTPUT_SIDE,
};
pub use ports::{
    Blob, Blobs, Delivery, ImageError, ImageInspector, ImageProcessor, JobMessage, JobQueue, Jobs,
    ProcessedImage, QueueDepth, QueueSettings, UploadSlot,
};
pub use runner::{job_span, JobRunner, RunOutcome};
pub use service::{NewUpload, PhotoError, PhotoPorts, PhotoService, SubmittedJob};
