//! Writing outputs. Encoders here are deterministic (the same pixels give the
//! same bytes), which is what lets outputs be stored under their hash.

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::DynamicImage;
use millions_core::photos::{ImageError, OutputFormat};

pub fn encode(
    image: &DynamicImage,
    format: OutputFormat,
    quality: u8,
) -> Result<Vec<u8>, ImageError> {
    let mut bytes = Vec::new();
    let result = match format {
        // JPEG has no alpha channel.
        OutputFormat::Jpeg => match image {
            DynamicImage::ImageRgba8(_) => image
                .to_rgb8()
                .write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, quality)),
            _ => image.write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, quality)),
        },
        OutputFormat::Png => image.write_with_encoder(PngEncoder::new(&mut bytes)),
        OutputFormat::Webp => image.write_with_encoder(WebPEncoder::new_lossless(&mut bytes)),
    };
    result.map_err(|error| ImageError::Failed(format!("encoding the output failed: {error}")))?;
    Ok(bytes)
}
