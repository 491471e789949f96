//! Writing outputs. Encoders here are deterministic (the same pixels give the
//! same bytes), which is what lets outputs be stored under their hash.
//!
//! JPEG goes through `jpeg-encoder` (AVX2 colour conversion and DCT), about
//! three times faster than the `image` crate's own encoder.

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
        OutputFormat::Jpeg => return encode_jpeg(image, quality),
        OutputFormat::Png => image.write_with_encoder(PngEncoder::new(&mut bytes)),
        OutputFormat::Webp => image.write_with_encoder(WebPEncoder::new_lossless(&mut bytes)),
    };
    result.map_err(|error| ImageError::Failed(format!("encoding the output failed: {error}")))?;
    Ok(bytes)
}

fn encode_jpeg(image: &DynamicImage, quality: u8) -> Result<Vec<u8>, ImageError> {
    let (color, raw) = match image {
        // JPEG has no alpha channel; the encoder drops it.
        DynamicImage::ImageRgba8(rgba) => (jpeg_encoder::ColorType::Rgba, rgba.as_raw()),
        DynamicImage::ImageRgb8(rgb) => (jpeg_encoder::ColorType::Rgb, rgb.as_raw()),
        _ => return Err(ImageError::Failed("unsupported pixel layout".into())),
    };
    let (width, height) = match (u16::try_from(image.width()), u16::try_from(image.height())) {
        (Ok(width), Ok(height)) => (width, height),
        _ => {
            return Err(ImageError::Failed(
                "a JPEG is at most 65,535 pixels a side".into(),
            ))
        }
    };
    let mut bytes = Vec::new();
    jpeg_encoder::Encoder::new(&mut bytes, quality)
        .encode(raw, width, height, color)
        .map_err(|error| ImageError::Failed(format!("encoding the output failed: {error}")))?;
    Ok(bytes)
}
