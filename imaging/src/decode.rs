//! Reading originals safely: format by magic bytes, size from the header,
//! limits before pixels, EXIF orientation applied.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use millions_core::photos::{Dimensions, ImageError, MediaType};

/// How large an original may be once decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Most pixels (width × height) an original may have.
    pub max_pixels: u64,
    /// Longest side an original may have.
    pub max_side: u32,
    /// Most bytes the decoder may allocate.
    pub max_alloc_bytes: u64,
}

impl Default for DecodeLimits {
    /// 50 megapixels (a full-frame camera's largest photos), 16,384 pixels a
    /// side, 512 MiB of decoder memory.
    fn default() -> Self {
        Self {
            max_pixels: 50_000_000,
            max_side: 16_384,
            max_alloc_bytes: 512 * 1024 * 1024,
        }
    }
}

/// A reader that knows the format and enforces the limits.
type LimitedReader<'a> = ImageReader<Cursor<&'a [u8]>>;

fn reader<'a>(
    bytes: &'a [u8],
    limits: &DecodeLimits,
) -> Result<(LimitedReader<'a>, MediaType), ImageError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|error| ImageError::Failed(format!("reading the image failed: {error}")))?;
    let media =
        match reader.format() {
            Some(ImageFormat::Jpeg) => MediaType::Jpeg,
            Some(ImageFormat::Png) => MediaType::Png,
            Some(ImageFormat::WebP) => MediaType::Webp,
            _ => return Err(ImageError::Rejected(
                "the file is not a JPEG, PNG or WebP image (its first bytes match none of them)"
                    .into(),
            )),
        };
    let mut decoder_limits = Limits::default();
    decoder_limits.max_image_width = Some(limits.max_side);
    decoder_limits.max_image_height = Some(limits.max_side);
    decoder_limits.max_alloc = Some(limits.max_alloc_bytes);
    reader.limits(decoder_limits);
    Ok((reader, media))
}

fn rejected(what: &str, error: image::ImageError) -> ImageError {
    match error {
        image::ImageError::Limits(limit) => {
            ImageError::Rejected(format!("the image is too large to process: {limit}"))
        }
        other => ImageError::Rejected(format!("{what}: {other}")),
    }
}

fn check_size(width: u32, height: u32, limits: &DecodeLimits) -> Result<(), ImageError> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels || width > limits.max_side || height > limits.max_side {
        return Err(ImageError::Rejected(format!(
            "the image is {width}x{height} pixels; the limit is {} pixels a side and {} megapixels",
            limits.max_side,
            limits.max_pixels / 1_000_000
        )));
    }
    if pixels == 0 {
        return Err(ImageError::Rejected("the image has no pixels".into()));
    }
    Ok(())
}

/// The upright dimensions after `orientation`.
fn upright(width: u32, height: u32, orientation: image::metadata::Orientation) -> Dimensions {
    use image::metadata::Orientation::*;
    match orientation {
        Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH => Dimensions::new(height, width),
        NoTransforms | Rotate180 | FlipHorizontal | FlipVertical => Dimensions::new(width, height),
    }
}

/// The type and upright size of an image, from its first bytes.
pub fn inspect(head: &[u8], limits: &DecodeLimits) -> Result<(MediaType, Dimensions), ImageError> {
    let (reader, media) = reader(head, limits)?;
    let mut decoder = reader
        .into_decoder()
        .map_err(|error| rejected("the image header is unreadable", error))?;
    let (width, height) = decoder.dimensions();
    check_size(width, height, limits)?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    Ok((media, upright(width, height, orientation)))
}

/// Whether a JPEG's entropy-coded data reaches its end-of-image marker.
///
/// The JPEG decoder is lenient: a file cut short decodes, with the missing
/// part grey. An upload cut off in transit must fail instead, so the marker
/// segments are walked to the first scan and the rest searched for EOI
/// (inside scan data a 0xFF byte is always followed by 0x00 or a restart
/// marker, so 0xFF 0xD9 there is the real end).
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut at = 2; // after SOI
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return false;
        }
        let marker = bytes[at + 1];
        if marker == 0xFF {
            at += 1; // fill byte
            continue;
        }
        let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        if marker == 0xDA {
            let scan = &bytes[(at + 2 + length).min(bytes.len())..];
            return scan.windows(2).any(|pair| pair == [0xFF, 0xD9]);
        }
        at += 2 + length;
    }
    false
}

/// Decodes a whole original, upright, as 8-bit RGB (or RGBA when it has
/// transparency), the one layout every later step works on.
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<DynamicImage, ImageError> {
    let (reader, media) = reader(bytes, limits)?;
    if media == MediaType::Jpeg && !jpeg_is_complete(bytes) {
        return Err(ImageError::Rejected(
            "the image data is corrupt or truncated: the JPEG ends before its last scan does"
                .into(),
        ));
    }
    let mut decoder = reader
        .into_decoder()
        .map_err(|error| rejected("the image header is unreadable", error))?;
    let (width, height) = decoder.dimensions();
    check_size(width, height, limits)?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder)
        .map_err(|error| rejected("the image data is corrupt or truncated", error))?;
    image.apply_orientation(orientation);
    Ok(if image.color().has_alpha() {
        DynamicImage::ImageRgba8(image.into_rgba8())
    } else {
        DynamicImage::ImageRgb8(image.into_rgb8())
    })
}
