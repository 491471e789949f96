//! One job, start to finish: decode, apply each operation, encode the result
//! and any thumbnails. The sizes come from the core's arithmetic, so they are
//! the ones the job was validated against.

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, IntoImageView, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, ImageBuffer};
use millions_core::photos::{
    Dimensions, Fit, ImageError, JobSpec, Operation, OutputRole, ProcessedImage,
};

use crate::decode::{decode, DecodeLimits};
use crate::encode::encode;

/// Runs `spec` on the encoded `original`.
pub fn run_pipeline(
    original: &[u8],
    spec: &JobSpec,
    limits: &DecodeLimits,
) -> Result<Vec<ProcessedImage>, ImageError> {
    let mut image = decode(original, limits)?;
    let mut outputs = Vec::new();
    let media = spec.format.media_type();
    let mut operations = spec.operations.iter().peekable();
    while let Some(operation) = operations.next() {
        let size = Dimensions::new(image.width(), image.height());
        image = match *operation {
            Operation::Crop {
                x,
                y,
                width,
                height,
            } => {
                if u64::from(x) + u64::from(width) > u64::from(size.width)
                    || u64::from(y) + u64::from(height) > u64::from(size.height)
                {
                    return Err(ImageError::Rejected(format!(
                        "the crop {width}x{height}+{x}+{y} falls outside the {}x{} image",
                        size.width, size.height
                    )));
                }
                let region = Region {
                    x: x.into(),
                    y: y.into(),
                    width: width.into(),
                    height: height.into(),
                };
                match operations.next_if(|next| matches!(next, Operation::Resize { .. })) {
                    // A crop then a resize read the region straight from the
                    // source: no copy of the cropped pixels.
                    Some(resize @ Operation::Resize { fit, .. }) => {
                        let target = resize.output_dimensions(Dimensions::new(width, height));
                        resize_region(&image, region, target, *fit)?
                    }
                    _ => image.crop_imm(x, y, width, height),
                }
            }
            Operation::Resize { fit, .. } => resize_region(
                &image,
                Region::whole(size),
                operation.output_dimensions(size),
                fit,
            )?,
            Operation::Sharpen { sigma, amount } => sharpen(&image, sigma, amount),
            Operation::Blur { sigma } => image.blur(sigma),
            Operation::Thumbnail { size: side } => {
                let dimensions = Operation::thumbnail_dimensions(side, size);
                let thumbnail = resize_region(&image, Region::whole(size), dimensions, Fit::Fill)?;
                outputs.push(ProcessedImage {
                    role: OutputRole::Thumbnail,
                    media,
                    dimensions,
                    bytes: encode(&thumbnail, spec.format, spec.quality)?,
                });
                continue;
            }
        };
    }
    outputs.push(ProcessedImage {
        role: OutputRole::Result,
        media,
        dimensions: Dimensions::new(image.width(), image.height()),
        bytes: encode(&image, spec.format, spec.quality)?,
    });
    Ok(outputs)
}

/// A rectangle of the source image, in pixels.
#[derive(Debug, Clone, Copy)]
struct Region {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
}

impl Region {
    fn whole(size: Dimensions) -> Self {
        Self {
            x: 0.0,
            y: 0.0,
            width: size.width.into(),
            height: size.height.into(),
        }
    }

    /// The centred part of this region with the aspect ratio of `target`
    /// (what `Cover` keeps).
    fn covering(self, target: Dimensions) -> Self {
        let aspect = f64::from(target.width) / f64::from(target.height);
        if self.width / self.height > aspect {
            let width = self.height * aspect;
            Self {
                x: self.x + (self.width - width) / 2.0,
                width,
                ..self
            }
        } else {
            let height = self.width / aspect;
            Self {
                y: self.y + (self.height - height) / 2.0,
                height,
                ..self
            }
        }
    }
}

/// Lanczos3 resampling of `region` to `target`; `Cover` keeps the centred
/// part with the target's aspect ratio, the other fits scale (the target
/// already has the aspect ratio `Contain` wants).
fn resize_region(
    image: &DynamicImage,
    region: Region,
    target: Dimensions,
    fit: Fit,
) -> Result<DynamicImage, ImageError> {
    let region = if fit == Fit::Cover {
        region.covering(target)
    } else {
        region
    };
    let whole = region.x == 0.0
        && region.y == 0.0
        && region.width == f64::from(image.width())
        && region.height == f64::from(image.height());
    if whole && (image.width(), image.height()) == (target.width, target.height) {
        return Ok(image.clone());
    }
    let pixel_type = image
        .pixel_type()
        .ok_or_else(|| ImageError::Failed("unsupported pixel layout".into()))?;
    let mut resized = Image::new(target.width, target.height, pixel_type);
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .crop(region.x, region.y, region.width, region.height);
    Resizer::new()
        .resize(image, &mut resized, &options)
        .map_err(|error| ImageError::Failed(format!("resizing failed: {error}")))?;
    let (width, height, buffer) = (resized.width(), resized.height(), resized.into_vec());
    let image = match pixel_type {
        PixelType::U8x4 => {
            ImageBuffer::from_raw(width, height, buffer).map(DynamicImage::ImageRgba8)
        }
        _ => ImageBuffer::from_raw(width, height, buffer).map(DynamicImage::ImageRgb8),
    };
    image.ok_or_else(|| ImageError::Failed("the resized buffer has the wrong size".into()))
}

/// Unsharp mask: `original + amount × (original − gaussian blur)`.
fn sharpen(image: &DynamicImage, sigma: f32, amount: f32) -> DynamicImage {
    let blurred = image.blur(sigma);
    let mut sharpened = image.clone();
    let (target, blurred) = match (&mut sharpened, &blurred) {
        (DynamicImage::ImageRgb8(target), DynamicImage::ImageRgb8(blurred)) => {
            (target.as_mut(), blurred.as_raw().as_slice())
        }
        (DynamicImage::ImageRgba8(target), DynamicImage::ImageRgba8(blurred)) => {
            (target.as_mut(), blurred.as_raw().as_slice())
        }
        _ => unreachable!("decode yields 8-bit RGB or RGBA, and blurring keeps the layout"),
    };
    for (value, soft) in target.iter_mut().zip(blurred) {
        let original = f32::from(*value);
        // Clamped, then rounded by adding one half and truncating (`round`
        // is a libm call, and this runs once per channel of every pixel).
        *value =
            ((original + amount * (original - f32::from(*soft))).clamp(0.0, 255.0) + 0.5) as u8;
    }
    sharpened
}
