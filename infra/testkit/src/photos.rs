//! Photo fixtures: a real JPEG of any size and a queued job, so the
//! conformance suite, the Lambda test and the end-to-end tests start from
//! the same kind of input.

use millions_core::photos::{parse_job_spec, Dimensions, Job, JobId, PhotoId};
use millions_core::UserId;

/// A baseline JPEG with a gradient and some texture (so resizing and
/// sharpening have something to work on), `width` × `height` pixels.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([
            (x * 255 / width.max(1)) as u8,
            (y * 255 / height.max(1)) as u8,
            ((x ^ y) % 64) as u8 + 96,
        ])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, image::ImageFormat::Jpeg)
        .expect("a JPEG encodes into memory");
    bytes.into_inner()
}

/// When fixture jobs were created (a fixed instant: tests compare it).
pub const CREATED_AT_MS: u64 = 1_795_737_600_000;

/// A queued job on `photo` (an `original`-sized image) running `operations`
/// (the request body's `operations` list).
pub fn queued_job(
    id: JobId,
    owner: UserId,
    photo: PhotoId,
    original: Dimensions,
    operations: serde_json::Value,
) -> Job {
    let spec = parse_job_spec(serde_json::json!({ "operations": operations }), original)
        .expect("the fixture's operations are valid");
    Job::queued(id, owner, photo, original, spec, CREATED_AT_MS)
}
