//! Image operations for photo jobs, shared by the processing Lambda and the
//! local stack's workers: the core's [`ImageInspector`] and
//! [`ImageProcessor`] ports on the `image` and `fast_image_resize` crates.
//!
//! Originals come from strangers, so decoding is bounded before any pixel is
//! allocated: the header's dimensions are checked against a pixel budget (a
//! 100-byte PNG may claim to be 100,000 pixels square), the decoder gets an
//! allocation limit, and only JPEG, PNG and WebP decoders are compiled in.
//! Each image is turned upright from its EXIF orientation first, so sizes and
//! crops mean what the user sees.

mod decode;
mod encode;
mod pipeline;

use std::sync::Arc;

use async_trait::async_trait;
use millions_core::photos::{
    Dimensions, ImageError, ImageInspector, ImageProcessor, JobRunner, JobSpec, MediaType,
    PhotoPorts, ProcessedImage, QueueSettings,
};
use millions_core::Clock;

pub use decode::{decode, DecodeLimits};
pub use pipeline::run_pipeline;

/// The image code behind both ports.
#[derive(Debug, Clone, Default)]
pub struct ImageTools {
    limits: DecodeLimits,
}

impl ImageTools {
    pub fn new(limits: DecodeLimits) -> Self {
        Self { limits }
    }
}

/// The job runner every worker uses (the Lambda and the local pool): the
/// deployment's jobs and blobs, these image tools, and the queue's settings.
pub fn job_runner(photos: &PhotoPorts, clock: Arc<dyn Clock>, queue: QueueSettings) -> JobRunner {
    JobRunner::new(
        Arc::clone(&photos.jobs),
        Arc::clone(&photos.blobs),
        Arc::new(ImageTools::default()),
        clock,
        queue,
    )
}

impl ImageInspector for ImageTools {
    fn inspect(&self, head: &[u8]) -> Result<(MediaType, Dimensions), ImageError> {
        decode::inspect(head, &self.limits)
    }
}

#[async_trait]
impl ImageProcessor for ImageTools {
    async fn process(
        &self,
        original: Vec<u8>,
        spec: &JobSpec,
    ) -> Result<Vec<ProcessedImage>, ImageError> {
        let spec = Arc::new(spec.clone());
        let limits = self.limits.clone();
        // Decoding and resampling take tens to hundreds of milliseconds of
        // CPU: off the async threads, so the runtime keeps serving.
        tokio::task::spawn_blocking(move || run_pipeline(&original, &spec, &limits))
            .await
            .map_err(|error| ImageError::Failed(format!("the image task failed: {error}")))?
    }
}
