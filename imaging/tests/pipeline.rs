//! The image pipeline on real encoded images: sizes after each operation,
//! EXIF orientation, and the inputs a stranger might send.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, RgbImage};
use millions_core::photos::{
    parse_job_spec, Dimensions, ImageError, ImageInspector, ImageProcessor, JobSpec, MediaType,
    OutputRole,
};
use millions_imaging::{DecodeLimits, ImageTools};
use serde_json::json;

/// A photo-like image: gradients, so that blurs and encoders have work to do.
fn photo(width: u32, height: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 251) as u8])
    }))
}

fn encoded(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

fn spec(body: serde_json::Value, original: Dimensions) -> JobSpec {
    parse_job_spec(body, original).expect("a valid job")
}

fn rejected(result: Result<impl std::fmt::Debug, ImageError>) -> String {
    match result {
        Err(ImageError::Rejected(reason)) => reason,
        Err(other) => panic!("expected a rejection, got {other:?}"),
        Ok(_) => panic!("expected a rejection, got a result"),
    }
}

#[tokio::test]
async fn every_operation_produces_the_validated_sizes() {
    let tools = ImageTools::default();
    let original = encoded(&photo(1200, 900), ImageFormat::Jpeg);
    let (media, size) = tools.inspect(&original).unwrap();
    assert_eq!((media, size), (MediaType::Jpeg, Dimensions::new(1200, 900)));
    let spec = spec(
        json!({"operations": [
            {"op": "crop", "x": 100, "y": 50, "width": 1000, "height": 800},
            {"op": "thumbnail", "size": 100},
            {"op": "resize", "width": 500, "height": 500, "fit": "cover"},
            {"op": "sharpen", "sigma": 1.0, "amount": 1.0},
            {"op": "blur", "sigma": 2.0},
            {"op": "resize", "width": 300},
        ], "format": "png"}),
        size,
    );
    let outputs = tools.process(original, &spec).await.unwrap();
    let summary: Vec<_> = outputs
        .iter()
        .map(|image| (image.role, image.media, image.dimensions))
        .collect();
    assert_eq!(
        summary,
        [
            (
                OutputRole::Thumbnail,
                MediaType::Png,
                Dimensions::new(100, 80)
            ),
            (
                OutputRole::Result,
                MediaType::Png,
                spec.result_dimensions(size)
            ),
        ]
    );
    for output in outputs {
        let decoded = image::load_from_memory(&output.bytes).unwrap();
        assert_eq!(
            Dimensions::new(decoded.width(), decoded.height()),
            output.dimensions
        );
    }
}

#[tokio::test]
async fn processing_twice_gives_the_same_bytes() {
    let tools = ImageTools::default();
    let original = encoded(&photo(400, 300), ImageFormat::Png);
    for format in ["jpeg", "png", "webp"] {
        let spec = spec(
            json!({"operations": [{"op": "sharpen", "sigma": 1.5, "amount": 0.7}], "format": format}),
            Dimensions::new(400, 300),
        );
        let first = tools.process(original.clone(), &spec).await.unwrap();
        let second = tools.process(original.clone(), &spec).await.unwrap();
        assert_eq!(first, second, "{format}");
    }
}

/// A JPEG whose EXIF says "rotate 90° clockwise to display".
fn rotated_jpeg(width: u32, height: u32) -> Vec<u8> {
    let jpeg = encoded(&photo(width, height), ImageFormat::Jpeg);
    let tiff: &[u8] = &[
        b'M', b'M', 0, 42, 0, 0, 0, 8, // big-endian TIFF header, first IFD at 8
        0, 1, // one entry
        0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, // Orientation (SHORT) = 6
        0, 0, 0, 0, // no next IFD
    ];
    let mut segment = b"Exif\0\0".to_vec();
    segment.extend_from_slice(tiff);
    let length = (segment.len() + 2) as u16;
    let mut bytes = jpeg[..2].to_vec(); // SOI
    bytes.extend_from_slice(&[0xFF, 0xE1]);
    bytes.extend_from_slice(&length.to_be_bytes());
    bytes.extend_from_slice(&segment);
    bytes.extend_from_slice(&jpeg[2..]);
    bytes
}

#[tokio::test]
async fn exif_orientation_is_applied_before_sizes_are_checked() {
    let tools = ImageTools::default();
    let original = rotated_jpeg(300, 200);
    let (_, size) = tools.inspect(&original).unwrap();
    assert_eq!(
        size,
        Dimensions::new(200, 300),
        "upright, as a viewer shows it"
    );
    // A crop only possible on the upright image.
    let spec = spec(
        json!({"operations": [{"op": "crop", "x": 0, "y": 250, "width": 200, "height": 50}]}),
        size,
    );
    let outputs = tools.process(original, &spec).await.unwrap();
    assert_eq!(outputs[0].dimensions, Dimensions::new(200, 50));
}

#[tokio::test]
async fn a_truncated_image_is_rejected_with_a_reason() {
    let tools = ImageTools::default();
    let original = encoded(&photo(640, 480), ImageFormat::Jpeg);
    let truncated = original[..original.len() / 3].to_vec();
    let spec = spec(
        json!({"operations": [{"op": "blur", "sigma": 1.0}]}),
        Dimensions::new(640, 480),
    );
    let reason = rejected(tools.process(truncated, &spec).await);
    assert!(reason.contains("corrupt or truncated"), "{reason}");
}

#[test]
fn a_file_that_is_not_an_image_is_rejected() {
    let tools = ImageTools::default();
    for bytes in [
        &b"GIF89a\x01\x00\x01\x00"[..],
        b"%PDF-1.7",
        b"",
        &[0xFF, 0xD9, 0, 0],
    ] {
        let reason = rejected(tools.inspect(bytes));
        assert!(reason.contains("not a JPEG, PNG or WebP"), "{reason}");
    }
}

/// A PNG that declares itself 100,000 pixels square with a few bytes of data:
/// decoding it naively would ask for 30 GB.
fn png_bomb() -> Vec<u8> {
    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
        out
    }
    let mut header = Vec::new();
    header.extend_from_slice(&100_000u32.to_be_bytes());
    header.extend_from_slice(&100_000u32.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(chunk(b"IHDR", &header));
    bytes.extend(chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    bytes.extend(chunk(b"IEND", &[]));
    bytes
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_before_decoding() {
    let tools = ImageTools::default();
    let reason = rejected(tools.inspect(&png_bomb()));
    assert!(reason.contains("too large"), "{reason}");
    let spec = spec(
        json!({"operations": [{"op": "blur", "sigma": 1.0}]}),
        Dimensions::new(10, 10),
    );
    let reason = rejected(tools.process(png_bomb(), &spec).await);
    assert!(reason.contains("limit"), "{reason}");
}

#[tokio::test]
async fn the_pixel_budget_is_configurable() {
    let tools = ImageTools::new(DecodeLimits {
        max_pixels: 100_000,
        ..DecodeLimits::default()
    });
    let original = encoded(&photo(400, 300), ImageFormat::Png);
    let reason = rejected(tools.inspect(&original));
    assert!(reason.contains("400x300"), "{reason}");
}
